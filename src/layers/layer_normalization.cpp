#include "xdense/layers/layer_normalization.hpp"

#include <cmath>

#include <nlohmann/json.hpp>

#include "../cpu_dispatch.hpp"
#include "keras_layer_keys.hpp"
#include "xdense/error.hpp"
#include "xdense/onnx.hpp"

namespace xdense {
namespace {

// Sums over a row run in eight double lanes (element c into lane c mod 8), added in a fixed order
// at the end: the loop vectorises without reordering float additions, and a long row keeps double
// precision.
XDENSE_KERNEL_INLINE double lanes_total(const double* lanes) {
  return ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
}

// Per row of x (rows, cols): mean and biased variance in two passes over the row (it is in cache),
// then y = (x - mean) inv_std gamma + beta. stats holds (mean, inv_std) per row.
XDENSE_VECTOR_CLONES void normalize_rows(const float* x, std::size_t rows, std::size_t cols, float epsilon,
                                         const float* gamma, const float* beta, float* __restrict stats,
                                         float* __restrict y) {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* in = x + r * cols;
    double lanes[8] = {};
    std::size_t c = 0;
    for (; c + 8 <= cols; c += 8)
      for (std::size_t l = 0; l < 8; ++l) lanes[l] += in[c + l];
    for (std::size_t l = 0; c < cols; ++c, ++l) lanes[l] += in[c];
    const double mean = lanes_total(lanes) / static_cast<double>(cols);
    double squares[8] = {};
    for (c = 0; c + 8 <= cols; c += 8)
      for (std::size_t l = 0; l < 8; ++l) {
        const double d = in[c + l] - mean;
        squares[l] += d * d;
      }
    for (std::size_t l = 0; c < cols; ++c, ++l) {
      const double d = in[c] - mean;
      squares[l] += d * d;
    }
    const double variance = lanes_total(squares) / static_cast<double>(cols);
    const auto m = static_cast<float>(mean);
    const auto inv_std = static_cast<float>(1.0 / std::sqrt(variance + static_cast<double>(epsilon)));
    stats[2 * r] = m;
    stats[2 * r + 1] = inv_std;
    float* out = y + r * cols;
    for (c = 0; c < cols; ++c) out[c] = (in[c] - m) * inv_std * gamma[c] + beta[c];
  }
}

// dgamma = sum over rows of dy xhat, dbeta = sum over rows of dy; and when dx is not null, per row
// dx = inv_std (g - mean(g) - xhat mean(g xhat)), g = dy gamma, xhat = (x - mean) inv_std.
XDENSE_VECTOR_CLONES void normalize_rows_backward(const float* x, const float* dy, std::size_t rows, std::size_t cols,
                                                  const float* gamma, const float* stats, float* __restrict dgamma,
                                                  float* __restrict dbeta, float* __restrict dx) {
  for (std::size_t c = 0; c < cols; ++c) dgamma[c] = dbeta[c] = 0.0f;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    const float* dyr = dy + r * cols;
    const float mean = stats[2 * r], inv_std = stats[2 * r + 1];
    for (std::size_t c = 0; c < cols; ++c) {
      dgamma[c] += dyr[c] * ((xr[c] - mean) * inv_std);
      dbeta[c] += dyr[c];
    }
    if (dx == nullptr) continue;
    double g_lanes[8] = {}, gx_lanes[8] = {};
    std::size_t c = 0;
    for (; c + 8 <= cols; c += 8)
      for (std::size_t l = 0; l < 8; ++l) {
        const float g = dyr[c + l] * gamma[c + l];
        g_lanes[l] += g;
        gx_lanes[l] += g * ((xr[c + l] - mean) * inv_std);
      }
    for (std::size_t l = 0; c < cols; ++c, ++l) {
      const float g = dyr[c] * gamma[c];
      g_lanes[l] += g;
      gx_lanes[l] += g * ((xr[c] - mean) * inv_std);
    }
    const auto mean_g = static_cast<float>(lanes_total(g_lanes) / static_cast<double>(cols));
    const auto mean_gx = static_cast<float>(lanes_total(gx_lanes) / static_cast<double>(cols));
    float* out = dx + r * cols;
    for (c = 0; c < cols; ++c) {
      const float xhat = (xr[c] - mean) * inv_std;
      out[c] = inv_std * (dyr[c] * gamma[c] - mean_g - xhat * mean_gx);
    }
  }
}

void check_epsilon(double epsilon) {
  if (!(epsilon > 0.0 && epsilon < 1e30)) {
    throw InvalidArgument("LayerNormalization: epsilon must be a positive float, received epsilon=" +
                          std::to_string(epsilon));
  }
}

Parameter handle(const char* name, const std::vector<float>& value, const std::vector<float>& gradient) {
  // The layer hands out handles to its own arrays (see Layer::parameters()).
  return {name, const_cast<float*>(value.data()), const_cast<float*>(gradient.data()), value.size(), {value.size()}};
}

}  // namespace

LayerNormalization::LayerNormalization(LayerNormalizationOptions options)
    : options_(std::move(options)), epsilon_(static_cast<float>(options_.epsilon)) {
  check_epsilon(options_.epsilon);
}

void LayerNormalization::build(std::size_t input_units, Rng& rng) {
  if (input_units == 0) throw InvalidArgument("LayerNormalization: expected a positive number of inputs, received 0");
  const std::size_t n = input_units;
  units_ = n;
  gamma_.assign(n, 1.0f);
  beta_.assign(n, 0.0f);
  // Keras's order: gamma, then beta; a vector's fans are its length.
  if (options_.scale) options_.gamma_initializer->fill(gamma_.data(), n, n, n, rng);
  if (options_.center) options_.beta_initializer->fill(beta_.data(), n, n, n, rng);
  gamma_gradient_.assign(n, 0.0f);
  beta_gradient_.assign(n, 0.0f);
  statistics_.reserve(0, 2);
  output_.reserve(0, n);
  input_gradient_.reserve(0, n);
  built_ = true;
}

