#include "xdense/initializer.hpp"

#include <ostream>

#include <nlohmann/json.hpp>

#include "initializers/builtin_initializers.hpp"
#include "keras_identifier.hpp"
#include "registry.hpp"
#include "xdense/error.hpp"

namespace xdense {
namespace {

detail::Registry<InitializerFactory>& initializers() {
  static detail::Registry<InitializerFactory>& registry = *[] {
    auto* made = new detail::Registry<InitializerFactory>("initializer");  // lives as long as the program
    detail::add_builtin_initializers(*made);
    return made;
  }();
  return registry;
}

// The registry's lookup, with every known name in the message (there are more than it lists).
InitializerFactory find_initializer(const std::string& name) {
  try {
    return initializers().find(name).second;
  } catch (const InvalidArgument&) {
    throw InvalidArgument("unknown initializer " + quote_value(name) + " (expected one of: " +
                          name_list(initializers().names(), 100) + ", or a Keras class name such as GlorotUniform)");
  }
}

}  // namespace

Config Initializer::config() const { return Config::object(); }

void register_initializer(const std::string& name, InitializerFactory factory, const std::vector<std::string>& aliases) {
  initializers().add(name, std::move(factory), aliases);
}

std::unique_ptr<Initializer> make_initializer(const std::string& name, const Config& config) {
  const InitializerFactory factory = find_initializer(name);
  std::unique_ptr<Initializer> initializer = factory(config.is_null() ? Config::object() : config);
  if (!initializer) throw InvalidArgument("make_initializer: the factory of " + quote_value(name) + " returned null");
  return initializer;
}

std::unique_ptr<Initializer> make_initializer(const std::string& name) { return make_initializer(name, Config::object()); }

std::vector<std::string> initializer_names() { return initializers().names(); }

InitializerSpec::InitializerSpec(const char* name) : InitializerSpec(std::string(name)) {}

InitializerSpec::InitializerSpec(const std::string& name) : initializer_(make_initializer(name)) {}

InitializerSpec::InitializerSpec(std::shared_ptr<const Initializer> initializer) : initializer_(std::move(initializer)) {
  if (!initializer_) throw InvalidArgument("InitializerSpec: expected an initializer, received null");
}

InitializerSpec InitializerSpec::from_config(const Config& identifier) {
  const detail::KerasIdentifier read = detail::read_keras_identifier(identifier, "initializer");
  return InitializerSpec(make_initializer(read.name, read.config));
}

Config InitializerSpec::to_config() const {
  const std::string name = initializer_->name();
  return detail::write_keras_identifier(name, initializer_->config(), [&] { return make_initializer(name)->config(); });
}

bool operator==(const InitializerSpec& a, const InitializerSpec& b) {
  return a.initializer_ == b.initializer_ || a.to_config() == b.to_config();
}

std::ostream& operator<<(std::ostream& out, const InitializerSpec& spec) { return out << spec.to_config().dump(); }

void check_initializer(const std::string& name) { find_initializer(name); }

void initialize(const std::string& name, float* values, std::size_t count, std::size_t fan_in, std::size_t fan_out,
                Rng& rng) {
  make_initializer(name)->fill(values, count, fan_in, fan_out, rng);
}

}  // namespace xdense
