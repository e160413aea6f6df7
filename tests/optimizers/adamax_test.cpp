#include "xdense/optimizers/adamax.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "optimizers/optimizer_test_support.hpp"
#include "xdense/error.hpp"

// Keras 3's rule (keras/src/optimizers/adamax.py), with t the 1-based step:
//   m += (1 - b1)(g - m);  u = max(b2 u, |g|);  w -= lr m / ((1 - b1^t)(u + eps))

namespace xdense {
namespace {

using namespace xdense::testing;

std::vector<Real> reference(const AdamaxOptions& o, std::size_t steps) {
  std::vector<Real> w(initial_weights.begin(), initial_weights.end()), m(w.size(), 0), u(w.size(), 0);
  const Real b1 = o.beta_1, b2 = o.beta_2;
  for (std::size_t t = 1; t <= steps; ++t) {
    for (std::size_t i = 0; i < w.size(); ++i) {
      const Real g = gradient_sequence[t - 1][i];
      m[i] += (1 - b1) * (g - m[i]);
      u[i] = std::max(b2 * u[i], std::fabs(g));
      w[i] -= Real(o.learning_rate) * m[i] / ((1 - std::pow(b1, Real(t))) * (u[i] + Real(o.epsilon)));
    }
  }
  return w;
}

TEST(Adamax, FirstStepMovesByTheLearningRate) {
  // t = 1: m = (1 - b1) g, u = |g|: w -= lr g / (|g| + eps) = lr sign(g).
  Adamax adamax(AdamaxOptions{0.01f, 0.9f, 0.999f, 1e-7f});
  const std::vector<float> w = run(adamax, 1);
  EXPECT_NEAR(w[0], 0.99f, 1e-6);
  EXPECT_NEAR(w[1], -1.99f, 1e-6);
  EXPECT_NEAR(w[2], 0.49f, 1e-6);
}

TEST(Adamax, ThreeStepsFollowTheKerasRule) {
  for (const AdamaxOptions& o : {AdamaxOptions{}, AdamaxOptions{0.05f, 0.8f, 0.5f, 0.5f}}) {
    Adamax adamax(o);
    expect_weights_near(run(adamax, 3), reference(o, 3), "epsilon " + std::to_string(o.epsilon));
  }
}

TEST(Adamax, DefaultsConfigSlotsAndErrors) {
  const std::unique_ptr<Optimizer> made = make_optimizer("adamax");
  const auto& options = dynamic_cast<const Adamax&>(*made).options();
  EXPECT_FLOAT_EQ(options.learning_rate, 0.001f);
  EXPECT_FLOAT_EQ(options.beta_1, 0.9f);
  EXPECT_FLOAT_EQ(options.beta_2, 0.999f);
  EXPECT_FLOAT_EQ(options.epsilon, 1e-7f);
  EXPECT_EQ(made->slot_names(), (std::vector<std::string>{"momentum", "norm"}));
  const std::unique_ptr<Optimizer> custom = make_optimizer("adamax", Config{{"beta_2", 0.5}, {"global_clipnorm", 2}});
  EXPECT_EQ(custom->config(), make_optimizer("adamax", custom->config())->config());
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { Adamax(AdamaxOptions{0.01f, -0.5f, 0.999f, 1e-7f}); }),
                       "Adamax: beta_1 must be in [0, 1), received beta_1=-0.5"));
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { Adamax(AdamaxOptions{-0.01f, 0.9f, 0.999f, 1e-7f}); }),
                       "Adamax: the learning rate must be finite and > 0, received learning_rate=-0.01"));
}

}  // namespace
}  // namespace xdense
