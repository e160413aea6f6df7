#include "keras_layer_keys.hpp"

#include <nlohmann/json.hpp>

namespace xdense::detail {
namespace {

// "float32", or {"class_name": "DTypePolicy" (FloatDTypePolicy in Keras 3.1-3.3, Policy in
// Keras 2), "config": {"name": "float32"}, ...}.
bool is_float32(const Config& dtype) {
  if (dtype.is_null() || dtype == "float32") return true;
  if (!dtype.is_object() || !dtype.contains("config")) return false;
  const Config& config = dtype.at("config");
  return config.is_object() && config.contains("name") && config.at("name") == "float32";
}

}  // namespace

void read_keras_layer_keys(ConfigReader& in, const Config& config) {
  in.ignore("name");
  if (!in.boolean("trainable", true)) {
    in.fail("trainable", "expected true (xdense has no frozen layers), received false");
  }
  in.ignore("dtype");
  if (config.contains("dtype") && !is_float32(config.at("dtype"))) {
    in.fail("dtype", "xdense computes in float32 only, received " + config.at("dtype").dump());
  }
}

void read_null_keys(ConfigReader& in, const Config& config, std::initializer_list<const char*> keys,
                    const char* what) {
  for (const char* key : keys) {
    in.ignore(key);
    if (config.contains(key) && !config.at(key).is_null()) {
      in.fail(key, std::string("expected null (") + what + "), received " + config.at(key).dump());
    }
  }
}

void read_feature_axis(ConfigReader& in, const Config& config, const char* what) {
  in.ignore("axis");
  if (!config.contains("axis")) return;
  const Config& axis = config.at("axis");
  const Config& single = axis.is_array() && axis.size() == 1 ? axis.at(0) : axis;
  if (!(single == -1 || single == 1)) {
    in.fail("axis", std::string("expected -1 (") + what + ", the last axis), received " + axis.dump());
  }
}

double read_epsilon(ConfigReader& in, const Config& config, double fallback) {
  const double epsilon = in.number("epsilon", fallback);
  if (!(epsilon > 0.0 && epsilon < 1e30)) in.fail("epsilon", "expected a positive number, received " + config.at("epsilon").dump());
  return epsilon;
}

}  // namespace xdense::detail
