#include "xdense/activation.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <mutex>

#include <nlohmann/json.hpp>

#include "xdense/error.hpp"

namespace xdense {

// ---------------------------------------------------------------- Activation

void Activation::build(std::size_t input_units, Rng& /*rng*/) {
  if (input_units == 0) throw InvalidArgument(type_name() + ": expected a positive number of inputs, received 0");
  units_ = input_units;
  output_.reserve(0, units_);
  input_gradient_.reserve(0, units_);
}

void Activation::reserve(std::size_t rows) {
  output_.reserve(rows, units_);
  input_gradient_.reserve(rows, units_);
}

ConstMatrixView Activation::forward(ConstMatrixView x) {
  if (!built()) throw StateError(type_name() + ": forward() called before build()");
  check_columns(x, units_);
  input_ = x;
  MatrixView y = output_.view(x.rows);
  activate(x, y);
  return y;
}

ConstMatrixView Activation::backward(ConstMatrixView dy, bool need_input_gradient) {
  if (!built()) throw StateError(type_name() + ": backward() called before build()");
  if (dy.rows != input_.rows || dy.cols != units_) {
    throw ShapeError(type_name() + "::backward: expected dL/dy of shape " + shape_string(input_.rows, units_) +
                     ", received " + shape_string(dy.rows, dy.cols));
  }
  if (!need_input_gradient) return {};
  MatrixView dx = input_gradient_.view(dy.rows);
  const ConstMatrixView y{output_.view(dy.rows)};
  derivative(input_, y, dy, dx);
  return dx;
}

Config Activation::config() const { return {{"activation", spec()}}; }

void ElementwiseActivation::activate(ConstMatrixView x, MatrixView y) const {
  const std::size_t n = x.size();
  for (std::size_t i = 0; i < n; ++i) y.data[i] = value(x.data[i]);
}

void ElementwiseActivation::derivative(ConstMatrixView x, ConstMatrixView y, ConstMatrixView dy, MatrixView dx) const {
  const std::size_t n = x.size();
  for (std::size_t i = 0; i < n; ++i) dx.data[i] = dy.data[i] * gradient(x.data[i], y.data[i]);
}

// ---------------------------------------------------------------- registry

namespace {

struct Registry {
  std::mutex mutex;
  std::map<std::string, ActivationFactory> factories;  // canonical name -> factory
  std::map<std::string, std::string> aliases;          // alias -> canonical name
  // Canonical name -> an example of its arguments ("" for none), for the message about empty
  // brackets; only for activations registered with one (register_activation's last argument).
  std::map<std::string, std::string> example_arguments;
};

std::string lowercase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

void add(Registry& r, const std::string& name, ActivationFactory factory, const std::vector<std::string>& aliases) {
  r.factories[name] = std::move(factory);
  r.aliases[name] = name;
  for (const auto& alias : aliases) r.aliases[lowercase(alias)] = name;
}

Registry& registry() {
  // Function-local static: built on first use, so registration order across
  // translation units does not matter.
  static Registry r;
  return r;
}

std::unique_ptr<Layer> activation_layer_from_config(const Config& config) {
  ConfigReader in(config, "Activation");
  if (!in.has("activation")) in.fail("activation", "missing (expected a name such as \"relu\")");
  const std::string spec = in.text("activation", "");
  in.ignore("name");
  in.finish();
  return make_activation(spec);
}

const bool registered = (register_layer("Activation", activation_layer_from_config), true);

}  // namespace

void expect_no_activation_arguments(const std::string& name, const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::string received;
    for (const auto& a : args) received += (received.empty() ? "" : ", ") + a;
    throw InvalidArgument("activation '" + name + "' takes no arguments, received '" + name + "(" + received + ")'");
  }
}

