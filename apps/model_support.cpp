#include "model_support.hpp"

#include <algorithm>
#include <unistd.h>

#include <cerrno>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>

#include "xdense/atomic_file.hpp"
#include "xdense/error.hpp"
#include "xdense/loss.hpp"
#include "xdense/metric.hpp"
#include "xdense/preprocessing.hpp"

namespace xdense::cli {

Matrix targets_for(const Sequential& model, const Matrix& y) {
  const std::size_t units = model.output_units();
  const bool indices = model.loss() != nullptr && model.loss()->label_encoding() == LabelEncoding::class_index;
  // Class indices are one column; a regressor's targets have one column per output unit.
  if (units == 1 || indices || y.shape(1) != 1) return y;
  return one_hot(y, units);
}

bool is_regression_loss(const Loss& loss) { return loss.label_encoding() == LabelEncoding::values; }

std::string regression_text(std::size_t targets, const std::vector<std::string>& names) {
  return "regression of " + std::to_string(targets) + " target" + (targets == 1 ? "" : "s") +
         (names.empty() ? std::string() : " (" + name_list(names) + ")");
}

void check_targets_fit_output(const Sequential& model, std::size_t targets, const std::vector<std::string>& names,
                              const std::string& source) {
  const std::size_t units = model.output_units();
  if (targets == units) return;
  throw DataError(source + ": " + std::to_string(targets) + " target" + (targets == 1 ? "" : "s") +
                  (names.empty() ? std::string() : " (" + name_list(names) + ")") + " but the output layer has " +
                  std::to_string(units) + " unit" + (units == 1 ? "" : "s") + "; a regressor has one output unit " +
                  "per target: end the layers with " + std::to_string(targets) + " (no activation), e.g. --layers " +
                  "64:relu," + std::to_string(targets));
}

void check_classes_fit_output(const Sequential& model, std::size_t classes,
                              const std::vector<std::string>& class_names, const std::string& source) {
  const std::size_t units = model.output_units();
  const std::size_t capacity = units == 1 ? 2 : units;
  const std::string names = name_list(class_names);
  if (classes < 2) {
    throw DataError(source + ": only one class (" + names + ") in the labels: a classifier needs at least 2 " +
                    "(is the label column right? with --classes, list at least 2)");
  }
  if (classes > capacity) {
    // Many classes that are all numbers: probably a quantity, read as classes by a classification loss.
    const bool numbers = std::all_of(class_names.begin(), class_names.end(), [](const std::string& name) {
      char* end = nullptr;
      std::strtod(name.c_str(), &end);
      return !name.empty() && end == name.c_str() + name.size();
    });
    throw DataError(source + ": " + std::to_string(classes) + " classes (" + names + ") but the output layer has " +
                    std::to_string(units) + (units == 1 ? " unit (2 classes at most)" : " units") +
                    "; use --classes to pick some, or an output layer of " + std::to_string(classes) + " units" +
                    (numbers ? std::string("; if the labels are values rather than classes, use a regression loss "
                                           "(e.g. --loss mse)")
                             : std::string()));
  }
  if (classes < units) {
    throw DataError(source + ": " + std::to_string(classes) + " classes (" + names + ") but the output layer has " +
                    std::to_string(units) + " units: the extra units would be predicted as classes that do not " +
                    "exist; use an output layer of " + std::to_string(classes) + " units" +
                    (classes == 2 ? " (or 1 unit with a sigmoid)" : ""));
  }
}

void check_output_folder(const std::string& dir) {
  if (dir.empty()) throw DataError("an output folder path is empty");
  std::string trimmed = dir;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  std::error_code error;
  const bool exists = std::filesystem::exists(trimmed, error);
  if (error) throw DataError(dir + ": " + error.message());  // a symlink loop, a permission, ...
  if (!exists && std::filesystem::is_symlink(trimmed, error)) {
    throw DataError(dir + ": a symbolic link to nothing (" + std::filesystem::read_symlink(trimmed, error).string() +
                    "); remove it or point it at a folder");
  }
  if (exists && !std::filesystem::is_directory(trimmed, error)) throw DataError(dir + ": exists and is not a folder");
  const std::filesystem::path parent = std::filesystem::path(trimmed).parent_path();
  if (!parent.empty() && !std::filesystem::is_directory(parent, error)) {
    throw DataError(dir + ": folder '" + parent.string() + "' does not exist");
  }
}

void check_folder_writable(const std::string& dir) {
  std::error_code error;
  std::string target = dir;
  if (!std::filesystem::is_directory(dir, error)) {
    target = std::filesystem::path(dir).parent_path().string();
    if (target.empty()) target = ".";
  }
  if (::access(target.c_str(), W_OK | X_OK) != 0) {
    throw DataError(dir + ": cannot write in '" + target + "': " + std::generic_category().message(errno));
  }
}

void refuse_same_files(const std::vector<std::pair<std::string, std::string>>& outputs,
                       const std::vector<std::pair<std::string, std::string>>& inputs) {
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const auto& [flag, path] = outputs[i];
    if (path.empty()) continue;
    for (std::size_t j = i + 1; j < outputs.size(); ++j) {
      if (!outputs[j].second.empty() && same_file(path, outputs[j].second)) {
        throw DataError(path + ": " + flag + " and " + outputs[j].first + " are the same file; give each its own");
      }
    }
    for (const auto& [input_flag, input] : inputs) {
      if (!input.empty() && same_file(path, input)) {
        throw DataError(path + ": " + flag + " is the same file as " + input_flag + " (" + input +
                        "); writing it would destroy the input");
      }
    }
  }
}

