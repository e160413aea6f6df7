// Regression against PyTorch on a problem neither framework was tuned for: Friedman #1 (ten uniform
// inputs, five of them noise, y = 10 sin(pi x1 x2) + 20 (x3 - 0.5)^2 + 10 x4 + 5 x5 + N(0, 1)).
// tests/oracle/make_regression_fixtures.py generated the data (friedman1_train.csv, 1000 rows;
// friedman1_test.csv, 500 rows) and trained the same net in PyTorch with five seeds:
// tests/oracle/torch_regression.json holds each seed's test R^2. Here xdense trains the same net
// (inputs standardized with the training statistics, 10 -> 64 relu -> 32 relu -> 1, torch.nn.Linear's
// initialisation, Adam 3e-3, MSE, batch 32, reshuffled, 60 epochs) with five seeds of its own.
//
// The seeds draw other initial weights and orders in each framework, so single runs differ; what must
// agree is the mean test R^2, within the noise the seeds show: |mean_xdense - mean_torch| at most three
// standard errors of the difference (and at most 0.03 in any case). The irreducible noise caps R^2 near 0.96.

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "xdense/csv.hpp"
#include "xdense/dense.hpp"
#include "xdense/loss.hpp"
#include "xdense/optimizer.hpp"
#include "xdense/preprocessing.hpp"
#include "xdense/sequential.hpp"

namespace xdense {
namespace {

std::string oracle_path(const std::string& file) { return std::string(XDENSE_DATA_DIR) + "/../tests/oracle/" + file; }

// x (rows, 10) and y (rows, 1): every column but the last is a feature.
std::pair<Matrix, Matrix> load_friedman(const std::string& file) {
  CsvOptions options;
  options.unlabelled = true;
  const Dataset all = load_csv(oracle_path(file), options);
  const std::size_t rows = all.features.shape(0), cols = all.features.shape(1);
  Matrix x = Matrix::from_shape({rows, cols - 1});
  Matrix y = Matrix::from_shape({rows, 1});
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c + 1 < cols; ++c) x(r, c) = all.features(r, c);
    y(r, 0) = all.features(r, cols - 1);
  }
  return {std::move(x), std::move(y)};
}

double r2_score(const Matrix& y, const Matrix& p) {
  double mean = 0.0;
  for (std::size_t r = 0; r < y.shape(0); ++r) mean += y(r, 0);
  mean /= static_cast<double>(y.shape(0));
  double residual = 0.0, total = 0.0;
  for (std::size_t r = 0; r < y.shape(0); ++r) {
    residual += (static_cast<double>(y(r, 0)) - p(r, 0)) * (static_cast<double>(y(r, 0)) - p(r, 0));
    total += (y(r, 0) - mean) * (y(r, 0) - mean);
  }
  return 1.0 - residual / total;
}

double mean_of(const std::vector<double>& v) {
  double sum = 0.0;
  for (double x : v) sum += x;
  return sum / static_cast<double>(v.size());
}

double sample_variance(const std::vector<double>& v) {
  const double m = mean_of(v);
  double sum = 0.0;
  for (double x : v) sum += (x - m) * (x - m);
  return sum / static_cast<double>(v.size() - 1);
}

TEST(RegressionOracle, FriedmanTestR2MatchesPyTorchWithinTheSeedsNoise) {
  std::ifstream in(oracle_path("torch_regression.json"));
  ASSERT_TRUE(in) << "missing tests/oracle/torch_regression.json";
  const nlohmann::json fixture = nlohmann::json::parse(in);
  std::vector<double> torch_r2;
  for (const auto& run : fixture.at("runs")) torch_r2.push_back(run.at("test_r2").get<double>());
  const nlohmann::json& settings = fixture.at("settings");

  auto [x_train, y_train] = load_friedman("friedman1_train.csv");
  auto [x_test, y_test] = load_friedman("friedman1_test.csv");
  Standardizer standardizer;
  x_train = standardizer.fit_transform(x_train);
  x_test = standardizer.transform(x_test);

  DenseOptions pytorch_init;
  pytorch_init.kernel_initializer = "pytorch";
  pytorch_init.bias_initializer = "pytorch";
  std::vector<double> xdense_r2;
  for (std::uint64_t seed : {1, 2, 3, 4, 5}) {
    Sequential model(seed);
    model.add(std::make_unique<Dense>(64, 0, pytorch_init)).add("relu");
    model.add(std::make_unique<Dense>(32, 0, pytorch_init)).add("relu");
    model.add(std::make_unique<Dense>(1, 0, pytorch_init));
    model.compile(make_loss("mse"),
                  make_optimizer("adam", {{"learning_rate", settings.at("learning_rate").get<double>()}}), {});
    FitOptions options;
    options.epochs = settings.at("epochs").get<std::size_t>();
    options.batch_size = settings.at("batch_size").get<std::size_t>();
    options.seed = seed;
    model.fit(x_train, y_train, options);
    xdense_r2.push_back(r2_score(y_test, model.predict(x_test)));
    EXPECT_GT(xdense_r2.back(), 0.85) << "seed " << seed;
  }
  const double difference = mean_of(xdense_r2) - mean_of(torch_r2);
  const double standard_error =
      std::sqrt(sample_variance(xdense_r2) / static_cast<double>(xdense_r2.size()) +
                sample_variance(torch_r2) / static_cast<double>(torch_r2.size()));
  std::cout << "test R^2 over 5 seeds: xdense " << mean_of(xdense_r2) << " (sd " << std::sqrt(sample_variance(xdense_r2))
            << "), PyTorch " << mean_of(torch_r2) << " (sd " << std::sqrt(sample_variance(torch_r2)) << ")\n";
  EXPECT_LE(std::abs(difference), std::min(0.03, std::max(0.005, 3.0 * standard_error)))
      << "xdense mean " << mean_of(xdense_r2) << ", PyTorch mean " << mean_of(torch_r2);
}

}  // namespace
}  // namespace xdense
