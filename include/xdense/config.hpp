#pragma once
/// \file
/// Config: how a component (layer, activation, optimizer, loss, ...) describes its settings, the
/// counterpart of Keras's get_config() dictionary. It is a JSON value (nlohmann::json): numbers,
/// strings, bools and nested arrays/objects. This header only forward-declares it; code that
/// builds or reads a Config includes <nlohmann/json.hpp>.
///
/// Every component family has one registry, which rebuilds a component from its kind name and
/// its Config:
///   layers      register_layer()      make_layer(kind, config)          (layer.hpp)
///   activations register_activation() make_activation("name(args)")    (activation.hpp)
///   optimizers  register_optimizer()  make_optimizer(name, config)      (optimizer.hpp)
///   losses      register_loss()       make_loss(name, config)           (loss.hpp)
/// Built-in components register themselves in their own .cpp; a user's class registers the same way.

#include <cstddef>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "xdense/error.hpp"

namespace xdense {

/// A component's settings: a JSON object (an empty object when there are none).
using Config = nlohmann::json;

/// What ConfigReader refuses: an InvalidArgument "<component> config: \"key\": <reason>" that also
/// carries the key and the reason, so a caller can restate it at its own path (a JSON model
/// config names "layers[1].config.units").
class ConfigError : public InvalidArgument {
 public:
  ConfigError(const std::string& component, std::string key, std::string reason)
      : InvalidArgument(component + " config: \"" + key + "\": " + reason), key_(std::move(key)), reason_(std::move(reason)) {}
  const std::string& key() const { return key_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string key_;
  std::string reason_;
};

/// Reads a factory's Config strictly, as a model file or a JSON model config needs: each getter
/// checks the value's type and range and returns the fallback when the key is absent; finish()
/// refuses any key no getter asked for, so a typo is never silently ignored. Every message is an
/// ConfigError (an InvalidArgument) "<component> config: \"key\": <what is wrong>".
///
///   ConfigReader in(config, "Dense");
///   const std::size_t units = in.positive_integer("units");       // required
///   const bool use_bias = in.boolean("use_bias", true);
///   in.finish();
class ConfigReader {
 public:
  /// Throws InvalidArgument unless `config` is an object (null counts as an empty one).
  ConfigReader(const Config& config, std::string component);
  /// The reader keeps a reference to the config: a temporary would be gone before the getters run.
  ConfigReader(Config&& config, std::string component) = delete;

  bool has(const std::string& key) const;
  /// A required integer in [1, max].
  std::size_t positive_integer(const std::string& key, std::size_t max = std::size_t{1} << 31);
  /// An optional finite number.
  double number(const std::string& key, double fallback);
  /// An optional finite number that fits a float.
  float real(const std::string& key, float fallback);
  /// An optional finite number that fits a float, or null (Keras's None): empty when absent or null.
  std::optional<float> optional_real(const std::string& key);
  bool boolean(const std::string& key, bool fallback);
  std::string text(const std::string& key, const std::string& fallback);
  /// Marks `key` as known without reading it (a Keras key xdense accepts and ignores, as "name").
  void ignore(const std::string& key);
  /// Throws InvalidArgument naming the first key no getter read, with the keys that were expected.
  void finish() const;

  /// Throws ConfigError "<component> config: \"key\": <message>", the form of every error above.
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;

 private:
  const Config& value(const std::string& key);
  const Config& config_;
  std::string component_;
  std::set<std::string> known_;
};

}  // namespace xdense
