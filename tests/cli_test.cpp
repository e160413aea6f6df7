// End-to-end tests of the xdense command-line tool: they run the built binary
// on the shipped data and on small files written here, and check exit codes,
// output and files, as a user would see them.

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include "cli_support.hpp"

#include "xdense/npy.hpp"

namespace {

namespace fs = std::filesystem;

const std::string data_dir = XDENSE_DATA_DIR;
const std::string fashion = "/usr/share/datasets/fashion-mnist";

using xdense::testing::Cli;
using xdense::testing::CommandResult;
using xdense::testing::count_lines;
using xdense::testing::read_file;


// ---------------------------------------------------------------- the issue's walkthrough

TEST_F(Cli, TrainEvaluatePredictSummaryExportOnBreastCancer) {
  const std::string log = train_cancer("m.xdm", "--history h.csv");
  EXPECT_NE(log.find("Epoch 50/50"), std::string::npos) << log;  // one plain line per epoch: not a terminal
  EXPECT_NE(log.find("val_accuracy"), std::string::npos) << log;
  expect_only_files({"m.xdm", "h.csv"});
  EXPECT_EQ(count_lines(read_file(path("h.csv"))), 51u);

  const CommandResult evaluate = xdense("evaluate --model m.xdm --data " + data_dir + "/breast_cancer.csv --json");
  ASSERT_EQ(evaluate.exit_code, 0) << evaluate.err;
  const auto json = nlohmann::json::parse(evaluate.out);
  EXPECT_EQ(json.at("samples").get<int>(), 569);
  EXPECT_GT(json.at("accuracy").get<double>(), 0.95);
  EXPECT_LT(json.at("loss").get<double>(), 0.2);
  EXPECT_EQ(json.at("confusion_matrix").size(), 2u);
  EXPECT_EQ(json.at("per_class").size(), 2u);

  const CommandResult text = xdense("evaluate --model m.xdm --data " + data_dir + "/breast_cancer.csv");
  EXPECT_NE(text.out.find("precision"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("Confusion matrix"), std::string::npos) << text.out;

  const CommandResult predict =
      xdense("predict --model m.xdm --data " + data_dir + "/breast_cancer.csv --output p.csv");
  ASSERT_EQ(predict.exit_code, 0) << predict.err;
  const std::string predictions = read_file(path("p.csv"));
  EXPECT_EQ(count_lines(predictions), 570u);
  EXPECT_EQ(predictions.substr(0, predictions.find('\n')), "label,p_0,p_1");

  const CommandResult summary = xdense("summary --model m.xdm");
  ASSERT_EQ(summary.exit_code, 0) << summary.err;
  for (const char* s : {"dense (Dense)", "Total params: 513", "binary_crossentropy", "adam", "Classes (2): 0, 1",
                        "standardize", "breast_cancer.csv", "epochs: 50", "val_accuracy"}) {
    EXPECT_NE(summary.out.find(s), std::string::npos) << s << "\n" << summary.out;
  }

  const CommandResult exported = xdense("export --model m.xdm --npy weights");
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  const xdense::Matrix kernel = xdense::load_npy(path("weights/dense_0_kernel.npy").string());
  EXPECT_EQ(kernel.shape(0), 30u);
  EXPECT_EQ(kernel.shape(1), 16u);
  EXPECT_EQ(xdense::load_npy(path("weights/dense_1_bias.npy").string()).shape(0), 1u);
}

TEST_F(Cli, ExportThenInitWeightsReproducesPredictions) {
  train_cancer("a.xdm");
  ASSERT_EQ(xdense("export --model a.xdm --npy w").exit_code, 0);
  ASSERT_EQ(xdense("predict --model a.xdm --data " + data_dir + "/breast_cancer.csv --output a.csv").exit_code, 0);
  // A step too small to move float32 weights keeps the exported weights exactly. The
  // standardisation is refitted on the same training part (same seed), so inputs match.
  const std::string common =
      "--data " + data_dir +
      "/breast_cancer.csv --layers 16:relu,1:sigmoid --loss binary_crossentropy "
      "--optimizer sgd --lr 1e-30 --epochs 1 --batch-size 32 --validation-split 0.2 --standardize "
      "--init-weights w --quiet";
  ASSERT_EQ(xdense("train " + common + " --output b.xdm").exit_code, 0);
  ASSERT_EQ(xdense("predict --model b.xdm --data " + data_dir + "/breast_cancer.csv --output b.csv").exit_code, 0);
  EXPECT_EQ(read_file(path("a.csv")), read_file(path("b.csv")));

  // --init-weights + --no-shuffle: two runs are identical, as any implementation of the same maths would be.
  const std::string fixed =
      "--data " + data_dir +
      "/breast_cancer.csv --layers 16:relu,1:sigmoid --loss binary_crossentropy "
      "--optimizer sgd --lr 0.1 --epochs 3 --batch-size 32 --standardize --no-shuffle --init-weights w --quiet";
  ASSERT_EQ(xdense("train " + fixed + " --output c.xdm --seed 1").exit_code, 0);
  ASSERT_EQ(xdense("train " + fixed + " --output d.xdm --seed 2").exit_code, 0);
  ASSERT_EQ(xdense("export --model c.xdm --npy c").exit_code, 0);
  ASSERT_EQ(xdense("export --model d.xdm --npy d").exit_code, 0);
  EXPECT_EQ(read_file(path("c/dense_0_kernel.npy")), read_file(path("d/dense_0_kernel.npy")));
  EXPECT_NE(read_file(path("c/dense_0_kernel.npy")), read_file(path("w/dense_0_kernel.npy")));
}

TEST_F(Cli, IrisStringLabelsSoftmaxAndClassSubsets) {
  CommandResult train =
      xdense("train --data " + data_dir +
             "/iris.csv --layers 16:relu,3:softmax --loss categorical_crossentropy "
             "--optimizer adam --lr 0.01 --epochs 60 --batch-size 16 --validation-split 0.2 --standardize "
             "--output iris.xdm --quiet");
  ASSERT_EQ(train.exit_code, 0) << train.err;
  EXPECT_EQ(train.out, "");  // --quiet
  const CommandResult predict = xdense("predict --model iris.xdm --data " + data_dir + "/iris.csv");
  ASSERT_EQ(predict.exit_code, 0) << predict.err;
  EXPECT_EQ(predict.out.substr(0, predict.out.find('\n')), "label,p_setosa,p_versicolor,p_virginica");
  EXPECT_EQ(predict.out.substr(predict.out.find('\n') + 1, 7), "setosa,");
  const auto json =
      nlohmann::json::parse(xdense("evaluate --json --model iris.xdm --data " + data_dir + "/iris.csv").out);
  EXPECT_GT(json.at("accuracy").get<double>(), 0.9);

  // Binary task from a multi-class file; evaluation on the full file skips the other class.
  train = xdense("train --data " + data_dir +
                 "/iris.csv --classes virginica,versicolor --layers 8:tanh,1:sigmoid "
                 "--loss binary_crossentropy --optimizer adam --lr 0.01 --epochs 40 --batch-size 8 --standardize "
                 "--output pair.xdm --quiet");
  ASSERT_EQ(train.exit_code, 0) << train.err;
  const CommandResult evaluate = xdense("evaluate --json --model pair.xdm --data " + data_dir + "/iris.csv");
  ASSERT_EQ(evaluate.exit_code, 0) << evaluate.err;
  EXPECT_EQ(nlohmann::json::parse(evaluate.out).at("samples").get<int>(), 100);
  EXPECT_NE(evaluate.err.find("skipped 50"), std::string::npos) << evaluate.err;
  EXPECT_EQ(nlohmann::json::parse(evaluate.out).at("classes"), nlohmann::json::array({"virginica", "versicolor"}));
}

TEST_F(Cli, JsonModelConfigIsEquivalentToLayerSpec) {
  std::ofstream(path("model.json")) << R"({"class_name": "Sequential", "config": {"layers": [
      {"class_name": "Dense", "config": {"units": 8, "activation": "relu"}},
      {"class_name": "LeakyReLU", "config": {"negative_slope": 0.2}},
      {"class_name": "Dense", "config": {"units": 1, "activation": "sigmoid"}}]}})";
  const std::string common = "--data " + data_dir +
                             "/breast_cancer.csv --loss bce --optimizer adam --epochs 2 "
                             "--batch-size 64 --standardize --quiet --seed 3";
  ASSERT_EQ(xdense("train " + common + " --model-config model.json --output j.xdm").exit_code, 0);
  ASSERT_EQ(xdense("train " + common + " --layers 8:relu,8,1:sigmoid --output s.xdm").exit_code, 0);
  // The spec adds no LeakyReLU, so the summaries differ only there; both train.
  EXPECT_NE(xdense("summary --model j.xdm").out.find("leaky_re_lu (LeakyReLU)"), std::string::npos);

  std::ofstream(path("bad.json")) << R"({"layers": [{"class_name": "Dense", "config": {"units": 0}}]})";
  expect_user_error("train " + common + " --model-config bad.json --output x.xdm",
                    {"bad.json", "layers[0].config.units", "positive integer"});
  std::ofstream(path("typo.json")) << R"({"layers": [{"class_name": "Dense", "config": {"unit": 4}}]})";
  expect_user_error("train " + common + " --model-config typo.json --output x.xdm",
                    {"typo.json", "unit", "unknown key"});
}