void register_activation(const std::string& name, ActivationFactory factory, const std::vector<std::string>& aliases,
                         const std::optional<std::string>& example_arguments) {
  const std::string canonical = lowercase(trim(name));
  if (canonical.empty() || canonical.find_first_of("(), ") != std::string::npos) {
    throw InvalidArgument("register_activation: expected a name without spaces or parentheses, received '" + name +
                          "'");
  }
  if (!factory) throw InvalidArgument("register_activation: empty factory for '" + name + "'");
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  add(r, canonical, std::move(factory), aliases);
  if (example_arguments) {
    r.example_arguments[canonical] = *example_arguments;
  } else {
    r.example_arguments.erase(canonical);  // a replaced entry's arguments are no longer known
  }
}

std::vector<std::string> activation_names() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::vector<std::string> names;
  for (const auto& entry : r.factories) names.push_back(entry.first);
  return names;
}

float parse_activation_argument(const std::string& activation, const std::string& text) {
  const std::string t = trim(text);
  char* end = nullptr;
  const double value = std::strtod(t.c_str(), &end);
  const bool whole = !t.empty() && end == t.c_str() + t.size();
  // Decimal notation only: strtod also reads "nan", "inf" and hexadecimal.
  if (!whole || t.find_first_not_of("0123456789+-.eE") != std::string::npos) {
    const char* expected = whole && !std::isfinite(value) ? "a finite number" : "a number";
    throw InvalidArgument("activation '" + activation + "': expected " + expected + ", received '" + text + "'");
  }
  if (std::abs(value) > std::numeric_limits<float>::max()) {
    throw InvalidArgument("activation '" + activation + "': received '" + text +
                          "', beyond the float range (magnitude up to 3.4e38)");
  }
  return static_cast<float>(value);
}

std::unique_ptr<Activation> make_activation(const std::string& spec) {
  const std::string text = trim(spec);
  std::string name = text;
  std::vector<std::string> args;
  bool empty_brackets = false;
  const auto open = text.find('('), close = text.find(')');
  if (open != std::string::npos || close != std::string::npos) {
    const auto bad = [&](const std::string& what) {
      return InvalidArgument("activation '" + text + "': " + what + "; expected name or name(arguments)");
    };
    if (close == std::string::npos) throw bad("missing ')'");
    if (open == std::string::npos || close < open) throw bad("')' without '('");
    if (text.find('(', open + 1) < close) throw bad("a second '(' inside the brackets");
    if (close + 1 != text.size()) throw bad("unexpected '" + text.substr(close + 1) + "' after ')'");
    name = trim(text.substr(0, open));
    const std::string inside = text.substr(open + 1, close - open - 1);
    empty_brackets = trim(inside).empty();
    for (std::size_t start = 0; !empty_brackets;) {
      const auto comma = inside.find(',', start);
      args.push_back(trim(inside.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
      if (args.back().empty()) {
        throw bad("argument " + std::to_string(args.size()) + " is empty");
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  const std::string written = name;
  name = lowercase(name);
  Registry& r = registry();
  ActivationFactory factory;
  std::string canonical;
  std::optional<std::string> example;  // copied under the lock: a registration may change the map
  {
    std::lock_guard<std::mutex> lock(r.mutex);
    const auto alias = r.aliases.find(name);
    if (alias != r.aliases.end()) {
      canonical = alias->second;
      factory = r.factories.at(canonical);
      const auto found = r.example_arguments.find(canonical);
      if (found != r.example_arguments.end()) example = found->second;
    }
  }
  if (!factory) {
    std::string known;
    for (const auto& n : activation_names()) known += (known.empty() ? "" : ", ") + n;
    throw InvalidArgument("unknown activation '" + spec + "' (expected one of: " + known + ")");
  }
  if (empty_brackets) {
    // "leaky_relu()" is most likely a forgotten argument: no silent default.
    std::string advice = "write " + written;
    if (!example) advice += ", or put the arguments inside the brackets";
    else if (!example->empty()) advice += " or " + written + "(" + *example + ")";
    throw InvalidArgument("activation '" + text + "': empty brackets; " + advice);
  }
  return factory(args);
}

}  // namespace xdense
