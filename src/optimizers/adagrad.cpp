#include "xdense/optimizers/adagrad.hpp"

#include <cmath>
#include <cstdint>
#include <memory>

#include <nlohmann/json.hpp>

#include "../cpu_dispatch.hpp"
#include "optimizer_support.hpp"

namespace xdense {
namespace {

using detail::non_finite;

// Keras's update_step (keras/src/optimizers/adagrad.py); non-zero when an updated weight is NaN or
// infinite.
XDENSE_VECTOR_CLONES std::uint32_t adagrad_update(float* __restrict w, const float* __restrict g,
                                                  float* __restrict acc, std::size_t n, float lr, float epsilon) {
  std::uint32_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    acc[i] += g[i] * g[i];
    w[i] -= lr * g[i] / std::sqrt(acc[i] + epsilon);
    bad |= non_finite(w[i]);
  }
  return bad;
}

}  // namespace

Adagrad::Adagrad(AdagradOptions options) : options_(options) {
  detail::check_learning_rate("Adagrad", options.learning_rate);
  detail::check_non_negative("Adagrad", "initial_accumulator_value", options.initial_accumulator_value);
  detail::check_epsilon("Adagrad", options.epsilon);
}

void Adagrad::allocate_state(const std::vector<std::size_t>& sizes) {
  accumulators_.allocate(1, sizes, options_.initial_accumulator_value);
}

bool Adagrad::update(std::size_t index, const Parameter& p) {
  return adagrad_update(p.value, p.gradient, accumulators_.at(0, index), p.size, options_.learning_rate,
                        options_.epsilon) == 0;
}

Config Adagrad::config() const {
  Config config = Optimizer::config();
  config["initial_accumulator_value"] = options_.initial_accumulator_value;
  config["epsilon"] = options_.epsilon;
  return config;
}

namespace {

std::unique_ptr<Optimizer> adagrad_from_config(const Config& config) {
  ConfigReader in(config, "Adagrad");
  AdagradOptions options;
  options.learning_rate = in.real("learning_rate", options.learning_rate);
  options.initial_accumulator_value = in.real("initial_accumulator_value", options.initial_accumulator_value);
  options.epsilon = in.real("epsilon", options.epsilon);
  return detail::make_with_base_options<Adagrad>(in, options);
}

const bool registered = (register_optimizer("adagrad", adagrad_from_config), true);

}  // namespace
}  // namespace xdense
