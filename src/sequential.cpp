#include "xdense/sequential.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <iomanip>
#include <limits>
#include <numeric>
#include <optional>
#include <sstream>

#include "xdense/activation.hpp"
#include "xdense/dense.hpp"
#include "xdense/error.hpp"
#include "data_parallel.hpp"

namespace xdense {
namespace {

constexpr double not_computed = std::numeric_limits<double>::quiet_NaN();

// Copies `cols` floats; rows of a few columns (the tiny nets whose steps take a microsecond) are
// copied inline, without a call to memcpy per row.
inline void copy_row(float* target, const float* source, std::size_t cols) {
  switch (cols) {
    case 1:
      target[0] = source[0];
      return;
    case 2:
      target[0] = source[0];
      target[1] = source[1];
      return;
    case 3:
      target[0] = source[0];
      target[1] = source[1];
      target[2] = source[2];
      return;
    case 4:
      target[0] = source[0];
      target[1] = source[1];
      target[2] = source[2];
      target[3] = source[3];
      return;
    default:
      std::memcpy(target, source, cols * sizeof(float));
  }
}

// Copies rows `order[first, first + count)` of x, y and (unless empty) weights into the start of
// the batch buffers, in one pass over the batch's indices.
void gather_batch(ConstMatrixView x, ConstMatrixView y, const std::vector<float>& weights,
                  const std::vector<std::size_t>& order, std::size_t first, std::size_t count, MatrixView x_batch,
                  MatrixView y_batch, float* weight_batch) {
  const std::size_t x_cols = x.cols, y_cols = y.cols;
  const float* const xs = x.data;
  const float* const ys = y.data;
  const std::size_t* const rows = order.data() + first;
  // On data larger than a core's second-level cache the next batch's rows are asked for while this
  // one is copied: their misses overlap this step instead of stalling the next gather (no effect
  // on results). On smaller data the prefetches would only cost instructions.
  constexpr std::size_t cached_bytes = std::size_t{512} << 10;
  const bool large = (x.size() + y.size()) * sizeof(float) > cached_bytes;
  const std::size_t ahead = large ? std::min(count, order.size() - std::min(order.size(), first + count)) : 0;
  for (std::size_t r = 0; r < ahead; ++r) {
    const std::size_t row = rows[count + r];
    __builtin_prefetch(xs + row * x_cols);
    __builtin_prefetch(ys + row * y_cols);
  }
  for (std::size_t r = 0; r < count; ++r) {
    const std::size_t row = rows[r];
    copy_row(x_batch.data + r * x_cols, xs + row * x_cols, x_cols);
    copy_row(y_batch.data + r * y_cols, ys + row * y_cols, y_cols);
  }
  if (!weights.empty()) {
    for (std::size_t r = 0; r < count; ++r) weight_batch[r] = weights[rows[r]];
  }
}

ConstMatrixView rows_of(ConstMatrixView m, std::size_t first, std::size_t count) {
  return {m.data + first * m.cols, count, m.cols};
}

ConstMatrixView rows_of(const Matrix& m, std::size_t first, std::size_t count) { return rows_of(view(m), first, count); }

std::size_t argmax(const float* values, std::size_t n) {
  return static_cast<std::size_t>(std::max_element(values, values + n) - values);
}

std::string with_thousands(std::size_t n) {
  std::string digits = std::to_string(n);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<std::size_t>(i), ",");
  return digits;
}

// "ReLU" -> "re_lu", "LeakyReLU" -> "leaky_re_lu", "Dense" -> "dense" (Keras's naming).
std::string snake_case(const std::string& type) {
  std::string out;
  for (std::size_t i = 0; i < type.size(); ++i) {
    const char c = type[i];
    if (c == '(') break;
    if (std::isupper(static_cast<unsigned char>(c))) {
      const bool after_lower = i > 0 && std::islower(static_cast<unsigned char>(type[i - 1]));
      const bool before_lower = i + 1 < type.size() && std::islower(static_cast<unsigned char>(type[i + 1]));
      if (i > 0 && (after_lower || (before_lower && std::isupper(static_cast<unsigned char>(type[i - 1]))))) out += '_';
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      out += c;
    }
  }
  return out;
}

// The value of `key` in `log`, if it has one (EpochLog::value's rules).
std::optional<double> find_value(const EpochLog& log, const std::string& key) {
  const auto in = [](const std::vector<std::pair<std::string, double>>& list,
                     const std::string& name) -> std::optional<double> {
    for (const auto& [metric, value] : list) {
      if (metric == name) return value;
    }
    return std::nullopt;
  };
  if (key == "loss") return log.loss;
  if (key == "seconds") return log.seconds;
  if (key == "lr" || key == "learning_rate") {
    if (std::isnan(log.learning_rate)) return std::nullopt;
    return log.learning_rate;
  }
  const bool validated = !std::isnan(log.val_loss) || !log.val_metrics.empty();
  if (key == "val_loss") {
    if (!validated) return std::nullopt;
    return log.val_loss;
  }
  if (auto value = in(log.metrics, key)) return value;
  if (key.compare(0, 4, "val_") == 0) {
    if (auto value = in(log.val_metrics, key.substr(4))) return value;
  }
  // Logs that carry only the accuracy fields (read back from a record without metric lists).
  if (key == "accuracy" && !std::isnan(log.accuracy)) return log.accuracy;
  if (key == "val_accuracy" && !std::isnan(log.val_accuracy)) return log.val_accuracy;
  return std::nullopt;
}

[[noreturn]] void unknown_key(const std::string& who, const std::string& key, const std::vector<std::string>& known) {
  throw InvalidArgument(who + ": unknown key " + quote_value(key) + " (this history has: " + name_list(known, 40) +
                        ")");
}

}  // namespace

double EpochLog::value(const std::string& key) const {
  if (const auto found = find_value(*this, key)) return *found;
  unknown_key("EpochLog::value", key, keys());
}

