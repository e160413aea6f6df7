#include "xdense/loss.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "gradient_check.hpp"
#include "losses/loss_test_support.hpp"
#include "xdense/builtin_activations.hpp"
#include "xdense/dense.hpp"
#include "xdense/error.hpp"
#include "xdense/model_file.hpp"
#include "xdense/optimizer.hpp"
#include "xdense/random.hpp"
#include "xdense/sequential.hpp"

// Expected values are computed here in long double from the Keras formulas, written
// out next to each reference function, never by calling back into xdense:
//   mean_squared_error        mean over batch*units of (p - y)^2
//   binary_crossentropy       mean over batch*units of -[y log q + (1 - y) log(1 - q)],
//                             q = clip(p, 1e-7, 1 - 1e-7)
//   categorical_crossentropy  mean over the batch of -sum_k y_k log q_k,
//                             q = clip(p / sum_k p_k, 1e-7, 1 - 1e-7)
//   from logits               p = sigmoid(z) = 1 / (1 + e^-z), or p = softmax(z) per row.

namespace xdense {
namespace {

using Real = long double;

constexpr Real keras_epsilon = 1e-7L;

Real clip(Real p) { return std::min(std::max(p, keras_epsilon), 1.0L - keras_epsilon); }

using xdense::testing::message_of;
using xdense::testing::zeros_like;

/// One-hot (rows, units) matrix from class indices.
Matrix one_hot(const std::vector<std::size_t>& labels, std::size_t units) {
  Matrix y = Matrix::from_shape({labels.size(), units});
  std::fill(y.begin(), y.end(), 0.0f);
  for (std::size_t r = 0; r < labels.size(); ++r) y(r, labels[r]) = 1.0f;
  return y;
}

/// (rows, 1) sparse targets from class indices.
Matrix sparse(const std::vector<std::size_t>& labels) {
  Matrix y = Matrix::from_shape({labels.size(), std::size_t{1}});
  for (std::size_t r = 0; r < labels.size(); ++r) y(r, 0) = static_cast<float>(labels[r]);
  return y;
}

// ---- independent reference formulas (long double) --------------------------------------

/// mean over all entries of (p - y)^2.
Real reference_mse(const Matrix& p, const Matrix& y) {
  Real sum = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const Real d = Real(p.data()[i]) - Real(y.data()[i]);
    sum += d * d;
  }
  return sum / Real(p.size());
}

/// mean over all entries of -[y log q + (1 - y) log(1 - q)], q = clip(p).
Real reference_bce(const Matrix& p, const Matrix& y) {
  Real sum = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const Real q = clip(p.data()[i]);
    const Real t = y.data()[i];
    sum -= t * std::log(q) + (1 - t) * std::log(1 - q);
  }
  return sum / Real(p.size());
}

/// mean over rows of -sum_k y_k log clip(p_k / sum_j p_j); y dense (rows, units).
Real reference_cce(const Matrix& p, const Matrix& y) {
  Real sum = 0;
  for (std::size_t r = 0; r < p.shape(0); ++r) {
    Real total = 0;
    for (std::size_t c = 0; c < p.shape(1); ++c) total += p(r, c);
    for (std::size_t c = 0; c < p.shape(1); ++c) sum -= Real(y(r, c)) * std::log(clip(p(r, c) / total));
  }
  return sum / Real(p.shape(0));
}

Real reference_sigmoid(Real z) { return 1 / (1 + std::exp(-z)); }

/// BCE of sigmoid(z) without any clipping: mean of -[y log s + (1 - y) log(1 - s)].
Real reference_bce_of_logits(const Matrix& z, const Matrix& y) {
  Real sum = 0;
  for (std::size_t i = 0; i < z.size(); ++i) {
    const Real s = reference_sigmoid(z.data()[i]);
    const Real t = y.data()[i];
    sum -= t * std::log(s) + (1 - t) * std::log(1 - s);
  }
  return sum / Real(z.size());
}

/// softmax of row r of z: e^z_k / sum_j e^z_j (no max shift: the inputs here are small).
std::vector<Real> reference_softmax(const Matrix& z, std::size_t r) {
  std::vector<Real> e(z.shape(1));
  Real sum = 0;
  for (std::size_t c = 0; c < e.size(); ++c) sum += e[c] = std::exp(Real(z(r, c)));
  for (Real& v : e) v /= sum;
  return e;
}

/// CCE of softmax(z) without clipping: mean over rows of -sum_k y_k log softmax(z)_k.
Real reference_cce_of_logits(const Matrix& z, const Matrix& y) {
  Real sum = 0;
  for (std::size_t r = 0; r < z.shape(0); ++r) {
    const std::vector<Real> s = reference_softmax(z, r);
    for (std::size_t c = 0; c < s.size(); ++c) sum -= Real(y(r, c)) * std::log(s[c]);
  }
  return sum / Real(z.shape(0));
}

void expect_all_near(const Matrix& actual, const std::vector<Real>& expected, double tolerance,
                     const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(actual.data()[i], double(expected[i]), tolerance) << what << "[" << i << "]";
  }
}

::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

// ---- mean squared error -----------------------------------------------------------------

TEST(LossMeanSquaredError, ValueByHand) {
  // Differences 0.5, -1, 2, 0 -> squares 0.25, 1, 4, 0 -> mean over 4 entries = 5.25 / 4.
  const Matrix p = {{1.5f, 0.0f}, {3.0f, -1.0f}};
  const Matrix y = {{1.0f, 1.0f}, {1.0f, -1.0f}};
  const MeanSquaredError loss;
  EXPECT_NEAR(loss.value(view(p), view(y)), 5.25 / 4.0, 1e-12);
  EXPECT_NEAR(loss.value(view(p), view(y)), double(reference_mse(p, y)), 1e-12);
  EXPECT_EQ(loss.name(), "mean_squared_error");
}

TEST(LossMeanSquaredError, GradientIsTwoDiffOverEntries) {
  // d/dp mean((p - y)^2) = 2 (p - y) / (batch * units) = 2 * diff / 6.
  const Matrix p = {{0.3f, -0.4f, 0.9f}, {0.1f, 0.6f, -0.2f}};
  const Matrix y = {{1.0f, 0.0f, 0.0f}, {0.0f, 1.0f, 0.5f}};
  const MeanSquaredError loss;
  Matrix g = zeros_like(p);
  loss.gradient(view(p), view(y), view(g));
  std::vector<Real> expected;
  for (std::size_t i = 0; i < p.size(); ++i) expected.push_back(2 * (Real(p.data()[i]) - y.data()[i]) / 6);
  expect_all_near(g, expected, 1e-7, "mse gradient");
}

TEST(LossMeanSquaredError, GradientMatchesFiniteDifferences) {
  Matrix p = {{0.3f, -0.4f, 0.9f}, {0.1f, 0.6f, -0.2f}};
  const Matrix y = {{1.0f, 0.0f, 0.0f}, {0.0f, 1.0f, 0.5f}};
  const MeanSquaredError loss;
  Matrix g = zeros_like(p);
  loss.gradient(view(p), view(y), view(g));
  xdense::testing::expect_gradient_matches(
      p.data(), g.data(), p.size(), [&] { return loss.value(view(p), view(y)); }, "mse dL/dp");
}

