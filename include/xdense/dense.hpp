#pragma once
/// \file
/// Fully connected layer: y = x . W + b.

#include <cstddef>
#include <string>

#include "xdense/fusion.hpp"
#include "xdense/initializer.hpp"
#include "xdense/layer.hpp"
#include "xdense/regularizer.hpp"

namespace xdense {

class Activation;

/// Settings of a Dense layer, with Keras's defaults.
struct DenseOptions {
  InitializerSpec kernel_initializer = "glorot_uniform";  ///< a name or an Initializer (initializer.hpp)
  InitializerSpec bias_initializer = "zeros";             ///< given the kernel's fans
  bool use_bias = true;
  RegularizerSpec kernel_regularizer;  ///< none by default; e.g. "l2" or xdense::l2(1e-4) (regularizer.hpp)
  RegularizerSpec bias_regularizer;    ///< none by default; ignored without a bias
};

/// y = x . W + b with kernel W (input_units, units) and bias b (units).
///   forward : x (batch, in) . W (in, units) -> (batch, units)
///   backward: dW = x^T . dy, db = sum over rows of dy, dx = dy . W^T
class Dense final : public Layer {
 public:
  /// `units` > 0 outputs; `input_units` 0 means "inferred from the previous layer".
  explicit Dense(std::size_t units, std::size_t input_units = 0, DenseOptions options = {});

  std::string type_name() const override { return "Dense"; }
  /// {"units", "use_bias", "kernel_initializer", "bias_initializer"}, plus "kernel_regularizer" and
  /// "bias_regularizer" when set; an initializer or regularizer with default settings is its name
  /// ("he_normal"), one with others a Keras object ({"class_name": ..., "config": {...}}).
  /// make_layer("Dense", config) takes these keys and the rest of Keras 3's Dense config: "name",
  /// "trainable" (true), "dtype" (float32) are ignored, "activity_regularizer", "kernel_constraint",
  /// "bias_constraint", "lora_rank" and "quantization_config" must be null; "activation" is refused
  /// (add it as a layer).
  Config config() const override;
  void build(std::size_t input_units, Rng& rng) override;
  bool built() const override { return built_; }
  std::size_t input_units() const override { return input_units_; }
  std::size_t output_units() const override { return units_; }
  void reserve(std::size_t rows) override;
  ConstMatrixView forward(ConstMatrixView x) override;
  ConstMatrixView backward(ConstMatrixView dy, bool need_input_gradient = true) override;
  /// "kernel" (input_units, units), then "bias" (units) unless use_bias is false.
  std::vector<Parameter> parameters() const override;
  std::optional<LayerShape> shape_for(std::size_t input_units) const override;
  /// One ONNX Gemm: A = input (N, input_units), B = the kernel (input_units, units), C = the bias
  /// (units, broadcast over the rows); no C without a bias. Initializers "<name>/kernel", "<name>/bias".
  std::string to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const override;
  /// True with a kernel regularizer, or a bias regularizer and a bias.
  bool regularized() const override;
  /// The kernel's penalty plus the bias's (0 before build). backward() and backward_through() add
  /// their gradients to kernel_gradient() and bias_gradient().
  double regularization_loss() const override;
  void add_regularization_gradients() override;

  /// Whether backward_through() takes `activation`: one that declares its derivative as a
  /// function of its output (Activation::output_derivative(): sigmoid, tanh, ReLU).
  static bool can_backward_through(const Activation& activation);
  /// backward(dy), then the backward pass of `activation`, the layer whose outputs were
  /// this layer's inputs (x = f(z)), in the same pass: returns dL/dz =
  /// (dy . W^T) * f'(z), f'(z) computed from x, bit for bit what the two backward
  /// passes give. Sequential uses it to save a pass over the batch. Throws
  /// InvalidArgument for an activation can_backward_through() refuses.
  ConstMatrixView backward_through(const Activation& activation, ConstMatrixView dy);

  bool takes_backward_of(const Activation& previous) const override { return can_backward_through(previous); }
  ConstMatrixView backward_through_previous(const Activation& previous, ConstMatrixView dy) override {
    return backward_through(previous, dy);
  }

  /// Kernel W, shape (input_units, units).
  const Matrix& kernel() const { return kernel_; }
  /// Bias b, shape (units); all zeros and ignored when use_bias is false.
  const Vector& bias() const { return bias_; }
  /// dL/dW from the last backward(), shape (input_units, units).
  const Matrix& kernel_gradient() const { return kernel_gradient_; }
  /// dL/db from the last backward(), shape (units).
  const Vector& bias_gradient() const { return bias_gradient_; }
  const DenseOptions& options() const { return options_; }

  /// Replaces the weights (builds the layer if needed). Throws ShapeError on mismatch.
  void set_weights(const Matrix& kernel, const Vector& bias);

 private:
  void allocate(std::size_t input_units);
  void check_upstream(ConstMatrixView dy, const char* who) const;
  ConstMatrixView backward_pass(ConstMatrixView dy, bool need_input_gradient, OutputDerivative derivative);
  void add_penalty_gradients();

  std::size_t units_;
  std::size_t input_units_;
  DenseOptions options_;
  bool built_ = false;
  Matrix kernel_;
  Vector bias_;
  Matrix kernel_gradient_;
  Vector bias_gradient_;
  ConstMatrixView input_;  // borrowed from forward() for backward()
  BatchBuffer output_;
  BatchBuffer input_gradient_;
};

}  // namespace xdense
