#pragma once
// Helpers shared by the tests of include/xdense/layers/: random inputs, bitwise comparison, a
// model's weights in one list, and a scratch file per test suite.

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "gradient_check.hpp"

#include "xdense/config.hpp"
#include "xdense/layer.hpp"
#include "xdense/random.hpp"
#include "xdense/sequential.hpp"
#include "xdense/tensor.hpp"

namespace xdense::testing {

/// (rows, cols) of uniform values in [low, high) from Rng(seed).
inline Matrix filled(std::size_t rows, std::size_t cols, std::uint64_t seed, double low = -1.0, double high = 1.0) {
  Rng rng(seed);
  Matrix m = Matrix::from_shape({rows, cols});
  for (float& v : m) v = static_cast<float>(rng.uniform(low, high));
  return m;
}

inline bool same_bits(ConstMatrixView a, ConstMatrixView b) {
  return a.rows == b.rows && a.cols == b.cols && std::memcmp(a.data, b.data, a.size() * sizeof(float)) == 0;
}

inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

/// Every weight of the model, trainable then non-trainable, layer by layer.
inline std::vector<float> all_weights(const Sequential& model) {
  std::vector<float> all;
  for (std::size_t i = 0; i < model.layer_count(); ++i) {
    for (const Parameter& p : model.layer(i).weights()) all.insert(all.end(), p.value, p.value + p.size);
  }
  return all;
}

/// `name` in a scratch folder of `suite`.
inline std::filesystem::path scratch_file(const std::string& suite, const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / suite;
  std::filesystem::create_directories(dir);
  return dir / name;
}

/// Finite-difference checks of a built layer's dL/dx and each parameter's gradient for
/// L = sum w y, w fixed random (`w_seed`): forward, then backward(w), in the layer's current mode.
inline void expect_layer_gradients(Layer& layer, Matrix x, std::uint64_t w_seed, const std::string& what) {
  const Matrix w = filled(x.shape(0), x.shape(1), w_seed);
  const auto loss = [&] {
    const ConstMatrixView y = layer.forward(view(x));
    double total = 0.0;
    for (std::size_t i = 0; i < y.size(); ++i) total += double(w.data()[i]) * y.data[i];
    return total;
  };
  loss();
  const Matrix dx = to_matrix(layer.backward(view(w)));
  expect_gradient_matches(x.data(), dx.data(), x.size(), loss, what + " dL/dx");
  for (const Parameter& p : layer.parameters()) {
    const std::vector<float> analytic(p.gradient, p.gradient + p.size);
    expect_gradient_matches(p.value, analytic.data(), p.size, loss, what + " dL/d" + p.name);
  }
}

/// "key: reason" of the ConfigError make_layer(kind, config) throws, or "accepted".
inline std::string config_error(const std::string& kind, const Config& config) {
  try {
    make_layer(kind, config);
  } catch (const ConfigError& e) {
    return e.key() + ": " + e.reason();
  }
  return "accepted";
}

struct Data {
  Matrix x, y;
};

/// n samples of `features` in [-2, 2) and a class 0, 1 or 2 from x0 + x1 x2 - x3 / 2 (features >= 4).
inline Data three_classes(std::size_t n, std::size_t features, std::uint64_t seed) {
  Data d{filled(n, features, seed, -2.0, 2.0), Matrix::from_shape({n, 1})};
  for (std::size_t r = 0; r < n; ++r) {
    const float s = d.x(r, 0) + d.x(r, 1) * d.x(r, 2) - 0.5f * d.x(r, 3);
    d.y(r, 0) = s < -0.5f ? 0.0f : s < 0.5f ? 1.0f : 2.0f;
  }
  return d;
}

/// Epochs initial + 1 .. epochs in batches of 16; a first run seeds the model with `seed`, a resumed
/// one continues the restored generator.
inline FitOptions run_options(std::size_t epochs, std::size_t initial, std::uint64_t seed) {
  FitOptions options;
  options.epochs = epochs;
  options.initial_epoch = initial;
  options.batch_size = 16;
  if (initial == 0) options.seed = seed;
  return options;
}

}  // namespace xdense::testing
