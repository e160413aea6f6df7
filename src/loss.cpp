#include "xdense/loss.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cpu_dispatch.hpp"
#include "losses/loss_support.hpp"
#include "registry.hpp"
#include "vector_math.hpp"
#include "xdense/builtin_activations.hpp"
#include "xdense/error.hpp"

namespace xdense {
namespace {

using detail::check_rows;
using detail::check_same_shape;

// Keras's backend epsilon: probabilities are clipped to [eps, 1 - eps] before log.
constexpr double probability_epsilon = detail::keras_epsilon;

double clip_probability(double p) { return std::min(std::max(p, probability_epsilon), 1.0 - probability_epsilon); }

// Class index stored in a sparse target (validated beforehand by check_targets).
std::size_t class_of(ConstMatrixView targets, std::size_t row) { return static_cast<std::size_t>(targets.data[row]); }

// Keras's label_smoothing must be in [0, 1]; `who` is the loss name.
double checked_smoothing(const std::string& who, double label_smoothing) {
  if (!(label_smoothing >= 0.0 && label_smoothing <= 1.0)) {
    std::ostringstream m;
    m << who << ": label_smoothing must be in [0, 1], received label_smoothing=" << label_smoothing;
    throw InvalidArgument(m.str());
  }
  return label_smoothing;
}

// {} without smoothing (the config every model saved before label smoothing has), else
// {"label_smoothing": ls}.
Config smoothing_config(double label_smoothing) {
  Config config = Config::object();
  if (label_smoothing != 0.0) config["label_smoothing"] = label_smoothing;
  return config;
}

// A smoothed target y' = keep y + add: keep = 1 - ls and add = ls / 2 (binary) or ls / K
// (K classes). keep = 1, add = 0 leaves every target's bits as they are.
struct Smoothing {
  double keep = 1.0;
  double add = 0.0;
  double operator()(double y) const { return y * keep + add; }
};

// Binary cross-entropy from logits over n elements: grad = scale (sigmoid(z) - y) and
// the sum of the terms max(z, 0) - z y + log(1 + e^-|z|), from one e^-|z| per element.
// In chunks of 128, as three loops (e^-|z|, then the gradients, then the terms), each
// of independent elements: one loop doing all three would chain ~40 dependent steps
// per element and keep few elements in flight. The terms are added in eight float
// lanes (element i into lane i mod 8) over each chunk, and the chunks' lanes into eight
// double lanes, so long sums keep double precision while a batch costs one
// conversion per lane. Compiled for AVX2 and for the baseline (cpu_dispatch.hpp).
// Targets are smoothed as y' = y keep + add (keep = 1, add = 0: y itself, bit for bit).
XDENSE_VECTOR_CLONES double binary_cross_entropy_pass(const float* z, const float* y, float* __restrict grad,
                                                      std::size_t n, float scale, float keep, float add) {
  constexpr std::size_t chunk = 128;
  float e[chunk], terms[chunk], smoothed[chunk];
  double lanes[8] = {};
  for (std::size_t first = 0; first < n; first += chunk) {
    const std::size_t count = n - first < chunk ? n - first : chunk;
    const float* zc = z + first;
    const float* yc = y + first;
    float* gc = grad + first;
    for (std::size_t i = 0; i < count; ++i) e[i] = detail::exp_nonpositive(detail::minus_magnitude(zc[i]));
    for (std::size_t i = 0; i < count; ++i) smoothed[i] = yc[i] * keep + add;
    for (std::size_t i = 0; i < count; ++i) {
      const float probability = detail::sigmoid_from_exp(zc[i], e[i]);  // sigmoid(z)
      gc[i] = scale * (probability - smoothed[i]);
    }
    for (std::size_t i = 0; i < count; ++i) {
      const float v = zc[i];
      terms[i] = (v > 0.0f ? v : 0.0f) - v * smoothed[i] + detail::log1p_unit(e[i]);
    }
    float run[8] = {};
    std::size_t i = 0;
    for (; i + 8 <= count; i += 8)
      for (std::size_t l = 0; l < 8; ++l) run[l] += terms[i + l];
    for (std::size_t l = 0; i < count; ++i, ++l) run[l] += terms[i];
    for (std::size_t l = 0; l < 8; ++l) lanes[l] += run[l];
  }
  return ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
}

}  // namespace

// ---------------------------------------------------------------- Loss defaults

double Loss::value_and_gradient_from_logits(ConstMatrixView logits, ConstMatrixView targets, MatrixView grad) const {
  gradient_from_logits(logits, targets, grad);
  return value_from_logits(logits, targets);
}

namespace {
ConstMatrixView row_view(ConstMatrixView m, std::size_t r) { return {m.row(r), 1, m.cols}; }
}  // namespace

void Loss::sample_values(ConstMatrixView predictions, ConstMatrixView targets, double* out) const {
  detail::check_rows(*this, predictions, targets);
  for (std::size_t r = 0; r < predictions.rows; ++r) out[r] = value(row_view(predictions, r), row_view(targets, r));
}

void Loss::sample_values_from_logits(ConstMatrixView logits, ConstMatrixView targets, double* out) const {
  detail::check_rows(*this, logits, targets);
  for (std::size_t r = 0; r < logits.rows; ++r) out[r] = value_from_logits(row_view(logits, r), row_view(targets, r));
}

double Loss::value_from_logits(ConstMatrixView, ConstMatrixView) const {
  throw StateError(name() + ": cannot be computed from logits");
}

void Loss::gradient_from_logits(ConstMatrixView, ConstMatrixView, MatrixView) const {
  throw StateError(name() + ": cannot be computed from logits");
}

void Loss::check_output(std::size_t, const Activation*) const {}

void Loss::check_targets(ConstMatrixView targets, std::size_t units) const {
  if (targets.cols != units) {
    throw ShapeError(name() + ": expected targets with " + std::to_string(units) +
                     " columns (one per output unit), received shape " + shape_string(targets.rows, targets.cols));
  }
}

// ---------------------------------------------------------------- MSE

double MeanSquaredError::value(ConstMatrixView p, ConstMatrixView y) const {
  check_same_shape(*this, p, y);
  double sum = 0.0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double d = static_cast<double>(p.data[i]) - y.data[i];
    sum += d * d;
  }
  return p.size() ? sum / static_cast<double>(p.size()) : 0.0;
}

