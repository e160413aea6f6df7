#pragma once
/// \file
/// Activations built on e^x (Keras 3 names), resolvable by name through make_activation():
///   elu          f = x if x > 0 else a (e^x - 1)          f' = 1 if x > 0 else a e^x   (a = alpha = 1)
///   selu         f = s x if x > 0 else s a (e^x - 1)      f' = s if x > 0 else s a e^x
///                (a = 1.6732632423543772848, s = 1.0507009873554804934: Klambauer et al. 2017)
///   exponential  f = e^x (+inf above 88.7228, as Keras)   f' = e^x = f
/// e^x - 1 is computed without cancellation near 0 (expm1), as TensorFlow and PyTorch do.
/// Their ONNX form (to_onnx(), opset 13): Elu with its alpha, Selu with alpha and gamma (= s) both
/// written as the float constants below, Exp.

#include <string>

#include "xdense/activation.hpp"

namespace xdense {

/// Exponential linear unit (Clevert et al. 2015): smooth for x < 0, saturating at -alpha.
/// Spec "elu" (alpha 1, Keras's and PyTorch's default) or "elu(0.5)".
class ELU final : public Activation {
 public:
  static constexpr float default_alpha = 1.0f;
  /// Throws InvalidArgument unless alpha is finite and >= 0.
  explicit ELU(float alpha = default_alpha);
  std::string type_name() const override { return "ELU"; }
  std::string spec() const override;
  void activate(ConstMatrixView x, MatrixView y) const override;
  void derivative(ConstMatrixView x, ConstMatrixView y, ConstMatrixView dy, MatrixView dx) const override;
  std::string to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const override;
  float alpha() const { return alpha_; }

 private:
  float alpha_;
};

/// Scaled ELU with the self-normalising constants (for lecun_normal-initialised networks).
class SELU final : public Activation {
 public:
  static constexpr float alpha = 1.6732632423543772848170429916717f;
  static constexpr float scale = 1.0507009873554804934193349852946f;
  std::string type_name() const override { return "SELU"; }
  std::string spec() const override { return "selu"; }
  void activate(ConstMatrixView x, MatrixView y) const override;
  void derivative(ConstMatrixView x, ConstMatrixView y, ConstMatrixView dy, MatrixView dx) const override;
  std::string to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const override;
};

/// e^x, overflowing to +inf for x > 88.7228 (Keras's exponential is tf.exp / ops.exp, unclamped).
class Exponential final : public Activation {
 public:
  std::string type_name() const override { return "Exponential"; }
  std::string spec() const override { return "exponential"; }
  void activate(ConstMatrixView x, MatrixView y) const override;
  void derivative(ConstMatrixView x, ConstMatrixView y, ConstMatrixView dy, MatrixView dx) const override;
  std::string to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const override;
};

}  // namespace xdense
