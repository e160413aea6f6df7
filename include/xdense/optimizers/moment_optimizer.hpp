#pragma once
/// \file
/// What Nadam and Adamax share: Keras's (learning_rate, beta_1, beta_2, epsilon) and two arrays per
/// parameter, the first moment and a second one.

#include <string>
#include <vector>

#include "xdense/optimizer.hpp"

namespace xdense {

/// Settings of Nadam and Adamax (Keras defaults and key names).
struct MomentOptions {
  float learning_rate = 1e-3f;
  float beta_1 = 0.9f;    ///< in [0, 1): decay of the first moment
  float beta_2 = 0.999f;  ///< in [0, 1): decay of the second moment (Nadam) or of the norm (Adamax)
  float epsilon = 1e-7f;  ///< > 0
};

/// Base of the optimizers that keep a first moment ("momentum") and one more array per parameter.
class MomentOptimizer : public Optimizer {
 public:
  /// {"learning_rate", "beta_1", "beta_2", "epsilon"} and the base options set.
  Config config() const override;
  float learning_rate() const override { return options_.learning_rate; }
  const MomentOptions& options() const { return options_; }

 protected:
  bool apply_learning_rate(float learning_rate) override {
    options_.learning_rate = learning_rate;
    return true;
  }
  /// Throws InvalidArgument for lr <= 0, beta_1 or beta_2 outside [0, 1), epsilon <= 0, naming `who`.
  MomentOptimizer(MomentOptions options, const std::string& who);
  void allocate_state(const std::vector<std::size_t>& sizes) override { moments_.allocate(2, sizes); }
  void clear_state() override { moments_.clear(); }
  std::vector<std::vector<float>> slots() const override { return moments_.all(); }
  void set_slots(std::vector<std::vector<float>> slots) override { moments_.assign(std::move(slots)); }
  float* first_moment(std::size_t index) { return moments_.at(0, index); }
  float* second_moment(std::size_t index) { return moments_.at(1, index); }

 private:
  MomentOptions options_;
  detail::SlotArrays moments_;  // the first-moment arrays, then the second ones
};

}  // namespace xdense
