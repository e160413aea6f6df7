#pragma once
/// \file
/// Adagrad, Keras 3 form ("adagrad").

#include <string>
#include <vector>

#include "xdense/optimizer.hpp"

namespace xdense {

/// Settings of Adagrad (Keras defaults).
struct AdagradOptions {
  float learning_rate = 1e-3f;
  float initial_accumulator_value = 0.1f;  ///< >= 0: the accumulator's starting value
  float epsilon = 1e-7f;                   ///< > 0, added under the square root
};

/// Adagrad, Keras form (epsilon inside the square root; PyTorch adds it to sqrt(acc) and starts the
/// accumulator at 0):
///   acc += g^2;  w -= lr g / sqrt(acc + eps)
/// Slot (Keras's name): "accumulator", starting at initial_accumulator_value.
class Adagrad final : public Optimizer {
 public:
  /// Throws InvalidArgument for lr <= 0, initial_accumulator_value < 0, epsilon <= 0.
  explicit Adagrad(AdagradOptions options = {});
  std::string name() const override { return "adagrad"; }
  /// {"learning_rate", "initial_accumulator_value", "epsilon"} and the base options set.
  Config config() const override;
  std::vector<std::string> slot_names() const override { return {"accumulator"}; }
  float learning_rate() const override { return options_.learning_rate; }
  const AdagradOptions& options() const { return options_; }

 protected:
  bool apply_learning_rate(float learning_rate) override {
    options_.learning_rate = learning_rate;
    return true;
  }
  bool update(std::size_t index, const Parameter& p) override;
  void allocate_state(const std::vector<std::size_t>& sizes) override;
  void clear_state() override { accumulators_.clear(); }
  std::vector<std::vector<float>> slots() const override { return accumulators_.all(); }
  void set_slots(std::vector<std::vector<float>> slots) override { accumulators_.assign(std::move(slots)); }

 private:
  AdagradOptions options_;
  detail::SlotArrays accumulators_;
};

}  // namespace xdense