// ---------------------------------------------------------------- IDX and NPY

void write_be32(std::ofstream& out, std::uint32_t v) {
  const unsigned char bytes[4] = {static_cast<unsigned char>(v >> 24), static_cast<unsigned char>(v >> 16),
                                  static_cast<unsigned char>(v >> 8), static_cast<unsigned char>(v)};
  out.write(reinterpret_cast<const char*>(bytes), 4);
}

// 40 images of 2x2 pixels: class 1 when the top-left pixel is bright.
void write_idx_pair(const fs::path& images, const fs::path& labels, std::size_t count, std::size_t label_count) {
  std::ofstream im(images, std::ios::binary), lb(labels, std::ios::binary);
  write_be32(im, 0x803);
  write_be32(im, static_cast<std::uint32_t>(count));
  write_be32(im, 2);
  write_be32(im, 2);
  write_be32(lb, 0x801);
  write_be32(lb, static_cast<std::uint32_t>(label_count));
  for (std::size_t i = 0; i < count; ++i) {
    const unsigned char bright = (i % 2) ? 250 : 10;
    const unsigned char pixels[4] = {bright, static_cast<unsigned char>(i * 7), 128, static_cast<unsigned char>(i * 3)};
    im.write(reinterpret_cast<const char*>(pixels), 4);
  }
  for (std::size_t i = 0; i < label_count; ++i) lb.put(static_cast<char>(i % 2));
}

