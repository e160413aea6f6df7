#pragma once
/// \file
/// PiecewiseConstantDecay, Keras 3 form ("PiecewiseConstantDecay", alias "piecewise").

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "xdense/schedule.hpp"

namespace xdense {

/// Settings of PiecewiseConstantDecay (Keras's arguments, both required).
struct PiecewiseConstantDecayOptions {
  std::vector<std::uint64_t> boundaries;  ///< step counts, strictly increasing, at least one
  std::vector<double> values;             ///< one more than boundaries, each >= 0
};

/// values[0] while step <= boundaries[0], values[i] while boundaries[i-1] < step <= boundaries[i],
/// values.back() once step > boundaries.back(): Keras's conventions, so with boundaries {100} the
/// step that follows 100 completed steps (at(100)) still uses values[0] and at(101) values[1]. The
/// value is rounded to float32 (Keras's dtype). torch.optim.lr_scheduler.MultiStepLR(milestones,
/// gamma) multiplies by gamma instead of taking given values; stepped once per batch, its milestone
/// m changes the rate of the step that follows m completed steps, as a Keras boundary of m - 1 does.
class PiecewiseConstantDecay final : public LearningRateSchedule {
 public:
  /// Throws ConfigError (an InvalidArgument) naming "boundaries" or "values": no boundary, boundaries
  /// not strictly increasing, a count of values other than boundaries + 1, a value < 0 or not finite.
  explicit PiecewiseConstantDecay(PiecewiseConstantDecayOptions options);
  std::string name() const override { return "PiecewiseConstantDecay"; }
  /// {"boundaries", "values"}.
  Config config() const override;
  double at(std::size_t step) const override;
  const PiecewiseConstantDecayOptions& options() const { return options_; }

 private:
  PiecewiseConstantDecayOptions options_;
};

}  // namespace xdense
