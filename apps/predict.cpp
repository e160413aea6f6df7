// `xdense predict`: one CSV row per input row, in order, with the --id-column's
// value (if given), then for a classifier the predicted label (by its original name) and one
// probability column per class, for a regressor one value column per target
// (predicted_<target>, in the targets' units).

#include <cstdio>
#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "model_support.hpp"
#include "xdense/atomic_file.hpp"

namespace xdense::cli {
namespace {

// CSV field, quoted when it holds a comma, a quote or a line break.
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

// One row per sample: the id (with --id-column), the predicted class by name, then one probability
// column per class (p_<class>).
std::string class_rows(const Matrix& probabilities, const ModelInfo& info, const LoadedData& data,
                       const std::string& id_column) {
  const std::vector<std::size_t> predicted = predicted_classes(probabilities, trained_threshold(info));
  std::vector<std::string> names = info.class_names;
  const std::size_t classes = probabilities.shape(1) == 1 ? 2 : probabilities.shape(1);
  for (std::size_t c = names.size(); c < classes; ++c) names.push_back(std::to_string(c));

  std::ostringstream out;
  const bool ids = !id_column.empty();
  if (ids) out << csv_field(id_column) << ",";
  out << "label";
  for (std::size_t c = 0; c < classes; ++c) out << "," << csv_field("p_" + names[c]);
  out << "\n";
  char number[32];
  for (std::size_t r = 0; r < probabilities.shape(0); ++r) {
    if (ids) out << csv_field(data.ids[r]) << ",";
    out << csv_field(names[predicted[r]]);
    for (std::size_t c = 0; c < classes; ++c) {
      // A single sigmoid unit gives p(class 1); p(class 0) = 1 - p.
      const float p = probabilities.shape(1) == 1 ? (c == 1 ? probabilities(r, 0) : 1.0f - probabilities(r, 0)) : probabilities(r, c);
      std::snprintf(number, sizeof number, "%.6g", static_cast<double>(p));
      out << "," << number;
    }
    out << "\n";
  }
  return out.str();
}

// A regressor's output columns: predicted_<target> per target ("predicted" for a single unnamed one).
std::vector<std::string> prediction_columns(const ModelInfo& info, std::size_t outputs) {
  std::vector<std::string> columns;
  for (std::size_t c = 0; c < outputs; ++c) {
    if (c < info.target_names.size()) {
      columns.push_back("predicted_" + info.target_names[c]);
    } else {
      columns.push_back(outputs == 1 ? "predicted" : "predicted_" + std::to_string(c));
    }
  }
  return columns;
}

// One row per sample: the id (with --id-column), then each target's value in its units.
std::string regression_rows(const Matrix& outputs, const ModelInfo& info, const LoadedData& data,
                            const std::string& id_column) {
  std::ostringstream out;
  const bool ids = !id_column.empty();
  if (ids) out << csv_field(id_column);
  const std::vector<std::string> columns = prediction_columns(info, outputs.shape(1));
  for (std::size_t c = 0; c < columns.size(); ++c) out << (c || ids ? "," : "") << csv_field(columns[c]);
  out << "\n";
  for (std::size_t r = 0; r < outputs.shape(0); ++r) {
    if (ids) out << csv_field(data.ids[r]);
    for (std::size_t c = 0; c < outputs.shape(1); ++c) out << (c || ids ? "," : "") << float_text(outputs(r, c));
    out << "\n";
  }
  return out.str();
}

}  // namespace

int run_predict(const PredictOptions& o) {
  // "-" (or no --output) is standard output; a file is reserved before any work and replaced
  // atomically at the end (a device or FIFO is written directly).
  const bool to_stdout = o.output.empty() || o.output == "-";
  OutputSet outputs;
  OutputSet::Output* file = nullptr;
  const std::vector<std::pair<std::string, std::string>> inputs = {
      {"--model", o.model}, {"--data", o.data}, {"--labels", o.labels}};
  if (to_stdout) {
    // `predict ... >> d.csv` with --data d.csv would append to the file being read.
    refuse_same_files({{"standard output", "/dev/stdout"}}, inputs);
  } else {
    refuse_same_files({{"--output", o.output}}, inputs);
    file = &reserve_output(outputs, o.output);
  }
  SavedModel saved = load_model(o.model);
  DataRequest request = data_request(o);
  request.labels_required = false;
  request.id_column = o.id_column;
  LoadedData data = load_data_for_model(saved, request, /*keep_all_rows=*/true);
  Matrix predictions = saved.model.predict(data.x, 256);
  check_outputs_finite(predictions, data, o.data);
  // A regressor's outputs in the targets' units (its target standardization undone).
  if (data.regression && saved.info.target_standardizer) saved.info.target_standardizer->inverse_transform_in_place(predictions);
  const std::string text = data.regression ? regression_rows(predictions, saved.info, data, o.id_column)
                                           : class_rows(predictions, saved.info, data, o.id_column);
  if (to_stdout) {
    std::cout << text << std::flush;
  } else {
    file->write(text);
    outputs.commit();
    std::fprintf(stderr, "Wrote %zu predictions to %s\n", predictions.shape(0), o.output.c_str());
  }
  return exit_ok;
}

}  // namespace xdense::cli
