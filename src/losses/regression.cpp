#include "xdense/losses/regression.hpp"

#include <cmath>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "loss_support.hpp"

namespace xdense {

using detail::gradient_of_mean;
using detail::mean_of_terms;

// ---------------------------------------------------------------- mean absolute error

double MeanAbsoluteError::value(ConstMatrixView p, ConstMatrixView y) const {
  return mean_of_terms(*this, p, y, [](double pi, double yi) { return std::abs(pi - yi); });
}

void MeanAbsoluteError::gradient(ConstMatrixView p, ConstMatrixView y, MatrixView grad) const {
  // d|x|/dx = sign(x), 0 at x = 0 (as TensorFlow's and torch's abs)
  gradient_of_mean(*this, p, y, grad, [](double pi, double yi) { return pi > yi ? 1.0 : (pi < yi ? -1.0 : 0.0); });
}

void MeanAbsoluteError::check_targets(ConstMatrixView targets, std::size_t units) const {
  detail::check_finite_targets(*this, targets, units);
}

// ---------------------------------------------------------------- Huber

Huber::Huber(double delta) : delta_(delta) {
  if (!(std::isfinite(delta) && delta > 0.0)) {
    std::ostringstream m;
    m << "huber: delta must be finite and > 0, received delta=" << delta;
    throw InvalidArgument(m.str());
  }
}

Config Huber::config() const {
  Config config = Config::object();
  config["delta"] = delta_;
  return config;
}

double Huber::value(ConstMatrixView p, ConstMatrixView y) const {
  const double delta = delta_;
  return mean_of_terms(*this, p, y, [delta](double pi, double yi) {
    const double x = pi - yi;
    const double a = std::abs(x);
    return a <= delta ? 0.5 * x * x : delta * a - 0.5 * delta * delta;
  });
}

void Huber::gradient(ConstMatrixView p, ConstMatrixView y, MatrixView grad) const {
  // d/dx: x for |x| <= delta, delta sign(x) beyond: x clipped to [-delta, delta]
  const double delta = delta_;
  gradient_of_mean(*this, p, y, grad,
                   [delta](double pi, double yi) { return std::min(std::max(pi - yi, -delta), delta); });
}

void Huber::check_targets(ConstMatrixView targets, std::size_t units) const {
  detail::check_finite_targets(*this, targets, units);
}

// ---------------------------------------------------------------- log-cosh

double LogCosh::value(ConstMatrixView p, ConstMatrixView y) const {
  // log cosh x = x + softplus(-2x) - log 2, softplus(t) = max(t, 0) + log(1 + e^-|t|): finite for any x
  const double log2 = std::log(2.0);
  return mean_of_terms(*this, p, y, [log2](double pi, double yi) {
    const double x = pi - yi;
    const double t = -2.0 * x;
    return x + std::max(t, 0.0) + std::log1p(std::exp(-std::abs(t))) - log2;
  });
}

void LogCosh::gradient(ConstMatrixView p, ConstMatrixView y, MatrixView grad) const {
  // d/dx log cosh x = tanh x
  gradient_of_mean(*this, p, y, grad, [](double pi, double yi) { return std::tanh(pi - yi); });
}

void LogCosh::check_targets(ConstMatrixView targets, std::size_t units) const {
  detail::check_finite_targets(*this, targets, units);
}

// ---------------------------------------------------------------- registry

namespace {

std::unique_ptr<Loss> make_huber(const Config& config) {
  ConfigReader in(config, "huber");
  in.ignore("name");
  in.ignore("reduction");  // Keras's; xdense's reduction is always the batch mean
  const double delta = in.number("delta", 1.0);
  in.finish();
  return std::make_unique<Huber>(delta);
}

const bool registered =
    (register_loss("mean_absolute_error", detail::loss_without_settings<MeanAbsoluteError>("mean_absolute_error"),
                   {"mae"}),
     register_loss("huber", make_huber, {"huber_loss"}),
     register_loss("log_cosh", detail::loss_without_settings<LogCosh>("log_cosh"), {"logcosh"}), true);

}  // namespace

}  // namespace xdense
