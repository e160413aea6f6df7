#pragma once
/// \file
/// TerminateOnNaN: ends training at the first batch whose loss is NaN or infinite (Keras 3's
/// keras.callbacks.TerminateOnNaN).
///
///   xdense::FitOptions options;
///   options.stop_on_divergence = false;  // else fit() throws TrainingDiverged before the callback sees the NaN
///   options.callbacks = {std::make_shared<xdense::TerminateOnNaN>()};
///
/// How it relates to fit()'s own guard, FitOptions::stop_on_divergence (true by default): the
/// guard checks the loss and every updated weight inside the training step and throws
/// TrainingDiverged there, so with it on this callback never sees a NaN. TerminateOnNaN is for
/// stop_on_divergence = false: training then ends gracefully after the batch (fit() returns the
/// history so far and calls every callback's on_train_end, so EarlyStopping can still put back
/// its best weights) — or, with raise_error, throws TrainingDiverged as the guard would.

#include <cstddef>
#include <string>

#include "xdense/callback.hpp"

namespace xdense {

/// Settings of TerminateOnNaN (Keras's).
struct TerminateOnNaNOptions {
  /// Throw TrainingDiverged at the batch instead of stopping gracefully (Keras raises a
  /// RuntimeError, which also skips on_train_end).
  bool raise_error = false;
};

/// Keras's TerminateOnNaN: after each batch, a NaN or infinite batch loss sets
/// model.stop_training(true), and fit() stops after that batch. It prints nothing (Keras prints
/// "Batch N: Invalid loss, terminating training"): terminated_epoch() and terminated_batch() say
/// where it stopped.
class TerminateOnNaN final : public Callback {
 public:
  explicit TerminateOnNaN(TerminateOnNaNOptions options = {}) : options_(options) {}

  std::string name() const override { return "TerminateOnNaN"; }
  /// {"raise_error"}.
  Config config() const override;

  void on_train_begin(Sequential& model) override;
  void on_batch_end(Sequential& model, const BatchLog& log) override;

  /// The 1-based epoch and batch whose loss was invalid; 0 when training was not terminated.
  std::size_t terminated_epoch() const { return epoch_; }
  std::size_t terminated_batch() const { return batch_; }
  const TerminateOnNaNOptions& options() const { return options_; }

 private:
  TerminateOnNaNOptions options_;
  std::size_t epoch_ = 0;
  std::size_t batch_ = 0;
};

}  // namespace xdense
