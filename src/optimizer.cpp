#include "xdense/optimizer.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cpu_dispatch.hpp"
#include "registry.hpp"
#include "xdense/error.hpp"

namespace xdense {
namespace {

// 1 when `value` is NaN or infinite (all exponent bits set). Integer bit tests keep
// the update loops vectorisable, unlike a floating-point reduction would.
inline std::uint32_t non_finite(float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return (bits & 0x7f800000u) == 0x7f800000u;
}

// Each hyperparameter's own name in its message (Keras style: "Adam: epsilon must be > 0, received
// epsilon=0"), so a bad value is never blamed on another, e.g. the learning rate.
void check_learning_rate(const std::string& who, float lr) {
  if (!(lr > 0.0f) || !std::isfinite(lr)) {
    std::ostringstream m;
    m << who << ": the learning rate must be finite and > 0, received learning_rate=" << lr;
    throw InvalidArgument(m.str());
  }
}

void check_unit_interval(const std::string& who, const std::string& what, float value) {
  if (!(value >= 0.0f && value < 1.0f)) {
    std::ostringstream m;
    m << who << ": " << what << " must be in [0, 1), received " << what << "=" << value;
    throw InvalidArgument(m.str());
  }
}

// The update loops, compiled for AVX2 and for the baseline (cpu_dispatch.hpp). Each
// returns non-zero when an updated weight is NaN or infinite; w, g and the state
// arrays never overlap (the state is the optimizer's own).

XDENSE_VECTOR_CLONES std::uint32_t sgd_update(float* __restrict w, const float* __restrict g, std::size_t n, float lr) {
  std::uint32_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    w[i] -= lr * g[i];
    bad |= non_finite(w[i]);
  }
  return bad;
}

XDENSE_VECTOR_CLONES std::uint32_t momentum_update(float* __restrict w, const float* __restrict g, float* __restrict v,
                                                   std::size_t n, float lr, float momentum, bool nesterov) {
  std::uint32_t bad = 0;
  if (nesterov) {
    for (std::size_t i = 0; i < n; ++i) {
      v[i] = momentum * v[i] - lr * g[i];
      w[i] += momentum * v[i] - lr * g[i];
      bad |= non_finite(w[i]);
    }
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      v[i] = momentum * v[i] - lr * g[i];
      w[i] += v[i];
      bad |= non_finite(w[i]);
    }
  }
  return bad;
}

XDENSE_VECTOR_CLONES std::uint32_t adam_update(float* __restrict w, const float* __restrict g, float* __restrict m,
                                               float* __restrict v, std::size_t n, float beta1, float beta2,
                                               float step_size, float epsilon) {
  std::uint32_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    m[i] += (g[i] - m[i]) * (1.0f - beta1);
    v[i] += (g[i] * g[i] - v[i]) * (1.0f - beta2);
    w[i] -= step_size * m[i] / (std::sqrt(v[i]) + epsilon);
    bad |= non_finite(w[i]);
  }
  return bad;
}

}  // namespace

bool Optimizer::step(const std::vector<Parameter>& parameters) {
  if (sizes_.empty()) {
    for (const Parameter& p : parameters) sizes_.push_back(p.size);
    allocate_state(sizes_);
  } else {
    bool same = sizes_.size() == parameters.size();
    for (std::size_t i = 0; same && i < parameters.size(); ++i) same = sizes_[i] == parameters[i].size;
    if (!same) {
      throw ShapeError(name() + ": the parameter list changed between steps (expected " +
                       std::to_string(sizes_.size()) + " parameters with the sizes of the first step, received " +
                       std::to_string(parameters.size()) + "); call reset() for a new model");
    }
  }
  ++iterations_;
  begin_step();
  bool finite = true;
  for (std::size_t i = 0; i < parameters.size(); ++i) finite &= update(i, parameters[i]);
  return finite;
}

void Optimizer::reset() {
  sizes_.clear();
  iterations_ = 0;
  clear_state();
}

Config Optimizer::config() const { return {{"learning_rate", learning_rate()}}; }

