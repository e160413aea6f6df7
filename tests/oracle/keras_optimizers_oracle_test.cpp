// Compares xdense's optimizers with Keras 3's update rules written out in torch float32 operations:
// tests/oracle/keras_optimizers.json, written by tests/oracle/make_optimizer_fixtures.py (run by hand
// with Debian's python3-torch), on the MLP, initial weights and batches of training.json. It also
// records how far torch's own optimizer lands from the Keras trajectory and why (printed here).
//
// Tolerances are oracle_test.cpp's for training: after every 10 of 50 steps each weight within
// 1e-5 max(1, |want|), and each step's loss within 1e-5 relative. Every run is made by name and
// config through make_optimizer, so the fixture's Keras configs (base options included) are read as
// a user's would be.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "xdense/dense.hpp"
#include "xdense/loss.hpp"
#include "xdense/optimizer.hpp"
#include "xdense/sequential.hpp"

namespace xdense {
namespace {

using nlohmann::json;

constexpr double tolerance = 1e-5;

json read_json(const std::string& name) {
  const std::string path = std::string(XDENSE_DATA_DIR) + "/../tests/oracle/" + name;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open oracle fixture " + path);
  return json::parse(in);
}

std::vector<float> floats_of(const json& values) {
  std::vector<float> out;
  for (const json& v : values) out.push_back(static_cast<float>(v.get<double>()));
  return out;
}

/// training.json's batches as (x, class-index column) matrices, and its initial weights.
struct TrainingData {
  json model;
  std::vector<Matrix> x, y;
  std::vector<std::vector<float>> initial;
};

TrainingData read_training_setup() {
  const json training = read_json("training.json");
  TrainingData setup;
  setup.model = training.at("model");
  for (const json& batch : training.at("batches")) {
    const json& x = batch.at("x");
    Matrix inputs = Matrix::from_shape({x.at("rows").get<std::size_t>(), x.at("cols").get<std::size_t>()});
    const std::vector<float> values = floats_of(x.at("values"));
    std::copy(values.begin(), values.end(), inputs.begin());
    const std::vector<int> labels = batch.at("labels").get<std::vector<int>>();
    Matrix classes = Matrix::from_shape({labels.size(), std::size_t{1}});
    for (std::size_t r = 0; r < labels.size(); ++r) classes(r, 0) = static_cast<float>(labels[r]);
    setup.x.push_back(std::move(inputs));
    setup.y.push_back(std::move(classes));
  }
  for (const json& w : training.at("initial_weights")) setup.initial.push_back(floats_of(w));
  return setup;
}

/// The MLP with `weights` (kernel, bias per Dense layer), compiled with `optimizer`.
Sequential make_model(const TrainingData& setup, const std::vector<std::vector<float>>& weights,
                      std::unique_ptr<Optimizer> optimizer) {
  Sequential model;
  std::vector<Dense*> dense;
  for (const json& layer : setup.model.at("layers")) {
    auto d = std::make_unique<Dense>(layer.at("units").get<std::size_t>(), layer.at("inputs").get<std::size_t>());
    dense.push_back(d.get());
    model.add(std::move(d));
    model.add(layer.at("activation").get<std::string>());
  }
  model.compile(make_loss("categorical_crossentropy"), std::move(optimizer), {});
  model.build(dense.front()->input_units());
  for (std::size_t k = 0; k < dense.size(); ++k) {
    Matrix kernel = Matrix::from_shape({dense[k]->input_units(), dense[k]->output_units()});
    Vector bias = Vector::from_shape({dense[k]->output_units()});
    std::copy(weights[2 * k].begin(), weights[2 * k].end(), kernel.begin());
    std::copy(weights[2 * k + 1].begin(), weights[2 * k + 1].end(), bias.begin());
    dense[k]->set_weights(kernel, bias);
  }
  model.reserve(setup.x.front().shape(0));
  return model;
}

/// The model's trainable weights in parameter order (kernel, bias, ...).
std::vector<std::vector<float>> weights_of(const Sequential& model) {
  std::vector<std::vector<float>> out;
  for (const Parameter& p : model.parameters()) out.emplace_back(p.value, p.value + p.size);
  return out;
}

std::unique_ptr<Optimizer> make_run_optimizer(const json& run) {
  return make_optimizer(run.at("optimizer").get<std::string>(), run.at("config"));
}

TEST(KerasOptimizersOracle, TrajectoriesFollowTheKerasRules) {
  const TrainingData setup = read_training_setup();
  const json fixture = read_json("keras_optimizers.json");
  ASSERT_GE(fixture.at("runs").size(), 15u);
  double worst = 0.0;
  for (const json& run : fixture.at("runs")) {
    const std::string name = run.at("name").get<std::string>();
    SCOPED_TRACE(name);
    Sequential model = make_model(setup, setup.initial, make_run_optimizer(run));
    ASSERT_TRUE(model.loss_from_logits());
    const std::vector<float> losses = floats_of(run.at("losses"));
    double weight_error = 0.0, loss_error = 0.0;
    std::size_t snapshot = 1;  // snapshot 0 is the initial weights
    for (std::size_t step = 1; step <= setup.x.size(); ++step) {
      const double loss = model.train_step(view(setup.x[step - 1]), view(setup.y[step - 1]));
      loss_error = std::max(loss_error, std::fabs(loss - losses[step - 1]) / std::fabs(losses[step - 1]));
      EXPECT_LE(std::fabs(loss - losses[step - 1]), tolerance * std::fabs(losses[step - 1])) << "loss at step " << step;
      const json& snapshots = run.at("snapshots");
      if (snapshot >= snapshots.size() || snapshots[snapshot].at("step").get<std::size_t>() != step) continue;
      const std::vector<std::vector<float>> got = weights_of(model);
      const json& want = snapshots[snapshot++].at("weights");
      ASSERT_EQ(got.size(), want.size());
      for (std::size_t k = 0; k < got.size(); ++k) {
        const std::vector<float> expected = floats_of(want[k]);
        for (std::size_t i = 0; i < expected.size(); ++i) {
          const double error = std::fabs(double(got[k][i]) - expected[i]);
          weight_error = std::max(weight_error, error / std::max(1.0, std::fabs(double(expected[i]))));
          EXPECT_LE(error, tolerance * std::max(1.0, std::fabs(double(expected[i]))))
              << "step " << step << ", parameter " << k << " [" << i << "]: xdense " << got[k][i] << ", Keras rule "
              << expected[i];
        }
      }
    }
    EXPECT_EQ(snapshot, run.at("snapshots").size());
    worst = std::max(worst, weight_error);
    std::cout << "[oracle] " << std::left << std::setw(42) << name << "weights max error " << std::setw(11)
              << weight_error << " losses max rel error " << std::setw(11) << loss_error
              << " torch's optimizer: " << run.at("torch_max_abs_difference").get<double>()
              << (run.contains("clipped_steps")
                      ? ", clipped on " + std::to_string(run.at("clipped_steps").get<int>()) + " of 50 steps"
                      : std::string())
              << std::endl;
  }
  std::cout << "[oracle] all optimizer runs: weights max error " << worst << std::endl;
}

// Resume from a checkpoint's parts: an optimizer rebuilt from name() and config(), given the state()
// taken at step 25 and the weights of that step, takes the remaining steps bit for bit as the
// uninterrupted run does (Nadam's momentum product and the beta powers come from the step count).
TEST(KerasOptimizersOracle, RestoredStateContinuesBitIdentically) {
  const TrainingData setup = read_training_setup();
  const json fixture = read_json("keras_optimizers.json");
  for (const json& run : fixture.at("runs")) {
    SCOPED_TRACE(run.at("name").get<std::string>());
    Sequential uninterrupted = make_model(setup, setup.initial, make_run_optimizer(run));
    OptimizerState halfway;
    std::vector<std::vector<float>> weights_halfway;
    for (std::size_t step = 0; step < setup.x.size(); ++step) {
      if (step == 25) {
        halfway = uninterrupted.optimizer()->state();
        weights_halfway = weights_of(uninterrupted);
      }
      uninterrupted.train_step(view(setup.x[step]), view(setup.y[step]));
    }
    const Optimizer& original = *uninterrupted.optimizer();
    Sequential resumed = make_model(setup, weights_halfway, make_optimizer(original.name(), original.config()));
    EXPECT_EQ(resumed.optimizer()->config(), original.config());
    resumed.optimizer()->restore(halfway, resumed.parameters());
    for (std::size_t step = 25; step < setup.x.size(); ++step) {
      resumed.train_step(view(setup.x[step]), view(setup.y[step]));
    }
    EXPECT_EQ(resumed.optimizer()->iterations(), setup.x.size());
    EXPECT_EQ(weights_of(resumed), weights_of(uninterrupted));
    EXPECT_EQ(resumed.optimizer()->state().slots, original.state().slots);
  }
}

}  // namespace
}  // namespace xdense
