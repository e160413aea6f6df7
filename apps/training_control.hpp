#pragma once
// The training-control flags of `xdense train` (TrainingControlOptions): early stopping, the best
// epoch's model, a learning-rate schedule or its reduction on plateau, class weights, the metrics
// and the threshold of a binary classifier. train.cpp calls these at fixed points of a run; every
// mistake a flag can hold is refused before any work (exit 2, nothing written).

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "xdense/callback.hpp"
#include "xdense/model_file.hpp"
#include "xdense/sequential.hpp"

namespace xdense {
class EarlyStopping;
}

namespace xdense::cli {

/// Refuses training-control flags that are wrong whatever the data holds: values out of range,
/// unknown keys, combinations that cannot work (--restore-best-weights without --early-stopping,
/// --lr-schedule with --reduce-lr-on-plateau, a validation key monitored without
/// --validation-split). InvalidArgument naming the flag. With `check_outputs`, also that --save-best
/// can be written (a temporary file created and removed: the process that writes files only).
void check_training_control(const TrainOptions& o, bool check_outputs = true);

/// The run_settings() text of the training-control flags given: " early-stopping=3 monitor=loss"
/// ("" when none is given, so checkpoints of earlier runs still resume).
std::string training_control_settings(const TrainingControlOptions& c);

/// The keys training_control_settings() writes (for train.cpp's parse of the settings).
extern const char* const training_control_keys[10];

/// Readies the built `model` for the run: a new model gets the metrics of --metrics (default:
/// those it has, the task's) with --threshold given to each metric that takes one (its loss and
/// optimizer rebuilt from their configs), and the schedule of --lr-schedule; a model read from a
/// checkpoint has them already (its file holds the metrics and the optimizer's schedule). Then
/// checks --monitor and --class-weight against the model. InvalidArgument naming the flag.
void prepare_training_model(Sequential& model, const TrainOptions& o, bool resumed);

/// What fit() gets from the training-control flags.
struct TrainingControl {
  /// FitOptions::callbacks, in a fixed order (checkpoints store their states in it): ModelCheckpoint
  /// (--save-best), ReduceLROnPlateau, EarlyStopping.
  std::vector<std::shared_ptr<Callback>> callbacks;
  std::shared_ptr<EarlyStopping> early_stopping;  ///< also in callbacks; null without --early-stopping
  std::map<std::size_t, double> class_weight;     ///< FitOptions::class_weight
};

/// The class weights of --class-weight for the training part's class indices `y_train` (n, 1),
/// classes named `class_names`: "balanced" is scikit-learn's n_samples / (n_classes * count_c);
/// "NAME:W,..." weighs the named classes (the others weigh 1). DataError for a class name the data
/// does not have (naming those it has) or, balanced, a class without a training sample.
std::map<std::size_t, double> class_weights(const std::string& spec, const std::vector<std::string>& class_names,
                                            const Matrix& y_train);

/// The callbacks and class weights of a run; `info` is what --save-best stores with the model.
/// Without `writes_files` (the processes of a data-parallel run other than rank 0), the callbacks
/// that only write files (--save-best's ModelCheckpoint) are left out: the others change training
/// and decide alike on every process, as fit() gives each the same logs.
TrainingControl make_training_control(const TrainOptions& o, const ModelInfo& info, const std::vector<std::string>& class_names,
                                      const Matrix& y_train, bool writes_files = true);

/// Says on standard output what the callbacks did: where early stopping stopped, whose weights it
/// restored. Nothing when they did nothing worth a line.
void print_training_control(const TrainingControl& control);

/// Adds to the model's record what the flags bring: the last epoch's learning rate (and any of its
/// metrics not recorded yet), --threshold, and early stopping's monitor, best epoch and value,
/// stopped epoch and restored weights.
void record_training_control(ModelInfo& info, const History& history, const TrainingControl& control,
                             const TrainOptions& o);

}  // namespace xdense::cli
