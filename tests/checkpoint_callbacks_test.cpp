// Tests of checkpoint format version 4 (include/xdense/checkpoint.hpp): callbacks' states, the
// stop_training flag and the whole history (learning rate, metrics) survive a checkpoint, and a run
// whose callbacks steer training resumes bit-identically.

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>

#include <gtest/gtest.h>

#include "checkpoint_support.hpp"

#include <nlohmann/json.hpp>

#include "xdense/checkpoint.hpp"
#include "xdense/dense.hpp"
#include "xdense/error.hpp"

namespace xdense {
namespace {

namespace fs = std::filesystem;

fs::path temp_file(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / "xdense_checkpoint_callbacks_test";
  fs::create_directories(dir);
  return dir / name;
}

using testing::circles_like;
using testing::Data;
using testing::weights_of;

Sequential make_model() { return testing::circles_model("sgd"); }

// A callback whose state steers training: it halves the learning rate after every second epoch
// whose loss did not beat the best so far by 3%, and keeps the best epoch's weights. Its state (counter,
// best loss, starting at infinity, best weights) must survive a checkpoint for a resumed run to
// match an uninterrupted one.
class HalvingCallback final : public Callback {
 public:
  std::string name() const override { return "Halving"; }
  void on_epoch_end(Sequential& model, const EpochLog& log) override {
    if (log.loss < best_ * 0.97) {
      best_ = log.loss;
      best_weights_ = model.get_weights();
      return;
    }
    if (++wait_ >= 2) {
      wait_ = 0;
      model.optimizer()->set_learning_rate(static_cast<float>(model.optimizer()->current_learning_rate() / 2));
    }
  }
  Config state() const override {
    return Config{{"wait", wait_}, {"best", best_}, {"best_weights", best_weights_}};
  }
  void restore_state(const Config& state) override {
    if (!state.is_object() || !state.contains("wait")) throw InvalidArgument("Halving: expected {\"wait\": n, ...}");
    wait_ = state.at("wait").get<int>();
    best_ = state.at("best").get<double>();
    best_weights_ = state.at("best_weights").get<std::vector<std::vector<float>>>();
  }

  int wait_ = 0;
  double best_ = std::numeric_limits<double>::infinity();
  std::vector<std::vector<float>> best_weights_;
};

// Stops training at the end of epoch `at`.
class StopAt final : public Callback {
 public:
  explicit StopAt(std::size_t at) : at_(at) {}
  std::string name() const override { return "StopAt"; }
  void on_epoch_end(Sequential& model, const EpochLog& log) override {
    if (log.epoch == at_) model.stop_training(true);
  }

 private:
  std::size_t at_;
};

FitOptions options(std::size_t epochs, std::vector<std::shared_ptr<Callback>> callbacks) {
  FitOptions o;
  o.epochs = epochs;
  o.batch_size = 16;
  o.validation_split = 0.2;
  o.callbacks = std::move(callbacks);
  return o;
}

TEST(CheckpointCallbacks, ARunSteeredByACallbackResumesBitIdentically) {
  const Data d = circles_like(200);
  constexpr std::size_t epochs = 12, stop = 5;
  Sequential straight = make_model();
  auto straight_halving = std::make_shared<HalvingCallback>();
  FitOptions all = options(epochs, {straight_halving});
  all.seed = 3;
  const History full = straight.fit(d.x, d.y, all);
  // The callback did change the rate: otherwise this test would prove nothing.
  ASSERT_LT(full.epochs.back().learning_rate, full.epochs.front().learning_rate);

  // The same run, checkpointed after each epoch and stopped after `stop` epochs.
  const fs::path file = temp_file("steered.xdc");
  Sequential first = make_model();
  auto halving = std::make_shared<HalvingCallback>();
  FitOptions part = options(stop, {halving});
  part.seed = 3;
  History history;
  part.on_epoch_end = [&](const EpochLog& log) {
    history.epochs.push_back(log);
    save_checkpoint(file.string(), first, {}, capture_training_state(first, log.epoch, history, part.callbacks));
  };
  first.fit(d.x, d.y, part);

  Checkpoint checkpoint = load_checkpoint(file.string());
  restore_training_state(checkpoint);
  auto resumed_halving = std::make_shared<HalvingCallback>();
  FitOptions rest = options(epochs, {resumed_halving});
  restore_callback_states(checkpoint.state, rest.callbacks);
  EXPECT_EQ(resumed_halving->wait_, halving->wait_);
  EXPECT_EQ(resumed_halving->best_, halving->best_);
  EXPECT_EQ(resumed_halving->best_weights_, halving->best_weights_);
  rest.initial_epoch = checkpoint.state.epochs_done;
  const History late = checkpoint.saved.model.fit(d.x, d.y, rest);

  ASSERT_EQ(late.epochs.size(), epochs - stop);
  for (std::size_t i = 0; i < late.epochs.size(); ++i) {
    EXPECT_EQ(late.epochs[i].loss, full.epochs[stop + i].loss) << "epoch " << stop + i + 1;
    EXPECT_EQ(late.epochs[i].learning_rate, full.epochs[stop + i].learning_rate) << "epoch " << stop + i + 1;
  }
  const std::vector<float> a = weights_of(straight), b = weights_of(checkpoint.saved.model);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)));
  EXPECT_EQ(resumed_halving->best_weights_, straight_halving->best_weights_);
}

