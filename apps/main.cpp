// The xdense command-line tool. Parsing (CLI11) lives here only; each
// subcommand's work is in its own file. Every user error ends in one line on
// stderr and exit code 2; see README "Exit codes".

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iostream>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "address_limit.hpp"
#include "commands.hpp"
#include "data_parallel.hpp"
#include "error_report.hpp"
#include "schedule_spec.hpp"
#include "xdense/atomic_file.hpp"
#include "xdense/error.hpp"
#include "xdense/loss.hpp"
#include "xdense/metric.hpp"
#include "xdense/optimizer.hpp"
#include "xdense/threads.hpp"

namespace {

using namespace xdense::cli;

// ---- CLI11's parse errors, reworded: one line naming the option, values quoted and cut short.

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

// A user's text in quotes: at most 60 characters (57 and "..."), control characters escaped
// so the message stays on one line.
std::string quoted(const std::string& text) {
  constexpr std::size_t max_shown = 60;
  std::string shown;
  for (unsigned char c : text.size() > max_shown ? text.substr(0, max_shown - 3) : text) {
    if (c == '\n') shown += "\\n";
    else if (c == '\t') shown += "\\t";
    else if (c < 0x20 || c == 0x7f) shown += '?';
    else shown += static_cast<char>(c);
  }
  return "'" + shown + (text.size() > max_shown ? "...'" : "'");
}

// Re-quotes every '...' span of a message (see quoted()): validators quote whole user values.
std::string shorten_quotes(const std::string& message) {
  std::string result;
  std::size_t start = 0;
  for (;;) {
    const auto open = message.find('\'', start);
    const auto close = open == std::string::npos ? open : message.find('\'', open + 1);
    if (close == std::string::npos) return result + message.substr(start);
    result += message.substr(start, open - start) + quoted(message.substr(open + 1, close - open - 1));
    start = close + 1;
  }
}

// What CLI11's type names mean to a user.
std::string kind_of_value(const CLI::Option* option) {
  const std::string type = option ? option->get_type_name() : "";  // "INT", or "INT:..." with a check
  if (starts_with(type, "FLOAT")) return "a number";
  if (starts_with(type, "INT")) return "an integer";
  if (starts_with(type, "UINT")) return "a non-negative integer";
  return "a value";
}

// The "e.g. --lr 0.005" of an option's description, or "".
std::string example_of(const CLI::Option* option) {
  if (!option) return "";
  const std::string text = option->get_description();
  const auto at = text.find("e.g. ");
  return at == std::string::npos ? "" : text.substr(at, text.find('\n', at) - at);
}

// Times `name` ("--epochs") appears in the arguments, as "--epochs" or "--epochs=...".
int occurrences(const std::string& name, int argc, char** argv) {
  int count = 0;
  for (int i = 1; i < argc; ++i) count += argv[i] == name || starts_with(argv[i], name + "=");
  return count;
}

// Edit distance, for "did you mean": options are short, so the plain table is enough.
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitution = diagonal + (a[i - 1] != b[j - 1]);
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitution});
    }
  }
  return row[b.size()];
}

// " (did you mean --epochs?)" when one of `command`'s options is within two edits of `given`.
std::string suggestion(const CLI::App* command, const std::string& given) {
  const std::string name = given.substr(0, given.find('='));
  std::string best;
  std::size_t best_distance = 3;
  for (const CLI::Option* option : command->get_options()) {
    for (const std::string& long_name : option->get_lnames()) {
      const std::size_t d = edit_distance(name, "--" + long_name);
      if (d < best_distance) best_distance = d, best = "--" + long_name;
    }
  }
  return best.empty() ? "" : " (did you mean " + best + "?)";
}