OutputSet::Output& reserve_output(OutputSet& outputs, const std::string& path, const WriteOptions& options) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code error;
  if (!path.empty() && !parent.empty() && !std::filesystem::exists(parent, error) && !error) {
    throw DataError(path + ": folder '" + parent.string() + "' does not exist");
  }
  return outputs.reserve(path, options);
}

std::vector<NamedParameter> named_parameters(Sequential& model) {
  std::vector<NamedParameter> named;
  std::map<std::string, std::size_t> seen;  // layers of each kind so far
  for (std::size_t i = 0; i < model.layer_count(); ++i) {
    Layer& layer = model.layer(i);
    std::vector<Parameter> parameters = layer.weights();  // trainable, then non-trainable state
    std::string kind = layer.kind();
    for (char& c : kind) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::size_t index = seen[kind]++;
    for (Parameter& p : parameters) {
      std::string stem = kind + "_" + std::to_string(index) + "_" + p.name;
      named.push_back({std::move(stem), std::move(p), kind, index, i});
    }
  }
  return named;
}

std::string metadata_value(const ModelInfo& info, const std::string& key) {
  for (const auto& entry : info.metadata)
    if (entry.first == key) return entry.second;
  return "";
}

double trained_threshold(const ModelInfo& info) {
  const std::string text = metadata_value(info, "threshold");
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  const bool number = !text.empty() && end == text.c_str() + text.size();
  return number && value > 0.0 && value < 1.0 ? value : 0.5;
}

DataContract contract_of(const SavedModel& saved) {
  DataContract contract;
  contract.inputs = saved.model.input_units();
  contract.feature_names = saved.info.feature_names;
  contract.label_name = metadata_value(saved.info, "label_column");
  contract.header = metadata_value(saved.info, "header") != "false";
  contract.regression = saved.info.task == "regression";
  if (contract.regression) {
    contract.target_names = saved.info.target_names;
    contract.targets = saved.model.output_units();
  }
  return contract;
}

LoadedData load_data_for_model(SavedModel& saved, const DataRequest& given, bool keep_all_rows) {
  DataRequest request = given;
  request.target_note = "the model is a regressor and reads numbers in its target columns";
  LoadedData data = load_data_for(contract_of(saved), request);
  const std::vector<std::string>& classes = saved.info.class_names;
  if (data.labelled() && !data.regression && !keep_all_rows && looks_continuous(data.class_names)) {
    throw DataError(request.data + ": the label column " + quote_value(data.label_name) + " holds " +
                    std::to_string(data.class_names.size()) + " distinct numbers (" + name_list(data.class_names, 4) +
                    "): it looks continuous, but the model is a classifier (classes: " + name_list(classes) + ")");
  }
  if (data.labelled() && !classes.empty() && keep_all_rows) {
    std::size_t outside = 0;
    for (std::size_t r = 0; r < data.y.shape(0); ++r) {
      const std::string& name = data.class_names[static_cast<std::size_t>(data.y(r, 0))];
      outside += std::find(classes.begin(), classes.end(), name) == classes.end();
    }
    if (outside > 0) {
      std::fprintf(stderr, "note: %zu of %zu samples have a true class outside the model's classes (%s); "
                   "predicted anyway\n", outside, data.y.shape(0), name_list(classes).c_str());
    }
  } else if (data.labelled() && !classes.empty()) {
    const bool subset = !metadata_value(saved.info, "classes").empty();
    const std::size_t dropped = map_to_model_classes(data, classes, subset, request.data);
    if (dropped > 0) {
      std::fprintf(stderr, "note: kept %zu samples of the model's classes, skipped %zu of other classes\n",
                   data.y.shape(0), dropped);
    }
  }
  if (saved.info.standardizer) saved.info.standardizer->transform_in_place(data.x);
  return data;
}

