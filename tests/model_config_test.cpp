#include "xdense/model_config.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>  // mkdtemp
#include <unistd.h>  // rmdir

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "xdense/builtin_activations.hpp"
#include "xdense/config.hpp"
#include "xdense/dense.hpp"
#include "xdense/error.hpp"
#include "xdense/sequential.hpp"
#include "xdense/tensor.hpp"

namespace xdense {
namespace {

#define XDENSE_KERAS_FIXTURES XDENSE_DATA_DIR "/../tests/fixtures/keras"

/// The kinds of `model`'s layers, an activation as its spec: {"Dense", "relu", "Dropout", ...}.
std::vector<std::string> kinds_of(const Sequential& model) {
  std::vector<std::string> kinds;
  for (std::size_t i = 0; i < model.layer_count(); ++i) {
    const Layer& layer = model.layer(i);
    kinds.push_back(layer.as_activation() ? layer.as_activation()->spec() : layer.kind());
  }
  return kinds;
}

/// Builds `model` for `inputs` features and checks that predict gives finite class probabilities.
void expect_predicts_probabilities(Sequential& model, std::size_t inputs) {
  model.build(inputs);
  Matrix x = xt::zeros<float>({std::size_t{5}, inputs});
  for (std::size_t r = 0; r < 5; ++r)
    for (std::size_t c = 0; c < inputs; ++c) x(r, c) = 0.1f * static_cast<float>(r) - 0.05f * static_cast<float>(c);
  const Matrix p = model.predict(x);
  ASSERT_EQ(p.shape(1), 3u);
  for (std::size_t r = 0; r < 5; ++r) {
    float sum = 0;
    for (std::size_t c = 0; c < 3; ++c) {
      EXPECT_TRUE(std::isfinite(p(r, c)));
      sum += p(r, c);
    }
    EXPECT_NEAR(sum, 1.0f, 1e-5f);
  }
}

/// The message of the InvalidArgument that add_layers_from_json throws for `text`.
std::string json_error(const std::string& text) {
  Sequential model;
  try {
    add_layers_from_json(model, text, "model.json");
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  ADD_FAILURE() << "no InvalidArgument for " << text.substr(0, 80);
  return {};
}

TEST(ModelConfig, LayerSpecAddsDenseAndActivationLayers) {
  Sequential model;
  add_layers(model, "8:relu, 3:leaky_relu(0.1),1");
  ASSERT_EQ(model.layer_count(), 5u);
  EXPECT_EQ(model.layer(0).type_name(), "Dense");
  EXPECT_EQ(model.layer(1).type_name(), "ReLU");
  EXPECT_FLOAT_EQ(dynamic_cast<const LeakyReLU&>(model.layer(3)).negative_slope(), 0.1f);
  EXPECT_EQ(model.layer(4).type_name(), "Dense");
}

TEST(ModelConfig, KerasJsonAddsItsLayers) {
  Sequential model;
  add_layers_from_json(model,
                       R"({"class_name": "Sequential", "config": {"layers": [
                             {"class_name": "Dense", "config": {"units": 4, "activation": "tanh"}},
                             {"class_name": "LeakyReLU", "config": {"negative_slope": 0.2}},
                             {"class_name": "Dense", "config": {"units": 2, "use_bias": false}},
                             {"class_name": "Activation", "config": {"activation": "softmax"}}]}})",
                       "model.json");
  ASSERT_EQ(model.layer_count(), 5u);
  EXPECT_EQ(model.layer(1).type_name(), "Tanh");
  EXPECT_FALSE(dynamic_cast<const Dense&>(model.layer(3)).options().use_bias);
  EXPECT_EQ(model.layer(4).type_name(), "Softmax");
}

// A layer kind registered by a user, read strictly as the built-in factories are: here a Dense
// layer under another name, with a required "width".
void register_user_layer() {
  register_layer("UserDense", [](const Config& config) -> std::unique_ptr<Layer> {
    ConfigReader in(config, "UserDense");
    const std::size_t width = in.positive_integer("width");
    in.finish();
    return std::make_unique<Dense>(width);
  });
}

