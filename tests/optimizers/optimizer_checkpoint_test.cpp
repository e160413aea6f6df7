// Every built-in optimizer, with clipping and weight decay set, through a checkpoint file: a run
// stopped after 3 epochs, saved, loaded and resumed ends bit-identical to an uninterrupted 6-epoch
// run. The file holds the optimizer's name and config() (base options included) and its named
// slots; Nadam's momentum product and the beta powers are rebuilt from the step count.

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "xdense/checkpoint.hpp"
#include "xdense/dense.hpp"
#include "xdense/optimizer.hpp"
#include "xdense/random.hpp"

namespace xdense {
namespace {

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

TEST(OptimizerCheckpoint, EveryOptimizerResumesBitIdenticallyFromAFile) {
  Rng rng(3);
  Matrix x = Matrix::from_shape({96, 2}), y = Matrix::from_shape({96, 1});
  for (std::size_t i = 0; i < 96; ++i) {
    x(i, 0) = static_cast<float>(rng.uniform(-1, 1));
    x(i, 1) = static_cast<float>(rng.uniform(-1, 1));
    y(i, 0) = x(i, 0) * x(i, 1) > 0.0f ? 1.0f : 0.0f;
  }
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "xdense_optimizer_checkpoint_test";
  std::filesystem::create_directories(dir);
  const Config extras[] = {Config{{"learning_rate", 0.05}, {"clipnorm", 0.5}, {"weight_decay", 0.01}},
                           Config{{"learning_rate", 0.05}, {"global_clipnorm", 0.3}}};
  for (const std::string& name : optimizer_names()) {
    for (Config config : extras) {
      if (name == "rmsprop") config.update(Config{{"momentum", 0.5}, {"centered", true}});
      SCOPED_TRACE(name + " " + config.dump());
      FitOptions options;
      options.batch_size = 16;
      options.seed = 11;
      options.epochs = 6;
      Sequential straight = make_model(name, config);
      straight.fit(x, y, options);

      Sequential first = make_model(name, config);
      options.epochs = 3;
      const History early = first.fit(x, y, options);
      const std::string file = (dir / (name + ".xdc")).string();
      save_checkpoint(file, first, {}, capture_training_state(first, 3, early));
      Checkpoint checkpoint = load_checkpoint(file);
      restore_training_state(checkpoint);
      EXPECT_EQ(checkpoint.saved.model.optimizer()->config(), first.optimizer()->config());
      EXPECT_EQ(checkpoint.saved.model.optimizer()->state().names, first.optimizer()->state().names);
      FitOptions rest;
      rest.batch_size = 16;
      rest.epochs = 6;
      rest.initial_epoch = 3;
      checkpoint.saved.model.fit(x, y, rest);
      EXPECT_EQ(weights_of(checkpoint.saved.model), weights_of(straight));
    }
  }
}

}  // namespace
}  // namespace xdense