// The message for a CLI11 parse error: its type says what happened, its text names the option
// (CLI11 2.1's wording, checked by tests/cli_messages_test.cpp); anything else passes through.
std::string parse_error_message(const CLI::ParseError& e, CLI::App& app, int argc, char** argv) {
  const std::vector<CLI::App*> parsed = app.get_subcommands();
  CLI::App* command = parsed.empty() ? &app : parsed.back();
  const std::string command_line = parsed.empty() ? "xdense" : "xdense " + command->get_name();
  const std::string what = e.what();
  const std::string name = what.substr(0, what.find_first_of(": "));  // "--epochs: ..." in most messages
  const CLI::Option* option = command->get_option_no_throw(name);
  const std::string example = example_of(option);
  const auto has = [&](const char* part) { return what.find(part) != std::string::npos; };
  std::vector<std::string> extras = app.remaining(true);  // arguments no option took
  std::string message;
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) && has(": At Most ")) {
    const int given = occurrences(name, argc, argv);
    message = name + " given " + (given > 1 ? std::to_string(given) + " times" : "more than once") + "; give it once";
  } else if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) && has(" required ") && has(" missing")) {
    const std::string kind = kind_of_value(option) == "a value" ? "" : kind_of_value(option);
    const std::string hint = kind + (kind.empty() || example.empty() ? "" : ", ") + example;
    message = name + ": missing its value" + (hint.empty() ? "" : " (" + hint + ")");
  } else if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) && has("disallowed flag override")) {
    message = name + " is a flag and takes no value";
  } else if (dynamic_cast<const CLI::ConversionError*>(&e) && starts_with(what, "Could not convert: ")) {
    // "Could not convert: --epochs = abc"
    const std::string rest = what.substr(19);
    const auto equals = rest.find(" = ");
    const std::string option_name = rest.substr(0, equals);
    const std::string value = equals == std::string::npos ? "" : rest.substr(equals + 3);
    const CLI::Option* converted = command->get_option_no_throw(option_name);
    const std::string kind = kind_of_value(converted), converted_example = example_of(converted);
    const bool integral = !value.empty() && value.find_first_not_of("+-0123456789") == std::string::npos;
    message = option_name + ": expected " + kind + ", received " + quoted(value) +
              (integral && kind != "a number" ? " (out of range)" : "") +
              (converted_example.empty() ? "" : "; " + converted_example);
  } else if (dynamic_cast<const CLI::ExtrasError*>(&e) || (dynamic_cast<const CLI::RequiredError*>(&e) && !extras.empty())) {
    // An unknown option is reported before a required one missing: "--epoch 3" misses --epochs.
    if (extras.empty()) extras.push_back(what.substr(what.find(": ") + 2));
    const std::string& first = extras.front();
    message = first.size() > 1 && first[0] == '-'
                  ? "unknown option " + quoted(first) + " for " + command_line + suggestion(command, first)
                  : "unexpected argument " + quoted(first) + " (options come as --name value)";
    if (extras.size() > 1) message += " and " + std::to_string(extras.size() - 1) + " more";
  } else if (dynamic_cast<const CLI::RequiredError*>(&e) && starts_with(what, "A subcommand")) {
    std::string names;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    message = "expected a command: " + names;
  } else if (dynamic_cast<const CLI::RequiredError*>(&e) && what == name + " is required" && option) {
    const std::string description = option->get_description();
    message = name + " is required: " + description.substr(0, description.find('\n'));
  } else if (dynamic_cast<const CLI::ValidationError*>(&e) && has(": Value ") && has(" not in range ")) {
    // CLI::Range: "--threads: Value 0 not in range 1 to 1024"
    const auto value_at = what.find(": Value ") + 8, range_at = what.find(" not in range ");
    message = name + ": expected " + kind_of_value(option) + " from " + what.substr(range_at + 14) + ", received " +
              quoted(what.substr(value_at, range_at - value_at));
  } else if (dynamic_cast<const CLI::ExcludesError*>(&e) && has(" excludes ")) {
    const auto at = what.find(" excludes ");
    message = what.substr(0, at) + " and " + what.substr(at + 10) + " cannot be used together; give one of them";
  } else {
    message = shorten_quotes(what);  // validators' own messages, e.g. --seed's
  }
  return message + " (see " + command_line + " --help)";
}

