#include "xdense/metrics/regression.hpp"

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

// ---------------------------------------------------------------- mse, mae, rmse

void MeanErrorMetric::reset() {
  sum_ = 0.0;
  count_ = 0;
}

void MeanErrorMetric::update(ConstMatrixView outputs, ConstMatrixView targets) {
  detail::check_same_shape(*this, outputs, targets);
  // One value after the other, in double: the same samples in other batches give the same sum.
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const double error = static_cast<double>(outputs.data[i]) - static_cast<double>(targets.data[i]);
    sum_ += squared_ ? error * error : std::abs(error);
  }
  count_ += outputs.size();
}

void MeanErrorMetric::check_model(std::size_t /*units*/, const Loss& loss) const {
  detail::check_value_model(*this, loss);
}

double MeanErrorMetric::mean() const { return count_ ? sum_ / static_cast<double>(count_) : not_a_number; }

std::vector<double> MeanErrorMetric::partial_state() const { return {sum_, static_cast<double>(count_)}; }

void MeanErrorMetric::merge(const std::vector<double>& partial) {
  detail::check_state_size(*this, partial, 2, "[sum, values]");
  const std::uint64_t count = detail::state_count(*this, partial, 1, "values");
  sum_ += partial[0];
  count_ += count;
}

double RootMeanSquaredErrorMetric::result() const { return std::sqrt(mean()); }

// ---------------------------------------------------------------- r2

namespace {

const char* aggregation_name(R2Score::Aggregation aggregation) {
  return aggregation == R2Score::Aggregation::uniform_average ? "uniform_average" : "variance_weighted_average";
}

}  // namespace

R2Score::R2Score(Aggregation aggregation, std::size_t num_regressors)
    : aggregation_(aggregation), num_regressors_(num_regressors) {}

Config R2Score::config() const {
  Config config = Config::object();
  config["class_aggregation"] = aggregation_name(aggregation_);
  config["num_regressors"] = num_regressors_;
  return config;
}

void R2Score::reset() {
  rows_ = 0;
  // Keeps the storage: the next epoch's first batch allocates nothing.
  std::fill(mean_.begin(), mean_.end(), 0.0);
  std::fill(squares_.begin(), squares_.end(), 0.0);
  std::fill(residuals_.begin(), residuals_.end(), 0.0);
}

void R2Score::update(ConstMatrixView outputs, ConstMatrixView targets) {
  detail::check_same_shape(*this, outputs, targets);
  if (outputs.rows == 0) return;
  const std::size_t columns = outputs.cols;
  if (mean_.size() != columns) {
    if (rows_ != 0) {
      throw ShapeError(name() + ": expected " + std::to_string(mean_.size()) +
                       " output columns as in the earlier batches, received " + std::to_string(columns));
    }
    mean_.assign(columns, 0.0);
    squares_.assign(columns, 0.0);
    residuals_.assign(columns, 0.0);
  }
  for (std::size_t r = 0; r < outputs.rows; ++r) {
    ++rows_;
    const double n = static_cast<double>(rows_);
    const float* p = outputs.row(r);
    const float* y = targets.row(r);
    for (std::size_t j = 0; j < columns; ++j) {
      // Welford: mean_n = mean_{n-1} + (y - mean_{n-1}) / n, M2_n = M2_{n-1} + (y - mean_{n-1}) (y - mean_n)
      const double value = y[j];
      const double delta = value - mean_[j];
      mean_[j] += delta / n;
      squares_[j] += delta * (value - mean_[j]);
      const double error = value - static_cast<double>(p[j]);
      residuals_[j] += error * error;
    }
  }
}

double R2Score::result() const {
  if (rows_ == 0) return not_a_number;
  double sum = 0.0;
  double total = 0.0;
  for (std::size_t j = 0; j < mean_.size(); ++j) {
    double score = 1.0 - residuals_[j] / squares_[j];
    if (std::isinf(score)) score = 0.0;  // SS_tot = 0 < SS_res: Keras's where(isinf, 0, r2)
    if (aggregation_ == Aggregation::uniform_average) {
      sum += score;
    } else {
      sum += squares_[j] * score;
      total += squares_[j];
    }
  }
  double r2 = aggregation_ == Aggregation::uniform_average ? sum / static_cast<double>(mean_.size()) : sum / total;
  // Keras's adjusted R2 counts every target value: n = samples * units.
  const double n = static_cast<double>(rows_ * mean_.size());
  const double p = static_cast<double>(num_regressors_);
  if (num_regressors_ != 0 && p < n - 1.0) r2 = 1.0 - (1.0 - r2) * (n - 1.0) / (n - p - 1.0);
  return r2;
}

