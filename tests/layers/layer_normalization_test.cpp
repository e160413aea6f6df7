// Tests of include/xdense/layers/layer_normalization.hpp: forward against a plain double reference
// of Keras's formula, the same result in both modes, finite-difference gradients, weights, config,
// and a model with layer normalisation saved and loaded.

#include "xdense/layers/layer_normalization.hpp"

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

std::unique_ptr<LayerNormalization> varied_layer(std::size_t units, LayerNormalizationOptions options = {}) {
  auto layer = std::make_unique<LayerNormalization>(options);
  Rng rng;
  layer->build(units, rng);
  Rng values(61);
  for (const Parameter& p : layer->parameters()) {
    for (std::size_t i = 0; i < p.size; ++i) p.value[i] = static_cast<float>(values.uniform(-1.5, 1.5));
  }
  return layer;
}

/// Keras's LayerNormalization in double, row by row.
Matrix reference(const LayerNormalization& layer, const Matrix& x) {
  const std::size_t rows = x.shape(0), cols = x.shape(1);
  std::vector<double> gamma(cols, 1.0), beta(cols, 0.0);
  for (const Parameter& p : layer.parameters()) {
    (p.name == "gamma" ? gamma : beta).assign(p.value, p.value + p.size);
  }
  Matrix y = Matrix::from_shape({rows, cols});
  for (std::size_t r = 0; r < rows; ++r) {
    double mean = 0.0, variance = 0.0;
    for (std::size_t c = 0; c < cols; ++c) mean += x(r, c) / double(cols);
    for (std::size_t c = 0; c < cols; ++c) variance += (x(r, c) - mean) * (x(r, c) - mean) / double(cols);
    for (std::size_t c = 0; c < cols; ++c) {
      y(r, c) = static_cast<float>(gamma[c] * (x(r, c) - mean) / std::sqrt(variance + layer.options().epsilon) + beta[c]);
    }
  }
  return y;
}

TEST(LayerNormalization, NormalisesEachRowOverItsFeaturesInBothModes) {
  for (const std::size_t cols : {std::size_t{1}, std::size_t{5}, std::size_t{19}, std::size_t{64}}) {
    auto layer = varied_layer(cols);
    const Matrix x = filled(9, cols, 62, 49.0, 51.0);  // a large mean against the spread
    const Matrix want = reference(*layer, x);
    const Matrix inference = to_matrix(layer->forward(view(x)));
    for (std::size_t i = 0; i < want.size(); ++i) {
      ASSERT_NEAR(inference.data()[i], want.data()[i], 2e-5 * std::max(1.0f, std::abs(want.data()[i]))) << cols << " " << i;
    }
    layer->set_training(true);
    EXPECT_TRUE(same_bits(layer->forward(view(x)), view(inference)));
  }
}

void check_gradients(LayerNormalizationOptions options, std::size_t cols, const std::string& what) {
  testing::expect_layer_gradients(*varied_layer(cols, options), filled(5, cols, 63, -2.0, 2.0), 64, what);
}

TEST(LayerNormalization, GradientsMatchFiniteDifferences) {
  check_gradients({}, 6, "6 features");
  check_gradients({}, 13, "13 features");  // a full lane block and a tail
  LayerNormalizationOptions plain;
  plain.center = plain.scale = false;
  check_gradients(plain, 6, "no gamma or beta");
}

TEST(LayerNormalization, WeightsInKerasOrder) {
  auto layer = varied_layer(4);
  ASSERT_EQ(layer->parameters().size(), 2u);
  EXPECT_EQ(layer->parameters()[0].name, "gamma");
  EXPECT_EQ(layer->parameters()[1].name, "beta");
  EXPECT_TRUE(layer->non_trainable_weights().empty());
  EXPECT_EQ(layer->shape_for(4)->weights.size(), 2u);
  const Matrix x = filled(3, 4, 1);
  layer->forward(view(x));
  EXPECT_EQ(layer->backward(view(x), false).data, nullptr);  // a first layer: parameter gradients only
  EXPECT_THROW(layer->backward(view(filled(2, 4, 1))), ShapeError);
}

TEST(LayerNormalization, ConfigRoundTripsAndBadConfigsAreRefusedByKey) {
  const Config expected = {{"axis", -1},          {"epsilon", 0.001},          {"center", true},
                           {"scale", true},       {"rms_scaling", false},      {"beta_initializer", "zeros"},
                           {"gamma_initializer", "ones"}};
  EXPECT_EQ(make_layer("LayerNormalization", Config::object())->config(), expected);
  EXPECT_EQ(make_layer("LayerNormalization", expected)->config(), expected);
  const Config keras = Config::parse(R"({"name": "layer_normalization", "trainable": true, "dtype": "float32",
      "axis": [-1], "epsilon": 1e-05, "center": false, "scale": true, "rms_scaling": false,
      "beta_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null},
      "gamma_initializer": {"module": "keras.initializers", "class_name": "Ones", "config": {}, "registered_name": null},
      "beta_regularizer": null, "gamma_regularizer": null, "beta_constraint": null, "gamma_constraint": null})");
  const Config round = make_layer("LayerNormalization", keras)->config();
  EXPECT_EQ(round["epsilon"], 1e-5);
  EXPECT_EQ(round["center"], false);
  EXPECT_EQ(make_layer("LayerNormalization", round)->config(), round);
  const auto error_of = [](const Config& config) { return testing::config_error("LayerNormalization", config); };
  EXPECT_EQ(error_of({{"rms_scaling", true}}), "rms_scaling: expected false (xdense has no RMS normalisation), received true");
  EXPECT_EQ(error_of({{"axis", 0}}),
            "axis: expected -1 (normalising each sample over its features, the last axis), received 0");
  EXPECT_EQ(error_of({{"epsilon", -1}}), "epsilon: expected a positive number, received -1");
  EXPECT_EQ(error_of({{"beta_constraint", "non_neg"}}),
            "beta_constraint: expected null (xdense has no weight constraints), received \"non_neg\"");
}

TEST(LayerNormalizationModel, TrainsSavesAndLoadsBitForBit) {
  const testing::Data d = testing::three_classes(80, 6, 65);
  Sequential model;
  model.add(std::make_unique<Dense>(12)).add(make_layer("LayerNormalization", Config::object())).add("gelu");
  model.add(std::make_unique<Dense>(3)).add("softmax");
  model.compile("sparse_categorical_crossentropy", "adam");
  model.fit(d.x, d.y, testing::run_options(3, 0, 4));
  EXPECT_NE(model.summary().find(" layer_normalization (LayerN (None, 12)                24\n ormalization)\n"),
            std::string::npos)
      << model.summary();
  EXPECT_NE(model.summary().find("Trainable params: 147"), std::string::npos) << model.summary();  // 84 + 24 + 39
  const std::filesystem::path file = testing::scratch_file("xdense_layer_normalization_test", "ln.xdm");
  save_model(file.string(), model, ModelInfo{});
  SavedModel loaded = load_model(file.string());
  EXPECT_EQ(loaded.model.layer(1).config(), model.layer(1).config());
  EXPECT_TRUE(same_bits(testing::all_weights(loaded.model), testing::all_weights(model)));
  EXPECT_TRUE(same_bits(view(loaded.model.predict(d.x)), view(model.predict(d.x))));
}

}  // namespace
}  // namespace xdense
