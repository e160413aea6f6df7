#include "schedule_spec.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "xdense/error.hpp"

namespace xdense::cli {
namespace {

enum class Kind { number, boolean, list };

struct Key {
  const char* name;
  Kind kind;
};

/// A built-in schedule as SPEC writes it: its short name, class name, keys (initial_learning_rate
/// last: it defaults to --lr) and its usual form for messages and help.
struct SpecForm {
  const char* alias;
  const char* class_name;
  std::vector<Key> keys;
  const char* usage;
};

const std::vector<SpecForm>& forms() {
  static const std::vector<SpecForm> all = {
      {"exponential", "ExponentialDecay",
       {{"decay_steps", Kind::number}, {"decay_rate", Kind::number}, {"staircase", Kind::boolean},
        {"initial_learning_rate", Kind::number}},
       "exponential:decay_steps=N,decay_rate=R[,staircase=1]"},
      {"cosine", "CosineDecay",
       {{"decay_steps", Kind::number}, {"alpha", Kind::number}, {"warmup_steps", Kind::number},
        {"warmup_target", Kind::number}, {"initial_learning_rate", Kind::number}},
       "cosine:decay_steps=N[,alpha=A][,warmup_steps=W,warmup_target=T]"},
      {"piecewise", "PiecewiseConstantDecay", {{"boundaries", Kind::list}, {"values", Kind::list}},
       "piecewise:boundaries=B1/B2,values=V1/V2/V3"},
      {"inverse_time", "InverseTimeDecay",
       {{"decay_steps", Kind::number}, {"decay_rate", Kind::number}, {"staircase", Kind::boolean},
        {"initial_learning_rate", Kind::number}},
       "inverse_time:decay_steps=N,decay_rate=R[,staircase=1]"},
      {"polynomial", "PolynomialDecay",
       {{"decay_steps", Kind::number}, {"end_learning_rate", Kind::number}, {"power", Kind::number},
        {"cycle", Kind::boolean}, {"initial_learning_rate", Kind::number}},
       "polynomial:decay_steps=N[,end_learning_rate=E,power=P,cycle=1]"},
  };
  return all;
}

const SpecForm* form_of(const std::string& name) {
  for (const SpecForm& form : forms()) {
    if (name == form.alias || name == form.class_name) return &form;
  }
  return nullptr;
}

std::string keys_of(const SpecForm* form) {
  if (!form) return "";
  std::vector<std::string> names;
  for (const Key& key : form->keys) names.push_back(key.name);
  return " (" + std::string(form->alias) + " keys: " + name_list(names) + ")";
}

InvalidArgument refusal(const std::string& what) { return InvalidArgument("--lr-schedule: " + what); }

/// A number of SPEC: an integer literal as an integer (decay_steps=1000 stays 1000 in the config),
/// anything else strtod reads whole and finite as a double; empty when the text is not a number.
std::optional<Config> number_of(const std::string& text) {
  if (text.empty() || text.find_first_not_of("0123456789+-.eE") != std::string::npos) return std::nullopt;
  const bool integer = text.find_first_not_of("0123456789", text[0] == '-' || text[0] == '+' ? 1 : 0) ==
                       std::string::npos && text.size() <= 15;
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(value) || errno == ERANGE) return std::nullopt;
  if (integer) return Config(static_cast<long long>(value));
  return Config(value);
}

/// A value of a key the schedule's form knows: a number, a boolean (1/0/true/false) or a '/' list.
Config value_of(const std::string& key, Kind kind, const std::string& text, const SpecForm* form) {
  const auto bad = [&](const std::string& expected) {
    return refusal(key + ": expected " + expected + ", received " + quote_value(text) + keys_of(form));
  };
  switch (kind) {
    case Kind::boolean:
      if (text == "1" || text == "true") return true;
      if (text == "0" || text == "false") return false;
      throw bad("1 or 0 (true or false)");
    case Kind::list: {
      Config list = Config::array();
      std::size_t start = 0;
      for (;;) {
        const std::size_t slash = text.find('/', start);
        const std::optional<Config> item = number_of(trim(text.substr(start, slash - start)));
        if (!item) throw bad("numbers separated by '/', e.g. 1000/2000");
        list.push_back(*item);
        if (slash == std::string::npos) return list;
        start = slash + 1;
      }
    }
    case Kind::number:
      break;
  }
  const std::optional<Config> number = number_of(text);
  if (!number) throw bad("a number");
  return *number;
}

/// A value for a schedule SPEC has no form of (a user's registered one): true/false, a '/' list or
/// a number, else the text; its factory checks it.
Config guessed_value(const std::string& text) {
  if (text == "true" || text == "false") return text == "true";
  if (text.find('/') != std::string::npos) return value_of("", Kind::list, text, nullptr);
  if (const std::optional<Config> number = number_of(text)) return *number;
  return text;
}

/// `rate` as typed when it is a float widened (the optimizer's --lr): the shortest decimal that reads
/// back as that float, as a double.
double as_typed(double rate) {
  const float single = static_cast<float>(rate);
  if (static_cast<double>(single) != rate) return rate;
  char text[32];
  for (int digits = 1; digits <= 9; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, rate);
    if (std::strtof(text, nullptr) == single) return std::strtod(text, nullptr);
  }
  return rate;
}

}  // namespace

