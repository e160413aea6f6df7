#include "xdense/builtin_activations.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <sstream>

#include "cpu_dispatch.hpp"
#include "output_derivative.hpp"
#include "vector_math.hpp"
#include "xdense/error.hpp"
#include "xdense/onnx.hpp"

namespace xdense {
namespace {

// The passes over whole (batch, units) blocks, each one loop over contiguous memory,
// compiled for AVX2 and for the baseline (cpu_dispatch.hpp). Each element is loaded
// unconditionally and picked with a select, so the loops vectorise; a local copy of
// a slope cannot alias the stores. y may be x, and dx may be dy (in-place use).

XDENSE_VECTOR_CLONES void step_values(const float* x, float* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = x[i] >= 0.0f ? 1.0f : 0.0f;
}

XDENSE_VECTOR_CLONES void hard_tanh_gradients(const float* x, const float* dy, float* dx, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const float g = dy[i];
    dx[i] = std::abs(x[i]) <= 1.0f ? g : 0.0f;
  }
}

XDENSE_VECTOR_CLONES void sigmoid_values(const float* x, float* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = detail::sigmoid_approx(x[i]);
}

// Derivatives from the output y = f(x), with the formulas the fused Dense backward uses
// (output_derivative.hpp). One cloned function each: target_clones takes no templates.
template <OutputDerivative F>
XDENSE_KERNEL_INLINE void output_gradients(const float* y, const float* dy, float* dx, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) dx[i] = detail::times_output_derivative<F>(dy[i], y[i], 1.0f, 0.0f);
}

XDENSE_VECTOR_CLONES void sigmoid_gradients(const float* y, const float* dy, float* dx, std::size_t n) {
  output_gradients<OutputDerivative::sigmoid>(y, dy, dx, n);
}

XDENSE_VECTOR_CLONES void tanh_gradients(const float* y, const float* dy, float* dx, std::size_t n) {
  output_gradients<OutputDerivative::tanh>(y, dy, dx, n);
}

XDENSE_VECTOR_CLONES void relu_gradients(const float* y, const float* dy, float* dx, std::size_t n) {
  output_gradients<OutputDerivative::relu>(y, dy, dx, n);
}

XDENSE_VECTOR_CLONES void tanh_values(const float* x, float* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = detail::tanh_approx(x[i]);
}


// The backward passes of ReLU and leaky ReLU take the slope for x > 0, so the
// gradient at 0 is the left one, as in Keras and PyTorch.
XDENSE_VECTOR_CLONES void leaky_values(const float* x, float* y, std::size_t n, float slope) {
  for (std::size_t i = 0; i < n; ++i) {
    const float v = x[i];
    y[i] = v >= 0.0f ? v : slope * v;
  }
}

XDENSE_VECTOR_CLONES void relu_values(const float* x, float* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const float v = x[i];
    y[i] = v > 0.0f ? v : 0.0f;
  }
}

XDENSE_VECTOR_CLONES void leaky_gradients(const float* x, const float* dy, float* dx, std::size_t n, float slope) {
  for (std::size_t i = 0; i < n; ++i) {
    const float g = dy[i];
    dx[i] = x[i] > 0.0f ? g : slope * g;
  }
}

}  // namespace

// Declared in vector_math.hpp: Softmax and the softmax cross-entropy from logits share it.
XDENSE_VECTOR_CLONES void detail::exp_shifted(const float* x, float* y, std::size_t n, float shift) {
  for (std::size_t i = 0; i < n; ++i) y[i] = exp_nonpositive(x[i] - shift);
}

float sigmoid(float x) { return detail::sigmoid_approx(x); }

void Linear::activate(ConstMatrixView x, MatrixView y) const { std::copy(x.data, x.data + x.size(), y.data); }

void Linear::derivative(ConstMatrixView, ConstMatrixView, ConstMatrixView dy, MatrixView dx) const {
  std::copy(dy.data, dy.data + dy.size(), dx.data);
}

// The identity: no node, the next layer reads the same tensor.
std::string Linear::to_onnx(OnnxGraph&, const std::string& input, const std::string&) const { return input; }

void BinaryStep::activate(ConstMatrixView x, MatrixView y) const { step_values(x.data, y.data, x.size()); }

void BinaryStep::derivative(ConstMatrixView x, ConstMatrixView, ConstMatrixView dy, MatrixView dx) const {
  const std::size_t n = x.size();
  if (!straight_through_) {
    std::fill(dx.data, dx.data + n, 0.0f);  // the true derivative: no signal reaches earlier layers
    return;
  }
  // Straight-through estimator: treat the step as hard-tanh in the backward pass.
  hard_tanh_gradients(x.data, dy.data, dx.data, n);
}

// x >= 0 as the forward pass (1 at 0; NaN gives 0 in both), the bool cast to float (TensorProto FLOAT = 1).
// GreaterOrEqual is an opset-12 op. The straight-through estimator only changes the backward pass.
std::string BinaryStep::to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const {
  const std::string zero = graph.add_initializer(name + "_zero", {}, {0.0f});
  const std::string fires = graph.add("GreaterOrEqual", {input, zero}, {}, name);
  return graph.add("Cast", {fires}, {OnnxAttribute::integer("to", 1)}, name);
}

