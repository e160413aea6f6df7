#include "xdense/optimizers/rmsprop.hpp"

#include <cmath>
#include <cstdint>
#include <memory>

#include <nlohmann/json.hpp>

#include "../cpu_dispatch.hpp"
#include "optimizer_support.hpp"

namespace xdense {
namespace {

using detail::non_finite;

// One loop per variant (Keras's update_step, keras/src/optimizers/rmsprop.py); each returns
// non-zero when an updated weight is NaN or infinite. a (average gradient) and m (momentum) are
// null when the variant keeps none.
XDENSE_VECTOR_CLONES std::uint32_t rmsprop_update(float* __restrict w, const float* __restrict g,
                                                  float* __restrict v, float* __restrict a, float* __restrict m,
                                                  std::size_t n, float lr, float rho, float momentum, float epsilon) {
  std::uint32_t bad = 0;
  if (a == nullptr && m == nullptr) {
    for (std::size_t i = 0; i < n; ++i) {
      v[i] = rho * v[i] + (1.0f - rho) * (g[i] * g[i]);
      w[i] -= lr * g[i] / std::sqrt(v[i] + epsilon);
      bad |= non_finite(w[i]);
    }
  } else if (m == nullptr) {
    for (std::size_t i = 0; i < n; ++i) {
      v[i] = rho * v[i] + (1.0f - rho) * (g[i] * g[i]);
      a[i] = rho * a[i] + (1.0f - rho) * g[i];
      w[i] -= lr * g[i] / std::sqrt(v[i] - a[i] * a[i] + epsilon);
      bad |= non_finite(w[i]);
    }
  } else if (a == nullptr) {
    for (std::size_t i = 0; i < n; ++i) {
      v[i] = rho * v[i] + (1.0f - rho) * (g[i] * g[i]);
      m[i] = momentum * m[i] + lr * g[i] / std::sqrt(v[i] + epsilon);
      w[i] -= m[i];
      bad |= non_finite(w[i]);
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      v[i] = rho * v[i] + (1.0f - rho) * (g[i] * g[i]);
      a[i] = rho * a[i] + (1.0f - rho) * g[i];
      m[i] = momentum * m[i] + lr * g[i] / std::sqrt(v[i] - a[i] * a[i] + epsilon);
      w[i] -= m[i];
      bad |= non_finite(w[i]);
    }
  }
  return bad;
}

}  // namespace

RMSprop::RMSprop(RMSpropOptions options) : options_(options) {
  detail::check_learning_rate("RMSprop", options.learning_rate);
  detail::check_unit_interval("RMSprop", "rho", options.rho);
  detail::check_unit_interval("RMSprop", "momentum", options.momentum);
  detail::check_epsilon("RMSprop", options.epsilon);
}

std::vector<std::string> RMSprop::slot_names() const {
  std::vector<std::string> names = {"velocity"};
  if (options_.momentum > 0.0f) names.push_back("momentum");
  if (options_.centered) names.push_back("average_gradient");
  return names;
}

void RMSprop::allocate_state(const std::vector<std::size_t>& sizes) { slots_.allocate(slot_names().size(), sizes); }

bool RMSprop::update(std::size_t index, const Parameter& p) {
  const bool momentum = options_.momentum > 0.0f;
  float* m = momentum ? slots_.at(1, index) : nullptr;
  float* a = options_.centered ? slots_.at(momentum ? 2 : 1, index) : nullptr;
  return rmsprop_update(p.value, p.gradient, slots_.at(0, index), a, m, p.size, options_.learning_rate, options_.rho,
                        options_.momentum, options_.epsilon) == 0;
}

Config RMSprop::config() const {
  Config config = Optimizer::config();
  config["rho"] = options_.rho;
  config["momentum"] = options_.momentum;
  config["epsilon"] = options_.epsilon;
  config["centered"] = options_.centered;
  return config;
}

namespace {

std::unique_ptr<Optimizer> rmsprop_from_config(const Config& config) {
  ConfigReader in(config, "RMSprop");
  RMSpropOptions options;
  options.learning_rate = in.real("learning_rate", options.learning_rate);
  options.rho = in.real("rho", options.rho);
  options.momentum = in.real("momentum", options.momentum);
  options.epsilon = in.real("epsilon", options.epsilon);
  options.centered = in.boolean("centered", options.centered);
  return detail::make_with_base_options<RMSprop>(in, options);
}

const bool registered = (register_optimizer("rmsprop", rmsprop_from_config), true);

}  // namespace
}  // namespace xdense
