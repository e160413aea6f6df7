#pragma once
// Checks shared by the tests of the Keras activations (tests/activations/): values and derivatives
// against formulas the test writes in long double, finite-difference gradients, finiteness at
// extreme inputs, and the rebuild of an activation from its spec() by every route a model takes
// (make_activation, the "Activation" layer config, a model file).

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gradient_check.hpp"
#include "xdense/activation.hpp"
#include "xdense/dense.hpp"
#include "xdense/error.hpp"
#include "xdense/model_file.hpp"
#include "xdense/random.hpp"
#include "xdense/sequential.hpp"
#include "xdense/tensor.hpp"

namespace xdense::testing {

using Real = long double;
using Formula = std::function<Real(Real)>;

/// Ordinary and awkward points: 0, -0, +-denormal, near the kinks and branch points of the
/// approximations (|x| = 0.625, sqrt 2, 2 sqrt 2, 3), and up to +-20.
inline const std::vector<float> sample_inputs = {0.0f,  -0.0f, 1e-40f, -1e-40f, 1e-3f, -1e-3f, 0.1f,  -0.1f,
                                                 0.5f,  -0.5f, 0.625f, -0.625f, 1.0f,  -1.0f,  1.4f,  -1.4f,
                                                 1.45f, -1.45f, 2.0f,  -2.0f,   2.8f,  -2.9f,  2.99f, -2.99f,
                                                 3.5f,  -3.5f, 5.0f,  -5.0f,   8.0f,  -8.0f,  20.0f, -20.0f};

/// The inputs where exp overflows or underflows and x^2 is huge.
inline const std::vector<float> extreme_inputs = {-1e30f, -1e4f, -100.0f, -88.0f, 88.0f, 100.0f, 1e4f, 1e30f};

inline Matrix row_of(const std::vector<float>& values) {
  Matrix m = Matrix::from_shape({std::size_t{1}, values.size()});
  for (std::size_t i = 0; i < values.size(); ++i) m.data()[i] = values[i];
  return m;
}

/// Uniform values in [-limit, limit] at least `gap` away from each of `kinks` (central differences
/// with step 1e-2 must not straddle one), deterministic for a seed.
inline Matrix random_inputs(std::size_t rows, std::size_t cols, double limit, std::uint64_t seed,
                            const std::vector<double>& kinks = {}, double gap = 0.05) {
  Rng rng(seed);
  Matrix m = Matrix::from_shape({rows, cols});
  for (std::size_t i = 0; i < m.size(); ++i) {
    double v = 0.0;
    bool near_kink = true;
    while (near_kink) {
      v = rng.uniform(-limit, limit);
      near_kink = false;
      for (double k : kinks) near_kink = near_kink || std::abs(v - k) < gap;
    }
    m.data()[i] = static_cast<float>(v);
  }
  return m;
}

/// activate() and derivative() (dL/dy = 1.5, so dx = 1.5 f'(x)) on `inputs` against long-double
/// formulas: within `relative` |expected| + `absolute` (a few ulps: relative 2e-6 is ~16).
inline void expect_matches_formulas(const Activation& activation, const Formula& f, const Formula& df,
                                    const std::vector<float>& inputs = sample_inputs, Real relative = 2e-6L,
                                    Real absolute = 1e-37L) {
  const Matrix x = row_of(inputs);
  Matrix y = Matrix::from_shape({std::size_t{1}, inputs.size()});
  Matrix dy = Matrix::from_shape({std::size_t{1}, inputs.size()});
  Matrix dx = Matrix::from_shape({std::size_t{1}, inputs.size()});
  for (std::size_t i = 0; i < dy.size(); ++i) dy.data()[i] = 1.5f;
  activation.activate(view(x), view(y));
  activation.derivative(view(x), view(y), view(dy), view(dx));
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Real v = inputs[i];
    const Real want = f(v);
    const Real want_gradient = 1.5L * df(v);
    EXPECT_LE(std::abs(y.data()[i] - want), relative * std::abs(want) + absolute)
        << activation.spec() << "(" << inputs[i] << ") = " << y.data()[i] << ", expected " << double(want);
    EXPECT_LE(std::abs(dx.data()[i] - want_gradient), relative * std::abs(want_gradient) + absolute)
        << activation.spec() << "'(" << inputs[i] << ") * 1.5 = " << dx.data()[i] << ", expected "
        << double(want_gradient);
  }
}

