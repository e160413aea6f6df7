#include "xdense/optimizers/nadam.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "optimizers/optimizer_test_support.hpp"
#include "xdense/error.hpp"

// Keras 3's rule (keras/src/optimizers/nadam.py), with t the 1-based step:
//   u_t = b1 (1 - 0.5 0.96^t),  U_t = u_1 ... u_t
//   m += (1 - b1)(g - m);  v += (1 - b2)(g^2 - v)
//   m_hat = u_{t+1} m / (1 - U_t u_{t+1}) + (1 - u_t) g / (1 - U_t);  v_hat = v / (1 - b2^t)
//   w -= lr m_hat / (sqrt(v_hat) + eps)

namespace xdense {
namespace {

using namespace xdense::testing;

struct NadamReference {
  Real lr, b1, b2, eps;
  Real u(std::size_t t) const { return b1 * (1 - Real(0.5) * std::pow(Real(0.96), Real(t))); }
  Real product(std::size_t t) const {
    Real p = 1;
    for (std::size_t s = 1; s <= t; ++s) p *= u(s);
    return p;
  }
  /// One step at t on (w, m, v) with gradient g.
  void step(std::size_t t, Real g, Real& w, Real& m, Real& v) const {
    m += (1 - b1) * (g - m);
    v += (1 - b2) * (g * g - v);
    const Real m_hat = u(t + 1) * m / (1 - product(t) * u(t + 1)) + (1 - u(t)) * g / (1 - product(t));
    const Real v_hat = v / (1 - std::pow(b2, Real(t)));
    w -= lr * m_hat / (std::sqrt(v_hat) + eps);
  }
};

TEST(Nadam, FirstStepByHand) {
  // t = 1: m = 0.1 g, v = 0.001 g^2, u_1 = 0.468, u_2 = 0.48528, U_2 = 0.227111:
  // m_hat = 0.48528 0.1 g / 0.772889 + g = 1.0627879 g, v_hat = g^2, so w -= 1.0627879 lr sign(g).
  Nadam nadam(NadamOptions{0.01f, 0.9f, 0.999f, 1e-7f});
  const std::vector<float> w = run(nadam, 1);
  EXPECT_NEAR(w[0], 1.0f - 0.010627879f, 2e-6);
  EXPECT_NEAR(w[1], -2.0f + 0.010627879f, 2e-6);
}

TEST(Nadam, ThreeStepsFollowTheKerasRule) {
  for (const NadamOptions& o : {NadamOptions{}, NadamOptions{0.05f, 0.8f, 0.95f, 0.5f}}) {
    const NadamReference reference{Real(o.learning_rate), Real(o.beta_1), Real(o.beta_2), Real(o.epsilon)};
    std::vector<Real> w(initial_weights.begin(), initial_weights.end()), m(3, 0), v(3, 0);
    for (std::size_t t = 1; t <= 3; ++t) {
      for (std::size_t i = 0; i < 3; ++i) reference.step(t, gradient_sequence[t - 1][i], w[i], m[i], v[i]);
    }
    Nadam nadam(o);
    expect_weights_near(run(nadam, 3), w, "beta_1 " + std::to_string(o.beta_1));
  }
}

TEST(Nadam, MomentumScheduleHoldsBeyondItsTable) {
  // U_t comes from a table up to t = 1024 and from U_1024 beta_1^(t - 1024) beyond: restored at
  // t = 1020, each step's move must follow the formula with U_t multiplied out.
  const NadamOptions o{0.01f, 0.999f, 0.999f, 1e-7f};  // beta_1 near 1: U_t ~ 0.36 here, visible
  const NadamReference reference{Real(o.learning_rate), Real(o.beta_1), Real(o.beta_2), Real(o.epsilon)};
  Weights w({0.0f}, {0.0f});
  Nadam nadam(o);
  OptimizerState state;
  state.iterations = 1020;
  state.slots = {{0.5f}, {0.25f}};
  nadam.restore(state, {w.parameter()});
  Real weight = 0, m = 0.5L, v = 0.25L;
  for (std::size_t t = 1021; t <= 1030; ++t) {
    w.gradient = {0.3f};
    nadam.step({w.parameter()});
    reference.step(t, Real(0.3f), weight, m, v);
    EXPECT_NEAR(w.value[0], double(weight), 1e-6 * std::fabs(double(weight))) << "t = " << t;
  }
}

TEST(Nadam, DefaultsConfigSlotsAndErrors) {
  const std::unique_ptr<Optimizer> made = make_optimizer("nadam");
  const auto& options = dynamic_cast<const Nadam&>(*made).options();
  EXPECT_FLOAT_EQ(options.learning_rate, 0.001f);
  EXPECT_FLOAT_EQ(options.beta_1, 0.9f);
  EXPECT_FLOAT_EQ(options.beta_2, 0.999f);
  EXPECT_FLOAT_EQ(options.epsilon, 1e-7f);
  EXPECT_EQ(made->slot_names(), (std::vector<std::string>{"momentum", "velocity"}));
  const std::unique_ptr<Optimizer> custom = make_optimizer("nadam", Config{{"beta_1", 0.8}, {"clipvalue", 0.5}});
  EXPECT_EQ(custom->config(), make_optimizer("nadam", custom->config())->config());
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { Nadam(NadamOptions{0.01f, 1.0f, 0.999f, 1e-7f}); }),
                       "Nadam: beta_1 must be in [0, 1), received beta_1=1"));
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { Nadam(NadamOptions{0.01f, 0.9f, 1.5f, 1e-7f}); }),
                       "Nadam: beta_2 must be in [0, 1), received beta_2=1.5"));
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { Nadam(NadamOptions{0.01f, 0.9f, 0.999f, 0.0f}); }),
                       "Nadam: epsilon must be finite and > 0"));
}

}  // namespace
}  // namespace xdense
