#pragma once
// Private: the keys of a Keras layer config that are bookkeeping, not maths, read once for every
// layer factory so a Keras config can go to make_layer() as it is: "name" (ignored: xdense names
// layers from their order), "trainable" (true only: no layer can be frozen), "dtype" (float32 only,
// as a string or a Keras DTypePolicy object), and keys that must be null (a regularizer or
// constraint the layer does not support).

#include <initializer_list>

#include <nlohmann/json.hpp>

#include "xdense/config.hpp"
#include "xdense/error.hpp"

namespace xdense::detail {

/// Marks "name", "trainable" and "dtype" as read; throws ConfigError for "trainable": false or a
/// dtype other than float32.
void read_keras_layer_keys(ConfigReader& in, const Config& config);

/// Marks each of `keys` as read; throws ConfigError "... expected null (<what>), received ..." for
/// one that is present and not null.
void read_null_keys(ConfigReader& in, const Config& config, std::initializer_list<const char*> keys,
                    const char* what);

/// Reads "axis": -1 or 1 (the feature axis of rows of features), or Keras 2's one-element list of
/// it; ConfigError "expected -1 (<what>, the last axis) ..." for any other.
void read_feature_axis(ConfigReader& in, const Config& config, const char* what);

/// Reads "epsilon", a positive number (`fallback` when absent).
double read_epsilon(ConfigReader& in, const Config& config, double fallback);

/// The Keras identifier at `key` (an InitializerSpec, a RegularizerSpec: anything with a static
/// from_config()), or `fallback` when the key is absent; a refused identifier's message restated
/// as a ConfigError at the key.
template <typename Spec>
Spec read_spec(ConfigReader& in, const Config& config, const char* key, Spec fallback) {
  in.ignore(key);
  if (!config.contains(key)) return fallback;
  try {
    return Spec::from_config(config.at(key));
  } catch (const InvalidArgument& e) {
    in.fail(key, e.what());
  }
}

}  // namespace xdense::detail
