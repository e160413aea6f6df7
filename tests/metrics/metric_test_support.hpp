#pragma once
// What the tests of tests/metrics/ share: feeding a metric a data set in batches of a given size,
// the batch-split check (the same samples in other batches give the same bits), the registry and
// config round trip, and seeded data.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "error_messages.hpp"
#include "xdense/loss.hpp"
#include "xdense/metric.hpp"

namespace xdense::testing {

/// A (rows, cols) matrix of `values`, row-major.
inline Matrix matrix(std::size_t rows, std::size_t cols, const std::vector<float>& values) {
  Matrix m = Matrix::from_shape({rows, cols});
  std::copy(values.begin(), values.end(), m.begin());
  return m;
}

/// The metric's result after reset() and one update() per `batch` rows (the last one shorter).
inline double result_in_batches(Metric& metric, const Matrix& outputs, const Matrix& targets, std::size_t batch) {
  metric.reset();
  const std::size_t rows = outputs.shape(0);
  for (std::size_t start = 0; start < rows; start += batch) {
    const std::size_t n = std::min(batch, rows - start);
    metric.update(ConstMatrixView(outputs.data() + start * outputs.shape(1), n, outputs.shape(1)),
                  ConstMatrixView(targets.data() + start * targets.shape(1), n, targets.shape(1)));
  }
  return metric.result();
}

/// The result of the whole set in one batch.
inline double result_of(Metric& metric, const Matrix& outputs, const Matrix& targets) {
  return result_in_batches(metric, outputs, targets, std::max<std::size_t>(outputs.shape(0), 1));
}

/// Same bits (NaN equal to NaN).
inline ::testing::AssertionResult same_bits(double a, double b) {
  if (std::memcmp(&a, &b, sizeof a) == 0 || (std::isnan(a) && std::isnan(b))) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << a << " and " << b << " differ";
}

/// One batch, batches of 1, 3 and 7 rows, and a reused metric (reset between) give the same bits.
inline void expect_batch_split_invariant(Metric& metric, const Matrix& outputs, const Matrix& targets) {
  const double whole = result_of(metric, outputs, targets);
  for (std::size_t batch : {1, 3, 7}) {
    EXPECT_TRUE(same_bits(whole, result_in_batches(metric, outputs, targets, batch)))
        << metric.name() << " in batches of " << batch;
  }
  EXPECT_TRUE(same_bits(whole, result_of(metric, outputs, targets))) << metric.name() << " after reset()";
}

/// make_metric(name, config) gives the metric registered as `canonical`, whose config rebuilds it.
inline std::unique_ptr<Metric> expect_round_trip(const std::string& name, const Config& config,
                                                 const std::string& canonical) {
  auto metric = make_metric(name, config);
  EXPECT_EQ(metric->name(), canonical);
  const auto again = make_metric(metric->name(), metric->config());
  EXPECT_EQ(again->name(), canonical);
  EXPECT_EQ(again->config(), metric->config()) << canonical;
  const auto names = metric_names();
  EXPECT_TRUE(std::find(names.begin(), names.end(), canonical) != names.end()) << canonical;
  return metric;
}

/// The InvalidArgument message of make_metric(name, config).
inline std::string config_error(const std::string& name, const Config& config) {
  return message_of<InvalidArgument>([&] { make_metric(name, config); });
}

/// The InvalidArgument message of metric.check_model(units, make_loss(loss)).
inline std::string model_error(const Metric& metric, std::size_t units, const std::string& loss) {
  const auto l = make_loss(loss);
  return message_of<InvalidArgument>([&] { metric.check_model(units, *l); });
}

}  // namespace xdense::testing
