#pragma once
/// \file
/// Built-in activations (the tutorial's seven), resolvable by name through
/// make_activation(). Formulas and derivatives:
///   linear        f = x                          f' = 1
///   binary_step   f = 1 if x >= 0 else 0         f' = 0 (straight-through: 1 where |x| <= 1)
///   sigmoid       f = 1 / (1 + e^-x)             f' = f (1 - f)
///   tanh          f = tanh x                     f' = 1 - f^2
///   relu          f = max(0, x)                  f' = 1 if x > 0 else 0
///   leaky_relu    f = x if x >= 0 else a x       f' = 1 if x > 0 else a   (a = 0.3 by default)
///   softmax       f_i = e^(x_i - m) / sum_j e^(x_j - m), m = max_j x_j, per row
///                 dx_i = f_i (dy_i - sum_j dy_j f_j)  (Jacobian-vector product)
/// Their ONNX form (to_onnx(), default-domain opset 13; see onnx.hpp):
///   linear        nothing: the input tensor itself
///   binary_step   Cast<float>(GreaterOrEqual(x, 0)), 1 at x = 0 as the forward pass (also with ste:
///                 the estimator only changes training)
///   sigmoid       Sigmoid        tanh  Tanh        relu  Relu
///   leaky_relu    LeakyRelu, its alpha always written (ONNX's default 0.01 is not xdense's 0.3)
///   softmax       Softmax, axis -1 (opset 13: over the last axis only, the units of each row)

#include <string>

#include "xdense/activation.hpp"

namespace xdense {

/// Identity: stacking linear layers stays linear.
class Linear final : public Activation {
 public:
  std::string type_name() const override { return "Linear"; }
  std::string spec() const override { return "linear"; }
  void activate(ConstMatrixView x, MatrixView y) const override;
  void derivative(ConstMatrixView x, ConstMatrixView y, ConstMatrixView dy, MatrixView dx) const override;
  std::string to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const override;
};

/// Heaviside step: fires (1) for x >= 0. Its true derivative is 0 almost everywhere,
/// so plain backprop cannot train through it; with `straight_through` the backward
/// pass uses the hard-tanh straight-through estimator (gradient 1 where |x| <= 1).
class BinaryStep final : public Activation {
 public:
  explicit BinaryStep(bool straight_through = false) : straight_through_(straight_through) {}
  std::string type_name() const override { return straight_through_ ? "BinaryStep(STE)" : "BinaryStep"; }
  std::string spec() const override { return straight_through_ ? "binary_step(ste)" : "binary_step"; }
  void activate(ConstMatrixView x, MatrixView y) const override;
  void derivative(ConstMatrixView x, ConstMatrixView y, ConstMatrixView dy, MatrixView dx) const override;
  std::string to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const override;
  bool straight_through() const { return straight_through_; }

 private:
  bool straight_through_;
};

/// Logistic sigmoid, range (0, 1); computed without overflow for any x.
class Sigmoid final : public Activation {
 public:
  std::string type_name() const override { return "Sigmoid"; }
  OutputDerivative output_derivative() const override { return OutputDerivative::sigmoid; }
  ProbabilityOutput probability_output() const override { return ProbabilityOutput::sigmoid; }
  std::string spec() const override { return "sigmoid"; }
  void activate(ConstMatrixView x, MatrixView y) const override;
  void derivative(ConstMatrixView x, ConstMatrixView y, ConstMatrixView dy, MatrixView dx) const override;
  std::string to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const override;
};

/// Hyperbolic tangent, range (-1, 1), zero-centred.
class Tanh final : public Activation {
 public:
  std::string type_name() const override { return "Tanh"; }
  OutputDerivative output_derivative() const override { return OutputDerivative::tanh; }
  std::string spec() const override { return "tanh"; }
  void activate(ConstMatrixView x, MatrixView y) const override;
  void derivative(ConstMatrixView x, ConstMatrixView y, ConstMatrixView dy, MatrixView dx) const override;
  std::string to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const override;
};

/// Rectified linear unit max(0, x); derivative at 0 taken as 0 (as PyTorch and TensorFlow do).
class ReLU final : public Activation {
 public:
  std::string type_name() const override { return "ReLU"; }
  OutputDerivative output_derivative() const override { return OutputDerivative::relu; }
  std::string spec() const override { return "relu"; }
  void activate(ConstMatrixView x, MatrixView y) const override;
  void derivative(ConstMatrixView x, ConstMatrixView y, ConstMatrixView dy, MatrixView dx) const override;
  std::string to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const override;
};

/// Leaky ReLU with slope `negative_slope` for x < 0. The default 0.3 is Keras's
/// LeakyReLU layer default (Keras 3's activation="leaky_relu" uses 0.2, PyTorch 0.01).
class LeakyReLU final : public Activation {
 public:
  static constexpr float default_slope = 0.3f;
  /// Throws InvalidArgument unless the slope is finite and >= 0.
  explicit LeakyReLU(float negative_slope = default_slope);
  std::string type_name() const override { return "LeakyReLU"; }
  std::string spec() const override;
  void activate(ConstMatrixView x, MatrixView y) const override;
  void derivative(ConstMatrixView x, ConstMatrixView y, ConstMatrixView dy, MatrixView dx) const override;
  std::string to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const override;
  float negative_slope() const { return slope_; }

 private:
  float slope_;
};

/// Softmax over the feature axis (each row sums to 1), max-subtracted for stability.
class Softmax final : public Activation {
 public:
  std::string type_name() const override { return "Softmax"; }
  ProbabilityOutput probability_output() const override { return ProbabilityOutput::softmax; }
  std::string spec() const override { return "softmax"; }
  void activate(ConstMatrixView x, MatrixView y) const override;
  void derivative(ConstMatrixView x, ConstMatrixView y, ConstMatrixView dy, MatrixView dx) const override;
  std::string to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const override;
};

/// Numerically stable logistic function for one value.
float sigmoid(float x);

}  // namespace xdense
