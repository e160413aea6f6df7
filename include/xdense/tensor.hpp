#pragma once
/// \file
/// Tensor types used throughout xdense. Rows are samples: a batch is (batch, features).

#include <cstddef>
#include <memory>
#include <vector>

#include <xtensor/xtensor.hpp>

namespace xdense {

/// Owning row-major float matrix, shape (rows, cols).
///
/// The allocator and layout are spelled out so the type does not change when a
/// consumer builds with XTENSOR_USE_XSIMD or another default layout: the
/// installed library and its users always agree on it.
using Matrix = xt::xtensor<float, 2, xt::layout_type::row_major, std::allocator<float>>;

/// Owning float vector, shape (size).
using Vector = xt::xtensor<float, 1, xt::layout_type::row_major, std::allocator<float>>;

/// A borrowed, contiguous, row-major (rows, cols) block of floats.
/// Layers pass these between each other so that a smaller last batch reuses the
/// buffers sized for the full batch: no heap allocation per training step.
struct MatrixView {
  float* data = nullptr;
  std::size_t rows = 0;
  std::size_t cols = 0;

  std::size_t size() const { return rows * cols; }
  float* row(std::size_t r) const { return data + r * cols; }
  float& operator()(std::size_t r, std::size_t c) const { return data[r * cols + c]; }
};

/// Read-only counterpart of MatrixView.
struct ConstMatrixView {
  const float* data = nullptr;
  std::size_t rows = 0;
  std::size_t cols = 0;

  ConstMatrixView() = default;
  ConstMatrixView(const float* d, std::size_t r, std::size_t c) : data(d), rows(r), cols(c) {}
  ConstMatrixView(MatrixView v) : data(v.data), rows(v.rows), cols(v.cols) {}  // NOLINT: implicit by design

  std::size_t size() const { return rows * cols; }
  const float* row(std::size_t r) const { return data + r * cols; }
  float operator()(std::size_t r, std::size_t c) const { return data[r * cols + c]; }
};

/// Views over a whole matrix.
inline MatrixView view(Matrix& m) { return {m.data(), m.shape(0), m.shape(1)}; }
inline ConstMatrixView view(const Matrix& m) { return {m.data(), m.shape(0), m.shape(1)}; }

/// Storage for a batch of up to `capacity` rows, reused across training steps.
/// view(rows) allocates only when `rows` exceeds every earlier request.
class BatchBuffer {
 public:
  /// Sets the column count and makes room for `rows` rows.
  void reserve(std::size_t rows, std::size_t cols) {
    cols_ = cols;
    if (rows * cols > storage_.size()) storage_.resize(rows * cols);
  }
  /// The first `rows` rows, growing the storage if needed.
  MatrixView view(std::size_t rows) {
    if (rows * cols_ > storage_.size()) storage_.resize(rows * cols_);
    return {storage_.data(), rows, cols_};
  }
  std::size_t cols() const { return cols_; }

 private:
  std::vector<float> storage_;
  std::size_t cols_ = 0;
};

/// Copies a view into a new owning matrix.
Matrix to_matrix(ConstMatrixView v);

}  // namespace xdense
