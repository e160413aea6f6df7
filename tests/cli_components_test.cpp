// End-to-end tests of the issue-14 components on the command line: dropout, batchnorm and layernorm
// items in --layers, the optimizer flags (rmsprop, adamw, clipping), the new losses and
// --label-smoothing, --init and --kernel-regularizer, and Keras to_json() files with --model-config;
// each trained, saved, summarised, exported, predicted with and resumed.

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include "cli_support.hpp"

#include "xdense/npy.hpp"

namespace {

const std::string data_dir = XDENSE_DATA_DIR;
const std::string keras_fixtures = XDENSE_DATA_DIR "/../tests/fixtures/keras";

using xdense::testing::Cli;
using xdense::testing::CommandResult;
using xdense::testing::count_lines;
using xdense::testing::read_file;

// `xdense train` on iris (4 features, 3 classes) with `model` (--layers ... or --model-config ...)
// and `rest`.
std::string iris(const std::string& model, const std::string& rest) {
  return "train --data " + data_dir + "/iris.csv " + model + " --epochs 30 --batch-size 16 --standardize --quiet " + rest;
}

TEST_F(Cli, DropoutAndBatchnormLayersTrainWithRmspropAndClipping) {
  const CommandResult run = xdense(iris("--layers '16:gelu,dropout(0.2),batchnorm,3:softmax'",
                                        "--loss categorical_crossentropy --optimizer rmsprop --clipnorm 1 --output m.xdm"));
  ASSERT_EQ(run.exit_code, 0) << run.err;

  const CommandResult summary = xdense("summary --model m.xdm");
  ASSERT_EQ(summary.exit_code, 0) << summary.err;
  for (const char* part : {"Dropout: ", "rate=0.2", "BatchNormalization: ", "gamma (16)", "moving_mean (16) (non-trainable)",
                           "Optimizer: rmsprop (", "clipnorm=1", "rho=0.9", "activation=gelu"}) {
    EXPECT_NE(summary.out.find(part), std::string::npos) << part << "\n" << summary.out;
  }
  const CommandResult json = xdense("summary --model m.xdm --json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto report = nlohmann::json::parse(json.out);
  std::vector<std::string> kinds;
  for (const auto& layer : report.at("layers")) kinds.push_back(layer.at("kind").get<std::string>());
  EXPECT_EQ(kinds, (std::vector<std::string>{"Dense", "Activation", "Dropout", "BatchNormalization", "Dense", "Activation"}));
  EXPECT_EQ(report.at("layers")[3].at("params").get<int>(), 32);  // gamma and beta: the trainable ones
  EXPECT_EQ(report.at("layers")[3].at("non_trainable_params").get<int>(), 32);  // the moving mean and variance
  EXPECT_EQ(report.at("optimizer").at("name"), "rmsprop");
  EXPECT_EQ(report.at("optimizer").at("clipnorm").get<double>(), 1.0);

  const CommandResult exported = xdense("export --model m.xdm --npy weights");
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  for (const char* name : {"dense_0_kernel", "dense_1_bias", "batchnormalization_0_gamma", "batchnormalization_0_beta",
                           "batchnormalization_0_moving_mean", "batchnormalization_0_moving_variance"}) {
    EXPECT_TRUE(std::filesystem::exists(path(std::string("weights/") + name + ".npy"))) << name;
  }
  EXPECT_EQ(xdense::load_npy(path("weights/batchnormalization_0_moving_variance.npy").string()).shape(0), 16u);
  // The exported arrays start another run: the batch-normalization statistics included.
  const CommandResult again = xdense(iris("--layers '16:gelu,dropout(0.2),batchnorm,3:softmax'",
                                          "--loss categorical_crossentropy --optimizer rmsprop --init-weights weights "
                                          "--output n.xdm"));
  EXPECT_EQ(again.exit_code, 0) << again.err;

  // Inference mode: dropout off, moving statistics, so two predictions are the same.
  const CommandResult first = xdense("predict --model m.xdm --data " + data_dir + "/iris.csv");
  const CommandResult second = xdense("predict --model m.xdm --data " + data_dir + "/iris.csv");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(count_lines(first.out), 151u);
  EXPECT_EQ(first.out, second.out);
  const CommandResult evaluate = xdense("evaluate --model m.xdm --data " + data_dir + "/iris.csv --json");
  ASSERT_EQ(evaluate.exit_code, 0) << evaluate.err;
  EXPECT_GT(nlohmann::json::parse(evaluate.out).at("accuracy").get<double>(), 0.8);
}

TEST_F(Cli, AResumedRunWithDropoutIsBitIdentical) {
  const std::string model = "--layers '16:relu,dropout(0.3),layernorm,3:softmax'";
  const std::string rest = "--loss categorical_crossentropy --optimizer adamw --validation-split 0.2 ";
  ASSERT_EQ(xdense(iris(model, rest + "--weight-decay 0.01 --output whole.xdm")).exit_code, 0);
  // Stop after 10 of the 30 epochs, then resume to 30.
  const std::string part = "train --data " + data_dir + "/iris.csv " + model +
                           " --batch-size 16 --standardize --quiet " + rest + "--checkpoint run --output part.xdm ";
  ASSERT_EQ(xdense(part + "--weight-decay 0.01 --epochs 10").exit_code, 0);
  const CommandResult resumed = xdense(part + "--weight-decay 0.01 --epochs 30 --resume run");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  ASSERT_EQ(xdense("export --model whole.xdm --npy a").exit_code, 0);
  ASSERT_EQ(xdense("export --model part.xdm --npy b").exit_code, 0);
  for (const char* name : {"dense_0_kernel", "dense_1_kernel", "layernormalization_0_gamma"}) {
    EXPECT_EQ(read_file(path(std::string("a/") + name + ".npy")), read_file(path(std::string("b/") + name + ".npy"))) << name;
  }
  // Another weight decay is another run: refused by name.
  expect_user_error(part + "--weight-decay 0.02 --epochs 30 --resume run", {"--weight-decay '0.01' in the checkpoint, '0.02' now"});
}

TEST_F(Cli, NewLossesAndLabelSmoothingTrainOnClasses) {
  for (const char* loss : {"categorical_hinge", "squared_hinge", "kl_divergence"}) {
    const CommandResult run = xdense(iris("--layers 8:relu,3:softmax", std::string("--loss ") + loss +
                                                                           " --optimizer adam --output m.xdm"));
    EXPECT_EQ(run.exit_code, 0) << loss << ": " << run.err;
  }
  const CommandResult smoothed = xdense(iris("--layers 8:relu,3:softmax", "--loss categorical_crossentropy "
                                                                          "--label-smoothing 0.1 --optimizer nadam --output s.xdm"));
  ASSERT_EQ(smoothed.exit_code, 0) << smoothed.err;
  const auto report = nlohmann::json::parse(xdense("summary --model s.xdm --json").out);
  EXPECT_EQ(report.at("loss").at("name"), "categorical_crossentropy");
  EXPECT_EQ(report.at("loss").at("config"), (nlohmann::json{{"label_smoothing", 0.1f}}));  // stored as a float
  // The text summary shows the loss's settings too.
  const std::string text = xdense("summary --model s.xdm").out;
  EXPECT_NE(text.find("Loss: categorical_crossentropy (label_smoothing=0.1; computed from logits)"), std::string::npos)
      << text;
  expect_user_error(iris("--layers 8:relu,3:softmax", "--loss mse --label-smoothing 0.1 --optimizer adam --output x.xdm"),
                    {"--label-smoothing applies to --loss binary_crossentropy or categorical_crossentropy, not mean_squared_error"});
  expect_user_error(iris("--layers 8:relu,3:softmax", "--loss categorical_crossentropy --label-smoothing 2 --optimizer adam "
                         "--output x.xdm"),
                    {"label_smoothing must be in [0, 1]"});
}

TEST_F(Cli, InitAndKernelRegularizerApplyToEveryDenseLayer) {
  const CommandResult run = xdense(iris("--layers 8:relu,3:softmax", "--loss categorical_crossentropy --optimizer adagrad "
                                        "--initial-accumulator 0.2 --init pytorch --kernel-regularizer 'l2(0.001)' --output m.xdm"));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto report = nlohmann::json::parse(xdense("summary --model m.xdm --json").out);
  for (std::size_t i : {0u, 2u}) {
    const auto& config = report.at("layers")[i].at("config");
    EXPECT_EQ(config.at("kernel_initializer"), "pytorch") << config;
    EXPECT_EQ(config.at("bias_initializer"), "pytorch") << config;
    EXPECT_TRUE(config.contains("kernel_regularizer")) << config;
  }
  // Each flag's mistakes are named by the flag, not blamed on a --layers item.
  expect_user_error(iris("--layers 8:relu,3:softmax", "--loss cce --optimizer adam --init no_such --output x.xdm"),
                    {"--init: unknown initializer 'no_such'"});
  expect_user_error(iris("--layers 8:relu,3:softmax", "--loss cce --optimizer adam --kernel-regularizer 'l2(-1)' "
                                                      "--output x.xdm"),
                    {"--kernel-regularizer: "});
  expect_user_error(iris("--layers 8:relu,3:softmax", "--loss cce --optimizer adam --kernel-regularizer 'l2(x)' --output x.xdm"),
                    {"--kernel-regularizer: expected a number, received 'x'"});
  expect_user_error(iris("--model-config " + keras_fixtures + "/keras2_iris_mlp.json",
                         "--loss cce --optimizer adam --init he_normal --output x.xdm"),
                    {"--init applies to --layers"});
  expect_user_error(iris("--layers '8:relu,dropout(1.5),3:softmax'", "--loss cce --optimizer adam --output x.xdm"),
                    {"--layers: layer spec item 2 'dropout(1.5)': "});
}

TEST_F(Cli, KerasToJsonFilesTrain) {
  for (const char* file : {"keras3_iris_mlp.json", "keras3_activation_layers.json", "keras2_iris_mlp.json",
                           "keras2_batch_input_shape.json"}) {
    const CommandResult run = xdense(iris("--model-config " + keras_fixtures + "/" + file,
                                          "--loss categorical_crossentropy --optimizer adam --output m.xdm"));
    ASSERT_EQ(run.exit_code, 0) << file << ": " << run.err;
    const CommandResult predict = xdense("predict --model m.xdm --data " + data_dir + "/iris.csv");
    EXPECT_EQ(predict.exit_code, 0) << file << ": " << predict.err;
  }
  // The file's input width must be the data's.
  expect_user_error("train --data " + data_dir + "/breast_cancer.csv --label-column benign --model-config " +
                        keras_fixtures + "/keras3_iris_mlp.json --loss cce --optimizer adam --epochs 1 --batch-size 8 "
                        "--output x.xdm",
                    {"keras3_iris_mlp.json: the model takes 4 input features, but ", "breast_cancer.csv has 30"});
  // Every problem of a file in one line.
  std::ofstream(path("bad.json")) << R"({"class_name": "Sequential", "config": {"layers": [
      {"class_name": "InputLayer", "config": {"batch_shape": [null, 4], "dtype": "float16"}},
      {"class_name": "Conv2D", "config": {"filters": 3}},
      {"class_name": "Dense", "config": {"units": 3, "activation": "softmax", "kernel_constraint": {"class_name": "NonNeg", "config": {}}}}]}})";
  expect_user_error(iris("--model-config bad.json", "--loss cce --optimizer adam --output x.xdm"),
                    {"bad.json: 3 problems: config.layers[0].config.dtype: ", "; config.layers[1].class_name: unknown layer class 'Conv2D'",
                     "; config.layers[2].config.kernel_constraint: "});
}

}  // namespace
