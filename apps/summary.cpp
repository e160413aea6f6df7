// `xdense summary`: architecture, data contract (feature names, label column), loss, optimizer,
// classes, preprocessing with its statistics and how the model was trained; `--json` gives the
// same as one JSON object (keys listed above summary_json()).

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "model_support.hpp"
#include "xdense/activation.hpp"
#include "xdense/error.hpp"
#include "xdense/loss.hpp"
#include "xdense/optimizer.hpp"
#include "xdense/preprocessing.hpp"

namespace xdense::cli {
namespace {

using Json = nlohmann::ordered_json;

/// Features listed in the text report; --json and export --npy give all of them.
constexpr std::size_t features_shown = 20;

/// The format version in the file's header (bytes 8-11, little-endian), read after load_model()
/// has validated the file: the version it was written with, not the one this build writes.
std::uint32_t file_format_version(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char header[12] = {};
  if (!in.read(reinterpret_cast<char*>(header), sizeof header)) throw DataError(path + ": cannot read the header");
  return header[8] | header[9] << 8 | header[10] << 16 | static_cast<std::uint32_t>(header[11]) << 24;
}

/// `value` as a JSON number: the shortest decimal that reads back as the same float, so 0.001f
/// prints as 0.001 and (float)json == value. A valid model file holds only finite numbers; anything
/// else is refused rather than printed as null.
Json json_number(float value, const std::string& model, const std::string& what) {
  if (!std::isfinite(value)) {
    throw DataError(model + ": " + what + " is " + std::to_string(value) + ", not a finite number");
  }
  char text[32];
  for (int digits = 6; digits <= 9; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, static_cast<double>(value));
    if (std::strtof(text, nullptr) == value) break;
  }
  return std::strtod(text, nullptr);
}

Json json_numbers(const Vector& values, const std::string& model, const std::string& what) {
  Json out = Json::array();
  for (std::size_t i = 0; i < values.size(); ++i)
    out.push_back(json_number(values(i), model, what + "[" + std::to_string(i) + "]"));
  return out;
}

std::size_t parameter_count(const std::vector<Parameter>& parameters) {
  std::size_t count = 0;
  for (const Parameter& p : parameters) count += p.size;
  return count;
}

/// The model's optimizer's settings as (key, value) pairs: its config(), learning_rate first (every
/// optimizer has one), the other keys in the config's order, with Keras's names (beta_1).
std::vector<std::pair<std::string, Config>> optimizer_settings(const Optimizer& optimizer) {
  const Config config = optimizer.config();
  std::vector<std::pair<std::string, Config>> settings;
  settings.emplace_back("learning_rate",
                        config.contains("learning_rate") ? config.at("learning_rate") : Config(optimizer.learning_rate()));
  for (auto it = config.begin(); it != config.end(); ++it) {
    if (it.key() == "learning_rate") continue;
    settings.emplace_back(it.key(), it.value());
  }
  return settings;
}

/// Whether a config number holds a float exactly (what built-in components store): printed as
/// that float. A double of a user's component that no float holds is printed as the double.
bool holds_float(const Config& value) {
  const double v = value.get<double>();
  return std::abs(v) <= std::numeric_limits<float>::max() && static_cast<double>(static_cast<float>(v)) == v;
}

/// A config value for the text report: a number as the float it holds (%g), a string bare, other
/// values as JSON.
std::string setting_text(const Config& value) {
  if (value.is_number_float() && holds_float(value)) {
    char number[32];
    std::snprintf(number, sizeof number, "%g", static_cast<double>(value.get<float>()));
    return number;
  }
  return value.is_string() ? value.get<std::string>() : value.dump();
}

/// A config value for --json: a number as the shortest decimal of the float it holds (json_number),
/// anything else as it is.
Json setting_json(const Config& value, const std::string& model, const std::string& what) {
  if (value.is_number_float() && holds_float(value)) return json_number(value.get<float>(), model, what);
  if (value.is_object()) {
    Json out = Json::object();
    for (auto it = value.begin(); it != value.end(); ++it) out[it.key()] = setting_json(it.value(), model, what + "." + it.key());
    return out;
  }
  if (value.is_array()) {
    Json out = Json::array();
    for (std::size_t i = 0; i < value.size(); ++i) out.push_back(setting_json(value[i], model, what));
    return out;
  }
  return Json::parse(value.dump());
}

/// "(30, 16)" for a parameter's shape ("(size)" when it has none).
std::string shape_text(const Parameter& p) {
  if (p.shape.empty()) return "(" + std::to_string(p.size) + ")";
  std::string text;
  for (std::size_t d : p.shape) text += (text.empty() ? "(" : ", ") + std::to_string(d);
  return text + ")";
}

/// One line per layer from what it says of itself: "  dense  Dense: units=16, use_bias=true, ...;
/// kernel (30, 16), bias (16)", so a layer of any kind shows its settings and weights.
void print_layer_settings(const Sequential& model) {
  std::size_t name_width = 0;
  for (std::size_t i = 0; i < model.layer_count(); ++i) name_width = std::max(name_width, model.layer_name(i).size());
  std::printf("Layers (kind: config; weights):\n");
  for (std::size_t i = 0; i < model.layer_count(); ++i) {
    const Layer& layer = model.layer(i);
    const Config config = layer.config();
    std::string line = layer.kind() + ":";
    std::string separator = " ";
    for (auto it = config.begin(); it != config.end(); ++it) {
      line += separator + it.key() + "=" + setting_text(it.value());
      separator = ", ";
    }
    separator = "; ";
    for (const Parameter& p : layer.parameters()) {
      line += separator + p.name + " " + shape_text(p);
      separator = ", ";
    }
    for (const Parameter& p : layer.non_trainable_weights()) {
      line += separator + p.name + " " + shape_text(p) + " (non-trainable)";
      separator = ", ";
    }
    std::printf("  %-*s  %s\n", static_cast<int>(name_width), model.layer_name(i).c_str(), line.c_str());
  }
}


// Keys of `xdense summary --json` (one object, in this order):
//   model           the --model path as given
//   format_version  the model file's format version
//   inputs          number of input features
//   outputs         number of output units
//   layers          [{name, type, kind (the layer's registered kind: "Dense", "Activation", ...),
//                   config (what make_layer(kind, config) rebuilds it from), inputs, units (output
//                   units), params (trainable), non_trainable_params (state such as
//                   BatchNormalization's moving statistics), then activation (spec such as "leaky_relu(0.3)", accepted by
//                   --layers) for an activation}]
//   loss            {name, from_logits (computed from the output layer's logits)}
//   optimizer       {name, learning_rate, then the rest of its config, Keras's keys: momentum,
//                   nesterov (sgd) or beta_1, beta_2, epsilon (adam)}
//   task            "classification" or "regression"
//   classes         class names, label i <-> classes[i] ([] for a regression)
//   target_names    a regressor's target columns, one per output unit ([] for a classifier, or
//                   when the model file does not name them)
//   feature_names   the input columns, matched by name when predicting ([] for IDX / NPY data)
//   label_column    the training data's label column, or null when the model does not record one
//   preprocessing   {"standardize": {"mean": [...], "std": [...]}} (one per feature) and, for a regressor
//                   trained with --standardize-targets, "standardize_targets": {"mean": [...], "std":
//                   [...]} (one per target); null when there is neither
//   total_params    number of trainable parameters
//   training        the training record: metadata key -> value, both strings, in file order
// Floats are the shortest decimals that read back as the stored float32.
Json summary_json(const std::string& path, SavedModel& saved) {
  Sequential& model = saved.model;
  const ModelInfo& info = saved.info;
  Json out;
  out["model"] = path;
  out["format_version"] = file_format_version(path);
  out["inputs"] = model.input_units();
  out["outputs"] = model.output_units();
  Json layers = Json::array();
  for (std::size_t i = 0; i < model.layer_count(); ++i) {
    Layer& layer = model.layer(i);
    Json entry;
    entry["name"] = model.layer_name(i);
    entry["type"] = layer.type_name();
    entry["kind"] = layer.kind();
    entry["config"] = setting_json(layer.config(), path, model.layer_name(i) + " config");
    entry["inputs"] = layer.input_units();
    entry["units"] = layer.output_units();
    entry["params"] = parameter_count(layer.parameters());
    // State such as BatchNormalization's moving statistics, counted apart as Keras does.
    entry["non_trainable_params"] = parameter_count(layer.non_trainable_weights());
    if (const Activation* activation = layer.as_activation()) entry["activation"] = activation->spec();
    layers.push_back(std::move(entry));
  }
  out["layers"] = std::move(layers);
  out["loss"] = {{"name", model.loss()->name()}, {"config", model.loss()->config()}, {"from_logits", model.loss_from_logits()}};
  Json optimizer;
  optimizer["name"] = model.optimizer()->name();
  for (const auto& [key, value] : optimizer_settings(*model.optimizer()))
    optimizer[key] = setting_json(value, path, "optimizer " + key);
  out["optimizer"] = std::move(optimizer);
  out["task"] = info.task;
  out["classes"] = info.class_names;
  out["target_names"] = info.target_names;
  out["feature_names"] = info.feature_names;
  const std::string label_column = metadata_value(info, "label_column");
  out["label_column"] = label_column.empty() ? Json() : Json(label_column);
  out["preprocessing"] = nullptr;
  if (info.standardizer) {
    out["preprocessing"]["standardize"] = {{"mean", json_numbers(info.standardizer->mean(), path, "standardize mean")},
                                           {"std", json_numbers(info.standardizer->scale(), path, "standardize std")}};
  }
  if (const std::optional<Standardizer>& targets = info.target_standardizer) {
    out["preprocessing"]["standardize_targets"] = {
        {"mean", json_numbers(targets->mean(), path, "standardize_targets mean")},
        {"std", json_numbers(targets->scale(), path, "standardize_targets std")}};
  }
  out["total_params"] = model.parameter_count();
  Json training = Json::object();
  for (const auto& [key, value] : info.metadata) training[key] = value;
  out["training"] = std::move(training);
  return out;
}

/// "a, b, c" wrapped at about 100 columns, continuation lines indented by two spaces.
std::string wrapped_list(const std::vector<std::string>& items, std::size_t first_column) {
  std::string out;
  std::size_t column = first_column;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string item = items[i] + (i + 1 < items.size() ? "," : "");
    if (i > 0 && column + 1 + item.size() > 100) {
      out += "\n  ";
      column = 2;
    } else if (i > 0) {
      out += " ";
      ++column;
    }
    out += item;
    column += item.size();
  }
  return out;
}

