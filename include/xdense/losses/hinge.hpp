#pragma once
/// \file
/// Maximum-margin losses with Keras 3's names, formulas and reduction (mean over the batch of the
/// per-sample loss; hinge and squared_hinge average over the units first).

#include <string>

#include "xdense/loss.hpp"

namespace xdense {

/// Hinge loss ("hinge"): mean over batch and units of max(1 - y p, 0). Targets are -1/1, or
/// 0/1 which Keras converts to -1/1 (when every target of the batch is 0 or 1, y becomes 2y - 1).
/// Gradient -y / N where the margin 1 - y p is > 0, else 0.
class Hinge final : public Loss {
 public:
  std::string name() const override { return "hinge"; }
  double value(ConstMatrixView predictions, ConstMatrixView targets) const override;
  void gradient(ConstMatrixView predictions, ConstMatrixView targets, MatrixView grad) const override;
  /// Targets all -1/1 or all 0/1 (DataError naming the row otherwise).
  void check_targets(ConstMatrixView targets, std::size_t units) const override;
};

/// Squared hinge loss ("squared_hinge"): mean over batch and units of max(1 - y p, 0)^2, targets
/// as Hinge's; gradient -2 y max(1 - y p, 0) / N.
class SquaredHinge final : public Loss {
 public:
  std::string name() const override { return "squared_hinge"; }
  double value(ConstMatrixView predictions, ConstMatrixView targets) const override;
  void gradient(ConstMatrixView predictions, ConstMatrixView targets, MatrixView grad) const override;
  /// Targets all -1/1 or all 0/1 (DataError naming the row otherwise).
  void check_targets(ConstMatrixView targets, std::size_t units) const override;
};

/// Categorical hinge loss ("categorical_hinge"): mean over the batch of max(neg - pos + 1, 0) with
/// pos = sum_k y_k p_k and neg = max_k (1 - y_k) p_k, one-hot targets. Gradient, where the loss is
/// > 0: -y_j plus (1 - y_j) shared among the columns j attaining neg, over the batch size.
class CategoricalHinge final : public Loss {
 public:
  std::string name() const override { return "categorical_hinge"; }
  double value(ConstMatrixView predictions, ConstMatrixView targets) const override;
  void gradient(ConstMatrixView predictions, ConstMatrixView targets, MatrixView grad) const override;
  /// At least 2 units (one per class).
  void check_output(std::size_t units, const Activation* output) const override;
  /// One-hot rows: entries 0 or 1, exactly one 1 (DataError naming the row otherwise).
  void check_targets(ConstMatrixView targets, std::size_t units) const override;
};

}  // namespace xdense
