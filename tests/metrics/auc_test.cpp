// auc and pr_auc (xdense/metrics/binary.hpp) against direct computations: a brute-force count over
// every (positive, negative) pair for the ROC AUC, ties counting 1/2, and the step-wise average
// precision recomputed threshold by threshold; on seeded scores with many ties.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <vector>

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

struct Scores {
  Matrix outputs;  // (n, 1)
  Matrix targets;  // (n, 1), 0/1
};

// Scores from only `levels` distinct values (many ties), positives scoring higher on average.
Scores tied_scores(std::size_t n, int levels, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::bernoulli_distribution coin(0.4);
  std::uniform_int_distribution<int> level(0, levels - 1);
  Scores s{Matrix::from_shape({n, 1}), Matrix::from_shape({n, 1})};
  for (std::size_t i = 0; i < n; ++i) {
    const bool positive = coin(rng);
    const int l = std::min(levels - 1, level(rng) + (positive ? levels / 4 : 0));
    s.outputs(i, 0) = static_cast<float>(l) / static_cast<float>(levels - 1);
    s.targets(i, 0) = positive ? 1.0f : 0.0f;
  }
  return s;
}

// Every pair: 2 for a positive above the negative, 1 for a tie; AUC = that / (2 P N).
double brute_force_auc(const Scores& s) {
  const std::size_t n = s.outputs.shape(0);
  std::uint64_t twice = 0;
  std::uint64_t positives = 0;
  std::uint64_t negatives = 0;
  for (std::size_t i = 0; i < n; ++i) {
    positives += s.targets(i, 0) == 1.0f;
    negatives += s.targets(i, 0) == 0.0f;
    if (s.targets(i, 0) != 1.0f) continue;
    for (std::size_t j = 0; j < n; ++j) {
      if (s.targets(j, 0) != 0.0f) continue;
      twice += s.outputs(i, 0) > s.outputs(j, 0) ? 2 : (s.outputs(i, 0) == s.outputs(j, 0) ? 1 : 0);
    }
  }
  return static_cast<double>(twice) / (2.0 * static_cast<double>(positives) * static_cast<double>(negatives));
}

// AP = sum_k (R_k - R_{k-1}) P_k over the distinct scores t_k from the highest down, with
// P_k, R_k the precision and recall of "score >= t_k", each counted over the whole set.
long double direct_average_precision(const Scores& s) {
  const std::size_t n = s.outputs.shape(0);
  std::set<float, std::greater<float>> thresholds;
  std::size_t positives = 0;
  for (std::size_t i = 0; i < n; ++i) {
    thresholds.insert(s.outputs(i, 0));
    positives += s.targets(i, 0) == 1.0f;
  }
  long double ap = 0;
  long double previous_recall = 0;
  for (float t : thresholds) {
    std::size_t above = 0;
    std::size_t true_positives = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (s.outputs(i, 0) >= t) {
        ++above;
        true_positives += s.targets(i, 0) == 1.0f;
      }
    }
    const long double recall = static_cast<long double>(true_positives) / positives;
    ap += (recall - previous_recall) * true_positives / above;
    previous_recall = recall;
  }
  return ap;
}

TEST(RocAuc, ScikitLearnDocstringExample) {
  // roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) = 0.75,
  // average_precision_score(same) = 0.8333...: steps (0.8: R 1/2, P 1), (0.4: P 1/2), (0.35: R 1, P 2/3).
  const Matrix p = matrix(4, 1, {0.1f, 0.4f, 0.35f, 0.8f});
  const Matrix y = matrix(4, 1, {0, 0, 1, 1});
  RocAuc auc;
  PrAuc pr_auc;
  EXPECT_EQ(result_of(auc, p, y), 0.75);
  EXPECT_NEAR(result_of(pr_auc, p, y), 0.5 * 1.0 + 0.5 * 2.0 / 3.0, 1e-15);
}

TEST(RocAuc, EqualsTheBruteForcePairCountWithTies) {
  for (int levels : {3, 11, 1000}) {
    for (std::uint32_t seed : {1u, 2u, 3u}) {
      const Scores s = tied_scores(503, levels, seed);
      RocAuc auc;
      // Same integers, same division: the same bits.
      EXPECT_EQ(result_of(auc, s.outputs, s.targets), brute_force_auc(s)) << levels << " levels, seed " << seed;
      expect_batch_split_invariant(auc, s.outputs, s.targets);
    }
  }
}

