#include "xdense/preprocessing.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <string>
#include <utility>

#include "xdense/communicator.hpp"
#include "xdense/error.hpp"
#include "xdense/random.hpp"

namespace xdense {
namespace {

/// Shortest decimal text that reads back as `value` ("0.25", "3", "nan").
template <typename T>
std::string number_text(T value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

/// Copies row `from` of x into row `to` of out; both have the same column count.
void copy_row(const Matrix& x, std::size_t from, Matrix& out, std::size_t to) {
  const std::size_t cols = x.shape(1);
  const float* src = x.data() + from * cols;
  std::copy(src, src + cols, out.data() + to * cols);
}

}  // namespace

// --- Standardizer --------------------------------------------------------------

Standardizer::Standardizer(Vector mean, Vector scale) : mean_(std::move(mean)), scale_(std::move(scale)) {
  if (mean_.size() == 0 || mean_.size() != scale_.size()) {
    throw InvalidArgument("Standardizer: mean and scale must have the same non-zero size, got " +
                          std::to_string(mean_.size()) + " and " + std::to_string(scale_.size()));
  }
  for (std::size_t i = 0; i < mean_.size(); ++i) {
    if (!std::isfinite(mean_(i))) {
      throw InvalidArgument("Standardizer: mean[" + std::to_string(i) + "] must be finite, got " +
                            number_text(mean_(i)));
    }
    if (!(std::isfinite(scale_(i)) && scale_(i) > 0.0f)) {
      throw InvalidArgument("Standardizer: scale[" + std::to_string(i) + "] must be finite and > 0, got " +
                            number_text(scale_(i)));
    }
  }
  fitted_ = true;
}

void Standardizer::fit(const Matrix& x) {
  SingleProcessCommunicator one;
  fit(view(x), one);
}

void Standardizer::fit(ConstMatrixView x) {
  SingleProcessCommunicator one;
  fit(x, one);
}

void Standardizer::fit(const Matrix& x, Communicator& communicator) { fit(view(x), communicator); }

void Standardizer::fit(ConstMatrixView x, Communicator& communicator) {
  const std::size_t rows = x.rows;
  const std::size_t cols = x.cols;
  const bool alone = communicator.size() == 1;
  // Pass 1, in double: the column sums of this process's rows and the first non-finite cell.
  std::vector<double> sums(1 + cols, 0.0);  // [rows, sum of column 0, ...]
  sums[0] = static_cast<double>(rows);
  std::size_t bad_row = rows;
  std::size_t bad_col = 0;
  for (std::size_t r = 0; r < rows && bad_row == rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      const float v = x(r, c);
      if (!std::isfinite(v)) {
        bad_row = r;
        bad_col = c;
        break;
      }
      sums[1 + c] += v;
    }
  }
  // Every process learns the column counts and which process (the last) has a non-finite value,
  // and so throws the same kind of error at the same point: no process is left waiting.
  double checks[3] = {static_cast<double>(cols), -static_cast<double>(cols),
                      bad_row < rows ? static_cast<double>(communicator.rank() + 1) : 0.0};
  communicator.allreduce_max(checks, 3);
  if (checks[0] != -checks[1]) {
    throw ShapeError("Standardizer::fit: every process must pass x with the same number of columns, got from " +
                     std::to_string(static_cast<std::size_t>(-checks[1])) + " to " +
                     std::to_string(static_cast<std::size_t>(checks[0])) + " columns (x " + shape_string(rows, cols) +
                     " on process " + std::to_string(communicator.rank()) + ")");
  }
  if (checks[2] != 0.0) {
    if (bad_row < rows) {
      throw DataError("Standardizer::fit: x(" + std::to_string(bad_row) + ", " + std::to_string(bad_col) + ")" +
                      (alone ? "" : " of process " + std::to_string(communicator.rank()) + "'s rows") +
                      " is NaN/Inf; clean the data first");
    }
    throw DataError("Standardizer::fit: process " + std::to_string(static_cast<std::size_t>(checks[2]) - 1) +
                    "'s rows hold a NaN/Inf value; clean the data first");
  }
  communicator.allreduce_sum(sums.data(), sums.size());
  if (sums[0] == 0.0 || cols == 0) {
    throw DataError("Standardizer::fit: need at least one sample and one feature, got x " +
                    (alone ? shape_string(rows, cols)
                           : shape_string(static_cast<std::size_t>(sums[0]), cols) + " over every process"));
  }
  // Pass 2: the mean of every row, then the population variance sum((x - mean)^2) / n.
  const double n = sums[0];
  std::vector<double> mean(cols);
  for (std::size_t c = 0; c < cols; ++c) mean[c] = sums[1 + c] / n;
  std::vector<double> squares(cols, 0.0);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      const double d = x(r, c) - mean[c];
      squares[c] += d * d;
    }
  }
  communicator.allreduce_sum(squares.data(), squares.size());

  Vector new_mean = Vector::from_shape({cols});
  Vector new_scale = Vector::from_shape({cols});
  constexpr double eps = std::numeric_limits<double>::epsilon();
  for (std::size_t c = 0; c < cols; ++c) {
    const double variance = squares[c] / n;
    // Constant feature (variance within rounding of zero, the bound scikit-learn uses): scale 1.
    const double rounding = n * std::fabs(mean[c]) * eps;
    const float scale = static_cast<float>(std::sqrt(variance));
    const bool constant = variance <= rounding * rounding || !(scale > 0.0f);
    new_mean(c) = static_cast<float>(mean[c]);
    new_scale(c) = constant ? 1.0f : scale;
  }
  mean_ = std::move(new_mean);
  scale_ = std::move(new_scale);
  fitted_ = true;
}