void MeanSquaredError::gradient(ConstMatrixView p, ConstMatrixView y, MatrixView grad) const {
  check_same_shape(*this, p, y);
  // d/dp mean((p - y)^2) = 2 (p - y) / (batch * units)
  const float scale = 2.0f / static_cast<float>(p.size());
  for (std::size_t i = 0; i < p.size(); ++i) grad.data[i] = scale * (p.data[i] - y.data[i]);
}

// ---------------------------------------------------------------- BCE

namespace {
Smoothing binary_smoothing(double ls) { return {1.0 - ls, 0.5 * ls}; }
}  // namespace

BinaryCrossEntropy::BinaryCrossEntropy(double label_smoothing)
    : label_smoothing_(checked_smoothing("binary_crossentropy", label_smoothing)) {}

Config BinaryCrossEntropy::config() const { return smoothing_config(label_smoothing_); }

double BinaryCrossEntropy::value(ConstMatrixView p, ConstMatrixView y) const {
  check_same_shape(*this, p, y);
  const Smoothing smooth = binary_smoothing(label_smoothing_);
  double sum = 0.0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double q = clip_probability(p.data[i]);
    const double t = smooth(y.data[i]);
    sum -= t * std::log(q) + (1.0 - t) * std::log(1.0 - q);
  }
  return p.size() ? sum / static_cast<double>(p.size()) : 0.0;
}

void BinaryCrossEntropy::gradient(ConstMatrixView p, ConstMatrixView y, MatrixView grad) const {
  check_same_shape(*this, p, y);
  // dL/dp = (p - y') / (p (1 - p)) / N inside the clip range, 0 where clipped (as clip's gradient).
  const Smoothing smooth = binary_smoothing(label_smoothing_);
  const double n = static_cast<double>(p.size());
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double q = p.data[i];
    if (q < probability_epsilon || q > 1.0 - probability_epsilon) {
      grad.data[i] = 0.0f;
    } else {
      grad.data[i] = static_cast<float>((q - smooth(y.data[i])) / (q * (1.0 - q)) / n);
    }
  }
}

bool BinaryCrossEntropy::fuses_with(const Activation& output) const {
  return output.probability_output() == ProbabilityOutput::sigmoid;
}

double BinaryCrossEntropy::value_from_logits(ConstMatrixView z, ConstMatrixView y) const {
  check_same_shape(*this, z, y);
  // -[y log s(z) + (1-y) log(1-s(z))] = max(z,0) - z y + log(1 + e^-|z|): no overflow for any z.
  const Smoothing smooth = binary_smoothing(label_smoothing_);
  double sum = 0.0;
  for (std::size_t i = 0; i < z.size(); ++i) {
    const double v = z.data[i];
    sum += std::max(v, 0.0) - v * smooth(y.data[i]) + std::log1p(std::exp(-std::abs(v)));
  }
  return z.size() ? sum / static_cast<double>(z.size()) : 0.0;
}

