#include "xdense/optimizers/adagrad.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "optimizers/optimizer_test_support.hpp"
#include "xdense/error.hpp"

// Keras 3's rule (keras/src/optimizers/adagrad.py), accumulator starting at initial_accumulator_value:
//   acc += g^2;  w -= lr g / sqrt(acc + eps)

namespace xdense {
namespace {

using namespace xdense::testing;

std::vector<Real> reference(const AdagradOptions& o, std::size_t steps) {
  std::vector<Real> w(initial_weights.begin(), initial_weights.end());
  std::vector<Real> acc(w.size(), Real(o.initial_accumulator_value));
  for (std::size_t t = 0; t < steps; ++t) {
    for (std::size_t i = 0; i < w.size(); ++i) {
      const Real g = gradient_sequence[t][i];
      acc[i] += g * g;
      w[i] -= Real(o.learning_rate) * g / std::sqrt(acc[i] + Real(o.epsilon));
    }
  }
  return w;
}

TEST(Adagrad, FirstStepByHand) {
  // acc = 0.1 + 0.25 = 0.35: w = 1 - 0.1 0.5 / sqrt(0.35 + 1e-7) = 1 - 0.0845154.
  Adagrad adagrad(AdagradOptions{0.1f, 0.1f, 1e-7f});
  EXPECT_NEAR(run(adagrad, 1)[0], 1.0 - 0.0845154, 1e-6);
}

TEST(Adagrad, ThreeStepsFollowTheKerasRule) {
  for (const AdagradOptions& options : {AdagradOptions{}, AdagradOptions{0.1f, 0.0f, 1e-7f},
                                        AdagradOptions{0.2f, 1.0f, 0.5f}}) {
    Adagrad adagrad(options);
    expect_weights_near(run(adagrad, 3), reference(options, 3),
                        "initial accumulator " + std::to_string(options.initial_accumulator_value));
  }
}

TEST(Adagrad, AccumulatorStartsAtItsInitialValueAfterResetToo) {
  Adagrad adagrad(AdagradOptions{0.1f, 0.25f, 1e-7f});
  run(adagrad, 2);
  adagrad.reset();
  run(adagrad, 1);
  const OptimizerState state = adagrad.state();
  EXPECT_EQ(state.names, (std::vector<std::string>{"accumulator"}));
  EXPECT_FLOAT_EQ(state.slots[0][0], 0.25f + 0.5f * 0.5f);
}

TEST(Adagrad, DefaultsConfigAndErrors) {
  const std::unique_ptr<Optimizer> made = make_optimizer("adagrad");
  const auto& options = dynamic_cast<const Adagrad&>(*made).options();
  EXPECT_FLOAT_EQ(options.learning_rate, 0.001f);
  EXPECT_FLOAT_EQ(options.initial_accumulator_value, 0.1f);
  EXPECT_FLOAT_EQ(options.epsilon, 1e-7f);
  const std::unique_ptr<Optimizer> custom =
      make_optimizer("adagrad", Config{{"initial_accumulator_value", 0.0}, {"weight_decay", 0.01}});
  EXPECT_EQ(custom->config(), make_optimizer("adagrad", custom->config())->config());
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { Adagrad(AdagradOptions{0.1f, -0.1f, 1e-7f}); }),
                       "Adagrad: initial_accumulator_value must be finite and >= 0, received "
                       "initial_accumulator_value=-0.1"));
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { Adagrad(AdagradOptions{0.1f, 0.1f, -1.0f}); }),
                       "Adagrad: epsilon must be finite and > 0, received epsilon=-1"));
}

}  // namespace
}  // namespace xdense
