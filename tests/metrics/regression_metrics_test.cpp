#include "xdense/metrics/regression.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "metrics/metric_test_support.hpp"
#include "xdense/error.hpp"

// Expected values: Keras 3's docstring examples (keras/src/metrics/regression_metrics.py) and the
// formulas computed directly here in long double over the whole set.

namespace xdense {
namespace {

using Real = long double;
using testing::config_error;
using testing::contains;
using testing::expect_batch_split_invariant;
using testing::expect_round_trip;
using testing::matrix;
using testing::message_of;
using testing::model_error;
using testing::result_of;

// Seeded regression data: targets = offset + scale * normal, outputs = targets + noise.
struct Data {
  Matrix outputs;
  Matrix targets;
};

Data regression_data(std::size_t rows, std::size_t cols, float offset, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Data d{Matrix::from_shape({rows, cols}), Matrix::from_shape({rows, cols})};
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      const float scale = 1.0f + static_cast<float>(c);  // columns of different variance
      d.targets(r, c) = offset + scale * normal(rng);
      d.outputs(r, c) = d.targets(r, c) + 0.5f * normal(rng);
    }
  }
  return d;
}

// Per column: 1 - SS_res / SS_tot, the mean computed first (two passes), in long double.
std::vector<Real> direct_r2(const Matrix& p, const Matrix& y, std::vector<Real>* totals = nullptr) {
  const std::size_t rows = y.shape(0);
  const std::size_t cols = y.shape(1);
  std::vector<Real> scores;
  for (std::size_t c = 0; c < cols; ++c) {
    Real mean = 0;
    for (std::size_t r = 0; r < rows; ++r) mean += y(r, c);
    mean /= rows;
    Real res = 0;
    Real tot = 0;
    for (std::size_t r = 0; r < rows; ++r) {
      res += (Real(y(r, c)) - p(r, c)) * (Real(y(r, c)) - p(r, c));
      tot += (Real(y(r, c)) - mean) * (Real(y(r, c)) - mean);
    }
    scores.push_back(1 - res / tot);
    if (totals) totals->push_back(tot);
  }
  return scores;
}

TEST(RegressionMetrics, KerasDocstringExamples) {
  // m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]]): y_true first in Keras, outputs second here.
  const Matrix y = matrix(2, 2, {0, 1, 0, 0});
  const Matrix p = matrix(2, 2, {1, 1, 0, 0});
  MeanSquaredErrorMetric mse;
  MeanAbsoluteErrorMetric mae;
  RootMeanSquaredErrorMetric rmse;
  EXPECT_EQ(result_of(mse, p, y), 0.25);
  EXPECT_EQ(result_of(mae, p, y), 0.25);
  EXPECT_EQ(result_of(rmse, p, y), 0.5);
  // R2Score: y_true [[1], [4], [3]], y_pred [[2], [4], [4]] -> 0.57142854 (= 4/7).
  R2Score r2;
  EXPECT_NEAR(result_of(r2, matrix(3, 1, {2, 4, 4}), matrix(3, 1, {1, 4, 3})), 4.0 / 7.0, 1e-15);
}

TEST(RegressionMetrics, NaNBeforeAnySample) {
  for (const char* name : {"mse", "mae", "rmse", "r2"}) {
    auto metric = make_metric(name);
    EXPECT_TRUE(std::isnan(metric->result())) << name;
    metric->update(ConstMatrixView(nullptr, 0, 2), ConstMatrixView(nullptr, 0, 2));
    EXPECT_TRUE(std::isnan(metric->result())) << name;
  }
}

TEST(RegressionMetrics, MeanOverEveryValueAgainstDirectSums) {
  const Data d = regression_data(101, 3, 2.0f, 7);
  Real squares = 0;
  Real absolute = 0;
  for (std::size_t i = 0; i < d.targets.size(); ++i) {
    const Real e = Real(d.outputs.data()[i]) - d.targets.data()[i];
    squares += e * e;
    absolute += std::fabs(e);
  }
  const Real n = d.targets.size();
  MeanSquaredErrorMetric mse;
  MeanAbsoluteErrorMetric mae;
  RootMeanSquaredErrorMetric rmse;
  EXPECT_NEAR(result_of(mse, d.outputs, d.targets), double(squares / n), 1e-14);
  EXPECT_NEAR(result_of(mae, d.outputs, d.targets), double(absolute / n), 1e-14);
  EXPECT_NEAR(result_of(rmse, d.outputs, d.targets), double(std::sqrt(squares / n)), 1e-14);
  expect_batch_split_invariant(mse, d.outputs, d.targets);
  expect_batch_split_invariant(mae, d.outputs, d.targets);
  expect_batch_split_invariant(rmse, d.outputs, d.targets);
}