TEST(CheckpointCallbacks, EveryHistoryFieldSurvives) {
  const Data d = circles_like(48);
  Sequential model = make_model();
  model.fit(d.x, d.y, options(1, {}));
  History history;
  EpochLog e;
  e.epoch = 1;
  e.loss = 0.5;
  e.accuracy = std::numeric_limits<double>::quiet_NaN();
  e.val_loss = 0.625;
  e.val_accuracy = 0.75;
  e.seconds = 0.125;
  e.learning_rate = 0.001953125;
  e.metrics = {{"auc", 0.875}, {"precision", std::numeric_limits<double>::quiet_NaN()}};
  e.val_metrics = {{"auc", 0.8125}, {"precision", 1.0}};
  history.epochs.push_back(e);
  const fs::path file = temp_file("history.xdc");
  save_checkpoint(file.string(), model, {}, capture_training_state(model, 1, history));
  const Checkpoint loaded = load_checkpoint(file.string());
  ASSERT_EQ(loaded.state.history.epochs.size(), 1u);
  const EpochLog& r = loaded.state.history.epochs[0];
  EXPECT_EQ(r.epoch, 1u);
  EXPECT_EQ(r.loss, 0.5);
  EXPECT_TRUE(std::isnan(r.accuracy));
  EXPECT_EQ(r.val_loss, 0.625);
  EXPECT_EQ(r.val_accuracy, 0.75);
  EXPECT_EQ(r.seconds, 0.125);
  EXPECT_EQ(r.learning_rate, 0.001953125);
  ASSERT_EQ(r.metrics.size(), 2u);
  EXPECT_EQ(r.metrics[0], e.metrics[0]);
  EXPECT_EQ(r.metrics[1].first, "precision");
  EXPECT_TRUE(std::isnan(r.metrics[1].second));
  EXPECT_EQ(r.val_metrics, e.val_metrics);
  EXPECT_FALSE(loaded.state.stop_training);
  EXPECT_TRUE(loaded.state.callbacks.empty());
}

TEST(CheckpointCallbacks, AStoppedRunIsRecordedAsStopped) {
  const Data d = circles_like(48);
  Sequential model = make_model();
  const fs::path file = temp_file("stopped.xdc");
  FitOptions o = options(10, {std::make_shared<StopAt>(2)});
  History history;
  o.on_epoch_end = [&](const EpochLog& log) {
    history.epochs.push_back(log);
    save_checkpoint(file.string(), model, {}, capture_training_state(model, log.epoch, history, o.callbacks));
  };
  model.fit(d.x, d.y, o);
  const Checkpoint loaded = load_checkpoint(file.string());
  EXPECT_EQ(loaded.state.epochs_done, 2u);
  EXPECT_TRUE(loaded.state.stop_training);
  ASSERT_EQ(loaded.state.callbacks.size(), 1u);
  EXPECT_EQ(loaded.state.callbacks[0].name, "StopAt");
  EXPECT_EQ(Config::from_cbor(loaded.state.callbacks[0].state), Config(nullptr));  // a stateless callback
}

