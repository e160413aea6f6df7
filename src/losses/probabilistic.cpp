#include "xdense/losses/probabilistic.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

#include "loss_support.hpp"

namespace xdense {

using detail::keras_epsilon;

namespace {

// Keras's clip to [1e-7, 1] of both y and p before the log.
double clip_unit(double v) { return std::min(std::max(v, keras_epsilon), 1.0); }

}  // namespace

// ---------------------------------------------------------------- KL divergence

double KLDivergence::value(ConstMatrixView p, ConstMatrixView y) const {
  detail::check_same_shape(*this, p, y);
  // mean over rows of sum_k y_k log(y_k / p_k), y and p clipped to [1e-7, 1]
  double sum = 0.0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double t = clip_unit(y.data[i]);
    sum += t * std::log(t / clip_unit(p.data[i]));
  }
  return p.rows ? sum / static_cast<double>(p.rows) : 0.0;
}

void KLDivergence::gradient(ConstMatrixView p, ConstMatrixView y, MatrixView grad) const {
  detail::check_same_shape(*this, p, y);
  // dL/dp = -y / p / batch inside the clip range [1e-7, 1], 0 where p is clipped (clip's gradient)
  const double n = static_cast<double>(p.rows);
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double q = p.data[i];
    grad.data[i] = q < keras_epsilon || q > 1.0 ? 0.0f : static_cast<float>(-clip_unit(y.data[i]) / q / n);
  }
}

void KLDivergence::check_output(std::size_t units, const Activation*) const {
  detail::check_class_units(*this, units, "(a distribution over one class is always [1])");
}

void KLDivergence::check_targets(ConstMatrixView targets, std::size_t units) const {
  Loss::check_targets(targets, units);
  detail::check_each_target(*this, targets, "probabilities in [0, 1]", [](float t) { return t >= 0.0f && t <= 1.0f; });
  for (std::size_t r = 0; r < targets.rows; ++r) {
    const float* row = targets.row(r);
    double total = 0.0;
    for (std::size_t c = 0; c < targets.cols; ++c) total += row[c];
    if (std::abs(total - 1.0) > 1e-3) {
      std::ostringstream m;
      m << name() << ": expected probability rows (summing to 1), received a row summing to " << total << " at row "
        << r;
      throw DataError(m.str());
    }
  }
}

// ---------------------------------------------------------------- Poisson

double Poisson::value(ConstMatrixView p, ConstMatrixView y) const {
  // mean of p - y log(p + 1e-7)
  return detail::mean_of_terms(*this, p, y,
                               [](double pi, double yi) { return pi - yi * std::log(pi + keras_epsilon); });
}

void Poisson::gradient(ConstMatrixView p, ConstMatrixView y, MatrixView grad) const {
  // d/dp = 1 - y / (p + 1e-7)
  detail::gradient_of_mean(*this, p, y, grad, [](double pi, double yi) { return 1.0 - yi / (pi + keras_epsilon); });
}

void Poisson::check_targets(ConstMatrixView targets, std::size_t units) const {
  Loss::check_targets(targets, units);
  detail::check_each_target(*this, targets, "finite targets >= 0",
                            [](float t) { return t >= 0.0f && std::isfinite(t); });
}

// ---------------------------------------------------------------- registry

namespace {

const bool registered =
    (register_loss("kl_divergence", detail::loss_without_settings<KLDivergence>("kl_divergence"),
                   {"kld", "kullback_leibler_divergence"}),
     register_loss("poisson", detail::loss_without_settings<Poisson>("poisson")), true);

}  // namespace

}  // namespace xdense
