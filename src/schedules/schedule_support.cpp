#include "schedule_support.hpp"

#include <cmath>
#include <cstdint>
#include <limits>

#include <nlohmann/json.hpp>

namespace xdense::detail {

void check_schedule_setting(const std::string& who, const std::string& key, double value, ScheduleRange range) {
  const bool finite = std::isfinite(value) && std::abs(value) <= std::numeric_limits<float>::max();
  bool ok = finite;
  const char* expected = "a finite number";
  switch (range) {
    case ScheduleRange::any:
      break;
    case ScheduleRange::non_negative:
      ok = finite && value >= 0.0;
      expected = "a finite number >= 0";
      break;
    case ScheduleRange::positive:
      ok = finite && value > 0.0;
      expected = "a finite number > 0";
      break;
    case ScheduleRange::unit_interval:
      ok = finite && value >= 0.0 && value <= 1.0;
      expected = "a number in [0, 1]";
      break;
  }
  if (!ok) throw ConfigError(who, key, std::string("expected ") + expected + ", received " + number_value(value).dump());
}

double required_number(ConfigReader& in, const std::string& key) {
  if (!in.has(key)) in.fail(key, "missing (expected a number)");
  return in.number(key, 0.0);
}

Config number_value(double value) {
  constexpr double limit = 9007199254740992.0;  // 2^53: every integer below is a double exactly
  if (value == std::floor(value) && std::abs(value) < limit) return static_cast<std::int64_t>(value);
  return value;
}

}  // namespace xdense::detail
