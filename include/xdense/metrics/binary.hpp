#pragma once
/// \file
/// Binary classification metrics, for a model with one sigmoid output unit and 0/1 targets
/// (check_model() refuses any other output: for classes, macro_f1, weighted_f1 and
/// top_k_accuracy). A target counts as positive when it is > 0.5, as xdense's binary accuracy
/// (Keras casts y_true to bool: the same for 0/1 targets).
///
/// At a threshold (config {"threshold": t}, default 0.5, in [0, 1]): an output p is predicted
/// positive when p > t (Keras's Precision, Recall and F1Score compare with >). Counts are exact
/// integers over every sample since reset():
///   "precision"  TP / (TP + FP)
///   "recall"     TP / (TP + FN)
///   "f1"         2 TP / (2 TP + FP + FN), the harmonic mean of precision and recall (Keras's
///                F1Score(threshold=t) on one unit)
/// When a denominator is 0 the value is 0 (scikit-learn's zero_division=0; Keras's Precision and
/// Recall divide_no_nan, and its F1Score adds epsilon 1e-7 to each denominator, so its values are
/// lower by up to ~1e-7 relative); NaN before any sample.
///
/// From the ranking of the scores (no threshold): every score and label is kept, and result()
/// sorts them (in place, without allocating):
///   "auc"     ROC AUC, exactly: the probability that a random positive scores higher than a random
///             negative, ties counting 1/2 (the Mann-Whitney U / (P N), scikit-learn's
///             roc_auc_score); NaN unless both classes are present. Keras's AUC() approximates it
///             with 200 thresholds (a Riemann sum over buckets of width 1/199).
///   "pr_auc"  area under the precision-recall curve as average precision, the step-wise sum
///             AP = sum_k (R_k - R_{k-1}) P_k over the distinct scores from the highest down, tied
///             scores forming one step (scikit-learn's average_precision_score); NaN without a
///             positive. Keras's AUC(curve="PR") instead interpolates precision between 200 fixed
///             thresholds (Davis & Goadrich): a different number (higher or lower by ~1e-4 to
///             1e-2), which also depends on how the scores fall into the buckets.
/// NaN outputs make auc and pr_auc NaN (a diverged model has no ranking).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "xdense/metric.hpp"

namespace xdense {

/// Shared by precision, recall and f1: the confusion counts at a threshold.
class ThresholdMetric : public Metric {
 public:
  /// {"threshold": t}.
  Config config() const override;
  void reset() override;
  void update(ConstMatrixView outputs, ConstMatrixView targets) override;
  void check_model(std::size_t units, const Loss& loss) const override;
  /// [true positives, false positives, false negatives, true negatives].
  std::vector<double> partial_state() const override;
  /// Adds the counts of another partial_state() of the same metric (at the same threshold: not
  /// checked); InvalidArgument unless it is 4 whole numbers >= 0.
  void merge(const std::vector<double>& partial) override;

  double threshold() const { return threshold_; }
  std::uint64_t true_positives() const { return true_positives_; }
  std::uint64_t false_positives() const { return false_positives_; }
  std::uint64_t false_negatives() const { return false_negatives_; }
  std::uint64_t true_negatives() const { return true_negatives_; }

 protected:
  /// Throws InvalidArgument unless 0 <= threshold <= 1; `name` is the metric's, for the message.
  ThresholdMetric(const std::string& name, double threshold);
  /// NaN before any sample; else numerator / denominator, 0 when the denominator is 0.
  double ratio(std::uint64_t numerator, std::uint64_t denominator) const;

 private:
  double threshold_;
  float float_threshold_;  // what the float outputs are compared with, as Keras's float32 threshold
  std::uint64_t true_positives_ = 0;
  std::uint64_t false_positives_ = 0;
  std::uint64_t false_negatives_ = 0;
  std::uint64_t true_negatives_ = 0;
};

/// "precision": TP / (TP + FP) at the threshold.
class Precision final : public ThresholdMetric {
 public:
  explicit Precision(double threshold = 0.5) : ThresholdMetric("precision", threshold) {}
  std::string name() const override { return "precision"; }
  double result() const override;
};

/// "recall": TP / (TP + FN) at the threshold.
class Recall final : public ThresholdMetric {
 public:
  explicit Recall(double threshold = 0.5) : ThresholdMetric("recall", threshold) {}
  std::string name() const override { return "recall"; }
  double result() const override;
};

/// "f1": 2 TP / (2 TP + FP + FN) at the threshold.
class BinaryF1 final : public ThresholdMetric {
 public:
  explicit BinaryF1(double threshold = 0.5) : ThresholdMetric("f1", threshold) {}
  std::string name() const override { return "f1"; }
  double result() const override;
};

/// Shared by auc and pr_auc: every (score, label) since reset().
class RankingMetric : public Metric {
 public:
  void reset() override;
  /// Appends the batch; allocation-free while the samples since reset() fit what reserve() made room for.
  void update(ConstMatrixView outputs, ConstMatrixView targets) override;
  void check_model(std::size_t units, const Loss& loss) const override;
  void reserve(std::size_t samples) override { scored_.reserve(samples); }
  /// Every kept sample as 2 values, [score_0, positive_0, score_1, positive_1, ...] (score as the
  /// float it was, NaN too; positive 1 or 0), in the order kept (sorted if result() ran).
  std::vector<double> partial_state() const override;
  /// Appends the samples of another partial_state(). May allocate (beyond what reserve() made room
  /// for, keeping that room: update() stays allocation-free in the next epochs). InvalidArgument for
  /// an odd size or a label other than 0 and 1; nothing is added then.
  void merge(const std::vector<double>& partial) override;

 protected:
  /// A kept sample: its score and whether its target is positive.
  struct Scored {
    float score;
    bool positive;
  };
  /// The kept samples sorted by score, ascending (then negatives first); empty when a score was
  /// NaN. Sorts in place: the set of samples is what counts, not their order (so result() must not
  /// run in two threads at once on the same metric).
  const std::vector<Scored>& sorted() const;
  std::uint64_t positives() const { return positives_; }
  std::uint64_t negatives() const { return scored_.size() - positives_; }

 private:
  mutable std::vector<Scored> scored_;
  std::uint64_t positives_ = 0;
  bool saw_nan_ = false;
};

/// "auc": the exact ROC AUC, ties counting 1/2.
class RocAuc final : public RankingMetric {
 public:
  std::string name() const override { return "auc"; }
  double result() const override;
};

/// "pr_auc": average precision, the step-wise area under the precision-recall curve.
class PrAuc final : public RankingMetric {
 public:
  std::string name() const override { return "pr_auc"; }
  double result() const override;
};

}  // namespace xdense