/// "  ... and N more features (all of them: WHERE)" when the text report lists only some.
std::string more_text(std::size_t total, const char* where) {
  return total > features_shown
             ? "  ... and " + std::to_string(total - features_shown) + " more features (all of them: " + where + ")\n"
             : std::string();
}

void print_data_contract(const SavedModel& saved) {
  const std::vector<std::string>& names = saved.info.feature_names;
  if (names.empty()) {
    std::printf("Features: %zu unnamed columns (IDX or NPY data), taken by position\n", saved.model.input_units());
  } else {
    // A model trained on a CSV without a header row reads its columns by position.
    const bool by_position = metadata_value(saved.info, "header") == "false";
    const std::string head =
        "Features (" + std::to_string(names.size()) +
        (by_position ? ", CSV without a header row: taken by position):" : ", matched by name when predicting):");
    const std::vector<std::string> shown(names.begin(), names.begin() + std::min(names.size(), features_shown));
    std::printf("%s %s\n%s", head.c_str(), wrapped_list(shown, head.size() + 1).c_str(),
                more_text(names.size(), "xdense summary --json").c_str());
  }
  const std::string label_column = metadata_value(saved.info, "label_column");
  if (!label_column.empty()) std::printf("Label column: %s\n", label_column.c_str());
}

void print_standardizer(const Standardizer& standardizer, const std::vector<std::string>& names) {
  const std::size_t count = standardizer.mean().size();
  std::printf(
      "Preprocessing: standardize, x' = (x - mean) / std per feature (statistics of the training data, %zu features)\n",
      count);
  const std::size_t shown = std::min(count, features_shown);
  std::size_t name_width = std::string("feature").size();
  for (std::size_t i = 0; i < shown && !names.empty(); ++i) name_width = std::max(name_width, names[i].size());
  if (names.empty()) {
    std::printf("  %7s %14s %14s\n", "feature", "mean", "std");
  } else {
    std::printf("  %5s  %-*s %14s %14s\n", "#", static_cast<int>(name_width), "feature", "mean", "std");
  }
  for (std::size_t i = 0; i < shown; ++i) {
    const double mean = standardizer.mean()(i), scale = standardizer.scale()(i);
    if (names.empty()) {
      std::printf("  %7zu %14.6g %14.6g\n", i, mean, scale);
    } else {
      std::printf("  %5zu  %-*s %14.6g %14.6g\n", i, static_cast<int>(name_width), names[i].c_str(), mean, scale);
    }
  }
  std::printf("%s", more_text(count, "xdense summary --json, or xdense export --npy DIR").c_str());
}

