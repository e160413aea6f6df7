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
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "xdense/callback.hpp"
#include "xdense/communicator.hpp"
#include "xdense/layer.hpp"
#include "xdense/loss.hpp"
#include "xdense/metric.hpp"
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
  /// Mean training loss over the epoch's samples (each batch's loss weighted by its size); with
  /// sample or class weights, the weighted loss. After a stop mid-epoch, over the batches trained.
  double loss = 0.0;
  double accuracy = std::numeric_limits<double>::quiet_NaN();      ///< training accuracy (also in `metrics`)
  double val_loss = std::numeric_limits<double>::quiet_NaN();      ///< NaN without validation
  double val_accuracy = std::numeric_limits<double>::quiet_NaN();  ///< (also in `val_metrics`)
  double seconds = 0.0;                                            ///< wall time of the epoch
  /// The learning rate in effect at the end of the epoch: the rate the next step would use
  /// (Optimizer::current_learning_rate(), after the callbacks ran). NaN when unknown.
  double learning_rate = std::numeric_limits<double>::quiet_NaN();
  /// Every compiled metric over the epoch's training batches, in compile order: {"accuracy", 0.93}, {"auc", 0.98}.
  std::vector<std::pair<std::string, double>> metrics;
  /// The same metrics over the validation data (empty without validation), under their plain names.
  std::vector<std::pair<std::string, double>> val_metrics;
  /// A value by its Keras history key: "loss", "val_loss", "lr" (or "learning_rate"), "seconds", a
  /// metric's name, or "val_" + a metric's name. InvalidArgument naming the known keys otherwise.
  /// Validation keys are known when the epoch was validated (val_loss not NaN or val_metrics
  /// present); "accuracy" and "val_accuracy" also when only those fields are set (a log read back
  /// from a record without metric lists).
  double value(const std::string& key) const;
  /// True when value(key) has a value for `key` (a monitor absent from the log: Keras warns and skips).
  bool has(const std::string& key) const;
  /// The history keys of this log, in history order: loss, metrics, val_loss, val metrics, lr (when
  /// known). value() takes these, "learning_rate" and "seconds".
  std::vector<std::string> keys() const;
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
  /// The series of one key (EpochLog::value): "loss", "accuracy", "val_loss", "val_auc", "lr", ...
  /// InvalidArgument naming the known keys when an epoch does not have it.
  std::vector<double> values(const std::string& key) const;
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
  /// Called after each epoch, after every callback's on_epoch_end.
  std::function<void(const EpochLog&)> on_epoch_end;
  /// Callbacks (callback.hpp), called in this order at each point of training. Shared: the caller
  /// keeps them to read their results (EarlyStopping::stopped_epoch()).
  std::vector<std::shared_ptr<Callback>> callbacks;
  /// Weight of each class in the training loss (Keras's class_weight): class index -> weight, for
  /// class-index or one-hot targets (a one-unit output: classes 0 and 1, the target rounded). A class
  /// not listed weighs 1. Each training sample then weighs its class's weight, as with sample_weight;
  /// validation stays unweighted (as in Keras). Weights finite and >= 0, classes in range, a
  /// classification loss: InvalidArgument otherwise.
  std::map<std::size_t, double> class_weight;
  /// One weight per sample of x (Keras's sample_weight): multiplies that sample's loss, which is then
  /// summed and divided by the batch size (Keras's sum_over_batch_size), gradient alike. With
  /// validation_split, the held-out rows keep their weights for val_loss (as Keras splits x, y and
  /// sample_weight together); metrics are unweighted (Keras's compile metrics). Empty: every sample
  /// weighs 1. Finite and >= 0 (DataError naming the sample); not together with class_weight
  /// (InvalidArgument, as Keras's "You cannot class_weight and sample_weight at the same time").
  std::vector<float> sample_weight;
  /// Data-parallel training over the processes of a communicator (communicator.hpp, mpi.hpp). Every
  /// process calls fit() with the same model, options and seed. batch_size is the global batch: all
  /// processes draw the same order of the samples, each computes the gradient of the rows of each
  /// batch it holds, and one sum over the processes per step (gradients, loss and sample count in
  /// one buffer), divided by the batch's sample count, gives every process the same update: a model
  /// equal, to float rounding, to one process's (not with Dropout or BatchNormalization: each
  /// process draws its own masks and normalises its rows with their own statistics, as PyTorch DDP
  /// without SyncBatchNorm; moving statistics are averaged over the processes after each epoch). The
  /// weights, optimizer state and random engine of process 0 are copied to the others first.
  /// Validation is split over the processes too; losses and metrics (Metric::partial_state) are
  /// combined, so every process gets the same History, and callbacks decide alike (give those that
  /// only write files, ModelCheckpoint or CSVLogger, to process 0). Null or one process: as without.
  std::shared_ptr<Communicator> communicator;
  /// With a communicator of several processes: 0 when x and y are the whole training data on every
  /// process (each then uses its shard_rows()); else the number of samples of the whole data, of
  /// which x and y hold only rows [first_sample, first_sample + rows of x): each process's
  /// shard_rows(total_samples, rank, size), checked. validation_x/y are then each process's part of
  /// the validation data (any rows; combined); with validation_split the last rows of the whole data
  /// validate. sample_weight follows x.
  std::size_t total_samples = 0;
  std::size_t first_sample = 0;
};

