// Tests of include/xdense/callbacks/early_stopping.hpp: the stopping rule on scripted sequences
// (patience, min_delta, modes, baseline, start_from_epoch, NaN, missing values), restoring the best
// weights after a real fit(), the state round trip and the errors.

#include "xdense/callbacks/early_stopping.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "callback_test_support.hpp"
#include "error_messages.hpp"
#include "xdense/error.hpp"

namespace xdense {
namespace {

using testing::contains;
using testing::epoch_log;
using testing::message_of;
using testing::nan_value;

// Runs the callback over `values` of `monitor` as fit() would (on_train_begin, then one epoch end
// per value until it stops) and returns the epoch after which it stopped, 0 when it did not.
std::size_t stop_epoch(EarlyStopping& stop, const std::vector<double>& values,
                       const std::string& monitor = "val_loss") {
  Sequential model = monitor == "val_accuracy" ? testing::binary_model() : testing::small_model();
  stop.on_train_begin(model);
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::size_t epoch = i + 1;
    EpochLog log = epoch_log(epoch, 1.0, 1.0);
    if (monitor == "val_loss")
      log.val_loss = values[i];
    else if (monitor == "loss")
      log.loss = values[i];
    else
      log.val_metrics = {{monitor.substr(4), values[i]}}, log.metrics = {{monitor.substr(4), 0.5}};
    stop.on_epoch_end(model, log);
    if (model.stop_training()) {
      EXPECT_EQ(stop.stopped_epoch(), epoch);
      return epoch;
    }
  }
  EXPECT_EQ(stop.stopped_epoch(), 0u);
  return 0;
}

EarlyStopping make(std::size_t patience, double min_delta = 0.0, const std::string& mode = "auto",
                   const std::string& monitor = "val_loss") {
  EarlyStoppingOptions options;
  options.patience = patience;
  options.min_delta = min_delta;
  options.mode = mode;
  options.monitor = monitor;
  return EarlyStopping(options);
}

TEST(EarlyStopping, KerasDefaults) {
  const EarlyStopping stop;
  EXPECT_EQ(stop.name(), "EarlyStopping");
  EXPECT_EQ(stop.config(),
            nlohmann::json::parse(R"({"monitor": "val_loss", "min_delta": 0.0, "patience": 0, "verbose": 0,
      "mode": "auto", "baseline": null, "restore_best_weights": false, "start_from_epoch": 0})"));
  EXPECT_FALSE(stop.maximizes());
}

TEST(EarlyStopping, PatienceZeroStopsAtTheFirstEpochWithoutImprovement) {
  EarlyStopping stop = make(0);
  EXPECT_EQ(stop_epoch(stop, {1.0, 0.9, 0.95, 0.5}), 3u);
  EXPECT_EQ(stop.best_epoch(), 2u);
  EXPECT_EQ(stop.best(), 0.9);
  // An equal value is no improvement.
  EarlyStopping equal = make(0);
  EXPECT_EQ(stop_epoch(equal, {1.0, 1.0}), 2u);
}

TEST(EarlyStopping, PatienceCountsEpochsSinceTheLastImprovement) {
  // e1 best 1; e2 best .9; e3 wait 1; e4 best .85, wait 0; e5 wait 1; e6 wait 2 = patience: stop.
  EarlyStopping stop = make(2);
  EXPECT_EQ(stop_epoch(stop, {1.0, 0.9, 0.95, 0.85, 0.86, 0.87, 0.1}), 6u);
  EXPECT_EQ(stop.best_epoch(), 4u);
  EXPECT_EQ(stop.best(), 0.85);
  EXPECT_EQ(stop.wait(), 2u);
  // Improving every epoch: never stops.
  EarlyStopping improving = make(1);
  EXPECT_EQ(stop_epoch(improving, {5, 4, 3, 2, 1}), 0u);
}

TEST(EarlyStopping, MinDeltaIsTheSmallestImprovementAndItsSignIsIgnored) {
  for (const double delta : {0.1, -0.1}) {
    // 0.95 + 0.1 is not below 1: no improvement, patience 1 reached at epoch 2.
    EarlyStopping stop = make(1, delta);
    EXPECT_EQ(stop_epoch(stop, {1.0, 0.95, 0.5}), 2u) << delta;
    // 0.89 + 0.1 < 1 improves; 0.85 + 0.1 is not below 0.89.
    EarlyStopping other = make(1, delta);
    EXPECT_EQ(stop_epoch(other, {1.0, 0.89, 0.85, 0.1}), 3u) << delta;
    EXPECT_EQ(other.best_epoch(), 2u);
  }
  // Maximising: v - 0.1 must exceed best.
  EarlyStopping up = make(1, 0.1, "max");
  EXPECT_EQ(stop_epoch(up, {0.5, 0.65, 0.7, 0.9}), 3u);
  EXPECT_EQ(up.best(), 0.65);
}

TEST(EarlyStopping, ModeMaxAndMinAndAutoInference) {
  EarlyStopping up = make(1, 0.0, "auto", "val_accuracy");
  EXPECT_TRUE(up.maximizes());
  EXPECT_EQ(stop_epoch(up, {0.5, 0.6, 0.6, 0.55}, "val_accuracy"), 3u);
  EarlyStopping down = make(1, 0.0, "min", "val_accuracy");
  EXPECT_FALSE(down.maximizes());
  EXPECT_EQ(stop_epoch(down, {0.5, 0.6, 0.6, 0.55}, "val_accuracy"), 2u);
  EarlyStopping forced_max = make(0, 0.0, "max");
  EXPECT_EQ(stop_epoch(forced_max, {1.0, 2.0, 1.5}), 3u);

  for (const char* monitor : {"accuracy", "val_accuracy", "val_auc", "pr_auc", "val_precision", "recall", "val_f1",
                              "macro_f1", "val_weighted_f1", "val_r2", "top_k_accuracy", "val_my_acc"}) {
    EXPECT_TRUE(make(0, 0.0, "auto", monitor).maximizes()) << monitor;
  }
  for (const char* monitor : {"loss", "val_loss", "val_mse", "mae", "val_rmse", "val_custom", "lr"}) {
    EXPECT_FALSE(make(0, 0.0, "auto", monitor).maximizes()) << monitor;
  }
}

TEST(EarlyStopping, BaselineMustBeBeatenToResetPatience) {
  EarlyStoppingOptions options;
  options.patience = 2;
  options.baseline = 0.5;
  // e1: best 1 but not below the baseline, wait stays 1; e2: wait 2 = patience, stop.
  EarlyStopping stop(options);
  EXPECT_EQ(stop_epoch(stop, {1.0, 1.1, 1.2}), 2u);
  EXPECT_EQ(stop.best_epoch(), 1u);
  // Without the baseline the same sequence stops one epoch later.
  EarlyStopping plain = make(2);
  EXPECT_EQ(stop_epoch(plain, {1.0, 1.1, 1.2}), 3u);
  // An epoch improving on the best never stops (Keras returns before the patience check), baseline or not.
  EarlyStopping improving(options);
  EXPECT_EQ(stop_epoch(improving, {1.0, 0.9, 0.8, 0.7}), 0u);
  EXPECT_EQ(improving.wait(), 4u);
  // Beating the baseline (0.9 + 0 < 0.95) resets the count: e3 wait 1, e4 wait 2: stop.
  options.baseline = 0.95;
  EarlyStopping beaten(options);
  EXPECT_EQ(stop_epoch(beaten, {1.0, 0.9, 1.0, 1.0, 1.0}), 4u);
}

TEST(EarlyStopping, StartFromEpochIgnoresTheFirstEpochs) {
  EarlyStoppingOptions options;
  options.start_from_epoch = 2;
  EarlyStopping stop(options);
  // Epochs 1 and 2 are not watched: epoch 3 is the first best, epoch 4 stops.
  EXPECT_EQ(stop_epoch(stop, {1.0, 2.0, 3.0, 4.0}), 4u);
  EXPECT_EQ(stop.best_epoch(), 3u);
  EarlyStopping from_start = make(0);
  EXPECT_EQ(stop_epoch(from_start, {1.0, 2.0, 3.0, 4.0}), 2u);
}

TEST(EarlyStopping, NaNNeverImproves) {
  EarlyStopping stop = make(0, 0.0, "auto", "loss");
  EXPECT_EQ(stop_epoch(stop, {1.0, nan_value}, "loss"), 2u);
  // A NaN first value becomes the best (Keras compares with None): nothing improves on it.
  EarlyStopping first_nan = make(1, 0.0, "auto", "loss");
  EXPECT_EQ(stop_epoch(first_nan, {nan_value, 0.5, 0.4}, "loss"), 2u);
  EXPECT_TRUE(std::isnan(*first_nan.best()));
}

TEST(EarlyStopping, AValueMissingFromTheLogIsSkipped) {
  // val_loss without validation data: the log has no val_loss; nothing is counted.
  EarlyStopping stop = make(0);
  Sequential model = testing::small_model();
  stop.on_train_begin(model);
  for (std::size_t epoch = 1; epoch <= 4; ++epoch) stop.on_epoch_end(model, epoch_log(epoch, 5.0 - epoch));
  EXPECT_FALSE(model.stop_training());
  EXPECT_EQ(stop.wait(), 0u);
  EXPECT_FALSE(stop.best().has_value());
}

TEST(EarlyStopping, AMonitorTheModelDoesNotLogIsRefusedAtTrainBegin) {
  Sequential model = testing::small_model();
  EarlyStopping stop = make(0, 0.0, "auto", "val_acuracy");
  const std::string message = message_of<InvalidArgument>([&] { stop.on_train_begin(model); });
  EXPECT_TRUE(contains(message, "EarlyStopping: monitor 'val_acuracy' is not a value fit() logs"));
  EXPECT_TRUE(contains(message, "loss"));
  EXPECT_TRUE(contains(message, "val_loss"));
  for (const char* monitor : {"loss", "val_loss", "lr", "learning_rate"}) {
    EarlyStopping ok = make(0, 0.0, "auto", monitor);
    EXPECT_NO_THROW(ok.on_train_begin(model)) << monitor;
  }
}

TEST(EarlyStopping, RefusesBadSettings) {
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { make(0, 0.0, "maximum"); }),
                       "EarlyStopping: mode must be \"auto\", \"min\" or \"max\", received mode='maximum'"));
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { make(0, 0.0, "auto", ""); }),
                       "EarlyStopping: expected a value to monitor"));
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { make(0, nan_value); }), "min_delta must be finite"));
  EarlyStoppingOptions options;
  options.baseline = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(contains(message_of<InvalidArgument>([&] { EarlyStopping{options}; }), "baseline must be finite"));
}

