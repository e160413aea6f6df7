#include "xdense/optimizer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cpu_dispatch.hpp"
#include "optimizers/optimizer_support.hpp"
#include "registry.hpp"
#include "xdense/error.hpp"
#include "xdense/schedule.hpp"

namespace xdense {
namespace {

using detail::check_epsilon;
using detail::check_learning_rate;
using detail::check_unit_interval;
using detail::non_finite;

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

// Sum of g^2 in double (no overflow for any float gradient), in eight interleaved partial sums
// added in a fixed order: vectorisable without reassociation, the same on every run.
XDENSE_VECTOR_CLONES double sum_of_squares(const float* __restrict g, std::size_t n) {
  double lanes[8] = {};
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (std::size_t l = 0; l < 8; ++l) lanes[l] += double(g[i + l]) * double(g[i + l]);
  }
  double tail = 0.0;
  for (; i < n; ++i) tail += double(g[i]) * double(g[i]);
  return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7])) + tail;
}

XDENSE_VECTOR_CLONES void scale_values(float* __restrict g, std::size_t n, float scale) {
  for (std::size_t i = 0; i < n; ++i) g[i] *= scale;
}

// Keras's ops.clip(g, -v, v); a NaN stays NaN.
XDENSE_VECTOR_CLONES void clip_values(float* __restrict g, std::size_t n, float limit) {
  for (std::size_t i = 0; i < n; ++i) g[i] = std::min(std::max(g[i], -limit), limit);
}

// Keras's _apply_weight_decay: w = w - w wd lr, in that order of operations.
XDENSE_VECTOR_CLONES void decay_weights(float* __restrict w, std::size_t n, float weight_decay, float lr) {
  for (std::size_t i = 0; i < n; ++i) w[i] -= w[i] * weight_decay * lr;
}

void check_base_option(const std::string& who, const char* key, const std::optional<float>& value, bool zero_allowed) {
  if (!value) return;
  const float v = *value;
  if (std::isfinite(v) && (v > 0.0f || (zero_allowed && v == 0.0f))) return;
  std::ostringstream m;
  m << who << ": " << key << " must be finite and " << (zero_allowed ? ">= 0" : "> 0") << " (null for none), received "
    << key << "=" << v;
  throw InvalidArgument(m.str());
}

}  // namespace

void Optimizer::set_base_options(const BaseOptimizerOptions& options) {
  const std::string who = name();
  check_base_option(who, "weight_decay", options.weight_decay, true);
  check_base_option(who, "clipnorm", options.clipnorm, false);
  check_base_option(who, "clipvalue", options.clipvalue, false);
  check_base_option(who, "global_clipnorm", options.global_clipnorm, false);
  if (int(bool(options.clipnorm)) + int(bool(options.clipvalue)) + int(bool(options.global_clipnorm)) > 1) {
    const auto shown = [](const std::optional<float>& v) { return v ? std::to_string(*v) : std::string("null"); };
    throw InvalidArgument(who + ": only one of clipnorm, clipvalue and global_clipnorm can be set, received clipnorm=" +
                          shown(options.clipnorm) + ", clipvalue=" + shown(options.clipvalue) +
                          ", global_clipnorm=" + shown(options.global_clipnorm));
  }
  check_base_options(options);
  base_ = options;
  base_active_ = options.clipnorm || options.clipvalue || options.global_clipnorm ||
                 (options.weight_decay && *options.weight_decay != 0.0f);
}

