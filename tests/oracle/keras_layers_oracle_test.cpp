// Compares BatchNormalization and LayerNormalization (include/xdense/layers/) with numbers PyTorch
// computed: tests/oracle/keras_layers.json, written by tests/oracle/make_layer_fixtures.py (run by
// hand with Debian's python3-torch; torch is not needed here). The reference is Keras's formula in
// torch ops (float64 on the float32 inputs, rounded to float32); the fixture records the torch
// version, how every number was computed and where Keras (followed) and torch differ: torch's
// momentum is 1 - Keras's, and torch moves the running variance with the unbiased batch variance.
//
// Tolerance, as tests/oracle_test.cpp's for computations over a batch (its training tolerance):
// each output, gradient and moving statistic within 1e-5 max(1, |want|). Outputs are sums over a
// batch or a row, computed in float32 with double sums; torch's own float32 layers are within
// ~1e-6 of the reference (recorded in the fixture). The measured maximum errors are printed.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "xdense/layers/batch_normalization.hpp"
#include "xdense/layers/layer_normalization.hpp"
#include "xdense/random.hpp"

namespace xdense {
namespace {

using nlohmann::json;

constexpr double tolerance = 1e-5;

json load_fixture() {
  const std::string path = std::string(XDENSE_DATA_DIR) + "/../tests/oracle/keras_layers.json";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open oracle fixture " + path);
  return json::parse(in);
}

Matrix to_matrix(const json& m) {
  Matrix out = Matrix::from_shape({m.at("rows").get<std::size_t>(), m.at("cols").get<std::size_t>()});
  std::size_t i = 0;
  for (const json& v : m.at("values")) out.data()[i++] = static_cast<float>(v.get<double>());
  return out;
}

/// Checks got[0..n) against the fixture's values, returning the largest error.
double expect_close(const float* got, const json& want, const std::string& what) {
  double largest = 0.0;
  std::size_t i = 0;
  for (const json& v : want) {
    const double w = static_cast<float>(v.get<double>());
    const double error = std::fabs(got[i] - w);
    largest = std::max(largest, error);
    EXPECT_LE(error, tolerance * std::max(1.0, std::fabs(w))) << what << "[" << i << "]: xdense " << got[i]
                                                               << ", torch " << w;
    ++i;
  }
  return largest;
}

double expect_close(ConstMatrixView got, const json& want, const std::string& what) {
  EXPECT_EQ(got.rows, want.at("rows").get<std::size_t>()) << what;
  EXPECT_EQ(got.cols, want.at("cols").get<std::size_t>()) << what;
  return expect_close(got.data, want.at("values"), what);
}

void set(const std::vector<Parameter>& weights, const std::string& name, const json& values) {
  for (const Parameter& p : weights) {
    if (p.name != name) continue;
    ASSERT_EQ(p.size, values.size()) << name;
    for (std::size_t i = 0; i < p.size; ++i) p.value[i] = static_cast<float>(values[i].get<double>());
  }
}

const float* values_of(const std::vector<Parameter>& weights, const std::string& name, bool gradient) {
  for (const Parameter& p : weights) {
    if (p.name == name) return gradient ? p.gradient : p.value;
  }
  throw std::runtime_error("no weight " + name);
}

/// Parameter gradients (dgamma, dbeta when the case has them) and dx after backward(dy).
double expect_gradients(Layer& layer, const json& expected, const std::string& what) {
  const Matrix dy = to_matrix(expected.at("dy"));
  double largest = expect_close(layer.backward(view(dy)), expected.at("dx"), what + " dx");
  if (expected.contains("dgamma")) {
    largest = std::max(largest, expect_close(values_of(layer.parameters(), "gamma", true), expected.at("dgamma"),
                                             what + " dgamma"));
  }
  if (expected.contains("dbeta")) {
    largest = std::max(largest, expect_close(values_of(layer.parameters(), "beta", true), expected.at("dbeta"),
                                             what + " dbeta"));
  }
  return largest;
}

TEST(KerasLayersOracle, BatchNormalizationInBothModesAndItsMovingStatistics) {
  const json fixture = load_fixture();
  double largest = 0.0;
  for (const json& c : fixture.at("batch_normalization")) {
    const std::string name = c.at("name").get<std::string>();
    BatchNormalizationOptions options;
    options.momentum = c.at("momentum").get<double>();
    options.epsilon = c.at("epsilon").get<double>();
    options.center = c.at("center").get<bool>();
    options.scale = c.at("scale").get<bool>();
    BatchNormalization layer(options);
    Rng rng;
    layer.build(c.at("gamma").size(), rng);
    for (const char* weight : {"gamma", "beta", "moving_mean", "moving_variance"}) set(layer.weights(), weight, c.at(weight));
    layer.set_training(true);
    std::size_t step = 0;
    for (const json& s : c.at("steps")) {
      const std::string what = name + ", training step " + std::to_string(++step);
      const Matrix x = to_matrix(s.at("x"));
      largest = std::max(largest, expect_close(layer.forward(view(x)), s.at("y"), what + " y"));
      largest = std::max(largest, expect_gradients(layer, s, what));
      const std::vector<Parameter> state = layer.non_trainable_weights();
      largest = std::max(largest, expect_close(values_of(state, "moving_mean", false), s.at("moving_mean"),
                                               what + " moving_mean"));
      largest = std::max(largest, expect_close(values_of(state, "moving_variance", false), s.at("moving_variance"),
                                               what + " moving_variance"));
    }
    layer.set_training(false);
    const json& inference = c.at("inference");
    const Matrix x = to_matrix(inference.at("x"));
    largest = std::max(largest, expect_close(layer.forward(view(x)), inference.at("y"), name + ", inference y"));
    largest = std::max(largest, expect_gradients(layer, inference, name + ", inference"));
  }
  std::cout << "[ oracle   ] BatchNormalization: largest error " << largest << "\n";
}

TEST(KerasLayersOracle, LayerNormalizationForwardAndBackward) {
  const json fixture = load_fixture();
  double largest = 0.0;
  for (const json& c : fixture.at("layer_normalization")) {
    const std::string name = c.at("name").get<std::string>();
    LayerNormalizationOptions options;
    options.epsilon = c.at("epsilon").get<double>();
    options.center = c.at("center").get<bool>();
    options.scale = c.at("scale").get<bool>();
    LayerNormalization layer(options);
    Rng rng;
    layer.build(c.at("gamma").size(), rng);
    for (const char* weight : {"gamma", "beta"}) set(layer.weights(), weight, c.at(weight));
    const Matrix x = to_matrix(c.at("x"));
    largest = std::max(largest, expect_close(layer.forward(view(x)), c.at("y"), name + " y"));
    largest = std::max(largest, expect_gradients(layer, c, name));
  }
  std::cout << "[ oracle   ] LayerNormalization: largest error " << largest << "\n";
}

}  // namespace
}  // namespace xdense
