#pragma once
// The subcommands of the xdense tool, free of CLI11 so each compiles quickly.
// Each run_* returns the process exit code; user errors are thrown as xdense::Error
// and turned into one line on stderr and exit code 2 by main().

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace xdense::cli {

/// Exit codes of the tool (documented in README).
enum ExitCode : int { exit_ok = 0, exit_internal_error = 1, exit_user_error = 2, exit_diverged = 3 };

/// Settings of `xdense demo`.
struct DemoOptions {
  std::string data_dir = "data";
  std::uint64_t seed = 42;
  bool quiet = false;
};

/// The data files of train, evaluate and predict: --data, --labels, --label-column, --no-header, --header.
struct DataFileOptions {
  std::string data;          ///< CSV, IDX or NPY
  std::string labels;        ///< labels for IDX/NPY data
  std::string label_column;  ///< CSV label column, by name or 0-based index
  bool no_header = false;    ///< CSV without a header row: columns named by 0-based index
  bool header = false;       ///< the CSV's first row is its header even if it holds numbers
};

/// The training-control flags of `xdense train` (apps/training_control.hpp): callbacks,
/// learning-rate schedule, class weights, metrics. Unset or empty when not given.
struct TrainingControlOptions {
  std::optional<long long> early_stopping;  ///< --early-stopping PATIENCE
  std::string monitor;                      ///< --monitor KEY of the callbacks (empty: val_loss)
  std::optional<double> min_delta;          ///< --min-delta of --early-stopping
  bool restore_best_weights = false;        ///< --restore-best-weights
  std::string save_best;                    ///< --save-best FILE: the best epoch's model
  std::string reduce_lr_on_plateau;         ///< --reduce-lr-on-plateau factor=0.5,patience=3
  std::string lr_schedule;                  ///< --lr-schedule SPEC
  std::string class_weight;                 ///< --class-weight balanced | NAME:W,NAME:W
  std::optional<double> threshold;          ///< --threshold T of a binary classifier
  std::string metrics;                      ///< --metrics auc,precision
};

/// Settings of `xdense train`. The std::optional fields are unset when their flag is not given.
struct TrainOptions : DataFileOptions {
  std::string test, test_labels;
  std::string layers, model_config;
  std::string loss, optimizer;
  std::optional<float> learning_rate, momentum, beta1, beta2, epsilon;
  /// RMSprop's rho, Adagrad's initial_accumulator_value; every optimizer's weight decay and clipping.
  std::optional<float> rho, initial_accumulator, weight_decay, clipnorm, clipvalue, global_clipnorm;
  std::optional<float> label_smoothing;  ///< the loss's label_smoothing (cross-entropies)
  std::string init;                  ///< --init: kernel initializer of every Dense layer of --layers
  std::string kernel_regularizer;    ///< --kernel-regularizer: e.g. "l2(0.001)", every Dense layer of --layers
  /// --optimizer-option KEY=VALUE, repeatable: any key of the optimizer's config.
  std::vector<std::string> optimizer_options;
  bool nesterov = false;
  long long epochs = 0;      // signed, so "-2" is reported rather than wrapped around
  long long batch_size = 0;
  std::optional<double> validation_split;
  std::uint64_t seed = 42;
  bool no_shuffle = false;
  bool standardize = false;
  bool standardize_targets = false;  ///< regression: standardize the targets (stored, undone by predict/evaluate)
  std::string feature_columns;   ///< CSV columns to use as features, "a,b" (default: all but the label)
  std::string drop_columns;      ///< CSV columns to leave out, "id,notes"
  std::string classes;
  std::string init_weights;
  std::string output;
  std::string history;
  std::string checkpoint_dir;  ///< save the full training state here after every epoch
  std::string resume_dir;      ///< continue the run saved in this checkpoint folder
  TrainingControlOptions control;
  bool quiet = false;
};

/// Settings of `xdense evaluate`.
struct EvaluateOptions : DataFileOptions {
  std::string model;
  bool json = false;
};

/// Settings of `xdense predict`.
struct PredictOptions : DataFileOptions {
  std::string model, output;
  std::string id_column;  ///< CSV column copied through to the output as its first column
};

/// Settings of `xdense summary`.
struct SummaryOptions {
  std::string model;
  bool json = false;  ///< one JSON object instead of the text report
};

/// Settings of `xdense export`.
struct ExportOptions {
  std::string model, npy_dir;
  std::string onnx;  ///< --onnx FILE: the ONNX model (empty: none)
};

/// Settings of `xdense tutorial`.
struct TutorialOptions {
  std::string out_dir;
  bool quick = false;
  std::uint64_t seed = 42;
  std::string data_dir = "data";
  std::string fashion_dir = "/usr/share/datasets/fashion-mnist";
  std::string only;  ///< comma-separated parts (values, classifiers, shootout); empty = all
};

int run_demo(const DemoOptions& options);
int run_tutorial(const TutorialOptions& options);
int run_train(const TrainOptions& options);
int run_evaluate(const EvaluateOptions& options);
int run_predict(const PredictOptions& options);
int run_summary(const SummaryOptions& options);
int run_export(const ExportOptions& options);

}  // namespace xdense::cli