TEST_F(Cli, TrainsOnIdxAndNpyFiles) {
  write_idx_pair(path("img-idx3-ubyte"), path("lbl-idx1-ubyte"), 40, 40);
  CommandResult run = xdense(
      "train --data img-idx3-ubyte --labels lbl-idx1-ubyte --layers 4:tanh,1:sigmoid --loss bce "
      "--optimizer adam --lr 0.05 --epochs 60 --batch-size 8 --output idx.xdm --quiet");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  run = xdense("evaluate --json --model idx.xdm --data img-idx3-ubyte --labels lbl-idx1-ubyte");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(nlohmann::json::parse(run.out).at("accuracy").get<double>(), 1.0);

  std::vector<float> features(40 * 3), labels(40);
  for (std::size_t i = 0; i < 40; ++i) {
    features[i * 3] = static_cast<float>(i % 3);
    features[i * 3 + 1] = 0.5f;
    features[i * 3 + 2] = static_cast<float>(i) / 40;
    labels[i] = static_cast<float>(i % 3);
  }
  xdense::save_npy(path("x.npy").string(), features.data(), {40, 3});
  xdense::save_npy(path("y.npy").string(), labels.data(), {40});
  run = xdense(
      "train --data x.npy --labels y.npy --layers 16:relu,3:softmax --loss sparse_categorical_crossentropy "
      "--optimizer adam --lr 0.05 --epochs 80 --batch-size 8 --output npy.xdm --quiet");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  run = xdense("predict --model npy.xdm --data x.npy");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out.substr(0, run.out.find('\n')), "label,p_0,p_1,p_2");
}

TEST_F(Cli, FashionMnistShirtPairTrainsAsABinaryTask) {
  if (!fs::exists(fashion + "/t10k-images-idx3-ubyte.gz")) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  // The 10,000-image test file keeps this quick: 2,000 images of classes 0 and 6.
  const std::string data =
      "--data " + fashion + "/t10k-images-idx3-ubyte.gz --labels " + fashion + "/t10k-labels-idx1-ubyte.gz";
  CommandResult run = xdense("train " + data +
                             " --classes 0,6 --layers 32:relu,1:sigmoid --loss binary_crossentropy --optimizer adam "
                             "--epochs 3 --batch-size 64 --validation-split 0.2 --output pair.xdm --quiet");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  run = xdense("evaluate --json --model pair.xdm " + data);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto json = nlohmann::json::parse(run.out);
  EXPECT_EQ(json.at("samples").get<int>(), 2000);
  EXPECT_GT(json.at("accuracy").get<double>(), 0.75);
  EXPECT_EQ(json.at("classes"), nlohmann::json::array({"0", "6"}));
}

// ---------------------------------------------------------------- bad input

