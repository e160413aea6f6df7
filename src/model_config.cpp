#include "xdense/model_config.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <memory>
#include <set>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "input_file.hpp"
#include "xdense/activation.hpp"
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

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

/// The layer-spec items that are not Dense layers, by name (lower case) -> registered layer kind.
struct SpecLayer {
  const char* name;
  const char* kind;
  const char* example;
};
constexpr SpecLayer spec_layers[] = {{"dropout", "Dropout", "dropout(0.3)"},
                                     {"batchnorm", "BatchNormalization", "batchnorm"},
                                     {"layernorm", "LayerNormalization", "layernorm"}};

/// dropout(rate), batchnorm, layernorm: the layer made by make_layer(kind, config).
std::unique_ptr<Layer> spec_layer(const std::string& item, const std::string& where) {
  const auto open = item.find('(');
  const std::string name = lower(trim(item.substr(0, open)));
  const SpecLayer* found = nullptr;
  for (const SpecLayer& s : spec_layers) found = name == s.name ? &s : found;
  if (found == nullptr) {
    throw InvalidArgument(where + ": expected units[:activation] (e.g. 64:relu), dropout(rate), batchnorm or layernorm");
  }
  std::string arguments;
  if (open != std::string::npos) {
    if (item.back() != ')') throw InvalidArgument(where + ": expected " + found->example + ", a closing ')' is missing");
    arguments = trim(item.substr(open + 1, item.size() - open - 2));
  }
  Config config = Config::object();
  if (std::string(found->name) == "dropout") {
    const char* text = arguments.c_str();
    char* end = nullptr;
    errno = 0;
    const double rate = std::strtod(text, &end);
    if (arguments.empty() || end != text + arguments.size() || errno != 0 || !std::isfinite(rate)) {
      throw InvalidArgument(where + ": expected dropout(rate) with a rate in [0, 1), e.g. dropout(0.3)");
    }
    config["rate"] = rate;
  } else if (open != std::string::npos) {
    throw InvalidArgument(where + ": " + found->name + " takes no arguments (its settings are Keras's defaults; " +
                          "a JSON model config sets them)");
  }
  try {
    return make_layer(found->kind, config);
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(where + ": " + e.what());
  }
}

}  // namespace

void add_layers(Sequential& model, const std::string& spec) { add_layers(model, spec, Config::object()); }

void add_layers(Sequential& model, const std::string& spec, const Config& dense_settings) {
  if (trim(spec).empty()) throw InvalidArgument("layer spec: expected items like 64:relu,1:sigmoid, received ''");
  const auto items = split_items(spec);
  std::vector<std::unique_ptr<Layer>> layers;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string where = "layer spec item " + std::to_string(i + 1) + " '" + items[i] + "'";
    if (!items[i].empty() && !std::isdigit(static_cast<unsigned char>(items[i][0]))) {
      layers.push_back(spec_layer(items[i], where));
      continue;
    }
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
    Config config = dense_settings.is_object() ? dense_settings : Config::object();
    config["units"] = units;
    try {
      layers.push_back(make_layer("Dense", config));
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(where + ": " + e.what());
    }
    if (activation) layers.push_back(std::move(activation));
  }
  for (auto& layer : layers) model.add(std::move(layer));
}

namespace {

using nlohmann::json;

/// Deepest nesting of arrays and objects accepted. A Keras config needs 6 levels (a DTypePolicy
/// inside a layer's config); the limit keeps a hostile file (e.g. 100,000 nested brackets) from
/// exhausting the stack of recursive json code.
constexpr std::size_t max_json_depth = 32;

/// Most units a layer of a JSON config may declare (as in a --layers spec).
constexpr long long max_units = static_cast<long long>(max_config_units);

/// Most input features a JSON config may declare (the data decides in the end: this only keeps a
/// typo such as 1e12 from reaching size arithmetic).
constexpr long long max_input_width = 1LL << 31;

/// Problems listed in one message; more are counted ("... and 12 more").
constexpr std::size_t max_problems_shown = 10;

/// A JSON value for an error message, cut to a readable length.
std::string shown(const json& value) {
  constexpr std::size_t max_shown = 60;
  std::string text = value.dump();
  if (text.size() > max_shown) text = text.substr(0, max_shown - 3) + "...";
  return text;
}

/// One thing wrong in a config, at its field path ("config.layers[2].config.units").
struct Problem {
  std::string path;
  std::string message;
};

[[noreturn]] void fail(const std::string& path, const std::string& message) { throw Problem{path, message}; }

/// Every problem of one file: reading goes on after each, so one run reports them all.
class Problems {
 public:
  void add(Problem problem) { list_.push_back(std::move(problem)); }
  void add(const std::string& path, const std::string& message) { list_.push_back({path, message}); }
  /// Runs `read`; a Problem it throws is recorded. Returns whether it succeeded.
  template <class Read>
  bool attempt(Read&& read) {
    try {
      read();
      return true;
    } catch (Problem& problem) {
      add(std::move(problem));
      return false;
    }
  }
  std::size_t size() const { return list_.size(); }

