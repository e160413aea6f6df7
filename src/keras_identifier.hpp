#pragma once
// Private: Keras's way of naming a configured object (an initializer, a regularizer) inside a layer
// config, read and written once for every family: a registered name ("he_normal", "l2") or an object
// {"class_name": "HeNormal", "config": {...}, "module": "keras.initializers", "registered_name": null}
// (Keras 3; Keras 2 writes only class_name and config).

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "xdense/config.hpp"

namespace xdense::detail {

struct KerasIdentifier {
  std::string name;  // the name or class_name
  Config config;     // the object's "config" (an empty object for a name)
};

/// Reads `identifier`; throws InvalidArgument "<family>: expected ..." for anything else (a number,
/// an object without a string class_name, a config that is not an object, an unknown key).
KerasIdentifier read_keras_identifier(const Config& identifier, const std::string& family);

/// What read_keras_identifier() reads back as (name, config): the bare name when `config` equals
/// `defaults()`, the settings of the component made by name alone (how Keras spells a default-argument
/// object, and how xdense wrote them before), else {"class_name": name, "config": config}, also when
/// `defaults` throws InvalidArgument (a component with a required setting).
Config write_keras_identifier(const std::string& name, const Config& config, const std::function<Config()>& defaults);

}  // namespace xdense::detail
