#pragma once
/// \file
/// The one seedable random engine behind every draw xdense makes (weight init,
/// shuffling, splits). Values are derived from MT19937-64's raw output (the stream of
/// std::mt19937_64) with fixed formulas, not std::*_distribution, so a seed gives the same
/// numbers with any standard library.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace xdense {
namespace detail {

/// MT19937-64: the same numbers and the same state text as std::mt19937_64 (checked against it
/// in random_test), with the state refill written so that it runs in vector registers: a shuffle
/// is mostly draws, and libstdc++'s scalar refill made them ~7 ns each (fit()'s shuffle of 4,096
/// rows is 2.3x faster with this one).
class Mt19937_64 {
 public:
  static constexpr std::size_t state_size = 312;

  explicit Mt19937_64(std::uint64_t seed) { this->seed(seed); }

  /// std::mt19937_64's seeding.
  void seed(std::uint64_t seed);

  std::uint64_t operator()() {
    if (next_ >= state_size) refill();
    std::uint64_t z = words_[next_++];
    z ^= (z >> 29) & 0x5555555555555555ULL;
    z ^= (z << 17) & 0x71D67FFFEDA60000ULL;
    z ^= (z << 37) & 0xFFF7EEE000000000ULL;
    return z ^ (z >> 43);
  }

  /// The state as std::mt19937_64's operator<< writes it: the 312 words, then the position.
  std::string text() const;

  /// Reads text() (or std::mt19937_64's operator<< output); false, state untouched, if it is not one.
  bool read(const std::string& text);

 private:
  void refill();  // the twist of all 312 words

  std::uint64_t words_[state_size];
  std::size_t next_ = state_size;
};

}  // namespace detail

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
  detail::Mt19937_64 engine_;
};

}  // namespace xdense
