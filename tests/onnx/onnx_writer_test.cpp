// The ONNX writer (include/xdense/onnx.hpp, src/onnx/): golden bytes against files written by the
// ONNX reference implementation (tests/fixtures/onnx/make_golden_models.py), the layers' ONNX forms
// run in ONNX Runtime against predict(), the ONNX checker on every model exported here, refusals,
// and the atomic write.

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "onnx/onnx_checker.hpp"
#include "onnx/onnx_runtime.hpp"
#include "xdense/activation.hpp"
#include "xdense/dense.hpp"
#include "xdense/error.hpp"
#include "xdense/layers/batch_normalization.hpp"
#include "xdense/layers/dropout.hpp"
#include "xdense/layers/layer_normalization.hpp"
#include "xdense/model_file.hpp"
#include "xdense/onnx.hpp"
#include "xdense/random.hpp"
#include "xdense/sequential.hpp"

namespace xdense {
namespace {

namespace fs = std::filesystem;

const fs::path fixtures = XDENSE_ONNX_FIXTURES;  // tests/fixtures/onnx

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

/// "2.38e-06": a difference recorded as a test property (--gtest_output=xml shows it).
std::string scientific(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", value);
  return text;
}

/// A fresh folder per test, removed afterwards.
class OnnxWriter : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           ("xdense_onnx_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path path(const std::string& name) const { return dir_ / name; }
  std::vector<std::string> folder_entries() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) names.push_back(entry.path().filename().string());
    return names;
  }
  fs::path dir_;
};

/// The checker's verdict on `bytes` (nothing without the checker: CheckerIsAvailable says so).
void expect_checker_passes(const std::string& bytes) {
  EXPECT_EQ(test::onnx_checker_problem(bytes), "");
}

/// Index of the first byte where `a` and `b` differ (their common length when one is a prefix).
std::size_t first_difference(const std::string& a, const std::string& b) {
  std::size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  return i;
}

Vector vector_of(const std::vector<float>& values) {
  Vector v = Vector::from_shape({values.size()});
  std::copy(values.begin(), values.end(), v.begin());
  return v;
}

std::unique_ptr<Dense> dense_without_bias(std::size_t units) {
  DenseOptions options;
  options.use_bias = false;
  return std::make_unique<Dense>(units, 0, options);
}

/// The model of make_golden_models.py's tiny_classifier(): standardizer, Dense 2 -> 3 -> 1, sigmoid.
SavedModel tiny_classifier() {
  SavedModel saved;
  saved.model.add(std::make_unique<Dense>(3)).add(std::make_unique<Dense>(1)).add("sigmoid");
  saved.model.build(2);
  saved.model.set_weights({{0.5f, -1.0f, 0.25f, 2.0f, 0.75f, -0.5f}, {0.125f, 0.0f, -0.375f}, {1.5f, -0.5f, 0.25f},
                           {-0.0625f}});
  saved.info.task = "classification";
  saved.info.feature_names = {"petal length", "petal width"};
  saved.info.class_names = {"no", "yes"};
  saved.info.standardizer = Standardizer(vector_of({1.5f, -0.25f}), vector_of({2.0f, 0.5f}));
  return saved;
}

/// The model of make_golden_models.py's regression_layers(): every layer with an ONNX form of its own.
SavedModel regression_layers() {
  SavedModel saved;
  saved.model.add(std::make_unique<Dense>(3))
      .add(std::make_unique<BatchNormalization>())
      .add(std::make_unique<Dropout>(0.5))
      .add(std::make_unique<LayerNormalization>())
      .add(dense_without_bias(1));
  saved.model.build(2);
  saved.model.set_weights({{0.5f, -1.0f, 0.25f, 2.0f, 0.75f, -0.5f},
                           {0.125f, 0.0f, -0.375f},
                           {1.5f, 0.5f, 2.0f},     // gamma
                           {0.25f, -0.5f, 0.0f},   // beta
                           {0.5f, -0.25f, 1.0f},   // moving mean
                           {4.0f, 0.25f, 1.0f},    // moving variance
                           {0.75f, 1.25f, -1.0f},  // layer normalization gamma
                           {0.0f, 0.5f, -0.125f},  // beta
                           {1.5f, -0.5f, 0.25f}});
  saved.info.task = "regression";
  saved.info.feature_names = {"x1", "x,2 \"quoted\""};
  saved.info.target_names = {"price"};
  saved.info.standardizer = Standardizer(vector_of({1.0f, -2.0f}), vector_of({2.0f, 0.5f}));
  saved.info.target_standardizer = Standardizer(vector_of({10.0f}), vector_of({4.0f}));
  saved.info.metadata = {{"epochs", "5"}};
  return saved;
}

