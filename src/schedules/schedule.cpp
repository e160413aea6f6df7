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

}  // namespace xdense