/// Result of evaluate().
struct Evaluation {
  double loss = 0.0;
  double accuracy = std::numeric_limits<double>::quiet_NaN();  ///< NaN without the accuracy metric
  std::size_t samples = 0;
  /// Every compiled metric over all the samples, in compile order.
  std::vector<std::pair<std::string, double>> metrics;
  /// A metric by name ("loss" too); InvalidArgument naming the known ones otherwise.
  double metric(const std::string& name) const;
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

  /// Sets loss, optimizer and the metrics the task calls for: accuracy for a classification loss,
  /// mae, rmse and r2 (those registered) for a regression loss (LabelEncoding::values).
  void compile(std::unique_ptr<Loss> loss, std::unique_ptr<Optimizer> optimizer);
  /// Same, with the metrics named (make_metric: "accuracy", "auc", "precision", "r2", ...); an empty
  /// list computes none. InvalidArgument for an unknown or repeated name, or a metric that has no
  /// meaning for the loss and output (Metric::check_model: now if the model is built, else when it
  /// is built); nothing changes then.
  void compile(std::unique_ptr<Loss> loss, std::unique_ptr<Optimizer> optimizer,
               const std::vector<std::string>& metrics);
  /// With Keras names and default settings: compile("categorical_crossentropy", "adam").
  void compile(const std::string& loss, const std::string& optimizer);
  void compile(const std::string& loss, const std::string& optimizer, const std::vector<std::string>& metrics);

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
  /// The same on views: rows of larger matrices (e.g. the first rows, the rest held out) without a
  /// copy. The viewed memory must stay valid and unchanged while fit() runs.
  History fit(ConstMatrixView x, ConstMatrixView y, const FitOptions& options = {});

  /// Loss and every compiled metric over x, y, computed in batches (each metric over all the samples).
  Evaluation evaluate(const Matrix& x, const Matrix& y, std::size_t batch_size = 32);
  /// The same with a weight per sample for the loss (Keras's evaluate(sample_weight=)): sum(w_i loss_i)
  /// over the number of samples; metrics unweighted. ShapeError/DataError as fit()'s sample_weight.
  Evaluation evaluate(const Matrix& x, const Matrix& y, const std::vector<float>& sample_weight,
                      std::size_t batch_size = 32);

  /// Loss and metrics over the rows of every process of `communicator`: x and y are this process's
  /// part (any number of rows, 0 too); each process computes its part and the sums and metric states
  /// are combined (Metric::partial_state), so every process returns the same Evaluation, whose
  /// `samples` counts every process's rows. Every process must call it (a collective).
  Evaluation evaluate(const Matrix& x, const Matrix& y, Communicator& communicator, std::size_t batch_size = 32);

