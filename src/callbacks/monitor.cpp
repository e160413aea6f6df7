#include "monitor.hpp"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <limits>

#include "xdense/error.hpp"
#include "xdense/sequential.hpp"

namespace xdense::detail {

namespace {

// Keras 3 asks each compiled metric for its direction; xdense's metrics do not carry one, so the
// direction follows from the name: the built-in metrics that rise as the model improves, and any
// name containing "acc" or "auc" (Keras 2's rule, kept for a user's "my_accuracy"). Everything else
// (loss, mse, mae, rmse, a user's metric) is minimised, where Keras 3 refuses a metric without a
// direction in mode "auto".
bool rises_when_better(const std::string& monitor) {
  const std::string name = monitor.rfind("val_", 0) == 0 ? monitor.substr(4) : monitor;
  if (name == "loss") return false;
  for (const char* up : {"precision", "recall", "f1", "macro_f1", "weighted_f1", "r2"}) {
    if (name == up) return true;
  }
  return name.find("acc") != std::string::npos || name.find("auc") != std::string::npos;
}

// What exact_number() writes for a non-finite value, read back; nullopt for anything else.
std::optional<double> non_finite(const Config& v) {
  if (v == "nan") return std::numeric_limits<double>::quiet_NaN();
  if (v == "inf") return std::numeric_limits<double>::infinity();
  if (v == "-inf") return -std::numeric_limits<double>::infinity();
  return std::nullopt;
}

}  // namespace

bool monitor_maximizes(const std::string& mode, const std::string& monitor, const std::string& who) {
  if (monitor.empty())
    throw InvalidArgument(who +
                          ": expected a value to monitor (\"val_loss\", \"loss\", \"val_auc\", ...), received ''");
  if (mode == "min") return false;
  if (mode == "max") return true;
  if (mode == "auto") return rises_when_better(monitor);
  throw InvalidArgument(who + ": mode must be \"auto\", \"min\" or \"max\", received mode=" + quote_value(mode));
}

void check_monitor(const Sequential& model, const std::string& monitor, const std::string& who) {
  std::vector<std::string> keys = {"loss"};
  for (const auto& metric : model.metrics()) keys.push_back(metric->name());
  if (model.has_accuracy() && std::find(keys.begin(), keys.end(), "accuracy") == keys.end()) keys.push_back("accuracy");
  const std::size_t training_keys = keys.size();
  for (std::size_t i = 0; i < training_keys; ++i) keys.push_back("val_" + keys[i]);
  keys.push_back("lr");
  if (monitor == "learning_rate" || std::find(keys.begin(), keys.end(), monitor) != keys.end()) return;
  throw InvalidArgument(who + ": monitor " + quote_value(monitor) +
                        " is not a value fit() logs for this model (it logs " + name_list(keys, 40) + ")");
}

std::optional<double> monitored_value(const EpochLog& log, const std::string& monitor, const std::string& who,
                                      const std::string& instead, bool& warned) {
  if (log.has(monitor)) return log.value(monitor);
  if (!warned) {
    warned = true;
    std::cerr << "warning: " << who << " monitors '" << monitor << "', which epoch " << log.epoch
              << " did not log (it logged " << name_list(log.keys(), 40) << ")"
              << (monitor.rfind("val_", 0) == 0 ? "; give fit() validation data or monitor a training value" : "")
              << "; " << instead << "\n";
  }
  return std::nullopt;
}

Config exact_number(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return value;
}

WriteOptions regular_file(const std::string& what) {
  WriteOptions options;
  options.require_regular = true;
  options.what = what;
  return options;
}

Config float_arrays_json(const std::vector<std::vector<float>>& arrays) {
  Config out = Config::array();
  for (const auto& array : arrays) {
    Config numbers = Config::array();
    for (const float v : array) numbers.push_back(exact_number(static_cast<double>(v)));
    out.push_back(std::move(numbers));
  }
  return out;
}

StateReader::StateReader(const Config& state, std::string who) : state_(state), who_(std::move(who)) {
  if (!state_.is_object()) {
    throw InvalidArgument(who_ + ": expected a state object (what state() returned), received " +
                          quote_value(state_.dump(), 80));
  }
}

const Config& StateReader::value(const std::string& key) {
  read_.push_back(key);
  const auto it = state_.find(key);
  if (it == state_.end()) throw InvalidArgument(who_ + " state: \"" + key + "\" is missing");
  return *it;
}

void StateReader::fail(const std::string& key, const std::string& expected) const {
  throw InvalidArgument(who_ + " state: \"" + key + "\": expected " + expected + ", received " +
                        quote_value(state_.at(key).dump(), 80));
}

std::size_t StateReader::count(const std::string& key) {
  const Config& v = value(key);
  if (!v.is_number_integer() || (!v.is_number_unsigned() && v.get<long long>() < 0)) fail(key, "an integer >= 0");
  return v.get<std::size_t>();
}

double StateReader::number(const std::string& key) {
  const Config& v = value(key);
  if (v.is_number()) return v.get<double>();
  if (const auto special = non_finite(v)) return *special;
  fail(key, "a number, \"nan\", \"inf\" or \"-inf\"");
}

std::optional<double> StateReader::optional_number(const std::string& key) {
  if (value(key).is_null()) return std::nullopt;
  return number(key);
}

bool StateReader::boolean(const std::string& key) {
  const Config& v = value(key);
  if (!v.is_boolean()) fail(key, "true or false");
  return v.get<bool>();
}

std::string StateReader::text(const std::string& key) {
  const Config& v = value(key);
  if (!v.is_string()) fail(key, "a string");
  return v.get<std::string>();
}

std::vector<std::vector<float>> StateReader::float_arrays(const std::string& key) {
  const Config& v = value(key);
  if (v.is_null()) return {};
  if (!v.is_array()) fail(key, "arrays of numbers");
  std::vector<std::vector<float>> arrays;
  arrays.reserve(v.size());
  for (const Config& array : v) {
    if (!array.is_array()) fail(key, "arrays of numbers");
    std::vector<float> floats;
    floats.reserve(array.size());
    for (const Config& number : array) {
      // Each number was written from a float: it must read back as that float exactly.
      const double d = non_finite(number).value_or(number.is_number() ? number.get<double>() : 0.5);
      const float f = static_cast<float>(d);
      const bool exact = static_cast<double>(f) == d || std::isnan(d);
      if (!(number.is_number() || non_finite(number)) || !exact) fail(key, "arrays of float values");
      floats.push_back(f);
    }
    arrays.push_back(std::move(floats));
  }
  return arrays;
}

void StateReader::expect_monitor(const std::string& monitor) {
  const std::string stored = text("monitor");
  if (stored != monitor) {
    throw InvalidArgument(who_ + " state: it was saved by a callback monitoring " + quote_value(stored) +
                          ", this one monitors " + quote_value(monitor));
  }
}

void StateReader::finish() const {
  for (const auto& item : state_.items()) {
    if (std::find(read_.begin(), read_.end(), item.key()) == read_.end()) {
      throw InvalidArgument(who_ + " state: unknown key \"" + item.key() + "\" (expected " + name_list(read_) + ")");
    }
  }
}

}  // namespace xdense::detail
