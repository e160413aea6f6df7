#include "xdense/random.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <sstream>
#include <utility>

#include "cpu_dispatch.hpp"
#include "xdense/error.hpp"

namespace xdense {

namespace detail {

void Mt19937_64::seed(std::uint64_t seed) {
  words_[0] = seed;
  for (std::size_t i = 1; i < state_size; ++i) {
    const std::uint64_t previous = words_[i - 1];
    words_[i] = 6364136223846793005ULL * (previous ^ (previous >> 62)) + i;
  }
  next_ = state_size;
}

// Word k becomes word k + m (old) ^ twist(upper bit of word k, lower 63 bits of word k + 1); the
// second range reads words k + m - n, already new. Within each range a word only reads words not
// yet written, or written by an earlier range: the loops vectorise. The select is arithmetic (no
// branch) for the same reason.
XDENSE_VECTOR_CLONES void Mt19937_64::refill() {
  constexpr std::size_t n = state_size, m = 156;
  constexpr std::uint64_t matrix = 0xB5026F5AA96619E9ULL, upper = ~std::uint64_t{0} << 31, lower = ~upper;
  std::uint64_t* const w = words_;
  for (std::size_t k = 0; k < n - m; ++k) {
    const std::uint64_t y = (w[k] & upper) | (w[k + 1] & lower);
    w[k] = w[k + m] ^ (y >> 1) ^ ((std::uint64_t{0} - (y & 1)) & matrix);
  }
  for (std::size_t k = n - m; k < n - 1; ++k) {
    const std::uint64_t y = (w[k] & upper) | (w[k + 1] & lower);
    w[k] = w[k - (n - m)] ^ (y >> 1) ^ ((std::uint64_t{0} - (y & 1)) & matrix);
  }
  const std::uint64_t y = (w[n - 1] & upper) | (w[0] & lower);
  w[n - 1] = w[m - 1] ^ (y >> 1) ^ ((std::uint64_t{0} - (y & 1)) & matrix);
  next_ = 0;
}

std::string Mt19937_64::text() const {
  std::string out;
  out.reserve(state_size * 21 + 4);
  for (const std::uint64_t word : words_) {
    out += std::to_string(word);
    out += ' ';
  }
  out += std::to_string(next_);
  return out;
}

bool Mt19937_64::read(const std::string& text) {
  std::istringstream in(text);
  in.flags(std::ios_base::dec | std::ios_base::skipws);
  std::uint64_t words[state_size];
  std::size_t next = 0;
  for (std::uint64_t& word : words) in >> word;
  in >> next;
  if (in.fail() || next > state_size) return false;
  std::copy(std::begin(words), std::end(words), std::begin(words_));
  next_ = next;
  return true;
}

}  // namespace detail

std::string Rng::state() const { return engine_.text(); }

void Rng::set_state(const std::string& text) {
  if (!engine_.read(text)) {
    throw InvalidArgument("Rng::set_state: expected a saved engine state, received invalid text");
  }
}

double Rng::normal() {
  // Box-Muller: u1 in (0, 1] so that log(u1) is finite.
  const double u1 = 1.0 - uniform();
  const double u2 = uniform();
  constexpr double two_pi = 6.283185307179586476925;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(two_pi * u2);
}

double Rng::truncated_normal(double stddev) {
  for (;;) {
    const double z = normal();
    if (std::abs(z) <= 2.0) return z * stddev;
  }
}

std::uint64_t Rng::below(std::uint64_t n) {
  // Rejection sampling: accept only draws below L = UINT64_MAX - UINT64_MAX % n, the largest
  // multiple of n not above UINT64_MAX. r < L exactly when the multiple of n starting r's block,
  // r - r % n, is at most UINT64_MAX - n: one division per draw (not two), the same draws.
  for (;;) {
    const std::uint64_t r = engine_();
    const std::uint64_t remainder = r % n;
    if (r - remainder <= UINT64_MAX - n) return remainder;
  }
}

void Rng::shuffle(std::vector<std::size_t>& indices) {
  // The draws below(n), below(n - 1), ..., below(2) do not depend on the array: each is made
  // `ahead` swaps early and its element asked for then, so that on arrays larger than the caches
  // the random reads overlap instead of waiting one by one. Same draws, same permutation.
  constexpr std::size_t ahead = 8;
  std::size_t drawn[ahead];
  std::size_t* const data = indices.data();
  std::size_t next = indices.size();  // the bound of the next draw
  const auto draw = [&] {
    const std::size_t j = static_cast<std::size_t>(below(next));
    __builtin_prefetch(data + j, 1);
    drawn[next % ahead] = j;
    --next;
  };
  for (std::size_t k = 0; k < ahead && next > 1; ++k) draw();
  for (std::size_t i = indices.size(); i > 1; --i) {
    std::swap(data[i - 1], data[drawn[i % ahead]]);
    if (next > 1) draw();
  }
}

}  // namespace xdense