std::vector<double> R2Score::partial_state() const {
  std::vector<double> state;
  state.reserve(1 + 3 * mean_.size());
  state.push_back(static_cast<double>(rows_));
  for (const auto* values : {&mean_, &squares_, &residuals_}) state.insert(state.end(), values->begin(), values->end());
  return state;
}

void R2Score::merge(const std::vector<double>& partial) {
  const std::size_t columns = detail::three_per_column_state(
      *this, partial, "for C output columns [samples, mean of y per column, SS_tot per column, SS_res per column]");
  const std::uint64_t rows = detail::state_count(*this, partial, 0, "samples");
  if (rows == 0) return;
  if (mean_.size() != columns) {
    if (rows_ != 0) {
      throw InvalidArgument(name() + ": merge() expected a partial state of " + std::to_string(mean_.size()) +
                            " output columns as this metric's samples, received one of " + std::to_string(columns));
    }
    mean_.assign(columns, 0.0);
    squares_.assign(columns, 0.0);
    residuals_.assign(columns, 0.0);
  }
  const double n_a = static_cast<double>(rows_);
  const double n_b = static_cast<double>(rows);
  const double n = n_a + n_b;
  for (std::size_t j = 0; j < columns; ++j) {
    const double mean_b = partial[1 + j];
    const double delta = mean_b - mean_[j];
    mean_[j] += delta * (n_b / n);
    squares_[j] += partial[1 + columns + j] + delta * delta * (n_a * n_b / n);
    residuals_[j] += partial[1 + 2 * columns + j];
  }
  rows_ += static_cast<std::size_t>(rows);
}

void R2Score::check_model(std::size_t /*units*/, const Loss& loss) const { detail::check_value_model(*this, loss); }

// ---------------------------------------------------------------- registry

namespace {

std::unique_ptr<Metric> make_r2(const Config& config) {
  ConfigReader in(config, "r2");
  if (in.has("class_aggregation") && config.at("class_aggregation").is_null()) {
    in.fail("class_aggregation",
            "null (Keras's one score per output) is not available: a metric is one number; "
            "expected \"uniform_average\" or \"variance_weighted_average\"");
  }
  const std::string aggregation = in.text("class_aggregation", "uniform_average");
  R2Score::Aggregation chosen = R2Score::Aggregation::uniform_average;
  if (aggregation == "variance_weighted_average") {
    chosen = R2Score::Aggregation::variance_weighted_average;
  } else if (aggregation != "uniform_average") {
    in.fail("class_aggregation",
            "expected \"uniform_average\" or \"variance_weighted_average\", received " + quote_value(aggregation));
  }
  std::size_t regressors = 0;
  if (in.has("num_regressors")) {
    const double p = in.number("num_regressors", 0.0);
    if (!(p >= 0.0 && p == std::floor(p) && p < 9.0e15)) {
      in.fail("num_regressors", "expected an integer >= 0, received " + config.at("num_regressors").dump());
    }
    regressors = static_cast<std::size_t>(p);
  }
  in.finish();
  return std::make_unique<R2Score>(chosen, regressors);
}

const bool registered =
    (register_metric("mse", detail::metric_without_settings<MeanSquaredErrorMetric>("mse"), {"mean_squared_error"}),
     register_metric("mae", detail::metric_without_settings<MeanAbsoluteErrorMetric>("mae"), {"mean_absolute_error"}),
     register_metric("rmse", detail::metric_without_settings<RootMeanSquaredErrorMetric>("rmse"),
                     {"root_mean_squared_error"}),
     register_metric("r2", make_r2, {"r2_score"}), true);

}  // namespace

}  // namespace xdense