// Keras 3's BaseOptimizer.apply, before update_step: clip the gradients, then decay every weight.
// The norms are those of Keras's _clip_by_norm and clip_by_global_norm (sqrt of the sum of squares);
// a gradient within the bound is left exactly as it is.
void Optimizer::apply_base_options(const std::vector<Parameter>& parameters) {
  if (base_.clipnorm) {
    const double limit = *base_.clipnorm;
    for (const Parameter& p : parameters) {
      const double norm = std::sqrt(sum_of_squares(p.gradient, p.size));
      if (norm > limit) scale_values(p.gradient, p.size, static_cast<float>(limit / norm));
    }
  } else if (base_.global_clipnorm) {
    const double limit = *base_.global_clipnorm;
    double total = 0.0;
    for (const Parameter& p : parameters) total += sum_of_squares(p.gradient, p.size);
    const double norm = std::sqrt(total);
    if (norm > limit) {
      const float scale = static_cast<float>(limit / norm);
      for (const Parameter& p : parameters) scale_values(p.gradient, p.size, scale);
    }
  } else if (base_.clipvalue) {
    for (const Parameter& p : parameters) clip_values(p.gradient, p.size, *base_.clipvalue);
  }
  if (base_.weight_decay && *base_.weight_decay != 0.0f) {
    const float lr = learning_rate();
    for (const Parameter& p : parameters) decay_weights(p.value, p.size, *base_.weight_decay, lr);
  }
}

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
  // Keras: the step's rate is schedule(iterations) with the count of steps done before it.
  if (schedule_ && !apply_learning_rate(static_cast<float>(schedule_->at(iterations_)))) {
    throw StateError(name() + ": cannot follow a learning-rate schedule (it does not override apply_learning_rate)");
  }
  ++iterations_;
  if (base_active_) apply_base_options(parameters);
  begin_step();
  bool finite = true;
  for (std::size_t i = 0; i < parameters.size(); ++i) finite &= update(i, parameters[i]);
  // As Keras's optimizer.learning_rate, learning_rate() is then the next step's rate.
  if (schedule_) apply_learning_rate(static_cast<float>(schedule_->at(iterations_)));
  return finite;
}

void Optimizer::set_schedule(std::shared_ptr<const LearningRateSchedule> schedule) {
  // The rate of the next step, in effect now: learning_rate() and the weight decay see it.
  if (schedule && !apply_learning_rate(static_cast<float>(schedule->at(iterations_)))) {
    throw StateError(name() + ": cannot follow a learning-rate schedule (it does not override apply_learning_rate)");
  }
  schedule_ = std::move(schedule);
}

void Optimizer::set_learning_rate(float learning_rate) {
  if (!(std::isfinite(learning_rate) && learning_rate > 0.0f)) {
    throw InvalidArgument(name() + ": the learning rate must be finite and > 0, received " + std::to_string(learning_rate));
  }
  if (schedule_) {
    throw StateError(name() + ": the learning rate follows a schedule (" + schedule_->name() + ") and cannot be set");
  }
  if (!apply_learning_rate(learning_rate)) {
    throw StateError(name() + ": cannot change its learning rate (it does not override apply_learning_rate)");
  }
}

double Optimizer::current_learning_rate() const {
  return schedule_ ? schedule_->at(iterations_) : static_cast<double>(learning_rate());
}

void Optimizer::reset() {
  sizes_.clear();
  iterations_ = 0;
  clear_state();
  if (schedule_) apply_learning_rate(static_cast<float>(schedule_->at(0)));
}

Config Optimizer::config() const {
  // A schedule replaces the rate, serialized as Keras 3's optimizer get_config() does.
  Config config = {{"learning_rate", schedule_ ? serialize_schedule(*schedule_) : Config(learning_rate())}};
  for (const auto& [key, value] : {std::make_pair("weight_decay", base_.weight_decay),
                                   std::make_pair("clipnorm", base_.clipnorm),
                                   std::make_pair("clipvalue", base_.clipvalue),
                                   std::make_pair("global_clipnorm", base_.global_clipnorm)}) {
    if (value) config[key] = *value;
  }
  return config;
}

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
  if (schedule_) apply_learning_rate(static_cast<float>(schedule_->at(iterations_)));
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
  Config config = Optimizer::config();
  config["momentum"] = options_.momentum;
  config["nesterov"] = options_.nesterov;
  return config;
}

std::vector<std::string> SGD::slot_names() const {
  if (options_.momentum == 0.0f) return {};
  return {"momentum"};
}

// ---------------------------------------------------------------- Adam