  /// Throws InvalidArgument "source: path: message" for one problem, "source: N problems: path:
  /// message; path: message; ..." for several (one line).
  void throw_if_any(const std::string& source) const {
    if (list_.empty()) return;
    if (list_.size() == 1) throw InvalidArgument(source + ": " + list_[0].path + ": " + list_[0].message);
    std::string text = source + ": " + std::to_string(list_.size()) + " problems: ";
    for (std::size_t i = 0; i < list_.size() && i < max_problems_shown; ++i) {
      text += (i ? "; " : "") + list_[i].path + ": " + list_[i].message;
    }
    if (list_.size() > max_problems_shown) text += "; ... and " + std::to_string(list_.size() - max_problems_shown) + " more";
    throw InvalidArgument(text);
  }

 private:
  std::vector<Problem> list_;
};

std::string key_list(const std::set<std::string>& keys) {
  std::string list;
  for (const auto& k : keys) list += (list.empty() ? "" : ", ") + k;
  return list;
}

/// Records each key of `object` that is not in `allowed` (all of them, not only the first).
void check_keys(const json& object, const std::set<std::string>& allowed, const std::string& path, Problems& problems) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (!allowed.count(it.key())) {
      problems.add(path + "." + it.key(), "unknown key (expected one of: " + key_list(allowed) + ")");
    }
  }
}

std::string get_string(const json& object, const std::string& key, const std::string& path) {
  const json& value = object.at(key);
  if (!value.is_string()) fail(path + "." + key, "expected a string, received " + shown(value));
  return value.get<std::string>();
}

std::unique_ptr<Activation> activation_or_fail(const std::string& spec, const std::string& path) {
  try {
    return make_activation(spec);
  } catch (const InvalidArgument& e) {
    fail(path, e.what());
  }
}

/// Whether `key` looks like a misspelling of `wanted`: one begins the other, ignoring case ("unit"
/// for "units", "Units").
bool near_spelling(std::string key, std::string wanted) {
  key = lower(key);
  wanted = lower(wanted);
  if (key.size() > wanted.size()) std::swap(key, wanted);
  return key.size() >= 3 && wanted.compare(0, key.size(), key) == 0;
}

/// make_layer(kind, config) with the factory's refusals restated at their field paths: a ConfigError
/// (key, what) becomes `config_path.key: what`, any other refusal `config_path: message`. A factory
/// refuses one key at a time, so the refused key is taken out and the factory asked again: every
/// bad key of the layer is reported. When the factory misses a required key and the config holds a
/// near spelling of it ("unit" for "units"), that key is named as the unknown one it is. Null when
/// anything was refused.
std::unique_ptr<Layer> layer_or_problems(const std::string& kind, json config, const std::string& config_path,
                                         Problems& problems) {
  const std::size_t before = problems.size();
  std::set<std::string> taken_out;  // keys refused already
  for (std::size_t attempt = 0; attempt <= config.size() + 1; ++attempt) {
    try {
      std::unique_ptr<Layer> layer = make_layer(kind, config);
      return problems.size() == before ? std::move(layer) : nullptr;
    } catch (const ConfigError& e) {
      const std::string& key = e.key();
      const std::string& what = e.reason();
      if (taken_out.count(key)) return nullptr;  // a required key refused above: nothing more to learn
      if (what.rfind("missing", 0) == 0) {
        bool named = false;
        for (auto it = config.begin(); it != config.end() && !named; ++it) {
          if (it.key() != key && near_spelling(it.key(), key)) {
            problems.add(config_path + "." + it.key(),
                         "unknown key (did you mean \"" + key + "\"? " + config_path + "." + key + ": " + what + ")");
            named = true;
          }
        }
        if (!named) problems.add(config_path + "." + key, what);
        return nullptr;  // a required key: the factory cannot go on without it
      }
      problems.add(config_path + "." + key, what);
      if (!config.contains(key)) return nullptr;
      config.erase(key);
      taken_out.insert(key);
    } catch (const InvalidArgument& e) {
      problems.add(config_path, e.what());
      return nullptr;
    }
  }
  return nullptr;
}

