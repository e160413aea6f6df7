#include "xdense/activations/gated.hpp"

#include <cctype>

#include "../cpu_dispatch.hpp"
#include "../vector_math.hpp"
#include "xdense/error.hpp"
#include "xdense/onnx.hpp"

namespace xdense {
namespace {

// One loop each over contiguous memory, compiled for AVX2 and the baseline (cpu_dispatch.hpp);
// both sides of each select are computed, so the loops vectorise. y may be x, dx may be dy.
// Every exponential here is e^-|.| (or e^(-x^2/2)), at most 1: nothing overflows at any input.

constexpr float inverse_sqrt_2pi = 0.398942280401432678f;  // 1 / sqrt(2 pi): phi(x) = e^(-x^2/2) / sqrt(2 pi)
constexpr float tanh_scale = 1.59576912160573071f;         // 2 sqrt(2/pi): 2u = x (k + k 0.044715 x^2)
constexpr float tanh_cubic = tanh_scale * 0.044715f;
// Beyond |x| = 100 the tanh form's s (1 - s) is exactly 0; clamping x in u' keeps 0 * u' from
// becoming 0 * inf = NaN where x^2 overflows.
constexpr float tanh_slope_limit = 100.0f;

XDENSE_VECTOR_CLONES void gelu_values(const float* x, float* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const float v = x[i];
    y[i] = v * detail::normal_cdf(v, detail::exp_nonpositive(-0.5f * v * v));
  }
}

// f' = Phi(x) + x phi(x).
XDENSE_VECTOR_CLONES void gelu_gradients(const float* x, const float* dy, float* dx, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float e = detail::exp_nonpositive(-0.5f * v * v);
    dx[i] = dy[i] * (detail::normal_cdf(v, e) + v * (e * inverse_sqrt_2pi));
  }
}

// x (1 + tanh u) / 2 = x sigmoid(2u): the same function, without 1 + tanh u cancelling for x < 0.
XDENSE_VECTOR_CLONES void gelu_tanh_values(const float* x, float* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float twice_u = v * (tanh_scale + tanh_cubic * (v * v));
    y[i] = v * detail::sigmoid_from_exp(twice_u, detail::exp_nonpositive(detail::minus_magnitude(twice_u)));
  }
}

// f' = s + x s (1 - s) (2u)', s = sigmoid(2u), (2u)' = k (1 + 3 0.044715 x^2).
XDENSE_VECTOR_CLONES void gelu_tanh_gradients(const float* x, const float* dy, float* dx, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float twice_u = v * (tanh_scale + tanh_cubic * (v * v));
    const float e = detail::exp_nonpositive(detail::minus_magnitude(twice_u));
    const float s = detail::sigmoid_from_exp(twice_u, e);
    const float complement = detail::sigmoid_from_exp(-twice_u, e);  // 1 - s, without cancelling
    const float c = v < -tanh_slope_limit ? -tanh_slope_limit : (v > tanh_slope_limit ? tanh_slope_limit : v);
    const float slope = tanh_scale + 3.0f * tanh_cubic * (c * c);
    dx[i] = dy[i] * (s + v * (s * complement) * slope);
  }
}

XDENSE_VECTOR_CLONES void swish_values(const float* x, float* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const float v = x[i];
    y[i] = v * detail::sigmoid_from_exp(v, detail::exp_nonpositive(detail::minus_magnitude(v)));
  }
}

// f' = s + x s (1 - s) = s (1 + x (1 - s)).
XDENSE_VECTOR_CLONES void swish_gradients(const float* x, const float* dy, float* dx, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float e = detail::exp_nonpositive(detail::minus_magnitude(v));
    const float s = detail::sigmoid_from_exp(v, e);
    const float complement = detail::sigmoid_from_exp(-v, e);
    dx[i] = dy[i] * (s * (1.0f + v * complement));
  }
}

// tanh(softplus(x)) = ((1 + e^x)^2 - 1) / ((1 + e^x)^2 + 1), from e = e^-|x|:
//   x <= 0 (e = e^x):   m = e (e + 2), t = m / (m + 2),   1 - t^2 = 4 (m + 1) / (m + 2)^2
//   x > 0  (e = e^-x):  t = (1 + 2e) / d, d = 1 + 2e + 2e^2,   1 - t^2 = 4 e^2 (1 + e)^2 / d^2
// (numerator and denominator times e^-2x), so neither side cancels or overflows.
struct MishParts {
  float t;         // tanh(softplus(x))
  float sech2;     // 1 - t^2
  float sigmoid;   // softplus'(x)
};

XDENSE_KERNEL_INLINE MishParts mish_parts(float v) {
  const float e = detail::exp_nonpositive(detail::minus_magnitude(v));
  const float m = e * (e + 2.0f);
  const float low_denominator = m + 2.0f;
  const float high_denominator = 1.0f + 2.0f * e + 2.0f * e * e;
  const float e1 = e * (1.0f + e);
  const bool low = detail::sign_bit(v);
  const float t = low ? m / low_denominator : (1.0f + 2.0f * e) / high_denominator;
  const float sech2 = low ? 4.0f * (m + 1.0f) / (low_denominator * low_denominator)
                          : 4.0f * e1 * e1 / (high_denominator * high_denominator);
  return {t, sech2, detail::sigmoid_from_exp(v, e)};
}

