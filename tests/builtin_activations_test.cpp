// Tests of the built-in activations (builtin_activations.hpp): values and derivatives on
// sample inputs against long-double formulas written here, finite-difference
// gradient checks of backward(), and the numerical edge cases each one promises
// (sigmoid without overflow, max-subtracted softmax, binary step's zero gradient).
//
// Expected values never come from xdense: every reference below is the textbook
// formula evaluated in long double, so a wrong float implementation cannot agree
// with it by construction.

#include "xdense/builtin_activations.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "gradient_check.hpp"
#include "xdense/error.hpp"
#include "xdense/random.hpp"
#include "xdense/tensor.hpp"

namespace xdense {
namespace {

using Real = long double;
using Formula = std::function<Real(Real)>;

// ------------------------------------------------------------- reference formulas

// sigmoid(x) = 1 / (1 + e^-x). In long double e^(1e4) ~ 1e4343 is still finite
// (the range reaches ~1e4932), so the plain formula is exact enough everywhere used.
Real ref_sigmoid(Real x) { return 1.0L / (1.0L + std::exp(-x)); }
// sigmoid'(x) = e^-x / (1 + e^-x)^2, written without reusing sigmoid's value.
Real ref_sigmoid_derivative(Real x) {
  const Real e = std::exp(-x);
  return e / ((1.0L + e) * (1.0L + e));
}
// tanh(x) = (e^x - e^-x) / (e^x + e^-x).
Real ref_tanh(Real x) { return (std::exp(x) - std::exp(-x)) / (std::exp(x) + std::exp(-x)); }
// tanh'(x) = 1 / cosh^2(x) = 4 / (e^x + e^-x)^2.
Real ref_tanh_derivative(Real x) {
  const Real s = std::exp(x) + std::exp(-x);
  return 4.0L / (s * s);
}

// ------------------------------------------------------------- helpers

/// The tutorial's sample points: 0, +-0.5, +-3, +-20.
const std::vector<float> sample_inputs = {0.0f, 0.5f, -0.5f, 3.0f, -3.0f, 20.0f, -20.0f};

/// A (rows, cols) matrix from row-major values.
Matrix matrix(std::size_t rows, std::size_t cols, const std::vector<float>& values) {
  EXPECT_EQ(values.size(), rows * cols);
  Matrix m = Matrix::from_shape({rows, cols});
  for (std::size_t i = 0; i < values.size() && i < m.size(); ++i) m.data()[i] = values[i];
  return m;
}

/// Uniform values in [low, high), deterministic for a seed.
Matrix random_matrix(std::size_t rows, std::size_t cols, double low, double high, std::uint64_t seed) {
  Rng rng(seed);
  Matrix m = Matrix::from_shape({rows, cols});
  for (std::size_t i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>(rng.uniform(low, high));
  return m;
}

/// Uniform values in [-limit, limit] kept at least `gap` away from 0 (the kink of
/// relu / leaky_relu), so central differences with step 1e-2 never straddle it.
Matrix away_from_zero(std::size_t rows, std::size_t cols, double limit, double gap, std::uint64_t seed) {
  Rng rng(seed);
  Matrix m = Matrix::from_shape({rows, cols});
  for (std::size_t i = 0; i < m.size(); ++i) {
    double v = 0.0;
    do {
      v = rng.uniform(-limit, limit);
    } while (std::abs(v) < gap);
    m.data()[i] = static_cast<float>(v);
  }
  return m;
}

/// |got - expected| <= relative |expected| + absolute, and got finite.
void expect_close(float got, Real expected, Real relative, Real absolute, const std::string& what) {
  ASSERT_TRUE(std::isfinite(got)) << what << ": got " << got;
  const Real error = std::abs(static_cast<Real>(got) - expected);
  EXPECT_LE(error, relative * std::abs(expected) + absolute)
      << what << ": got " << got << ", expected " << static_cast<double>(expected);
}

std::string at(const char* name, std::size_t r, std::size_t c, float x) {
  return std::string(name) + "(" + std::to_string(r) + "," + std::to_string(c) + ") x=" + std::to_string(x);
}

/// Builds `layer` for x's width and returns a copy of forward(x).
Matrix forward_copy(Activation& layer, const Matrix& x) {
  Rng rng(3);
  layer.build(x.shape(1), rng);
  return to_matrix(layer.forward(view(x)));
}

/// Builds `layer`, forwards x, backwards dy; returns a copy of dL/dx.
Matrix backward_copy(Activation& layer, const Matrix& x, const Matrix& dy) {
  Rng rng(3);
  layer.build(x.shape(1), rng);
  layer.forward(view(x));
  return to_matrix(layer.backward(view(dy)));
}

// Tolerances. Values: a float result of a correctly written formula is within a
// few ulps (relative 2e-6 is ~16 ulps); the absolute term is a few float
// denormal steps so that tiny results such as sigmoid(-100) ~ 3.7e-44 still count.
constexpr Real value_rel = 2e-6L;
constexpr Real value_abs = 4.0L * std::numeric_limits<float>::denorm_min();
// Derivatives computed from y = f(x) in float lose precision where 1 - y or
// 1 - y^2 cancels (tanh'(3) ~ 0.0099 from y ~ 0.995: ~1e-7 absolute), hence the
// absolute term; any real mistake (missing factor, wrong sign) is orders larger.
constexpr Real derivative_rel = 1e-6L;
constexpr Real derivative_abs = 5e-7L;

/// forward() on the sample inputs (as one row) against f.
void check_values(Activation& layer, const Formula& f, const std::vector<float>& inputs = sample_inputs) {
  const Matrix x = matrix(1, inputs.size(), inputs);
  const Matrix y = forward_copy(layer, x);
  ASSERT_EQ(y.shape(0), 1u);
  ASSERT_EQ(y.shape(1), inputs.size());
  for (std::size_t c = 0; c < inputs.size(); ++c) {
    expect_close(y(0, c), f(inputs[c]), value_rel, value_abs, at(layer.type_name().c_str(), 0, c, inputs[c]));
  }
}

/// backward() against dy * f'(x) on a (2, 7) batch: the sample inputs plus a
/// second row of other points, with a non-trivial dy.
void check_derivatives(Activation& layer, const Formula& df) {
  std::vector<float> values = sample_inputs;
  for (float v : {0.05f, -0.05f, 1.0f, -1.0f, 2.5f, -2.5f, 0.25f}) values.push_back(v);
  const Matrix x = matrix(2, 7, values);
  const Matrix dy = random_matrix(2, 7, -2.0, 2.0, 17);
  const Matrix dx = backward_copy(layer, x, dy);
  ASSERT_EQ(dx.shape(0), 2u);
  ASSERT_EQ(dx.shape(1), 7u);
  for (std::size_t r = 0; r < 2; ++r) {
    for (std::size_t c = 0; c < 7; ++c) {
      const Real expected = static_cast<Real>(dy(r, c)) * df(x(r, c));
      expect_close(dx(r, c), expected, derivative_rel, derivative_abs, at(layer.type_name().c_str(), r, c, x(r, c)));
    }
  }
}

void check_gradient(Activation& layer, Matrix x, const std::string& what) {
  testing::expect_activation_gradient(layer, std::move(x), what);
}

// ------------------------------------------------------------- linear

TEST(Linear, ValuesAreTheInputs) {
  Linear layer;
  check_values(layer, [](Real x) { return x; });  // f(x) = x
}

TEST(Linear, DerivativePassesDyThrough) {
  Linear layer;
  check_derivatives(layer, [](Real) { return 1.0L; });  // f'(x) = 1
}

TEST(Linear, GradientMatchesFiniteDifferences) {
  Linear layer;
  check_gradient(layer, random_matrix(4, 5, -3.0, 3.0, 31), "linear dL/dx");
}

// ------------------------------------------------------------- binary step

// f(x) = 1 for x >= 0 else 0 (MISSION: "binary step").
Real ref_step(Real x) { return x >= 0.0L ? 1.0L : 0.0L; }

TEST(BinaryStep, FiresAtAndAboveZero) {
  BinaryStep layer;
  check_values(layer, ref_step);
  BinaryStep tiny;
  check_values(tiny, ref_step, {1e-30f, -1e-30f, -0.0f, std::numeric_limits<float>::denorm_min(),
                                -std::numeric_limits<float>::denorm_min(), 1e30f, -1e30f});
}

TEST(BinaryStep, StraightThroughVariantHasTheSameForwardPass) {
  BinaryStep layer(true);
  check_values(layer, ref_step);
}

TEST(BinaryStep, TrueDerivativeIsExactlyZero) {
  // The step's derivative is 0 wherever it exists: nothing reaches earlier layers.
  BinaryStep layer;
  EXPECT_FALSE(layer.straight_through());
  std::vector<float> values = sample_inputs;
  for (float v : {0.05f, -0.05f, 1.0f, -1.0f, 2.5f, -2.5f, 0.25f}) values.push_back(v);
  const Matrix x = matrix(2, 7, values);
  const Matrix dy = random_matrix(2, 7, 0.5, 2.0, 19);  // all non-zero
  const Matrix dx = backward_copy(layer, x, dy);
  ASSERT_EQ(dx.size(), x.size());
  for (std::size_t i = 0; i < dx.size(); ++i) EXPECT_EQ(dx.data()[i], 0.0f) << "x=" << x.data()[i];
}

TEST(BinaryStep, StraightThroughPassesDyInsideUnitInterval) {
  // Hard-tanh straight-through estimator: dx = dy where |x| <= 1 (bounds included), else 0.
  BinaryStep layer(true);
  EXPECT_TRUE(layer.straight_through());
  const float above_one = std::nextafter(1.0f, 2.0f);
  const std::vector<float> xs = {0.0f, 0.5f, -0.5f, 1.0f, -1.0f, above_one, -above_one, 3.0f, -3.0f, 20.0f, -20.0f};
  const std::vector<bool> passes = {true, true, true, true, true, false, false, false, false, false, false};
  const Matrix x = matrix(1, xs.size(), xs);
  const Matrix dy = random_matrix(1, xs.size(), 0.5, 2.0, 29);
  const Matrix dx = backward_copy(layer, x, dy);
  for (std::size_t c = 0; c < xs.size(); ++c) {
    EXPECT_EQ(dx(0, c), passes[c] ? dy(0, c) : 0.0f) << "x=" << xs[c];
  }
}

// ------------------------------------------------------------- sigmoid

TEST(Sigmoid, ValuesMatchFormula) {
  Sigmoid layer;
  check_values(layer, ref_sigmoid);
}

TEST(Sigmoid, ExtremeInputsNeitherOverflowNorGiveNaN) {
  // e^-x overflows float for x < -88.7; a naive 1 / (1 + exp(-x)) still happens
  // to give 0 there, but e^x / (1 + e^x) for large x gives inf / inf = NaN.
  Sigmoid layer;
  const std::vector<float> xs = {100.0f, -100.0f, 1e4f, -1e4f, 88.0f, -88.0f, 89.0f, -89.0f,
                                 std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()};
  check_values(layer, ref_sigmoid, xs);
  const Matrix x = matrix(1, xs.size(), xs);
  const Matrix y = forward_copy(layer, x);
  for (std::size_t c = 0; c < xs.size(); ++c) {
    EXPECT_GE(y(0, c), 0.0f) << "x=" << xs[c];
    EXPECT_LE(y(0, c), 1.0f) << "x=" << xs[c];
  }
  // sigmoid(-100) = 3.72e-44 is a float denormal, not 0.
  EXPECT_GT(y(0, 1), 0.0f);
  const Matrix dx = backward_copy(layer, x, matrix(1, xs.size(), std::vector<float>(xs.size(), 1.0f)));
  for (std::size_t c = 0; c < xs.size(); ++c) {
    // sigmoid'(x) = e^-|x| / (1 + e^-|x|)^2 <= 1e-38 here: 0 or a denormal, never NaN.
    ASSERT_TRUE(std::isfinite(dx(0, c))) << "x=" << xs[c];
    EXPECT_LE(std::abs(dx(0, c)), 1e-37f) << "x=" << xs[c];
  }
}

TEST(Sigmoid, DerivativeMatchesFormula) {
  Sigmoid layer;
  check_derivatives(layer, ref_sigmoid_derivative);
}

TEST(Sigmoid, GradientMatchesFiniteDifferences) {
  Sigmoid layer;
  check_gradient(layer, random_matrix(4, 5, -3.0, 3.0, 37), "sigmoid dL/dx");
}

TEST(SigmoidFunction, MatchesFormulaOnSamplesAndExtremes) {
  for (float x : sample_inputs) expect_close(sigmoid(x), ref_sigmoid(x), value_rel, value_abs, "sigmoid");
  for (float x : {100.0f, -100.0f, 1e4f, -1e4f, 1.5f, -7.25f}) {
    expect_close(sigmoid(x), ref_sigmoid(x), value_rel, value_abs, "sigmoid(" + std::to_string(x) + ")");
  }
  EXPECT_EQ(sigmoid(0.0f), 0.5f);
  EXPECT_EQ(sigmoid(std::numeric_limits<float>::infinity()), 1.0f);
  EXPECT_EQ(sigmoid(-std::numeric_limits<float>::infinity()), 0.0f);
}

TEST(SigmoidFunction, IsSymmetricAndMonotone) {
  // sigmoid(-x) = 1 - sigmoid(x); increasing.
  float previous = -1.0f;
  for (int i = -400; i <= 400; ++i) {
    const float x = 0.025f * static_cast<float>(i);
    const float y = sigmoid(x);
    EXPECT_NEAR(double(sigmoid(-x)) + double(y), 1.0, 2e-7) << "x=" << x;
    EXPECT_GE(y, previous) << "x=" << x;
    previous = y;
  }
}

// ------------------------------------------------------------- tanh

TEST(Tanh, ValuesMatchFormula) {
  Tanh layer;
  check_values(layer, ref_tanh);
}

TEST(Tanh, ZeroCentredAndBounded) {
  Tanh layer;
  const Matrix y = forward_copy(layer, matrix(1, 4, {-1e4f, -20.0f, 20.0f, 1e4f}));
  EXPECT_EQ(y(0, 0), -1.0f);
  EXPECT_EQ(y(0, 3), 1.0f);
  EXPECT_FLOAT_EQ(y(0, 1), -y(0, 2));  // odd function
}

TEST(Tanh, DerivativeMatchesFormula) {
  Tanh layer;
  check_derivatives(layer, ref_tanh_derivative);
}

TEST(Tanh, GradientMatchesFiniteDifferences) {
  Tanh layer;
  check_gradient(layer, random_matrix(4, 5, -3.0, 3.0, 41), "tanh dL/dx");
}

// ------------------------------------------------------------- relu

TEST(ReLU, ValuesMatchFormula) {
  ReLU layer;
  check_values(layer, [](Real x) { return x > 0.0L ? x : 0.0L; });  // max(0, x)
}

TEST(ReLU, DerivativeMatchesFormulaWithZeroAtTheKink) {
  // f'(x) = 1 for x > 0, 0 otherwise; at 0 it is taken as 0 (PyTorch, TensorFlow).
  ReLU layer;
  check_derivatives(layer, [](Real x) { return x > 0.0L ? 1.0L : 0.0L; });
}

TEST(ReLU, GradientMatchesFiniteDifferences) {
  ReLU layer;
  check_gradient(layer, away_from_zero(4, 5, 3.0, 0.05, 43), "relu dL/dx");
}

// ------------------------------------------------------------- leaky relu

TEST(LeakyReLU, DefaultSlopeIsKerasLayerDefault) {
  // Keras's LeakyReLU layer defaults to 0.3 (MISSION.md "Numerics we match").
  EXPECT_EQ(LeakyReLU::default_slope, 0.3f);
  EXPECT_EQ(LeakyReLU().negative_slope(), 0.3f);
}

TEST(LeakyReLU, ValuesWithDefaultSlope) {
  LeakyReLU layer;
  check_values(layer, [](Real x) { return x >= 0.0L ? x : 0.3L * x; });  // x if x >= 0 else 0.3 x
}

TEST(LeakyReLU, ValuesWithCustomSlope) {
  LeakyReLU layer(0.05f);
  check_values(layer, [](Real x) { return x >= 0.0L ? x : 0.05L * x; });
}

TEST(LeakyReLU, DerivativeWithDefaultSlope) {
  // f'(x) = 1 for x > 0 else a (at 0: a, as TensorFlow's and PyTorch's kernels do).
  LeakyReLU layer;
  check_derivatives(layer, [](Real x) { return x > 0.0L ? 1.0L : 0.3L; });
}

TEST(LeakyReLU, DerivativeWithCustomSlope) {
  LeakyReLU layer(0.05f);
  check_derivatives(layer, [](Real x) { return x > 0.0L ? 1.0L : 0.05L; });
}

TEST(LeakyReLU, ZeroSlopeBehavesAsReLU) {
  LeakyReLU layer(0.0f);
  check_values(layer, [](Real x) { return x > 0.0L ? x : 0.0L; });
}

TEST(LeakyReLU, GradientMatchesFiniteDifferences) {
  LeakyReLU default_slope;
  check_gradient(default_slope, away_from_zero(4, 5, 3.0, 0.05, 47), "leaky_relu dL/dx");
  LeakyReLU custom(0.1f);
  check_gradient(custom, away_from_zero(4, 5, 3.0, 0.05, 53), "leaky_relu(0.1) dL/dx");
}

TEST(LeakyReLU, RejectsNegativeOrNonFiniteSlope) {
  try {
    LeakyReLU bad(-0.1f);
    ADD_FAILURE() << "no exception for slope -0.1";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("-0.1"), std::string::npos) << e.what();
  }
  EXPECT_THROW(LeakyReLU(-1e-6f), InvalidArgument);
  EXPECT_THROW(LeakyReLU(std::numeric_limits<float>::quiet_NaN()), InvalidArgument);
  EXPECT_THROW(LeakyReLU(std::numeric_limits<float>::infinity()), InvalidArgument);
}

// ------------------------------------------------------------- softmax

/// softmax of one row by the definition e^x_i / sum_j e^x_j, in long double
/// without max subtraction (e^1001 ~ 1e434 is finite in long double).
std::vector<Real> ref_softmax(const float* x, std::size_t n) {
  std::vector<Real> e(n);
  Real sum = 0.0L;
  for (std::size_t i = 0; i < n; ++i) sum += (e[i] = std::exp(static_cast<Real>(x[i])));
  for (Real& v : e) v /= sum;
  return e;
}

void check_softmax_values(const Matrix& x) {
  Softmax layer;
  const Matrix y = forward_copy(layer, x);
  for (std::size_t r = 0; r < x.shape(0); ++r) {
    const std::vector<Real> expected = ref_softmax(&x(r, 0), x.shape(1));
    for (std::size_t c = 0; c < x.shape(1); ++c) {
      expect_close(y(r, c), expected[c], 1e-5L, 1e-7L, at("Softmax", r, c, x(r, c)));
    }
  }
}

TEST(Softmax, ValuesMatchDefinition) {
  std::vector<float> values = sample_inputs;
  for (float v : {1.0f, 2.0f, 3.0f, -1.0f, 0.0f, 0.5f, 0.25f}) values.push_back(v);
  check_softmax_values(matrix(2, 7, values));
  check_softmax_values(random_matrix(5, 4, -4.0, 4.0, 59));
}

TEST(Softmax, TutorialScoresExample) {
  // Scores (2, 1, 0.1) -> (0.659, 0.242, 0.099), the classic worked example.
  Softmax layer;
  const Matrix y = forward_copy(layer, matrix(1, 3, {2.0f, 1.0f, 0.1f}));
  EXPECT_NEAR(y(0, 0), 0.6590, 1e-4);
  EXPECT_NEAR(y(0, 1), 0.2424, 1e-4);
  EXPECT_NEAR(y(0, 2), 0.0986, 1e-4);
}

TEST(Softmax, RowsSumToOne) {
  Softmax layer;
  const Matrix x = random_matrix(8, 10, -5.0, 5.0, 61);
  const Matrix y = forward_copy(layer, x);
  for (std::size_t r = 0; r < 8; ++r) {
    double sum = 0.0;
    for (std::size_t c = 0; c < 10; ++c) {
      EXPECT_GT(y(r, c), 0.0f);
      sum += y(r, c);
    }
    EXPECT_NEAR(sum, 1.0, 1e-6) << "row " << r;
  }
}

TEST(Softmax, InvariantToAddingAConstantPerRow) {
  // Quarter-integers plus 64 are exact in float, so x + c - max(x + c) = x - max(x)
  // exactly and a max-subtracted softmax returns identical numbers.
  Softmax layer;
  Matrix x = Matrix::from_shape({3, 6});
  for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = 0.25f * static_cast<float>(int(i * 7 % 17) - 8);
  const Matrix y = forward_copy(layer, x);
  for (float shift : {64.0f, -64.0f, 1024.0f}) {
    Matrix shifted = x;
    for (std::size_t i = 0; i < shifted.size(); ++i) shifted.data()[i] += shift;
    const Matrix ys = to_matrix(layer.forward(view(shifted)));
    for (std::size_t i = 0; i < y.size(); ++i) EXPECT_FLOAT_EQ(ys.data()[i], y.data()[i]) << "shift " << shift;
  }
}

TEST(Softmax, LargeInputsStayFinite) {
  // e^1000 overflows float: only a max-subtracted softmax survives these.
  const Matrix x = matrix(3, 2, {1000.0f, 1001.0f, -1000.0f, -1001.0f, 1000.0f, 1000.0f});
  check_softmax_values(x);
  Softmax layer;
  const Matrix y = forward_copy(layer, x);
  // e^-1 / (1 + e^-1) and 1 / (1 + e^-1).
  expect_close(y(0, 0), 1.0L / (1.0L + std::exp(1.0L)), 1e-6L, 0.0L, "softmax(1000, 1001)[0]");
  expect_close(y(0, 1), 1.0L / (1.0L + std::exp(-1.0L)), 1e-6L, 0.0L, "softmax(1000, 1001)[1]");
  EXPECT_EQ(y(2, 0), 0.5f);
  const Matrix dx = to_matrix(layer.backward(view(matrix(3, 2, {1.0f, -1.0f, 0.5f, 2.0f, 1.0f, 0.0f}))));
  for (std::size_t i = 0; i < dx.size(); ++i) EXPECT_TRUE(std::isfinite(dx.data()[i])) << i;
}

// Issue 11: softmax and sigmoid must stay finite for any finite logits. The extremes: the
// largest floats of both signs in one row (x - max overflows to -inf), subnormals, and rows
// wide enough for the vectorised loops (37 columns: 4 AVX2 vectors and a remainder).
TEST(Softmax, AnyFiniteLogitsGiveFiniteProbabilities) {
  constexpr float big = std::numeric_limits<float>::max();
  constexpr float tiny = std::numeric_limits<float>::denorm_min();
  const std::vector<std::vector<float>> rows = {
      {big, -big},
      {-big, big, -big},
      {big, big, -big},
      {-big, -big},
      {big, 0.0f, -1e38f, tiny, -tiny},
      {tiny, -tiny, 0.0f, std::numeric_limits<float>::min()},
      {-big, -3e38f, -1e30f},
      {1e38f, -1e38f, 3e38f, -3e38f, 88.0f, -104.0f},
  };
  Softmax layer;
  for (const auto& values : rows) {
    // The row as given, and repeated to 37 columns.
    for (const std::size_t cols : {values.size(), std::size_t{37}}) {
      std::vector<float> row(cols);
      for (std::size_t c = 0; c < cols; ++c) row[c] = values[c % values.size()];
      const Matrix x = matrix(1, cols, row);
      const Matrix y = forward_copy(layer, x);
      // The reference: e^(x - max) in long double (x - max is exact there).
      const Real m = *std::max_element(row.begin(), row.end());
      Real sum = 0;
      for (float v : row) sum += std::exp(Real(v) - m);
      double total = 0.0;
      for (std::size_t c = 0; c < cols; ++c) {
        expect_close(y(0, c), std::exp(Real(row[c]) - m) / sum, 1e-6L, value_abs, at("softmax", 0, c, row[c]));
        total += y(0, c);
      }
      EXPECT_NEAR(total, 1.0, 1e-5) << cols << " columns";
      const Matrix dx = backward_copy(layer, x, random_matrix(1, cols, -1.0, 1.0, 5));
      for (std::size_t c = 0; c < cols; ++c) EXPECT_TRUE(std::isfinite(dx(0, c))) << c;
    }
  }
}

TEST(SigmoidAndTanh, AnyFiniteInputGivesAFiniteValueWithinBounds) {
  constexpr float big = std::numeric_limits<float>::max();
  constexpr float tiny = std::numeric_limits<float>::denorm_min();
  std::vector<float> xs = {big, -big, 3e38f, -3e38f, 1e30f, -1e30f, 104.0f, -104.0f, 88.72f, -88.72f,
                           tiny, -tiny, std::numeric_limits<float>::min(), -std::numeric_limits<float>::min(),
                           0.0f, -0.0f};
  while (xs.size() < 37) xs.push_back(xs[xs.size() % 16] * 0.5f);  // through the vector loop too
  std::vector<std::unique_ptr<Activation>> layers;
  layers.push_back(std::make_unique<Sigmoid>());
  layers.push_back(std::make_unique<Tanh>());
  for (const auto& layer : layers) {
    const Matrix x = matrix(1, xs.size(), xs);
    const Matrix y = forward_copy(*layer, x);
    for (std::size_t c = 0; c < xs.size(); ++c) {
      const Real expected = layer->type_name() == "Sigmoid" ? ref_sigmoid(xs[c]) : std::tanh(Real(xs[c]));
      expect_close(y(0, c), expected, value_rel, value_abs, at(layer->type_name().c_str(), 0, c, xs[c]));
    }
    const Matrix dx = backward_copy(*layer, x, random_matrix(1, xs.size(), -1.0, 1.0, 9));
    for (std::size_t c = 0; c < xs.size(); ++c) EXPECT_TRUE(std::isfinite(dx(0, c))) << xs[c];
  }
  EXPECT_EQ(sigmoid(big), 1.0f);
  EXPECT_EQ(sigmoid(-big), 0.0f);
  EXPECT_EQ(sigmoid(tiny), 0.5f);
}

TEST(Softmax, BackwardIsTransposedJacobianTimesDy) {
  // Full Jacobian in long double: J[k][i] = dy_k/dx_i = s_k (delta_ki - s_i);
  // dL/dx_i = sum_k dL/dy_k J[k][i]. Built entry by entry, not from the library's
  // folded formula.
  const Matrix x = random_matrix(3, 5, -2.0, 2.0, 67);
  const Matrix dy = random_matrix(3, 5, -1.0, 1.0, 71);
  Softmax layer;
  const Matrix dx = backward_copy(layer, x, dy);
  for (std::size_t r = 0; r < 3; ++r) {
    const std::vector<Real> s = ref_softmax(&x(r, 0), 5);
    for (std::size_t i = 0; i < 5; ++i) {
      Real expected = 0.0L;
      for (std::size_t k = 0; k < 5; ++k) {
        const Real jacobian = s[k] * ((k == i ? 1.0L : 0.0L) - s[i]);
        expected += static_cast<Real>(dy(r, k)) * jacobian;
      }
      expect_close(dx(r, i), expected, 1e-5L, 1e-6L, at("Softmax dx", r, i, x(r, i)));
    }
  }
}

TEST(Softmax, GradientMatchesFiniteDifferences) {
  Softmax layer;
  check_gradient(layer, random_matrix(3, 5, -2.0, 2.0, 73), "softmax dL/dx");
}

TEST(Softmax, EveryJacobianRowMatchesFiniteDifferences) {
  // For each output k, dy = e_k in every row: backward gives dy_k/dx for each
  // sample, which must match central differences of L = sum_rows y[r][k]. Over all
  // k this checks the whole Jacobian, and that rows do not leak into each other.
  Softmax layer;
  Rng rng(1);
  Matrix x = random_matrix(3, 4, -1.0, 1.0, 79);
  layer.build(4, rng);
  for (std::size_t k = 0; k < 4; ++k) {
    Matrix dy = Matrix::from_shape({3, 4});
    for (std::size_t r = 0; r < 3; ++r) {
      for (std::size_t c = 0; c < 4; ++c) dy(r, c) = c == k ? 1.0f : 0.0f;
    }
    const auto loss = [&]() {
      const ConstMatrixView y = layer.forward(view(x));
      double total = 0.0;
      for (std::size_t r = 0; r < 3; ++r) total += y(r, k);
      return total;
    };
    loss();
    const Matrix analytic = to_matrix(layer.backward(view(dy)));
    testing::expect_gradient_matches(x.data(), analytic.data(), x.size(), loss,
                                     "softmax Jacobian row " + std::to_string(k));
  }
}

// ------------------------------------------------------------- names

TEST(ActivationNames, SpecAndTypeName) {
  struct Expected {
    std::unique_ptr<Activation> layer;
    const char* type_name;
    const char* spec;
  };
  std::vector<Expected> cases;
  cases.push_back({std::make_unique<Linear>(), "Linear", "linear"});
  cases.push_back({std::make_unique<BinaryStep>(), "BinaryStep", "binary_step"});
  cases.push_back({std::make_unique<BinaryStep>(true), "BinaryStep(STE)", "binary_step(ste)"});
  cases.push_back({std::make_unique<Sigmoid>(), "Sigmoid", "sigmoid"});
  cases.push_back({std::make_unique<Tanh>(), "Tanh", "tanh"});
  cases.push_back({std::make_unique<ReLU>(), "ReLU", "relu"});
  cases.push_back({std::make_unique<LeakyReLU>(), "LeakyReLU", "leaky_relu(0.3)"});
  cases.push_back({std::make_unique<LeakyReLU>(0.1f), "LeakyReLU", "leaky_relu(0.1)"});
  cases.push_back({std::make_unique<Softmax>(), "Softmax", "softmax"});
  for (const Expected& e : cases) {
    EXPECT_EQ(e.layer->type_name(), e.type_name);
    EXPECT_EQ(e.layer->spec(), e.spec);
    // spec() is what make_activation() accepts: it must resolve to the same activation.
    EXPECT_EQ(make_activation(e.layer->spec())->spec(), e.spec);
    EXPECT_EQ(make_activation(e.layer->spec())->type_name(), e.type_name);
  }
}

TEST(ActivationNames, ParameterFreeAndSameShape) {
  for (const char* name : {"linear", "binary_step", "sigmoid", "tanh", "relu", "leaky_relu", "softmax"}) {
    auto layer = make_activation(name);
    EXPECT_FALSE(layer->built()) << name;
    Rng rng(1);
    layer->build(6, rng);
    EXPECT_TRUE(layer->built()) << name;
    EXPECT_EQ(layer->input_units(), 6u) << name;
    EXPECT_EQ(layer->output_units(), 6u) << name;
    EXPECT_TRUE(layer->parameters().empty()) << name;
  }
}

}  // namespace
}  // namespace xdense