/// What `xdense predict` gives for raw x: standardized, predicted, targets unstandardized.
Matrix predict_raw(SavedModel& saved, const Matrix& x) {
  Matrix in = saved.info.standardizer ? saved.info.standardizer->transform(x) : x;
  Matrix out = saved.model.predict(in);
  if (saved.info.target_standardizer) saved.info.target_standardizer->inverse_transform_in_place(out);
  return out;
}

/// Raw inputs spread over a few units around the standardizer's mean.
Matrix raw_inputs(std::size_t rows, std::size_t cols, std::uint64_t seed) {
  Rng rng(seed);
  Matrix x = Matrix::from_shape({rows, cols});
  for (float& v : x) v = static_cast<float>(rng.uniform(-4.0, 4.0));
  return x;
}

TEST(OnnxChecker, CheckerIsAvailable) {
  if (!test::onnx_checker_available()) GTEST_SKIP() << test::onnx_checker_missing();
  EXPECT_NE(test::onnx_checker_problem("not a model"), "");
}

TEST_F(OnnxWriter, WritesTheBytesOfTheReferenceImplementationForEveryLayer) {
  SavedModel saved = regression_layers();
  const std::string bytes = to_onnx(saved.model, saved.info);
  const std::string expected = read_bytes(fixtures / "regression_layers.onnx");
  ASSERT_FALSE(expected.empty()) << "missing fixture regression_layers.onnx";
  EXPECT_EQ(bytes.size(), expected.size());
  EXPECT_TRUE(bytes == expected) << "first difference at byte " << first_difference(bytes, expected)
                                 << " (regenerate with tests/fixtures/onnx/make_golden_models.py after a "
                                    "deliberate change)";
  expect_checker_passes(bytes);
}

TEST_F(OnnxWriter, WritesTheBytesOfTheReferenceImplementationForATinyClassifier) {
  SavedModel saved = tiny_classifier();
  const std::string bytes = to_onnx(saved.model, saved.info);
  const std::string expected = read_bytes(fixtures / "tiny_classifier.onnx");
  ASSERT_FALSE(expected.empty()) << "missing fixture tiny_classifier.onnx";
  EXPECT_EQ(bytes.size(), expected.size());
  EXPECT_TRUE(bytes == expected) << "first difference at byte " << first_difference(bytes, expected);
  expect_checker_passes(bytes);
}

TEST_F(OnnxWriter, GoldenModelsGiveWhatPredictGivesInOnnxRuntime) {
  XDENSE_REQUIRE_ONNX_RUNTIME();
  for (SavedModel (*make)() : {regression_layers, tiny_classifier}) {
    SavedModel saved = make();
    const Matrix x = raw_inputs(64, 2, 7);
    export_onnx(path("model.onnx"), saved.model, saved.info);
    const Matrix onnx = testing::run_onnx(path("model.onnx"), x);
    const Matrix expected = predict_raw(saved, x);
    ASSERT_EQ(onnx.shape(0), expected.shape(0));
    ASSERT_EQ(onnx.shape(1), expected.shape(1));
    const double difference = testing::max_abs_difference(onnx, expected);
    EXPECT_LE(difference, 1e-5) << saved.model.summary();
    ::testing::Test::RecordProperty(saved.info.task + "_max_abs_difference", scientific(difference));
  }
}

/// Random weights and moving statistics for every array of `model` (variances positive).
void randomize(Sequential& model, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<std::vector<float>> weights = model.get_weights();
  for (auto& array : weights)
    for (float& w : array) w = static_cast<float>(rng.uniform(0.2, 1.5)) * (rng.uniform(0.0, 1.0) < 0.3 ? -1.0f : 1.0f);
  for (std::size_t i = 0, w = 0; i < model.layer_count(); ++i) {
    for (const Parameter& p : model.layer(i).weights()) {
      if (p.name == "moving_variance")
        for (float& v : weights[w]) v = std::abs(v);
      ++w;
    }
  }
  model.set_weights(weights);
}