/// Values and gradients at `extreme_inputs` are finite (no overflow, no inf * 0).
inline void expect_finite_at_extremes(const Activation& activation) {
  const Matrix x = row_of(extreme_inputs);
  Matrix y = Matrix::from_shape({x.shape(0), x.shape(1)});
  Matrix dy = Matrix::from_shape({x.shape(0), x.shape(1)});
  Matrix dx = Matrix::from_shape({x.shape(0), x.shape(1)});
  for (std::size_t i = 0; i < dy.size(); ++i) dy.data()[i] = 1.0f;
  activation.activate(view(x), view(y));
  activation.derivative(view(x), view(y), view(dy), view(dx));
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_TRUE(std::isfinite(y.data()[i])) << activation.spec() << "(" << x.data()[i] << ") = " << y.data()[i];
    EXPECT_TRUE(std::isfinite(dx.data()[i])) << activation.spec() << "'(" << x.data()[i] << ") = " << dx.data()[i];
  }
}

/// Finite-difference check of backward() on a (4, 6) batch from `random_inputs`.
inline void expect_gradient_checks(const std::string& spec, double limit = 4.0, const std::vector<double>& kinks = {}) {
  std::unique_ptr<Activation> activation = make_activation(spec);
  expect_activation_gradient(*activation, random_inputs(4, 6, limit, 31, kinks), spec);
}

/// `spec` (or an alias of it) resolves to an activation whose spec() is `canonical` and type_name()
/// `type_name`, which make_activation, make_layer("Activation", config()) and a model file (save,
/// load, same predictions bit for bit) all rebuild.
inline void expect_rebuilt_from_spec(const std::string& spec, const std::string& canonical,
                                     const std::string& type_name) {
  SCOPED_TRACE(spec);
  const std::unique_ptr<Activation> activation = make_activation(spec);
  EXPECT_EQ(activation->spec(), canonical);
  EXPECT_EQ(activation->type_name(), type_name);
  EXPECT_EQ(make_activation(activation->spec())->spec(), canonical);
  EXPECT_EQ(activation->kind(), "Activation");
  EXPECT_EQ(activation->config(), (Config{{"activation", canonical}}));
  const std::unique_ptr<Layer> layer = make_layer("Activation", activation->config());
  ASSERT_NE(layer->as_activation(), nullptr);
  EXPECT_EQ(layer->as_activation()->spec(), canonical);

  Sequential model;
  model.add(std::make_unique<Dense>(5)).add(spec).add(std::make_unique<Dense>(2));
  model.build(3);
  model.compile("mean_squared_error", "sgd");
  const std::vector<unsigned char> bytes = encode_model(model, ModelInfo{});
  SavedModel loaded = decode_model(bytes, "memory");
  ASSERT_EQ(loaded.model.layer_count(), 3u);
  const Matrix x = random_inputs(7, 3, 3.0, 5);
  const Matrix want = model.predict(x);
  const Matrix got = loaded.model.predict(x);
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got.data()[i], want.data()[i]) << "prediction " << i;
}

/// make_activation(spec) throws InvalidArgument whose message contains `expected`.
inline void expect_refused(const std::string& spec, const std::string& expected) {
  try {
    make_activation(spec);
    ADD_FAILURE() << "make_activation(\"" << spec << "\") succeeded";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find(expected), std::string::npos)
        << "make_activation(\"" << spec << "\"): " << e.what() << "\nexpected to contain: " << expected;
  }
}

}  // namespace xdense::testing
