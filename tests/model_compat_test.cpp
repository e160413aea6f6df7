// Compatibility with the model files and checkpoints xdense 0.2 wrote (format version 1): the
// fixtures of tests/fixtures/v1/ were made by that version (README.md there says how). Each must
// load with the same architecture, compile settings and info, predict exactly what 0.2 predicted,
// and each checkpoint must resume to exactly the weights 0.2 reached. Bit for bit on a machine
// like the one that made them (same kernels: platform.txt); within a tolerance on another.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fixtures/v1/v1_support.hpp"
#include "xdense/xdense.hpp"

#define XDENSE_V1_FIXTURES XDENSE_DATA_DIR "/../tests/fixtures/v1"

namespace xdense {
#ifndef XDENSE_BUILD_TYPE
#define XDENSE_BUILD_TYPE "unknown"
#endif

namespace {

namespace fs = std::filesystem;

std::string fixture(const std::string& name) { return std::string(XDENSE_V1_FIXTURES) + "/" + name; }

std::string recorded_platform() {
  std::ifstream in(fixture("platform.txt"));
  std::string line;
  std::getline(in, line);
  return line;
}

class ModelCompat : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    set_num_threads(1);  // as the fixtures were made
    xdense_v1::register_fixture_activations();
  }

  // Bit for bit where the library runs the same kernel version (x86-64-v3 clones or baseline) as
  // on the machine that made the fixtures. OpenBLAS's kernels do not matter here: every product of
  // these small models is one of blas.cpp's own small products, OpenBLAS is never called (README.md).
  static std::string kernels(const std::string& summary) { return summary.substr(0, summary.find(';')); }
  // ...and where the library is built as the fixtures' was (Release, no sanitizer): -O2 or
  // instrumented code may contract multiply-adds differently, which moves last bits.
  static bool same_build() {
#if defined(__SANITIZE_ADDRESS__)
    return false;
#else
    return std::string(XDENSE_BUILD_TYPE) == "Release";
#endif
  }
  static bool exact() {
    return same_build() && kernels(xdense_v1::platform_summary()) == kernels(recorded_platform());
  }

  // Elsewhere, within 1e-5 of max(1, |value|): over ten times what the baseline version differs
  // by (README.md).
  static constexpr double tolerance = 1e-5;

  // `got` equals `expected` (its values in order): bit for bit when exact(), else within tolerance.
  static void expect_values(const std::vector<float>& got, const Matrix& expected, const std::string& what) {
    ASSERT_EQ(got.size(), expected.size()) << what;
    if (exact()) {
      const auto differ = std::mismatch(got.begin(), got.end(), expected.begin(), [](float a, float b) {
        return std::memcmp(&a, &b, sizeof a) == 0;
      });
      EXPECT_TRUE(differ.first == got.end())
          << what << ": value " << (differ.first - got.begin()) << " is "
          << (differ.first == got.end() ? 0.0f : *differ.first) << ", 0.2 computed "
          << (differ.first == got.end() ? 0.0f : *differ.second) << " (bit-for-bit comparison on "
          << recorded_platform() << ")";
    } else {
      for (std::size_t i = 0; i < got.size(); ++i) {
        const double e = expected.data()[i];
        ASSERT_LE(std::fabs(got[i] - e), tolerance * std::max(1.0, std::fabs(e)))
            << what << ": value " << i << " (tolerance mode: this machine is '" << xdense_v1::platform_summary()
            << "', the fixtures' '" << recorded_platform() << "')";
      }
    }
  }

  static void expect_values(const Matrix& got, const Matrix& expected, const std::string& what) {
    ASSERT_EQ(got.shape(0), expected.shape(0)) << what;
    ASSERT_EQ(got.shape(1), expected.shape(1)) << what;
    expect_values(std::vector<float>(got.begin(), got.end()), expected, what);
  }

  // Loads `model`, predicts `inputs` and compares with the stored predictions; then saves the
  // model with the current writer, loads it back and compares again (a v1 file converts losslessly).
  static SavedModel check_predictions(const std::string& model, const std::string& inputs, const std::string& expected) {
    SavedModel saved = load_model(fixture(model));
    const Matrix x = load_npy(fixture(inputs));
    const Matrix want = load_npy(fixture(expected));
    expect_values(xdense_v1::predictions(saved, x), want, model);

    const fs::path dir = fs::path(::testing::TempDir()) / "xdense_model_compat_test";
    fs::create_directories(dir);
    const std::string copy = (dir / model).string();
    save_model(copy, saved.model, saved.info);
    SavedModel again = load_model(copy);
    expect_values(xdense_v1::predictions(again, x), want, model + " saved again");
    EXPECT_EQ(again.info.class_names, saved.info.class_names);
    EXPECT_EQ(again.info.feature_names, saved.info.feature_names);
    EXPECT_EQ(again.info.metadata, saved.info.metadata);
    return saved;
  }

