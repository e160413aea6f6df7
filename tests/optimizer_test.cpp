#include "xdense/optimizer.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "optimizers/optimizer_test_support.hpp"
#include "xdense/error.hpp"

// Expected weights are recomputed here in long double from the Keras update rules
// (keras/src/optimizers/sgd.py and adam.py), with g the gradient and t the 1-based step:
//   SGD, momentum 0 : w <- w - lr g
//   SGD, momentum m : v <- m v - lr g;  w <- w + v
//   SGD, Nesterov   : v <- m v - lr g;  w <- w + m v - lr g
//   Adam            : m <- m + (1 - b1)(g - m);  v <- v + (1 - b2)(g^2 - v)
//                     lr_t = lr sqrt(1 - b2^t) / (1 - b1^t);  w <- w - lr_t m / (sqrt(v) + eps)
// Hyperparameters are taken as the floats the optimizer stores, widened to long double.
// The library works in float, so weights of size O(1) agree to a few float ulps (tolerance 2e-6).

namespace xdense {
namespace {

using namespace xdense::testing;

constexpr double weight_tolerance = 2e-6;

std::vector<Real> widen(const std::vector<float>& v) { return {v.begin(), v.end()}; }

/// Reference SGD in long double over gradient_sequence[0..steps).
std::vector<Real> reference_sgd(Real lr, Real momentum, bool nesterov, std::size_t steps) {
  std::vector<Real> w = widen(initial_weights);
  std::vector<Real> v(w.size(), 0);
  for (std::size_t t = 0; t < steps; ++t) {
    for (std::size_t i = 0; i < w.size(); ++i) {
      const Real g = gradient_sequence[t][i];
      if (momentum == 0) {
        w[i] -= lr * g;
      } else {
        v[i] = momentum * v[i] - lr * g;
        w[i] += nesterov ? momentum * v[i] - lr * g : v[i];
      }
    }
  }
  return w;
}

// ---- SGD ------------------------------------------------------------------------------------

TEST(OptimizerSgd, PlainStepIsLearningRateTimesGradient) {
  // w - 0.1 g = {1 - 0.05, -2 + 0.1, 0.5 - 0.2} = {0.95, -1.9, 0.3}.
  SGD sgd(SGDOptions{0.1f, 0.0f, false});
  const std::vector<float> w = run(sgd, 1);
  expect_weights_near(w, {0.95L, -1.9L, 0.3L}, "sgd step 1 by hand");
  expect_weights_near(w, reference_sgd(Real(0.1f), 0, false, 1), "sgd step 1");
  SGD sgd2(SGDOptions{0.1f, 0.0f, false});
  expect_weights_near(run(sgd2, 3), reference_sgd(Real(0.1f), 0, false, 3), "sgd 3 steps");
}

TEST(OptimizerSgd, MomentumAccumulatesVelocity) {
  // First weight by hand (lr 0.1, m 0.9, g = 0.5 then -0.25):
  //   v1 = -0.05, w1 = 0.95;  v2 = 0.9 (-0.05) + 0.025 = -0.02, w2 = 0.93
  // (plain SGD would give 0.975 at step 2).
  SGD sgd(SGDOptions{0.1f, 0.9f, false});
  const std::vector<float> w2 = run(sgd, 2);
  EXPECT_NEAR(w2[0], 0.93, weight_tolerance);
  expect_weights_near(w2, reference_sgd(Real(0.1f), Real(0.9f), false, 2), "momentum 2 steps");
  SGD sgd3(SGDOptions{0.1f, 0.9f, false});
  expect_weights_near(run(sgd3, 3), reference_sgd(Real(0.1f), Real(0.9f), false, 3), "momentum 3 steps");
}

TEST(OptimizerSgd, NesterovLooksAhead) {
  // First weight by hand (lr 0.1, m 0.9, g = 0.5 then -0.25):
  //   v1 = -0.05, w1 = 1 + 0.9 (-0.05) - 0.05 = 0.905
  //   v2 = -0.02, w2 = 0.905 + 0.9 (-0.02) + 0.025 = 0.912
  SGD sgd1(SGDOptions{0.1f, 0.9f, true});
  EXPECT_NEAR(run(sgd1, 1)[0], 0.905, weight_tolerance);
  SGD sgd2(SGDOptions{0.1f, 0.9f, true});
  const std::vector<float> w2 = run(sgd2, 2);
  EXPECT_NEAR(w2[0], 0.912, weight_tolerance);
  expect_weights_near(w2, reference_sgd(Real(0.1f), Real(0.9f), true, 2), "nesterov 2 steps");
  SGD sgd3(SGDOptions{0.1f, 0.9f, true});
  expect_weights_near(run(sgd3, 3), reference_sgd(Real(0.1f), Real(0.9f), true, 3), "nesterov 3 steps");
}

TEST(OptimizerSgd, ResetForgetsVelocity) {
  SGD sgd(SGDOptions{0.1f, 0.9f, false});
  Weights w({1.0f, 2.0f}, {1.0f, -1.0f});
  sgd.step({w.parameter()});
  sgd.step({w.parameter()});
  sgd.reset();
  EXPECT_EQ(sgd.iterations(), 0u);
  const std::vector<float> before = w.value;
  sgd.step({w.parameter()});
  // Zero velocity after reset: the step is exactly -lr g, as a first step.
  EXPECT_NEAR(w.value[0], before[0] - 0.1f, 1e-6);
  EXPECT_NEAR(w.value[1], before[1] + 0.1f, 1e-6);
  EXPECT_EQ(sgd.iterations(), 1u);
}

// ---- Adam -----------------------------------------------------------------------------------

struct AdamReference {
  Real lr, b1, b2, eps;
  bool pytorch_epsilon = false;  // eps added to sqrt(v_hat) instead (PyTorch form), for contrast only