XDENSE_VECTOR_CLONES void mish_values(const float* x, float* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = x[i] * mish_parts(x[i]).t;
}

// f' = t + x (1 - t^2) sigmoid(x).
XDENSE_VECTOR_CLONES void mish_gradients(const float* x, const float* dy, float* dx, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const float v = x[i];
    const MishParts p = mish_parts(v);
    dx[i] = dy[i] * (p.t + v * p.sech2 * p.sigmoid);
  }
}

}  // namespace

void GELU::activate(ConstMatrixView x, MatrixView y) const {
  if (approximate_) {
    gelu_tanh_values(x.data, y.data, x.size());
  } else {
    gelu_values(x.data, y.data, x.size());
  }
}

void GELU::derivative(ConstMatrixView x, ConstMatrixView, ConstMatrixView dy, MatrixView dx) const {
  if (approximate_) {
    gelu_tanh_gradients(x.data, dy.data, dx.data, x.size());
  } else {
    gelu_gradients(x.data, dy.data, dx.data, x.size());
  }
}

// Opset 13 has no Gelu (opset 20): exact  x * (0.5 * (1 + Erf(x / sqrt 2))), approximate
// x * Sigmoid(x * (k + c x^2)), the forward pass's x sigmoid(2u) with its constants k and c.
std::string GELU::to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const {
  if (approximate_) {
    const std::string squared = graph.add("Mul", {input, input}, {}, name);
    const std::string cubic = graph.add_initializer(name + "_cubic", {}, {tanh_cubic});
    const std::string scale = graph.add_initializer(name + "_scale", {}, {tanh_scale});
    const std::string slope = graph.add("Add", {graph.add("Mul", {squared, cubic}, {}, name), scale}, {}, name);
    const std::string twice_u = graph.add("Mul", {input, slope}, {}, name);
    return graph.add("Mul", {input, graph.add("Sigmoid", {twice_u}, {}, name)}, {}, name);
  }
  const std::string inverse_sqrt2 = graph.add_initializer(name + "_inverse_sqrt2", {}, {0.707106781186547524f});
  const std::string one = graph.add_initializer(name + "_one", {}, {1.0f});
  const std::string half = graph.add_initializer(name + "_half", {}, {0.5f});
  const std::string erf = graph.add("Erf", {graph.add("Mul", {input, inverse_sqrt2}, {}, name)}, {}, name);
  const std::string cdf = graph.add("Mul", {graph.add("Add", {erf, one}, {}, name), half}, {}, name);
  return graph.add("Mul", {input, cdf}, {}, name);
}

void Swish::activate(ConstMatrixView x, MatrixView y) const { swish_values(x.data, y.data, x.size()); }

void Swish::derivative(ConstMatrixView x, ConstMatrixView, ConstMatrixView dy, MatrixView dx) const {
  swish_gradients(x.data, dy.data, dx.data, x.size());
}

// x * Sigmoid(x) (no Swish op in ONNX).
std::string Swish::to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const {
  return graph.add("Mul", {input, graph.add("Sigmoid", {input}, {}, name)}, {}, name);
}

void Mish::activate(ConstMatrixView x, MatrixView y) const { mish_values(x.data, y.data, x.size()); }

void Mish::derivative(ConstMatrixView x, ConstMatrixView, ConstMatrixView dy, MatrixView dx) const {
  mish_gradients(x.data, dy.data, dx.data, x.size());
}

// x * Tanh(Softplus(x)) (Mish is an opset-18 op).
std::string Mish::to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const {
  const std::string gate = graph.add("Tanh", {graph.add("Softplus", {input}, {}, name)}, {}, name);
  return graph.add("Mul", {input, gate}, {}, name);
}

// ---------------------------------------------------------------- registration

namespace {

std::unique_ptr<Activation> make_gelu(const std::vector<std::string>& args) {
  if (args.empty()) return std::make_unique<GELU>();
  std::string option = args[0];
  for (char& c : option) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (args.size() == 1 && (option == "approximate" || option == "tanh")) return std::make_unique<GELU>(true);
  std::string received;
  for (const auto& a : args) received += (received.empty() ? "" : ", ") + a;
  throw InvalidArgument("activation 'gelu' accepts the single argument 'approximate' (the tanh form), received '" +
                        received + "'");
}

const bool registered = [] {
  register_activation("gelu", make_gelu, {}, "approximate");
  register_activation("swish", activation_without_arguments<Swish>("swish"), {"silu"}, "");
  register_activation("mish", activation_without_arguments<Mish>("mish"), {}, "");
  return true;
}();

}  // namespace

}  // namespace xdense
