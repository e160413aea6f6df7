#pragma once
/// \file
/// Describing a network in text: the compact layer spec of the command line and
/// a Keras-like JSON config.
///
/// Layer spec: comma-separated `units[:activation]` items, e.g.
///   "64:relu,32:leaky_relu(0.3),1:sigmoid"
/// Each item adds Dense(units) and, if given, the named activation layer.
///
/// JSON config (Keras's model.to_json() shape, reduced to what xdense has):
///   {"class_name": "Sequential", "config": {"layers": [
///     {"class_name": "Dense", "config": {"units": 64, "activation": "relu",
///       "use_bias": true, "kernel_initializer": "he_normal", "bias_initializer": "zeros"}},
///     {"class_name": "LeakyReLU", "config": {"negative_slope": 0.2}},
///     {"class_name": "Activation", "config": {"activation": "softmax"}}]}}
/// A bare {"layers": [...]} is accepted too. A layer's "class_name" is any registered layer kind
/// (layer_kinds(): Dense, Activation, and a user's layer after register_layer()), built by
/// make_layer(class_name, config) without the Keras "name" key; a Dense "activation" other than
/// "linear" adds that activation layer after it. Keras's activation layers ReLU, LeakyReLU
/// (negative_slope or alpha) and Softmax are read as the xdense activations. A layer's "units" is
/// at most 2^20, as in a layer spec. Unknown keys are errors, so a typo is never silently ignored.

#include <string>

namespace xdense {

class Sequential;

/// Appends the layers of a layer spec; throws InvalidArgument naming the bad item.
void add_layers(Sequential& model, const std::string& spec);

/// Appends the layers of a JSON config held in `json_text`; `source` (a file name)
/// prefixes error messages, which name the field path, e.g. "layers[1].config.units".
void add_layers_from_json(Sequential& model, const std::string& json_text, const std::string& source);

/// Reads a JSON config file and appends its layers; DataError if unreadable.
void add_layers_from_json_file(Sequential& model, const std::string& path);

}  // namespace xdense
