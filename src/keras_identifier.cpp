#include "keras_identifier.hpp"

#include "xdense/error.hpp"

namespace xdense::detail {

KerasIdentifier read_keras_identifier(const Config& identifier, const std::string& family) {
  if (identifier.is_string()) return {identifier.get<std::string>(), Config::object()};
  const auto expected = [&] {
    return family + ": expected a name or an object {\"class_name\": ..., \"config\": {...}}, received " +
           quote_value(identifier.dump());
  };
  if (!identifier.is_object()) throw InvalidArgument(expected());
  const auto class_name = identifier.find("class_name");
  if (class_name == identifier.end() || !class_name->is_string()) throw InvalidArgument(expected());
  KerasIdentifier result{class_name->get<std::string>(), Config::object()};
  for (const auto& [key, value] : identifier.items()) {
    if (key == "class_name") continue;
    if (key == "config") {
      if (!value.is_null() && !value.is_object()) {
        throw InvalidArgument(family + " " + quote_value(result.name) + ": expected \"config\" to be an object, received " +
                              quote_value(value.dump()));
      }
      if (value.is_object()) result.config = value;
    } else if (key == "module" || key == "registered_name") {
      // Where Keras 3 found the class: says nothing about the maths.
      if (!value.is_null() && !value.is_string()) {
        throw InvalidArgument(family + " " + quote_value(result.name) + ": expected \"" + key +
                              "\" to be a string or null, received " + quote_value(value.dump()));
      }
    } else {
      throw InvalidArgument(family + " " + quote_value(result.name) + ": unknown key " + quote_value(key) +
                            " (expected class_name, config, module, registered_name)");
    }
  }
  return result;
}

Config write_keras_identifier(const std::string& name, const Config& config, const std::function<Config()>& defaults) {
  bool default_settings = false;
  try {
    default_settings = config == defaults();
  } catch (const InvalidArgument&) {
    // made by name alone it is refused: its settings are never the defaults
  }
  if (default_settings) return name;
  return {{"class_name", name}, {"config", config}};
}

}  // namespace xdense::detail