// Unsigned options must not wrap "-1" around to 2^64 - 1.
const CLI::Validator non_negative_integer(
    [](std::string& text) {
      const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
      if (!digits) return "expected a non-negative integer, received '" + text + "'";
      // Larger than 2^64 - 1 would be saturated silently by the conversion.
      const std::string max = "18446744073709551615";
      const std::string value = text.substr(std::min(text.find_first_not_of('0'), text.size() - 1));
      if (value.size() > max.size() || (value.size() == max.size() && value > max)) {
        return "expected an integer from 0 to 2^64 - 1 (18446744073709551615), received '" + text + "'";
      }
      text = value;  // decimal: "010" is ten (CLI11 would read a leading 0 as octal)
      return std::string();
    },
    "UINT");

// Signed options: an integer of at most 18 digits (beyond, the conversion would saturate to
// 2^63 - 1 and messages would quote that instead of the user's text); the command checks the range.
const CLI::Validator bounded_integer(
    [](std::string& text) {
      const std::size_t sign = !text.empty() && (text[0] == '-' || text[0] == '+') ? 1 : 0;
      const std::string digits = text.substr(sign);
      if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) {
        // CLI11 would read 0x10 as hex and 0b10 as binary: numbers here are decimal.
        if (digits.size() > 1 && digits[0] == '0' && std::isalpha(static_cast<unsigned char>(digits[1]))) {
          return "expected a decimal integer, received '" + text + "'";
        }
        return std::string();  // not a number: the conversion's own message says so
      }
      const std::size_t first = std::min(digits.find_first_not_of('0'), digits.size() - 1);
      if (digits.size() - first > 18) return "out of range, received '" + text + "'";
      text = text.substr(0, sign) + digits.substr(first);  // "010" is ten, not octal eight
      return std::string();
    },
    "INT");

// ---- the subcommands: their options bind straight to the fields of their settings.

// Every subcommand's settings (one is used per run).
struct Settings {
  TrainOptions train;
  EvaluateOptions evaluate;
  PredictOptions predict;
  SummaryOptions summary;
  ExportOptions exported;
  DemoOptions demo;
  TutorialOptions tutorial;
  std::optional<int> threads;  ///< --threads of the subcommands that compute
};

// --threads for the subcommands that compute: the matrix products' thread count.
void add_threads_option(CLI::App& command, std::optional<int>& threads) {
  command.add_option("--threads", threads,
                     "Threads for the matrix products (default: all cores, or OPENBLAS_NUM_THREADS),\n"
                     "  e.g. --threads 1; results are bit-identical for a given count")
      ->transform(bounded_integer)
      ->check(CLI::Range(1, 1024));
}