bool EpochLog::has(const std::string& key) const { return find_value(*this, key).has_value(); }

std::vector<std::string> EpochLog::keys() const {
  std::vector<std::string> list{"loss"};
  for (const auto& metric : metrics) list.push_back(metric.first);
  const bool listed_accuracy = std::find(list.begin(), list.end(), "accuracy") != list.end();
  if (!listed_accuracy && !std::isnan(accuracy)) list.push_back("accuracy");
  if (!std::isnan(val_loss) || !val_metrics.empty()) {
    list.push_back("val_loss");
    for (const auto& metric : val_metrics) list.push_back("val_" + metric.first);
  }
  if (!std::isnan(val_accuracy) && std::find(list.begin(), list.end(), "val_accuracy") == list.end()) {
    list.push_back("val_accuracy");
  }
  if (!std::isnan(learning_rate)) list.push_back("lr");
  return list;
}

std::vector<double> History::values(const std::string& key) const {
  std::vector<double> series;
  series.reserve(epochs.size());
  for (const EpochLog& e : epochs) {
    const auto found = find_value(e, key);
    if (!found) unknown_key("History::values", key, e.keys());
    series.push_back(*found);
  }
  return series;
}

double Evaluation::metric(const std::string& name) const {
  if (name == "loss") return loss;
  for (const auto& [metric_name, value] : metrics) {
    if (metric_name == name) return value;
  }
  if (name == "accuracy" && !std::isnan(accuracy)) return accuracy;
  std::vector<std::string> known{"loss"};
  for (const auto& m : metrics) known.push_back(m.first);
  if (!std::isnan(accuracy) && std::find(known.begin(), known.end(), "accuracy") == known.end()) {
    known.push_back("accuracy");
  }
  throw InvalidArgument("Evaluation::metric: unknown metric " + quote_value(name) +
                        " (this evaluation has: " + name_list(known, 40) + ")");
}

Sequential::Sequential(std::uint64_t seed) : rng_(seed) {}
Sequential::~Sequential() = default;
Sequential::Sequential(Sequential&&) noexcept = default;
Sequential& Sequential::operator=(Sequential&&) noexcept = default;

Sequential& Sequential::add(std::unique_ptr<Layer> layer) {
  if (!layer) throw InvalidArgument("Sequential::add: expected a layer, received nullptr");
  if (built_) throw StateError("Sequential::add: the model is already built; add layers before fit() or build()");
  layers_.push_back(std::move(layer));
  update_fusion();
  return *this;
}

Sequential& Sequential::add(const std::string& activation_spec) { return add(make_activation(activation_spec)); }

void Sequential::compile(std::unique_ptr<Loss> loss, std::unique_ptr<Optimizer> optimizer,
                         const std::vector<std::string>& metrics) {
  if (!loss) throw InvalidArgument("Sequential::compile: expected a loss, received nullptr");
  if (!optimizer) throw InvalidArgument("Sequential::compile: expected an optimizer, received nullptr");
  // Everything is checked before anything changes: a refused compile leaves the model as it was.
  std::vector<std::unique_ptr<Metric>> made;
  for (const auto& name : metrics) {
    std::unique_ptr<Metric> metric;
    try {
      metric = make_metric(name);
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(std::string("Sequential::compile: ") + e.what());
    }
    for (const auto& earlier : made) {
      if (earlier->name() == metric->name()) {
        throw InvalidArgument("Sequential::compile: metric " + quote_value(metric->name()) + " is listed twice (as " +
                              quote_value(name) + ")");
      }
    }
    made.push_back(std::move(metric));
  }
  if (built_) {
    loss->check_output(output_units(), layers_.back()->as_activation());
    for (const auto& metric : made) metric->check_model(output_units(), *loss);
  }
  loss_ = std::move(loss);
  optimizer_ = std::move(optimizer);
  metrics_ = std::move(made);
  accuracy_ = nullptr;
  for (const auto& metric : metrics_) {
    if (metric->name() == "accuracy") accuracy_ = metric.get();
  }
  update_fusion();
}

void Sequential::compile(std::unique_ptr<Loss> loss, std::unique_ptr<Optimizer> optimizer) {
  std::vector<std::string> metrics{"accuracy"};
  if (loss && loss->label_encoding() == LabelEncoding::values) {
    // Regression: those of mae, rmse and r2 that are registered (src/metrics/).
    metrics.clear();
    for (const char* name : {"mae", "rmse", "r2"}) {
      try {
        make_metric(name);
        metrics.emplace_back(name);
      } catch (const InvalidArgument&) {
      }
    }
  }
  compile(std::move(loss), std::move(optimizer), metrics);
}

void Sequential::add_metric(std::unique_ptr<Metric> metric) {
  require_compiled("Sequential::add_metric");
  if (!metric) throw InvalidArgument("Sequential::add_metric: expected a metric, received nullptr");
  for (const auto& earlier : metrics_) {
    if (earlier->name() == metric->name()) {
      throw InvalidArgument("Sequential::add_metric: a metric named " + quote_value(metric->name()) +
                            " is already compiled");
    }
  }
  if (built_) metric->check_model(output_units(), *loss_);
  if (metric->name() == "accuracy") accuracy_ = metric.get();
  metrics_.push_back(std::move(metric));
}

void Sequential::compile(const std::string& loss, const std::string& optimizer) {
  compile(make_loss(loss), make_optimizer(optimizer));
}

void Sequential::compile(const std::string& loss, const std::string& optimizer,
                         const std::vector<std::string>& metrics) {
  compile(make_loss(loss), make_optimizer(optimizer), metrics);
}

std::vector<std::vector<float>> Sequential::get_weights() const {
  std::vector<std::vector<float>> weights;
  if (!built_) return weights;
  for (const auto& layer : layers_) {
    for (const Parameter& p : layer->weights()) weights.emplace_back(p.value, p.value + p.size);
  }
  return weights;
}

