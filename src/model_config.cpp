#include "xdense/model_config.hpp"

#include <cstdint>
#include <limits>
#include <memory>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "input_file.hpp"
#include "xdense/activation.hpp"
#include "xdense/dense.hpp"
#include "xdense/error.hpp"
#include "xdense/sequential.hpp"

namespace xdense {
namespace {

/// Largest JSON model config read: a layer takes well under a KiB, so 16 MiB is thousands of
/// times more than any real config; a larger file (or /dev/zero) is refused before it is read.
constexpr std::uint64_t max_json_bytes = std::uint64_t{16} << 20;

// Splits at commas outside parentheses: "8:leaky_relu(0.1),1" -> {"8:leaky_relu(0.1)", "1"}.
std::vector<std::string> split_items(const std::string& spec) {
  std::vector<std::string> items;
  std::string current;
  int depth = 0;
  for (char c : spec) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      items.push_back(trim(current));
      current.clear();
    } else {
      current += c;
    }
  }
  items.push_back(trim(current));
  return items;
}

/// Most units a layer of a --layers spec or JSON config may have: far beyond any dense layer that
/// fits in memory with its inputs (2^20 units after 784 inputs is a 3.3 GB kernel).
constexpr std::size_t max_config_units = std::size_t{1} << 20;

std::size_t parse_units(const std::string& text, const std::string& where) {
  const std::string t = trim(text);
  bool digits = !t.empty() && t.size() <= 9;
  for (char c : t) digits = digits && c >= '0' && c <= '9';
  const std::size_t units = digits ? std::stoul(t) : 0;
  if (!digits || units == 0) {
    throw InvalidArgument(where + ": expected a positive number of units, received '" + t.substr(0, 40) + "'");
  }
  if (units > max_config_units) {
    throw InvalidArgument(where + ": at most 1048576 (2^20) units, received " + t);
  }
  return units;
}

}  // namespace

void add_layers(Sequential& model, const std::string& spec) {
  if (trim(spec).empty()) throw InvalidArgument("layer spec: expected items like 64:relu,1:sigmoid, received ''");
  const auto items = split_items(spec);
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string where = "layer spec item " + std::to_string(i + 1) + " '" + items[i] + "'";
    const auto colon = items[i].find(':');
    const std::size_t units = parse_units(items[i].substr(0, colon), where);
    std::unique_ptr<Activation> activation;
    if (colon != std::string::npos) {
      try {
        activation = make_activation(items[i].substr(colon + 1));
      } catch (const InvalidArgument& e) {
        throw InvalidArgument(where + ": " + e.what());
      }
    }
    model.add(std::make_unique<Dense>(units));
    if (activation) model.add(std::move(activation));
  }
}

namespace {

using nlohmann::json;

/// Deepest nesting of arrays and objects accepted. A config needs 4 levels; the limit keeps a
/// hostile file (e.g. 100,000 nested brackets) from exhausting the stack of recursive json code.
constexpr std::size_t max_json_depth = 32;

/// Most units a Dense layer of a JSON config may declare (as in a --layers spec).
constexpr long long max_units = static_cast<long long>(max_config_units);

/// A JSON value for an error message, cut to a readable length.
std::string shown(const json& value) {
  constexpr std::size_t max_shown = 60;
  std::string text = value.dump();
  if (text.size() > max_shown) text = text.substr(0, max_shown - 3) + "...";
  return text;
}

[[noreturn]] void fail(const std::string& source, const std::string& path, const std::string& message) {
  throw InvalidArgument(source + ": " + path + ": " + message);
}

void check_keys(const json& object, const std::set<std::string>& allowed, const std::string& source,
                const std::string& path) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (!allowed.count(it.key())) {
      std::string list;
      for (const auto& k : allowed) list += (list.empty() ? "" : ", ") + k;
      fail(source, path + "." + it.key(), "unknown key (expected one of: " + list + ")");
    }
  }
}

std::string get_string(const json& object, const std::string& key, const std::string& source,
                       const std::string& path) {
  const json& value = object.at(key);
  if (!value.is_string()) fail(source, path + "." + key, "expected a string, received " + shown(value));
  return value.get<std::string>();
}

std::unique_ptr<Activation> activation_or_fail(const std::string& spec, const std::string& source,
                                               const std::string& path) {
  try {
    return make_activation(spec);
  } catch (const InvalidArgument& e) {
    fail(source, path, e.what());
  }
}