TEST(LossMeanSquaredError, ShapeMismatchThrows) {
  const Matrix p = {{0.3f, 0.4f}};
  const Matrix y = {{0.3f, 0.4f, 0.5f}};
  const MeanSquaredError loss;
  const std::string message = message_of<ShapeError>([&] { loss.value(view(p), view(y)); });
  EXPECT_TRUE(contains(message, "(1, 2)"));
  EXPECT_TRUE(contains(message, "(1, 3)"));
  Matrix g = zeros_like(p);
  EXPECT_THROW(loss.gradient(view(p), view(y), view(g)), ShapeError);
}

TEST(LossMeanSquaredError, DoesNotFuseOrComputeFromLogits) {
  const MeanSquaredError loss;
  EXPECT_FALSE(loss.fuses_with(Sigmoid()));
  EXPECT_FALSE(loss.fuses_with(Softmax()));
  EXPECT_FALSE(loss.fuses_with(Linear()));
  const Matrix z = {{0.5f}};
  Matrix g = zeros_like(z);
  EXPECT_THROW(loss.value_from_logits(view(z), view(z)), StateError);
  EXPECT_THROW(loss.gradient_from_logits(view(z), view(z), view(g)), StateError);
}

// ---- binary cross-entropy -----------------------------------------------------------------

TEST(LossBinaryCrossEntropy, ValueByHand) {
  // Two entries: y=1,p=0.8 -> -log 0.8; y=0,p=0.4 -> -log 0.6. Mean over 2 entries.
  const Matrix p = {{0.8f}, {0.4f}};
  const Matrix y = {{1.0f}, {0.0f}};
  const BinaryCrossEntropy loss;
  const double by_hand = -(std::log(double(0.8f)) + std::log(1.0 - double(0.4f))) / 2.0;
  EXPECT_NEAR(loss.value(view(p), view(y)), by_hand, 1e-12);
  EXPECT_EQ(loss.name(), "binary_crossentropy");
}

TEST(LossBinaryCrossEntropy, ValueMeansOverBatchAndUnitsWithSoftTargets) {
  const Matrix p = {{0.8f, 0.3f, 0.55f}, {0.1f, 0.65f, 0.9f}};
  const Matrix y = {{1.0f, 0.0f, 0.25f}, {0.0f, 1.0f, 0.7f}};
  const BinaryCrossEntropy loss;
  EXPECT_NEAR(loss.value(view(p), view(y)), double(reference_bce(p, y)), 1e-12);
}

TEST(LossBinaryCrossEntropy, ClipsProbabilitiesLikeKeras) {
  // p = 0 with y = 1 and p = 1 with y = 0 each cost -log(1e-7) = 16.118..., not infinity;
  // p = 1 with y = 1 costs -log(1 - 1e-7) ~ 1e-7. Mean over 3 entries.
  const Matrix p = {{0.0f}, {1.0f}, {1.0f}};
  const Matrix y = {{1.0f}, {0.0f}, {1.0f}};
  const BinaryCrossEntropy loss;
  const double expected = double((-std::log(1e-7L) * 2 - std::log(1 - 1e-7L)) / 3);
  const double v = loss.value(view(p), view(y));
  EXPECT_TRUE(std::isfinite(v));
  EXPECT_NEAR(v, expected, 1e-6);
  EXPECT_NEAR(v, double(reference_bce(p, y)), 1e-6);
}

TEST(LossBinaryCrossEntropy, GradientFormulaAndFiniteDifferences) {
  // dL/dp = (p - y) / (p (1 - p)) / (batch * units); probabilities kept inside (0.2, 0.8).
  Matrix p = {{0.7f, 0.3f, 0.45f}, {0.25f, 0.6f, 0.8f}};
  const Matrix y = {{1.0f, 0.0f, 0.2f}, {0.0f, 1.0f, 1.0f}};
  const BinaryCrossEntropy loss;
  Matrix g = zeros_like(p);
  loss.gradient(view(p), view(y), view(g));
  std::vector<Real> expected;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const Real q = p.data()[i];
    expected.push_back((q - y.data()[i]) / (q * (1 - q)) / 6);
  }
  expect_all_near(g, expected, 1e-6, "bce gradient");
  xdense::testing::expect_gradient_matches(
      p.data(), g.data(), p.size(), [&] { return loss.value(view(p), view(y)); }, "bce dL/dp");
}

TEST(LossBinaryCrossEntropy, FromLogitsMatchesSigmoidComposition) {
  const Matrix z = {{2.0f, -1.5f}, {0.3f, -3.0f}, {4.0f, 0.0f}};
  const Matrix y = {{1.0f, 0.0f}, {0.0f, 1.0f}, {0.4f, 1.0f}};
  const BinaryCrossEntropy loss;
  EXPECT_NEAR(loss.value_from_logits(view(z), view(y)), double(reference_bce_of_logits(z, y)), 1e-12);

  // Same number through the probability path: value(sigmoid(z)) (p rounded to float: ~1e-6).
  Matrix p = zeros_like(z);
  for (std::size_t i = 0; i < z.size(); ++i) p.data()[i] = float(reference_sigmoid(z.data()[i]));
  EXPECT_NEAR(loss.value(view(p), view(y)), loss.value_from_logits(view(z), view(y)), 1e-5);

  // dL/dz = (sigmoid(z) - y) / (batch * units).
  Matrix g = zeros_like(z);
  loss.gradient_from_logits(view(z), view(y), view(g));
  std::vector<Real> expected;
  for (std::size_t i = 0; i < z.size(); ++i) expected.push_back((reference_sigmoid(z.data()[i]) - y.data()[i]) / 6);
  expect_all_near(g, expected, 1e-7, "bce gradient from logits");
}

TEST(LossBinaryCrossEntropy, GradientFromLogitsMatchesFiniteDifferences) {
  Matrix z = {{1.2f, -0.7f}, {0.3f, -2.0f}};
  const Matrix y = {{1.0f, 1.0f}, {0.0f, 0.3f}};
  const BinaryCrossEntropy loss;
  Matrix g = zeros_like(z);
  loss.gradient_from_logits(view(z), view(y), view(g));
  xdense::testing::expect_gradient_matches(
      z.data(), g.data(), z.size(), [&] { return loss.value_from_logits(view(z), view(y)); }, "bce dL/dz");
}

