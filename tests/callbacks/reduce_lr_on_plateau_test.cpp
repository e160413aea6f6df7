// Tests of include/xdense/callbacks/reduce_lr_on_plateau.hpp: the learning-rate sequence on
// scripted values (patience, cooldown, min_lr, min_delta, modes), in a real fit(), the refusal of
// a scheduled optimizer, the state round trip and the errors.

#include "xdense/callbacks/reduce_lr_on_plateau.hpp"

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "callback_test_support.hpp"
#include "error_messages.hpp"
#include "xdense/error.hpp"
#include "xdense/schedule.hpp"

namespace xdense {
namespace {

using testing::contains;
using testing::epoch_log;
using testing::message_of;

ReduceLROnPlateau make(double factor, std::size_t patience, std::size_t cooldown = 0, double min_lr = 0.0,
                       double min_delta = 0.0, const std::string& monitor = "val_loss",
                       const std::string& mode = "auto") {
  ReduceLROnPlateauOptions options;
  options.factor = factor;
  options.patience = patience;
  options.cooldown = cooldown;
  options.min_lr = min_lr;
  options.min_delta = min_delta;
  options.monitor = monitor;
  options.mode = mode;
  return ReduceLROnPlateau(options);
}

// The learning rate after each epoch end, for val_loss `values`, starting at `lr` (SGD).
std::vector<float> rates(ReduceLROnPlateau& reduce, const std::vector<double>& values, float lr = 0.1f,
                         Sequential* model_out = nullptr) {
  Sequential local = testing::small_model(lr);
  Sequential& model = model_out != nullptr ? *model_out : local;
  reduce.on_train_begin(model);
  std::vector<float> out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    reduce.on_epoch_end(model, epoch_log(i + 1, 1.0, values[i]));
    out.push_back(model.optimizer()->learning_rate());
  }
  return out;
}

// Keras's step: the float rate read as a double, times the factor, at least min_lr, stored as a float.
float lowered(float lr, double factor, double min_lr = 0.0) {
  return static_cast<float>(std::max(static_cast<double>(lr) * factor, min_lr));
}

TEST(ReduceLROnPlateau, KerasDefaults) {
  const ReduceLROnPlateau reduce;
  EXPECT_EQ(reduce.name(), "ReduceLROnPlateau");
  EXPECT_EQ(reduce.config(),
            nlohmann::json::parse(R"({"monitor": "val_loss", "factor": 0.1, "patience": 10, "verbose": 0,
      "mode": "auto", "min_delta": 0.0001, "cooldown": 0, "min_lr": 0.0})"));
  EXPECT_EQ(reduce.best(), std::numeric_limits<double>::infinity());
}

TEST(ReduceLROnPlateau, LowersTheRateAfterPatienceEpochsWithCooldownAndMinLr) {
  // patience 2, cooldown 1, min_lr 0.02, a value that never improves after epoch 1:
  // e1 best; e2 wait 1; e3 wait 2: 0.1 -> 0.05, cooldown 1; e4 cooldown 0 then wait 1 (Keras checks
  // the cooldown after counting it down); e5 wait 2: 0.025; e6 wait 1; e7: max(0.0125, 0.02) = 0.02;
  // e8 wait 1; e9 wait 2 but lr is not above float(min_lr): unchanged, and wait is not reset.
  ReduceLROnPlateau reduce = make(0.5, 2, 1, 0.02);
  const std::vector<float> got = rates(reduce, std::vector<double>(10, 1.0));
  const float a = lowered(0.1f, 0.5), b = lowered(a, 0.5), c = lowered(b, 0.5, 0.02);
  EXPECT_EQ(got, (std::vector<float>{0.1f, 0.1f, a, a, b, b, c, c, c, c}));
  EXPECT_EQ(c, 0.02f);
  EXPECT_EQ(reduce.reductions(), 3u);
  EXPECT_EQ(reduce.wait(), 3u);
  EXPECT_EQ(reduce.cooldown_counter(), 0u);
  EXPECT_EQ(reduce.best(), 1.0);
}

TEST(ReduceLROnPlateau, ImprovementsResetTheCountAndCooldownHoldsIt) {
  // patience 1, cooldown 2 (Keras's order: count the cooldown down, then count the epoch unless
  // still in cooldown): e1 best 1; e2 wait 1: 0.1 -> 0.01, cooldown 2; e3 cooldown 1, not counted;
  // e4 cooldown 0, counted: wait 1, lowered; e5 not counted; e6 lowered: every second epoch.
  ReduceLROnPlateau reduce = make(0.1, 1, 2);
  const std::vector<float> got = rates(reduce, {1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0});
  const float a = lowered(0.1f, 0.1), b = lowered(a, 0.1), c = lowered(b, 0.1);
  EXPECT_EQ(got, (std::vector<float>{0.1f, a, a, b, b, c, c}));
  EXPECT_EQ(reduce.cooldown_counter(), 1u);
  // An improvement resets the count: 1, 0.9 (best), 0.95 (wait 1), 0.8 (best), 0.85 (wait 1), 0.86 (wait 2: lowered).
  ReduceLROnPlateau patient = make(0.5, 2);
  EXPECT_EQ(rates(patient, {1.0, 0.9, 0.95, 0.8, 0.85, 0.86}),
            (std::vector<float>{0.1f, 0.1f, 0.1f, 0.1f, 0.1f, lowered(0.1f, 0.5)}));
  EXPECT_EQ(patient.best(), 0.8);
}

TEST(ReduceLROnPlateau, MinDeltaAndModes) {
  // min: an improvement is v < best - min_delta; 0.99995 is not below 1 - 1e-4.
  ReduceLROnPlateau reduce = make(0.5, 1, 0, 0.0, 1e-4);
  EXPECT_EQ(rates(reduce, {1.0, 0.99995, 0.9}), (std::vector<float>{0.1f, lowered(0.1f, 0.5), lowered(0.1f, 0.5)}));
  EXPECT_EQ(reduce.best(), 0.9);
  // max (auto for val_accuracy): v > best + min_delta.
  Sequential model = testing::binary_model();
  ReduceLROnPlateau up = make(0.5, 1, 0, 0.0, 0.05, "val_accuracy");
  EXPECT_TRUE(up.maximizes());
  EXPECT_EQ(up.best(), -std::numeric_limits<double>::infinity());
  up.on_train_begin(model);
  const float lr = model.optimizer()->learning_rate();
  for (const auto& [epoch, value] : std::vector<std::pair<std::size_t, double>>{{1, 0.5}, {2, 0.6}, {3, 0.62}}) {
    up.on_epoch_end(model, epoch_log(epoch, 1.0, 1.0, {{"accuracy", 0.5}}, {{"accuracy", value}}));
  }
  EXPECT_EQ(up.best(), 0.6);
  EXPECT_EQ(model.optimizer()->learning_rate(), lowered(lr, 0.5));
  EXPECT_FALSE(make(0.5, 1, 0, 0.0, 0.0, "val_accuracy", "min").maximizes());
}

TEST(ReduceLROnPlateau, LowersTheRateDuringFitAndTheHistoryShowsIt) {
  const testing::Data data = testing::regression_data();
  Sequential model = testing::small_model(0.1f);
  // The training loss falls every epoch: maximising it, nothing improves after epoch 1 and the
  // rate halves at every epoch end from epoch 2 (patience 1).
  auto reduce = std::make_shared<ReduceLROnPlateau>(make(0.5, 1, 0, 0.0, 0.0, "loss", "max"));
  FitOptions fit;
  fit.epochs = 4;
  fit.batch_size = 16;
  fit.callbacks = {reduce};
  const History history = model.fit(data.x, data.y, fit);
  ASSERT_EQ(history.epochs.size(), 4u);
  float lr = 0.1f;
  EXPECT_EQ(history.epochs[0].learning_rate, static_cast<double>(lr));
  for (std::size_t e = 1; e < 4; ++e) {
    lr = lowered(lr, 0.5);
    EXPECT_EQ(history.epochs[e].learning_rate, static_cast<double>(lr)) << e;
  }
  EXPECT_EQ(model.optimizer()->learning_rate(), lr);
  EXPECT_EQ(model.optimizer()->config()["learning_rate"], static_cast<double>(lr));
}

// A schedule that keeps one rate, standing for any LearningRateSchedule.
class FixedSchedule final : public LearningRateSchedule {
 public:
  std::string name() const override { return "FixedSchedule"; }
  Config config() const override { return {{"initial_learning_rate", 0.1}}; }
  double at(std::size_t /*step*/) const override { return 0.1; }
};

TEST(ReduceLROnPlateau, RefusesAScheduledOptimizerAtTrainBegin) {
  Sequential model = testing::small_model();
  model.optimizer()->set_schedule(std::make_shared<FixedSchedule>());
  ReduceLROnPlateau reduce;
  const std::string message = message_of<StateError>([&] { reduce.on_train_begin(model); });
  EXPECT_TRUE(contains(message, "ReduceLROnPlateau: the optimizer's learning rate follows a schedule (FixedSchedule)"));
}

TEST(ReduceLROnPlateau, RefusesBadSettings) {
  for (const double factor : {1.0, 1.5, 0.0, -0.5}) {
    EXPECT_TRUE(
        contains(message_of<InvalidArgument>([&] { make(factor, 1); }), "ReduceLROnPlateau: factor must be in (0, 1)"))
        << factor;
  }
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { make(0.5, 1, 0, -1.0); }), "min_lr must be finite and >= 0"));
  EXPECT_TRUE(
      contains(message_of<InvalidArgument>([] { make(0.5, 1, 0, 0.0, std::nan("")); }), "min_delta must be finite"));
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { make(0.5, 1, 0, 0.0, 0.0, "val_loss", "up"); }),
                       "ReduceLROnPlateau: mode must be"));
  Sequential model = testing::small_model();
  ReduceLROnPlateau typo = make(0.5, 1, 0, 0.0, 0.0, "val_los");
  EXPECT_TRUE(contains(message_of<InvalidArgument>([&] { typo.on_train_begin(model); }),
                       "ReduceLROnPlateau: monitor 'val_los' is not a value fit() logs"));
}

