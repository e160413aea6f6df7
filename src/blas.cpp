#include "blas.hpp"

#include <cblas.h>

namespace xdense::blas {
namespace {

// Below this many multiply-adds a plain loop beats OpenBLAS, whose per-call set-up
// (argument checks, kernel dispatch, buffer packing) costs about 0.3-1 us: that
// dominates tiny layers such as 2-16-1.
constexpr std::size_t small_product = 16 * 1024;

// C(m,n) += alpha * sum_p A(i,p) B(p,j) for small shapes, with A(i,p) at
// a[i*a_row + p*a_col] and B(p,j) at b[p*b_row + j*b_col] (row-major storage, a
// transposed operand just swaps its strides). The loop over the longest of the
// dimensions with unit stride runs innermost so it vectorises; tiny layers have
// n = 1 (one output unit) or k = 1, where the usual i-p-j order would leave
// length-1 inner loops.
void small_sgemm(std::size_t m, std::size_t n, std::size_t k, float alpha, const float* __restrict a, std::size_t a_row,
                 std::size_t a_col, const float* __restrict b, std::size_t b_row, std::size_t b_col,
                 float* __restrict c) {
  if (b_col == 1 && n >= k && n >= m) {  // rows of C: c(i,:) += A(i,p) B(p,:)
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t p = 0; p < k; ++p) {
        const float aip = alpha * a[i * a_row + p * a_col];
        for (std::size_t j = 0; j < n; ++j) c[i * n + j] += aip * b[p * b_row + j];
      }
  } else if (a_col == 1 && b_row == 1 && k >= 4) {  // dot products along contiguous p
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        float sum = 0.0f;
        for (std::size_t p = 0; p < k; ++p) sum += a[i * a_row + p] * b[p + j * b_col];
        c[i * n + j] += alpha * sum;
      }
  } else if (n == 1 && a_row == 1) {  // one column: c(:) += A(:,p) b(p), contiguous in i
    for (std::size_t p = 0; p < k; ++p) {
      const float bp = alpha * b[p * b_row];
      for (std::size_t i = 0; i < m; ++i) c[i] += a[i + p * a_col] * bp;
    }
  } else {  // general order, unit stride in C's rows
    for (std::size_t p = 0; p < k; ++p)
      for (std::size_t i = 0; i < m; ++i) {
        const float aip = alpha * a[i * a_row + p * a_col];
        for (std::size_t j = 0; j < n; ++j) c[i * n + j] += aip * b[p * b_row + j * b_col];
      }
  }
}

}  // namespace

void sgemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
           const float* b, float beta, float* c) {
  if (m == 0 || n == 0) return;
  if (m * n * k <= small_product) {
    for (std::size_t i = 0; i < m * n; ++i) c[i] = beta == 0.0f ? 0.0f : beta * c[i];
    // Strides of A(i,p) and B(p,j) in their row-major storage: (m,k) or, transposed, (k,m).
    small_sgemm(m, n, k, alpha, a, trans_a ? 1 : k, trans_a ? m : 1, b, trans_b ? 1 : n, trans_b ? k : 1, c);
    return;
  }
  // Leading dimensions of the row-major operands as stored.
  const int lda = static_cast<int>(trans_a ? m : k);
  const int ldb = static_cast<int>(trans_b ? k : n);
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a, lda > 0 ? lda : 1, b,
              ldb > 0 ? ldb : 1, beta, c, static_cast<int>(n));
}

}  // namespace xdense::blas
