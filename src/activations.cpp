#include "xdense/activations.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>

#include "vector_math.hpp"
#include "xdense/error.hpp"

namespace xdense {

float sigmoid(float x) { return detail::sigmoid_approx(x); }

// Each loop below is one pass over the block; x, y, dy, dx are contiguous.

void Linear::activate(ConstMatrixView x, MatrixView y) const { std::copy(x.data, x.data + x.size(), y.data); }

void Linear::derivative(ConstMatrixView, ConstMatrixView, ConstMatrixView dy, MatrixView dx) const {
  std::copy(dy.data, dy.data + dy.size(), dx.data);
}

void BinaryStep::activate(ConstMatrixView x, MatrixView y) const {
  const std::size_t n = x.size();
  for (std::size_t i = 0; i < n; ++i) y.data[i] = x.data[i] >= 0.0f ? 1.0f : 0.0f;
}

void BinaryStep::derivative(ConstMatrixView x, ConstMatrixView, ConstMatrixView dy, MatrixView dx) const {
  const std::size_t n = x.size();
  if (!straight_through_) {
    std::fill(dx.data, dx.data + n, 0.0f);  // the true derivative: no signal reaches earlier layers
    return;
  }
  // Straight-through estimator: treat the step as hard-tanh in the backward pass.
  for (std::size_t i = 0; i < n; ++i) dx.data[i] = std::abs(x.data[i]) <= 1.0f ? dy.data[i] : 0.0f;
}

void Sigmoid::activate(ConstMatrixView x, MatrixView y) const {
  const std::size_t n = x.size();
  for (std::size_t i = 0; i < n; ++i) y.data[i] = detail::sigmoid_approx(x.data[i]);
}

void Sigmoid::derivative(ConstMatrixView, ConstMatrixView y, ConstMatrixView dy, MatrixView dx) const {
  const std::size_t n = y.size();
  for (std::size_t i = 0; i < n; ++i) dx.data[i] = dy.data[i] * y.data[i] * (1.0f - y.data[i]);
}

void Tanh::activate(ConstMatrixView x, MatrixView y) const {
  const std::size_t n = x.size();
  for (std::size_t i = 0; i < n; ++i) y.data[i] = detail::tanh_approx(x.data[i]);
}

void Tanh::derivative(ConstMatrixView, ConstMatrixView y, ConstMatrixView dy, MatrixView dx) const {
  const std::size_t n = y.size();
  for (std::size_t i = 0; i < n; ++i) dx.data[i] = dy.data[i] * (1.0f - y.data[i] * y.data[i]);
}

void ReLU::activate(ConstMatrixView x, MatrixView y) const {
  const std::size_t n = x.size();
  for (std::size_t i = 0; i < n; ++i) y.data[i] = x.data[i] > 0.0f ? x.data[i] : 0.0f;
}

void ReLU::derivative(ConstMatrixView x, ConstMatrixView, ConstMatrixView dy, MatrixView dx) const {
  const std::size_t n = x.size();
  for (std::size_t i = 0; i < n; ++i) dx.data[i] = x.data[i] > 0.0f ? dy.data[i] : 0.0f;
}

LeakyReLU::LeakyReLU(float negative_slope) : slope_(negative_slope) {
  if (!std::isfinite(negative_slope) || negative_slope < 0.0f) {
    std::ostringstream message;
    message << "LeakyReLU: expected a finite slope >= 0, received negative_slope=" << negative_slope;
    throw InvalidArgument(message.str());
  }
}

std::string LeakyReLU::spec() const {
  // Shortest text that reads back as the same float: a saved model keeps its slope exactly.
  char text[32];
  const auto result = std::to_chars(text, text + sizeof text, slope_);
  return "leaky_relu(" + std::string(text, result.ptr) + ")";
}

void LeakyReLU::activate(ConstMatrixView x, MatrixView y) const {
  const std::size_t n = x.size();
  for (std::size_t i = 0; i < n; ++i) y.data[i] = x.data[i] >= 0.0f ? x.data[i] : slope_ * x.data[i];
}

void LeakyReLU::derivative(ConstMatrixView x, ConstMatrixView, ConstMatrixView dy, MatrixView dx) const {
  const std::size_t n = x.size();
  for (std::size_t i = 0; i < n; ++i) dx.data[i] = x.data[i] > 0.0f ? dy.data[i] : slope_ * dy.data[i];
}

void Softmax::activate(ConstMatrixView x, MatrixView y) const {
  for (std::size_t r = 0; r < x.rows; ++r) {
    const float* in = x.row(r);
    float* out = y.row(r);
    const float m = *std::max_element(in, in + x.cols);
    float sum = 0.0f;
    for (std::size_t c = 0; c < x.cols; ++c) {
      out[c] = detail::exp_approx(in[c] - m);
      sum += out[c];
    }
    const float inverse = 1.0f / sum;
    for (std::size_t c = 0; c < x.cols; ++c) out[c] *= inverse;
  }
}

void Softmax::derivative(ConstMatrixView, ConstMatrixView y, ConstMatrixView dy, MatrixView dx) const {
  // J = diag(y) - y y^T, so J^T dy = y * (dy - <dy, y>) per row.
  for (std::size_t r = 0; r < y.rows; ++r) {
    const float* p = y.row(r);
    const float* g = dy.row(r);
    float* out = dx.row(r);
    float dot = 0.0f;
    for (std::size_t c = 0; c < y.cols; ++c) dot += g[c] * p[c];
    for (std::size_t c = 0; c < y.cols; ++c) out[c] = p[c] * (g[c] - dot);
  }
}

}  // namespace xdense
