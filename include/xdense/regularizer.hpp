#pragma once
/// \file
/// Weight regularizers: a penalty on a layer's weights added to the training loss, as Keras's
/// kernel_regularizer and bias_regularizer (docs/reference/regularizers.md):
///   l1(l1=0.01)            l1 * sum |w|            gradient l1 * sign(w), sign(0) = 0
///   l2(l2=0.01)            l2 * sum w^2            gradient 2 * l2 * w
///   l1_l2(l1=0, l2=0)      both
/// Keras's class names L1, L2, L1L2 are aliases. The reported loss (fit and evaluate) includes the
/// penalty, as Keras's does.

#include <cstddef>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "xdense/config.hpp"

namespace xdense {

/// A penalty on one weight array. Implementations are immutable once made.
class Regularizer {
 public:
  virtual ~Regularizer() = default;

  /// The name it is registered under: "l1", "l2", "l1_l2".
  virtual std::string name() const = 0;

  /// The settings make_regularizer(name(), config()) rebuilds it from, with Keras's keys ({"l2": 0.01}).
  virtual Config config() const;

  /// The penalty for weights w[0..n), accumulated in double.
  virtual double penalty(const float* w, std::size_t n) const = 0;

  /// gradient[i] += d penalty / d w[i] for i in [0, n).
  virtual void add_gradient(const float* w, float* gradient, std::size_t n) const = 0;
};

/// Makes a regularizer from its config; throws InvalidArgument for a config it cannot take.
using RegularizerFactory = std::function<std::unique_ptr<Regularizer>(const Config& config)>;

/// Adds regularizer `name` (and `aliases`) to the registry, replacing an entry of the same name.
void register_regularizer(const std::string& name, RegularizerFactory factory,
                          const std::vector<std::string>& aliases = {});

/// The regularizer registered as `name` (or an alias: "l2", "L2"), made from `config` (null or
/// absent: the defaults). Throws InvalidArgument for an unknown name or a bad config.
std::unique_ptr<Regularizer> make_regularizer(const std::string& name, const Config& config);
std::unique_ptr<Regularizer> make_regularizer(const std::string& name);

/// Registered regularizer names (not aliases), sorted.
std::vector<std::string> regularizer_names();

/// The built-ins with given factors: l1 * sum |w|, l2 * sum w^2, and both. Throws InvalidArgument
/// for a negative or non-finite factor.
std::shared_ptr<const Regularizer> l1(double l1 = 0.01);
std::shared_ptr<const Regularizer> l2(double l2 = 0.01);
std::shared_ptr<const Regularizer> l1_l2(double l1 = 0.0, double l2 = 0.0);

/// A regularizer held by value, or none (the default), as DenseOptions holds its two:
/// `options.kernel_regularizer = "l2"` or `= xdense::l2(1e-4)`. Copies share the regularizer.
class RegularizerSpec {
 public:
  /// No regularizer.
  RegularizerSpec() = default;
  /// make_regularizer(name): throws InvalidArgument for an unknown name.
  RegularizerSpec(const char* name);         // NOLINT(google-explicit-constructor)
  RegularizerSpec(const std::string& name);  // NOLINT(google-explicit-constructor)
  /// Holds `regularizer` (null: none).
  RegularizerSpec(std::shared_ptr<const Regularizer> regularizer)  // NOLINT(google-explicit-constructor)
      : regularizer_(std::move(regularizer)) {}
  /// Takes what make_regularizer() returns.
  RegularizerSpec(std::unique_ptr<Regularizer> regularizer)  // NOLINT(google-explicit-constructor)
      : regularizer_(std::move(regularizer)) {}

  /// Reads a Keras identifier: null (none), a name ("l2", "L2") or an object
  /// {"class_name": "L2", "config": {"l2": 0.01}} (with Keras 3's "module" and "registered_name").
  static RegularizerSpec from_config(const Config& identifier);

  /// What from_config() reads back: null for none, the name when the settings are the defaults,
  /// else {"class_name": name, "config": settings}.
  Config to_config() const;

  explicit operator bool() const { return regularizer_ != nullptr; }
  /// The regularizer, or null.
  const Regularizer* get() const { return regularizer_.get(); }
  const Regularizer* operator->() const { return regularizer_.get(); }

  /// Same identifier (to_config()).
  friend bool operator==(const RegularizerSpec& a, const RegularizerSpec& b);
  friend bool operator!=(const RegularizerSpec& a, const RegularizerSpec& b) { return !(a == b); }

 private:
  std::shared_ptr<const Regularizer> regularizer_;
};

/// Prints to_config() as JSON.
std::ostream& operator<<(std::ostream& out, const RegularizerSpec& spec);

}  // namespace xdense