/// Every layer's "units" (its output width) is at most 2^20, as in a --layers spec: a config
/// cannot make build() allocate a kernel of terabytes.
void check_units(const json& config, const std::string& config_path) {
  if (!config.contains("units")) return;
  const json& units = config.at("units");
  if (!units.is_number_integer() || units.get<long long>() <= 0 || units.get<long long>() > max_units) {
    fail(config_path + ".units", "expected a positive integer of at most 2^20 (1048576), received " + shown(units));
  }
}

/// Keras's float32 dtype: "float32", or a DTypePolicy object (Keras 3; FloatDTypePolicy in 3.1-3.3,
/// Policy in Keras 2) named float32. Anything else (float16, a mixed policy) would change the maths.
void check_dtype(const json& dtype, const std::string& path) {
  if (dtype.is_null() || (dtype.is_string() && dtype.get<std::string>() == "float32")) return;
  if (dtype.is_object()) {
    const std::set<std::string> policies = {"DTypePolicy", "FloatDTypePolicy", "Policy"};
    const bool policy = dtype.contains("class_name") && dtype.at("class_name").is_string() &&
                        policies.count(dtype.at("class_name").get<std::string>());
    const json* config = dtype.contains("config") ? &dtype.at("config") : nullptr;
    if (policy && config != nullptr && config->is_object() && config->contains("name") &&
        config->at("name") == "float32") {
      return;
    }
  }
  fail(path, "xdense computes in float32 only, received " + shown(dtype));
}

/// The input width a shape gives: [null, n] (a batch shape, with or without a fixed batch size)
/// or [n] (Keras 2's input_shape). Rows of features only: a shape of images or sequences is refused.
std::size_t shape_width(const json& shape, bool has_batch, const std::string& path) {
  const std::size_t rank = has_batch ? 2 : 1;
  if (!shape.is_array() || shape.size() != rank) {
    fail(path, std::string("expected ") + (has_batch ? "[null, features]" : "[features]") +
                   " (xdense reads rows of features), received " + shown(shape));
  }
  if (has_batch && !shape[0].is_null() && !(shape[0].is_number_integer() && shape[0].get<long long>() > 0)) {
    fail(path, "expected a batch size of null or a positive integer, received " + shown(shape[0]));
  }
  const json& width = shape[rank - 1];
  if (!width.is_number_integer() || width.get<long long>() <= 0 || width.get<long long>() > max_input_width) {
    fail(path, "expected a positive number of features, received " + shown(width));
  }
  return static_cast<std::size_t>(width.get<long long>());
}

/// What a config reader keeps across layers: the input width, from wherever the file states it
/// (InputLayer, a first layer's batch_input_shape or build_config, the model's build_input_shape),
/// checked to agree.
struct InputWidth {
  std::optional<std::size_t> width;
  std::string from;  ///< the path that gave it

  void set(std::size_t value, const std::string& path) {
    if (width && *width != value) {
      fail(path, "gives " + std::to_string(value) + " input features, but " + from + " gives " + std::to_string(*width));
    }
    if (!width) from = path;
    width = value;
  }
};

/// Keras's activation layers with their own class names: each becomes the xdense activation of the
/// same meaning, its settings checked (a ReLU with a max_value is not a plain relu).
constexpr const char* keras_activation_classes[] = {"ELU", "LeakyReLU", "ReLU", "Softmax"};

/// A number setting of a Keras activation layer, as the text of an activation argument.
std::string number_text(const json& config, const char* key, const std::string& config_path) {
  const json& value = config.at(key);
  if (!value.is_number()) fail(config_path + "." + key, "expected a number, received " + shown(value));
  std::ostringstream s;
  s.precision(std::numeric_limits<float>::max_digits10);
  s << value.get<double>();
  return s.str();
}