TEST(LossBinaryCrossEntropy, HugeLogitsStayFinite) {
  // Per entry max(z,0) - z y + log(1 + e^-|z|):
  //   z=1e4,y=0 -> 1e4;  z=-1e4,y=1 -> 1e4;  z=0,y=1 -> log 2;  z=1e4,y=1 -> 0.
  // Mean over 4 entries. Gradient (sigmoid(z) - y) / 4 = {1, -1, -0.5, 0} / 4.
  const Matrix z = {{1e4f, -1e4f, 0.0f, 1e4f}};
  const Matrix y = {{0.0f, 1.0f, 1.0f, 1.0f}};
  const BinaryCrossEntropy loss;
  const double v = loss.value_from_logits(view(z), view(y));
  ASSERT_TRUE(std::isfinite(v));
  EXPECT_NEAR(v, (2e4 + std::log(2.0)) / 4.0, 1e-9);

  const Matrix one = {{1e4f}};
  const Matrix zero = {{0.0f}};
  EXPECT_NEAR(loss.value_from_logits(view(one), view(zero)), 1e4, 1e-9);

  Matrix g = zeros_like(z);
  loss.gradient_from_logits(view(z), view(y), view(g));
  expect_all_near(g, {0.25L, -0.25L, -0.125L, 0.0L}, 1e-7, "bce gradient at huge logits");
}

// ---- categorical cross-entropy --------------------------------------------------------------

TEST(LossCategoricalCrossEntropy, ValueByHand) {
  // Rows already sum to 1: -(log 0.7 + log 0.5) / 2 for labels 0 and 2.
  const Matrix p = {{0.7f, 0.2f, 0.1f}, {0.25f, 0.25f, 0.5f}};
  const CategoricalCrossEntropy loss;
  const double by_hand = -(std::log(double(0.7f) / (double(0.7f) + double(0.2f) + double(0.1f))) + std::log(0.5)) / 2.0;
  EXPECT_NEAR(loss.value(view(p), view(one_hot({0, 2}, 3))), by_hand, 1e-7);
  EXPECT_NEAR(loss.value(view(p), view(sparse({0, 2}))), by_hand, 1e-7);
  EXPECT_EQ(loss.name(), "categorical_crossentropy");
}

TEST(LossCategoricalCrossEntropy, RenormalisesRowsThenMeansOverBatch) {
  // Rows do not sum to 1: Keras divides each row by its sum before the log.
  const Matrix p = {{0.4f, 1.2f, 0.4f}, {0.3f, 0.3f, 0.3f}, {0.05f, 0.9f, 0.55f}};
  const std::vector<std::size_t> labels = {1, 2, 0};
  const CategoricalCrossEntropy loss;
  const double expected = double(reference_cce(p, one_hot(labels, 3)));
  // Row 0 is (0.2, 0.6, 0.2) scaled by 2, row 1 is uniform: -(log 0.6 + log(1/3) + log(0.05/1.5)) / 3.
  EXPECT_NEAR(expected, -(std::log(0.6) + std::log(1.0 / 3.0) + std::log(0.05 / 1.5)) / 3.0, 1e-6);
  EXPECT_NEAR(loss.value(view(p), view(one_hot(labels, 3))), expected, 1e-9);
  EXPECT_NEAR(loss.value(view(p), view(sparse(labels))), expected, 1e-9);
}

TEST(LossCategoricalCrossEntropy, SoftTargets) {
  const Matrix p = {{0.5f, 0.3f, 0.2f}, {0.1f, 0.6f, 0.3f}};
  const Matrix y = {{0.6f, 0.4f, 0.0f}, {0.1f, 0.1f, 0.8f}};
  const CategoricalCrossEntropy loss;
  EXPECT_NEAR(loss.value(view(p), view(y)), double(reference_cce(p, y)), 1e-9);
}

TEST(LossCategoricalCrossEntropy, ClipsAfterRenormalising) {
  // The labelled probability is 0: clipped to 1e-7, so the row costs -log(1e-7) = 16.118...
  const Matrix p = {{0.0f, 0.5f, 0.5f}, {0.2f, 0.3f, 0.5f}};
  const CategoricalCrossEntropy loss;
  const double expected =
      double((-std::log(keras_epsilon) - std::log(Real(0.3f) / (Real(0.2f) + Real(0.3f) + Real(0.5f)))) / 2);
  EXPECT_NEAR(double(reference_cce(p, one_hot({0, 1}, 3))), expected, 1e-9);
  const double v = loss.value(view(p), view(sparse({0, 1})));
  EXPECT_TRUE(std::isfinite(v));
  EXPECT_NEAR(v, expected, 1e-6);
  EXPECT_NEAR(loss.value(view(p), view(one_hot({0, 1}, 3))), expected, 1e-6);
}

TEST(LossCategoricalCrossEntropy, GradientFormulaAndFiniteDifferences) {
  // L = -sum_k y_k log(p_k / s), s = sum p: dL/dp_j = (-y_j / p_j + sum_k y_k / s) / batch.
  // Rows deliberately do not sum to 1 so the renormalisation term is exercised.
  Matrix p = {{0.3f, 0.5f, 0.4f}, {0.6f, 0.2f, 0.15f}, {0.25f, 0.35f, 0.3f}};
  const std::vector<std::size_t> labels = {1, 0, 2};
  const CategoricalCrossEntropy loss;
  for (const bool use_sparse : {false, true}) {
    const Matrix y = use_sparse ? sparse(labels) : one_hot(labels, 3);
    const std::string what = use_sparse ? "cce sparse dL/dp" : "cce one-hot dL/dp";
    Matrix g = zeros_like(p);
    loss.gradient(view(p), view(y), view(g));
    std::vector<Real> expected;
    for (std::size_t r = 0; r < 3; ++r) {
      const Real s = Real(p(r, 0)) + p(r, 1) + p(r, 2);
      for (std::size_t c = 0; c < 3; ++c) expected.push_back((-(labels[r] == c ? 1 : 0) / Real(p(r, c)) + 1 / s) / 3);
    }
    expect_all_near(g, expected, 1e-6, what);
    xdense::testing::expect_gradient_matches(
        p.data(), g.data(), p.size(), [&] { return loss.value(view(p), view(y)); }, what);
  }
}

TEST(LossCategoricalCrossEntropy, GradientWithSoftTargetsMatchesFiniteDifferences) {
  Matrix p = {{0.3f, 0.5f, 0.4f}, {0.6f, 0.2f, 0.15f}};
  const Matrix y = {{0.2f, 0.7f, 0.1f}, {0.5f, 0.0f, 0.5f}};
  const CategoricalCrossEntropy loss;
  Matrix g = zeros_like(p);
  loss.gradient(view(p), view(y), view(g));
  xdense::testing::expect_gradient_matches(
      p.data(), g.data(), p.size(), [&] { return loss.value(view(p), view(y)); }, "cce soft dL/dp");
}

TEST(LossCategoricalCrossEntropy, FromLogitsMatchesSoftmaxComposition) {
  const Matrix z = {{1.0f, -0.5f, 0.25f}, {-2.0f, 0.0f, 3.0f}, {0.1f, 0.2f, 0.3f}};
  const std::vector<std::size_t> labels = {0, 2, 1};
  const CategoricalCrossEntropy loss;
  const double expected = double(reference_cce_of_logits(z, one_hot(labels, 3)));
  EXPECT_NEAR(loss.value_from_logits(view(z), view(one_hot(labels, 3))), expected, 1e-9);
  EXPECT_NEAR(loss.value_from_logits(view(z), view(sparse(labels))), expected, 1e-9);

  // dL/dz = (softmax(z) - y) / batch, for one-hot and sparse targets alike.
  std::vector<Real> grad;
  for (std::size_t r = 0; r < 3; ++r) {
    const std::vector<Real> s = reference_softmax(z, r);
    for (std::size_t c = 0; c < 3; ++c) grad.push_back((s[c] - (labels[r] == c ? 1 : 0)) / 3);
  }
  Matrix g = zeros_like(z);
  loss.gradient_from_logits(view(z), view(one_hot(labels, 3)), view(g));
  expect_all_near(g, grad, 1e-7, "cce one-hot gradient from logits");
  loss.gradient_from_logits(view(z), view(sparse(labels)), view(g));
  expect_all_near(g, grad, 1e-7, "cce sparse gradient from logits");
}

