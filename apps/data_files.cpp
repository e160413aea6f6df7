#include "data_files.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include "xdense/csv.hpp"
#include "xdense/error.hpp"
#include "xdense/idx.hpp"
#include "xdense/npy.hpp"

namespace xdense::cli {
namespace {

std::string join(const std::vector<std::string>& items) { return name_list(items); }

// Integer labels (IDX or NPY) -> class indices with names "0", "1", ... sorted numerically.
void encode_integer_labels(const Matrix& raw, const std::string& source, LoadedData& data) {
  std::set<long long> values;
  for (std::size_t r = 0; r < raw.shape(0); ++r) {
    const float v = raw(r, 0);
    if (!(v >= 0.0f) || v != std::floor(v) || v > 1e9f) {
      throw DataError(source + ": label " + std::to_string(v) + " at row " + std::to_string(r) +
                      " is not a non-negative integer class (real-valued targets need a regression loss, e.g. "
                      "--loss mse)");
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

// Keeps items[rows[0]], items[rows[1]], ... (rows ascending); an empty list stays empty.
template <typename T>
void keep_rows(std::vector<T>& items, const std::vector<std::size_t>& rows) {
  if (items.empty()) return;
  for (std::size_t i = 0; i < rows.size(); ++i)
    if (rows[i] != i) items[i] = std::move(items[rows[i]]);
  items.resize(rows.size());
}

// Class labels (n, 1), or with `targets` regression targets (n, k) (an NPY of any width; NaN and
// infinity are refused by the readers).
// With `rows`, only those rows of the file.
Matrix load_label_file(const std::string& path, bool targets, const std::optional<RowRange>& rows = std::nullopt) {
  if (looks_like_idx(path)) return rows ? load_idx_labels_rows(path, *rows) : load_idx_labels(path);
  if (looks_like_npy(path)) {
    Matrix labels = rows ? load_npy_rows(path, *rows) : load_npy(path);
    if (labels.shape(1) != 1 && !targets) {
      throw DataError(path + ": expected labels of shape (n,) or (n, 1), received (" +
                      std::to_string(labels.shape(0)) + ", " + std::to_string(labels.shape(1)) + ")");
    }
    return labels;
  }
  load_npy(path);  // not IDX: the NPY reader names what is wrong (a FIFO, a missing file, not .npy)
  throw DataError(path + ": labels must be an IDX (*-ubyte[.gz]) or NPY (.npy) file");
}

}  // namespace

std::vector<std::string> split_list(const std::string& text, const std::string& what) {
  std::vector<std::string> items;
  std::size_t start = 0;
  for (;;) {
    const auto comma = text.find(',', start);
    const std::string item = trim(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (item.empty()) throw InvalidArgument(what + ": empty item in " + quote_value(text));
    items.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return items;
}

namespace {

// The IDX/NPY part of loading: features by position, labels from --labels.
LoadedData load_array_data(const DataRequest& request) {
  LoadedData data;
  data.regression = request.regression;
  const std::string& path = request.data;
  const bool idx = looks_like_idx(path);
  data.format = idx ? "idx" : "npy";
  const std::string kind = idx ? "IDX" : "NPY";
  if (!request.label_column.empty()) {
    throw InvalidArgument("--label-column applies to CSV files; " + path + " is " + kind +
                          " (give labels with --labels)");
  }
  const char* csv_flag = request.no_header                 ? "--no-header"
                         : request.header                   ? "--header"
                         : !request.feature_columns.empty() ? "--feature-columns"
                         : !request.drop_columns.empty()    ? "--drop-columns"
                         : !request.id_column.empty()       ? "--id-column"
                                                            : nullptr;
  if (csv_flag != nullptr) throw InvalidArgument(std::string(csv_flag) + " applies to CSV files; " + path + " is " + kind);
  std::optional<RowRange> rows;  // the request's share, when it asks for one
  if (request.share_of > 1 && !request.labels.empty()) {
    const std::size_t samples = idx ? idx_images_shape(path).rows : npy_info(path).rows;
    const std::string& labels = request.labels;
    const std::size_t labelled = looks_like_idx(labels) ? idx_labels_shape(labels).rows
                                 : looks_like_npy(labels) ? npy_info(labels).rows
                                                          : samples;  // refused by load_label_file below
    if (labelled != samples) {
      throw DataError(labels + ": " + std::to_string(labelled) + " labels but " + path + " has " + std::to_string(samples) +
                      " samples");
    }
    rows = shard_rows(samples, request.share, request.share_of);
    data.total_samples = samples;
    data.first_sample = rows->first;
  }
  data.x = !rows ? (idx ? load_idx_images(path) : load_npy(path))
                 : (idx ? load_idx_images_rows(path, *rows) : load_npy_rows(path, *rows));
  if (request.labels.empty()) {
    if (request.labels_required) {
      throw InvalidArgument(path + ": " + kind + " features need a labels file: add --labels FILE");
    }
    data.y = Matrix::from_shape({std::size_t{0}, std::size_t{1}});
    return data;
  }
  Matrix raw = load_label_file(request.labels, request.regression, rows);
  if (raw.shape(0) != data.x.shape(0)) {
    throw DataError(request.labels + ": " + std::to_string(raw.shape(0)) + " labels but " + path + " has " +
                    std::to_string(data.x.shape(0)) + " samples");
  }
  if (request.regression) {
    data.y = std::move(raw);
    return data;
  }
  encode_integer_labels(raw, request.labels, data);
  return data;
}

// The probes read only regular files (a FIFO or device is neither IDX nor NPY); anything
// else goes to the CSV reader, whose message names the real cause ("is a FIFO", ...).
}  // namespace

bool is_array_file(const std::string& path) { return looks_like_idx(path) || looks_like_npy(path); }

namespace {

LoadedData from_dataset(Dataset csv, bool regression) {
  LoadedData data;
  data.format = "csv";
  data.regression = regression;
  data.target_names = std::move(csv.target_names);
  data.x = std::move(csv.features);
  data.y = std::move(csv.labels);
  data.class_names = std::move(csv.class_names);
  data.feature_names = std::move(csv.feature_names);
  data.label_name = std::move(csv.label_name);
  data.ignored_columns = std::move(csv.ignored_columns);
  data.ids = std::move(csv.ids);
  data.lines = std::move(csv.lines);
  return data;
}

CsvOptions csv_options(const DataRequest& request) {
  if (!request.labels.empty()) {
    throw InvalidArgument("--labels applies to IDX and NPY data; the CSV file " + request.data +
                          " holds its labels in a column (see --label-column)");
  }
  CsvOptions options;
  if (request.no_header && request.header) throw InvalidArgument("give --header or --no-header, not both");
  options.header = request.no_header ? CsvHeader::absent : request.header ? CsvHeader::present : CsvHeader::detect;
  if (request.regression) {
    // "price,rent": one target per column (unset: the caller's default).
    if (!request.label_column.empty()) options.target_columns = split_list(request.label_column, "--label-column");
    options.target_note = request.target_note;
  } else {
    const std::string& label = request.label_column;
    if (label.find(',') != std::string::npos) {
      const std::vector<std::string> columns = load_csv_columns(request.data, options.header);
      if (std::find(columns.begin(), columns.end(), label) == columns.end()) {
        throw InvalidArgument("--label-column " + quote_value(label) + ": several label columns are the targets of a " +
                              "regression (a regression loss, e.g. --loss mse); a classifier reads one label column");
      }
    }
    options.label_column = label;
  }
  options.feature_columns = request.feature_columns;
  options.drop_columns = request.drop_columns;
  options.id_column = request.id_column;
  options.label_optional = !request.labels_required;
  return options;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// The columns of the file that are neither the model's features nor the id column.
std::vector<std::string> other_columns(const DataContract& contract, const DataRequest& request, CsvHeader header) {
  std::vector<std::string> others;
  for (const std::string& name : load_csv_columns(request.data, header)) {
    if (!contains(contract.feature_names, name) && name != request.id_column) others.push_back(name);
  }
  return others;
}

// A model that knows its columns' names: features found by name, the label by the
// contract's (or --label-column's) name.
LoadedData load_csv_by_name(const DataContract& contract, const DataRequest& request) {
  if (!contract.header && !request.no_header) {
    throw InvalidArgument(request.data + ": the model was trained on a CSV without a header row (columns by " +
                          "position): add --no-header and give the columns in the training file's order");
  }
  if (contract.header && request.no_header) {
    throw InvalidArgument("--no-header: the model matches columns by name (" + name_list(contract.feature_names, 5) +
                          "); give " + request.data + " with its header row");
  }
  CsvOptions options = csv_options(request);
  if (!request.feature_columns.empty() || !request.drop_columns.empty()) {
    throw InvalidArgument("--feature-columns and --drop-columns apply to train; the model reads the columns it "
                          "was trained on (" + name_list(contract.feature_names, 5) + ")");
  }
  if (!request.label_column.empty()) options.label_optional = false;  // asked for by name: it must be there
  if (contract.regression) {
    if (options.target_columns.empty()) options.target_columns = contract.target_names;
    if (options.target_columns.empty()) {
      // A regressor whose file does not name its targets (saved by the library): the columns that
      // are neither features nor the id are the targets when there are as many as its outputs.
      const std::vector<std::string> others = other_columns(contract, request, options.header);
      if (others.size() == contract.targets) {
        options.target_columns = others;
      } else if (request.labels_required) {
        throw InvalidArgument(request.data + ": cannot tell which columns hold the model's " +
                              std::to_string(contract.targets) + " target" + (contract.targets == 1 ? "" : "s") +
                              " (the model file does not name them; other columns: " + name_list(others) +
                              "): give --label-column");
      } else {
        options.unlabelled = true;
      }
    }
  } else if (options.label_column.empty()) {
    options.label_column = contract.label_name;
  }
  if (!contract.regression && options.label_column.empty()) {
    // A model file from before the label column was recorded: the one column that is neither a
    // feature nor the id is the label; anything else is ambiguous.
    const std::vector<std::string> others = other_columns(contract, request, options.header);
    if (others.size() == 1) {
      options.label_column = others.front();
      options.label_optional = !request.labels_required;
    } else if (request.labels_required) {
      throw InvalidArgument(request.data + ": cannot tell which column holds the labels (the model file does not " +
                            "record it; candidates: " + name_list(others) + "): give --label-column");
    } else {
      options.unlabelled = true;
    }
  }
  DatasetSchema schema;
  schema.feature_names = contract.feature_names;
  return from_dataset(load_csv(request.data, schema, options), request.regression);
}

// A model without column names (trained on IDX/NPY data): the columns other than the label
// and the id are the features, by position.
LoadedData load_csv_by_position(const DataContract& contract, const DataRequest& request) {
  CsvOptions options = csv_options(request);
  std::vector<std::string> columns = load_csv_columns(request.data, options.header);
  if (!request.id_column.empty()) {
    const auto id = std::find(columns.begin(), columns.end(), request.id_column);
    if (id != columns.end()) columns.erase(id);
  }
  const std::size_t labels = contract.regression ? contract.targets : 1;  // label columns after the features
  if (options.label_column.empty() && options.target_columns.empty()) {
    if (columns.size() == contract.inputs) {
      options.unlabelled = true;
    } else if (columns.size() == contract.inputs + labels && contract.regression) {
      options.target_columns.assign(columns.end() - static_cast<std::ptrdiff_t>(labels), columns.end());
    } else if (columns.size() == contract.inputs + labels) {
      options.label_column = columns.back();
    } else {
      const std::string last = contract.regression ? "the " + std::to_string(labels) + " target column" +
                                                         (labels == 1 ? "" : "s") + " last"
                                                   : std::string("the label column last");
      throw DataError(request.data + ": " + std::to_string(columns.size()) + " columns, but the model takes " +
                      std::to_string(contract.inputs) + " features by position (plus, optionally, " + last + ")");
    }
  }
  LoadedData data = from_dataset(load_csv(request.data, options), request.regression);
  if (options.unlabelled && request.labels_required) {
    throw DataError(request.data + ": has no label column (all " + std::to_string(contract.inputs) +
                    " columns are features)");
  }
  return data;
}

}  // namespace

bool looks_continuous(const std::vector<std::string>& class_names) {
  if (class_names.size() <= 10) return false;
  bool fraction = false;
  for (const std::string& name : class_names) {
    char* end = nullptr;
    const double value = std::strtod(name.c_str(), &end);
    if (name.empty() || end != name.c_str() + name.size() || !std::isfinite(value)) return false;
    fraction = fraction || value != std::floor(value);
  }
  return fraction;
}

DataRequest data_request(const DataFileOptions& files) {
  DataRequest request;
  request.data = files.data;
  request.labels = files.labels;
  request.label_column = files.label_column;
  request.no_header = files.no_header;
  request.header = files.header;
  return request;
}

LoadedData load_data(const DataRequest& request) {
  LoadedData data;
  if (is_array_file(request.data)) {
    data = load_array_data(request);
  } else {
    CsvOptions options = csv_options(request);
    if (request.regression && options.target_columns.empty()) {
      options.target_columns = {load_csv_columns(request.data, options.header).back()};  // the last, as a label
    }
    data = from_dataset(load_csv(request.data, options), request.regression);
  }
  if (data.total_samples == 0) data.total_samples = data.x.shape(0);
  return data;
}

LoadedData load_data_for(const DataContract& contract, const DataRequest& given) {
  DataRequest request = given;
  request.regression = contract.regression;
  LoadedData data;
  if (is_array_file(request.data)) {
    data = load_array_data(request);
  } else if (!contract.feature_names.empty()) {
    data = load_csv_by_name(contract, request);
  } else {
    data = load_csv_by_position(contract, request);
  }
  data.regression = contract.regression;
  if (contract.regression && data.labelled() && data.y.shape(1) != contract.targets) {
    const std::string names = data.target_names.empty() ? "" : " (" + name_list(data.target_names) + ")";
    throw DataError((request.labels.empty() ? request.data : request.labels) + ": " + std::to_string(data.y.shape(1)) +
                    " target" + (data.y.shape(1) == 1 ? "" : "s") + names + ", but the model predicts " +
                    std::to_string(contract.targets));
  }
  if (data.x.shape(1) != contract.inputs) {
    throw DataError(request.data + ": " + std::to_string(data.x.shape(1)) + " features per sample, but the model expects " +
                    std::to_string(contract.inputs));
  }
  if (!data.ignored_columns.empty()) {
    std::fprintf(stderr, "note: %s: ignoring column%s the model does not use: %s\n", request.data.c_str(),
                 data.ignored_columns.size() > 1 ? "s" : "", name_list(data.ignored_columns).c_str());
  }
  return data;
}

void select_classes(LoadedData& data, const std::vector<std::string>& keep, const std::string& source) {
  std::map<std::string, std::size_t> new_index;
  for (std::size_t i = 0; i < keep.size(); ++i) {
    if (std::find(data.class_names.begin(), data.class_names.end(), keep[i]) == data.class_names.end()) {
      throw InvalidArgument("--classes: class " + quote_value(keep[i]) + " does not occur in " + source +
                            " (classes: " + join(data.class_names) + ")");
    }
    if (!new_index.emplace(keep[i], i).second) throw InvalidArgument("--classes: class " + quote_value(keep[i]) + " listed twice");
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
  keep_rows(data.lines, rows);
  keep_rows(data.ids, rows);
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
      const std::string where = data.lines.empty() ? " (sample " + std::to_string(row + 1) + ")"
                                                   : ":" + std::to_string(data.lines[row]);
      throw DataError(source + where + ": label " + quote_value(data.class_names[c]) +
                      " is not one of the model's classes (" + join(model_classes) + ")");
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
