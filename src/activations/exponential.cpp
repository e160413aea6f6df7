#include "xdense/activations/exponential.hpp"

#include <charconv>
#include <cmath>
#include <sstream>

#include "../cpu_dispatch.hpp"
#include "../vector_math.hpp"
#include "xdense/error.hpp"
#include "xdense/onnx.hpp"

namespace xdense {
namespace {

// One loop each over contiguous memory, compiled for AVX2 and the baseline (cpu_dispatch.hpp);
// both sides of each select are computed, so the loops vectorise. y may be x, dx may be dy.
// The negative side takes e^min(x, 0), so the positive side never reaches the exp's clamps;
// NaN stays NaN.

// f = scale x for x > 0, else scale alpha (e^x - 1): ELU (scale 1) and SELU.
XDENSE_VECTOR_CLONES void exponential_linear_values(const float* x, float* y, std::size_t n, float alpha,
                                                    float scale) {
  const float negative_scale = scale * alpha;
  for (std::size_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float negative = v > 0.0f ? 0.0f : v;
    y[i] = v > 0.0f ? scale * v : negative_scale * detail::expm1_nonpositive(negative);
  }
}

// f' = scale for x > 0, else scale alpha e^x (at x = 0: scale alpha, as PyTorch and JAX take it).
XDENSE_VECTOR_CLONES void exponential_linear_gradients(const float* x, const float* dy, float* dx, std::size_t n,
                                                       float alpha, float scale) {
  const float negative_scale = scale * alpha;
  for (std::size_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float negative = v > 0.0f ? 0.0f : v;
    const float g = dy[i];
    dx[i] = v > 0.0f ? scale * g : negative_scale * detail::exp_nonpositive(negative) * g;
  }
}

XDENSE_VECTOR_CLONES void exponential_values(const float* x, float* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = detail::exp_overflowing(x[i]);
}

// f' = e^x = y.
XDENSE_VECTOR_CLONES void times_output(const float* y, const float* dy, float* dx, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) dx[i] = dy[i] * y[i];
}

}  // namespace

ELU::ELU(float alpha) : alpha_(alpha) {
  if (!std::isfinite(alpha) || alpha < 0.0f) {
    std::ostringstream message;
    message << "ELU: expected a finite alpha >= 0, received alpha=" << alpha;
    throw InvalidArgument(message.str());
  }
}

std::string ELU::spec() const {
  if (alpha_ == default_alpha) return "elu";
  // Shortest text that reads back as the same float: a saved model keeps its alpha exactly.
  char text[32];
  const auto result = std::to_chars(text, text + sizeof text, alpha_);
  return "elu(" + std::string(text, result.ptr) + ")";
}

void ELU::activate(ConstMatrixView x, MatrixView y) const {
  exponential_linear_values(x.data, y.data, x.size(), alpha_, 1.0f);
}

void ELU::derivative(ConstMatrixView x, ConstMatrixView, ConstMatrixView dy, MatrixView dx) const {
  exponential_linear_gradients(x.data, dy.data, dx.data, x.size(), alpha_, 1.0f);
}

// Elu: x for x >= 0, alpha (e^x - 1) below (the same value at 0).
std::string ELU::to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const {
  return graph.add("Elu", {input}, {OnnxAttribute::real("alpha", alpha_)}, name);
}

void SELU::activate(ConstMatrixView x, MatrixView y) const {
  exponential_linear_values(x.data, y.data, x.size(), alpha, scale);
}

void SELU::derivative(ConstMatrixView x, ConstMatrixView, ConstMatrixView dy, MatrixView dx) const {
  exponential_linear_gradients(x.data, dy.data, dx.data, x.size(), alpha, scale);
}

// Selu: gamma x for x > 0, gamma alpha (e^x - 1) otherwise; xdense's two constants written, so the
// file does not rely on the runtime's defaults.
std::string SELU::to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const {
  return graph.add("Selu", {input}, {OnnxAttribute::real("alpha", alpha), OnnxAttribute::real("gamma", scale)},
                   name);
}

void Exponential::activate(ConstMatrixView x, MatrixView y) const { exponential_values(x.data, y.data, x.size()); }

void Exponential::derivative(ConstMatrixView, ConstMatrixView y, ConstMatrixView dy, MatrixView dx) const {
  times_output(y.data, dy.data, dx.data, y.size());
}

std::string Exponential::to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const {
  return graph.add("Exp", {input}, {}, name);
}

// ---------------------------------------------------------------- registration

namespace {

std::unique_ptr<Activation> make_elu(const std::vector<std::string>& args) {
  if (args.empty()) return std::make_unique<ELU>();
  if (args.size() != 1) {
    throw InvalidArgument("activation 'elu' takes one argument (alpha), received " + std::to_string(args.size()));
  }
  return std::make_unique<ELU>(parse_activation_argument("elu", args[0]));
}

const bool registered = [] {
  register_activation("elu", make_elu, {}, "1.0");
  register_activation("selu", activation_without_arguments<SELU>("selu"), {}, "");
  register_activation("exponential", activation_without_arguments<Exponential>("exponential"), {}, "");
  return true;
}();

}  // namespace

}  // namespace xdense
