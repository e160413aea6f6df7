// Compares the Keras activations of issue 14 (activations/*.hpp) with numbers PyTorch computed:
// tests/oracle/keras_activations.json, written by tests/oracle/make_activation_fixtures.py (run by
// hand with Debian's python3-torch; torch is not needed here). The fixture records the torch
// version, how every number was computed and where Keras (which xdense follows) and torch differ.
//
// Tolerances, as tests/oracle_test.cpp: |got - want| <= 1e-6 |want| + 2^-23 for values and
// gradients (2^-23 ~ 1.19e-7, one float32 ulp of 1, covers tiny tails that round differently);
// infinities (exponential above 88.7228) must be the same infinity; hard_sigmoid, piecewise
// linear, must match bit for bit. The measured maximum errors are printed.

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

#include "xdense/activation.hpp"

namespace xdense {
namespace {

using nlohmann::json;

constexpr double relative_tolerance = 1e-6;
constexpr double float_epsilon = 1.1920928955078125e-7;  // 2^-23

json load_fixture() {
  const std::string path = std::string(XDENSE_DATA_DIR) + "/../tests/oracle/keras_activations.json";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open oracle fixture " + path);
  return json::parse(in);
}

Matrix row(const json& values) {
  Matrix out = Matrix::from_shape({std::size_t{1}, values.size()});
  std::size_t i = 0;
  for (const json& v : values) {
    // JSON has no infinity: the fixture writes e^100 as "inf".
    const double number = v.is_string() ? std::stod(v.get<std::string>()) : v.get<double>();
    out.data()[i++] = static_cast<float>(number);
  }
  return out;
}

std::string number(double v) {
  std::ostringstream s;
  s << std::setprecision(9) << v;
  return s.str();
}

/// Checks got against want within the tolerance (or exactly), returning the largest error.
double expect_close(const Matrix& got, const Matrix& want, const Matrix& x, bool exact, const std::string& what) {
  double largest = 0.0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const double g = got.data()[i];
    const double w = want.data()[i];
    const std::string where = what + " at x = " + number(x.data()[i]) + ": xdense " + number(g) + ", torch " +
                              number(w);
    if (exact || std::isinf(w)) {
      EXPECT_EQ(g, w) << where;
      continue;
    }
    const double error = std::fabs(g - w);
    largest = std::max(largest, error);
    EXPECT_LE(error, relative_tolerance * std::fabs(w) + float_epsilon) << where;
  }
  return largest;
}

TEST(KerasActivationsOracle, ValuesAndGradientsMatchTorch) {
  const json fixture = load_fixture();
  ASSERT_GE(fixture.at("activations").size(), 12u);
  for (const json& c : fixture.at("activations")) {
    const std::string name = c.at("name").get<std::string>();
    SCOPED_TRACE(name);
    const std::unique_ptr<Activation> activation = make_activation(name);
    const Matrix x = row(c.at("x"));
    const Matrix want_value = row(c.at("value"));
    const Matrix want_gradient = row(c.at("gradient"));
    Matrix upstream = Matrix::from_shape({x.shape(0), x.shape(1)});
    std::fill(upstream.begin(), upstream.end(), 1.0f);  // dL/dy = 1: dx is f'(x)
    Matrix y = Matrix::from_shape({x.shape(0), x.shape(1)});
    Matrix dx = Matrix::from_shape({x.shape(0), x.shape(1)});
    activation->activate(view(x), view(y));
    activation->derivative(view(x), view(y), view(upstream), view(dx));
    const bool exact = name == "hard_sigmoid";
    const double value_error = expect_close(y, want_value, x, exact, name + " value");
    const double gradient_error = expect_close(dx, want_gradient, x, exact, name + " gradient");
    std::cout << "[oracle] " << std::left << std::setw(20) << name << "max abs error value " << number(value_error)
              << ", gradient " << number(gradient_error) << " (" << x.size() << " inputs)" << std::endl;
  }
}

}  // namespace
}  // namespace xdense
