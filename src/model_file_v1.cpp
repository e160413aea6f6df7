// The version-1 model file reader (xdense 0.2; docs/model-format.md, "Version 1 (read only)").
// Version 1 numbered its two layer kinds and stored the optimizer's hyperparameters as fixed
// fields; this file maps those records onto the registries (layer kinds "Dense" and "Activation",
// optimizers "sgd" and "adam" with their Keras config keys), keeping every check v1 made.

#include <algorithm>
#include <cmath>
#include <memory>

#include "model_record.hpp"

namespace xdense::detail {
namespace {

constexpr std::uint8_t kind_dense = 1;
constexpr std::uint8_t kind_activation = 2;
constexpr std::size_t min_layer_bytes = 5;  // kind + empty spec string

struct DenseShape {
  std::size_t layer;  // index in the record
  std::uint64_t inputs;
  std::uint64_t units;
  bool use_bias;
};

}  // namespace

ModelRecord decode_v1_payload(ByteReader& in) {
  ModelRecord record;
  record.version = 1;
  // architecture
  record.input_units = in.u64("architecture: input_units");
  if (record.input_units == 0 || record.input_units > max_model_units) {
    in.fail("architecture: input_units " + std::to_string(record.input_units) + " (expected 1 to " +
            std::to_string(max_model_units) + ")");
  }
  const std::size_t layer_count = in.count("architecture: layer", min_layer_bytes);
  if (layer_count == 0) in.fail("architecture: the model has no layers");
  std::vector<DenseShape> dense_layers;
  std::uint64_t width = record.input_units;
  std::uint64_t weight_floats = 0;
  for (std::size_t i = 0; i < layer_count; ++i) {
    const std::string where = "layer " + std::to_string(i);
    const std::uint8_t kind = in.u8(where + ": kind");
    LayerRecord layer;
    if (kind == kind_dense) {
      const std::string dense_where = layer_label(i, "dense");
      const std::uint64_t inputs = in.u64(dense_where + ": input_units");
      const std::uint64_t units = in.u64(dense_where + ": units");
      const bool use_bias = in.flag(dense_where + ": use_bias");
      const std::string kernel_initializer = in.str(dense_where + ": kernel_initializer");
      const std::string bias_initializer = in.str(dense_where + ": bias_initializer");
      if (units == 0 || units > max_model_units) {
        in.fail(dense_where + ": units " + std::to_string(units) + " (expected 1 to " +
                std::to_string(max_model_units) + ")");
      }
      if (inputs != width) {
        in.fail(dense_where + ": input_units " + std::to_string(inputs) + " does not match the " +
                (i == 0 ? "model's " + std::to_string(width) + " inputs"
                        : std::to_string(width) + " outputs of the layer before it"));
      }
      // Both factors are <= 2^31: no overflow. The weights follow later in the payload, so they
      // must fit in what is left of it.
      const std::uint64_t floats = inputs * units + units;
      const std::uint64_t budget = in.remaining() / 4;
      if (weight_floats > budget || floats > budget - weight_floats) {
        in.fail(dense_where + ": " + std::to_string(inputs) + " x " + std::to_string(units) +
                " weights cannot fit in the " + std::to_string(in.remaining()) + " payload bytes left");
      }
      weight_floats += floats;
      layer.kind = "Dense";
      layer.label = "dense";
      layer.config = {{"units", units},
                      {"use_bias", use_bias},
                      {"kernel_initializer", kernel_initializer},
                      {"bias_initializer", bias_initializer}};
      dense_layers.push_back({i, inputs, units, use_bias});
      width = units;
    } else if (kind == kind_activation) {
      const std::string spec = in.str(where + " (activation): spec");
      layer.kind = "Activation";
      layer.label = "activation '" + spec + "'";
      layer.config = {{"activation", spec}};
    } else {
      in.fail(where + ": unknown layer kind " + std::to_string(kind) + " (expected 1 dense or 2 activation)");
    }
    record.layers.push_back(std::move(layer));
  }

  // compile: both optimizers' hyperparameters, each optimizer taking its own
  record.loss = in.str("compile: loss name");
  record.optimizer = in.str("compile: optimizer name");
  const float learning_rate = in.f32("compile: learning_rate");
  const float momentum = in.f32("compile: momentum");
  const bool nesterov = in.flag("compile: nesterov");
  const float beta1 = in.f32("compile: beta1");
  const float beta2 = in.f32("compile: beta2");
  const float epsilon = in.f32("compile: epsilon");
  for (std::string& name : in.strings("compile: metric")) record.metrics.push_back({std::move(name), Config::object()});
  for (float v : {learning_rate, momentum, beta1, beta2, epsilon}) {
    if (!std::isfinite(v)) in.fail("compile: non-finite optimizer hyperparameter");
  }
  if (record.optimizer == "sgd") {
    record.optimizer_config = {{"learning_rate", learning_rate}, {"momentum", momentum}, {"nesterov", nesterov}};
  } else if (record.optimizer == "adam") {
    record.optimizer_config = {
        {"learning_rate", learning_rate}, {"beta_1", beta1}, {"beta_2", beta2}, {"epsilon", epsilon}};
  } else {
    in.fail("compile: unknown optimizer '" + record.optimizer + "' (expected sgd or adam)");
  }

  record.info = read_info(in, record.input_units, 1);

  // weights: kernel then bias of each Dense layer (sizes checked against the payload above)
  for (const DenseShape& dense : dense_layers) {
    const std::string where = layer_label(dense.layer, "dense");
    const auto inputs = static_cast<std::size_t>(dense.inputs);
    const auto units = static_cast<std::size_t>(dense.units);
    TensorRecord kernel{"kernel", {inputs, units}, in.f32_vector(dense.inputs * dense.units, where + ": kernel")};
    TensorRecord bias{"bias", {units}, in.f32_vector(dense.units, where + ": bias")};
    if (!all_finite(kernel.values.data(), kernel.values.size()) ||
        !all_finite(bias.values.data(), bias.values.size())) {
      in.fail(where + ": non-finite weights (NaN or infinity)");
    }
    std::vector<TensorRecord>& tensors = record.layers[dense.layer].tensors;
    tensors.push_back(std::move(kernel));
    if (dense.use_bias) {
      tensors.push_back(std::move(bias));
    } else if (std::any_of(bias.values.begin(), bias.values.end(), [](float b) { return b != 0.0f; })) {
      in.fail(where + ": non-zero bias in a layer without bias");
    }
  }
  if (in.remaining() != 0) {
    in.fail("payload: " + std::to_string(in.remaining()) + " unread bytes after the weights");
  }
  return record;
}

}  // namespace xdense::detail