TEST_F(OnnxWriter, LayerOptionsKeepPredictInOnnxRuntime) {
  // Dense without bias, BatchNormalization and LayerNormalization without center or scale, several
  // outputs, no standardizer: each variant checked and run.
  BatchNormalizationOptions bn_plain;
  bn_plain.center = false;
  bn_plain.scale = false;
  bn_plain.epsilon = 1e-5;
  LayerNormalizationOptions ln_scale_only;
  ln_scale_only.center = false;
  LayerNormalizationOptions ln_center_only;
  ln_center_only.scale = false;
  LayerNormalizationOptions ln_plain;
  ln_plain.center = ln_plain.scale = false;
  std::vector<Sequential> models;
  for (int variant = 0; variant < 4; ++variant) {
    Sequential model(11 + variant);
    model.add(variant % 2 == 0 ? dense_without_bias(5) : std::make_unique<Dense>(5));
    if (variant == 0) model.add(std::make_unique<BatchNormalization>(bn_plain));
    if (variant == 1) model.add(std::make_unique<LayerNormalization>(ln_scale_only));
    if (variant == 2) model.add(std::make_unique<LayerNormalization>(ln_center_only));
    if (variant == 3) model.add(std::make_unique<LayerNormalization>(ln_plain));
    model.add(std::make_unique<Dropout>(0.25)).add(std::make_unique<Dense>(3));
    model.build(4);
    randomize(model, 100 + variant);
    models.push_back(std::move(model));
  }
  for (Sequential& model : models) {
    ModelInfo info;
    const std::string bytes = to_onnx(model, info);
    expect_checker_passes(bytes);
    if (!testing::onnx_runtime_setup().missing.empty()) continue;
    write_bytes(path("model.onnx"), bytes);
    const Matrix x = raw_inputs(32, 4, 3);
    const double difference = testing::max_abs_difference(testing::run_onnx(path("model.onnx"), x), model.predict(x));
    EXPECT_LE(difference, 1e-5) << model.summary();
    ::testing::Test::RecordProperty("variant_" + std::to_string(&model - models.data()) + "_max_abs_difference",
                                    scientific(difference));
  }
  XDENSE_REQUIRE_ONNX_RUNTIME();  // the checks above ran; say so when ONNX Runtime did not
}

TEST_F(OnnxWriter, AFashionMnistSizedModelKeepsEveryLength) {
  // A 940 KB kernel: lengths of three varint bytes (the golden files reach two), a softmax output.
  Sequential model(5);
  model.add(std::make_unique<Dense>(300)).add("relu").add(std::make_unique<Dense>(10)).add("softmax");
  model.build(784);
  const std::string bytes = to_onnx(model, ModelInfo{});
  EXPECT_GT(bytes.size(), 4u * (784u * 300u + 300u * 10u));
  expect_checker_passes(bytes);
  XDENSE_REQUIRE_ONNX_RUNTIME();
  write_bytes(path("mlp.onnx"), bytes);
  const Matrix x = raw_inputs(16, 784, 9);
  EXPECT_LE(testing::max_abs_difference(testing::run_onnx(path("mlp.onnx"), x), model.predict(x)), 1e-5);
}

TEST_F(OnnxWriter, AModelThatIsTheIdentityCopiesItsInputToTheOutput) {
  // Dropout writes no node: the output is the graph input itself, given by an Identity node.
  Sequential model;
  model.add(std::make_unique<Dropout>(0.5));
  model.build(3);
  const std::string bytes = to_onnx(model, ModelInfo{});
  EXPECT_NE(bytes.find("Identity"), std::string::npos);
  expect_checker_passes(bytes);
  if (testing::onnx_runtime_setup().missing.empty()) {
    write_bytes(path("identity.onnx"), bytes);
    const Matrix x = raw_inputs(5, 3, 1);
    EXPECT_EQ(testing::max_abs_difference(testing::run_onnx(path("identity.onnx"), x), x), 0.0);
  }
}

/// An activation of a user's with no ONNX form (it does not override to_onnx()).
class Square final : public ElementwiseActivation {
 public:
  std::string type_name() const override { return "Square"; }
  std::string spec() const override { return "square"; }
  float value(float x) const override { return x * x; }
  float gradient(float x, float /*y*/) const override { return 2.0f * x; }
};

TEST_F(OnnxWriter, RefusesALayerWithoutAnOnnxFormNamingItAndLeavesTheFileUntouched) {
  Sequential model;
  model.add(std::make_unique<Dense>(2)).add(std::make_unique<Square>()).add(std::make_unique<Dense>(1));
  model.build(3);
  write_bytes(path("model.onnx"), "the old file");
  try {
    export_onnx(path("model.onnx"), model, ModelInfo{});
    FAIL() << "expected InvalidArgument";
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(std::string(e.what()), "Square (layer square): no ONNX form: xdense cannot export this layer to ONNX");
  }
  EXPECT_EQ(read_bytes(path("model.onnx")), "the old file");
  EXPECT_EQ(folder_entries(), std::vector<std::string>{"model.onnx"});  // no temporary left behind
}