TEST(ModelConfig, ARegisteredLayerKindIsAClassName) {
  register_user_layer();
  Sequential model;
  add_layers_from_json(model, R"({"layers": [{"class_name": "UserDense", "config": {"width": 3, "name": "mine"}},
                                             {"class_name": "Activation", "config": {"activation": "relu"}}]})",
                       "model.json");
  ASSERT_EQ(model.layer_count(), 2u);
  EXPECT_EQ(model.layer(0).config().at("units"), 3);
  // Its factory's refusals name the field path.
  EXPECT_NE(json_error(R"({"layers": [{"class_name": "UserDense", "config": {"width": 0}}]})")
                .find("model.json: layers[0].config.width: expected a positive integer"),
            std::string::npos);
  EXPECT_NE(json_error(R"({"layers": [{"class_name": "UserDense", "config": {"width": 2, "depth": 1}}]})")
                .find("model.json: layers[0].config.depth: unknown key (expected one of: width)"),
            std::string::npos);
  // The unknown-class message lists the registered kinds and Keras's activation layers.
  const std::string unknown = json_error(R"({"layers": [{"class_name": "Conv2D"}]})");
  for (const char* name : {"layers[0].class_name: unknown layer class 'Conv2D'", "Activation", "Dense", "UserDense",
                           "LeakyReLU", "ReLU", "Softmax"}) {
    EXPECT_NE(unknown.find(name), std::string::npos) << name << " in " << unknown;
  }
}

TEST(ModelConfig, DenseIsReadByItsFactoryAtTheFieldPath) {
  EXPECT_NE(json_error(R"({"layers": [{"class_name": "Dense", "config": {"units": 2, "use_bias": 1}}]})")
                .find("model.json: layers[0].config.use_bias: expected true or false"),
            std::string::npos);
  EXPECT_NE(json_error(R"({"layers": [{"class_name": "Dense", "config": {"units": 2, "use_bais": true}}]})")
                .find("model.json: layers[0].config.use_bais: unknown key"),
            std::string::npos);
  EXPECT_NE(json_error(R"({"layers": [{"class_name": "Dense", "config": {"units": 2, "activation": "relux"}}]})")
                .find("model.json: layers[0].config.activation: unknown activation 'relux'"),
            std::string::npos);
  EXPECT_NE(json_error(R"({"layers": [{"class_name": "Dense", "config": {}}]})")
                .find("model.json: layers[0].config.units: missing"),
            std::string::npos);
  // A misspelt required key is the unknown key it is, with the one it stands for.
  const std::string typo = json_error(R"({"layers": [{"class_name": "Dense", "config": {"unit": 4}}]})");
  EXPECT_NE(typo.find("model.json: layers[0].config.unit: unknown key (did you mean \"units\"?"), std::string::npos)
      << typo;
  // "linear" adds no activation layer; Keras's "name" is accepted and dropped.
  Sequential model;
  add_layers_from_json(model, R"({"layers": [{"class_name": "Dense",
                                   "config": {"units": 2, "activation": "linear", "name": "d"}}]})", "model.json");
  EXPECT_EQ(model.layer_count(), 1u);
}

// Regression (found with a hand-written input for tests/fuzz/fuzz_model_config, whose inputs are too
// short to reach it): 200,000 nested brackets overflowed the stack in the recursive json dump of the
// error message. Deep nesting is now refused while parsing.
TEST(ModelConfig, DeeplyNestedJsonIsRefusedNotAStackOverflow) {
  const std::size_t depth = 200000;
  const std::string nested = std::string(depth, '[') + std::string(depth, ']');
  for (const std::string& text : {R"({"layers": [)" + nested + "]}",
                                  R"({"layers": [{"class_name": "Dense", "config": {"units": )" + nested + "}}]}",
                                  nested}) {
    EXPECT_NE(json_error(text).find("nested deeper than 32 levels"), std::string::npos);
  }
}

TEST(ModelConfig, NestingWithinTheLimitIsAnOrdinaryError) {
  const std::string nested = std::string(20, '[') + std::string(20, ']');
  const std::string message = json_error(R"({"layers": [)" + nested + "]}");
  EXPECT_NE(message.find("layers[0]: expected an object"), std::string::npos) << message;
}

