// Tests of gelu (exact and approximate), swish/silu and mish (xdense/activations/gated.hpp).
// Expected values are the textbook formulas in long double, never xdense;
// tests/oracle/keras_activations_oracle_test.cpp compares the same functions with PyTorch.

#include "xdense/activations/gated.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "activations/activation_checks.hpp"

namespace xdense {
namespace {

using testing::Real;

constexpr Real pi = 3.141592653589793238462643383279502884L;

Real normal_cdf(Real x) { return 0.5L * std::erfc(-x / std::sqrt(2.0L)); }
Real normal_density(Real x) { return std::exp(-0.5L * x * x) / std::sqrt(2.0L * pi); }

// Keras's approximate=True: 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3), written with
// (1 + tanh u) / 2 = 1 / (1 + e^-2u) and (1 - tanh^2 u) / 2 = 2 s (1 - s): 1 + tanh u cancels even in
// long double (x = -8: tanh u = -1 + 2e-22).
Real tanh_gate(Real x, Real sign) {
  return 1.0L / (1.0L + std::exp(-2.0L * sign * std::sqrt(2.0L / pi) * (x + 0.044715L * x * x * x)));
}
Real gelu_tanh(Real x) { return x * tanh_gate(x, 1.0L); }
Real gelu_tanh_derivative(Real x) {
  const Real s = tanh_gate(x, 1.0L), complement = tanh_gate(x, -1.0L);
  const Real du = std::sqrt(2.0L / pi) * (1.0L + 3.0L * 0.044715L * x * x);
  return s + 2.0L * x * s * complement * du;
}

Real sigmoid(Real x) { return 1.0L / (1.0L + std::exp(-x)); }
Real softplus(Real x) { return std::log1p(std::exp(x)); }

TEST(GELU, ExactFormMatchesErfFormula) {
  const GELU gelu;
  EXPECT_FALSE(gelu.approximate());
  testing::expect_matches_formulas(
      gelu, [](Real x) { return x * normal_cdf(x); }, [](Real x) { return normal_cdf(x) + x * normal_density(x); });
}

TEST(GELU, ExactFormKeepsItsNegativeTail) {
  // 1 + erf(x / sqrt 2) would cancel to 0 in float below x ~ -5.5; Phi(x) = erfc(-x / sqrt 2) / 2 does not.
  testing::expect_matches_formulas(
      GELU(), [](Real x) { return x * normal_cdf(x); }, [](Real x) { return normal_cdf(x) + x * normal_density(x); },
      {-6.0f, -7.5f, -10.0f, -12.0f}, 2e-5L, 0.0L);
  testing::expect_finite_at_extremes(GELU());
}

TEST(GELU, ApproximateFormMatchesKerasTanhFormula) {
  const GELU gelu(true);
  EXPECT_TRUE(gelu.approximate());
  testing::expect_matches_formulas(gelu, gelu_tanh, gelu_tanh_derivative);
  testing::expect_finite_at_extremes(gelu);
}

TEST(GELU, ApproximateFormIsCloseToExactForm) {
  const Matrix x = testing::random_inputs(1, 64, 5.0, 3);
  Matrix exact = Matrix::from_shape({1, 64}), approximate = Matrix::from_shape({1, 64});
  GELU().activate(view(x), view(exact));
  GELU(true).activate(view(x), view(approximate));
  for (std::size_t i = 0; i < 64; ++i) EXPECT_NEAR(exact.data()[i], approximate.data()[i], 1e-3) << x.data()[i];
}

TEST(GELU, GradientMatchesFiniteDifferences) {
  testing::expect_gradient_checks("gelu");
  testing::expect_gradient_checks("gelu(approximate)");
}

TEST(Swish, MatchesFormula) {
  testing::expect_matches_formulas(
      Swish(), [](Real x) { return x * sigmoid(x); },
      [](Real x) { return sigmoid(x) * (1.0L + x * (1.0L - sigmoid(x))); });
  testing::expect_finite_at_extremes(Swish());
}

TEST(Swish, SiluIsTheSameFunction) {
  const Matrix x = testing::random_inputs(2, 16, 10.0, 8);
  const auto silu = make_activation("silu");
  const auto swish = make_activation("swish");
  Matrix a = Matrix::from_shape({2, 16}), b = Matrix::from_shape({2, 16});
  silu->activate(view(x), view(a));
  swish->activate(view(x), view(b));
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a.data()[i], b.data()[i]);
}

TEST(Swish, GradientMatchesFiniteDifferences) { testing::expect_gradient_checks("swish"); }

TEST(Mish, MatchesFormula) {
  testing::expect_matches_formulas(
      Mish(), [](Real x) { return x * std::tanh(softplus(x)); },
      [](Real x) {
        const Real t = std::tanh(softplus(x));
        return t + x * (1.0L - t * t) * sigmoid(x);
      });
  testing::expect_finite_at_extremes(Mish());
}

TEST(Mish, GradientMatchesFiniteDifferences) { testing::expect_gradient_checks("mish"); }

TEST(GatedActivations, RebuiltFromSpec) {
  testing::expect_rebuilt_from_spec("gelu", "gelu", "GELU");
  testing::expect_rebuilt_from_spec("gelu(approximate)", "gelu(approximate)", "GELU(approximate)");
  testing::expect_rebuilt_from_spec("GELU(Approximate)", "gelu(approximate)", "GELU(approximate)");
  testing::expect_rebuilt_from_spec("gelu(tanh)", "gelu(approximate)", "GELU(approximate)");
  testing::expect_rebuilt_from_spec("swish", "swish", "Swish");
  testing::expect_rebuilt_from_spec("silu", "swish", "Swish");
  testing::expect_rebuilt_from_spec("mish", "mish", "Mish");
}

TEST(GatedActivations, BadArgumentsAreRefusedClearly) {
  testing::expect_refused("gelu(exact)",
                          "activation 'gelu' accepts the single argument 'approximate' (the tanh form), "
                          "received 'exact'");
  testing::expect_refused("gelu(approximate, tanh)", "received 'approximate, tanh'");
  testing::expect_refused("gelu()", "empty brackets; write gelu or gelu(approximate)");
  testing::expect_refused("swish(1)", "activation 'swish' takes no arguments");
  testing::expect_refused("mish(0.5)", "activation 'mish' takes no arguments");
}

}  // namespace
}  // namespace xdense
