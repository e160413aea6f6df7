#pragma once
// Finite-difference gradient checking shared by the layer, loss and model tests.
//
// xdense computes in float32, so the check is argued for float:
// central differences f(w + h) - f(w - h) / 2h have truncation error O(h^2 f''')
// and rounding error ~ eps_f32 * |f| / h. With h = 1e-2 (inputs kept > h away
// from kinks) and losses accumulated in double, both stay below ~1e-3 relative
// for the O(1) values used here (about 1e-4 absolute at worst, forward passes
// being float). The tolerance, 1e-2 of the largest gradient entry plus 2e-4, is
// far tighter than any real backprop bug: a missing factor, a wrong sign or a
// transpose changes gradients by a large fraction of their size.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "xdense/activation.hpp"
#include "xdense/random.hpp"
#include "xdense/tensor.hpp"

namespace xdense::testing {

/// Compares `analytic[i]` with the central difference of `loss` w.r.t. values[i].
/// `loss` re-evaluates the scalar using the current contents of `values`.
inline void expect_gradient_matches(float* values, const float* analytic, std::size_t count,
                                    const std::function<double()>& loss, const std::string& what,
                                    double step = 1e-2, double tolerance = 1e-2, double absolute = 2e-4) {
  double largest = 0.0;
  for (std::size_t i = 0; i < count; ++i) largest = std::max(largest, std::abs(double(analytic[i])));
  EXPECT_GT(largest, 10 * absolute) << what << ": gradient too small for the check to mean anything";
  std::size_t failures = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const float saved = values[i];
    values[i] = static_cast<float>(saved + step);
    const double plus = loss();
    values[i] = static_cast<float>(saved - step);
    const double minus = loss();
    values[i] = saved;
    // Use the step actually taken after rounding to float.
    const double taken = double(static_cast<float>(saved + step)) - double(static_cast<float>(saved - step));
    const double numeric = (plus - minus) / taken;
    if (std::abs(numeric - analytic[i]) > tolerance * largest + absolute) {
      if (++failures <= 5) {
        ADD_FAILURE() << what << "[" << i << "]: analytic " << analytic[i] << " vs numeric " << numeric;
      }
    }
  }
  EXPECT_EQ(failures, 0u) << what << ": " << failures << " of " << count << " entries differ";
}

/// Finite-difference check of an activation's backward() for loss = sum_i w_i y_i, w fixed random
/// in [-1, 1]: dL/dy = w, so backward(w) must be the gradient of the loss w.r.t. x.
inline void expect_activation_gradient(Activation& layer, Matrix x, const std::string& what) {
  Rng rng(5);
  layer.build(x.shape(1), rng);
  Rng draw(23);
  Matrix w = Matrix::from_shape({x.shape(0), x.shape(1)});
  for (std::size_t i = 0; i < w.size(); ++i) w.data()[i] = static_cast<float>(draw.uniform(-1.0, 1.0));
  const auto loss = [&]() {
    const ConstMatrixView y = layer.forward(view(x));
    double total = 0.0;
    for (std::size_t i = 0; i < y.size(); ++i) total += double(w.data()[i]) * double(y.data[i]);
    return total;
  };
  loss();
  const Matrix analytic = to_matrix(layer.backward(view(w)));
  ASSERT_EQ(analytic.size(), x.size());
  expect_gradient_matches(x.data(), analytic.data(), x.size(), loss, what);
}

}  // namespace xdense::testing
