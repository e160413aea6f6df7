// Compares xdense's weight regularizers in training with Keras's penalties written out in torch
// float32 operations: tests/oracle/keras_regularized.json, written by
// tests/oracle/make_regularizer_fixtures.py (run by hand with Debian's python3-torch), on the MLP,
// initial weights and batches of training.json, 50 steps of SGD (lr 0.1). Each run's regularizers are
// the fixture's Keras identifiers, given to make_layer("Dense", config) as a Keras config would be.
//
// Tolerances are oracle_test.cpp's for training: after every 10 of 50 steps each weight within
// 1e-5 max(1, |want|), and each step's loss (cross-entropy + penalty) within 1e-5 relative.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <fstream>
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

json read_fixture(const std::string& name) {
  const std::string path = std::string(XDENSE_DATA_DIR) + "/../tests/oracle/" + name;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open oracle fixture " + path);
  return json::parse(in);
}

std::vector<float> float_values(const json& values) {
  std::vector<float> out;
  for (const json& v : values) out.push_back(static_cast<float>(v.get<double>()));
  return out;
}

/// The run's model: the fixture's Dense layers (made by make_layer from a Keras-style config with
/// the run's regularizers) and activations, with training.json's initial weights.
Sequential regularized_model(const json& fixture, const json& run, const json& initial, std::vector<Dense*>& dense) {
  Sequential model;
  for (const json& layer : fixture.at("model").at("layers")) {
    const json config = {{"units", layer.at("units")},
                         {"kernel_regularizer", run.at("kernel_regularizer")},
                         {"bias_regularizer", run.at("bias_regularizer")}};
    std::unique_ptr<Layer> made = make_layer("Dense", config);
    dense.push_back(dynamic_cast<Dense*>(made.get()));
    model.add(std::move(made));
    model.add(layer.at("activation").get<std::string>());
  }
  model.compile(make_loss("categorical_crossentropy"), make_optimizer("sgd", {{"learning_rate", run.at("keras").at("learning_rate")}}),
                {});
  model.build(fixture.at("model").at("layers")[0].at("inputs").get<std::size_t>());
  for (std::size_t k = 0; k < dense.size(); ++k) {
    Matrix kernel = Matrix::from_shape({dense[k]->input_units(), dense[k]->output_units()});
    Vector bias = Vector::from_shape({dense[k]->output_units()});
    const std::vector<float> w = float_values(initial[2 * k]);
    const std::vector<float> b = float_values(initial[2 * k + 1]);
    std::copy(w.begin(), w.end(), kernel.begin());
    std::copy(b.begin(), b.end(), bias.begin());
    dense[k]->set_weights(kernel, bias);
  }
  return model;
}

TEST(KerasRegularizedOracle, TrainingWithPenaltiesMatchesTorch) {
  const json fixture = read_fixture("keras_regularized.json");
  const json training = read_fixture("training.json");
  std::vector<Matrix> inputs, labels;
  for (const json& batch : training.at("batches")) {
    const json& x = batch.at("x");
    Matrix m = Matrix::from_shape({x.at("rows").get<std::size_t>(), x.at("cols").get<std::size_t>()});
    const std::vector<float> values = float_values(x.at("values"));
    std::copy(values.begin(), values.end(), m.begin());
    inputs.push_back(std::move(m));
    const std::vector<int> classes = batch.at("labels").get<std::vector<int>>();
    Matrix y = Matrix::from_shape({classes.size(), std::size_t{1}});
    for (std::size_t r = 0; r < classes.size(); ++r) y(r, 0) = static_cast<float>(classes[r]);
    labels.push_back(std::move(y));
  }
  ASSERT_EQ(inputs.size(), fixture.at("steps").get<std::size_t>());
  ASSERT_EQ(fixture.at("runs").size(), 2u);

  for (const json& run : fixture.at("runs")) {
    const std::string name = run.at("name").get<std::string>();
    SCOPED_TRACE(name);
    std::vector<Dense*> dense;
    Sequential model = regularized_model(fixture, run, training.at("initial_weights"), dense);
    ASSERT_TRUE(model.loss_from_logits());
    const std::vector<float> losses = float_values(run.at("losses"));
    const std::vector<float> penalties = float_values(run.at("penalties"));
    const json& snapshots = run.at("snapshots");
    double worst_loss = 0.0, worst_weight = 0.0;
    std::size_t next_snapshot = 0;
    for (std::size_t step = 0; step <= inputs.size(); ++step) {
      if (step > 0) {
        const double penalty = model.regularization_loss();
        EXPECT_LE(std::fabs(penalty - penalties[step - 1]), tolerance * std::fabs(penalties[step - 1]))
            << "penalty at step " << step;
        const double loss = model.train_step(view(inputs[step - 1]), view(labels[step - 1]));
        const double want = losses[step - 1];
        worst_loss = std::max(worst_loss, std::fabs(loss - want) / std::fabs(want));
        EXPECT_LE(std::fabs(loss - want), tolerance * std::fabs(want)) << "loss at step " << step;
      }
      if (next_snapshot >= snapshots.size() || snapshots[next_snapshot].at("step").get<std::size_t>() != step) continue;
      const json& weights = snapshots[next_snapshot++].at("weights");
      for (std::size_t k = 0; k < dense.size(); ++k) {
        const std::vector<float> kernel = float_values(weights[2 * k]);
        const std::vector<float> bias = float_values(weights[2 * k + 1]);
        for (const auto& [got, want] : {std::make_pair(dense[k]->kernel().data(), &kernel),
                                        std::make_pair(dense[k]->bias().data(), &bias)}) {
          for (std::size_t i = 0; i < want->size(); ++i) {
            const double w = (*want)[i];
            worst_weight = std::max(worst_weight, std::fabs(got[i] - w) / std::max(1.0, std::fabs(w)));
            EXPECT_LE(std::fabs(got[i] - w), tolerance * std::max(1.0, std::fabs(w)))
                << "step " << step << ", dense layer " << k << " [" << i << "]";
          }
        }
      }
    }
    EXPECT_EQ(next_snapshot, snapshots.size());
    std::cout << "[oracle] " << name << ": largest loss error " << worst_loss << " (relative), largest weight error "
              << worst_weight << std::endl;
  }
}

}  // namespace
}  // namespace xdense
