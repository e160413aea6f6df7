// Tests of the metrics side of include/xdense/sequential.hpp: compile()'s metrics and defaults,
// add_metric, the metrics fit() and evaluate() fill, EpochLog::value/keys/has, History::values,
// Evaluation::metric, and a callback stopping training in the middle of an epoch.

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "error_messages.hpp"
#include "xdense/callback.hpp"
#include "xdense/dense.hpp"
#include "xdense/error.hpp"
#include "xdense/metric.hpp"
#include "xdense/metrics/accuracy.hpp"
#include "xdense/preprocessing.hpp"
#include "xdense/sequential.hpp"

namespace xdense {
namespace {

using testing::contains;
using testing::message_of;

// A metric whose result is the mean of the first output column over every sample since reset();
// it records what fit() asks of it.
class MeanOutput final : public Metric {
 public:
  std::string name() const override { return "mean_output"; }
  void reset() override {
    sum_ = 0.0;
    samples_ = 0;
    ++resets;
  }
  void update(ConstMatrixView outputs, ConstMatrixView /*targets*/) override {
    for (std::size_t r = 0; r < outputs.rows; ++r) sum_ += outputs(r, 0);
    samples_ += outputs.rows;
    ++updates;
  }
  double result() const override { return samples_ ? sum_ / static_cast<double>(samples_) : NAN; }
  void reserve(std::size_t samples) override { reserved = std::max(reserved, samples); }

  std::size_t resets = 0, updates = 0, reserved = 0;

