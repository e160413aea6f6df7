#pragma once
/// \file
/// The Activation interface and the registry that resolves activations by name.
/// Built-in activations live in builtin_activations.hpp, each registered from its own .cpp; users add
/// their own by subclassing Activation (or ElementwiseActivation) and calling register_activation().

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "xdense/fusion.hpp"
#include "xdense/layer.hpp"

namespace xdense {

/// A parameter-free layer y = f(x) with as many outputs as inputs.
/// Subclasses implement activate() and derivative() on whole (batch, units) blocks.
class Activation : public Layer {
 public:
  /// Name as accepted by make_activation(), with arguments: "relu", "leaky_relu(0.3)". This is an
  /// activation's self-description: make_activation(spec()) must rebuild it (a model file relies on it).
  virtual std::string spec() const = 0;

  /// Every activation is a layer of kind "Activation" whose config is {"activation": spec()}, as
  /// Keras's Activation layer: make_layer("Activation", config) rebuilds it through make_activation().
  std::string kind() const final { return "Activation"; }
  Config config() const final;

  /// y = f(x); x and y have the same shape.
  virtual void activate(ConstMatrixView x, MatrixView y) const = 0;

  /// dL/dx from x, y = f(x) and dL/dy (chain rule through f).
  virtual void derivative(ConstMatrixView x, ConstMatrixView y, ConstMatrixView dy, MatrixView dx) const = 0;

  /// Declares f'(z) as a function of y = f(z) (see OutputDerivative); none by default.
  virtual OutputDerivative output_derivative() const { return OutputDerivative::none; }

  /// Declares the probability this activation computes (see ProbabilityOutput); none by default.
  virtual ProbabilityOutput probability_output() const { return ProbabilityOutput::none; }

  const Activation* as_activation() const override { return this; }
  Activation* as_activation() override { return this; }

  void build(std::size_t input_units, Rng& rng) override;
  bool built() const override { return units_ != 0; }
  std::size_t input_units() const override { return units_; }
  std::size_t output_units() const override { return units_; }
  /// As many outputs as inputs, no weights.
  std::optional<LayerShape> shape_for(std::size_t input_units) const override { return LayerShape{input_units, {}}; }
  void reserve(std::size_t rows) override;
  ConstMatrixView forward(ConstMatrixView x) override;
  ConstMatrixView backward(ConstMatrixView dy, bool need_input_gradient = true) override;

  /// The input seen by the last forward() (borrowed), e.g. logits for a fused loss.
  ConstMatrixView last_input() const { return input_; }

 private:
  std::size_t units_ = 0;
  ConstMatrixView input_;
  BatchBuffer output_;
  BatchBuffer input_gradient_;
};

/// Convenience base for activations applied to each value independently.
/// Implement value() and gradient(); the block loops are provided.
class ElementwiseActivation : public Activation {
 public:
  /// f(x).
  virtual float value(float x) const = 0;
  /// f'(x), given x and y = f(x).
  virtual float gradient(float x, float y) const = 0;

  void activate(ConstMatrixView x, MatrixView y) const override;
  void derivative(ConstMatrixView x, ConstMatrixView y, ConstMatrixView dy, MatrixView dx) const override;
};

/// Makes an activation from its parsed arguments (the text between the parentheses
/// of "name(a, b)", split at commas and trimmed; empty when there are none).
using ActivationFactory = std::function<std::unique_ptr<Activation>(const std::vector<std::string>& args)>;

/// Adds `name` (and `aliases`) to the registry; replaces an existing entry of the same name.
/// `example_arguments` shows how its arguments read ("0.3"; "" when it takes none) in the message
/// for "name()" with empty brackets. Built-ins register themselves this way in their own .cpp.
void register_activation(const std::string& name, ActivationFactory factory,
                         const std::vector<std::string>& aliases = {},
                         const std::optional<std::string>& example_arguments = std::nullopt);

/// Throws InvalidArgument "activation 'name' takes no arguments, ..." unless `args` is empty.
void expect_no_activation_arguments(const std::string& name, const std::vector<std::string>& args);

/// A factory for activation `T` that takes no arguments: `register_activation("relu",
/// activation_without_arguments<ReLU>("relu"))`.
template <class T>
ActivationFactory activation_without_arguments(const std::string& name) {
  return [name](const std::vector<std::string>& args) -> std::unique_ptr<Activation> {
    expect_no_activation_arguments(name, args);
    return std::make_unique<T>();
  };
}

/// Resolves "relu", "leaky_relu(0.1)", "binary_step(ste)", ... (case-insensitive names).
/// Throws InvalidArgument naming the known activations for an unknown name or bad arguments.
std::unique_ptr<Activation> make_activation(const std::string& spec);

/// Registered canonical names, sorted (aliases not included).
std::vector<std::string> activation_names();

/// Parses a float argument of activation `activation`; throws InvalidArgument quoting it.
float parse_activation_argument(const std::string& activation, const std::string& text);

}  // namespace xdense