void Sequential::set_weights(const std::vector<std::vector<float>>& weights) {
  std::vector<Parameter> arrays;
  if (built_) {
    for (const auto& layer : layers_) {
      for (const Parameter& p : layer->weights()) arrays.push_back(p);
    }
  }
  if (arrays.size() != weights.size()) {
    throw ShapeError("Sequential::set_weights: the model has " + std::to_string(arrays.size()) +
                     " weight arrays, received " + std::to_string(weights.size()));
  }
  for (std::size_t i = 0; i < arrays.size(); ++i) {
    if (weights[i].size() != arrays[i].size) {
      throw ShapeError("Sequential::set_weights: array " + std::to_string(i) + " has " +
                       std::to_string(arrays[i].size) + " values, received " + std::to_string(weights[i].size()));
    }
  }
  for (std::size_t i = 0; i < arrays.size(); ++i) std::copy(weights[i].begin(), weights[i].end(), arrays[i].value);
}

void Sequential::set_training(bool training) {
  if (training_mode_ == static_cast<int>(training)) return;  // a step costs no loop over the layers
  for (auto& layer : layers_) layer->set_training(training);
  training_mode_ = static_cast<int>(training);
}

void Sequential::update_fusion() {
  fused_output_ = nullptr;
  if (!loss_ || layers_.empty()) return;
  Activation* output = layers_.back()->as_activation();
  if (output != nullptr && loss_->fuses_with(*output)) fused_output_ = output;
}

void Sequential::build(std::size_t input_units) {
  if (layers_.empty()) throw StateError("Sequential::build: the model has no layers; add() some first");
  if (input_units == 0) throw InvalidArgument("Sequential::build: expected a positive number of inputs, received 0");
  std::size_t units = input_units;
  for (auto& layer : layers_) {
    layer->build(units, rng_);
    units = layer->output_units();
  }
  parameters_.clear();
  regularized_.clear();
  for (const auto& layer : layers_) {
    if (layer->regularized()) regularized_.push_back(layer.get());
  }
  first_trainable_ = layers_.size();
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    for (const Parameter& p : layers_[i]->parameters()) parameters_.push_back(p);
    if (first_trainable_ == layers_.size() && !layers_[i]->parameters().empty()) first_trainable_ = i;
  }
  // A layer that can take the backward pass of the activation before it (Dense after a
  // sigmoid/tanh/ReLU: Layer::takes_backward_of) does, when that pass is needed: one pass
  // over the batch fewer.
  through_previous_.assign(layers_.size(), {nullptr, nullptr});
  training_mode_ = -1;
  for (std::size_t i = 1; i < layers_.size(); ++i) {
    const Activation* activation = layers_[i - 1]->as_activation();
    if (activation != nullptr && i - 1 > first_trainable_ && layers_[i]->takes_backward_of(*activation)) {
      through_previous_[i] = {layers_[i].get(), activation};
    }
  }
  built_ = true;
  if (optimizer_) optimizer_->reset();
  if (loss_) {
    loss_->check_output(units, layers_.back()->as_activation());
    for (const auto& metric : metrics_) metric->check_model(units, *loss_);
  }
}

std::size_t Sequential::input_units() const { return built_ ? layers_.front()->input_units() : 0; }
std::size_t Sequential::output_units() const { return built_ ? layers_.back()->output_units() : 0; }

Layer& Sequential::layer(std::size_t index) {
  if (index >= layers_.size()) {
    throw InvalidArgument("Sequential::layer: index " + std::to_string(index) + " out of range (model has " +
                          std::to_string(layers_.size()) + " layers)");
  }
  return *layers_[index];
}

const Layer& Sequential::layer(std::size_t index) const { return const_cast<Sequential*>(this)->layer(index); }

std::string Sequential::layer_name(std::size_t index) const {
  const std::string base = snake_case(layer(index).type_name());
  std::size_t same_before = 0;
  for (std::size_t i = 0; i < index; ++i) same_before += snake_case(layers_[i]->type_name()) == base;
  return same_before == 0 ? base : base + "_" + std::to_string(same_before);
}

std::size_t Sequential::parameter_count() const {
  std::size_t total = 0;
  for (const Parameter& p : parameters_) total += p.size;
  return total;
}

void Sequential::require_compiled(const std::string& who) const {
  if (!compiled()) throw StateError(who + ": the model is not compiled; call compile() first");
}

void Sequential::prepare(std::size_t input_units, const std::string& who) {
  if (layers_.empty()) throw StateError(who + ": the model has no layers; add() some first");
  if (!built_) {
    build(input_units);
  } else if (input_units != this->input_units()) {
    throw ShapeError(who + ": expected x with " + std::to_string(this->input_units()) +
                     " columns (the model's inputs), received " + std::to_string(input_units));
  }
}

void Sequential::reserve(std::size_t rows) {
  for (auto& layer : layers_) layer->reserve(rows);
  output_gradient_.reserve(rows, output_units());
  if (sample_losses_.size() < rows) sample_losses_.resize(rows);
}

double Sequential::regularization_loss() const {
  double penalty = 0.0;
  for (const Layer* layer : regularized_) penalty += layer->regularization_loss();
  return penalty;
}

double Sequential::batch_loss(ConstMatrixView output, ConstMatrixView y) const {
  if (fused_output_ != nullptr) return loss_->value_from_logits(fused_output_->last_input(), y);
  return loss_->value(output, y);
}

double Sequential::weighted_loss_sum(ConstMatrixView loss_input, ConstMatrixView y, const float* weights) {
  if (sample_losses_.size() < loss_input.rows) sample_losses_.resize(loss_input.rows);
  if (fused_output_ != nullptr) {
    loss_->sample_values_from_logits(loss_input, y, sample_losses_.data());
  } else {
    loss_->sample_values(loss_input, y, sample_losses_.data());
  }
  double sum = 0.0;
  for (std::size_t r = 0; r < loss_input.rows; ++r) sum += static_cast<double>(weights[r]) * sample_losses_[r];
  return sum;
}

