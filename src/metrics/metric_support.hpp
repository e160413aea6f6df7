#pragma once
// Private: what the built-in metrics share: the model checks of check_model() (which outputs and
// losses a family of metrics has a meaning for), the shape checks of update() (messages built only
// on error, so that a batch allocates nothing), and how targets become classes.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "xdense/config.hpp"
#include "xdense/metric.hpp"
#include "xdense/tensor.hpp"

namespace xdense::detail {

/// Binary metrics (precision, recall, f1, auc, pr_auc): InvalidArgument unless the model has one
/// output unit and a classification loss; for more units the message points to macro_f1,
/// weighted_f1 and top_k_accuracy.
void check_binary_model(const Metric& metric, std::size_t units, const Loss& loss);

/// Class metrics (top_k_accuracy, macro_f1, weighted_f1): InvalidArgument unless the model has at
/// least 2 output units (one per class) and a classification loss.
void check_class_model(const Metric& metric, std::size_t units, const Loss& loss);

/// Regression metrics (mse, mae, rmse, r2): InvalidArgument when the loss takes class indices
/// (targets of another shape than the outputs).
void check_value_model(const Metric& metric, const Loss& loss);

/// ShapeError unless outputs have one column and targets are (outputs.rows, 1).
void check_binary_batch(const Metric& metric, ConstMatrixView outputs, ConstMatrixView targets);

/// ShapeError unless outputs have at least 2 columns and targets are (rows, 1) class indices or
/// (rows, outputs.cols) one-hot rows.
void check_class_batch(const Metric& metric, ConstMatrixView outputs, ConstMatrixView targets);

/// ShapeError unless targets have the outputs' shape.
void check_same_shape(const Metric& metric, ConstMatrixView outputs, ConstMatrixView targets);

/// A binary target counts as the positive class when it is > 0.5, as xdense's binary accuracy:
/// 0/1 targets as they are, a soft target as its nearer class.
inline bool positive_target(float target) { return target > 0.5f; }

/// Index of the first largest of `n` values (the first, on ties, as xdense's accuracy).
inline std::size_t argmax(const float* values, std::size_t n) {
  std::size_t best = 0;
  for (std::size_t c = 1; c < n; ++c) {
    if (values[c] > values[best]) best = c;
  }
  return best;
}

/// The true class of `row`: the index of a (rows, 1) target, or the argmax of a one-hot row.
/// DataError naming the row for an index that is not an integer in [0, classes).
std::size_t target_class(const Metric& metric, ConstMatrixView targets, std::size_t row, std::size_t classes);

/// Reads {"threshold": t} (default 0.5) for `metric`: a number in [0, 1], else ConfigError naming
/// the key.
double read_threshold(ConfigReader& in);

/// merge(): InvalidArgument unless `partial` has `expected` values; the message names the metric,
/// the expected size and `layout` (what partial_state() writes: "[correct, samples]").
void check_state_size(const Metric& metric, const std::vector<double>& partial, std::size_t expected,
                      const std::string& layout);

/// merge(): partial[index] as a count; InvalidArgument naming `what` and the index unless it is a
/// whole number in [0, 2^53] (what partial_state() wrote for a count).
std::uint64_t state_count(const Metric& metric, const std::vector<double>& partial, std::size_t index,
                          const char* what);

/// merge() of a state [part, whole] ([correct, samples], [hits, samples]): the two counts;
/// InvalidArgument unless they are 2 counts with part <= whole.
std::pair<std::uint64_t, std::uint64_t> part_of_whole_state(const Metric& metric, const std::vector<double>& partial,
                                                            const char* part, const char* whole);

/// merge() of a state of 1 + 3 C values (a count, then 3 values per class or column): C.
/// InvalidArgument unless the size is 1 + 3 C; `layout` names the values for the message.
std::size_t three_per_column_state(const Metric& metric, const std::vector<double>& partial, const std::string& layout);

/// A factory for a metric without settings: any key in its config is refused.
template <typename T>
MetricFactory metric_without_settings(const std::string& name) {
  return [=](const Config& config) -> std::unique_ptr<Metric> {
    ConfigReader in(config, name);
    in.finish();
    return std::make_unique<T>();
  };
}

}  // namespace xdense::detail