 private:
  double sum_ = 0.0;
  std::size_t samples_ = 0;
};

// A metric only a one-unit model takes (as auc).
class OneUnitOnly final : public Metric {
 public:
  std::string name() const override { return "one_unit_only"; }
  void reset() override {}
  void update(ConstMatrixView, ConstMatrixView) override {}
  double result() const override { return 0.0; }
  void check_model(std::size_t units, const Loss& /*loss*/) const override {
    if (units != 1) throw InvalidArgument("one_unit_only: expected one output unit, received " + std::to_string(units));
  }
};

const bool registered =
    (register_metric("mean_output", [](const Config&) { return std::make_unique<MeanOutput>(); }),
     register_metric("one_unit_only", [](const Config&) { return std::make_unique<OneUnitOnly>(); }), true);

Matrix ramp(std::size_t rows, std::size_t cols) {
  Matrix m = Matrix::from_shape({rows, cols});
  for (std::size_t i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>((i * 7) % 11) / 11.0f - 0.5f;
  return m;
}

Matrix binary_targets(const Matrix& x) {
  Matrix y = Matrix::from_shape({x.shape(0), 1});
  for (std::size_t r = 0; r < x.shape(0); ++r) y(r, 0) = x(r, 0) > 0.0f ? 1.0f : 0.0f;
  return y;
}

std::vector<std::string> names_of(const Sequential& model) {
  std::vector<std::string> names;
  for (const auto& metric : model.metrics()) names.push_back(metric->name());
  return names;
}

Sequential binary_model(const std::vector<std::string>& metrics) {
  Sequential model(5);
  model.add(std::make_unique<Dense>(4)).add("tanh").add(std::make_unique<Dense>(1)).add("sigmoid");
  model.compile("binary_crossentropy", "sgd", metrics);
  return model;
}

// -------------------------------------------------------------- compile

TEST(SequentialCompile, ClassificationLossDefaultsToAccuracy) {
  for (const char* loss : {"binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy"}) {
    Sequential model;
    model.add(std::make_unique<Dense>(3)).add("softmax");
    model.compile(loss, "adam");
    EXPECT_EQ(names_of(model), std::vector<std::string>{"accuracy"}) << loss;
    EXPECT_TRUE(model.has_accuracy()) << loss;
  }
}

TEST(SequentialCompile, RegressionLossDefaultsToRegressionMetricsNeverAccuracy) {
  for (const char* loss : {"mse", "mae", "huber", "log_cosh", "poisson"}) {
    Sequential model;
    model.add(std::make_unique<Dense>(1));
    model.compile(loss, "adam");
    EXPECT_FALSE(model.has_accuracy()) << loss;
    EXPECT_EQ(names_of(model), (std::vector<std::string>{"mae", "rmse", "r2"})) << loss;
  }
}

TEST(SequentialFitMetrics, RegressionHistoryAndEvaluationReportMaeRmseAndR2) {
  const Matrix x = ramp(40, 3);
  Matrix y = Matrix::from_shape({40, 1});
  for (std::size_t r = 0; r < 40; ++r) y(r, 0) = 2.0f * x(r, 0) - x(r, 2) + 0.5f;
  Sequential model(2);
  model.add(std::make_unique<Dense>(8)).add("tanh").add(std::make_unique<Dense>(1));
  model.compile("mse", "adam");
  FitOptions options;
  options.epochs = 3;
  options.validation_split = 0.25;
  const History history = model.fit(x, y, options);
  EXPECT_EQ(history.epochs[0].keys(),
            (std::vector<std::string>{"loss", "mae", "rmse", "r2", "val_loss", "val_mae", "val_rmse", "val_r2", "lr"}));
  // evaluate(): the metrics over all the samples, from the predictions.
  const Evaluation e = model.evaluate(x, y, 7);
  const Matrix p = model.predict(x);
  double absolute = 0.0, squared = 0.0, mean = 0.0, total = 0.0;
  for (std::size_t r = 0; r < 40; ++r) mean += y(r, 0) / 40.0;
  for (std::size_t r = 0; r < 40; ++r) {
    const double d = double(p(r, 0)) - y(r, 0);
    absolute += std::abs(d);
    squared += d * d;
    total += (y(r, 0) - mean) * (y(r, 0) - mean);
  }
  EXPECT_NEAR(e.metric("mae"), absolute / 40.0, 1e-6);
  EXPECT_NEAR(e.metric("rmse"), std::sqrt(squared / 40.0), 1e-6);
  EXPECT_NEAR(e.metric("r2"), 1.0 - squared / total, 1e-6);
  EXPECT_NEAR(e.loss, squared / 40.0, 1e-6);
}

TEST(SequentialCompile, MetricsByNameOrAliasInOrder) {
  Sequential model = binary_model({"mean_output", "acc"});
  EXPECT_EQ(names_of(model), (std::vector<std::string>{"mean_output", "accuracy"}));
  EXPECT_TRUE(model.has_accuracy());
  Sequential none = binary_model({});
  EXPECT_TRUE(none.metrics().empty());
  EXPECT_FALSE(none.has_accuracy());
}

TEST(SequentialCompile, RefusesUnknownRepeatedAndMeaninglessMetricsAndKeepsTheModel) {
  Sequential model = binary_model({"accuracy"});
  std::string m = message_of<InvalidArgument>([&] { model.compile("binary_crossentropy", "sgd", {"acuracy"}); });
  EXPECT_TRUE(contains(m, "Sequential::compile"));
  EXPECT_TRUE(contains(m, "acuracy"));
  EXPECT_TRUE(contains(m, "accuracy"));  // the known metrics are listed
  m = message_of<InvalidArgument>([&] { model.compile("binary_crossentropy", "sgd", {"accuracy", "acc"}); });
  EXPECT_TRUE(contains(m, "twice"));
  EXPECT_EQ(names_of(model), std::vector<std::string>{"accuracy"});  // unchanged
  EXPECT_EQ(model.loss()->name(), "binary_crossentropy");

  // Accuracy means nothing for a regression loss: refused at compile time once built...
  Sequential regressor;
  regressor.add(std::make_unique<Dense>(1));
  regressor.build(2);
  m = message_of<InvalidArgument>([&] { regressor.compile("mse", "sgd", {"accuracy"}); });
  EXPECT_TRUE(contains(m, "accuracy"));
  EXPECT_TRUE(contains(m, "regression"));
  EXPECT_FALSE(regressor.compiled());
  // ... and when the model is built, before any training, otherwise.
  Sequential unbuilt;
  unbuilt.add(std::make_unique<Dense>(3)).add("softmax");
  unbuilt.compile("categorical_crossentropy", "sgd", {"one_unit_only"});
  const Matrix x = ramp(6, 2);
  Matrix y = Matrix::from_shape({6, 1});
  m = message_of<InvalidArgument>([&] { unbuilt.fit(x, y); });
  EXPECT_TRUE(contains(m, "one_unit_only: expected one output unit, received 3"));
}

TEST(SequentialCompile, AddMetricAppendsAConfiguredOrOwnMetric) {
  Sequential model = binary_model({"accuracy"});
  model.add_metric(std::make_unique<MeanOutput>());
  EXPECT_EQ(names_of(model), (std::vector<std::string>{"accuracy", "mean_output"}));
  std::string m = message_of<InvalidArgument>([&] { model.add_metric(std::make_unique<MeanOutput>()); });
  EXPECT_TRUE(contains(m, "already compiled"));
  m = message_of<InvalidArgument>([&] { model.add_metric(nullptr); });
  EXPECT_TRUE(contains(m, "nullptr"));

  Sequential uncompiled;
  uncompiled.add(std::make_unique<Dense>(1));
  m = message_of<StateError>([&] { uncompiled.add_metric(std::make_unique<MeanOutput>()); });
  EXPECT_TRUE(contains(m, "compile"));

  Sequential three;
  three.add(std::make_unique<Dense>(3)).add("softmax");
  three.compile("categorical_crossentropy", "sgd");
  three.build(2);
  m = message_of<InvalidArgument>([&] { three.add_metric(std::make_unique<OneUnitOnly>()); });
  EXPECT_TRUE(contains(m, "one_unit_only"));
  EXPECT_EQ(three.metrics().size(), 1u);

  // A metric made with settings (the threshold of a binary accuracy), added to a model without one.
  Sequential binary = binary_model({});
  binary.add_metric(make_metric("accuracy", {{"threshold", 0.3}}));
  EXPECT_TRUE(binary.has_accuracy());
}

// -------------------------------------------------------------- fit, evaluate

TEST(SequentialFitMetrics, EpochMetricsAreOverTheOutputsBeforeEachUpdateAndValidationOverAllOfIt) {
  const Matrix x = ramp(20, 3);
  const Matrix y = binary_targets(x);
  Sequential model = binary_model({"accuracy"});
  auto owned = std::make_unique<MeanOutput>();
  MeanOutput* mean = owned.get();
  model.add_metric(std::move(owned));
  model.build(3);

  // One batch of every training row, no shuffle: the epoch's metrics are the untrained model's.
  const Matrix train_x = take_rows(x, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15});
  const Matrix train_y = take_rows(y, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15});
  const Evaluation before = model.evaluate(train_x, train_y);
  FitOptions options;
  options.batch_size = 16;
  options.shuffle = false;
  options.validation_split = 0.2;  // the last 4 rows
  const History history = model.fit(x, y, options);
  ASSERT_EQ(history.epochs.size(), 1u);
  const EpochLog& log = history.epochs[0];
  ASSERT_EQ(log.metrics.size(), 2u);
  EXPECT_EQ(log.metrics[0].first, "accuracy");
  EXPECT_EQ(log.metrics[1].first, "mean_output");
  EXPECT_EQ(log.metrics[0].second, before.metric("accuracy"));
  EXPECT_NEAR(log.metrics[1].second, before.metric("mean_output"), 1e-7);
  EXPECT_EQ(log.accuracy, log.metrics[0].second);
  // Reserved once for the larger of the two passes (16 training, 4 validation rows).
  EXPECT_EQ(mean->reserved, 16u);

