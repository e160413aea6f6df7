// `xdense train`: build a model from a layer spec or JSON config, train it on a
// data file, and save it (with its classes, preprocessing and training record).

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>
#include <numeric>
#include <set>
#include <utility>
#include <memory>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "data_files.hpp"
#include "data_parallel.hpp"
#include "model_support.hpp"
#include "progress.hpp"
#include "training_control.hpp"
#include "xdense/xdense.hpp"
#include "xdense/atomic_file.hpp"
#include "xdense/callbacks/csv_logger.hpp"
#include "xdense/checkpoint.hpp"
#include "xdense/model_config.hpp"
#include "xdense/model_file.hpp"
#include "xdense/mpi.hpp"
#include "xdense/npy.hpp"
#include "xdense/threads.hpp"

namespace xdense::cli {
namespace {

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

// An optimizer setting given on the command line: the flag and the key of the optimizer's Config it
// sets (Keras's name). Which optimizers take it is the registry's to say (takes_key).
struct OptimizerFlag {
  const char* flag;
  const char* key;
  std::optional<Config> value;  ///< unset when the flag was not given
};

std::vector<OptimizerFlag> optimizer_flags(const TrainOptions& o) {
  const auto given = [](const std::optional<float>& value) { return value ? std::optional<Config>(*value) : std::nullopt; };
  return {{"--lr", "learning_rate", given(o.learning_rate)},
          {"--momentum", "momentum", given(o.momentum)},
          {"--nesterov", "nesterov", o.nesterov ? std::optional<Config>(true) : std::nullopt},
          {"--beta1", "beta_1", given(o.beta1)},
          {"--beta2", "beta_2", given(o.beta2)},
          {"--epsilon", "epsilon", given(o.epsilon)},
          {"--rho", "rho", given(o.rho)},
          {"--initial-accumulator", "initial_accumulator_value", given(o.initial_accumulator)},
          {"--weight-decay", "weight_decay", given(o.weight_decay)},
          {"--clipnorm", "clipnorm", given(o.clipnorm)},
          {"--clipvalue", "clipvalue", given(o.clipvalue)},
          {"--global-clipnorm", "global_clipnorm", given(o.global_clipnorm)}};
}

// "a, b or c".
std::string or_list(const std::vector<std::string>& names) {
  std::string list;
  for (std::size_t i = 0; i < names.size(); ++i) list += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  return list;
}

// Whether the component `make(name, {key: value})` makes takes `key`: only a refusal of the key
// as unknown says no (a value out of its range still means the key is its own).
template <class Make>
bool takes_key(Make make, const std::string& name, const std::string& key, const Config& value) {
  try {
    make(name, Config{{key, value}});
  } catch (const ConfigError& e) {
    return !(e.key() == key && e.reason().rfind("unknown key", 0) == 0);
  } catch (const InvalidArgument&) {
  }
  return true;
}

// "--rho applies to --optimizer rmsprop only, not adam": the registered components that take the
// flag's key, for the message refusing it.
template <class Make>
std::string applies_to(Make make, const std::vector<std::string>& names, const std::string& flag, const std::string& what,
                       const std::string& key, const Config& value, const std::string& chosen) {
  std::vector<std::string> taking;
  for (const std::string& name : names) {
    if (takes_key(make, name, key, value)) taking.push_back(name);
  }
  return flag + " applies to " + what + " " + (taking.size() == 1 ? taking[0] + " only" : or_list(taking)) + ", not " + chosen;
}

const auto make_optimizer_with = [](const std::string& name, const Config& config) { return make_optimizer(name, config); };
const auto make_loss_with = [](const std::string& name, const Config& config) { return make_loss(name, config); };

// A value of --optimizer-option as JSON: true/false, a finite decimal number, or else the text.
Config config_value(const std::string& text) {
  if (text == "true" || text == "false") return text == "true";
  char* end = nullptr;
  const double number = std::strtod(text.c_str(), &end);
  const bool decimal = !text.empty() && end == text.c_str() + text.size() &&
                       text.find_first_not_of("0123456789+-.eE") == std::string::npos;
  if (decimal) {
    if (!std::isfinite(number)) throw InvalidArgument("--optimizer-option: " + quote_value(text) + " is not a finite number");
    return number;
  }
  return text;
}

// The --optimizer made through the registry from a Config of the optimizer flags and
// --optimizer-option settings given; a flag of another optimizer is refused rather than ignored,
// and a key the optimizer does not have is refused by its own config reader, naming the key.
std::unique_ptr<Optimizer> make_configured_optimizer(const TrainOptions& o) {
  // The registry's name for it (an alias resolves; an unknown name is refused, naming the known ones).
  const std::string name = make_optimizer(o.optimizer)->name();
  const std::vector<OptimizerFlag> flags = optimizer_flags(o);
  std::string refused;  // every flag the optimizer does not take, in one message
  for (const OptimizerFlag& f : flags) {
    if (f.value && !takes_key(make_optimizer_with, name, f.key, *f.value)) {
      refused += (refused.empty() ? "" : "; ") +
                 applies_to(make_optimizer_with, optimizer_names(), f.flag, "--optimizer", f.key, *f.value, name);
    }
  }
  if (!refused.empty()) throw InvalidArgument(refused);
  if (o.nesterov && o.momentum.value_or(0.0f) == 0.0f) throw InvalidArgument("--nesterov needs --momentum > 0");
  Config config = Config::object();
  for (const OptimizerFlag& f : flags) {
    if (!f.value) continue;
    // JSON has no NaN or infinity: refused here, by the flag's name (the optimizer checks the range).
    if (f.value->is_number() && !std::isfinite(f.value->get<double>())) {
      throw InvalidArgument(std::string(f.flag) + ": expected a finite number, received " + number(f.value->get<double>()));
    }
    config[f.key] = *f.value;
  }
  for (const std::string& option : o.optimizer_options) {
    const auto equals = option.find('=');
    const std::string key = trim(option.substr(0, equals));
    if (equals == std::string::npos || key.empty()) {
      throw InvalidArgument("--optimizer-option: expected KEY=VALUE, e.g. beta_2=0.99, received " + quote_value(option));
    }
    if (config.contains(key)) {
      throw InvalidArgument("--optimizer-option: " + quote_value(key) + " is given twice (by a flag or another " +
                            "--optimizer-option)");
    }
    config[key] = config_value(trim(option.substr(equals + 1)));
  }
  return make_optimizer(name, config);
}

// Loads every parameter from <kind>_<i>_<name>.npy, the files `xdense export` writes
// (dense_0_kernel.npy, dense_0_bias.npy, ...), checking each shape.
void load_initial_weights(Sequential& model, const std::string& dir) {
  std::error_code error;
  if (!std::filesystem::is_directory(dir, error)) {
    throw DataError(dir + ": not a directory (--init-weights)" + (error ? ": " + error.message() : std::string()));
  }
  std::map<std::string, std::size_t> layers_of_kind;
  for (const NamedParameter& p : named_parameters(model)) {
    const std::string file = dir + "/" + p.stem + ".npy";
    const Matrix values = load_npy(file);
    // load_npy gives 1-D arrays as (n, 1).
    const std::vector<std::size_t>& shape = p.parameter.shape;
    const std::size_t rows = shape.empty() ? p.parameter.size : shape[0];
    const std::size_t cols = shape.size() == 2 ? shape[1] : 1;
    if (values.shape(0) != rows || values.shape(1) != cols) {
      throw DataError(file + ": expected shape (" + std::to_string(rows) + (shape.size() == 2 ? ", " + std::to_string(cols) : ",") +
                      "), received (" + std::to_string(values.shape(0)) + ", " + std::to_string(values.shape(1)) + ")");
    }
    std::copy(values.begin(), values.end(), p.parameter.value);
    layers_of_kind[p.kind] = std::max(layers_of_kind[p.kind], p.index + 1);
  }
  // An array of one layer more of a kind (dense_3_*.npy for a model with three Dense layers) means
  // the folder is another model's.
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    const std::string file = entry.path().filename().string();
    for (const auto& [kind, count] : layers_of_kind) {
      const std::string next = kind + "_" + std::to_string(count) + "_";
      if (file.compare(0, next.size(), next) == 0 && entry.path().extension() == ".npy") {
        throw DataError(dir + ": holds weights for more " + kind + " layers than the model's " + std::to_string(count) +
                        " (" + file + ")");
      }
    }
  }
}

// The model's "created" time: now, or SOURCE_DATE_EPOCH (seconds since 1970, the reproducible-builds
// convention) when set to a number, so two runs of the same command can give byte-identical files.
std::string utc_now() {
  std::time_t now = std::time(nullptr);
  if (const char* fixed = std::getenv("SOURCE_DATE_EPOCH")) {
    char* end = nullptr;
    const long long seconds = std::strtoll(fixed, &end, 10);
    if (*fixed != '\0' && *end == '\0' && seconds >= 0) now = static_cast<std::time_t>(seconds);
  }
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return text;
}

// The settings that shape a run, other than its length: a resumed run must repeat them.
// `processes`: of a data-parallel run (recorded when more than 1).
std::string run_settings(const TrainOptions& o, std::size_t processes) {
  std::ostringstream s;
  s << "data=" << o.data << " labels=" << o.labels << " label-column=" << o.label_column << " classes=" << o.classes
    << " layers=" << o.layers << " model-config=" << o.model_config << " loss=" << o.loss
    << " optimizer=" << o.optimizer << " lr=" << (o.learning_rate ? number(*o.learning_rate) : "default")
    << " momentum=" << (o.momentum ? number(*o.momentum) : "default") << " nesterov=" << o.nesterov
    << " beta1=" << (o.beta1 ? number(*o.beta1) : "default") << " beta2=" << (o.beta2 ? number(*o.beta2) : "default")
    << " epsilon=" << (o.epsilon ? number(*o.epsilon) : "default") << " batch-size=" << o.batch_size
    << " validation-split=" << (o.validation_split ? number(*o.validation_split) : "none") << " seed=" << o.seed
    << " no-shuffle=" << o.no_shuffle << " standardize=" << o.standardize << " init-weights=" << o.init_weights;
  // Added later: only written when used, so checkpoints of earlier runs still resume.
  if (o.no_header) s << " no-header=1";
  if (o.header) s << " header=1";
  if (!o.feature_columns.empty()) s << " feature-columns=" << o.feature_columns;
  for (const std::string& option : o.optimizer_options) s << " optimizer-option=" << option;
  for (const auto& [key, value] : {std::make_pair("rho", o.rho), std::make_pair("initial-accumulator", o.initial_accumulator),
                                   std::make_pair("weight-decay", o.weight_decay), std::make_pair("clipnorm", o.clipnorm),
                                   std::make_pair("clipvalue", o.clipvalue), std::make_pair("global-clipnorm", o.global_clipnorm),
                                   std::make_pair("label-smoothing", o.label_smoothing)}) {
    if (value) s << " " << key << "=" << number(*value);
  }
  if (!o.init.empty()) s << " init=" << o.init;
  if (!o.kernel_regularizer.empty()) s << " kernel-regularizer=" << o.kernel_regularizer;
  if (!o.drop_columns.empty()) s << " drop-columns=" << o.drop_columns;
  if (o.standardize_targets) s << " standardize-targets=1";
  s << training_control_settings(o.control);
  // Another thread count sums in another order: the resumed run would match neither run.
  s << " threads=" << num_threads();
  // So does another number of processes; only written when several, so earlier checkpoints resume.
  if (processes > 1) s << " processes=" << processes;
  return s.str();
}

// The keys run_settings() writes, in its order (values may hold spaces: split at these).
const char* const settings_keys[] = {"data",         "labels",          "label-column", "classes",     "layers",
                                     "model-config", "loss",            "optimizer",    "lr",          "momentum",
                                     "nesterov",     "beta1",           "beta2",        "epsilon",     "batch-size",
                                     "validation-split", "seed",       "no-shuffle",   "standardize", "init-weights",
                                     "no-header",    "header",          "feature-columns", "drop-columns", "rho",
                                     "initial-accumulator", "weight-decay", "clipnorm", "clipvalue", "global-clipnorm",
                                     "label-smoothing", "init",       "kernel-regularizer", "standardize-targets", "threads",
                                     "processes", "data-content"};

// settings_keys and those of the training-control flags.
std::vector<const char*> all_settings_keys() {
  std::vector<const char*> keys(std::begin(settings_keys), std::end(settings_keys));
  keys.insert(keys.end(), std::begin(training_control_keys), std::end(training_control_keys));
  return keys;
}

// run_settings() text as key -> value.
std::map<std::string, std::string> parse_settings(const std::string& text) {
  std::vector<std::pair<std::size_t, std::string>> starts;  // where each key's "key=" begins
  for (const char* key : all_settings_keys()) {
    const std::string marker = std::string(key) + "=";
    const std::size_t at = text.rfind(marker, 0) == 0 ? 0 : text.find(" " + marker);
    if (at != std::string::npos) starts.emplace_back(at == 0 ? 0 : at + 1, key);
  }
  std::sort(starts.begin(), starts.end());
  std::map<std::string, std::string> settings;
  for (std::size_t i = 0; i < starts.size(); ++i) {
    const std::size_t value = starts[i].first + starts[i].second.size() + 1;
    const std::size_t end = i + 1 < starts.size() ? starts[i + 1].first - 1 : text.size();
    settings[starts[i].second] = text.substr(value, end > value ? end - value : 0);
  }
  return settings;
}

// Refuses to resume unless `now` repeats the checkpoint's settings; names what differs. Keys
// a checkpoint of an earlier xdense did not record (threads, data-content) are not compared.
void check_same_settings(const std::string& saved, const std::string& now, const std::string& resume_dir) {
  if (saved == now) return;
  const auto before = parse_settings(saved), after = parse_settings(now);
  std::string differences;
  for (const char* key : all_settings_keys()) {
    const auto b = before.find(key), a = after.find(key);
    if (std::string(key) == "processes") {  // not recorded: one process
      const std::string was = b == before.end() ? "1" : b->second, is = a == after.end() ? "1" : a->second;
      if (was == is) continue;
      differences += differences.empty() ? "" : "; ";
      differences += "the checkpoint was made by " + was + (was == "1" ? " process" : " processes") + ", this run has " +
                     is + " (the gradients of another number of processes sum in another order: resume with " +
                     (was == "1" ? std::string("one process") : "mpirun -np " + was) + ")";
      continue;
    }
    if (b == before.end() && (std::string(key) == "threads" || std::string(key) == "data-content")) continue;
    const std::string was = b == before.end() ? "(not given)" : quote_value(b->second, 40);
    const std::string is = a == after.end() ? "(not given)" : quote_value(a->second, 40);
    if (was == is) continue;
    differences += differences.empty() ? "" : "; ";
    if (std::string(key) == "data-content") {
      differences += "the data's contents differ (same path, other data: fingerprint " + b->second + " in the checkpoint, " +
                     (a == after.end() ? std::string("none") : a->second) + " now)";
    } else {
      differences += "--" + std::string(key) + " " + was + " in the checkpoint, " + is + " now";
    }
  }
  if (differences.empty()) return;
  throw InvalidArgument("--resume " + resume_dir + ": the checkpoint was made with other settings: " + differences +
                        ". Repeat the original command (only --epochs may change)");
}

// FNV-1a 64 of the training data as loaded (features, labels, class names), in hex: a checkpoint
// resumed on other data at the same path would silently mix two runs.
std::string data_fingerprint(const LoadedData& data) {
  std::uint64_t hash = 1469598103934665603ull;
  auto add = [&hash](const void* bytes, std::size_t size) {
    const auto* p = static_cast<const unsigned char*>(bytes);
    for (std::size_t i = 0; i < size; ++i) hash = (hash ^ p[i]) * 1099511628211ull;
  };
  add(data.x.data(), data.x.size() * sizeof(float));
  add(data.y.data(), data.y.size() * sizeof(float));
  for (const std::string& name : data.class_names) add(name.data(), name.size() + 1);
  for (const std::string& name : data.feature_names) add(name.data(), name.size() + 1);
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

std::string checkpoint_file(const std::string& dir) { return dir + "/checkpoint.xdc"; }

// The regular files directly in `dir` ("" or not a folder: none), for the same-file checks.
std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code error;
  if (dir.empty() || !std::filesystem::is_directory(dir, error)) return files;
  for (std::filesystem::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
    if (it->is_regular_file(error)) files.push_back(it->path().string());
  }
  return files;
}

// ---- the steps of a run: check, load, build, train, save

// Bounds that no real run reaches, so a typo (or 2^63) fails at once instead of running forever.
constexpr long long max_epochs = 1'000'000, max_batch_size = 1LL << 24;

// Refuses settings that are wrong whatever the files hold, before anything is read or written.
// `writes_files`: whether this process writes the outputs (checks --save-best can be written).
void check_settings(const TrainOptions& o, bool writes_files) {
  if (o.epochs <= 0 || o.epochs > max_epochs) {
    throw InvalidArgument("--epochs: expected an integer from 1 to " + std::to_string(max_epochs) + ", received " +
                          std::to_string(o.epochs));
  }
  if (o.batch_size <= 0 || o.batch_size > max_batch_size) {
    throw InvalidArgument("--batch-size: expected an integer from 1 to " + std::to_string(max_batch_size) +
                          " (2^24), received " + std::to_string(o.batch_size));
  }
  if (o.validation_split && !(*o.validation_split > 0.0 && *o.validation_split < 1.0)) {
    throw InvalidArgument("--validation-split: expected a fraction in (0, 1), received " + number(*o.validation_split));
  }
  if (o.layers.empty() == o.model_config.empty()) throw InvalidArgument("give exactly one of --layers and --model-config");
  if (!o.test_labels.empty() && o.test.empty()) throw InvalidArgument("--test-labels needs --test");
  for (const auto& [flag, value] : {std::make_pair("--init", &o.init), std::make_pair("--kernel-regularizer", &o.kernel_regularizer)}) {
    if (!value->empty() && !o.model_config.empty()) {
      throw InvalidArgument(std::string(flag) + " applies to --layers; a --model-config file gives each Dense layer's own");
    }
  }
  if (o.output == "-" || o.history == "-") {
    throw InvalidArgument(std::string(o.output == "-" ? "--output" : "--history") +
                          " -: train writes files (standard output is for predict); give a file name");
  }
  check_training_control(o, writes_files);
}

// The files a run writes: reserved before any work (their temporary files created, so an
// unwritable place fails before training), written at the end and committed together.
struct RunOutputs {
  OutputSet set;
  OutputSet::Output* model = nullptr;
  OutputSet::Output* history = nullptr;  ///< null without --history
};

// Refuses an output that is an input or another output, and a --checkpoint folder that cannot
// be written; then reserves --output and --history.
void reserve_run_outputs(const TrainOptions& o, RunOutputs& outputs) {
  std::vector<std::pair<std::string, std::string>> inputs = {{"--data", o.data},
                                                              {"--labels", o.labels},
                                                              {"--test", o.test},
                                                              {"--test-labels", o.test_labels},
                                                              {"--model-config", o.model_config}};
  for (const std::string& file : files_in(o.init_weights)) inputs.emplace_back("--init-weights", file);
  const std::string checkpoint = o.checkpoint_dir.empty() ? std::string() : checkpoint_file(o.checkpoint_dir);
  refuse_same_files({{"--output", o.output}, {"--history", o.history}, {"--checkpoint", checkpoint},
                     {"--save-best", o.control.save_best}},
                    inputs);
  // The checkpoint resumed from is an input of --output and --history (it is --checkpoint's own file).
  refuse_same_files({{"--output", o.output}, {"--history", o.history}, {"--save-best", o.control.save_best}},
                    {{"--resume", o.resume_dir.empty() ? std::string() : checkpoint_file(o.resume_dir)}});
  // --checkpoint, like every output: the folder itself is created (at the first checkpoint, so
  // a run that fails before it leaves nothing), its parent must exist and be writable, and a
  // checkpoint file already there must be replaceable.
  if (!checkpoint.empty()) {
    check_output_folder(o.checkpoint_dir);
    check_folder_writable(o.checkpoint_dir);
    std::error_code error;
    if (std::filesystem::is_directory(o.checkpoint_dir, error)) check_writable(checkpoint, {true, "a checkpoint"});
  }
  outputs.model = &reserve_output(outputs.set, o.output, {true, "a model file"});
  if (!o.history.empty()) outputs.history = &reserve_output(outputs.set, o.history);
}

// The checkpoint of --resume, its settings checked against this run's (the data's contents are
// compared once it is loaded) and the random state restored; nothing without --resume.
std::optional<Checkpoint> load_resumed_run(const TrainOptions& o, std::size_t processes) {
  if (o.resume_dir.empty()) return std::nullopt;
  const std::string file = checkpoint_file(o.resume_dir);
  std::error_code error;
  if (!std::filesystem::exists(file, error)) {
    throw DataError(file + ": no checkpoint to resume from" +
                    (error ? ": " + error.message() : " (was the run started with --checkpoint " + o.resume_dir + "?)"));
  }
  Checkpoint resumed = load_checkpoint(file);
  std::string saved = metadata_value(resumed.saved.info, "run_settings");
  saved = saved.substr(0, saved.find(" data-content="));
  check_same_settings(saved, run_settings(o, processes), o.resume_dir);
  const std::size_t done = resumed.state.history.epochs.size();
  if (static_cast<std::size_t>(o.epochs) < done) {
    throw InvalidArgument("--resume " + o.resume_dir + ": --epochs " + std::to_string(o.epochs) + " is fewer than the " +
                          std::to_string(done) + " epochs the checkpoint has done; give --epochs " +
                          std::to_string(done) + " or more (the model of epoch " + std::to_string(done) +
                          " is the checkpoint's)");
  }
  restore_training_state(resumed);
  return resumed;
}

// --kernel-regularizer's text as the Keras identifier Dense reads: "l2" (the defaults), "l2(0.001)"
// as {"class_name": "l2", "config": {"l2": 0.001}}, "l1_l2(0.01, 0.001)" with l1 then l2, or
// "l1_l2(l2=0.001)" by key.
Config regularizer_identifier(const std::string& spec) {
  const std::string text = trim(spec);
  const auto open = text.find('(');
  const std::string name = trim(text.substr(0, open));
  const std::string example = "e.g. l2(0.001), l1(0.01) or l1_l2(0.01, 0.001)";
  if (name.empty()) throw InvalidArgument("--kernel-regularizer: expected a regularizer, " + example + ", received " + quote_value(spec));
  if (open == std::string::npos) return name;
  if (text.back() != ')') throw InvalidArgument("--kernel-regularizer: a closing ')' is missing in " + quote_value(spec));
  std::vector<std::string> positional_keys = {name};  // l1(0.01) -> l1, l2(...) -> l2
  if (name == "l1_l2" || name == "L1L2") positional_keys = {"l1", "l2"};
  Config config = Config::object();
  const std::string arguments = text.substr(open + 1, text.size() - open - 2);
  std::size_t position = 0;
  for (std::size_t start = 0; start <= arguments.size();) {
    const std::size_t comma = std::min(arguments.find(',', start), arguments.size());
    const std::string argument = trim(arguments.substr(start, comma - start));
    start = comma + 1;
    if (argument.empty()) continue;
    const auto equals = argument.find('=');
    std::string key = equals == std::string::npos ? "" : trim(argument.substr(0, equals));
    if (equals == std::string::npos) {
      if (position >= positional_keys.size()) {
        throw InvalidArgument("--kernel-regularizer: too many numbers in " + quote_value(spec) + "; " + example);
      }
      key = positional_keys[position++];
    }
    const std::string number_text = trim(equals == std::string::npos ? argument : argument.substr(equals + 1));
    char* end = nullptr;
    const double value = std::strtod(number_text.c_str(), &end);
    if (number_text.empty() || end != number_text.c_str() + number_text.size() || !std::isfinite(value)) {
      throw InvalidArgument("--kernel-regularizer: expected a number, received " + quote_value(number_text) + "; " + example);
    }
    config[key] = value;
  }
  return Config{{"class_name", name}, {"config", config}};
}

// The settings --init and --kernel-regularizer give every Dense layer of --layers.
Config dense_settings(const TrainOptions& o) {
  Config settings = Config::object();
  if (!o.init.empty()) {
    try {
      make_initializer(o.init);  // an unknown name is refused here, by the flag's name, not as a --layers item
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(std::string("--init: ") + e.what());
    }
    settings["kernel_initializer"] = o.init;
    // PyTorch's Linear draws its bias as its kernel, U(+-1/sqrt(fan_in)); Keras's bias starts at zero.
    if (o.init == "pytorch") settings["bias_initializer"] = o.init;
  }
  if (!o.kernel_regularizer.empty()) {
    settings["kernel_regularizer"] = regularizer_identifier(o.kernel_regularizer);
    try {
      RegularizerSpec::from_config(settings["kernel_regularizer"]);  // bad values named by the flag
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(std::string("--kernel-regularizer: ") + e.what());
    }
  }
  return settings;
}

// The --loss made through the registry, with --label-smoothing when given (refused, naming the
// losses that take it, by a loss that does not).
std::unique_ptr<Loss> make_configured_loss(const TrainOptions& o) {
  const std::string name = make_loss(o.loss)->name();  // an unknown name is refused here, naming the known ones
  Config config = Config::object();
  if (o.label_smoothing) {
    if (!std::isfinite(*o.label_smoothing)) {
      throw InvalidArgument("--label-smoothing: expected a finite number, received " + number(*o.label_smoothing));
    }
    config["label_smoothing"] = *o.label_smoothing;
    if (!takes_key(make_loss_with, name, "label_smoothing", config["label_smoothing"])) {
      // The losses that take this label_smoothing (sparse_categorical_crossentropy takes only 0, as Keras).
      std::vector<std::string> taking;
      for (const std::string& loss : loss_names()) {
        try {
          make_loss(loss, config);
          taking.push_back(loss);
        } catch (const InvalidArgument&) {
        }
      }
      throw InvalidArgument("--label-smoothing applies to --loss " + or_list(taking) + ", not " + name);
    }
  }
  return make_loss(name, config);
}

// A new model of --layers or --model-config, compiled with --loss and the optimizer flags (not
// built: its input width comes from the data). `declared_inputs` is the input width the JSON config
// states, if it states one.
Sequential new_model(const TrainOptions& o, std::optional<std::size_t>& declared_inputs) {
  Sequential model(o.seed);
  if (!o.layers.empty()) {
    const Config dense = dense_settings(o);  // --init, --kernel-regularizer: refused by their own names
    try {
      add_layers(model, o.layers, dense);
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(std::string("--layers: ") + e.what());
    }
  } else {
    declared_inputs = add_layers_from_json_file(model, o.model_config);
  }
  std::unique_ptr<Loss> loss;
  try {
    loss = make_configured_loss(o);
  } catch (const InvalidArgument& e) {
    const std::string what = e.what();
    throw InvalidArgument(what.rfind("--", 0) == 0 ? what : "--loss: " + what);
  }
  model.compile(std::move(loss), make_configured_optimizer(o));
  return model;
}

// A label column of many non-integer numbers read as classes: most likely a regression target.
void refuse_continuous_classes(const LoadedData& data, const TrainOptions& o, const Loss& loss) {
  if (!data.regression && looks_continuous(data.class_names)) {
    throw DataError(o.data + ": the label column " + quote_value(data.label_name) + " holds " +
                    std::to_string(data.class_names.size()) + " distinct numbers (" + name_list(data.class_names, 4) +
                    "): it looks continuous, and --loss " + loss.name() + " would read each value as a class; " +
                    "for a regression use a regression loss, e.g. --loss mse");
  }
}

// The training data with its --classes selection; refuses fewer than 2 samples and names too long
// for a model file (now, not after training). The loss says what the labels are: classes, or for
// a regression loss real-valued targets (several with --label-column a,b). With `share` (a
// data-parallel process's share: share.first of share.second), only that part of an IDX/NPY file
// is read, and the class names are its own (made global by global_classes()).
LoadedData load_training_data(const TrainOptions& o, const Loss& loss, std::pair<std::size_t, std::size_t> share = {0, 1}) {
  DataRequest request = data_request(o);
  request.share = share.first;
  request.share_of = share.second;
  if (!o.feature_columns.empty()) request.feature_columns = split_list(o.feature_columns, "--feature-columns");
  if (!o.drop_columns.empty()) request.drop_columns = split_list(o.drop_columns, "--drop-columns");
  request.regression = is_regression_loss(loss);
  request.target_note = "--loss " + loss.name() + " is a regression loss and needs numbers (for classes, use a " +
                        "classification loss such as sparse_categorical_crossentropy)";
  if (request.regression && !o.classes.empty()) {
    throw InvalidArgument("--classes applies to classification; --loss " + loss.name() + " is a regression loss");
  }
  LoadedData data = load_data(request);
  if (!o.classes.empty()) select_classes(data, split_list(o.classes, "--classes"), o.data);
  if (share.second == 1) refuse_continuous_classes(data, o, loss);
  if (data.total_samples < 2) {
    throw DataError(o.data + ": expected at least 2 samples, received " + std::to_string(data.total_samples));
  }
  // A model file's strings hold at most 1 MiB.
  constexpr std::size_t max_name = std::size_t{1} << 20;
  for (const auto* names : {&data.feature_names, &data.class_names, &data.target_names}) {
    for (const std::string& name : *names) {
      if (name.size() > max_name) {
        throw DataError(o.data + ": " + (names == &data.class_names ? "class name " : "column name ") +
                        quote_value(name) + " is " + std::to_string(name.size()) +
                        " bytes long; a model file holds names of at most 1 MiB");
      }
    }
  }
  if (data.label_name.size() > max_name) {
    throw DataError(o.data + ": the label column's name " + quote_value(data.label_name) +
                    " is over 1 MiB; a model file holds names of at most 1 MiB");
  }
  return data;
}

// ---- a data-parallel process's share of the data

// Whether each process of a data-parallel run reads only its share of the training data: IDX/NPY
// features with a labels file (read by offset), and nothing that needs every row on every process:
// no --validation-split (the split draws from all rows), --classes (it drops rows: the shares would
// no longer be shard_rows()) or --class-weight balanced (counts of every row).
bool reads_share(const TrainOptions& o, std::size_t processes) {
  return processes > 1 && is_array_file(o.data) && !o.labels.empty() && !o.validation_split && o.classes.empty() &&
         o.control.class_weight != "balanced";
}

// Makes the class names of each process's share the names of every share (numbers, sorted as
// numbers, as the loader names the classes of a whole file) and re-indexes this share's labels.
// A collective; throws nothing but bad_alloc.
void global_classes(LoadedData& data, Communicator& world) {
  std::vector<double> values;
  for (const std::string& name : data.class_names) values.push_back(std::stod(name));
  std::set<double> all;
  for (const std::vector<double>& part : world.allgather(values)) all.insert(part.begin(), part.end());
  std::vector<std::string> names;
  std::map<double, std::size_t> index;
  for (double v : all) {
    index[v] = names.size();
    names.push_back(std::to_string(static_cast<long long>(v)));
  }
  for (std::size_t r = 0; r < data.y.shape(0); ++r) {
    data.y(r, 0) = static_cast<float>(index.at(values.at(static_cast<std::size_t>(data.y(r, 0)))));
  }
  data.class_names = std::move(names);
}

// The fingerprint of the whole data when each process holds a share: every share's
// data_fingerprint() in rank order, hashed again. A collective.
std::string global_fingerprint(const LoadedData& share, Communicator& world) {
  const std::uint64_t mine = std::stoull(data_fingerprint(share), nullptr, 16);
  const auto parts = world.allgather({static_cast<double>(mine >> 32), static_cast<double>(mine & 0xffffffffu)});
  std::uint64_t hash = 1469598103934665603ull;
  for (const std::vector<double>& part : parts) {
    for (double half : part) {
      const auto bits = static_cast<std::uint32_t>(half);
      for (int b = 0; b < 4; ++b) hash = (hash ^ ((bits >> (8 * b)) & 0xffu)) * 1099511628211ull;
    }
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

// Builds a new model for the data's width (checking the loss against the output layer), checks
// a resumed model's width and that the classes fit the output layer, and loads --init-weights.
void fit_model_to_data(Sequential& model, const LoadedData& data, const TrainOptions& o, bool resumed,
                       const std::optional<std::size_t>& declared_inputs) {
  if (declared_inputs && *declared_inputs != data.x.shape(1)) {
    throw DataError(o.model_config + ": the model takes " + std::to_string(*declared_inputs) + " input features, but " +
                    o.data + " has " + std::to_string(data.x.shape(1)));
  }
  if (!resumed) model.build(data.x.shape(1));
  if (model.input_units() != data.x.shape(1)) {
    throw DataError(o.data + ": " + std::to_string(data.x.shape(1)) + " features per sample, but the checkpoint's model expects " +
                    std::to_string(model.input_units()));
  }
  if (data.regression) {
    check_targets_fit_output(model, data.y.shape(1), data.target_names, o.labels.empty() ? o.data : o.labels);
  } else {
    check_classes_fit_output(model, data.class_names.size(), data.class_names, o.data);
  }
  if (!o.init_weights.empty() && !resumed) load_initial_weights(model, o.init_weights);
}

// The samples trained on and those validated on (none without --validation-split), standardized
// with the training part's statistics under --standardize (features) and --standardize-targets
// (a regression's targets). y holds class indices (n, 1) or target values (n, targets). Every process
// of a data-parallel run holds the whole data, so its statistics are every process's.
struct TrainingSets {
  /// The loaded samples, moved (not copied): the training rows first, then with --validation-split
  /// the validation rows (copied to x_val: the part held out is the smaller one, usually).
  Matrix x_rows;
  std::size_t train_rows = 0;
  Matrix y_train, x_val, y_val;
  ConstMatrixView x_train() const { return {x_rows.data(), train_rows, x_rows.shape(1)}; }
  MatrixView x_train() { return {x_rows.data(), train_rows, x_rows.shape(1)}; }
  bool validate = false;
  /// Training samples of every process; x_train holds rows [first_train, first_train + its rows)
  /// of them (all of them unless each process reads a share).
  std::size_t total_train = 0, first_train = 0;
  std::optional<Standardizer> standardizer;
  std::optional<Standardizer> target_standardizer;
};

// Validation part: the last rows with --no-shuffle (Keras's rule), else a shuffled split drawn from
// the seed, stratified by class for a classification (sorted files such as iris stay usable).
// `speaks`: this process prints warnings (rank 0 of a data-parallel run). `fitted` and
// `fitted_targets`: the statistics of every process's share when each reads one (no validation
// part then), fitted together beforehand. The features move out of `data` (left with 0 rows and
// its columns) and are not copied (a second copy of Fashion-MNIST is 188 MB): with a shuffled
// split their rows are reordered in place, training rows first, and only the validation rows are
// copied out; the targets (a column or a few) are copied.
TrainingSets split_and_standardize(LoadedData& data, const TrainOptions& o, bool speaks,
                                   const std::optional<Standardizer>& fitted = std::nullopt,
                                   const std::optional<Standardizer>& fitted_targets = std::nullopt) {
  TrainingSets sets;
  const auto take_all = [](Matrix& m) {
    Matrix rows = std::move(m);
    m = Matrix::from_shape({std::size_t{0}, rows.shape(1)});
    return rows;
  };
  sets.total_train = data.total_samples;
  sets.first_train = data.first_sample;
  sets.validate = o.validation_split.has_value();
  const std::size_t samples = data.x.shape(0);
  if (sets.validate) {
    SplitRows rows;
    if (o.no_shuffle) {
      const std::size_t train = static_cast<std::size_t>(static_cast<double>(samples) * (1.0 - *o.validation_split));
      if (train == 0 || train == samples) {
        throw InvalidArgument("--validation-split leaves an empty part for " + std::to_string(samples) + " samples");
      }
      rows.train.resize(train);
      rows.test.resize(samples - train);
      std::iota(rows.train.begin(), rows.train.end(), std::size_t{0});
      std::iota(rows.test.begin(), rows.test.end(), train);
    } else {
      rows = train_test_split_rows(data.y, *o.validation_split, o.seed, /*stratify=*/!data.regression);
    }
    sets.y_train = take_rows(data.y, rows.train);
    sets.y_val = take_rows(data.y, rows.test);
    take_all(data.y);
    sets.train_rows = rows.train.size();
    std::vector<std::size_t> order = std::move(rows.train);
    order.insert(order.end(), rows.test.begin(), rows.test.end());
    rows.test = {};
    permute_rows(data.x, order);  // (nothing moves with --no-shuffle)
    order = {};
    sets.x_rows = take_all(data.x);
    sets.x_val = to_matrix(ConstMatrixView{sets.x_rows.data() + sets.train_rows * sets.x_rows.shape(1),
                                           samples - sets.train_rows, sets.x_rows.shape(1)});
  } else {
    sets.x_rows = take_all(data.x);
    sets.train_rows = samples;
    sets.y_train = take_all(data.y);
  }
  if (speaks && sets.validate && sets.train_rows < sets.x_val.shape(0)) {
    std::fprintf(stderr, "warning: --validation-split %s leaves %zu of %zu samples for training (%zu validate)\n",
                 number(*o.validation_split).c_str(), sets.train_rows, samples, sets.x_val.shape(0));
  }
  if (sets.validate) sets.total_train = sets.train_rows;
  if (o.standardize) {
    sets.standardizer = fitted;
    if (!fitted) sets.standardizer.emplace().fit(std::as_const(sets).x_train());  // the training part's statistics
    sets.standardizer->transform_in_place(sets.x_train());
    if (sets.validate) sets.standardizer->transform_in_place(sets.x_val);
  }
  if (o.standardize_targets) {
    sets.target_standardizer = fitted_targets;
    if (!fitted_targets) sets.target_standardizer.emplace().fit(sets.y_train);  // statistics of the training part only
    sets.target_standardizer->transform_in_place(sets.y_train);
    if (sets.validate) sets.target_standardizer->transform_in_place(sets.y_val);
  }
  return sets;
}

// The --test data, its columns matched to the training file's by name (as predict does), its
// classes mapped onto the training classes and standardized; loaded before training so a bad
// --test file fails before hours of work. Nothing without --test. With `share` (a data-parallel
// process's share of a classifier's IDX/NPY test data, as for the training data), only its rows.
std::optional<LoadedData> load_test_data(const TrainOptions& o, const LoadedData& training, const TrainingSets& sets,
                                         std::pair<std::size_t, std::size_t> share = {0, 1}) {
  if (o.test.empty()) return std::nullopt;
  DataContract contract;
  contract.inputs = training.x.shape(1);
  contract.feature_names = training.feature_names;
  contract.label_name = training.label_name;
  contract.header = !o.no_header;
  contract.regression = training.regression;
  contract.target_names = training.target_names;
  contract.targets = training.regression ? training.y.shape(1) : 0;
  DataRequest request = data_request(o);
  request.data = o.test;
  request.labels = o.test_labels;
  request.label_column.clear();  // the training file's, by name
  request.share = share.first;
  request.share_of = share.second;
  request.target_note = "the training data's targets are numbers";
  LoadedData test = load_data_for(contract, request);
  if (!training.regression) map_to_model_classes(test, training.class_names, !o.classes.empty(), o.test);
  if (sets.standardizer) sets.standardizer->transform_in_place(test.x);
  return test;
}

// What the model file records of the data and the run before training; run_settings lets a
// checkpoint be resumed only by the same command.
ModelInfo describe_run(const TrainOptions& o, const LoadedData& data, const TrainingSets& sets, const std::string& settings) {
  ModelInfo info;
  info.class_names = data.class_names;
  info.feature_names = data.feature_names;
  info.standardizer = sets.standardizer;
  info.task = data.regression ? "regression" : "classification";
  info.target_names = data.target_names;
  info.target_standardizer = sets.target_standardizer;
  auto& meta = info.metadata;
  meta.emplace_back("data", o.data);
  if (!o.labels.empty()) meta.emplace_back("labels", o.labels);
  // The data contract beyond the feature names: predict and evaluate find the label by this name.
  if (!data.label_name.empty()) meta.emplace_back("label_column", data.label_name);
  if (o.no_header) meta.emplace_back("header", "false");
  if (!o.classes.empty()) meta.emplace_back("classes", o.classes);
  meta.emplace_back("training_samples", std::to_string(sets.total_train));
  if (sets.validate) meta.emplace_back("validation_samples", std::to_string(sets.x_val.shape(0)));
  meta.emplace_back("batch_size", std::to_string(o.batch_size));
  meta.emplace_back("seed", std::to_string(o.seed));
  meta.emplace_back("shuffle", o.no_shuffle ? "false" : "true");
  meta.emplace_back("run_settings", settings);
  return info;
}

// Trains the epochs a resumed run has not done yet (all of them otherwise), with the progress
// bar unless --quiet and a checkpoint after every epoch with --checkpoint. Returns the whole
// history, the resumed epochs included. With a `world` of several processes, data-parallel: each
// process holds the whole data and trains on its part of each batch (FitOptions::communicator);
// only rank 0 writes checkpoints (the others are given --quiet options).
History train_with_progress(Sequential& model, const ModelInfo& info, const TrainingSets& sets, const std::string& task,
                            const TrainOptions& o, const std::optional<Checkpoint>& resumed, const TrainingControl& control,
                            const std::shared_ptr<Communicator>& world) {
  const bool writes_files = !world || world->rank() == 0;
  const auto epochs = static_cast<std::size_t>(o.epochs);
  const Matrix train_targets = targets_for(model, sets.y_train);
  const Matrix val_targets = sets.validate ? targets_for(model, sets.y_val) : Matrix();
  const bool interactive = !o.quiet && ::isatty(STDOUT_FILENO);
  Progress progress(epochs, interactive);
  History history;
  if (resumed) history = resumed->state.history;
  const std::size_t done = history.epochs.size();
  FitOptions fit;
  fit.epochs = epochs;
  fit.batch_size = static_cast<std::size_t>(o.batch_size);
  fit.shuffle = !o.no_shuffle;
  if (resumed) {
    fit.initial_epoch = done;  // the random engine continues from the checkpoint: no reseeding
  } else {
    fit.seed = o.seed;
  }
  if (sets.validate) {
    fit.validation_x = &sets.x_val;
    fit.validation_y = &val_targets;
  }
  fit.callbacks = control.callbacks;
  fit.class_weight = control.class_weight;
  if (world && world->size() > 1) {
    fit.communicator = world;
    if (sets.train_rows != sets.total_train) {  // each process's share (else the whole data)
      fit.total_samples = sets.total_train;
      fit.first_sample = sets.first_train;
    }
  }
  if (resumed && writes_files) {
    restore_callback_states(resumed->state, fit.callbacks);
  } else if (resumed) {
    // Without the callbacks that only write files (make_training_control): without their states.
    TrainingState state;
    for (const CallbackState& c : resumed->state.callbacks) {
      if (c.name != "ModelCheckpoint") state.callbacks.push_back(c);
    }
    restore_callback_states(state, fit.callbacks);
  }
  // A run a callback stopped (early stopping) is over: resumed, it trains no further epoch, but fit()
  // still ends it as the uninterrupted run did (restoring the best weights).
  const bool stopped = resumed && resumed->state.stop_training;
  if (stopped) fit.epochs = done;
  progress.show_learning_rate(!o.control.lr_schedule.empty() || !o.control.reduce_lr_on_plateau.empty());
  if (!o.quiet) {
    if (resumed) std::printf("Resuming from %s after epoch %zu of %zu\n", o.resume_dir.c_str(), done, epochs);
    std::printf("Training on %zu samples%s, %zu features, %s\n", sets.total_train,
                sets.validate ? (", validating on " + std::to_string(sets.x_val.shape(0))).c_str() : "",
                sets.x_rows.shape(1), task.c_str());
    fit.on_batch_end = [&](const BatchLog& log) { progress.on_batch_end(log); };
  }
  fit.on_epoch_end = [&](const EpochLog& log) {
    history.epochs.push_back(log);
    if (!o.quiet) progress.on_epoch_end(log);
    if (!o.checkpoint_dir.empty() && writes_files) {
      std::error_code error;
      std::filesystem::create_directory(o.checkpoint_dir, error);
      if (error) throw DataError(o.checkpoint_dir + ": cannot create the checkpoint folder: " + error.message());
      save_checkpoint(checkpoint_file(o.checkpoint_dir), model, info,
                      capture_training_state(model, log.epoch, history, fit.callbacks));
    }
  };
  if (!o.quiet && stopped) {
    std::printf("The checkpoint's run stopped early after epoch %zu: nothing to train\n", done);
  } else if (!o.quiet && done >= epochs) {
    std::printf("The checkpoint already has %zu of %zu epochs: nothing to train\n", done, epochs);
  }
  try {
    model.fit(sets.x_train(), view(train_targets), fit);  // with nothing to train, only the callbacks' ends
  } catch (const TrainingDiverged& e) {
    std::string kept = o.checkpoint_dir.empty() || history.epochs.empty()
                           ? std::string()
                           : "; the checkpoint of epoch " + std::to_string(history.epochs.back().epoch) + " in " +
                                 o.checkpoint_dir + " is kept";
    throw TrainingDiverged(std::string(e.what()) + kept + "; " + o.output + " was not written", e.epoch(), e.batch());
  }
  if (!o.quiet) print_training_control(control);
  return history;
}

// The --test evaluation of a classifier. With a `world` of several processes, each evaluates its
// share (read as such, or its shard_rows() of the whole test data it holds) and the results are
// combined: every process must call it.
Evaluation evaluate_test(Sequential& model, const LoadedData& test, const TrainOptions& o,
                         const std::shared_ptr<Communicator>& world) {
  const Matrix targets = targets_for(model, test.y);
  const auto batch = static_cast<std::size_t>(o.batch_size);
  if (!world || world->size() == 1) return model.evaluate(test.x, targets, batch);
  if (test.total_samples != 0 && test.total_samples != test.x.shape(0)) {
    return model.evaluate(test.x, targets, *world, batch);  // this process's share, read as such
  }
  const RowRange part = shard_rows(test.x.shape(0), world->rank(), world->size());
  std::vector<std::size_t> rows(part.count);
  std::iota(rows.begin(), rows.end(), part.first);
  return model.evaluate(take_rows(test.x, rows), take_rows(targets, rows), *world, batch);
}

// Adds the last epoch's metrics to the model's record, and the --test results (printed too: a
// result, not progress, so even with --quiet). Every process of a data-parallel run calls it (the
// classifier's test evaluation is shared); only rank 0's record is used: a regression's test report
// (in the targets' units) is computed by rank 0 alone, and the others print nothing.
void record_results(ModelInfo& info, const History& history, bool validate, Sequential& model,
                    const std::optional<LoadedData>& test, const TrainOptions& o,
                    const std::shared_ptr<Communicator>& world) {
  const bool speaks = !world || world->rank() == 0;
  auto& meta = info.metadata;
  const EpochLog& last = history.epochs.back();
  meta.emplace_back("epochs", std::to_string(history.epochs.size()));
  meta.emplace_back("loss", number(last.loss));
  // Every compiled metric of the last epoch (accuracy; mae, rmse, r2 for a regression: on the
  // targets as trained, standardized under --standardize-targets).
  const auto record_metrics = [&meta](const std::vector<std::pair<std::string, double>>& metrics, double accuracy,
                                      const std::string& prefix) {
    if (metrics.empty() && !std::isnan(accuracy)) meta.emplace_back(prefix + "accuracy", number(accuracy));
    for (const auto& [name, value] : metrics) meta.emplace_back(prefix + name, number(value));
  };
  record_metrics(last.metrics, last.accuracy, "");
  if (validate) {
    meta.emplace_back("val_loss", number(last.val_loss));
    record_metrics(last.val_metrics, last.val_accuracy, "val_");
  }
  if (test && info.task == "regression" && speaks) {
    // In the targets' units: the standardization undone, as evaluate reports them.
    const RegressionReport r = evaluate_regression(model, test->x, test->y, info.target_standardizer, *test, o.test,
                                                   static_cast<std::size_t>(o.batch_size));
    meta.emplace_back("test_data", o.test);
    meta.emplace_back("test_loss", number(r.loss));
    meta.emplace_back("test_mae", number(r.all.mae));
    meta.emplace_back("test_rmse", number(r.all.rmse));
    meta.emplace_back("test_r2", number(r.all.r2));
    std::printf("Test: loss %.4f - mae %s - rmse %s - r2 %.4f - %zu samples\n", r.loss, number(r.all.mae).c_str(),
                number(r.all.rmse).c_str(), r.all.r2, r.samples);
  } else if (test && info.task != "regression") {
    const Evaluation e = evaluate_test(model, *test, o, world);
    meta.emplace_back("test_data", o.test);
    meta.emplace_back("test_loss", number(e.loss));
    meta.emplace_back("test_accuracy", number(e.accuracy));
    if (speaks) std::printf("Test: loss %.4f - accuracy %.4f - %zu samples\n", e.loss, e.accuracy, e.samples);
  }
  meta.emplace_back("created", utc_now());
  meta.emplace_back("xdense_version", XDENSE_VERSION);
}

// Writes the model (and --history) into their reserved files and commits them together.
void save_outputs(RunOutputs& outputs, Sequential& model, const ModelInfo& info, const History& history) {
  const std::vector<unsigned char> model_bytes = encode_model(model, info);
  outputs.model->write(model_bytes.data(), model_bytes.size());
  if (outputs.history != nullptr) outputs.history->write(xdense::history_csv(history));
  outputs.set.commit();
}

// One run of `xdense train` by this process; `world`: the processes of a data-parallel run (null:
// this one alone). Each process loads the whole data and builds the same model; after loading they
// agree that every one succeeded (agree_on_setup), train and evaluate together (run_collective), and
// rank 0 alone prints progress and writes the model, --history, checkpoints and --save-best.
int train(const TrainOptions& options, const std::shared_ptr<Communicator>& world) {
  const std::size_t processes = world ? world->size() : 1;
  const bool lead = !world || world->rank() == 0;  // prints and writes files
  TrainOptions o = options;
  if (!lead) o.quiet = true;
  if (lead && processes > 1 && !o.quiet) {
    std::printf("data-parallel on %zu processes (%s)\n", processes, world->name().c_str());
  }
  SingleProcessCommunicator alone;
  Communicator& group = world ? *world : static_cast<Communicator&>(alone);

  // Everything up to training may fail on some processes only (a file one node cannot read, an output
  // only rank 0 checks): they agree before the first collective of training.
  RunOutputs outputs;
  std::optional<Checkpoint> resumed;
  std::optional<Sequential> model;
  std::optional<LoadedData> data;
  std::optional<TrainingSets> sets;
  std::optional<LoadedData> test;
  std::optional<ModelInfo> info;
  std::optional<TrainingControl> control;
  std::string task;
  std::optional<std::size_t> declared_inputs;  // the input width a JSON config states
  const bool share = reads_share(o, processes);  // each process reads its share of the data
  agree_on_setup(group, [&] {
    // Check every setting and output before reading data or writing anything.
    check_settings(o, lead);
    if (lead) reserve_run_outputs(o, outputs);
    resumed = load_resumed_run(o, processes);
    // A resumed model keeps its weights, optimizer state and random state.
    model.emplace(resumed ? std::move(resumed->saved.model) : new_model(o, declared_inputs));
    if (o.standardize_targets && !is_regression_loss(*model->loss())) {
      throw InvalidArgument("--standardize-targets applies to a regression loss (mse, mae, huber, log_cosh, poisson); " +
                            model->loss()->name() + " is a classification loss");
    }
    data.emplace(load_training_data(o, *model->loss(), {share ? group.rank() : 0, share ? processes : 1}));
  });
  // What follows from every row: with shares, computed together (collectives every process reaches,
  // as every one has loaded its share).
  std::string fingerprint;
  std::optional<Standardizer> fitted, fitted_targets;
  if (share) {
    agree_on_setup(group, [&] {
      if (!data->regression) global_classes(*data, group);
      fingerprint = global_fingerprint(*data, group);
      if (o.standardize) fitted.emplace().fit(data->x, group);
      if (o.standardize_targets) fitted_targets.emplace().fit(data->y, group);
    });
  } else {
    fingerprint = data_fingerprint(*data);
  }
  agree_on_setup(group, [&] {
    if (share) refuse_continuous_classes(*data, o, *model->loss());
    const std::string settings = run_settings(o, processes) + " data-content=" + fingerprint;
    if (resumed) check_same_settings(metadata_value(resumed->saved.info, "run_settings"), settings, o.resume_dir);
    fit_model_to_data(*model, *data, o, resumed.has_value(), declared_inputs);
    prepare_training_model(*model, o, resumed.has_value());
    sets.emplace(split_and_standardize(*data, o, lead, fitted, fitted_targets));
    if (sets->target_standardizer) {
      // Standardized targets are centred on 0: a loss taking only some values (poisson: counts >= 0)
      // is refused here, by the flag, rather than by fit() on values the user never wrote.
      try {
        model->loss()->check_targets({sets->y_train.data(), sets->y_train.shape(0), sets->y_train.shape(1)},
                                     model->output_units());
      } catch (const DataError& e) {
        throw InvalidArgument("--standardize-targets: --loss " + model->loss()->name() + " does not take standardized " +
                              "targets (centred on 0): " + e.what());
      }
    }
    // A classifier's test data by shares too (a regressor's report is rank 0's, on the whole data).
    const bool test_share = share && !data->regression;
    test = load_test_data(o, *data, *sets, {test_share ? group.rank() : 0, test_share ? processes : 1});

    info.emplace(describe_run(o, *data, *sets, settings));
    task = data->regression ? regression_text(data->y.shape(1), data->target_names)
                            : std::to_string(data->class_names.size()) + " classes";
    control.emplace(make_training_control(o, *info, data->class_names, sets->y_train, lead));
  });

  History history;
  run_collective(group, [&] {
    history = train_with_progress(*model, *info, *sets, task, o, resumed, *control, world);
    record_results(*info, history, sets->validate, *model, test, o, world);
  });
  if (!lead) return exit_ok;
  record_training_control(*info, history, *control, o);
  save_outputs(outputs, *model, *info, history);
  if (!o.quiet) std::printf("Saved model to %s\n", o.output.c_str());
  return exit_ok;
}

}  // namespace

int run_train(const TrainOptions& o) {
  const std::shared_ptr<Communicator> world = training_world();
  return run_ending_job_on_abort(world, [&] { return train(o, world); });
}

}  // namespace xdense::cli
