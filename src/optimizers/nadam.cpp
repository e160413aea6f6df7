#include "xdense/optimizers/nadam.hpp"

#include <cmath>
#include <cstdint>
#include <memory>

#include <nlohmann/json.hpp>

#include "../cpu_dispatch.hpp"
#include "optimizer_support.hpp"

namespace xdense {
namespace {

using detail::non_finite;

// Keras's update_step (keras/src/optimizers/nadam.py) with m_hat = m_factor m + g_factor g and
// v_hat = v / v_divisor; non-zero when an updated weight is NaN or infinite.
XDENSE_VECTOR_CLONES std::uint32_t nadam_update(float* __restrict w, const float* __restrict g, float* __restrict m,
                                                float* __restrict v, std::size_t n, float beta_1, float beta_2,
                                                float m_factor, float g_factor, float v_divisor, float lr,
                                                float epsilon) {
  std::uint32_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    m[i] += (g[i] - m[i]) * (1.0f - beta_1);
    v[i] += (g[i] * g[i] - v[i]) * (1.0f - beta_2);
    const float m_hat = m_factor * m[i] + g_factor * g[i];
    w[i] -= m_hat * lr / (std::sqrt(v[i] / v_divisor) + epsilon);
    bad |= non_finite(w[i]);
  }
  return bad;
}

}  // namespace

Nadam::Nadam(NadamOptions options)
    : MomentOptimizer(options, "Nadam"), beta_1_power_(options.beta_1), beta_2_power_(options.beta_2) {
  // Keras's schedule u_t = beta_1 (1 - 0.5 0.96^t) and U_t = u_1 ... u_t up to table_end, where
  // 0.5 0.96^t < 2^-60 no longer changes 1 - 0.5 0.96^t in double: beyond, every u_t is beta_1.
  factors_.assign(table_end + 1, 0.0);
  products_.assign(table_end + 1, 1.0);
  for (std::size_t t = 0; t <= table_end; ++t) {
    factors_[t] = options.beta_1 * (1.0 - 0.5 * std::pow(0.96, static_cast<double>(t)));
    if (t > 0) products_[t] = products_[t - 1] * factors_[t];
  }
}

double Nadam::momentum_factor(std::size_t t) const { return t <= table_end ? factors_[t] : options().beta_1; }

double Nadam::momentum_product(std::size_t t) {
  if (t <= table_end) return products_[t];
  return products_[table_end] * beta_1_power_.at(t - table_end);
}

void Nadam::begin_step() {
  const std::size_t t = iterations_;
  const double u_t = momentum_factor(t);
  const double u_next = momentum_factor(t + 1);
  const double product = momentum_product(t);
  const double product_next = product * u_next;  // Keras's u_product_t_1 = u_product_t u_{t+1}
  m_factor_ = static_cast<float>(u_next / (1.0 - product_next));
  g_factor_ = static_cast<float>((1.0 - u_t) / (1.0 - product));
  v_divisor_ = static_cast<float>(1.0 - beta_2_power_.at(t));
}

bool Nadam::update(std::size_t index, const Parameter& p) {
  return nadam_update(p.value, p.gradient, first_moment(index), second_moment(index), p.size, options().beta_1,
                      options().beta_2, m_factor_, g_factor_, v_divisor_, options().learning_rate,
                      options().epsilon) == 0;
}

namespace {

std::unique_ptr<Optimizer> nadam_from_config(const Config& config) {
  ConfigReader in(config, "Nadam");
  return detail::make_with_base_options<Nadam>(in, detail::read_moment_options(in));
}

const bool registered = (register_optimizer("nadam", nadam_from_config), true);

}  // namespace
}  // namespace xdense
