#pragma once
/// \file
/// Loading labelled classification datasets from CSV files with a header row.

#include <iosfwd>
#include <string>
#include <vector>

#include "xdense/tensor.hpp"

namespace xdense {

/// A labelled dataset loaded from a file.
struct Dataset {
  /// Feature values, shape (samples, features), in file column order without the label column.
  Matrix features;
  /// Class index of each sample as a float, shape (samples, 1), values 0..k-1.
  Matrix labels;
  /// Header names of the feature columns, in the order of `features`' columns.
  std::vector<std::string> feature_names;
  /// Header name of the label column.
  std::string label_name;
  /// Class names: class index i <-> class_names[i].
  std::vector<std::string> class_names;
};

/// Settings for reading a CSV dataset.
struct CsvOptions {
  /// Label column: a header name, or a 0-based column index written as text; empty = last column.
  /// A header name takes precedence over an index with the same text.
  std::string label_column;
  /// If non-empty: the fixed class order (e.g. from a saved model); a label not in it is an error.
  /// If empty: integer labels give classes sorted numerically ("0", "1", ...), any other labels
  /// give classes sorted lexicographically (like scikit-learn's LabelEncoder).
  std::vector<std::string> class_names;
  /// No label column: every column is a feature and Dataset::labels is empty (0 rows).
  bool unlabelled = false;
};

/// Loads a comma-separated file with a header row; throws DataError naming the file, line and column.
Dataset load_csv(const std::string& path, const CsvOptions& options = {});

/// Same as load_csv, from an already-open stream; `source_name` stands for the file in error messages.
Dataset read_csv(std::istream& in, const std::string& source_name, const CsvOptions& options = {});

}  // namespace xdense
