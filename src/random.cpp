#include "xdense/random.hpp"

#include "xdense/error.hpp"

#include <cmath>
#include <sstream>
#include <utility>

namespace xdense {

std::string Rng::state() const {
  std::ostringstream out;
  out << engine_;
  return out.str();
}

void Rng::set_state(const std::string& text) {
  std::istringstream in(text);
  std::mt19937_64 restored;
  in >> restored;
  if (in.fail()) throw InvalidArgument("Rng::set_state: expected a saved engine state, received invalid text");
  engine_ = restored;
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
  for (std::size_t i = indices.size(); i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(below(i));
    std::swap(indices[i - 1], indices[j]);
  }
}

}  // namespace xdense