void Sigmoid::activate(ConstMatrixView x, MatrixView y) const { sigmoid_values(x.data, y.data, x.size()); }

void Sigmoid::derivative(ConstMatrixView, ConstMatrixView y, ConstMatrixView dy, MatrixView dx) const {
  sigmoid_gradients(y.data, dy.data, dx.data, y.size());
}

std::string Sigmoid::to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const {
  return graph.add("Sigmoid", {input}, {}, name);
}

void Tanh::activate(ConstMatrixView x, MatrixView y) const { tanh_values(x.data, y.data, x.size()); }

void Tanh::derivative(ConstMatrixView, ConstMatrixView y, ConstMatrixView dy, MatrixView dx) const {
  tanh_gradients(y.data, dy.data, dx.data, y.size());
}

std::string Tanh::to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const {
  return graph.add("Tanh", {input}, {}, name);
}

void ReLU::activate(ConstMatrixView x, MatrixView y) const { relu_values(x.data, y.data, x.size()); }

void ReLU::derivative(ConstMatrixView, ConstMatrixView y, ConstMatrixView dy, MatrixView dx) const {
  relu_gradients(y.data, dy.data, dx.data, y.size());
}

std::string ReLU::to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const {
  return graph.add("Relu", {input}, {}, name);
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

void LeakyReLU::activate(ConstMatrixView x, MatrixView y) const { leaky_values(x.data, y.data, x.size(), slope_); }

void LeakyReLU::derivative(ConstMatrixView x, ConstMatrixView, ConstMatrixView dy, MatrixView dx) const {
  leaky_gradients(x.data, dy.data, dx.data, x.size(), slope_);
}

// alpha always written: ONNX's default (0.01) is not xdense's (0.3).
std::string LeakyReLU::to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const {
  return graph.add("LeakyRelu", {input}, {OnnxAttribute::real("alpha", slope_)}, name);
}

void Softmax::activate(ConstMatrixView x, MatrixView y) const {
  for (std::size_t r = 0; r < x.rows; ++r) {
    const float* in = x.row(r);
    float* out = y.row(r);
    const float m = *std::max_element(in, in + x.cols);
    detail::exp_shifted(in, out, x.cols, m);  // separate from the sum, so the exps vectorise
    float sum = 0.0f;
    for (std::size_t c = 0; c < x.cols; ++c) sum += out[c];
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

// Opset 13's Softmax normalises over the given axis alone (opset < 13 flattened the axes from it on);
// the input is (batch, units), so -1 is each row, as activate().
std::string Softmax::to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const {
  return graph.add("Softmax", {input}, {OnnxAttribute::integer("axis", -1)}, name);
}

// ---------------------------------------------------------------- registration

namespace {

bool is_straight_through_option(std::string option) {
  for (char& c : option) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return option == "ste" || option == "straight_through";
}

std::unique_ptr<Activation> make_binary_step(const std::vector<std::string>& args) {
  if (args.empty()) return std::make_unique<BinaryStep>();
  if (args.size() == 1 && is_straight_through_option(args[0])) return std::make_unique<BinaryStep>(true);
  throw InvalidArgument("activation 'binary_step' accepts the single argument 'ste' (straight-through estimator), "
                        "received '" + args[0] + "'");
}

std::unique_ptr<Activation> make_leaky_relu(const std::vector<std::string>& args) {
  if (args.empty()) return std::make_unique<LeakyReLU>();
  if (args.size() != 1) {
    throw InvalidArgument("activation 'leaky_relu' takes one argument (the slope), received " +
                          std::to_string(args.size()));
  }
  return std::make_unique<LeakyReLU>(parse_activation_argument("leaky_relu", args[0]));
}

const bool registered = [] {
  register_activation("linear", activation_without_arguments<Linear>("linear"), {"identity"}, "");
  register_activation("binary_step", make_binary_step, {"step", "heaviside"}, "ste");
  register_activation("binary_step_ste",
                      [](const std::vector<std::string>& args) -> std::unique_ptr<Activation> {
                        expect_no_activation_arguments("binary_step_ste", args);
                        return std::make_unique<BinaryStep>(true);
                      },
                      {}, "");
  register_activation("sigmoid", activation_without_arguments<Sigmoid>("sigmoid"), {"logistic"}, "");
  register_activation("tanh", activation_without_arguments<Tanh>("tanh"), {}, "");
  register_activation("relu", activation_without_arguments<ReLU>("relu"), {}, "");
  register_activation("leaky_relu", make_leaky_relu, {"leakyrelu", "lrelu"}, "0.3");
  register_activation("softmax", activation_without_arguments<Softmax>("softmax"), {}, "");
  return true;
}();

}  // namespace

}  // namespace xdense
