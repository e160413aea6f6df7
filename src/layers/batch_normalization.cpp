#include "xdense/layers/batch_normalization.hpp"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "../cpu_dispatch.hpp"
#include "keras_layer_keys.hpp"
#include "xdense/error.hpp"
#include "xdense/onnx.hpp"

namespace xdense {
namespace {

// The batch's mean and biased variance per column of x (rows, cols), in one pass: sums of
// d = x - x[0] and d^2 in double (the shift by the first row keeps E[d^2] - E[d]^2 from cancelling
// when the mean is large against the spread; the column loop runs in vector lanes). Writes
// mean[c] and inv_std[c] = 1 / sqrt(var + epsilon). `sums` has room for 2 cols doubles.
XDENSE_VECTOR_CLONES void batch_moments(const float* x, std::size_t rows, std::size_t cols, float epsilon,
                                        double* __restrict sums, float* __restrict mean, float* __restrict var,
                                        float* __restrict inv_std) {
  double* __restrict sum = sums;
  double* __restrict square = sums + cols;
  for (std::size_t c = 0; c < cols; ++c) sum[c] = square[c] = 0.0;
  for (std::size_t r = 1; r < rows; ++r) {
    const float* row = x + r * cols;
    for (std::size_t c = 0; c < cols; ++c) {
      const double d = static_cast<double>(row[c]) - static_cast<double>(x[c]);
      sum[c] += d;
      square[c] += d * d;
    }
  }
  const double n = static_cast<double>(rows);
  for (std::size_t c = 0; c < cols; ++c) {
    const double shift = sum[c] / n;
    const double variance = std::max(square[c] / n - shift * shift, 0.0);
    mean[c] = static_cast<float>(static_cast<double>(x[c]) + shift);
    var[c] = static_cast<float>(variance);
    inv_std[c] = static_cast<float>(1.0 / std::sqrt(variance + static_cast<double>(epsilon)));
  }
}

// y = x a + b per column.
XDENSE_VECTOR_CLONES void scale_and_shift(const float* x, std::size_t rows, std::size_t cols, const float* a,
                                          const float* b, float* __restrict y) {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* in = x + r * cols;
    float* out = y + r * cols;
    for (std::size_t c = 0; c < cols; ++c) out[c] = in[c] * a[c] + b[c];
  }
}

// Per column: sums[c] = sum of dy, sums[cols + c] = sum of dy (x - mean), in double.
XDENSE_VECTOR_CLONES void gradient_sums(const float* x, const float* dy, std::size_t rows, std::size_t cols,
                                        const float* mean, double* __restrict sums) {
  double* __restrict sum_dy = sums;
  double* __restrict sum_dy_centred = sums + cols;
  for (std::size_t c = 0; c < cols; ++c) sum_dy[c] = sum_dy_centred[c] = 0.0;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    const float* dyr = dy + r * cols;
    for (std::size_t c = 0; c < cols; ++c) {
      sum_dy[c] += dyr[c];
      sum_dy_centred[c] += static_cast<double>(dyr[c]) * static_cast<double>(xr[c] - mean[c]);
    }
  }
}

// dx = a dy + p (x - mean) + q per column: the training-mode gradient with
// p = -a inv_std^2 mean(dy (x - mean)) and q = -a mean(dy).
XDENSE_VECTOR_CLONES void batch_input_gradient(const float* x, const float* dy, std::size_t rows, std::size_t cols,
                                               const float* a, const float* mean, const float* p, const float* q,
                                               float* __restrict dx) {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    const float* dyr = dy + r * cols;
    float* out = dx + r * cols;
    for (std::size_t c = 0; c < cols; ++c) out[c] = a[c] * dyr[c] + (p[c] * (xr[c] - mean[c]) + q[c]);
  }
}

// dx = a dy per column (inference mode: the statistics are constants).
XDENSE_VECTOR_CLONES void scaled_gradient(const float* dy, std::size_t rows, std::size_t cols, const float* a,
                                          float* __restrict dx) {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* in = dy + r * cols;
    float* out = dx + r * cols;
    for (std::size_t c = 0; c < cols; ++c) out[c] = a[c] * in[c];
  }
}

void check_options(const BatchNormalizationOptions& options) {
  if (!(options.momentum >= 0.0 && options.momentum <= 1.0)) {
    throw InvalidArgument("BatchNormalization: momentum must be in [0, 1], received momentum=" +
                          std::to_string(options.momentum));
  }
  if (!(options.epsilon > 0.0 && options.epsilon < 1e30)) {
    throw InvalidArgument("BatchNormalization: epsilon must be a positive float, received epsilon=" +
                          std::to_string(options.epsilon));
  }
}