TEST(EarlyStopping, TheFirstEpochNeverStops) {
  // Keras's "epoch > 0": with a restored best that epoch 1 does not beat, patience 0 still waits.
  EarlyStopping stop = make(0);
  stop.restore_state({{"monitor", "val_loss"},
                      {"wait", 0},
                      {"stopped_epoch", 0},
                      {"best", 0.5},
                      {"best_epoch", 3},
                      {"best_weights", nullptr}});
  Sequential model = testing::small_model();
  stop.on_train_begin(model);
  stop.on_epoch_end(model, epoch_log(1, 1.0, 1.0));
  EXPECT_FALSE(model.stop_training());
  EXPECT_EQ(stop.wait(), 1u);
  stop.on_epoch_end(model, epoch_log(2, 1.0, 1.0));
  EXPECT_TRUE(model.stop_training());
}

// fit() with restore_best_weights: the weights at the end are those recorded after the best epoch.
TEST(EarlyStopping, RestoreBestWeightsLeavesTheBestEpochsWeightsAfterFit) {
  const testing::Data data = testing::regression_data();
  for (const bool stops_early : {true, false}) {
    Sequential model = testing::small_model(0.05f);
    EarlyStoppingOptions options;
    // The training loss falls every epoch: maximising it makes epoch 1 the best, so the weights
    // put back differ from the last epoch's.
    options.monitor = "loss";
    options.mode = "max";
    options.patience = stops_early ? 2 : 10;
    options.restore_best_weights = true;
    auto stop = std::make_shared<EarlyStopping>(options);
    auto recorder = std::make_shared<testing::WeightRecorder>();
    FitOptions fit;
    fit.epochs = 5;
    fit.batch_size = 16;
    fit.callbacks = {stop, recorder};
    const History history = model.fit(data.x, data.y, fit);
    ASSERT_EQ(history.epochs.size(), stops_early ? 3u : 5u);
    EXPECT_LT(history.epochs.back().loss, history.epochs.front().loss);
    EXPECT_EQ(stop->stopped_epoch(), stops_early ? 3u : 0u);
    ASSERT_EQ(stop->best_epoch(), 1u);
    EXPECT_NE(model.get_weights(), recorder->weights.back());
    // Keras 3 restores whenever best weights exist, stopped early or not.
    EXPECT_EQ(model.get_weights(), recorder->weights[0]);
  }
}