TEST(LossCategoricalCrossEntropy, GradientFromLogitsMatchesFiniteDifferences) {
  Matrix z = {{1.0f, -0.5f, 0.25f}, {-1.0f, 0.0f, 1.5f}};
  const CategoricalCrossEntropy loss;
  const Matrix one_hot_targets = one_hot({2, 0}, 3);
  const Matrix sparse_targets = sparse({2, 0});
  // Soft targets; the second row sums to 0.5, which the documented gradient
  // softmax(z) sum(y) - y covers (the sum(y) factor is otherwise invisible).
  const Matrix soft_targets = {{0.2f, 0.5f, 0.3f}, {0.1f, 0.2f, 0.2f}};
  for (const Matrix* y : {&one_hot_targets, &sparse_targets, &soft_targets}) {
    Matrix g = zeros_like(z);
    loss.gradient_from_logits(view(z), view(*y), view(g));
    xdense::testing::expect_gradient_matches(
        z.data(), g.data(), z.size(), [&] { return loss.value_from_logits(view(z), view(*y)); },
        "cce dL/dz, targets of " + std::to_string(y->shape(1)) + " columns");
  }
}

TEST(LossCategoricalCrossEntropy, HugeLogitsStayFinite) {
  // Per row logsumexp(z) - z_label:
  //   {1e4, -1e4} label 1 -> 1e4 - (-1e4) = 2e4 (softmax (1, 0), gradient (1, -1) / batch)
  //   {1e4, -1e4, 0} label 2 -> 1e4 - 0 = 1e4 (softmax (1, 0, 0), gradient (1, 0, -1) / batch)
  const CategoricalCrossEntropy loss;
  const Matrix two = {{1e4f, -1e4f}};
  ASSERT_TRUE(std::isfinite(loss.value_from_logits(view(two), view(sparse({1})))));
  EXPECT_NEAR(loss.value_from_logits(view(two), view(sparse({1}))), 2e4, 1e-8);
  EXPECT_NEAR(loss.value_from_logits(view(two), view(one_hot({1}, 2))), 2e4, 1e-8);
  Matrix g2 = zeros_like(two);
  loss.gradient_from_logits(view(two), view(sparse({1})), view(g2));
  expect_all_near(g2, {1.0L, -1.0L}, 1e-7, "cce gradient {1e4, -1e4}");

  const Matrix mixed = {{1e4f, -1e4f, 0.0f}, {-1e4f, 0.0f, 1e4f}};
  const double v = loss.value_from_logits(view(mixed), view(sparse({2, 2})));
  ASSERT_TRUE(std::isfinite(v));
  EXPECT_NEAR(v, (1e4 + 0.0) / 2.0, 1e-8);  // second row: label is the max, loss 0
  Matrix g3 = zeros_like(mixed);
  loss.gradient_from_logits(view(mixed), view(sparse({2, 2})), view(g3));
  expect_all_near(g3, {0.5L, 0.0L, -0.5L, 0.0L, 0.0L, 0.0L}, 1e-7, "cce gradient mixed");
}

TEST(LossSparseCategoricalCrossEntropy, MatchesCategoricalWithIndices) {
  const auto loss = make_loss("sparse_categorical_crossentropy");
  EXPECT_EQ(loss->name(), "sparse_categorical_crossentropy");
  Matrix p = {{0.3f, 0.5f, 0.2f}, {0.6f, 0.25f, 0.15f}};
  const std::vector<std::size_t> labels = {1, 2};
  const Matrix y = sparse(labels);
  EXPECT_NEAR(loss->value(view(p), view(y)), double(reference_cce(p, one_hot(labels, 3))), 1e-9);
  Matrix g = zeros_like(p);
  loss->gradient(view(p), view(y), view(g));
  xdense::testing::expect_gradient_matches(
      p.data(), g.data(), p.size(), [&] { return loss->value(view(p), view(y)); }, "sparse cce dL/dp");

  Matrix z = {{0.5f, -0.5f, 1.0f}, {2.0f, 0.0f, -1.0f}};
  EXPECT_NEAR(loss->value_from_logits(view(z), view(y)), double(reference_cce_of_logits(z, one_hot(labels, 3))), 1e-9);
  loss->gradient_from_logits(view(z), view(y), view(g));
  xdense::testing::expect_gradient_matches(
      z.data(), g.data(), z.size(), [&] { return loss->value_from_logits(view(z), view(y)); }, "sparse cce dL/dz");
}

// ---- fusion and compatibility checks ----------------------------------------------------------

// ---- the training step's one-pass loss and gradient -----------------------------------------

// value_and_gradient_from_logits() (what Sequential::train_step calls) gives the loss
// of value_from_logits() up to float rounding of each term (it sums float terms in
// double; the reference is double) and the gradient of the formula within float error.
TEST(LossFromLogitsInOnePass, AgreesWithTheSeparateCalls) {
  Rng rng(77);
  for (std::size_t rows : {1, 7, 8, 32, 129}) {
    for (std::size_t units : {1, 3, 10}) {
      Matrix z = Matrix::from_shape({rows, units});
      for (float& v : z) v = static_cast<float>(rng.normal() * 6.0);
      z.data()[0] = rows > 1 ? 1e4f : z.data()[0];  // far out: finite, exact
      Matrix dense_targets = Matrix::from_shape({rows, units});
      Matrix class_targets = Matrix::from_shape({rows, 1});
      for (std::size_t r = 0; r < rows; ++r) {
        const std::size_t target = rng.below(units);
        class_targets(r, 0) = static_cast<float>(target);
        for (std::size_t c = 0; c < units; ++c) {
          dense_targets(r, c) = units == 1 ? static_cast<float>(rng.uniform(0.0, 1.0)) : (c == target ? 1.0f : 0.0f);
        }
      }
      const BinaryCrossEntropy bce;
      const CategoricalCrossEntropy cce;
      std::vector<std::pair<const Loss*, const Matrix*>> cases{{&bce, &dense_targets}};
      if (units > 1) cases = {{&cce, &dense_targets}, {&cce, &class_targets}};
      for (const auto& [loss, targets] : cases) {
        const std::string what = loss->name() + " rows " + std::to_string(rows) + " units " + std::to_string(units) +
                                 (targets->shape(1) == 1 ? " sparse" : "");
        Matrix one_pass = zeros_like(z);
        const double value = loss->value_and_gradient_from_logits(view(z), view(*targets), view(one_pass));
        const double reference = loss->value_from_logits(view(z), view(*targets));
        EXPECT_NEAR(value, reference, 4e-7 * std::fabs(reference) + 1e-7) << what;
        // The gradient against the formula in long double: (sigmoid(z) - y) / (rows units)
        // for BCE, (softmax(z) sum(y) - y) / rows per row for CCE.
        for (std::size_t r = 0; r < rows; ++r) {
          Real max = z(r, 0), exp_sum = 0, target_sum = 0;
          for (std::size_t c = 0; c < units; ++c) max = std::max<Real>(max, z(r, c));
          for (std::size_t c = 0; c < units; ++c) exp_sum += std::exp(Real(z(r, c)) - max);
          for (std::size_t c = 0; c < units; ++c) {
            const bool sparse = targets->shape(1) == 1 && units > 1;
            const Real t = sparse ? (std::size_t((*targets)(r, 0)) == c ? 1 : 0) : Real((*targets)(r, c));
            target_sum += t;
          }
          for (std::size_t c = 0; c < units; ++c) {
            const bool sparse = targets->shape(1) == 1 && units > 1;
            const Real t = sparse ? (std::size_t((*targets)(r, 0)) == c ? 1 : 0) : Real((*targets)(r, c));
            const Real want = units == 1 ? (reference_sigmoid(z(r, c)) - t) / Real(rows)
                                         : (std::exp(Real(z(r, c)) - max) / exp_sum * target_sum - t) / Real(rows);
            ASSERT_NEAR(double(one_pass(r, c)), double(want), 3e-7 / double(rows)) << what << " at " << r << "," << c;
          }
        }
      }
    }
  }
}

