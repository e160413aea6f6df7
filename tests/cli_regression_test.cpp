// End-to-end tests of regression in the xdense tool (issue 15): a regression loss reads its label
// columns as real-valued targets, --standardize-targets is stored in the model and undone by
// evaluate and predict, evaluate reports loss/mse/mae/rmse/r2, predict writes predicted_<target>
// columns in the targets' units, summary says regression; a task mismatch between loss, model and
// data is refused with one line and exit code 2, writing nothing. The data is a Friedman #1
// problem generated here from a fixed seed.

#include <cmath>
#include <cstdint>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "xdense/npy.hpp"
#include "xdense/xdense.hpp"

namespace {

namespace fs = std::filesystem;

using xdense::testing::Cli;
using xdense::testing::CommandResult;
using xdense::testing::csv_rows;
using xdense::testing::read_file;

constexpr std::size_t samples = 300;

/// One generated sample: five features in [0, 1), the Friedman #1 target y (noise included), a price
/// in the 1e5 range and a rent, both affine in the features.
struct Row {
  double x[5];
  double y, price, rent;
};

/// Friedman #1 (y = 10 sin(pi x1 x2) + 20 (x3 - 0.5)^2 + 10 x4 + 5 x5 + noise) from a fixed seed;
/// uniform draws from mt19937's raw 32-bit outputs, so every platform makes the same file.
std::vector<Row> friedman_rows() {
  std::mt19937 engine(2024);
  const auto uniform = [&engine] { return static_cast<double>(engine()) / 4294967296.0; };
  std::vector<Row> rows(samples);
  const double pi = std::acos(-1.0);
  for (Row& r : rows) {
    for (double& v : r.x) v = uniform();
    const double noise = uniform() - 0.5;
    r.y = 10 * std::sin(pi * r.x[0] * r.x[1]) + 20 * (r.x[2] - 0.5) * (r.x[2] - 0.5) + 10 * r.x[3] + 5 * r.x[4] + noise;
    r.price = 150000 + 20000 * r.y;
    r.rent = 900 + 400 * r.x[0] - 300 * r.x[3];
  }
  return rows;
}

/// "%.9g": every value a float reads back exactly.
std::string text_of(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.9g", v);
  return buffer;
}

/// Writes the rows as id,x1..x5,y,price,rent.
void write_friedman(const fs::path& file, const std::vector<Row>& rows) {
  std::ofstream out(file);
  out << "id,x1,x2,x3,x4,x5,y,price,rent\n";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    out << "r" << i;
    for (double v : rows[i].x) out << "," << text_of(v);
    out << "," << text_of(rows[i].y) << "," << text_of(rows[i].price) << "," << text_of(rows[i].rent) << "\n";
  }
}


const std::string features = " --feature-columns x1,x2,x3,x4,x5";
const std::string training = " --optimizer adam --lr 0.01 --epochs 60 --batch-size 16 --standardize --seed 3 --quiet";

class CliRegression : public Cli {
 protected:
  void SetUp() override {
    Cli::SetUp();
    rows_ = friedman_rows();
    write_friedman(path("friedman.csv"), rows_);
  }

  /// `xdense evaluate --json` parsed; fails the test on a non-zero exit.
  nlohmann::ordered_json evaluate_json(const std::string& model, const std::string& extra = "") const {
    const CommandResult run = xdense("evaluate --json --model " + model + " --data friedman.csv" + extra);
    EXPECT_EQ(run.exit_code, 0) << run.err;
    return nlohmann::ordered_json::parse(run.out);
  }

  /// mean of (predicted - truth)^2 and |predicted - truth| over predict's column `column` and `truth`.
  static std::pair<double, double> errors(const std::vector<std::vector<std::string>>& predicted, std::size_t column,
                                          const std::vector<double>& truth) {
    double squares = 0.0, absolute = 0.0;
    for (std::size_t i = 0; i < truth.size(); ++i) {
      const double d = std::stod(predicted[i + 1][column]) - truth[i];
      squares += d * d;
      absolute += std::fabs(d);
    }
    return {squares / truth.size(), absolute / truth.size()};
  }

  std::vector<Row> rows_;
};

