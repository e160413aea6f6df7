#include "xdense/optimizers/adamax.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>

#include <nlohmann/json.hpp>

#include "../cpu_dispatch.hpp"
#include "optimizer_support.hpp"

namespace xdense {
namespace {

using detail::non_finite;

// Keras's update_step (keras/src/optimizers/adamax.py) with lr / (1 - beta_1^t) as step_size;
// non-zero when an updated weight is NaN or infinite.
XDENSE_VECTOR_CLONES std::uint32_t adamax_update(float* __restrict w, const float* __restrict g, float* __restrict m,
                                                 float* __restrict u, std::size_t n, float beta_1, float beta_2,
                                                 float step_size, float epsilon) {
  std::uint32_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    m[i] += (g[i] - m[i]) * (1.0f - beta_1);
    u[i] = std::max(beta_2 * u[i], std::fabs(g[i]));
    w[i] -= step_size * m[i] / (u[i] + epsilon);
    bad |= non_finite(w[i]);
  }
  return bad;
}

}  // namespace

Adamax::Adamax(AdamaxOptions options) : MomentOptimizer(options, "Adamax"), beta_1_power_(options.beta_1) {}

void Adamax::begin_step() {
  step_size_ = static_cast<float>(options().learning_rate / (1.0 - beta_1_power_.at(iterations_)));
}

bool Adamax::update(std::size_t index, const Parameter& p) {
  return adamax_update(p.value, p.gradient, first_moment(index), second_moment(index), p.size, options().beta_1,
                       options().beta_2, step_size_, options().epsilon) == 0;
}

namespace {

std::unique_ptr<Optimizer> adamax_from_config(const Config& config) {
  ConfigReader in(config, "Adamax");
  return detail::make_with_base_options<Adamax>(in, detail::read_moment_options(in));
}

const bool registered = (register_optimizer("adamax", adamax_from_config), true);

}  // namespace
}  // namespace xdense
