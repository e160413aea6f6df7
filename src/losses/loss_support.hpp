#pragma once
// Private: what every loss's .cpp shares, the shape checks of value()/gradient(), the checks of
// targets that name the offending row, and the factory of a loss without settings.

#include <cmath>
#include <cstddef>
#include <iomanip>
#include <memory>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "xdense/config.hpp"
#include "xdense/error.hpp"
#include "xdense/loss.hpp"

namespace xdense::detail {

/// Keras's backend epsilon (keras.backend.epsilon()): the clip bound of probabilities.
constexpr double keras_epsilon = 1e-7;

/// Throws ShapeError unless targets have the predictions' shape. The loss name is only built on
/// error, so a training step allocates nothing.
inline void check_same_shape(const Loss& loss, ConstMatrixView predictions, ConstMatrixView targets) {
  if (predictions.rows != targets.rows || predictions.cols != targets.cols) {
    throw ShapeError(loss.name() + ": expected targets of shape " + shape_string(predictions.rows, predictions.cols) +
                     ", received " + shape_string(targets.rows, targets.cols));
  }
}

/// Throws ShapeError unless there is one target row per prediction row.
inline void check_rows(const Loss& loss, ConstMatrixView predictions, ConstMatrixView targets) {
  if (predictions.rows != targets.rows) {
    throw ShapeError(loss.name() + ": expected " + std::to_string(predictions.rows) + " target rows, received " +
                     std::to_string(targets.rows));
  }
}

/// A target value as a message shows it: 0.5, -1, nan (the shortest form that reads back).
inline std::string target_text(float value) {
  std::ostringstream text;
  text << std::setprecision(9) << value;
  return text.str();
}

/// Throws DataError "<loss>: expected <what>, received <value> at row <row>" for target entry `index`.
[[noreturn]] inline void bad_target(const Loss& loss, const std::string& what, ConstMatrixView targets,
                                    std::size_t index) {
  throw DataError(loss.name() + ": expected " + what + ", received " + target_text(targets.data[index]) +
                  " at row " + std::to_string(index / targets.cols));
}

/// Throws DataError at the first target entry for which `good(value)` is false.
template <typename Good>
void check_each_target(const Loss& loss, ConstMatrixView targets, const std::string& what, Good good) {
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (!good(targets.data[i])) bad_target(loss, what, targets, i);
  }
}

/// Throws ShapeError unless targets have one column per unit (Loss::check_targets), then DataError
/// at the first target that is not finite.
inline void check_finite_targets(const Loss& loss, ConstMatrixView targets, std::size_t units) {
  loss.Loss::check_targets(targets, units);
  check_each_target(loss, targets, "finite targets", [](float t) { return std::isfinite(t); });
}

/// Throws InvalidArgument unless the output has at least 2 units (one per class or outcome);
/// `why` ends the message, e.g. "(use hinge with a 1-unit output)".
inline void check_class_units(const Loss& loss, std::size_t units, const std::string& why) {
  if (units < 2) {
    throw InvalidArgument(loss.name() + ": expected an output layer with one unit per class (at least 2), received " +
                          std::to_string(units) + " unit " + why);
  }
}

/// Mean over all batch * units entries of term(p, y), summed in double: Keras's mean over the
/// batch of the per-sample mean over the units.
template <typename Term>
double mean_of_terms(const Loss& loss, ConstMatrixView p, ConstMatrixView y, Term term) {
  check_same_shape(loss, p, y);
  double sum = 0.0;
  for (std::size_t i = 0; i < p.size(); ++i) sum += term(static_cast<double>(p.data[i]), static_cast<double>(y.data[i]));
  return p.size() ? sum / static_cast<double>(p.size()) : 0.0;
}

/// The gradient of mean_of_terms: grad_i = derivative(p_i, y_i) / N, N = batch * units.
template <typename Derivative>
void gradient_of_mean(const Loss& loss, ConstMatrixView p, ConstMatrixView y, MatrixView grad,
                      Derivative derivative) {
  check_same_shape(loss, p, y);
  const double n = static_cast<double>(p.size());
  for (std::size_t i = 0; i < p.size(); ++i) {
    grad.data[i] = static_cast<float>(derivative(static_cast<double>(p.data[i]), static_cast<double>(y.data[i])) / n);
  }
}

/// A factory for a loss without settings: Keras's "name" and "reduction" are accepted and ignored
/// (xdense's reduction is always the batch mean); any other key is refused.
template <typename T>
LossFactory loss_without_settings(const std::string& name) {
  return [=](const Config& config) -> std::unique_ptr<Loss> {
    ConfigReader in(config, name);
    in.ignore("name");
    in.ignore("reduction");
    in.finish();
    return std::make_unique<T>();
  };
}

}  // namespace xdense::detail
