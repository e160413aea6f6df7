// Compares xdense with numbers PyTorch computed: the fixtures in tests/oracle/*.json were written by
// tests/oracle/make_fixtures.py (run by hand with Debian's python3-torch; torch is not needed here).
// Each fixture records the torch version and how every number was computed, including where Keras
// (which xdense follows) and torch differ and the Keras number is the reference.
//
// Tolerances:
//   activations, losses  |got - want| <= 1e-6 |want| + floor. The floor is 2^-23 (~1.19e-7, one
//                        float32 ulp of 1) scaled to the quantity: 1 for activation values and
//                        gradients and for loss values, 1/N for a loss gradient averaged over N
//                        entries. It covers results that are differences of nearly equal float32
//                        numbers (1 - tanh^2 near saturation, sigmoid(z) - y) and tiny values that
//                        torch rounds to 0 (sigmoid(-100) = 0 in torch, 3.7e-44 in xdense).
//                        Piecewise-linear activations (linear, binary step, ReLU, leaky ReLU) must
//                        match bit for bit, denormal inputs included.
//   training             after every 10 of 50 steps, each weight within 1e-5 max(1, |want|), and
//                        each step's loss within 1e-5 relative.
// The measured maximum errors are printed (see README, "Verification").

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "xdense/activation.hpp"
#include "xdense/dense.hpp"
#include "xdense/loss.hpp"
#include "xdense/optimizer.hpp"
#include "xdense/sequential.hpp"

namespace xdense {
namespace {

using nlohmann::json;

constexpr double relative_tolerance = 1e-6;
constexpr double float_epsilon = 1.1920928955078125e-7;  // 2^-23
constexpr double training_tolerance = 1e-5;

std::string oracle_dir() { return std::string(XDENSE_DATA_DIR) + "/../tests/oracle"; }

json load_fixture(const std::string& name) {
  const std::string path = oracle_dir() + "/" + name;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open oracle fixture " + path);
  return json::parse(in);
}

std::vector<float> to_floats(const json& values) {
  std::vector<float> out;
  out.reserve(values.size());
  for (const json& v : values) out.push_back(static_cast<float>(v.get<double>()));
  return out;
}

Matrix to_matrix(const json& m) {
  Matrix out = Matrix::from_shape({m.at("rows").get<std::size_t>(), m.at("cols").get<std::size_t>()});
  const std::vector<float> values = to_floats(m.at("values"));
  if (values.size() != out.size()) throw std::runtime_error("oracle fixture: matrix size mismatch");
  std::copy(values.begin(), values.end(), out.begin());
  return out;
}

Matrix row_matrix(const std::vector<float>& values) {
  Matrix out = Matrix::from_shape({std::size_t{1}, values.size()});
  std::copy(values.begin(), values.end(), out.begin());
  return out;
}

std::string number(double v) {
  std::ostringstream s;
  s << std::setprecision(9) << v;
  return s.str();
}

/// Largest errors seen over a group of comparisons, for the printed report.
struct ErrorReport {
  double max_absolute = 0.0;
  double max_relative = 0.0;  // over entries with |want| > floor
  std::size_t compared = 0;

  void add(double got, double want, double floor) {
    const double error = std::fabs(got - want);
    max_absolute = std::max(max_absolute, error);
    if (std::fabs(want) > floor) max_relative = std::max(max_relative, error / std::fabs(want));
    ++compared;
  }
  void merge(const ErrorReport& other) {
    max_absolute = std::max(max_absolute, other.max_absolute);
    max_relative = std::max(max_relative, other.max_relative);
    compared += other.compared;
  }
  std::string text() const {
    return "max abs error " + number(max_absolute) + ", max rel error " + number(max_relative) + " (" +
           std::to_string(compared) + " values)";
  }
};

void print(const std::string& what, const ErrorReport& report) {
  std::cout << "[oracle] " << std::left << std::setw(46) << what << report.text() << std::endl;
}

/// Value and gradient errors of each case, and over all cases.
struct CaseReports {
  ErrorReport all_values;
  ErrorReport all_gradients;

