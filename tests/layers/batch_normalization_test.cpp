// Tests of include/xdense/layers/batch_normalization.hpp: forward in both modes against a plain
// double-precision reference written from Keras's formulas, the moving statistics (moved only by
// training forward passes), finite-difference gradients in both modes, the weights and config,
// and a model with batch normalisation counted, saved, loaded and resumed bit for bit.

#include "xdense/layers/batch_normalization.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "layers/layer_test_support.hpp"
#include "xdense/xdense.hpp"

namespace xdense {
namespace {

using testing::filled;
using testing::same_bits;

/// The plain reference: Keras's BatchNormalization in double, one column at a time.
struct Reference {
  std::vector<double> gamma, beta, moving_mean, moving_variance;
  double momentum = 0.99, epsilon = 1e-3;

  Matrix forward(const Matrix& x, bool training) {
    const std::size_t rows = x.shape(0), cols = x.shape(1);
    Matrix y = Matrix::from_shape({rows, cols});
    for (std::size_t c = 0; c < cols; ++c) {
      double mean = moving_mean[c], variance = moving_variance[c];
      if (training) {
        mean = variance = 0.0;
        for (std::size_t r = 0; r < rows; ++r) mean += x(r, c) / double(rows);
        for (std::size_t r = 0; r < rows; ++r) variance += (x(r, c) - mean) * (x(r, c) - mean) / double(rows);
        moving_mean[c] = moving_mean[c] * momentum + mean * (1.0 - momentum);
        moving_variance[c] = moving_variance[c] * momentum + variance * (1.0 - momentum);  // biased, as Keras
      }
      for (std::size_t r = 0; r < rows; ++r) {
        y(r, c) = static_cast<float>(gamma[c] * (x(r, c) - mean) / std::sqrt(variance + epsilon) + beta[c]);
      }
    }
    return y;
  }
};

std::vector<double> as_doubles(const Parameter& p) { return std::vector<double>(p.value, p.value + p.size); }

void expect_close(const Matrix& got, const Matrix& want, double tolerance, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_NEAR(got.data()[i], want.data()[i], tolerance * std::max(1.0, std::abs(double(want.data()[i])))) << what << "[" << i << "]";
  }
}

void expect_close(const Parameter& got, const std::vector<double>& want, double tolerance, const std::string& what) {
  ASSERT_EQ(got.size, want.size()) << what;
  for (std::size_t i = 0; i < got.size; ++i) {
    ASSERT_NEAR(got.value[i], want[i], tolerance * std::max(1.0, std::abs(want[i]))) << what << "[" << i << "]";
  }
}

/// A layer for `units` features with gamma, beta and the moving statistics set to varied values.
std::unique_ptr<BatchNormalization> varied_layer(std::size_t units, BatchNormalizationOptions options = {}) {
  auto layer = std::make_unique<BatchNormalization>(options);
  Rng rng;
  layer->build(units, rng);
  Rng values(31);
  for (const Parameter& p : layer->weights()) {
    for (std::size_t i = 0; i < p.size; ++i) {
      p.value[i] = static_cast<float>(p.name == "moving_variance" ? values.uniform(0.5, 2.0) : values.uniform(-1, 1));
    }
  }
  return layer;
}

Reference reference_of(const BatchNormalization& layer) {
  Reference ref;
  const std::size_t n = layer.input_units();
  ref.gamma.assign(n, 1.0);
  ref.beta.assign(n, 0.0);
  for (const Parameter& p : layer.weights()) {
    if (p.name == "gamma") ref.gamma = as_doubles(p);
    if (p.name == "beta") ref.beta = as_doubles(p);
    if (p.name == "moving_mean") ref.moving_mean = as_doubles(p);
    if (p.name == "moving_variance") ref.moving_variance = as_doubles(p);
  }
  ref.momentum = layer.options().momentum;
  ref.epsilon = layer.options().epsilon;
  return ref;
}

const Parameter& named(const std::vector<Parameter>& weights, const std::string& name) {
  for (const Parameter& p : weights) {
    if (p.name == name) return p;
  }
  throw std::runtime_error("no weight " + name);
}

TEST(BatchNormalization, TrainingUsesTheBatchStatisticsAndMovesTheMovingOnes) {
  BatchNormalizationOptions options;
  options.momentum = 0.9;
  auto layer = varied_layer(7, options);
  Reference ref = reference_of(*layer);
  layer->set_training(true);
  for (int step = 0; step < 3; ++step) {
    // Features far from zero mean with a small spread: the statistics must not cancel.
    const Matrix x = filled(12, 7, 40 + step, 99.0, 101.0);
    expect_close(to_matrix(layer->forward(view(x))), ref.forward(x, true), 2e-5, "training y");
    expect_close(named(layer->weights(), "moving_mean"), ref.moving_mean, 1e-6, "moving_mean");
    expect_close(named(layer->weights(), "moving_variance"), ref.moving_variance, 1e-6, "moving_variance");
  }
}

TEST(BatchNormalization, InferenceUsesTheMovingStatisticsAndMovesNothing) {
  auto layer = varied_layer(5);
  Reference ref = reference_of(*layer);
  const std::vector<Parameter> weights = layer->weights();
  std::vector<float> saved;
  for (const Parameter& p : weights) saved.insert(saved.end(), p.value, p.value + p.size);
  const Matrix x = filled(9, 5, 41, -3.0, 3.0);
  const Matrix y = to_matrix(layer->forward(view(x)));
  expect_close(y, ref.forward(x, false), 1e-6, "inference y");
  EXPECT_TRUE(same_bits(view(to_matrix(layer->forward(view(x)))), view(y)));  // deterministic
  std::vector<float> after;
  for (const Parameter& p : weights) after.insert(after.end(), p.value, p.value + p.size);
  EXPECT_TRUE(same_bits(after, saved));
}

void check_gradients(bool training, BatchNormalizationOptions options, const std::string& what) {
  auto layer = varied_layer(4, options);
  layer->set_training(training);
  testing::expect_layer_gradients(*layer, filled(6, 4, 42, -2.0, 2.0), 43, what);
}

TEST(BatchNormalization, GradientsMatchFiniteDifferencesInTrainingMode) {
  check_gradients(true, {}, "training");
  BatchNormalizationOptions plain;
  plain.center = plain.scale = false;
  check_gradients(true, plain, "training, no gamma or beta");
}

TEST(BatchNormalization, GradientsMatchFiniteDifferencesInInferenceMode) { check_gradients(false, {}, "inference"); }

TEST(BatchNormalization, FirstLayerSkipsTheInputGradient) {
  auto layer = varied_layer(3);
  layer->set_training(true);
  const Matrix x = filled(4, 3, 44);
  layer->forward(view(x));
  EXPECT_EQ(layer->backward(view(x), false).data, nullptr);
  EXPECT_THROW(layer->backward(view(filled(5, 3, 1))), ShapeError);
}

TEST(BatchNormalization, WeightsInKerasOrderAndWithoutCenterOrScale) {
  auto full = varied_layer(3);
  std::vector<std::string> names;
  for (const Parameter& p : full->weights()) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"gamma", "beta", "moving_mean", "moving_variance"}));
  EXPECT_EQ(full->parameter_count(), 6u);
  EXPECT_EQ(full->non_trainable_weights().size(), 2u);
  EXPECT_EQ(full->non_trainable_weights()[0].gradient, nullptr);

  BatchNormalizationOptions options;
  options.center = false;
  BatchNormalization no_beta(options);
  const std::optional<LayerShape> shape = no_beta.shape_for(3);
  ASSERT_TRUE(shape);
  EXPECT_EQ(shape->output_units, 3u);
  EXPECT_EQ(shape->weights, (std::vector<std::pair<std::string, std::vector<std::size_t>>>{
                                {"gamma", {3}}, {"moving_mean", {3}}, {"moving_variance", {3}}}));
  Rng rng;
  no_beta.build(3, rng);
  EXPECT_EQ(no_beta.parameters().size(), 1u);

  // Defaults: gamma ones, beta zeros, moving mean zeros, moving variance ones.
  BatchNormalization fresh;
  fresh.build(2, rng);
  std::vector<float> values;
  for (const Parameter& p : fresh.weights()) values.insert(values.end(), p.value, p.value + p.size);
  EXPECT_EQ(values, (std::vector<float>{1, 1, 0, 0, 0, 0, 1, 1}));
}

