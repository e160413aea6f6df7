#pragma once
/// \file
/// RMSprop, Keras 3 form ("rmsprop").

#include <string>
#include <vector>

#include "xdense/optimizer.hpp"

namespace xdense {

/// Settings of RMSprop (Keras defaults).
struct RMSpropOptions {
  float learning_rate = 1e-3f;
  float rho = 0.9f;       ///< in [0, 1): decay of the averages
  float momentum = 0.0f;  ///< in [0, 1); 0: no momentum array
  float epsilon = 1e-7f;  ///< > 0, added under the square root
  bool centered = false;  ///< divide by the estimated variance instead of the second moment
};

/// RMSprop, Keras form (epsilon inside the square root; PyTorch adds it to sqrt(v)):
///   v = rho v + (1 - rho) g^2
///   centered: a = rho a + (1 - rho) g;  d = v - a^2 + eps,  else d = v + eps
///   increment = lr g / sqrt(d)
///   momentum 0: w -= increment;  else m = momentum m + increment;  w -= m
/// Slots (Keras's names): "velocity" (v), "momentum" (m, when momentum > 0), "average_gradient"
/// (a, when centered).
class RMSprop final : public Optimizer {
 public:
  /// Throws InvalidArgument for lr <= 0, rho or momentum outside [0, 1), epsilon <= 0.
  explicit RMSprop(RMSpropOptions options = {});
  std::string name() const override { return "rmsprop"; }
  /// {"learning_rate", "rho", "momentum", "epsilon", "centered"} and the base options set.
  Config config() const override;
  std::vector<std::string> slot_names() const override;
  float learning_rate() const override { return options_.learning_rate; }
  const RMSpropOptions& options() const { return options_; }

 protected:
  bool apply_learning_rate(float learning_rate) override {
    options_.learning_rate = learning_rate;
    return true;
  }
  bool update(std::size_t index, const Parameter& p) override;
  void allocate_state(const std::vector<std::size_t>& sizes) override;
  void clear_state() override { slots_.clear(); }
  std::vector<std::vector<float>> slots() const override { return slots_.all(); }
  void set_slots(std::vector<std::vector<float>> slots) override { slots_.assign(std::move(slots)); }

 private:
  RMSpropOptions options_;
  detail::SlotArrays slots_;  // the velocity arrays, then momentum's, then average_gradient's
};

}  // namespace xdense
