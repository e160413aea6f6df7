#pragma once
/// \file
/// AdamW, Keras 3 form ("adamw").

#include <string>

#include "xdense/optimizer.hpp"

namespace xdense {

/// AdamW: Adam with decoupled weight decay, as Keras 3 defines it (Adam with a weight_decay that
/// defaults to 0.004 and may not be null). Each step, before the Adam update:
///   w -= w weight_decay lr
/// (torch.optim.AdamW decays the same way, w *= 1 - lr weight_decay, but its Adam step adds epsilon
/// to sqrt(v_hat) as torch.optim.Adam does.) Slots: "momentum", "velocity", as Adam.
class AdamW final : public Adam {
 public:
  static constexpr float default_weight_decay = 0.004f;
  /// Throws InvalidArgument as Adam does, and for a negative or non-finite weight_decay.
  explicit AdamW(AdamOptions options = {}, float weight_decay = default_weight_decay);
  std::string name() const override { return "adamw"; }

 protected:
  /// Refuses options without a weight_decay (Keras: "Argument `weight_decay` must be a float").
  void check_base_options(const BaseOptimizerOptions& options) const override;
};

}  // namespace xdense
