// top_k_accuracy, macro_f1 and weighted_f1 (xdense/metrics/classes.hpp): Keras's docstring examples,
// ties counted by hand, and the F1 scores against xdense's classification_report (metrics.hpp).

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "metrics/metric_test_support.hpp"
#include "xdense/error.hpp"
#include "xdense/metrics.hpp"
#include "xdense/metrics/classes.hpp"

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

// Seeded outputs of `classes` columns with values from a few levels (ties), and class indices
// drawn from classes 0..classes-2 (the last class never true).
struct ClassData {
  Matrix outputs;
  Matrix indices;  // (n, 1)
  Matrix one_hot;  // (n, classes)
};

ClassData class_data(std::size_t n, std::size_t classes, int levels, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> level(0, levels - 1);
  std::uniform_int_distribution<std::size_t> klass(0, classes - 2);
  ClassData d{Matrix::from_shape({n, classes}), Matrix::from_shape({n, 1}), Matrix::from_shape({n, classes})};
  std::fill(d.one_hot.begin(), d.one_hot.end(), 0.0f);
  for (std::size_t r = 0; r < n; ++r) {
    const std::size_t truth = klass(rng);
    d.indices(r, 0) = static_cast<float>(truth);
    d.one_hot(r, truth) = 1.0f;
    for (std::size_t c = 0; c < classes; ++c) {
      d.outputs(r, c) = static_cast<float>(level(rng) + (c == truth ? 1 : 0)) / static_cast<float>(levels);
    }
  }
  return d;
}

TEST(TopKAccuracy, KerasDocstringExamples) {
  // TopKCategoricalAccuracy(k=1): [[0, 0, 1], [0, 1, 0]] vs [[0.1, 0.9, 0.8], [0.05, 0.95, 0]] -> 0.5;
  // SparseTopKCategoricalAccuracy(k=1): [2, 1], same outputs -> 0.5.
  const Matrix p = matrix(2, 3, {0.1f, 0.9f, 0.8f, 0.05f, 0.95f, 0.0f});
  TopKAccuracy top1(1);
  EXPECT_EQ(result_of(top1, p, matrix(2, 3, {0, 0, 1, 0, 1, 0})), 0.5);
  EXPECT_EQ(result_of(top1, p, matrix(2, 1, {2, 1})), 0.5);
  TopKAccuracy top2(2);
  EXPECT_EQ(result_of(top2, p, matrix(2, 1, {2, 1})), 1.0);
}

TEST(TopKAccuracy, TiesAcrossTheKthPlaceAreAllIn) {
  // Row [0.1, 0.3, 0.3, 0.3]: with k = 1 every class scoring 0.3 is "in" (none scores higher),
  // class 0 is not (3 above it); with k = 3, class 0 is still out; with k = 4 it is in.
  const Matrix p =
      matrix(4, 4, {0.1f, 0.3f, 0.3f, 0.3f, 0.1f, 0.3f, 0.3f, 0.3f, 0.1f, 0.3f, 0.3f, 0.3f, 0.1f, 0.3f, 0.3f, 0.3f});
  const Matrix y = matrix(4, 1, {1, 2, 3, 0});
  EXPECT_EQ(result_of(*make_metric("top_k_accuracy", {{"k", 1}}), p, y), 0.75);
  EXPECT_EQ(result_of(*make_metric("top_k_accuracy", {{"k", 3}}), p, y), 0.75);
  EXPECT_EQ(result_of(*make_metric("top_k_accuracy", {{"k", 4}}), p, y), 1.0);
  // A NaN score for the true class is never in; a NaN elsewhere is not above anything.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  TopKAccuracy top1(1);
  EXPECT_EQ(result_of(top1, matrix(2, 3, {nan, 0.2f, 0.1f, nan, 0.2f, 0.1f}), matrix(2, 1, {0, 1})), 0.5);
}

TEST(TopKAccuracy, AgainstARankCountOnTiedScores) {
  const ClassData d = class_data(211, 6, 4, 9);
  for (std::size_t k : {1, 2, 3, 5}) {
    std::size_t hits = 0;
    for (std::size_t r = 0; r < 211; ++r) {
      const std::size_t truth = static_cast<std::size_t>(d.indices(r, 0));
      std::size_t above = 0;  // rank of the true class counting ties in its favour
      for (std::size_t c = 0; c < 6; ++c) above += d.outputs(r, c) > d.outputs(r, truth);
      hits += above < k;
    }
    TopKAccuracy top(k);
    EXPECT_EQ(result_of(top, d.outputs, d.indices), static_cast<double>(hits) / 211.0) << k;
    EXPECT_EQ(result_of(top, d.outputs, d.one_hot), static_cast<double>(hits) / 211.0) << k;
    expect_batch_split_invariant(top, d.outputs, d.indices);
  }
}

