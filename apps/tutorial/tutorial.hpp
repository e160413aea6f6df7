#pragma once
// Internal interface of `xdense tutorial`: the parts of the run (values, classifiers,
// shoot-out), what each measures, and the report built from those measurements.
// Every number the report states comes from one of the *Result structs below.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "xdense/metrics.hpp"
#include "xdense/sequential.hpp"
#include "xdense/tensor.hpp"

namespace xdense::cli::tutorial {

class Plotter;

/// Settings shared by every part of one run.
struct Settings {
  std::string out_dir;
  std::string figures_dir;   ///< out_dir/figures: PNGs with their data and scripts
  bool quick = false;
  std::uint64_t seed = 42;
  std::string data_dir;      ///< breast_cancer.csv, iris.csv (used without Fashion-MNIST)
  std::string fashion_dir;   ///< Fashion-MNIST IDX files; used when they are all present
};

/// The progress line: which experiment is running, and how it ended.
class ProgressLine {
 public:
  /// `steps` experiments in all; `interactive` redraws details in place (a terminal).
  ProgressLine(std::size_t steps, bool interactive);
  /// Starts step k: "[k/n] what".
  void begin(const std::string& what);
  /// Live detail of the running step (epoch, loss); shown only when interactive.
  void detail(const std::string& text);
  /// Ends the step with a one-line outcome and its duration.
  void end(const std::string& outcome);

 private:
  std::size_t steps_;
  std::size_t current_ = 0;
  bool interactive_;
  bool detail_shown_ = false;
  double started_ = 0.0;
};

/// "%.6g", or "nan": how numbers are written into CSV files and the report.
std::string number(double value);
/// Fixed-point with `decimals` digits, e.g. fixed(0.91234, 3) = "0.912".
std::string fixed(double value, int decimals);

// --- activation values -----------------------------------------------------------------

/// One activation sampled on the grid: f(x) and f'(x) from the library's layer.
struct ActivationCurve {
  std::string name;     ///< column name: "sigmoid", "leaky_relu", ...
  std::string spec;     ///< what make_activation() was given
  std::vector<float> value;
  std::vector<float> derivative;
};

/// activations.csv and the softmax example, as computed.
struct ValuesResult {
  std::vector<float> x;                 ///< -5 .. 5 in steps of 0.01
  std::vector<ActivationCurve> curves;  ///< the six functions, then binary_step(ste)
  std::vector<float> softmax_scores;
  std::vector<float> softmax_probabilities;
  const ActivationCurve& curve(const std::string& name) const;
};

/// The grid of activations.csv: x_i = (i - 500) / 100 for i = 0..1000, each exact to float rounding.
std::vector<float> activation_grid();

/// Writes activations.csv, softmax_example.csv and their figures.
ValuesResult run_values(const Settings& settings, Plotter& plotter);

// --- data ------------------------------------------------------------------------------

/// Features (samples, features) and class indices (samples, 1).
struct Labelled {
  Matrix x;
  Matrix y;
};

/// Two concentric noisy circles centred on the origin: class 0 on radius 1, class 1 on
/// radius `factor`, Gaussian noise of standard deviation `noise` on each coordinate,
/// classes alternating so any prefix is balanced (like scikit-learn's make_circles).
Labelled make_circles(std::size_t samples, double noise, double factor, std::uint64_t seed);

/// A classification task ready to train: split, scaled, described.
struct Task {
  std::string dataset;        ///< e.g. "Fashion-MNIST, T-shirt/top vs shirt"
  std::string source;         ///< file or folder it came from
  std::vector<std::string> class_names;
  Labelled train;
  Labelled validation;
  Labelled test;
  std::string preparation;    ///< one sentence: subsets, scaling, split
};

/// Where the classifiers' data comes from: Fashion-MNIST when its four files are in
/// settings.fashion_dir, else the shipped CSVs. Fashion-MNIST is read once for both tasks.
class TaskLoader {
 public:
  explicit TaskLoader(const Settings& settings);
  bool fashion() const { return fashion_; }
  /// T-shirt/top vs shirt, or breast cancer.
  Task binary();
  /// Fashion-MNIST's ten classes, or iris.
  Task multiclass();

 private:
  void load_fashion();
  Task csv_task(const std::string& file, const std::string& dataset);