// Issue 11: the losses from logits, and their gradients, are finite for any finite logits.
// Each term is at most about |z| (<= FLT_MAX), but a sum of such terms is not a float: the
// extremes here are the largest floats of both signs, many of them (more than a 128-element
// chunk of the BCE pass), next to subnormals and ordinary values. References: the
// formulas in long double, max(z, 0) - z y + log(1 + e^-|z|) and logsumexp(z) - z_label.
TEST(LossFromLogits, AnyFiniteLogitsGiveAFiniteLossAndGradient) {
  constexpr float big = std::numeric_limits<float>::max();
  constexpr float tiny = std::numeric_limits<float>::denorm_min();
  const std::vector<float> extremes = {big, -big, 3e38f, -3e38f, 1e38f, -1e38f, tiny, -tiny, 0.0f, 1.5f, -2.0f};
  Rng rng(11);
  // Binary cross-entropy: every extreme with targets 0, 1 and 0.5, in batches up to 300.
  for (std::size_t n : {1, 7, 128, 300}) {
    for (float target : {0.0f, 1.0f, 0.5f}) {
      Matrix z = Matrix::from_shape({n, std::size_t{1}});
      Matrix y = Matrix::from_shape({n, std::size_t{1}});
      for (std::size_t i = 0; i < n; ++i) {
        z.data()[i] = n == 1 ? big : extremes[rng.below(extremes.size())];
        y.data()[i] = target;
      }
      Real reference = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const Real v = z.data()[i], t = y.data()[i];
        reference += std::max(v, Real(0)) - v * t + std::log1p(std::exp(-std::abs(v)));
      }
      reference /= Real(n);
      const BinaryCrossEntropy bce;
      const std::string what = "bce n=" + std::to_string(n) + " y=" + std::to_string(target);
      Matrix g = zeros_like(z);
      const double one_pass = bce.value_and_gradient_from_logits(view(z), view(y), view(g));
      const double separate = bce.value_from_logits(view(z), view(y));
      for (double value : {one_pass, separate}) {
        ASSERT_TRUE(std::isfinite(value)) << what;
        EXPECT_NEAR(value, double(reference), 1e-6 * double(reference) + 1e-7) << what;
      }
      for (std::size_t i = 0; i < n; ++i) {
        const Real want = (reference_sigmoid(z.data()[i]) - y.data()[i]) / Real(n);
        ASSERT_NEAR(double(g.data()[i]), double(want), 3e-7 / double(n)) << what << " at " << i;
      }
    }
  }
  // Categorical cross-entropy: rows mixing the extremes, sparse, one-hot and soft targets.
  const std::vector<std::vector<float>> rows = {
      {big, -big}, {-big, big, -big}, {big, big, -big}, {-big, -big, -big}, {big, tiny, -tiny, 0.0f, -1e38f}};
  for (const auto& row : rows) {
    const std::size_t units = row.size();
    for (std::size_t label = 0; label < units; ++label) {
      Matrix z = Matrix::from_shape({std::size_t{3}, units});
      for (std::size_t r = 0; r < 3; ++r)
        for (std::size_t c = 0; c < units; ++c) z(r, c) = row[(c + r) % units];
      Matrix soft = Matrix::from_shape({std::size_t{3}, units});
      for (std::size_t r = 0; r < 3; ++r)
        for (std::size_t c = 0; c < units; ++c) soft(r, c) = r == 2 ? 1.0f / float(units) : (c == label ? 1.0f : 0.0f);
      const Matrix labels = sparse({label, label, label});
      const CategoricalCrossEntropy cce;
      for (const Matrix* targets : std::vector<const Matrix*>{&labels, &soft}) {
        const bool is_sparse = targets == &labels;
        const std::string what = "cce row of " + std::to_string(units) + " label " + std::to_string(label) +
                                 (is_sparse ? " sparse" : " dense");
        Real reference = 0;
        std::vector<Real> want(z.size());
        for (std::size_t r = 0; r < 3; ++r) {
          Real m = z(r, 0), exp_sum = 0, target_sum = 0;
          for (std::size_t c = 0; c < units; ++c) m = std::max<Real>(m, z(r, c));
          for (std::size_t c = 0; c < units; ++c) exp_sum += std::exp(Real(z(r, c)) - m);
          const Real lse = m + std::log(exp_sum);
          for (std::size_t c = 0; c < units; ++c) {
            const Real t = is_sparse ? (c == label ? 1 : 0) : Real((*targets)(r, c));
            reference += t * (lse - Real(z(r, c)));
            target_sum += t;
          }
          for (std::size_t c = 0; c < units; ++c) {
            const Real t = is_sparse ? (c == label ? 1 : 0) : Real((*targets)(r, c));
            want[r * units + c] = (std::exp(Real(z(r, c)) - m) / exp_sum * target_sum - t) / 3;
          }
        }
        reference /= 3;
        Matrix g = zeros_like(z);
        const double one_pass = cce.value_and_gradient_from_logits(view(z), view(*targets), view(g));
        const double separate = cce.value_from_logits(view(z), view(*targets));
        for (double value : {one_pass, separate}) {
          ASSERT_TRUE(std::isfinite(value)) << what;
          EXPECT_NEAR(value, double(reference), 1e-6 * double(reference) + 1e-6) << what;
        }
        for (std::size_t i = 0; i < z.size(); ++i) {
          ASSERT_NEAR(double(g.data()[i]), double(want[i]), 1e-7) << what << " at " << i;
        }
      }
    }
  }
}

