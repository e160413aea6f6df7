#include "metric_support.hpp"

#include <cmath>
#include <iomanip>
#include <sstream>

#include <nlohmann/json.hpp>

#include "xdense/error.hpp"
#include "xdense/loss.hpp"

namespace xdense::detail {

namespace {

std::string number_text(double value) {
  std::ostringstream text;
  text << std::setprecision(9) << value;
  return text.str();
}

void refuse_regression_loss(const Metric& metric, const Loss& loss, const std::string& instead) {
  if (loss.label_encoding() == LabelEncoding::values) {
    throw InvalidArgument(metric.name() + ": a classification metric, but the loss " + quote_value(loss.name()) +
                          " is a regression loss (" + instead + ")");
  }
}

}  // namespace

void check_binary_model(const Metric& metric, std::size_t units, const Loss& loss) {
  if (units != 1) {
    throw InvalidArgument(
        metric.name() + ": a binary metric, for one sigmoid output unit (targets 0/1); the model has " +
        std::to_string(units) + " output units (for classes use macro_f1, weighted_f1 or top_k_accuracy)");
  }
  refuse_regression_loss(metric, loss, "for regression use mse, mae, rmse or r2");
}

void check_class_model(const Metric& metric, std::size_t units, const Loss& loss) {
  if (units < 2) {
    throw InvalidArgument(metric.name() +
                          ": a metric of classes, for an output of one unit per class (at least 2); the model has " +
                          std::to_string(units) + " output unit (for one unit use precision, recall, f1 or auc)");
  }
  refuse_regression_loss(metric, loss, "for regression use mse, mae, rmse or r2");
}

void check_value_model(const Metric& metric, const Loss& loss) {
  if (loss.label_encoding() == LabelEncoding::class_index) {
    throw InvalidArgument(metric.name() + ": a regression metric, for targets of the outputs' shape; the loss " +
                          quote_value(loss.name()) +
                          " takes class indices (for classes use accuracy, top_k_accuracy, macro_f1 or weighted_f1)");
  }
}

void check_binary_batch(const Metric& metric, ConstMatrixView outputs, ConstMatrixView targets) {
  if (outputs.cols != 1 || targets.cols != 1 || targets.rows != outputs.rows) {
    throw ShapeError(metric.name() + ": expected outputs and targets of shape (batch, 1), received outputs " +
                     shape_string(outputs.rows, outputs.cols) + " and targets " +
                     shape_string(targets.rows, targets.cols));
  }
}

void check_class_batch(const Metric& metric, ConstMatrixView outputs, ConstMatrixView targets) {
  if (outputs.cols < 2 || targets.rows != outputs.rows || (targets.cols != 1 && targets.cols != outputs.cols)) {
    throw ShapeError(metric.name() + ": expected outputs (batch, classes >= 2) and targets (batch, 1) or (batch, " +
                     "classes), received outputs " + shape_string(outputs.rows, outputs.cols) + " and targets " +
                     shape_string(targets.rows, targets.cols));
  }
}

void check_same_shape(const Metric& metric, ConstMatrixView outputs, ConstMatrixView targets) {
  if (outputs.rows != targets.rows || outputs.cols != targets.cols) {
    throw ShapeError(metric.name() + ": expected targets of the outputs' shape " +
                     shape_string(outputs.rows, outputs.cols) + ", received " +
                     shape_string(targets.rows, targets.cols));
  }
}

std::size_t target_class(const Metric& metric, ConstMatrixView targets, std::size_t row, std::size_t classes) {
  if (targets.cols != 1) return argmax(targets.row(row), targets.cols);
  const float t = targets.data[row];
  if (!(t >= 0.0f && t < static_cast<float>(classes)) || t != std::floor(t)) {
    throw DataError(metric.name() + ": expected class indices 0.." + std::to_string(classes - 1) + ", received " +
                    number_text(t) + " at row " + std::to_string(row));
  }
  return static_cast<std::size_t>(t);
}

void check_state_size(const Metric& metric, const std::vector<double>& partial, std::size_t expected,
                      const std::string& layout) {
  if (partial.size() != expected) {
    throw InvalidArgument(metric.name() + ": merge() expected a partial state of " + std::to_string(expected) +
                          " values " + layout + " (partial_state() of a " + quote_value(metric.name()) +
                          " metric), received " + std::to_string(partial.size()));
  }
}

std::uint64_t state_count(const Metric& metric, const std::vector<double>& partial, std::size_t index,
                          const char* what) {
  const double value = partial[index];
  if (!(value >= 0.0 && value <= 9007199254740992.0 && value == std::floor(value))) {
    throw InvalidArgument(metric.name() + ": merge() expected a count (a whole number >= 0) for " + what +
                          " at index " + std::to_string(index) + " of the partial state, received " +
                          number_text(value));
  }
  return static_cast<std::uint64_t>(value);
}

std::pair<std::uint64_t, std::uint64_t> part_of_whole_state(const Metric& metric, const std::vector<double>& partial,
                                                            const char* part, const char* whole) {
  check_state_size(metric, partial, 2, std::string("[") + part + ", " + whole + "]");
  const std::uint64_t part_count = state_count(metric, partial, 0, part);
  const std::uint64_t whole_count = state_count(metric, partial, 1, whole);
  if (part_count > whole_count) {
    throw InvalidArgument(metric.name() + ": merge() expected " + part + " <= " + whole +
                          " in the partial state, received " + std::to_string(part_count) + " " + part + " of " +
                          std::to_string(whole_count));
  }
  return {part_count, whole_count};
}

std::size_t three_per_column_state(const Metric& metric, const std::vector<double>& partial, const std::string& layout) {
  if (partial.empty() || (partial.size() - 1) % 3 != 0) {
    throw InvalidArgument(metric.name() + ": merge() expected a partial state of 1 + 3 C values " + layout +
                          ", received " + std::to_string(partial.size()) + " values");
  }
  return (partial.size() - 1) / 3;
}

double read_threshold(ConfigReader& in) {
  const double threshold = in.number("threshold", 0.5);
  if (!(threshold >= 0.0 && threshold <= 1.0)) {
    in.fail("threshold", "expected a number in [0, 1], received " + number_text(threshold));
  }
  return threshold;
}

}  // namespace xdense::detail