  /// Outputs of the last layer for x: (samples, output_units), in inference mode (dropout off,
  /// moving statistics), `batch_size` rows at a time (>= 1, else InvalidArgument). Builds the
  /// model for x's width if it is not built; ShapeError when x's width is not the model's inputs.
  /// The convenient form of predict_into() (same results, bit for bit): it allocates the result.
  Matrix predict(const Matrix& x, std::size_t batch_size = 32);

  /// predict() into a buffer of the caller's: out (x.rows, output_units) = the model's outputs for
  /// x (x.rows, input_units), taken `batch_size` rows at a time; for serving, one sample or a few
  /// per call. After the first call for a given batch size (which builds the model for x's width if
  /// it is not built, and sizes the layers' buffers) a call does not touch the heap.
  ///
  ///   std::vector<float> probabilities(model.output_units());
  ///   model.predict_into({pixels.data(), 1, 784}, {probabilities.data(), 1, model.output_units()});
  ///
  /// Errors (nothing is written then): InvalidArgument for batch_size 0, or a null data pointer with
  /// rows; ShapeError, naming both shapes, when x's width is not the model's inputs or out is not
  /// (x.rows, output_units). out must not overlap x. x.rows 0: nothing to do.
  ///
  /// Speed: a batch of up to 16 rows runs each Dense layer through xdense's own kernels
  /// (AVX-512, AVX2 or portable, chosen by CPUID), whatever OpenBLAS core is active; larger
  /// batches through OpenBLAS's sgemm. Results: same input, same machine -> same bits; a row gives
  /// the same bits alone or in any batch of up to 16 rows; between the two paths (a batch of up to
  /// 16 rows vs a larger one) a row's outputs may differ in the last bits (another summation
  /// order: float rounding).
  ///
  /// Thread safety: NOT safe to call on one model from two threads at once (nor together with
  /// predict, evaluate, fit or any other call on the model): the layers compute in buffers of
  /// their own. Serve concurrent requests with one model per thread (a copy loaded from the same
  /// file), or serialise the calls.
  void predict_into(ConstMatrixView x, MatrixView out, std::size_t batch_size = 32);

  /// Predicted class per sample: argmax, or p > 0.5 for a single output unit.
  std::vector<std::size_t> predict_classes(const Matrix& x, std::size_t batch_size = 32);

  /// One optimisation step on a batch; returns the batch loss. Buffers must have
  /// room for x.rows samples (reserve()); fit() calls this in its loop. With
  /// `check_finite`, a NaN/infinite loss or updated weight throws TrainingDiverged.
  double train_step(ConstMatrixView x, ConstMatrixView y, bool check_finite = true);
  /// The same with a weight per sample (x.rows floats; nullptr: all 1): the loss is
  /// sum(w_i loss_i) / rows, as Keras's sum_over_batch_size reduction, and its gradient alike.
  double train_step(ConstMatrixView x, ConstMatrixView y, const float* sample_weights, bool check_finite = true);

  /// Set by a callback to end fit() (Keras's model.stop_training): fit() checks it after each
  /// batch's callbacks and ends the epoch there (as Keras 3's trainer leaves the batch loop); the
  /// epoch's validation and on_epoch_end still run, with the log of the batches trained. fit() clears
  /// it when it starts.
  void stop_training(bool stop) { stop_training_ = stop; }
  bool stop_training() const { return stop_training_; }

  /// Copies of every layer's arrays (Layer::weights(): trainable, then state such as moving
  /// statistics), in layer order: Keras's get_weights(). Empty before build.
  std::vector<std::vector<float>> get_weights() const;
  /// Puts back what get_weights() returned; ShapeError when the count or a size differs.
  void set_weights(const std::vector<std::vector<float>>& weights);

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
  /// True when a metric named "accuracy" is compiled (it fills the logs' accuracy fields).
  bool has_accuracy() const { return accuracy_ != nullptr; }
  /// Appends a metric object (a user's metric, or one with its settings: make_metric("precision",
  /// {{"threshold", 0.3}})) to the compiled ones; StateError before compile(), InvalidArgument when
  /// check_model() refuses it (now if the model is built, else when it is) or its name is already
  /// compiled.
  void add_metric(std::unique_ptr<Metric> metric);
  /// The compiled metrics, in compile order.
  const std::vector<std::unique_ptr<Metric>>& metrics() const { return metrics_; }
  /// True when the loss is computed from the output layer's logits (sigmoid + BCE, softmax + CCE).
  bool loss_from_logits() const { return fused_output_ != nullptr; }
  Rng& rng() { return rng_; }

