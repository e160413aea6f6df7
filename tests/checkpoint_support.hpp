#pragma once
// What the checkpoint tests share: a small two-feature problem, a model for it, its weights as one array.

#include <memory>
#include <string>
#include <vector>

#include "xdense/dense.hpp"
#include "xdense/random.hpp"
#include "xdense/sequential.hpp"
#include "xdense/tensor.hpp"

namespace xdense::testing {

struct Data {
  Matrix x, y;
};

/// `n` points in [-1, 1]^2, labelled 1 inside the circle x0^2 + x1^2 < 0.5.
inline Data circles_like(std::size_t n) {
  Rng rng(9);
  Data d{Matrix::from_shape({n, 2}), Matrix::from_shape({n, 1})};
  for (std::size_t i = 0; i < n; ++i) {
    d.x(i, 0) = static_cast<float>(rng.uniform(-1, 1));
    d.x(i, 1) = static_cast<float>(rng.uniform(-1, 1));
    d.y(i, 0) = d.x(i, 0) * d.x(i, 0) + d.x(i, 1) * d.x(i, 1) < 0.5f ? 1.0f : 0.0f;
  }
  return d;
}

/// Dense(12) tanh, Dense(1) sigmoid, compiled with binary cross-entropy and `optimizer`.
inline Sequential circles_model(const std::string& optimizer) {
  Sequential model;
  model.add(std::make_unique<Dense>(12)).add("tanh").add(std::make_unique<Dense>(1)).add("sigmoid");
  model.compile("binary_crossentropy", optimizer);
  return model;
}

/// Every trainable parameter's values, in parameter order.
inline std::vector<float> weights_of(const Sequential& model) {
  std::vector<float> all;
  for (const Parameter& p : model.parameters()) all.insert(all.end(), p.value, p.value + p.size);
  return all;
}

}  // namespace xdense::testing
