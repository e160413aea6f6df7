#pragma once
/// \file
/// Accuracy ("accuracy", alias "acc"): the share of samples whose predicted class is the target's,
/// over every batch since reset(). As Keras's compile() resolves "accuracy" from the shapes:
/// BinaryAccuracy for a one-unit output, SparseCategoricalAccuracy for class-index targets,
/// CategoricalAccuracy for one-hot targets.

#include <cstddef>
#include <string>
#include <vector>

#include "xdense/metric.hpp"

namespace xdense {

/// Settings of Accuracy, with Keras's default.
struct AccuracyOptions {
  /// One-unit output: the predicted class is 1 when the output is > threshold (Keras's BinaryAccuracy),
  /// in [0, 1]. Outputs of several units take the argmax and ignore it.
  double threshold = 0.5;
};

/// Predicted class: output > threshold for one unit, argmax otherwise. Target class: y > 0.5 for one
/// unit (0/1 targets), the index for class-index targets (batch, 1), the argmax of a one-hot row.
class Accuracy final : public Metric {
 public:
  /// Throws InvalidArgument unless threshold is in [0, 1].
  explicit Accuracy(AccuracyOptions options = {});
  std::string name() const override { return "accuracy"; }
  /// {} at the default threshold, {"threshold": t} otherwise.
  Config config() const override;
  void reset() override;
  void update(ConstMatrixView outputs, ConstMatrixView targets) override;
  /// correct / samples since reset(); NaN before any sample.
  double result() const override;
  /// Refuses a regression loss (LabelEncoding::values): its outputs are not classes.
  void check_model(std::size_t units, const Loss& loss) const override;
  /// [correct, samples].
  std::vector<double> partial_state() const override;
  /// Adds the counts of another accuracy's partial_state() (at the same threshold: not checked);
  /// InvalidArgument unless it is 2 whole numbers >= 0 with correct <= samples.
  void merge(const std::vector<double>& partial) override;

  double threshold() const { return threshold_; }

 private:
  float threshold_;
  double threshold_setting_;
  std::size_t correct_ = 0;
  std::size_t samples_ = 0;
};

}  // namespace xdense
