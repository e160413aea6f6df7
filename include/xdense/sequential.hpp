#pragma once
/// \file
/// Sequential: a stack of layers trained Keras-style with compile / fit /
/// evaluate / predict.
///
///   xdense::Sequential model(/*seed=*/7);
///   model.add(std::make_unique<xdense::Dense>(16)).add("relu");
///   model.add(std::make_unique<xdense::Dense>(1)).add("sigmoid");
///   model.compile("binary_crossentropy", "adam");
///   xdense::FitOptions options;
///   options.epochs = 20;
///   xdense::History history = model.fit(x, y, options);

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "xdense/layer.hpp"
#include "xdense/loss.hpp"
#include "xdense/optimizer.hpp"
#include "xdense/random.hpp"
#include "xdense/tensor.hpp"

namespace xdense {

class Activation;
class Dense;

/// Metrics of one epoch. Values not computed (no validation data, no accuracy
/// metric) are NaN.
struct EpochLog {
  std::size_t epoch = 0;  ///< 1-based
  double loss = 0.0;      ///< mean training loss over the epoch's batches (weighted by batch size)
  double accuracy = 0.0;  ///< training accuracy measured during the epoch
  double val_loss = 0.0;
  double val_accuracy = 0.0;
  double seconds = 0.0;  ///< wall time of the epoch
};

/// Progress within an epoch, passed to FitOptions::on_batch_end.
struct BatchLog {
  std::size_t epoch = 0;       ///< 1-based
  std::size_t batch = 0;       ///< 1-based index of the batch just trained
  std::size_t batches = 0;     ///< batches per epoch
  double loss = 0.0;           ///< loss of this batch
  double mean_loss = 0.0;      ///< mean loss over the epoch so far
  double mean_accuracy = 0.0;  ///< accuracy over the epoch so far (NaN without the metric)
};

/// Per-epoch record returned by fit().
struct History {
  std::vector<EpochLog> epochs;
  /// The series of one metric: "loss", "accuracy", "val_loss" or "val_accuracy".
  std::vector<double> values(const std::string& metric) const;
};

/// Settings of fit(), with Keras's defaults.
struct FitOptions {
  std::size_t epochs = 1;
  std::size_t batch_size = 32;
  bool shuffle = true;  ///< reshuffle the training rows every epoch
  /// Fraction of the samples held out for validation: the LAST rows of x, y,
  /// taken before shuffling, as Keras does. Shuffle beforehand if the data is sorted.
  double validation_split = 0.0;
  /// Explicit validation data (overrides validation_split); both or neither.
  const Matrix* validation_x = nullptr;
  const Matrix* validation_y = nullptr;
  /// Epochs already done (Keras's initial_epoch): training runs epochs
  /// initial_epoch + 1 .. epochs. Used to resume from a checkpoint, whose random
  /// engine state and optimizer state are restored beforehand.
  std::size_t initial_epoch = 0;
  /// Stop with TrainingDiverged as soon as a loss or weight is NaN or infinite.
  bool stop_on_divergence = true;
  /// Reseeds the model's random engine before fitting (and before building, if
  /// the model is built by this call): same seed, same data -> identical weights.
  std::optional<std::uint64_t> seed;
  /// Called after each batch.
  std::function<void(const BatchLog&)> on_batch_end;
  /// Called after each epoch.
  std::function<void(const EpochLog&)> on_epoch_end;
};

/// Result of evaluate().
struct Evaluation {
  double loss = 0.0;
  double accuracy = 0.0;  ///< NaN without the accuracy metric
  std::size_t samples = 0;
};

/// A linear stack of layers.
class Sequential {
 public:
  /// `seed` seeds the engine behind weight initialisation and shuffling.
  explicit Sequential(std::uint64_t seed = Rng::default_seed);
  ~Sequential();
  Sequential(Sequential&&) noexcept;
  Sequential& operator=(Sequential&&) noexcept;

  /// Appends a layer. Returns *this for chaining.
  Sequential& add(std::unique_ptr<Layer> layer);
  /// Appends the activation named by `activation_spec` (see make_activation()).
  Sequential& add(const std::string& activation_spec);

  /// Sets loss, optimizer and metrics ("accuracy"/"acc" is the one metric).
  void compile(std::unique_ptr<Loss> loss, std::unique_ptr<Optimizer> optimizer,
               const std::vector<std::string>& metrics = {"accuracy"});
  /// Same, with Keras names and default settings: compile("categorical_crossentropy", "adam").
  void compile(const std::string& loss, const std::string& optimizer,
               const std::vector<std::string>& metrics = {"accuracy"});

