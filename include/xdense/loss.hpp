#pragma once
/// \file
/// Loss functions with Keras's names and reductions (mean over the batch).
///
/// Targets are either dense, with the predictions' shape (batch, units), or sparse
/// class indices of shape (batch, 1) when the predictions have more than one column
/// (categorical cross-entropy only).
///
/// When the output layer is a sigmoid (binary cross-entropy) or a softmax
/// (categorical cross-entropy), Sequential computes the loss from the logits z
/// feeding that layer: stable for any z, and the gradient is exactly (p - y) / N.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "xdense/config.hpp"
#include "xdense/tensor.hpp"

namespace xdense {

class Activation;

/// How a loss takes its targets: what a tool must make of a label column. `values` makes the loss a
/// regression loss: its task is regression, its default metrics mae, rmse and r2.
enum class LabelEncoding {
  one_hot,      ///< one column per output unit: one-hot rows, or 0/1 for a one-unit output
  class_index,  ///< class indices (batch, 1) as they are (one-hot rows accepted too)
  values,       ///< real values, one column per output unit (regression: mse, mae, huber, ...)
};

/// A differentiable scalar loss of predictions and targets, averaged over the batch.
class Loss {
 public:
  virtual ~Loss() = default;

  /// Keras identifier, the name the loss is registered under, e.g. "binary_crossentropy".
  virtual std::string name() const = 0;

  /// The settings make_loss(name(), config()) needs to rebuild it; an empty object by default.
  virtual Config config() const;

  /// Mean loss over the batch.
  virtual double value(ConstMatrixView predictions, ConstMatrixView targets) const = 0;

  /// grad = dL/dpredictions, same shape as predictions.
  virtual void gradient(ConstMatrixView predictions, ConstMatrixView targets, MatrixView grad) const = 0;

  /// How class labels become this loss's targets; one_hot by default.
  virtual LabelEncoding label_encoding() const { return LabelEncoding::one_hot; }

  /// True when value/gradient can be computed from the logits feeding `output`.
  virtual bool fuses_with(const Activation& /*output*/) const { return false; }

  /// Mean loss computed from logits z (only when fuses_with() is true).
  virtual double value_from_logits(ConstMatrixView logits, ConstMatrixView targets) const;

  /// grad = dL/dz (only when fuses_with() is true).
  virtual void gradient_from_logits(ConstMatrixView logits, ConstMatrixView targets, MatrixView grad) const;

  /// A training step's pass: grad = dL/dz as gradient_from_logits(), and returns the
  /// mean loss, from the same exponentials in float arithmetic (within a few float
  /// roundings of value_from_logits(), which sums in double; Keras computes in float
  /// throughout). `grad` must not overlap the logits or the targets. Default: the two calls.
  virtual double value_and_gradient_from_logits(ConstMatrixView logits, ConstMatrixView targets, MatrixView grad) const;

  /// The loss of each sample alone: out[i] (predictions.rows doubles) is the loss of row i, so
  /// value() is their mean. Every loss is such a mean over the batch of per-sample terms, each
  /// depending on its own row only (Keras's losses before their sum_over_batch_size reduction), so
  /// row i of gradient() is (d term_i / d row i) / rows: weighting sample i by w_i scales row i of
  /// the gradient by w_i (Sequential's weighted step). Default: value() of each one-row view.
  virtual void sample_values(ConstMatrixView predictions, ConstMatrixView targets, double* out) const;

  /// The same from the logits (only when fuses_with() is true). Default: value_from_logits() of
  /// each one-row view.
  virtual void sample_values_from_logits(ConstMatrixView logits, ConstMatrixView targets, double* out) const;

  /// Throws InvalidArgument when the loss cannot go with a model whose last layer
  /// has `units` outputs and is `output` (nullptr if it is not an activation).
  virtual void check_output(std::size_t units, const Activation* output) const;

