// Tests of the tensor types (tensor.hpp): the borrowed views, view() over a
// Matrix, to_matrix(), and BatchBuffer's reuse-without-reallocation contract.

#include "xdense/tensor.hpp"

#include <gtest/gtest.h>

#include <type_traits>

namespace xdense {
namespace {

/// A (rows, cols) matrix holding 0, 1, 2, ... in row-major order.
Matrix iota(std::size_t rows, std::size_t cols) {
  Matrix m = Matrix::from_shape({rows, cols});
  for (std::size_t i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>(i);
  return m;
}

// ------------------------------------------------------------- views

TEST(MatrixView, DefaultIsEmpty) {
  const MatrixView v;
  EXPECT_EQ(v.data, nullptr);
  EXPECT_EQ(v.rows, 0u);
  EXPECT_EQ(v.cols, 0u);
  EXPECT_EQ(v.size(), 0u);
  const ConstMatrixView c;
  EXPECT_EQ(c.data, nullptr);
  EXPECT_EQ(c.size(), 0u);
}

TEST(MatrixView, AccessorsAreRowMajor) {
  float storage[6] = {0, 1, 2, 3, 4, 5};
  const MatrixView v{storage, 2, 3};
  EXPECT_EQ(v.size(), 6u);
  EXPECT_EQ(v.row(0), storage);
  EXPECT_EQ(v.row(1), storage + 3);  // row r starts at r * cols
  EXPECT_EQ(v(0, 2), 2.0f);
  EXPECT_EQ(v(1, 0), 3.0f);
  EXPECT_EQ(v(1, 2), 5.0f);
  v(1, 1) = 40.0f;  // writes go through to the borrowed storage
  EXPECT_EQ(storage[4], 40.0f);
  v.row(0)[1] = 10.0f;
  EXPECT_EQ(storage[1], 10.0f);
}

TEST(ConstMatrixView, AccessorsAndConversionFromMatrixView) {
  float storage[6] = {0, 1, 2, 3, 4, 5};
  const ConstMatrixView c(storage, 3, 2);
  EXPECT_EQ(c.size(), 6u);
  EXPECT_EQ(c.row(2), storage + 4);
  EXPECT_EQ(c(2, 1), 5.0f);
  EXPECT_EQ(c(1, 0), 2.0f);
  static_assert(std::is_convertible_v<MatrixView, ConstMatrixView>, "a mutable view converts implicitly");
  static_assert(!std::is_convertible_v<ConstMatrixView, MatrixView>, "but not the other way");
  const MatrixView v{storage, 2, 3};
  const ConstMatrixView converted = v;
  EXPECT_EQ(converted.data, storage);
  EXPECT_EQ(converted.rows, 2u);
  EXPECT_EQ(converted.cols, 3u);
  EXPECT_EQ(converted(1, 2), 5.0f);
  storage[5] = 50.0f;  // a view, not a copy
  EXPECT_EQ(converted(1, 2), 50.0f);
}

TEST(View, CoversTheWholeMatrix) {
  Matrix m = iota(3, 4);
  const MatrixView v = view(m);
  EXPECT_EQ(v.data, m.data());
  EXPECT_EQ(v.rows, 3u);
  EXPECT_EQ(v.cols, 4u);
  for (std::size_t r = 0; r < 3; ++r) {
    for (std::size_t c = 0; c < 4; ++c) EXPECT_EQ(v(r, c), m(r, c));
  }
  v(2, 3) = -1.0f;
  EXPECT_EQ(m(2, 3), -1.0f);
  const Matrix& cm = m;
  const ConstMatrixView cv = view(cm);
  static_assert(std::is_same_v<decltype(view(cm)), ConstMatrixView>, "const matrix gives a read-only view");
  EXPECT_EQ(cv.data, m.data());
  EXPECT_EQ(cv.rows, 3u);
  EXPECT_EQ(cv.cols, 4u);
  EXPECT_EQ(cv(1, 2), 6.0f);
}

TEST(ToMatrix, CopiesShapeAndValues) {
  Matrix m = iota(2, 5);
  const Matrix copy = to_matrix(view(m));
  ASSERT_EQ(copy.shape(0), 2u);
  ASSERT_EQ(copy.shape(1), 5u);
  EXPECT_NE(copy.data(), m.data());
  for (std::size_t r = 0; r < 2; ++r) {
    for (std::size_t c = 0; c < 5; ++c) EXPECT_EQ(copy(r, c), static_cast<float>(r * 5 + c));
  }
  m(0, 0) = 99.0f;  // independent of the source afterwards
  EXPECT_EQ(copy(0, 0), 0.0f);
}

TEST(ToMatrix, CopiesOnlyTheViewedRows) {
  Matrix m = iota(4, 3);
  const Matrix top = to_matrix(ConstMatrixView(m.data(), 2, 3));
  ASSERT_EQ(top.shape(0), 2u);
  ASSERT_EQ(top.shape(1), 3u);
  EXPECT_EQ(top(1, 2), 5.0f);
  const Matrix empty = to_matrix(ConstMatrixView());
  EXPECT_EQ(empty.size(), 0u);
}

// ------------------------------------------------------------- BatchBuffer

TEST(BatchBuffer, StartsEmpty) {
  BatchBuffer b;
  EXPECT_EQ(b.cols(), 0u);
  EXPECT_EQ(b.view(0).size(), 0u);
}

TEST(BatchBuffer, ViewHasRequestedShape) {
  BatchBuffer b;
  b.reserve(8, 3);
  EXPECT_EQ(b.cols(), 3u);
  const MatrixView v = b.view(5);
  EXPECT_NE(v.data, nullptr);
  EXPECT_EQ(v.rows, 5u);
  EXPECT_EQ(v.cols, 3u);
  EXPECT_EQ(v.size(), 15u);
}

TEST(BatchBuffer, ShrinkingNeverReallocates) {
  BatchBuffer b;
  b.reserve(10, 4);
  const MatrixView full = b.view(10);
  for (std::size_t i = 0; i < full.size(); ++i) full.data[i] = static_cast<float>(i);
  for (std::size_t rows : {10u, 7u, 1u, 0u, 10u, 3u}) {
    const MatrixView v = b.view(rows);
    EXPECT_EQ(v.data, full.data) << rows << " rows";
    EXPECT_EQ(v.rows, rows);
    EXPECT_EQ(v.cols, 4u);
  }
  // Views share the storage: what was written through one is seen through another.
  EXPECT_EQ(b.view(3)(2, 3), 11.0f);
  // reserve() for fewer rows (or the same) keeps the storage too.
  b.reserve(2, 4);
  EXPECT_EQ(b.view(10).data, full.data);
  EXPECT_EQ(b.cols(), 4u);
}

TEST(BatchBuffer, GrowsOnlyWhenNeededAndThenStaysPut) {
  BatchBuffer b;
  b.reserve(2, 3);
  MatrixView v = b.view(2);
  v(1, 2) = 7.0f;
  const MatrixView grown = b.view(50);  // beyond every earlier request: may allocate
  EXPECT_EQ(grown.rows, 50u);
  EXPECT_EQ(grown.cols, 3u);
  grown(49, 2) = 1.0f;  // the whole view is writable (ASan would flag an overrun)
  EXPECT_EQ(b.view(20).data, grown.data);
  EXPECT_EQ(b.view(50).data, grown.data);
  b.reserve(40, 3);
  EXPECT_EQ(b.view(40).data, grown.data);
}

TEST(BatchBuffer, ReserveWithOtherColumnsReshapesViews) {
  BatchBuffer b;
  b.reserve(4, 6);  // 24 floats
  const float* before = b.view(4).data;
  b.reserve(3, 8);  // 24 floats again: fits
  EXPECT_EQ(b.cols(), 8u);
  const MatrixView v = b.view(3);
  EXPECT_EQ(v.cols, 8u);
  EXPECT_EQ(v.rows, 3u);
  EXPECT_EQ(v.data, before);
  b.reserve(2, 100);  // 200 floats: grows
  EXPECT_EQ(b.cols(), 100u);
  EXPECT_EQ(b.view(2).size(), 200u);
}

}  // namespace
}  // namespace xdense