  void add(const std::string& name, const ErrorReport& values, const ErrorReport& gradients) {
    print(name + " value", values);
    print(name + " gradient", gradients);
    all_values.merge(values);
    all_gradients.merge(gradients);
  }
  void print_totals(const std::string& what) const {
    print("all " + what + " values", all_values);
    print("all " + what + " gradients", all_gradients);
  }
};

/// Checks got[i] against want[i] within rel |want| + floor; `what` names the values in failures.
void expect_close(const float* got, const std::vector<float>& want, double floor, const std::string& what,
                  ErrorReport& report, const std::vector<float>* inputs = nullptr) {
  for (std::size_t i = 0; i < want.size(); ++i) {
    const double g = got[i];
    const double w = want[i];
    report.add(g, w, floor);
    EXPECT_LE(std::fabs(g - w), relative_tolerance * std::fabs(w) + floor)
        << what << "[" << i << "]" << (inputs ? " at x = " + number((*inputs)[i]) : std::string()) << ": xdense "
        << number(g) << ", torch " << number(w);
  }
}

/// Bit-exact comparison (as float values; -0 equals 0).
void expect_exact(const float* got, const std::vector<float>& want, const std::string& what,
                  const std::vector<float>& inputs) {
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i], want[i]) << what << "[" << i << "] at x = " << number(inputs[i]);
  }
}

// ------------------------------------------------------------------------------ activations

bool piecewise_linear(const std::string& name) {
  return name == "linear" || name == "binary_step" || name == "relu" || name.rfind("leaky_relu", 0) == 0;
}

TEST(OracleTest, ActivationsMatchTorch) {
  const json fixture = load_fixture("activations.json");
  CaseReports reports;
  for (const json& c : fixture.at("activations")) {
    const std::string name = c.at("name").get<std::string>();
    SCOPED_TRACE(name);
    std::unique_ptr<Activation> activation = make_activation(name);
    Matrix x, upstream, want_value, want_gradient;
    if (c.at("kind") == "rows") {
      x = to_matrix(c.at("x"));
      upstream = to_matrix(c.at("upstream"));
      want_value = to_matrix(c.at("value"));
      want_gradient = to_matrix(c.at("gradient"));
    } else {
      x = row_matrix(to_floats(c.at("x")));
      upstream = Matrix::from_shape({x.shape(0), x.shape(1)});
      std::fill(upstream.begin(), upstream.end(), 1.0f);  // dL/dy = 1: dx is f'(x)
      want_value = row_matrix(to_floats(c.at("value")));
      want_gradient = row_matrix(to_floats(c.at("gradient")));
    }
    Matrix y = Matrix::from_shape({x.shape(0), x.shape(1)});
    Matrix dx = Matrix::from_shape({x.shape(0), x.shape(1)});
    activation->activate(view(x), view(y));
    activation->derivative(view(x), view(y), view(upstream), view(dx));

    const std::vector<float> inputs(x.begin(), x.end());
    const std::vector<float> value(want_value.begin(), want_value.end());
    const std::vector<float> gradient(want_gradient.begin(), want_gradient.end());
    ErrorReport values, gradients;
    expect_close(y.data(), value, float_epsilon, name + " value", values, &inputs);
    expect_close(dx.data(), gradient, float_epsilon, name + " gradient", gradients, &inputs);
    if (piecewise_linear(name)) {
      expect_exact(y.data(), value, name + " value", inputs);
      expect_exact(dx.data(), gradient, name + " gradient", inputs);
    }
    reports.add(name, values, gradients);
  }
  reports.print_totals("activation");
}

// ------------------------------------------------------------------------------ losses