 private:
  void set_training(bool training);  // every layer's mode: train_step true, evaluate/predict false
  void require_compiled(const std::string& who) const;
  double step(ConstMatrixView x, ConstMatrixView y, const float* sample_weights, bool check_finite);
  void check_step_shapes(ConstMatrixView x, ConstMatrixView y) const;
  // Forward and backward passes of a batch, the output gradient scaled by gradient_scale; returns
  // the batch's mean loss (weighted: sum w_i l_i / rows), without the weight penalties.
  double forward_backward(ConstMatrixView x, ConstMatrixView y, const float* sample_weights, float gradient_scale);
  // The optimizer's step; TrainingDiverged (when check_finite) for a non-finite loss or weight.
  double update_weights(double loss, bool check_finite);
  // Data-parallel training (src/data_parallel.cpp). A step over this process's `x.rows` of a batch
  // of `batch_rows` rows over every process: one sum of gradients, loss and count.
  double parallel_step(ConstMatrixView x, ConstMatrixView y, const float* sample_weights, std::size_t batch_rows,
                       bool check_finite, Communicator& group);
  // Process 0's weights, layer states, optimizer state and random engine, copied to every process.
  void share_training_state(Communicator& group);
  // Non-trainable weights (moving statistics): their mean over the processes, on every process.
  void average_layer_state(Communicator& group);
  // Every metric's state summed over the processes (Metric::partial_state / merge).
  void combine_metrics(Communicator& group);
  bool has_layer_state() const;  // a layer has non-trainable weights
  // Copies the rows of batch order[first, first + rows) this process holds (global rows `owned`,
  // row g at row g - offset of x) into the batch buffers; returns how many.
  std::size_t gather_owned_rows(ConstMatrixView x, ConstMatrixView y, const std::vector<float>& weights,
                                const std::vector<std::size_t>& order, std::size_t first, std::size_t rows,
                                RowRange owned, std::size_t offset);
  Evaluation evaluate_part(const Matrix& x, const Matrix& y, const float* sample_weights, std::size_t batch_size,
                           const std::string& who, Communicator* group);
  Evaluation evaluate_weighted(const Matrix& x, const Matrix& y, const float* sample_weights, std::size_t batch_size,
                               const std::string& who);
  std::vector<float> training_weights(ConstMatrixView y, std::size_t train_samples, const FitOptions& options) const;
  void prepare(std::size_t input_units, const std::string& who);
  void update_fusion();
  double batch_loss(ConstMatrixView output, ConstMatrixView y) const;
  // sum_i w_i loss_i over the batch's rows (w null: the plain sum, rows * batch_loss).
  double weighted_loss_sum(ConstMatrixView output, ConstMatrixView y, const float* weights);

  std::vector<std::unique_ptr<Layer>> layers_;
  std::unique_ptr<Loss> loss_;
  std::unique_ptr<Optimizer> optimizer_;
  std::vector<std::unique_ptr<Metric>> metrics_;
  Metric* accuracy_ = nullptr;  // the metric named "accuracy" among metrics_, for the Log fields
  bool stop_training_ = false;
  bool built_ = false;
  Rng rng_;
  std::vector<Parameter> parameters_;
  std::size_t first_trainable_ = 0;        // layers before it need no backward pass
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
  std::vector<double> sample_losses_;  // per-row losses of a weighted step (Loss::sample_values)
  std::vector<float> batch_weights_;   // the weights of fit()'s current batch
};

}  // namespace xdense
