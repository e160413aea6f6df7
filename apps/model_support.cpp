#include "model_support.hpp"

#include <algorithm>
#include <cstdio>

#include "xdense/error.hpp"
#include "xdense/loss.hpp"
#include "xdense/preprocessing.hpp"

namespace xdense::cli {

Matrix targets_for(const Sequential& model, const Matrix& y) {
  const std::size_t units = model.output_units();
  const bool categorical = model.loss() != nullptr && model.loss()->name().find("categorical") != std::string::npos;
  if (units == 1 || categorical) return y;
  return one_hot(y, units);
}

void check_classes_fit_output(const Sequential& model, std::size_t classes,
                              const std::vector<std::string>& class_names, const std::string& source) {
  const std::size_t units = model.output_units();
  const std::size_t capacity = units == 1 ? 2 : units;
  if (classes > capacity) {
    std::string names;
    for (std::size_t i = 0; i < class_names.size() && i < 12; ++i) names += (i ? ", " : "") + class_names[i];
    if (class_names.size() > 12) names += ", ...";
    throw DataError(source + ": " + std::to_string(classes) + " classes (" + names + ") but the output layer has " +
                    std::to_string(units) + (units == 1 ? " unit (2 classes at most)" : " units") +
                    "; use --classes to pick some, or an output layer of " + std::to_string(classes) + " units");
  }
}

std::string metadata_value(const ModelInfo& info, const std::string& key) {
  for (const auto& entry : info.metadata)
    if (entry.first == key) return entry.second;
  return "";
}

LoadedData load_data_for_model(SavedModel& saved, const DataRequest& request_in) {
  DataRequest request = request_in;
  request.feature_count = saved.model.input_units();
  LoadedData data = load_data(request);
  if (data.x.shape(1) != saved.model.input_units()) {
    throw DataError(request.data + ": " + std::to_string(data.x.shape(1)) + " features per sample, but the model expects " +
                    std::to_string(saved.model.input_units()));
  }
  if (data.labelled() && !saved.info.class_names.empty()) {
    const bool subset = !metadata_value(saved.info, "classes").empty();
    const std::size_t dropped = map_to_model_classes(data, saved.info.class_names, subset, request.data);
    if (dropped > 0) {
      std::fprintf(stderr, "note: kept %zu samples of the model's classes, skipped %zu of other classes\n",
                   data.y.shape(0), dropped);
    }
  }
  if (saved.info.standardizer) saved.info.standardizer->transform_in_place(data.x);
  return data;
}

std::vector<std::size_t> predicted_classes(const Matrix& outputs) {
  std::vector<std::size_t> classes(outputs.shape(0));
  const std::size_t cols = outputs.shape(1);
  for (std::size_t r = 0; r < outputs.shape(0); ++r) {
    const float* row = outputs.data() + r * cols;
    classes[r] = cols == 1 ? static_cast<std::size_t>(row[0] > 0.5f)
                           : static_cast<std::size_t>(std::max_element(row, row + cols) - row);
  }
  return classes;
}

}  // namespace xdense::cli