TEST(R2Score, MultiOutputAgainstTheDirectFormula) {
  // Targets far from 0 (1e4): Welford's SS_tot keeps every digit the two-pass formula has.
  for (float offset : {0.0f, 1.0e4f}) {
    const Data d = regression_data(257, 3, offset, 11);
    std::vector<Real> totals;
    const std::vector<Real> scores = direct_r2(d.outputs, d.targets, &totals);
    const Real uniform = (scores[0] + scores[1] + scores[2]) / 3;
    const Real weighted =
        (totals[0] * scores[0] + totals[1] * scores[1] + totals[2] * scores[2]) / (totals[0] + totals[1] + totals[2]);
    R2Score r2;
    R2Score variance_weighted(R2Score::Aggregation::variance_weighted_average);
    EXPECT_NEAR(result_of(r2, d.outputs, d.targets), double(uniform), 1e-12) << "offset " << offset;
    EXPECT_NEAR(result_of(variance_weighted, d.outputs, d.targets), double(weighted), 1e-12) << "offset " << offset;
    EXPECT_GT(std::fabs(double(uniform - weighted)), 1e-4);  // the two aggregations do differ here
    expect_batch_split_invariant(r2, d.outputs, d.targets);
    expect_batch_split_invariant(variance_weighted, d.outputs, d.targets);
  }
}

TEST(R2Score, AdjustedCountsEveryTargetValueAsKeras) {
  const Data d = regression_data(40, 2, 0.0f, 3);
  const std::vector<Real> scores = direct_r2(d.outputs, d.targets);
  const Real plain = (scores[0] + scores[1]) / 2;
  const Real n = 80;  // Keras's num_samples is ops.size(y_true): 40 rows * 2 units
  const Real p = 5;
  R2Score adjusted(R2Score::Aggregation::uniform_average, 5);
  EXPECT_NEAR(result_of(adjusted, d.outputs, d.targets), double(1 - (1 - plain) * (n - 1) / (n - p - 1)), 1e-12);
  // p >= n - 1: Keras warns and falls back to the plain score.
  R2Score too_many(R2Score::Aggregation::uniform_average, 79);
  EXPECT_NEAR(result_of(too_many, d.outputs, d.targets), double(plain), 1e-12);
}

TEST(R2Score, ConstantTargetsAsKeras) {
  // SS_tot = 0: 1 - SS_res / 0 = -inf becomes 0 (Keras's where(isinf)); 0 / 0 stays NaN.
  R2Score r2;
  EXPECT_EQ(result_of(r2, matrix(3, 1, {1, 2, 3}), matrix(3, 1, {2, 2, 2})), 0.0);
  EXPECT_TRUE(std::isnan(result_of(r2, matrix(3, 1, {2, 2, 2}), matrix(3, 1, {2, 2, 2}))));
  // A constant column next to a varying one: (0 + R2 of the second) / 2.
  const Matrix p = matrix(3, 2, {1, 2, 2, 4, 3, 4});
  const Matrix y = matrix(3, 2, {2, 1, 2, 4, 2, 3});
  EXPECT_NEAR(result_of(r2, p, y), (0.0 + 4.0 / 7.0) / 2.0, 1e-15);
}

TEST(RegressionMetrics, ConfigsRoundTripAndBadConfigsNameTheKey) {
  expect_round_trip("mse", Config::object(), "mse");
  expect_round_trip("mean_squared_error", Config::object(), "mse");
  expect_round_trip("mean_absolute_error", Config::object(), "mae");
  expect_round_trip("root_mean_squared_error", Config::object(), "rmse");
  auto r2 =
      expect_round_trip("r2_score", {{"class_aggregation", "variance_weighted_average"}, {"num_regressors", 3}}, "r2");
  EXPECT_EQ(r2->config(), Config({{"class_aggregation", "variance_weighted_average"}, {"num_regressors", 3}}));
  EXPECT_EQ(make_metric("r2")->config(), Config({{"class_aggregation", "uniform_average"}, {"num_regressors", 0}}));

  EXPECT_TRUE(contains(config_error("mse", {{"threshold", 0.5}}), "\"threshold\": unknown key"));
  EXPECT_TRUE(contains(config_error("r2", {{"class_aggregation", "raw_values"}}), "\"class_aggregation\""));
  EXPECT_TRUE(contains(config_error("r2", {{"class_aggregation", nullptr}}), "\"class_aggregation\": null"));
  EXPECT_TRUE(contains(config_error("r2", {{"num_regressors", -1}}), "\"num_regressors\": expected an integer >= 0"));
  EXPECT_TRUE(contains(config_error("r2", {{"num_regressors", 1.5}}), "\"num_regressors\""));
  EXPECT_TRUE(contains(config_error("r2", {{"multioutput", "uniform_average"}}), "\"multioutput\": unknown key"));
}

TEST(RegressionMetrics, ModelAndShapeChecks) {
  for (const char* name : {"mse", "mae", "rmse", "r2"}) {
    auto metric = make_metric(name);
    const auto mse = make_loss("mse");
    const auto bce = make_loss("binary_crossentropy");
    EXPECT_NO_THROW(metric->check_model(3, *mse));
    EXPECT_NO_THROW(metric->check_model(1, *bce));  // mse of probabilities: the Brier score
    const std::string m = model_error(*metric, 4, "sparse_categorical_crossentropy");
    EXPECT_TRUE(contains(m, std::string(name) + ": a regression metric")) << m;
    EXPECT_TRUE(contains(m, "takes class indices")) << m;
    const Matrix p = matrix(2, 2, {0, 0, 0, 0});
    const Matrix y = matrix(2, 1, {0, 0});
    const std::string shape = message_of<ShapeError>([&] { metric->update(view(p), view(y)); });
    EXPECT_TRUE(contains(shape, "expected targets of the outputs' shape (2, 2), received (2, 1)")) << shape;
  }
}

}  // namespace
}  // namespace xdense