  std::vector<Real> run(std::size_t steps) const {
    std::vector<Real> w = widen(initial_weights);
    std::vector<Real> m(w.size(), 0), v(w.size(), 0);
    for (std::size_t t = 1; t <= steps; ++t) {
      const Real c1 = 1 - std::pow(b1, Real(t));
      const Real c2 = 1 - std::pow(b2, Real(t));
      for (std::size_t i = 0; i < w.size(); ++i) {
        const Real g = gradient_sequence[t - 1][i];
        m[i] += (1 - b1) * (g - m[i]);
        v[i] += (1 - b2) * (g * g - v[i]);
        if (pytorch_epsilon) {
          w[i] -= lr / c1 * m[i] / (std::sqrt(v[i] / c2) + eps);
        } else {
          w[i] -= lr * std::sqrt(c2) / c1 * m[i] / (std::sqrt(v[i]) + eps);
        }
      }
    }
    return w;
  }
};

TEST(OptimizerAdam, ThreeStepsWithDefaultsMatchKerasRule) {
  Adam adam;  // lr 1e-3, b1 0.9, b2 0.999, eps 1e-7
  const AdamReference reference{Real(1e-3f), Real(0.9f), Real(0.999f), Real(1e-7f)};
  const std::vector<float> w = run(adam, 3);
  expect_weights_near(w, reference.run(3), "adam defaults, 3 steps");
  // The steps are ~1e-3 each: make sure the weights did move by that much.
  EXPECT_GT(std::abs(w[0] - initial_weights[0]), 1e-3);
}

TEST(OptimizerAdam, ThreeStepsWithLargeEpsilonMatchKerasRule) {
  // A large epsilon next to small gradients makes the place where eps enters visible:
  // Keras adds it to sqrt(v) (bias correction folded into lr_t), PyTorch to sqrt(v / (1 - b2^t)).
  const AdamOptions options{0.05f, 0.8f, 0.95f, 0.5f};
  const AdamReference keras{Real(options.learning_rate), Real(options.beta1), Real(options.beta2),
                            Real(options.epsilon)};
  AdamReference pytorch = keras;
  pytorch.pytorch_epsilon = true;
  const std::vector<Real> expected = keras.run(3);
  const std::vector<Real> other = pytorch.run(3);
  // The check can tell the two forms apart: they differ by far more than the tolerance.
  EXPECT_GT(std::abs(double(expected[0] - other[0])), 100 * weight_tolerance);

  Adam adam(options);
  expect_weights_near(run(adam, 3), expected, "adam custom options, 3 steps");
}

TEST(OptimizerAdam, FirstStepMovesEachWeightByAboutLearningRate) {
  // Independent property: at t = 1, m = (1 - b1) g and v = (1 - b2) g^2, so the step is
  // lr g / (|g| + eps / sqrt(1 - b2)) = lr sign(g) up to eps / (sqrt(0.001) |g|) <= 1.6e-4 relative
  // for |g| >= 0.02, whatever the gradient's scale.
  const std::vector<float> gradient = {0.1f, -5.0f, 300.0f, -0.02f, 1.0f};
  Weights w(std::vector<float>(gradient.size(), 0.0f), gradient);
  Adam adam;
  adam.step({w.parameter()});
  for (std::size_t i = 0; i < gradient.size(); ++i) {
    const double expected = gradient[i] > 0 ? -1e-3 : 1e-3;
    EXPECT_NEAR(w.value[i], expected, 1e-3 * 2e-4) << "weight " << i << ", gradient " << gradient[i];
  }
}

TEST(OptimizerAdam, ResetRestartsBiasCorrection) {
  Weights w({0.5f, -0.5f}, {0.3f, -2.0f});
  Adam adam;
  adam.step({w.parameter()});
  w.gradient = {-1.0f, 0.01f};
  adam.step({w.parameter()});
  adam.reset();
  EXPECT_EQ(adam.iterations(), 0u);
  w.gradient = {0.4f, 0.7f};
  const std::vector<float> before = w.value;
  adam.step({w.parameter()});
  EXPECT_EQ(adam.iterations(), 1u);
  // A first step again: each weight moves by ~lr against its gradient (see the test above),
  // and exactly as a fresh optimizer would move it.
  EXPECT_NEAR(w.value[0] - before[0], -1e-3, 1e-3 * 2e-3);
  EXPECT_NEAR(w.value[1] - before[1], -1e-3, 1e-3 * 2e-3);
  Weights fresh(before, {0.4f, 0.7f});
  Adam fresh_adam;
  fresh_adam.step({fresh.parameter()});
  EXPECT_EQ(w.value, fresh.value);
}

TEST(OptimizerAdam, RestoredStateContinuesBitIdentically) {
  // The bias correction uses beta^t kept as a running product: a restored optimizer
  // (fresh, or one that had gone further) must rebuild it and take the same steps.
  const auto gradient_at = [](std::size_t t) {
    return std::vector<float>{0.3f * float(t % 5) - 0.5f, 1.0f / float(t + 1), -0.2f};
  };
  Weights uninterrupted(initial_weights, std::vector<float>(3));
  Adam adam;
  OptimizerState halfway;
  std::vector<float> weights_halfway;
  for (std::size_t t = 0; t < 40; ++t) {
    if (t == 25) {
      halfway = adam.state();
      weights_halfway = uninterrupted.value;
    }
    uninterrupted.gradient = gradient_at(t);
    adam.step({uninterrupted.parameter()});
  }
  Adam fresh;
  Adam further;  // already 60 steps ahead on other weights
  Weights elsewhere(initial_weights, std::vector<float>(3, 0.1f));
  for (int t = 0; t < 60; ++t) further.step({elsewhere.parameter()});
  for (Adam* resumed : {&fresh, &further}) {
    Weights w(weights_halfway, std::vector<float>(3));
    resumed->restore(halfway, {w.parameter()});
    for (std::size_t t = 25; t < 40; ++t) {
      w.gradient = gradient_at(t);
      resumed->step({w.parameter()});
    }
    EXPECT_EQ(resumed->iterations(), 40u);
    EXPECT_EQ(w.value, uninterrupted.value);
  }
}

TEST(OptimizerAdam, StepCountsAroundTheRunningProductLimitFollowTheFormula) {
  // Restored at t = 2^24 - 2, it rebuilds beta^t as a product (~20 ms), then crosses
  // into pow() at 2^24 + 1: each step's move must follow the Keras formula at that t.
  const std::size_t start = (std::size_t{1} << 24) - 2;
  const AdamOptions options{0.01f, 0.9f, 0.9999995f, 1e-7f};  // beta2^t ~ 0.0002 here: visible
  Weights w({0.0f}, {0.0f});
  Adam adam(options);
  OptimizerState state;
  state.iterations = start;
  state.slots = {{0.5f}, {0.25f}};  // m, v
  adam.restore(state, {w.parameter()});
  Real m = 0.5L, v = 0.25L, weight = 0.0L;
  for (std::size_t t = start + 1; t <= start + 5; ++t) {
    w.gradient = {0.5f};
    adam.step({w.parameter()});
    m += (1 - Real(options.beta1)) * (Real(0.5L) - m);
    v += (1 - Real(options.beta2)) * (Real(0.25L) - v);
    const Real lr_t = Real(options.learning_rate) * std::sqrt(1 - std::pow(Real(options.beta2), Real(t))) /
                      (1 - std::pow(Real(options.beta1), Real(t)));
    weight -= lr_t * m / (std::sqrt(v) + Real(options.epsilon));
    EXPECT_NEAR(w.value[0], double(weight), 1e-6 * std::fabs(double(weight))) << "t = " << t;
  }
}

// ---- state is tied to each parameter by position ---------------------------------------------

TEST(OptimizerState, ParametersAreUpdatedIndependently) {
  const std::vector<std::function<std::unique_ptr<Optimizer>()>> makers = {
      [] {
        return std::make_unique<Adam>(AdamOptions{0.01f, 0.9f, 0.999f, 1e-7f});
      },
      [] {
        return std::make_unique<SGD>(SGDOptions{0.1f, 0.9f, true});
      },
  };
  for (const auto& make : makers) {
    const std::unique_ptr<Optimizer> together = make();
    const std::unique_ptr<Optimizer> alone_a = make();
    const std::unique_ptr<Optimizer> alone_b = make();
    Weights a({1.0f, -1.0f}, {0.0f, 0.0f});
    Weights b({0.5f, 0.25f, -0.75f}, {0.0f, 0.0f, 0.0f});
    Weights a_alone = a;
    Weights b_alone = b;
    for (int t = 0; t < 3; ++t) {
      // Very different gradients for a and b: shared state would mix them.
      a.gradient = {0.1f * float(t + 1), -0.2f};
      b.gradient = {-3.0f, 2.0f * float(t), 0.05f};
      a_alone.gradient = a.gradient;
      b_alone.gradient = b.gradient;
      together->step({a.parameter("kernel"), b.parameter("bias")});
      alone_a->step({a_alone.parameter()});
      alone_b->step({b_alone.parameter()});
    }
    EXPECT_EQ(a.value, a_alone.value) << together->name();
    EXPECT_EQ(b.value, b_alone.value) << together->name();
    EXPECT_EQ(together->iterations(), 3u);
  }
}

TEST(OptimizerState, ChangedParameterListThrowsShapeError) {
  Adam adam;
  Weights a({1.0f, 2.0f}, {0.5f, 0.5f});
  Weights b({1.0f, 2.0f, 3.0f}, {0.5f, 0.5f, 0.5f});
  Weights c({1.0f, 2.0f, 3.0f, 4.0f}, {0.5f, 0.5f, 0.5f, 0.5f});
  adam.step({a.parameter(), b.parameter()});
  const std::vector<float> a_before = a.value;

  const std::string m = message_of<ShapeError>([&] { adam.step({a.parameter()}); });
  EXPECT_TRUE(contains(m, "expected 2"));
  EXPECT_TRUE(contains(m, "received 1"));
  EXPECT_TRUE(contains(m, "reset()"));
  EXPECT_THROW(adam.step({a.parameter(), c.parameter()}), ShapeError);  // same count, other size
  EXPECT_THROW(adam.step({b.parameter(), a.parameter()}), ShapeError);  // reordered
  EXPECT_THROW(adam.step({a.parameter(), b.parameter(), c.parameter()}), ShapeError);
  EXPECT_EQ(a.value, a_before) << "a refused step must not touch the weights";
  EXPECT_EQ(adam.iterations(), 1u);

  SGD sgd(SGDOptions{0.1f, 0.0f, false});  // even without state, the list is checked
  sgd.step({a.parameter()});
  EXPECT_THROW(sgd.step({c.parameter()}), ShapeError);

  adam.reset();
  EXPECT_NO_THROW(adam.step({c.parameter()}));
  EXPECT_EQ(adam.iterations(), 1u);
}

// ---- options ------------------------------------------------------------------------------

TEST(OptimizerOptions, InvalidOptionsQuoteTheReceivedValue) {
  std::string m = message_of<InvalidArgument>([] { SGD(SGDOptions{0.0f, 0.0f, false}); });
  EXPECT_TRUE(contains(m, "learning_rate=0"));
  m = message_of<InvalidArgument>([] { SGD(SGDOptions{-1.0f, 0.0f, false}); });
  EXPECT_TRUE(contains(m, "learning_rate=-1"));
  m = message_of<InvalidArgument>([] { SGD(SGDOptions{0.01f, 1.0f, false}); });
  EXPECT_TRUE(contains(m, "momentum=1"));
  m = message_of<InvalidArgument>([] { SGD(SGDOptions{0.01f, -0.5f, true}); });
  EXPECT_TRUE(contains(m, "momentum=-0.5"));
  EXPECT_THROW(SGD(SGDOptions{std::nanf(""), 0.0f, false}), InvalidArgument);

  AdamOptions o;
  o.learning_rate = 0.0f;
  m = message_of<InvalidArgument>([&] { Adam{o}; });
  EXPECT_TRUE(contains(m, "learning_rate=0"));
  o = AdamOptions{};
  o.learning_rate = -1.0f;
  m = message_of<InvalidArgument>([&] { Adam{o}; });
  EXPECT_TRUE(contains(m, "learning_rate=-1"));
  o = AdamOptions{};
  o.beta1 = 1.0f;
  m = message_of<InvalidArgument>([&] { Adam{o}; });
  EXPECT_TRUE(contains(m, "beta1=1"));
  o = AdamOptions{};
  o.beta2 = 1.5f;
  m = message_of<InvalidArgument>([&] { Adam{o}; });
  EXPECT_TRUE(contains(m, "beta2=1.5"));
  o = AdamOptions{};
  o.epsilon = -1.0f;
  m = message_of<InvalidArgument>([&] { Adam{o}; });
  EXPECT_TRUE(contains(m, "epsilon=-1"));

  // Boundaries that are allowed.
  EXPECT_NO_THROW(SGD(SGDOptions{0.01f, 0.0f, true}));
  o = AdamOptions{};
  o.epsilon = std::numeric_limits<float>::denorm_min();
  o.beta1 = 0.0f;
  EXPECT_NO_THROW(Adam{o});
}

// Each message names the hyperparameter at fault, and only that one (issue 11: --epsilon 0
// was accepted, then reported as a learning rate too high when the weights became NaN).
TEST(OptimizerOptions, EachMessageNamesItsOwnHyperparameter) {
  struct Case {
    AdamOptions options;
    const char* named;
  };
  const auto with = [](auto set) {
    AdamOptions o;
    set(o);
    return o;
  };
  const Case cases[] = {
      {with([](AdamOptions& o) { o.epsilon = 0.0f; }), "epsilon must be finite and > 0, received epsilon=0"},
      {with([](AdamOptions& o) { o.epsilon = -0.0f; }), "epsilon must be finite and > 0, received epsilon=-0"},
      {with([](AdamOptions& o) { o.epsilon = -1e-7f; }), "epsilon must be finite and > 0, received epsilon=-1e-07"},
      {with([](AdamOptions& o) { o.epsilon = INFINITY; }), "epsilon must be finite and > 0, received epsilon=inf"},
      {with([](AdamOptions& o) { o.epsilon = NAN; }), "epsilon must be finite and > 0"},
      {with([](AdamOptions& o) { o.beta1 = -0.1f; }), "beta1 must be in [0, 1), received beta1=-0.1"},
      {with([](AdamOptions& o) { o.beta2 = 1.0f; }), "beta2 must be in [0, 1), received beta2=1"},
      {with([](AdamOptions& o) { o.learning_rate = INFINITY; }), "the learning rate must be finite and > 0, received learning_rate=inf"},
  };
  const char* names[] = {"epsilon", "beta1", "beta2", "learning"};
  for (const Case& c : cases) {
    const std::string m = message_of<InvalidArgument>([&] { Adam{c.options}; });
    EXPECT_TRUE(contains(m, std::string("Adam: ") + c.named));
    for (const char* other : names) {
      if (!contains(c.named, other)) {
        EXPECT_FALSE(contains(m, other)) << m;
      }
    }
  }
  const std::string m = message_of<InvalidArgument>([] { SGD(SGDOptions{0.01f, 1.5f, false}); });
  EXPECT_TRUE(contains(m, "SGD: momentum must be in [0, 1), received momentum=1.5"));
  EXPECT_FALSE(contains(m, "learning")) << m;
}

// Why epsilon 0 is refused: a weight whose gradients have all been 0 gets 0 / (sqrt(0) + 0).
// The smallest positive epsilon already keeps it finite and unchanged.
TEST(Adam, ZeroGradientsWithTheSmallestEpsilonLeaveWeightsFinite) {
  AdamOptions o;
  o.epsilon = std::numeric_limits<float>::denorm_min();
  Adam adam(o);
  Weights w({0.5f, -2.0f}, {0.0f, 0.25f});
  EXPECT_TRUE(adam.step({w.parameter()}));
  EXPECT_EQ(w.value[0], 0.5f);
  EXPECT_TRUE(std::isfinite(w.value[1]));
  EXPECT_NEAR(w.value[1], -2.0f - o.learning_rate, 1e-6);  // the first Adam step moves by lr
}

TEST(OptimizerRegistry, MakeOptimizerNamesAndDefaults) {
  const std::unique_ptr<Optimizer> sgd = make_optimizer("sgd");
  EXPECT_EQ(sgd->name(), "sgd");
  EXPECT_FLOAT_EQ(sgd->learning_rate(), 0.01f);
  const auto* as_sgd = dynamic_cast<const SGD*>(sgd.get());
  ASSERT_NE(as_sgd, nullptr);
  EXPECT_EQ(as_sgd->options().momentum, 0.0f);
  EXPECT_FALSE(as_sgd->options().nesterov);

  const std::unique_ptr<Optimizer> adam = make_optimizer("adam");
  EXPECT_EQ(adam->name(), "adam");
  EXPECT_FLOAT_EQ(adam->learning_rate(), 1e-3f);
  const auto* as_adam = dynamic_cast<const Adam*>(adam.get());
  ASSERT_NE(as_adam, nullptr);
  EXPECT_FLOAT_EQ(as_adam->options().beta1, 0.9f);
  EXPECT_FLOAT_EQ(as_adam->options().beta2, 0.999f);
  EXPECT_FLOAT_EQ(as_adam->options().epsilon, 1e-7f);
  EXPECT_EQ(adam->iterations(), 0u);

  const std::string m = message_of<InvalidArgument>([] { make_optimizer("lamb"); });
  EXPECT_TRUE(contains(m, "'lamb'"));
  for (const char* known : {"adagrad", "adam", "adamax", "adamw", "nadam", "rmsprop", "sgd"}) {
    EXPECT_TRUE(contains(m, known));
  }
}

// ---- base options: clipping and weight decay (Keras 3's BaseOptimizer) --------------------------

/// Plain SGD with lr 1 and the given base options: the step is w -= g after clipping and decay, so
/// the clipped gradient can be read off the weights.
std::unique_ptr<Optimizer> unit_sgd(const Config& base_options) {
  Config config = base_options;
  config["learning_rate"] = 1.0;
  return make_optimizer("sgd", config);
}

TEST(OptimizerBaseOptions, ClipnormScalesEachGradientByItsOwnNorm) {
  // a: |g| = 5 > 1, scaled to norm 1 (g 1/5); b: |g| = 0.5 <= 1, left exactly as it is.
  Weights a({0.0f, 0.0f}, {3.0f, -4.0f});
  Weights b({0.0f, 0.0f}, {0.3f, 0.4f});
  unit_sgd({{"clipnorm", 1.0}})->step({a.parameter(), b.parameter("bias")});
  EXPECT_NEAR(a.value[0], -0.6f, 1e-7);
  EXPECT_NEAR(a.value[1], 0.8f, 1e-7);
  EXPECT_EQ(b.value[0], -0.3f);
  EXPECT_EQ(b.value[1], -0.4f);
  EXPECT_NEAR(a.gradient[0], 0.6f, 1e-7) << "clipping rewrites the gradients in place";
}

TEST(OptimizerBaseOptions, GlobalClipnormScalesAllGradientsTogether) {
  // Joint norm sqrt(9 + 16 + 0 + 0.25 * ... ) of {3, -4} and {0, 12}: 13 > 6.5, every g halved.
  Weights a({0.0f, 0.0f}, {3.0f, -4.0f});
  Weights b({0.0f, 0.0f}, {0.0f, 12.0f});
  unit_sgd({{"global_clipnorm", 6.5}})->step({a.parameter(), b.parameter("bias")});
  EXPECT_NEAR(a.value[0], -1.5f, 1e-6);
  EXPECT_NEAR(a.value[1], 2.0f, 1e-6);
  EXPECT_NEAR(b.value[1], -6.0f, 1e-6);
  // Within the bound: untouched, bit for bit.
  Weights c({0.0f}, {0.1f});
  unit_sgd({{"global_clipnorm", 6.5}})->step({c.parameter()});
  EXPECT_EQ(c.value[0], -0.1f);
}

TEST(OptimizerBaseOptions, GlobalNormOfManyValuesIsTheSumOfAllSquares) {
  // 1000 values of 0.1 and 1000 of -0.1 in two parameters (more than the 8 lanes of the sum):
  // norm sqrt(20), clipped to 1.
  Weights a(std::vector<float>(1003, 0.0f), std::vector<float>(1003, 0.1f));
  Weights b(std::vector<float>(997, 0.0f), std::vector<float>(997, -0.1f));
  unit_sgd({{"global_clipnorm", 1.0}})->step({a.parameter(), b.parameter("bias")});
  const double scale = 1.0 / std::sqrt(2000 * 0.1f * 0.1f);
  EXPECT_NEAR(a.value[1002], -0.1 * scale, 1e-7);
  EXPECT_NEAR(b.value[996], 0.1 * scale, 1e-7);
}

TEST(OptimizerBaseOptions, ClipvalueClampsEachValue) {
  Weights a({0.0f, 0.0f, 0.0f, 0.0f}, {0.5f, -3.0f, 2.0f, -0.25f});
  unit_sgd({{"clipvalue", 1.0}})->step({a.parameter()});
  EXPECT_EQ(a.value, (std::vector<float>{-0.5f, 1.0f, -1.0f, 0.25f}));
  Weights nan({0.0f}, {std::nanf("")});
  EXPECT_FALSE(unit_sgd({{"clipvalue", 1.0}})->step({nan.parameter()})) << "a NaN gradient stays NaN";
}

TEST(OptimizerBaseOptions, WeightDecayShrinksEveryWeightBeforeTheUpdate) {
  // Keras: w = w - w wd lr, then the optimizer's step on the same gradient.
  SGD sgd(SGDOptions{0.1f, 0.0f, false});
  BaseOptimizerOptions options;
  options.weight_decay = 0.5f;
  sgd.set_base_options(options);
  Weights w({2.0f, -1.0f}, {1.0f, 0.0f});
  sgd.step({w.parameter()});
  EXPECT_NEAR(w.value[0], 2.0f - 2.0f * 0.5f * 0.1f - 0.1f, 1e-7);
  EXPECT_NEAR(w.value[1], -1.0f + 1.0f * 0.5f * 0.1f, 1e-7);
  // Adam's first step moves by ~lr against the gradient from the decayed weight; a zero
  // gradient leaves only the decay.
  Adam adam(AdamOptions{0.01f, 0.9f, 0.999f, 1e-7f});
  adam.set_base_options(options);
  Weights v({2.0f, -1.0f}, {1.0f, 0.0f});
  adam.step({v.parameter()});
  EXPECT_NEAR(v.value[0], 2.0f - 2.0f * 0.005f - 0.01f, 1e-6);
  EXPECT_NEAR(v.value[1], -1.0f + 0.005f, 1e-7);
}

TEST(OptimizerBaseOptions, InvalidOptionsAreNamed) {
  const auto refused = [](const Config& config) {
    return message_of<InvalidArgument>([&] { make_optimizer("adam", config); });
  };
  EXPECT_TRUE(contains(refused({{"clipnorm", -1.0}}), "adam: clipnorm must be finite and > 0 (null for none), "
                                                      "received clipnorm=-1"));
  EXPECT_TRUE(contains(refused({{"clipnorm", 0.0}}), "clipnorm=0"));
  EXPECT_TRUE(contains(refused({{"clipvalue", -0.5}}), "clipvalue must be finite and > 0"));
  EXPECT_TRUE(contains(refused({{"global_clipnorm", 0.0}}), "global_clipnorm must be finite and > 0"));
  EXPECT_TRUE(contains(refused({{"weight_decay", -0.1}}), "weight_decay must be finite and >= 0"));
  EXPECT_TRUE(contains(refused({{"clipnorm", 1.0}, {"clipvalue", 0.5}}),
                       "only one of clipnorm, clipvalue and global_clipnorm can be set, received clipnorm=1"));
  EXPECT_TRUE(contains(refused({{"global_clipnorm", 1.0}, {"clipvalue", 0.5}}), "global_clipnorm=1"));
  EXPECT_TRUE(contains(refused({{"clipnorm", "big"}}), "\"clipnorm\": expected a finite number"));
  EXPECT_TRUE(contains(refused({{"use_ema", true}}), "\"use_ema\""));
  EXPECT_TRUE(contains(refused({{"gradient_accumulation_steps", 4}}), "\"gradient_accumulation_steps\""));
  SGD sgd;
  BaseOptimizerOptions options;
  options.clipnorm = std::numeric_limits<float>::infinity();
  EXPECT_THROW(sgd.set_base_options(options), InvalidArgument);
  EXPECT_FALSE(sgd.base_options().clipnorm) << "a refused setting changes nothing";
}

TEST(OptimizerBaseOptions, KerasNullsAndDefaultsAreAccepted) {
  // What Keras 3's get_config() writes for an optimizer without clipping or decay.
  const Config keras = {{"name", "adam"},
                        {"learning_rate", 0.001},
                        {"weight_decay", nullptr},
                        {"clipnorm", nullptr},
                        {"global_clipnorm", nullptr},
                        {"clipvalue", nullptr},
                        {"use_ema", false},
                        {"ema_momentum", 0.99},
                        {"ema_overwrite_frequency", nullptr},
                        {"loss_scale_factor", nullptr},
                        {"gradient_accumulation_steps", nullptr},
                        {"beta_1", 0.9},
                        {"beta_2", 0.999},
                        {"epsilon", 1e-07},
                        {"amsgrad", false}};
  const std::unique_ptr<Optimizer> adam = make_optimizer("adam", keras);
  EXPECT_FALSE(adam->base_options().clipnorm);
  // Off options are not written: configs (and saved models) without them are as before.
  EXPECT_EQ(adam->config(), make_optimizer("adam")->config());
  EXPECT_EQ(make_optimizer("sgd")->config().size(), 3u);
}

TEST(OptimizerBaseOptions, EveryOptimizerTakesThemAndRebuildsFromItsConfig) {
  const Config options[] = {{{"clipnorm", 0.5}, {"weight_decay", 0.01}},
                            {{"clipvalue", 0.1}},
                            {{"global_clipnorm", 2.0}, {"weight_decay", 0.0}}};
  for (const std::string& name : optimizer_names()) {
    for (const Config& config : options) {
      SCOPED_TRACE(name + " " + config.dump());
      const std::unique_ptr<Optimizer> optimizer = make_optimizer(name, config);
      const Config saved = optimizer->config();
      for (const auto& [key, value] : config.items()) EXPECT_FLOAT_EQ(saved.at(key).get<float>(), value.get<float>());
      const std::unique_ptr<Optimizer> rebuilt = make_optimizer(name, saved);
      EXPECT_EQ(rebuilt->config(), saved);
      // Both take the same steps.
      Weights a({0.5f, -1.0f, 2.0f}, {0.0f, 0.0f, 0.0f});
      Weights b = a;
      for (std::size_t t = 0; t < gradient_sequence.size(); ++t) {
        a.gradient = b.gradient = gradient_sequence[t];
        optimizer->step({a.parameter()});
        rebuilt->step({b.parameter()});
      }
      EXPECT_EQ(a.value, b.value);
    }
  }
}

// ---- every registered optimizer: checkpointed state ------------------------------------------

TEST(OptimizerState, EveryOptimizerResumesBitIdenticallyFromItsState) {
  const auto gradient_at = [](std::size_t t) {
    return std::vector<float>{0.3f * float(t % 5) - 0.5f, 1.0f / float(t + 1), -0.2f, 0.05f * float(t)};
  };
  for (const std::string& name : optimizer_names()) {
    for (const Config& config : {Config::object(), Config{{"clipnorm", 0.4}, {"weight_decay", 0.02}}}) {
      SCOPED_TRACE(name + " " + config.dump());
      const std::unique_ptr<Optimizer> optimizer = make_optimizer(name, config);
      Weights kernel({1.0f, -2.0f, 0.5f, 0.0f}, std::vector<float>(4));
      Weights bias({0.1f}, {0.0f});
      OptimizerState halfway;
      std::vector<float> kernel_halfway, bias_halfway;
      for (std::size_t t = 0; t < 30; ++t) {
        if (t == 17) {
          halfway = optimizer->state();
          kernel_halfway = kernel.value;
          bias_halfway = bias.value;
        }
        kernel.gradient = gradient_at(t);
        bias.gradient = {0.1f * float(t) - 1.0f};
        optimizer->step({kernel.parameter(), bias.parameter("bias")});
      }
      // Slot names group the arrays: one per parameter for each name.
      const OptimizerState state = optimizer->state();
      ASSERT_EQ(state.slots.size(), 2 * optimizer->slot_names().size());
      for (std::size_t i = 0; i < state.names.size(); ++i) EXPECT_EQ(state.names[i], optimizer->slot_names()[i / 2]);

      const std::unique_ptr<Optimizer> resumed = make_optimizer(name, optimizer->config());
      Weights k(kernel_halfway, std::vector<float>(4));
      Weights b(bias_halfway, {0.0f});
      resumed->restore(halfway, {k.parameter(), b.parameter("bias")});
      for (std::size_t t = 17; t < 30; ++t) {
        k.gradient = gradient_at(t);
        b.gradient = {0.1f * float(t) - 1.0f};
        resumed->step({k.parameter(), b.parameter("bias")});
      }
      EXPECT_EQ(k.value, kernel.value);
      EXPECT_EQ(b.value, bias.value);
      EXPECT_EQ(resumed->state().slots, state.slots);
    }
  }
}

}  // namespace
}  // namespace xdense