ConstMatrixView Sequential::last_step_output() {
  if (last_output_is_logits_) {
    last_output_ = fused_output_->forward(last_output_);
    last_output_is_logits_ = false;
  }
  return last_output_;
}

double Sequential::train_step(ConstMatrixView x, ConstMatrixView y, bool check_finite) {
  return step(x, y, nullptr, check_finite);
}

double Sequential::train_step(ConstMatrixView x, ConstMatrixView y, const float* sample_weights, bool check_finite) {
  if (sample_weights != nullptr) {
    for (std::size_t r = 0; r < x.rows; ++r) {
      if (!(std::isfinite(sample_weights[r]) && sample_weights[r] >= 0.0f)) {
        throw DataError("Sequential::train_step: expected finite sample weights >= 0, received " +
                        std::to_string(sample_weights[r]) + " for row " + std::to_string(r));
      }
    }
  }
  return step(x, y, sample_weights, check_finite);
}

double Sequential::step(ConstMatrixView x, ConstMatrixView y, const float* sample_weights, bool check_finite) {
  if (!compiled()) require_compiled("Sequential::train_step");  // (no string built on the way through)
  if (!built_) throw StateError("Sequential::train_step: the model is not built; call build() or fit() first");
  check_step_shapes(x, y);
  double loss = forward_backward(x, y, sample_weights, 1.0f);
  // Weight penalties, from the weights this step's forward pass used (as Keras's layer.losses):
  // part of the loss reported; each layer adds their gradient in its backward pass.
  if (!regularized_.empty()) loss += regularization_loss();
  return update_weights(loss, check_finite);
}

void Sequential::check_step_shapes(ConstMatrixView x, ConstMatrixView y) const {
  // Checked here, not only by the layers: with a loss from the logits the output
  // activation (which may be the only layer) does not run.
  if (x.cols != input_units() || y.rows != x.rows) {
    throw ShapeError("Sequential::train_step: expected x with " + std::to_string(input_units()) +
                     " columns and y with as many rows, received x " + shape_string(x.rows, x.cols) + " and y " +
                     shape_string(y.rows, y.cols));
  }
}

double Sequential::forward_backward(ConstMatrixView x, ConstMatrixView y, const float* sample_weights,
                                    float gradient_scale) {
  if (output_gradient_.cols() != output_units()) output_gradient_.reserve(x.rows, output_units());
  set_training(true);  // a step is training: layers such as dropout act
  // With a loss computed from the logits, the output activation takes no part in the
  // step, forward or backward: its outputs are made only if someone asks for them
  // (training accuracy, in fit()).
  const std::size_t forward_layers = fused_output_ != nullptr ? layers_.size() - 1 : layers_.size();
  ConstMatrixView activations = x;
  for (std::size_t i = 0; i < forward_layers; ++i) activations = layers_[i]->forward(activations);
  last_output_ = activations;
  last_output_is_logits_ = fused_output_ != nullptr;

  MatrixView gradient = output_gradient_.view(x.rows);
  double loss;
  if (sample_weights != nullptr) {
    // L_w = sum_i w_i l_i / rows (Keras's sum_over_batch_size): the loss is a mean of per-row terms
    // (Loss::sample_values), so dL_w/d row i = w_i dL/d row i.
    if (fused_output_ != nullptr) {
      loss_->gradient_from_logits(activations, y, gradient);  // dL/dz
    } else {
      loss_->gradient(activations, y, gradient);
    }
    loss = weighted_loss_sum(activations, y, sample_weights) / static_cast<double>(x.rows);
    for (std::size_t r = 0; r < x.rows; ++r) {
      float* row = gradient.row(r);
      const float w = sample_weights[r] * gradient_scale;
      for (std::size_t c = 0; c < gradient.cols; ++c) row[c] *= w;
    }
  } else {
    if (fused_output_ != nullptr) {
      loss = loss_->value_and_gradient_from_logits(activations, y, gradient);  // dL/dz
    } else {
      loss = loss_->value(activations, y);
      loss_->gradient(activations, y, gradient);
    }
    // A data-parallel step's share of the batch: rows / batch rows (1 for one process: no pass).
    if (gradient_scale != 1.0f) {
      float* g = gradient.data;
      const std::size_t n = gradient.size();
      for (std::size_t i = 0; i < n; ++i) g[i] *= gradient_scale;
    }
  }
  const std::size_t backward_from = forward_layers;
  ConstMatrixView upstream = gradient;
  for (std::size_t i = backward_from; i-- > first_trainable_ && i < layers_.size();) {
    if (const auto [layer, previous] = through_previous_[i]; layer != nullptr) {
      upstream = layer->backward_through_previous(*previous, upstream);
      --i;  // the activation's backward pass is done
      continue;
    }
    upstream = layers_[i]->backward(upstream, i > first_trainable_);
  }
  return loss;
}

double Sequential::update_weights(double loss, bool check_finite) {
  // A NaN/infinite loss or gradient shows up as a NaN/infinite weight after the
  // update; the optimizer checks that in its update loop, at no extra pass.
  const bool finite_loss = std::isfinite(loss);
  const bool finite_weights = optimizer_->step(parameters_);
  if (check_finite && !(finite_loss && finite_weights)) {
    std::ostringstream message;
    message << "training diverged: the " << (finite_loss ? "weights" : "loss")
            << " became NaN or infinite; the learning rate (" << optimizer_->learning_rate()
            << ") is probably too high, or the inputs are not scaled";
    throw TrainingDiverged(message.str(), 0, 0);
  }
  return loss;
}