// A best epoch in the middle, on validation loss, with the weights compared bit for bit.
TEST(EarlyStopping, RestoreBestWeightsOnScriptedValidationLoss) {
  Sequential model = testing::small_model();
  EarlyStoppingOptions options;
  options.patience = 2;
  options.restore_best_weights = true;
  EarlyStopping stop(options);
  stop.on_train_begin(model);
  std::vector<std::vector<std::vector<float>>> weights;
  const std::vector<double> val_loss = {1.0, 0.7, 0.8, 0.9};
  for (std::size_t i = 0; i < val_loss.size() && !model.stop_training(); ++i) {
    std::vector<std::vector<float>> w = model.get_weights();
    for (auto& array : w) {
      for (float& v : array) v += 0.25f * static_cast<float>(i + 1);
    }
    model.set_weights(w);
    weights.push_back(w);
    stop.on_epoch_end(model, epoch_log(i + 1, 1.0, val_loss[i]));
  }
  EXPECT_EQ(stop.stopped_epoch(), 4u);
  stop.on_train_end(model);
  EXPECT_EQ(model.get_weights(), weights[1]);
}

TEST(EarlyStopping, StateRoundTripsExactlyAndResumesTheSameWay) {
  // e1 best 1; e2 best .5; e3 best .30000000000000004; e4 wait 1; e5 wait 2; e6 wait 3: stop.
  const std::vector<double> values = {1.0, 0.5, 0.1 + 0.2, 0.35, 0.34, 0.36, 0.37};
  EarlyStoppingOptions options;
  options.patience = 3;
  options.restore_best_weights = true;
  options.min_delta = 1e-3;
  // Uninterrupted run.
  EarlyStopping whole(options);
  const std::size_t stopped = stop_epoch(whole, values);
  ASSERT_EQ(stopped, 6u);

  // Interrupted after 4 epochs: the state goes through JSON text and into a new instance.
  Sequential model = testing::small_model();
  std::vector<std::vector<float>> w = model.get_weights();
  w[0][0] = 0.1f;  // a float whose shortest double text has 17 digits
  w[0][1] = -0.0f;
  w[0][2] = 1e-40f;  // subnormal
  model.set_weights(w);
  EarlyStopping first(options);
  first.on_train_begin(model);
  for (std::size_t e = 1; e <= 4; ++e) first.on_epoch_end(model, epoch_log(e, 1.0, values[e - 1]));
  const std::string text = first.state().dump();
  EarlyStopping second(options);
  second.restore_state(Config::parse(text));
  EXPECT_EQ(second.state().dump(), text);
  // Checkpoints store the state as CBOR (checkpoint.hpp): the same state comes back.
  EarlyStopping from_cbor(options);
  from_cbor.restore_state(Config::from_cbor(Config::to_cbor(first.state())));
  EXPECT_EQ(from_cbor.state().dump(), text);
  EXPECT_EQ(second.state(), first.state());
  EXPECT_EQ(second.best(), first.best());
  EXPECT_EQ(second.best_epoch(), 3u);
  EXPECT_EQ(second.wait(), 1u);
  // The restored state survives the resumed fit's on_train_begin, and the run stops where the
  // uninterrupted one did, with the same weights put back.
  second.on_train_begin(model);
  EXPECT_EQ(second.wait(), 1u);
  model.set_weights(testing::small_model().get_weights());
  for (std::size_t e = 5; e <= values.size() && !model.stop_training(); ++e) {
    second.on_epoch_end(model, epoch_log(e, 1.0, values[e - 1]));
  }
  EXPECT_EQ(second.stopped_epoch(), stopped);
  second.on_train_end(model);
  const std::vector<std::vector<float>> restored = model.get_weights();
  ASSERT_EQ(restored.size(), w.size());
  for (std::size_t i = 0; i < w.size(); ++i) {
    ASSERT_EQ(restored[i].size(), w[i].size());
    for (std::size_t j = 0; j < w[i].size(); ++j) {
      EXPECT_EQ(std::memcmp(&restored[i][j], &w[i][j], sizeof(float)), 0) << i << "," << j;
    }
  }
  // A reused instance starts afresh.
  second.on_train_begin(model);
  EXPECT_EQ(second.wait(), 0u);
  EXPECT_FALSE(second.best().has_value());
}

