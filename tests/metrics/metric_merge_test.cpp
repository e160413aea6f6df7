// Metric::partial_state() / merge(): what data-parallel training does at the end of an epoch. Each
// "process" here is a separate metric object fed its share of the batches; reset() and merge() of
// every process's state in rank order must give the result of one metric that saw every batch:
// exactly for the counts (and auc / pr_auc, which keep every score), to 1e-12 relative for the
// sums of mse, mae, rmse and r2.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "metrics/metric_test_support.hpp"
#include "xdense/error.hpp"
#include "xdense/loss.hpp"

namespace xdense {
namespace {

using testing::contains;
using testing::message_of;
using testing::same_bits;

// A kind of model a metric may be used with: its output units, its loss, and seeded data for it.
struct Kind {
  const char* label;
  std::size_t units;
  const char* loss;
};

constexpr Kind kinds[] = {
    {"binary", 1, "binary_crossentropy"},
    {"classes", 6, "sparse_categorical_crossentropy"},
    {"regression", 3, "mse"},
};

// The metrics whose state is counts or every score (exact), not sums of reals.
bool merges_exactly(const std::string& name) { return name != "mse" && name != "mae" && name != "rmse" && name != "r2"; }

bool accepts(const Metric& metric, const Kind& kind) {
  try {
    metric.check_model(kind.units, *make_loss(kind.loss));
    return true;
  } catch (const InvalidArgument&) {
    return false;
  }
}

struct Batch {
  Matrix outputs;
  Matrix targets;
};

// `count` batches of 0 to 9 rows for a model of `kind`. Binary scores have 2 decimals (ties for
// auc and pr_auc); class targets are indices; regression targets sit far from 0 (offset 100), where
// a merge of means and squared deviations would lose digits if done naively.
std::vector<Batch> random_batches(const Kind& kind, std::size_t count, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::size_t> rows_of(0, 9);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<Batch> batches;
  for (std::size_t b = 0; b < count; ++b) {
    const std::size_t rows = rows_of(rng);
    const std::size_t target_cols = std::string(kind.label) == "classes" ? 1 : kind.units;
    Batch batch{Matrix::from_shape({rows, kind.units}), Matrix::from_shape({rows, target_cols})};
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t c = 0; c < kind.units; ++c) {
        if (std::string(kind.label) == "binary") {
          batch.outputs(r, c) = std::round(unit(rng) * 100.0f) / 100.0f;
          batch.targets(r, c) = static_cast<float>(unit(rng) < 0.4f + 0.4f * batch.outputs(r, c));
        } else if (std::string(kind.label) == "classes") {
          batch.outputs(r, c) = unit(rng);
        } else {
          batch.targets(r, c) = 100.0f + (1.0f + static_cast<float>(c)) * normal(rng);
          batch.outputs(r, c) = batch.targets(r, c) + 0.5f * normal(rng);
        }
      }
      if (std::string(kind.label) == "classes") {
        batch.targets(r, 0) = static_cast<float>(std::uniform_int_distribution<int>(0, 5)(rng));
      }
    }
    batches.push_back(std::move(batch));
  }
  return batches;
}

void feed(Metric& metric, const Batch& batch) {
  metric.update(ConstMatrixView(batch.outputs.data(), batch.outputs.shape(0), batch.outputs.shape(1)),
                ConstMatrixView(batch.targets.data(), batch.targets.shape(0), batch.targets.shape(1)));
}

// Process p of `processes` gets the batches owner[b] == p.
std::vector<std::size_t> round_robin(std::size_t batches, std::size_t processes) {
  std::vector<std::size_t> owner;
  for (std::size_t b = 0; b < batches; ++b) owner.push_back(b % processes);
  return owner;
}

// Contiguous blocks, as fit() shards; process 1 gets nothing.
std::vector<std::size_t> with_an_idle_process(std::size_t batches, std::size_t processes) {
  std::vector<std::size_t> owner;
  for (std::size_t b = 0; b < batches; ++b) {
    const std::size_t p = b * (processes - 1) / batches;
    owner.push_back(p == 0 ? 0 : p + 1);
  }
  return owner;
}

