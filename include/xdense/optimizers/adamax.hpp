#pragma once
/// \file
/// Adamax, Keras 3 form ("adamax").

#include <string>
#include <vector>

#include "xdense/optimizers/moment_optimizer.hpp"

namespace xdense {

/// Settings of Adamax (Keras defaults): learning_rate, beta_1, beta_2, epsilon.
using AdamaxOptions = MomentOptions;

/// Adamax (Adam with the infinity norm), Keras form:
///   m = m + (1 - beta_1)(g - m);  u = max(beta_2 u, |g|)
///   w -= lr m / ((1 - beta_1^t)(u + eps))
/// (torch.optim.Adamax adds eps inside the max: u = max(beta_2 u, |g| + eps), w -= lr_t m / u.)
/// Slots (Keras's names): "momentum" (m), "norm" (u).
class Adamax final : public MomentOptimizer {
 public:
  /// Throws InvalidArgument for lr <= 0, beta_1 or beta_2 outside [0, 1), epsilon <= 0.
  explicit Adamax(AdamaxOptions options = {});
  std::string name() const override { return "adamax"; }
  std::vector<std::string> slot_names() const override { return {"momentum", "norm"}; }

 protected:
  void begin_step() override;
  bool update(std::size_t index, const Parameter& p) override;

 private:
  detail::RunningPower beta_1_power_;
  float step_size_ = 0.0f;  // lr / (1 - beta_1^t) of the current step
};

}  // namespace xdense
