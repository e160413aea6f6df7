// Tests of the Dense layer (dense.hpp): y = x . W + b and its backward pass against
// products computed in double by xtensor-blas (reference_products.hpp), finite-difference
// gradient checks, buffer reuse across batch sizes, initialisation and the errors for
// caller mistakes.

#include "xdense/dense.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gradient_check.hpp"
#include "reference_products.hpp"
#include "xdense/activation.hpp"
#include "xdense/error.hpp"
#include "xdense/random.hpp"
#include "xdense/tensor.hpp"

namespace xdense {
namespace {

Matrix random_matrix(std::size_t rows, std::size_t cols, double low, double high, std::uint64_t seed) {
  Rng rng(seed);
  Matrix m = Matrix::from_shape({rows, cols});
  for (std::size_t i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>(rng.uniform(low, high));
  return m;
}

Vector random_vector(std::size_t size, double low, double high, std::uint64_t seed) {
  Rng rng(seed);
  Vector v = Vector::from_shape({size});
  for (std::size_t i = 0; i < size; ++i) v(i) = static_cast<float>(rng.uniform(low, high));
  return v;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

using testing::reference_bias_gradient;
using testing::reference_forward;
using testing::reference_input_gradient;
using testing::reference_kernel_gradient;

// A result of O(1) from 7-term float products: within ~1e-6 of the double sum.
constexpr double tolerance = 2e-5;

// Checks the layer's dW and db (zeros without a bias) from its last backward() on x, dy,
// and that backward's dx, against the products in double, within `tol`; `shape` names
// the case.
void expect_backward_matches_reference(const Dense& layer, const Matrix& x, const Matrix& dy, const Matrix& kernel,
                                       const Matrix& dx, double tol, const std::string& shape) {
  const std::size_t batch = x.shape(0), in = x.shape(1), units = dy.shape(1);
  const testing::Reference dw = reference_kernel_gradient(x, dy);
  const testing::ReferenceVector db = reference_bias_gradient(dy);
  const testing::Reference dx_expected = reference_input_gradient(dy, kernel);
  const bool use_bias = layer.options().use_bias;
  for (std::size_t i = 0; i < in; ++i)
    for (std::size_t j = 0; j < units; ++j) {
      ASSERT_NEAR(layer.kernel_gradient()(i, j), dw(i, j), tol) << shape << " dW " << i << "," << j;
    }
  for (std::size_t j = 0; j < units; ++j) {
    ASSERT_NEAR(layer.bias_gradient()(j), use_bias ? db(j) : 0.0, tol) << shape << " db " << j;
  }
  for (std::size_t b = 0; b < batch; ++b)
    for (std::size_t i = 0; i < in; ++i) {
      ASSERT_NEAR(dx(b, i), dx_expected(b, i), tol) << shape << " dx " << b << "," << i;
    }
}

/// A (5, 7) -> (5, 3) layer with known random weights.
struct Fixture {
  Matrix x = random_matrix(5, 7, -1.0, 1.0, 101);
  Matrix kernel = random_matrix(7, 3, -1.0, 1.0, 103);
  Vector bias = random_vector(3, -1.0, 1.0, 107);
  Matrix dy = random_matrix(5, 3, -1.0, 1.0, 109);
  Dense layer{3};
  Fixture() { layer.set_weights(kernel, bias); }
};

// ------------------------------------------------------------- forward / backward values

TEST(Dense, SetWeightsBuildsAndStoresThem) {
  Fixture f;
  EXPECT_TRUE(f.layer.built());
  EXPECT_EQ(f.layer.input_units(), 7u);
  EXPECT_EQ(f.layer.output_units(), 3u);
  ASSERT_EQ(f.layer.kernel().shape(0), 7u);
  ASSERT_EQ(f.layer.kernel().shape(1), 3u);
  ASSERT_EQ(f.layer.bias().shape(0), 3u);
  for (std::size_t i = 0; i < 7; ++i) {
    for (std::size_t j = 0; j < 3; ++j) EXPECT_EQ(f.layer.kernel()(i, j), f.kernel(i, j));
  }
  for (std::size_t j = 0; j < 3; ++j) EXPECT_EQ(f.layer.bias()(j), f.bias(j));
}

TEST(Dense, ForwardEqualsReferenceMatrixProductPlusBias) {
  Fixture f;
  const ConstMatrixView y = f.layer.forward(view(f.x));
  ASSERT_EQ(y.rows, 5u);
  ASSERT_EQ(y.cols, 3u);
  const testing::Reference expected = reference_forward(f.x, f.kernel, f.bias);
  for (std::size_t b = 0; b < 5; ++b) {
    for (std::size_t j = 0; j < 3; ++j) EXPECT_NEAR(y(b, j), expected(b, j), tolerance) << b << "," << j;
  }
}

// dW = x^T dy, db = the column sums of dy, dx = dy W^T.
TEST(Dense, BackwardEqualsReferenceFormulas) {
  Fixture f;
  f.layer.forward(view(f.x));
  const Matrix dx = to_matrix(f.layer.backward(view(f.dy)));
  ASSERT_EQ(dx.shape(0), 5u);
  ASSERT_EQ(dx.shape(1), 7u);
  expect_backward_matches_reference(f.layer, f.x, f.dy, f.kernel, dx, tolerance, "batch 5, 7 -> 3");
}

// Every path of the matrix products behind Dense: products of up to 16k multiply-adds
// take the vectorised small path (chunks of 16 and 8 columns and a scalar tail, one
// output column, dot products eight rows at a time plus leftover rows, k below and
// above 8), larger ones OpenBLAS. Each shape is checked on all three products of a
// training step, twice (a second forward/backward must overwrite, not accumulate).
TEST(Dense, ForwardAndBackwardMatchReferenceOverShapes) {
  const std::size_t sizes[] = {1, 2, 7, 8, 9, 16, 17, 33};
  std::uint64_t seed = 500;
  for (std::size_t batch : {1, 5, 8, 32, 41})
    for (std::size_t in : sizes)
      for (std::size_t units : sizes) {
        const Matrix x = random_matrix(batch, in, -1.0, 1.0, ++seed);
        const Matrix kernel = random_matrix(in, units, -1.0, 1.0, ++seed);
        const Vector bias = random_vector(units, -1.0, 1.0, ++seed);
        const Matrix dy = random_matrix(batch, units, -1.0, 1.0, ++seed);
        Dense layer(units);
        layer.set_weights(kernel, bias);
        const std::string shape =
            "batch " + std::to_string(batch) + ", " + std::to_string(in) + " -> " + std::to_string(units);
        // Sums of up to 41 O(1) float products: a few float roundings of O(10).
        const double tol = 1e-5 * (1.0 + std::max({batch, in, units}));
        for (int pass = 0; pass < 2; ++pass) {
          const Matrix y = to_matrix(layer.forward(view(x)));
          const testing::Reference expected = reference_forward(x, kernel, bias);
          for (std::size_t i = 0; i < y.size(); ++i) {
            ASSERT_NEAR(y.data()[i], expected.data()[i], tol) << shape << " y " << i;
          }
          const Matrix dx = to_matrix(layer.backward(view(dy)));
          expect_backward_matches_reference(layer, x, dy, kernel, dx, tol, shape);
          if (::testing::Test::HasFatalFailure()) return;
        }
      }
}

// backward_through(activation) must give the bits of backward() followed by the
// activation's backward(), for each activation it takes and through every product path
// (register blocks, dot products, one column, OpenBLAS for the last, large shape).
TEST(Dense, BackwardThroughAnActivationGivesTheBitsOfTheTwoPasses) {
  struct Shape {
    std::size_t batch, in, units;
  };
  std::vector<Shape> shapes;
  for (std::size_t batch : {1, 5, 32, 41})
    for (std::size_t in : {1, 2, 7, 8, 16, 17, 33})
      for (std::size_t units : {1, 2, 9, 16}) shapes.push_back({batch, in, units});
  shapes.push_back({64, 300, 40});
  std::uint64_t seed = 7000;
  for (const std::string spec : {"sigmoid", "tanh", "relu"}) {
    for (const Shape& s : shapes) {
      const std::string name = spec + ", batch " + std::to_string(s.batch) + ", " + std::to_string(s.in) + " -> " +
                               std::to_string(s.units);
      Matrix z = random_matrix(s.batch, s.in, -3.0, 3.0, ++seed);
      for (std::size_t i = 0; i < z.size(); i += 5) z.data()[i] = 0.0f;  // ReLU's kink
      const Matrix kernel = random_matrix(s.in, s.units, -1.0, 1.0, ++seed);
      const Vector bias = random_vector(s.units, -1.0, 1.0, ++seed);
      const Matrix dy = random_matrix(s.batch, s.units, -1.0, 1.0, ++seed);
      std::unique_ptr<Activation> activation = make_activation(spec);
      Rng rng(1);
      activation->build(s.in, rng);
      activation->reserve(s.batch);
      const ConstMatrixView x = activation->forward(view(z));

      Dense two_passes(s.units), fused(s.units);
      two_passes.set_weights(kernel, bias);
      fused.set_weights(kernel, bias);
      two_passes.forward(x);
      const Matrix expected = to_matrix(activation->backward(two_passes.backward(view(dy))));
      fused.forward(x);
      const Matrix dz = to_matrix(fused.backward_through(*activation, view(dy)));
      ASSERT_TRUE(Dense::can_backward_through(*activation)) << name;
      ASSERT_EQ(dz.shape(0), s.batch) << name;
      ASSERT_EQ(dz.shape(1), s.in) << name;
      for (std::size_t i = 0; i < dz.size(); ++i) {
        ASSERT_EQ(dz.data()[i], expected.data()[i]) << name << " dz " << i;
      }
      for (std::size_t i = 0; i < kernel.size(); ++i) {
        ASSERT_EQ(fused.kernel_gradient().data()[i], two_passes.kernel_gradient().data()[i]) << name << " dW " << i;
      }
      for (std::size_t j = 0; j < s.units; ++j) {
        ASSERT_EQ(fused.bias_gradient()(j), two_passes.bias_gradient()(j)) << name << " db " << j;
      }
    }
  }
}

TEST(DenseErrors, BackwardThroughOtherActivations) {
  Dense layer(2);
  layer.set_weights(random_matrix(3, 2, -1.0, 1.0, 1), random_vector(2, -1.0, 1.0, 2));
  const Matrix x = random_matrix(4, 3, -1.0, 1.0, 3);
  layer.forward(view(x));
  const Matrix dy = random_matrix(4, 2, -1.0, 1.0, 4);
  for (const std::string spec : {"softmax", "leaky_relu", "linear", "binary_step"}) {
    std::unique_ptr<Activation> activation = make_activation(spec);
    EXPECT_FALSE(Dense::can_backward_through(*activation)) << spec;
    try {
      layer.backward_through(*activation, view(dy));
      ADD_FAILURE() << "expected InvalidArgument for " << spec;
    } catch (const InvalidArgument& e) {
      EXPECT_TRUE(contains(e.what(), "sigmoid, tanh or ReLU")) << e.what();
    }
  }
}

// The one-sweep backward kernels of small layers (one unit with up to 32 inputs; 8,
// 16 or 32 units with in * units <= 64) and the shapes just past them, over batch
// sizes that leave every count of rows over for the kernels' partial sums.
TEST(Dense, SmallLayerBackwardMatchesReference) {
  std::vector<std::pair<std::size_t, std::size_t>> shapes;  // (in, units)
  for (std::size_t in = 1; in <= 33; ++in) shapes.push_back({in, 1});
  for (std::size_t in = 1; in <= 9; ++in) shapes.push_back({in, 8});
  for (std::size_t in = 1; in <= 5; ++in) shapes.push_back({in, 16});
  for (std::size_t in = 1; in <= 3; ++in) shapes.push_back({in, 32});
  std::uint64_t seed = 9000;
  for (const auto& [in, units] : shapes)
    for (std::size_t batch : {1, 2, 3, 5, 7, 9, 32, 33})
      for (const bool use_bias : {true, false}) {
        const Matrix x = random_matrix(batch, in, -1.0, 1.0, ++seed);
        const Matrix kernel = random_matrix(in, units, -1.0, 1.0, ++seed);
        const Matrix dy = random_matrix(batch, units, -1.0, 1.0, ++seed);
        DenseOptions options;
        options.use_bias = use_bias;
        Dense layer(units, 0, options);
        Vector zero_bias = Vector::from_shape({units});
        std::fill(zero_bias.begin(), zero_bias.end(), 0.0f);
        layer.set_weights(kernel, zero_bias);
        layer.forward(view(x));
        const Matrix dx = to_matrix(layer.backward(view(dy)));
        const std::string shape = std::to_string(in) + " -> " + std::to_string(units) + ", batch " +
                                  std::to_string(batch) + (use_bias ? "" : ", no bias");
        const double tol = 1e-5 * (1.0 + std::max({batch, in, units}));
        expect_backward_matches_reference(layer, x, dy, kernel, dx, tol, shape);
        if (::testing::Test::HasFatalFailure()) return;
        // Without the input gradient (a first layer): the same parameter gradients.
        const Matrix dw = layer.kernel_gradient();
        layer.forward(view(x));
        EXPECT_EQ(layer.backward(view(dy), false).data, nullptr) << shape;
        for (std::size_t i = 0; i < dw.size(); ++i) {
          ASSERT_EQ(layer.kernel_gradient().data()[i], dw.data()[i]) << shape << " dW without dx " << i;
        }
      }
}

// A sample's outputs and input gradient must not depend on the batch it is in (its
// row's position, the batch size): every path computes a row the same way. dW and db
// are sums over the batch and may change with it.
TEST(Dense, RowResultsDoNotDependOnTheBatch) {
  std::uint64_t seed = 12000;
  for (std::size_t in : {1, 2, 7, 12, 16, 33})
    for (std::size_t units : {1, 2, 8, 9, 16, 17, 40}) {
      const std::size_t batch = 11;
      const Matrix x = random_matrix(batch, in, -1.0, 1.0, ++seed);
      const Matrix dy = random_matrix(batch, units, -1.0, 1.0, ++seed);
      Dense layer(units);
      const Matrix kernel = random_matrix(in, units, -1.0, 1.0, ++seed);
      layer.set_weights(kernel, random_vector(units, -1.0, 1.0, ++seed));
      const Matrix y_all = to_matrix(layer.forward(view(x)));
      const Matrix dx_all = to_matrix(layer.backward(view(dy)));
      const std::string shape = std::to_string(in) + " -> " + std::to_string(units);
      for (std::size_t first = 0; first < batch; first += 3) {  // batches of 3 (the last of 2)
        const std::size_t rows = std::min<std::size_t>(3, batch - first);
        const ConstMatrixView x_part{x.data() + first * in, rows, in};
        const Matrix y_part = to_matrix(layer.forward(x_part));
        const Matrix dx_part = to_matrix(layer.backward({dy.data() + first * units, rows, units}));
        for (std::size_t r = 0; r < rows; ++r) {
          for (std::size_t j = 0; j < units; ++j) {
            ASSERT_EQ(y_part(r, j), y_all(first + r, j)) << shape << " y row " << first + r;
          }
          for (std::size_t i = 0; i < in; ++i) {
            ASSERT_EQ(dx_part(r, i), dx_all(first + r, i)) << shape << " dx row " << first + r;
          }
        }
      }
    }
}

// A large layer goes through OpenBLAS (bias copied in, then beta = 1).
TEST(Dense, LargeLayerMatchesReference) {
  const Matrix x = random_matrix(64, 300, -1.0, 1.0, 901);
  const Matrix kernel = random_matrix(300, 40, -0.1, 0.1, 903);
  const Vector bias = random_vector(40, -1.0, 1.0, 905);
  Dense layer(40);
  layer.set_weights(kernel, bias);
  const Matrix y = to_matrix(layer.forward(view(x)));
  const testing::Reference expected = reference_forward(x, kernel, bias);
  for (std::size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(y.data()[i], expected.data()[i], 1e-4) << i;
}

TEST(Dense, BackwardOverwritesRatherThanAccumulates) {
  // Two backward passes with the same dy give the same gradients (no +=).
  Fixture f;
  f.layer.forward(view(f.x));
  f.layer.backward(view(f.dy));
  const Matrix first_dw = f.layer.kernel_gradient();
  const Vector first_db = f.layer.bias_gradient();
  f.layer.forward(view(f.x));
  f.layer.backward(view(f.dy));
  for (std::size_t i = 0; i < first_dw.size(); ++i) EXPECT_EQ(f.layer.kernel_gradient().data()[i], first_dw.data()[i]);
  for (std::size_t i = 0; i < first_db.size(); ++i) EXPECT_EQ(f.layer.bias_gradient()(i), first_db(i));
}

/// Finite differences of loss = sum_ij w_ij y_ij with respect to `values` (the
/// input, the kernel or the bias, all read by forward()), against backward(w).
TEST(Dense, GradientsMatchFiniteDifferences) {
  Fixture f;
  const Matrix w = f.dy;  // fixed random loss weights: dL/dy = w
  const auto loss = [&]() {
    const ConstMatrixView y = f.layer.forward(view(f.x));
    double total = 0.0;
    for (std::size_t i = 0; i < y.size(); ++i) total += double(w.data()[i]) * double(y.data[i]);
    return total;
  };
  loss();
  const Matrix dx = to_matrix(f.layer.backward(view(w)));
  const Matrix dw = f.layer.kernel_gradient();
  const Vector db = f.layer.bias_gradient();
  std::vector<Parameter> params = f.layer.parameters();
  ASSERT_EQ(params.size(), 2u);
  testing::expect_gradient_matches(f.x.data(), dx.data(), dx.size(), loss, "dense dL/dx");
  testing::expect_gradient_matches(params[0].value, dw.data(), dw.size(), loss, "dense dL/dW");
  testing::expect_gradient_matches(params[1].value, db.data(), db.size(), loss, "dense dL/db");
}

TEST(Dense, NoInputGradientStillComputesParameterGradients) {
  Fixture with;
  with.layer.forward(view(with.x));
  with.layer.backward(view(with.dy), true);
  Fixture without;
  without.layer.forward(view(without.x));
  const ConstMatrixView dx = without.layer.backward(view(without.dy), false);
  EXPECT_EQ(dx.data, nullptr);
  EXPECT_EQ(dx.size(), 0u);
  for (std::size_t i = 0; i < 21; ++i) {
    EXPECT_EQ(without.layer.kernel_gradient().data()[i], with.layer.kernel_gradient().data()[i]);
  }
  for (std::size_t j = 0; j < 3; ++j) EXPECT_EQ(without.layer.bias_gradient()(j), with.layer.bias_gradient()(j));
  // ...and they are not zero (they really were computed).
  EXPECT_NE(without.layer.bias_gradient()(0), 0.0f);
}

TEST(Dense, SmallerBatchAfterReserveReusesBuffers) {
  Fixture f;
  f.layer.reserve(32);
  Matrix big = random_matrix(32, 7, -1.0, 1.0, 113);
  Matrix big_dy = random_matrix(32, 3, -1.0, 1.0, 127);
  const ConstMatrixView y_big = f.layer.forward(view(big));
  const ConstMatrixView dx_big = f.layer.backward(view(big_dy));
  // The fixture's batch of 5 then lands in the same storage...
  const ConstMatrixView y = f.layer.forward(view(f.x));
  EXPECT_EQ(y.data, y_big.data);
  EXPECT_EQ(y.rows, 5u);
  const ConstMatrixView dx = f.layer.backward(view(f.dy));
  EXPECT_EQ(dx.data, dx_big.data);
  EXPECT_EQ(dx.rows, 5u);
  EXPECT_EQ(dx.cols, 7u);
  // ...and is still computed correctly (no stale rows from the big batch).
  const testing::Reference expected = reference_forward(f.x, f.kernel, f.bias);
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(y.data[i], expected.data()[i], tolerance) << i;
  const testing::ReferenceVector db = reference_bias_gradient(f.dy);  // over the 5 rows only
  for (std::size_t j = 0; j < 3; ++j) EXPECT_NEAR(f.layer.bias_gradient()(j), db(j), tolerance);
  // Back to the big batch: still no reallocation.
  EXPECT_EQ(f.layer.forward(view(big)).data, y_big.data);
}

TEST(Dense, UseBiasFalse) {
  DenseOptions options;
  options.use_bias = false;
  Dense layer(3, 0, options);
  Rng rng(1);
  layer.build(7, rng);
  for (std::size_t j = 0; j < 3; ++j) EXPECT_EQ(layer.bias()(j), 0.0f);
  const std::vector<Parameter> params = layer.parameters();
  ASSERT_EQ(params.size(), 1u);
  EXPECT_EQ(params[0].name, "kernel");
  EXPECT_EQ(params[0].size, 21u);
  EXPECT_EQ(layer.parameter_count(), 21u);
  Matrix x = random_matrix(5, 7, -1.0, 1.0, 131);
  const Matrix dy = random_matrix(5, 3, -1.0, 1.0, 137);
  const Matrix y = to_matrix(layer.forward(view(x)));
  Vector zero = Vector::from_shape({3});
  zero.fill(0.0f);
  const testing::Reference expected = reference_forward(x, layer.kernel(), zero);  // y = x . W
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(y.data()[i], expected.data()[i], tolerance);
  layer.backward(view(dy));
  for (std::size_t j = 0; j < 3; ++j) EXPECT_EQ(layer.bias_gradient()(j), 0.0f);
}

TEST(Dense, UseBiasFalseIgnoresBiasGivenToSetWeights) {
  // dense.hpp: bias() is "all zeros and ignored when use_bias is false". A non-zero
  // bias passed to set_weights must therefore either be rejected or not reach y.
  // Regression test: set_weights once copied the bias unconditionally and forward()
  // added it, so the layer computed x . W + b with a bias that was neither
  // trainable nor reported by parameters().
  DenseOptions options;
  options.use_bias = false;
  Dense layer(3, 0, options);
  const Matrix kernel = random_matrix(7, 3, -1.0, 1.0, 139);
  Vector bias = Vector::from_shape({3});
  bias.fill(5.0f);
  try {
    layer.set_weights(kernel, bias);
  } catch (const InvalidArgument& e) {
    // Rejecting a non-zero bias is the other acceptable contract; say why.
    EXPECT_TRUE(contains(e.what(), "use_bias")) << e.what();
    return;
  }
  for (std::size_t j = 0; j < 3; ++j) EXPECT_EQ(layer.bias()(j), 0.0f) << "bias() should stay all zeros";
  Matrix x = random_matrix(5, 7, -1.0, 1.0, 149);
  const ConstMatrixView y = layer.forward(view(x));
  Vector zero = Vector::from_shape({3});
  zero.fill(0.0f);
  const testing::Reference expected = reference_forward(x, kernel, zero);  // y = x . W, no bias
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(y.data[i], expected.data()[i], tolerance) << i;
}

// ------------------------------------------------------------- initialisation

TEST(Dense, GlorotUniformKernelAndZeroBiasAfterBuild) {
  // Keras defaults: kernel U(-l, l), l = sqrt(6 / (fan_in + fan_out)); bias zeros.
  Dense layer(30);
  Rng rng(7);
  layer.build(50, rng);
  const double limit = std::sqrt(6.0 / (50.0 + 30.0));
  const Matrix& w = layer.kernel();
  ASSERT_EQ(w.size(), 1500u);
  double lowest = 0.0, highest = 0.0, sum = 0.0, sum_sq = 0.0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    const double v = w.data()[i];
    EXPECT_LE(std::abs(v), limit) << i;
    lowest = std::min(lowest, v);
    highest = std::max(highest, v);
    sum += v;
    sum_sq += v * v;
  }
  // 1500 uniform draws fill the interval: the extremes come within 2% of the limit.
  EXPECT_LT(lowest, -0.98 * limit);
  EXPECT_GT(highest, 0.98 * limit);
  // Mean 0 (sd of the mean l/sqrt(3 * 1500) ~ 0.004 l) and variance l^2 / 3 (+-~5%).
  EXPECT_NEAR(sum / 1500.0, 0.0, 0.03 * limit);
  EXPECT_NEAR(sum_sq / 1500.0, limit * limit / 3.0, 0.15 * limit * limit / 3.0);
  for (std::size_t j = 0; j < 30; ++j) EXPECT_EQ(layer.bias()(j), 0.0f);
}

TEST(Dense, SameSeedSameWeightsOtherSeedOtherWeights) {
  Dense a(4), b(4), c(4);
  Rng ra(9), rb(9), rc(10);
  a.build(6, ra);
  b.build(6, rb);
  c.build(6, rc);
  std::size_t same_as_c = 0;
  for (std::size_t i = 0; i < 24; ++i) {
    EXPECT_EQ(a.kernel().data()[i], b.kernel().data()[i]);
    same_as_c += a.kernel().data()[i] == c.kernel().data()[i];
  }
  EXPECT_LT(same_as_c, 24u);
}

TEST(Dense, OtherInitializersAreHonoured) {
  DenseOptions options;
  options.kernel_initializer = "ones";
  options.bias_initializer = "ones";
  Dense layer(2, 0, options);
  Rng rng(1);
  layer.build(3, rng);
  for (std::size_t i = 0; i < 6; ++i) EXPECT_EQ(layer.kernel().data()[i], 1.0f);
  for (std::size_t j = 0; j < 2; ++j) EXPECT_EQ(layer.bias()(j), 1.0f);
}

TEST(Dense, InitializerObjectsAndPyTorchDefault) {
  DenseOptions options;
  options.kernel_initializer = make_initializer("constant", {{"value", 0.5}});
  options.bias_initializer = "pytorch";
  Dense layer(4, 0, options);
  Rng rng(1);
  layer.build(9, rng);
  for (float w : layer.kernel()) EXPECT_EQ(w, 0.5f);
  // torch.nn.Linear's bias: U(+-1/sqrt(fan_in)) with the kernel's fan_in, 9.
  for (float b : layer.bias()) EXPECT_LE(std::abs(b), 1.0f / 3.0f);
  EXPECT_TRUE(std::any_of(layer.bias().begin(), layer.bias().end(), [](float b) { return std::abs(b) > 0.05f; }));
}

// ------------------------------------------------------------- config

TEST(DenseConfig, InitializersAndRegularizersRebuildTheLayer) {
  // Default-argument initializers are names, as always; others objects; regularizers only when set.
  EXPECT_EQ(Dense(3).config(), (Config{{"units", 3}, {"use_bias", true}, {"kernel_initializer", "glorot_uniform"},
                                      {"bias_initializer", "zeros"}}));
  DenseOptions options;
  options.kernel_initializer = make_initializer("random_normal", {{"stddev", 0.1}, {"seed", 4}});
  options.bias_initializer = "ones";
  options.kernel_regularizer = "l2";
  options.bias_regularizer = l1_l2(0.001, 0.002);
  const Dense dense(5, 0, options);
  const Config config = dense.config();
  EXPECT_EQ(config.at("kernel_initializer"),
            (Config{{"class_name", "random_normal"}, {"config", {{"mean", 0.0}, {"stddev", 0.1}, {"seed", 4}}}}));
  EXPECT_EQ(config.at("bias_initializer"), "ones");
  EXPECT_EQ(config.at("kernel_regularizer"), "l2");
  EXPECT_EQ(config.at("bias_regularizer"), (Config{{"class_name", "l1_l2"}, {"config", {{"l1", 0.001}, {"l2", 0.002}}}}));
  const std::unique_ptr<Layer> rebuilt = make_layer("Dense", config);
  EXPECT_EQ(rebuilt->config(), config);
  EXPECT_TRUE(rebuilt->regularized());
  EXPECT_FALSE(Dense(3).regularized());
  // Same seeded initializer, same weights.
  Rng a(1), b(2);
  auto* rebuilt_dense = dynamic_cast<Dense*>(rebuilt.get());
  ASSERT_NE(rebuilt_dense, nullptr);
  Dense copy(5, 0, options);
  rebuilt_dense->build(3, a);
  copy.build(3, b);
  EXPECT_TRUE(std::equal(copy.kernel().begin(), copy.kernel().end(), rebuilt_dense->kernel().begin()));
}

TEST(DenseConfig, TakesKeras3DenseConfigLessItsActivation) {
  // keras.layers.Dense(8, kernel_regularizer=L2(1e-4)).get_config() of Keras 3, less "activation".
  const Config keras = Config::parse(R"({
    "name": "dense_1", "trainable": true,
    "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
    "units": 8, "use_bias": true,
    "kernel_initializer": {"module": "keras.initializers", "class_name": "HeNormal", "config": {"seed": null},
                           "registered_name": null},
    "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null},
    "kernel_regularizer": {"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.0001},
                           "registered_name": null},
    "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null,
    "lora_rank": null})");
  const std::unique_ptr<Layer> layer = make_layer("Dense", keras);
  EXPECT_EQ(layer->config(), (Config{{"units", 8}, {"use_bias", true}, {"kernel_initializer", "he_normal"},
                                     {"bias_initializer", "zeros"},
                                     {"kernel_regularizer", {{"class_name", "l2"}, {"config", {{"l2", 0.0001}}}}}}));
  // Keras 2's spelling: dtype a string, initializers without module.
  EXPECT_NO_THROW(make_layer("Dense", {{"units", 2}, {"dtype", "float32"},
                                       {"kernel_initializer", {{"class_name", "GlorotUniform"}, {"config", {{"seed", nullptr}}}}}}));
}

TEST(DenseConfig, RefusesWhatWouldChangeTheMathsNamingTheKey) {
  const auto message = [](const Config& config) -> std::string {
    try {
      make_layer("Dense", config);
    } catch (const InvalidArgument& e) {
      return e.what();
    }
    return "no exception";
  };
  EXPECT_TRUE(contains(message({{"units", 3}, {"activation", "relu"}}), "Dense config: \"activation\": unknown key"));
  for (const char* key : {"activity_regularizer", "kernel_constraint", "bias_constraint", "lora_rank"}) {
    const std::string m = message({{"units", 3}, {key, "l2"}});
    EXPECT_TRUE(contains(m, std::string("\"") + key + "\"")) << m;
    EXPECT_TRUE(contains(m, "expected null")) << m;
  }
  EXPECT_TRUE(contains(message({{"units", 3}, {"trainable", false}}), "\"trainable\""));
  EXPECT_TRUE(contains(message({{"units", 3}, {"dtype", "float64"}}), "\"dtype\""));
  EXPECT_TRUE(contains(message({{"units", 3}, {"kernel_initializer", "nope"}}), "\"kernel_initializer\": unknown initializer 'nope'"));
  EXPECT_TRUE(contains(message({{"units", 3}, {"bias_initializer", {{"class_name", "Constant"}, {"config", {{"valu", 1}}}}}}),
                       "\"bias_initializer\""));
  EXPECT_TRUE(contains(message({{"units", 3}, {"kernel_regularizer", "l3"}}), "\"kernel_regularizer\": unknown regularizer 'l3'"));
  EXPECT_TRUE(contains(message({{"units", 3}, {"bias_regularizer", {{"class_name", "L2"}, {"config", {{"l2", -1}}}}}}),
                       "\"bias_regularizer\""));
}

// ------------------------------------------------------------- parameters

TEST(Dense, ParametersNamesSizesAndPointers) {
  Dense unbuilt(3);
  EXPECT_TRUE(unbuilt.parameters().empty());
  Fixture f;
  std::vector<Parameter> params = f.layer.parameters();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[0].name, "kernel");
  EXPECT_EQ(params[0].size, 21u);
  EXPECT_EQ(params[0].value, f.layer.kernel().data());
  EXPECT_EQ(params[0].gradient, f.layer.kernel_gradient().data());
  EXPECT_EQ(params[1].name, "bias");
  EXPECT_EQ(params[1].size, 3u);
  EXPECT_EQ(params[1].value, f.layer.bias().data());
  EXPECT_EQ(params[1].gradient, f.layer.bias_gradient().data());
  EXPECT_EQ(f.layer.parameter_count(), 24u);
  // set_weights copies into the existing storage: optimizers' pointers stay valid.
  f.layer.set_weights(random_matrix(7, 3, -1.0, 1.0, 151), random_vector(3, -1.0, 1.0, 157));
  EXPECT_EQ(f.layer.parameters()[0].value, params[0].value);
  EXPECT_EQ(f.layer.parameters()[1].value, params[1].value);
  // Writing through a Parameter changes what forward() uses.
  params[1].value[0] += 1.0f;
  const ConstMatrixView y0 = f.layer.forward(view(f.x));
  const float before = y0(0, 0);
  params[1].value[0] -= 1.0f;
  EXPECT_NEAR(f.layer.forward(view(f.x))(0, 0), before - 1.0f, 1e-6);
}

TEST(Dense, DeclaredInputUnits) {
  Dense layer(3, 7);
  EXPECT_EQ(layer.input_units(), 7u);
  EXPECT_FALSE(layer.built());
  Rng rng(1);
  layer.build(7, rng);
  EXPECT_TRUE(layer.built());
  EXPECT_EQ(layer.kernel().shape(0), 7u);
}

// ------------------------------------------------------------- errors

TEST(DenseErrors, ZeroUnits) {
  try {
    Dense layer(0);
    ADD_FAILURE() << "no InvalidArgument";
  } catch (const InvalidArgument& e) {
    EXPECT_TRUE(contains(e.what(), "units=0")) << e.what();
  }
}

TEST(DenseErrors, UnknownInitializer) {
  DenseOptions options;
  try {
    options.kernel_initializer = "glorot_unifrom";  // refused where it is set
    ADD_FAILURE() << "no InvalidArgument";
  } catch (const InvalidArgument& e) {
    EXPECT_TRUE(contains(e.what(), "'glorot_unifrom'")) << e.what();
    EXPECT_TRUE(contains(e.what(), "glorot_uniform")) << e.what();
    EXPECT_TRUE(contains(e.what(), "he_normal")) << e.what();
  }
  // An unknown name is refused where the options are set (the name "zero" is Keras's alias of zeros).
  DenseOptions bad_bias;
  EXPECT_THROW(bad_bias.bias_initializer = "zeroes", InvalidArgument);
}

TEST(DenseErrors, SetWeightsShapeMismatch) {
  Dense layer(3);
  // Kernel with the wrong number of units.
  EXPECT_THROW(layer.set_weights(random_matrix(7, 4, -1, 1, 1), random_vector(3, -1, 1, 2)), ShapeError);
  // Bias of the wrong size.
  EXPECT_THROW(layer.set_weights(random_matrix(7, 3, -1, 1, 1), random_vector(4, -1, 1, 2)), ShapeError);
  EXPECT_FALSE(layer.built());
  // Once built for 7 inputs, a (6, 3) kernel does not fit.
  layer.set_weights(random_matrix(7, 3, -1, 1, 1), random_vector(3, -1, 1, 2));
  try {
    layer.set_weights(random_matrix(6, 3, -1, 1, 1), random_vector(3, -1, 1, 2));
    ADD_FAILURE() << "no ShapeError";
  } catch (const ShapeError& e) {
    EXPECT_TRUE(contains(e.what(), "(7, 3)")) << e.what();
    EXPECT_TRUE(contains(e.what(), "(6, 3)")) << e.what();
  }
  // A declared input count is checked before build too.
  Dense declared(3, 5);
  EXPECT_THROW(declared.set_weights(random_matrix(7, 3, -1, 1, 1), random_vector(3, -1, 1, 2)), ShapeError);
}

TEST(DenseErrors, WrongInputWidth) {
  Fixture f;
  Matrix x = random_matrix(5, 6, -1.0, 1.0, 163);
  try {
    f.layer.forward(view(x));
    ADD_FAILURE() << "no ShapeError";
  } catch (const ShapeError& e) {
    EXPECT_TRUE(contains(e.what(), "Dense")) << e.what();
    EXPECT_TRUE(contains(e.what(), "7")) << e.what();       // expected columns
    EXPECT_TRUE(contains(e.what(), "(5, 6)")) << e.what();  // received shape
  }
}

TEST(DenseErrors, ForwardBeforeBuildAndBadDy) {
  Dense layer(3);
  Matrix x = random_matrix(2, 4, -1.0, 1.0, 1);
  EXPECT_THROW(layer.forward(view(x)), StateError);
  Fixture f;
  f.layer.forward(view(f.x));
  Matrix wrong_cols = random_matrix(5, 4, -1.0, 1.0, 2);
  Matrix wrong_rows = random_matrix(4, 3, -1.0, 1.0, 3);
  EXPECT_THROW(f.layer.backward(view(wrong_cols)), ShapeError);
  EXPECT_THROW(f.layer.backward(view(wrong_rows)), ShapeError);
}

TEST(DenseErrors, DeclaredInputUnitsConflictWithBuild) {
  Dense layer(3, 7);
  Rng rng(1);
  try {
    layer.build(6, rng);
    ADD_FAILURE() << "no ShapeError";
  } catch (const ShapeError& e) {
    EXPECT_TRUE(contains(e.what(), "7")) << e.what();
    EXPECT_TRUE(contains(e.what(), "6")) << e.what();
  }
  EXPECT_THROW(Dense(3).build(0, rng), InvalidArgument);
}

}  // namespace
}  // namespace xdense
