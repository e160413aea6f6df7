#include "xdense/metrics/accuracy.hpp"

#include <algorithm>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "metric_support.hpp"
#include "xdense/error.hpp"
#include "xdense/loss.hpp"

namespace xdense {
namespace {

std::size_t argmax(const float* values, std::size_t n) {
  return static_cast<std::size_t>(std::max_element(values, values + n) - values);
}

double checked_threshold(double threshold) {
  if (!(threshold >= 0.0 && threshold <= 1.0)) {
    std::ostringstream m;
    m << "accuracy: threshold must be in [0, 1], received threshold=" << threshold;
    throw InvalidArgument(m.str());
  }
  return threshold;
}

}  // namespace

Accuracy::Accuracy(AccuracyOptions options)
    : threshold_(static_cast<float>(checked_threshold(options.threshold))), threshold_setting_(options.threshold) {}

Config Accuracy::config() const {
  Config config = Config::object();
  if (threshold_setting_ != AccuracyOptions{}.threshold) config["threshold"] = threshold_setting_;
  return config;
}

void Accuracy::reset() {
  correct_ = 0;
  samples_ = 0;
}

void Accuracy::update(ConstMatrixView outputs, ConstMatrixView targets) {
  const bool sparse = sparse_targets(targets, outputs.cols);
  if (targets.rows != outputs.rows || (!sparse && targets.cols != outputs.cols)) {
    throw ShapeError("accuracy: expected targets of shape " + shape_string(outputs.rows, outputs.cols) + " or " +
                     shape_string(outputs.rows, 1) + " (class indices), received " +
                     shape_string(targets.rows, targets.cols));
  }
  std::size_t correct = 0;
  if (outputs.cols == 1) {
    // Binary accuracy: predicted class 1 when p > threshold (Keras's BinaryAccuracy); 0/1 targets.
    for (std::size_t r = 0; r < outputs.rows; ++r)
      correct += (outputs.data[r] > threshold_) == (targets.data[r] > 0.5f);
  } else {
    for (std::size_t r = 0; r < outputs.rows; ++r) {
      const std::size_t predicted = argmax(outputs.row(r), outputs.cols);
      const std::size_t expected =
          sparse ? static_cast<std::size_t>(targets.data[r]) : argmax(targets.row(r), targets.cols);
      correct += predicted == expected;
    }
  }
  correct_ += correct;
  samples_ += outputs.rows;
}

double Accuracy::result() const {
  if (samples_ == 0) return std::numeric_limits<double>::quiet_NaN();
  return static_cast<double>(correct_) / static_cast<double>(samples_);
}

void Accuracy::check_model(std::size_t /*units*/, const Loss& loss) const {
  if (loss.label_encoding() == LabelEncoding::values) {
    throw InvalidArgument("accuracy: has no meaning for the regression loss " + loss.name() +
                          " (its outputs are values, not classes); use mae, rmse or r2");
  }
}

std::vector<double> Accuracy::partial_state() const {
  return {static_cast<double>(correct_), static_cast<double>(samples_)};
}

void Accuracy::merge(const std::vector<double>& partial) {
  const auto [correct, samples] = detail::part_of_whole_state(*this, partial, "correct", "samples");
  correct_ += correct;
  samples_ += samples;
}

namespace {

const bool registered = (register_metric("accuracy",
                                         [](const Config& config) -> std::unique_ptr<Metric> {
                                           ConfigReader in(config, "accuracy");
                                           in.ignore("name");
                                           in.ignore("dtype");
                                           AccuracyOptions options;
                                           options.threshold = in.number("threshold", options.threshold);
                                           in.finish();
                                           return std::make_unique<Accuracy>(options);
                                         },
                                         {"acc"}),
                         true);

}  // namespace

}  // namespace xdense