TEST_F(Cli, BadDataFilesFailWithOneLineNamingTheFileAndNoOutput) {
  std::ofstream(path("keep.xdm")) << "previous model";
  const std::string model =
      "--layers 4:relu,1:sigmoid --loss bce --optimizer adam --epochs 1 --batch-size 4 --output keep.xdm";
  auto check = [&](const std::string& file, const std::string& content, const std::vector<std::string>& fragments,
                   const std::string& extra = "") {
    std::ofstream(path(file), std::ios::binary) << content;
    expect_user_error("train --data " + file + " " + extra + " " + model, fragments);
    EXPECT_EQ(read_file(path("keep.xdm")), "previous model");
  };
  expect_user_error("train --data missing.csv " + model, {"missing.csv", "No such file"});
  check("ragged.csv", "a,b,y\n1,2,0\n3,1\n", {"ragged.csv:3", "expected 3 fields, found 2"});
  check("text.csv", "a,b,y\n1,2,0\n3,abc,1\n", {"text.csv:3", "column 'b'", "'abc' is not a number"});
  check("nan.csv", "a,b,y\n1,2,0\n3,nan,1\n", {"nan.csv:3", "column 'b'", "NaN/Inf"});
  check("inf.csv", "a,b,y\n1,inf,0\n3,1,1\n", {"inf.csv:2", "NaN/Inf"});
  check("header.csv", "a,b,y\n", {"header.csv", "header only"});
  check("label.csv", "a,b,y\n1,2,0\n3,4,1\n", {"label.csv", "unknown label column 'z'"}, "--label-column z");
  check("three.csv", "a,y\n1,0\n2,1\n3,2\n", {"three.csv", "3 classes", "1 unit"});

  std::ofstream(path("wrong-idx1-ubyte"), std::ios::binary) << std::string("\x00\x00\x08\x05", 4);
  write_idx_pair(path("img-idx3-ubyte"), path("lbl-idx1-ubyte"), 10, 9);
  expect_user_error("train --data img-idx3-ubyte --labels lbl-idx1-ubyte " + model,
                    {"lbl-idx1-ubyte", "9 labels", "10 samples"});
  std::ofstream(path("magic-idx3-ubyte"), std::ios::binary) << "PK\x03\x04 not idx at all";
  expect_user_error("train --data magic-idx3-ubyte --labels lbl-idx1-ubyte " + model, {"magic-idx3-ubyte"});
  const std::string good = read_file(path("img-idx3-ubyte"));
  std::ofstream(path("cut-idx3-ubyte"), std::ios::binary) << good.substr(0, good.size() - 5);
  expect_user_error("train --data cut-idx3-ubyte --labels lbl-idx1-ubyte " + model, {"cut-idx3-ubyte", "truncated"});
  expect_user_error("train --data img-idx3-ubyte " + model, {"img-idx3-ubyte", "--labels"});
  EXPECT_EQ(read_file(path("keep.xdm")), "previous model");
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
  }
}

TEST_F(Cli, BadSettingsFailBeforeAnyWork) {
  const std::string data = "--data " + data_dir + "/iris.csv --batch-size 8 --output out.xdm ";
  expect_user_error("train " + data + "--layers 3:swoosh --loss cce --optimizer adam --epochs 1",
                    {"unknown activation 'swoosh'"});
  expect_user_error("train " + data + "--layers 3:softmax --loss hinge_embedding --optimizer adam --epochs 1",
                    {"unknown loss 'hinge_embedding'"});
  expect_user_error("train " + data + "--layers 3:softmax --loss cce --optimizer lion --epochs 1",
                    {"unknown optimizer 'lion'"});
  expect_user_error("train " + data + "--layers 1:sigmoid --loss categorical_crossentropy --optimizer adam --epochs 1",
                    {"categorical_crossentropy", "1 unit"});
  expect_user_error("train " + data + "--layers 3:softmax --loss binary_crossentropy --optimizer adam --epochs 1",
                    {"binary_crossentropy", "softmax"});
  expect_user_error("train " + data + "--layers 3:softmax --loss cce --optimizer adam --epochs 0",
                    {"--epochs", "received 0"});
  expect_user_error("train " + data + "--layers 3:softmax --loss cce --optimizer adam --epochs -3",
                    {"--epochs", "received -3"});
  expect_user_error("train --data " + data_dir +
                        "/iris.csv --batch-size 0 --output o.xdm --layers 3:softmax --loss cce "
                        "--optimizer adam --epochs 1",
                    {"--batch-size", "received 0"});
  expect_user_error("train " + data + "--layers 3:softmax --loss cce --optimizer adam --epochs 1 --lr 0",
                    {"learning rate", "0"});
  expect_user_error("train " + data + "--layers 3:softmax --loss cce --optimizer sgd --epochs 1 --lr -0.1",
                    {"learning rate", "-0.1"});
  expect_user_error("train " + data + "--layers 3:softmax --loss cce --optimizer adam --epochs 1 --validation-split 1",
                    {"--validation-split", "(0, 1)"});
  expect_user_error("train " + data + "--layers 3:softmax --loss cce --optimizer adam --epochs 1 --validation-split 0",
                    {"--validation-split"});
  expect_user_error("train " + data + "--layers 3:softmax --loss cce --optimizer adam --epochs 1 --seed -4",
                    {"--seed"});
  expect_user_error("train " + data + "--loss cce --optimizer adam --epochs 1", {"--layers", "--model-config"});
  expect_user_error("train " + data + "--layers 0:relu,3:softmax --loss cce --optimizer adam --epochs 1",
                    {"positive number of units"});
  expect_user_error("train --data " + data_dir +
                        "/iris.csv --layers 3:softmax --loss cce --optimizer adam --epochs 1 "
                        "--batch-size 8 --output no/such/dir/out.xdm",
                    {"no/such/dir/out.xdm", "does not exist"});
  expect_user_error("frobnicate", {"frobnicate"});
  expect_user_error("train " + data + "--layers 3:softmax --loss cce --optimizer adam --epochs 1 --threads 0",
                    {"--threads", "0"});
  expect_user_error("evaluate --model m.xdm --data " + data_dir + "/iris.csv --threads -2", {"--threads"});
  expect_only_files({});
}

