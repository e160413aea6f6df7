#include "data_files.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>

#include "xdense/csv.hpp"
#include "xdense/error.hpp"
#include "xdense/idx.hpp"
#include "xdense/npy.hpp"

namespace xdense::cli {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

// Number of comma-separated fields on the first non-empty line (quotes respected).
std::size_t csv_column_count(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::size_t fields = 1;
    bool quoted = false;
    for (char c : line) {
      if (c == '"') quoted = !quoted;
      if (c == ',' && !quoted) ++fields;
    }
    return fields;
  }
  return 0;
}

// Integer labels (IDX or NPY) -> class indices with names "0", "1", ... sorted numerically.
void encode_integer_labels(const Matrix& raw, const std::string& source, LoadedData& data) {
  std::set<long long> values;
  for (std::size_t r = 0; r < raw.shape(0); ++r) {
    const float v = raw(r, 0);
    if (!(v >= 0.0f) || v != std::floor(v) || v > 1e9f) {
      throw DataError(source + ": label " + std::to_string(v) + " at row " + std::to_string(r) +
                      " is not a non-negative integer class");
    }
    values.insert(static_cast<long long>(v));
  }
  std::map<long long, std::size_t> index;
  for (long long v : values) {
    index[v] = data.class_names.size();
    data.class_names.push_back(std::to_string(v));
  }
  data.y = Matrix::from_shape({raw.shape(0), std::size_t{1}});
  for (std::size_t r = 0; r < raw.shape(0); ++r) {
    data.y(r, 0) = static_cast<float>(index[static_cast<long long>(raw(r, 0))]);
  }
}

Matrix load_label_file(const std::string& path) {
  if (looks_like_idx(path)) return load_idx_labels(path);
  if (looks_like_npy(path)) {
    Matrix labels = load_npy(path);
    if (labels.shape(1) != 1) {
      throw DataError(path + ": expected labels of shape (n,) or (n, 1), received (" +
                      std::to_string(labels.shape(0)) + ", " + std::to_string(labels.shape(1)) + ")");
    }
    return labels;
  }
  throw DataError(path + ": labels must be an IDX (*-ubyte[.gz]) or NPY (.npy) file");
}

}  // namespace

