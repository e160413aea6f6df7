#pragma once
/// \file
/// EarlyStopping: stops fit() when a monitored value has stopped improving (Keras 3's
/// keras.callbacks.EarlyStopping, same arguments, defaults and rule).
///
///   xdense::EarlyStoppingOptions early;
///   early.patience = 5;
///   early.restore_best_weights = true;
///   auto stop = std::make_shared<xdense::EarlyStopping>(early);
///   options.callbacks = {stop};
///   model.fit(x, y, options);   // stop->stopped_epoch(): 0 when it ran every epoch

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "xdense/callback.hpp"

namespace xdense {

/// Settings of EarlyStopping, with Keras's names and defaults.
struct EarlyStoppingOptions {
  /// The epoch-log key watched (EpochLog::value): "val_loss", "loss", "val_auc", "accuracy", ...
  std::string monitor = "val_loss";
  /// A change smaller than |min_delta| is no improvement (its sign is ignored, as in Keras).
  double min_delta = 0.0;
  /// Epochs without improvement after which training stops (0: at the first one).
  std::size_t patience = 0;
  /// "min", "max", or "auto": maximise accuracy-, auc-, precision-, recall-, f1- and r2-like
  /// values, minimise the others (loss, mse, mae, rmse).
  std::string mode = "auto";
  /// When set, an improvement on the best value resets the patience count only if it also beats
  /// the baseline (by min_delta): training stops after `patience` epochs unless the baseline is beaten.
  std::optional<double> baseline;
  /// Put back, when training ends, the weights of the epoch with the best value (Keras 3 does so
  /// whether or not training stopped early).
  bool restore_best_weights = false;
  /// Epochs left unwatched at the start (warm-up): epochs 1..start_from_epoch are ignored.
  std::size_t start_from_epoch = 0;
};

/// Keras's EarlyStopping. Each epoch e (1-based; Keras counts from 0) whose log has the monitored
/// value v and e > start_from_epoch:
///   wait += 1
///   if v improves on best (first watched epoch; min: v + |min_delta| < best; max: v - |min_delta| > best):
///       best = v, best_epoch = e (and the weights are kept with restore_best_weights);
///       wait = 0 unless a baseline is set and v does not improve on it
///   else if wait >= patience and e > 1: stop training after this epoch (stopped_epoch = e)
/// A NaN value never improves. With restore_best_weights the weights of the first watched epoch are
/// kept even before any comparison, and on_train_end puts back the best ones.
///
/// A monitor fit() cannot log for the model (a typo, a metric not compiled) is refused by
/// on_train_begin (InvalidArgument listing the keys it logs). A value missing from an epoch's log
/// (val_loss without validation data) is reported once per fit() on stderr and that epoch is
/// skipped (Keras's Python warning).
///
/// on_train_begin resets the counters (an instance can be reused), except right after
/// restore_state(): a run resumed from a checkpoint continues the saved counters (and restored best
/// weights that do not fit the model's arrays are refused there: InvalidArgument).
class EarlyStopping final : public Callback {
 public:
  /// InvalidArgument for an empty monitor, a mode other than auto/min/max, a non-finite min_delta
  /// or baseline.
  explicit EarlyStopping(EarlyStoppingOptions options = {});

  std::string name() const override { return "EarlyStopping"; }
  /// {"monitor", "min_delta" (|min_delta|), "patience", "verbose": 0, "mode", "baseline" (null when
  /// unset), "restore_best_weights", "start_from_epoch"}: Keras's arguments.
  Config config() const override;

  void on_train_begin(Sequential& model) override;
  void on_epoch_end(Sequential& model, const EpochLog& log) override;
  void on_train_end(Sequential& model) override;

  /// {"monitor", "wait", "stopped_epoch", "best" (null before any), "best_epoch", "best_weights"
  /// (arrays of numbers, or null)}: every number reads back exactly.
  Config state() const override;
  /// Takes what state() returned (of a callback with the same monitor); InvalidArgument otherwise.
  void restore_state(const Config& state) override;

  /// The 1-based epoch after which it stopped training; 0 when it did not.
  std::size_t stopped_epoch() const { return stopped_epoch_; }
  /// The 1-based epoch of the best value; 0 before any watched epoch.
  std::size_t best_epoch() const { return best_epoch_; }
  /// The best value seen (nullopt before any watched epoch).
  std::optional<double> best() const { return best_; }
  /// Epochs counted towards patience since the last reset.
  std::size_t wait() const { return wait_; }
  /// True when the value is maximised (mode max, or auto inferred it from the monitor's name).
  bool maximizes() const { return maximize_; }
  const EarlyStoppingOptions& options() const { return options_; }

 private:
  bool improves(double value, double reference) const;
  void check_weights_fit(const Sequential& model) const;  // restored best weights vs the model's arrays

  EarlyStoppingOptions options_;
  bool maximize_ = false;
  std::size_t wait_ = 0;
  std::size_t stopped_epoch_ = 0;
  std::size_t best_epoch_ = 0;
  std::optional<double> best_;
  std::vector<std::vector<float>> best_weights_;  // empty: none kept
  bool restored_ = false;                         // restore_state() ran: the next on_train_begin keeps the state
  bool warned_ = false;
};

}  // namespace xdense
