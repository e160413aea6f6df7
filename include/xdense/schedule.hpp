#pragma once
/// \file
/// Learning-rate schedules (Keras's keras.optimizers.schedules): the learning rate as a function of
/// the optimizer's step count, evaluated before every step.
///
///   auto schedule = xdense::make_schedule("ExponentialDecay",
///       {{"initial_learning_rate", 0.01}, {"decay_steps", 1000}, {"decay_rate", 0.9}});
///   model.optimizer()->set_schedule(std::move(schedule));
///
/// An optimizer with a schedule saves it in its config as Keras 3 does (serialize_schedule()):
/// "learning_rate": {"module": "keras.optimizers.schedules", "class_name": "ExponentialDecay",
/// "config": {...}, "registered_name": null}; make_optimizer() reads it back (Keras 2's
/// {"class_name", "config"} too). Keras computes a schedule in float32 (the dtype of a Python float
/// initial_learning_rate): the built-ins do the same arithmetic in float, in Keras's order, and keep
/// their settings as the doubles given. Built-in (src/schedules/): ExponentialDecay ("exponential"), CosineDecay ("cosine", with
/// warmup), PiecewiseConstantDecay ("piecewise"), InverseTimeDecay ("inverse_time"),
/// PolynomialDecay ("polynomial").

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "xdense/config.hpp"

namespace xdense {

/// The learning rate at each step.
class LearningRateSchedule {
 public:
  virtual ~LearningRateSchedule() = default;

  /// Keras's class name, the name it is registered under: "ExponentialDecay".
  virtual std::string name() const = 0;

  /// Keras's get_config(): every setting, initial_learning_rate included.
  virtual Config config() const = 0;

  /// The learning rate of the step that follows `step` completed steps (Keras's schedule(iterations):
  /// the first step uses at(0)). Finite and > 0 for every valid config... or 0 where Keras's
  /// formula reaches 0 (CosineDecay with alpha 0 at its end).
  virtual double at(std::size_t step) const = 0;
};

/// Makes a schedule from its config; InvalidArgument (a ConfigError naming the key) for a config it
/// cannot take.
using ScheduleFactory = std::function<std::unique_ptr<LearningRateSchedule>(const Config& config)>;

/// Adds schedule `name` (and `aliases`) to the registry, replacing an entry of the same name.
void register_schedule(const std::string& name, ScheduleFactory factory, const std::vector<std::string>& aliases = {});

/// The schedule registered as `name` (or an alias: "exponential", "cosine", ...), made from `config`.
std::unique_ptr<LearningRateSchedule> make_schedule(const std::string& name, const Config& config);

/// Registered (canonical) schedule names, sorted.
std::vector<std::string> schedule_names();

/// Keras 3's keras.optimizers.schedules.serialize(): {"module": "keras.optimizers.schedules",
/// "class_name": schedule.name(), "config": schedule.config(), "registered_name": null}.
Config serialize_schedule(const LearningRateSchedule& schedule);

/// Keras's deserialize(): the schedule of a serialize_schedule() object, or of Keras 2's
/// {"class_name", "config"}. "module" and "registered_name" are accepted and not used (the class
/// name finds the schedule); any other key, a missing class_name or a config the schedule refuses is
/// a ConfigError whose key is the path in the object ("config.decay_steps").
std::unique_ptr<LearningRateSchedule> deserialize_schedule(const Config& serialized);

}  // namespace xdense