TEST(EarlyStopping, RestoredBestWeightsMustFitTheModel) {
  EarlyStoppingOptions options;
  options.restore_best_weights = true;
  EarlyStopping stop(options);
  stop.restore_state({{"monitor", "val_loss"},
                      {"wait", 0},
                      {"stopped_epoch", 0},
                      {"best", 0.5},
                      {"best_epoch", 1},
                      {"best_weights", Config::array({Config::array({0.5, 0.25})})}});
  Sequential model = testing::small_model();
  EXPECT_TRUE(contains(message_of<InvalidArgument>([&] { stop.on_train_begin(model); }),
                       "EarlyStopping: the restored best weights (1 arrays) do not fit the model (4 arrays)"));
}

TEST(EarlyStopping, NonFiniteBestRoundTrips) {
  EarlyStopping stop = make(5, 0.0, "auto", "loss");
  stop_epoch(stop, {nan_value}, "loss");
  EarlyStopping copy = make(5, 0.0, "auto", "loss");
  copy.restore_state(Config::parse(stop.state().dump()));
  EXPECT_TRUE(std::isnan(*copy.best()));
  EXPECT_EQ(copy.state()["best"], "nan");
  EarlyStopping from_cbor = make(5, 0.0, "auto", "loss");
  from_cbor.restore_state(Config::from_cbor(Config::to_cbor(stop.state())));
  EXPECT_TRUE(std::isnan(*from_cbor.best()));
}

