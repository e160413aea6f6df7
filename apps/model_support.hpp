#pragma once
// Helpers shared by the subcommands that use a trained model.

#include <string>
#include <vector>

#include "data_files.hpp"
#include "xdense/model_file.hpp"
#include "xdense/sequential.hpp"

namespace xdense::cli {

/// Targets in the shape the model's loss expects for class indices `y` (n, 1):
/// indices for categorical cross-entropy or a 1-unit output, one-hot otherwise.
Matrix targets_for(const Sequential& model, const Matrix& y);

/// Throws DataError unless `classes` classes fit the model's output layer.
void check_classes_fit_output(const Sequential& model, std::size_t classes,
                              const std::vector<std::string>& class_names, const std::string& source);

/// Loads data for a saved model: checks the feature count, maps labels onto the
/// model's classes (dropping other classes when it was trained on a --classes
/// subset) and applies the model's preprocessing. Prints a note on dropped samples.
LoadedData load_data_for_model(SavedModel& saved, const DataRequest& request);

/// Value of metadata `key`, or "" when absent.
std::string metadata_value(const ModelInfo& info, const std::string& key);

/// Index of the most probable class per row (p > 0.5 for a single unit).
std::vector<std::size_t> predicted_classes(const Matrix& outputs);

}  // namespace xdense::cli
