#pragma once
// Helpers shared by the tests of include/xdense/layers/: random inputs, bitwise comparison, a
// model's weights in one list, and a scratch file per test suite.

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

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

}  // namespace xdense::testing
