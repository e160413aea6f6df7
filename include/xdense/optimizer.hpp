#pragma once
/// \file
/// Optimizers with Keras's defaults and update rules. State (velocities,
/// moments) is kept in vectors parallel to the parameter list: tied to each
/// parameter by its position, never by its address.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "xdense/config.hpp"
#include "xdense/layer.hpp"

namespace xdense {

/// An optimizer's state, for checkpoints: the step count and its per-parameter arrays ("slots"),
/// grouped by slot name in the order of Optimizer::slot_names(), one array per parameter within a
/// group: for Adam over P parameters, slots[0..P) are the "momentum" arrays (first moments) and
/// slots[P..2P) the "velocity" arrays (second moments). names[i] is the slot name of slots[i].
struct OptimizerState {
  std::size_t iterations = 0;
  std::vector<std::vector<float>> slots;
  std::vector<std::string> names;  ///< one per slot; empty in a state built by hand (then not checked)
};

/// Updates parameters from their gradients.
class Optimizer {
 public:
  virtual ~Optimizer() = default;

  /// Keras identifier, the name the optimizer is registered under: "sgd", "adam".
  virtual std::string name() const = 0;

  /// The settings make_optimizer(name(), config()) needs to rebuild it, with Keras's key names:
  /// {"learning_rate", "momentum", "nesterov"} for SGD. Defaults to {"learning_rate"}.
  virtual Config config() const;

  /// Names of the arrays the optimizer keeps per parameter (Keras's variable names): SGD with
  /// momentum {"momentum"}, Adam {"momentum", "velocity"}; empty for plain SGD.
  virtual std::vector<std::string> slot_names() const { return {}; }

  /// Applies one update to every parameter from its gradient. The list must keep
  /// the same order and sizes from call to call (ShapeError otherwise). Returns
  /// false when an updated weight is NaN or infinite (checked in the same pass).
  bool step(const std::vector<Parameter>& parameters);

  /// Number of step() calls so far.
  std::size_t iterations() const { return iterations_; }

  /// Forgets all state (moments, velocities, step count).
  void reset();

  /// The current state (empty slots before the first step).
  OptimizerState state() const;

  /// Restores a state() taken from an optimizer of the same kind and settings over
  /// `parameters`; throws ShapeError when the slots do not fit them.
  void restore(const OptimizerState& state, const std::vector<Parameter>& parameters);

  /// Current learning rate.
  virtual float learning_rate() const = 0;

 protected:
  /// Called once per step(), after the step count is incremented and before the
  /// update() calls: the place for work shared by all parameters (Adam's step size).
  virtual void begin_step() {}
  /// Updates parameter `index` (value, gradient, state all of `p.size` floats);
  /// returns false if an updated value is NaN or infinite.
  virtual bool update(std::size_t index, const Parameter& p) = 0;
  /// Allocates state for parameters of the given sizes (called on the first step).
  virtual void allocate_state(const std::vector<std::size_t>& sizes) = 0;
  /// Frees all state.
  virtual void clear_state() = 0;
  /// The per-parameter arrays, in a fixed order.
  virtual std::vector<std::vector<float>> slots() const = 0;
  /// Replaces the per-parameter arrays (sizes already checked against allocate_state()'s).
  virtual void set_slots(std::vector<std::vector<float>> slots) = 0;

  std::size_t iterations_ = 0;  // incremented before update() calls: 1 on the first step

 private:
  std::vector<std::size_t> sizes_;
};

/// Settings of SGD (Keras defaults).
struct SGDOptions {
  float learning_rate = 0.01f;
  float momentum = 0.0f;  ///< in [0, 1)
  bool nesterov = false;
};

/// Stochastic gradient descent, Keras form:
///   momentum 0 : w -= lr g
///   momentum m : v = m v - lr g;  w += v           (nesterov: w += m v - lr g)
class SGD final : public Optimizer {
 public:
  /// Throws InvalidArgument for lr <= 0 or momentum outside [0, 1).
  explicit SGD(SGDOptions options = {});
  std::string name() const override { return "sgd"; }
  Config config() const override;
  std::vector<std::string> slot_names() const override;
  float learning_rate() const override { return options_.learning_rate; }
  const SGDOptions& options() const { return options_; }

 protected:
  bool update(std::size_t index, const Parameter& p) override;
  void allocate_state(const std::vector<std::size_t>& sizes) override;
  void clear_state() override { velocities_.clear(); }
  std::vector<std::vector<float>> slots() const override { return velocities_; }
  void set_slots(std::vector<std::vector<float>> slots) override { velocities_ = std::move(slots); }

 private:
  SGDOptions options_;
  std::vector<std::vector<float>> velocities_;
};

/// Settings of Adam (Keras defaults).
struct AdamOptions {
  float learning_rate = 1e-3f;
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float epsilon = 1e-7f;
};

/// Adam, Keras form (epsilon on sqrt(v), bias correction folded into the step):
///   m = m + (1 - b1)(g - m);  v = v + (1 - b2)(g^2 - v)
///   lr_t = lr sqrt(1 - b2^t) / (1 - b1^t);  w -= lr_t m / (sqrt(v) + eps)
class Adam final : public Optimizer {
 public:
  /// Throws InvalidArgument for lr <= 0, betas outside [0, 1), epsilon <= 0 (each message names the
  /// hyperparameter at fault).
  explicit Adam(AdamOptions options = {});
  std::string name() const override { return "adam"; }
  /// {"learning_rate", "beta_1", "beta_2", "epsilon"} (Keras's keys).
  Config config() const override;
  std::vector<std::string> slot_names() const override { return {"momentum", "velocity"}; }
  float learning_rate() const override { return options_.learning_rate; }
  const AdamOptions& options() const { return options_; }

 protected:
  bool update(std::size_t index, const Parameter& p) override;
  void allocate_state(const std::vector<std::size_t>& sizes) override;
  void clear_state() override {
    first_moments_.clear();
    second_moments_.clear();
  }
  std::vector<std::vector<float>> slots() const override;
  void set_slots(std::vector<std::vector<float>> slots) override;
  void begin_step() override;

 private:
  AdamOptions options_;
  float step_size_ = 0.0f;       // lr_t of the current step
  std::size_t powers_step_ = 0;  // t of the running products below
  double beta1_power_ = 1.0;     // beta1^powers_step_
  double beta2_power_ = 1.0;     // beta2^powers_step_
  std::vector<std::vector<float>> first_moments_;
  std::vector<std::vector<float>> second_moments_;
};

/// Makes an optimizer from its config (what Optimizer::config() returned; missing keys take the
/// defaults). Throws InvalidArgument for a config it cannot take.
using OptimizerFactory = std::function<std::unique_ptr<Optimizer>(const Config& config)>;

/// Adds optimizer `name` (and `aliases`) to the registry, replacing an entry of the same name.
/// Built-ins register themselves in their own .cpp; a user's optimizer registers the same way.
void register_optimizer(const std::string& name, OptimizerFactory factory, const std::vector<std::string>& aliases = {});

/// The optimizer registered as `name` with default settings ("sgd", "adam"); throws InvalidArgument
/// naming the known optimizers otherwise.
std::unique_ptr<Optimizer> make_optimizer(const std::string& name);

/// The optimizer registered as `name`, made from `config`.
std::unique_ptr<Optimizer> make_optimizer(const std::string& name, const Config& config);

/// Registered optimizer names, sorted.
std::vector<std::string> optimizer_names();

}  // namespace xdense
