#pragma once
/// \file
/// Describing a network in text: the compact layer spec of the command line and
/// a Keras-like JSON config.
///
/// Layer spec: comma-separated items, e.g. "64:relu,dropout(0.3),batchnorm,32:leaky_relu(0.3),1:sigmoid":
///   units[:activation]  Dense(units) and, if given, the named activation layer
///   dropout(rate)       Dropout {"rate": rate}
///   batchnorm           BatchNormalization with Keras's defaults
///   layernorm           LayerNormalization with Keras's defaults
///
/// JSON config: what Keras's model.to_json() writes for a Sequential model (Keras 3, and Keras 2's
/// shape), or a bare {"layers": [...]}:
///   {"module": "keras", "class_name": "Sequential", "config": {"name": "sequential", "layers": [
///     {"class_name": "InputLayer", "config": {"batch_shape": [null, 30], "dtype": "float32"}},
///     {"class_name": "Dense", "config": {"units": 64, "activation": "relu",
///       "kernel_initializer": {"class_name": "HeNormal", "config": {"seed": null}}}},
///     {"class_name": "Dropout", "config": {"rate": 0.2}},
///     {"class_name": "Dense", "config": {"units": 3, "activation": "softmax"}}]}}
/// A layer's "class_name" is any registered layer kind (layer_kinds(): Dense, Activation, Dropout,
/// BatchNormalization, ..., and a user's layer after register_layer()), built by
/// make_layer(class_name, config) once Keras's bookkeeping is taken out: "name", "trainable": true,
/// "dtype" (float32 only, as a string or a DTypePolicy object), null constraints and activity
/// regularizer, a layer's "module", "registered_name" and "build_config". A Dense "activation"
/// other than "linear" adds that activation layer after it. Keras's activation layers ReLU,
/// LeakyReLU (negative_slope or alpha), ELU (alpha) and Softmax (axis -1) are read as the xdense
/// activations. InputLayer ("batch_shape", Keras 2's "batch_input_shape"), a first layer's
/// "batch_input_shape"/"input_shape" or "build_config", and the model's "build_input_shape" give
/// the input width; they must agree. A layer's "units" is at most 2^20, as in a layer spec.
/// Anything that would change the maths and is not supported is an error, and every such problem
/// of a file is reported in one message.

#include <cstddef>
#include <optional>
#include <string>

#include "xdense/config.hpp"

namespace xdense {

class Sequential;

/// Appends the layers of a layer spec; throws InvalidArgument naming the bad item.
void add_layers(Sequential& model, const std::string& spec);

/// As above, each Dense layer made by make_layer("Dense", dense_settings + {"units": n}): e.g.
/// {"kernel_initializer": "he_normal"} or {"kernel_regularizer": {"class_name": "L2", ...}}.
void add_layers(Sequential& model, const std::string& spec, const Config& dense_settings);

/// Appends the layers of a JSON config held in `json_text` and returns the input width the file
/// states (none when it states none). `source` (a file name) prefixes error messages, which name
/// the field path, e.g. "model.json: layers[1].config.units: ...", or for several problems
/// "model.json: 3 problems: layers[2].class_name: ...; layers[4].config.kernel_constraint: ...".
/// Nothing is added when anything is wrong.
std::optional<std::size_t> add_layers_from_json(Sequential& model, const std::string& json_text,
                                                const std::string& source);

/// Reads a JSON config file and appends its layers (as above); DataError if unreadable.
std::optional<std::size_t> add_layers_from_json_file(Sequential& model, const std::string& path);

}  // namespace xdense
