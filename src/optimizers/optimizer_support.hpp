#pragma once
// Private: what the built-in optimizers share. Hyperparameter checks with Keras-style messages,
// the finiteness test of the update loops (beta^t as a running product and the per-parameter arrays
// grouped by slot are detail::RunningPower and detail::SlotArrays, in optimizer.hpp).

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "xdense/config.hpp"
#include "xdense/optimizer.hpp"
#include "xdense/optimizers/moment_optimizer.hpp"

namespace xdense {
namespace detail {

// 1 when `value` is NaN or infinite (all exponent bits set). Integer bit tests keep
// the update loops vectorisable, unlike a floating-point reduction would.
inline std::uint32_t non_finite(float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return (bits & 0x7f800000u) == 0x7f800000u;
}

// Each hyperparameter's own name in its message (Keras style: "Adam: epsilon must be finite and > 0,
// received epsilon=0"), so a bad value is never blamed on another, e.g. the learning rate.
void check_learning_rate(const std::string& who, float lr);
void check_unit_interval(const std::string& who, const std::string& what, float value);
void check_non_negative(const std::string& who, const std::string& what, float value);
/// epsilon = 0 divides 0 by 0 for a weight whose gradients have all been 0 so far (a dead unit, a
/// constant feature): its weight turns NaN. Finite and > 0 is required.
void check_epsilon(const std::string& who, float epsilon);

/// MomentOptions (Nadam, Adamax) from a config's keys.
MomentOptions read_moment_options(ConfigReader& in);

/// The end of every built-in factory: the base options read, the config's keys all known, the
/// optimizer made from `options` and given the base options.
template <class T, class Options>
std::unique_ptr<Optimizer> make_with_base_options(ConfigReader& in, const Options& options) {
  const BaseOptimizerOptions base = read_base_options(in);
  in.finish();
  auto optimizer = std::make_unique<T>(options);
  optimizer->set_base_options(base);
  return optimizer;
}

/// Adam's keys of a config: learning_rate, beta_1, beta_2, epsilon, and amsgrad (false only); read by
/// the "adam" and "adamw" factories.
AdamOptions read_adam_options(ConfigReader& in);

}  // namespace detail
}  // namespace xdense