TEST(LossFromLogitsInOnePass, LossesWithoutLogitsFormThrow) {
  const Matrix z = {{0.5f}};
  Matrix g = zeros_like(z);
  EXPECT_THROW(MeanSquaredError().value_and_gradient_from_logits(view(z), view(z), view(g)), StateError);
}

TEST(LossChecks, FusesOnlySigmoidWithBceAndSoftmaxWithCce) {
  const BinaryCrossEntropy bce;
  const CategoricalCrossEntropy cce;
  const CategoricalCrossEntropy sparse_cce(true);
  const Sigmoid sigmoid;
  const Softmax softmax;
  const ReLU relu;
  const Linear linear;
  const Tanh tanh_layer;
  EXPECT_TRUE(bce.fuses_with(sigmoid));
  EXPECT_FALSE(bce.fuses_with(softmax));
  EXPECT_FALSE(bce.fuses_with(relu));
  EXPECT_FALSE(bce.fuses_with(linear));
  EXPECT_FALSE(bce.fuses_with(tanh_layer));
  EXPECT_TRUE(cce.fuses_with(softmax));
  EXPECT_TRUE(sparse_cce.fuses_with(softmax));
  EXPECT_FALSE(cce.fuses_with(sigmoid));
  EXPECT_FALSE(cce.fuses_with(relu));
  EXPECT_FALSE(cce.fuses_with(linear));
}

TEST(LossChecks, CheckOutputRejectsMismatchedOutputLayers) {
  const BinaryCrossEntropy bce;
  const CategoricalCrossEntropy cce;
  const Sigmoid sigmoid;
  const Softmax softmax;

  std::string m = message_of<InvalidArgument>([&] { cce.check_output(1, &softmax); });
  EXPECT_TRUE(contains(m, "categorical_crossentropy"));
  EXPECT_TRUE(contains(m, "at least 2"));
  EXPECT_TRUE(contains(m, "received 1"));

  m = message_of<InvalidArgument>([&] { bce.check_output(3, &softmax); });
  EXPECT_TRUE(contains(m, "binary_crossentropy"));
  EXPECT_TRUE(contains(m, "expected a sigmoid"));
  EXPECT_TRUE(contains(m, "received softmax"));

  m = message_of<InvalidArgument>([&] { cce.check_output(3, &sigmoid); });
  EXPECT_TRUE(contains(m, "expected a softmax"));
  EXPECT_TRUE(contains(m, "received sigmoid"));

  // Valid pairings, and outputs that are not activations, pass.
  EXPECT_NO_THROW(bce.check_output(1, &sigmoid));
  EXPECT_NO_THROW(bce.check_output(4, &sigmoid));  // multi-label
  EXPECT_NO_THROW(bce.check_output(1, nullptr));
  EXPECT_NO_THROW(cce.check_output(3, &softmax));
  EXPECT_NO_THROW(cce.check_output(2, nullptr));
  EXPECT_NO_THROW(MeanSquaredError().check_output(1, &softmax));
}

TEST(LossChecks, CheckTargetsRejectsBadClassIndices) {
  const CategoricalCrossEntropy cce;
  const Matrix out_of_range = {{0.0f}, {3.0f}};
  std::string m = message_of<DataError>([&] { cce.check_targets(view(out_of_range), 3); });
  EXPECT_TRUE(contains(m, "0..2"));
  EXPECT_TRUE(contains(m, "received 3"));
  EXPECT_TRUE(contains(m, "row 1"));

  const Matrix fractional = {{1.5f}};
  m = message_of<DataError>([&] { cce.check_targets(view(fractional), 3); });
  EXPECT_TRUE(contains(m, "received 1.5"));
  EXPECT_TRUE(contains(m, "row 0"));

  const Matrix negative = {{1.0f}, {2.0f}, {-1.0f}};
  m = message_of<DataError>([&] { cce.check_targets(view(negative), 3); });
  EXPECT_TRUE(contains(m, "received -1"));
  EXPECT_TRUE(contains(m, "row 2"));

  const Matrix not_a_number = {{std::nanf("")}};
  EXPECT_THROW(cce.check_targets(view(not_a_number), 3), DataError);

  EXPECT_NO_THROW(cce.check_targets(view(sparse({0, 1, 2})), 3));
  EXPECT_NO_THROW(cce.check_targets(view(one_hot({0, 2}, 3)), 3));
}

TEST(LossChecks, CheckTargetsRejectsBinaryTargetsOutsideUnitInterval) {
  const BinaryCrossEntropy bce;
  const Matrix two = {{0.0f}, {1.0f}, {2.0f}};
  const std::string m = message_of<DataError>([&] { bce.check_targets(view(two), 1); });
  EXPECT_TRUE(contains(m, "[0, 1]"));
  EXPECT_TRUE(contains(m, "received 2"));
  EXPECT_TRUE(contains(m, "row 2"));
  const Matrix negative = {{-0.5f}};
  EXPECT_THROW(bce.check_targets(view(negative), 1), DataError);
  const Matrix soft = {{0.0f, 0.25f}, {1.0f, 0.5f}};
  EXPECT_NO_THROW(bce.check_targets(view(soft), 2));
}

TEST(LossChecks, CheckTargetsRejectsShapeMismatch) {
  const BinaryCrossEntropy bce;
  const CategoricalCrossEntropy cce;
  const CategoricalCrossEntropy sparse_cce(true);
  const MeanSquaredError mse;

  const Matrix two_columns = {{0.0f, 1.0f}, {1.0f, 0.0f}};
  std::string m = message_of<ShapeError>([&] { bce.check_targets(view(two_columns), 1); });
  EXPECT_TRUE(contains(m, "1 columns"));
  EXPECT_TRUE(contains(m, "(2, 2)"));

  m = message_of<ShapeError>([&] { cce.check_targets(view(two_columns), 3); });
  EXPECT_TRUE(contains(m, "3 columns"));
  EXPECT_TRUE(contains(m, "(2, 2)"));

  EXPECT_THROW(mse.check_targets(view(two_columns), 3), ShapeError);

  // The sparse-only loss refuses one-hot targets and says it wants (batch, 1).
  m = message_of<ShapeError>([&] { sparse_cce.check_targets(view(one_hot({0, 2}, 3)), 3); });
  EXPECT_TRUE(contains(m, "(2, 1)"));
  EXPECT_TRUE(contains(m, "(2, 3)"));
  EXPECT_NO_THROW(sparse_cce.check_targets(view(sparse({0, 2})), 3));

  // value() itself refuses targets with a different number of rows.
  const Matrix p = {{0.2f, 0.3f, 0.5f}, {0.1f, 0.1f, 0.8f}};
  const Matrix three_rows = sparse({0, 1, 2});
  EXPECT_THROW(cce.value(view(p), view(three_rows)), ShapeError);
}

// ---- registry ----------------------------------------------------------------------------