std::vector<std::string> split_list(const std::string& text, const std::string& what) {
  std::vector<std::string> items;
  std::size_t start = 0;
  for (;;) {
    const auto comma = text.find(',', start);
    const std::string item = trim(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (item.empty()) throw InvalidArgument(what + ": empty item in '" + text + "'");
    items.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return items;
}

LoadedData load_data(const DataRequest& request) {
  LoadedData data;
  const std::string& path = request.data;
  {
    std::ifstream probe(path, std::ios::binary);
    if (!probe) load_csv(path);  // throws the CSV reader's "cannot open file" message
  }
  if (looks_like_idx(path) || looks_like_npy(path)) {
    const bool idx = looks_like_idx(path);
    data.format = idx ? "idx" : "npy";
    if (!request.label_column.empty()) {
      throw InvalidArgument("--label-column applies to CSV files; " + path + " is " + (idx ? "IDX" : "NPY") +
                            " (give labels with --labels)");
    }
    data.x = idx ? load_idx_images(path) : load_npy(path);
    if (request.labels.empty()) {
      if (request.labels_required) {
        throw InvalidArgument(path + ": " + std::string(idx ? "IDX" : "NPY") +
                              " features need a labels file: add --labels FILE");
      }
      data.y = Matrix::from_shape({std::size_t{0}, std::size_t{1}});
      return data;
    }
    const Matrix raw = load_label_file(request.labels);
    if (raw.shape(0) != data.x.shape(0)) {
      throw DataError(request.labels + ": " + std::to_string(raw.shape(0)) + " labels but " + path + " has " +
                      std::to_string(data.x.shape(0)) + " samples");
    }
    encode_integer_labels(raw, request.labels, data);
    return data;
  }

  data.format = "csv";
  if (!request.labels.empty()) {
    throw InvalidArgument("--labels applies to IDX and NPY data; the CSV file " + path +
                          " holds its labels in a column (see --label-column)");
  }
  CsvOptions options;
  options.label_column = request.label_column;
  options.unlabelled = request.label_column.empty() && request.feature_count != 0 &&
                       csv_column_count(path) == request.feature_count;
  Dataset csv = load_csv(path, options);
  data.x = std::move(csv.features);
  data.y = std::move(csv.labels);
  data.class_names = std::move(csv.class_names);
  data.feature_names = std::move(csv.feature_names);
  if (options.unlabelled && request.labels_required) {
    throw DataError(path + ": has no label column (all " + std::to_string(request.feature_count) +
                    " columns are features)");
  }
  return data;
}

void select_classes(LoadedData& data, const std::vector<std::string>& keep, const std::string& source) {
  std::map<std::string, std::size_t> new_index;
  for (std::size_t i = 0; i < keep.size(); ++i) {
    if (std::find(data.class_names.begin(), data.class_names.end(), keep[i]) == data.class_names.end()) {
      throw InvalidArgument("--classes: class '" + keep[i] + "' does not occur in " + source +
                            " (classes: " + join(data.class_names) + ")");
    }
    if (!new_index.emplace(keep[i], i).second) throw InvalidArgument("--classes: class '" + keep[i] + "' listed twice");
  }
  std::vector<std::size_t> rows;
  std::vector<float> labels;
  for (std::size_t r = 0; r < data.y.shape(0); ++r) {
    const auto found = new_index.find(data.class_names[static_cast<std::size_t>(data.y(r, 0))]);
    if (found == new_index.end()) continue;
    rows.push_back(r);
    labels.push_back(static_cast<float>(found->second));
  }
  const std::size_t cols = data.x.shape(1);
  Matrix x = Matrix::from_shape({rows.size(), cols});
  Matrix y = Matrix::from_shape({rows.size(), std::size_t{1}});
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::copy(data.x.data() + rows[i] * cols, data.x.data() + (rows[i] + 1) * cols, x.data() + i * cols);
    y(i, 0) = labels[i];
  }
  data.x = std::move(x);
  data.y = std::move(y);
  data.class_names = keep;
}

std::size_t map_to_model_classes(LoadedData& data, const std::vector<std::string>& model_classes, bool drop_unknown,
                                 const std::string& source) {
  if (!data.labelled()) return 0;
  std::vector<std::string> known;
  for (std::size_t c = 0; c < data.class_names.size(); ++c) {
    if (std::find(model_classes.begin(), model_classes.end(), data.class_names[c]) != model_classes.end()) {
      known.push_back(data.class_names[c]);
    } else if (!drop_unknown) {
      std::size_t row = 0;
      while (row < data.y.shape(0) && static_cast<std::size_t>(data.y(row, 0)) != c) ++row;
      throw DataError(source + ": label '" + data.class_names[c] + "' (sample " + std::to_string(row + 1) +
                      ") is not one of the model's classes (" + join(model_classes) + ")");
    }
  }
  const std::size_t before = data.y.shape(0);
  // Keep the known classes, then relabel them by the model's order.
  std::vector<std::string> data_known_order = known;
  select_classes(data, data_known_order, source);
  for (std::size_t r = 0; r < data.y.shape(0); ++r) {
    const std::string& name = data.class_names[static_cast<std::size_t>(data.y(r, 0))];
    data.y(r, 0) = static_cast<float>(std::find(model_classes.begin(), model_classes.end(), name) - model_classes.begin());
  }
  data.class_names = model_classes;
  if (data.y.shape(0) == 0) {
    throw DataError(source + ": no sample belongs to the model's classes (" + join(model_classes) + ")");
  }
  return before - data.y.shape(0);
}

}  // namespace xdense::cli