  // Loads ckpt_<run>/checkpoint.xdc (2 epochs done), compares its model's predictions for `x`,
  // resumes it on `x`, `y` to epoch 4 and compares the weights reached.
  static Checkpoint check_checkpoint(const std::string& run, const std::string& x, const std::string& y) {
    const std::string file = fixture("ckpt_" + run + "/checkpoint.xdc");
    Checkpoint checkpoint = load_checkpoint(file);
    EXPECT_EQ(checkpoint.state.epochs_done, 2u);
    EXPECT_FALSE(checkpoint.state.rng_state.empty());
    EXPECT_EQ(checkpoint.state.history.epochs.size(), 2u);
    EXPECT_EQ(checkpoint.state.history.epochs.empty() ? 0u : checkpoint.state.history.epochs.back().epoch, 2u);
    expect_values(xdense_v1::predictions(checkpoint.saved, load_npy(fixture(x))),
                  load_npy(fixture("expected_ckpt_" + run + "_epoch2.npy")), "ckpt_" + run + " model");
    Sequential resumed = xdense_v1::resume(file, fixture(x), fixture(y), 4);
    expect_values(xdense_v1::dense_weights(resumed), load_npy(fixture("expected_ckpt_" + run + "_final_weights.npy")),
                  "ckpt_" + run + " resumed to epoch 4");
    return checkpoint;
  }
};

// The layers' summary: type name, and the spec of each activation.
std::vector<std::string> layer_specs(const Sequential& model) {
  std::vector<std::string> specs;
  for (std::size_t i = 0; i < model.layer_count(); ++i) {
    const Layer& layer = model.layer(i);
    if (const auto* dense = dynamic_cast<const Dense*>(&layer)) {
      specs.push_back("Dense(" + std::to_string(dense->input_units()) + "->" + std::to_string(dense->output_units()) +
                      (dense->options().use_bias ? "" : ", no bias") + ", " + dense->options().kernel_initializer.name() +
                      ", " + dense->options().bias_initializer.name() + ")");
    } else if (const auto* activation = dynamic_cast<const Activation*>(&layer)) {
      specs.push_back(activation->spec());
    } else {
      specs.push_back("? " + layer.type_name());
    }
  }
  return specs;
}

const Dense& dense_layer(const Sequential& model, std::size_t index) {
  return dynamic_cast<const Dense&>(model.layer(index));
}

std::string meta(const SavedModel& saved, const std::string& key) { return xdense_v1::metadata(saved.info, key); }

void expect_adam(Sequential& model, float learning_rate, float beta1, float beta2, float epsilon) {
  const auto* adam = dynamic_cast<const Adam*>(model.optimizer());
  ASSERT_NE(adam, nullptr);
  EXPECT_EQ(adam->options().learning_rate, learning_rate);
  EXPECT_EQ(adam->options().beta1, beta1);
  EXPECT_EQ(adam->options().beta2, beta2);
  EXPECT_EQ(adam->options().epsilon, epsilon);
}

void expect_sgd(Sequential& model, float learning_rate, float momentum, bool nesterov) {
  const auto* sgd = dynamic_cast<const SGD*>(model.optimizer());
  ASSERT_NE(sgd, nullptr);
  EXPECT_EQ(sgd->options().learning_rate, learning_rate);
  EXPECT_EQ(sgd->options().momentum, momentum);
  EXPECT_EQ(sgd->options().nesterov, nesterov);
}

TEST_F(ModelCompat, FixturesArePresent) {
  for (const char* name : {"platform.txt", "cancer.xdm", "iris.xdm", "synth_mse.xdm", "step_ste.xdm",
                           "custom_activation.xdm", "ckpt_adam/checkpoint.xdc", "ckpt_sgd/checkpoint.xdc"}) {
    EXPECT_TRUE(fs::is_regular_file(fixture(name))) << fixture(name);
  }
  // Says which comparison the other tests make here.
  std::printf("fixtures made on: %s\nthis machine:     %s\n-> %s\n", recorded_platform().c_str(),
              xdense_v1::platform_summary().c_str(), exact() ? "bit-for-bit comparisons" : "tolerance comparisons");
}