TEST(LossRegistry, NamesAndAliases) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"mean_squared_error", "mean_squared_error"},
      {"mse", "mean_squared_error"},
      {"binary_crossentropy", "binary_crossentropy"},
      {"bce", "binary_crossentropy"},
      {"categorical_crossentropy", "categorical_crossentropy"},
      {"cce", "categorical_crossentropy"},
      {"sparse_categorical_crossentropy", "sparse_categorical_crossentropy"},
  };
  for (const auto& [given, canonical] : cases) {
    const std::unique_ptr<Loss> loss = make_loss(given);
    ASSERT_NE(loss, nullptr) << given;
    EXPECT_EQ(loss->name(), canonical) << given;
  }
  EXPECT_NE(dynamic_cast<MeanSquaredError*>(make_loss("mse").get()), nullptr);
  EXPECT_NE(dynamic_cast<BinaryCrossEntropy*>(make_loss("bce").get()), nullptr);
  EXPECT_NE(dynamic_cast<CategoricalCrossEntropy*>(make_loss("cce").get()), nullptr);

  const std::vector<std::string> names = loss_names();
  // Sorted, as every registry lists its names.
  // The losses of this header; the others (tests/losses/) are registered too.
  for (const std::string name : {"binary_crossentropy", "categorical_crossentropy", "mean_squared_error",
                                 "sparse_categorical_crossentropy"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
  }
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  for (const auto& n : names) EXPECT_EQ(make_loss(n)->name(), n);
}

TEST(LossRegistry, UnknownNameListsKnownNames) {
  const std::string m = message_of<InvalidArgument>([] { make_loss("hinge_embedding"); });
  EXPECT_TRUE(contains(m, "'hinge_embedding'"));
  for (const auto& n : loss_names()) EXPECT_TRUE(contains(m, n));
  EXPECT_THROW(make_loss(""), InvalidArgument);
}

}  // namespace
}  // namespace xdense

namespace xdense {
namespace {

// Keras clips q = p / sum(p) to [1e-7, 1 - 1e-7] and clip's gradient is 0: a row
// whose only target probability is clipped contributes no gradient, consistent
// with value() being flat there.
TEST(CategoricalCrossEntropyClipping, ClippedTargetProbabilityGivesZeroGradient) {
  const CategoricalCrossEntropy loss;
  const float p[] = {1e-9f, 0.5f, 0.5f, 0.2f, 0.3f, 0.5f};
  const float y[] = {0.0f, 1.0f};  // sparse: row 0 -> class 0 (clipped), row 1 -> class 1
  float g[6];
  loss.gradient({p, 2, 3}, {y, 2, 1}, {g, 2, 3});
  for (int c = 0; c < 3; ++c) EXPECT_EQ(g[c], 0.0f) << c;
  // Row 1 unclipped: dL/dp_j = (1/s - [j==1]/p_1) / batch with s = 1, batch = 2.
  EXPECT_NEAR(g[3], 0.5, 1e-6);
  EXPECT_NEAR(g[4], (1.0 - 1.0 / 0.3) / 2.0, 1e-5);
  EXPECT_NEAR(g[5], 0.5, 1e-6);
}

}  // namespace
}  // namespace xdense

// ---- label smoothing ---------------------------------------------------------------------
// Keras: binary y' = y (1 - ls) + ls / 2; categorical y' = y (1 - ls) + ls / K over K classes.
// The references below are the unsmoothed formulas above applied to y', in long double, with y'
// rounded to float (xdense smooths in double): values agree to ~1e-7 relative, not 1e-9.

