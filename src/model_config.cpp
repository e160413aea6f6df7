#include "xdense/model_config.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <iterator>
#include <limits>
#include <memory>
#include <set>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "input_file.hpp"
#include "xdense/activation.hpp"
#include "xdense/dense.hpp"
#include "xdense/error.hpp"
#include "xdense/layer.hpp"
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

/// Most units a layer of a JSON config may declare (as in a --layers spec).
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

/// Whether `key` looks like a misspelling of `wanted`: one begins the other, ignoring case ("unit"
/// for "units", "Units").
bool near_spelling(std::string key, std::string wanted) {
  for (std::string* text : {&key, &wanted}) {
    std::transform(text->begin(), text->end(), text->begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  }
  if (key.size() > wanted.size()) std::swap(key, wanted);
  return key.size() >= 3 && wanted.compare(0, key.size(), key) == 0;
}

/// make_layer(kind, config) with the factory's refusal restated at its field path: a ConfigError
/// (key, what) becomes `source: config_path.key: what`, any other refusal
/// `source: config_path: message`. When the factory misses a required key and the config holds a
/// near spelling of it ("unit" for "units"), that key is named as the unknown one it is.
std::unique_ptr<Layer> layer_or_fail(const std::string& kind, const json& config, const std::string& source,
                                     const std::string& config_path) {
  try {
    return make_layer(kind, config);
  } catch (const ConfigError& e) {
    const std::string& key = e.key();
    const std::string& what = e.reason();
    if (what.rfind("missing", 0) == 0) {
      for (auto it = config.begin(); it != config.end(); ++it) {
        if (it.key() != key && near_spelling(it.key(), key)) {
          fail(source, config_path + "." + it.key(),
               "unknown key (did you mean \"" + key + "\"? " + config_path + "." + key + ": " + what + ")");
        }
      }
    }
    fail(source, config_path + "." + key, what);
  } catch (const InvalidArgument& e) {
    fail(source, config_path, e.what());
  }
}

/// Every layer's "units" (its output width) is at most 2^20, as in a --layers spec: a config
/// cannot make build() allocate a kernel of terabytes.
void check_units(const json& config, const std::string& source, const std::string& config_path) {
  if (!config.contains("units")) return;
  const json& units = config.at("units");
  if (!units.is_number_integer() || units.get<long long>() <= 0 || units.get<long long>() > max_units) {
    fail(source, config_path + ".units", "expected a positive integer of at most 2^20 (1048576), received " + shown(units));
  }
}

/// Keras's activation layers with their own class names, as {"class_name": "LeakyReLU", ...}: each
/// becomes the xdense activation of the same meaning. Any other class is a registered layer kind.
constexpr const char* keras_activation_classes[] = {"LeakyReLU", "ReLU", "Softmax"};

void add_keras_activation(Sequential& model, const std::string& class_name, const json& config,
                          const std::string& source, const std::string& config_path) {
  if (class_name != "LeakyReLU") {
    check_keys(config, {"name"}, source, config_path);
    model.add(make_activation(class_name == "ReLU" ? "relu" : "softmax"));
    return;
  }
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
}

void add_layer(Sequential& model, const json& layer, const std::string& source, const std::string& path) {
  if (!layer.is_object()) fail(source, path, "expected an object, received " + shown(layer));
  check_keys(layer, {"class_name", "config"}, source, path);
  if (!layer.contains("class_name")) fail(source, path, "missing \"class_name\"");
  const std::string class_name = get_string(layer, "class_name", source, path);
  json config = layer.contains("config") ? layer.at("config") : json::object();
  const std::string config_path = path + ".config";
  if (!config.is_object()) fail(source, config_path, "expected an object, received " + shown(config));

  // A registered kind first: a program that registers its own "ReLU" layer gets it.
  const std::vector<std::string> kinds = layer_kinds();
  const bool registered = std::find(kinds.begin(), kinds.end(), class_name) != kinds.end();
  if (!registered && std::find(std::begin(keras_activation_classes), std::end(keras_activation_classes), class_name) !=
                         std::end(keras_activation_classes)) {
    add_keras_activation(model, class_name, config, source, config_path);
    return;
  }
  if (!registered) {
    std::vector<std::string> expected = kinds;
    expected.insert(expected.end(), std::begin(keras_activation_classes), std::end(keras_activation_classes));
    fail(source, path + ".class_name",
         "unknown layer class " + quote_value(class_name) + " (expected one of: " + name_list(expected, 40) + ")");
  }
  // Keras's Dense takes its activation in its config: here it is the activation layer after it
  // ("linear" or "" adds none).
  std::unique_ptr<Activation> activation;
  if (class_name == "Dense" && config.contains("activation")) {
    const std::string spec = get_string(config, "activation", source, config_path);
    if (spec != "linear" && !spec.empty()) activation = activation_or_fail(spec, source, config_path + ".activation");
    config.erase("activation");
  }
  config.erase("name");  // Keras names every layer; xdense names them itself
  check_units(config, source, config_path);
  model.add(layer_or_fail(class_name, config, source, config_path));
  if (activation) model.add(std::move(activation));
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
