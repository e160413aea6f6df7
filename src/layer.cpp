#include "xdense/layer.hpp"

#include <nlohmann/json.hpp>

#include "registry.hpp"
#include "xdense/error.hpp"

namespace xdense {

Config Layer::config() const { return Config::object(); }

Config Layer::training_state() const { return nullptr; }

void Layer::restore_training_state(const Config& state) {
  if (!state.is_null()) {
    throw InvalidArgument(type_name() + ": expected no training state (null), received " + state.dump());
  }
}

std::string Layer::to_onnx(OnnxGraph& /*graph*/, const std::string& /*input*/, const std::string& name) const {
  throw InvalidArgument(type_name() + " (layer " + name + "): no ONNX form: xdense cannot export this layer to ONNX");
}

std::vector<Parameter> Layer::weights() const {
  std::vector<Parameter> all = parameters();
  for (Parameter& p : non_trainable_weights()) all.push_back(std::move(p));
  return all;
}

std::size_t Layer::parameter_count() const {
  std::size_t total = 0;
  for (const Parameter& p : parameters()) total += p.size;
  return total;
}

ConstMatrixView Layer::backward_through_previous(const Activation& /*previous*/, ConstMatrixView /*dy*/) {
  throw StateError(type_name() + ": backward_through_previous called, but the layer takes no activation's backward "
                   "pass (takes_backward_of() is false)");
}

void Layer::check_columns(ConstMatrixView x, std::size_t expected_cols) const {
  if (x.cols != expected_cols) {  // names are built only on error: the hot path allocates nothing
    throw ShapeError(type_name() + ": expected input with " + std::to_string(expected_cols) +
                     " columns, received shape " + shape_string(x.rows, x.cols));
  }
}

// ---------------------------------------------------------------- registry

namespace {

detail::Registry<LayerFactory>& layers() {
  static detail::Registry<LayerFactory> registry("layer");
  return registry;
}

}  // namespace

void register_layer(const std::string& kind, LayerFactory factory) { layers().add(kind, std::move(factory), {}); }

std::unique_ptr<Layer> make_layer(const std::string& kind, const Config& config) {
  auto layer = layers().find(kind).second(config);
  if (!layer) throw InvalidArgument("make_layer: the factory of layer kind " + quote_value(kind) + " returned null");
  return layer;
}

std::vector<std::string> layer_kinds() { return layers().names(); }

}  // namespace xdense