// Regression (found by tests/fuzz/fuzz_model_config): a number beyond double's range made the json
// parser throw its out_of_range exception, which escaped as a non-xdense error.
TEST(ModelConfig, NumbersBeyondDoubleRangeAreInvalidJson) {
  for (const char* units : {"-1e400", "1e400"}) {
    const std::string message =
        json_error(std::string(R"({"layers": [{"class_name": "Dense", "config": {"units": )") + units + "}}]}");
    EXPECT_NE(message.find("model.json: invalid JSON: "), std::string::npos) << message;
    EXPECT_NE(message.find("number overflow"), std::string::npos) << message;
  }
}

TEST(ModelConfig, LongValuesAreCutInMessages) {
  const std::string long_name(100000, 'x');
  const std::string message = json_error(R"({"layers": [")" + long_name + R"("]})");
  EXPECT_LT(message.size(), 200u) << message.substr(0, 300);
  EXPECT_NE(message.find("xxx..."), std::string::npos) << message;
}

TEST(ModelConfig, AbsurdUnitsAreRefusedBeforeBuilding) {
  for (const char* units : {"1048577", "2147483649", "1099511627776", "18446744073709551615", "0", "-3", "2.5"}) {
    const std::string message =
        json_error(std::string(R"({"layers": [{"class_name": "Dense", "config": {"units": )") + units + "}}]}");
    EXPECT_NE(message.find("layers[0].config.units: expected a positive integer of at most 2^20 (1048576)"), std::string::npos)
        << message;
  }
  Sequential model;
  add_layers_from_json(model, R"({"layers": [{"class_name": "Dense", "config": {"units": 1048576}}]})", "m.json");
  EXPECT_EQ(model.layer_count(), 1u);  // the limit itself is accepted (nothing is allocated before build)
  // The same limit in a --layers spec.
  Sequential spec;
  EXPECT_THROW(add_layers(spec, "1048577:relu,1:sigmoid"), InvalidArgument);
  add_layers(spec, "1048576:relu,1:sigmoid");
  EXPECT_EQ(spec.layer_count(), 4u);
}

TEST(ModelConfig, AJsonFileOver16MiBIsRefusedBeforeItIsRead) {
  std::string folder = ::testing::TempDir() + "xdense_model_config_XXXXXX";
  ASSERT_NE(::mkdtemp(folder.data()), nullptr);
  const std::string file = folder + "/model.json";
  const std::string json = R"({"layers": [{"class_name": "Dense", "config": {"units": 2}}]})";
  const std::size_t limit = std::size_t{16} << 20;
  std::ofstream(file, std::ios::binary) << json << std::string(limit - json.size(), ' ');
  Sequential model;
  add_layers_from_json_file(model, file);  // 16 MiB exactly: read
  EXPECT_EQ(model.layer_count(), 1u);
  std::ofstream(file, std::ios::app) << ' ';
  try {
    add_layers_from_json_file(model, file);
    ADD_FAILURE() << "no DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()), file + ": 16777217 bytes, more than the 16 MiB a JSON model config may hold");
  }
  std::remove(file.c_str());
  ::rmdir(folder.c_str());
}


// ---------------------------------------------------------------- Keras's model.to_json()

TEST(ModelConfig, AKeras3ToJsonWithInputLayerNormalizationAndDropoutLoads) {
  Sequential model;
  const auto width = add_layers_from_json_file(model, XDENSE_KERAS_FIXTURES "/keras3_iris_mlp.json");
  ASSERT_TRUE(width.has_value());
  EXPECT_EQ(*width, 4u);
  EXPECT_EQ(kinds_of(model), (std::vector<std::string>{"Dense", "relu", "BatchNormalization", "Dropout", "Dense", "gelu",
                                                       "LayerNormalization", "Dense", "softmax"}));
  EXPECT_DOUBLE_EQ(model.layer(3).config().at("rate").get<double>(), 0.2);
  expect_predicts_probabilities(model, 4);
}

