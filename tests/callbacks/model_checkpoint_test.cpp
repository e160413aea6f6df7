// Tests of include/xdense/callbacks/model_checkpoint.hpp: the file is written only when the
// monitored value improves (its content is the model of that epoch), every epoch otherwise, the
// threshold, modes, missing values, a path that cannot be written, the state round trip.

#include "xdense/callbacks/model_checkpoint.hpp"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "callback_test_support.hpp"
#include "error_messages.hpp"
#include "xdense/error.hpp"
#include "xdense/model_file.hpp"

namespace xdense {
namespace {

using testing::contains;
using testing::epoch_log;
using testing::message_of;

class ModelCheckpointTest : public testing::TempFolderTest {
 protected:
  // Runs `checkpoint` over the val_loss `values`, changing the weights before each epoch end, and
  // returns the file's bytes after each epoch ("" while it does not exist). weights_[i]: epoch i+1's.
  std::vector<std::string> run(ModelCheckpoint& checkpoint, const std::vector<double>& values) {
    Sequential model = testing::small_model();
    checkpoint.on_train_begin(model);
    std::vector<std::string> files;
    for (std::size_t i = 0; i < values.size(); ++i) {
      std::vector<std::vector<float>> w = model.get_weights();
      w[0][0] = static_cast<float>(i + 1);
      model.set_weights(w);
      weights_.push_back(w);
      checkpoint.on_epoch_end(model, epoch_log(i + 1, 1.0, values[i]));
      files.push_back(read(checkpoint.filepath()));
    }
    return files;
  }

