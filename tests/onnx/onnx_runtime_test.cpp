// `xdense export --onnx` against the real runtime: models trained by the tool (every activation,
// sigmoid and softmax outputs, standardized inputs, Dropout, BatchNormalization, LayerNormalization,
// a regressor with standardized targets) are exported, run in ONNX Runtime (onnxruntime-node, one
// thread, tests/onnx/onnx_runtime.hpp) on the RAW feature columns, and compared with what predict
// gives: the library's predict() after the model's standardization (and its target scaling
// undone), and the probabilities `xdense predict` prints. Max |difference| <= 1e-5 (relative to the
// value's size for regression values above 1: float32 itself is no finer there). Each exported file
// also passes libonnx-dev's full check when the tests were configured with it.
// Skipped, naming what is missing, without node or onnxruntime-node (scripts/setup.sh installs them).

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli_support.hpp"
#include "onnx/onnx_checker.hpp"
#include "onnx/onnx_runtime.hpp"

#include "xdense/activation.hpp"
#include "xdense/csv.hpp"
#include "xdense/model_file.hpp"
#include "xdense/sequential.hpp"

#ifdef XDENSE_CLI

namespace {

namespace fs = std::filesystem;

using xdense::Matrix;
using xdense::testing::CommandResult;
using xdense::testing::max_abs_difference;
using xdense::testing::run_onnx;

const std::string data_dir = XDENSE_DATA_DIR;

/// The outputs ONNX Runtime gives for a model, and those they must equal.
struct Comparison {
  Matrix raw_features;  ///< the data file's feature columns, in the model's order, unstandardized
  Matrix expected;      ///< predict() on them after the model's standardization, targets in their units
  Matrix onnx;          ///< ONNX Runtime's output on raw_features
};

class OnnxRuntime : public xdense::testing::Cli {
 protected:
  void SetUp() override {
    Cli::SetUp();
    XDENSE_REQUIRE_ONNX_RUNTIME();
  }

  void train(const std::string& args, const std::string& output) const {
    const CommandResult run = xdense("train " + args + " --seed 7 --quiet --output " + output);
    ASSERT_EQ(run.exit_code, 0) << args << "\n" << run.err;
  }

  /// Exports `model` with `export --onnx`, runs it in ONNX Runtime on `data_file`'s raw features and
  /// computes what it must give with the library.
  Comparison export_and_run(const std::string& model, const std::string& data_file) const {
    const std::string onnx = model + ".onnx";
    const CommandResult exported = xdense("export --model " + model + " --onnx " + onnx);
    EXPECT_EQ(exported.exit_code, 0) << exported.err;
    EXPECT_NE(exported.out.find("Wrote " + onnx + ": ONNX model"), std::string::npos) << exported.out;
    // libonnx-dev's full check too, when the tests were configured with it.
    if (xdense::test::onnx_checker_available()) {
      EXPECT_EQ(xdense::test::onnx_checker_problem(xdense::testing::read_file(path(onnx))), "") << onnx;
    }

    xdense::SavedModel saved = xdense::load_model(path(model).string());
    xdense::CsvOptions by_name;  // the model's feature columns, in its order; labels and targets left out
    by_name.feature_columns = saved.info.feature_names;
    by_name.unlabelled = true;
    Comparison c;
    c.raw_features = xdense::load_csv(data_file, by_name).features;
    Matrix x = saved.info.standardizer ? saved.info.standardizer->transform(c.raw_features) : c.raw_features;
    c.expected = saved.model.predict(x);
    if (saved.info.target_standardizer) c.expected = saved.info.target_standardizer->inverse_transform(c.expected);
    c.onnx = run_onnx(path(onnx), c.raw_features);
    return c;
  }

