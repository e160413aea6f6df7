#include "xdense/config.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include <nlohmann/json.hpp>

#include "xdense/error.hpp"

namespace xdense {
namespace {

std::string shown(const Config& value) { return quote_value(value.dump()); }

const Config& empty_object() {
  static const Config empty = Config::object();
  return empty;
}

}  // namespace

ConfigReader::ConfigReader(const Config& config, std::string component)
    : config_(config.is_null() ? empty_object() : config), component_(std::move(component)) {
  if (!config_.is_object()) {
    throw InvalidArgument(component_ + " config: expected a JSON object, received " + shown(config_));
  }
}

void ConfigReader::fail(const std::string& key, const std::string& message) const {
  throw ConfigError(component_, key, message);
}

bool ConfigReader::has(const std::string& key) const { return config_.contains(key); }

const Config& ConfigReader::value(const std::string& key) {
  known_.insert(key);
  return config_.at(key);
}

std::size_t ConfigReader::positive_integer(const std::string& key, std::size_t max) {
  known_.insert(key);
  if (!has(key)) fail(key, "missing (expected a positive integer)");
  const Config& v = value(key);
  const bool integer = v.is_number_unsigned() || (v.is_number_integer() && v.get<long long>() > 0);
  if (!integer || v.get<unsigned long long>() == 0 || v.get<unsigned long long>() > max) {
    fail(key, "expected a positive integer of at most " + std::to_string(max) + ", received " + shown(v));
  }
  return static_cast<std::size_t>(v.get<unsigned long long>());
}

double ConfigReader::number(const std::string& key, double fallback) {
  known_.insert(key);
  if (!has(key)) return fallback;
  const Config& v = value(key);
  if (!v.is_number() || !std::isfinite(v.get<double>())) fail(key, "expected a finite number, received " + shown(v));
  return v.get<double>();
}

float ConfigReader::real(const std::string& key, float fallback) {
  const double v = number(key, fallback);
  if (std::abs(v) > std::numeric_limits<float>::max()) {
    fail(key, "received " + shown(config_.at(key)) + ", beyond the float range (magnitude up to 3.4e38)");
  }
  return static_cast<float>(v);
}

std::optional<float> ConfigReader::optional_real(const std::string& key) {
  known_.insert(key);
  if (!has(key) || config_.at(key).is_null()) return std::nullopt;
  return real(key, 0.0f);
}

bool ConfigReader::boolean(const std::string& key, bool fallback) {
  known_.insert(key);
  if (!has(key)) return fallback;
  const Config& v = value(key);
  if (!v.is_boolean()) fail(key, "expected true or false, received " + shown(v));
  return v.get<bool>();
}

std::string ConfigReader::text(const std::string& key, const std::string& fallback) {
  known_.insert(key);
  if (!has(key)) return fallback;
  const Config& v = value(key);
  if (!v.is_string()) fail(key, "expected a string, received " + shown(v));
  return v.get<std::string>();
}

void ConfigReader::ignore(const std::string& key) { known_.insert(key); }

void ConfigReader::finish() const {
  for (auto it = config_.begin(); it != config_.end(); ++it) {
    if (!known_.count(it.key())) {
      fail(it.key(), "unknown key (expected one of: " +
                         name_list(std::vector<std::string>(known_.begin(), known_.end())) + ")");
    }
  }
}

}  // namespace xdense
