#pragma once
/// \file
/// The Layer interface: the unit a Sequential model chains together.

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "xdense/config.hpp"
#include "xdense/tensor.hpp"

namespace xdense {

class Rng;
class OnnxGraph;
class Activation;

/// A trainable array of a layer, seen by optimizers as a flat span of floats.
/// The pointers stay valid for the life of the layer once it is built: layers
/// never reallocate parameter storage after build().
struct Parameter {
  std::string name;           ///< e.g. "kernel", "bias", "moving_mean": unique within its layer
  float* value = nullptr;     ///< the parameter's values
  float* gradient = nullptr;  ///< dL/dvalue from the last backward(); null for non-trainable state
  std::size_t size = 0;       ///< number of floats in each of value and gradient
  /// Its shape, row-major, e.g. (input_units, units) for a Dense kernel; empty means (size).
  std::vector<std::size_t> shape = {};
};

/// What a layer holds once built for a given input width, known without building it.
struct LayerShape {
  std::size_t output_units = 0;
  /// Name and shape of each array weights() will give, in its order.
  std::vector<std::pair<std::string, std::vector<std::size_t>>> weights;
};

/// A differentiable map from (batch, input_units) to (batch, output_units).
///
/// Contract for a training step: forward() then backward() with the same batch.
/// A layer may keep a borrowed view of forward()'s input until the next
/// forward(); the caller keeps it alive. Buffers are sized by reserve() for the
/// largest batch, so a step allocates nothing on the heap.
///
/// Self-description: kind() and config() say how to rebuild the layer (unbuilt) through
/// make_layer(); parameters() and non_trainable_weights() name its arrays. A model file stores
/// exactly these, so a layer registered with register_layer() saves and loads like a built-in.
class Layer {
 public:
  virtual ~Layer() = default;
  Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  /// Layer kind as shown by summary(), e.g. "Dense", "ReLU".
  virtual std::string type_name() const = 0;

  /// The name this layer's kind is registered under (register_layer()), e.g. "Dense"; every
  /// activation is "Activation". Defaults to type_name().
  virtual std::string kind() const { return type_name(); }

  /// The settings make_layer(kind(), config()) needs to rebuild this layer before build(), with
  /// Keras's key names: Dense gives {"units", "use_bias", "kernel_initializer", "bias_initializer"}.
  /// The input width is not part of it (the model gives it to build()); nor are the weights.
  /// Defaults to an empty object.
  virtual Config config() const;

  /// Creates the parameters for `input_units` inputs, drawing from `rng`.
  virtual void build(std::size_t input_units, Rng& rng) = 0;

  /// True once build() has run.
  virtual bool built() const = 0;

  /// Inputs per sample (valid once built).
  virtual std::size_t input_units() const = 0;

  /// Outputs per sample (valid once built).
  virtual std::size_t output_units() const = 0;

  /// Makes room for batches of up to `rows` samples (allocates only when growing).
  virtual void reserve(std::size_t rows) = 0;

  /// y = f(x): x (batch, input_units) -> y (batch, output_units). The result is a
  /// view of the layer's own buffer, valid until its next forward().
  virtual ConstMatrixView forward(ConstMatrixView x) = 0;

  /// Given dL/dy (batch, output_units), stores the parameter gradients and
  /// returns dL/dx (batch, input_units). When `need_input_gradient` is false
  /// (first layer) dL/dx may be skipped and an empty view returned.
  virtual ConstMatrixView backward(ConstMatrixView dy, bool need_input_gradient = true) = 0;

  /// This layer as an Activation, or nullptr (Activation overrides it): how a model finds its
  /// output activation without asking for concrete types.
  virtual const Activation* as_activation() const { return nullptr; }
  virtual Activation* as_activation() { return nullptr; }

  /// Whether this layer can take the backward pass of `previous`, the activation whose outputs
  /// are its inputs, into its own (backward_through_previous): one pass over the batch fewer.
  /// False by default; Dense takes any activation that declares an OutputDerivative.
  virtual bool takes_backward_of(const Activation& /*previous*/) const { return false; }

  /// backward(dy) followed by `previous`'s backward pass, in one pass: returns dL/dz where
  /// previous computed x = f(z). Only called when takes_backward_of(previous) is true.
  virtual ConstMatrixView backward_through_previous(const Activation& previous, ConstMatrixView dy);

  /// Training (fit) or inference (evaluate, predict) mode, as Keras's `training` argument or
  /// PyTorch's train()/eval(): layers that behave differently (dropout, batch normalisation)
  /// read it in forward(). Sequential sets it; a new layer is in inference mode.
  void set_training(bool training) { training_ = training; }
  bool training() const { return training_; }