void Standardizer::check_input(std::size_t rows, std::size_t cols, const char* caller) const {
  if (!fitted_) throw StateError(std::string(caller) + ": the standardizer is not fitted; call fit() first");
  if (cols != mean_.size()) {
    throw ShapeError(std::string(caller) + ": expected x with " + std::to_string(mean_.size()) +
                     " columns (as fitted), got x " + shape_string(rows, cols));
  }
}

Matrix Standardizer::transform(const Matrix& x) const {
  Matrix out = x;
  transform_in_place(out);
  return out;
}

void Standardizer::transform_in_place(Matrix& x) const { transform_in_place(view(x)); }

void Standardizer::transform_in_place(MatrixView x) const {
  const std::size_t rows = x.rows;
  const std::size_t cols = x.cols;
  check_input(rows, cols, "Standardizer::transform");
  const float* mean = mean_.data();
  const float* scale = scale_.data();
  for (std::size_t r = 0; r < rows; ++r) {
    float* row = x.data + r * cols;
    for (std::size_t c = 0; c < cols; ++c) row[c] = (row[c] - mean[c]) / scale[c];
  }
}

Matrix Standardizer::inverse_transform(const Matrix& x) const {
  Matrix out = x;
  inverse_transform_in_place(out);
  return out;
}

void Standardizer::inverse_transform_in_place(Matrix& x) const {
  const std::size_t rows = x.shape(0);
  const std::size_t cols = x.shape(1);
  check_input(rows, cols, "Standardizer::inverse_transform");
  const float* mean = mean_.data();
  const float* scale = scale_.data();
  for (std::size_t r = 0; r < rows; ++r) {
    float* row = x.data() + r * cols;
    for (std::size_t c = 0; c < cols; ++c) row[c] = row[c] * scale[c] + mean[c];
  }
}

Matrix Standardizer::fit_transform(const Matrix& x) {
  fit(x);
  return transform(x);
}

// --- row selection and splitting ------------------------------------------------

Matrix take_rows(const Matrix& x, const std::vector<std::size_t>& rows) {
  Matrix out = Matrix::from_shape({rows.size(), x.shape(1)});
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] >= x.shape(0)) {
      throw InvalidArgument("take_rows: row index " + std::to_string(rows[i]) + " is out of range for x " +
                            shape_string(x.shape(0), x.shape(1)));
    }
    copy_row(x, rows[i], out, i);
  }
  return out;
}

void permute_rows(Matrix& x, const std::vector<std::size_t>& order) {
  const std::size_t n = x.shape(0), cols = x.shape(1);
  if (order.size() != n) {
    throw InvalidArgument("permute_rows: expected " + std::to_string(n) + " row indices (one per row of x), received " +
                          std::to_string(order.size()));
  }
  std::vector<bool> seen(n, false);
  for (const std::size_t r : order) {
    if (r >= n || seen[r]) {
      throw InvalidArgument("permute_rows: the indices are not a permutation of 0.." + std::to_string(n - 1) +
                            " (" + std::to_string(r) + (r >= n ? " is out of range)" : " is repeated)"));
    }
    seen[r] = true;
  }
  // Cycle by cycle: position j takes old row order[j], which is still in place when read (each
  // cycle's first row waits in `held`). `seen` now marks the positions not yet filled.
  std::vector<float> held(cols);
  float* const data = x.data();
  const auto row = [&](std::size_t r) { return data + r * cols; };
  for (std::size_t start = 0; start < n; ++start) {
    if (!seen[start]) continue;
    seen[start] = false;
    if (order[start] == start) continue;
    std::copy(row(start), row(start) + cols, held.begin());
    std::size_t j = start;
    for (std::size_t k = order[j]; k != start; j = k, k = order[j]) {
      std::copy(row(k), row(k) + cols, row(j));
      seen[k] = false;
    }
    std::copy(held.begin(), held.end(), row(j));
  }
}