// The training-control flags of train (apps/training_control.hpp checks them).
void add_training_control_options(CLI::App& command, TrainingControlOptions& c) {
  command.add_option("--early-stopping", c.early_stopping,
                     "Stop when --monitor has not improved for PATIENCE epochs (Keras's EarlyStopping)\n"
                     "  e.g. --early-stopping 5 --validation-split 0.2")
      ->transform(bounded_integer);
  command.add_option("--monitor", c.monitor,
                     "What --early-stopping, --reduce-lr-on-plateau and --save-best watch: loss, a metric,\n"
                     "  or val_ + either (default val_loss, which needs --validation-split), e.g. --monitor val_auc");
  command.add_option("--min-delta", c.min_delta,
                     "Smallest change of --monitor that counts as an improvement for --early-stopping\n"
                     "  (default 0), e.g. --min-delta 0.001");
  command.add_flag("--restore-best-weights", c.restore_best_weights,
                   "With --early-stopping: end with the weights of the best epoch, not the last");
  command.add_option("--save-best", c.save_best,
                     "Write the model of the best epoch so far (by --monitor) to FILE during training\n"
                     "  e.g. --save-best best.xdm");
  command.add_option("--reduce-lr-on-plateau", c.reduce_lr_on_plateau,
                     "Lower the learning rate when --monitor stops improving: factor, patience, min_delta,\n"
                     "  cooldown, min_lr (Keras's defaults 0.1, 10, 1e-4, 0, 0), e.g. --reduce-lr-on-plateau factor=0.5,patience=3");
  std::string forms;  // "  exponential:decay_steps=N,..." one per line
  for (std::size_t start = 0, end; (end = schedule_spec_forms().find('\n', start)) != std::string::npos; start = end + 1) {
    forms += "\n    " + schedule_spec_forms().substr(start, end - start);
  }
  command.add_option("--lr-schedule", c.lr_schedule,
                     "Learning rate per optimizer step, starting from --lr (or the optimizer's default), e.g.\n"
                     "  --lr-schedule exponential:decay_steps=1000,decay_rate=0.9; the forms:" + forms);
  command.add_option("--class-weight", c.class_weight,
                     "Weigh each class's samples in the loss: balanced (n_samples / (n_classes * count))\n"
                     "  or CLASS:WEIGHT items with the data's class names, e.g. --class-weight 0:1,1:5");
  command.add_option("--threshold", c.threshold,
                     "Binary classifier: probability above which a sample is positive, for the metrics and\n"
                     "  stored in the model for predict and evaluate (default 0.5), e.g. --threshold 0.3");
  command.add_option("--metrics", c.metrics,
                     "Metrics computed over each whole epoch (default: accuracy; mae, rmse, r2 for regression),\n"
                     "  of " + xdense::name_list(xdense::metric_names(), 100) + "\n  e.g. --metrics accuracy,auc,f1");
}

