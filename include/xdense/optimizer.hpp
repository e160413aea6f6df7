#pragma once
/// \file
/// Optimizers with Keras's defaults and update rules. State (velocities,
/// moments) is kept in vectors parallel to the parameter list: tied to each
/// parameter by its position, never by its address.

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "xdense/config.hpp"
#include "xdense/layer.hpp"

namespace xdense {

class LearningRateSchedule;

/// An optimizer's state, for checkpoints: the step count and its per-parameter arrays ("slots"),
/// grouped by slot name in the order of Optimizer::slot_names(), one array per parameter within a
/// group: for Adam over P parameters, slots[0..P) are the "momentum" arrays (first moments) and
/// slots[P..2P) the "velocity" arrays (second moments). names[i] is the slot name of slots[i].
struct OptimizerState {
  std::size_t iterations = 0;
  std::vector<std::vector<float>> slots;
  std::vector<std::string> names;  ///< one per slot; empty in a state built by hand (then not checked)
};

// Building blocks of the built-in optimizers (not part of the API; a user's optimizer may use them).
namespace detail {

/// base^t for an optimizer's step count t, a function of t alone. Up to running_limit steps it is a
/// running product (one multiplication a step instead of a pow() call), rebuilt as the product of t
/// factors from 1 when t did not simply advance (first step, reset, restore: at most running_limit
/// multiplications, ~20 ms), so a resumed run computes the same powers as an uninterrupted one.
/// Beyond, pow().
class RunningPower {
 public:
  static constexpr std::size_t running_limit = std::size_t{1} << 24;
  explicit RunningPower(double base) : base_(base) {}
  double at(std::size_t t) {
    if (t != t_ + 1 || t > running_limit) return rebuild(t);
    t_ = t;
    return power_ *= base_;
  }

 private:
  double rebuild(std::size_t t);

  double base_;
  std::size_t t_ = 0;   // step of power_
  double power_ = 1.0;  // base_^t_
};

/// An optimizer's per-parameter arrays: `groups` slots (momentum, velocity, ...), one array per
/// parameter in each, stored as OptimizerState orders them (slot g of parameter i at g P + i).
class SlotArrays {
 public:
  void allocate(std::size_t groups, const std::vector<std::size_t>& sizes, float initial = 0.0f);
  float* at(std::size_t group, std::size_t index) { return arrays_[group * parameters_ + index].data(); }
  void clear() { arrays_.clear(); }
  const std::vector<std::vector<float>>& all() const { return arrays_; }
  /// Replaces the arrays with a restored state's (sizes checked by Optimizer::restore).
  void assign(std::vector<std::vector<float>> arrays) { arrays_ = std::move(arrays); }

 private:
  std::vector<std::vector<float>> arrays_;
  std::size_t parameters_ = 0;
};

}  // namespace detail

/// Settings every optimizer takes: Keras 3's base-optimizer arguments, each off when empty (Keras's
/// None). Optimizer::step applies them in Keras's order: the gradients are clipped (in place, at most
/// one of the three clip options is set), every parameter decays, w -= w weight_decay lr, and then the
/// optimizer's own update runs on the clipped gradients.
struct BaseOptimizerOptions {
  std::optional<float> weight_decay;  ///< >= 0: decoupled weight decay w -= w weight_decay lr, each step
  std::optional<float> clipnorm;      ///< > 0: each gradient scaled down to L2 norm <= clipnorm (its own norm)
  std::optional<float> clipvalue;     ///< > 0: each gradient value clipped to [-clipvalue, clipvalue]
  std::optional<float> global_clipnorm;  ///< > 0: all gradients scaled down together to a joint norm <= it
};

/// Updates parameters from their gradients.
class Optimizer {
 public:
  virtual ~Optimizer() = default;

  /// Keras identifier, the name the optimizer is registered under: "sgd", "adam".
  virtual std::string name() const = 0;

  /// The settings make_optimizer(name(), config()) needs to rebuild it, with Keras's key names:
  /// {"learning_rate", "momentum", "nesterov"} for SGD. This base version holds "learning_rate" and
  /// the base options that are set ("clipnorm", "weight_decay", ...): an override starts from it, as
  /// Keras's get_config() starts from super().get_config().
  virtual Config config() const;

  /// Sets clipping and weight decay (see BaseOptimizerOptions); throws InvalidArgument naming the
  /// option at fault: a negative or non-finite value, a clip option <= 0, two clip options at once.
  void set_base_options(const BaseOptimizerOptions& options);
  const BaseOptimizerOptions& base_options() const { return base_; }

  /// Names of the arrays the optimizer keeps per parameter (Keras's variable names): SGD with
  /// momentum {"momentum"}, Adam {"momentum", "velocity"}; empty for plain SGD.
  virtual std::vector<std::string> slot_names() const { return {}; }

  /// Applies one update to every parameter from its gradient. The list must keep
  /// the same order and sizes from call to call (ShapeError otherwise). Returns
  /// false when an updated weight is NaN or infinite (checked in the same pass).
  /// With a clip option set, the gradients are clipped in place first.
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