TEST_F(Cli, ThreadCountIsHonouredAndRepeatsResults) {
  // Same seed and thread count: the same weights, bit for bit, at 1 and at 2 threads.
  // (The model files themselves differ in their creation time; the exported .npy files
  // hold the weights alone.)
  for (const std::string threads : {"1", "2"}) {
    for (const std::string run : {"a", "b"}) {
      train_cancer(run + threads + ".xdm", "--threads " + threads);
      const CommandResult exported = xdense("export --model " + run + threads + ".xdm --npy " + run + threads);
      ASSERT_EQ(exported.exit_code, 0) << exported.err;
    }
    for (const char* file : {"dense_0_kernel.npy", "dense_0_bias.npy", "dense_1_kernel.npy", "dense_1_bias.npy"}) {
      const std::string first = read_file(path("a" + threads + "/" + file));
      EXPECT_FALSE(first.empty()) << file;
      EXPECT_EQ(first, read_file(path("b" + threads + "/" + file))) << threads << " threads, " << file;
    }
  }
  const CommandResult evaluate =
      xdense("evaluate --model a1.xdm --data " + data_dir + "/breast_cancer.csv --json --threads 1");
  ASSERT_EQ(evaluate.exit_code, 0) << evaluate.err;
  EXPECT_GT(nlohmann::json::parse(evaluate.out).at("accuracy").get<double>(), 0.95);
}

TEST_F(Cli, LabelsOutOfRangeForTheModelAreRejected) {
  ASSERT_EQ(xdense("train --data " + data_dir +
                   "/iris.csv --classes setosa,versicolor --layers 1:sigmoid --loss bce "
                   "--optimizer adam --epochs 1 --batch-size 8 --output pair.xdm --quiet")
                .exit_code,
            0);
  std::ofstream(path("other.csv"))
      << "sepal_length,sepal_width,petal_length,petal_width,species\n5,3,1,0.2,setosa\n5,3,1,0.2,daisy\n";
  // Trained on a --classes subset: other classes are skipped, with a note, not an error...
  EXPECT_EQ(xdense("evaluate --model pair.xdm --data other.csv").exit_code, 0);
  // ...but a model trained on all its classes rejects an unknown one.
  ASSERT_EQ(xdense("train --data " + data_dir +
                   "/iris.csv --layers 3:softmax --loss cce --optimizer adam --epochs 1 "
                   "--batch-size 8 --output all.xdm --quiet")
                .exit_code,
            0);
  expect_user_error("evaluate --model all.xdm --data other.csv",
                    {"other.csv", "'daisy'", "not one of the model's classes"});
  expect_user_error("evaluate --model all.xdm --data " + data_dir + "/breast_cancer.csv",
                    {"breast_cancer.csv", "missing feature columns sepal_length, sepal_width"});
}

TEST_F(Cli, CorruptedModelFilesAreRejected) {
  train_cancer("m.xdm", "--quiet");
  const std::string good = read_file(path("m.xdm"));
  const std::string data = " --data " + data_dir + "/breast_cancer.csv";
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(path(name), std::ios::binary) << bytes;
  };
  write("truncated.xdm", good.substr(0, good.size() / 2));
  expect_user_error("evaluate --model truncated.xdm" + data, {"truncated.xdm", "truncated"});
  std::string flipped = good;
  flipped[good.size() / 2] = static_cast<char>(flipped[good.size() / 2] ^ 0x10);
  write("flipped.xdm", flipped);
  expect_user_error("evaluate --model flipped.xdm" + data, {"flipped.xdm", "checksum"});
  std::string magic = good;
  magic[0] = 'Y';
  write("magic.xdm", magic);
  expect_user_error("summary --model magic.xdm", {"magic.xdm", "not an xdense model file"});
  std::string future = good;
  future[8] = 9;  // format version (u32, little-endian) follows the 8-byte magic
  write("future.xdm", future);
  expect_user_error("predict --model future.xdm" + data, {"future.xdm", "newer"});
  expect_user_error("export --model missing.xdm --npy out", {"missing.xdm"});
  EXPECT_FALSE(fs::exists(path("out")));
}