  std::vector<std::vector<std::vector<float>>> weights_;
};

ModelCheckpointOptions best_only(const std::string& monitor = "val_loss") {
  ModelCheckpointOptions options;
  options.monitor = monitor;
  options.save_best_only = true;
  return options;
}

TEST_F(ModelCheckpointTest, KerasDefaults) {
  const ModelCheckpoint checkpoint(path("m.xdm"), ModelInfo{});
  EXPECT_EQ(checkpoint.name(), "ModelCheckpoint");
  Config expected = nlohmann::json::parse(R"({"monitor": "val_loss", "verbose": 0, "save_best_only": false,
      "save_weights_only": false, "mode": "auto", "save_freq": "epoch", "initial_value_threshold": null})");
  expected["filepath"] = path("m.xdm");
  EXPECT_EQ(checkpoint.config(), expected);
}

TEST_F(ModelCheckpointTest, SaveBestOnlyWritesOnlyWhenTheValueImproves) {
  ModelInfo info;
  info.metadata = {{"run", "test"}};
  ModelCheckpoint checkpoint(path("best.xdm"), info, best_only());
  // Improvements at epochs 1, 2 and 4; epochs 3 (worse) and 5 (equal) leave the file as it was.
  const std::vector<std::string> files = run(checkpoint, {1.0, 0.8, 0.9, 0.7, 0.7});
  ASSERT_FALSE(files[0].empty());
  EXPECT_NE(files[1], files[0]);
  EXPECT_EQ(files[2], files[1]);
  EXPECT_NE(files[3], files[2]);
  EXPECT_EQ(files[4], files[3]);
  EXPECT_EQ(checkpoint.saves(), 3u);
  EXPECT_EQ(checkpoint.last_saved_epoch(), 4u);
  EXPECT_EQ(checkpoint.best(), 0.7);
  // The file is the model of epoch 4, with the info given.
  SavedModel saved = load_model(checkpoint.filepath());
  EXPECT_EQ(saved.model.get_weights(), weights_[3]);
  EXPECT_EQ(saved.info.metadata, info.metadata);
}

TEST_F(ModelCheckpointTest, WithoutSaveBestOnlyEveryEpochIsWritten) {
  ModelCheckpoint checkpoint(path("last.xdm"), ModelInfo{});
  const std::vector<std::string> files = run(checkpoint, {1.0, 2.0, 3.0});
  EXPECT_NE(files[1], files[0]);
  EXPECT_NE(files[2], files[1]);
  EXPECT_EQ(checkpoint.saves(), 3u);
  EXPECT_EQ(load_model(checkpoint.filepath()).model.get_weights(), weights_[2]);
}

TEST_F(ModelCheckpointTest, ThresholdModesAndMissingValues) {
  ModelCheckpointOptions options = best_only();
  options.initial_value_threshold = 0.75;
  ModelCheckpoint threshold(path("t.xdm"), ModelInfo{}, options);
  const std::vector<std::string> files = run(threshold, {1.0, 0.8, 0.7});
  EXPECT_TRUE(files[0].empty());
  EXPECT_TRUE(files[1].empty());
  EXPECT_FALSE(files[2].empty());
  EXPECT_EQ(threshold.saves(), 1u);

  // mode max: the highest value is kept.
  options = best_only();
  options.mode = "max";
  ModelCheckpoint up(path("up.xdm"), ModelInfo{}, options);
  EXPECT_TRUE(up.maximizes());
  run(up, {1.0, 0.8, 1.5, 1.2});
  EXPECT_EQ(up.last_saved_epoch(), 3u);
  EXPECT_EQ(up.best(), 1.5);

  // val_loss missing from the log (no validation data): as Keras, saved anyway, every epoch.
  ModelCheckpoint missing(path("missing.xdm"), ModelInfo{}, best_only());
  Sequential model = testing::small_model();
  missing.on_train_begin(model);
  for (std::size_t e = 1; e <= 2; ++e) missing.on_epoch_end(model, epoch_log(e, 1.0));
  EXPECT_EQ(missing.saves(), 2u);
  EXPECT_FALSE(missing.best().has_value());
}

TEST_F(ModelCheckpointTest, SavesDuringFitAndTheFileHoldsTheBestEpoch) {
  const testing::Data data = testing::regression_data();
  Sequential model = testing::small_model(0.05f);
  // Maximising the (falling) training loss: only epoch 1 is saved.
  ModelCheckpointOptions options = best_only("loss");
  options.mode = "max";
  auto checkpoint = std::make_shared<ModelCheckpoint>(path("fit.xdm"), ModelInfo{}, options);
  auto recorder = std::make_shared<testing::WeightRecorder>();
  FitOptions fit;
  fit.epochs = 3;
  fit.batch_size = 16;
  fit.callbacks = {checkpoint, recorder};
  model.fit(data.x, data.y, fit);
  EXPECT_EQ(checkpoint->saves(), 1u);
  EXPECT_EQ(load_model(path("fit.xdm")).model.get_weights(), recorder->weights[0]);
}

TEST_F(ModelCheckpointTest, APathThatCannotBeWrittenFailsAtTrainBegin) {
  Sequential model = testing::small_model();
  ModelCheckpoint checkpoint(path("no_such_folder/m.xdm"), ModelInfo{});
  EXPECT_TRUE(contains(message_of<DataError>([&] { checkpoint.on_train_begin(model); }), "no_such_folder/m.xdm"));
  ModelCheckpoint folder(dir_.string(), ModelInfo{});
  EXPECT_TRUE(contains(message_of<DataError>([&] { folder.on_train_begin(model); }), "is a directory"));
  ModelCheckpoint typo(path("m.xdm"), ModelInfo{}, best_only("val_acc"));
  EXPECT_TRUE(contains(message_of<InvalidArgument>([&] { typo.on_train_begin(model); }),
                       "ModelCheckpoint: monitor 'val_acc' is not a value fit() logs"));
  EXPECT_TRUE(contains(message_of<InvalidArgument>([&] { ModelCheckpoint("", ModelInfo{}); }),
                       "ModelCheckpoint: expected a file path"));
  ModelCheckpointOptions bad;
  bad.mode = "best";
  EXPECT_TRUE(contains(message_of<InvalidArgument>([&] { ModelCheckpoint(path("m.xdm"), ModelInfo{}, bad); }),
                       "ModelCheckpoint: mode must be"));
}

TEST_F(ModelCheckpointTest, StateRoundTripsAndKeepsTheBestAcrossAResume) {
  ModelCheckpoint first(path("r.xdm"), ModelInfo{}, best_only());
  run(first, {1.0, 0.1 + 0.2});
  const std::string text = first.state().dump();
  EXPECT_EQ(Config::parse(text), (Config{{"monitor", "val_loss"}, {"best", 0.1 + 0.2}, {"last_saved_epoch", 2}}));
  ModelCheckpoint second(path("r.xdm"), ModelInfo{}, best_only());
  second.restore_state(Config::parse(text));
  EXPECT_EQ(second.state().dump(), text);
  // The resumed run does not overwrite the best file with a worse model.
  const std::string before = read(path("r.xdm"));
  Sequential model = testing::small_model();
  second.on_train_begin(model);
  second.on_epoch_end(model, epoch_log(3, 1.0, 0.31));
  EXPECT_EQ(read(path("r.xdm")), before);
  EXPECT_EQ(second.saves(), 0u);
  ModelCheckpoint other(path("r.xdm"), ModelInfo{}, best_only("loss"));
  EXPECT_TRUE(contains(message_of<InvalidArgument>([&] { other.restore_state(Config::parse(text)); }),
                       "ModelCheckpoint state: it was saved by a callback monitoring 'val_loss'"));
}

}  // namespace
}  // namespace xdense