void BinaryCrossEntropy::gradient_from_logits(ConstMatrixView z, ConstMatrixView y, MatrixView grad) const {
  value_and_gradient_from_logits(z, y, grad);
}

double BinaryCrossEntropy::value_and_gradient_from_logits(ConstMatrixView z, ConstMatrixView y, MatrixView grad) const {
  check_same_shape(*this, z, y);
  // dL/dz = (sigmoid(z) - y') / N
  const std::size_t n = z.size();
  if (n == 0) return 0.0;
  const Smoothing smooth = binary_smoothing(label_smoothing_);
  const double sum = binary_cross_entropy_pass(z.data, y.data, grad.data, n, 1.0f / static_cast<float>(n),
                                               static_cast<float>(smooth.keep), static_cast<float>(smooth.add));
  // The pass adds the terms in float lanes, which overflow when logits near the float limit
  // come together (each term is up to |z|); the sum in double is then taken again, apart.
  if (!std::isfinite(sum)) return value_from_logits(z, y);
  return sum / static_cast<double>(n);
}

void BinaryCrossEntropy::check_output(std::size_t, const Activation* output) const {
  if (output != nullptr && output->probability_output() == ProbabilityOutput::softmax) {
    throw InvalidArgument(
        "binary_crossentropy: expected a sigmoid output layer, received softmax "
        "(use categorical_crossentropy with softmax)");
  }
}

void BinaryCrossEntropy::check_targets(ConstMatrixView targets, std::size_t units) const {
  Loss::check_targets(targets, units);
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const float t = targets.data[i];
    if (!(t >= 0.0f && t <= 1.0f)) {
      throw DataError(name() + ": expected targets in [0, 1], received " + std::to_string(t) + " at row " +
                      std::to_string(i / targets.cols));
    }
  }
}

// ---------------------------------------------------------------- CCE

CategoricalCrossEntropy::CategoricalCrossEntropy(bool sparse_only, double label_smoothing)
    : sparse_only_(sparse_only), label_smoothing_(checked_smoothing(name(), label_smoothing)) {
  if (sparse_only_ && label_smoothing_ != 0.0) {
    std::ostringstream m;
    m << name() << ": takes no label_smoothing (as in Keras; use categorical_crossentropy), received label_smoothing="
      << label_smoothing_;
    throw InvalidArgument(m.str());
  }
}

Config CategoricalCrossEntropy::config() const { return smoothing_config(label_smoothing_); }

namespace {
Smoothing categorical_smoothing(double ls, std::size_t classes) {
  return {1.0 - ls, classes ? ls / static_cast<double>(classes) : 0.0};
}
}  // namespace

void CategoricalCrossEntropy::check_output(std::size_t units, const Activation* output) const {
  if (units < 2) {
    throw InvalidArgument(name() + ": expected an output layer with one unit per class (at least 2), received " +
                          std::to_string(units) + " unit (use binary_crossentropy with a 1-unit sigmoid)");
  }
  if (output != nullptr && output->probability_output() == ProbabilityOutput::sigmoid) {
    throw InvalidArgument(name() +
                          ": expected a softmax output layer, received sigmoid "
                          "(use binary_crossentropy with sigmoid)");
  }
}

void CategoricalCrossEntropy::check_targets(ConstMatrixView targets, std::size_t units) const {
  if (sparse_targets(targets, units)) {
    for (std::size_t r = 0; r < targets.rows; ++r) {
      const float t = targets.data[r];
      if (!(t >= 0.0f && t < static_cast<float>(units)) || t != std::floor(t)) {
        throw DataError(name() + ": expected class indices 0.." + std::to_string(units - 1) + " for " +
                        std::to_string(units) + " output units, received " + std::to_string(t) + " at row " +
                        std::to_string(r));
      }
    }
    return;
  }
  if (sparse_only_) {
    throw ShapeError(name() + ": expected integer class indices of shape " + shape_string(targets.rows, 1) +
                     ", received " + shape_string(targets.rows, targets.cols));
  }
  Loss::check_targets(targets, units);
}