TEST_F(OnnxWriter, RefusesAModelThatIsNotBuilt) {
  Sequential model;
  model.add(std::make_unique<Dense>(2));
  EXPECT_THROW(
      {
        try {
          to_onnx(model, ModelInfo{});
        } catch (const StateError& e) {
          EXPECT_EQ(std::string(e.what()), "to_onnx: the model is not built; call build() or fit() first");
          throw;
        }
      },
      StateError);
  EXPECT_THROW(export_onnx(path("never.onnx"), model, ModelInfo{}), StateError);
  EXPECT_TRUE(folder_entries().empty());
}

TEST_F(OnnxWriter, ReplacesAnExistingFileWithTheModelAtomically) {
  SavedModel saved = regression_layers();
  write_bytes(path("model.onnx"), "the old file");
  export_onnx(path("model.onnx"), saved.model, saved.info);
  EXPECT_EQ(read_bytes(path("model.onnx")), to_onnx(saved.model, saved.info));
  EXPECT_EQ(folder_entries(), std::vector<std::string>{"model.onnx"});
  // A folder that does not exist: DataError naming the path, nothing created.
  EXPECT_THROW(export_onnx(path("missing/model.onnx"), saved.model, saved.info), DataError);
  EXPECT_EQ(folder_entries(), std::vector<std::string>{"model.onnx"});
}

TEST_F(OnnxWriter, RefusesInfoThatDoesNotFitTheModel) {
  const auto message = [](const ModelInfo& info) {
    SavedModel saved = regression_layers();
    try {
      to_onnx(saved.model, info);
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  ModelInfo base = regression_layers().info;
  ModelInfo info = base;
  info.standardizer = Standardizer(vector_of({0.0f, 0.0f, 0.0f}), vector_of({1.0f, 1.0f, 1.0f}));
  EXPECT_EQ(message(info), "to_onnx: a standardizer of 3 features for a model of 2 inputs");
  info = base;
  info.feature_names = {"only one"};
  EXPECT_EQ(message(info), "to_onnx: 1 feature names for a model of 2 inputs");
  info = base;
  info.task = "classification";
  EXPECT_EQ(message(info), "to_onnx: target names or a target standardizer for a classification model");
  info = base;
  info.target_standardizer = Standardizer(vector_of({0.0f, 0.0f}), vector_of({1.0f, 1.0f}));
  EXPECT_EQ(message(info), "to_onnx: a target standardizer of 2 columns for a model of 1 output units");
  info = base;
  info.task = "ranking";
  EXPECT_EQ(message(info), "to_onnx: task 'ranking' (expected classification or regression)");
}

TEST_F(OnnxWriter, MetadataOptionsAddOrReplaceEntries) {
  SavedModel saved = regression_layers();
  OnnxExportOptions options;
  options.metadata = {{"epochs", "7"}, {"owner", "team"}};
  options.graph_name = "prices";
  const std::string bytes = to_onnx(saved.model, saved.info, options);
  expect_checker_passes(bytes);
  // StringStringEntryProto {key 1, value 2}: "\x0a\x06epochs\x12\x01" then the value.
  EXPECT_NE(bytes.find(std::string("\x0a\x06" "epochs" "\x12\x01" "7", 11)), std::string::npos);
  EXPECT_EQ(bytes.find(std::string("\x0a\x06" "epochs" "\x12\x01" "5", 11)), std::string::npos);
  EXPECT_NE(bytes.find(std::string("\x0a\x05" "owner" "\x12\x04" "team", 13)), std::string::npos);
  EXPECT_NE(bytes.find("prices: an xdense model."), std::string::npos);
}

TEST(OnnxGraphTest, GivesUniqueNamesAndChecksWhatNodesRead) {
  OnnxGraph graph;
  EXPECT_EQ(graph.opset(), 13);
  const std::string a = graph.add_initializer("w", {2}, {1.0f, 2.0f});
  const std::string b = graph.add_initializer("w", {}, {3.0f});
  EXPECT_EQ(a, "w");
  EXPECT_EQ(b, "w_1");
  EXPECT_EQ(graph.add("Add", {a, b}, {}, "w"), "w_2");  // nodes and tensors share the names
  const std::vector<std::string> split = graph.add_node("Split", {a}, {OnnxAttribute::integer("axis", 0)}, "", 2);
  EXPECT_EQ(split, (std::vector<std::string>{"Split:0", "Split:1"}));
  EXPECT_THROW(graph.add("Relu", {"nowhere"}), InvalidArgument);
  EXPECT_THROW(graph.add_initializer("bad", {2, 2}, {1.0f}), InvalidArgument);
  EXPECT_THROW(graph.add_int64_initializer("bad", {-1}, {}), InvalidArgument);
  EXPECT_THROW(graph.add("Relu", {a}, {OnnxAttribute::real("x", 1), OnnxAttribute::real("x", 2)}), InvalidArgument);
}

}  // namespace
}  // namespace xdense