namespace xdense {
namespace {

Matrix smoothed(const Matrix& y, Real keep, Real add) {
  Matrix out = y;
  for (float& v : out) v = static_cast<float>(Real(v) * keep + add);
  return out;
}

TEST(LossLabelSmoothing, BinaryValuesAndGradientsUseSmoothedTargets) {
  const Real ls = 0.2L;
  const Matrix y = {{1.0f, 0.0f, 1.0f}, {0.0f, 1.0f, 0.25f}};
  const Matrix ys = smoothed(y, 1 - ls, ls / 2);  // 0.9, 0.1, 0.9 / 0.1, 0.9, 0.3
  const BinaryCrossEntropy loss{double(ls)};
  EXPECT_EQ(loss.label_smoothing(), double(ls));

  Matrix p = {{0.7f, 0.2f, 0.95f}, {0.4f, 0.6f, 0.5f}};
  EXPECT_NEAR(loss.value(view(p), view(y)), double(reference_bce(p, ys)), 2e-7);
  Matrix g = zeros_like(p);
  loss.gradient(view(p), view(y), view(g));
  xdense::testing::expect_gradient_matches(
      p.data(), g.data(), p.size(), [&] { return loss.value(view(p), view(y)); }, "smoothed bce dL/dp", 1e-3);

  // From logits: value and gradient sigmoid(z) - y', in both the separate and the one-pass calls.
  Matrix z = {{2.0f, -1.5f, 0.3f}, {-0.7f, 4.0f, 0.0f}};
  EXPECT_NEAR(loss.value_from_logits(view(z), view(y)), double(reference_bce_of_logits(z, ys)), 2e-7);
  Matrix gz = zeros_like(z), g1 = zeros_like(z);
  loss.gradient_from_logits(view(z), view(y), view(gz));
  const double one_pass = loss.value_and_gradient_from_logits(view(z), view(y), view(g1));
  EXPECT_NEAR(one_pass, double(reference_bce_of_logits(z, ys)), 1e-6);
  std::vector<Real> expected;
  for (std::size_t i = 0; i < z.size(); ++i) expected.push_back((reference_sigmoid(z.data()[i]) - ys.data()[i]) / 6);
  expect_all_near(gz, expected, 1e-7, "smoothed bce dL/dz");
  expect_all_near(g1, expected, 1e-7, "smoothed bce one-pass dL/dz");
  xdense::testing::expect_gradient_matches(
      z.data(), gz.data(), z.size(), [&] { return loss.value_from_logits(view(z), view(y)); },
      "smoothed bce dL/dz");
}

TEST(LossLabelSmoothing, CategoricalOneHotAndIndexTargetsAgree) {
  const Real ls = 0.1L;
  const std::vector<std::size_t> labels = {2, 0, 1};
  const Matrix hot = one_hot(labels, 4);
  const Matrix indices = sparse(labels);
  const Matrix ys = smoothed(hot, 1 - ls, ls / 4);  // 0.925 on the class, 0.025 elsewhere
  const CategoricalCrossEntropy loss{false, double(ls)};

  Matrix z = {{0.5f, -1.0f, 2.0f, 0.1f}, {3.0f, 0.2f, -0.4f, 1.0f}, {-2.0f, -0.5f, 0.7f, 0.0f}};
  const double want = double(reference_cce_of_logits(z, ys));
  for (const Matrix* y : {&hot, &indices}) {
    const std::string what = y == &hot ? "one-hot" : "indices";
    EXPECT_NEAR(loss.value_from_logits(view(z), view(*y)), want, 2e-7) << what;
    Matrix g = zeros_like(z), g1 = zeros_like(z);
    loss.gradient_from_logits(view(z), view(*y), view(g));
    EXPECT_NEAR(loss.value_and_gradient_from_logits(view(z), view(*y), view(g1)), want, 1e-6) << what;
    std::vector<Real> expected;  // (softmax(z) - y') / batch
    for (std::size_t r = 0; r < 3; ++r) {
      const std::vector<Real> s = reference_softmax(z, r);
      for (std::size_t c = 0; c < 4; ++c) expected.push_back((s[c] - Real(ys(r, c))) / 3);
    }
    expect_all_near(g, expected, 1e-7, "smoothed cce dL/dz " + what);
    expect_all_near(g1, expected, 1e-7, "smoothed cce one-pass dL/dz " + what);
    xdense::testing::expect_gradient_matches(
        z.data(), g.data(), z.size(), [&] { return loss.value_from_logits(view(z), view(*y)); },
        "smoothed cce dL/dz " + what);

    // Probabilities: Keras's renormalised, clipped formula on y'.
    Matrix p = {{0.2f, 0.1f, 0.6f, 0.1f}, {0.5f, 0.2f, 0.1f, 0.2f}, {0.05f, 0.15f, 0.7f, 0.1f}};
    EXPECT_NEAR(loss.value(view(p), view(*y)), double(reference_cce(p, ys)), 2e-7) << what;
    Matrix gp = zeros_like(p);
    loss.gradient(view(p), view(*y), view(gp));
    xdense::testing::expect_gradient_matches(
        p.data(), gp.data(), p.size(), [&] { return loss.value(view(p), view(*y)); }, "smoothed cce dL/dp " + what,
        1e-3);
  }
}

TEST(LossLabelSmoothing, SoftTargetsAreSmoothedToo) {
  const Matrix y = {{0.2f, 0.8f, 0.0f}, {0.5f, 0.25f, 0.25f}};
  const Matrix ys = smoothed(y, 0.7L, 0.1L);  // ls = 0.3, K = 3
  const CategoricalCrossEntropy loss(false, 0.3);
  Matrix z = {{1.0f, -0.5f, 0.25f}, {0.0f, 2.0f, -1.0f}};
  EXPECT_NEAR(loss.value_from_logits(view(z), view(y)), double(reference_cce_of_logits(z, ys)), 1e-6);
  Matrix g = zeros_like(z);
  loss.value_and_gradient_from_logits(view(z), view(y), view(g));
  xdense::testing::expect_gradient_matches(
      z.data(), g.data(), z.size(), [&] { return loss.value_from_logits(view(z), view(y)); }, "soft smoothed dL/dz");
}

TEST(LossLabelSmoothing, FullSmoothingGivesUniformTargets) {
  // ls = 1: every binary target becomes 0.5 and every categorical row 1/K, whatever the labels.
  Matrix z = {{1e4f, -3.0f, 0.5f}, {-88.0f, 2.0f, 0.0f}};
  const Matrix y = {{1.0f, 0.0f, 0.5f}, {0.0f, 1.0f, 0.0f}};
  const Matrix halves = {{0.5f, 0.5f, 0.5f}, {0.5f, 0.5f, 0.5f}};
  Matrix a = zeros_like(z), b = zeros_like(z);
  EXPECT_EQ(BinaryCrossEntropy(1.0).value_and_gradient_from_logits(view(z), view(y), view(a)),
            BinaryCrossEntropy().value_and_gradient_from_logits(view(z), view(halves), view(b)));
  EXPECT_TRUE(std::equal(a.begin(), a.end(), b.begin()));

  const Matrix thirds = {{1.0f / 3, 1.0f / 3, 1.0f / 3}, {1.0f / 3, 1.0f / 3, 1.0f / 3}};
  const CategoricalCrossEntropy uniform(false, 1.0);
  const double want = double(reference_cce_of_logits(z, thirds));
  EXPECT_NEAR(uniform.value_from_logits(view(z), view(sparse({0, 1}))), want, 1e-7 * want);
  EXPECT_NEAR(uniform.value_and_gradient_from_logits(view(z), view(y), view(a)), want, 1e-6 * want);
}

TEST(LossLabelSmoothing, ConfigRoundTripsAndDefaultsStayEmpty) {
  // Models saved without smoothing keep the config {} they always had.
  EXPECT_EQ(make_loss("binary_crossentropy")->config(), Config::object());
  EXPECT_EQ(make_loss("categorical_crossentropy")->config(), Config::object());
  EXPECT_EQ(make_loss("sparse_categorical_crossentropy")->config(), Config::object());
  EXPECT_EQ(make_loss("bce", Config{{"label_smoothing", 0.0}})->config(), Config::object());

  for (const std::string name : {"binary_crossentropy", "categorical_crossentropy"}) {
    const Config config = {{"label_smoothing", 0.1}};
    const std::unique_ptr<Loss> loss = make_loss(name, config);
    EXPECT_EQ(loss->config(), config) << name;
    EXPECT_EQ(make_loss(name, loss->config())->config(), config) << name;
    // Keras's own config keys "name" and "reduction" are accepted.
    EXPECT_EQ(make_loss(name, {{"label_smoothing", 0.1}, {"name", name}, {"reduction", "sum_over_batch_size"}})
                  ->config(),
              config);
  }
  EXPECT_EQ(dynamic_cast<CategoricalCrossEntropy&>(*make_loss("cce", {{"label_smoothing", 1.0}})).label_smoothing(),
            1.0);
}

TEST(LossLabelSmoothing, OutOfRangeAndSparseAreRefused) {
  std::string m = message_of<InvalidArgument>([] { BinaryCrossEntropy(1.5); });
  EXPECT_TRUE(contains(m, "binary_crossentropy: label_smoothing must be in [0, 1], received label_smoothing=1.5"))
      << m;
  m = message_of<InvalidArgument>([] { make_loss("cce", {{"label_smoothing", -0.1}}); });
  EXPECT_TRUE(contains(m, "categorical_crossentropy: label_smoothing must be in [0, 1]")) << m;
  m = message_of<InvalidArgument>([] { make_loss("sparse_categorical_crossentropy", {{"label_smoothing", 0.1}}); });
  EXPECT_TRUE(contains(m, "sparse_categorical_crossentropy: takes no label_smoothing")) << m;
  EXPECT_THROW(make_loss("bce", {{"label_smoothing", "0.1"}}), InvalidArgument);
  EXPECT_THROW(make_loss("bce", {{"smoothing", 0.1}}), InvalidArgument);
}

TEST(LossLabelSmoothing, ModelWithSmoothingSavesAndLoads) {
  for (const std::string name : {"binary_crossentropy", "categorical_crossentropy"}) {
    const std::size_t units = name == "binary_crossentropy" ? 1 : 3;
    Sequential model;
    model.add(std::make_unique<Dense>(units)).add(units == 1 ? "sigmoid" : "softmax");
    model.build(2);
    model.compile(make_loss(name, {{"label_smoothing", 0.25}}), make_optimizer("sgd"), {});
    const SavedModel loaded = decode_model(encode_model(model, ModelInfo{}), "memory");
    ASSERT_NE(loaded.model.loss(), nullptr);
    EXPECT_EQ(loaded.model.loss()->name(), name);
    EXPECT_EQ(loaded.model.loss()->config(), Config({{"label_smoothing", 0.25}}));
  }
}

}  // namespace
}  // namespace xdense
