#pragma once
/// \file
/// Smooth and piecewise-linear stand-ins for relu, tanh and sigmoid (Keras 3 names), resolvable by
/// name through make_activation():
///   softplus      f = log(1 + e^x) = max(x, 0) + log1p(e^-|x|)   f' = sigmoid(x)
///   softsign      f = x / (1 + |x|)                              f' = 1 / (1 + |x|)^2
///   hard_sigmoid  f = relu6(x + 3) / 6 = min(max(x + 3, 0), 6) / 6   f' = 1/6 for -3 < x < 3, else 0
/// Keras 3's hard_sigmoid is relu6(x + 3) / 6, as PyTorch's hardsigmoid; Keras 2's was
/// clip(0.2 x + 0.5, 0, 1), a different function.
/// Their ONNX form (to_onnx(), opset 13): Softplus, Softsign, and HardSigmoid with alpha = 1/6 and
/// beta = 0.5 both written: max(0, min(1, x / 6 + 0.5)), the same function (values within 1 ulp of
/// relu6(x + 3) / 6, the rounding of x / 6 + 0.5 against (x + 3) / 6).

#include <string>

#include "xdense/activation.hpp"

namespace xdense {

/// Softplus, a smooth relu; stable for any x (softplus(-100) = 3.7e-44, softplus(100) = 100).
/// PyTorch's F.softplus returns x itself above x = 20 (threshold); in float32 that is the same value.
class Softplus final : public Activation {
 public:
  std::string type_name() const override { return "Softplus"; }
  std::string spec() const override { return "softplus"; }
  void activate(ConstMatrixView x, MatrixView y) const override;
  void derivative(ConstMatrixView x, ConstMatrixView y, ConstMatrixView dy, MatrixView dx) const override;
  std::string to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const override;
};

/// Softsign, a rational tanh-like function with polynomial (not exponential) saturation.
class Softsign final : public Activation {
 public:
  std::string type_name() const override { return "Softsign"; }
  std::string spec() const override { return "softsign"; }
  void activate(ConstMatrixView x, MatrixView y) const override;
  void derivative(ConstMatrixView x, ConstMatrixView y, ConstMatrixView dy, MatrixView dx) const override;
  std::string to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const override;
};

/// Hard sigmoid relu6(x + 3) / 6 (Keras 3, PyTorch): 0 below -3, 1 above 3, linear between;
/// derivative 0 at the kinks x = +-3, as both take it.
class HardSigmoid final : public Activation {
 public:
  std::string type_name() const override { return "HardSigmoid"; }
  std::string spec() const override { return "hard_sigmoid"; }
  void activate(ConstMatrixView x, MatrixView y) const override;
  void derivative(ConstMatrixView x, ConstMatrixView y, ConstMatrixView dy, MatrixView dx) const override;
  std::string to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const override;
};

}  // namespace xdense