TEST(CheckpointCallbacks, AStateOverOneMebibyteFits) {
  // Best weights of a model larger than the 1 MiB string limit of the format's other fields.
  const Data d = circles_like(32);
  Sequential model;
  model.add(std::make_unique<Dense>(600)).add("relu").add(std::make_unique<Dense>(600)).add("relu");
  model.add(std::make_unique<Dense>(1)).add("sigmoid");
  model.compile("binary_crossentropy", "adam");
  auto halving = std::make_shared<HalvingCallback>();
  model.fit(d.x, d.y, options(1, {halving}));
  ASSERT_GT(model.parameter_count(), 360'000u);
  const fs::path file = temp_file("large.xdc");
  const TrainingState state = capture_training_state(model, 0, History{}, {halving});
  ASSERT_GT(state.callbacks[0].state.size(), std::size_t{1} << 20);
  save_checkpoint(file.string(), model, {}, state);
  const Checkpoint loaded = load_checkpoint(file.string());
  auto restored = std::make_shared<HalvingCallback>();
  restore_callback_states(loaded.state, {restored});
  EXPECT_EQ(restored->best_weights_, halving->best_weights_);
  EXPECT_EQ(restored->best_, halving->best_);
}

TEST(CheckpointCallbacks, OtherCallbacksThanTheCheckpointsAreRefused) {
  TrainingState state;
  state.callbacks.push_back({"Halving", Config::to_cbor(Config{{"wait", 1}, {"best", 0.5}, {"best_weights", Config::array()}})});
  state.callbacks.push_back({"StopAt", Config::to_cbor(Config(nullptr))});
  auto message = [&](const std::vector<std::shared_ptr<Callback>>& callbacks) {
    try {
      restore_callback_states(state, callbacks);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message({std::make_shared<HalvingCallback>(), std::make_shared<StopAt>(3)}), "accepted");
  EXPECT_EQ(message({std::make_shared<HalvingCallback>()}),
            "restore_callback_states: the callbacks are not the checkpoint's: it holds the states of Halving, StopAt; "
            "given Halving (give the callbacks of the checkpointed run, in the same order)");
  EXPECT_THROW(restore_callback_states(state, {std::make_shared<StopAt>(3), std::make_shared<HalvingCallback>()}),
               InvalidArgument);
  EXPECT_NE(message({}).find("given none"), std::string::npos);

  // A state its callback refuses, and bytes that are not CBOR, name the callback.
  state.callbacks[0].state = Config::to_cbor(Config{{"patience", 2}});
  EXPECT_EQ(message({std::make_shared<HalvingCallback>(), std::make_shared<StopAt>(3)}),
            "invalid checkpoint: callback 0 (Halving): Halving: expected {\"wait\": n, ...}");
  state.callbacks[0].state = Config::to_cbor(Config{{"wait", 1}, {"best", 0.5}, {"best_weights", Config::array()}});
  state.callbacks[1].state = {0xff, 0x00};
  EXPECT_NE(message({std::make_shared<HalvingCallback>(), std::make_shared<StopAt>(3)}).find("callback 1 (StopAt): its state is not valid CBOR"),
            std::string::npos);
}

TEST(CheckpointCallbacks, AStateLongerThanTheFileIsRefusedBeforeItIsRead) {
  const Data d = circles_like(48);
  Sequential model = make_model();
  model.fit(d.x, d.y, options(1, {}));
  const fs::path file = temp_file("long_state.xdc");
  TrainingState state = capture_training_state(model, 0, History{}, {std::make_shared<StopAt>(1)});
  save_checkpoint(file.string(), model, {}, state);
  std::ifstream in(file, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  // The end: ..., u32 count 1, string "StopAt", u64 length 1, CBOR null (0xf6), CRC.
  const std::string tail = std::string("\x06\0\0\0StopAt\x01\0\0\0\0\0\0\0\xf6", 19);
  ASSERT_EQ(bytes.substr(bytes.size() - 4 - tail.size(), tail.size()), tail);
  bytes[bytes.size() - 4 - 9 + 6] = '\x7f';  // length byte 6 of the u64: about 2^55
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
  try {
    load_checkpoint(file.string());
    ADD_FAILURE() << "accepted a state longer than the file";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("callback 0 ('StopAt') state: length"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("exceeds the file"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace xdense