  /// What build(input_units) will make of this layer, without building it: a model loader checks
  /// the arrays a file stores against it before allocating anything (a corrupted width or config
  /// must not allocate gigabytes), and save_model() checks it against the built layer. Dense and
  /// activations declare it; std::nullopt (the default) makes the loader bound the layer by
  /// building throwaway copies for 1 and 2 inputs instead.
  virtual std::optional<LayerShape> shape_for(std::size_t /*input_units*/) const { return std::nullopt; }

  /// Trainable arrays, in a fixed order, each with its name ("kernel", "bias"). Empty for
  /// parameter-free layers and before build(). The pointers refer to the layer's own storage, which
  /// a caller may write through (an optimizer, a model loader) even from a const layer: the layer
  /// hands out handles to its arrays, like a span.
  virtual std::vector<Parameter> parameters() const { return {}; }

  /// Arrays that are state but not trained (gradient null), e.g. BatchNormalization's
  /// "moving_mean": saved and loaded with the weights, never given to an optimizer. Empty by default.
  virtual std::vector<Parameter> non_trainable_weights() const { return {}; }

  /// Training state that is neither a weight nor config, e.g. a dropout layer's position in its
  /// random stream: a checkpoint stores it so that a resumed run continues bit-identically. Null
  /// (the default) when the layer has none.
  virtual Config training_state() const;

  /// Puts back what training_state() returned (after build()); throws InvalidArgument for a value
  /// that is not one. The default accepts only null.
  virtual void restore_training_state(const Config& state);

  /// Whether this layer adds a penalty to the training loss (a weight regularizer, Keras's
  /// layer.losses). Sequential asks once, when it builds the model.
  virtual bool regularized() const { return false; }

  /// The penalty itself, from the current weights (0 for an unregularized layer). The layer adds its
  /// gradient to the parameter gradients in backward(); Sequential adds the value to the loss it
  /// reports, in training and in evaluate(), as Keras does.
  virtual double regularization_loss() const { return 0.0; }

  /// Adds the penalty's gradient, at the current weights, to the parameter gradients: what a
  /// regularized layer's backward() does itself while penalty_in_backward() (the default).
  /// Data-parallel training turns that off, sums the processes' gradients, then calls this once.
  /// Nothing by default.
  virtual void add_regularization_gradients() {}
  void set_penalty_in_backward(bool on) { penalty_in_backward_ = on; }

  /// Data-parallel training tells each layer the index of the process it runs in (0 for one
  /// process): a layer that draws random numbers per sample (Dropout) then draws another stream
  /// in each process. Nothing by default.
  virtual void set_replica(std::size_t /*replica*/) {}
  bool penalty_in_backward() const { return penalty_in_backward_; }

  /// Writes this layer's inference computation into an ONNX graph (onnx.hpp), reading the tensor
  /// named `input` (batch, input_units); returns the name of its output tensor. `name` is the layer's
  /// display name in the model ("dense_1"), for readable node names. The default refuses:
  /// InvalidArgument "<type>: no ONNX form"; a layer that is the identity at inference (Dropout)
  /// returns `input`.
  virtual std::string to_onnx(OnnxGraph& graph, const std::string& input, const std::string& name) const;

  /// parameters() then non_trainable_weights(): everything a model file stores for this layer.
  std::vector<Parameter> weights() const;

  /// Total number of trainable floats.
  std::size_t parameter_count() const;

 protected:
  /// Throws ShapeError, naming this layer's type, unless `x` has `expected_cols` columns.
  void check_columns(ConstMatrixView x, std::size_t expected_cols) const;

 private:
  bool training_ = false;
  bool penalty_in_backward_ = true;
};

/// Makes an unbuilt layer from its config (what Layer::config() returned). Throws InvalidArgument
/// for a config it cannot take (unknown or ill-typed keys, values out of range).
using LayerFactory = std::function<std::unique_ptr<Layer>(const Config& config)>;

/// Adds layer kind `kind` (e.g. "Dense") to the registry, replacing an entry of the same name.
/// Built-in layers register themselves in their own .cpp; a user's layer registers the same way,
/// once, before a model holding it is loaded.
void register_layer(const std::string& kind, LayerFactory factory);

/// Rebuilds a layer from its kind and config; throws InvalidArgument naming the known kinds for an
/// unknown kind, and whatever the factory throws for a bad config.
std::unique_ptr<Layer> make_layer(const std::string& kind, const Config& config);

/// Registered layer kinds, sorted.
std::vector<std::string> layer_kinds();

}  // namespace xdense