TEST_F(CliRegression, MseTrainsEvaluatesPredictsAndSummarizesOneTarget) {
  const CommandResult run = xdense("train --data friedman.csv --label-column y --loss mse --layers 16:relu,1 "
                                   "--optimizer adam --lr 0.01 --epochs 60 --batch-size 16 --standardize --seed 3" +
                                   features + " --output m.xdm");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("Training on 300 samples, 5 features, regression of 1 target (y)"), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find("accuracy"), std::string::npos) << run.out;  // no accuracy for a regression

  const nlohmann::ordered_json json = evaluate_json("m.xdm");
  std::vector<std::string> keys;
  for (const auto& item : json.items()) keys.push_back(item.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"loss", "mse", "mae", "rmse", "r2", "samples"}));
  EXPECT_EQ(json.at("samples"), samples);
  const double mse = json.at("mse"), rmse = json.at("rmse"), r2 = json.at("r2"), loss = json.at("loss");
  EXPECT_NEAR(loss, mse, 1e-5 * mse);  // mse trained on the targets as they are: the loss is the mse
  EXPECT_NEAR(rmse, std::sqrt(mse), 1e-9 * rmse);
  EXPECT_GT(r2, 0.8) << "a 16-unit net learns Friedman #1 to R2 > 0.8 in 60 epochs";

  // predict: one value column named after the target; its errors are evaluate's.
  const CommandResult predicted = xdense("predict --model m.xdm --data friedman.csv --id-column id");
  ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
  const auto table = csv_rows(predicted.out);
  ASSERT_EQ(table.size(), samples + 1);
  EXPECT_EQ(table[0], (std::vector<std::string>{"id", "predicted_y"}));
  EXPECT_EQ(table[1][0], "r0");
  std::vector<double> y;
  for (const Row& r : rows_) y.push_back(static_cast<float>(r.y));
  const auto [predict_mse, predict_mae] = errors(table, 1, y);
  EXPECT_NEAR(predict_mse, mse, 1e-5 * mse);
  EXPECT_NEAR(predict_mae, json.at("mae").get<double>(), 1e-5 * predict_mae);

  // summary says what the model is, in text and JSON.
  EXPECT_NE(xdense("summary --model m.xdm").out.find("Task: regression of 1 target (y)"), std::string::npos);
  const auto summary = nlohmann::json::parse(xdense("summary --json --model m.xdm").out);
  EXPECT_EQ(summary.at("task"), "regression");
  EXPECT_EQ(summary.at("target_names"), (std::vector<std::string>{"y"}));
  EXPECT_EQ(summary.at("classes"), nlohmann::json::array());
  EXPECT_FALSE(summary.at("preprocessing").contains("standardize_targets"));
}

TEST_F(CliRegression, StandardizedTargetsAreStoredAndUndoneByEvaluateAndPredict) {
  // A price in the 1e5 range: trained on (price - mean) / std, reported in currency units.
  const CommandResult run = xdense("train --data friedman.csv --label-column price --loss mse --layers 16:relu,1 "
                                   "--standardize-targets --test friedman.csv" +
                                   features + training + " --output p.xdm");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("Test: loss "), std::string::npos) << run.out;
  EXPECT_NE(run.out.find(" - mae "), std::string::npos) << run.out;
  EXPECT_NE(run.out.find(" - r2 "), std::string::npos) << run.out;

  double mean = 0.0;
  for (const Row& r : rows_) mean += static_cast<float>(r.price) / samples;
  const auto summary = nlohmann::json::parse(xdense("summary --json --model p.xdm").out);
  const auto& targets = summary.at("preprocessing").at("standardize_targets");
  EXPECT_NEAR(targets.at("mean").at(0).get<double>(), mean, 1.0);
  EXPECT_GT(targets.at("std").at(0).get<double>(), 10000.0);
  EXPECT_EQ(summary.at("training").at("test_data"), "friedman.csv");

  const nlohmann::ordered_json json = evaluate_json("p.xdm");
  const double mse = json.at("mse"), loss = json.at("loss"), std = targets.at("std").at(0);
  EXPECT_GT(json.at("r2").get<double>(), 0.8);
  // The loss is on the standardized targets, the mse in currency^2: mse = loss * std^2.
  EXPECT_LT(loss, 1.0);
  EXPECT_NEAR(mse, loss * std * std, 1e-3 * mse);

  const CommandResult predicted = xdense("predict --model p.xdm --data friedman.csv");
  ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
  const auto table = csv_rows(predicted.out);
  EXPECT_EQ(table[0], (std::vector<std::string>{"predicted_price"}));
  std::vector<double> price;
  for (const Row& r : rows_) price.push_back(static_cast<float>(r.price));
  double predicted_mean = 0.0;
  for (std::size_t i = 1; i < table.size(); ++i) predicted_mean += std::stod(table[i][0]) / samples;
  EXPECT_NEAR(predicted_mean, mean, 0.05 * mean) << "predictions in the targets' units";
  const auto [predict_mse, predict_mae] = errors(table, 0, price);
  EXPECT_NEAR(predict_mse, mse, 1e-4 * mse);
  EXPECT_NEAR(predict_mae, json.at("mae").get<double>(), 1e-4 * predict_mae);

  // export writes the target standardizer beside the weights: predict reproduced from the files.
  const CommandResult exported = xdense("export --model p.xdm --npy w");
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_NE(exported.out.find("and the target standardizer's mean and std"), std::string::npos) << exported.out;
  const xdense::Matrix target_mean = xdense::load_npy(path("w/standardize_targets_mean.npy").string());
  const xdense::Matrix target_std = xdense::load_npy(path("w/standardize_targets_std.npy").string());
  EXPECT_EQ(target_mean(0, 0), targets.at("mean").at(0).get<float>());
  EXPECT_EQ(target_std(0, 0), targets.at("std").at(0).get<float>());
}

