#include "xdense/optimizers/rmsprop.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "optimizers/optimizer_test_support.hpp"
#include "xdense/error.hpp"

// Expected weights recomputed in long double from Keras 3's rule (keras/src/optimizers/rmsprop.py):
//   v = rho v + (1 - rho) g^2;  centered: a = rho a + (1 - rho) g, d = v - a^2 + eps, else d = v + eps
//   increment = lr g / sqrt(d);  momentum 0: w -= increment, else m = momentum m + increment, w -= m

namespace xdense {
namespace {

using namespace xdense::testing;

std::vector<Real> reference(const RMSpropOptions& o, std::size_t steps) {
  std::vector<Real> w(initial_weights.begin(), initial_weights.end());
  std::vector<Real> v(w.size(), 0), a(w.size(), 0), m(w.size(), 0);
  const Real rho = o.rho, lr = o.learning_rate, eps = o.epsilon, momentum = o.momentum;
  for (std::size_t t = 0; t < steps; ++t) {
    for (std::size_t i = 0; i < w.size(); ++i) {
      const Real g = gradient_sequence[t][i];
      v[i] = rho * v[i] + (1 - rho) * g * g;
      a[i] = rho * a[i] + (1 - rho) * g;
      const Real increment = lr * g / std::sqrt(o.centered ? v[i] - a[i] * a[i] + eps : v[i] + eps);
      m[i] = momentum * m[i] + increment;
      w[i] -= momentum > 0 ? m[i] : increment;
    }
  }
  return w;
}

TEST(RMSprop, FirstStepByHand) {
  // v = 0.1 g^2, so w moves by lr g / sqrt(0.1 g^2 + eps) ~ lr sqrt(10) sign(g): 1 - 0.0316227 for g = 0.5.
  RMSprop rmsprop(RMSpropOptions{0.01f, 0.9f, 0.0f, 1e-7f, false});
  const std::vector<float> w = run(rmsprop, 1);
  EXPECT_NEAR(w[0], 1.0 - 0.01 * 0.5 / std::sqrt(0.025 + 1e-7), 1e-6);
  EXPECT_NEAR(w[0], 1.0 - 0.0316227, 1e-6);
}

TEST(RMSprop, EveryVariantFollowsTheKerasRule) {
  for (const bool centered : {false, true}) {
    for (const float momentum : {0.0f, 0.6f}) {
      const RMSpropOptions options{0.05f, 0.8f, momentum, 1e-7f, centered};
      RMSprop rmsprop(options);
      expect_weights_near(run(rmsprop, 3), reference(options, 3),
                          "centered " + std::to_string(centered) + ", momentum " + std::to_string(momentum));
    }
  }
}

TEST(RMSprop, EpsilonIsUnderTheSquareRootAsInKeras) {
  // A large epsilon makes the two forms far apart: Keras's sqrt(v + eps), PyTorch's sqrt(v) + eps.
  const RMSpropOptions options{0.1f, 0.9f, 0.0f, 0.5f, false};
  RMSprop rmsprop(options);
  const std::vector<float> w = run(rmsprop, 1);
  const double keras = 1.0 - 0.1 * 0.5 / std::sqrt(0.025 + 0.5);
  const double pytorch = 1.0 - 0.1 * 0.5 / (std::sqrt(0.025) + 0.5);
  EXPECT_NEAR(w[0], keras, 1e-6);
  EXPECT_GT(std::fabs(keras - pytorch), 1e-3);
}

TEST(RMSprop, SlotsAreKerasVariables) {
  EXPECT_EQ(RMSprop().slot_names(), (std::vector<std::string>{"velocity"}));
  EXPECT_EQ(RMSprop(RMSpropOptions{0.001f, 0.9f, 0.5f, 1e-7f, true}).slot_names(),
            (std::vector<std::string>{"velocity", "momentum", "average_gradient"}));
  RMSprop centered(RMSpropOptions{0.001f, 0.9f, 0.0f, 1e-7f, true});
  run(centered, 1);
  const OptimizerState state = centered.state();
  EXPECT_EQ(state.names, (std::vector<std::string>{"velocity", "average_gradient"}));
  // average_gradient after one step is (1 - rho) g.
  EXPECT_NEAR(state.slots[1][0], 0.1f * 0.5f, 1e-7);
}

TEST(RMSprop, DefaultsAndConfigAreKeras) {
  const std::unique_ptr<Optimizer> made = make_optimizer("rmsprop");
  const auto& options = dynamic_cast<const RMSprop&>(*made).options();
  EXPECT_FLOAT_EQ(options.learning_rate, 0.001f);
  EXPECT_FLOAT_EQ(options.rho, 0.9f);
  EXPECT_EQ(options.momentum, 0.0f);
  EXPECT_FLOAT_EQ(options.epsilon, 1e-7f);
  EXPECT_FALSE(options.centered);
  const Config config = {{"learning_rate", 0.01}, {"rho", 0.8}, {"momentum", 0.5}, {"epsilon", 1e-6},
                         {"centered", true},      {"clipnorm", 1.0}, {"name", "rmsprop"}};
  const std::unique_ptr<Optimizer> custom = make_optimizer("rmsprop", config);
  EXPECT_EQ(custom->config(), make_optimizer("rmsprop", custom->config())->config());
  EXPECT_EQ(custom->config().at("centered"), true);
  EXPECT_FLOAT_EQ(custom->config().at("clipnorm").get<float>(), 1.0f);
}

TEST(RMSprop, InvalidHyperparametersAreNamed) {
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { RMSprop(RMSpropOptions{0.001f, 1.0f, 0.0f, 1e-7f, false}); }),
                       "RMSprop: rho must be in [0, 1), received rho=1"));
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { RMSprop(RMSpropOptions{0.001f, -0.1f, 0.0f, 1e-7f, false}); }),
                       "rho=-0.1"));
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { RMSprop(RMSpropOptions{0.001f, 0.9f, 1.5f, 1e-7f, false}); }),
                       "RMSprop: momentum must be in [0, 1), received momentum=1.5"));
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { RMSprop(RMSpropOptions{0.001f, 0.9f, 0.0f, 0.0f, false}); }),
                       "RMSprop: epsilon must be finite and > 0, received epsilon=0"));
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { RMSprop(RMSpropOptions{0.0f, 0.9f, 0.0f, 1e-7f, false}); }),
                       "learning_rate=0"));
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { make_optimizer("rmsprop", Config{{"rho", "high"}}); }),
                       "\"rho\""));
}

}  // namespace
}  // namespace xdense