TEST(ModelConfig, AKeras3CompiledModelWithActivationLayersLoads) {
  Sequential model;
  EXPECT_EQ(add_layers_from_json_file(model, XDENSE_KERAS_FIXTURES "/keras3_activation_layers.json"), 4u);
  const std::vector<std::string> kinds = kinds_of(model);
  ASSERT_EQ(kinds.size(), 9u) << ::testing::PrintToString(kinds);
  EXPECT_EQ(kinds[1], "leaky_relu(0.2)");
  EXPECT_EQ(kinds[3].rfind("elu(0.5", 0), 0u) << kinds[3];  // elu(0.5) however A prints it
  EXPECT_EQ(kinds[5], "relu");
  EXPECT_EQ(kinds[6], "Dropout");
  EXPECT_EQ(kinds[8], "softmax");
  expect_predicts_probabilities(model, 4);
}

TEST(ModelConfig, AKeras2ToJsonLoads) {
  Sequential model;
  EXPECT_EQ(add_layers_from_json_file(model, XDENSE_KERAS_FIXTURES "/keras2_iris_mlp.json"), 4u);
  EXPECT_EQ(kinds_of(model),
            (std::vector<std::string>{"Dense", "leaky_relu(0.3)", "BatchNormalization", "Dropout", "Dense", "softmax"}));
  expect_predicts_probabilities(model, 4);

  Sequential first_layer_shape;  // tf.keras 2.4: no InputLayer, the first Dense's batch_input_shape
  EXPECT_EQ(add_layers_from_json_file(first_layer_shape, XDENSE_KERAS_FIXTURES "/keras2_batch_input_shape.json"), 4u);
  EXPECT_EQ(kinds_of(first_layer_shape), (std::vector<std::string>{"Dense", "tanh", "Dense", "softmax"}));
  expect_predicts_probabilities(first_layer_shape, 4);
}

TEST(ModelConfig, KerasBookkeepingIsAcceptedAndIgnored) {
  Sequential model;
  const auto width = add_layers_from_json(model, R"({"class_name": "Sequential", "config": {"layers": [
      {"module": "keras.layers", "class_name": "Dense", "registered_name": null,
       "config": {"name": "d", "trainable": true, "units": 3, "activation": "linear",
                  "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
                  "kernel_constraint": null, "bias_constraint": null, "activity_regularizer": null},
       "build_config": {"input_shape": [null, 7]}},
      {"class_name": "Activation", "config": {"name": "a", "trainable": true, "dtype": "float32", "activation": "linear"}},
      {"class_name": "Activation", "config": {"name": "b", "trainable": false, "dtype": "float32", "activation": "tanh"}}]}})",
                                          "model.json");
  EXPECT_EQ(width, 7u);  // the first layer's build_config
  EXPECT_EQ(kinds_of(model), (std::vector<std::string>{"Dense", "tanh"}));  // "linear" adds nothing
  // No statement of the width: none returned.
  Sequential bare;
  EXPECT_FALSE(add_layers_from_json(bare, R"({"layers": [{"class_name": "Dense", "config": {"units": 2}}]})", "m.json"));
}

TEST(ModelConfig, EveryProblemOfAFileIsReportedAtOnce) {
  const std::string message = json_error(R"({"class_name": "Sequential", "config": {"layers": [
      {"class_name": "InputLayer", "config": {"batch_shape": [null, 28, 28], "sparse": true}},
      {"class_name": "Dense", "config": {"units": 8, "dtype": "float16", "kernel_constraint": {"class_name": "MaxNorm", "config": {"max_value": 2}}}},
      {"class_name": "Conv2D", "config": {"filters": 3}},
      {"class_name": "ReLU", "config": {"max_value": 6.0}},
      {"class_name": "Dense", "config": {"units": 3, "activation": "relux"}}]}})");
  EXPECT_NE(message.find("model.json: 7 problems: "), std::string::npos) << message;
  for (const char* part : {"config.layers[0].config.sparse: expected false",
                           "config.layers[0].config.batch_shape: expected [null, features]",
                           "config.layers[1].config.dtype: xdense computes in float32 only, received \"float16\"",
                           "config.layers[1].config.kernel_constraint: ",
                           "config.layers[2].class_name: unknown layer class 'Conv2D'",
                           "config.layers[3].config.max_value: a capped ReLU is not supported",
                           "config.layers[4].config.activation: unknown activation 'relux'"}) {
    EXPECT_NE(message.find(part), std::string::npos) << part << "\nin: " << message;
  }
  EXPECT_EQ(message.find('\n'), std::string::npos);  // one line
  // Nothing is added to a model when anything is wrong.
  Sequential model;
  EXPECT_THROW(add_layers_from_json(model, R"({"layers": [{"class_name": "Dense", "config": {"units": 2}},
                                                         {"class_name": "Conv2D"}]})", "m.json"),
               InvalidArgument);
  EXPECT_EQ(model.layer_count(), 0u);
}