  /// Builds every layer for `input_units` inputs (fit() does this when needed).
  void build(std::size_t input_units);
  bool built() const { return built_; }
  bool compiled() const { return loss_ != nullptr; }
  /// Inputs per sample (0 before build).
  std::size_t input_units() const;
  /// Outputs per sample of the last layer (0 before build).
  std::size_t output_units() const;

  /// Trains on x (samples, features) and y (samples, units) or class indices (samples, 1).
  History fit(const Matrix& x, const Matrix& y, const FitOptions& options = {});

  /// Loss and accuracy over x, y, computed in batches.
  Evaluation evaluate(const Matrix& x, const Matrix& y, std::size_t batch_size = 32);

  /// Outputs of the last layer for x: (samples, output_units).
  Matrix predict(const Matrix& x, std::size_t batch_size = 32);

  /// Predicted class per sample: argmax, or p > 0.5 for a single output unit.
  std::vector<std::size_t> predict_classes(const Matrix& x, std::size_t batch_size = 32);

  /// One optimisation step on a batch; returns the batch loss. Buffers must have
  /// room for x.rows samples (reserve()); fit() calls this in its loop. With
  /// `check_finite`, a NaN/infinite loss or updated weight throws TrainingDiverged.
  double train_step(ConstMatrixView x, ConstMatrixView y, bool check_finite = true);

  /// Makes room in every layer for batches of up to `rows` samples.
  void reserve(std::size_t rows);

  /// Keras-style table: layer (type), output shape, parameter count, totals.
  std::string summary() const;

  std::size_t layer_count() const { return layers_.size(); }
  Layer& layer(std::size_t index);
  const Layer& layer(std::size_t index) const;
  /// Display name of layer `index`: "dense", "dense_1", "re_lu", ...
  std::string layer_name(std::size_t index) const;

  /// All trainable parameters in layer order (valid once built).
  const std::vector<Parameter>& parameters() const { return parameters_; }
  std::size_t parameter_count() const;

  /// Sum of the layers' weight penalties (Layer::regularization_loss) at the current weights, as
  /// Keras's sum(model.losses); part of the loss train_step() and evaluate() report. 0 before build.
  double regularization_loss() const;

  const Loss* loss() const { return loss_.get(); }
  Optimizer* optimizer() { return optimizer_.get(); }
  bool has_accuracy() const { return accuracy_; }
  /// True when the loss is computed from the output layer's logits (sigmoid + BCE, softmax + CCE).
  bool loss_from_logits() const { return fused_output_ != nullptr; }
  Rng& rng() { return rng_; }

 private:
  void set_training(bool training);  // every layer's mode: train_step true, evaluate/predict false
  void require_compiled(const std::string& who) const;
  void prepare(std::size_t input_units, const std::string& who);
  void update_fusion();
  double batch_loss(ConstMatrixView output, ConstMatrixView y) const;
  std::size_t count_correct(ConstMatrixView output, ConstMatrixView y) const;

  std::vector<std::unique_ptr<Layer>> layers_;
  std::unique_ptr<Loss> loss_;
  std::unique_ptr<Optimizer> optimizer_;
  bool accuracy_ = false;
  bool built_ = false;
  Rng rng_;
  std::vector<Parameter> parameters_;
  std::size_t first_trainable_ = 0;  // layers before it need no backward pass
  std::vector<const Layer*> regularized_;  // layers whose penalty joins the loss (Layer::regularized)
  // [i]: layer i when it is a Dense layer that runs layer i-1's (activation's) backward
  // pass in its own; null otherwise.
  // Per layer: the layer itself and the activation before it when it takes that activation's
  // backward pass (both found once, in build()); {nullptr, nullptr} otherwise.
  std::vector<std::pair<Layer*, const Activation*>> through_previous_;
  int training_mode_ = -1;  // the mode last set on every layer: 0, 1, or -1 before any
  Activation* fused_output_ = nullptr;
  // The last train_step()'s outputs, for training accuracy: the model's outputs, or
  // the logits when the loss took them (the output activation then runs on request).
  ConstMatrixView last_step_output();
  ConstMatrixView last_output_;
  bool last_output_is_logits_ = false;
  BatchBuffer batch_x_;
  BatchBuffer batch_y_;
  BatchBuffer output_gradient_;
};

}  // namespace xdense