TEST_F(Cli, HelpExplainsEverySubcommandWithAnExample) {
  for (const char* command : {"", "train", "evaluate", "predict", "summary", "export"}) {
    const CommandResult run = xdense(std::string(command) + " --help");
    EXPECT_EQ(run.exit_code, 0) << command;
    EXPECT_NE(run.out.find("example"), std::string::npos) << command << "\n" << run.out;
  }
  const CommandResult train = xdense("train --help");
  for (const char* flag :
       {"--data",       "--labels",      "--label-column", "--test",         "--layers",           "--model-config",
        "--loss",       "--optimizer",   "--lr",           "--momentum",     "--nesterov",         "--beta1",
        "--beta2",      "--epsilon",     "--epochs",       "--batch-size",   "--validation-split", "--seed",
        "--no-shuffle", "--standardize", "--classes",      "--init-weights", "--output",           "--history",
        "--quiet",      "--rho",         "--initial-accumulator", "--weight-decay", "--clipnorm", "--clipvalue",
        "--global-clipnorm", "--label-smoothing", "--init", "--kernel-regularizer", "rmsprop", "adamw", "dropout(0.3)"}) {
    EXPECT_NE(train.out.find(flag), std::string::npos) << flag;
  }
}

TEST_F(Cli, OptimizerFlagsApplyToTheirOwnOptimizerAndMustBeFinite) {
  const std::string train = "train --data " + data_dir +
                            "/iris.csv --layers 3:softmax --loss cce --epochs 1 --batch-size 8 --output out.xdm --quiet ";
  expect_user_error(train + "--optimizer sgd --beta1 0.8", {"--beta1 applies to --optimizer adam, ", "nadam, not sgd"});
  expect_user_error(train + "--optimizer adam --momentum 0.9", {"--momentum applies to --optimizer rmsprop or sgd, not adam"});
  // Every flag the optimizer does not take, in one line; which optimizers take it is the registry's to say.
  expect_user_error(train + "--optimizer adam --rho 0.9 --initial-accumulator 0.2",
                    {"--rho applies to --optimizer rmsprop only, not adam; "
                     "--initial-accumulator applies to --optimizer adagrad only, not adam"});
  expect_user_error(train + "--optimizer sgd --epsilon 1e-6", {"--epsilon applies to --optimizer adagrad, adam, ", ", not sgd"});
  expect_user_error(train + "--optimizer adam --clipnorm 1 --clipvalue 1", {"only one of clipnorm, clipvalue and global_clipnorm"});
  expect_user_error(train + "--optimizer rmsprop --rho 1.5", {"rho"});
  expect_user_error(train + "--optimizer sgd --nesterov", {"--nesterov needs --momentum > 0"});
  expect_user_error(train + "--optimizer sgd --lr nan", {"--lr: expected a finite number, received nan"});
  expect_user_error(train + "--optimizer adam --beta2 inf", {"--beta2: expected a finite number, received inf"});
  expect_user_error(train + "--optimizer sgd --momentum 1", {"SGD: momentum must be in [0, 1), received momentum=1"});
  expect_only_files({});
  // The flags given reach the optimizer: summary shows its config.
  EXPECT_EQ(xdense(train + "--optimizer sgd --lr 0.05 --momentum 0.5 --nesterov").exit_code, 0);
  const CommandResult summary = xdense("summary --model out.xdm");
  EXPECT_NE(summary.out.find("learning_rate=0.05, momentum=0.5, nesterov=true"), std::string::npos) << summary.out;
}

