#include "training_control.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "data_files.hpp"
#include "model_support.hpp"
#include "schedule_spec.hpp"
#include "xdense/atomic_file.hpp"
#include "xdense/callbacks/early_stopping.hpp"
#include "xdense/callbacks/model_checkpoint.hpp"
#include "xdense/callbacks/reduce_lr_on_plateau.hpp"
#include "xdense/error.hpp"
#include "xdense/metric.hpp"

namespace xdense::cli {

const char* const training_control_keys[10] = {"early-stopping", "monitor",     "min-delta",    "restore-best-weights",
                                               "save-best",      "reduce-lr-on-plateau", "lr-schedule", "class-weight",
                                               "threshold",      "metrics"};

namespace {

// Bounds no real run reaches (as --epochs'): a typo fails at once.
constexpr long long max_patience = 1'000'000;

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

// A whole decimal number (strtod reads "0x10" and "inf" too: refused here).
bool parse_number(const std::string& text, double& value) {
  if (text.empty() || text.find_first_not_of("0123456789+-.eE") != std::string::npos) return false;
  char* end = nullptr;
  value = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(value);
}

// The callbacks that watch --monitor, as "--early-stopping" for messages ("" when none is given).
std::string first_monitoring_flag(const TrainingControlOptions& c) {
  if (c.early_stopping) return "--early-stopping";
  if (!c.reduce_lr_on_plateau.empty()) return "--reduce-lr-on-plateau";
  if (!c.save_best.empty()) return "--save-best";
  return "";
}

std::string monitor_of(const TrainingControlOptions& c) { return c.monitor.empty() ? "val_loss" : c.monitor; }

// --reduce-lr-on-plateau's "factor=0.5,patience=3[,min_delta=...,cooldown=...,min_lr=...]" over
// Keras's defaults, with --monitor.
ReduceLROnPlateauOptions plateau_options(const TrainingControlOptions& c) {
  const std::string flag = "--reduce-lr-on-plateau";
  const std::string expected = "expected KEY=VALUE items, e.g. factor=0.5,patience=3 (keys: factor, patience, min_delta, "
                               "cooldown, min_lr)";
  ReduceLROnPlateauOptions options;
  options.monitor = monitor_of(c);
  std::set<std::string> seen;
  for (const std::string& item : split_list(c.reduce_lr_on_plateau, flag)) {
    const auto equals = item.find('=');
    const std::string key = trim(item.substr(0, equals));
    if (equals == std::string::npos || key.empty()) throw InvalidArgument(flag + ": " + expected + ", received " + quote_value(item));
    if (!seen.insert(key).second) throw InvalidArgument(flag + ": " + quote_value(key) + " is given twice");
    const std::string text = trim(item.substr(equals + 1));
    double value = 0.0;
    if (!parse_number(text, value)) {
      throw InvalidArgument(flag + ": " + key + ": expected a finite number, received " + quote_value(text));
    }
    if (key == "patience" || key == "cooldown") {
      if (value < 0 || value > static_cast<double>(max_patience) || value != std::floor(value)) {
        throw InvalidArgument(flag + ": " + key + ": expected an integer from 0 to " + std::to_string(max_patience) +
                              ", received " + quote_value(text));
      }
      (key == "patience" ? options.patience : options.cooldown) = static_cast<std::size_t>(value);
    } else if (key == "factor") {
      options.factor = value;
    } else if (key == "min_delta") {
      options.min_delta = value;
    } else if (key == "min_lr") {
      options.min_lr = value;
    } else {
      throw InvalidArgument(flag + ": unknown key " + quote_value(key) + "; " + expected);
    }
  }
  return options;
}

EarlyStoppingOptions early_stopping_options(const TrainingControlOptions& c) {
  EarlyStoppingOptions options;
  options.monitor = monitor_of(c);
  options.patience = static_cast<std::size_t>(*c.early_stopping);
  options.min_delta = c.min_delta.value_or(0.0);
  options.restore_best_weights = c.restore_best_weights;
  return options;
}

ModelCheckpointOptions save_best_options(const TrainingControlOptions& c) {
  ModelCheckpointOptions options;
  options.monitor = monitor_of(c);
  options.save_best_only = true;
  return options;
}

// Runs `make` (a component constructor checking its settings); its InvalidArgument is restated
// under the flag's name.
template <class Make>
void check_as(const std::string& flag, Make make) {
  try {
    make();
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(flag + ": " + e.what());
  }
}

// --class-weight "NAME:W,NAME:W" as (name, weight) pairs; the weight after the last ':', so a class
// name may hold ':' itself.
std::vector<std::pair<std::string, double>> parse_class_weights(const std::string& spec) {
  const std::string flag = "--class-weight";
  std::vector<std::pair<std::string, double>> weights;
  std::set<std::string> seen;
  for (const std::string& item : split_list(spec, flag)) {
    const auto colon = item.rfind(':');
    const std::string name = colon == std::string::npos ? "" : trim(item.substr(0, colon));
    if (name.empty()) {
      throw InvalidArgument(flag + ": expected balanced or CLASS:WEIGHT items, e.g. 0:1,1:5, received " + quote_value(item));
    }
    const std::string text = trim(item.substr(colon + 1));
    double weight = 0.0;
    if (!parse_number(text, weight) || weight < 0) {
      throw InvalidArgument(flag + ": the weight of class " + quote_value(name) + ": expected a finite number >= 0, received " +
                            quote_value(text));
    }
    if (!seen.insert(name).second) throw InvalidArgument(flag + ": class " + quote_value(name) + " is given twice");
    weights.emplace_back(name, weight);
  }
  return weights;
}

}  // namespace

void check_training_control(const TrainOptions& o, bool check_outputs) {
  const TrainingControlOptions& c = o.control;
  if (c.early_stopping && (*c.early_stopping < 0 || *c.early_stopping > max_patience)) {
    throw InvalidArgument("--early-stopping: expected a patience from 0 to " + std::to_string(max_patience) +
                          " epochs, received " + std::to_string(*c.early_stopping));
  }
  for (const auto& [flag, given] : {std::make_pair("--min-delta", c.min_delta.has_value()),
                                    std::make_pair("--restore-best-weights", c.restore_best_weights)}) {
    if (given && !c.early_stopping) throw InvalidArgument(std::string(flag) + " applies to --early-stopping, which is not given");
  }
  if (c.min_delta && !(std::isfinite(*c.min_delta) && *c.min_delta >= 0)) {
    throw InvalidArgument("--min-delta: expected a finite number >= 0, received " + number(*c.min_delta));
  }
  const std::string watcher = first_monitoring_flag(c);
  if (!c.monitor.empty() && watcher.empty()) {
    throw InvalidArgument("--monitor applies to --early-stopping, --reduce-lr-on-plateau or --save-best, and none is given");
  }
  if (!watcher.empty() && monitor_of(c).rfind("val_", 0) == 0 && !o.validation_split) {
    throw InvalidArgument(watcher + " watches " + monitor_of(c) + (c.monitor.empty() ? " (the default --monitor)" : "") +
                          ", which needs validation data: give --validation-split (e.g. 0.2), or --monitor loss");
  }
  if (c.early_stopping) check_as("--early-stopping", [&] { EarlyStopping{early_stopping_options(c)}; });
  if (!c.reduce_lr_on_plateau.empty()) {
    const ReduceLROnPlateauOptions options = plateau_options(c);
    check_as("--reduce-lr-on-plateau", [&] { ReduceLROnPlateau{options}; });
  }
  if (!c.lr_schedule.empty()) {
    if (!c.reduce_lr_on_plateau.empty()) {
      throw InvalidArgument("--lr-schedule and --reduce-lr-on-plateau cannot be used together: a scheduled learning rate "
                            "cannot be lowered (Keras refuses it too); give one of them");
    }
    parse_schedule_spec(c.lr_schedule, 0.001);  // its mistakes, named by the flag, before any work
  }
  if (!c.save_best.empty()) {
    if (c.save_best == "-") throw InvalidArgument("--save-best -: give a file name");
    if (check_outputs) check_writable(c.save_best, {true, "a model file"});
  }
  if (!c.class_weight.empty() && c.class_weight != "balanced") parse_class_weights(c.class_weight);
  if (c.threshold && !(*c.threshold > 0.0 && *c.threshold < 1.0)) {
    throw InvalidArgument("--threshold: expected a number in (0, 1), received " + number(*c.threshold));
  }
  if (!c.metrics.empty()) {
    for (const std::string& name : split_list(c.metrics, "--metrics")) check_as("--metrics", [&] { make_metric(name); });
  }
}

std::string training_control_settings(const TrainingControlOptions& c) {
  std::ostringstream s;
  if (c.early_stopping) s << " early-stopping=" << *c.early_stopping;
  if (!c.monitor.empty()) s << " monitor=" << c.monitor;
  if (c.min_delta) s << " min-delta=" << number(*c.min_delta);
  if (c.restore_best_weights) s << " restore-best-weights=1";
  if (!c.save_best.empty()) s << " save-best=" << c.save_best;
  if (!c.reduce_lr_on_plateau.empty()) s << " reduce-lr-on-plateau=" << c.reduce_lr_on_plateau;
  if (!c.lr_schedule.empty()) s << " lr-schedule=" << c.lr_schedule;
  if (!c.class_weight.empty()) s << " class-weight=" << c.class_weight;
  if (c.threshold) s << " threshold=" << number(*c.threshold);
  if (!c.metrics.empty()) s << " metrics=" << c.metrics;
  return s.str();
}

namespace {

// Whether metric `name` takes a "threshold" setting: only its refusal of the key as unknown says no.
bool takes_threshold(const std::string& name, double threshold) {
  try {
    make_metric(name, Config{{"threshold", threshold}});
  } catch (const ConfigError& e) {
    return !(e.key() == "threshold" && e.reason().rfind("unknown key", 0) == 0);
  } catch (const InvalidArgument&) {
  }
  return true;
}

// Compiles --metrics (default: the model's, the task's) with --threshold given to each metric that
// takes one, into the built `model`; its loss and fresh optimizer are rebuilt from their configs.
void compile_metrics(Sequential& model, const TrainingControlOptions& c) {
  std::vector<std::string> names;
  if (c.metrics.empty()) {
    for (const auto& metric : model.metrics()) names.push_back(metric->name());
  } else {
    for (const std::string& name : split_list(c.metrics, "--metrics")) names.push_back(make_metric(name)->name());
  }
  if (c.threshold) {
    const bool binary = model.output_units() == 1 && model.loss()->label_encoding() != LabelEncoding::values;
    if (!binary) {
      throw InvalidArgument("--threshold applies to a binary classifier (one sigmoid output unit); this model has " +
                            std::to_string(model.output_units()) + " output units and --loss " + model.loss()->name());
    }
  }
  std::vector<std::unique_ptr<Metric>> metrics;
  bool thresholded = false;
  for (const std::string& name : names) {
    Config config = make_metric(name)->config();
    if (c.threshold && takes_threshold(name, *c.threshold)) {
      if (!config.is_object()) config = Config::object();
      config["threshold"] = *c.threshold;
      thresholded = true;
    }
    metrics.push_back(make_metric(name, config));
  }
  if (c.threshold && !thresholded) {
    throw InvalidArgument("--threshold applies to metrics taken at a threshold (accuracy, precision, recall, f1); --metrics " +
                          c.metrics + " has none");
  }
  model.compile(make_loss(model.loss()->name(), model.loss()->config()),
                make_optimizer(model.optimizer()->name(), model.optimizer()->config()), std::vector<std::string>{});
  std::set<std::string> seen;
  for (auto& metric : metrics) {
    const std::string name = metric->name();
    if (!seen.insert(name).second) throw InvalidArgument("--metrics: " + quote_value(name) + " is given twice");
    check_as("--metrics", [&] { model.add_metric(std::move(metric)); });
  }
}

}  // namespace

void prepare_training_model(Sequential& model, const TrainOptions& o, bool resumed) {
  const TrainingControlOptions& c = o.control;
  // A checkpoint's model has them already: its metrics and the optimizer's schedule are in its file.
  if (!resumed && (!c.metrics.empty() || c.threshold)) compile_metrics(model, c);
  if (!resumed && !c.lr_schedule.empty()) {
    model.optimizer()->set_schedule(parse_schedule_spec(c.lr_schedule, model.optimizer()->learning_rate()));
  }
  if (!c.class_weight.empty() && model.loss()->label_encoding() == LabelEncoding::values) {
    throw InvalidArgument("--class-weight applies to classification; --loss " + o.loss + " is a regression loss");
  }
  // The monitored key must be one fit() logs: the loss, a compiled metric, or their validation values.
  if (!first_monitoring_flag(c).empty()) {
    std::vector<std::string> keys = {"loss"};
    for (const auto& metric : model.metrics()) keys.push_back(metric->name());
    if (o.validation_split) {
      const std::size_t training_keys = keys.size();
      for (std::size_t i = 0; i < training_keys; ++i) keys.push_back("val_" + keys[i]);
    }
    const std::string monitor = monitor_of(c);
    bool known = false;
    for (const std::string& key : keys) known |= key == monitor;
    if (!known) {
      throw InvalidArgument("--monitor: this run does not log " + quote_value(monitor) + "; it logs " + name_list(keys, 40) +
                            " (--metrics adds metrics)");
    }
  }
}

std::map<std::size_t, double> class_weights(const std::string& spec, const std::vector<std::string>& class_names,
                                            const Matrix& y_train) {
  std::map<std::size_t, double> weights;
  if (spec.empty()) return weights;
  if (spec == "balanced") {
    // scikit-learn's compute_class_weight("balanced"): n_samples / (n_classes * count of the class).
    std::vector<std::size_t> counts(class_names.size(), 0);
    for (std::size_t i = 0; i < y_train.shape(0); ++i) {
      const auto c = static_cast<std::size_t>(y_train(i, 0));
      if (c < counts.size()) ++counts[c];
    }
    for (std::size_t c = 0; c < counts.size(); ++c) {
      if (counts[c] == 0) {
        throw DataError("--class-weight balanced: class " + quote_value(class_names[c]) +
                        " has no sample in the training part; its weight would be infinite");
      }
      weights[c] = static_cast<double>(y_train.shape(0)) / (static_cast<double>(counts.size()) * static_cast<double>(counts[c]));
    }
    return weights;
  }
  for (const auto& [name, weight] : parse_class_weights(spec)) {
    std::size_t index = 0;
    while (index < class_names.size() && class_names[index] != name) ++index;
    if (index == class_names.size()) {
      throw DataError("--class-weight: the data has no class " + quote_value(name) + "; its classes are " +
                      name_list(class_names));
    }
    weights[index] = weight;
  }
  return weights;
}

TrainingControl make_training_control(const TrainOptions& o, const ModelInfo& info, const std::vector<std::string>& class_names,
                                      const Matrix& y_train, bool writes_files) {
  const TrainingControlOptions& c = o.control;
  TrainingControl control;
  if (!c.save_best.empty() && writes_files) control.callbacks.push_back(std::make_shared<ModelCheckpoint>(c.save_best, info, save_best_options(c)));
  if (!c.reduce_lr_on_plateau.empty()) control.callbacks.push_back(std::make_shared<ReduceLROnPlateau>(plateau_options(c)));
  if (c.early_stopping) {
    control.early_stopping = std::make_shared<EarlyStopping>(early_stopping_options(c));
    control.callbacks.push_back(control.early_stopping);
  }
  control.class_weight = class_weights(c.class_weight, class_names, y_train);
  return control;
}

void print_training_control(const TrainingControl& control) {
  const EarlyStopping* stop = control.early_stopping.get();
  if (stop == nullptr) return;
  const std::string& monitor = stop->options().monitor;
  if (stop->stopped_epoch() > 0) {
    const std::string best = stop->best() ? "; the best was " + number(*stop->best()) + " at epoch " + std::to_string(stop->best_epoch())
                                          : "";
    std::printf("Epoch %zu: early stopping: %s has not improved for %zu epochs%s\n", stop->stopped_epoch(), monitor.c_str(),
                stop->wait(), best.c_str());
  }
  if (stop->options().restore_best_weights && stop->best_epoch() > 0) {
    std::printf("Restored the weights of epoch %zu, the best by %s (--restore-best-weights)\n", stop->best_epoch(),
                monitor.c_str());
  }
}

void record_training_control(ModelInfo& info, const History& history, const TrainingControl& control,
                             const TrainOptions& o) {
  auto& meta = info.metadata;
  const auto add = [&](const std::string& key, const std::string& value) {
    if (metadata_value(info, key).empty()) meta.emplace_back(key, value);
  };
  if (!history.epochs.empty()) {
    const EpochLog& last = history.epochs.back();
    for (const auto& [name, value] : last.metrics) {
      if (!std::isnan(value)) add(name, number(value));
    }
    for (const auto& [name, value] : last.val_metrics) {
      if (!std::isnan(value)) add("val_" + name, number(value));
    }
    if (!std::isnan(last.learning_rate)) add("lr", number(last.learning_rate));
  }
  if (o.control.threshold) add("threshold", number(*o.control.threshold));
  if (const EarlyStopping* stop = control.early_stopping.get()) {
    add("monitor", stop->options().monitor);
    if (stop->best_epoch() > 0) {
      add("best_epoch", std::to_string(stop->best_epoch()));
      if (stop->best()) add("best_" + stop->options().monitor, number(*stop->best()));
    }
    if (stop->stopped_epoch() > 0) add("stopped_epoch", std::to_string(stop->stopped_epoch()));
    if (stop->options().restore_best_weights && stop->best_epoch() > 0) {
      add("restored_weights_of_epoch", std::to_string(stop->best_epoch()));
    }
  }
}

}  // namespace xdense::cli