  /// max |onnx - expected| <= 1e-5 * max(1, |expected|) everywhere; returns the max |difference|.
  static double expect_close(const Comparison& c, const std::string& what) {
    EXPECT_EQ(c.onnx.shape(0), c.expected.shape(0)) << what;
    EXPECT_EQ(c.onnx.shape(1), c.expected.shape(1)) << what;
    const double worst = max_abs_difference(c.onnx, c.expected);
    EXPECT_TRUE(std::isfinite(worst)) << what;
    double worst_relative = 0;
    for (std::size_t i = 0; i < std::min(c.onnx.size(), c.expected.size()); ++i) {
      const double e = c.expected.data()[i], o = c.onnx.data()[i];
      worst_relative = std::max(worst_relative, std::abs(o - e) / std::max(1.0, std::abs(e)));
    }
    EXPECT_LE(worst_relative, 1e-5) << what << ": max |onnx - predict| = " << worst;
    std::printf("  %-40s %zu x %zu outputs, max |onnx - predict| = %.3g (relative to max(1, |value|): %.3g)\n",
                what.c_str(), c.expected.shape(0), c.expected.shape(1), worst, worst_relative);
    return worst;
  }

  /// The probabilities `xdense predict` prints (p_<class> columns) equal ONNX Runtime's outputs
  /// (a one-unit sigmoid's p_<second class> is its output, p_<first class> = 1 - output).
  void expect_predict_prints(const std::string& model, const std::string& data_file, const Matrix& onnx) const {
    const CommandResult run = xdense("predict --model " + model + " --data " + data_file + " --output p.csv");
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const auto rows = xdense::testing::csv_rows(xdense::testing::read_file(path("p.csv")));
    ASSERT_EQ(rows.size(), onnx.shape(0) + 1);
    const std::size_t units = onnx.shape(1), classes = units == 1 ? 2 : units;
    ASSERT_EQ(rows[0].size(), 1 + classes) << "label + one p_ column per class";
    double worst = 0;
    for (std::size_t r = 0; r < onnx.shape(0); ++r) {
      for (std::size_t k = 0; k < classes; ++k) {
        const double p = units == 1 ? (k == 1 ? onnx(r, 0) : 1.0 - onnx(r, 0)) : onnx(r, k);
        const double printed = std::stod(rows[r + 1].at(1 + k));  // %.6g
        worst = std::max(worst, std::abs(printed - p));
        EXPECT_NEAR(printed, p, 1e-5) << "row " << r << " class " << k;
      }
    }
    std::printf("  %-40s max |predict's printed p - onnx| = %.3g\n", ("xdense predict, " + model).c_str(), worst);
  }
};

// ---------------------------------------------------------------- outputs and preprocessing

TEST_F(OnnxRuntime, OneUnitSigmoidOnStandardizedBreastCancerMatchesPredict) {
  train("--data " + data_dir + "/breast_cancer.csv --label-column benign --layers 16:relu,1:sigmoid "
        "--loss binary_crossentropy --optimizer adam --epochs 30 --batch-size 32 --standardize", "cancer.xdm");
  const Comparison c = export_and_run("cancer.xdm", data_dir + "/breast_cancer.csv");
  ASSERT_EQ(c.onnx.shape(1), 1u) << "a one-unit sigmoid gives [N, 1]: the probability of the second class";
  expect_close(c, "breast_cancer 16:relu,1:sigmoid");
  expect_predict_prints("cancer.xdm", data_dir + "/breast_cancer.csv", c.onnx);
}

TEST_F(OnnxRuntime, SoftmaxOnStandardizedIrisMatchesPredict) {
  train("--data " + data_dir + "/iris.csv --layers 8:tanh,8:relu,3:softmax --loss categorical_crossentropy "
        "--optimizer adam --lr 0.01 --epochs 40 --batch-size 16 --standardize", "iris.xdm");
  const Comparison c = export_and_run("iris.xdm", data_dir + "/iris.csv");
  ASSERT_EQ(c.onnx.shape(1), 3u);
  expect_close(c, "iris 8:tanh,8:relu,3:softmax");
  for (std::size_t r = 0; r < c.onnx.shape(0); ++r) {
    EXPECT_NEAR(c.onnx(r, 0) + c.onnx(r, 1) + c.onnx(r, 2), 1.0, 1e-5) << "row " << r;
  }
  expect_predict_prints("iris.xdm", data_dir + "/iris.csv", c.onnx);
}

TEST_F(OnnxRuntime, UnstandardizedModelRunsOnTheSameRawFeatures) {
  train("--data " + data_dir + "/iris.csv --layers 6:relu,3:softmax --loss cce --optimizer adam --epochs 20 "
        "--batch-size 16", "plain.xdm");
  expect_close(export_and_run("plain.xdm", data_dir + "/iris.csv"), "iris without standardization");
}

TEST_F(OnnxRuntime, RegressionWithStandardizedTargetsGivesValuesInTheirUnits) {
  train("--data " + data_dir + "/diabetes.csv --label-column progression --layers 16:relu,1:linear --loss mse "
        "--optimizer adam --lr 0.01 --epochs 40 --batch-size 32 --standardize --standardize-targets", "reg.xdm");
  const Comparison c = export_and_run("reg.xdm", data_dir + "/diabetes.csv");
  expect_close(c, "diabetes regression, standardized targets");
  // In the targets' units (progression: 25..346), not standardized values around 0.
  double mean = 0;
  for (std::size_t r = 0; r < c.onnx.shape(0); ++r) mean += c.onnx(r, 0) / c.onnx.shape(0);
  EXPECT_GT(mean, 100.0);
  EXPECT_LT(mean, 200.0);
}

// ---------------------------------------------------------------- layers

TEST_F(OnnxRuntime, DropoutBatchNormalizationAndLayerNormalizationMatchPredict) {
  train("--data " + data_dir + "/iris.csv --layers '16:relu,dropout(0.3),batchnorm,8:tanh,layernorm,3:softmax' "
        "--loss cce --optimizer adam --lr 0.01 --epochs 30 --batch-size 16 --standardize", "norm.xdm");
  expect_close(export_and_run("norm.xdm", data_dir + "/iris.csv"), "dropout, batchnorm, layernorm (iris)");
  train("--data " + data_dir + "/breast_cancer.csv --label-column benign "
        "--layers 'batchnorm,16:elu,dropout(0.5),layernorm,1:sigmoid' --loss bce --optimizer adam --epochs 20 "
        "--batch-size 32", "norm2.xdm");
  expect_close(export_and_run("norm2.xdm", data_dir + "/breast_cancer.csv"), "batchnorm on raw inputs (cancer)");
}

// ---------------------------------------------------------------- every activation

/// Every registered activation (and the argument forms of those that take one) as the hidden
/// activation of a standardized iris softmax model.
TEST_F(OnnxRuntime, EveryActivationMatchesPredict) {
  std::vector<std::string> specs = xdense::activation_names();
  ASSERT_GE(specs.size(), 17u) << "the registry lists every built-in activation";
  for (const std::string with_argument : {"leaky_relu(0.05)", "elu(0.5)", "gelu(approximate)", "binary_step(ste)"}) {
    specs.push_back(with_argument);
  }
  double worst = 0;
  for (const std::string& spec : specs) {
    SCOPED_TRACE(spec);
    const std::string model = "act_" + std::to_string(&spec - specs.data()) + ".xdm";
    train("--data " + data_dir + "/iris.csv --layers '8:" + spec + ",3:softmax' --loss cce --optimizer adam "
          "--lr 0.01 --epochs 5 --batch-size 16 --standardize", model);
    worst = std::max(worst, expect_close(export_and_run(model, data_dir + "/iris.csv"), "iris 8:" + spec + ",3:softmax"));
  }
  std::printf("  every activation: max |onnx - predict| = %.3g over %zu models\n", worst, specs.size());
}

}  // namespace

#else
TEST(OnnxRuntime, NeedsTheCommandLineTool) { GTEST_SKIP() << "built without the xdense tool (XDENSE_BUILD_APPS=OFF)"; }
#endif  // XDENSE_CLI
