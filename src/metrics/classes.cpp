#include "xdense/metrics/classes.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include <nlohmann/json.hpp>

#include "metric_support.hpp"
#include "xdense/error.hpp"

namespace xdense {

namespace {
constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();
}  // namespace

// ---------------------------------------------------------------- top-k accuracy

TopKAccuracy::TopKAccuracy(std::size_t k) : k_(k) {
  if (k == 0) throw InvalidArgument("top_k_accuracy: k must be at least 1, received k=0");
}

Config TopKAccuracy::config() const {
  Config config = Config::object();
  config["k"] = k_;
  return config;
}

void TopKAccuracy::reset() { hits_ = samples_ = 0; }

void TopKAccuracy::update(ConstMatrixView outputs, ConstMatrixView targets) {
  detail::check_class_batch(*this, outputs, targets);
  for (std::size_t r = 0; r < outputs.rows; ++r) {
    const float* scores = outputs.row(r);
    const float truth = scores[detail::target_class(*this, targets, r, outputs.cols)];
    // in_top_k: fewer than k classes strictly above the true class's score (ties across the
    // k-th place are all in); NaN compares false both ways, and a NaN truth is never in.
    std::size_t above = 0;
    for (std::size_t c = 0; c < outputs.cols; ++c) above += scores[c] > truth;
    hits_ += !std::isnan(truth) && above < k_;
  }
  samples_ += outputs.rows;
}

double TopKAccuracy::result() const {
  return samples_ ? static_cast<double>(hits_) / static_cast<double>(samples_) : not_a_number;
}

std::vector<double> TopKAccuracy::partial_state() const {
  return {static_cast<double>(hits_), static_cast<double>(samples_)};
}

void TopKAccuracy::merge(const std::vector<double>& partial) {
  const auto [hits, samples] = detail::part_of_whole_state(*this, partial, "hits", "samples");
  hits_ += hits;
  samples_ += samples;
}

void TopKAccuracy::check_model(std::size_t units, const Loss& loss) const {
  detail::check_class_model(*this, units, loss);
  if (k_ > units) {
    throw InvalidArgument("top_k_accuracy: k=" + std::to_string(k_) + " is more than the model's " +
                          std::to_string(units) + " classes (every sample would count; pass {\"k\": N} with N < " +
                          std::to_string(units) + ")");
  }
}

// ---------------------------------------------------------------- macro and weighted F1

ClassF1::ClassF1(Average average) : average_(average) {}

void ClassF1::reset() {
  samples_ = 0;
  // Keeps the storage: the next epoch's first batch allocates nothing.
  std::fill(true_positives_.begin(), true_positives_.end(), 0);
  std::fill(predicted_.begin(), predicted_.end(), 0);
  std::fill(support_.begin(), support_.end(), 0);
}

void ClassF1::update(ConstMatrixView outputs, ConstMatrixView targets) {
  detail::check_class_batch(*this, outputs, targets);
  const std::size_t classes = outputs.cols;
  if (support_.size() != classes) {
    if (samples_ != 0) {
      throw ShapeError(name() + ": expected " + std::to_string(support_.size()) +
                       " classes as in the earlier batches, received " + std::to_string(classes));
    }
    true_positives_.assign(classes, 0);
    predicted_.assign(classes, 0);
    support_.assign(classes, 0);
  }
  for (std::size_t r = 0; r < outputs.rows; ++r) {
    const std::size_t truth = detail::target_class(*this, targets, r, classes);
    const std::size_t predicted = detail::argmax(outputs.row(r), classes);
    ++support_[truth];
    ++predicted_[predicted];
    true_positives_[truth] += predicted == truth;
  }
  samples_ += outputs.rows;
}

double ClassF1::result() const {
  if (samples_ == 0) return not_a_number;
  double sum = 0.0;
  for (std::size_t c = 0; c < support_.size(); ++c) {
    // F1 = 2 TP / (2 TP + FP + FN) = 2 TP / (predicted + support); 0 when nothing was either.
    const std::uint64_t denominator = predicted_[c] + support_[c];
    const double f1 =
        denominator ? 2.0 * static_cast<double>(true_positives_[c]) / static_cast<double>(denominator) : 0.0;
    sum += average_ == Average::macro ? f1 : f1 * static_cast<double>(support_[c]);
  }
  return sum / static_cast<double>(average_ == Average::macro ? support_.size() : samples_);
}

std::vector<double> ClassF1::partial_state() const {
  std::vector<double> state;
  state.reserve(1 + 3 * support_.size());
  state.push_back(static_cast<double>(samples_));
  for (const auto* counts : {&true_positives_, &predicted_, &support_}) {
    for (std::uint64_t count : *counts) state.push_back(static_cast<double>(count));
  }
  return state;
}

void ClassF1::merge(const std::vector<double>& partial) {
  const std::size_t classes = detail::three_per_column_state(
      *this, partial,
      "for C classes [samples, true positives per class, predicted per class, samples per class]");
  const std::uint64_t samples = detail::state_count(*this, partial, 0, "samples");
  std::uint64_t predicted = 0;
  std::uint64_t support = 0;
  for (std::size_t c = 0; c < classes; ++c) {
    const std::uint64_t true_positives = detail::state_count(*this, partial, 1 + c, "true positives");
    const std::uint64_t predicted_c = detail::state_count(*this, partial, 1 + classes + c, "predicted");
    const std::uint64_t support_c = detail::state_count(*this, partial, 1 + 2 * classes + c, "samples of a class");
    if (true_positives > predicted_c || true_positives > support_c) {
      throw InvalidArgument(name() + ": merge() expected true positives <= predicted and <= samples of class " +
                            std::to_string(c) + " in the partial state, received " + std::to_string(true_positives) +
                            ", " + std::to_string(predicted_c) + " and " + std::to_string(support_c));
    }
    predicted += predicted_c;
    support += support_c;
  }
  if (predicted != samples || support != samples) {
    throw InvalidArgument(name() + ": merge() expected per-class counts adding up to the " + std::to_string(samples) +
                          " samples of the partial state, received " + std::to_string(predicted) +
                          " predicted and " + std::to_string(support) + " true");
  }
  if (samples == 0) return;
  if (support_.size() != classes) {
    if (samples_ != 0) {
      throw InvalidArgument(name() + ": merge() expected a partial state of " + std::to_string(support_.size()) +
                            " classes as this metric's samples, received one of " + std::to_string(classes));
    }
    true_positives_.assign(classes, 0);
    predicted_.assign(classes, 0);
    support_.assign(classes, 0);
  }
  for (std::size_t c = 0; c < classes; ++c) {
    true_positives_[c] += static_cast<std::uint64_t>(partial[1 + c]);
    predicted_[c] += static_cast<std::uint64_t>(partial[1 + classes + c]);
    support_[c] += static_cast<std::uint64_t>(partial[1 + 2 * classes + c]);
  }
  samples_ += samples;
}

void ClassF1::check_model(std::size_t units, const Loss& loss) const { detail::check_class_model(*this, units, loss); }

// ---------------------------------------------------------------- registry

namespace {

std::unique_ptr<Metric> make_top_k(const Config& config) {
  ConfigReader in(config, "top_k_accuracy");
  const std::size_t k = in.has("k") ? in.positive_integer("k", 1u << 20) : 5;
  in.finish();
  return std::make_unique<TopKAccuracy>(k);
}

MetricFactory class_f1(const std::string& name, ClassF1::Average average) {
  return [=](const Config& config) -> std::unique_ptr<Metric> {
    ConfigReader in(config, name);
    in.finish();
    return std::make_unique<ClassF1>(average);
  };
}

const bool registered =
    (register_metric("top_k_accuracy", make_top_k, {"top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy"}),
     register_metric("macro_f1", class_f1("macro_f1", ClassF1::Average::macro)),
     register_metric("weighted_f1", class_f1("weighted_f1", ClassF1::Average::weighted)), true);

}  // namespace

}  // namespace xdense