double CategoricalCrossEntropy::value(ConstMatrixView p, ConstMatrixView y) const {
  check_rows(*this, p, y);
  const bool sparse = sparse_targets(y, p.cols);
  if (!sparse) check_same_shape(*this, p, y);
  const Smoothing smooth = categorical_smoothing(label_smoothing_, p.cols);
  double sum = 0.0;
  for (std::size_t r = 0; r < p.rows; ++r) {
    const float* pr = p.row(r);
    double total = 0.0;  // Keras renormalises p to sum to 1 before the log
    for (std::size_t c = 0; c < p.cols; ++c) total += pr[c];
    for (std::size_t c = 0; c < p.cols; ++c) {
      const double t = smooth(sparse ? (class_of(y, r) == c ? 1.0 : 0.0) : static_cast<double>(y.row(r)[c]));
      if (t != 0.0) sum -= t * std::log(clip_probability(pr[c] / total));
    }
  }
  return p.rows ? sum / static_cast<double>(p.rows) : 0.0;
}

void CategoricalCrossEntropy::gradient(ConstMatrixView p, ConstMatrixView y, MatrixView grad) const {
  check_rows(*this, p, y);
  const bool sparse = sparse_targets(y, p.cols);
  if (!sparse) check_same_shape(*this, p, y);
  // With q = p / s, s = sum_k p_k: L = -sum_k y_k log clip(q_k), so
  // dL/dp_j = (sum_{k unclipped} y_k / s - [j unclipped] y_j / p_j) / batch.
  // A clipped q_k contributes nothing (clip's gradient is 0), as in Keras.
  // y_k are the smoothed targets y'_k when label_smoothing is set.
  const Smoothing smooth = categorical_smoothing(label_smoothing_, p.cols);
  const double n = static_cast<double>(p.rows);
  for (std::size_t r = 0; r < p.rows; ++r) {
    const float* pr = p.row(r);
    float* gr = grad.row(r);
    double total = 0.0;
    for (std::size_t c = 0; c < p.cols; ++c) total += pr[c];
    auto target = [&](std::size_t c) -> double {
      return smooth(sparse ? (class_of(y, r) == c ? 1.0 : 0.0) : static_cast<double>(y.row(r)[c]));
    };
    auto unclipped = [&](std::size_t c) {
      const double q = pr[c] / total;
      return q >= probability_epsilon && q <= 1.0 - probability_epsilon;
    };
    double unclipped_target_sum = 0.0;
    for (std::size_t c = 0; c < p.cols; ++c)
      if (unclipped(c)) unclipped_target_sum += target(c);
    for (std::size_t c = 0; c < p.cols; ++c) {
      const double own = unclipped(c) ? target(c) / pr[c] : 0.0;
      gr[c] = static_cast<float>((unclipped_target_sum / total - own) / n);
    }
  }
}

bool CategoricalCrossEntropy::fuses_with(const Activation& output) const {
  return output.probability_output() == ProbabilityOutput::softmax;
}

double CategoricalCrossEntropy::value_from_logits(ConstMatrixView z, ConstMatrixView y) const {
  check_rows(*this, z, y);
  const bool sparse = sparse_targets(y, z.cols);
  if (!sparse) check_same_shape(*this, z, y);
  const Smoothing smooth = categorical_smoothing(label_smoothing_, z.cols);
  double sum = 0.0;
  for (std::size_t r = 0; r < z.rows; ++r) {
    const float* zr = z.row(r);
    // logsumexp(z) = m + log sum_k e^(z_k - m), m = max z: no overflow.
    const double m = *std::max_element(zr, zr + z.cols);
    double exp_sum = 0.0;
    for (std::size_t c = 0; c < z.cols; ++c) exp_sum += std::exp(zr[c] - m);
    const double lse = m + std::log(exp_sum);
    // sum_k y'_k (lse - z_k)
    for (std::size_t c = 0; c < z.cols; ++c) {
      const double t = smooth(sparse ? (class_of(y, r) == c ? 1.0 : 0.0) : static_cast<double>(y.row(r)[c]));
      if (t != 0.0) sum += t * (lse - zr[c]);
    }
  }
  return z.rows ? sum / static_cast<double>(z.rows) : 0.0;
}

void CategoricalCrossEntropy::gradient_from_logits(ConstMatrixView z, ConstMatrixView y, MatrixView grad) const {
  value_and_gradient_from_logits(z, y, grad);
}