TEST(ClassF1, HandCounts) {
  // true  0 0 1 1 2 2 ; argmax predictions 0 1 1 1 0 2
  // class 0: TP 1, FP 1, FN 1 -> 2/4; class 1: TP 2, FP 1, FN 0 -> 4/5; class 2: TP 1, FN 1 -> 2/3.
  const Matrix p = matrix(
      6, 3,
      {0.8f, 0.1f, 0.1f, 0.2f, 0.7f, 0.1f, 0.3f, 0.6f, 0.1f, 0.1f, 0.8f, 0.1f, 0.5f, 0.2f, 0.3f, 0.1f, 0.2f, 0.7f});
  const Matrix y = matrix(6, 1, {0, 0, 1, 1, 2, 2});
  ClassF1 macro(ClassF1::Average::macro);
  ClassF1 weighted(ClassF1::Average::weighted);
  EXPECT_NEAR(result_of(macro, p, y), (0.5 + 0.8 + 2.0 / 3.0) / 3.0, 1e-15);
  EXPECT_NEAR(result_of(weighted, p, y), (2 * 0.5 + 2 * 0.8 + 2 * 2.0 / 3.0) / 6.0, 1e-15);
  // A class never true nor predicted counts 0 in the macro mean (Keras), nothing in the weighted one.
  const Matrix p4 = matrix(2, 4, {0.9f, 0.1f, 0.0f, 0.0f, 0.1f, 0.9f, 0.0f, 0.0f});
  const Matrix y4 = matrix(2, 1, {0, 1});
  EXPECT_EQ(result_of(macro, p4, y4), 0.5);
  EXPECT_EQ(result_of(weighted, p4, y4), 1.0);
  // Ties: the first largest output is the prediction.
  EXPECT_EQ(result_of(weighted, matrix(2, 2, {0.5f, 0.5f, 0.5f, 0.5f}), matrix(2, 1, {0, 0})), 1.0);
}

TEST(ClassF1, AgainstClassificationReport) {
  const std::size_t classes = 5;
  const ClassData d = class_data(397, classes, 7, 21);
  std::vector<std::size_t> truth;
  std::vector<std::size_t> predicted;
  for (std::size_t r = 0; r < 397; ++r) {
    truth.push_back(static_cast<std::size_t>(d.indices(r, 0)));
    std::size_t best = 0;  // first largest, as the accuracy and the report's callers
    for (std::size_t c = 1; c < classes; ++c) best = d.outputs(r, c) > d.outputs(r, best) ? c : best;
    predicted.push_back(best);
  }
  const ClassificationReport report = classification_report(truth, predicted, classes);
  double weighted = 0;
  for (const ClassScores& s : report.per_class) weighted += s.f1 * static_cast<double>(s.support);
  weighted /= 397.0;
  ClassF1 macro(ClassF1::Average::macro);
  ClassF1 by_support(ClassF1::Average::weighted);
  EXPECT_NEAR(result_of(macro, d.outputs, d.indices), report.macro_f1, 1e-14);
  EXPECT_NEAR(result_of(by_support, d.outputs, d.indices), weighted, 1e-14);
  EXPECT_NEAR(result_of(macro, d.outputs, d.one_hot), report.macro_f1, 1e-14);
  EXPECT_EQ(report.per_class[4].support, 0u);  // the last class is never true: F1 0 in the mean
  expect_batch_split_invariant(macro, d.outputs, d.indices);
  expect_batch_split_invariant(by_support, d.outputs, d.one_hot);
}

TEST(ClassMetrics, ConfigsRoundTripAndBadConfigsNameTheKey) {
  EXPECT_EQ(make_metric("top_k_accuracy")->config(), Config({{"k", 5}}));  // Keras's default
  expect_round_trip("sparse_top_k_categorical_accuracy", {{"k", 3}}, "top_k_accuracy");
  expect_round_trip("top_k_categorical_accuracy", Config::object(), "top_k_accuracy");
  expect_round_trip("macro_f1", Config::object(), "macro_f1");
  expect_round_trip("weighted_f1", Config::object(), "weighted_f1");
  EXPECT_TRUE(
      contains(config_error("top_k_accuracy", {{"k", 0}}), "top_k_accuracy config: \"k\": expected a positive"));
  EXPECT_TRUE(contains(config_error("top_k_accuracy", {{"k", 2.5}}), "\"k\": expected a positive integer"));
  EXPECT_TRUE(contains(config_error("macro_f1", {{"average", "micro"}}), "macro_f1 config: \"average\": unknown key"));
  EXPECT_TRUE(contains(config_error("weighted_f1", {{"threshold", 0.5}}), "\"threshold\": unknown key"));
}

TEST(ClassMetrics, RefuseOtherModelsAndBadTargets) {
  const auto cce = make_loss("categorical_crossentropy");
  for (const char* name : {"top_k_accuracy", "macro_f1", "weighted_f1"}) {
    auto metric = make_metric(name, std::string(name) == "top_k_accuracy" ? Config({{"k", 2}}) : Config::object());
    EXPECT_NO_THROW(metric->check_model(3, *cce));
    const std::string one = model_error(*metric, 1, "binary_crossentropy");
    EXPECT_TRUE(contains(one, std::string(name) + ": a metric of classes")) << one;
    EXPECT_TRUE(contains(one, "for one unit use precision, recall, f1 or auc")) << one;
    EXPECT_TRUE(contains(model_error(*metric, 3, "huber"), "is a regression loss")) << name;
    const Matrix p = matrix(2, 3, {0.2f, 0.3f, 0.5f, 0.2f, 0.3f, 0.5f});
    const std::string bad = message_of<DataError>([&] { metric->update(view(p), view(matrix(2, 1, {1, 3}))); });
    EXPECT_TRUE(contains(bad, std::string(name) + ": expected class indices 0..2, received 3 at row 1")) << bad;
    EXPECT_TRUE(contains(message_of<ShapeError>([&] {
                           metric->update(view(p), view(matrix(1, 3, {0, 0, 1})));
                         }),
                         "received outputs (2, 3) and targets (1, 3)"));
  }
  // Keras's default k = 5 on 3 classes: every sample would count.
  const std::string k = model_error(TopKAccuracy(), 3, "categorical_crossentropy");
  EXPECT_TRUE(contains(k, "top_k_accuracy: k=5 is more than the model's 3 classes")) << k;
  EXPECT_NO_THROW(TopKAccuracy(3).check_model(3, *cce));
}

}  // namespace
}  // namespace xdense
