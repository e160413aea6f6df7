// Tests of softplus, softsign and hard_sigmoid (xdense/activations/approximations.hpp). Expected
// values are the textbook formulas in long double, never xdense;
// tests/oracle/keras_activations_oracle_test.cpp compares the same functions with PyTorch.

#include "xdense/activations/approximations.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "activations/activation_checks.hpp"

namespace xdense {
namespace {

using testing::Real;

Real sigmoid(Real x) { return 1.0L / (1.0L + std::exp(-x)); }

TEST(Softplus, MatchesFormula) {
  testing::expect_matches_formulas(
      Softplus(), [](Real x) { return std::log1p(std::exp(x)); }, sigmoid);
  testing::expect_finite_at_extremes(Softplus());
}

TEST(Softplus, StableAtExtremeInputs) {
  // log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow, and the tiny tail kept.
  testing::expect_matches_formulas(
      Softplus(), [](Real x) { return std::log1p(std::exp(x)); }, sigmoid,
      {-1e4f, -100.0f, -87.5f, -30.0f, 30.0f, 87.5f, 100.0f, 1e4f}, 2e-6L, 1e-44L);
}

TEST(Softplus, GradientMatchesFiniteDifferences) { testing::expect_gradient_checks("softplus"); }

TEST(Softsign, MatchesFormula) {
  testing::expect_matches_formulas(
      Softsign(), [](Real x) { return x / (1.0L + std::abs(x)); },
      [](Real x) { return 1.0L / ((1.0L + std::abs(x)) * (1.0L + std::abs(x))); });
  testing::expect_finite_at_extremes(Softsign());
}

TEST(Softsign, GradientMatchesFiniteDifferences) { testing::expect_gradient_checks("softsign"); }

TEST(HardSigmoid, IsKeras3Relu6Form) {
  // relu6(x + 3) / 6, not Keras 2's clip(0.2 x + 0.5, 0, 1): hard_sigmoid(1) = 2/3, not 0.7.
  testing::expect_matches_formulas(
      HardSigmoid(), [](Real x) { return std::min(std::max(x + 3.0L, 0.0L), 6.0L) / 6.0L; },
      [](Real x) { return x > -3.0L && x < 3.0L ? 1.0L / 6.0L : 0.0L; });
  testing::expect_finite_at_extremes(HardSigmoid());
}

TEST(HardSigmoid, SaturatesExactlyWithZeroGradientAtTheKinks) {
  const HardSigmoid activation;
  const Matrix x = testing::row_of({-1e30f, -3.0f, 0.0f, 3.0f, 1e30f});
  const Matrix dy = testing::row_of({1.0f, 1.0f, 1.0f, 1.0f, 1.0f});
  Matrix y = Matrix::from_shape({1, 5}), dx = Matrix::from_shape({1, 5});
  activation.activate(view(x), view(y));
  activation.derivative(view(x), view(y), view(dy), view(dx));
  const float want_y[] = {0.0f, 0.0f, 0.5f, 1.0f, 1.0f};
  const float want_dx[] = {0.0f, 0.0f, 1.0f / 6.0f, 0.0f, 0.0f};
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(y.data()[i], want_y[i]) << "x = " << x.data()[i];
    EXPECT_EQ(dx.data()[i], want_dx[i]) << "x = " << x.data()[i];
  }
}

TEST(HardSigmoid, GradientMatchesFiniteDifferences) {
  testing::expect_gradient_checks("hard_sigmoid", 5.0, {-3.0, 3.0});
}

TEST(Approximations, RebuiltFromSpec) {
  testing::expect_rebuilt_from_spec("softplus", "softplus", "Softplus");
  testing::expect_rebuilt_from_spec("softsign", "softsign", "Softsign");
  testing::expect_rebuilt_from_spec("hard_sigmoid", "hard_sigmoid", "HardSigmoid");
  testing::expect_rebuilt_from_spec("hardsigmoid", "hard_sigmoid", "HardSigmoid");
}

TEST(Approximations, ArgumentsAreRefused) {
  testing::expect_refused("softplus(2)", "activation 'softplus' takes no arguments, received 'softplus(2)'");
  testing::expect_refused("softsign(1)", "activation 'softsign' takes no arguments");
  testing::expect_refused("hard_sigmoid(0.2)", "activation 'hard_sigmoid' takes no arguments");
}

}  // namespace
}  // namespace xdense
