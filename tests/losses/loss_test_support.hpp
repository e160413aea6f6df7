#pragma once
// What the tests of tests/losses/ share: the finite-difference check of a loss's gradient, the
// registry round trip, and the message of an expected exception.

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "error_messages.hpp"
#include "gradient_check.hpp"
#include "xdense/error.hpp"
#include "xdense/loss.hpp"

namespace xdense::testing {

inline Matrix zeros_like(const Matrix& m) {
  Matrix z = Matrix::from_shape({m.shape(0), m.shape(1)});
  std::fill(z.begin(), z.end(), 0.0f);
  return z;
}

/// The gradient loss.gradient() gives at p.
inline Matrix loss_gradient(const Loss& loss, const Matrix& p, const Matrix& y) {
  Matrix g = zeros_like(p);
  loss.gradient(view(p), view(y), view(g));
  return g;
}

/// loss.gradient() against central differences of loss.value() at p (kept > step from any kink).
inline void expect_loss_gradient(const Loss& loss, Matrix p, const Matrix& y, const std::string& what,
                                 double step = 1e-2) {
  const Matrix g = loss_gradient(loss, p, y);
  expect_gradient_matches(
      p.data(), g.data(), p.size(), [&] { return loss.value(view(p), view(y)); }, what, step);
}

/// make_loss(name) and each alias give a loss named `name` whose config() rebuilds it.
inline void expect_registered(const std::string& name, const std::vector<std::string>& aliases) {
  const std::vector<std::string> names = loss_names();
  EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
  for (const std::string& alias : aliases) EXPECT_EQ(make_loss(alias)->name(), name) << alias;
  const std::unique_ptr<Loss> loss = make_loss(name);
  ASSERT_EQ(loss->name(), name);
  EXPECT_EQ(make_loss(name, loss->config())->config(), loss->config()) << name;
  // Keras's "name" and "reduction" are accepted; an unknown key is refused.
  EXPECT_EQ(make_loss(name, {{"name", name}, {"reduction", "sum_over_batch_size"}})->name(), name);
  EXPECT_THROW(make_loss(name, {{"from_logits", true}}), InvalidArgument) << name;
}

/// The message of the DataError loss.check_targets(targets, units) throws.
inline std::string target_error(const Loss& loss, const Matrix& targets, std::size_t units) {
  return message_of<DataError>([&] { loss.check_targets(view(targets), units); });
}

}  // namespace xdense::testing
