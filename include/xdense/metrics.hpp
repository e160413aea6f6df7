#pragma once
/// \file
/// Classification metrics from true and predicted class indices.

#include <cstddef>
#include <string>
#include <vector>

namespace xdense {

/// Precision, recall and F1 of one class, as scikit-learn's classification_report.
struct ClassScores {
  double precision = 0.0;   ///< TP / (TP + FP); 0 when nothing was predicted as this class
  double recall = 0.0;      ///< TP / (TP + FN); 0 when the class does not occur
  double f1 = 0.0;          ///< harmonic mean of precision and recall; 0 when both are 0
  std::size_t support = 0;  ///< samples whose true class is this one
};

/// Confusion matrix and per-class scores.
struct ClassificationReport {
  /// confusion[t][p] = samples of true class t predicted as p; (classes, classes).
  std::vector<std::vector<std::size_t>> confusion;
  std::vector<ClassScores> per_class;
  double accuracy = 0.0;
  double macro_f1 = 0.0;  ///< unweighted mean of the per-class F1
  std::size_t samples = 0;
};

/// Builds the report; throws InvalidArgument when sizes differ or an index is >= classes.
ClassificationReport classification_report(const std::vector<std::size_t>& truth,
                                           const std::vector<std::size_t>& predicted, std::size_t classes);

/// The report as aligned text: per-class precision/recall/F1/support, then the confusion
/// matrix; `class_names` label rows and columns (indices are used when empty).
std::string format_report(const ClassificationReport& report, const std::vector<std::string>& class_names);

}  // namespace xdense