std::vector<float> Sequential::training_weights(ConstMatrixView y, std::size_t samples, const FitOptions& options) const {
  const std::string who = "Sequential::fit: ";
  if (!options.sample_weight.empty() && !options.class_weight.empty()) {
    throw InvalidArgument(who +
                          "class_weight and sample_weight cannot be given together (as in Keras); fold the "
                          "class weights into sample_weight");
  }
  if (!options.sample_weight.empty()) {
    if (options.sample_weight.size() != samples) {
      throw ShapeError(who + "sample_weight has " + std::to_string(options.sample_weight.size()) +
                       " values, expected one per sample of x (" + std::to_string(samples) + ")");
    }
    for (std::size_t i = 0; i < samples; ++i) {
      const float w = options.sample_weight[i];
      if (!(std::isfinite(w) && w >= 0.0f)) {
        throw DataError(who + "expected finite sample weights >= 0, received sample_weight[" + std::to_string(i) +
                        "] = " + std::to_string(w));
      }
    }
    return options.sample_weight;
  }
  if (options.class_weight.empty()) return {};
  if (loss_->label_encoding() == LabelEncoding::values) {
    throw InvalidArgument(who + "class_weight needs a classification loss; " + loss_->name() +
                          " is a regression loss (weight the samples with sample_weight)");
  }
  const std::size_t units = output_units();
  const std::size_t classes = units == 1 ? 2 : units;
  std::vector<float> by_class(classes, 1.0f);  // a class not listed weighs 1 (Keras)
  for (const auto& [label, weight] : options.class_weight) {
    if (label >= classes) {
      throw InvalidArgument(who + "class_weight has class " + std::to_string(label) + ", but the model has " +
                            std::to_string(classes) + " classes (0.." + std::to_string(classes - 1) + ")");
    }
    if (!(std::isfinite(weight) && weight >= 0.0 && weight <= std::numeric_limits<float>::max())) {
      throw InvalidArgument(who + "expected finite class weights >= 0, received " + std::to_string(weight) +
                            " for class " + std::to_string(label));
    }
    by_class[label] = static_cast<float>(weight);
  }
  // Each sample weighs its class's weight (Keras's class_weight_to_sample_weights): the argmax of a
  // one-hot row, else the target rounded (class indices; 0/1 for one unit). A target outside
  // 0..classes-1 (a -1 of hinge) weighs 1, as Keras's class_weight.get(c, 1.0).
  std::vector<float> weights(samples, 1.0f);
  for (std::size_t r = 0; r < samples; ++r) {
    const float* row = y.row(r);
    const double label = y.cols > 1 ? static_cast<double>(argmax(row, y.cols)) : std::nearbyint(row[0]);
    if (label >= 0.0 && label < static_cast<double>(classes)) weights[r] = by_class[static_cast<std::size_t>(label)];
  }
  return weights;
}

History Sequential::fit(const Matrix& x, const Matrix& y, const FitOptions& options) {
  return fit(view(x), view(y), options);
}