std::string schedule_spec_forms() {
  std::string text;
  for (const SpecForm& form : forms()) text += std::string(form.usage) + "\n";
  return text;
}

std::shared_ptr<const LearningRateSchedule> parse_schedule_spec(const std::string& spec, double initial_learning_rate) {
  const std::size_t colon = spec.find(':');
  const std::string name = trim(spec.substr(0, colon));
  std::vector<std::string> aliases;
  for (const SpecForm& f : forms()) aliases.push_back(f.alias);
  if (name.empty()) {
    throw refusal("expected NAME:key=value,..., e.g. exponential:decay_steps=1000,decay_rate=0.9 (NAME one of: " +
           name_list(aliases) + "), received " + quote_value(spec));
  }
  const std::vector<std::string> registered = schedule_names();
  const SpecForm* form = form_of(name);
  if (!form && std::find(registered.begin(), registered.end(), name) == registered.end()) {
    std::vector<std::string> others;  // registered by a user: their class names
    for (const std::string& r : registered) {
      if (!form_of(r)) others.push_back(r);
    }
    aliases.insert(aliases.end(), others.begin(), others.end());
    throw refusal("unknown schedule " + quote_value(name) + " (expected one of: " + name_list(aliases) +
           ", or a Keras class name such as ExponentialDecay)");
  }
  Config config = Config::object();
  const std::string items = colon == std::string::npos ? "" : spec.substr(colon + 1);
  std::size_t start = 0;
  while (colon != std::string::npos && start <= items.size()) {
    const std::size_t comma = std::min(items.find(',', start), items.size());
    const std::string item = trim(items.substr(start, comma - start));
    start = comma + 1;
    const std::size_t equals = item.find('=');
    const std::string key = trim(item.substr(0, equals));
    const std::string text = equals == std::string::npos ? "" : trim(item.substr(equals + 1));
    if (equals == std::string::npos || key.empty() || text.empty()) {
      throw refusal("expected key=value, received " + quote_value(item) + keys_of(form));
    }
    if (config.contains(key)) throw refusal(key + " is given twice" + keys_of(form));
    if (!form) {
      config[key] = guessed_value(text);
      continue;
    }
    const auto known = std::find_if(form->keys.begin(), form->keys.end(), [&](const Key& k) { return key == k.name; });
    if (known == form->keys.end()) throw refusal(std::string(form->alias) + " has no key " + quote_value(key) + keys_of(form));
    config[key] = value_of(key, known->kind, text, form);
  }
  if (form && !config.contains("initial_learning_rate") &&
      std::any_of(form->keys.begin(), form->keys.end(),
                  [](const Key& k) { return std::string(k.name) == "initial_learning_rate"; })) {
    config["initial_learning_rate"] = as_typed(initial_learning_rate);
  }
  try {
    return make_schedule(form ? form->class_name : name, config);
  } catch (const ConfigError& e) {
    throw refusal(e.key() + ": " + e.reason() + keys_of(form));
  } catch (const InvalidArgument& e) {  // a user's factory may refuse without naming a key
    throw refusal(name + ": " + e.what());
  }
}

}  // namespace xdense::cli
