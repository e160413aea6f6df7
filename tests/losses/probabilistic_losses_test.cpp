#include "xdense/losses/probabilistic.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "losses/loss_test_support.hpp"

// Expected values are the Keras 3 formulas (keras/src/losses/losses.py) in long double:
//   kl_divergence  mean over the batch of sum_k y_k log(y_k / p_k), y and p clipped to [1e-7, 1]
//   poisson        mean over batch and units of p - y log(p + 1e-7)

namespace xdense {
namespace {

using Real = long double;
using xdense::testing::expect_loss_gradient;
using xdense::testing::loss_gradient;
using xdense::testing::target_error;

constexpr Real epsilon = 1e-7L;

Real clip(Real v) { return std::min(std::max(v, epsilon), Real(1)); }

Real reference_kld(const Matrix& p, const Matrix& y) {
  Real sum = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const Real t = clip(y.data()[i]);
    sum += t * std::log(t / clip(p.data()[i]));
  }
  return sum / Real(p.shape(0));
}

Real reference_poisson(const Matrix& p, const Matrix& y) {
  Real sum = 0;
  for (std::size_t i = 0; i < p.size(); ++i) sum += Real(p.data()[i]) - Real(y.data()[i]) * std::log(p.data()[i] + epsilon);
  return sum / Real(p.size());
}

const Matrix distributions = {{0.2f, 0.5f, 0.3f}, {0.6f, 0.1f, 0.3f}};
const Matrix soft_targets = {{0.1f, 0.7f, 0.2f}, {0.0f, 0.25f, 0.75f}};  // a 0 entry: clipped to 1e-7

TEST(KLDivergence, ValueGradientAndRegistry) {
  const KLDivergence loss;
  EXPECT_NEAR(loss.value(view(distributions), view(soft_targets)), double(reference_kld(distributions, soft_targets)),
              1e-12);
  // Identical distributions: 0.
  EXPECT_NEAR(loss.value(view(distributions), view(distributions)), 0.0, 1e-12);
  // dL/dp = -clip(y) / p / batch
  const Matrix g = loss_gradient(loss, distributions, soft_targets);
  for (std::size_t i = 0; i < g.size(); ++i) {
    EXPECT_NEAR(g.data()[i], double(-clip(soft_targets.data()[i]) / distributions.data()[i] / 2), 1e-7) << i;
  }
  expect_loss_gradient(loss, distributions, soft_targets, "kl_divergence dL/dp", 1e-3);
  xdense::testing::expect_registered("kl_divergence", {"kld", "kullback_leibler_divergence"});
}

TEST(KLDivergence, ClipsPredictionsLikeKeras) {
  // p = 0 is clipped to 1e-7 (finite loss, zero gradient); p > 1 is clipped to 1.
  const KLDivergence loss;
  const Matrix p = {{0.0f, 1.5f}};
  const Matrix y = {{0.5f, 0.5f}};
  EXPECT_NEAR(loss.value(view(p), view(y)), double(0.5L * std::log(0.5L / epsilon) + 0.5L * std::log(0.5L)), 1e-9);
  const Matrix g = loss_gradient(loss, p, y);
  EXPECT_EQ(g(0, 0), 0.0f);
  EXPECT_EQ(g(0, 1), 0.0f);
}

TEST(KLDivergence, ChecksProbabilityRowsAndUnits) {
  const KLDivergence loss;
  EXPECT_NO_THROW(loss.check_targets(view(soft_targets), 3));
  std::string m = target_error(loss, Matrix{{0.5f, 0.5f}, {1.5f, -0.5f}}, 2);
  EXPECT_NE(m.find("kl_divergence: expected probabilities in [0, 1], received 1.5"), std::string::npos) << m;
  EXPECT_NE(m.find("at row 1"), std::string::npos) << m;
  m = target_error(loss, Matrix{{0.5f, 0.5f}, {0.25f, 0.25f}}, 2);
  EXPECT_NE(m.find("kl_divergence: expected probability rows (summing to 1), received a row summing to 0.5 at row 1"),
            std::string::npos)
      << m;
  EXPECT_THROW(loss.check_targets(view(soft_targets), 2), ShapeError);
  EXPECT_THROW(loss.check_output(1, nullptr), InvalidArgument);
  EXPECT_NO_THROW(loss.check_output(3, nullptr));
  EXPECT_EQ(loss.label_encoding(), LabelEncoding::one_hot);
}

const Matrix rates = {{0.5f, 2.0f, 1.2f}, {3.5f, 0.1f, 0.8f}};
const Matrix counts = {{0.0f, 3.0f, 1.0f}, {2.0f, 0.0f, 4.0f}};

TEST(Poisson, ValueGradientAndRegistry) {
  const Poisson loss;
  EXPECT_NEAR(loss.value(view(rates), view(counts)), double(reference_poisson(rates, counts)), 1e-12);
  // dL/dp = (1 - y / (p + 1e-7)) / N
  const Matrix g = loss_gradient(loss, rates, counts);
  for (std::size_t i = 0; i < g.size(); ++i) {
    EXPECT_NEAR(g.data()[i], double((1 - counts.data()[i] / (rates.data()[i] + epsilon)) / 6), 1e-7) << i;
  }
  expect_loss_gradient(loss, rates, counts, "poisson dL/dp", 1e-3);
  // y = 0 rows only cost p: p = 0 costs nothing and stays finite.
  EXPECT_EQ(loss.value(view(Matrix{{0.0f}}), view(Matrix{{0.0f}})), 0.0);
  xdense::testing::expect_registered("poisson", {});
}

TEST(Poisson, TargetsAreNonNegativeCounts) {
  const Poisson loss;
  EXPECT_NO_THROW(loss.check_targets(view(counts), 3));
  const std::string m = target_error(loss, Matrix{{1.0f}, {2.5f}, {-1.0f}}, 1);
  EXPECT_NE(m.find("poisson: expected finite targets >= 0, received -1"), std::string::npos) << m;
  EXPECT_NE(m.find("at row 2"), std::string::npos) << m;
  EXPECT_THROW(loss.check_targets(view(Matrix{{INFINITY}}), 1), DataError);
  EXPECT_NO_THROW(loss.check_output(1, nullptr));
}

}  // namespace
}  // namespace xdense