void add_train_options(CLI::App& command, Settings& settings) {
  TrainOptions& o = settings.train;
  command.add_option("--data", o.data, "Training data: CSV with a header row, IDX images (*-ubyte[.gz]) or NPY\n"
                                       "  e.g. --data /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")->required();
  command.add_option("--labels", o.labels, "Labels for IDX/NPY data (IDX labels or integer NPY; a regression's\n"
                                           "  real-valued targets as NPY (n,) or (n, k))\n"
                                           "  e.g. --labels /usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz");
  command.add_option("--label-column", o.label_column, "CSV label column, by name or 0-based index (default: last)\n"
                                                       "  e.g. --label-column species; with a regression loss (mse, mae,\n"
                                                       "  huber, log_cosh, poisson) one or more target columns: price,rent");
  command.add_option("--test", o.test, "Test data evaluated after training (same format as --data)");
  command.add_option("--test-labels", o.test_labels, "Labels for IDX/NPY test data");
  auto* layers = command.add_option("--layers", o.layers, "Layers as units:activation, dropout(rate), batchnorm or layernorm items\n"
                                                          "  e.g. --layers 64:relu,dropout(0.3),32:gelu,1:sigmoid");
  auto* config = command.add_option("--model-config", o.model_config, "JSON model config: what Keras's model.to_json() writes (see docs/cli.md)\n"
                                                                      "  e.g. --model-config model.json");
  layers->excludes(config);
  // The choices are what the registries hold: a loss or optimizer a build adds is listed and taken.
  command.add_option("--loss", o.loss, "One of " + xdense::name_list(xdense::loss_names(), 100) + "\n" +
                                           "  e.g. --loss categorical_crossentropy")->required();
  command.add_option("--optimizer", o.optimizer, "One of " + xdense::name_list(xdense::optimizer_names(), 100) +
                                                     ", e.g. --optimizer adam")->required();
  command.add_option("--lr", o.learning_rate, "Learning rate (default: the optimizer's, as Keras: sgd 0.01, others 0.001),\n"
                                               "  e.g. --lr 0.005");
  command.add_option("--momentum", o.momentum, "Momentum of sgd or rmsprop in [0, 1) (default 0), e.g. --momentum 0.9");
  command.add_flag("--nesterov", o.nesterov, "SGD with Nesterov momentum, e.g. --momentum 0.9 --nesterov");
  command.add_option("--beta1", o.beta1, "beta_1 of adam, adamw, nadam, adamax (default 0.9)");
  command.add_option("--beta2", o.beta2, "beta_2 of adam, adamw, nadam, adamax (default 0.999)");
  command.add_option("--epsilon", o.epsilon, "Epsilon of the optimizer, Keras form (default 1e-7), e.g. --epsilon 1e-8");
  command.add_option("--rho", o.rho, "RMSprop's decay of the squared-gradient average (default 0.9), e.g. --rho 0.95");
  command.add_option("--initial-accumulator", o.initial_accumulator,
                     "Adagrad's initial accumulator value (default 0.1), e.g. --initial-accumulator 0.01");
  command.add_option("--weight-decay", o.weight_decay,
                     "Decoupled weight decay, w -= w * wd * lr each step (adamw default 0.004, others off)\n"
                     "  e.g. --optimizer adamw --weight-decay 0.01");
  command.add_option("--clipnorm", o.clipnorm, "Clip each gradient to this L2 norm, e.g. --clipnorm 1");
  command.add_option("--clipvalue", o.clipvalue, "Clip each gradient value to [-v, v], e.g. --clipvalue 0.5");
  command.add_option("--global-clipnorm", o.global_clipnorm,
                     "Clip all gradients together to this joint L2 norm, e.g. --global-clipnorm 1");
  command.add_option("--label-smoothing", o.label_smoothing,
                     "Label smoothing of a cross-entropy loss, in [0, 1], e.g. --label-smoothing 0.1");
  command.add_option("--init", o.init, "Kernel initializer of every Dense layer of --layers (default glorot_uniform;\n"
                                       "  pytorch: torch.nn.Linear's, for the bias too), e.g. --init he_normal");
  command.add_option("--kernel-regularizer", o.kernel_regularizer,
                     "Weight penalty on every Dense kernel of --layers: l1(f), l2(f) or l1_l2(f1, f2)\n"
                     "  e.g. --kernel-regularizer l2(0.001)");
  command.add_option("--optimizer-option", o.optimizer_options,
                     "Any setting of the optimizer's config, by its Keras name (repeatable)\n"
                     "  e.g. --optimizer-option beta_2=0.99")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  command.add_option("--epochs", o.epochs, "Passes over the training data (at most 1,000,000), e.g. --epochs 20")
      ->required()
      ->transform(bounded_integer);
  command.add_option("--batch-size", o.batch_size, "Samples per gradient step (at most 2^24), e.g. --batch-size 32")
      ->required()
      ->transform(bounded_integer);
  command.add_option("--validation-split", o.validation_split,
                     "Fraction held out for validation, in (0, 1), e.g. --validation-split 0.2\n"
                     "  (stratified and shuffled by --seed; the last rows with --no-shuffle)");
  command.add_option("--seed", o.seed, "Seed of every random draw (weights, shuffling, split), e.g. --seed 7")
      ->transform(non_negative_integer)
      ->capture_default_str();
  command.add_flag("--no-shuffle", o.no_shuffle, "Keep the data order (no shuffling between epochs)");
  command.add_flag("--no-header", o.no_header,
                   "The CSV has no header row: columns are named by 0-based index (\"0\", \"1\", ...)\n"
                   "  and the model matches them by position");
  command.add_flag("--header", o.header,
                   "The CSV's first row is its header even if it holds numbers (e.g. 400,410,420,class):\n"
                   "  by default such a row is taken for data and refused");
  command.add_option("--feature-columns", o.feature_columns, "CSV columns to use as features, in any order\n"
                                                             "  (default: every column but the label), e.g. --feature-columns age,income");
  command.add_option("--drop-columns", o.drop_columns, "CSV columns to leave out, e.g. --drop-columns id,notes\n"
                                                       "  (a pandas index column is named 'Unnamed: 0')");
  command.add_flag("--standardize", o.standardize, "Standardise features with the training part's mean/std (stored in the model)");
  command.add_flag("--standardize-targets", o.standardize_targets,
                   "Regression: standardise the targets with the training part's mean/std (stored in the model;\n"
                   "  predict and evaluate give values in the targets' units), e.g. for prices in the 1e5 range");
  command.add_option("--classes", o.classes, "Keep only these classes, relabelled in this order\n"
                                             "  e.g. --classes 0,6 (Fashion-MNIST T-shirt/top vs shirt)");
  command.add_option("--init-weights", o.init_weights, "Start from the .npy weights `xdense export` wrote\n"
                                                       "  e.g. --init-weights weights/");
  command.add_option("--output", o.output, "Model file to write (atomically), e.g. --output model.xdm")->required();
  command.add_option("--history", o.history, "Per-epoch metrics as CSV, e.g. --history history.csv");
  command.add_option("--checkpoint", o.checkpoint_dir,
                     "Save the full training state (weights, optimizer, random state, history) to\n"
                     "  DIR/checkpoint.xdc after every epoch, atomically, e.g. --checkpoint run1/");
  command.add_option("--resume", o.resume_dir,
                     "Continue the run checkpointed in DIR: repeat the same command and add --resume DIR\n"
                     "  (--epochs may be raised); the result is bit-identical to an uninterrupted run");
  add_training_control_options(command, o.control);
  command.add_flag("--quiet", o.quiet, "Print nothing but errors");
}