/// The activation spec a Keras activation layer's config means, e.g. "leaky_relu(0.3)"; "" for
/// none (Activation "linear").
std::string keras_activation_spec(const std::string& class_name, const json& config, const std::string& config_path,
                                  Problems& problems) {
  if (class_name == "ReLU") {
    check_keys(config, {"max_value", "negative_slope", "threshold"}, config_path, problems);
    const auto is_zero = [&](const char* key) {
      return !config.contains(key) || (config.at(key).is_number() && config.at(key).get<double>() == 0.0);
    };
    if (config.contains("max_value") && !config.at("max_value").is_null()) {
      problems.add(config_path + ".max_value", "a capped ReLU is not supported, received " + shown(config.at("max_value")) +
                                                   " (expected null)");
    }
    if (!is_zero("threshold")) {
      problems.add(config_path + ".threshold",
                   "a thresholded ReLU is not supported, received " + shown(config.at("threshold")) + " (expected 0)");
    }
    if (!is_zero("negative_slope")) return "leaky_relu(" + number_text(config, "negative_slope", config_path) + ")";
    return "relu";
  }
  if (class_name == "LeakyReLU") {  // Keras 3 names the slope negative_slope, Keras 2 alpha; 0.3 by default
    check_keys(config, {"negative_slope", "alpha"}, config_path, problems);
    std::string slope = "0.3";
    for (const char* key : {"negative_slope", "alpha"}) {
      if (config.contains(key)) slope = number_text(config, key, config_path);
    }
    return "leaky_relu(" + slope + ")";
  }
  if (class_name == "ELU") {
    check_keys(config, {"alpha"}, config_path, problems);
    return config.contains("alpha") ? "elu(" + number_text(config, "alpha", config_path) + ")" : "elu";
  }
  // Softmax over the features: axis -1 (or 1, the same axis of rows of features).
  check_keys(config, {"axis"}, config_path, problems);
  if (config.contains("axis") && config.at("axis") != -1 && config.at("axis") != 1 &&
      config.at("axis") != json::array({-1}) && config.at("axis") != json::array({1})) {
    fail(config_path + ".axis", "expected -1 (softmax over the features), received " + shown(config.at("axis")));
  }
  return "softmax";
}

/// Keras keys that are null (or false) when off, and are taken out before a factory sees them:
/// a layer without them computes the same. Set, they go to the factory, which refuses what it
/// does not support at its path. (LayerNormalization's rms_scaling is false when off.)
constexpr const char* keras_off_switches[] = {"activity_regularizer", "kernel_constraint", "bias_constraint",
                                             "beta_constraint",      "gamma_constraint",  "lora_rank",
                                             "quantization_config",  "rms_scaling"};

/// The layers of one config file, read with every problem recorded.
class ConfigReaderOfLayers {
 public:
  explicit ConfigReaderOfLayers(Problems& problems) : problems_(problems) {}

