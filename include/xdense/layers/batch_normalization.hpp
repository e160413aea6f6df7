#pragma once
/// \file
/// Batch normalisation over the feature axis (Keras's BatchNormalization, PyTorch's BatchNorm1d):
/// each feature normalised by the batch's statistics in training mode and by moving statistics in
/// inference mode, then scaled and shifted by trained gamma and beta.

#include <cstddef>
#include <string>
#include <vector>

#include "xdense/initializer.hpp"
#include "xdense/layer.hpp"

namespace xdense {

/// Settings of a BatchNormalization layer, with Keras's defaults and key names.
struct BatchNormalizationOptions {
  double momentum = 0.99;  ///< moving = momentum moving + (1 - momentum) batch; PyTorch's momentum is 1 - this
  double epsilon = 1e-3;   ///< added to the variance (PyTorch's default is 1e-5)
  bool center = true;      ///< learn beta (false: no offset)
  bool scale = true;       ///< learn gamma (false: no scaling)
  InitializerSpec beta_initializer = "zeros";
  InitializerSpec gamma_initializer = "ones";
  InitializerSpec moving_mean_initializer = "zeros";
  InitializerSpec moving_variance_initializer = "ones";
};

/// y = gamma (x - mean) / sqrt(var + epsilon) + beta per feature (column), with
///   training mode : mean, var = the batch's mean and biased variance (divided by N), and then
///                   moving_mean = momentum moving_mean + (1 - momentum) mean, the same for
///                   moving_variance with the biased var (Keras; PyTorch moves it with the unbiased
///                   N/(N-1) var);
///   inference mode: mean, var = moving_mean, moving_variance (nothing moves).
/// Computed as Keras and PyTorch do: y = x a + b, a = gamma / sqrt(var + epsilon), b = beta - mean a.
/// Backward, with xhat = (x - mean) / sqrt(var + epsilon) and N rows:
///   dgamma = sum over rows of dy xhat,  dbeta = sum over rows of dy
///   training : dx = a (dy - mean(dy) - xhat mean(dy xhat))   (mean and var depend on x)
///   inference: dx = a dy
/// Weights in Keras's order: gamma, beta (trainable; absent when scale / center is false), then
/// moving_mean, moving_variance (non-trainable: summary() counts all four as Keras does).
class BatchNormalization final : public Layer {
 public:
  explicit BatchNormalization(BatchNormalizationOptions options = {});

  std::string type_name() const override { return "BatchNormalization"; }
  /// {"axis": -1, "momentum", "epsilon", "center", "scale", "beta_initializer", "gamma_initializer",
  /// "moving_mean_initializer", "moving_variance_initializer"}; make_layer() also takes Keras's
  /// "name", "trainable": true, "dtype", "synchronized": false and null regularizers/constraints.
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
  /// "moving_mean" (units), "moving_variance" (units).
  std::vector<Parameter> non_trainable_weights() const override;
  std::optional<LayerShape> shape_for(std::size_t input_units) const override;
  /// Inference mode as one ONNX BatchNormalization node (opset 9 form, [N, C] input) with scale =
  /// gamma, B = beta, mean and var = the moving statistics, attribute epsilon; gamma is ones
  /// without scale, beta zeros without center (what forward() uses). Initializers "<name>/gamma",
  /// "<name>/beta", "<name>/moving_mean", "<name>/moving_variance". Not folded into a preceding
  /// Gemm: the graph keeps the layer as trained (ONNX Runtime may fuse it when it optimises).
  std::string to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const override;

  const BatchNormalizationOptions& options() const { return options_; }

 private:
  BatchNormalizationOptions options_;
  float momentum_;
  float one_minus_momentum_;  // 1 - momentum in double, then rounded, as Keras computes it
  float epsilon_;
  std::size_t units_ = 0;
  bool built_ = false;
  bool batch_statistics_ = false;  // whether the last forward() normalised by the batch's statistics
  // Weights (units each); gamma stays all ones without scale, beta all zeros without center.
  std::vector<float> gamma_, beta_, moving_mean_, moving_variance_;
  std::vector<float> gamma_gradient_, beta_gradient_;
  // Per feature, from the last forward(): the mean used, the batch variance, 1 / sqrt(var + epsilon),
  // and y = x a + b; p_ and q_ are backward's dx = a dy + p (x - mean) + q.
  std::vector<float> mean_, variance_, inv_std_, a_, b_, p_, q_;
  std::vector<double> sums_;  // scratch: 2 units accumulators
  ConstMatrixView input_;     // borrowed from forward() for backward()
  BatchBuffer output_;
  BatchBuffer input_gradient_;
};

}  // namespace xdense
