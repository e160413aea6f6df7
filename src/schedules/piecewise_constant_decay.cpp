#include "xdense/schedules/piecewise_constant_decay.hpp"

#include <cmath>
#include <memory>

#include <nlohmann/json.hpp>

#include "schedule_support.hpp"

namespace xdense {

PiecewiseConstantDecay::PiecewiseConstantDecay(PiecewiseConstantDecayOptions options) : options_(std::move(options)) {
  const auto& boundaries = options_.boundaries;
  const auto& values = options_.values;
  if (boundaries.empty()) throw ConfigError(name(), "boundaries", "expected at least one boundary, received []");
  for (std::size_t i = 1; i < boundaries.size(); ++i) {
    if (boundaries[i] <= boundaries[i - 1]) {
      throw ConfigError(name(), "boundaries",
                        "expected strictly increasing step counts, received " + Config(boundaries).dump());
    }
  }
  if (values.size() != boundaries.size() + 1) {
    throw ConfigError(name(), "values",
                      "expected one more value than boundaries (" + std::to_string(boundaries.size() + 1) +
                          "), received " + std::to_string(values.size()) + ": " + Config(values).dump());
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    detail::check_schedule_setting(name(), "values[" + std::to_string(i) + "]", values[i],
                                   detail::ScheduleRange::non_negative);
  }
}

// Keras sums value_i [low_i < step <= high_i] over the intervals: the value of the only interval
// that holds the step.
double PiecewiseConstantDecay::at(std::size_t step) const {
  std::size_t interval = 0;
  while (interval < options_.boundaries.size() && step > options_.boundaries[interval]) ++interval;
  return static_cast<float>(options_.values[interval]);
}

Config PiecewiseConstantDecay::config() const {
  return {{"boundaries", options_.boundaries}, {"values", options_.values}};
}

namespace {

// A required list of numbers (a JSON array).
const Config& list_of(const Config& config, ConfigReader& in, const std::string& key) {
  in.ignore(key);
  if (!in.has(key)) in.fail(key, "missing (expected a list of numbers)");
  const Config& list = config.at(key);
  if (!list.is_array()) in.fail(key, "expected a list of numbers, received " + quote_value(list.dump()));
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_number()) {
      in.fail(key, "expected a list of numbers, item " + std::to_string(i) + " is " + quote_value(list[i].dump()));
    }
  }
  return list;
}

std::unique_ptr<LearningRateSchedule> piecewise_constant_decay_from_config(const Config& config) {
  ConfigReader in(config, "PiecewiseConstantDecay");
  PiecewiseConstantDecayOptions options;
  for (const Config& b : list_of(config, in, "boundaries")) {
    // Keras casts the boundaries to the step's integer type; a fractional one is refused, not truncated.
    const double v = b.get<double>();
    if (!(v >= 0.0 && v == std::floor(v) && v < 9007199254740992.0)) {
      in.fail("boundaries", "expected whole step counts >= 0, received " + quote_value(b.dump()));
    }
    options.boundaries.push_back(static_cast<std::uint64_t>(v));
  }
  for (const Config& v : list_of(config, in, "values")) options.values.push_back(v.get<double>());
  in.ignore("name");
  in.finish();
  return std::make_unique<PiecewiseConstantDecay>(std::move(options));
}

const bool registered =
    (register_schedule("PiecewiseConstantDecay", piecewise_constant_decay_from_config, {"piecewise"}), true);

}  // namespace
}  // namespace xdense