TEST(BatchNormalization, ConfigRoundTripsAndTakesKerasConfigs) {
  const std::unique_ptr<Layer> layer = make_layer("BatchNormalization", Config::object());
  const Config expected = {{"axis", -1},
                           {"momentum", 0.99},
                           {"epsilon", 0.001},
                           {"center", true},
                           {"scale", true},
                           {"beta_initializer", "zeros"},
                           {"gamma_initializer", "ones"},
                           {"moving_mean_initializer", "zeros"},
                           {"moving_variance_initializer", "ones"}};
  EXPECT_EQ(layer->config(), expected);
  EXPECT_EQ(make_layer("BatchNormalization", layer->config())->config(), expected);

  // As Keras 3's model.to_json() writes it.
  const Config keras = Config::parse(R"({"name": "batch_normalization", "trainable": true, "dtype": "float32",
      "axis": -1, "momentum": 0.9, "epsilon": 1e-05, "center": true, "scale": false,
      "beta_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null},
      "gamma_initializer": {"module": "keras.initializers", "class_name": "Ones", "config": {}, "registered_name": null},
      "moving_mean_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null},
      "moving_variance_initializer": {"module": "keras.initializers", "class_name": "Ones", "config": {}, "registered_name": null},
      "beta_regularizer": null, "gamma_regularizer": null, "beta_constraint": null, "gamma_constraint": null,
      "synchronized": false})");
  const std::unique_ptr<Layer> from_keras = make_layer("BatchNormalization", keras);
  const Config round = from_keras->config();
  EXPECT_EQ(round["momentum"], 0.9);
  EXPECT_EQ(round["epsilon"], 1e-5);
  EXPECT_EQ(round["scale"], false);
  EXPECT_EQ(make_layer("BatchNormalization", round)->config(), round);
  EXPECT_EQ(make_layer("BatchNormalization", {{"axis", Config::array({1})}})->config()["axis"], -1);  // Keras 2

  const auto error_of = [](const Config& config) { return testing::config_error("BatchNormalization", config); };
  EXPECT_EQ(error_of({{"axis", 0}}), "axis: expected -1 (normalising over the features, the last axis), received 0");
  EXPECT_EQ(error_of({{"momentum", 1.5}}), "momentum: expected a number in [0, 1], received 1.5");
  EXPECT_EQ(error_of({{"epsilon", 0}}), "epsilon: expected a positive number, received 0");
  EXPECT_EQ(error_of({{"synchronized", true}}), "synchronized: expected false (xdense trains on one device), received true");
  EXPECT_EQ(error_of({{"gamma_regularizer", "l2"}}),
            "gamma_regularizer: expected null (xdense regularizes Dense weights only), received \"l2\"");
  EXPECT_EQ(error_of({{"renorm", true}}).substr(0, 20), "renorm: unknown key ");
  EXPECT_NE(error_of({{"beta_initializer", "no_such_initializer"}}).find("beta_initializer: "), std::string::npos);
}

