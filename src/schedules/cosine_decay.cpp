#include "xdense/schedules/cosine_decay.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

#include <nlohmann/json.hpp>

#include "schedule_support.hpp"

namespace xdense {

using detail::ScheduleRange;

CosineDecay::CosineDecay(CosineDecayOptions options) : options_(options) {
  detail::check_schedule_setting(name(), "initial_learning_rate", options.initial_learning_rate,
                                 ScheduleRange::non_negative);
  detail::check_schedule_setting(name(), "decay_steps", options.decay_steps, ScheduleRange::positive);
  detail::check_schedule_setting(name(), "alpha", options.alpha, ScheduleRange::unit_interval);
  if (options.warmup_target) {
    detail::check_schedule_setting(name(), "warmup_target", *options.warmup_target, ScheduleRange::non_negative);
  }
  detail::check_schedule_setting(name(), "warmup_steps", options.warmup_steps, ScheduleRange::non_negative);
  if (options.warmup_steps > 0.0 && !options.warmup_target) {
    throw ConfigError(name(), "warmup_steps",
                      "warmup_steps=" + detail::number_value(options.warmup_steps).dump() +
                          " needs a warmup_target, the rate to warm up to (Keras would skip the warmup)");
  }
}

namespace {

// Keras's _decay_function: from decay_from_lr down to alpha times it over decay_steps (float32, with
// Python's 1 - alpha and alpha rounded to float as a weakly typed scalar is).
float cosine_decay(float step, float decay_steps, float decay_from_lr, double alpha) {
  const float completed_fraction = step / decay_steps;
  const float pi = static_cast<float>(3.14159265358979323846);  // Keras: array(math.pi, float32)
  const float cosine_decayed = 0.5f * (1.0f + std::cos(pi * completed_fraction));
  const float decayed = static_cast<float>(1.0 - alpha) * cosine_decayed + static_cast<float>(alpha);
  return decay_from_lr * decayed;
}

}  // namespace

double CosineDecay::at(std::size_t step) const {
  const float initial = static_cast<float>(options_.initial_learning_rate);
  const float decay_steps = static_cast<float>(options_.decay_steps);
  float s = detail::step_as_float(step);
  if (!options_.warmup_target) return cosine_decay(std::min(s, decay_steps), decay_steps, initial, options_.alpha);
  const float target = static_cast<float>(*options_.warmup_target);
  const float warmup_steps = static_cast<float>(options_.warmup_steps);
  s = std::min(s, decay_steps + warmup_steps);
  if (s < warmup_steps) {
    // Keras's _warmup_function: a straight line from initial_learning_rate to warmup_target.
    const float completed_fraction = s / warmup_steps;
    return (target - initial) * completed_fraction + initial;
  }
  return cosine_decay(s - warmup_steps, decay_steps, target, options_.alpha);
}

Config CosineDecay::config() const {
  return {{"initial_learning_rate", options_.initial_learning_rate},
          {"decay_steps", detail::number_value(options_.decay_steps)},
          {"alpha", options_.alpha},
          {"warmup_target", options_.warmup_target ? Config(*options_.warmup_target) : Config(nullptr)},
          {"warmup_steps", detail::number_value(options_.warmup_steps)}};
}

namespace {

std::unique_ptr<LearningRateSchedule> cosine_decay_from_config(const Config& config) {
  ConfigReader in(config, "CosineDecay");
  CosineDecayOptions options;
  options.initial_learning_rate = detail::required_number(in, "initial_learning_rate");
  options.decay_steps = detail::required_number(in, "decay_steps");
  options.alpha = in.number("alpha", options.alpha);
  if (in.has("warmup_target") && !config.at("warmup_target").is_null()) {
    options.warmup_target = in.number("warmup_target", 0.0);
  }
  in.ignore("warmup_target");
  options.warmup_steps = in.number("warmup_steps", options.warmup_steps);
  in.ignore("name");
  in.finish();
  return std::make_unique<CosineDecay>(options);
}

const bool registered = (register_schedule("CosineDecay", cosine_decay_from_config, {"cosine"}), true);

}  // namespace
}  // namespace xdense