// Any key of any registered optimizer's config, without a flag of its own: what a new optimizer's
// settings need from the command line. Its config reader names a key it does not have.
TEST_F(Cli, OptimizerOptionsSetAnyKeyOfTheOptimizersConfig) {
  const std::string train = "train --data " + data_dir +
                            "/iris.csv --layers 3:softmax --loss cce --epochs 1 --batch-size 8 --output out.xdm --quiet ";
  expect_user_error(train + "--optimizer adam --optimizer-option rho=0.9",
                    {"Adam config: \"rho\": unknown key (expected one of: ", "beta_1, beta_2, "});
  expect_user_error(train + "--optimizer adam --optimizer-option rho", {"--optimizer-option: expected KEY=VALUE"});
  expect_user_error(train + "--optimizer adam --lr 0.1 --optimizer-option learning_rate=0.2",
                    {"--optimizer-option: 'learning_rate' is given twice"});
  expect_user_error(train + "--optimizer sgd --optimizer-option nesterov=yes",
                    {"SGD config: \"nesterov\": expected true or false"});
  expect_only_files({});
  EXPECT_EQ(xdense(train + "--optimizer adam --optimizer-option beta_2=0.99 --optimizer-option epsilon=1e-6").exit_code, 0);
  const CommandResult summary = xdense("summary --model out.xdm");
  EXPECT_NE(summary.out.find("learning_rate=0.001, beta_1=0.9, beta_2=0.99, epsilon=1e-06"), std::string::npos)
      << summary.out;
}

TEST_F(Cli, EverySubcommandInTheHelpRunsItsOwnHelpAndIsNamedInTheMessages) {
  // The names under "Subcommands:" in xdense --help: lines of two spaces and a name.
  const CommandResult help = xdense("--help");
  ASSERT_EQ(help.exit_code, 0);
  std::istringstream lines(help.out.substr(help.out.find("Subcommands:")));
  std::vector<std::string> names;
  for (std::string line; std::getline(lines, line);) {
    if (line.size() > 2 && line.compare(0, 2, "  ") == 0 && line[2] != ' ') names.push_back(line.substr(2, line.find(' ', 2) - 2));
  }
  ASSERT_GE(names.size(), 7u) << help.out;
  std::string list;
  for (const std::string& name : names) {
    list += (list.empty() ? "" : ", ") + name;
    const CommandResult run = xdense(name + " --help");
    EXPECT_EQ(run.exit_code, 0) << name << "\n" << run.err;
    EXPECT_NE(run.out.find("Usage:"), std::string::npos) << name << "\n" << run.out;
    EXPECT_NE(run.out.find(" " + name + " "), std::string::npos) << name << "\n" << run.out;
  }
  // The messages for no command and an unknown one list the same names, in the same order.
  expect_user_error("", {"expected a command: " + list + " "});
  expect_user_error("frobnicate", {"unknown command 'frobnicate' (expected one of: " + list + ";"});
}

}  // namespace

// ---------------------------------------------------------------- checkpoints

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "xdense/checkpoint.hpp"
#include "xdense/error.hpp"

namespace {

// Starts `xdense ARGS...` in `dir` without waiting; output discarded.
pid_t spawn(const fs::path& dir, const std::vector<std::string>& args) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::chdir(dir.c_str()) != 0) ::_exit(127);
    std::FILE* null = std::fopen("/dev/null", "w");
    if (null != nullptr) {
      ::dup2(::fileno(null), 1);
      ::dup2(::fileno(null), 2);
    }
    std::vector<char*> argv{const_cast<char*>(XDENSE_CLI)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(XDENSE_CLI, argv.data());
    ::_exit(127);
  }
  return pid;
}

// Kills and reaps a spawned run when a failed assertion leaves the test early (the runs killed
// below train for up to 1,000,000 epochs); release() once the test has reaped it itself.
class Reaper {
 public:
  explicit Reaper(pid_t pid) : pid_(pid) {}
  Reaper(const Reaper&) = delete;
  Reaper& operator=(const Reaper&) = delete;
  ~Reaper() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  void release() { pid_ = 0; }

 private:
  pid_t pid_;
};

std::vector<std::string> split_args(const std::string& text) {
  std::vector<std::string> args;
  std::istringstream in(text);
  for (std::string a; in >> a;) args.push_back(a);
  return args;
}

// 20,000 samples of 32 features whose label is the sign of a product of two: an epoch of
// hundreds of steps, so a kill soon after a checkpoint most likely lands mid-epoch.
void write_large_npy(const fs::path& dir) {
  const std::size_t n = 20000, f = 32;
  std::vector<float> x(n * f), y(n);
  std::uint64_t state = 12345;
  for (float& v : x) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    v = static_cast<float>(state >> 40) / static_cast<float>(1 << 24) - 0.5f;
  }
  for (std::size_t i = 0; i < n; ++i) y[i] = x[i * f] * x[i * f + 1] > 0 ? 1.0f : 0.0f;
  xdense::save_npy((dir / "x.npy").string(), x.data(), {n, f});
  xdense::save_npy((dir / "y.npy").string(), y.data(), {n});
}

