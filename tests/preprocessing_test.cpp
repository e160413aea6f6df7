#include "xdense/preprocessing.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "xdense/error.hpp"
#include "xdense/random.hpp"

namespace xdense {
namespace {

/// (n, 2) matrix whose row i is (i, 100 + i), so a row's origin can be read back from it.
Matrix numbered_rows(std::size_t n) {
  Matrix x = Matrix::from_shape({n, std::size_t{2}});
  for (std::size_t i = 0; i < n; ++i) {
    x(i, 0) = static_cast<float>(i);
    x(i, 1) = static_cast<float>(100 + i);
  }
  return x;
}

/// (n, 1) labels: the first counts[0] rows are class 0, the next counts[1] class 1, ...
Matrix class_labels(const std::vector<std::size_t>& counts) {
  std::size_t n = 0;
  for (std::size_t c : counts) n += c;
  Matrix y = Matrix::from_shape({n, std::size_t{1}});
  std::size_t r = 0;
  for (std::size_t k = 0; k < counts.size(); ++k) {
    for (std::size_t i = 0; i < counts[k]; ++i) y(r++, 0) = static_cast<float>(k);
  }
  return y;
}

/// Original row numbers (column 0 of numbered_rows) of a split part.
std::vector<std::size_t> origins(const Matrix& x) {
  std::vector<std::size_t> rows;
  for (std::size_t r = 0; r < x.shape(0); ++r) rows.push_back(static_cast<std::size_t>(x(r, 0)));
  return rows;
}

std::size_t count_class(const Matrix& y, float k) {
  std::size_t n = 0;
  for (std::size_t r = 0; r < y.shape(0); ++r) n += y(r, 0) == k;
  return n;
}

bool same(const Matrix& a, const Matrix& b) {
  return a.shape() == b.shape() && std::equal(a.begin(), a.end(), b.begin());
}

// --- Standardizer --------------------------------------------------------------------

TEST(Standardizer, FitMatchesHandComputation) {
  // Column 0: mean 3, population variance (4 + 1 + 0 + 9) / 4 = 3.5. Column 1: mean -2.5,
  // variance (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25.
  const Matrix x = {{1.0f, -1.0f}, {2.0f, -2.0f}, {3.0f, -3.0f}, {6.0f, -4.0f}};
  Standardizer s;
  EXPECT_FALSE(s.fitted());
  s.fit(x);
  EXPECT_TRUE(s.fitted());
  ASSERT_EQ(s.mean().size(), 2u);
  EXPECT_FLOAT_EQ(s.mean()(0), 3.0f);
  EXPECT_FLOAT_EQ(s.mean()(1), -2.5f);
  EXPECT_FLOAT_EQ(s.scale()(0), std::sqrt(3.5f));
  EXPECT_FLOAT_EQ(s.scale()(1), std::sqrt(1.25f));

  const Matrix z = s.transform(x);
  ASSERT_EQ(z.shape(0), 4u);
  ASSERT_EQ(z.shape(1), 2u);
  EXPECT_FLOAT_EQ(z(0, 0), -2.0f / std::sqrt(3.5f));
  EXPECT_FLOAT_EQ(z(3, 0), 3.0f / std::sqrt(3.5f));
  EXPECT_FLOAT_EQ(z(0, 1), 1.5f / std::sqrt(1.25f));
  // Standardised columns have mean 0 and population std 1.
  for (std::size_t c = 0; c < 2; ++c) {
    double sum = 0.0;
    double squares = 0.0;
    for (std::size_t r = 0; r < 4; ++r) {
      sum += z(r, c);
      squares += z(r, c) * z(r, c);
    }
    EXPECT_NEAR(sum / 4.0, 0.0, 1e-6);
    EXPECT_NEAR(squares / 4.0, 1.0, 1e-6);
  }
}

TEST(Standardizer, ZeroVarianceColumnGetsScaleOne) {
  Matrix x = Matrix::from_shape({1000, 2});
  for (std::size_t r = 0; r < 1000; ++r) {
    x(r, 0) = 0.1f;  // constant, and 0.1 is not exact in binary
    x(r, 1) = static_cast<float>(r % 2);
  }
  Standardizer s;
  const Matrix z = s.fit_transform(x);
  EXPECT_FLOAT_EQ(s.mean()(0), 0.1f);
  EXPECT_EQ(s.scale()(0), 1.0f);
  EXPECT_FLOAT_EQ(s.scale()(1), 0.5f);
  for (std::size_t r = 0; r < 1000; ++r) {
    ASSERT_EQ(z(r, 0), 0.0f);
    ASSERT_FLOAT_EQ(z(r, 1), r % 2 ? 1.0f : -1.0f);
  }
}

TEST(Standardizer, SingleSampleIsAllConstant) {
  const Matrix x = {{5.0f, -7.0f}};
  Standardizer s;
  const Matrix z = s.fit_transform(x);
  EXPECT_EQ(s.scale()(0), 1.0f);
  EXPECT_EQ(s.scale()(1), 1.0f);
  EXPECT_EQ(z(0, 0), 0.0f);
  EXPECT_EQ(z(0, 1), 0.0f);
}

TEST(Standardizer, TransformInPlaceMatchesTransform) {
  const Matrix x = {{1.0f, 4.0f, 0.5f}, {2.0f, 8.0f, 0.25f}, {4.0f, 0.0f, 1.0f}};
  Standardizer s;
  s.fit(x);
  Matrix y = x;
  s.transform_in_place(y);
  EXPECT_TRUE(same(y, s.transform(x)));
}

TEST(Standardizer, AppliesTrainingStatisticsToNewData) {
  Standardizer s;
  s.fit(Matrix{{0.0f}, {2.0f}});  // mean 1, scale 1
  const Matrix z = s.transform(Matrix{{5.0f}, {-1.0f}, {1.0f}});
  EXPECT_EQ(z(0, 0), 4.0f);
  EXPECT_EQ(z(1, 0), -2.0f);
  EXPECT_EQ(z(2, 0), 0.0f);
}

TEST(Standardizer, FromSavedStatistics) {
  Vector mean = {1.0f, -1.0f};
  Vector scale = {2.0f, 0.5f};
  const Standardizer s(mean, scale);
  EXPECT_TRUE(s.fitted());
  const Matrix z = s.transform(Matrix{{3.0f, 0.0f}});
  EXPECT_EQ(z(0, 0), 1.0f);
  EXPECT_EQ(z(0, 1), 2.0f);
}

TEST(Standardizer, InverseTransformGivesTheUnitsBack) {
  const Standardizer s(Vector{1.0f, -1.0f}, Vector{2.0f, 0.5f});
  const Matrix back = s.inverse_transform(Matrix{{1.0f, 2.0f}, {0.0f, -4.0f}});  // x * scale + mean
  EXPECT_EQ(back(0, 0), 3.0f);
  EXPECT_EQ(back(0, 1), 0.0f);
  EXPECT_EQ(back(1, 0), 1.0f);
  EXPECT_EQ(back(1, 1), -3.0f);
  // Targets on a large scale come back within a float rounding.
  Standardizer prices;
  const Matrix y = {{123456.0f}, {98765.5f}, {250000.25f}};
  prices.fit(y);
  Matrix z = prices.transform(y);
  prices.inverse_transform_in_place(z);
  for (std::size_t r = 0; r < 3; ++r) EXPECT_NEAR(z(r, 0), y(r, 0), 0.02);
  Matrix wrong = Matrix::from_shape({2, 3});
  EXPECT_THROW(s.inverse_transform_in_place(wrong), ShapeError);
  EXPECT_THROW(Standardizer().inverse_transform(y), StateError);
}

TEST(Standardizer, InvalidSavedStatistics) {
  EXPECT_THROW(Standardizer(Vector{1.0f, 2.0f}, Vector{1.0f}), InvalidArgument);
  EXPECT_THROW(Standardizer(Vector::from_shape({0}), Vector::from_shape({0})), InvalidArgument);
  EXPECT_THROW(Standardizer(Vector{1.0f}, Vector{0.0f}), InvalidArgument);
  EXPECT_THROW(Standardizer(Vector{1.0f}, Vector{-1.0f}), InvalidArgument);
  EXPECT_THROW(Standardizer(Vector{1.0f}, Vector{std::numeric_limits<float>::infinity()}), InvalidArgument);
  EXPECT_THROW(Standardizer(Vector{std::numeric_limits<float>::quiet_NaN()}, Vector{1.0f}), InvalidArgument);
}

TEST(Standardizer, Errors) {
  Standardizer s;
  EXPECT_THROW(s.transform(Matrix{{1.0f}}), StateError);
  EXPECT_THROW(s.fit(Matrix::from_shape({0, 3})), DataError);
  EXPECT_THROW(s.fit(Matrix::from_shape({3, 0})), DataError);
  EXPECT_THROW(s.fit(Matrix{{1.0f, std::numeric_limits<float>::quiet_NaN()}}), DataError);
  EXPECT_FALSE(s.fitted());  // a failed fit leaves it unfitted

  s.fit(Matrix{{1.0f, 2.0f}, {3.0f, 4.0f}});
  try {
    s.transform(Matrix{{1.0f, 2.0f, 3.0f}});
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& e) {
    EXPECT_EQ(std::string(e.what()), "Standardizer::transform: expected x with 2 columns (as fitted), got x (1, 3)");
  }
  Matrix wrong = Matrix::from_shape({2, 1});
  EXPECT_THROW(s.transform_in_place(wrong), ShapeError);
}

// --- take_rows -------------------------------------------------------------------------

TEST(TakeRows, SelectsInGivenOrder) {
  const Matrix x = numbered_rows(5);
  const Matrix t = take_rows(x, {4, 0, 4});
  ASSERT_EQ(t.shape(0), 3u);
  ASSERT_EQ(t.shape(1), 2u);
  EXPECT_EQ(t(0, 0), 4.0f);
  EXPECT_EQ(t(0, 1), 104.0f);
  EXPECT_EQ(t(1, 1), 100.0f);
  EXPECT_EQ(t(2, 0), 4.0f);
  EXPECT_EQ(take_rows(x, {}).shape(0), 0u);
  EXPECT_THROW(take_rows(x, {1, 5}), InvalidArgument);
}

TEST(PermuteRows, GivesWhatTakeRowsGivesInPlace) {
  // Orders with one long cycle, fixed points, 2-cycles, and a random one of 1,000 rows.
  std::vector<std::vector<std::size_t>> orders = {{0}, {1, 0}, {0, 1, 2}, {1, 2, 3, 4, 0}, {4, 1, 3, 2, 0, 5}};
  std::vector<std::size_t> big(1000);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = i;
  Rng rng(9);
  rng.shuffle(big);
  orders.push_back(big);
  for (const auto& order : orders) {
    Matrix x = numbered_rows(order.size());
    const Matrix expected = take_rows(x, order);
    const float* storage = x.data();
    permute_rows(x, order);
    EXPECT_TRUE(same(x, expected)) << order.size() << " rows";
    EXPECT_EQ(x.data(), storage);  // in place: the same memory
  }
  Matrix empty = Matrix::from_shape({0, 2});
  permute_rows(empty, {});
  EXPECT_EQ(empty.shape(0), 0u);
}

TEST(PermuteRows, RefusesWhatIsNotAPermutationAndLeavesXAlone) {
  Matrix x = numbered_rows(3);
  const Matrix before = x;
  EXPECT_THROW(permute_rows(x, {0, 1}), InvalidArgument);
  EXPECT_THROW(permute_rows(x, {0, 1, 3}), InvalidArgument);
  EXPECT_THROW(permute_rows(x, {0, 2, 2}), InvalidArgument);
  EXPECT_TRUE(same(x, before));
}

// --- train_test_split ------------------------------------------------------------------------

TEST(TrainTestSplit, SizesAndDisjointness) {
  const Matrix x = numbered_rows(10);
  Matrix y = Matrix::from_shape({10, 1});
  for (std::size_t i = 0; i < 10; ++i) y(i, 0) = static_cast<float>(i);

  const Split s = train_test_split(x, y, 0.3, 7);
  EXPECT_EQ(s.x_train.shape(0), 7u);
  EXPECT_EQ(s.y_train.shape(0), 7u);
  EXPECT_EQ(s.x_test.shape(0), 3u);
  EXPECT_EQ(s.y_test.shape(0), 3u);
  EXPECT_EQ(s.x_train.shape(1), 2u);

  // x and y rows stay paired.
  for (std::size_t r = 0; r < 7; ++r) EXPECT_EQ(s.x_train(r, 0), s.y_train(r, 0));
  for (std::size_t r = 0; r < 3; ++r) EXPECT_EQ(s.x_test(r, 0), s.y_test(r, 0));

  // Every row lands in exactly one part.
  std::vector<std::size_t> all = origins(s.x_train);
  const std::vector<std::size_t> test = origins(s.x_test);
  all.insert(all.end(), test.begin(), test.end());
  std::sort(all.begin(), all.end());
  std::vector<std::size_t> expected(10);
  for (std::size_t i = 0; i < 10; ++i) expected[i] = i;
  EXPECT_EQ(all, expected);
}

TEST(TrainTestSplit, SameSeedSameSplitOtherSeedOtherSplit) {
  const Matrix x = numbered_rows(100);
  const Matrix y = class_labels({50, 50});
  const Split a = train_test_split(x, y, 0.25, 3);
  const Split b = train_test_split(x, y, 0.25, 3);
  const Split c = train_test_split(x, y, 0.25, 4);
  EXPECT_TRUE(same(a.x_train, b.x_train));
  EXPECT_TRUE(same(a.x_test, b.x_test));
  EXPECT_TRUE(same(a.y_test, b.y_test));
  EXPECT_FALSE(same(a.x_test, c.x_test));
}

TEST(TrainTestSplit, RowsAreTheRowsOfTheSplitPlainAndStratified) {
  const Matrix x = numbered_rows(90);
  const Matrix y = class_labels({50, 30, 10});
  for (const bool stratify : {false, true}) {
    const Split split = train_test_split(x, y, 0.2, 11, stratify);
    const SplitRows rows = train_test_split_rows(y, 0.2, 11, stratify);
    EXPECT_EQ(origins(split.x_train), rows.train) << stratify;
    EXPECT_EQ(origins(split.x_test), rows.test) << stratify;
  }
  EXPECT_THROW(train_test_split_rows(y, 1.0, 1), InvalidArgument);
  EXPECT_THROW(train_test_split_rows(class_labels({1}), 0.5, 1), DataError);
}

TEST(TrainTestSplit, RoundsAndKeepsBothPartsNonEmpty) {
  const Matrix y5 = class_labels({5});
  EXPECT_EQ(train_test_split(numbered_rows(5), y5, 0.5, 1).x_test.shape(0), 3u);  // round(2.5) = 3
  EXPECT_EQ(train_test_split(numbered_rows(5), y5, 0.1, 1).x_test.shape(0), 1u);  // round(0.5) = 1
  const Matrix y2 = class_labels({2});
  EXPECT_EQ(train_test_split(numbered_rows(2), y2, 0.01, 1).x_test.shape(0), 1u);   // at least 1
  EXPECT_EQ(train_test_split(numbered_rows(2), y2, 0.99, 1).x_train.shape(0), 1u);  // at most n - 1
}

TEST(TrainTestSplit, MultiColumnTargetsMoveWithTheirRows) {
  const Matrix x = numbered_rows(6);
  Matrix y = Matrix::from_shape({6, 3});
  for (std::size_t r = 0; r < 6; ++r) {
    for (std::size_t c = 0; c < 3; ++c) y(r, c) = static_cast<float>(10 * r + c);
  }
  const Split s = train_test_split(x, y, 0.5, 9);
  ASSERT_EQ(s.y_test.shape(1), 3u);
  for (std::size_t r = 0; r < s.x_test.shape(0); ++r) {
    EXPECT_EQ(s.y_test(r, 2), 10.0f * s.x_test(r, 0) + 2.0f);
  }
}

TEST(TrainTestSplit, StratifiedKeepsClassProportions) {
  const Matrix x = numbered_rows(100);
  const Matrix y = class_labels({70, 30});
  const Split s = train_test_split(x, y, 0.2, 11, true);
  EXPECT_EQ(s.y_test.shape(0), 20u);
  EXPECT_EQ(count_class(s.y_test, 0.0f), 14u);
  EXPECT_EQ(count_class(s.y_test, 1.0f), 6u);
  EXPECT_EQ(count_class(s.y_train, 0.0f), 56u);
  EXPECT_EQ(count_class(s.y_train, 1.0f), 24u);
  for (std::size_t r = 0; r < 20; ++r) EXPECT_EQ(s.y_test(r, 0), s.x_test(r, 0) < 70.0f ? 0.0f : 1.0f);

  const Split iris_like = train_test_split(numbered_rows(150), class_labels({50, 50, 50}), 0.3, 5, true);
  for (float k : {0.0f, 1.0f, 2.0f}) {
    EXPECT_EQ(count_class(iris_like.y_test, k), 15u);
    EXPECT_EQ(count_class(iris_like.y_train, k), 35u);
  }
  const Split again = train_test_split(numbered_rows(150), class_labels({50, 50, 50}), 0.3, 5, true);
  EXPECT_TRUE(same(iris_like.x_test, again.x_test));
}

TEST(TrainTestSplit, StratifiedSmallClasses) {
  // round(0.8 * 2) = 2 would leave no training row: each class keeps one.
  const Split s = train_test_split(numbered_rows(4), class_labels({2, 2}), 0.8, 1, true);
  EXPECT_EQ(count_class(s.y_test, 0.0f), 1u);
  EXPECT_EQ(count_class(s.y_test, 1.0f), 1u);
  // Every class rounds to 0 test rows: one row of the largest class is still held out.
  const Split t = train_test_split(numbered_rows(7), class_labels({2, 3, 2}), 0.1, 1, true);
  EXPECT_EQ(t.y_test.shape(0), 1u);
  EXPECT_EQ(t.y_test(0, 0), 1.0f);
}

TEST(TrainTestSplit, Errors) {
  const Matrix x = numbered_rows(4);
  const Matrix y = class_labels({2, 2});
  for (double bad : {0.0, 1.0, -0.5, 1.5, std::nan("")}) {
    EXPECT_THROW(train_test_split(x, y, bad, 1), InvalidArgument) << bad;
  }
  EXPECT_THROW(train_test_split(x, class_labels({2, 1}), 0.5, 1), ShapeError);
  EXPECT_THROW(train_test_split(numbered_rows(1), class_labels({1}), 0.5, 1), DataError);
  EXPECT_THROW(train_test_split(numbered_rows(0), class_labels({}), 0.5, 1), DataError);
  EXPECT_THROW(train_test_split(x, Matrix::from_shape({4, 2}), 0.5, 1, true), ShapeError);
  Matrix fractional = y;
  fractional(2, 0) = 0.5f;
  EXPECT_THROW(train_test_split(x, fractional, 0.5, 1, true), DataError);
  Matrix negative = y;
  negative(0, 0) = -1.0f;
  EXPECT_THROW(train_test_split(x, negative, 0.5, 1, true), DataError);
}

// --- one_hot -----------------------------------------------------------------------------

TEST(OneHot, EncodesClassIndices) {
  const Matrix labels = {{0.0f}, {2.0f}, {1.0f}, {2.0f}};
  const Matrix expected = {{1, 0, 0}, {0, 0, 1}, {0, 1, 0}, {0, 0, 1}};
  EXPECT_TRUE(same(one_hot(labels, 3), expected));
  EXPECT_EQ(one_hot(labels, 5).shape(1), 5u);
}

TEST(OneHot, Errors) {
  try {
    one_hot(Matrix{{0.0f}, {3.0f}}, 3);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()), "one_hot: row 1: label 3 is out of range for 3 classes (expected 0..2)");
  }
  try {
    one_hot(Matrix{{0.0f}, {1.0f}, {1.5f}}, 3);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()), "one_hot: row 2: label 1.5 is not an integer class index");
  }
  EXPECT_THROW(one_hot(Matrix{{-1.0f}}, 3), DataError);
  EXPECT_THROW(one_hot(Matrix{{std::numeric_limits<float>::quiet_NaN()}}, 3), DataError);
  EXPECT_THROW(one_hot(Matrix{{0.0f}}, 0), InvalidArgument);
  EXPECT_THROW(one_hot(Matrix{{0.0f, 1.0f}}, 3), ShapeError);
}

}  // namespace
}  // namespace xdense