void LayerNormalization::reserve(std::size_t rows) {
  statistics_.reserve(rows, 2);
  output_.reserve(rows, units_);
  input_gradient_.reserve(rows, units_);
}

ConstMatrixView LayerNormalization::forward(ConstMatrixView x) {
  if (!built_) throw StateError("LayerNormalization: forward() called before build()");
  check_columns(x, units_);
  input_ = x;
  const MatrixView y = output_.view(x.rows);
  normalize_rows(x.data, x.rows, units_, epsilon_, gamma_.data(), beta_.data(), statistics_.view(x.rows).data, y.data);
  return y;
}

ConstMatrixView LayerNormalization::backward(ConstMatrixView dy, bool need_input_gradient) {
  if (!built_) throw StateError("LayerNormalization::backward: called before build()");
  if (dy.cols != units_ || dy.rows != input_.rows) {
    throw ShapeError("LayerNormalization::backward: expected dL/dy of shape " + shape_string(input_.rows, units_) +
                     ", received " + shape_string(dy.rows, dy.cols));
  }
  const MatrixView dx = need_input_gradient ? input_gradient_.view(dy.rows) : MatrixView{};
  normalize_rows_backward(input_.data, dy.data, dy.rows, units_, gamma_.data(), statistics_.view(dy.rows).data,
                          gamma_gradient_.data(), beta_gradient_.data(), dx.data);
  return dx;
}

std::vector<Parameter> LayerNormalization::parameters() const {
  if (!built_) return {};
  std::vector<Parameter> params;
  if (options_.scale) params.push_back(handle("gamma", gamma_, gamma_gradient_));
  if (options_.center) params.push_back(handle("beta", beta_, beta_gradient_));
  return params;
}

std::string LayerNormalization::to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const {
  if (!built_) throw StateError("LayerNormalization (layer " + name + "): to_onnx() called before build()");
  const std::vector<OnnxAttribute> last_axis{OnnxAttribute::integers("axes", {-1}), OnnxAttribute::integer("keepdims", 1)};
  const std::vector<std::int64_t> shape{static_cast<std::int64_t>(units_)};
  // Per row: y = (x - mean) inv_std gamma + beta, inv_std = 1 / sqrt(var + epsilon), var biased.
  const std::string mean = graph.add("ReduceMean", {input}, last_axis, name + "/mean");
  const std::string centred = graph.add("Sub", {input, mean}, {}, name + "/centred");
  const std::string squares = graph.add("Mul", {centred, centred}, {}, name + "/squares");
  const std::string variance = graph.add("ReduceMean", {squares}, last_axis, name + "/variance");
  const std::string epsilon = graph.add_initializer(name + "/epsilon", {}, {epsilon_});
  const std::string shifted = graph.add("Add", {variance, epsilon}, {}, name + "/variance_plus_epsilon");
  const std::string deviation = graph.add("Sqrt", {shifted}, {}, name + "/std");
  const std::string inv_std = graph.add("Reciprocal", {deviation}, {}, name + "/inv_std");
  std::string y = graph.add("Mul", {centred, inv_std}, {}, name + (options_.scale || options_.center ? "/normalized" : ""));
  // gamma is all ones without scale and beta all zeros without center: x * 1 and x + 0 are x, no node.
  if (options_.scale) {
    y = graph.add("Mul", {y, graph.add_initializer(name + "/gamma", shape, gamma_)}, {},
                  name + (options_.center ? "/scaled" : ""));
  }
  if (options_.center) y = graph.add("Add", {y, graph.add_initializer(name + "/beta", shape, beta_)}, {}, name);
  return y;
}

std::optional<LayerShape> LayerNormalization::shape_for(std::size_t input_units) const {
  LayerShape shape{input_units, {}};
  if (options_.scale) shape.weights.push_back({"gamma", {input_units}});
  if (options_.center) shape.weights.push_back({"beta", {input_units}});
  return shape;
}

Config LayerNormalization::config() const {
  return {{"axis", -1},
          {"epsilon", options_.epsilon},
          {"center", options_.center},
          {"scale", options_.scale},
          {"rms_scaling", false},
          {"beta_initializer", options_.beta_initializer.to_config()},
          {"gamma_initializer", options_.gamma_initializer.to_config()}};
}

namespace {

std::unique_ptr<Layer> layer_normalization_from_config(const Config& config) {
  ConfigReader in(config, "LayerNormalization");
  LayerNormalizationOptions options;
  detail::read_feature_axis(in, config, "normalising each sample over its features");
  options.epsilon = detail::read_epsilon(in, config, options.epsilon);
  options.center = in.boolean("center", options.center);
  options.scale = in.boolean("scale", options.scale);
  if (in.boolean("rms_scaling", false)) {
    in.fail("rms_scaling", "expected false (xdense has no RMS normalisation), received true");
  }
  options.beta_initializer = detail::read_spec(in, config, "beta_initializer", options.beta_initializer);
  options.gamma_initializer = detail::read_spec(in, config, "gamma_initializer", options.gamma_initializer);
  detail::read_null_keys(in, config, {"beta_regularizer", "gamma_regularizer"},
                         "xdense regularizes Dense weights only");
  detail::read_null_keys(in, config, {"beta_constraint", "gamma_constraint"}, "xdense has no weight constraints");
  detail::read_keras_layer_keys(in, config);
  in.finish();
  return std::make_unique<LayerNormalization>(options);
}

const bool registered = (register_layer("LayerNormalization", layer_normalization_from_config), true);

}  // namespace

}  // namespace xdense
