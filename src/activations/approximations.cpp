#include "xdense/activations/approximations.hpp"

#include "../cpu_dispatch.hpp"
#include "../vector_math.hpp"
#include "xdense/onnx.hpp"

namespace xdense {
namespace {

// One loop each over contiguous memory, compiled for AVX2 and the baseline (cpu_dispatch.hpp);
// both sides of each select are computed, so the loops vectorise. y may be x, dx may be dy.

// log(1 + e^x) = max(x, 0) + log(1 + e^-|x|): e^-|x| <= 1, so nothing overflows and the
// log1p of a small e keeps its precision (softplus(-100) = e^-100).
XDENSE_VECTOR_CLONES void softplus_values(const float* x, float* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float positive = v > 0.0f ? v : 0.0f;
    y[i] = positive + detail::log1p_unit(detail::exp_nonpositive(detail::minus_magnitude(v)));
  }
}

XDENSE_VECTOR_CLONES void softplus_gradients(const float* x, const float* dy, float* dx, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) dx[i] = dy[i] * detail::sigmoid_approx(x[i]);
}

XDENSE_VECTOR_CLONES void softsign_values(const float* x, float* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const float v = x[i];
    y[i] = v / ((v < 0.0f ? -v : v) + 1.0f);
  }
}

XDENSE_VECTOR_CLONES void softsign_gradients(const float* x, const float* dy, float* dx, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float d = (v < 0.0f ? -v : v) + 1.0f;
    dx[i] = dy[i] / (d * d);
  }
}

// Keras 3's ops: relu6(x + 3) / 6, in that order (PyTorch's kernel too), so values match bit for bit.
XDENSE_VECTOR_CLONES void hard_sigmoid_values(const float* x, float* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const float shifted = x[i] + 3.0f;
    const float low = shifted > 0.0f ? shifted : 0.0f;
    y[i] = (low < 6.0f ? low : 6.0f) / 6.0f;
  }
}

// dL/dy / 6 where 0 < x + 3 < 6 (relu6's gradient is 0 at its kinks), else 0.
XDENSE_VECTOR_CLONES void hard_sigmoid_gradients(const float* x, const float* dy, float* dx, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const float shifted = x[i] + 3.0f;
    const float g = dy[i] / 6.0f;
    dx[i] = shifted > 0.0f && shifted < 6.0f ? g : 0.0f;
  }
}

}  // namespace

void Softplus::activate(ConstMatrixView x, MatrixView y) const { softplus_values(x.data, y.data, x.size()); }

void Softplus::derivative(ConstMatrixView x, ConstMatrixView, ConstMatrixView dy, MatrixView dx) const {
  softplus_gradients(x.data, dy.data, dx.data, x.size());
}

std::string Softplus::to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const {
  return graph.add("Softplus", {input}, {}, name);
}

void Softsign::activate(ConstMatrixView x, MatrixView y) const { softsign_values(x.data, y.data, x.size()); }

void Softsign::derivative(ConstMatrixView x, ConstMatrixView, ConstMatrixView dy, MatrixView dx) const {
  softsign_gradients(x.data, dy.data, dx.data, x.size());
}

std::string Softsign::to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const {
  return graph.add("Softsign", {input}, {}, name);
}

void HardSigmoid::activate(ConstMatrixView x, MatrixView y) const { hard_sigmoid_values(x.data, y.data, x.size()); }

void HardSigmoid::derivative(ConstMatrixView x, ConstMatrixView, ConstMatrixView dy, MatrixView dx) const {
  hard_sigmoid_gradients(x.data, dy.data, dx.data, x.size());
}

// max(0, min(1, x / 6 + 0.5)) = relu6(x + 3) / 6; both attributes written (ONNX's defaults, 0.2 and
// 0.5, are Keras 2's hard sigmoid).
std::string HardSigmoid::to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const {
  return graph.add("HardSigmoid", {input},
                   {OnnxAttribute::real("alpha", 1.0f / 6.0f), OnnxAttribute::real("beta", 0.5f)}, name);
}

namespace {

const bool registered = [] {
  register_activation("softplus", activation_without_arguments<Softplus>("softplus"), {}, "");
  register_activation("softsign", activation_without_arguments<Softsign>("softsign"), {}, "");
  register_activation("hard_sigmoid", activation_without_arguments<HardSigmoid>("hard_sigmoid"), {"hardsigmoid"},
                      "");
  return true;
}();

}  // namespace

}  // namespace xdense