Parameter handle(const char* name, const std::vector<float>& value, const std::vector<float>* gradient) {
  // The layer hands out handles to its own arrays (see Layer::parameters()).
  return {name, const_cast<float*>(value.data()), gradient ? const_cast<float*>(gradient->data()) : nullptr,
          value.size(), {value.size()}};
}

}  // namespace

BatchNormalization::BatchNormalization(BatchNormalizationOptions options)
    : options_(std::move(options)),
      momentum_(static_cast<float>(options_.momentum)),
      one_minus_momentum_(static_cast<float>(1.0 - options_.momentum)),
      epsilon_(static_cast<float>(options_.epsilon)) {
  check_options(options_);
}

void BatchNormalization::build(std::size_t input_units, Rng& rng) {
  if (input_units == 0) throw InvalidArgument("BatchNormalization: expected a positive number of inputs, received 0");
  const std::size_t n = input_units;
  units_ = n;
  gamma_.assign(n, 1.0f);
  beta_.assign(n, 0.0f);
  moving_mean_.assign(n, 0.0f);
  moving_variance_.assign(n, 1.0f);
  // Keras's order: gamma, beta, moving_mean, moving_variance; a vector's fans are its length.
  if (options_.scale) options_.gamma_initializer->fill(gamma_.data(), n, n, n, rng);
  if (options_.center) options_.beta_initializer->fill(beta_.data(), n, n, n, rng);
  options_.moving_mean_initializer->fill(moving_mean_.data(), n, n, n, rng);
  options_.moving_variance_initializer->fill(moving_variance_.data(), n, n, n, rng);
  gamma_gradient_.assign(n, 0.0f);
  beta_gradient_.assign(n, 0.0f);
  for (std::vector<float>* scratch : {&mean_, &variance_, &inv_std_, &a_, &b_, &p_, &q_}) scratch->assign(n, 0.0f);
  sums_.assign(2 * n, 0.0);
  output_.reserve(0, n);
  input_gradient_.reserve(0, n);
  built_ = true;
}

void BatchNormalization::reserve(std::size_t rows) {
  output_.reserve(rows, units_);
  input_gradient_.reserve(rows, units_);
}

ConstMatrixView BatchNormalization::forward(ConstMatrixView x) {
  if (!built_) throw StateError("BatchNormalization: forward() called before build()");
  check_columns(x, units_);
  input_ = x;
  batch_statistics_ = training() && x.rows > 0;
  const std::size_t n = units_;
  if (batch_statistics_) {
    batch_moments(x.data, x.rows, n, epsilon_, sums_.data(), mean_.data(), variance_.data(), inv_std_.data());
    // Keras: moving = moving * momentum + batch * (1 - momentum), the biased batch variance included
    for (std::size_t c = 0; c < n; ++c) {
      moving_mean_[c] = moving_mean_[c] * momentum_ + mean_[c] * one_minus_momentum_;
      moving_variance_[c] = moving_variance_[c] * momentum_ + variance_[c] * one_minus_momentum_;
    }
  } else {
    for (std::size_t c = 0; c < n; ++c) {
      mean_[c] = moving_mean_[c];
      inv_std_[c] = 1.0f / std::sqrt(moving_variance_[c] + epsilon_);
    }
  }
  for (std::size_t c = 0; c < n; ++c) {
    a_[c] = gamma_[c] * inv_std_[c];
    b_[c] = beta_[c] - mean_[c] * a_[c];
  }
  const MatrixView y = output_.view(x.rows);
  scale_and_shift(x.data, x.rows, n, a_.data(), b_.data(), y.data);
  return y;
}

ConstMatrixView BatchNormalization::backward(ConstMatrixView dy, bool need_input_gradient) {
  if (!built_) throw StateError("BatchNormalization::backward: called before build()");
  if (dy.cols != units_ || dy.rows != input_.rows) {
    throw ShapeError("BatchNormalization::backward: expected dL/dy of shape " + shape_string(input_.rows, units_) +
                     ", received " + shape_string(dy.rows, dy.cols));
  }
  const std::size_t n = units_;
  // dbeta = sum dy; dgamma = sum dy xhat = inv_std sum dy (x - mean)
  gradient_sums(input_.data, dy.data, dy.rows, n, mean_.data(), sums_.data());
  const double* sum_dy = sums_.data();
  const double* sum_dy_centred = sums_.data() + n;
  for (std::size_t c = 0; c < n; ++c) {
    gamma_gradient_[c] = options_.scale ? static_cast<float>(sum_dy_centred[c] * inv_std_[c]) : 0.0f;
    beta_gradient_[c] = options_.center ? static_cast<float>(sum_dy[c]) : 0.0f;
  }
  if (!need_input_gradient) return {};
  const MatrixView dx = input_gradient_.view(dy.rows);
  if (!batch_statistics_) {
    scaled_gradient(dy.data, dy.rows, n, a_.data(), dx.data);
    return dx;
  }
  // dx = a (dy - mean(dy) - xhat mean(dy xhat)), xhat = (x - mean) inv_std:
  //    = a dy + p (x - mean) + q, p = -a inv_std^2 mean(dy (x - mean)), q = -a mean(dy).
  const double rows = static_cast<double>(dy.rows);
  for (std::size_t c = 0; c < n; ++c) {
    const double inv_std = inv_std_[c];
    p_[c] = static_cast<float>(-a_[c] * inv_std * inv_std * (sum_dy_centred[c] / rows));
    q_[c] = static_cast<float>(-a_[c] * (sum_dy[c] / rows));
  }
  batch_input_gradient(input_.data, dy.data, dy.rows, n, a_.data(), mean_.data(), p_.data(), q_.data(), dx.data);
  return dx;
}

