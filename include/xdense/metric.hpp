#pragma once
/// \file
/// Metrics computed over a whole epoch (or a whole evaluate() call), as Keras's stateful metrics:
/// each batch adds to the metric's state, result() reads it at the end. Never an average of
/// per-batch values: AUC, precision, F1 and R² are exact over all the samples seen.
///
///   model.compile("binary_crossentropy", "adam", {"accuracy", "auc", "precision", "recall"});
///   history.values("val_auc");
///
/// Built-in metrics (src/metrics/): accuracy, precision, recall, f1, auc, pr_auc (binary, one
/// sigmoid unit, at a threshold), top_k_accuracy, macro_f1, weighted_f1 (classes), mse, mae,
/// rmse, r2 (regression). A user's metric derives from Metric and registers itself.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "xdense/config.hpp"
#include "xdense/tensor.hpp"

namespace xdense {

class Loss;

/// A metric accumulated batch by batch.
class Metric {
 public:
  virtual ~Metric() = default;

  /// The name it is registered and reported under ("auc"); history keys add "val_" for validation.
  virtual std::string name() const = 0;

  /// The settings make_metric(name(), config()) needs to rebuild it; an empty object by default.
  virtual Config config() const;

  /// Forgets every batch seen (start of an epoch, of an evaluate() call).
  virtual void reset() = 0;

  /// Adds a batch. `outputs` (batch, units) are the model's outputs (probabilities after a sigmoid
  /// or softmax output layer); `targets` are as the loss takes them: (batch, units) values, 0/1 for
  /// one unit, or class indices (batch, 1) when units > 1. Allocation-free once reserve()d.
  virtual void update(ConstMatrixView outputs, ConstMatrixView targets) = 0;

  /// The value over every batch since reset(); NaN when it is undefined (no sample yet, AUC with a
  /// single class present).
  virtual double result() const = 0;

  /// Throws InvalidArgument when the metric has no meaning for a model of `units` outputs trained
  /// with `loss` (accuracy for a regression loss, auc for a 3-class softmax, ...). Accepts by default.
  virtual void check_model(std::size_t units, const Loss& loss) const;

  /// Makes room for `samples` samples per epoch (a metric keeping every score: auc), so update()
  /// does not allocate during fit(). Nothing by default.
  virtual void reserve(std::size_t /*samples*/) {}

  /// The state accumulated since reset() as numbers (counts, sums; every score for auc), for
  /// data-parallel training: each process sends its partial state and merges the others'. The
  /// default has none (a metric that does not override both cannot be combined: merge() throws).
  virtual std::vector<double> partial_state() const;
  /// Adds the batches behind another metric's partial_state() (a metric of the same kind and
  /// settings) to this one's: reset(), then merge() of every process's state in rank order, gives
  /// every process the same result(). InvalidArgument for a state of another size or kind.
  /// StateError by default, naming the metric.
  virtual void merge(const std::vector<double>& partial);
};

/// Makes a metric from its config (what Metric::config() returned); InvalidArgument for a config it
/// cannot take.
using MetricFactory = std::function<std::unique_ptr<Metric>(const Config& config)>;

/// Adds metric `name` (and `aliases`) to the registry, replacing an entry of the same name.
void register_metric(const std::string& name, MetricFactory factory, const std::vector<std::string>& aliases = {});

/// The metric registered as `name` (or an alias: "acc", "mean_absolute_error", ...) with its default
/// settings; InvalidArgument naming the known metrics otherwise.
std::unique_ptr<Metric> make_metric(const std::string& name);

/// The metric registered as `name`, made from `config` ({"threshold": 0.3}, {"k": 3}).
std::unique_ptr<Metric> make_metric(const std::string& name, const Config& config);

/// Registered (canonical) metric names, sorted.
std::vector<std::string> metric_names();

}  // namespace xdense