bool wait_for(const fs::path& file, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!fs::exists(file)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

TEST_F(Cli, KilledRunResumesToABitIdenticalModel) {
  write_large_npy(dir_);
  const std::string settings =
      "train --data x.npy --labels y.npy --layers 128:relu,128:relu,1:sigmoid --loss bce "
      "--optimizer adam --batch-size 32 --validation-split 0.1 --standardize --quiet";
  // A run of the most epochs the tool accepts, killed with SIGKILL soon after its first
  // checkpoint: it cannot have finished, however fast the machine (no epoch count a resume
  // reaches is near 1,000,000). The run is stopped first so the test sees it alive when it kills.
  const pid_t pid = spawn(dir_, split_args(settings + " --epochs 1000000 --output killed.xdm --checkpoint ck"));
  Reaper reaper(pid);
  ASSERT_TRUE(wait_for(path("ck/checkpoint.xdc"), std::chrono::seconds(120)));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(::kill(pid, SIGSTOP), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, WUNTRACED), pid);
  ASSERT_TRUE(WIFSTOPPED(status)) << "the run ended before it could be killed, status " << status;
  ::kill(pid, SIGKILL);
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  reaper.release();
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_FALSE(fs::exists(path("killed.xdm")));
  const xdense::Checkpoint at_kill = xdense::load_checkpoint(path("ck/checkpoint.xdc").string());
  ASSERT_GE(at_kill.state.epochs_done, 1u);

  // Resumed to two epochs past the checkpoint (only --epochs may change), it gives the model an
  // uninterrupted run of as many epochs gives, byte for byte.
  const std::string run = settings + " --epochs " + std::to_string(at_kill.state.epochs_done + 2);
  ASSERT_EQ(xdense(run + " --output straight.xdm").exit_code, 0);
  ASSERT_EQ(xdense("export --model straight.xdm --npy straight").exit_code, 0);
  const CommandResult resumed = xdense(run + " --output killed.xdm --checkpoint ck --resume ck");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  ASSERT_EQ(xdense("export --model killed.xdm --npy resumed").exit_code, 0);
  for (const char* file : {"dense_0_kernel.npy", "dense_1_kernel.npy", "dense_2_kernel.npy", "dense_2_bias.npy"}) {
    EXPECT_EQ(read_file(path(std::string("straight/") + file)), read_file(path(std::string("resumed/") + file)))
        << file << " differs after resuming from epoch " << at_kill.state.epochs_done;
  }
  // Other settings are refused rather than silently mixed.
  std::string other = run;
  other.replace(other.find("--batch-size 32"), 15, "--batch-size 64");
  expect_user_error(other + " --output other.xdm --resume ck", {"--resume ck", "other settings"});
}

TEST_F(Cli, KillDuringCheckpointSavesNeverLeavesABrokenCheckpoint) {
  // Tiny epochs: a checkpoint is written every few milliseconds, so kills land during saves; the
  // most epochs the tool accepts, so no run ends (writing never.xdm) before its kill.
  const std::string run = "train --data " + data_dir +
                          "/iris.csv --layers 64:relu,3:softmax --loss cce --optimizer adam "
                          "--epochs 1000000 --batch-size 150 --quiet --output never.xdm --checkpoint ck";
  std::uint64_t state = 99;
  for (int round = 0; round < 12; ++round) {
    const pid_t pid = spawn(dir_, split_args(run));
    Reaper reaper(pid);
    if (round == 0) {
      ASSERT_TRUE(wait_for(path("ck/checkpoint.xdc"), std::chrono::seconds(60)));
    }
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    std::this_thread::sleep_for(std::chrono::microseconds(20000 + (state >> 40) % 30000));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    reaper.release();
    EXPECT_NO_THROW(xdense::load_checkpoint(path("ck/checkpoint.xdc").string())) << "round " << round;
  }
  EXPECT_FALSE(fs::exists(path("never.xdm")));
}

TEST_F(Cli, DivergingRunExitsWithCode3AndWritesNoModel) {
  std::ofstream(path("keep.xdm")) << "previous";
  const CommandResult run = xdense("train --data " + data_dir +
                                   "/breast_cancer.csv --layers 16:relu,1 --loss mse "
                                   "--optimizer sgd --lr 1e6 --epochs 5 --batch-size 32 --output keep.xdm --quiet");
  EXPECT_EQ(run.exit_code, 3) << run.err;
  EXPECT_EQ(count_lines(run.err), 1u) << run.err;
  for (const char* s : {"diverged", "epoch 1", "batch", "learning rate (1e+06)", "keep.xdm was not written"}) {
    EXPECT_NE(run.err.find(s), std::string::npos) << s << " in " << run.err;
  }
  EXPECT_EQ(read_file(path("keep.xdm")), "previous");
}

}  // namespace
