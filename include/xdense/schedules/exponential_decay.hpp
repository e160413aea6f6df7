#pragma once
/// \file
/// ExponentialDecay, Keras 3 form ("ExponentialDecay", alias "exponential").

#include <cstddef>
#include <string>

#include "xdense/schedule.hpp"

namespace xdense {

/// Settings of ExponentialDecay (Keras's arguments; the first three have no default in a config).
struct ExponentialDecayOptions {
  double initial_learning_rate = 0.0;  ///< > 0
  double decay_steps = 0.0;            ///< > 0 (Keras casts it to float: 1000 or 2.5)
  double decay_rate = 0.0;             ///< > 0 (< 1 decays)
  bool staircase = false;              ///< decay at whole multiples of decay_steps only
};

/// lr(step) = initial_learning_rate decay_rate^(step / decay_steps), the exponent floored with
/// staircase; in float32 as Keras computes it. torch.optim.lr_scheduler.ExponentialLR(gamma) is the
/// staircase form with decay_steps = steps per epoch when stepped once an epoch (gamma = decay_rate).
class ExponentialDecay final : public LearningRateSchedule {
 public:
  /// Throws ConfigError (an InvalidArgument) naming the setting out of its range.
  explicit ExponentialDecay(ExponentialDecayOptions options);
  std::string name() const override { return "ExponentialDecay"; }
  /// {"initial_learning_rate", "decay_steps", "decay_rate", "staircase"}.
  Config config() const override;
  double at(std::size_t step) const override;
  const ExponentialDecayOptions& options() const { return options_; }

 private:
  ExponentialDecayOptions options_;
};

}  // namespace xdense
