#include "xdense/schedules/exponential_decay.hpp"

#include <cmath>
#include <memory>

#include <nlohmann/json.hpp>

#include "schedule_support.hpp"

namespace xdense {

using detail::ScheduleRange;

ExponentialDecay::ExponentialDecay(ExponentialDecayOptions options) : options_(options) {
  detail::check_schedule_setting(name(), "initial_learning_rate", options.initial_learning_rate, ScheduleRange::positive);
  detail::check_schedule_setting(name(), "decay_steps", options.decay_steps, ScheduleRange::positive);
  detail::check_schedule_setting(name(), "decay_rate", options.decay_rate, ScheduleRange::positive);
}

// Keras: p = float(step) / decay_steps (floored with staircase); initial_learning_rate * decay_rate^p.
double ExponentialDecay::at(std::size_t step) const {
  float p = detail::step_as_float(step) / static_cast<float>(options_.decay_steps);
  if (options_.staircase) p = std::floor(p);
  return static_cast<float>(options_.initial_learning_rate) * std::pow(static_cast<float>(options_.decay_rate), p);
}

Config ExponentialDecay::config() const { return detail::rate_decay_config(options_); }

namespace {

std::unique_ptr<LearningRateSchedule> exponential_decay_from_config(const Config& config) {
  ConfigReader in(config, "ExponentialDecay");
  return std::make_unique<ExponentialDecay>(detail::read_rate_decay_options<ExponentialDecayOptions>(in));
}

const bool registered = (register_schedule("ExponentialDecay", exponential_decay_from_config, {"exponential"}), true);

}  // namespace
}  // namespace xdense