TEST_F(CliRegression, SeveralTargetsGetAColumnAndAScoreEach) {
  const CommandResult run = xdense("train --data friedman.csv --label-column price,rent --loss mse --layers 16:relu,2 "
                                   "--standardize-targets --validation-split 0.25" +
                                   features + " --optimizer adam --lr 0.01 --epochs 60 --batch-size 16 --standardize "
                                   "--output two.xdm");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("Training on 225 samples, validating on 75, 5 features, regression of 2 targets (price, rent)"),
            std::string::npos)
      << run.out;

  const CommandResult text = xdense("evaluate --model two.xdm --data friedman.csv");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("regression of 2 targets (price, rent)"), std::string::npos) << text.out;
  // One line per target: name, mse, mae, rmse, r2; the overall r2 is their mean (Keras's uniform_average).
  double r2_sum = 0.0;
  for (const std::string target : {"price", "rent"}) {
    const auto at = text.out.find("\n" + target + " ");
    ASSERT_NE(at, std::string::npos) << text.out;
    std::istringstream line(text.out.substr(at + 1));
    std::string name;
    double mse = 0, mae = 0, rmse = 0, r2 = 0;
    line >> name >> mse >> mae >> rmse >> r2;
    EXPECT_NEAR(rmse, std::sqrt(mse), 1e-5 * rmse);
    r2_sum += r2;
  }
  const nlohmann::ordered_json json = evaluate_json("two.xdm");
  EXPECT_NEAR(json.at("r2").get<double>(), r2_sum / 2, 1e-6);

  const CommandResult predicted = xdense("predict --model two.xdm --data friedman.csv --id-column id --output p.csv");
  ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
  const auto table = csv_rows(read_file(path("p.csv")));
  EXPECT_EQ(table[0], (std::vector<std::string>{"id", "predicted_price", "predicted_rent"}));
  EXPECT_EQ(table.size(), samples + 1);
  // Each column in its own units: prices near 1e5-3e5, rents near 600-1300.
  EXPECT_GT(std::stod(table[1][1]), 50000.0);
  EXPECT_LT(std::stod(table[1][2]), 2000.0);
  const auto summary = nlohmann::json::parse(xdense("summary --json --model two.xdm").out);
  EXPECT_EQ(summary.at("target_names"), (std::vector<std::string>{"price", "rent"}));
  EXPECT_EQ(summary.at("training").at("validation_samples"), "75");
}

