#include "xdense/metrics/binary.hpp"

#include <cmath>
#include <limits>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "metric_support.hpp"
#include "xdense/error.hpp"

namespace xdense {

ThresholdMetric::ThresholdMetric(const std::string& name, double threshold)
    : threshold_(threshold), float_threshold_(static_cast<float>(threshold)) {
  if (!(threshold >= 0.0 && threshold <= 1.0)) {
    std::ostringstream m;
    m << name << ": threshold must be in [0, 1], received threshold=" << threshold;
    throw InvalidArgument(m.str());
  }
}

Config ThresholdMetric::config() const {
  Config config = Config::object();
  config["threshold"] = threshold_;
  return config;
}

void ThresholdMetric::reset() { true_positives_ = false_positives_ = false_negatives_ = true_negatives_ = 0; }

void ThresholdMetric::update(ConstMatrixView outputs, ConstMatrixView targets) {
  detail::check_binary_batch(*this, outputs, targets);
  for (std::size_t r = 0; r < outputs.rows; ++r) {
    const bool predicted = outputs.data[r] > float_threshold_;  // NaN: predicted negative
    const bool actual = detail::positive_target(targets.data[r]);
    true_positives_ += predicted && actual;
    false_positives_ += predicted && !actual;
    false_negatives_ += !predicted && actual;
    true_negatives_ += !predicted && !actual;
  }
}

void ThresholdMetric::check_model(std::size_t units, const Loss& loss) const {
  detail::check_binary_model(*this, units, loss);
}

double ThresholdMetric::ratio(std::uint64_t numerator, std::uint64_t denominator) const {
  if (true_positives_ + false_positives_ + false_negatives_ + true_negatives_ == 0) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  return denominator ? static_cast<double>(numerator) / static_cast<double>(denominator) : 0.0;
}

std::vector<double> ThresholdMetric::partial_state() const {
  return {static_cast<double>(true_positives_), static_cast<double>(false_positives_),
          static_cast<double>(false_negatives_), static_cast<double>(true_negatives_)};
}

void ThresholdMetric::merge(const std::vector<double>& partial) {
  detail::check_state_size(*this, partial, 4,
                           "[true positives, false positives, false negatives, true negatives]");
  const std::uint64_t true_positives = detail::state_count(*this, partial, 0, "true positives");
  const std::uint64_t false_positives = detail::state_count(*this, partial, 1, "false positives");
  const std::uint64_t false_negatives = detail::state_count(*this, partial, 2, "false negatives");
  const std::uint64_t true_negatives = detail::state_count(*this, partial, 3, "true negatives");
  true_positives_ += true_positives;
  false_positives_ += false_positives;
  false_negatives_ += false_negatives;
  true_negatives_ += true_negatives;
}

double Precision::result() const { return ratio(true_positives(), true_positives() + false_positives()); }

double Recall::result() const { return ratio(true_positives(), true_positives() + false_negatives()); }

double BinaryF1::result() const {
  // 2 P R / (P + R) with P = TP / (TP + FP), R = TP / (TP + FN) is 2 TP / (2 TP + FP + FN).
  return ratio(2 * true_positives(), 2 * true_positives() + false_positives() + false_negatives());
}

namespace {

template <typename T>
MetricFactory at_threshold(const std::string& name) {
  return [=](const Config& config) -> std::unique_ptr<Metric> {
    ConfigReader in(config, name);
    const double threshold = detail::read_threshold(in);
    in.finish();
    return std::make_unique<T>(threshold);
  };
}

const bool registered = (register_metric("precision", at_threshold<Precision>("precision")),
                         register_metric("recall", at_threshold<Recall>("recall")),
                         register_metric("f1", at_threshold<BinaryF1>("f1"), {"f1_score"}), true);

}  // namespace

}  // namespace xdense
