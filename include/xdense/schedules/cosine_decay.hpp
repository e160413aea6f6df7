#pragma once
/// \file
/// CosineDecay with optional linear warmup, Keras 3 form ("CosineDecay", alias "cosine").

#include <cstddef>
#include <optional>
#include <string>

#include "xdense/schedule.hpp"

namespace xdense {

/// Settings of CosineDecay (Keras's arguments and defaults; the first two have no default in a config).
struct CosineDecayOptions {
  double initial_learning_rate = 0.0;  ///< >= 0: the start of the warmup, or of the decay without one
  double decay_steps = 0.0;            ///< > 0: steps of the cosine decay (after the warmup)
  double alpha = 0.0;                  ///< in [0, 1]: the final rate as a fraction of the decay's start
  std::optional<double> warmup_target;  ///< >= 0: the rate the warmup reaches; none (null): no warmup
  double warmup_steps = 0.0;            ///< >= 0: steps of the warmup (needs a warmup_target when > 0)
};

/// Keras's CosineDecay, in float32 as Keras computes it. Without warmup_target:
///   s = min(step, decay_steps)
///   lr(step) = initial_learning_rate ((1 - alpha) 0.5 (1 + cos(pi s / decay_steps)) + alpha)
/// With warmup_target T over W = warmup_steps, s = min(step, W + decay_steps):
///   s < W:  lr = initial_learning_rate + (T - initial_learning_rate) s / W     (linear warmup)
///   else:   lr = T ((1 - alpha) 0.5 (1 + cos(pi (s - W) / decay_steps)) + alpha)
/// The rate then stays at alpha times the decay's start. Keras ignores warmup_steps without a
/// warmup_target; xdense refuses that config instead of silently skipping the warmup.
/// torch.optim.lr_scheduler.CosineAnnealingLR(T_max=decay_steps, eta_min=alpha lr) gives the same
/// decay when stepped once per batch, but goes on along the cosine (back up) after T_max where Keras
/// holds the final rate; the warmup is LinearLR chained by SequentialLR there.
class CosineDecay final : public LearningRateSchedule {
 public:
  /// Throws ConfigError (an InvalidArgument) naming the setting out of its range.
  explicit CosineDecay(CosineDecayOptions options);
  std::string name() const override { return "CosineDecay"; }
  /// {"initial_learning_rate", "decay_steps", "alpha", "warmup_target" (null without), "warmup_steps"}.
  Config config() const override;
  double at(std::size_t step) const override;
  const CosineDecayOptions& options() const { return options_; }

 private:
  CosineDecayOptions options_;
};

}  // namespace xdense