/// A regressor's --standardize-targets statistics, one line per target.
void print_target_standardizer(const Standardizer& standardizer, const std::vector<std::string>& names) {
  std::printf("Targets standardized: the network predicts (y - mean) / std; predict and evaluate give y = output * "
              "std + mean\n");
  std::size_t width = std::string("target").size();
  for (const std::string& name : names) width = std::max(width, name.size());
  std::printf("  %-*s %14s %14s\n", static_cast<int>(width), "target", "mean", "std");
  for (std::size_t i = 0; i < standardizer.mean().size(); ++i) {
    const std::string name = i < names.size() ? names[i] : std::to_string(i);
    std::printf("  %-*s %14.6g %14.6g\n", static_cast<int>(width), name.c_str(), standardizer.mean()(i),
                standardizer.scale()(i));
  }
}

}  // namespace

int run_summary(const SummaryOptions& o) {
  SavedModel saved = load_model(o.model);
  if (o.json) {
    // Strings come from data files and may not be UTF-8: replace bad bytes rather than fail.
    std::cout << summary_json(o.model, saved).dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
    return exit_ok;
  }
  Sequential& model = saved.model;
  std::cout << model.summary();
  print_layer_settings(model);
  std::printf("Inputs: %zu features\n", model.input_units());
  print_data_contract(saved);
  std::string loss_notes;  // its settings (label_smoothing=0.1, delta=1), then how it is computed
  const Config loss_config = model.loss()->config();
  for (const auto& [key, value] : loss_config.items())
    loss_notes += (loss_notes.empty() ? "" : ", ") + key + "=" + setting_text(value);
  if (model.loss_from_logits()) loss_notes += (loss_notes.empty() ? "" : "; ") + std::string("computed from logits");
  std::printf("Loss: %s%s\n", model.loss()->name().c_str(), loss_notes.empty() ? "" : (" (" + loss_notes + ")").c_str());
  std::string settings;
  for (const auto& [key, value] : optimizer_settings(*model.optimizer()))
    settings += (settings.empty() ? "" : ", ") + key + "=" + setting_text(value);
  std::printf("Optimizer: %s (%s)\n", model.optimizer()->name().c_str(), settings.c_str());
  if (saved.info.task == "regression") {
    std::printf("Task: %s\n", regression_text(model.output_units(), saved.info.target_names).c_str());
  } else {
    const auto& names = saved.info.class_names;
    std::printf("Classes (%zu):", names.size());
    for (std::size_t i = 0; i < names.size(); ++i) std::printf("%s %s", i ? "," : "", names[i].c_str());
    std::printf("\n");
  }
  if (saved.info.standardizer) {
    print_standardizer(*saved.info.standardizer, saved.info.feature_names);
  } else {
    std::printf("Preprocessing: none\n");
  }
  if (saved.info.target_standardizer) print_target_standardizer(*saved.info.target_standardizer, saved.info.target_names);
  if (!saved.info.metadata.empty()) {
    std::printf("Training:\n");
    for (const auto& entry : saved.info.metadata) std::printf("  %s: %s\n", entry.first.c_str(), entry.second.c_str());
  }
  return exit_ok;
}

}  // namespace xdense::cli