TEST_F(CliRegression, NpyTargetsOfSeveralColumns) {
  std::vector<float> x, y;
  for (const Row& r : rows_) {
    for (double v : r.x) x.push_back(static_cast<float>(v));
    y.push_back(static_cast<float>(r.y));
    y.push_back(static_cast<float>(r.rent));
  }
  xdense::save_npy(path("x.npy").string(), x.data(), {samples, 5});
  xdense::save_npy(path("y.npy").string(), y.data(), {samples, 2});
  const CommandResult run = xdense("train --data x.npy --labels y.npy --loss mae --layers 8:relu,2 --standardize-targets "
                                   "--optimizer adam --epochs 3 --batch-size 32 --output n.xdm");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("regression of 2 targets\n"), std::string::npos) << run.out;
  const CommandResult predicted = xdense("predict --model n.xdm --data x.npy");
  ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
  EXPECT_EQ(csv_rows(predicted.out)[0], (std::vector<std::string>{"predicted_0", "predicted_1"}));
  EXPECT_EQ(xdense("evaluate --model n.xdm --data x.npy --labels y.npy --json").exit_code, 0);
  // One target column where the model predicts two.
  xdense::save_npy(path("y1.npy").string(), y.data(), {samples, 1});
  expect_user_error("evaluate --model n.xdm --data x.npy --labels y1.npy", {"y1.npy: 1 target, but the model predicts 2"});
}

TEST_F(CliRegression, TaskMismatchesAreRefusedWithOneLineAndNothingWritten) {
  const std::string iris = std::string(XDENSE_DATA_DIR) + "/iris.csv";
  const std::string quick = " --optimizer adam --epochs 2 --batch-size 32 --quiet --output out.xdm";
  // A regression loss on a column of classes.
  expect_user_error("train --data " + iris + " --label-column species --loss mse --layers 8:relu,1" + quick,
                    {"iris.csv:2, column 'species' holds text ('setosa')", "--loss mean_squared_error is a regression loss"});
  // A classification loss on a continuous column.
  expect_user_error("train --data friedman.csv --label-column y --loss binary_crossentropy --layers 8:relu,1:sigmoid" +
                        features + quick,
                    {"friedman.csv: the label column 'y' holds 300 distinct numbers", "looks continuous", "--loss mse"});
  // Several label columns for a classifier.
  expect_user_error("train --data friedman.csv --label-column price,rent --loss binary_crossentropy "
                    "--layers 8:relu,1:sigmoid" + quick,
                    {"--label-column 'price,rent': several label columns", "a classifier reads one label column"});
  // One output unit per target.
  expect_user_error("train --data friedman.csv --label-column price,rent --loss mse --layers 8:relu,1" + features + quick,
                    {"friedman.csv: 2 targets (price, rent) but the output layer has 1 unit", "--layers 64:relu,2"});
  // Flags of the other task.
  expect_user_error("train --data " + iris + " --loss sparse_categorical_crossentropy --layers 8:relu,3:softmax "
                    "--standardize-targets" + quick,
                    {"--standardize-targets applies to a regression loss"});
  expect_user_error("train --data friedman.csv --label-column y --loss poisson --layers 8:relu,1:softplus "
                    "--standardize-targets" + features + quick,
                    {"--standardize-targets: --loss poisson does not take standardized targets"});
  expect_user_error("train --data friedman.csv --label-column y --loss mse --layers 8:relu,1 --classes 1,2" + features +
                        quick,
                    {"--classes applies to classification; --loss mean_squared_error is a regression loss"});
  expect_only_files({"friedman.csv"});

  // A NaN target: file, line and column.
  {
    std::ofstream out(path("nan.csv"));
    out << "a,b,t\n1,2,3.5\n2,3,nan\n";
  }
  expect_user_error("train --data nan.csv --loss mse --layers 1" + quick, {"nan.csv:3, column 't': NaN/Inf is not allowed"});
  expect_only_files({"friedman.csv", "nan.csv"});

  // A regressor never reads classes, a classifier never reads values.
  ASSERT_EQ(xdense("train --data friedman.csv --label-column y --loss mse --layers 4:relu,1 --optimizer adam --epochs 2 "
                   "--batch-size 32 --quiet --output r.xdm" + features)
                .exit_code,
            0);
  {
    std::ofstream out(path("text_target.csv"));
    out << "x1,x2,x3,x4,x5,y\n0.1,0.2,0.3,0.4,0.5,high\n";
  }
  expect_user_error("evaluate --model r.xdm --data text_target.csv",
                    {"text_target.csv:2, column 'y' holds text ('high')", "the model is a regressor"});
  {
    std::ofstream out(path("binary.csv"));
    out << "x1,x2,x3,x4,x5,y\n";
    for (std::size_t i = 0; i < 40; ++i) {
      out << rows_[i].x[0] << "," << rows_[i].x[1] << "," << rows_[i].x[2] << "," << rows_[i].x[3] << "," << rows_[i].x[4]
          << "," << (rows_[i].y > 14 ? 1 : 0) << "\n";
    }
  }
  ASSERT_EQ(xdense("train --data binary.csv --label-column y --loss binary_crossentropy --layers 4:relu,1:sigmoid "
                   "--optimizer adam --epochs 2 --batch-size 32 --quiet --output c.xdm")
                .exit_code,
            0);
  {
    std::ofstream out(path("continuous.csv"));
    out << "x1,x2,x3,x4,x5,y\n";
    for (const Row& r : rows_) out << r.x[0] << "," << r.x[1] << "," << r.x[2] << "," << r.x[3] << "," << r.x[4] << "," << r.y << "\n";
  }
  expect_user_error("evaluate --model c.xdm --data continuous.csv",
                    {"continuous.csv: the label column 'y' holds 300 distinct numbers", "looks continuous",
                     "the model is a classifier"});
  expect_user_error("predict --model r.xdm --data text_target.csv --output never.csv", {"holds text ('high')"});
  EXPECT_FALSE(fs::exists(path("never.csv")));
}