double CategoricalCrossEntropy::value_and_gradient_from_logits(ConstMatrixView z, ConstMatrixView y,
                                                               MatrixView grad) const {
  check_rows(*this, z, y);
  const bool sparse = sparse_targets(y, z.cols);
  if (!sparse) check_same_shape(*this, z, y);
  // dL/dz_j = (softmax(z)_j * sum_k y_k - y_j) / batch; the loss per row is
  // sum_k y_k (lse - z_k) with lse = logsumexp(z) = m + log sum_k e^(z_k - m), m = max z.
  // Smoothed targets y' = y keep + add (keep = 1, add = 0 without smoothing: y itself).
  const Smoothing smooth = categorical_smoothing(label_smoothing_, z.cols);
  const float keep = static_cast<float>(smooth.keep), add = static_cast<float>(smooth.add);
  const float inverse_batch = 1.0f / static_cast<float>(z.rows);
  double sum = 0.0;
  for (std::size_t r = 0; r < z.rows; ++r) {
    const float* zr = z.row(r);
    float* gr = grad.row(r);
    const float m = *std::max_element(zr, zr + z.cols);
    detail::exp_shifted(zr, gr, z.cols, m);
    float exp_sum = 0.0f;
    for (std::size_t c = 0; c < z.cols; ++c) exp_sum += gr[c];
    const double lse = double(m) + std::log(double(exp_sum));
    if (sparse) {
      // y'_k = [k = target] keep + add sums to 1: dL/dz = softmax(z) - y'.
      const std::size_t target = class_of(y, r);
      sum += smooth.keep * (lse - zr[target]);
      if (add != 0.0f) {
        double logit_sum = 0.0;
        for (std::size_t c = 0; c < z.cols; ++c) logit_sum += zr[c];
        sum += smooth.add * (static_cast<double>(z.cols) * lse - logit_sum);
      }
      const float scale = 1.0f / exp_sum;
      for (std::size_t c = 0; c < z.cols; ++c)
        gr[c] = (gr[c] * scale - ((c == target ? keep : 0.0f) + add)) * inverse_batch;
      continue;
    }
    const float* yr = y.row(r);
    float target_sum = 0.0f;
    for (std::size_t c = 0; c < z.cols; ++c) {
      const float t = yr[c] * keep + add;
      target_sum += t;
      sum += t * (lse - zr[c]);
    }
    const float scale = target_sum / exp_sum;
    for (std::size_t c = 0; c < z.cols; ++c) gr[c] = (gr[c] * scale - (yr[c] * keep + add)) * inverse_batch;
  }
  return z.rows ? sum / static_cast<double>(z.rows) : 0.0;
}

// ---------------------------------------------------------------- registry

namespace {

detail::Registry<LossFactory>& losses() {
  static detail::Registry<LossFactory> registry("loss");
  return registry;
}

// A cross-entropy taking Keras's "label_smoothing" (default 0).
template <typename T, typename... Args>
LossFactory with_label_smoothing(const std::string& name, Args... args) {
  return [=](const Config& config) -> std::unique_ptr<Loss> {
    ConfigReader in(config, name);
    in.ignore("name");
    in.ignore("reduction");  // Keras's; xdense's reduction is always the batch mean
    const double label_smoothing = in.number("label_smoothing", 0.0);
    in.finish();
    return std::make_unique<T>(args..., label_smoothing);
  };
}

const bool registered =
    (register_loss("mean_squared_error", detail::loss_without_settings<MeanSquaredError>("mean_squared_error"),
                   {"mse"}),
     register_loss("binary_crossentropy", with_label_smoothing<BinaryCrossEntropy>("binary_crossentropy"), {"bce"}),
     register_loss("categorical_crossentropy", with_label_smoothing<CategoricalCrossEntropy>("categorical_crossentropy", false),
                   {"cce"}),
     register_loss("sparse_categorical_crossentropy",
                   with_label_smoothing<CategoricalCrossEntropy>("sparse_categorical_crossentropy", true)),
     true);

}  // namespace

Config Loss::config() const { return Config::object(); }

void register_loss(const std::string& name, LossFactory factory, const std::vector<std::string>& aliases) {
  losses().add(name, std::move(factory), aliases);
}

std::vector<std::string> loss_names() { return losses().names(); }

std::unique_ptr<Loss> make_loss(const std::string& name) { return make_loss(name, Config::object()); }

std::unique_ptr<Loss> make_loss(const std::string& name, const Config& config) {
  auto loss = losses().find(name).second(config);
  if (!loss) throw InvalidArgument("make_loss: the factory of " + quote_value(name) + " returned null");
  return loss;
}

}  // namespace xdense