std::vector<Parameter> BatchNormalization::parameters() const {
  if (!built_) return {};
  std::vector<Parameter> params;
  if (options_.scale) params.push_back(handle("gamma", gamma_, &gamma_gradient_));
  if (options_.center) params.push_back(handle("beta", beta_, &beta_gradient_));
  return params;
}

std::vector<Parameter> BatchNormalization::non_trainable_weights() const {
  if (!built_) return {};
  return {handle("moving_mean", moving_mean_, nullptr), handle("moving_variance", moving_variance_, nullptr)};
}

std::string BatchNormalization::to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const {
  if (!built_) throw StateError("BatchNormalization (layer " + name + "): to_onnx() called before build()");
  const std::vector<std::int64_t> shape{static_cast<std::int64_t>(units_)};
  // Y = (X - mean) / sqrt(var + epsilon) * scale + B per column: the inference mode of forward().
  return graph.add("BatchNormalization",
                   {input, graph.add_initializer(name + "/gamma", shape, gamma_),
                    graph.add_initializer(name + "/beta", shape, beta_),
                    graph.add_initializer(name + "/moving_mean", shape, moving_mean_),
                    graph.add_initializer(name + "/moving_variance", shape, moving_variance_)},
                   {OnnxAttribute::real("epsilon", epsilon_)}, name);
}

std::optional<LayerShape> BatchNormalization::shape_for(std::size_t input_units) const {
  LayerShape shape{input_units, {}};
  if (options_.scale) shape.weights.push_back({"gamma", {input_units}});
  if (options_.center) shape.weights.push_back({"beta", {input_units}});
  shape.weights.push_back({"moving_mean", {input_units}});
  shape.weights.push_back({"moving_variance", {input_units}});
  return shape;
}

Config BatchNormalization::config() const {
  return {{"axis", -1},
          {"momentum", options_.momentum},
          {"epsilon", options_.epsilon},
          {"center", options_.center},
          {"scale", options_.scale},
          {"beta_initializer", options_.beta_initializer.to_config()},
          {"gamma_initializer", options_.gamma_initializer.to_config()},
          {"moving_mean_initializer", options_.moving_mean_initializer.to_config()},
          {"moving_variance_initializer", options_.moving_variance_initializer.to_config()}};
}

namespace {

std::unique_ptr<Layer> batch_normalization_from_config(const Config& config) {
  ConfigReader in(config, "BatchNormalization");
  BatchNormalizationOptions options;
  detail::read_feature_axis(in, config, "normalising over the features");
  options.momentum = in.number("momentum", options.momentum);
  if (!(options.momentum >= 0.0 && options.momentum <= 1.0)) {
    in.fail("momentum", "expected a number in [0, 1], received " + config.at("momentum").dump());
  }
  options.epsilon = detail::read_epsilon(in, config, options.epsilon);
  options.center = in.boolean("center", options.center);
  options.scale = in.boolean("scale", options.scale);
  options.beta_initializer = detail::read_spec(in, config, "beta_initializer", options.beta_initializer);
  options.gamma_initializer = detail::read_spec(in, config, "gamma_initializer", options.gamma_initializer);
  options.moving_mean_initializer =
      detail::read_spec(in, config, "moving_mean_initializer", options.moving_mean_initializer);
  options.moving_variance_initializer =
      detail::read_spec(in, config, "moving_variance_initializer", options.moving_variance_initializer);
  if (in.boolean("synchronized", false)) {
    in.fail("synchronized", "expected false (xdense trains on one device), received true");
  }
  detail::read_null_keys(in, config, {"beta_regularizer", "gamma_regularizer"},
                         "xdense regularizes Dense weights only");
  detail::read_null_keys(in, config, {"beta_constraint", "gamma_constraint"}, "xdense has no weight constraints");
  detail::read_keras_layer_keys(in, config);
  in.finish();
  return std::make_unique<BatchNormalization>(options);
}

const bool registered = (register_layer("BatchNormalization", batch_normalization_from_config), true);

}  // namespace

}  // namespace xdense
