#pragma once
/// \file
/// The one seedable random engine behind every draw xdense makes (weight init,
/// shuffling, splits). Values are derived from std::mt19937_64's raw output with
/// fixed formulas, not std::*_distribution, so a seed gives the same numbers with
/// any standard library.

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace xdense {

/// Portable, seedable random number generator.
class Rng {
 public:
  /// Default seed used when the caller gives none.
  static constexpr std::uint64_t default_seed = 42;

  explicit Rng(std::uint64_t seed = default_seed) : engine_(seed) {}

  /// Restarts the sequence from `seed`.
  void seed(std::uint64_t seed) { engine_.seed(seed); }

  /// The engine's full state as text (for checkpoints); restore it with set_state().
  std::string state() const;

  /// Restores a state from state(); throws InvalidArgument if `text` is not one.
  void set_state(const std::string& text);

  /// Raw 64 random bits.
  std::uint64_t next() { return engine_(); }

  /// Uniform double in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

  /// Uniform double in [low, high).
  double uniform(double low, double high) { return low + (high - low) * uniform(); }

  /// Standard normal draw (Box-Muller on two uniforms; one value per call).
  double normal();

  /// Normal(0, stddev) truncated to +-2 stddev by rejection (Keras's truncated normal).
  double truncated_normal(double stddev);

  /// Uniform integer in [0, n) without modulo bias. Requires n > 0.
  std::uint64_t below(std::uint64_t n);

  /// Fisher-Yates shuffle of `indices` in place.
  void shuffle(std::vector<std::size_t>& indices);

 private:
  std::mt19937_64 engine_;
};

}  // namespace xdense
