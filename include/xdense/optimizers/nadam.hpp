#pragma once
/// \file
/// Nadam, Keras 3 form ("nadam").

#include <string>
#include <vector>

#include "xdense/optimizers/moment_optimizer.hpp"

namespace xdense {

/// Settings of Nadam (Keras defaults): learning_rate, beta_1, beta_2, epsilon.
using NadamOptions = MomentOptions;

/// Nadam (Adam with Nesterov momentum), Keras 3 form, with the momentum schedule
///   u_t = beta_1 (1 - 0.5 0.96^t),  U_t = u_1 u_2 ... u_t
///   m = m + (1 - beta_1)(g - m);  v = v + (1 - beta_2)(g^2 - v)
///   m_hat = u_{t+1} m / (1 - U_{t+1}) + (1 - u_t) g / (1 - U_t);  v_hat = v / (1 - beta_2^t)
///   w -= lr m_hat / (sqrt(v_hat) + eps)
/// U_t (Keras keeps it in a variable) is recomputed from the step count, so the checkpointed state is
/// the step count and the slots "momentum" (m), "velocity" (v). torch.optim.NAdam's schedule is
/// 0.96^(0.004 t) (its momentum_decay = 0.004) instead of 0.96^t.
class Nadam final : public MomentOptimizer {
 public:
  /// Throws InvalidArgument for lr <= 0, beta_1 or beta_2 outside [0, 1), epsilon <= 0.
  explicit Nadam(NadamOptions options = {});
  std::string name() const override { return "nadam"; }
  std::vector<std::string> slot_names() const override { return {"momentum", "velocity"}; }

 protected:
  void begin_step() override;
  bool update(std::size_t index, const Parameter& p) override;

 private:
  /// u_t and U_t, functions of t alone: from tables made once up to table_end; beyond, u_t = beta_1
  /// (0.5 0.96^t is below half an ulp of 1 in double there) and U_t = U_table_end beta_1^(t - table_end).
  double momentum_factor(std::size_t t) const;
  double momentum_product(std::size_t t);

  static constexpr std::size_t table_end = 1024;
  std::vector<double> factors_;   // u_0 .. u_table_end
  std::vector<double> products_;  // U_0 .. U_table_end
  detail::RunningPower beta_1_power_;  // beta_1^(t - table_end), beyond the table
  detail::RunningPower beta_2_power_;
  // The current step's factors: m_hat = m_factor m + g_factor g; v_hat = v / v_divisor.
  float m_factor_ = 0.0f, g_factor_ = 0.0f, v_divisor_ = 1.0f;
};

}  // namespace xdense
