#include "xdense/losses/hinge.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "loss_support.hpp"

namespace xdense {

using detail::gradient_of_mean;
using detail::mean_of_terms;

namespace {

// Keras's convert_binary_labels_to_hinge: when every target of the batch is 0 or 1, y becomes
// 2y - 1; otherwise the targets are taken as they are (-1/1).
bool binary_labels(ConstMatrixView y) {
  for (std::size_t i = 0; i < y.size(); ++i)
    if (y.data[i] != 0.0f && y.data[i] != 1.0f) return false;
  return true;
}

// The sign of the target: 2y - 1 for 0/1 batches, y otherwise.
struct HingeTarget {
  bool binary;
  double operator()(double y) const { return binary ? 2.0 * y - 1.0 : y; }
};

// Targets all -1/1 or all 0/1: a 0 and a -1 in the same data set is neither encoding.
void check_hinge_targets(const Loss& loss, ConstMatrixView targets, std::size_t units) {
  loss.Loss::check_targets(targets, units);
  const std::string what = "targets -1 or 1 (or 0 or 1)";
  detail::check_each_target(loss, targets, what, [](float t) { return t == -1.0f || t == 0.0f || t == 1.0f; });
  std::size_t first_zero = targets.size(), first_minus_one = targets.size();
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (targets.data[i] == 0.0f && first_zero == targets.size()) first_zero = i;
    if (targets.data[i] == -1.0f && first_minus_one == targets.size()) first_minus_one = i;
  }
  if (first_zero < targets.size() && first_minus_one < targets.size()) {
    const std::size_t later = std::max(first_zero, first_minus_one);
    const std::size_t earlier = std::min(first_zero, first_minus_one);
    throw DataError(loss.name() + ": expected targets all -1 or 1, or all 0 or 1, received " +
                    detail::target_text(targets.data[later]) + " at row " + std::to_string(later / targets.cols) +
                    " after " + detail::target_text(targets.data[earlier]) + " at row " +
                    std::to_string(earlier / targets.cols));
  }
}

}  // namespace

// ---------------------------------------------------------------- hinge

double Hinge::value(ConstMatrixView p, ConstMatrixView y) const {
  const HingeTarget sign{binary_labels(y)};
  return mean_of_terms(*this, p, y, [sign](double pi, double yi) { return std::max(1.0 - sign(yi) * pi, 0.0); });
}

void Hinge::gradient(ConstMatrixView p, ConstMatrixView y, MatrixView grad) const {
  // d/dp max(1 - y p, 0) = -y where the margin is > 0, else 0 (0 at the kink, as relu's)
  const HingeTarget sign{binary_labels(y)};
  gradient_of_mean(*this, p, y, grad, [sign](double pi, double yi) {
    const double t = sign(yi);
    return 1.0 - t * pi > 0.0 ? -t : 0.0;
  });
}

void Hinge::check_targets(ConstMatrixView targets, std::size_t units) const {
  check_hinge_targets(*this, targets, units);
}

// ---------------------------------------------------------------- squared hinge

double SquaredHinge::value(ConstMatrixView p, ConstMatrixView y) const {
  const HingeTarget sign{binary_labels(y)};
  return mean_of_terms(*this, p, y, [sign](double pi, double yi) {
    const double margin = std::max(1.0 - sign(yi) * pi, 0.0);
    return margin * margin;
  });
}

void SquaredHinge::gradient(ConstMatrixView p, ConstMatrixView y, MatrixView grad) const {
  // d/dp max(1 - y p, 0)^2 = -2 y max(1 - y p, 0)
  const HingeTarget sign{binary_labels(y)};
  gradient_of_mean(*this, p, y, grad, [sign](double pi, double yi) {
    const double t = sign(yi);
    return -2.0 * t * std::max(1.0 - t * pi, 0.0);
  });
}

void SquaredHinge::check_targets(ConstMatrixView targets, std::size_t units) const {
  check_hinge_targets(*this, targets, units);
}

// ---------------------------------------------------------------- categorical hinge

namespace {

// max(neg - pos + 1, 0) of row r: pos = sum_k y_k p_k, neg = max_k (1 - y_k) p_k.
double categorical_hinge_of_row(const float* p, const float* y, std::size_t cols, double* neg_out = nullptr) {
  double pos = 0.0;
  double neg = -INFINITY;
  for (std::size_t c = 0; c < cols; ++c) {
    pos += double(y[c]) * p[c];
    neg = std::max(neg, (1.0 - y[c]) * p[c]);
  }
  if (neg_out) *neg_out = neg;
  return std::max(neg - pos + 1.0, 0.0);
}

}  // namespace

double CategoricalHinge::value(ConstMatrixView p, ConstMatrixView y) const {
  detail::check_same_shape(*this, p, y);
  double sum = 0.0;
  for (std::size_t r = 0; r < p.rows; ++r) sum += categorical_hinge_of_row(p.row(r), y.row(r), p.cols);
  return p.rows ? sum / static_cast<double>(p.rows) : 0.0;
}

void CategoricalHinge::gradient(ConstMatrixView p, ConstMatrixView y, MatrixView grad) const {
  detail::check_same_shape(*this, p, y);
  // Where the loss is > 0: dL/dp_j = (-y_j + [j attains neg] (1 - y_j) / ties) / batch; the
  // maximum's gradient is shared among the columns attaining it, as TensorFlow's reduce_max and
  // torch.amax share it. 0 where the loss is 0 (0 at the kink, as relu's).
  const double n = static_cast<double>(p.rows);
  for (std::size_t r = 0; r < p.rows; ++r) {
    const float* pr = p.row(r);
    const float* yr = y.row(r);
    float* gr = grad.row(r);
    double neg = 0.0;
    if (!(categorical_hinge_of_row(pr, yr, p.cols, &neg) > 0.0)) {
      std::fill(gr, gr + p.cols, 0.0f);
      continue;
    }
    std::size_t ties = 0;
    for (std::size_t c = 0; c < p.cols; ++c) ties += (1.0 - yr[c]) * pr[c] == neg;
    for (std::size_t c = 0; c < p.cols; ++c) {
      const double at_max = (1.0 - yr[c]) * pr[c] == neg ? (1.0 - yr[c]) / static_cast<double>(ties) : 0.0;
      gr[c] = static_cast<float>((at_max - yr[c]) / n);
    }
  }
}

void CategoricalHinge::check_output(std::size_t units, const Activation*) const {
  detail::check_class_units(*this, units, "(use hinge with a 1-unit output)");
}

void CategoricalHinge::check_targets(ConstMatrixView targets, std::size_t units) const {
  Loss::check_targets(targets, units);
  detail::check_each_target(*this, targets, "one-hot targets (entries 0 or 1)",
                            [](float t) { return t == 0.0f || t == 1.0f; });
  for (std::size_t r = 0; r < targets.rows; ++r) {
    const float* row = targets.row(r);
    const auto ones = std::count(row, row + targets.cols, 1.0f);
    if (ones != 1) {
      throw DataError(name() + ": expected one-hot targets (exactly one 1 per row), received " +
                      std::to_string(ones) + " ones at row " + std::to_string(r));
    }
  }
}

// ---------------------------------------------------------------- registry

namespace {

const bool registered = (register_loss("hinge", detail::loss_without_settings<Hinge>("hinge")),
                         register_loss("squared_hinge", detail::loss_without_settings<SquaredHinge>("squared_hinge")),
                         register_loss("categorical_hinge",
                                       detail::loss_without_settings<CategoricalHinge>("categorical_hinge")),
                         true);

}  // namespace

}  // namespace xdense