void add_evaluate_options(CLI::App& command, Settings& settings) {
  EvaluateOptions& o = settings.evaluate;
  command.add_option("--model", o.model, "Model file written by train, e.g. --model cancer.xdm")->required();
  command.add_option("--data", o.data, "Labelled data (CSV, IDX or NPY)")->required();
  command.add_option("--labels", o.labels, "Labels for IDX/NPY data");
  command.add_option("--label-column", o.label_column, "CSV label column (default: the one the model was trained with)");
  command.add_flag("--no-header", o.no_header, "The CSV has no header row (columns by position)");
  command.add_flag("--header", o.header, "The CSV's first row is its header even if it holds numbers");
  command.add_flag("--json", o.json, "Print one JSON object (loss, accuracy, samples, per_class, confusion_matrix;\n"
                                     "  for a regressor exactly loss, mse, mae, rmse, r2, samples)");
}

void add_predict_options(CLI::App& command, Settings& settings) {
  PredictOptions& o = settings.predict;
  command.add_option("--model", o.model, "Model file written by train")->required();
  command.add_option("--data", o.data, "Data (CSV with or without the label column, IDX or NPY)")->required();
  command.add_option("--labels", o.labels, "Labels for IDX/NPY data (optional)");
  command.add_option("--label-column", o.label_column,
                     "CSV label column (default: the one the model was trained with, if present)");
  command.add_flag("--no-header", o.no_header, "The CSV has no header row (columns by position)");
  command.add_flag("--header", o.header, "The CSV's first row is its header even if it holds numbers");
  command.add_option("--id-column", o.id_column,
                     "CSV column copied to the output's first column, to join predictions back\n"
                     "  e.g. --id-column customer_id");
  command.add_option("--output", o.output, "CSV file to write (default: standard output)");
}

void add_summary_options(CLI::App& command, Settings& settings) {
  SummaryOptions& o = settings.summary;
  command.add_option("--model", o.model, "Model file written by train")->required();
  command.add_flag("--json", o.json,
                   "Print one JSON object (layers, loss, optimizer, classes, features, preprocessing\n"
                   "  with its statistics, training record)");
}

void add_export_options(CLI::App& command, Settings& settings) {
  ExportOptions& o = settings.exported;
  command.add_option("--model", o.model, "Model file written by train")->required();
  command.add_option("--onnx", o.onnx, "ONNX file to write: raw features in, predict's outputs out, the standardization\n"
                     "  included (opset 13); replaced atomically, its folder must exist");
  command.add_option("--npy", o.npy_dir, "Folder to write dense_<i>_kernel.npy, dense_<i>_bias.npy, ... (and standardize_mean.npy /\n"
                     "  standardize_std.npy for a standardized model) into; created, its parent must exist");
}