  /// Makes every later step use schedule->at(iterations()) as its learning rate (Keras's
  /// learning_rate=schedule), and learning_rate() the next step's rate from now on (after each step,
  /// restore() and reset() too, as Keras's optimizer.learning_rate);
  /// nullptr goes back to a fixed rate, the last one in effect. config() then gives "learning_rate"
  /// as serialize_schedule(*schedule) ({"module", "class_name", "config", "registered_name"}), which
  /// make_optimizer() reads back. StateError for an optimizer that cannot change its rate.
  void set_schedule(std::shared_ptr<const LearningRateSchedule> schedule);
  /// The schedule set, or nullptr.
  const LearningRateSchedule* schedule() const { return schedule_.get(); }

  /// Sets the fixed learning rate (ReduceLROnPlateau): InvalidArgument unless finite and > 0,
  /// StateError while a schedule is set (Keras refuses to set a scheduled rate) or when the
  /// optimizer cannot change its rate (a user's optimizer that does not override apply_learning_rate).
  void set_learning_rate(float learning_rate);

  /// The rate the next step will use: schedule()->at(iterations()) with a schedule, else learning_rate().
  double current_learning_rate() const;

 protected:
  /// Stores a new learning rate where update() reads it (the optimizer's own options); returns
  /// false (the default) when the optimizer cannot change its rate.
  virtual bool apply_learning_rate(float /*learning_rate*/) { return false; }
  /// Called once per step(), after the step count is incremented and before the
  /// update() calls: the place for work shared by all parameters (Adam's step size).
  virtual void begin_step() {}
  /// Refuses base options this optimizer cannot take (AdamW: a weight decay is required); called by
  /// set_base_options() after the common checks.
  virtual void check_base_options(const BaseOptimizerOptions& /*options*/) const {}
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
  void apply_base_options(const std::vector<Parameter>& parameters);

  std::vector<std::size_t> sizes_;
  std::shared_ptr<const LearningRateSchedule> schedule_;
  BaseOptimizerOptions base_;
  bool base_active_ = false;  // a clip option or a non-zero weight decay is set
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
  bool apply_learning_rate(float learning_rate) override {
    options_.learning_rate = learning_rate;
    return true;
  }
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
class Adam : public Optimizer {
 public:
  /// Throws InvalidArgument for lr <= 0, betas outside [0, 1), epsilon <= 0 (each message names the
  /// hyperparameter at fault).
  explicit Adam(AdamOptions options = {}) : Adam(options, "Adam") {}
  std::string name() const override { return "adam"; }
  /// {"learning_rate", "beta_1", "beta_2", "epsilon"} (Keras's keys).
  Config config() const override;
  std::vector<std::string> slot_names() const override { return {"momentum", "velocity"}; }
  float learning_rate() const override { return options_.learning_rate; }
  const AdamOptions& options() const { return options_; }

 protected:
  bool apply_learning_rate(float learning_rate) override {
    options_.learning_rate = learning_rate;
    return true;
  }
  /// `who` names the optimizer in error messages ("AdamW").
  Adam(AdamOptions options, const std::string& who);
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
  float step_size_ = 0.0f;  // lr_t of the current step
  detail::RunningPower beta1_power_;
  detail::RunningPower beta2_power_;
  std::vector<std::vector<float>> first_moments_;
  std::vector<std::vector<float>> second_moments_;
};

/// Reads the base options from an optimizer's config (null or absent: off) and accepts Keras's other
/// base-optimizer keys where they change nothing: "name", "use_ema": false, "ema_momentum",
/// "ema_overwrite_frequency", and "loss_scale_factor" and "gradient_accumulation_steps" when null.
/// Every factory calls it, a user's too, then set_base_options() on the optimizer it makes:
///
///   ConfigReader in(config, "SignSGD");
///   const float lr = in.real("learning_rate", 0.01f);
///   const BaseOptimizerOptions base = read_base_options(in);
///   in.finish();
///   auto optimizer = std::make_unique<SignSGD>(lr);
///   optimizer->set_base_options(base);
BaseOptimizerOptions read_base_options(ConfigReader& in);

/// Makes an optimizer from its config (what Optimizer::config() returned; missing keys take the
/// defaults). Throws InvalidArgument for a config it cannot take.
using OptimizerFactory = std::function<std::unique_ptr<Optimizer>(const Config& config)>;

/// Adds optimizer `name` (and `aliases`) to the registry, replacing an entry of the same name.
/// Built-ins register themselves in their own .cpp; a user's optimizer registers the same way.
void register_optimizer(const std::string& name, OptimizerFactory factory, const std::vector<std::string>& aliases = {});

/// The optimizer registered as `name` with default settings ("sgd", "adam"); throws InvalidArgument
/// naming the known optimizers otherwise.
std::unique_ptr<Optimizer> make_optimizer(const std::string& name);

/// The optimizer registered as `name`, made from `config`. A "learning_rate" that is an object is a
/// serialized schedule (Keras 3's or Keras 2's form, see deserialize_schedule()): the factory gets
/// the config without it and the optimizer then follows the schedule; a schedule's problem is a
/// ConfigError keyed "learning_rate.config.decay_steps" (its path in the config).
std::unique_ptr<Optimizer> make_optimizer(const std::string& name, const Config& config);

/// Registered optimizer names, sorted.
std::vector<std::string> optimizer_names();

}  // namespace xdense
