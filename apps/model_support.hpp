#pragma once
// Helpers shared by the subcommands that use a trained model.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "data_files.hpp"
#include "xdense/atomic_file.hpp"
#include "xdense/model_file.hpp"
#include "xdense/sequential.hpp"

namespace xdense::cli {

/// Targets in the shape the model's loss expects for class indices `y` (n, 1):
/// indices for categorical cross-entropy or a 1-unit output, one-hot otherwise; a regression
/// loss's target values (n, targets) as they are.
Matrix targets_for(const Sequential& model, const Matrix& y);

/// Whether `loss` makes a regression: it takes real values (LabelEncoding::values).
bool is_regression_loss(const Loss& loss);

/// Throws DataError unless a regressor's output layer has one unit per target (`names` are the
/// targets' columns, possibly empty).
void check_targets_fit_output(const Sequential& model, std::size_t targets, const std::vector<std::string>& names,
                              const std::string& source);

/// "regression of 2 targets (price, rent)", "regression of 1 target" (names unknown).
std::string regression_text(std::size_t targets, const std::vector<std::string>& names);

/// A regressor's scores in the targets' own units.
struct RegressionScores {
  double mse = 0.0;
  double mae = 0.0;
  double rmse = 0.0;
  double r2 = 0.0;
};

/// What evaluate reports of a regressor, and train --test.
struct RegressionReport {
  double loss = 0.0;  ///< the model's loss on the targets it was trained on (standardized with --standardize-targets)
  std::size_t samples = 0;
  RegressionScores all;  ///< over every target: mse, mae, rmse over every value, r2 the mean of the targets' (Keras's uniform_average)
  std::vector<RegressionScores> per_target;
};

/// Evaluates a regressor on `x` (preprocessed as the model expects) against targets `y` (samples,
/// targets) in their own units: the loss on y standardized with `target_standardizer` when there is
/// one (what training minimised), the scores on outputs turned back into the targets' units with
/// the metrics "mse", "mae", "rmse", "r2" (make_metric). DataError naming `source` and the sample
/// for outputs that are not finite.
RegressionReport evaluate_regression(Sequential& model, const Matrix& x, const Matrix& y,
                                     const std::optional<Standardizer>& target_standardizer, const LoadedData& data,
                                     const std::string& source, std::size_t batch_size);

/// The shortest decimal ("%.6g" to "%.9g") that reads back as `value`: 123456.7 stays 123456.7.
std::string float_text(float value);

/// Throws DataError unless `classes` classes fit the model's output layer exactly: more classes
/// than it can tell apart, fewer than 2, or an output unit without a class (a phantom class). Too
/// many classes that are all numbers suggest a regression loss.
void check_classes_fit_output(const Sequential& model, std::size_t classes,
                              const std::vector<std::string>& class_names, const std::string& source);

/// The columns a saved model reads (its feature names, label column or targets, and header flag).
DataContract contract_of(const SavedModel& saved);

/// Loads data for a saved model (columns matched as load_data_for does), maps labels onto the
/// model's classes and applies the model's preprocessing. With `keep_all_rows` (predict) every
/// row is kept and rows whose class the model does not know are counted in a note; otherwise
/// (evaluate) they are dropped with a note for a model trained on a --classes subset, and
/// refused for any other model. A regressor's targets stay in their units (y), a text target is
/// refused naming the model as a regressor.
LoadedData load_data_for_model(SavedModel& saved, const DataRequest& request, bool keep_all_rows = false);

/// Throws DataError naming the first sample (and its CSV line) whose outputs are not finite.
void check_outputs_finite(const Matrix& outputs, const LoadedData& data, const std::string& source);

/// Throws DataError unless `dir` can be an output folder (export --npy, --checkpoint, tutorial
/// --out): it may exist already (then it must be a folder) or will be created, but its parent
/// must exist: outputs are created, their folders never are.
void check_output_folder(const std::string& dir);

/// Throws DataError unless the calling user may create files in `dir` if it exists, or in its
/// parent if not (access(2) W_OK|X_OK: always true for root).
void check_folder_writable(const std::string& dir);

/// Refuses (DataError, exit 2) an output that is the same file as another output or as an input
/// (compared by identity: device and inode after following links). Empty paths are skipped.
/// Each item is (flag, path), the flag naming it in the message.
void refuse_same_files(const std::vector<std::pair<std::string, std::string>>& outputs,
                       const std::vector<std::pair<std::string, std::string>>& inputs);

/// Reserves `path` in `outputs` (its temporary file created now), after checking its folder
/// exists so the message is the same as for every other output: "PATH: folder 'F' does not exist".
OutputSet::Output& reserve_output(OutputSet& outputs, const std::string& path, const WriteOptions& options = {});

/// A layer's named array with the file stem `xdense export --npy` gives it: "<kind>_<i>_<name>",
/// kind the layer's registered kind in lower case, i counting the layers of that kind and name the
/// array's own ("dense_0_kernel", "batchnormalization_0_moving_mean").
struct NamedParameter {
  std::string stem;
  Parameter parameter;
  std::string kind;          ///< the layer's kind in lower case: "dense"
  std::size_t index = 0;     ///< its number among the layers of that kind
  std::size_t layer = 0;     ///< its position in the model
};

/// Every array of the (built) model (Layer::weights(): trainable, then non-trainable state), in
/// layer order, with its stem.
std::vector<NamedParameter> named_parameters(Sequential& model);

/// Value of metadata `key`, or "" when absent.
std::string metadata_value(const ModelInfo& info, const std::string& key);

/// Index of the most probable class per row (p > threshold for a single unit: trained_threshold()).
std::vector<std::size_t> predicted_classes(const Matrix& outputs, double threshold = 0.5);

/// The threshold a binary classifier was trained with (metadata "threshold", written by train
/// --threshold), 0.5 otherwise: where predict and evaluate cut its probability.
double trained_threshold(const ModelInfo& info);

}  // namespace xdense::cli