void add_demo_options(CLI::App& command, Settings& settings) {
  DemoOptions& o = settings.demo;
  command.add_option("--data-dir", o.data_dir, "Folder holding breast_cancer.csv and iris.csv")->capture_default_str();
  command.add_option("--seed", o.seed, "Seed for weights, shuffling and the split")
      ->transform(non_negative_integer)
      ->capture_default_str();
  command.add_flag("--quiet", o.quiet, "Print only the results, not per-epoch progress");
}

void add_tutorial_options(CLI::App& command, Settings& settings) {
  TutorialOptions& o = settings.tutorial;
  command.add_option("--out", o.out_dir, "Folder to write into (created if missing)")->required();
  command.add_flag("--quick", o.quick, "Smaller data and budgets: seconds instead of a minute or two");
  command.add_option("--seed", o.seed, "Seed of every random draw: same seed, same numbers")
      ->transform(non_negative_integer)
      ->capture_default_str();
  command.add_option("--data-dir", o.data_dir, "Folder holding breast_cancer.csv and iris.csv\n"
                                               "  (used when Fashion-MNIST is not installed)")
      ->capture_default_str();
  command.add_option("--fashion-mnist-dir", o.fashion_dir, "Fashion-MNIST IDX files (Debian package dataset-fashion-mnist)")
      ->capture_default_str();
  command.add_option("--only", o.only, "Run only these parts: values, classifiers, shootout\n"
                                       "  e.g. --only values,shootout");
}

// One subcommand: its name, its help, the options it binds and the function it runs.
struct Subcommand {
  const char* name;
  const char* description;
  bool computes;  ///< runs matrix products: takes --threads and needs room for the BLAS buffers
  void (*add_options)(CLI::App& command, Settings& settings);
  int (*run)(const Settings& settings);
};

// Every subcommand, in the order of `xdense --help`: the one list of them.
const Subcommand subcommands[] = {
    {"train",
     "Train a model on a data file and save it\n"
     "  example: xdense train --data data/breast_cancer.csv --label-column benign --layers 16:relu,1:sigmoid \\\n"
     "           --loss binary_crossentropy --optimizer adam --epochs 50 --batch-size 32 \\\n"
     "           --validation-split 0.2 --standardize --output cancer.xdm\n"
     "  data-parallel: mpirun -np 4 xdense train ... (or srun): the same flags and the same model to float\n"
     "  rounding; --batch-size is the global batch; rank 0 prints and writes; --resume needs the same -np",
     true, add_train_options, [](const Settings& s) { return run_train(s.train); }},
    {"evaluate",
     "Loss, accuracy, per-class scores and confusion matrix\n"
     "  example: xdense evaluate --model cancer.xdm --data data/breast_cancer.csv --json",
     true, add_evaluate_options, [](const Settings& s) { return run_evaluate(s.evaluate); }},
    {"predict",
     "Predicted label and class probabilities per sample, as CSV\n"
     "  example: xdense predict --model cancer.xdm --data data/breast_cancer.csv --output predictions.csv",
     true, add_predict_options, [](const Settings& s) { return run_predict(s.predict); }},
    {"summary",
     "Architecture, loss, optimizer, classes, preprocessing, training record\n"
     "  example: xdense summary --model cancer.xdm",
     false, add_summary_options, [](const Settings& s) { return run_summary(s.summary); }},
    {"export",
     "Write the model as an ONNX file, and/or every layer's parameters (and the standardizer) as .npy files\n"
     "  example: xdense export --model cancer.xdm --onnx cancer.onnx   (runs in ONNX Runtime on raw features)\n"
     "  example: xdense export --model cancer.xdm --npy weights/   (then numpy.load('weights/dense_0_kernel.npy'))",
     false, add_export_options, [](const Settings& s) { return run_export(s.exported); }},
    {"demo",
     "Train the two demo classifiers (sigmoid: breast cancer; softmax: iris) on the shipped data\n"
     "  example: xdense demo --data-dir data",
     true, add_demo_options, [](const Settings& s) { return run_demo(s.demo); }},
    {"tutorial",
     "Reproduce the activation-function tutorial: values, graphs, the two classifiers,\n"
     "  an activation shoot-out, and REPORT.md testing the tutorial's claims\n"
     "  example: xdense tutorial --quick --out tutorial-output",
     true, add_tutorial_options, [](const Settings& s) { return run_tutorial(s.tutorial); }},
};

