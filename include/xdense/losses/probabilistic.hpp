#pragma once
/// \file
/// Losses between distributions or counts, with Keras 3's names, formulas and reduction.

#include <string>

#include "xdense/loss.hpp"

namespace xdense {

/// Kullback-Leibler divergence ("kl_divergence", aliases "kld", "kullback_leibler_divergence"):
/// mean over the batch of sum_k y_k log(y_k / p_k), y and p each clipped to [1e-7, 1] first
/// (Keras). Gradient -y_k / p_k / batch, 0 where p is clipped. Targets: probability rows.
/// Unlike torch.nn.KLDivLoss, it takes probabilities p, not log-probabilities.
class KLDivergence final : public Loss {
 public:
  std::string name() const override { return "kl_divergence"; }
  double value(ConstMatrixView predictions, ConstMatrixView targets) const override;
  void gradient(ConstMatrixView predictions, ConstMatrixView targets, MatrixView grad) const override;
  /// At least 2 units (a distribution over one unit is always [1]).
  void check_output(std::size_t units, const Activation* output) const override;
  /// Rows of entries in [0, 1] summing to 1 within 1e-3 (DataError naming the row otherwise).
  void check_targets(ConstMatrixView targets, std::size_t units) const override;
};

/// Poisson loss ("poisson"): mean over batch and units of p - y log(p + 1e-7) (Keras); gradient
/// (1 - y / (p + 1e-7)) / N. Targets: counts or rates y >= 0; predictions should be > 0 (an exp,
/// softplus or relu output).
class Poisson final : public Loss {
 public:
  /// A regression loss: real-valued targets.
  LabelEncoding label_encoding() const override { return LabelEncoding::values; }
  std::string name() const override { return "poisson"; }
  double value(ConstMatrixView predictions, ConstMatrixView targets) const override;
  void gradient(ConstMatrixView predictions, ConstMatrixView targets, MatrixView grad) const override;
  /// Finite targets >= 0 (DataError naming the row otherwise).
  void check_targets(ConstMatrixView targets, std::size_t units) const override;
};

}  // namespace xdense
