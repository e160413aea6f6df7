#pragma once
// Reference values for a dense layer's products, computed in double by xtensor-blas
// (xt::linalg::dot, i.e. OpenBLAS's dgemm): code that shares nothing with xdense's float
// kernels and OpenBLAS sgemm calls (src/blas.cpp), and whose own error (~1e-16 relative)
// is far below the float rounding a test's tolerance allows for.
//
// xtensor-blas is a test-only dependency (tests/CMakeLists.txt): the library calls
// cblas_sgemm itself and its installed package does not need xtensor-blas. Including
// <xtensor-blas/xlinalg.hpp> costs a few seconds of compile time per translation unit,
// which is why this lives apart from gradient_check.hpp.

#include <memory>

#include <xtensor-blas/xlinalg.hpp>
#include <xtensor/xmanipulation.hpp>
#include <xtensor/xreducer.hpp>
#include <xtensor/xtensor.hpp>

#include "xdense/tensor.hpp"

namespace xdense::testing {

/// A row-major double matrix (the allocator spelled out, as xdense::Matrix does).
using Reference = xt::xtensor<double, 2, xt::layout_type::row_major, std::allocator<double>>;
using ReferenceVector = xt::xtensor<double, 1, xt::layout_type::row_major, std::allocator<double>>;

/// `m` converted to double (exactly).
inline Reference in_double(const Matrix& m) { return xt::cast<double>(m); }

/// `m` transposed, as a row-major double matrix: the products below pass plain containers
/// to xt::linalg::dot, never transposed views (whose layout it would have to infer).
inline Reference transposed_in_double(const Matrix& m) { return xt::transpose(in_double(m)); }

/// y (batch, out) = x (batch, in) . W (in, out) + b, b added to every row.
inline Reference reference_forward(const Matrix& x, const Matrix& w, const Vector& b) {
  Reference y = xt::linalg::dot(in_double(x), in_double(w));
  y += xt::cast<double>(b);  // broadcast over the rows
  return y;
}

/// dW (in, out) = x^T (in, batch) . dy (batch, out).
inline Reference reference_kernel_gradient(const Matrix& x, const Matrix& dy) {
  return xt::linalg::dot(transposed_in_double(x), in_double(dy));
}

/// db (out) = the column sums of dy (batch, out).
inline ReferenceVector reference_bias_gradient(const Matrix& dy) { return xt::sum(in_double(dy), {0}); }

/// dx (batch, in) = dy (batch, out) . W^T (out, in).
inline Reference reference_input_gradient(const Matrix& dy, const Matrix& w) {
  return xt::linalg::dot(in_double(dy), transposed_in_double(w));
}

}  // namespace xdense::testing