  /// Throws DataError (with the row) or ShapeError when `targets` do not fit an
  /// output of `units` units: wrong shape, non-integer or out-of-range classes.
  virtual void check_targets(ConstMatrixView targets, std::size_t units) const;
};

/// Mean squared error: mean over batch and units of (p - y)^2.
class MeanSquaredError final : public Loss {
 public:
  /// A regression loss: real-valued targets.
  LabelEncoding label_encoding() const override { return LabelEncoding::values; }
  std::string name() const override { return "mean_squared_error"; }
  double value(ConstMatrixView predictions, ConstMatrixView targets) const override;
  void gradient(ConstMatrixView predictions, ConstMatrixView targets, MatrixView grad) const override;
};

/// Binary cross-entropy, mean over batch and units:
/// -[y log p + (1 - y) log(1 - p)], p clipped to [1e-7, 1 - 1e-7] (Keras);
/// from logits: max(z, 0) - z y + log(1 + e^-|z|), gradient sigmoid(z) - y.
/// With `label_smoothing` ls in [0, 1] (Keras's), y is replaced by y (1 - ls) + ls / 2 in
/// both forms, so the gradient from logits is sigmoid(z) - y'.
class BinaryCrossEntropy final : public Loss {
 public:
  /// Throws InvalidArgument unless label_smoothing is in [0, 1].
  explicit BinaryCrossEntropy(double label_smoothing = 0.0);
  std::string name() const override { return "binary_crossentropy"; }
  /// {} by default; {"label_smoothing": ls} when ls is not 0.
  Config config() const override;
  double label_smoothing() const { return label_smoothing_; }
  double value(ConstMatrixView predictions, ConstMatrixView targets) const override;
  void gradient(ConstMatrixView predictions, ConstMatrixView targets, MatrixView grad) const override;
  bool fuses_with(const Activation& output) const override;
  double value_from_logits(ConstMatrixView logits, ConstMatrixView targets) const override;
  void gradient_from_logits(ConstMatrixView logits, ConstMatrixView targets, MatrixView grad) const override;
  double value_and_gradient_from_logits(ConstMatrixView logits, ConstMatrixView targets,
                                        MatrixView grad) const override;
  void check_output(std::size_t units, const Activation* output) const override;
  void check_targets(ConstMatrixView targets, std::size_t units) const override;

 private:
  double label_smoothing_;
};

/// Categorical cross-entropy, mean over the batch of -sum_k y_k log p_k, with
/// one-hot (or soft) targets, or integer class indices (batch, 1).
/// From logits: sum_k y_k (logsumexp(z) - z_k), gradient softmax(z) sum(y) - y.
/// With `sparse_only` (sparse_categorical_crossentropy) targets must be indices.
/// With `label_smoothing` ls in [0, 1] (Keras's; categorical_crossentropy only), the targets
/// of K classes, one-hot, soft or class indices, become y (1 - ls) + ls / K in both forms, so
/// the gradient from logits is softmax(z) sum(y') - y'.
class CategoricalCrossEntropy final : public Loss {
 public:
  /// Throws InvalidArgument unless label_smoothing is in [0, 1], and 0 with sparse_only
  /// (Keras's sparse_categorical_crossentropy has no smoothing).
  explicit CategoricalCrossEntropy(bool sparse_only = false, double label_smoothing = 0.0);
  LabelEncoding label_encoding() const override { return LabelEncoding::class_index; }
  std::string name() const override {
    return sparse_only_ ? "sparse_categorical_crossentropy" : "categorical_crossentropy";
  }
  /// {} by default; {"label_smoothing": ls} when ls is not 0.
  Config config() const override;
  double label_smoothing() const { return label_smoothing_; }
  double value(ConstMatrixView predictions, ConstMatrixView targets) const override;
  void gradient(ConstMatrixView predictions, ConstMatrixView targets, MatrixView grad) const override;
  bool fuses_with(const Activation& output) const override;
  double value_from_logits(ConstMatrixView logits, ConstMatrixView targets) const override;
  void gradient_from_logits(ConstMatrixView logits, ConstMatrixView targets, MatrixView grad) const override;
  double value_and_gradient_from_logits(ConstMatrixView logits, ConstMatrixView targets,
                                        MatrixView grad) const override;
  void check_output(std::size_t units, const Activation* output) const override;
  void check_targets(ConstMatrixView targets, std::size_t units) const override;

 private:
  bool sparse_only_;
  double label_smoothing_;
};

/// Makes a loss from its config (what Loss::config() returned). Throws InvalidArgument for a config
/// it cannot take.
using LossFactory = std::function<std::unique_ptr<Loss>(const Config& config)>;

/// Adds loss `name` (and `aliases`) to the registry, replacing an entry of the same name. Built-ins
/// register themselves in their own .cpp; a user's loss registers the same way.
void register_loss(const std::string& name, LossFactory factory, const std::vector<std::string>& aliases = {});

/// Resolves a Keras loss identifier: "mean_squared_error" ("mse"), "binary_crossentropy"
/// ("bce"), "categorical_crossentropy" ("cce"), "sparse_categorical_crossentropy", or a registered
/// one, with default settings. Throws InvalidArgument naming the known losses.
std::unique_ptr<Loss> make_loss(const std::string& name);

/// The loss registered as `name`, made from `config`.
std::unique_ptr<Loss> make_loss(const std::string& name, const Config& config);

/// Registered (canonical) loss names, sorted.
std::vector<std::string> loss_names();

/// True when targets are class indices rather than one row per output unit.
inline bool sparse_targets(ConstMatrixView targets, std::size_t units) { return targets.cols == 1 && units > 1; }

}  // namespace xdense
