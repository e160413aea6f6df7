#include "xdense/losses/regression.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "losses/loss_test_support.hpp"

// Expected values are the Keras 3 formulas (keras/src/losses/losses.py) in long double, over the
// error x = p - y, averaged over all batch * units entries:
//   mean_absolute_error  |x|
//   huber                0.5 x^2 for |x| <= delta, delta |x| - 0.5 delta^2 beyond
//   log_cosh             log(cosh(x))  (xdense evaluates x + softplus(-2x) - log 2, as Keras)

namespace xdense {
namespace {

using Real = long double;
using xdense::testing::expect_loss_gradient;
using xdense::testing::loss_gradient;
using xdense::testing::target_error;

template <typename F>
Real mean_of(const Matrix& p, const Matrix& y, F f) {
  Real sum = 0;
  for (std::size_t i = 0; i < p.size(); ++i) sum += f(Real(p.data()[i]) - Real(y.data()[i]));
  return sum / Real(p.size());
}

// Errors away from 0 and from +-delta (the kinks), so that central differences are exact enough.
const Matrix predictions = {{0.3f, -1.7f, 2.6f, 0.05f}, {-0.45f, 1.2f, -3.5f, 0.8f}};
const Matrix targets = {{1.0f, 0.0f, 0.5f, -0.5f}, {0.0f, 1.0f, -1.0f, 2.25f}};

TEST(MeanAbsoluteError, ValueGradientAndRegistry) {
  const MeanAbsoluteError loss;
  // |x| = 0.7, 1.7, 2.1, 0.55, 0.45, 0.2, 2.5, 1.45 -> 9.65 / 8
  EXPECT_NEAR(loss.value(view(predictions), view(targets)), 9.65 / 8, 1e-7);
  EXPECT_NEAR(loss.value(view(predictions), view(targets)),
              double(mean_of(predictions, targets, [](Real x) { return std::fabs(x); })), 1e-12);
  expect_loss_gradient(loss, predictions, targets, "mae dL/dp");
  // sign(x) / N, and 0 where p = y (as TensorFlow's and torch's abs).
  const Matrix p = {{1.0f, 2.0f}};
  const Matrix y = {{1.0f, 3.0f}};
  const Matrix g = loss_gradient(loss, p, y);
  EXPECT_EQ(g(0, 0), 0.0f);
  EXPECT_EQ(g(0, 1), -0.5f);
  xdense::testing::expect_registered("mean_absolute_error", {"mae"});
  EXPECT_EQ(loss.config(), Config::object());
}

TEST(Huber, ValueOnBothSidesOfDelta) {
  const Huber loss;  // delta 1
  const Matrix p = {{0.5f, 3.0f}, {-2.0f, 1.0f}};
  const Matrix y = {{0.0f, 0.0f}, {0.0f, 0.0f}};
  // 0.125, 3 - 0.5, 2 - 0.5, 0.5 (|x| = delta is quadratic) -> 4.625 / 4
  EXPECT_NEAR(loss.value(view(p), view(y)), 4.625 / 4, 1e-12);
  const Huber wide(2.5);
  // 0.125, 2.5 * 3 - 3.125, 2, 0.5 -> 7 / 4
  EXPECT_NEAR(wide.value(view(p), view(y)), 7.0 / 4, 1e-12);
  // The Keras docstring's example: huber([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]) = 0.155.
  EXPECT_NEAR(loss.value(view(Matrix{{0.6f, 0.4f}, {0.4f, 0.6f}}), view(Matrix{{0.0f, 1.0f}, {0.0f, 0.0f}})), 0.155,
              1e-7);
}

TEST(Huber, GradientIsTheClippedError) {
  for (const double delta : {1.0, 0.3, 2.0}) {
    const Huber loss(delta);
    const Matrix g = loss_gradient(loss, predictions, targets);
    for (std::size_t i = 0; i < g.size(); ++i) {
      const Real x = Real(predictions.data()[i]) - Real(targets.data()[i]);
      const Real clipped = std::min(std::max(x, Real(-delta)), Real(delta));
      EXPECT_NEAR(g.data()[i], double(clipped / 8), 1e-7) << delta << " [" << i << "]";
    }
    const Real d = delta;
    EXPECT_NEAR(loss.value(view(predictions), view(targets)),
                double(mean_of(predictions, targets,
                               [d](Real x) { return std::fabs(x) <= d ? x * x / 2 : d * std::fabs(x) - d * d / 2; })),
                1e-9);
    expect_loss_gradient(loss, predictions, targets, "huber dL/dp, delta " + std::to_string(delta), 1e-3);
  }
}

TEST(Huber, ConfigHoldsDeltaAndRoundTrips) {
  xdense::testing::expect_registered("huber", {"huber_loss"});
  EXPECT_EQ(make_loss("huber")->config(), Config({{"delta", 1.0}}));
  const std::unique_ptr<Loss> loss = make_loss("huber_loss", {{"delta", 0.25}});
  EXPECT_EQ(loss->name(), "huber");
  EXPECT_EQ(dynamic_cast<const Huber&>(*loss).delta(), 0.25);
  EXPECT_EQ(make_loss("huber", loss->config())->config(), Config({{"delta", 0.25}}));
  for (const double bad : {0.0, -1.0}) {
    const std::string m = xdense::testing::message_of<InvalidArgument>([bad] { Huber{bad}; });
    EXPECT_NE(m.find("huber: delta must be finite and > 0, received delta="), std::string::npos) << m;
  }
  EXPECT_THROW(make_loss("huber", {{"delta", "1"}}), InvalidArgument);
}

TEST(LogCosh, ValueGradientAndRegistry) {
  const LogCosh loss;
  EXPECT_NEAR(loss.value(view(predictions), view(targets)),
              double(mean_of(predictions, targets, [](Real x) { return std::log(std::cosh(x)); })), 1e-12);
  // The Keras docstring's example: log_cosh([[0, 1], [0, 0]], [[1, 1], [0, 0]]) = 0.108.
  EXPECT_NEAR(loss.value(view(Matrix{{1.0f, 1.0f}, {0.0f, 0.0f}}), view(Matrix{{0.0f, 1.0f}, {0.0f, 0.0f}})),
              double(std::log(std::cosh(1.0L)) / 4), 1e-12);
  const Matrix g = loss_gradient(loss, predictions, targets);
  for (std::size_t i = 0; i < g.size(); ++i) {
    const Real x = Real(predictions.data()[i]) - Real(targets.data()[i]);
    EXPECT_NEAR(g.data()[i], double(std::tanh(x) / 8), 1e-8) << i;
  }
  expect_loss_gradient(loss, predictions, targets, "log_cosh dL/dp");
  xdense::testing::expect_registered("log_cosh", {"logcosh"});
}

TEST(LogCosh, HugeErrorsStayFinite) {
  // log cosh x ~ |x| - log 2 where cosh overflows; the gradient saturates at +-1 / N.
  const LogCosh loss;
  const Matrix p = {{1e30f, -1e30f, 1e4f}};
  const Matrix y = {{0.0f, 0.0f, 0.0f}};
  const double huge = p(0, 0);  // 1e30 rounded to float
  EXPECT_NEAR(loss.value(view(p), view(y)), (2 * huge + 1e4 - 3 * std::log(2.0)) / 3, 1e16);
  const Matrix g = loss_gradient(loss, p, y);
  EXPECT_FLOAT_EQ(g(0, 0), 1.0f / 3);
  EXPECT_FLOAT_EQ(g(0, 1), -1.0f / 3);
  EXPECT_FLOAT_EQ(g(0, 2), 1.0f / 3);
}

TEST(RegressionLosses, TargetsMustBeFiniteAndFitTheOutput) {
  const MeanAbsoluteError mae;
  const Huber huber;
  const LogCosh log_cosh;
  for (const Loss* loss : {static_cast<const Loss*>(&mae), static_cast<const Loss*>(&huber),
                           static_cast<const Loss*>(&log_cosh)}) {
    EXPECT_NO_THROW(loss->check_targets(view(targets), 4));
    Matrix bad = targets;
    bad(1, 2) = NAN;
    const std::string m = target_error(*loss, bad, 4);
    EXPECT_NE(m.find(loss->name() + ": expected finite targets, received nan at row 1"), std::string::npos) << m;
    EXPECT_THROW(loss->check_targets(view(targets), 3), ShapeError);
    EXPECT_THROW(loss->value(view(predictions), view(Matrix{{1.0f}})), ShapeError);
    EXPECT_NO_THROW(loss->check_output(1, nullptr));
    EXPECT_EQ(loss->label_encoding(), LabelEncoding::values);
  }
}

}  // namespace
}  // namespace xdense
