#pragma once
/// \file
/// Metrics of classes, for a model with one output unit per class (a softmax, at least 2 units)
/// and class-index (batch, 1) or one-hot (batch, classes) targets; a one-hot row's class is its
/// argmax. check_model() refuses a one-unit output (binary metrics: precision, recall, f1, auc).
///
///   "top_k_accuracy"  config {"k": 5} (Keras's default): the fraction of samples whose true class
///                     is among the k highest outputs. Ties as Keras's in_top_k (tf.math.in_top_k,
///                     and the torch/jax backends): the true class is in when fewer than k classes
///                     score strictly higher than it, so classes tied across the k-th place are all
///                     in; a NaN score for the true class is never in. check_model() refuses
///                     k > classes (TensorFlow would count every sample, torch.topk fails).
///   "macro_f1"        the mean over ALL the model's classes of the per-class F1 (Keras's
///                     F1Score(average="macro"); a class never true nor predicted scores 0, where
///                     scikit-learn's f1_score leaves it out of the mean).
///   "weighted_f1"     sum_c F1_c support_c / samples, support_c = samples of true class c
///                     (Keras's F1Score(average="weighted")).
/// For the F1 scores the predicted class is the argmax of the outputs, the first one on ties (as
/// xdense's accuracy and classification_report; Keras's F1Score(threshold=None) marks every tied
/// maximum as predicted). Per class, F1_c = 2 TP_c / (2 TP_c + FP_c + FN_c), 0 when that is 0/0
/// (scikit-learn's zero_division=0; Keras adds epsilon 1e-7 to the denominators, lowering the
/// scores by up to ~1e-7 relative). Counts are exact integers; NaN before any sample.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "xdense/metric.hpp"

namespace xdense {

/// "top_k_accuracy" (aliases "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy").
class TopKAccuracy final : public Metric {
 public:
  /// Throws InvalidArgument for k = 0.
  explicit TopKAccuracy(std::size_t k = 5);
  std::string name() const override { return "top_k_accuracy"; }
  /// {"k": k}.
  Config config() const override;
  void reset() override;
  void update(ConstMatrixView outputs, ConstMatrixView targets) override;
  double result() const override;
  /// Also refuses k > units.
  void check_model(std::size_t units, const Loss& loss) const override;
  /// [hits, samples].
  std::vector<double> partial_state() const override;
  /// Adds the counts of another top_k_accuracy's partial_state() (of the same k: not checked);
  /// InvalidArgument unless it is 2 whole numbers >= 0 with hits <= samples.
  void merge(const std::vector<double>& partial) override;
  std::size_t k() const { return k_; }

 private:
  std::size_t k_;
  std::uint64_t hits_ = 0;
  std::uint64_t samples_ = 0;
};

/// "macro_f1" and "weighted_f1": the per-class F1 of the argmax predictions, averaged.
class ClassF1 final : public Metric {
 public:
  enum class Average { macro, weighted };

  explicit ClassF1(Average average);
  std::string name() const override { return average_ == Average::macro ? "macro_f1" : "weighted_f1"; }
  void reset() override;
  /// Allocates its per-class counts at the first batch (and when the class count changes) only.
  void update(ConstMatrixView outputs, ConstMatrixView targets) override;
  double result() const override;
  void check_model(std::size_t units, const Loss& loss) const override;
  /// 1 + 3 C values for C classes: [samples, true positives of class 0 .. C-1, samples predicted as
  /// class 0 .. C-1, samples of class 0 .. C-1]; [0] (C = 0) before the first batch.
  std::vector<double> partial_state() const override;
  /// Adds the counts of another macro_f1 / weighted_f1's partial_state(). A state of 0 samples
  /// changes nothing; the first state with samples sets the class count when this metric has seen
  /// no sample (may allocate then). InvalidArgument for a size that is not 1 + 3 C, counts that are
  /// not whole numbers >= 0 or do not add up to the samples, or another class count than this
  /// metric's samples were counted with; nothing is added then.
  void merge(const std::vector<double>& partial) override;

 private:
  Average average_;
  std::uint64_t samples_ = 0;
  std::vector<std::uint64_t> true_positives_;  // per class
  std::vector<std::uint64_t> predicted_;       // per class: samples predicted as it (TP + FP)
  std::vector<std::uint64_t> support_;         // per class: samples of it (TP + FN)
};

}  // namespace xdense
