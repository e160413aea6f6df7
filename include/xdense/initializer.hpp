#pragma once
/// \file
/// Weight initializers: how a layer fills its arrays at build(), with Keras's names, defaults and
/// formulas (docs/reference/initializers.md has each one's formula):
///   zeros, ones, constant(value=0)                                      (zeros: default bias)
///   random_normal(mean=0, stddev=0.05), random_uniform(minval=-0.05, maxval=0.05),
///   truncated_normal(mean=0, stddev=0.05)
///   variance_scaling(scale=1, mode="fan_in", distribution="truncated_normal"), and its fixed forms
///     glorot_uniform (default kernel), glorot_normal, he_uniform, he_normal, lecun_uniform, lecun_normal
///   orthogonal(gain=1)
///   pytorch: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), torch.nn.Linear's default for its weight and bias
/// Keras's class names (GlorotUniform, RandomNormal, ...) are aliases of these names. Every random
/// initializer takes a "seed": null (the default) draws from the model's generator, an integer gives
/// the initializer its own, so it fills the same values on every call (as a seeded Keras initializer).

#include <cstddef>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "xdense/config.hpp"

namespace xdense {

class Rng;

/// Fills a weight array when a layer is built. Implementations are immutable once made.
class Initializer {
 public:
  virtual ~Initializer() = default;

  /// The name it is registered under: "glorot_uniform", "random_normal".
  virtual std::string name() const = 0;

  /// The settings make_initializer(name(), config()) rebuilds it from, with Keras's keys:
  /// {"mean": 0.0, "stddev": 0.05, "seed": null}. Defaults to an empty object.
  virtual Config config() const;

  /// Fills values[0..count) for a weight with `fan_in` inputs and `fan_out` outputs (a Dense kernel
  /// (fan_in, fan_out) has count = fan_in * fan_out; its bias gets the kernel's fans), drawing from
  /// `rng` unless the initializer has its own seed. Throws InvalidArgument for a weight it cannot fill.
  virtual void fill(float* values, std::size_t count, std::size_t fan_in, std::size_t fan_out, Rng& rng) const = 0;
};

/// Makes an initializer from its config; throws InvalidArgument for a config it cannot take.
using InitializerFactory = std::function<std::unique_ptr<Initializer>(const Config& config)>;

/// Adds initializer `name` (and `aliases`, such as a Keras class name) to the registry, replacing an
/// entry of the same name. The built-ins are there before any call.
void register_initializer(const std::string& name, InitializerFactory factory,
                          const std::vector<std::string>& aliases = {});

/// The initializer registered as `name` (or an alias: "he_normal", "HeNormal"), made from `config`
/// (null or absent: the defaults). Throws InvalidArgument naming the known initializers for an
/// unknown name, and whatever the factory throws for a bad config.
std::unique_ptr<Initializer> make_initializer(const std::string& name, const Config& config);
std::unique_ptr<Initializer> make_initializer(const std::string& name);

/// Registered initializer names (not aliases), sorted.
std::vector<std::string> initializer_names();

/// An initializer held by value, as DenseOptions holds its two: made from a registered name
/// (`options.kernel_initializer = "he_normal"`), from an Initializer, or from a Keras identifier.
/// Copies share the (immutable) initializer.
class InitializerSpec {
 public:
  /// make_initializer(name): throws InvalidArgument for an unknown name.
  InitializerSpec(const char* name);         // NOLINT(google-explicit-constructor): a name is the usual spelling
  InitializerSpec(const std::string& name);  // NOLINT(google-explicit-constructor)
  /// Holds `initializer`; throws InvalidArgument if it is null.
  InitializerSpec(std::shared_ptr<const Initializer> initializer);  // NOLINT(google-explicit-constructor)
  /// Takes what make_initializer() returns: `options.kernel_initializer = make_initializer(name, config)`.
  InitializerSpec(std::unique_ptr<Initializer> initializer)  // NOLINT(google-explicit-constructor)
      : InitializerSpec(std::shared_ptr<const Initializer>(std::move(initializer))) {}

  /// Reads a Keras identifier: a name ("he_normal", "HeNormal") or an object
  /// {"class_name": "HeNormal", "config": {"seed": null}} ("module" and "registered_name", as Keras 3
  /// writes them, are accepted). Throws InvalidArgument saying what is wrong.
  static InitializerSpec from_config(const Config& identifier);

  /// The identifier from_config() reads back: the name when the settings are the defaults
  /// ("glorot_uniform"), else {"class_name": name, "config": settings}.
  Config to_config() const;

  const Initializer& get() const { return *initializer_; }
  const Initializer* operator->() const { return initializer_.get(); }
  std::string name() const { return initializer_->name(); }

  /// Same identifier (to_config()).
  friend bool operator==(const InitializerSpec& a, const InitializerSpec& b);
  friend bool operator!=(const InitializerSpec& a, const InitializerSpec& b) { return !(a == b); }

 private:
  std::shared_ptr<const Initializer> initializer_;
};

/// Prints to_config() as JSON.
std::ostream& operator<<(std::ostream& out, const InitializerSpec& spec);

/// Throws InvalidArgument naming the known initializers unless `name` is a registered name or alias.
void check_initializer(const std::string& name);

/// Fills `values[0..count)` using initializer `name` with its default settings.
void initialize(const std::string& name, float* values, std::size_t count, std::size_t fan_in, std::size_t fan_out,
                Rng& rng);

}  // namespace xdense
