// Compares the Keras losses of issue 14 (losses/*.hpp) and label smoothing of the cross-entropies
// with numbers PyTorch computed: tests/oracle/keras_losses.json, written by
// tests/oracle/make_loss_fixtures_keras.py (run by hand with Debian's python3-torch; torch is not
// needed here). The fixture records the torch version, how every number was computed and where
// Keras (which xdense follows) and torch differ.
//
// Tolerances, as tests/oracle_test.cpp: |got - want| <= 1e-6 |want| + floor, the floor 2^-23
// (~1.19e-7, one float32 ulp of 1) for values and 2^-23 / N for gradients, N the number of
// entries (or rows) the loss averages over. From logits, the one-pass training call
// (value_and_gradient_from_logits, float arithmetic) is held to the same tolerance for its
// gradient, and its value to 1e-5 relative (Loss: "within a few float roundings"). The measured
// maximum errors are printed.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "xdense/loss.hpp"

namespace xdense {
namespace {

using nlohmann::json;

constexpr double relative_tolerance = 1e-6;
constexpr double one_pass_value_tolerance = 1e-5;
constexpr double float_epsilon = 1.1920928955078125e-7;  // 2^-23

json load_fixture() {
  const std::string path = std::string(XDENSE_DATA_DIR) + "/../tests/oracle/keras_losses.json";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open oracle fixture " + path);
  return json::parse(in);
}

Matrix to_matrix(const json& m) {
  Matrix out = Matrix::from_shape({m.at("rows").get<std::size_t>(), m.at("cols").get<std::size_t>()});
  const json& values = m.at("values");
  if (values.size() != out.size()) throw std::runtime_error("oracle fixture: matrix size mismatch");
  for (std::size_t i = 0; i < out.size(); ++i) out.data()[i] = static_cast<float>(values[i].get<double>());
  return out;
}

std::string number(double v) {
  std::ostringstream s;
  s << std::setprecision(9) << v;
  return s.str();
}

/// Checks got within rel |want| + floor of want; returns the error.
double expect_close(double got, double want, double relative, double floor, const std::string& what) {
  const double error = std::fabs(got - want);
  EXPECT_LE(error, relative * std::fabs(want) + floor) << what << ": xdense " << number(got) << ", reference "
                                                       << number(want);
  return error;
}

/// Checks every gradient entry; returns the largest error.
double expect_gradient(const Matrix& got, const Matrix& want, double floor, const std::string& what) {
  double largest = 0.0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    largest = std::max(largest, expect_close(got.data()[i], want.data()[i], relative_tolerance, floor,
                                             what + "[" + std::to_string(i) + "]"));
  }
  return largest;
}

TEST(KerasLossesOracle, ValuesAndGradientsMatchTorch) {
  const json fixture = load_fixture();
  double largest_value_error = 0.0, largest_gradient_error = 0.0;
  std::size_t cases = 0;
  for (const json& c : fixture.at("losses")) {
    const std::string name = c.at("name").get<std::string>();
    SCOPED_TRACE(name);
    const std::unique_ptr<Loss> loss = make_loss(c.at("loss").get<std::string>(), c.at("config"));
    EXPECT_EQ(loss->config(), c.at("config").empty() ? Config::object() : c.at("config")) << name;
    const Matrix input = to_matrix(c.at("input"));
    const Matrix targets = to_matrix(c.at("targets"));
    const Matrix want_gradient = to_matrix(c.at("gradient"));
    const double want = c.at("value").get<double>();
    // The targets are ones the loss accepts.
    EXPECT_NO_THROW(loss->check_targets(view(targets), input.shape(1))) << name;

    const std::size_t n = c.at("reduction") == "rows" ? input.shape(0) : input.size();
    const double gradient_floor = float_epsilon / static_cast<double>(n);
    Matrix gradient = Matrix::from_shape({input.shape(0), input.shape(1)});
    double value;
    if (c.at("from_logits").get<bool>()) {
      value = loss->value_from_logits(view(input), view(targets));
      loss->gradient_from_logits(view(input), view(targets), view(gradient));
      Matrix one_pass = Matrix::from_shape({input.shape(0), input.shape(1)});
      const double one_pass_value = loss->value_and_gradient_from_logits(view(input), view(targets), view(one_pass));
      expect_close(one_pass_value, want, one_pass_value_tolerance, float_epsilon, name + " one-pass value");
      expect_gradient(one_pass, want_gradient, gradient_floor, name + " one-pass gradient");
    } else {
      value = loss->value(view(input), view(targets));
      loss->gradient(view(input), view(targets), view(gradient));
    }
    const double value_error = expect_close(value, want, relative_tolerance, float_epsilon, name + " value");
    const double gradient_error = expect_gradient(gradient, want_gradient, gradient_floor, name + " gradient");
    std::cout << "[oracle] " << std::left << std::setw(44) << name << "value error " << number(value_error)
              << ", max gradient error " << number(gradient_error) << std::endl;
    largest_value_error = std::max(largest_value_error, value_error);
    largest_gradient_error = std::max(largest_gradient_error, gradient_error);
    ++cases;
  }
  EXPECT_GE(cases, 17u);
  std::cout << "[oracle] all Keras losses: max value error " << number(largest_value_error)
            << ", max gradient error " << number(largest_gradient_error) << " (" << cases << " cases)" << std::endl;
}

TEST(KerasLossesOracle, EveryNewLossHasACase) {
  const json fixture = load_fixture();
  for (const std::string name : {"mean_absolute_error", "huber", "log_cosh", "hinge", "squared_hinge",
                                 "categorical_hinge", "kl_divergence", "poisson"}) {
    const bool found = std::any_of(fixture.at("losses").begin(), fixture.at("losses").end(),
                                   [&](const json& c) { return c.at("loss") == name; });
    EXPECT_TRUE(found) << name;
  }
}

TEST(KerasLossesOracle, KerasAndTorchKlDivergenceAgreeWhereNothingIsClipped) {
  // torch's kl_div takes log-probabilities and does not clip; on rows where Keras's clip does
  // nothing the two formulas agree, which the fixture records.
  const json fixture = load_fixture();
  for (const json& c : fixture.at("losses")) {
    if (!c.contains("torch_comparison")) continue;
    const json& comparison = c.at("torch_comparison");
    const double keras = comparison.at("keras_value").get<double>();
    const double torch = comparison.at("torch_kl_div_value").get<double>();
    EXPECT_NEAR(keras, torch, 1e-6 * std::fabs(keras));
    const Matrix p = to_matrix(c.at("input"));
    const Matrix y = to_matrix(c.at("targets"));
    const std::size_t rows = comparison.at("rows").get<std::size_t>();
    const ConstMatrixView first_p{p.data(), rows, p.shape(1)};
    const ConstMatrixView first_y{y.data(), rows, y.shape(1)};
    expect_close(make_loss(c.at("loss").get<std::string>())->value(first_p, first_y), keras, relative_tolerance,
                 float_epsilon, "kl_divergence on the unclipped rows");
  }
}

}  // namespace
}  // namespace xdense
