#pragma once
/// \file
/// Regression losses with Keras 3's names, formulas and reduction: the mean over the batch of the
/// per-sample mean over the units, that is the mean over all batch * units entries of a function
/// of the error x = p - y. Targets: any finite values, the predictions' shape.

#include <string>

#include "xdense/loss.hpp"

namespace xdense {

/// Mean absolute error ("mean_absolute_error", alias "mae"): mean of |p - y|;
/// gradient sign(p - y) / N (0 where p = y).
class MeanAbsoluteError final : public Loss {
 public:
  /// A regression loss: real-valued targets.
  LabelEncoding label_encoding() const override { return LabelEncoding::values; }
  std::string name() const override { return "mean_absolute_error"; }
  double value(ConstMatrixView predictions, ConstMatrixView targets) const override;
  void gradient(ConstMatrixView predictions, ConstMatrixView targets, MatrixView grad) const override;
  void check_targets(ConstMatrixView targets, std::size_t units) const override;
};

/// Huber loss ("huber", alias "huber_loss"), config {"delta": 1.0}: mean of 0.5 x^2 where
/// |x| <= delta, delta |x| - 0.5 delta^2 elsewhere; gradient clip(x, -delta, delta) / N.
class Huber final : public Loss {
 public:
  /// A regression loss: real-valued targets.
  LabelEncoding label_encoding() const override { return LabelEncoding::values; }
  /// Throws InvalidArgument unless delta is finite and > 0.
  explicit Huber(double delta = 1.0);
  std::string name() const override { return "huber"; }
  /// {"delta": delta}.
  Config config() const override;
  double delta() const { return delta_; }
  double value(ConstMatrixView predictions, ConstMatrixView targets) const override;
  void gradient(ConstMatrixView predictions, ConstMatrixView targets, MatrixView grad) const override;
  void check_targets(ConstMatrixView targets, std::size_t units) const override;

 private:
  double delta_;
};

/// Log-cosh ("log_cosh", alias "logcosh"): mean of log(cosh(x)), evaluated as Keras does in the
/// form x + softplus(-2x) - log 2 (no overflow for any x); gradient tanh(x) / N.
class LogCosh final : public Loss {
 public:
  /// A regression loss: real-valued targets.
  LabelEncoding label_encoding() const override { return LabelEncoding::values; }
  std::string name() const override { return "log_cosh"; }
  double value(ConstMatrixView predictions, ConstMatrixView targets) const override;
  void gradient(ConstMatrixView predictions, ConstMatrixView targets, MatrixView grad) const override;
  void check_targets(ConstMatrixView targets, std::size_t units) const override;
};

}  // namespace xdense