// Feeds each process's metric its batches, exchanges the partial states, and merges them into every
// process's metric (reset() first); each must equal `reference` and all must agree bit for bit.
void expect_merged_equal(const std::string& name, const Config& config, const Kind& kind,
                         const std::vector<Batch>& batches, const std::vector<std::size_t>& owner,
                         std::size_t processes, const std::string& label) {
  auto whole = make_metric(name, config);
  for (const Batch& batch : batches) feed(*whole, batch);
  const double reference = whole->result();

  std::vector<std::unique_ptr<Metric>> parts;
  for (std::size_t p = 0; p < processes; ++p) {
    parts.push_back(make_metric(name, config));
    parts.back()->reset();
  }
  for (std::size_t b = 0; b < batches.size(); ++b) feed(*parts[owner[b]], batches[b]);
  std::vector<std::vector<double>> states;
  for (const auto& part : parts) states.push_back(part->partial_state());

  std::vector<double> results;
  for (const auto& part : parts) {
    part->reset();
    for (const auto& state : states) part->merge(state);
    results.push_back(part->result());
  }
  const std::string where = name + " " + config.dump() + " on " + kind.label + " data, " + label;
  ASSERT_FALSE(std::isnan(reference)) << where;
  for (double result : results) EXPECT_TRUE(same_bits(result, results[0])) << where << ": processes disagree";
  if (merges_exactly(name)) {
    EXPECT_TRUE(same_bits(results[0], reference)) << where;
  } else {
    EXPECT_NEAR(results[0], reference, 1e-12 * std::abs(reference)) << where;
  }
}

void expect_merges(const std::string& name, const Config& config, std::uint32_t seed) {
  auto metric = make_metric(name, config);
  std::size_t used = 0;
  for (const Kind& kind : kinds) {
    if (!accepts(*metric, kind)) continue;
    ++used;
    const auto batches = random_batches(kind, 23, seed);
    for (std::size_t processes : {2, 3}) {
      expect_merged_equal(name, config, kind, batches, round_robin(batches.size(), processes), processes,
                          std::to_string(processes) + " processes, round robin");
      expect_merged_equal(name, config, kind, batches, with_an_idle_process(batches.size(), processes), processes,
                          std::to_string(processes) + " processes, process 1 without samples");
    }
  }
  EXPECT_GT(used, 0u) << name << " accepts none of the test's models";
}

TEST(MetricMerge, EveryRegisteredMetricEqualsOneThatSawEveryBatch) {
  const auto names = metric_names();
  ASSERT_GE(names.size(), 13u);
  std::uint32_t seed = 1;
  for (const std::string& name : names) expect_merges(name, Config::object(), seed++);
}

TEST(MetricMerge, SettingsOtherThanTheDefaults) {
  expect_merges("accuracy", Config({{"threshold", 0.3}}), 41);
  expect_merges("precision", Config({{"threshold", 0.7}}), 42);
  expect_merges("f1", Config({{"threshold", 0.25}}), 43);
  expect_merges("top_k_accuracy", Config({{"k", 2}}), 44);
  expect_merges("r2", Config({{"class_aggregation", "variance_weighted_average"}, {"num_regressors", 2}}), 45);
}

TEST(MetricMerge, StatesWithoutSamplesGiveNaNAsOneEmptyMetric) {
  for (const std::string& name : metric_names()) {
    auto a = make_metric(name);
    auto b = make_metric(name);
    a->reset();
    b->reset();
    const auto state = b->partial_state();
    a->reset();
    a->merge(state);
    a->merge(state);
    EXPECT_TRUE(std::isnan(a->result())) << name;
  }
}

TEST(MetricMerge, MergeAddsToTheSamplesAlreadySeen) {
  // Not only after reset(): merge() adds to what update() counted.
  const Kind& kind = kinds[0];
  const auto batches = random_batches(kind, 6, 7);
  auto whole = make_metric("auc");
  auto mine = make_metric("auc");
  auto other = make_metric("auc");
  for (std::size_t b = 0; b < batches.size(); ++b) {
    feed(*whole, batches[b]);
    feed(b < 3 ? *mine : *other, batches[b]);
  }
  mine->merge(other->partial_state());
  EXPECT_TRUE(same_bits(mine->result(), whole->result()));
}