TEST(OracleTest, LossesMatchTorch) {
  const json fixture = load_fixture("losses.json");
  CaseReports reports;
  for (const json& c : fixture.at("losses")) {
    const std::string name = c.at("name").get<std::string>();
    SCOPED_TRACE(name);
    std::unique_ptr<Loss> loss = make_loss(c.at("loss").get<std::string>());
    const Matrix input = to_matrix(c.at("input"));
    const Matrix targets = to_matrix(c.at("targets"));
    const Matrix want_gradient = to_matrix(c.at("gradient"));
    const bool from_logits = c.at("from_logits").get<bool>();
    Matrix gradient = Matrix::from_shape({input.shape(0), input.shape(1)});
    double value;
    if (from_logits) {
      value = loss->value_from_logits(view(input), view(targets));
      loss->gradient_from_logits(view(input), view(targets), view(gradient));
    } else {
      value = loss->value(view(input), view(targets));
      loss->gradient(view(input), view(targets), view(gradient));
    }
    ErrorReport values, gradients;
    const double want = c.at("value").get<double>();
    values.add(value, want, float_epsilon);
    EXPECT_LE(std::fabs(value - want), relative_tolerance * std::fabs(want) + float_epsilon)
        << name << " value: xdense " << number(value) << ", reference " << number(want);
    // A loss gradient is a mean over N entries (MSE, BCE) or N rows (CCE): its floor is 2^-23 / N.
    const std::size_t n = c.at("loss") == "categorical_crossentropy" ? input.shape(0) : input.size();
    const std::vector<float> want_values(want_gradient.begin(), want_gradient.end());
    expect_close(gradient.data(), want_values, float_epsilon / static_cast<double>(n), name + " gradient",
                 gradients);
    reports.add(name, values, gradients);
  }
  reports.print_totals("loss");
}

TEST(OracleTest, KerasAndTorchBinaryCrossEntropyDifferAtZeroAndOne) {
  // Documents why the p = 0 / p = 1 case holds Keras's numbers (clip bounds in float64): torch's
  // own are far from them, and Keras's float32 run clips p = 1 at 1 - 2^-23 instead of 1 - 1e-7.
  const json fixture = load_fixture("losses.json");
  std::size_t documented = 0;
  for (const json& c : fixture.at("losses")) {
    if (!c.contains("torch_value")) continue;
    ++documented;
    const Matrix p = to_matrix(c.at("input"));
    const Matrix y = to_matrix(c.at("targets"));
    const double xdense = make_loss(c.at("loss").get<std::string>())->value(view(p), view(y));
    const double torch = c.at("torch_value").get<double>();
    const double keras_float32 = c.at("keras_float32_value").get<double>();
    EXPECT_GT(torch, 2.0 * xdense) << c.at("name");
    std::cout << "[oracle] " << c.at("name").get<std::string>() << ": xdense " << number(xdense) << ", Keras formula "
              << number(c.at("value").get<double>()) << ", Keras in float32 " << number(keras_float32)
              << ", torch.nn.functional.binary_cross_entropy " << number(torch) << std::endl;
  }
  EXPECT_EQ(documented, 1u);
}

// ------------------------------------------------------------------------------ training

struct TrainingSetup {
  std::vector<Matrix> inputs;
  std::vector<Matrix> labels;  // (batch, 1) class indices
  std::vector<std::vector<float>> initial;
};

TrainingSetup read_setup(const json& fixture) {
  TrainingSetup setup;
  for (const json& batch : fixture.at("batches")) {
    setup.inputs.push_back(to_matrix(batch.at("x")));
    const std::vector<int> labels = batch.at("labels").get<std::vector<int>>();
    Matrix y = Matrix::from_shape({labels.size(), std::size_t{1}});
    for (std::size_t r = 0; r < labels.size(); ++r) y(r, 0) = static_cast<float>(labels[r]);
    setup.labels.push_back(std::move(y));
  }
  for (const json& w : fixture.at("initial_weights")) setup.initial.push_back(to_floats(w));
  return setup;
}

std::unique_ptr<Optimizer> make_run_optimizer(const json& run) {
  const json& keras = run.at("keras");
  if (run.at("optimizer") == "sgd") {
    SGDOptions options;
    options.learning_rate = keras.at("learning_rate").get<float>();
    options.momentum = keras.at("momentum").get<float>();
    options.nesterov = keras.at("nesterov").get<bool>();
    return std::make_unique<SGD>(options);
  }
  AdamOptions options;
  options.learning_rate = keras.at("learning_rate").get<float>();
  options.beta1 = keras.at("beta1").get<float>();
  options.beta2 = keras.at("beta2").get<float>();
  options.epsilon = keras.at("epsilon").get<float>();
  return std::make_unique<Adam>(options);
}

