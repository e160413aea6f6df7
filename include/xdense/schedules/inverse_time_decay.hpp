#pragma once
/// \file
/// InverseTimeDecay, Keras 3 form ("InverseTimeDecay", alias "inverse_time").

#include <cstddef>
#include <string>

#include "xdense/schedule.hpp"

namespace xdense {

/// Settings of InverseTimeDecay (Keras's arguments; the first three have no default in a config).
struct InverseTimeDecayOptions {
  double initial_learning_rate = 0.0;  ///< > 0
  double decay_steps = 0.0;            ///< > 0
  double decay_rate = 0.0;             ///< >= 0
  bool staircase = false;              ///< decay at whole multiples of decay_steps only
};

/// lr(step) = initial_learning_rate / (1 + decay_rate step / decay_steps), step / decay_steps
/// floored with staircase; in float32 as Keras computes it. PyTorch has no built-in equivalent:
/// LambdaLR(lambda t: 1 / (1 + decay_rate * t / decay_steps)) stepped once per batch.
class InverseTimeDecay final : public LearningRateSchedule {
 public:
  /// Throws ConfigError (an InvalidArgument) naming the setting out of its range.
  explicit InverseTimeDecay(InverseTimeDecayOptions options);
  std::string name() const override { return "InverseTimeDecay"; }
  /// {"initial_learning_rate", "decay_steps", "decay_rate", "staircase"}.
  Config config() const override;
  double at(std::size_t step) const override;
  const InverseTimeDecayOptions& options() const { return options_; }

 private:
  InverseTimeDecayOptions options_;
};

}  // namespace xdense
