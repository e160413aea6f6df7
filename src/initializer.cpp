#include "xdense/initializer.hpp"

#include <algorithm>
#include <cmath>

#include "xdense/error.hpp"
#include "xdense/random.hpp"

namespace xdense {
namespace {

// Standard deviation of a unit normal truncated to [-2, 2].
constexpr double truncated_unit_stddev = 0.87962566103423978;

void fill_uniform(float* values, std::size_t count, double limit, Rng& rng) {
  for (std::size_t i = 0; i < count; ++i) values[i] = static_cast<float>(rng.uniform(-limit, limit));
}

void fill_truncated_normal(float* values, std::size_t count, double stddev, Rng& rng) {
  for (std::size_t i = 0; i < count; ++i) values[i] = static_cast<float>(rng.truncated_normal(stddev));
}

}  // namespace

std::vector<std::string> initializer_names() {
  return {"glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "zeros", "ones"};
}

void check_initializer(const std::string& name) {
  const auto names = initializer_names();
  if (std::find(names.begin(), names.end(), name) != names.end()) return;
  std::string known;
  for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
  throw InvalidArgument("unknown initializer '" + name + "' (expected one of: " + known + ")");
}

void initialize(const std::string& name, float* values, std::size_t count, std::size_t fan_in, std::size_t fan_out,
                Rng& rng) {
  check_initializer(name);
  const double in = static_cast<double>(std::max<std::size_t>(fan_in, 1));
  const double sum = static_cast<double>(std::max<std::size_t>(fan_in + fan_out, 1));
  if (name == "glorot_uniform") {
    fill_uniform(values, count, std::sqrt(6.0 / sum), rng);
  } else if (name == "glorot_normal") {
    fill_truncated_normal(values, count, std::sqrt(2.0 / sum) / truncated_unit_stddev, rng);
  } else if (name == "he_uniform") {
    fill_uniform(values, count, std::sqrt(6.0 / in), rng);
  } else if (name == "he_normal") {
    fill_truncated_normal(values, count, std::sqrt(2.0 / in) / truncated_unit_stddev, rng);
  } else if (name == "zeros") {
    std::fill(values, values + count, 0.0f);
  } else {  // ones
    std::fill(values, values + count, 1.0f);
  }
}

}  // namespace xdense