void check_outputs_finite(const Matrix& outputs, const LoadedData& data, const std::string& source) {
  const std::size_t cols = outputs.shape(1);
  for (std::size_t r = 0; r < outputs.shape(0); ++r) {
    const float* row = outputs.data() + r * cols;
    if (std::all_of(row, row + cols, [](float v) { return std::isfinite(v); })) continue;
    const std::string where = r < data.lines.size() ? ":" + std::to_string(data.lines[r]) + " (sample " +
                                                          std::to_string(r + 1) + ")"
                                                    : ": sample " + std::to_string(r + 1);
    throw DataError(source + where + ": the model's output is not finite (NaN or infinity): the inputs are too " +
                    "large for its weights (a Dense layer overflowed float32); nothing was written");
  }
}

namespace {

// mse, mae, rmse, r2 of `predicted` against `truth` (samples, targets), through the registered metrics.
RegressionScores regression_scores(ConstMatrixView predicted, ConstMatrixView truth) {
  double values[4];
  const char* names[4] = {"mse", "mae", "rmse", "r2"};
  for (std::size_t k = 0; k < 4; ++k) {
    const std::unique_ptr<Metric> metric = make_metric(names[k]);
    metric->update(predicted, truth);
    values[k] = metric->result();
  }
  return {values[0], values[1], values[2], values[3]};
}

// Column `c` of `m` as a (rows, 1) matrix.
Matrix column(const Matrix& m, std::size_t c) {
  Matrix out = Matrix::from_shape({m.shape(0), std::size_t{1}});
  for (std::size_t r = 0; r < m.shape(0); ++r) out(r, 0) = m(r, c);
  return out;
}

ConstMatrixView view(const Matrix& m) { return {m.data(), m.shape(0), m.shape(1)}; }

}  // namespace

RegressionReport evaluate_regression(Sequential& model, const Matrix& x, const Matrix& y,
                                     const std::optional<Standardizer>& target_standardizer, const LoadedData& data,
                                     const std::string& source, std::size_t batch_size) {
  Matrix outputs = model.predict(x, batch_size);
  check_outputs_finite(outputs, data, source);
  RegressionReport report;
  const Evaluation e = model.evaluate(x, target_standardizer ? target_standardizer->transform(y) : y, batch_size);
  if (!std::isfinite(e.loss)) {
    throw DataError(source + ": the loss overflows although every output is finite (targets too far from the " +
                    "model's outputs for float32)");
  }
  report.loss = e.loss;
  report.samples = e.samples;
  if (target_standardizer) target_standardizer->inverse_transform_in_place(outputs);  // back in the targets' units
  report.all = regression_scores(view(outputs), view(y));
  if (y.shape(1) > 1) {
    for (std::size_t c = 0; c < y.shape(1); ++c) {
      report.per_target.push_back(regression_scores(view(column(outputs, c)), view(column(y, c))));
    }
  }
  return report;
}

std::string float_text(float value) {
  char text[32];
  for (int digits = 6; digits <= 9; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, static_cast<double>(value));
    if (std::strtof(text, nullptr) == value) break;
  }
  return text;
}

std::vector<std::size_t> predicted_classes(const Matrix& outputs, double threshold) {
  std::vector<std::size_t> classes(outputs.shape(0));
  const std::size_t cols = outputs.shape(1);
  const auto cut = static_cast<float>(threshold);  // compared in float32, as Keras's metrics do
  for (std::size_t r = 0; r < outputs.shape(0); ++r) {
    const float* row = outputs.data() + r * cols;
    classes[r] = cols == 1 ? static_cast<std::size_t>(row[0] > cut)
                           : static_cast<std::size_t>(std::max_element(row, row + cols) - row);
  }
  return classes;
}

}  // namespace xdense::cli
