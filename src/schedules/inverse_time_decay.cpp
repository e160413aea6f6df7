#include "xdense/schedules/inverse_time_decay.hpp"

#include <cmath>
#include <memory>

#include <nlohmann/json.hpp>

#include "schedule_support.hpp"

namespace xdense {

using detail::ScheduleRange;

InverseTimeDecay::InverseTimeDecay(InverseTimeDecayOptions options) : options_(options) {
  detail::check_schedule_setting(name(), "initial_learning_rate", options.initial_learning_rate, ScheduleRange::positive);
  detail::check_schedule_setting(name(), "decay_steps", options.decay_steps, ScheduleRange::positive);
  detail::check_schedule_setting(name(), "decay_rate", options.decay_rate, ScheduleRange::non_negative);
}

// Keras: p = float(step) / decay_steps (floored with staircase); initial_learning_rate / (1 + decay_rate p).
double InverseTimeDecay::at(std::size_t step) const {
  float p = detail::step_as_float(step) / static_cast<float>(options_.decay_steps);
  if (options_.staircase) p = std::floor(p);
  const float denominator = 1.0f + static_cast<float>(options_.decay_rate) * p;
  return static_cast<float>(options_.initial_learning_rate) / denominator;
}

Config InverseTimeDecay::config() const { return detail::rate_decay_config(options_); }

namespace {

std::unique_ptr<LearningRateSchedule> inverse_time_decay_from_config(const Config& config) {
  ConfigReader in(config, "InverseTimeDecay");
  return std::make_unique<InverseTimeDecay>(detail::read_rate_decay_options<InverseTimeDecayOptions>(in));
}

const bool registered = (register_schedule("InverseTimeDecay", inverse_time_decay_from_config, {"inverse_time"}), true);

}  // namespace
}  // namespace xdense
