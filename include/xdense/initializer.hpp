#pragma once
/// \file
/// Weight initializers with Keras's names and formulas.
///   glorot_uniform  U(-l, l), l = sqrt(6 / (fan_in + fan_out))       (default kernel)
///   glorot_normal   truncated N(0, s), s = sqrt(2 / (fan_in + fan_out)) / 0.8796...
///   he_uniform      U(-l, l), l = sqrt(6 / fan_in)
///   he_normal       truncated N(0, s), s = sqrt(2 / fan_in) / 0.8796...
///   zeros / ones    constants                                          (default bias)
/// The truncated normal is cut at two standard deviations; 0.87962566103423978 is
/// the standard deviation of a unit normal so truncated (Keras VarianceScaling).

#include <cstddef>
#include <string>
#include <vector>

namespace xdense {

class Rng;

/// Known initializer names.
std::vector<std::string> initializer_names();

/// Throws InvalidArgument naming the known initializers unless `name` is one.
void check_initializer(const std::string& name);

/// Fills `values[0..count)` using initializer `name` for a weight with the given fans.
void initialize(const std::string& name, float* values, std::size_t count, std::size_t fan_in, std::size_t fan_out,
                Rng& rng);

}  // namespace xdense