void add_layer(Sequential& model, const json& layer, const std::string& source, const std::string& path) {
  if (!layer.is_object()) fail(source, path, "expected an object, received " + shown(layer));
  check_keys(layer, {"class_name", "config"}, source, path);
  if (!layer.contains("class_name")) fail(source, path, "missing \"class_name\"");
  const std::string class_name = get_string(layer, "class_name", source, path);
  const json config = layer.contains("config") ? layer.at("config") : json::object();
  const std::string config_path = path + ".config";
  if (!config.is_object()) fail(source, config_path, "expected an object, received " + shown(config));

  if (class_name == "Dense") {
    check_keys(config, {"units", "activation", "use_bias", "kernel_initializer", "bias_initializer", "name"},
               source, config_path);
    if (!config.contains("units")) fail(source, config_path, "missing \"units\"");
    const json& units = config.at("units");
    if (!units.is_number_integer() || units.get<long long>() <= 0 || units.get<long long>() > max_units) {
      fail(source, config_path + ".units",
           "expected a positive integer of at most 2^20 (1048576), received " + shown(units));
    }
    DenseOptions options;
    if (config.contains("use_bias")) {
      if (!config.at("use_bias").is_boolean()) {
        fail(source, config_path + ".use_bias", "expected true or false, received " + shown(config.at("use_bias")));
      }
      options.use_bias = config.at("use_bias").get<bool>();
    }
    if (config.contains("kernel_initializer"))
      options.kernel_initializer = get_string(config, "kernel_initializer", source, config_path);
    if (config.contains("bias_initializer"))
      options.bias_initializer = get_string(config, "bias_initializer", source, config_path);
    std::unique_ptr<Dense> dense;
    try {
      dense = std::make_unique<Dense>(units.get<std::size_t>(), 0, options);
    } catch (const InvalidArgument& e) {
      fail(source, config_path, e.what());
    }
    std::unique_ptr<Activation> activation;
    if (config.contains("activation")) {
      const std::string spec = get_string(config, "activation", source, config_path);
      if (spec != "linear" && !spec.empty()) activation = activation_or_fail(spec, source, config_path + ".activation");
    }
    model.add(std::move(dense));
    if (activation) model.add(std::move(activation));
  } else if (class_name == "Activation") {
    check_keys(config, {"activation", "name"}, source, config_path);
    if (!config.contains("activation")) fail(source, config_path, "missing \"activation\"");
    model.add(activation_or_fail(get_string(config, "activation", source, config_path), source,
                                 config_path + ".activation"));
  } else if (class_name == "LeakyReLU") {
    check_keys(config, {"negative_slope", "alpha", "name"}, source, config_path);
    std::string spec = "leaky_relu";
    for (const char* key : {"negative_slope", "alpha"}) {
      if (!config.contains(key)) continue;
      if (!config.at(key).is_number()) {
        fail(source, config_path + "." + key, "expected a number, received " + shown(config.at(key)));
      }
      std::ostringstream s;
      s.precision(std::numeric_limits<float>::max_digits10);
      s << "leaky_relu(" << config.at(key).get<double>() << ")";
      spec = s.str();
    }
    model.add(activation_or_fail(spec, source, config_path));
  } else if (class_name == "ReLU" || class_name == "Softmax") {
    check_keys(config, {"name"}, source, config_path);
    model.add(make_activation(class_name == "ReLU" ? "relu" : "softmax"));
  } else {
    fail(source, path + ".class_name",
         "unknown layer class '" + class_name + "' (expected Dense, Activation, LeakyReLU, ReLU or Softmax)");
  }
}

}  // namespace

void add_layers_from_json(Sequential& model, const std::string& json_text, const std::string& source) {
  json document;
  // Refuses deep nesting while parsing, before anything recursive runs over the document.
  const json::parser_callback_t limit_depth = [&](int depth, json::parse_event_t event, json&) {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) &&
        static_cast<std::size_t>(depth) >= max_json_depth) {
      throw InvalidArgument(source + ": invalid JSON: nested deeper than " + std::to_string(max_json_depth) +
                            " levels");
    }
    return true;
  };
  try {
    document = json::parse(json_text, limit_depth);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number like 1e400
    throw InvalidArgument(source + ": invalid JSON: " + e.what());
  }
  if (!document.is_object()) throw InvalidArgument(source + ": expected a JSON object at the top level");
  const json* layers = nullptr;
  std::string path = "layers";
  if (document.contains("layers")) {
    check_keys(document, {"layers", "name"}, source, "(top level)");
    layers = &document.at("layers");
  } else if (document.contains("config")) {
    check_keys(document, {"class_name", "config", "keras_version", "backend"}, source, "(top level)");
    if (document.contains("class_name") && document.at("class_name") != "Sequential") {
      fail(source, "class_name", "expected \"Sequential\", received " + shown(document.at("class_name")));
    }
    const json& config = document.at("config");
    if (!config.is_object() || !config.contains("layers")) fail(source, "config", "missing \"layers\"");
    layers = &config.at("layers");
    path = "config.layers";
  } else {
    throw InvalidArgument(source + ": expected {\"layers\": [...]} or {\"class_name\": \"Sequential\", \"config\": "
                          "{\"layers\": [...]}}");
  }
  if (!layers->is_array() || layers->empty()) fail(source, path, "expected a non-empty array of layers");
  for (std::size_t i = 0; i < layers->size(); ++i) {
    add_layer(model, (*layers)[i], source, path + "[" + std::to_string(i) + "]");
  }
}

void add_layers_from_json_file(Sequential& model, const std::string& path) {
  detail::InputFile file(path);
  add_layers_from_json(model, file.read_all(max_json_bytes, "JSON model config"), path);
}

}  // namespace xdense