  void read_layer(const json& layer, const std::string& path, bool first) {
    if (!layer.is_object()) fail(path, "expected an object, received " + shown(layer));
    check_keys(layer, {"class_name", "config", "module", "registered_name", "build_config", "name", "inbound_nodes"},
               path, problems_);
    if (!layer.contains("class_name")) fail(path, "missing \"class_name\"");
    const std::string class_name = get_string(layer, "class_name", path);
    json config = layer.contains("config") ? layer.at("config") : json::object();
    const std::string config_path = path + ".config";
    if (!config.is_object()) fail(config_path, "expected an object, received " + shown(config));
    if (layer.contains("inbound_nodes") && !(layer.at("inbound_nodes").is_array() && layer.at("inbound_nodes").empty())) {
      problems_.add(path + ".inbound_nodes", "a Sequential model's layers have no inbound nodes, received " +
                                                 shown(layer.at("inbound_nodes")));
    }
    if (layer.contains("build_config")) {
      problems_.attempt([&] { read_build_config(layer.at("build_config"), path + ".build_config", first); });
    }
    if (class_name == "InputLayer") {
      read_input_layer(config, config_path, first);
      return;
    }
    problems_.attempt([&] { take_common_keys(config, config_path, first); });

    // A registered kind first: a program that registers its own "ReLU" layer gets it.
    const std::vector<std::string> kinds = layer_kinds();
    const bool registered = std::find(kinds.begin(), kinds.end(), class_name) != kinds.end();
    const bool keras_activation = std::find(std::begin(keras_activation_classes), std::end(keras_activation_classes),
                                            class_name) != std::end(keras_activation_classes);
    if (!registered && keras_activation) {
      const std::string spec = keras_activation_spec(class_name, config, config_path, problems_);
      add(activation_or_fail(spec, config_path));
      return;
    }
    if (!registered) {
      std::vector<std::string> expected = kinds;
      expected.insert(expected.end(), std::begin(keras_activation_classes), std::end(keras_activation_classes));
      expected.push_back("InputLayer");
      std::sort(expected.begin(), expected.end());
      fail(path + ".class_name",
           "unknown layer class " + quote_value(class_name) + " (expected one of: " + name_list(expected, 40) + ")");
    }
    if (class_name == "Activation" && config.contains("activation") && config.at("activation") == "linear") {
      check_keys(config, {"activation"}, config_path, problems_);
      return;  // the identity: no layer
    }
    // Keras's Dense takes its activation in its config: here it is the activation layer after it
    // ("linear" or "" adds none).
    std::unique_ptr<Activation> activation;
    if (class_name == "Dense" && config.contains("activation")) {
      problems_.attempt([&] {
        const std::string spec = get_string(config, "activation", config_path);
        if (spec != "linear" && !spec.empty()) activation = activation_or_fail(spec, config_path + ".activation");
      });
      config.erase("activation");
    }
    for (const char* key : keras_off_switches) {
      if (config.contains(key) && (config.at(key).is_null() || config.at(key) == false)) config.erase(key);
    }
    // Keras 2 writes a built normalization layer's axis as a list, [1] for rows of features.
    if (config.contains("axis") && config.at("axis").is_array() && config.at("axis").size() == 1 &&
        (class_name == "BatchNormalization" || class_name == "LayerNormalization")) {
      const json axis = config.at("axis")[0];
      config["axis"] = axis == 1 ? json(-1) : axis;
    }
    if (!problems_.attempt([&] { check_units(config, config_path); })) return;
    std::unique_ptr<Layer> made = layer_or_problems(class_name, config, config_path, problems_);
    if (made) add(std::move(made));
    if (activation) add(std::move(activation));
  }

  /// The model's own statement of its input shape (Sequential's build_input_shape, build_config).
  void read_model_shape(const json& shape, const std::string& path) {
    if (!shape.is_null()) input_.set(shape_width(shape, true, path), path);
  }

  void read_build_config(const json& build, const std::string& path, bool use) {
    if (!build.is_object()) fail(path, "expected an object, received " + shown(build));
    check_keys(build, {"input_shape"}, path, problems_);
    if (use && build.contains("input_shape")) read_model_shape(build.at("input_shape"), path + ".input_shape");
  }

  std::vector<std::unique_ptr<Layer>>& layers() { return layers_; }
  const std::optional<std::size_t>& input_width() const { return input_.width; }

 private:
  void add(std::unique_ptr<Layer> layer) { layers_.push_back(std::move(layer)); }

  /// Keras's InputLayer: no computation, only the input width.
  void read_input_layer(const json& config, const std::string& config_path, bool first) {
    if (!first) fail(config_path, "an InputLayer comes first in a Sequential model");
    check_keys(config, {"batch_shape", "batch_input_shape", "dtype", "sparse", "ragged", "name", "optional"},
               config_path, problems_);
    for (const char* key : {"sparse", "ragged", "optional"}) {
      if (config.contains(key) && config.at(key) != false) {
        problems_.add(config_path + "." + key, "expected false (xdense reads dense rows), received " + shown(config.at(key)));
      }
    }
    if (config.contains("dtype")) problems_.attempt([&] { check_dtype(config.at("dtype"), config_path + ".dtype"); });
    for (const char* key : {"batch_shape", "batch_input_shape"}) {
      if (config.contains(key)) {
        problems_.attempt([&] { input_.set(shape_width(config.at(key), true, config_path + "." + key), config_path + "." + key); });
      }
    }
  }

  /// The keys every Keras layer has, checked and taken out: "name" (xdense names layers itself),
  /// "dtype" (float32 only), "trainable" (true is taken out; false goes to the factory, which
  /// refuses it unless the layer can be frozen), and on a first layer Keras 2's
  /// "batch_input_shape"/"input_shape"/"batch_size", which give the input width.
  void take_common_keys(json& config, const std::string& config_path, bool first) {
    config.erase("name");
    if (config.contains("dtype")) {
      problems_.attempt([&] { check_dtype(config.at("dtype"), config_path + ".dtype"); });
      config.erase("dtype");
    }
    if (config.contains("trainable") && config.at("trainable") == true) config.erase("trainable");
    if (config.contains("batch_input_shape")) {
      const json shape = config.at("batch_input_shape");
      config.erase("batch_input_shape");
      if (first) input_.set(shape_width(shape, true, config_path + ".batch_input_shape"), config_path + ".batch_input_shape");
    }
    if (config.contains("input_shape")) {
      const json shape = config.at("input_shape");
      config.erase("input_shape");
      if (first) input_.set(shape_width(shape, false, config_path + ".input_shape"), config_path + ".input_shape");
    }
    config.erase("batch_size");
  }