TEST(EarlyStopping, RefusesAStateItCannotTake) {
  EarlyStopping stop;
  const Config state = stop.state();
  EarlyStopping other = make(0, 0.0, "auto", "loss");
  EXPECT_TRUE(
      contains(message_of<InvalidArgument>([&] { other.restore_state(state); }),
               "EarlyStopping state: it was saved by a callback monitoring 'val_loss', this one monitors 'loss'"));
  Config extra = state;
  extra["patience"] = 3;
  EXPECT_TRUE(contains(message_of<InvalidArgument>([&] { stop.restore_state(extra); }), "unknown key \"patience\""));
  Config negative = state;
  negative["wait"] = -1;
  EXPECT_TRUE(contains(message_of<InvalidArgument>([&] { stop.restore_state(negative); }),
                       "EarlyStopping state: \"wait\": expected an integer >= 0, received '-1'"));
  Config missing = state;
  missing.erase("best");
  EXPECT_TRUE(contains(message_of<InvalidArgument>([&] { stop.restore_state(missing); }), "\"best\" is missing"));
  Config weights = state;
  weights["best_weights"] = Config::array({Config::array({0.1})});  // 0.1 is no float
  EXPECT_TRUE(contains(message_of<InvalidArgument>([&] { stop.restore_state(weights); }), "arrays of float values"));
  EXPECT_TRUE(contains(message_of<InvalidArgument>([&] { stop.restore_state(nullptr); }), "expected a state object"));
}

}  // namespace
}  // namespace xdense
