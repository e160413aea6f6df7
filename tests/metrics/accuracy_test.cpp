// Tests of include/xdense/metrics/accuracy.hpp: binary accuracy at a threshold, class-index and
// one-hot targets, accumulation over batches, settings and refusals.

#include "xdense/metrics/accuracy.hpp"

#include <cmath>
#include <memory>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "error_messages.hpp"
#include "xdense/error.hpp"
#include "xdense/loss.hpp"

namespace xdense {
namespace {

using testing::contains;
using testing::message_of;

TEST(Accuracy, BinaryPredictsOneAboveTheThreshold) {
  const Matrix p = {{0.9f}, {0.5f}, {0.4f}, {0.2f}, {0.7f}};
  const Matrix y = {{1}, {1}, {0}, {1}, {0}};
  Accuracy accuracy;
  EXPECT_TRUE(std::isnan(accuracy.result()));  // no sample yet
  accuracy.update(view(p), view(y));
  // 0.9 -> 1 right, 0.5 -> 0 (not > 0.5) wrong, 0.4 -> 0 right, 0.2 -> 0 wrong, 0.7 -> 1 wrong.
  EXPECT_DOUBLE_EQ(accuracy.result(), 2.0 / 5.0);

  Accuracy low(AccuracyOptions{0.3});
  low.update(view(p), view(y));
  // At 0.3: 1, 1, 1, 0, 1 against 1, 1, 0, 1, 0: two right... 0.9 and 0.5 right, others wrong.
  EXPECT_DOUBLE_EQ(low.result(), 2.0 / 5.0);
  Accuracy high(AccuracyOptions{0.8});
  high.update(view(p), view(y));
  // At 0.8: 1, 0, 0, 0, 0 against 1, 1, 0, 1, 0: rows 0, 2, 4 right.
  EXPECT_DOUBLE_EQ(high.result(), 3.0 / 5.0);
}

TEST(Accuracy, ArgmaxAgainstClassIndicesOrOneHotRowsOverEveryBatch) {
  const Matrix p = {{0.1f, 0.7f, 0.2f}, {0.5f, 0.3f, 0.2f}, {0.2f, 0.2f, 0.6f}, {0.3f, 0.4f, 0.3f}};
  const Matrix sparse = {{1}, {0}, {0}, {2}};
  const Matrix dense = {{0, 1, 0}, {1, 0, 0}, {1, 0, 0}, {0, 0, 1}};
  Accuracy a, b;
  a.update(view(p), view(sparse));
  b.update(view(p), view(dense));
  EXPECT_DOUBLE_EQ(a.result(), 0.5);
  EXPECT_DOUBLE_EQ(b.result(), 0.5);
  // A second batch adds to the first: (2 + 1) / (4 + 1), not the mean of 0.5 and 1.
  const Matrix p2 = {{0.0f, 0.0f, 1.0f}};
  const Matrix y2 = {{2}};
  a.update(view(p2), view(y2));
  EXPECT_DOUBLE_EQ(a.result(), 3.0 / 5.0);
  a.reset();
  EXPECT_TRUE(std::isnan(a.result()));
}

TEST(Accuracy, SettingsRoundTripAndRefusals) {
  EXPECT_EQ(make_metric("acc")->name(), "accuracy");
  EXPECT_TRUE(make_metric("accuracy")->config().empty());
  const auto configured = make_metric("accuracy", {{"threshold", 0.25}});
  EXPECT_EQ(configured->config(), Config({{"threshold", 0.25}}));
  EXPECT_DOUBLE_EQ(dynamic_cast<const Accuracy&>(*make_metric("accuracy", configured->config())).threshold(), 0.25);

  std::string m = message_of<InvalidArgument>([] { Accuracy(AccuracyOptions{1.5}); });
  EXPECT_TRUE(contains(m, "threshold must be in [0, 1], received threshold=1.5"));
  m = message_of<ConfigError>([] { make_metric("accuracy", {{"treshold", 0.2}}); });
  EXPECT_TRUE(contains(m, "treshold"));

  Accuracy accuracy;
  m = message_of<InvalidArgument>([&] { accuracy.check_model(1, *make_loss("mse")); });
  EXPECT_TRUE(contains(m, "regression loss mean_squared_error"));
  EXPECT_NO_THROW(accuracy.check_model(1, *make_loss("binary_crossentropy")));
  EXPECT_NO_THROW(accuracy.check_model(3, *make_loss("categorical_crossentropy")));

  const Matrix p = {{0.1f, 0.9f}, {0.8f, 0.2f}};
  const Matrix wrong = {{1, 0, 0}, {0, 1, 0}};
  m = message_of<ShapeError>([&] { accuracy.update(view(p), view(wrong)); });
  EXPECT_TRUE(contains(m, "accuracy: expected targets of shape (2, 2) or (2, 1)"));
}

}  // namespace
}  // namespace xdense