  Problems& problems_;
  std::vector<std::unique_ptr<Layer>> layers_;
  InputWidth input_;
};

/// A layer without weights whose "trainable" flag means nothing: Keras's activation layers.
void drop_trainable_of_weightless(json& layer) {
  if (!layer.is_object() || !layer.contains("class_name") || !layer.contains("config")) return;
  const json& name = layer.at("class_name");
  json& config = layer.at("config");
  if (!config.is_object() || !name.is_string()) return;
  const std::string class_name = name.get<std::string>();
  const bool weightless = class_name == "Activation" || class_name == "Dropout" ||
                          std::find(std::begin(keras_activation_classes), std::end(keras_activation_classes),
                                    class_name) != std::end(keras_activation_classes);
  if (weightless) config.erase("trainable");
}

}  // namespace

std::optional<std::size_t> add_layers_from_json(Sequential& model, const std::string& json_text,
                                                const std::string& source) {
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
  Problems problems;
  ConfigReaderOfLayers reader(problems);
  json layers;
  std::string path = "layers";
  if (document.contains("layers")) {
    check_keys(document, {"layers", "name"}, "(top level)", problems);
    layers = document.at("layers");
  } else if (document.contains("config")) {
    // Keras's model.to_json(): Keras 3 adds module, registered_name, build_config and (for a
    // compiled model) compile_config, which --loss and --optimizer replace; Keras 2 adds
    // keras_version and backend.
    check_keys(document,
               {"class_name", "config", "keras_version", "backend", "module", "registered_name", "build_config",
                "compile_config"},
               "(top level)", problems);
    if (document.contains("class_name") && document.at("class_name") != "Sequential") {
      problems.add("class_name", "expected \"Sequential\" (xdense models are a stack of layers), received " +
                                     shown(document.at("class_name")));
    }
    const json& config = document.at("config");
    if (!config.is_object() || !config.contains("layers")) {
      problems.add("config", "missing \"layers\"");
      problems.throw_if_any(source);
    }
    check_keys(config, {"name", "layers", "trainable", "dtype", "build_input_shape"}, "config", problems);
    if (config.contains("dtype")) problems.attempt([&] { check_dtype(config.at("dtype"), "config.dtype"); });
    if (config.contains("trainable") && config.at("trainable") != true) {
      problems.add("config.trainable", "expected true (a frozen model does not train), received " +
                                           shown(config.at("trainable")));
    }
    if (config.contains("build_input_shape")) {
      problems.attempt([&] { reader.read_model_shape(config.at("build_input_shape"), "config.build_input_shape"); });
    }
    if (document.contains("build_config")) {
      problems.attempt([&] { reader.read_build_config(document.at("build_config"), "build_config", true); });
    }
    layers = config.at("layers");
    path = "config.layers";
  } else {
    throw InvalidArgument(source + ": expected {\"layers\": [...]} or {\"class_name\": \"Sequential\", \"config\": "
                          "{\"layers\": [...]}}");
  }
  if (!layers.is_array() || layers.empty()) {
    problems.add(path, "expected a non-empty array of layers");
    problems.throw_if_any(source);
  }
  for (std::size_t i = 0; i < layers.size(); ++i) {
    drop_trainable_of_weightless(layers[i]);
    problems.attempt([&] { reader.read_layer(layers[i], path + "[" + std::to_string(i) + "]", i == 0); });
  }
  if (problems.size() == 0 && reader.layers().empty()) problems.add(path, "no layer that computes anything (only an InputLayer)");
  problems.throw_if_any(source);
  for (auto& layer : reader.layers()) model.add(std::move(layer));
  return reader.input_width();
}

std::optional<std::size_t> add_layers_from_json_file(Sequential& model, const std::string& path) {
  detail::InputFile file(path);
  return add_layers_from_json(model, file.read_all(max_json_bytes, "JSON model config"), path);
}

}  // namespace xdense