// "train, evaluate, ..." for messages.
std::string subcommand_names() {
  std::string names;
  for (const Subcommand& command : subcommands) names += (names.empty() ? "" : ", ") + std::string(command.name);
  return names;
}

// Before a computing subcommand: room for OpenBLAS's buffers under an address-space limit, and a
// --threads the limit cannot hold reduced with a note. Returns an exit code to stop with, or -1.
int prepare_to_compute(std::optional<int>& threads) {
  if (const int code = reserve_blas_room(); code >= 0) return code;
  const int allowed = threads_allowed_by_address_limit();
  if (allowed > 0 && threads && *threads > allowed) {
    std::cerr << "xdense: note: --threads " << *threads << " reduced to " << allowed
              << ": the address-space limit (ulimit -v) leaves room for the work buffers of " << allowed
              << (allowed == 1 ? " thread\n" : " threads\n");
    threads = allowed;
  }
  return -1;
}

// What went to standard output must have arrived: a full disk or a closed stdout (predictions,
// --json reports) is an error, not a silent loss. Returns false after saying so.
bool standard_output_written() {
  errno = 0;
  std::cout.flush();
  if (std::fflush(stdout) != 0 || std::ferror(stdout) || !std::cout) {
    const int error = errno;
    std::cerr << "xdense: error: standard output: cannot write"
              << (error != 0 ? std::string(": ") + std::strerror(error) : std::string()) << "\n";
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  adapt_to_address_limit(argv);  // first: may restart the tool with fewer OpenBLAS threads
  xdense::install_signal_cleanup();  // SIGINT/SIGTERM remove the temporary files of unfinished outputs
  CLI::App app{"xdense " XDENSE_VERSION " - train and use dense neural networks\n"
               "  example: xdense train --help"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "xdense " XDENSE_VERSION);
  Settings settings;
  for (const Subcommand& subcommand : subcommands) {
    CLI::App* command = app.add_subcommand(subcommand.name, subcommand.description);
    subcommand.add_options(*command, settings);
    if (subcommand.computes) add_threads_option(*command, settings.threads);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    if (!first_process_of_job()) return exit_user_error;  // under mpirun: said by rank 0 alone
    if (argc > 1 && argv[1][0] != '-' && app.get_subcommands().empty()) {
      std::cerr << "xdense: error: unknown command '" << argv[1] << "' (expected one of: " << subcommand_names()
                << "; see xdense --help)\n";
      return exit_user_error;
    }
    std::cerr << "xdense: error: " << parse_error_message(e, app, argc, argv) << "\n";
    return exit_user_error;
  }
  try {
    const Subcommand* chosen = nullptr;
    for (const Subcommand& subcommand : subcommands) {
      if (app.got_subcommand(subcommand.name)) chosen = &subcommand;
    }
    if (chosen == nullptr) return exit_ok;  // require_subcommand(1): not reached
    if (chosen->computes) {
      if (const int code = prepare_to_compute(settings.threads); code >= 0) return code;
    }
    if (settings.threads) xdense::set_num_threads(*settings.threads);
    const int code = chosen->run(settings);
    return standard_output_written() ? code : exit_user_error;
  } catch (const QuietExit& e) {
    return e.exit_code;  // a data-parallel run whose error another process reported
  } catch (...) {
    const ErrorReport report = report_of(std::current_exception());
    std::cerr << report.line() << "\n";
    return report.exit_code;
  }
}
