#pragma once
/// \file
/// PolynomialDecay, Keras 3 form ("PolynomialDecay", alias "polynomial").

#include <cstddef>
#include <string>

#include "xdense/schedule.hpp"

namespace xdense {

/// Settings of PolynomialDecay (Keras's arguments and defaults; the first two have no default in a
/// config).
struct PolynomialDecayOptions {
  double initial_learning_rate = 0.0;   ///< >= 0
  double decay_steps = 0.0;             ///< > 0
  double end_learning_rate = 0.0001;    ///< >= 0 (above initial_learning_rate: the rate grows)
  double power = 1.0;                   ///< >= 0
  bool cycle = false;                   ///< restart over the next multiple of decay_steps
};

/// From initial_learning_rate to end_learning_rate over decay_steps, in float32 as Keras computes it:
///   p = min(step, decay_steps) / decay_steps
///   lr(step) = (initial_learning_rate - end_learning_rate) (1 - p)^power + end_learning_rate
/// With cycle, p = step / (decay_steps ceil(step / decay_steps)) (1 at step 0's multiplier), so the
/// rate jumps back up after each multiple of decay_steps. torch.optim.lr_scheduler.PolynomialLR
/// (total_iters, power) is this with end_learning_rate 0 and no cycle, stepped once per batch.
class PolynomialDecay final : public LearningRateSchedule {
 public:
  /// Throws ConfigError (an InvalidArgument) naming the setting out of its range.
  explicit PolynomialDecay(PolynomialDecayOptions options);
  std::string name() const override { return "PolynomialDecay"; }
  /// {"initial_learning_rate", "decay_steps", "end_learning_rate", "power", "cycle"}.
  Config config() const override;
  double at(std::size_t step) const override;
  const PolynomialDecayOptions& options() const { return options_; }

 private:
  PolynomialDecayOptions options_;
};

}  // namespace xdense