TEST(RocAuc, TiesCountHalf) {
  RocAuc auc;
  // One positive tied with one of two negatives, above the other: (1 + 1/2) / 2.
  EXPECT_EQ(result_of(auc, matrix(3, 1, {0.5f, 0.5f, 0.2f}), matrix(3, 1, {1, 0, 0})), 0.75);
  // All scores equal: 1/2.
  EXPECT_EQ(result_of(auc, matrix(4, 1, {0.3f, 0.3f, 0.3f, 0.3f}), matrix(4, 1, {1, 0, 1, 0})), 0.5);
  // Perfectly reversed: 0.
  EXPECT_EQ(result_of(auc, matrix(4, 1, {0.1f, 0.2f, 0.7f, 0.9f}), matrix(4, 1, {1, 1, 0, 0})), 0.0);
}

TEST(PrAuc, EqualsTheDirectStepWiseSum) {
  for (int levels : {3, 11, 1000}) {
    for (std::uint32_t seed : {4u, 5u}) {
      const Scores s = tied_scores(389, levels, seed);
      PrAuc pr_auc;
      EXPECT_NEAR(result_of(pr_auc, s.outputs, s.targets), double(direct_average_precision(s)), 1e-13)
          << levels << " levels, seed " << seed;
      expect_batch_split_invariant(pr_auc, s.outputs, s.targets);
    }
  }
}

TEST(PrAuc, TiedScoresAreOneStep) {
  PrAuc pr_auc;
  // All tied: one step to recall 1 at precision P / n.
  EXPECT_NEAR(result_of(pr_auc, matrix(4, 1, {0.3f, 0.3f, 0.3f, 0.3f}), matrix(4, 1, {1, 0, 0, 0})), 0.25, 1e-15);
  // Only positives: 1.
  EXPECT_EQ(result_of(pr_auc, matrix(2, 1, {0.3f, 0.9f}), matrix(2, 1, {1, 1})), 1.0);
}

TEST(RankingMetrics, UndefinedIsNaN) {
  RocAuc auc;
  PrAuc pr_auc;
  EXPECT_TRUE(std::isnan(auc.result()));  // no sample
  EXPECT_TRUE(std::isnan(pr_auc.result()));
  // One class only: ROC AUC undefined; AP undefined without a positive.
  EXPECT_TRUE(std::isnan(result_of(auc, matrix(2, 1, {0.3f, 0.9f}), matrix(2, 1, {1, 1}))));
  EXPECT_TRUE(std::isnan(result_of(auc, matrix(2, 1, {0.3f, 0.9f}), matrix(2, 1, {0, 0}))));
  EXPECT_TRUE(std::isnan(result_of(pr_auc, matrix(2, 1, {0.3f, 0.9f}), matrix(2, 1, {0, 0}))));
  // A NaN score: no ranking.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(std::isnan(result_of(auc, matrix(3, 1, {0.3f, nan, 0.9f}), matrix(3, 1, {1, 0, 0}))));
  EXPECT_TRUE(std::isnan(result_of(pr_auc, matrix(3, 1, {0.3f, nan, 0.9f}), matrix(3, 1, {1, 0, 0}))));
  // reset() forgets it.
  EXPECT_EQ(result_of(auc, matrix(2, 1, {0.3f, 0.9f}), matrix(2, 1, {0, 1})), 1.0);
}

TEST(RankingMetrics, ConfigModelAndShapeChecks) {
  expect_round_trip("auc", Config::object(), "auc");
  expect_round_trip("pr_auc", Config::object(), "pr_auc");
  EXPECT_TRUE(contains(config_error("auc", {{"num_thresholds", 200}}), "auc config: \"num_thresholds\": unknown key"));
  for (const char* name : {"auc", "pr_auc"}) {
    auto metric = make_metric(name);
    const auto bce = make_loss("binary_crossentropy");
    EXPECT_NO_THROW(metric->check_model(1, *bce));
    const std::string classes = model_error(*metric, 3, "categorical_crossentropy");
    EXPECT_TRUE(contains(classes, std::string(name) + ": a binary metric")) << classes;
    EXPECT_TRUE(contains(classes, "macro_f1, weighted_f1 or top_k_accuracy")) << classes;
    EXPECT_TRUE(contains(model_error(*metric, 1, "mse"), "is a regression loss")) << name;
    const Matrix p = matrix(2, 2, {0, 0, 0, 0});
    const Matrix y = matrix(2, 1, {0, 1});
    EXPECT_TRUE(contains(message_of<ShapeError>([&] { metric->update(view(p), view(y)); }),
                         "expected outputs and targets of shape (batch, 1), received outputs (2, 2)"));
  }
}

}  // namespace
}  // namespace xdense
