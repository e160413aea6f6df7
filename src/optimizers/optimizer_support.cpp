#include "optimizer_support.hpp"

#include <cmath>
#include <sstream>

#include "xdense/error.hpp"
#include "xdense/optimizer.hpp"

namespace xdense {
namespace detail {

void check_learning_rate(const std::string& who, float lr) {
  if (!(lr > 0.0f) || !std::isfinite(lr)) {
    std::ostringstream m;
    m << who << ": the learning rate must be finite and > 0, received learning_rate=" << lr;
    throw InvalidArgument(m.str());
  }
}

void check_unit_interval(const std::string& who, const std::string& what, float value) {
  if (!(value >= 0.0f && value < 1.0f)) {
    std::ostringstream m;
    m << who << ": " << what << " must be in [0, 1), received " << what << "=" << value;
    throw InvalidArgument(m.str());
  }
}

void check_non_negative(const std::string& who, const std::string& what, float value) {
  if (!(value >= 0.0f) || !std::isfinite(value)) {
    std::ostringstream m;
    m << who << ": " << what << " must be finite and >= 0, received " << what << "=" << value;
    throw InvalidArgument(m.str());
  }
}

void check_epsilon(const std::string& who, float epsilon) {
  if (!(epsilon > 0.0f) || !std::isfinite(epsilon)) {
    std::ostringstream m;
    m << who << ": epsilon must be finite and > 0, received epsilon=" << epsilon;
    throw InvalidArgument(m.str());
  }
}

double RunningPower::rebuild(std::size_t t) {
  if (t > running_limit) {
    power_ = std::pow(base_, static_cast<double>(t));
  } else {
    power_ = 1.0;
    for (std::size_t s = 0; s < t; ++s) power_ *= base_;
  }
  t_ = t;
  return power_;
}

void SlotArrays::allocate(std::size_t groups, const std::vector<std::size_t>& sizes, float initial) {
  arrays_.clear();
  parameters_ = sizes.size();
  for (std::size_t g = 0; g < groups; ++g) {
    for (std::size_t n : sizes) arrays_.emplace_back(n, initial);
  }
}

}  // namespace detail
}  // namespace xdense
