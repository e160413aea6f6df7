// precision, recall and f1 at a threshold (xdense/metrics/binary.hpp) against counts made by hand.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "metrics/metric_test_support.hpp"
#include "xdense/error.hpp"
#include "xdense/metrics/binary.hpp"

namespace xdense {
namespace {

using testing::config_error;
using testing::contains;
using testing::expect_batch_split_invariant;
using testing::expect_round_trip;
using testing::matrix;
using testing::message_of;
using testing::model_error;
using testing::result_of;

// p > 0.5 predicts       1    1    0    0    0    1    1     0
// target                 1    0    1    1    0    1    1     0
// -> TP 3 (rows 0, 5, 6), FP 1 (row 1), FN 2 (rows 2, 3), TN 2. Row 2 (p = 0.5) is negative: Keras's >.
const Matrix outputs = matrix(8, 1, {0.9f, 0.6f, 0.5f, 0.4f, 0.2f, 0.7f, 0.55f, 0.1f});
const Matrix targets = matrix(8, 1, {1, 0, 1, 1, 0, 1, 1, 0});

TEST(ThresholdMetrics, HandCountsAtTheDefaultThreshold) {
  Precision precision;
  Recall recall;
  BinaryF1 f1;
  EXPECT_EQ(result_of(precision, outputs, targets), 3.0 / 4.0);
  EXPECT_EQ(precision.true_positives(), 3u);
  EXPECT_EQ(precision.false_positives(), 1u);
  EXPECT_EQ(precision.false_negatives(), 2u);
  EXPECT_EQ(precision.true_negatives(), 2u);
  EXPECT_EQ(result_of(recall, outputs, targets), 3.0 / 5.0);
  // 2 P R / (P + R) = 2 (3/4)(3/5) / (27/20) = 2/3 = 2 TP / (2 TP + FP + FN) = 6/9.
  EXPECT_EQ(result_of(f1, outputs, targets), 6.0 / 9.0);
  EXPECT_NEAR(result_of(f1, outputs, targets), 2 * 0.75 * 0.6 / (0.75 + 0.6), 1e-15);
}

TEST(ThresholdMetrics, OtherThresholds) {
  // > 0.3: rows 0, 1, 2, 3, 5, 6 predicted positive -> TP 5, FP 1, FN 0.
  EXPECT_EQ(result_of(*make_metric("precision", {{"threshold", 0.3}}), outputs, targets), 5.0 / 6.0);
  EXPECT_EQ(result_of(*make_metric("recall", {{"threshold", 0.3}}), outputs, targets), 1.0);
  EXPECT_EQ(result_of(*make_metric("f1", {{"threshold", 0.3}}), outputs, targets), 10.0 / 11.0);
  // > 0.55 with the threshold in float, as Keras's float32 comparison: 0.55f is not above it ->
  // rows 0, 1, 5: TP 2, FP 1.
  EXPECT_EQ(result_of(*make_metric("precision", {{"threshold", 0.55}}), outputs, targets), 2.0 / 3.0);
  EXPECT_EQ(result_of(*make_metric("recall", {{"threshold", 0.55}}), outputs, targets), 2.0 / 5.0);
}

TEST(ThresholdMetrics, ZeroDivisionGivesZeroAndNoSampleNaN) {
  // Threshold 1: nothing is predicted positive: precision 0/0 -> 0, recall 0/5, f1 0/10.
  for (const char* name : {"precision", "recall", "f1"}) {
    auto metric = make_metric(name, {{"threshold", 1.0}});
    EXPECT_TRUE(std::isnan(metric->result())) << name;  // before any sample
    EXPECT_EQ(result_of(*metric, outputs, targets), 0.0) << name;
    // No positive target and none predicted: every ratio 0/0 -> 0.
    EXPECT_EQ(result_of(*metric, matrix(2, 1, {0.1f, 0.2f}), matrix(2, 1, {0, 0})), 0.0) << name;
  }
}

TEST(ThresholdMetrics, SoftTargetsAndNaNOutputs) {
  // A target is positive above 0.5 (xdense's binary accuracy); a NaN output is not above the threshold.
  Recall recall;
  Precision precision;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Matrix p = matrix(4, 1, {0.9f, 0.9f, nan, 0.9f});
  const Matrix y = matrix(4, 1, {0.9f, 0.5f, 1.0f, 0.6f});
  EXPECT_EQ(result_of(recall, p, y), 2.0 / 3.0);     // rows 0, 3 found, row 2 (NaN) missed
  EXPECT_EQ(result_of(precision, p, y), 2.0 / 3.0);  // row 1 (target 0.5) is a false positive
}

TEST(ThresholdMetrics, KerasF1ScoreOnOneUnitWithinItsEpsilon) {
  // Keras's F1Score(threshold=t) on one unit: P = TP/(TP+FP+eps), R = TP/(TP+FN+eps),
  // F1 = 2 P R / (P + R + eps), eps = 1e-7.
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  Matrix p = Matrix::from_shape({300, 1});
  Matrix y = Matrix::from_shape({300, 1});
  for (std::size_t i = 0; i < 300; ++i) {
    y(i, 0) = uniform(rng) < 0.3f ? 1.0f : 0.0f;
    p(i, 0) = 0.6f * uniform(rng) + 0.4f * y(i, 0);
  }
  for (double threshold : {0.2, 0.5, 0.7}) {
    BinaryF1 f1(threshold);
    const double ours = result_of(f1, p, y);
    const double eps = 1e-7;
    const double tp = f1.true_positives();
    const double precision = tp / (tp + f1.false_positives() + eps);
    const double recall = tp / (tp + f1.false_negatives() + eps);
    EXPECT_NEAR(ours, 2 * precision * recall / (precision + recall + eps), 1e-6) << threshold;
    EXPECT_GT(ours, 0.1);
    expect_batch_split_invariant(f1, p, y);
    Precision at(threshold);
    expect_batch_split_invariant(at, p, y);
  }
}

TEST(ThresholdMetrics, ConfigsRoundTripAndBadConfigsNameTheKey) {
  EXPECT_EQ(make_metric("precision")->config(), Config({{"threshold", 0.5}}));
  expect_round_trip("precision", {{"threshold", 0.3}}, "precision");
  expect_round_trip("recall", {{"threshold", 0.0}}, "recall");
  auto f1 = expect_round_trip("f1_score", {{"threshold", 0.7}}, "f1");
  EXPECT_EQ(f1->config(), Config({{"threshold", 0.7}}));

  EXPECT_TRUE(contains(config_error("precision", {{"threshold", 1.5}}),
                       "precision config: \"threshold\": expected a number in [0, 1], received 1.5"));
  EXPECT_TRUE(
      contains(config_error("f1", {{"threshold", "high"}}), "f1 config: \"threshold\": expected a finite number"));
  EXPECT_TRUE(contains(config_error("recall", {{"thresholds", 0.5}}), "recall config: \"thresholds\": unknown key"));
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { Precision(-0.1); }),
                       "precision: threshold must be in [0, 1], received threshold=-0.1"));
}

TEST(ThresholdMetrics, RefuseOtherModelsAndShapes) {
  for (const char* name : {"precision", "recall", "f1"}) {
    auto metric = make_metric(name);
    const auto bce = make_loss("binary_crossentropy");
    EXPECT_NO_THROW(metric->check_model(1, *bce));
    const std::string classes = model_error(*metric, 10, "sparse_categorical_crossentropy");
    EXPECT_TRUE(contains(classes, std::string(name) + ": a binary metric, for one sigmoid output unit")) << classes;
    EXPECT_TRUE(contains(classes,
                         "the model has 10 output units (for classes use macro_f1, weighted_f1 or "
                         "top_k_accuracy)"))
        << classes;
    EXPECT_TRUE(contains(model_error(*metric, 1, "mae"), "the loss 'mean_absolute_error' is a regression loss"));
    const Matrix p = matrix(2, 1, {0, 0});
    const Matrix y = matrix(3, 1, {0, 1, 1});
    EXPECT_TRUE(contains(message_of<ShapeError>([&] { metric->update(view(p), view(y)); }), "targets (3, 1)"));
  }
}

}  // namespace
}  // namespace xdense
