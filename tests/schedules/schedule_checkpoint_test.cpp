// A scheduled optimizer through a model file and a checkpoint: save_model/load_model keep the
// schedule (in the optimizer's config, Keras 3's serialized form), and a run stopped half way,
// checkpointed, loaded and resumed ends bit-identical to an uninterrupted one: the schedule is a
// function of the step count, which the checkpoint holds.

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "xdense/checkpoint.hpp"
#include "xdense/dense.hpp"
#include "xdense/model_file.hpp"
#include "xdense/optimizer.hpp"
#include "xdense/random.hpp"
#include "xdense/schedule.hpp"

namespace xdense {
namespace {

// Decays that change the rate within the 36 steps of the run (6 epochs of 6 batches).
const std::vector<std::pair<std::string, Config>> schedules = {
    {"ExponentialDecay", {{"initial_learning_rate", 0.05}, {"decay_steps", 7}, {"decay_rate", 0.8}}},
    {"InverseTimeDecay", {{"initial_learning_rate", 0.05}, {"decay_steps", 5}, {"decay_rate", 0.5}, {"staircase", true}}},
    {"PolynomialDecay", {{"initial_learning_rate", 0.05}, {"decay_steps", 10}, {"power", 2.0}, {"cycle", true}}},
    {"CosineDecay",
     {{"initial_learning_rate", 0.0}, {"decay_steps", 24}, {"warmup_target", 0.05}, {"warmup_steps", 8}, {"alpha", 0.1}}},
    {"PiecewiseConstantDecay", {{"boundaries", {10, 20}}, {"values", {0.05, 0.02, 0.005}}}},
};

Sequential make_model(const std::string& optimizer, const Config& config) {
  Sequential model;
  model.add(std::make_unique<Dense>(6)).add("tanh").add(std::make_unique<Dense>(1)).add("sigmoid");
  model.compile(make_loss("binary_crossentropy"), make_optimizer(optimizer, config), {});
  return model;
}

std::vector<float> weights_of(const Sequential& model) {
  std::vector<float> all;
  for (const Parameter& p : model.parameters()) all.insert(all.end(), p.value, p.value + p.size);
  return all;
}

struct Data {
  Matrix x = Matrix::from_shape({96, 2});
  Matrix y = Matrix::from_shape({96, 1});
  Data() {
    Rng rng(3);
    for (std::size_t i = 0; i < 96; ++i) {
      x(i, 0) = static_cast<float>(rng.uniform(-1, 1));
      x(i, 1) = static_cast<float>(rng.uniform(-1, 1));
      y(i, 0) = x(i, 0) * x(i, 1) > 0.0f ? 1.0f : 0.0f;
    }
  }
};

std::filesystem::path temp_dir() {
  const auto dir = std::filesystem::path(::testing::TempDir()) / "xdense_schedule_checkpoint_test";
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(ScheduleCheckpoint, AScheduledRunResumesBitIdenticallyFromACheckpoint) {
  const Data data;
  const std::filesystem::path dir = temp_dir();
  // SGD with momentum, Adam, and AdamW (whose weight decay uses the scheduled rate).
  const std::vector<std::pair<std::string, Config>> optimizers = {
      {"sgd", {{"momentum", 0.9}}}, {"adam", Config::object()}, {"adamw", {{"weight_decay", 0.01}}}};
  for (const auto& [schedule, schedule_config] : schedules) {
    for (const auto& [name, base] : optimizers) {
      SCOPED_TRACE(schedule + " with " + name);
      Config config = base;
      config["learning_rate"] = {{"class_name", schedule}, {"config", schedule_config}};
      FitOptions options;
      options.batch_size = 16;
      options.seed = 11;
      options.epochs = 6;
      Sequential straight = make_model(name, config);
      straight.fit(data.x, data.y, options);
      ASSERT_EQ(straight.optimizer()->iterations(), 36u);

      Sequential first = make_model(name, config);
      options.epochs = 3;
      const History early = first.fit(data.x, data.y, options);
      const std::string file = (dir / (schedule + "_" + name + ".xdc")).string();
      save_checkpoint(file, first, {}, capture_training_state(first, 3, early));
      Checkpoint checkpoint = load_checkpoint(file);
      restore_training_state(checkpoint);
      const Optimizer& resumed = *checkpoint.saved.model.optimizer();
      ASSERT_NE(resumed.schedule(), nullptr);
      EXPECT_EQ(resumed.config(), first.optimizer()->config());
      EXPECT_EQ(resumed.current_learning_rate(), first.optimizer()->current_learning_rate());
      FitOptions rest;
      rest.batch_size = 16;
      rest.epochs = 6;
      rest.initial_epoch = 3;
      checkpoint.saved.model.fit(data.x, data.y, rest);
      EXPECT_EQ(weights_of(checkpoint.saved.model), weights_of(straight));
      EXPECT_EQ(checkpoint.saved.model.optimizer()->current_learning_rate(),
                straight.optimizer()->current_learning_rate());
    }
  }
}

TEST(ScheduleCheckpoint, AModelFileKeepsTheScheduleInKeras3Form) {
  const Data data;
  const std::filesystem::path dir = temp_dir();
  for (const auto& [schedule, schedule_config] : schedules) {
    SCOPED_TRACE(schedule);
    Sequential model = make_model("adam", {{"learning_rate", {{"class_name", schedule}, {"config", schedule_config}}}});
    FitOptions options;
    options.batch_size = 32;
    options.seed = 5;
    options.epochs = 1;
    model.fit(data.x, data.y, options);
    const std::string file = (dir / (schedule + ".xdm")).string();
    save_model(file, model, {});
    SavedModel saved = load_model(file);
    const Config config = saved.model.optimizer()->config();
    EXPECT_EQ(config, model.optimizer()->config());
    EXPECT_EQ(config.at("learning_rate").at("module"), "keras.optimizers.schedules");
    EXPECT_EQ(config.at("learning_rate").at("class_name"), schedule);
    EXPECT_TRUE(config.at("learning_rate").at("registered_name").is_null());
    EXPECT_EQ(config.at("learning_rate").at("config"), make_schedule(schedule, schedule_config)->config());
  }
}

}  // namespace
}  // namespace xdense
