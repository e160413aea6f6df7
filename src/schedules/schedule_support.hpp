#pragma once
// Private: what the built-in schedules share. Keras evaluates a schedule in the dtype of its
// initial_learning_rate, float32 for a Python float, casting each setting and the step count to it
// where its __call__ does; the schedules here do the same arithmetic in float, in Keras's order of
// operations, and return that float (at() widens it to double exactly). The settings themselves are
// kept as the doubles given, so config() gives back exactly what was read.

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "xdense/config.hpp"

namespace xdense::detail {

/// Keras's cast(step, float32): exact up to 2^24 steps, rounded to nearest beyond (as Keras does).
inline float step_as_float(std::size_t step) { return static_cast<float>(step); }

/// What a setting must be (each also finite and within the float range, since it is cast to float32).
enum class ScheduleRange { any, non_negative, positive, unit_interval };

/// Throws ConfigError(`who`, `key`, "expected a finite number > 0, received 0") unless `value` is in
/// `range`: the constructors' checks, so a schedule made from its options or from a config is
/// refused in the same words, naming the key.
void check_schedule_setting(const std::string& who, const std::string& key, double value, ScheduleRange range);

/// A required number of a config: ConfigError "missing (expected a number)" when absent.
double required_number(ConfigReader& in, const std::string& key);

/// A step count or a number as a config shows it: an integral value as an integer ("decay_steps":
/// 1000, not 1000.0), which is how Keras's configs hold them.
Config number_value(double value);

/// The keys ExponentialDecay and InverseTimeDecay share (their options have the same fields):
/// initial_learning_rate, decay_steps and decay_rate required, staircase; Keras's "name" ignored.
template <class Options>
Options read_rate_decay_options(ConfigReader& in) {
  Options options;
  options.initial_learning_rate = required_number(in, "initial_learning_rate");
  options.decay_steps = required_number(in, "decay_steps");
  options.decay_rate = required_number(in, "decay_rate");
  options.staircase = in.boolean("staircase", options.staircase);
  in.ignore("name");
  in.finish();
  return options;
}

template <class Options>
Config rate_decay_config(const Options& options) {
  return {{"initial_learning_rate", options.initial_learning_rate},
          {"decay_steps", number_value(options.decay_steps)},
          {"decay_rate", options.decay_rate},
          {"staircase", options.staircase}};
}

}  // namespace xdense::detail
