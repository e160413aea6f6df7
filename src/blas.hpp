#pragma once
// Private: the one place that talks to CBLAS. <cblas.h> stays out of every other
// translation unit (it clashes with xtensor-blas's own CBLAS declarations).

#include <cstddef>

namespace xdense::blas {

/// C (m,n) = alpha * op(A) (m,k) . op(B) (k,n) + beta * C, all row-major.
/// op(A) = A^T when trans_a (A stored (k,m)), likewise for B: transposes by flag.
void sgemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
           const float* b, float beta, float* c);

}  // namespace xdense::blas