// ------------------------------------------------------------------ in a model

Sequential normalized_model() {
  Sequential model;
  model.add(std::make_unique<Dense>(16)).add(make_layer("BatchNormalization", Config::object())).add("relu");
  model.add(make_layer("Dropout", {{"rate", 0.2}}));
  model.add(std::make_unique<Dense>(8)).add(make_layer("BatchNormalization", {{"momentum", 0.9}})).add("relu");
  model.add(std::make_unique<Dense>(3)).add("softmax");
  model.compile("sparse_categorical_crossentropy", "adam");
  return model;
}

FitOptions fit_options(std::size_t epochs, std::size_t initial = 0) { return testing::run_options(epochs, initial, 12); }

testing::Data three_classes(std::size_t n) { return testing::three_classes(n, 6, 51); }

std::filesystem::path temp_file(const std::string& name) {
  return testing::scratch_file("xdense_batch_normalization_test", name);
}

std::vector<float> moving_statistics(const Sequential& model) {
  std::vector<float> all;
  for (std::size_t i = 0; i < model.layer_count(); ++i) {
    for (const Parameter& p : model.layer(i).non_trainable_weights()) all.insert(all.end(), p.value, p.value + p.size);
  }
  return all;
}

TEST(BatchNormalizationModel, SummaryCountsTheMovingStatisticsAsKerasDoes) {
  Sequential model = normalized_model();
  model.build(6);
  const std::string summary = model.summary();
  // Dense(16) 112, BN(16) 64 = 4 x 16, Dense(8) 136, BN(8) 32, Dense(3) 27.
  // Names longer than their column continue on the next line, as Keras 2 wraps them.
  EXPECT_NE(summary.find(" batch_normalization (BatchN (None, 16)                64\n ormalization)\n"),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find(" batch_normalization_1 (Batc (None, 8)                 32\n hNormalization)\n"),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("Total params: 371"), std::string::npos) << summary;
  EXPECT_NE(summary.find("Trainable params: 323"), std::string::npos) << summary;
  EXPECT_NE(summary.find("Non-trainable params: 48"), std::string::npos) << summary;
}

