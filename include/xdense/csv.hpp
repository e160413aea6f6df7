#pragma once
/// \file
/// Loading labelled datasets from CSV files: a label column of classes (classification), or one or
/// more target columns of real values (regression, CsvOptions::target_columns).
///
/// Columns are matched by name. Train on one file, then load every other file through the
/// training data's schema, so the features come in the same order and the labels get the same
/// class indices whatever the other file's column order or class mix:
///
///   xdense::CsvOptions options;
///   options.label_column = "species";
///   xdense::Dataset train = xdense::load_csv("train.csv", options);
///   xdense::Dataset test = xdense::load_csv("test.csv", train.schema());

#include <cstddef>
#include <iosfwd>
#include <string>
#include <vector>

#include "xdense/tensor.hpp"

namespace xdense {

/// The data contract of a trained model: the columns it reads, by name and in its input order,
/// its label column and its classes. Take it from the training data (Dataset::schema()) and load
/// every later file with it.
struct DatasetSchema {
  /// Feature columns in the model's input order.
  std::vector<std::string> feature_names;
  /// Label column; empty when there is none.
  std::string label_name;
  /// Class index i <-> class_names[i]; empty: classes are taken from the file being read.
  std::vector<std::string> class_names;
  /// Regression: the target columns, in the model's output order (empty for classification).
  std::vector<std::string> target_names;
};

/// A labelled dataset loaded from a file.
struct Dataset {
  /// Feature values, shape (samples, features), in file column order without the label column.
  Matrix features;
  /// Class index of each sample as a float, shape (samples, 1), values 0..k-1; or, for regression
  /// (CsvOptions::target_columns), the targets' values, shape (samples, targets).
  Matrix labels;
  /// Header names of the feature columns, in the order of `features`' columns.
  std::vector<std::string> feature_names;
  /// Header name of the label column (empty for regression: see target_names).
  std::string label_name;
  /// Regression: the target columns' names, in the order of `labels`' columns.
  std::vector<std::string> target_names;
  /// Class names: class index i <-> class_names[i].
  std::vector<std::string> class_names;
  /// Columns of the file that are neither features, nor the label, nor the id column, nor listed
  /// in CsvOptions::drop_columns (an extra column of a file read through a schema).
  std::vector<std::string> ignored_columns;
  /// The id column's field of each sample (CsvOptions::id_column), in row order; empty without one.
  std::vector<std::string> ids;
  /// 1-based line of the file each sample came from, in row order (for messages about a sample).
  std::vector<std::size_t> lines;

  /// This dataset's feature names, label name and classes, to load other files the same way.
  DatasetSchema schema() const { return {feature_names, label_name, class_names, target_names}; }
};

/// How the first non-blank line of a CSV file is read.
enum class CsvHeader {
  /// The first row names the columns; a first row that holds only numbers is refused (it is
  /// probably data: reading it as a header would silently lose a sample).
  detect,
  /// The first row names the columns, whatever it holds.
  present,
  /// No header row: every row is data and the columns are named by 0-based index ("0", "1", ...).
  absent,
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
  /// The label column may be missing from the file: then the file is read as unlabelled
  /// (Dataset::labels has 0 rows, label_name is empty). For files to predict on.
  bool label_optional = false;
  /// Header row: detected (default), present or absent.
  CsvHeader header = CsvHeader::detect;
  /// If non-empty: exactly these columns (names, or 0-based indices as text), in this order, are
  /// the features; the file may hold others. If empty: every column that is not the label, the id
  /// column or in drop_columns. Either way a column named "Unnamed: N" (what pandas' to_csv writes
  /// for its index, and what an empty header field is called here) is only a feature if listed.
  std::vector<std::string> feature_columns;
  /// Regression: if non-empty, these columns (names, or 0-based indices as text) are the targets,
  /// read as real numbers into Dataset::labels (samples, targets) in this order; label_column and
  /// class_names are then unused. A target field that is empty, text, NaN, infinite or out of
  /// float's range is a DataError naming the file, line and column ("... column 'species' holds
  /// text ('setosa'): a regression target must be a number", with target_note instead of that
  /// last part when given). With label_optional, a file holding none of them is read unlabelled.
  std::vector<std::string> target_columns;
  /// Regression: what a refused text target's message ends with instead of "a regression target
  /// must be a number" (a tool says why it needs numbers: "--loss mse is a regression loss ...").
  std::string target_note;
  /// Columns (names or 0-based indices as text) that are neither features nor labels, e.g. an id.
  std::vector<std::string> drop_columns;
  /// A column (name or 0-based index as text) copied to Dataset::ids; never a feature.
  std::string id_column;
};

/// Loads a comma-separated file; throws DataError naming the file, line and column.
/// Lines may end in LF, CRLF or CR; a UTF-8 byte order mark is skipped; UTF-16 and NUL bytes are
/// refused. Empty header fields are named like pandas names them ("Unnamed: 3" for the 4th column).
Dataset load_csv(const std::string& path, const CsvOptions& options = {});

/// Loads a file through a schema (usually the training data's): the features are the schema's
/// columns, found by name in any order (a missing one is a DataError naming it, other columns are
/// listed in Dataset::ignored_columns), the label is the schema's label column (required unless
/// options.label_optional) and labels map to the schema's classes (a label outside them is a
/// DataError naming the line); a schema with target names reads those columns as regression
/// targets (options.target_columns, when set, names them instead). `options` may add label_optional, header, id_column and
/// drop_columns; a label_column set there overrides the schema's (a file whose label column has
/// another name). Throws InvalidArgument for a schema without feature names.
Dataset load_csv(const std::string& path, const DatasetSchema& schema, const CsvOptions& options = {});

/// Same as load_csv(path, schema, options) from an already-open stream.
Dataset read_csv(std::istream& in, const std::string& source_name, const DatasetSchema& schema,
                 const CsvOptions& options = {});

/// The column names of a CSV file as read_csv would see them (its header row, or "0", "1", ... with
/// CsvHeader::absent), without reading the data. Throws DataError like load_csv.
std::vector<std::string> load_csv_columns(const std::string& path, CsvHeader header = CsvHeader::detect);

/// Same as load_csv, from an already-open stream; `source_name` stands for the file in error messages.
Dataset read_csv(std::istream& in, const std::string& source_name, const CsvOptions& options = {});

}  // namespace xdense
