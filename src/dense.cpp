#include "xdense/dense.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "blas.hpp"
#include "xdense/activation.hpp"
#include "xdense/error.hpp"
#include "xdense/onnx.hpp"
#include "layers/keras_layer_keys.hpp"

namespace xdense {

Dense::Dense(std::size_t units, std::size_t input_units, DenseOptions options)
    : units_(units), input_units_(input_units), options_(std::move(options)) {
  if (units == 0) throw InvalidArgument("Dense: expected a positive number of units, received units=0");
}

void Dense::allocate(std::size_t input_units) {
  if (input_units == 0) throw InvalidArgument("Dense: expected a positive number of inputs, received 0");
  if (input_units_ != 0 && input_units_ != input_units) {
    throw ShapeError("Dense: declared with " + std::to_string(input_units_) + " inputs, but receives " +
                     std::to_string(input_units));
  }
  input_units_ = input_units;
  kernel_ = Matrix::from_shape({input_units, units_});
  bias_ = Vector::from_shape({units_});
  kernel_gradient_ = Matrix::from_shape({input_units, units_});
  bias_gradient_ = Vector::from_shape({units_});
  std::fill(kernel_gradient_.begin(), kernel_gradient_.end(), 0.0f);
  std::fill(bias_gradient_.begin(), bias_gradient_.end(), 0.0f);
  output_.reserve(0, units_);
  input_gradient_.reserve(0, input_units);
  built_ = true;
}

void Dense::build(std::size_t input_units, Rng& rng) {
  allocate(input_units);
  options_.kernel_initializer->fill(kernel_.data(), kernel_.size(), input_units, units_, rng);
  if (options_.use_bias) {
    options_.bias_initializer->fill(bias_.data(), bias_.size(), input_units, units_, rng);
  } else {
    std::fill(bias_.begin(), bias_.end(), 0.0f);
  }
}

void Dense::set_weights(const Matrix& kernel, const Vector& bias) {
  const std::size_t in = kernel.shape(0);
  if (kernel.shape(1) != units_ || bias.shape(0) != units_ || (input_units_ != 0 && in != input_units_)) {
    throw ShapeError("Dense::set_weights: expected kernel (" +
                     (input_units_ ? std::to_string(input_units_) : std::string("inputs")) + ", " +
                     std::to_string(units_) + ") and bias (" + std::to_string(units_) + "), received kernel " +
                     shape_string(kernel.shape(0), kernel.shape(1)) + " and bias (" + std::to_string(bias.shape(0)) +
                     ")");
  }
  if (!options_.use_bias && std::any_of(bias.begin(), bias.end(), [](float b) { return b != 0.0f; })) {
    throw InvalidArgument(
        "Dense::set_weights: the layer has use_bias=false, expected an all-zero bias, "
        "received non-zero values");
  }
  if (!built_) allocate(in);
  // Copy into the existing buffers: optimizers hold pointers to them.
  std::copy(kernel.begin(), kernel.end(), kernel_.begin());
  std::copy(bias.begin(), bias.end(), bias_.begin());
}

void Dense::reserve(std::size_t rows) {
  output_.reserve(rows, units_);
  input_gradient_.reserve(rows, input_units_);
}

ConstMatrixView Dense::forward(ConstMatrixView x) {
  if (!built_) throw StateError("Dense: forward() called before build()");
  check_columns(x, input_units_);
  input_ = x;
  MatrixView y = output_.view(x.rows);
  // y = x . W + b: the product starts from b in every row (for sgemm: b copied in,
  // then beta = 1), so the bias add needs no pass of its own.
  blas::sgemm_plus_row(false, false, x.rows, units_, input_units_, x.data, kernel_.data(), bias_.data(), y.data);
  return y;
}

void Dense::check_upstream(ConstMatrixView dy, const char* who) const {
  if (!built_) throw StateError(std::string(who) + ": called before build()");
  if (dy.cols != units_ || dy.rows != input_.rows) {
    throw ShapeError(std::string(who) + ": expected dL/dy of shape " + shape_string(input_.rows, units_) +
                     ", received " + shape_string(dy.rows, dy.cols));
  }
}

// dW = x^T . dy : (in, batch) . (batch, units); db = sum over the batch of dy (stays 0
// without a bias); dx = dy . W^T : (batch, units) . (units, in), times f'(z) when the
// layer before was an activation x = f(z) taken through.
ConstMatrixView Dense::backward_pass(ConstMatrixView dy, bool need_input_gradient, blas::Derivative derivative) {
  MatrixView dx = need_input_gradient ? input_gradient_.view(dy.rows) : MatrixView{};
  blas::dense_backward(dy.rows, input_units_, units_, input_.data, dy.data, kernel_.data(), kernel_gradient_.data(),
                       options_.use_bias ? bias_gradient_.data() : nullptr, derivative,
                       need_input_gradient ? dx.data : nullptr);
  if ((options_.kernel_regularizer || options_.bias_regularizer) && penalty_in_backward()) add_penalty_gradients();
  return dx;
}

// dW += d penalty(W) / dW, db += d penalty(b) / db: the loss minimised is the data loss plus the
// penalties (Keras's layer.losses).
void Dense::add_regularization_gradients() { add_penalty_gradients(); }

void Dense::add_penalty_gradients() {
  if (const Regularizer* r = options_.kernel_regularizer.get()) {
    r->add_gradient(kernel_.data(), kernel_gradient_.data(), kernel_.size());
  }
  if (const Regularizer* r = options_.bias_regularizer.get(); r != nullptr && options_.use_bias) {
    r->add_gradient(bias_.data(), bias_gradient_.data(), bias_.size());
  }
}

bool Dense::regularized() const {
  return options_.kernel_regularizer || (options_.use_bias && options_.bias_regularizer);
}

double Dense::regularization_loss() const {
  if (!built_) return 0.0;
  double penalty = 0.0;
  if (const Regularizer* r = options_.kernel_regularizer.get()) penalty += r->penalty(kernel_.data(), kernel_.size());
  if (const Regularizer* r = options_.bias_regularizer.get(); r != nullptr && options_.use_bias) {
    penalty += r->penalty(bias_.data(), bias_.size());
  }
  return penalty;
}

ConstMatrixView Dense::backward(ConstMatrixView dy, bool need_input_gradient) {
  check_upstream(dy, "Dense::backward");
  return backward_pass(dy, need_input_gradient, blas::Derivative::none);  // empty view without dx
}

namespace {

// What the activation declares: its f'(z) as a function of its output, or none.
blas::Derivative derivative_of(const Activation& activation) { return activation.output_derivative(); }

}  // namespace

bool Dense::can_backward_through(const Activation& activation) {
  return derivative_of(activation) != blas::Derivative::none;
}

ConstMatrixView Dense::backward_through(const Activation& activation, ConstMatrixView dy) {
  const blas::Derivative derivative = derivative_of(activation);
  if (derivative == blas::Derivative::none) {
    throw InvalidArgument("Dense::backward_through: expected an activation whose derivative is a function of its "
                          "output, as sigmoid, tanh or ReLU declare (Activation::output_derivative()), received " +
                          activation.type_name());
  }
  check_upstream(dy, "Dense::backward_through");
  // dz = (dy . W^T) * f'(z), with f'(z) from the activation's outputs y = this layer's inputs
  return backward_pass(dy, true, derivative);
}

std::vector<Parameter> Dense::parameters() const {
  if (!built_) return {};
  // The layer hands out handles to its own arrays (see Layer::parameters()).
  auto* self = const_cast<Dense*>(this);
  std::vector<Parameter> params{{"kernel", self->kernel_.data(), self->kernel_gradient_.data(), kernel_.size(),
                                 {input_units_, units_}}};
  if (options_.use_bias) {
    params.push_back({"bias", self->bias_.data(), self->bias_gradient_.data(), bias_.size(), {units_}});
  }
  return params;
}

std::string Dense::to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const {
  if (!built_) throw StateError("Dense (layer " + name + "): to_onnx() called before build()");
  const auto in = static_cast<std::int64_t>(input_units_);
  const auto out = static_cast<std::int64_t>(units_);
  // Y = A . B + C: (N, in) . (in, out) + (out), what forward() computes.
  std::vector<std::string> inputs{input, graph.add_initializer(name + "/kernel", {in, out},
                                                               std::vector<float>(kernel_.begin(), kernel_.end()))};
  if (options_.use_bias) {
    inputs.push_back(graph.add_initializer(name + "/bias", {out}, std::vector<float>(bias_.begin(), bias_.end())));
  }
  return graph.add("Gemm", inputs, {}, name);
}

std::optional<LayerShape> Dense::shape_for(std::size_t input_units) const {
  LayerShape shape{units_, {{"kernel", {input_units, units_}}}};
  if (options_.use_bias) shape.weights.push_back({"bias", {units_}});
  return shape;
}

Config Dense::config() const {
  Config config = {{"units", units_},
                   {"use_bias", options_.use_bias},
                   {"kernel_initializer", options_.kernel_initializer.to_config()},
                   {"bias_initializer", options_.bias_initializer.to_config()}};
  // Written only when set, so the config of a layer without them is what it has always been.
  if (options_.kernel_regularizer) config["kernel_regularizer"] = options_.kernel_regularizer.to_config();
  if (options_.bias_regularizer) config["bias_regularizer"] = options_.bias_regularizer.to_config();
  return config;
}

namespace {

// Keras 3's Dense config as model.to_json() writes it, less "activation" (a layer of its own here).
std::unique_ptr<Layer> dense_from_config(const Config& config) {
  ConfigReader in(config, "Dense");
  DenseOptions options;
  const std::size_t units = in.positive_integer("units");
  options.use_bias = in.boolean("use_bias", options.use_bias);
  options.kernel_initializer = detail::read_spec(in, config, "kernel_initializer", options.kernel_initializer);
  options.bias_initializer = detail::read_spec(in, config, "bias_initializer", options.bias_initializer);
  options.kernel_regularizer = detail::read_spec(in, config, "kernel_regularizer", RegularizerSpec());
  options.bias_regularizer = detail::read_spec(in, config, "bias_regularizer", RegularizerSpec());
  detail::read_keras_layer_keys(in, config);
  detail::read_null_keys(in, config, {"activity_regularizer"}, "xdense has no activity regularizers");
  detail::read_null_keys(in, config, {"kernel_constraint", "bias_constraint"}, "xdense has no weight constraints");
  detail::read_null_keys(in, config, {"lora_rank", "lora_alpha"}, "xdense has no LoRA");
  detail::read_null_keys(in, config, {"quantization_config"}, "xdense computes in float32");
  in.finish();
  return std::make_unique<Dense>(units, 0, options);
}

const bool registered = (register_layer("Dense", dense_from_config), true);

}  // namespace

}  // namespace xdense
