#pragma once
/// \file
/// Layer normalisation over the features of each sample (Keras's LayerNormalization with axis -1,
/// PyTorch's LayerNorm over the last dimension): the same computation in training and inference.

#include <cstddef>
#include <string>
#include <vector>

#include "xdense/initializer.hpp"
#include "xdense/layer.hpp"

namespace xdense {

/// Settings of a LayerNormalization layer, with Keras's defaults and key names.
struct LayerNormalizationOptions {
  double epsilon = 1e-3;  ///< added to the variance (PyTorch's default is 1e-5)
  bool center = true;     ///< learn beta (false: no offset)
  bool scale = true;      ///< learn gamma (false: no scaling)
  InitializerSpec beta_initializer = "zeros";
  InitializerSpec gamma_initializer = "ones";
};

/// y = gamma (x - mean) / sqrt(var + epsilon) + beta, mean and (biased) var over the features of
/// each row; gamma and beta are per feature.
/// Backward, per row of N features, with xhat = (x - mean) / sqrt(var + epsilon) and g = dy gamma:
///   dx = (g - mean(g) - xhat mean(g xhat)) / sqrt(var + epsilon)
///   dgamma = sum over rows of dy xhat,  dbeta = sum over rows of dy
/// Weights: gamma (if scale), beta (if center), both trainable.
class LayerNormalization final : public Layer {
 public:
  explicit LayerNormalization(LayerNormalizationOptions options = {});

  std::string type_name() const override { return "LayerNormalization"; }
  /// {"axis": -1, "epsilon", "center", "scale", "rms_scaling": false, "beta_initializer",
  /// "gamma_initializer"}; make_layer() also takes Keras's "name", "trainable": true, "dtype" and
  /// null regularizers/constraints.
  Config config() const override;
  void build(std::size_t input_units, Rng& rng) override;
  bool built() const override { return built_; }
  std::size_t input_units() const override { return units_; }
  std::size_t output_units() const override { return units_; }
  void reserve(std::size_t rows) override;
  ConstMatrixView forward(ConstMatrixView x) override;
  ConstMatrixView backward(ConstMatrixView dy, bool need_input_gradient = true) override;
  /// "gamma" (units) if scale, "beta" (units) if center.
  std::vector<Parameter> parameters() const override;
  std::optional<LayerShape> shape_for(std::size_t input_units) const override;
  /// A composite at opset 13 (ONNX's LayerNormalization op needs opset 17), in forward()'s order:
  /// mean = ReduceMean(x, axes [-1], keepdims), d = x - mean, var = ReduceMean(d * d),
  /// inv_std = Reciprocal(Sqrt(var + epsilon)), y = d * inv_std, then Mul gamma (if scale) and
  /// Add beta (if center). forward() accumulates the statistics in double, ONNX Runtime in float:
  /// the outputs agree to float rounding. Initializers "<name>/epsilon", "<name>/gamma", "<name>/beta".
  std::string to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const override;

  const LayerNormalizationOptions& options() const { return options_; }

 private:
  LayerNormalizationOptions options_;
  float epsilon_;
  std::size_t units_ = 0;
  bool built_ = false;
  // Weights (units each); gamma stays all ones without scale, beta all zeros without center.
  std::vector<float> gamma_, beta_, gamma_gradient_, beta_gradient_;
  ConstMatrixView input_;     // borrowed from forward() for backward()
  BatchBuffer statistics_;    // per row of the last forward(): mean, 1 / sqrt(var + epsilon)
  BatchBuffer output_;
  BatchBuffer input_gradient_;
};

}  // namespace xdense
