#include "xdense/losses/hinge.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "losses/loss_test_support.hpp"

// Expected values are the Keras 3 formulas (keras/src/losses/losses.py) in long double:
//   hinge              mean over batch and units of max(1 - y p, 0)
//   squared_hinge      mean over batch and units of max(1 - y p, 0)^2
//     (y is -1/1; a batch of 0/1 targets is converted to 2y - 1 first, as Keras does)
//   categorical_hinge  mean over the batch of max(neg - pos + 1, 0),
//                      pos = sum_k y_k p_k, neg = max_k (1 - y_k) p_k

namespace xdense {
namespace {

using Real = long double;
using xdense::testing::expect_loss_gradient;
using xdense::testing::loss_gradient;
using xdense::testing::target_error;

Real reference_hinge(const Matrix& p, const Matrix& y, bool squared) {
  bool binary = true;
  for (float t : y) binary = binary && (t == 0.0f || t == 1.0f);
  Real sum = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const Real t = binary ? 2 * Real(y.data()[i]) - 1 : Real(y.data()[i]);
    const Real margin = std::max(1 - t * Real(p.data()[i]), Real(0));
    sum += squared ? margin * margin : margin;
  }
  return sum / Real(p.size());
}

Real reference_categorical_hinge(const Matrix& p, const Matrix& y) {
  Real sum = 0;
  for (std::size_t r = 0; r < p.shape(0); ++r) {
    Real pos = 0, neg = -INFINITY;
    for (std::size_t c = 0; c < p.shape(1); ++c) {
      pos += Real(y(r, c)) * p(r, c);
      neg = std::max(neg, (1 - Real(y(r, c))) * p(r, c));
    }
    sum += std::max(neg - pos + 1, Real(0));
  }
  return sum / Real(p.shape(0));
}

// Margins 1 - y p away from 0 (the kink), some active, some not.
const Matrix scores = {{0.3f, -1.7f, 2.6f}, {-0.45f, 1.2f, 0.5f}};
const Matrix signs = {{1.0f, -1.0f, -1.0f}, {1.0f, 1.0f, -1.0f}};
const Matrix bits = {{1.0f, 0.0f, 0.0f}, {1.0f, 1.0f, 0.0f}};  // the same labels as 0/1

TEST(Hinge, ZeroOneTargetsAreConvertedAsKerasDoes) {
  const Hinge loss;
  // margins: 0.7, 0 (1 - 1.7 < 0), 3.6, 1.45, 0 (1 - 1.2 < 0), 1.5 -> 7.25 / 6
  EXPECT_NEAR(loss.value(view(scores), view(signs)), 7.25 / 6, 1e-7);
  EXPECT_EQ(loss.value(view(scores), view(signs)), loss.value(view(scores), view(bits)));
  EXPECT_NEAR(loss.value(view(scores), view(signs)), double(reference_hinge(scores, signs, false)), 1e-12);
  const Matrix g = loss_gradient(loss, scores, signs);
  const Matrix g01 = loss_gradient(loss, scores, bits);
  EXPECT_TRUE(std::equal(g.begin(), g.end(), g01.begin()));
  // -y / N where the margin is > 0, else 0
  const float n = 6.0f;
  const float expected[] = {-1 / n, 0.0f, 1 / n, -1 / n, 0.0f, 1 / n};
  for (std::size_t i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(g.data()[i], expected[i]) << i;
  expect_loss_gradient(loss, scores, signs, "hinge dL/dp");
  // No margin at all: loss 0, gradient 0.
  EXPECT_EQ(loss.value(view(Matrix{{2.0f, -3.0f}}), view(Matrix{{1.0f, -1.0f}})), 0.0);
  xdense::testing::expect_registered("hinge", {});
}

TEST(SquaredHinge, ValueGradientAndRegistry) {
  const SquaredHinge loss;
  // 0.49 + 12.96 + 2.1025 + 2.25 = 17.8025 over 6
  EXPECT_NEAR(loss.value(view(scores), view(signs)), 17.8025 / 6, 1e-6);
  EXPECT_NEAR(loss.value(view(scores), view(bits)), double(reference_hinge(scores, bits, true)), 1e-12);
  const Matrix g = loss_gradient(loss, scores, bits);
  for (std::size_t i = 0; i < g.size(); ++i) {
    const Real t = signs.data()[i];
    const Real margin = std::max(1 - t * Real(scores.data()[i]), Real(0));
    EXPECT_NEAR(g.data()[i], double(-2 * t * margin / 6), 1e-7) << i;
  }
  expect_loss_gradient(loss, scores, signs, "squared_hinge dL/dp");
  expect_loss_gradient(loss, scores, bits, "squared_hinge dL/dp, 0/1 targets");
  xdense::testing::expect_registered("squared_hinge", {});
}

TEST(HingeLosses, TargetsAreMinusOneOneOrZeroOne) {
  const Hinge hinge;
  const SquaredHinge squared;
  for (const Loss* loss : {static_cast<const Loss*>(&hinge), static_cast<const Loss*>(&squared)}) {
    EXPECT_NO_THROW(loss->check_targets(view(signs), 3));
    EXPECT_NO_THROW(loss->check_targets(view(bits), 3));
    std::string m = target_error(*loss, Matrix{{1.0f, 0.0f}, {0.5f, 1.0f}}, 2);
    EXPECT_NE(m.find(loss->name() + ": expected targets -1 or 1 (or 0 or 1), received 0.5"), std::string::npos) << m;
    EXPECT_NE(m.find("at row 1"), std::string::npos) << m;
    // A 0 and a -1 in one data set is neither encoding.
    m = target_error(*loss, Matrix{{1.0f, -1.0f}, {1.0f, 1.0f}, {0.0f, 1.0f}}, 2);
    EXPECT_NE(m.find("expected targets all -1 or 1, or all 0 or 1, received 0"), std::string::npos) << m;
    EXPECT_NE(m.find("at row 2 after -1"), std::string::npos) << m;
    EXPECT_NE(m.find("at row 0"), std::string::npos) << m;
    EXPECT_THROW(loss->check_targets(view(signs), 2), ShapeError);
    EXPECT_EQ(loss->label_encoding(), LabelEncoding::one_hot);
  }
}

// Predictions away from ties and from a zero loss.
const Matrix class_scores = {{0.2f, 0.9f, 0.4f, -0.3f}, {1.5f, 0.1f, 0.7f, 0.3f}, {0.05f, -0.2f, 0.6f, 0.45f}};
const Matrix one_hot = {{0.0f, 1.0f, 0.0f, 0.0f}, {0.0f, 0.0f, 1.0f, 0.0f}, {1.0f, 0.0f, 0.0f, 0.0f}};

TEST(CategoricalHinge, ValueGradientAndRegistry) {
  const CategoricalHinge loss;
  // rows: neg 0.4 pos 0.9 -> 0.5; neg 1.5 pos 0.7 -> 1.8; neg 0.6 pos 0.05 -> 1.55 => 3.85 / 3
  EXPECT_NEAR(loss.value(view(class_scores), view(one_hot)), 3.85 / 3, 1e-7);
  EXPECT_NEAR(loss.value(view(class_scores), view(one_hot)), double(reference_categorical_hinge(class_scores, one_hot)),
              1e-12);
  // dL/dp = (-y + [j = argmax (1 - y) p]) / batch where the loss is > 0
  const Matrix g = loss_gradient(loss, class_scores, one_hot);
  const float b = 1.0f / 3;
  const Matrix expected = {{0, -b, b, 0}, {b, 0, -b, 0}, {-b, 0, b, 0}};
  for (std::size_t i = 0; i < g.size(); ++i) EXPECT_FLOAT_EQ(g.data()[i], expected.data()[i]) << i;
  expect_loss_gradient(loss, class_scores, one_hot, "categorical_hinge dL/dp");
  // The Keras docstring's formula on a row with a margin of more than 1: loss 0, gradient 0.
  const Matrix confident = {{0.0f, 3.0f, 0.5f}};
  EXPECT_EQ(loss.value(view(confident), view(Matrix{{0.0f, 1.0f, 0.0f}})), 0.0);
  const Matrix g0 = loss_gradient(loss, confident, Matrix{{0.0f, 1.0f, 0.0f}});
  EXPECT_TRUE(std::all_of(g0.begin(), g0.end(), [](float v) { return v == 0.0f; }));
  xdense::testing::expect_registered("categorical_hinge", {});
}

TEST(CategoricalHinge, TiedMaximaShareTheGradient) {
  // neg is attained by columns 0 and 2: each gets half of the maximum's gradient, as
  // TensorFlow's reduce_max and torch.amax share it.
  const CategoricalHinge loss;
  const Matrix p = {{0.5f, 0.2f, 0.5f}};
  const Matrix y = {{0.0f, 1.0f, 0.0f}};
  const Matrix g = loss_gradient(loss, p, y);
  EXPECT_FLOAT_EQ(g(0, 0), 0.5f);
  EXPECT_FLOAT_EQ(g(0, 1), -1.0f);
  EXPECT_FLOAT_EQ(g(0, 2), 0.5f);
}

TEST(CategoricalHinge, ChecksOneHotTargetsAndClassUnits) {
  const CategoricalHinge loss;
  EXPECT_NO_THROW(loss.check_targets(view(one_hot), 4));
  std::string m = target_error(loss, Matrix{{0.0f, 1.0f}, {0.0f, 0.5f}}, 2);
  EXPECT_NE(m.find("categorical_hinge: expected one-hot targets (entries 0 or 1), received 0.5 at row 1"),
            std::string::npos)
      << m;
  m = target_error(loss, Matrix{{0.0f, 1.0f}, {1.0f, 1.0f}}, 2);
  EXPECT_NE(m.find("exactly one 1 per row), received 2 ones at row 1"), std::string::npos) << m;
  m = target_error(loss, Matrix{{0.0f, 0.0f}}, 2);
  EXPECT_NE(m.find("received 0 ones at row 0"), std::string::npos) << m;
  EXPECT_THROW(loss.check_targets(view(Matrix{{1.0f}, {0.0f}}), 2), ShapeError);  // no class indices
  m = xdense::testing::message_of<InvalidArgument>([&] { loss.check_output(1, nullptr); });
  EXPECT_NE(m.find("categorical_hinge: expected an output layer with one unit per class (at least 2), received 1"),
            std::string::npos)
      << m;
  EXPECT_NO_THROW(loss.check_output(2, nullptr));
}

}  // namespace
}  // namespace xdense
