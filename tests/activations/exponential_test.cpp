// Tests of elu, selu and exponential (xdense/activations/exponential.hpp). Expected values are the
// textbook formulas in long double, never xdense; tests/oracle/keras_activations_oracle_test.cpp
// compares the same functions with PyTorch at extreme inputs.

#include "xdense/activations/exponential.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "activations/activation_checks.hpp"

namespace xdense {
namespace {

using testing::Real;

Real elu(Real x, Real alpha) { return x > 0 ? x : alpha * std::expm1(x); }
Real elu_derivative(Real x, Real alpha) { return x > 0 ? 1.0L : alpha * std::exp(x); }

// Klambauer et al. (2017), as Keras and PyTorch write them.
constexpr Real selu_alpha = 1.6732632423543772848170429916717L;
constexpr Real selu_scale = 1.0507009873554804934193349852946L;

TEST(ELU, MatchesFormulaWithDefaultAlpha) {
  const ELU elu_1;
  EXPECT_EQ(elu_1.alpha(), 1.0f);
  testing::expect_matches_formulas(
      elu_1, [](Real x) { return elu(x, 1.0L); }, [](Real x) { return elu_derivative(x, 1.0L); });
}

TEST(ELU, MatchesFormulaWithCustomAlpha) {
  testing::expect_matches_formulas(
      ELU(0.5f), [](Real x) { return elu(x, 0.5L); }, [](Real x) { return elu_derivative(x, 0.5L); });
}

TEST(ELU, KeepsRelativePrecisionNearZero) {
  // e^x - 1 from expm1: elu(-1e-3) has all its digits, elu(-1e-40) is -1e-40 itself.
  testing::expect_matches_formulas(
      ELU(), [](Real x) { return elu(x, 1.0L); }, [](Real x) { return elu_derivative(x, 1.0L); },
      {-1e-7f, -1e-5f, -3e-3f, -0.2f, -0.34f, -0.35f, -0.7f, -1e-40f, -1e-44f}, 4e-7L, 0.0L);
}

TEST(ELU, SaturatesAtMinusAlphaAndIsFiniteAtExtremes) {
  const ELU activation(2.0f);
  const Matrix x = testing::row_of({-1e4f, -100.0f, -30.0f});
  Matrix y = Matrix::from_shape({1, 3});
  activation.activate(view(x), view(y));
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(y.data()[i], -2.0f);
  testing::expect_finite_at_extremes(activation);
}

TEST(ELU, GradientAtZeroIsAlphaAsPyTorch) {
  const ELU activation(0.5f);
  const Matrix x = testing::row_of({0.0f, -0.0f});
  const Matrix dy = testing::row_of({1.0f, 1.0f});
  Matrix dx = Matrix::from_shape({1, 2});
  activation.derivative(view(x), view(x), view(dy), view(dx));
  EXPECT_EQ(dx.data()[0], 0.5f);
  EXPECT_EQ(dx.data()[1], 0.5f);
}

TEST(ELU, GradientMatchesFiniteDifferences) {
  testing::expect_gradient_checks("elu");
  testing::expect_gradient_checks("elu(0.5)", 4.0, {0.0});
}

TEST(SELU, MatchesFormula) {
  EXPECT_EQ(SELU::alpha, static_cast<float>(selu_alpha));
  EXPECT_EQ(SELU::scale, static_cast<float>(selu_scale));
  testing::expect_matches_formulas(
      SELU(), [](Real x) { return selu_scale * elu(x, selu_alpha); },
      [](Real x) { return selu_scale * elu_derivative(x, selu_alpha); });
}

TEST(SELU, SaturatesAtMinusScaleTimesAlpha) {
  const SELU activation;
  const Matrix x = testing::row_of({-1e4f, -100.0f});
  Matrix y = Matrix::from_shape({1, 2});
  activation.activate(view(x), view(y));
  EXPECT_NEAR(y.data()[0], -1.7580993408473766L, 2e-7);
  EXPECT_EQ(y.data()[0], y.data()[1]);
  testing::expect_finite_at_extremes(activation);
}

TEST(SELU, GradientMatchesFiniteDifferences) { testing::expect_gradient_checks("selu", 4.0, {0.0}); }

TEST(Exponential, MatchesFormula) {
  testing::expect_matches_formulas(
      Exponential(), [](Real x) { return std::exp(x); }, [](Real x) { return std::exp(x); },
      {0.0f, -0.0f, 1e-40f, 0.5f, -0.5f, 1.0f, -1.0f, 10.0f, -10.0f, 20.0f, -20.0f, 60.0f, -60.0f, 88.0f, -87.0f,
       -100.0f, -103.0f});
}

TEST(Exponential, OverflowsToInfinityAsKeras) {
  // Keras's exponential is ops.exp, unclamped: e^x is +inf once it passes FLT_MAX (x > 88.7228).
  const Exponential activation;
  const float inf = std::numeric_limits<float>::infinity();
  const Matrix x = testing::row_of({88.7228317f, 88.7228394f, 89.0f, 100.0f, 1e4f, -1e4f, -110.0f});
  Matrix y = Matrix::from_shape({1, x.size()});
  Matrix dx = Matrix::from_shape({1, x.size()});
  const Matrix dy = testing::row_of(std::vector<float>(x.size(), 1.0f));
  activation.activate(view(x), view(y));
  activation.derivative(view(x), view(y), view(dy), view(dx));
  EXPECT_TRUE(std::isfinite(y.data()[0]));
  EXPECT_NEAR(y.data()[0] / std::exp(88.7228317), 1.0, 1e-6);
  for (std::size_t i = 1; i < 5; ++i) {
    EXPECT_EQ(y.data()[i], inf) << "x = " << x.data()[i];
    EXPECT_EQ(dx.data()[i], inf) << "x = " << x.data()[i];
  }
  EXPECT_EQ(y.data()[5], 0.0f);
  EXPECT_EQ(y.data()[6], 0.0f);
}

TEST(Exponential, GradientMatchesFiniteDifferences) { testing::expect_gradient_checks("exponential", 2.0); }

TEST(ExponentialFamily, RebuiltFromSpec) {
  testing::expect_rebuilt_from_spec("elu", "elu", "ELU");
  testing::expect_rebuilt_from_spec("ELU", "elu", "ELU");
  testing::expect_rebuilt_from_spec("elu(1)", "elu", "ELU");
  testing::expect_rebuilt_from_spec("elu(0.5)", "elu(0.5)", "ELU");
  testing::expect_rebuilt_from_spec("elu( 0.1 )", "elu(0.1)", "ELU");
  testing::expect_rebuilt_from_spec("selu", "selu", "SELU");
  testing::expect_rebuilt_from_spec("exponential", "exponential", "Exponential");
  EXPECT_EQ(ELU(0.3f).spec(), "elu(0.3)");
}

TEST(ExponentialFamily, BadArgumentsAreRefusedClearly) {
  testing::expect_refused("elu(abc)", "activation 'elu': expected a number, received 'abc'");
  testing::expect_refused("elu(inf)", "activation 'elu': expected a finite number, received 'inf'");
  testing::expect_refused("elu(-1)", "ELU: expected a finite alpha >= 0, received alpha=-1");
  testing::expect_refused("elu(1, 2)", "activation 'elu' takes one argument (alpha), received 2");
  testing::expect_refused("elu()", "empty brackets; write elu or elu(1.0)");
  testing::expect_refused("selu(1)", "activation 'selu' takes no arguments, received 'selu(1)'");
  testing::expect_refused("exponential(2)", "activation 'exponential' takes no arguments");
  EXPECT_THROW(ELU(std::numeric_limits<float>::quiet_NaN()), InvalidArgument);
}

}  // namespace
}  // namespace xdense
