#include "xdense/model_config.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>  // mkdtemp
#include <unistd.h>  // rmdir

#include <cstdio>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "xdense/builtin_activations.hpp"
#include "xdense/config.hpp"
#include "xdense/dense.hpp"
#include "xdense/error.hpp"
#include "xdense/sequential.hpp"

namespace xdense {
namespace {

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

}  // namespace
}  // namespace xdense