OptimizerState Optimizer::state() const {
  OptimizerState state{iterations_, slots(), {}};
  const std::vector<std::string> names = slot_names();
  if (!state.slots.empty() && !names.empty() && state.slots.size() % names.size() == 0) {
    const std::size_t per_name = state.slots.size() / names.size();
    for (std::size_t i = 0; i < state.slots.size(); ++i) state.names.push_back(names[i / per_name]);
  }
  return state;
}

void Optimizer::restore(const OptimizerState& state, const std::vector<Parameter>& parameters) {
  std::vector<std::size_t> sizes;
  for (const Parameter& p : parameters) sizes.push_back(p.size);
  if (state.iterations == 0 && state.slots.empty()) {
    reset();
    return;
  }
  // Allocate for these parameters, then check the saved slots have exactly that layout.
  clear_state();
  allocate_state(sizes);
  const std::vector<std::vector<float>> fresh = slots();
  bool fits = fresh.size() == state.slots.size();
  for (std::size_t i = 0; fits && i < fresh.size(); ++i) fits = fresh[i].size() == state.slots[i].size();
  if (!fits) {
    clear_state();
    throw ShapeError(name() + "::restore: the saved state has " + std::to_string(state.slots.size()) +
                     " arrays that do not match the " + std::to_string(parameters.size()) +
                     " parameters of this model");
  }
  if (!state.names.empty()) {
    // Names are checked against slot_names() grouped as state() gives them; an optimizer whose
    // arrays do not split evenly into its slot names (or that names none) accepts no named state.
    const std::vector<std::string> names = slot_names();
    bool same = !names.empty() && fresh.size() % names.size() == 0 && state.names.size() == fresh.size();
    const std::size_t per_name = same ? fresh.size() / names.size() : 1;
    for (std::size_t i = 0; same && i < fresh.size(); ++i) same = state.names[i] == names[i / per_name];
    if (!same) {
      clear_state();
      throw ShapeError(name() + "::restore: the saved state's arrays are not this optimizer's slots (" +
                       name_list(names) + " per parameter)");
    }
  }
  set_slots(state.slots);
  sizes_ = sizes;
  iterations_ = state.iterations;
}

// ---------------------------------------------------------------- SGD

SGD::SGD(SGDOptions options) : options_(options) {
  check_learning_rate("SGD", options.learning_rate);
  check_unit_interval("SGD", "momentum", options.momentum);
}

void SGD::allocate_state(const std::vector<std::size_t>& sizes) {
  velocities_.clear();
  if (options_.momentum == 0.0f) return;
  for (std::size_t n : sizes) velocities_.emplace_back(n, 0.0f);
}

bool SGD::update(std::size_t index, const Parameter& p) {
  if (options_.momentum == 0.0f) return sgd_update(p.value, p.gradient, p.size, options_.learning_rate) == 0;
  return momentum_update(p.value, p.gradient, velocities_[index].data(), p.size, options_.learning_rate,
                         options_.momentum, options_.nesterov) == 0;
}

Config SGD::config() const {
  return {{"learning_rate", options_.learning_rate}, {"momentum", options_.momentum}, {"nesterov", options_.nesterov}};
}

std::vector<std::string> SGD::slot_names() const {
  if (options_.momentum == 0.0f) return {};
  return {"momentum"};
}

// ---------------------------------------------------------------- Adam

Adam::Adam(AdamOptions options) : options_(options) {
  check_learning_rate("Adam", options.learning_rate);
  check_unit_interval("Adam", "beta1", options.beta1);
  check_unit_interval("Adam", "beta2", options.beta2);
  // epsilon = 0 divides 0 by 0 for every weight whose gradients have all been 0 so far (a dead
  // unit, a constant feature): the weights turn NaN at the first step.
  if (!(options.epsilon > 0.0f) || !std::isfinite(options.epsilon)) {
    std::ostringstream m;
    m << "Adam: epsilon must be finite and > 0, received epsilon=" << options.epsilon;
    throw InvalidArgument(m.str());
  }
}

void Adam::allocate_state(const std::vector<std::size_t>& sizes) {
  first_moments_.clear();
  second_moments_.clear();
  for (std::size_t n : sizes) {
    first_moments_.emplace_back(n, 0.0f);
    second_moments_.emplace_back(n, 0.0f);
  }
}

