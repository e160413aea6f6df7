#pragma once
// Private: the one place that talks to CBLAS. <cblas.h> stays out of every other
// translation unit (it clashes with xtensor-blas's own CBLAS declarations).

#include <cstddef>

#include "xdense/fusion.hpp"

namespace xdense::blas {

/// C (m,n) = alpha * op(A) (m,k) . op(B) (k,n) + beta * C, all row-major.
/// op(A) = A^T when trans_a (A stored (k,m)), likewise for B: transposes by flag.
void sgemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
           const float* b, float beta, float* c);

/// C (m,n) = op(A) (m,k) . op(B) (k,n) + `row` (n) added to every row: a dense layer's
/// x W + b, with the bias as the product's starting value (no pass of its own).
void sgemm_plus_row(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, const float* a,
                    const float* b, const float* row, float* c);

/// The derivative f'(z) of an elementwise activation, as a function of its output y = f(z):
/// what the activation declares (Activation::output_derivative()).
using Derivative = OutputDerivative;

/// The backward pass of a dense layer y = x W + b over `rows` samples, x (rows, in),
/// W (in, out), dy (rows, out), all row-major:
///   dW (in, out) = x^T dy;  db (out) = the column sums of dy, unless db is null;
///   dx (rows, in) = (dy W^T) * f'(z) with f'(z) from x = f(z) (f none: dy W^T),
///   unless dx is null.
/// Layers of one unit (up to 32 inputs) or of 8, 16 or 32 units with few inputs
/// (in * out <= 64) run as one sweep over the rows, dW and db in registers; others as
/// products. Outputs must not overlap the inputs.
void dense_backward(std::size_t rows, std::size_t in, std::size_t out, const float* x, const float* dy, const float* w,
                    float* dw, float* db, Derivative f, float* dx);

/// sums[c] = sum over the rows of x (rows,cols), row-major: a bias gradient.
void column_sums(const float* x, std::size_t rows, std::size_t cols, float* sums);

}  // namespace xdense::blas
