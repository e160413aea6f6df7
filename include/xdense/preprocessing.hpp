#pragma once
/// \file
/// Data preparation before training: feature standardisation, train/test split, one-hot labels.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "xdense/tensor.hpp"

namespace xdense {

class Communicator;

/// Per-feature standardisation (x - mean) / scale, fitted on training data.
/// scale is the population standard deviation (like scikit-learn's StandardScaler); a constant
/// feature gets scale 1, so it maps to 0 instead of dividing by zero.
class Standardizer {
 public:
  /// An unfitted standardizer.
  Standardizer() = default;

  /// A fitted standardizer from saved statistics; throws InvalidArgument unless both have the same
  /// non-zero size, every mean is finite and every scale is finite and > 0.
  Standardizer(Vector mean, Vector scale);

  /// Learns mean and scale of each column of x (samples, features); throws DataError on an empty
  /// matrix or a non-finite value.
  void fit(const Matrix& x);
  /// fit() of the viewed rows (a part of a larger matrix, without a copy).
  void fit(ConstMatrixView x);

  /// fit() over the rows of every process of `communicator` (data-parallel training: each process
  /// passes the rows it holds, 0 rows on some processes allowed): mean and scale are those of the
  /// union of the processes' rows, the same on every process, equal to fit() of the rows of every
  /// process put together to float rounding (the same two passes in double: the column sums are
  /// summed over the processes, then the squared deviations from that mean). A collective: every
  /// process must call it, with x of the same column count. Every process makes the same collective
  /// calls and an error is thrown on every process alike, at the same point: ShapeError when the column counts
  /// differ, DataError when no process has a row or a column, or when a process has a NaN/Inf value
  /// (the process holding it names the cell in its rows, the others name that process). With a
  /// single process it is fit(x), with the same messages.
  void fit(const Matrix& x, Communicator& communicator);
  void fit(ConstMatrixView x, Communicator& communicator);

  /// Returns standardised x (samples, features); StateError if not fitted, ShapeError if the
  /// column count differs from the fitted one.
  Matrix transform(const Matrix& x) const;

  /// Standardises x (samples, features) in place; same errors as transform.
  void transform_in_place(Matrix& x) const;
  /// transform_in_place() of the viewed rows.
  void transform_in_place(MatrixView x) const;

  /// fit(x) then transform(x).
  Matrix fit_transform(const Matrix& x);

  /// Undoes transform(): x * scale + mean per column (standardised regression targets back in
  /// their units, as scikit-learn's inverse_transform); same errors as transform.
  Matrix inverse_transform(const Matrix& x) const;

  /// inverse_transform() in place.
  void inverse_transform_in_place(Matrix& x) const;

  /// True once fit() or the statistics constructor has run.
  bool fitted() const { return fitted_; }

  /// Per-feature means, shape (features); empty until fitted.
  const Vector& mean() const { return mean_; }

  /// Per-feature scales (standard deviations, 1 for constant features), shape (features); empty until fitted.
  const Vector& scale() const { return scale_; }

 private:
  void check_input(std::size_t rows, std::size_t cols, const char* caller) const;

  Vector mean_ = Vector::from_shape({0});
  Vector scale_ = Vector::from_shape({0});
  bool fitted_ = false;
};

/// The rows of x (samples, cols) listed in `rows`, in that order; InvalidArgument if an index is out of range.
Matrix take_rows(const Matrix& x, const std::vector<std::size_t>& rows);

/// Result of train_test_split: rows of x and y, split into training and test sets.
struct Split {
  Matrix x_train;
  Matrix y_train;
  Matrix x_test;
  Matrix y_test;
};

/// Shuffles the rows of x (n, features) and y (n, k) with Rng(seed) and holds out
/// round(test_fraction * n) of them (at least 1, at most n - 1) for testing.
/// With `stratify`, y must be (n, 1) class indices and each class contributes
/// round(test_fraction * count) rows to the test set (at most count - 1 for a class with 2 or more
/// rows, so every such class stays in training). Throws InvalidArgument for a fraction outside
/// (0, 1), ShapeError if x and y row counts differ, DataError if n < 2 or a stratify label is not
/// a class index.
Split train_test_split(const Matrix& x, const Matrix& y, double test_fraction, std::uint64_t seed,
                       bool stratify = false);

/// The row indices train_test_split() puts in each part, in its order (the same draws): to split
/// without copying the rows, e.g. permute_rows(x, train ++ test) then view the first train.size().
/// The same errors (for y's rows; n < 2 is a DataError).
struct SplitRows {
  std::vector<std::size_t> train;
  std::vector<std::size_t> test;
};
SplitRows train_test_split_rows(const Matrix& y, double test_fraction, std::uint64_t seed, bool stratify = false);

/// Reorders the rows of x in place, row i becoming the old row order[i], with one row and one bit per row of extra
/// memory. InvalidArgument unless `order` is a permutation of 0..rows-1.
void permute_rows(Matrix& x, const std::vector<std::size_t>& order);

/// One-hot encoding of labels (n, 1) holding class indices into (n, classes); ShapeError if labels
/// is not one column, InvalidArgument if classes is 0, DataError naming the row for a label that is
/// not an integer in [0, classes).
Matrix one_hot(const Matrix& labels, std::size_t classes);

}  // namespace xdense
