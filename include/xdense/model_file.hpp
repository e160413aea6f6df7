#pragma once
/// \file
/// Saving and loading trained models: one binary file holding the architecture,
/// the compile settings, the weights and what is needed to use the model on new
/// data (class names, feature names, the standardizer, free-form metadata).
/// The byte layout is documented in docs/model-format.md.
///
///   xdense::ModelInfo info;
///   info.class_names = {"setosa", "versicolor", "virginica"};
///   info.standardizer = standardizer;
///   info.metadata = {{"epochs", "50"}};
///   xdense::save_model("iris.xdm", model, info);
///   xdense::SavedModel saved = xdense::load_model("iris.xdm");
///   xdense::Matrix p = saved.model.predict(saved.info.standardizer->transform(x));

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "xdense/preprocessing.hpp"
#include "xdense/sequential.hpp"

namespace xdense {

/// Everything a model file holds besides the network itself.
struct ModelInfo {
  /// Label i <-> class_names[i]. Empty (regression), or at most one name per output unit
  /// (at most two for a single-unit sigmoid output).
  std::vector<std::string> class_names;
  /// Names of the input columns; empty, or one per model input.
  std::vector<std::string> feature_names;
  /// Preprocessing applied before the network; fitted, with one entry per model input.
  std::optional<Standardizer> standardizer;
  /// Ordered key/value pairs (data file, epochs, final metrics, created, seed, ...).
  std::vector<std::pair<std::string, std::string>> metadata;
  /// "classification" or "regression". Empty: save_model() records the loss's task (regression for
  /// a loss whose label_encoding() is LabelEncoding::values, unless class names are given: a
  /// classifier trained with mse); load_model() always fills it.
  std::string task;
  /// Regression: the target columns' names, one per output unit (empty when unknown).
  std::vector<std::string> target_names;
  /// Regression: the standardisation the targets were trained under (--standardize-targets), one
  /// entry per output unit; predict and evaluate undo it (outputs * scale + mean).
  std::optional<Standardizer> target_standardizer;
};

/// A model as saved: a built, compiled Sequential plus its info.
struct SavedModel {
  Sequential model;
  ModelInfo info;
};

/// Current format version written by save_model(). Version 2 stores each layer as its kind, config
/// and named tensors, and the loss and optimizer as name and config; version 3 adds each metric's
/// config and the task, target names and target standardizer of ModelInfo. Version-1 files (xdense
/// 0.2) and version-2 files still load (their task follows from the loss and the class names).
constexpr std::uint32_t model_format_version = 3;

/// Writes `model` and `info` to `path` atomically: a temporary "<path>.tmp-XXXXXX" in the same
/// folder is written and fsynced, then renamed over `path`; on any failure the temporary file is
/// removed and an existing `path` is left untouched. A symbolic link is followed (its target is
/// replaced, the link kept); a device, FIFO, socket or directory is refused (atomic_file.hpp).
/// Throws StateError unless the model is built and compiled; InvalidArgument for what the format
/// cannot hold faithfully: a layer that make_layer(kind(), config()) does not rebuild (an unregistered
/// kind, or a config that loses information: the rebuilt layer must have the same weights by name
/// and shape and compute the same values), a loss or optimizer that make_loss()/make_optimizer()
/// do not rebuild from name() and config(), a config holding NaN or infinity, non-finite weights,
/// info inconsistent with the model (a task other than "classification" or "regression", class
/// names for a regression, target names or a target standardizer for a classification, not one per
/// output unit), a string over 1 MiB; DataError naming `path` on an I/O failure. An empty task is
/// recorded as regression for a loss taking real values (LabelEncoding::values) when there are no
/// class names, as classification otherwise.
void save_model(const std::string& path, Sequential& model, const ModelInfo& info);

/// Reads and fully validates a model file (version 1, 2 or 3), then rebuilds the compiled, built model
/// with its weights through the registries (make_layer, make_loss, make_optimizer, make_metric): a
/// user's component must be registered before its model is loaded. The info's task is always set.
/// Throws DataError "<path>: <what is wrong>" for a missing or unreadable file, a file that is not an
/// xdense model, a newer format version, a checksum mismatch, truncation, trailing bytes or any
/// invalid field. Optimizer state (moments, step count) is not saved: training resumes afresh.
SavedModel load_model(const std::string& path);

/// The bytes save_model() would write (for containers such as checkpoints).
std::vector<unsigned char> encode_model(Sequential& model, const ModelInfo& info);

/// Validates and decodes bytes from encode_model(); `source` names them in messages.
SavedModel decode_model(const std::vector<unsigned char>& bytes, const std::string& source);

}  // namespace xdense
