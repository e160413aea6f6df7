#include "xdense/schedule.hpp"

#include <nlohmann/json.hpp>

#include "../registry.hpp"
#include "xdense/error.hpp"

namespace xdense {
namespace {

detail::Registry<ScheduleFactory>& schedules() {
  static detail::Registry<ScheduleFactory> registry("learning-rate schedule");
  return registry;
}

}  // namespace

void register_schedule(const std::string& name, ScheduleFactory factory, const std::vector<std::string>& aliases) {
  schedules().add(name, std::move(factory), aliases);
}

std::vector<std::string> schedule_names() { return schedules().names(); }

std::unique_ptr<LearningRateSchedule> make_schedule(const std::string& name, const Config& config) {
  auto schedule = schedules().find(name).second(config);
  if (!schedule) throw InvalidArgument("make_schedule: the factory of " + quote_value(name) + " returned null");
  return schedule;
}

Config serialize_schedule(const LearningRateSchedule& schedule) {
  return {{"module", "keras.optimizers.schedules"},
          {"class_name", schedule.name()},
          {"config", schedule.config()},
          {"registered_name", nullptr}};
}

std::unique_ptr<LearningRateSchedule> deserialize_schedule(const Config& serialized) {
  ConfigReader in(serialized, "learning-rate schedule");
  if (!in.has("class_name")) {
    in.fail("class_name", "missing (expected the class name of a schedule, one of: " + name_list(schedule_names()) + ")");
  }
  const std::string class_name = in.text("class_name", "");
  in.text("module", "");
  if (in.has("registered_name") && !serialized.at("registered_name").is_null()) in.text("registered_name", "");
  in.ignore("registered_name");
  in.ignore("config");
  in.finish();
  const Config config = serialized.contains("config") ? serialized.at("config") : Config::object();
  if (!config.is_object() && !config.is_null()) {
    in.fail("config", "expected a JSON object, received " + quote_value(config.dump()));
  }
  try {
    schedules().find(class_name);
  } catch (const InvalidArgument& e) {
    in.fail("class_name", e.what());
  }
  try {
    return make_schedule(class_name, config);
  } catch (const ConfigError& e) {
    throw ConfigError("learning-rate schedule " + class_name, "config." + e.key(), e.reason());
  }
}

}  // namespace xdense