/// The fixture's MLP (Dense + activation per entry of model.layers) with the given weights
/// (kernel, bias, kernel, bias, ...); returns the model and its Dense layers.
Sequential build_model(const json& fixture, const json& run, const std::vector<std::vector<float>>& weights,
                       std::vector<Dense*>& dense) {
  Sequential model;
  for (const json& layer : fixture.at("model").at("layers")) {
    auto d = std::make_unique<Dense>(layer.at("units").get<std::size_t>(), layer.at("inputs").get<std::size_t>());
    dense.push_back(d.get());
    model.add(std::move(d));
    model.add(layer.at("activation").get<std::string>());
  }
  model.compile(make_loss("categorical_crossentropy"), make_run_optimizer(run), {});
  model.build(dense.front()->input_units());
  for (std::size_t k = 0; k < dense.size(); ++k) {
    Matrix kernel = Matrix::from_shape({dense[k]->input_units(), dense[k]->output_units()});
    Vector bias = Vector::from_shape({dense[k]->output_units()});
    std::copy(weights[2 * k].begin(), weights[2 * k].end(), kernel.begin());
    std::copy(weights[2 * k + 1].begin(), weights[2 * k + 1].end(), bias.begin());
    dense[k]->set_weights(kernel, bias);
  }
  return model;
}

TEST(OracleTest, TrainingTrajectoriesMatchTorch) {
  const json fixture = load_fixture("training.json");
  const TrainingSetup setup = read_setup(fixture);
  ErrorReport all_weights;
  for (const json& run : fixture.at("runs")) {
    const std::string name = run.at("name").get<std::string>();
    SCOPED_TRACE(name);
    std::vector<Dense*> dense;
    Sequential model = build_model(fixture, run, setup.initial, dense);
    ASSERT_TRUE(model.loss_from_logits());  // softmax + cross-entropy: the fused path, as torch's cross_entropy
    model.reserve(setup.inputs.front().shape(0));

    const std::vector<float> losses = to_floats(run.at("losses"));
    const json& snapshots = run.at("snapshots");
    ErrorReport loss_report, weight_report, final_report;
    std::size_t next_snapshot = 0;
    for (std::size_t step = 0; step <= setup.inputs.size(); ++step) {
      if (step > 0) {
        const double loss = model.train_step(view(setup.inputs[step - 1]), view(setup.labels[step - 1]));
        const double want = losses[step - 1];
        loss_report.add(loss, want, 0.0);
        EXPECT_LE(std::fabs(loss - want), training_tolerance * std::fabs(want)) << "loss at step " << step;
      }
      if (next_snapshot >= snapshots.size() || snapshots[next_snapshot].at("step").get<std::size_t>() != step) continue;
      const json& snapshot = snapshots[next_snapshot++];
      ErrorReport here;
      for (std::size_t k = 0; k < dense.size(); ++k) {
        const std::vector<float> kernel = to_floats(snapshot.at("weights")[2 * k]);
        const std::vector<float> bias = to_floats(snapshot.at("weights")[2 * k + 1]);
        for (const auto& [got, want, what] : {std::make_tuple(dense[k]->kernel().data(), &kernel, "kernel"),
                                              std::make_tuple(dense[k]->bias().data(), &bias, "bias")}) {
          for (std::size_t i = 0; i < want->size(); ++i) {
            const double w = (*want)[i];
            here.add(got[i], w, 1.0);
            EXPECT_LE(std::fabs(got[i] - w), training_tolerance * std::max(1.0, std::fabs(w)))
                << "step " << step << ", dense layer " << k << " " << what << "[" << i << "]: xdense "
                << number(got[i]) << ", torch " << number(w);
          }
        }
      }
      weight_report.merge(here);
      if (step == setup.inputs.size()) final_report = here;
    }
    EXPECT_EQ(next_snapshot, snapshots.size());
    print(name + " weights after 50 steps", final_report);
    print(name + " weights, all snapshots", weight_report);
    print(name + " losses", loss_report);
    all_weights.merge(weight_report);
  }
  print("all weights, all optimizers", all_weights);
}

}  // namespace
}  // namespace xdense