TEST(BatchNormalizationModel, OnlyTrainingStepsMoveTheStatistics) {
  const testing::Data d = three_classes(96);
  const testing::Data v = three_classes(40);
  Sequential plain = normalized_model();
  plain.fit(d.x, d.y, fit_options(2));
  // Validation after every epoch runs in inference mode: the statistics and weights are the same.
  Sequential validated = normalized_model();
  FitOptions with_validation = fit_options(2);
  with_validation.validation_x = &v.x;
  with_validation.validation_y = &v.y;
  validated.fit(d.x, d.y, with_validation);
  EXPECT_TRUE(same_bits(testing::all_weights(validated), testing::all_weights(plain)));

  const std::vector<float> trained = moving_statistics(plain);
  EXPECT_NE(trained, std::vector<float>(trained.size(), 0.0f));
  const Matrix first = plain.predict(d.x);
  plain.evaluate(d.x, d.y);
  EXPECT_TRUE(same_bits(moving_statistics(plain), trained));
  EXPECT_TRUE(same_bits(view(plain.predict(d.x)), view(first)));
}

TEST(BatchNormalizationModel, SavesLoadsAndResumesBitForBit) {
  const testing::Data d = three_classes(96);
  Sequential model = normalized_model();
  model.fit(d.x, d.y, fit_options(2));
  save_model(temp_file("bn.xdm").string(), model, ModelInfo{});
  SavedModel loaded = load_model(temp_file("bn.xdm").string());
  EXPECT_EQ(loaded.model.layer(1).kind(), "BatchNormalization");
  EXPECT_EQ(loaded.model.layer(5).config(), model.layer(5).config());
  EXPECT_TRUE(same_bits(testing::all_weights(loaded.model), testing::all_weights(model)));
  EXPECT_TRUE(same_bits(view(loaded.model.predict(d.x)), view(model.predict(d.x))));

  Sequential straight = normalized_model();
  const History full = straight.fit(d.x, d.y, fit_options(4));
  Sequential early = normalized_model();
  const History history = early.fit(d.x, d.y, fit_options(2));
  save_checkpoint(temp_file("bn.xdc").string(), early, ModelInfo{}, capture_training_state(early, 2, history));
  Checkpoint checkpoint = load_checkpoint(temp_file("bn.xdc").string());
  restore_training_state(checkpoint);
  const History late = checkpoint.saved.model.fit(d.x, d.y, fit_options(4, 2));
  EXPECT_EQ(late.epochs.back().loss, full.epochs.back().loss);
  EXPECT_TRUE(same_bits(testing::all_weights(checkpoint.saved.model), testing::all_weights(straight)));
}

}  // namespace
}  // namespace xdense