TEST_F(CliRegression, ALibraryRegressorSavedWithADefaultModelInfoIsReadAsARegressor) {
  // Trained and saved by the library: no feature, target or class names; the task comes from the loss.
  xdense::Matrix x = xdense::Matrix::from_shape({samples, 5});
  xdense::Matrix y = xdense::Matrix::from_shape({samples, 1});
  for (std::size_t i = 0; i < samples; ++i) {
    for (std::size_t c = 0; c < 5; ++c) x(i, c) = static_cast<float>(rows_[i].x[c]);
    y(i, 0) = static_cast<float>(rows_[i].y);
  }
  xdense::Sequential model(5);
  model.add(std::make_unique<xdense::Dense>(16, 5)).add("relu");
  model.add(std::make_unique<xdense::Dense>(1));
  model.compile("mse", "adam");
  xdense::FitOptions options;
  options.epochs = 30;
  options.batch_size = 16;
  model.fit(x, y, options);
  xdense::save_model(path("library.xdm").string(), model, xdense::ModelInfo{});

  const auto summary = nlohmann::json::parse(xdense("summary --json --model library.xdm").out);
  EXPECT_EQ(summary.at("task"), "regression");
  // Columns by position: the five features, then the target last.
  {
    std::ofstream out(path("positional.csv"));
    out << "a,b,c,d,e,target\n";
    for (const Row& r : rows_) {
      for (double v : r.x) out << text_of(v) << ",";
      out << text_of(r.y) << "\n";
    }
  }
  const CommandResult json = xdense("evaluate --json --model library.xdm --data positional.csv");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto scores = nlohmann::json::parse(json.out);
  EXPECT_TRUE(scores.contains("r2")) << json.out;
  EXPECT_FALSE(scores.contains("accuracy")) << json.out;
  // The library's own evaluate agrees with the tool's loss.
  EXPECT_NEAR(scores.at("loss").get<double>(), model.evaluate(x, y).loss, 1e-6);
  const CommandResult predicted = xdense("predict --model library.xdm --data positional.csv");
  ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
  const auto table = csv_rows(predicted.out);
  EXPECT_EQ(table[0], (std::vector<std::string>{"predicted"}));
  EXPECT_FLOAT_EQ(std::stof(table[1][0]), model.predict(x)(0, 0));
}

TEST_F(CliRegression, ClassifiersTrainedWithMseBeforeStayClassifiers) {
  // xdense 0.2 trained this 4-class model with --loss mse on one-hot targets: its file holds class
  // names, so it is read as a classifier, scored with accuracy from its predicted classes.
  const std::string fixtures = std::string(XDENSE_DATA_DIR) + "/../tests/fixtures/v1/";
  const std::string model = fixtures + "synth_mse.xdm";
  const auto summary = nlohmann::json::parse(xdense("summary --json --model " + model).out);
  EXPECT_EQ(summary.at("task"), "classification");
  const CommandResult run =
      xdense("evaluate --json --model " + model + " --data " + fixtures + "synth_x.npy --labels " + fixtures + "synth_y.npy");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto json = nlohmann::json::parse(run.out);
  ASSERT_TRUE(json.at("accuracy").is_number()) << run.out;
  EXPECT_GT(json.at("accuracy").get<double>(), 0.25);
  EXPECT_EQ(json.at("classes"), (std::vector<std::string>{"0", "1", "2", "3"}));
}

}  // namespace