TEST(ModelConfig, InputWidthsMustAgreeAndBeRowsOfFeatures) {
  const std::string disagree = json_error(R"({"class_name": "Sequential", "config": {"build_input_shape": [null, 5], "layers": [
      {"class_name": "InputLayer", "config": {"batch_shape": [null, 4]}},
      {"class_name": "Dense", "config": {"units": 2}}]}})");
  EXPECT_NE(disagree.find("config.layers[0].config.batch_shape: gives 4 input features, but config.build_input_shape gives 5"),
            std::string::npos)
      << disagree;
  EXPECT_NE(json_error(R"({"layers": [{"class_name": "Dense", "config": {"units": 2}},
                                      {"class_name": "InputLayer", "config": {"batch_shape": [null, 4]}}]})")
                .find("layers[1].config: an InputLayer comes first"),
            std::string::npos);
  EXPECT_NE(json_error(R"({"layers": [{"class_name": "Dense", "config": {"units": 2, "input_shape": [4, 4]}}]})")
                .find("layers[0].config.input_shape: expected [features] (xdense reads rows of features)"),
            std::string::npos);
  EXPECT_NE(json_error(R"({"layers": [{"class_name": "InputLayer", "config": {"batch_shape": [null, 4]}}]})")
                .find("layers: no layer that computes anything"),
            std::string::npos);
  // A DTypePolicy of another precision is refused like the string.
  EXPECT_NE(json_error(R"({"layers": [{"class_name": "Dense", "config": {"units": 2, "dtype":
                         {"class_name": "DTypePolicy", "config": {"name": "mixed_float16"}}}}]})")
                .find("layers[0].config.dtype: xdense computes in float32 only"),
            std::string::npos);
}

// ---------------------------------------------------------------- layer spec

TEST(ModelConfig, LayerSpecTakesDropoutAndNormalizationItems) {
  Sequential model;
  add_layers(model, "16:relu,dropout(0.3),batchnorm,8:gelu,layernorm,3:softmax");
  EXPECT_EQ(kinds_of(model), (std::vector<std::string>{"Dense", "relu", "Dropout", "BatchNormalization", "Dense", "gelu",
                                                       "LayerNormalization", "Dense", "softmax"}));
  EXPECT_DOUBLE_EQ(model.layer(2).config().at("rate").get<double>(), 0.3);
  expect_predicts_probabilities(model, 4);
  for (const auto& [spec, part] : std::vector<std::pair<std::string, std::string>>{
           {"8:relu,dropout,1", "item 2 'dropout': expected dropout(rate)"},
           {"8:relu,dropout(x),1", "expected dropout(rate) with a rate in [0, 1)"},
           {"8:relu,dropout(1.5),1", "item 2 'dropout(1.5)': "},  // the Dropout factory's own range check
           {"8:relu,batchnorm(0.9),1", "batchnorm takes no arguments"},
           {"8:relu,conv(3),1", "expected units[:activation] (e.g. 64:relu), dropout(rate), batchnorm or layernorm"}}) {
    Sequential bad;
    try {
      add_layers(bad, spec);
      ADD_FAILURE() << "no error for " << spec;
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
    EXPECT_EQ(bad.layer_count(), 0u) << spec;
  }
}

TEST(ModelConfig, LayerSpecDenseSettingsGoToEveryDenseLayer) {
  Sequential model;
  add_layers(model, "8:relu,3:softmax", Config{{"kernel_initializer", "he_normal"}});
  EXPECT_EQ(model.layer(0).config().at("kernel_initializer"), "he_normal");
  EXPECT_EQ(model.layer(2).config().at("kernel_initializer"), "he_normal");
  Sequential bad;
  EXPECT_THROW(add_layers(bad, "8:relu", Config{{"kernel_initializer", "no_such_initializer"}}), InvalidArgument);
}

}  // namespace
}  // namespace xdense
