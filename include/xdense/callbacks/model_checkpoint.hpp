#pragma once
/// \file
/// ModelCheckpoint: saves the model (save_model(), atomically) after each epoch, or only when the
/// monitored value improves (Keras 3's keras.callbacks.ModelCheckpoint).
///
///   xdense::ModelInfo info;
///   info.class_names = {"no", "yes"};
///   xdense::ModelCheckpointOptions when;
///   when.monitor = "val_auc";
///   when.save_best_only = true;
///   auto best = std::make_shared<xdense::ModelCheckpoint>("best.xdm", info, when);
///   options.callbacks = {best};
///   model.fit(x, y, options);   // best.xdm: the model of the epoch with the highest val_auc

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "xdense/callback.hpp"

namespace xdense {

struct ModelInfo;

/// Settings of ModelCheckpoint, with Keras's names and defaults.
struct ModelCheckpointOptions {
  /// The epoch-log key watched with save_best_only.
  std::string monitor = "val_loss";
  /// "min", "max", or "auto" (as EarlyStopping: accuracy-, auc-, ... like values are maximised).
  std::string mode = "auto";
  /// Save only when the monitored value improves on the best so far (strictly: min_delta 0);
  /// otherwise after every epoch.
  bool save_best_only = false;
  /// The best value to beat before the first save (Keras's initial_value_threshold); unset: the
  /// first watched epoch is always saved.
  std::optional<double> initial_value_threshold;
};

/// Keras's ModelCheckpoint with save_freq="epoch". At each epoch end: without save_best_only, the
/// model is written to the file path; with it, only when the log's monitored value v improves on
/// best (min: v < best, max: v > best; NaN never does), and best = v. A log without the monitored
/// value is reported once on stderr and, as in Keras, the model is saved anyway.
///
/// The file is a model file (save_model() with the ModelInfo given: class names, standardizer,
/// task...), replaced atomically, so it is always a complete model. As in Keras, `best` is not
/// reset by a new fit() on the same instance: the file is only replaced by a better model.
///
/// Left out: Keras's save_weights_only (xdense has no weights-only file: a model file holds the
/// weights with the architecture they need, and is barely larger), save_freq in batches, and
/// "{epoch:02d}" placeholders in the path (Python's str.format). The folder must exist (Keras
/// creates it): on_train_begin checks the path can be written (DataError naming it), so a wrong
/// path fails before the first epoch, not after it.
class ModelCheckpoint final : public Callback {
 public:
  /// `info` is stored with the model each time. InvalidArgument for an empty path, an unknown
  /// mode, a non-finite initial_value_threshold.
  ModelCheckpoint(std::string filepath, const ModelInfo& info, ModelCheckpointOptions options = {});
  ~ModelCheckpoint() override;

  std::string name() const override { return "ModelCheckpoint"; }
  /// {"filepath", "monitor", "verbose": 0, "save_best_only", "save_weights_only": false, "mode",
  /// "save_freq": "epoch", "initial_value_threshold" (null when unset)}.
  Config config() const override;

  void on_train_begin(Sequential& model) override;
  void on_epoch_end(Sequential& model, const EpochLog& log) override;

  /// {"monitor", "best" (null before any), "last_saved_epoch"}.
  Config state() const override;
  /// Takes what state() returned (same monitor); InvalidArgument otherwise.
  void restore_state(const Config& state) override;

  const std::string& filepath() const { return filepath_; }
  /// The best value saved so far (or the threshold); nullopt before any.
  std::optional<double> best() const { return best_; }
  /// The 1-based epoch last written; 0 before any.
  std::size_t last_saved_epoch() const { return last_saved_epoch_; }
  /// Number of files written by this instance.
  std::size_t saves() const { return saves_; }
  bool maximizes() const { return maximize_; }
  const ModelCheckpointOptions& options() const { return options_; }

 private:
  std::string filepath_;
  std::unique_ptr<ModelInfo> info_;
  ModelCheckpointOptions options_;
  bool maximize_ = false;
  std::optional<double> best_;
  std::size_t last_saved_epoch_ = 0;
  std::size_t saves_ = 0;
  bool warned_ = false;
};

}  // namespace xdense
