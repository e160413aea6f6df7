#pragma once
/// \file
/// Callbacks: code that runs at fixed points of Sequential::fit(), with Keras's names and order.
/// FitOptions::callbacks holds them; fit() calls each in list order, then FitOptions::on_epoch_end.
///
///   xdense::EarlyStoppingOptions early;
///   early.patience = 5;
///   auto stop = std::make_shared<xdense::EarlyStopping>(early);
///   options.callbacks = {stop};
///   model.fit(x, y, options);   // stop->stopped_epoch() tells where it stopped
///
/// A callback describes itself (name(), config()) and, when it keeps state across epochs (best
/// value, patience counter, best weights), gives it to checkpoints (state(), restore_state()), so a
/// resumed run continues exactly as an uninterrupted one. Built-in (include/xdense/callbacks/):
/// EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, TerminateOnNaN, CSVLogger.

#include <cstddef>
#include <string>

#include "xdense/config.hpp"

namespace xdense {

class Sequential;
struct BatchLog;
struct EpochLog;

/// Hooks into fit(); every hook does nothing by default.
class Callback {
 public:
  virtual ~Callback() = default;

  /// Keras's class name: "EarlyStopping".
  virtual std::string name() const = 0;

  /// The callback's settings (Keras's get_config keys); an empty object by default.
  virtual Config config() const;

  /// Before the first epoch fit() runs (also when resuming: after restore_state()).
  virtual void on_train_begin(Sequential& /*model*/) {}
  /// Before epoch `epoch` (1-based).
  virtual void on_epoch_begin(Sequential& /*model*/, std::size_t /*epoch*/) {}
  /// After each batch.
  virtual void on_batch_end(Sequential& /*model*/, const BatchLog& /*log*/) {}
  /// After each epoch, with its complete log (validation included). A callback may stop training
  /// (model.stop_training(true)) or change the learning rate; it may not change the log's values.
  virtual void on_epoch_end(Sequential& /*model*/, const EpochLog& /*log*/) {}
  /// After the last epoch, or after the epoch a callback stopped at (not when fit() throws).
  virtual void on_train_end(Sequential& /*model*/) {}

  /// What must survive a checkpoint (counters, best value, best weights) as JSON; null (the default)
  /// when the callback keeps no state across epochs.
  virtual Config state() const;
  /// Puts back what state() returned; InvalidArgument for a state this callback cannot take. The
  /// default accepts only null.
  virtual void restore_state(const Config& state);
};

}  // namespace xdense