  const Matrix val_x = take_rows(x, {16, 17, 18, 19});
  const Matrix val_y = take_rows(y, {16, 17, 18, 19});
  const Evaluation after = model.evaluate(val_x, val_y, 3);  // batches of 3 and 1: still over all 4
  ASSERT_EQ(log.val_metrics.size(), 2u);
  EXPECT_EQ(log.val_metrics[0], (std::pair<std::string, double>{"accuracy", after.metric("accuracy")}));
  EXPECT_EQ(log.val_metrics[1].first, "mean_output");
  EXPECT_NEAR(log.val_metrics[1].second, after.metric("mean_output"), 1e-7);
  EXPECT_EQ(log.val_accuracy, after.accuracy);
  EXPECT_NEAR(after.metrics[1].second,
              (model.predict(val_x)(0, 0) + model.predict(val_x)(1, 0) + model.predict(val_x)(2, 0) +
               model.predict(val_x)(3, 0)) /
                  4.0,
              1e-6);
}

TEST(SequentialFitMetrics, MetricsResetEachEpochAndUpdateOnEveryBatch) {
  const Matrix x = ramp(10, 3);
  const Matrix y = binary_targets(x);
  Sequential model = binary_model({});
  auto owned = std::make_unique<MeanOutput>();
  MeanOutput* mean = owned.get();
  model.add_metric(std::move(owned));
  FitOptions options;
  options.epochs = 3;
  options.batch_size = 4;  // 4, 4, 2
  model.fit(x, y, options);
  EXPECT_EQ(mean->updates, 9u);
  EXPECT_EQ(mean->resets, 3u);
  // evaluate() starts over too.
  model.evaluate(x, y);
  EXPECT_EQ(mean->resets, 4u);
}

TEST(SequentialFitMetrics, ModelWithoutAccuracyLogsNaNAccuracy) {
  const Matrix x = ramp(8, 2);
  Matrix y = Matrix::from_shape({8, 1});
  for (std::size_t r = 0; r < 8; ++r) y(r, 0) = x(r, 0) + x(r, 1);
  Sequential model;
  model.add(std::make_unique<Dense>(1));
  model.compile("mse", "sgd", {});
  FitOptions options;
  options.validation_split = 0.25;
  options.on_batch_end = [](const BatchLog& log) { EXPECT_TRUE(std::isnan(log.mean_accuracy)); };
  const History history = model.fit(x, y, options);
  EXPECT_TRUE(std::isnan(history.epochs[0].accuracy));
  EXPECT_TRUE(std::isnan(history.epochs[0].val_accuracy));
  EXPECT_TRUE(history.epochs[0].metrics.empty());
  EXPECT_EQ(history.epochs[0].keys(), (std::vector<std::string>{"loss", "val_loss", "lr"}));
  EXPECT_TRUE(std::isnan(model.evaluate(x, y).accuracy));
  EXPECT_THROW(history.values("accuracy"), InvalidArgument);
}

// -------------------------------------------------------------- logs

TEST(EpochLogValue, KnowsKerasHistoryKeysAndNamesThemOtherwise) {
  EpochLog log;
  log.loss = 0.5;
  log.metrics = {{"accuracy", 0.75}, {"auc", 0.8}};
  log.accuracy = 0.75;
  log.val_loss = 0.6;
  log.val_metrics = {{"accuracy", 0.7}, {"auc", 0.65}};
  log.val_accuracy = 0.7;
  log.learning_rate = 0.01;
  log.seconds = 2.0;
  EXPECT_EQ(log.keys(),
            (std::vector<std::string>{"loss", "accuracy", "auc", "val_loss", "val_accuracy", "val_auc", "lr"}));
  EXPECT_EQ(log.value("loss"), 0.5);
  EXPECT_EQ(log.value("auc"), 0.8);
  EXPECT_EQ(log.value("val_auc"), 0.65);
  EXPECT_EQ(log.value("val_loss"), 0.6);
  EXPECT_EQ(log.value("lr"), 0.01);
  EXPECT_EQ(log.value("learning_rate"), 0.01);
  EXPECT_EQ(log.value("seconds"), 2.0);
  EXPECT_TRUE(log.has("val_accuracy"));
  EXPECT_FALSE(log.has("precision"));
  const std::string m = message_of<InvalidArgument>([&] { log.value("val_precision"); });
  EXPECT_TRUE(contains(m, "EpochLog::value"));
  EXPECT_TRUE(contains(m, "val_precision"));
  EXPECT_TRUE(contains(m, "loss, accuracy, auc, val_loss, val_accuracy, val_auc, lr"));

  // Without validation and rate: those keys are unknown.
  EpochLog plain;
  plain.loss = 1.0;
  EXPECT_EQ(plain.keys(), std::vector<std::string>{"loss"});
  EXPECT_FALSE(plain.has("val_loss"));
  EXPECT_FALSE(plain.has("lr"));
  EXPECT_THROW(plain.value("val_loss"), InvalidArgument);
  // A log with only the accuracy fields (read back from an older record) still answers for them.
  EpochLog legacy;
  legacy.accuracy = 0.9;
  legacy.val_loss = 0.2;
  legacy.val_accuracy = 0.8;
  EXPECT_EQ(legacy.keys(), (std::vector<std::string>{"loss", "accuracy", "val_loss", "val_accuracy"}));
  EXPECT_EQ(legacy.value("val_accuracy"), 0.8);
}

TEST(HistoryValues, SeriesOfAnyKeyAndErrorNamingTheKnownOnes) {
  const Matrix x = ramp(12, 2);
  const Matrix y = binary_targets(x);
  Sequential model = binary_model({"accuracy", "mean_output"});
  FitOptions options;
  options.epochs = 3;
  options.validation_split = 0.25;
  const History history = model.fit(x, y, options);
  const std::vector<double> val_mean = history.values("val_mean_output");
  ASSERT_EQ(val_mean.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(val_mean[i], history.epochs[i].val_metrics[1].second);
  EXPECT_EQ(history.values("lr"), std::vector<double>(3, double(0.01f)));  // SGD's default rate, a float
  EXPECT_EQ(history.values("accuracy")[2], history.epochs[2].accuracy);
  const std::string m = message_of<InvalidArgument>([&] { history.values("val_auc"); });
  EXPECT_TRUE(contains(m, "History::values"));
  EXPECT_TRUE(contains(m, "loss, accuracy, mean_output, val_loss, val_accuracy, val_mean_output, lr"));
}

TEST(EvaluationMetric, ByNameWithLossAndErrorNamingTheKnownOnes) {
  Evaluation e;
  e.loss = 0.3;
  e.metrics = {{"accuracy", 0.9}, {"auc", 0.95}};
  e.accuracy = 0.9;
  EXPECT_EQ(e.metric("loss"), 0.3);
  EXPECT_EQ(e.metric("auc"), 0.95);
  const std::string m = message_of<InvalidArgument>([&] { e.metric("f1"); });
  EXPECT_TRUE(contains(m, "Evaluation::metric"));
  EXPECT_TRUE(contains(m, "loss, accuracy, auc"));
}

// -------------------------------------------------------------- stop_training

// Sets model.stop_training(true) after batch `at` of epoch `epoch`, records the hooks it sees.
class StopAt final : public Callback {
 public:
  StopAt(std::size_t epoch, std::size_t at) : epoch_(epoch), at_(at) {}
  std::string name() const override { return "StopAt"; }
  void on_batch_end(Sequential& model, const BatchLog& log) override {
    batch_losses.push_back(log.loss);
    if (log.epoch == epoch_ && log.batch == at_) model.stop_training(true);
  }
  void on_epoch_end(Sequential&, const EpochLog& log) override { ends.push_back(log); }
  void on_train_end(Sequential&) override { ++train_ends; }

  std::vector<double> batch_losses;
  std::vector<EpochLog> ends;
  int train_ends = 0;

 private:
  std::size_t epoch_, at_;
};

TEST(SequentialStopTraining, StopsInTheMiddleOfAnEpochAndStillEndsIt) {
  const Matrix x = ramp(25, 3);
  const Matrix y = binary_targets(x);
  Sequential model = binary_model({"accuracy"});
  auto stop = std::make_shared<StopAt>(2, 2);
  FitOptions options;
  options.epochs = 5;
  options.batch_size = 5;  // 20 training rows: 4 batches per epoch
  options.validation_split = 0.2;
  options.callbacks = {stop};
  std::size_t epoch_ends = 0;
  options.on_epoch_end = [&](const EpochLog&) { ++epoch_ends; };
  const History history = model.fit(x, y, options);
  ASSERT_EQ(history.epochs.size(), 2u);
  EXPECT_EQ(stop->batch_losses.size(), 6u);  // 4 batches, then 2
  ASSERT_EQ(stop->ends.size(), 2u);
  EXPECT_EQ(epoch_ends, 2u);
  EXPECT_EQ(stop->train_ends, 1);
  // The partial epoch's loss is the mean over its two batches (of equal size), and it was validated.
  const EpochLog& last = history.epochs.back();
  EXPECT_NEAR(last.loss, (stop->batch_losses[4] + stop->batch_losses[5]) / 2.0, 1e-12);
  EXPECT_TRUE(last.has("val_loss"));
  EXPECT_TRUE(std::isfinite(last.val_accuracy));
  EXPECT_EQ(stop->ends.back().loss, last.loss);
  EXPECT_TRUE(model.stop_training());
  // The next fit() starts afresh.
  options.callbacks.clear();
  options.epochs = 1;
  EXPECT_EQ(model.fit(x, y, options).epochs.size(), 1u);
  EXPECT_FALSE(model.stop_training());
}

}  // namespace
}  // namespace xdense
