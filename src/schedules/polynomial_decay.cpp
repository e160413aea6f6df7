#include "xdense/schedules/polynomial_decay.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

#include <nlohmann/json.hpp>

#include "schedule_support.hpp"

namespace xdense {

using detail::ScheduleRange;

PolynomialDecay::PolynomialDecay(PolynomialDecayOptions options) : options_(options) {
  detail::check_schedule_setting(name(), "initial_learning_rate", options.initial_learning_rate,
                                 ScheduleRange::non_negative);
  detail::check_schedule_setting(name(), "decay_steps", options.decay_steps, ScheduleRange::positive);
  detail::check_schedule_setting(name(), "end_learning_rate", options.end_learning_rate, ScheduleRange::non_negative);
  detail::check_schedule_setting(name(), "power", options.power, ScheduleRange::non_negative);
}

// Keras's __call__, in its order of operations (float32).
double PolynomialDecay::at(std::size_t step) const {
  float s = detail::step_as_float(step);
  float decay_steps = static_cast<float>(options_.decay_steps);
  if (options_.cycle) {
    // The first multiple of decay_steps at or above the step (1 at step 0).
    const float multiplier = s == 0.0f ? 1.0f : std::ceil(s / decay_steps);
    decay_steps *= multiplier;
  } else {
    s = std::min(s, decay_steps);
  }
  const float p = s / decay_steps;
  const float initial = static_cast<float>(options_.initial_learning_rate);
  const float end = static_cast<float>(options_.end_learning_rate);
  return (initial - end) * std::pow(1.0f - p, static_cast<float>(options_.power)) + end;
}

Config PolynomialDecay::config() const {
  return {{"initial_learning_rate", options_.initial_learning_rate},
          {"decay_steps", detail::number_value(options_.decay_steps)},
          {"end_learning_rate", options_.end_learning_rate},
          {"power", options_.power},
          {"cycle", options_.cycle}};
}

namespace {

std::unique_ptr<LearningRateSchedule> polynomial_decay_from_config(const Config& config) {
  ConfigReader in(config, "PolynomialDecay");
  PolynomialDecayOptions options;
  options.initial_learning_rate = detail::required_number(in, "initial_learning_rate");
  options.decay_steps = detail::required_number(in, "decay_steps");
  options.end_learning_rate = in.number("end_learning_rate", options.end_learning_rate);
  options.power = in.number("power", options.power);
  options.cycle = in.boolean("cycle", options.cycle);
  in.ignore("name");
  in.finish();
  return std::make_unique<PolynomialDecay>(options);
}

const bool registered = (register_schedule("PolynomialDecay", polynomial_decay_from_config, {"polynomial"}), true);

}  // namespace
}  // namespace xdense
