#pragma once
// What the optimizer tests share: weights with their gradients behind a Parameter, runs over a fixed
// gradient sequence, and the message checks of the error tests.

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "error_messages.hpp"
#include "xdense/optimizer.hpp"

namespace xdense::testing {

using Real = long double;

/// Owns the value and gradient arrays behind a Parameter.
struct Weights {
  std::vector<float> value;
  std::vector<float> gradient;

  Weights(std::vector<float> v, std::vector<float> g) : value(std::move(v)), gradient(std::move(g)) {}
  Parameter parameter(const std::string& name = "kernel") { return {name, value.data(), gradient.data(), value.size()}; }
};

// Gradients fed at steps 1, 2, 3 (changing, so that momentum and moments matter).
inline const std::vector<std::vector<float>> gradient_sequence = {
    {0.5f, -1.0f, 2.0f},
    {-0.25f, -0.5f, 1.0f},
    {0.75f, 0.1f, -3.0f},
};
inline const std::vector<float> initial_weights = {1.0f, -2.0f, 0.5f};

/// Runs `optimizer` over gradient_sequence[0..steps) from initial_weights.
inline std::vector<float> run(Optimizer& optimizer, std::size_t steps) {
  Weights w(initial_weights, std::vector<float>(initial_weights.size()));
  for (std::size_t t = 0; t < steps; ++t) {
    w.gradient = gradient_sequence[t];
    optimizer.step({w.parameter()});
  }
  EXPECT_EQ(optimizer.iterations(), steps);
  return w.value;
}

/// Weights of size O(1) computed in float agree with a long double reference to a few ulps.
inline void expect_weights_near(const std::vector<float>& actual, const std::vector<Real>& expected,
                                const std::string& what, double tolerance = 2e-6) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    EXPECT_NEAR(actual[i], double(expected[i]), tolerance) << what << " [" << i << "]";
  }
}

}  // namespace xdense::testing
