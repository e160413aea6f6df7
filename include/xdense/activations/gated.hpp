#pragma once
/// \file
/// Self-gated activations f = x g(x) (Keras 3 names), resolvable by name through make_activation():
///   gelu               f = x Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2   f' = Phi(x) + x phi(x)
///   gelu(approximate)  f = x (1 + tanh u) / 2 = x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3)
///                      f' = s + 2 x s (1 - s) u', s = sigmoid(2u), u' = sqrt(2/pi) (1 + 0.134145 x^2)
///   swish (silu)       f = x sigmoid(x)                                   f' = s (1 + x (1 - s))
///   mish               f = x tanh(softplus(x))                           f' = t + x (1 - t^2) sigmoid(x)
/// phi is the standard normal density. Each is computed from one e^-|.|, so the negative tails
/// keep their relative precision (gelu(-10) = -7.6e-23) and nothing overflows.
/// ONNX has none of them at opset 13 (Gelu is opset 20, Mish opset 18): to_onnx() writes composites
/// of opset-13 ops, constants as scalar initializers:
///   gelu               x * (0.5 * (1 + Erf(x * (1 / sqrt 2))))
///   gelu(approximate)  x * Sigmoid(x * (k + k 0.044715 * x * x)), k = 2 sqrt(2/pi): the forward
///                      pass's x sigmoid(2u) form, which does not cancel for x < 0
///   swish              x * Sigmoid(x)            mish  x * Tanh(Softplus(x))
/// The erf form loses the relative precision of gelu's negative tail (1 + erf cancels there), not its
/// absolute precision: ONNX Runtime gives predict()'s values within 1e-7 from -1000 to 1000
/// (tests/onnx/onnx_activations_test.cpp).

#include <string>

#include "xdense/activation.hpp"

namespace xdense {

/// Gaussian error linear unit (Hendrycks & Gimpel 2016). Spec "gelu" (the exact erf form, Keras's
/// default approximate=False, PyTorch's approximate='none') or "gelu(approximate)" (the tanh form,
/// Keras's approximate=True, PyTorch's approximate='tanh'; "gelu(tanh)" is read as the same).
class GELU final : public Activation {
 public:
  explicit GELU(bool approximate = false) : approximate_(approximate) {}
  std::string type_name() const override { return approximate_ ? "GELU(approximate)" : "GELU"; }
  std::string spec() const override { return approximate_ ? "gelu(approximate)" : "gelu"; }
  void activate(ConstMatrixView x, MatrixView y) const override;
  void derivative(ConstMatrixView x, ConstMatrixView y, ConstMatrixView dy, MatrixView dx) const override;
  std::string to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const override;
  bool approximate() const { return approximate_; }

 private:
  bool approximate_;
};

/// Swish / SiLU x sigmoid(x) (Ramachandran et al. 2017; Keras's swish and silu are the same function).
class Swish final : public Activation {
 public:
  std::string type_name() const override { return "Swish"; }
  std::string spec() const override { return "swish"; }
  void activate(ConstMatrixView x, MatrixView y) const override;
  void derivative(ConstMatrixView x, ConstMatrixView y, ConstMatrixView dy, MatrixView dx) const override;
  std::string to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const override;
};

/// Mish x tanh(softplus(x)) (Misra 2019), with tanh(softplus(x)) written as a ratio of e^x terms.
class Mish final : public Activation {
 public:
  std::string type_name() const override { return "Mish"; }
  std::string spec() const override { return "mish"; }
  void activate(ConstMatrixView x, MatrixView y) const override;
  void derivative(ConstMatrixView x, ConstMatrixView y, ConstMatrixView dy, MatrixView dx) const override;
  std::string to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const override;
};

}  // namespace xdense
