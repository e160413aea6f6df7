#include <algorithm>
#include <cmath>
#include <limits>

#include "metric_support.hpp"
#include "xdense/error.hpp"
#include "xdense/metrics/binary.hpp"

namespace xdense {

namespace {
constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();
}  // namespace

// ---------------------------------------------------------------- kept scores

void RankingMetric::reset() {
  scored_.clear();  // keeps the capacity
  positives_ = 0;
  saw_nan_ = false;
}

void RankingMetric::update(ConstMatrixView outputs, ConstMatrixView targets) {
  detail::check_binary_batch(*this, outputs, targets);
  for (std::size_t r = 0; r < outputs.rows; ++r) {
    const float score = outputs.data[r];
    const bool positive = detail::positive_target(targets.data[r]);
    saw_nan_ = saw_nan_ || std::isnan(score);
    positives_ += positive;
    scored_.push_back({score, positive});
  }
}

void RankingMetric::check_model(std::size_t units, const Loss& loss) const {
  detail::check_binary_model(*this, units, loss);
}

const std::vector<RankingMetric::Scored>& RankingMetric::sorted() const {
  static const std::vector<Scored> none;
  if (saw_nan_) return none;  // NaN has no place in an order
  // A total order on (score, positive): the sorted sequence does not depend on the batches' order.
  std::sort(scored_.begin(), scored_.end(), [](const Scored& a, const Scored& b) {
    return a.score < b.score || (a.score == b.score && a.positive < b.positive);
  });
  return scored_;
}

std::vector<double> RankingMetric::partial_state() const {
  std::vector<double> state;
  state.reserve(2 * scored_.size());
  for (const Scored& s : scored_) {
    state.push_back(static_cast<double>(s.score));
    state.push_back(s.positive ? 1.0 : 0.0);
  }
  return state;
}

void RankingMetric::merge(const std::vector<double>& partial) {
  if (partial.size() % 2 != 0) {
    throw InvalidArgument(name() + ": merge() expected a partial state of 2 values per sample [score, positive (0 or 1)]: " +
                          "an even size, received " + std::to_string(partial.size()) + " values");
  }
  for (std::size_t i = 1; i < partial.size(); i += 2) {
    if (partial[i] != 0.0 && partial[i] != 1.0) {
      throw InvalidArgument(name() + ": merge() expected a label 0 or 1 at index " + std::to_string(i) +
                            " of the partial state [score, positive, ...], received " + std::to_string(partial[i]));
    }
  }
  const std::size_t added = partial.size() / 2;
  // Grows geometrically: merging every process's state one after the other copies each sample
  // a bounded number of times. The capacity never shrinks (reserve()'s room stays).
  if (scored_.capacity() < scored_.size() + added) {
    scored_.reserve(std::max(scored_.size() + added, 2 * scored_.capacity()));
  }
  for (std::size_t i = 0; i < partial.size(); i += 2) {
    const float score = static_cast<float>(partial[i]);
    const bool positive = partial[i + 1] == 1.0;
    saw_nan_ = saw_nan_ || std::isnan(score);
    positives_ += positive;
    scored_.push_back({score, positive});
  }
}

// ---------------------------------------------------------------- ROC AUC

double RocAuc::result() const {
  const std::uint64_t positives = this->positives();
  const std::uint64_t negatives = this->negatives();
  const auto& scored = sorted();
  if (scored.empty() || positives == 0 || negatives == 0) return not_a_number;
  // Mann-Whitney: each positive counts the negatives scored below it, plus 1/2 for each tied one.
  // Twice that, in integers, is exact: 2U = sum over groups of equal scores of
  // positives_in_group * (2 negatives_below + negatives_in_group).
  std::uint64_t twice_u = 0;
  std::uint64_t negatives_below = 0;
  for (std::size_t i = 0; i < scored.size();) {
    std::uint64_t group_positives = 0;
    std::uint64_t group_negatives = 0;
    const float score = scored[i].score;
    for (; i < scored.size() && scored[i].score == score; ++i) {
      group_positives += scored[i].positive;
      group_negatives += !scored[i].positive;
    }
    twice_u += group_positives * (2 * negatives_below + group_negatives);
    negatives_below += group_negatives;
  }
  return static_cast<double>(twice_u) / (2.0 * static_cast<double>(positives) * static_cast<double>(negatives));
}

// ---------------------------------------------------------------- average precision

double PrAuc::result() const {
  const std::uint64_t positives = this->positives();
  const auto& scored = sorted();
  if (scored.empty() || positives == 0) return not_a_number;
  // From the highest score down, one step per distinct score: recall rises by
  // group_positives / P, at precision TP / (TP + FP) counted through that score.
  double sum = 0.0;  // sum of group_positives * precision; AP = sum / P
  std::uint64_t true_positives = 0;
  std::uint64_t predicted = 0;
  for (std::size_t end = scored.size(); end > 0;) {
    std::uint64_t group_positives = 0;
    std::uint64_t group_size = 0;
    const float score = scored[end - 1].score;
    for (; end > 0 && scored[end - 1].score == score; --end) {
      group_positives += scored[end - 1].positive;
      ++group_size;
    }
    true_positives += group_positives;
    predicted += group_size;
    if (group_positives) {
      sum +=
          static_cast<double>(group_positives) * static_cast<double>(true_positives) / static_cast<double>(predicted);
    }
  }
  return sum / static_cast<double>(positives);
}

// ---------------------------------------------------------------- registry

namespace {

const bool registered = (register_metric("auc", detail::metric_without_settings<RocAuc>("auc")),
                         register_metric("pr_auc", detail::metric_without_settings<PrAuc>("pr_auc")), true);

}  // namespace

}  // namespace xdense