Adam::Adam(AdamOptions options, const std::string& who)
    : options_(options), beta1_power_(options.beta1), beta2_power_(options.beta2) {
  check_learning_rate(who, options.learning_rate);
  check_unit_interval(who, "beta1", options.beta1);
  check_unit_interval(who, "beta2", options.beta2);
  check_epsilon(who, options.epsilon);
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
  // Bias correction folded into the step size, once per step, in double.
  const double beta1_power = beta1_power_.at(iterations_);
  const double beta2_power = beta2_power_.at(iterations_);
  step_size_ = static_cast<float>(options_.learning_rate * std::sqrt(1.0 - beta2_power) / (1.0 - beta1_power));
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
  Config config = Optimizer::config();
  config["beta_1"] = options_.beta1;
  config["beta_2"] = options_.beta2;
  config["epsilon"] = options_.epsilon;
  return config;
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
  return detail::make_with_base_options<SGD>(in, options);
}

std::unique_ptr<Optimizer> adam_from_config(const Config& config) {
  ConfigReader in(config, "Adam");
  const AdamOptions options = detail::read_adam_options(in);
  return detail::make_with_base_options<Adam>(in, options);
}

const bool registered = (register_optimizer("sgd", sgd_from_config), register_optimizer("adam", adam_from_config), true);

}  // namespace

AdamOptions detail::read_adam_options(ConfigReader& in) {
  AdamOptions options;
  options.learning_rate = in.real("learning_rate", options.learning_rate);
  options.beta1 = in.real("beta_1", options.beta1);
  options.beta2 = in.real("beta_2", options.beta2);
  options.epsilon = in.real("epsilon", options.epsilon);
  if (in.boolean("amsgrad", false)) in.fail("amsgrad", "the AMSGrad variant is not supported (false only)");
  return options;
}

BaseOptimizerOptions read_base_options(ConfigReader& in) {
  BaseOptimizerOptions options;
  options.weight_decay = in.optional_real("weight_decay");
  options.clipnorm = in.optional_real("clipnorm");
  options.clipvalue = in.optional_real("clipvalue");
  options.global_clipnorm = in.optional_real("global_clipnorm");
  // Keras's other base-optimizer arguments, accepted where they change nothing.
  in.ignore("name");
  if (in.boolean("use_ema", false)) in.fail("use_ema", "weight averaging (EMA) is not supported (false only)");
  in.real("ema_momentum", 0.99f);  // used only with use_ema
  in.ignore("ema_overwrite_frequency");
  for (const char* key : {"loss_scale_factor", "gradient_accumulation_steps"}) {
    if (in.optional_real(key)) in.fail(key, "not supported (null only)");
  }
  return options;
}

void register_optimizer(const std::string& name, OptimizerFactory factory, const std::vector<std::string>& aliases) {
  optimizers().add(name, std::move(factory), aliases);
}

std::unique_ptr<Optimizer> make_optimizer(const std::string& name) { return make_optimizer(name, Config::object()); }

std::unique_ptr<Optimizer> make_optimizer(const std::string& name, const Config& config) {
  const auto [canonical, factory] = optimizers().find(name);
  // A scheduled "learning_rate" (a serialized schedule, Keras 3's or Keras 2's form) is handled here
  // for every optimizer: the factory makes it with its default rate, then it follows the schedule.
  std::shared_ptr<const LearningRateSchedule> schedule;
  if (config.is_object() && config.contains("learning_rate") && config.at("learning_rate").is_object()) {
    try {
      schedule = deserialize_schedule(config.at("learning_rate"));
    } catch (const ConfigError& e) {
      throw ConfigError(canonical, "learning_rate." + e.key(), e.reason());
    }
  }
  Config rest = config;
  if (schedule) rest.erase("learning_rate");
  auto optimizer = factory(rest);
  if (!optimizer) throw InvalidArgument("make_optimizer: the factory of " + quote_value(name) + " returned null");
  if (schedule) optimizer->set_schedule(std::move(schedule));
  return optimizer;
}

std::vector<std::string> optimizer_names() { return optimizers().names(); }

}  // namespace xdense