TEST(MetricMerge, AWrongSizedStateIsRefusedAndChangesNothing) {
  std::uint32_t seed = 100;
  for (const std::string& name : metric_names()) {
    auto metric = make_metric(name);
    const Kind* kind = nullptr;
    for (const Kind& k : kinds) {
      if (!kind && accepts(*metric, k)) kind = &k;
    }
    ASSERT_NE(kind, nullptr) << name;
    const auto batches = random_batches(*kind, 4, seed++);
    for (const Batch& batch : batches) feed(*metric, batch);
    const double before = metric->result();
    std::vector<double> state = metric->partial_state();
    state.push_back(1.0);
    const std::string message = message_of<InvalidArgument>([&] { metric->merge(state); });
    EXPECT_TRUE(contains(message, name + ": merge() expected")) << message;
    EXPECT_TRUE(contains(message, "received")) << message;
    EXPECT_TRUE(same_bits(metric->result(), before)) << name << " changed by a refused merge";
  }
}

TEST(MetricMerge, MessagesSayWhatWasExpected) {
  auto accuracy = make_metric("accuracy");
  EXPECT_EQ(message_of<InvalidArgument>([&] { accuracy->merge({1, 2, 3}); }),
            "accuracy: merge() expected a partial state of 2 values [correct, samples] (partial_state() of a "
            "'accuracy' metric), received 3");
  EXPECT_TRUE(contains(message_of<InvalidArgument>([&] { accuracy->merge({5, 3}); }), "correct <= samples"));
  EXPECT_TRUE(contains(message_of<InvalidArgument>([&] { accuracy->merge({1.5, 3}); }),
                       "a count (a whole number >= 0) for correct at index 0"));
  auto mse = make_metric("mse");
  EXPECT_TRUE(contains(message_of<InvalidArgument>([&] { mse->merge({1.0, -2.0}); }), "for values at index 1"));
  auto auc = make_metric("auc");
  EXPECT_TRUE(contains(message_of<InvalidArgument>([&] { auc->merge({0.5, 2.0}); }), "a label 0 or 1 at index 1"));
  // A macro_f1 state of 2 classes into a metric that counted 6: another model's metric.
  auto f1 = make_metric("macro_f1");
  for (const Batch& batch : random_batches(kinds[1], 3, 5)) feed(*f1, batch);
  EXPECT_TRUE(contains(message_of<InvalidArgument>([&] { f1->merge({1, 1, 0, 1, 0, 1, 0}); }),
                       "expected a partial state of 6 classes as this metric's samples, received one of 2"));
  EXPECT_TRUE(contains(message_of<InvalidArgument>([&] { f1->merge({3, 1, 0, 1, 0, 1, 0}); }),
                       "adding up to the 3 samples"));
  auto r2 = make_metric("r2");
  for (const Batch& batch : random_batches(kinds[2], 3, 5)) feed(*r2, batch);
  EXPECT_TRUE(contains(message_of<InvalidArgument>([&] { r2->merge({2, 0.5, 1.0, 0.25}); }),
                       "expected a partial state of 3 output columns as this metric's samples, received one of 1"));
}

// A user's metric that overrides neither partial_state() nor merge().
class CountRows final : public Metric {
 public:
  std::string name() const override { return "count_rows"; }
  void reset() override { rows_ = 0; }
  void update(ConstMatrixView outputs, ConstMatrixView) override { rows_ += outputs.rows; }
  double result() const override { return static_cast<double>(rows_); }

 private:
  std::size_t rows_ = 0;
};

TEST(MetricMerge, AUserMetricWithoutOverridesCannotBeMerged) {
  CountRows metric;
  EXPECT_TRUE(metric.partial_state().empty());
  const std::string message = message_of<StateError>([&] { metric.merge({}); });
  EXPECT_TRUE(contains(message, "'count_rows'")) << message;
  EXPECT_TRUE(contains(message, "Metric::partial_state() and Metric::merge()")) << message;
}

}  // namespace
}  // namespace xdense