TEST_F(ModelCompat, BreastCancerSigmoidAdamStandardized) {
  SavedModel saved = check_predictions("cancer.xdm", "cancer_inputs.npy", "expected_cancer.npy");
  const Sequential& model = saved.model;
  EXPECT_EQ(layer_specs(model),
            (std::vector<std::string>{"Dense(30->16, glorot_uniform, zeros)", "relu", "Dense(16->8, glorot_uniform, zeros)",
                                      "relu", "Dense(8->1, glorot_uniform, zeros)", "sigmoid"}));
  EXPECT_EQ(model.loss()->name(), "binary_crossentropy");
  EXPECT_TRUE(model.has_accuracy());
  expect_adam(saved.model, 0.002f, 0.85f, 0.995f, 1e-6f);
  EXPECT_EQ(saved.info.class_names, (std::vector<std::string>{"0", "1"}));
  ASSERT_EQ(saved.info.feature_names.size(), 30u);
  EXPECT_EQ(saved.info.feature_names.front(), "mean_radius");
  EXPECT_EQ(saved.info.feature_names.back(), "worst_fractal_dimension");
  ASSERT_TRUE(saved.info.standardizer.has_value());
  EXPECT_EQ(saved.info.standardizer->mean().size(), 30u);
  EXPECT_EQ(saved.info.standardizer->scale().size(), 30u);
  EXPECT_EQ(meta(saved, "data"), "breast_cancer.csv");
  EXPECT_EQ(meta(saved, "label_column"), "benign");
  EXPECT_EQ(meta(saved, "training_samples"), "456");
  EXPECT_EQ(meta(saved, "validation_samples"), "113");
  EXPECT_EQ(meta(saved, "batch_size"), "32");
  EXPECT_EQ(meta(saved, "seed"), "11");
  EXPECT_EQ(meta(saved, "shuffle"), "true");
  EXPECT_EQ(meta(saved, "epochs"), "8");
  EXPECT_EQ(meta(saved, "xdense_version"), "0.2.0");
  EXPECT_FALSE(meta(saved, "val_accuracy").empty());
  EXPECT_FALSE(meta(saved, "created").empty());
  EXPECT_NE(meta(saved, "run_settings").find("standardize=1"), std::string::npos);
}

TEST_F(ModelCompat, IrisSoftmaxSgdNesterovLeakyReluTanh) {
  SavedModel saved = check_predictions("iris.xdm", "iris_x.npy", "expected_iris.npy");
  EXPECT_EQ(layer_specs(saved.model),
            (std::vector<std::string>{"Dense(4->12, glorot_uniform, zeros)", "leaky_relu(0.2)",
                                      "Dense(12->8, glorot_uniform, zeros)", "tanh",
                                      "Dense(8->3, glorot_uniform, zeros)", "softmax"}));
  EXPECT_EQ(saved.model.loss()->name(), "categorical_crossentropy");
  expect_sgd(saved.model, 0.05f, 0.9f, true);
  EXPECT_EQ(saved.info.class_names, (std::vector<std::string>{"setosa", "versicolor", "virginica"}));
  EXPECT_EQ(saved.info.feature_names,
            (std::vector<std::string>{"sepal_length", "sepal_width", "petal_length", "petal_width"}));
  EXPECT_FALSE(saved.info.standardizer.has_value());
  EXPECT_EQ(meta(saved, "label_column"), "species");
  EXPECT_EQ(meta(saved, "epochs"), "20");
}

TEST_F(ModelCompat, NpyDataMseNoBiasJsonConfig) {
  SavedModel saved = check_predictions("synth_mse.xdm", "synth_x.npy", "expected_synth_mse.npy");
  const Sequential& model = saved.model;
  EXPECT_EQ(model.input_units(), 6u);  // stored: the first layer is an activation
  EXPECT_EQ(layer_specs(model),
            (std::vector<std::string>{"tanh", "Dense(6->12, no bias, he_normal, zeros)", "relu",
                                      "leaky_relu(0.1)", "Dense(12->8, he_uniform, ones)", "sigmoid",
                                      "Dense(8->4, no bias, glorot_normal, zeros)", "softmax"}));
  for (std::size_t i : {1u, 6u}) {
    const Vector& bias = dense_layer(model, i).bias();
    EXPECT_TRUE(std::all_of(bias.begin(), bias.end(), [](float b) { return b == 0.0f; })) << "layer " << i;
  }
  EXPECT_EQ(model.loss()->name(), "mean_squared_error");
  expect_sgd(saved.model, 0.1f, 0.0f, false);
  EXPECT_EQ(saved.info.class_names, (std::vector<std::string>{"0", "1", "2", "3"}));
  EXPECT_TRUE(saved.info.feature_names.empty());
  EXPECT_FALSE(saved.info.standardizer.has_value());
  EXPECT_EQ(meta(saved, "label_column"), "");
  EXPECT_EQ(meta(saved, "labels"), "synth_y.npy");
  EXPECT_EQ(meta(saved, "shuffle"), "false");
}

