#pragma once
/// \file
/// ReduceLROnPlateau: lowers the optimizer's learning rate when a monitored value has stopped
/// improving (Keras 3's keras.callbacks.ReduceLROnPlateau, same arguments, defaults and rule).
///
///   xdense::ReduceLROnPlateauOptions plateau;
///   plateau.factor = 0.5;
///   plateau.patience = 3;
///   plateau.min_lr = 1e-5;
///   auto reduce = std::make_shared<xdense::ReduceLROnPlateau>(plateau);
///   options.callbacks = {reduce};

#include <cstddef>
#include <string>

#include "xdense/callback.hpp"

namespace xdense {

/// Settings of ReduceLROnPlateau, with Keras's names and defaults.
struct ReduceLROnPlateauOptions {
  /// The epoch-log key watched (EpochLog::value).
  std::string monitor = "val_loss";
  /// new_lr = lr * factor; in (0, 1).
  double factor = 0.1;
  /// Epochs without improvement before the rate is lowered.
  std::size_t patience = 10;
  /// "min", "max", or "auto" (as EarlyStopping: accuracy-, auc-, ... like values are maximised).
  std::string mode = "auto";
  /// Improvement threshold: min: v < best - min_delta; max: v > best + min_delta (used as given,
  /// as Keras does here, unlike EarlyStopping's |min_delta|).
  double min_delta = 1e-4;
  /// Epochs after a reduction during which the patience count stays at 0.
  std::size_t cooldown = 0;
  /// The rate is never lowered below it; >= 0.
  double min_lr = 0.0;
};

/// Keras's ReduceLROnPlateau. Each epoch whose log has the monitored value v (best starts at +inf
/// when minimising, -inf when maximising):
///   if cooldown_counter > 0: cooldown_counter -= 1, wait = 0
///   if v improves on best: best = v, wait = 0
///   else if cooldown_counter == 0:
///       wait += 1
///       if wait >= patience and lr > float(min_lr):
///           lr = max(lr * factor, min_lr)   (stored as a float), cooldown_counter = cooldown, wait = 0
/// The rate set is the one the next step uses and the one the epoch's log reports (EpochLog::learning_rate).
///
/// on_train_begin refuses (StateError) an optimizer whose rate follows a schedule (Keras refuses to
/// set it) or that cannot change its rate, and (InvalidArgument) a monitor fit() does not log for
/// the model. A value missing from an epoch's log is reported once on stderr and the epoch skipped.
/// on_train_begin resets the counters, except right after restore_state().
///
/// Keras's mode "auto" here maximises only names containing "acc" (so val_auc would be
/// minimised); xdense infers the direction as EarlyStopping and ModelCheckpoint do.
/// PyTorch's torch.optim.lr_scheduler.ReduceLROnPlateau lowers the rate one epoch later (when the
/// bad epochs exceed patience), and its default threshold is relative (threshold_mode="rel": an
/// improvement beats best by 1e-4 of best).
class ReduceLROnPlateau final : public Callback {
 public:
  /// InvalidArgument naming the setting for factor outside (0, 1), a negative or non-finite min_lr,
  /// a non-finite min_delta, an unknown mode, an empty monitor.
  explicit ReduceLROnPlateau(ReduceLROnPlateauOptions options = {});

  std::string name() const override { return "ReduceLROnPlateau"; }
  /// {"monitor", "factor", "patience", "verbose": 0, "mode", "min_delta", "cooldown", "min_lr"}.
  Config config() const override;

  void on_train_begin(Sequential& model) override;
  void on_epoch_end(Sequential& model, const EpochLog& log) override;

  /// {"monitor", "best" (a number, or "inf"/"-inf" before any), "wait", "cooldown_counter"}. The
  /// lowered rate itself is the optimizer's (its config's "learning_rate").
  Config state() const override;
  /// Takes what state() returned (same monitor); InvalidArgument otherwise.
  void restore_state(const Config& state) override;

  double best() const { return best_; }
  std::size_t wait() const { return wait_; }
  std::size_t cooldown_counter() const { return cooldown_counter_; }
  /// Number of times it lowered the rate since on_train_begin.
  std::size_t reductions() const { return reductions_; }
  bool maximizes() const { return maximize_; }
  const ReduceLROnPlateauOptions& options() const { return options_; }

 private:
  void reset();

  ReduceLROnPlateauOptions options_;
  bool maximize_ = false;
  double best_ = 0.0;
  std::size_t wait_ = 0;
  std::size_t cooldown_counter_ = 0;
  std::size_t reductions_ = 0;
  bool restored_ = false;
  bool warned_ = false;
};

}  // namespace xdense