History Sequential::fit(ConstMatrixView x, ConstMatrixView y, const FitOptions& options) {
  // Data-parallel over a group of processes (FitOptions::communicator), or one process.
  Communicator* const group =
      options.communicator != nullptr && options.communicator->size() > 1 ? options.communicator.get() : nullptr;
  const bool sharded = group != nullptr && options.total_samples != 0;
  // Global row g of the data is row g - offset of x; this process holds rows [owned.first, + owned.count).
  const std::size_t samples = sharded ? options.total_samples : x.rows;
  const std::size_t offset = sharded ? options.first_sample : 0;
  RowRange owned{0, samples};
  std::size_t train_samples = samples;
  std::vector<float> weights;
  // Every check a process can fail on its own comes before the first collective; with a group the
  // processes then agree, so that all of them throw (none waits in a collective for one that did).
  std::exception_ptr failure;
  try {
    require_compiled("Sequential::fit");
    if (options.batch_size == 0) throw InvalidArgument("Sequential::fit: expected batch_size >= 1, received 0");
    if (!(options.validation_split >= 0.0 && options.validation_split < 1.0)) {
      throw InvalidArgument("Sequential::fit: expected validation_split in [0, 1), received " +
                            std::to_string(options.validation_split));
    }
    if ((options.validation_x == nullptr) != (options.validation_y == nullptr)) {
      throw InvalidArgument("Sequential::fit: validation_x and validation_y must be given together");
    }
    if (samples == 0) throw DataError("Sequential::fit: expected at least one sample, received empty x");
    if (x.rows != y.rows) {
      throw ShapeError("Sequential::fit: x has " + std::to_string(x.rows) + " samples but y has " +
                       std::to_string(y.rows));
    }
    if (group != nullptr) {
      owned = shard_rows(samples, group->rank(), group->size());
      if (sharded && (options.first_sample != owned.first || x.rows != owned.count)) {
        throw InvalidArgument("Sequential::fit: process " + std::to_string(group->rank()) + " of " +
                              std::to_string(group->size()) + " holds rows [" + std::to_string(options.first_sample) +
                              ", " + std::to_string(options.first_sample + x.rows) + ") of " +
                              std::to_string(samples) + "; expected its shard_rows(): [" + std::to_string(owned.first) +
                              ", " + std::to_string(owned.first + owned.count) + ")");
      }
    }
    if (options.seed) rng_.seed(*options.seed);
    prepare(x.cols, "Sequential::fit");
    if (x.rows != 0) loss_->check_targets(y, output_units());
    // One weight per sample of x (empty without sample_weight or class_weight).
    weights = training_weights(y, x.rows, options);
    // Hold out the last rows for validation before any shuffling (Keras's rule).
    if (options.validation_x == nullptr && options.validation_split > 0.0) {
      train_samples = static_cast<std::size_t>(static_cast<double>(samples) * (1.0 - options.validation_split));
      if (train_samples == 0 || train_samples == samples) {
        throw InvalidArgument("Sequential::fit: validation_split=" + std::to_string(options.validation_split) +
                              " leaves an empty training or validation set for " + std::to_string(samples) +
                              " samples");
      }
    }
    if (options.validation_x != nullptr) {
      if (options.validation_x->shape(0) != options.validation_y->shape(0)) {
        throw ShapeError("Sequential::fit: validation_x has " + std::to_string(options.validation_x->shape(0)) +
                         " samples but validation_y has " + std::to_string(options.validation_y->shape(0)));
      }
      if (options.validation_y->shape(0) != 0) loss_->check_targets(view(*options.validation_y), output_units());
    }
  } catch (...) {
    failure = std::current_exception();
  }
  if (group != nullptr) {
    detail::agree(*group, failure, "Sequential::fit");
    detail::check_same_run(*group, {static_cast<double>(samples), static_cast<double>(x.cols),
                            static_cast<double>(y.cols), static_cast<double>(options.batch_size),
                            static_cast<double>(options.epochs), static_cast<double>(options.initial_epoch),
                            static_cast<double>(train_samples), options.shuffle ? 1.0 : 0.0,
                            options.validation_x != nullptr ? 1.0 : 0.0, static_cast<double>(parameter_count())});
    share_training_state(*group);
  } else if (failure) {
    std::rethrow_exception(failure);
  }

  // This process's validation rows: the held-out last rows it holds, or its part of validation_x.
  Matrix validation_x, validation_y;
  std::vector<float> validation_weights;
  const bool validate = options.validation_x != nullptr || train_samples < samples;
  const Matrix* val_x = &validation_x;
  const Matrix* val_y = &validation_y;
  const float* val_weights = nullptr;
  if (options.validation_x != nullptr) {
    if (group == nullptr || sharded) {
      val_x = options.validation_x;
      val_y = options.validation_y;
    } else {
      const RowRange part = shard_rows(options.validation_x->shape(0), group->rank(), group->size());
      validation_x = to_matrix(rows_of(*options.validation_x, part.first, part.count));
      validation_y = to_matrix(rows_of(*options.validation_y, part.first, part.count));
    }
  } else if (validate) {
    const std::size_t first = std::max(train_samples, owned.first);
    const std::size_t end = std::max(first, owned.first + owned.count);
    const std::size_t at = end > first ? first - offset : 0;  // (no pointer past x for no rows)
    validation_x = to_matrix(rows_of(x, at, end - first));
    validation_y = to_matrix(rows_of(y, at, end - first));
    // Held-out rows keep their sample weights for val_loss (Keras splits x, y and sample_weight
    // together); class weights weigh the training data only.
    if (!options.sample_weight.empty()) val_weights = weights.data() + (first - offset);
  }

  const std::size_t batch_size = std::min(options.batch_size, train_samples);
  reserve(batch_size);
  batch_x_.reserve(batch_size, x.cols);
  batch_y_.reserve(batch_size, y.cols);
  if (!weights.empty()) batch_weights_.resize(std::max(batch_weights_.size(), batch_size));
  // Metrics keeping every score (auc) make room for the largest pass once: no allocation per batch.
  const std::size_t val_samples = validate ? val_x->shape(0) : 0;
  for (const auto& metric : metrics_) metric->reserve(std::max(std::min(train_samples, x.rows), val_samples));
  std::vector<std::size_t> order(train_samples);
  const std::size_t batches = (train_samples + batch_size - 1) / batch_size;
  const bool averages_state = group != nullptr && has_layer_state();

  History history;
  history.epochs.reserve(options.epochs > options.initial_epoch ? options.epochs - options.initial_epoch : 0);
  stop_training_ = false;
  for (const auto& callback : options.callbacks) callback->on_train_begin(*this);
  for (std::size_t epoch = options.initial_epoch + 1; epoch <= options.epochs && !stop_training_; ++epoch) {
    for (const auto& callback : options.callbacks) callback->on_epoch_begin(*this, epoch);
    const auto start = std::chrono::steady_clock::now();
    // Each epoch's order depends only on the engine's state: a resumed run shuffles alike, and
    // every process of a group draws the same order.
    std::iota(order.begin(), order.end(), std::size_t{0});
    if (options.shuffle) rng_.shuffle(order);
    for (const auto& metric : metrics_) metric->reset();
    double loss_sum = 0.0;
    std::size_t seen = 0;
    for (std::size_t b = 0; b < batches; ++b) {
      const std::size_t first = b * batch_size;
      const std::size_t rows = std::min(batch_size, train_samples - first);
      // The rows of the batch this process holds (all of them for one process).
      std::size_t local = rows;
      if (group == nullptr) {
        gather_batch(x, y, weights, order, first, rows, batch_x_.view(rows), batch_y_.view(rows),
                     batch_weights_.data());
      } else {
        local = gather_owned_rows(x, y, weights, order, first, rows, owned, offset);
      }
      const MatrixView xb = batch_x_.view(local);
      const MatrixView yb = batch_y_.view(local);
      const float* wb = weights.empty() ? nullptr : batch_weights_.data();
      double loss;
      try {
        loss = group == nullptr ? step(xb, yb, wb, options.stop_on_divergence)
                                : parallel_step(xb, yb, wb, rows, options.stop_on_divergence, *group);
      } catch (const TrainingDiverged& e) {
        throw TrainingDiverged(std::string(e.what()) + " (epoch " + std::to_string(epoch) + ", batch " +
                                   std::to_string(b + 1) + " of " + std::to_string(batches) + ")",
                               epoch, b + 1);
      }
      loss_sum += loss * static_cast<double>(rows);
      seen = first + rows;
      // Metrics on the predictions made before this batch's update, as Keras reports them.
      if (!metrics_.empty() && local != 0) {
        const ConstMatrixView outputs = last_step_output();
        for (const auto& metric : metrics_) metric->update(outputs, yb);
      }
      if (options.on_batch_end || !options.callbacks.empty()) {
        BatchLog log;
        log.epoch = epoch;
        log.batch = b + 1;
        log.batches = batches;
        log.loss = loss;
        log.mean_loss = loss_sum / static_cast<double>(seen);
        log.mean_accuracy = accuracy_ != nullptr ? accuracy_->result() : not_computed;
        if (options.on_batch_end) options.on_batch_end(log);
        for (const auto& callback : options.callbacks) callback->on_batch_end(*this, log);
      }
      // A callback (TerminateOnNaN) may end training mid-epoch: Keras 3's trainer leaves the batch
      // loop there and still validates and ends the epoch.
      if (stop_training_) break;
    }
    if (group != nullptr) {
      combine_metrics(*group);
      if (averages_state) average_layer_state(*group);
    }
    EpochLog log;
    log.epoch = epoch;
    log.loss = loss_sum / static_cast<double>(seen);
    log.metrics.reserve(metrics_.size());
    for (const auto& metric : metrics_) log.metrics.emplace_back(metric->name(), metric->result());
    log.accuracy = accuracy_ != nullptr ? accuracy_->result() : not_computed;
    log.val_loss = not_computed;
    log.val_accuracy = not_computed;
    if (validate) {
      Evaluation e = evaluate_part(*val_x, *val_y, val_weights, options.batch_size, "Sequential::fit", group);
      log.val_loss = e.loss;
      log.val_accuracy = e.accuracy;
      log.val_metrics = std::move(e.metrics);
      reserve(batch_size);
    }
    log.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    log.learning_rate = optimizer_->current_learning_rate();
    for (const auto& callback : options.callbacks) callback->on_epoch_end(*this, log);
    // The rate in effect after the callbacks (ReduceLROnPlateau may have lowered it).
    log.learning_rate = optimizer_->current_learning_rate();
    // Callbacks see the same logs on every process and decide alike; a stop asked on one process
    // (a callback given to process 0 only) still ends every process's training here.
    if (group != nullptr) stop_training_ = detail::agree_flag(*group, stop_training_);
    history.epochs.push_back(std::move(log));
    if (options.on_epoch_end) options.on_epoch_end(history.epochs.back());
  }
  for (const auto& callback : options.callbacks) callback->on_train_end(*this);
  set_training(false);  // a trained model is used for inference
  return history;
}

}  // namespace xdense