TEST_F(ModelCompat, ActivationSpecsStoredAsText) {
  SavedModel saved = check_predictions("step_ste.xdm", "synth_x.npy", "expected_step_ste.npy");
  EXPECT_EQ(layer_specs(saved.model),
            (std::vector<std::string>{"Dense(6->10, glorot_uniform, zeros)", "binary_step(ste)",
                                      "Dense(10->8, glorot_uniform, zeros)", "binary_step",
                                      "Dense(8->6, glorot_uniform, zeros)", "sigmoid",
                                      "Dense(6->5, glorot_uniform, zeros)", "relu",
                                      "Dense(5->4, glorot_uniform, zeros)", "linear"}));
  EXPECT_EQ(saved.model.loss()->name(), "mean_squared_error");
  expect_adam(saved.model, 1e-3f, 0.9f, 0.999f, 1e-7f);  // the defaults
  ASSERT_TRUE(saved.info.standardizer.has_value());
  EXPECT_TRUE(saved.info.feature_names.empty());
}

TEST_F(ModelCompat, UserRegisteredActivationAndRepeatedMetadata) {
  SavedModel saved = check_predictions("custom_activation.xdm", "iris_x.npy", "expected_custom_activation.npy");
  EXPECT_EQ(layer_specs(saved.model),
            (std::vector<std::string>{"Dense(4->8, he_uniform, zeros)", "scaled_softsign(1.5)",
                                      "Dense(8->6, glorot_uniform, zeros)", "Dense(6->3, glorot_uniform, zeros)",
                                      "softmax"}));
  EXPECT_EQ(saved.model.layer(1).type_name(), "ScaledSoftsign");
  expect_adam(saved.model, 0.005f, 0.8f, 0.99f, 1e-5f);
  EXPECT_EQ(saved.info.metadata,
            (std::vector<std::pair<std::string, std::string>>{{"made_by", "make_v1_expected custom"},
                                                              {"note", ""},
                                                              {"note", "keys may repeat and values may be empty"},
                                                              {"comment", "na\xc3\xafve \xc2\xb5-test \xe2\x9c\x93"}}));
}

TEST_F(ModelCompat, AdamCheckpointLoadsPredictsAndResumes) {
  Checkpoint checkpoint = check_checkpoint("adam", "synth_x.npy", "synth_y.npy");
  EXPECT_EQ(checkpoint.state.optimizer.iterations, 20u);  // 160 samples, batches of 16, 2 epochs
  EXPECT_EQ(checkpoint.state.optimizer.slots.size(), 8u);  // first and second moments of 4 arrays
  EXPECT_EQ(layer_specs(checkpoint.saved.model),
            (std::vector<std::string>{"Dense(6->16, glorot_uniform, zeros)", "relu",
                                      "Dense(16->4, glorot_uniform, zeros)", "softmax"}));
  EXPECT_EQ(checkpoint.saved.model.loss()->name(), "sparse_categorical_crossentropy");
  expect_adam(checkpoint.saved.model, 0.01f, 0.9f, 0.999f, 1e-7f);
  ASSERT_TRUE(checkpoint.saved.info.standardizer.has_value());
  EXPECT_EQ(xdense_v1::metadata(checkpoint.saved.info, "data"), "synth_x.npy");
}

TEST_F(ModelCompat, SgdMomentumCheckpointLoadsPredictsAndResumes) {
  Checkpoint checkpoint = check_checkpoint("sgd", "iris_x.npy", "iris_y.npy");
  EXPECT_EQ(checkpoint.state.optimizer.iterations, 38u);  // 150 samples, batches of 8, 2 epochs
  EXPECT_EQ(checkpoint.state.optimizer.slots.size(), 4u);  // one velocity per array
  EXPECT_EQ(checkpoint.saved.model.loss()->name(), "categorical_crossentropy");
  expect_sgd(checkpoint.saved.model, 0.05f, 0.9f, false);
  EXPECT_FALSE(checkpoint.saved.info.standardizer.has_value());
  EXPECT_EQ(checkpoint.saved.info.class_names, (std::vector<std::string>{"0", "1", "2"}));
}

}  // namespace
}  // namespace xdense
