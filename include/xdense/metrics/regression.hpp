#pragma once
/// \file
/// Regression metrics with Keras 3's formulas (keras.metrics.MeanSquaredError, MeanAbsoluteError,
/// RootMeanSquaredError, R2Score), accumulated exactly over every sample since reset(): sums in
/// double, added value by value in row order, so that splitting the same samples into other
/// batches gives the same bits.
///
/// Outputs and targets are (batch, units) real values (a model trained with a regression loss,
/// LabelEncoding::values). Every value counts once: Keras's mean over the samples of the per-sample
/// mean over the units is the same number, since every sample has `units` values.
/// check_model() refuses a loss that takes class indices (its targets are not the outputs' shape).

#include <cstddef>
#include <string>
#include <vector>

#include "xdense/metric.hpp"

namespace xdense {

/// Shared by mse, mae and rmse: the sum over every value of (p - y)^2 (squared) or |p - y|, and
/// the number of values.
class MeanErrorMetric : public Metric {
 public:
  void reset() override;
  void update(ConstMatrixView outputs, ConstMatrixView targets) override;
  void check_model(std::size_t units, const Loss& loss) const override;
  /// The mean of the terms seen; NaN before any value.
  double mean() const;
  /// [sum of the terms, number of values].
  std::vector<double> partial_state() const override;
  /// Adds the sum and count of another partial_state() of the same metric (a sum of sums: equal
  /// to one metric that saw every value to rounding, ~1e-16 relative per process). InvalidArgument
  /// unless it is 2 values, the second a whole number >= 0.
  void merge(const std::vector<double>& partial) override;

 protected:
  explicit MeanErrorMetric(bool squared) : squared_(squared) {}

 private:
  bool squared_;
  double sum_ = 0.0;
  std::size_t count_ = 0;
};

/// "mse" (alias "mean_squared_error"): mean of (p - y)^2 over every value; NaN before any sample.
class MeanSquaredErrorMetric final : public MeanErrorMetric {
 public:
  MeanSquaredErrorMetric() : MeanErrorMetric(true) {}
  std::string name() const override { return "mse"; }
  double result() const override { return mean(); }
};

/// "mae" (alias "mean_absolute_error"): mean of |p - y| over every value; NaN before any sample.
class MeanAbsoluteErrorMetric final : public MeanErrorMetric {
 public:
  MeanAbsoluteErrorMetric() : MeanErrorMetric(false) {}
  std::string name() const override { return "mae"; }
  double result() const override { return mean(); }
};

/// "rmse" (alias "root_mean_squared_error"): sqrt of the mse over every value (the root of the
/// whole-epoch mean, never a mean of per-batch roots); NaN before any sample.
class RootMeanSquaredErrorMetric final : public MeanErrorMetric {
 public:
  RootMeanSquaredErrorMetric() : MeanErrorMetric(true) {}
  std::string name() const override { return "rmse"; }
  double result() const override;
};

/// "r2" (alias "r2_score"), Keras's R2Score: per output column j,
///   R2_j = 1 - SS_res,j / SS_tot,j,  SS_res,j = sum_i (y_ij - p_ij)^2,  SS_tot,j = sum_i (y_ij - mean_j y)^2,
/// then aggregated over the columns:
///   "uniform_average" (default)    mean of the R2_j
///   "variance_weighted_average"    sum_j SS_tot,j R2_j / sum_j SS_tot,j
/// As Keras: a column with SS_tot = 0 and SS_res > 0 scores 0 (Keras maps 1 - x/0 = -inf to 0),
/// with SS_tot = SS_res = 0 it is NaN (0/0); NaN before any sample. scikit-learn's r2_score
/// (force_finite) gives 1.0 for the perfect constant case instead.
/// `num_regressors` p > 0 gives Keras's adjusted R2, 1 - (1 - R2)(n - 1)/(n - p - 1), with n the
/// number of target VALUES seen (Keras's ops.size(y_true): samples * units), falling back to the
/// plain R2 when p >= n - 1 (where Keras warns).
/// SS_tot is accumulated by Welford's update in double (no cancellation on targets far from 0,
/// where Keras's sum(y^2) - sum(y) mean in float32 loses digits).
class R2Score final : public Metric {
 public:
  enum class Aggregation { uniform_average, variance_weighted_average };

  explicit R2Score(Aggregation aggregation = Aggregation::uniform_average, std::size_t num_regressors = 0);
  std::string name() const override { return "r2"; }
  /// {"class_aggregation": "uniform_average" | "variance_weighted_average", "num_regressors": p}.
  Config config() const override;
  void reset() override;
  /// Allocates its per-column sums at the first batch (and when the column count changes) only.
  void update(ConstMatrixView outputs, ConstMatrixView targets) override;
  double result() const override;
  void check_model(std::size_t units, const Loss& loss) const override;
  /// 1 + 3 C values for C output columns: [samples, mean of y per column, SS_tot per column (sum of
  /// squared deviations from that mean), SS_res per column]; [0] before the first batch.
  std::vector<double> partial_state() const override;
  /// Adds the samples behind another r2's partial_state(): SS_res add up, the means and SS_tot
  /// combine by Chan et al.'s pairwise formula (SS_tot = SS_a + SS_b + (mean_b - mean_a)^2 n_a n_b / n),
  /// exact in real arithmetic: equal to one metric that saw every sample to rounding. A state of
  /// 0 samples changes nothing; the first state with samples sets the column count when this metric
  /// has seen no sample (may allocate then). InvalidArgument for a size that is not 1 + 3 C, a
  /// sample count that is not a whole number >= 0, or another column count than this metric's
  /// samples have; nothing is added then.
  void merge(const std::vector<double>& partial) override;

 private:
  Aggregation aggregation_;
  std::size_t num_regressors_;
  std::size_t rows_ = 0;           // samples seen
  std::vector<double> mean_;       // per column: running mean of y (Welford)
  std::vector<double> squares_;    // per column: sum (y - mean)^2 so far (Welford's M2) = SS_tot
  std::vector<double> residuals_;  // per column: sum (y - p)^2 = SS_res
};

}  // namespace xdense
