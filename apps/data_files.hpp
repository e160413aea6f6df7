#pragma once
// Loading features and labels for the CLI from CSV, IDX or NPY files, detected
// from the files' contents, and mapping their classes onto a model's classes. Labels are classes,
// or, for a regression (a loss taking real values, a model whose task is regression), real-valued
// targets, one column each.

#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

#include "commands.hpp"
#include "xdense/tensor.hpp"

namespace xdense::cli {

/// Features and (optionally) class labels or regression targets read from the command line's files.
struct LoadedData {
  Matrix x;                                ///< (samples, features)
  /// (samples, 1) class indices, or (samples, targets) values for a regression; 0 rows when unlabelled
  Matrix y;
  std::vector<std::string> class_names;    ///< class index i <-> class_names[i]
  std::vector<std::string> feature_names;  ///< CSV column names (indices with --no-header); empty for IDX/NPY
  std::string label_name;                  ///< CSV label column's name; empty without one
  std::vector<std::string> ignored_columns;  ///< CSV columns read by no one (noted on stderr)
  std::vector<std::string> ids;            ///< the --id-column field per sample
  std::vector<std::size_t> lines;          ///< CSV line of each sample; empty for IDX/NPY
  std::string format;                      ///< "csv", "idx" or "npy"
  bool regression = false;                 ///< y holds target values (the request's regression)
  std::vector<std::string> target_names;   ///< regression: the CSV target columns; empty for IDX/NPY
  bool labelled() const { return y.shape(0) != 0; }
  /// Samples of the whole file; x and y hold rows [first_sample, first_sample + x rows) of them
  /// (all of them unless the request asked for a share).
  std::size_t total_samples = 0;
  std::size_t first_sample = 0;
};

/// What the caller needs of the files.
struct DataRequest {
  std::string data;          ///< --data
  std::string labels;        ///< --labels (IDX/NPY only)
  std::string label_column;  ///< --label-column (CSV only)
  bool labels_required = true;
  bool no_header = false;                    ///< --no-header (CSV only)
  bool header = false;                       ///< --header: the first row is the header, numbers or not
  std::vector<std::string> feature_columns;  ///< --feature-columns (CSV only)
  std::vector<std::string> drop_columns;     ///< --drop-columns (CSV only)
  std::string id_column;                     ///< --id-column (CSV only)
  /// Regression: the labels are real-valued targets; label_column may list several ("price,rent";
  /// default: the last column); IDX/NPY labels are read as floats, an NPY (n, k) as k targets.
  bool regression = false;
  /// Regression: how a refused text target's message ends (why numbers are needed).
  std::string target_note;
  /// IDX/NPY features with a labels file only: with share_of > 1, read just the rows
  /// shard_rows(samples, share, share_of) of data and labels (a data-parallel process's part, by
  /// offset: its memory is about that part's); class names are then those of these rows only.
  std::size_t share = 0, share_of = 1;
};

/// Whether `path` is an IDX or NPY file (what a DataRequest's share applies to).
bool is_array_file(const std::string& path);

/// The request for the files and CSV flags a command was given (labels required).
DataRequest data_request(const DataFileOptions& files);

/// The columns a trained model reads: how a later file is matched to it.
struct DataContract {
  std::size_t inputs = 0;                  ///< features per sample
  std::vector<std::string> feature_names;  ///< by name, in input order; empty: by position
  std::string label_name;                  ///< the training label column; empty when unknown
  bool header = true;                      ///< false: trained on a CSV without header (--no-header)
  bool regression = false;                 ///< the model is a regressor: its labels are target values
  std::vector<std::string> target_names;   ///< regression: the target columns by name; empty when unknown
  std::size_t targets = 0;                 ///< regression: how many (the model's output units)
};

/// Reads training data; throws DataError naming the file (and line/column) on bad input.
LoadedData load_data(const DataRequest& request);

/// Reads data for a model: CSV columns matched by name (any order, extra columns noted and
/// ignored, a missing feature refused by name), by position with the width checked for IDX, NPY
/// and models trained without column names; the label column is the contract's unless
/// --label-column names another. Class labels are as in the file (see map_to_model_classes); a
/// regressor's targets are found by the contract's target names (or, unrecorded, as the columns
/// left over, or the last ones by position) and their count checked.
LoadedData load_data_for(const DataContract& contract, const DataRequest& request);

/// Keeps only the samples of `keep` (class names, in that order) and relabels them
/// 0..k-1 in that order. Throws InvalidArgument naming an unknown class.
void select_classes(LoadedData& data, const std::vector<std::string>& keep, const std::string& source);

/// Re-expresses data labels as indices into `model_classes`, matching by name. Samples
/// of classes the model does not know are dropped when `drop_unknown` (a model trained
/// on a subset via --classes), and rejected otherwise (DataError naming the row's class).
/// Returns the number of samples dropped.
std::size_t map_to_model_classes(LoadedData& data, const std::vector<std::string>& model_classes,
                                 bool drop_unknown, const std::string& source);

/// Whether class names read from a label column look like a continuous quantity rather than
/// classes: more than 10 of them, all numbers, one at least not an integer ("2.31").
bool looks_continuous(const std::vector<std::string>& class_names);

/// Splits "a,b,c" at commas (trimmed); empty items are an InvalidArgument naming `what`.
std::vector<std::string> split_list(const std::string& text, const std::string& what);

}  // namespace xdense::cli