void Adam::begin_step() {
  // Bias correction folded into the step size, once per step, in double. Up to
  // running_limit steps, beta^t is kept as a running product (two multiplications a
  // step instead of two pow() calls); it is always the product of t factors from 1,
  // rebuilt that way when t did not simply advance (first step, reset, restore: at
  // most running_limit multiplications, ~20 ms), so it depends on t alone and a
  // resumed run computes the same step sizes as an uninterrupted one. Beyond, pow().
  constexpr std::size_t running_limit = std::size_t{1} << 24;
  const std::size_t t = iterations_;
  const double beta1 = options_.beta1, beta2 = options_.beta2;
  if (t > running_limit) {
    beta1_power_ = std::pow(beta1, static_cast<double>(t));
    beta2_power_ = std::pow(beta2, static_cast<double>(t));
  } else {
    if (powers_step_ + 1 != t) {
      beta1_power_ = 1.0;
      beta2_power_ = 1.0;
      for (powers_step_ = 0; powers_step_ + 1 < t; ++powers_step_) {
        beta1_power_ *= beta1;
        beta2_power_ *= beta2;
      }
    }
    beta1_power_ *= beta1;
    beta2_power_ *= beta2;
  }
  powers_step_ = t;
  step_size_ = static_cast<float>(options_.learning_rate * std::sqrt(1.0 - beta2_power_) / (1.0 - beta1_power_));
}

bool Adam::update(std::size_t index, const Parameter& p) {
  return adam_update(p.value, p.gradient, first_moments_[index].data(), second_moments_[index].data(), p.size,
                     options_.beta1, options_.beta2, step_size_, options_.epsilon) == 0;
}

std::vector<std::vector<float>> Adam::slots() const {
  std::vector<std::vector<float>> all = first_moments_;
  all.insert(all.end(), second_moments_.begin(), second_moments_.end());
  return all;
}

void Adam::set_slots(std::vector<std::vector<float>> slots) {
  const std::size_t half = slots.size() / 2;
  first_moments_.assign(std::make_move_iterator(slots.begin()), std::make_move_iterator(slots.begin() + half));
  second_moments_.assign(std::make_move_iterator(slots.begin() + half), std::make_move_iterator(slots.end()));
}

Config Adam::config() const {
  return {{"learning_rate", options_.learning_rate},
          {"beta_1", options_.beta1},
          {"beta_2", options_.beta2},
          {"epsilon", options_.epsilon}};
}

// ---------------------------------------------------------------- registry

namespace {

detail::Registry<OptimizerFactory>& optimizers() {
  static detail::Registry<OptimizerFactory> registry("optimizer");
  return registry;
}

std::unique_ptr<Optimizer> sgd_from_config(const Config& config) {
  ConfigReader in(config, "SGD");
  SGDOptions options;
  options.learning_rate = in.real("learning_rate", options.learning_rate);
  options.momentum = in.real("momentum", options.momentum);
  options.nesterov = in.boolean("nesterov", options.nesterov);
  in.ignore("name");
  in.finish();
  return std::make_unique<SGD>(options);
}

std::unique_ptr<Optimizer> adam_from_config(const Config& config) {
  ConfigReader in(config, "Adam");
  AdamOptions options;
  options.learning_rate = in.real("learning_rate", options.learning_rate);
  options.beta1 = in.real("beta_1", options.beta1);
  options.beta2 = in.real("beta_2", options.beta2);
  options.epsilon = in.real("epsilon", options.epsilon);
  in.ignore("name");
  in.finish();
  return std::make_unique<Adam>(options);
}

const bool registered = (register_optimizer("sgd", sgd_from_config), register_optimizer("adam", adam_from_config), true);

}  // namespace

void register_optimizer(const std::string& name, OptimizerFactory factory, const std::vector<std::string>& aliases) {
  optimizers().add(name, std::move(factory), aliases);
}

std::unique_ptr<Optimizer> make_optimizer(const std::string& name) { return make_optimizer(name, Config::object()); }

std::unique_ptr<Optimizer> make_optimizer(const std::string& name, const Config& config) {
  auto optimizer = optimizers().find(name).second(config);
  if (!optimizer) throw InvalidArgument("make_optimizer: the factory of " + quote_value(name) + " returned null");
  return optimizer;
}

std::vector<std::string> optimizer_names() { return optimizers().names(); }

}  // namespace xdense