Split train_test_split(const Matrix& x, const Matrix& y, double test_fraction, std::uint64_t seed, bool stratify) {
  if (x.shape(0) != y.shape(0)) {
    throw ShapeError("train_test_split: x and y must have the same number of rows, got x " +
                     shape_string(x.shape(0), x.shape(1)) + " and y " + shape_string(y.shape(0), y.shape(1)));
  }
  const SplitRows rows = train_test_split_rows(y, test_fraction, seed, stratify);
  return {take_rows(x, rows.train), take_rows(y, rows.train), take_rows(x, rows.test), take_rows(y, rows.test)};
}

SplitRows train_test_split_rows(const Matrix& y, double test_fraction, std::uint64_t seed, bool stratify) {
  if (!(test_fraction > 0.0 && test_fraction < 1.0)) {
    throw InvalidArgument("train_test_split: test_fraction must be in (0, 1), got " + number_text(test_fraction));
  }
  const std::size_t n = y.shape(0);
  if (n < 2) throw DataError("train_test_split: need at least 2 samples to split, got " + std::to_string(n));

  Rng rng(seed);
  std::vector<std::size_t> train;
  std::vector<std::size_t> test;
  if (!stratify) {
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    rng.shuffle(order);
    const auto wanted = static_cast<std::size_t>(std::llround(test_fraction * static_cast<double>(n)));
    const std::size_t n_test = std::clamp<std::size_t>(wanted, 1, n - 1);
    test.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n_test));
    train.assign(order.begin() + static_cast<std::ptrdiff_t>(n_test), order.end());
  } else {
    if (y.shape(1) != 1) {
      throw ShapeError("train_test_split: stratify needs y of shape (n, 1) holding class indices, got y " +
                       shape_string(y.shape(0), y.shape(1)));
    }
    // Rows of each class, classes in ascending order.
    std::map<float, std::vector<std::size_t>> members;
    for (std::size_t r = 0; r < n; ++r) {
      const float label = y(r, 0);
      if (!(std::isfinite(label) && label >= 0.0f && label == std::floor(label))) {
        throw DataError("train_test_split: row " + std::to_string(r) + ": label " + number_text(label) +
                        " is not a class index (a non-negative integer)");
      }
      members[label].push_back(r);
    }
    struct Group {
      std::vector<std::size_t> rows;  // shuffled
      std::size_t n_test;
    };
    std::vector<Group> groups;
    std::size_t total_test = 0;
    for (auto& entry : members) {
      std::vector<std::size_t>& rows = entry.second;
      rng.shuffle(rows);
      const std::size_t count = rows.size();
      auto k = static_cast<std::size_t>(std::llround(test_fraction * static_cast<double>(count)));
      if (count >= 2) k = std::min(k, count - 1);  // keep every class with 2+ rows in training
      total_test += k;
      groups.push_back({std::move(rows), k});
    }
    if (total_test == 0) {
      // Every class rounded to 0: hold out one row of the largest class (one with 2+ rows if any).
      auto largest = std::max_element(groups.begin(), groups.end(),
                                      [](const Group& a, const Group& b) { return a.rows.size() < b.rows.size(); });
      largest->n_test = 1;
    } else if (total_test == n) {
      // Only possible when every class has a single row: keep one of them for training.
      groups.front().n_test = 0;
    }
    for (const Group& group : groups) {
      const auto cut = group.rows.begin() + static_cast<std::ptrdiff_t>(group.n_test);
      test.insert(test.end(), group.rows.begin(), cut);
      train.insert(train.end(), cut, group.rows.end());
    }
    // Mix the classes, which were appended one after another.
    rng.shuffle(train);
    rng.shuffle(test);
  }
  return {std::move(train), std::move(test)};
}

// --- labels ----------------------------------------------------------------------

Matrix one_hot(const Matrix& labels, std::size_t classes) {
  if (labels.shape(1) != 1) {
    throw ShapeError("one_hot: expected labels of shape (n, 1) holding class indices, got " +
                     shape_string(labels.shape(0), labels.shape(1)));
  }
  if (classes == 0) throw InvalidArgument("one_hot: classes must be at least 1, got 0");
  const std::size_t n = labels.shape(0);
  Matrix out = Matrix::from_shape({n, classes});
  std::fill(out.data(), out.data() + out.size(), 0.0f);
  for (std::size_t r = 0; r < n; ++r) {
    const float label = labels(r, 0);
    if (!(std::isfinite(label) && label == std::floor(label))) {
      throw DataError("one_hot: row " + std::to_string(r) + ": label " + number_text(label) +
                      " is not an integer class index");
    }
    if (label < 0.0f || label >= static_cast<float>(classes)) {
      throw DataError("one_hot: row " + std::to_string(r) + ": label " + number_text(label) + " is out of range for " +
                      std::to_string(classes) + " classes (expected 0.." + std::to_string(classes - 1) + ")");
    }
    out(r, static_cast<std::size_t>(label)) = 1.0f;
  }
  return out;
}

}  // namespace xdense