namespace xdense {

Evaluation Sequential::evaluate(const Matrix& x, const Matrix& y, std::size_t batch_size) {
  return evaluate_weighted(x, y, nullptr, batch_size, "Sequential::evaluate");
}

Evaluation Sequential::evaluate(const Matrix& x, const Matrix& y, const std::vector<float>& sample_weight,
                                std::size_t batch_size) {
  if (sample_weight.size() != x.shape(0)) {
    throw ShapeError("Sequential::evaluate: sample_weight has " + std::to_string(sample_weight.size()) +
                     " values, expected one per sample of x (" + std::to_string(x.shape(0)) + ")");
  }
  for (std::size_t i = 0; i < sample_weight.size(); ++i) {
    if (!(std::isfinite(sample_weight[i]) && sample_weight[i] >= 0.0f)) {
      throw DataError("Sequential::evaluate: expected finite sample weights >= 0, received sample_weight[" +
                      std::to_string(i) + "] = " + std::to_string(sample_weight[i]));
    }
  }
  return evaluate_weighted(x, y, sample_weight.data(), batch_size, "Sequential::evaluate");
}

Evaluation Sequential::evaluate_weighted(const Matrix& x, const Matrix& y, const float* sample_weights,
                                         std::size_t batch_size, const std::string& who) {
  return evaluate_part(x, y, sample_weights, batch_size, who, nullptr);
}

Evaluation Sequential::evaluate(const Matrix& x, const Matrix& y, Communicator& communicator, std::size_t batch_size) {
  return evaluate_part(x, y, nullptr, batch_size, "Sequential::evaluate", &communicator);
}

// With a group, x and y are this process's part (0 rows too): the loss sum, the sample count and
// the metrics' states are summed over the processes.
Evaluation Sequential::evaluate_part(const Matrix& x, const Matrix& y, const float* sample_weights,
                                     std::size_t batch_size, const std::string& who, Communicator* group) {
  if (group != nullptr && group->size() == 1) group = nullptr;
  std::exception_ptr failure;
  try {
    require_compiled(who);
    if (batch_size == 0) throw InvalidArgument(who + ": expected batch_size >= 1, received 0");
    if (group == nullptr && x.shape(0) == 0) throw DataError(who + ": expected at least one sample, received empty x");
    if (x.shape(0) != y.shape(0)) {
      throw ShapeError(who + ": x has " + std::to_string(x.shape(0)) + " samples but y has " +
                       std::to_string(y.shape(0)));
    }
    prepare(x.shape(1), who);
    if (x.shape(0) != 0) loss_->check_targets(view(y), output_units());
  } catch (...) {
    failure = std::current_exception();
  }
  if (group != nullptr) {
    detail::agree(*group, failure, who);  // every process throws, or none
  } else if (failure) {
    std::rethrow_exception(failure);
  }
  set_training(false);  // inference mode (dropout off, moving statistics)
  const std::size_t samples = x.shape(0);
  batch_size = std::max<std::size_t>(1, std::min(batch_size, samples));
  reserve(batch_size);
  for (const auto& metric : metrics_) {
    metric->reserve(samples);
    metric->reset();
  }
  double loss_sum = 0.0;
  for (std::size_t first = 0; first < samples; first += batch_size) {
    const std::size_t rows = std::min(batch_size, samples - first);
    ConstMatrixView activations = rows_of(x, first, rows);
    for (auto& layer : layers_) activations = layer->forward(activations);
    const ConstMatrixView yb = rows_of(y, first, rows);
    if (sample_weights != nullptr) {
      const ConstMatrixView loss_input = fused_output_ != nullptr ? fused_output_->last_input() : activations;
      loss_sum += weighted_loss_sum(loss_input, yb, sample_weights + first);
    } else {
      loss_sum += batch_loss(activations, yb) * static_cast<double>(rows);
    }
    for (const auto& metric : metrics_) metric->update(activations, yb);
  }
  Evaluation result;
  result.samples = samples;
  if (group != nullptr) {
    double sums[2] = {loss_sum, static_cast<double>(samples)};
    group->allreduce_sum(sums, 2);
    loss_sum = sums[0];
    result.samples = static_cast<std::size_t>(sums[1]);
    if (result.samples == 0) throw DataError(who + ": expected at least one sample, received none on every process");
    combine_metrics(*group);
  }
  // Keras's evaluate() reports the weight penalties in the loss too (its compute_loss adds them).
  result.loss = loss_sum / static_cast<double>(result.samples) + regularization_loss();
  result.metrics.reserve(metrics_.size());
  for (const auto& metric : metrics_) result.metrics.emplace_back(metric->name(), metric->result());
  result.accuracy = accuracy_ != nullptr ? accuracy_->result() : not_computed;
  return result;
}

Matrix Sequential::predict(const Matrix& x, std::size_t batch_size) {
  if (batch_size == 0) throw InvalidArgument("Sequential::predict: expected batch_size >= 1, received 0");
  prepare(x.shape(1), "Sequential::predict");
  Matrix result = Matrix::from_shape({x.shape(0), output_units()});
  predict_into(view(x), view(result), batch_size);
  return result;
}

void Sequential::predict_into(ConstMatrixView x, MatrixView out, std::size_t batch_size) {
  // Every check is allocation-free until it fails (no message string is made before that).
  if (batch_size == 0) throw InvalidArgument("Sequential::predict_into: expected batch_size >= 1, received 0");
  if (x.rows > 0 && (x.data == nullptr || out.data == nullptr)) {
    throw InvalidArgument(std::string("Sequential::predict_into: expected data for ") + std::to_string(x.rows) +
                          " rows, received a null " + (x.data == nullptr ? "x" : "out") + " pointer");
  }
  if (!built_) prepare(x.cols, "Sequential::predict_into");
  if (x.cols != input_units() || out.rows != x.rows || out.cols != output_units()) {
    throw ShapeError("Sequential::predict_into: expected x " + shape_string(x.rows, input_units()) + " and out " +
                     shape_string(x.rows, output_units()) + " (the model's inputs and outputs), received x " +
                     shape_string(x.rows, x.cols) + " and out " + shape_string(out.rows, out.cols));
  }
  set_training(false);  // inference mode (dropout off, moving statistics)
  if (x.rows == 0) return;
  batch_size = std::min(batch_size, x.rows);
  reserve(batch_size);  // allocates only when growing
  for (std::size_t first = 0; first < x.rows; first += batch_size) {
    const std::size_t rows = std::min(batch_size, x.rows - first);
    ConstMatrixView activations{x.row(first), rows, x.cols};
    for (auto& layer : layers_) activations = layer->forward(activations);
    std::memcpy(out.row(first), activations.data, activations.size() * sizeof(float));
  }
}

std::vector<std::size_t> Sequential::predict_classes(const Matrix& x, std::size_t batch_size) {
  const Matrix p = predict(x, batch_size);
  std::vector<std::size_t> classes(p.shape(0));
  for (std::size_t r = 0; r < p.shape(0); ++r) {
    const float* row = p.data() + r * p.shape(1);
    classes[r] = p.shape(1) == 1 ? static_cast<std::size_t>(row[0] > 0.5f) : argmax(row, p.shape(1));
  }
  return classes;
}

std::string Sequential::summary() const {
  // Output widths follow Keras 2's model.summary().
  constexpr int name_width = 29, shape_width = 26, params_width = 12;
  const std::string rule(name_width + shape_width + params_width, '_');
  const std::string double_rule(name_width + shape_width + params_width, '=');
  std::ostringstream out;
  out << "Model: \"sequential\"\n"
      << rule << "\n"
      << std::left << std::setw(name_width) << " Layer (type)" << std::setw(shape_width) << "Output Shape"
      << "Param #\n"
      << double_rule << "\n";
  // Propagate known widths so an unbuilt model still shows what it can.
  std::size_t units = built_ ? input_units() : 0;
  if (!built_ && !layers_.empty() && layers_.front()->input_units() != 0) units = layers_.front()->input_units();
  std::size_t trainable = 0;
  std::size_t non_trainable = 0;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const Layer& l = *layers_[i];
    std::string shape = "(None, ?)";
    std::string params = "?";
    if (l.built()) {
      units = l.output_units();
      shape = "(None, " + std::to_string(units) + ")";
      // As Keras: a layer's count holds its non-trainable state too (batch normalisation's moving statistics).
      const std::size_t layer_trainable = l.parameter_count();
      std::size_t layer_state = 0;
      for (const Parameter& p : l.non_trainable_weights()) layer_state += p.size;
      trainable += layer_trainable;
      non_trainable += layer_state;
      params = std::to_string(layer_trainable + layer_state);
    } else if (l.as_activation() != nullptr && units != 0) {
      shape = "(None, " + std::to_string(units) + ")";
      params = "0";
    } else {
      units = 0;
    }
    // A name longer than its column continues on the next lines, as Keras 2 wraps it:
    // " batch_normalization (BatchN" / " ormalization)".
    const std::string name = " " + layer_name(i) + " (" + l.type_name() + ")";
    constexpr std::size_t name_chars = name_width - 1;  // at least one space before the shape
    out << std::left << std::setw(name_width) << name.substr(0, name_chars) << std::setw(shape_width) << shape << params
        << "\n";
    for (std::size_t at = name_chars; at < name.size(); at += name_chars - 1) {
      out << " " << name.substr(at, name_chars - 1) << "\n";
    }
    if (i + 1 < layers_.size()) out << "\n";
  }
  out << double_rule << "\n";
  if (built_) {
    out << "Total params: " << with_thousands(trainable + non_trainable) << "\n"
        << "Trainable params: " << with_thousands(trainable) << "\n"
        << "Non-trainable params: " << with_thousands(non_trainable) << "\n";
  } else {
    out << "Total params: ? (the model is not built: fit() or build() it first)\n";
  }
  out << rule << "\n";
  return out.str();
}

}  // namespace xdense
