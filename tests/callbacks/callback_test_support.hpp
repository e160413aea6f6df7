#pragma once
// What the callback tests share: a small compiled model, epoch logs made by hand, a data set a
// fit() can train on, a temporary folder, and a callback recording the weights after each epoch.

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "xdense/callback.hpp"
#include "xdense/dense.hpp"
#include "xdense/sequential.hpp"

namespace xdense::testing {

inline constexpr double nan_value = std::numeric_limits<double>::quiet_NaN();

/// 3 inputs -> Dense(4, relu) -> Dense(1): built and compiled with mse and SGD(learning_rate).
inline Sequential small_model(float learning_rate = 0.1f, std::uint64_t seed = 3) {
  Sequential model(seed);
  model.add(std::make_unique<Dense>(4, 3)).add("relu");
  model.add(std::make_unique<Dense>(1));
  SGDOptions sgd;
  sgd.learning_rate = learning_rate;
  model.compile(make_loss("mse"), std::make_unique<SGD>(sgd), {});
  model.build(3);
  return model;
}

/// 3 inputs -> Dense(1, sigmoid), binary cross-entropy, SGD, the accuracy metric.
inline Sequential binary_model(std::uint64_t seed = 3) {
  Sequential model(seed);
  model.add(std::make_unique<Dense>(1, 3)).add("sigmoid");
  model.compile(make_loss("binary_crossentropy"), std::make_unique<SGD>(), {"accuracy"});
  model.build(3);
  return model;
}

/// An epoch log as fit() makes it, with only training loss and (unless NaN) validation loss;
/// `metrics` go to both lists when `validated`.
inline EpochLog epoch_log(std::size_t epoch, double loss, double val_loss = nan_value,
                          std::vector<std::pair<std::string, double>> metrics = {},
                          std::vector<std::pair<std::string, double>> val_metrics = {}) {
  EpochLog log;
  log.epoch = epoch;
  log.loss = loss;
  log.accuracy = nan_value;
  log.val_loss = val_loss;
  log.val_accuracy = nan_value;
  log.learning_rate = nan_value;
  log.metrics = std::move(metrics);
  log.val_metrics = std::move(val_metrics);
  return log;
}

/// y = x0 - 2 x1 + 0.5 x2 on 64 random rows: a regression fit() learns in a few epochs.
struct Data {
  Matrix x;
  Matrix y;
};
inline Data regression_data(std::size_t rows = 64, std::uint64_t seed = 11) {
  Rng rng(seed);
  Data d{Matrix::from_shape({rows, 3}), Matrix::from_shape({rows, 1})};
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < 3; ++c) d.x(r, c) = static_cast<float>(rng.uniform(-1.0, 1.0));
    d.y(r, 0) = d.x(r, 0) - 2.0f * d.x(r, 1) + 0.5f * d.x(r, 2);
  }
  return d;
}

/// Keeps the model's weights after every epoch (put it after the callback under test).
class WeightRecorder final : public Callback {
 public:
  std::string name() const override { return "WeightRecorder"; }
  void on_epoch_end(Sequential& model, const EpochLog& /*log*/) override { weights.push_back(model.get_weights()); }
  std::vector<std::vector<std::vector<float>>> weights;
};

/// A fresh temporary folder per test, removed afterwards.
class TempFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "xdense-callbacks-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static std::string read(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }
  static void write(const std::string& file, const std::string& text) { std::ofstream(file, std::ios::binary) << text; }

  std::filesystem::path dir_;
};

}  // namespace xdense::testing