  const Settings& settings_;
  bool fashion_ = false;
  bool loaded_ = false;
  Labelled fashion_train_, fashion_test_;
};

// --- the tutorial's two classifiers ---------------------------------------------------------

/// A trained classifier and its test measurements.
struct ClassifierResult {
  std::string key;            ///< "binary" or "multiclass": file stems, CSV rows
  std::string title;          ///< "Binary classifier (sigmoid output)"
  Task task;                  ///< without its matrices once trained (cleared to save memory)
  std::string architecture;   ///< "784-64(relu)-1(sigmoid)"
  std::string training;       ///< optimizer, epochs, batch size
  History history;
  Evaluation test;
  ClassificationReport report;
  double majority_baseline = 0.0;   ///< test accuracy of always predicting the most frequent class
  double output_min = 0.0;          ///< smallest predicted probability on the test set
  double output_max = 0.0;          ///< largest predicted probability on the test set
  double max_sum_error = 0.0;       ///< softmax: max |sum of a row's probabilities - 1|
  std::string figure;               ///< learning-curve figure name
};

/// Trains the sigmoid binary classifier and the softmax multi-class classifier;
/// writes their learning curves and classifiers.csv.
std::vector<ClassifierResult> run_classifiers(const Settings& settings, Plotter& plotter, ProgressLine& progress);

// --- the activation shoot-out -----------------------------------------------------------

/// The hidden activations compared, in the order of every table.
const std::vector<std::string>& shootout_activations();

/// An activation spec as a file-name part: "binary_step(ste)" -> "binary_step_ste".
std::string file_stem(const std::string& activation);

/// One activation on the circles.
struct CirclesRun {
  std::string activation;
  double train_accuracy = 0.0;
  double test_accuracy = 0.0;
  double hidden_weight_change = 0.0;  ///< ||W_end - W_start|| / ||W_start|| over the hidden kernels
  double mean_hidden_output = 0.0;    ///< mean first-hidden-layer output over the test set
  std::size_t epochs_to_90 = 0;       ///< first epoch with validation accuracy >= 0.9 (0: never)
  std::vector<double> validation_accuracy;  ///< per epoch
  /// linear only: largest |logit difference| between the network and its Dense layers
  /// folded into one linear map, over the test set; and the largest |logit| for scale.
  double collapse_error = 0.0;
  double logit_scale = 0.0;
};

/// One activation in the deep narrow network.
struct DeepRun {
  std::string activation;
  std::vector<double> gradient_norm;  ///< per Dense layer (input side first): mean ||dL/dW|| over epoch 1
  double mean_derivative = 0.0;       ///< mean f'(z) over hidden units and training samples, at initialisation
  double test_accuracy = 0.0;
};

/// Hidden units of a trained network that never fire on the training set.
struct DeadUnits {
  std::size_t zero_output = 0;     ///< output exactly 0 on every training sample (dead for ReLU)
  std::size_t negative_input = 0;  ///< pre-activation <= 0 on every training sample
};

/// ReLU or leaky ReLU trained at one learning rate, probed for dead units before and after.
struct DyingRun {
  std::string activation;
  double learning_rate = 0.0;
  std::size_t units = 0;  ///< hidden units probed
  DeadUnits before;       ///< at initialisation
  DeadUnits after;        ///< after training
  double test_accuracy = 0.0;
  std::string stopped;    ///< why training stopped early ("" when it ran its budget)
};

/// Everything the shoot-out measured, with the settings that produced it.
struct ShootoutResult {
  std::string circles_setup;   ///< data, network, optimizer, budget in words
  std::string deep_setup;
  std::string dying_setup;
  std::size_t deep_hidden_layers = 0;
  std::vector<CirclesRun> circles;
  std::vector<DeepRun> deep;
  std::vector<DyingRun> dying;
  const CirclesRun& circles_run(const std::string& activation) const;
  const DeepRun& deep_run(const std::string& activation) const;
};

/// Runs the three shoot-out experiments, writes shootout.csv and their figures.
ShootoutResult run_shootout(const Settings& settings, Plotter& plotter, ProgressLine& progress);

// --- report --------------------------------------------------------------------------

/// What a run produced; parts not run are absent.
struct RunResults {
  Settings settings;
  const ValuesResult* values = nullptr;
  const std::vector<ClassifierResult>* classifiers = nullptr;
  const ShootoutResult* shootout = nullptr;
  double seconds = 0.0;
};

/// What this run's numbers say about one claim of the tutorial.
enum class Verdict { supported, nuanced, contradicted, not_tested };

/// "supported", "nuanced", "contradicted", "not tested".
std::string verdict_name(Verdict verdict);

/// One claim of the tutorial, tested against this run.
struct Claim {
  std::string title;      ///< short name: "Non-linearity"
  std::string statement;  ///< what the tutorial says
  Verdict verdict = Verdict::not_tested;
  std::string evidence;   ///< the deciding numbers, one line
  std::string paragraph;  ///< what the numbers show, in a few sentences
};

/// Judges each claim from the run's numbers; thresholds are constants in claims.cpp.
std::vector<Claim> assess_claims(const RunResults& results);

/// REPORT.md: every figure and table, and one verdict paragraph per claim of the tutorial.
std::string make_report(const RunResults& results, const Plotter& plotter);

}  // namespace xdense::cli::tutorial