TEST(ReduceLROnPlateau, StateRoundTripsAndResumesTheSameRates) {
  const std::vector<double> values = {1.0, 0.1 + 0.2, 0.31, 0.32, 0.33, 0.34, 0.35, 0.36, 0.37};
  ReduceLROnPlateau whole = make(0.5, 2, 1, 0.001);
  const std::vector<float> expected = rates(whole, values);

  Sequential model = testing::small_model();
  ReduceLROnPlateau first = make(0.5, 2, 1, 0.001);
  first.on_train_begin(model);
  for (std::size_t e = 1; e <= 4; ++e) first.on_epoch_end(model, epoch_log(e, 1.0, values[e - 1]));
  EXPECT_EQ(first.cooldown_counter(), 1u);  // lowered at epoch 4
  const std::string text = first.state().dump();
  EXPECT_EQ(Config::parse(text),
            (Config{{"monitor", "val_loss"}, {"best", 0.1 + 0.2}, {"wait", 0}, {"cooldown_counter", 1}}));

  // Resumed: a fresh optimizer with the rate the checkpoint holds, the state restored.
  Sequential resumed = testing::small_model(model.optimizer()->learning_rate());
  ReduceLROnPlateau second = make(0.5, 2, 1, 0.001);
  second.restore_state(Config::parse(text));
  second.on_train_begin(resumed);
  EXPECT_EQ(second.state().dump(), text);
  std::vector<float> got(expected.begin(), expected.begin() + 4);
  for (std::size_t e = 5; e <= values.size(); ++e) {
    second.on_epoch_end(resumed, epoch_log(e, 1.0, values[e - 1]));
    got.push_back(resumed.optimizer()->learning_rate());
  }
  EXPECT_EQ(got, expected);

  // Before any value, best is infinite: written as "inf".
  ReduceLROnPlateau fresh;
  EXPECT_EQ(fresh.state()["best"], "inf");
  ReduceLROnPlateau copy;
  copy.restore_state(fresh.state());
  EXPECT_EQ(copy.best(), std::numeric_limits<double>::infinity());
  copy.restore_state(Config::from_cbor(Config::to_cbor(first.state())));
  EXPECT_EQ(copy.state().dump(), text);
  EXPECT_TRUE(contains(message_of<InvalidArgument>([&] {
                         copy.restore_state({{"monitor", "val_loss"}});
                       }),
                       "ReduceLROnPlateau state: \"best\" is missing"));
}

}  // namespace
}  // namespace xdense
