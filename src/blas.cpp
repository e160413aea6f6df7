#include "blas.hpp"

#include <cblas.h>

#include <cstring>
#include <string>
#include <vector>

#include "cpu_dispatch.hpp"
#include "kernels/product_kernels.hpp"
#include "output_derivative.hpp"
#include "simd.hpp"
#include "xdense/error.hpp"
#include "xdense/threads.hpp"

// OpenBLAS's thread control (also in its cblas.h, not in other vendors' headers).
extern "C" void openblas_set_num_threads(int num_threads);
extern "C" int openblas_get_num_threads(void);

namespace xdense {

void set_num_threads(int threads) {
  if (threads < 1) {
    throw InvalidArgument("set_num_threads: expected at least 1 thread, received " + std::to_string(threads));
  }
  openblas_set_num_threads(threads);
}

int num_threads() { return openblas_get_num_threads(); }

void reserve_blas_buffer() {
  // Large enough for OpenBLAS's packed path (its small-matrix kernels skip the buffer).
  constexpr int n = 128;
  std::vector<float> a(n * n, 1.0f), c(n * n);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, a.data(), n, 0.0f, c.data(), n);
}

}  // namespace xdense

namespace xdense::blas {
namespace {

// Below this many multiply-adds the register-blocked kernels below beat OpenBLAS,
// whose per-call set-up (argument checks, kernel dispatch, buffer packing) costs about
// 0.3-1 us: that dominates tiny layers such as 2-16-1 (the five products of its
// training step: ~1.3 us through OpenBLAS, ~0.27 us here).
constexpr std::size_t small_product = 16 * 1024;

using detail::Float8;
using detail::load8;
using detail::ones8;
using detail::store8;
using detail::sum8;

// sum_p a[p] b[p] in eight interleaved partial sums, added up in a fixed order (so
// the result does not depend on the vector width), then the tail.
XDENSE_KERNEL_INLINE float dot(const float* a, const float* b, std::size_t k) {
  std::size_t p = 0;
  float sum = 0.0f;
  if (k >= 8) {
    Float8 lanes = load8(a) * load8(b);
    for (p = 8; p + 8 <= k; p += 8) lanes += load8(a + p) * load8(b + p);
    sum = sum8(lanes);
  }
  for (; p < k; ++p) sum += a[p] * b[p];
  return sum;
}

// x[0] + ... + x[n-1] in eight lanes (element i in lane i mod 8), added up as sum8,
// then the tail in order.
XDENSE_KERNEL_INLINE float sum_of(const float* x, std::size_t n) {
  Float8 lanes = ones8 * 0.0f;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) lanes += load8(x + i);
  float total = sum8(lanes);
  for (; i < n; ++i) total += x[i];
  return total;
}

// What C holds before the products are added: a row broadcast to every row (a bias),
// or beta C with beta 0 (zeros, whatever C held, as BLAS) or 1.
struct Start {
  const float* row = nullptr;
  float beta = 0.0f;
};

constexpr float zeros[16] = {};

// Where C(i, j..)'s starting values are: the start row, zeros, or C itself (beta 1).
XDENSE_KERNEL_INLINE const float* start_values(Start start, const float* c, std::size_t i, std::size_t j,
                                               std::size_t n) {
  return start.row != nullptr ? start.row + j : (start.beta == 0.0f ? zeros : c + i * n + j);
}

// The derivative of the activation that made Y, applied to a gradient g as it is
// stored: g f'(z) computed from y = f(z) (through1 for one value, through8 for eight
// in registers), with the formulas of output_derivative.hpp, which the activations'
// own backward passes use too: a fused step gives the same bits.
template <Derivative F>
XDENSE_KERNEL_INLINE float through1(float g, float y) {
  return detail::times_output_derivative<F>(g, y, 1.0f, 0.0f);
}

template <Derivative F>
XDENSE_KERNEL_INLINE Float8 through8(const Float8& g, const float* y, std::size_t at) {
  if constexpr (F == Derivative::none) {
    return g;  // y may be null
  } else {
    y += at;
#if defined(__GNUC__)
    return detail::times_output_derivative<F>(g, load8(y), ones8, ones8 * 0.0f);
#else
    Float8 out;
    for (std::size_t l = 0; l < 8; ++l) out[l] = through1<F>(g[l], y[l]);
    return out;
#endif
  }
}

// Rows i..i+R-1, columns j..j+8V-1 of C = start + A B, held in registers while the k
// products accumulate into them: R rows share each load of B. With Split, a block of
// fewer than 8 vectors, which would wait on the multiply-add latency (a chain of k
// dependent steps per vector), keeps S = 8 / (R V) partial sums, p taken round-robin:
// the start plus the products p = 0, S, 2S, ... in order, the products p = 1, S + 1,
// ..., and so on, added at the end in a fixed tree ((s0 + s1) + (s2 + s3)) + (...).
// Without Split every element is its start plus the products in order of p, whichever
// block it falls in. Each result goes through F's derivative (with Y laid out as C)
// as it is stored.
template <std::size_t R, std::size_t V, Derivative F, bool Split>
XDENSE_KERNEL_INLINE void block_of_c(std::size_t i, std::size_t j, std::size_t n, std::size_t k, const float* a,
                                     std::size_t a_row, std::size_t a_col, const float* b, std::size_t b_row,
                                     Start start, const float* y, float* __restrict c) {
  constexpr std::size_t S = !Split || R * V >= 8 ? 1 : 8 / (R * V);
  Float8 acc[S][R][V];
#pragma GCC unroll 4
  for (std::size_t r = 0; r < R; ++r) {
    const float* from = start_values(start, c, i + r, j, n);
#pragma GCC unroll 2
    for (std::size_t v = 0; v < V; ++v) {
      acc[0][r][v] = load8(from + 8 * v);
#pragma GCC unroll 8
      for (std::size_t s = 1; s < S; ++s) acc[s][r][v] = ones8 * 0.0f;
    }
  }
  std::size_t p = 0;
  for (; p + S <= k; p += S) {
#pragma GCC unroll 8
    for (std::size_t s = 0; s < S; ++s) {
      Float8 bp[V];
#pragma GCC unroll 2
      for (std::size_t v = 0; v < V; ++v) bp[v] = load8(b + (p + s) * b_row + j + 8 * v);
#pragma GCC unroll 4
      for (std::size_t r = 0; r < R; ++r) {
        const Float8 arp = ones8 * a[(i + r) * a_row + (p + s) * a_col];
#pragma GCC unroll 2
        for (std::size_t v = 0; v < V; ++v) acc[s][r][v] += arp * bp[v];
      }
    }
  }
  for (std::size_t s = 0; p < k; ++p, ++s) {  // the last k mod S products, into sums 0, 1, ...
    Float8 bp[V];
#pragma GCC unroll 2
    for (std::size_t v = 0; v < V; ++v) bp[v] = load8(b + p * b_row + j + 8 * v);
#pragma GCC unroll 4
    for (std::size_t r = 0; r < R; ++r) {
      const Float8 arp = ones8 * a[(i + r) * a_row + p * a_col];
#pragma GCC unroll 2
      for (std::size_t v = 0; v < V; ++v) acc[s][r][v] += arp * bp[v];
    }
  }
#pragma GCC unroll 4
  for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 2
    for (std::size_t v = 0; v < V; ++v) {
      Float8 total;
      if constexpr (S == 1) {
        total = acc[0][r][v];
      } else if constexpr (S == 2) {
        total = acc[0][r][v] + acc[1][r][v];
      } else if constexpr (S == 4) {
        total = (acc[0][r][v] + acc[1][r][v]) + (acc[2][r][v] + acc[3][r][v]);
      } else {
        static_assert(S == 8, "R V is 1, 2, 4 or at least 8");
        total = ((acc[0][r][v] + acc[1][r][v]) + (acc[2][r][v] + acc[3][r][v])) +
                ((acc[4][r][v] + acc[5][r][v]) + (acc[6][r][v] + acc[7][r][v]));
      }
      const std::size_t at = (i + r) * n + j + 8 * v;
      store8(c + at, through8<F>(total, y, at));
    }
}

// C(m,n) = start + A(m,k) B(k,n) with B's rows contiguous (B(p,j) at b[p*b_row + j]),
// A(i,p) at a[i*a_row + p*a_col]: blocks of 4 rows x 16 columns (then 2 rows, 1 row,
// then 8 columns) in registers; accumulating in memory instead would chain every
// step through a store and a reload. Columns past the last multiple of 8 are done
// one by one, in order of p. Without Split a row of C comes out the same wherever it
// falls (a layer's outputs for a sample do not depend on the batch it is in); Split,
// for products over the batch (dW = x^T dy, whose rows are inputs, not samples), lets
// small blocks keep partial sums (block_of_c). Results never depend on the data.
template <Derivative F, bool Split>
XDENSE_KERNEL_INLINE void rows_of_c(std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t a_row,
                                    std::size_t a_col, const float* b, std::size_t b_row, Start start, const float* y,
                                    float* __restrict c) {
  std::size_t j = 0;
  for (; j + 16 <= n; j += 16) {
    std::size_t i = 0;
    for (; i + 4 <= m; i += 4) block_of_c<4, 2, F, Split>(i, j, n, k, a, a_row, a_col, b, b_row, start, y, c);
    for (; i + 2 <= m; i += 2) block_of_c<2, 2, F, Split>(i, j, n, k, a, a_row, a_col, b, b_row, start, y, c);
    for (; i < m; ++i) block_of_c<1, 2, F, Split>(i, j, n, k, a, a_row, a_col, b, b_row, start, y, c);
  }
  if (j + 8 <= n) {
    std::size_t i = 0;
    for (; i + 4 <= m; i += 4) block_of_c<4, 1, F, Split>(i, j, n, k, a, a_row, a_col, b, b_row, start, y, c);
    for (; i < m; ++i) block_of_c<1, 1, F, Split>(i, j, n, k, a, a_row, a_col, b, b_row, start, y, c);
    j += 8;
  }
  for (; j < n; ++j)
    for (std::size_t i = 0; i < m; ++i) {
      float acc = *start_values(start, c, i, j, n);
      for (std::size_t p = 0; p < k; ++p) acc += a[i * a_row + p * a_col] * b[p * b_row + j];
      c[i * n + j] = through1<F>(acc, y != nullptr ? y[i * n + j] : 0.0f);
    }
}

// The small-product kernels: C(m,n) = start + sum_p A(i,p) B(p,j), with A(i,p) at
// a[i*a_row + p*a_col] and B(p,j) at b[p*b_row + j*b_col] (row-major storage, a
// transposed operand just swaps its strides), and start a row or C itself (beta 1)
// or zeros (beta 0). Each case runs along a unit-stride axis so that it vectorises;
// tiny layers have n = 1 (one output unit) or k = 1, where a fixed i-p-j order would
// leave length-1 inner loops. Each is its own function compiled for AVX2 and for the
// baseline (cpu_dispatch.hpp), so that a call pays only for its own case's set-up:
// at a few hundred multiply-adds per product, the set-up is a good part of the cost.

// B's rows contiguous (b_col = 1): the register blocks of rows_of_c(), with partial
// sums (Split) when `split`, i.e. for a product over the batch (A transposed).
template <bool Split>
XDENSE_KERNEL_INLINE void rows_through(std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t a_row,
                                       std::size_t a_col, const float* b, std::size_t b_row, Start start, Derivative f,
                                       const float* y, float* __restrict c) {
  switch (f) {
    case Derivative::none:
      return rows_of_c<Derivative::none, Split>(m, n, k, a, a_row, a_col, b, b_row, start, y, c);
    case Derivative::sigmoid:
      return rows_of_c<Derivative::sigmoid, Split>(m, n, k, a, a_row, a_col, b, b_row, start, y, c);
    case Derivative::tanh:
      return rows_of_c<Derivative::tanh, Split>(m, n, k, a, a_row, a_col, b, b_row, start, y, c);
    case Derivative::relu:
      return rows_of_c<Derivative::relu, Split>(m, n, k, a, a_row, a_col, b, b_row, start, y, c);
  }
}

XDENSE_VECTOR_CLONES void small_rows(std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t a_row,
                                     std::size_t a_col, const float* b, std::size_t b_row, Start start, Derivative f,
                                     const float* y, bool split, float* __restrict c) {
  if (split) {
    rows_through<true>(m, n, k, a, a_row, a_col, b, b_row, start, f, y, c);
  } else {
    rows_through<false>(m, n, k, a, a_row, a_col, b, b_row, start, f, y, c);
  }
}

// n = 1 with A^T stored (dW of a one-unit layer): c^T (1,m) = start + b^T (1,k) A^T (k,m),
// rows of A^T contiguous.
XDENSE_VECTOR_CLONES void small_one_column_of_a_transposed(std::size_t m, std::size_t k, const float* a,
                                                           std::size_t a_col, const float* b, std::size_t b_row,
                                                           Start start, float* __restrict c) {
  if (start.row != nullptr || start.beta == 0.0f) {
    const float value = start.row != nullptr ? start.row[0] : 0.0f;  // the same for every row
    for (std::size_t i = 0; i < m; ++i) c[i] = value;
  }
  rows_of_c<Derivative::none, true>(1, m, k, b, 0, b_row, a, a_col, Start{nullptr, 1.0f}, nullptr, c);
}

// Dot products of contiguous rows of A and columns of B (a_col = b_row = 1): one output
// unit, or B^T stored. Eight rows at a time: their eight-lane partial sums are added
// up together (sum8_of_eight), in the order dot() uses for a row on its own.
template <Derivative F>
XDENSE_KERNEL_INLINE void dots(std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t a_row,
                               const float* b, std::size_t b_col, Start start, const float* y, float* __restrict c) {
  auto start_of = [&](std::size_t i, std::size_t j) {
    return start.row != nullptr ? start.row[j] : (start.beta == 0.0f ? 0.0f : c[i * n + j]);
  };
  auto y_of = [&](std::size_t at) { return y != nullptr ? y[at] : 0.0f; };
  const std::size_t k8 = k - k % 8;
  for (std::size_t j = 0; j < n; ++j) {
    const float* bj = b + j * b_col;
    std::size_t i = 0;
    for (; k8 > 0 && i + 8 <= m; i += 8) {
      Float8 lanes[8];
#pragma GCC unroll 8
      for (std::size_t r = 0; r < 8; ++r) lanes[r] = load8(a + (i + r) * a_row) * load8(bj);
      for (std::size_t p = 8; p < k8; p += 8) {
        const Float8 bp = load8(bj + p);
#pragma GCC unroll 8
        for (std::size_t r = 0; r < 8; ++r) lanes[r] += load8(a + (i + r) * a_row + p) * bp;
      }
      const Float8 sums = detail::sum8_of_eight(lanes);
      if (n == 1 && k8 == k) {  // the eight results are contiguous: one vector step
        const Float8 starts = start.row != nullptr ? ones8 * start.row[0]
                              : start.beta == 0.0f ? ones8 * 0.0f
                                                   : load8(c + i);
        store8(c + i, through8<F>(starts + sums, y, i));
        continue;
      }
      for (std::size_t r = 0; r < 8; ++r) {
        const float* ar = a + (i + r) * a_row;
        float sum = sums[r];
        for (std::size_t p = k8; p < k; ++p) sum += ar[p] * bj[p];
        const std::size_t at = (i + r) * n + j;
        c[at] = through1<F>(start_of(i + r, j) + sum, y_of(at));
      }
    }
    for (; i < m; ++i) c[i * n + j] = through1<F>(start_of(i, j) + dot(a + i * a_row, bj, k), y_of(i * n + j));
  }
}

XDENSE_VECTOR_CLONES void small_dots(std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t a_row,
                                     const float* b, std::size_t b_col, Start start, Derivative f, const float* y,
                                     float* __restrict c) {
  switch (f) {
    case Derivative::none:
      return dots<Derivative::none>(m, n, k, a, a_row, b, b_col, start, y, c);
    case Derivative::sigmoid:
      return dots<Derivative::sigmoid>(m, n, k, a, a_row, b, b_col, start, y, c);
    case Derivative::tanh:
      return dots<Derivative::tanh>(m, n, k, a, a_row, b, b_col, start, y, c);
    case Derivative::relu:
      return dots<Derivative::relu>(m, n, k, a, a_row, b, b_col, start, y, c);
  }
}

// c = c f'(z) from y = f(z), over n values: the derivative as a pass of its own, after
// the products that cannot take it in their stores (OpenBLAS's, the rare cases below).
XDENSE_VECTOR_CLONES void times_derivative(Derivative f, const float* y, float* __restrict c, std::size_t n) {
  switch (f) {
    case Derivative::none:
      return;
    case Derivative::sigmoid:
      for (std::size_t i = 0; i < n; ++i) c[i] = through1<Derivative::sigmoid>(c[i], y[i]);
      return;
    case Derivative::tanh:
      for (std::size_t i = 0; i < n; ++i) c[i] = through1<Derivative::tanh>(c[i], y[i]);
      return;
    case Derivative::relu:
      for (std::size_t i = 0; i < n; ++i) c[i] = through1<Derivative::relu>(c[i], y[i]);
      return;
  }
}

// Both operands transposed (not used by Dense): general order, unit stride in C's rows.
void small_general(std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t a_row, std::size_t a_col,
                   const float* b, std::size_t b_row, std::size_t b_col, Start start, float* c) {
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j)
      c[i * n + j] = start.row != nullptr ? start.row[j] : (start.beta == 0.0f ? 0.0f : c[i * n + j]);
  for (std::size_t p = 0; p < k; ++p)
    for (std::size_t i = 0; i < m; ++i) {
      const float aip = a[i * a_row + p * a_col];
      for (std::size_t j = 0; j < n; ++j) c[i * n + j] += aip * b[p * b_row + j * b_col];
    }
}

// C = start + alpha op(A) op(B), then times f'(Y) unless f is none.
void product(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
             const float* b, Start start, Derivative f, const float* y, float* c) {
  if (m == 0 || n == 0) return;
  if (m * n * k <= small_product && alpha == 1.0f) {  // Dense's products all have alpha 1
    if (start.row == nullptr && start.beta != 0.0f && start.beta != 1.0f) {
      for (std::size_t i = 0; i < m * n; ++i) c[i] *= start.beta;
      start.beta = 1.0f;
    }
    // Strides of A(i,p) and B(p,j) in their row-major storage: (m,k) or, transposed, (k,m).
    const std::size_t a_row = trans_a ? 1 : k, a_col = trans_a ? m : 1;
    const std::size_t b_row = trans_b ? 1 : n, b_col = trans_b ? k : 1;
    if (n == 1 && a_row == 1) {
      small_one_column_of_a_transposed(m, k, a, a_col, b, b_row, start, c);
      times_derivative(f, y, c, m * n);
    } else if (a_col == 1 && b_row == 1 && (n < 8 || b_col != 1)) {
      small_dots(m, n, k, a, a_row, b, b_col, start, f, y, c);
    } else if (b_col == 1) {
      small_rows(m, n, k, a, a_row, a_col, b, b_row, start, f, y, trans_a, c);
    } else {
      small_general(m, n, k, a, a_row, a_col, b, b_row, b_col, start, c);
      times_derivative(f, y, c, m * n);
    }
    return;
  }
  // xdense's AVX-512 sgemm where OpenBLAS's core lacks it (kernels/product_kernels.hpp decides).
  if (alpha == 1.0f && (start.row != nullptr || start.beta == 0.0f || start.beta == 1.0f) &&
      kernels::large_product(trans_a, trans_b, m, n, k, a, b, start.row, start.beta == 1.0f, c)) {
    times_derivative(f, y, c, m * n);
    return;
  }
  float beta = start.beta;
  if (start.row != nullptr) {
    for (std::size_t i = 0; i < m; ++i) std::memcpy(c + i * n, start.row, n * sizeof(float));
    beta = 1.0f;
  }
  // Leading dimensions of the row-major operands as stored.
  const int lda = static_cast<int>(trans_a ? m : k);
  const int ldb = static_cast<int>(trans_b ? k : n);
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a, lda > 0 ? lda : 1, b,
              ldb > 0 ? ldb : 1, beta, c, static_cast<int>(n));
  times_derivative(f, y, c, m * n);
}

}  // namespace

void sgemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
           const float* b, float beta, float* c) {
  product(trans_a, trans_b, m, n, k, alpha, a, b, Start{nullptr, beta}, Derivative::none, nullptr, c);
}

void sgemm_plus_row(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, const float* a,
                    const float* b, const float* row, float* c) {
  product(trans_a, trans_b, m, n, k, 1.0f, a, b, Start{row, 0.0f}, Derivative::none, nullptr, c);
}

namespace {

// ---------------------------------------------------------------------------------
// A small dense layer's backward pass in one sweep over the rows. As three products
// (dW = x^T dy, db = column sums of dy, dx = dy W^T), a layer of a few dozen weights
// reads dy three times and pays three calls' set-up for a few hundred multiply-adds
// each; here each row of x and dy is read once, and dW, db stay in registers.

// How many partial sums each accumulator keeps (rows taken round-robin) so that about
// eight independent multiply-add chains are in flight: a batch-long chain would wait
// on the multiply-add latency at every row.
constexpr std::size_t phases_for(std::size_t accumulators) {
  return accumulators >= 8 ? 1 : (accumulators >= 4 ? 2 : 4);
}

// The P partial sums of acc[.][u] added in a fixed tree: (s0 + s1) + (s2 + s3).
template <std::size_t P, std::size_t U>
XDENSE_KERNEL_INLINE Float8 sum_of_phases(const Float8 (&acc)[P][U], std::size_t u) {
  if constexpr (P == 1) {
    return acc[0][u];
  } else if constexpr (P == 2) {
    return acc[0][u] + acc[1][u];
  } else {
    static_assert(P == 4, "1, 2 or 4 phases");
    return (acc[0][u] + acc[1][u]) + (acc[2][u] + acc[3][u]);
  }
}

// Row `at` of a one-unit layer into one set of partial sums of dW (and its dx row).
template <std::size_t V, Derivative F>
XDENSE_KERNEL_INLINE void one_unit_row(Float8 (&acc)[V], const Float8 (&weights)[V], std::size_t vectors,
                                       std::size_t at, std::size_t in, const float* x, const float* dy,
                                       float* __restrict dx) {
  const Float8 g = ones8 * dy[at];
  const float* xr = x + at * in;
#pragma GCC unroll 4
  for (std::size_t v = 0; v < V; ++v) {
    if (v < vectors) {
      acc[v] += g * load8(xr + 8 * v);
      if (dx != nullptr) store8(dx + at * in + 8 * v, through8<F>(g * weights[v], xr, 8 * v));
    }
  }
}

// A one-unit layer (out = 1) with V = ceil(in / 8) <= 4 vectors per row:
//   dW (in) = sum_r dy[r] x[r, :],  db = sum_r dy[r],  dx[r, :] = (dy[r] W) f'(x[r, :]).
// Columns past the last multiple of 8 are done one by one, rows in order.
template <std::size_t V, Derivative F>
XDENSE_KERNEL_INLINE void one_unit_backward(std::size_t rows, std::size_t in, const float* x, const float* dy,
                                            const float* w, float* __restrict dw, float* db, float* __restrict dx) {
  constexpr std::size_t P = phases_for(V);
  const std::size_t whole = in - in % 8;  // the columns in whole vectors
  const std::size_t vectors = whole / 8;  // V, or V - 1 when in is not a multiple of 8
  Float8 acc[P][V];
  Float8 weights[V];
#pragma GCC unroll 4
  for (std::size_t v = 0; v < V; ++v) {
    weights[v] = v < vectors ? load8(w + 8 * v) : ones8 * 0.0f;
#pragma GCC unroll 4
    for (std::size_t s = 0; s < P; ++s) acc[s][v] = ones8 * 0.0f;
  }
  std::size_t r = 0;
  for (; r + P <= rows; r += P) {
#pragma GCC unroll 4
    for (std::size_t s = 0; s < P; ++s) one_unit_row<V, F>(acc[s], weights, vectors, r + s, in, x, dy, dx);
  }
  for (std::size_t s = 0; r < rows; ++r, ++s) one_unit_row<V, F>(acc[s], weights, vectors, r, in, x, dy, dx);
#pragma GCC unroll 4
  for (std::size_t v = 0; v < V; ++v) {
    if (v < vectors) store8(dw + 8 * v, sum_of_phases(acc, v));
  }
  for (std::size_t i = whole; i < in; ++i) {
    float sum = 0.0f;
    for (std::size_t q = 0; q < rows; ++q) {
      sum += dy[q] * x[q * in + i];
      if (dx != nullptr) dx[q * in + i] = through1<F>(dy[q] * w[i], x[q * in + i]);
    }
    dw[i] = sum;
  }
  if (db != nullptr) db[0] = sum_of(dy, rows);  // the contiguous column dy, as column_sums
}

// Row `at` of a few-inputs layer into one set of partial sums of dW and db.
template <std::size_t IN, std::size_t V>
XDENSE_KERNEL_INLINE void few_inputs_row(Float8 (&acc)[IN * V], Float8 (&bias)[V], std::size_t at, const float* x,
                                         const float* dy) {
  Float8 d[V];
#pragma GCC unroll 4
  for (std::size_t v = 0; v < V; ++v) {
    d[v] = load8(dy + at * 8 * V + 8 * v);
    bias[v] += d[v];
  }
#pragma GCC unroll 8
  for (std::size_t i = 0; i < IN; ++i) {
    const Float8 xi = ones8 * x[at * IN + i];
#pragma GCC unroll 4
    for (std::size_t v = 0; v < V; ++v) acc[i * V + v] += xi * d[v];
  }
}

// A layer with few inputs and out = 8 V units (IN V <= 8 vectors of dW):
//   dW[i, :] = sum_r x[r, i] dy[r, :],  db = sum_r dy[r, :]  (dx, if wanted, separately).
template <std::size_t IN, std::size_t V>
XDENSE_KERNEL_INLINE void few_inputs_backward(std::size_t rows, const float* x, const float* dy, float* __restrict dw,
                                              float* db) {
  constexpr std::size_t P = phases_for(IN * V);
  Float8 acc[P][IN * V];
  Float8 bias[P][V];
#pragma GCC unroll 4
  for (std::size_t s = 0; s < P; ++s) {
#pragma GCC unroll 8
    for (std::size_t u = 0; u < IN * V; ++u) acc[s][u] = ones8 * 0.0f;
#pragma GCC unroll 4
    for (std::size_t v = 0; v < V; ++v) bias[s][v] = ones8 * 0.0f;
  }
  std::size_t r = 0;
  for (; r + P <= rows; r += P) {
#pragma GCC unroll 4
    for (std::size_t s = 0; s < P; ++s) few_inputs_row<IN, V>(acc[s], bias[s], r + s, x, dy);
  }
  for (std::size_t s = 0; r < rows; ++r, ++s) few_inputs_row<IN, V>(acc[s], bias[s], r, x, dy);
#pragma GCC unroll 8
  for (std::size_t u = 0; u < IN * V; ++u) store8(dw + 8 * u, sum_of_phases(acc, u));
  if (db != nullptr) {
#pragma GCC unroll 4
    for (std::size_t v = 0; v < V; ++v) store8(db + 8 * v, sum_of_phases(bias, v));
  }
}

template <Derivative F>
XDENSE_KERNEL_INLINE void one_unit_dispatch(std::size_t rows, std::size_t in, const float* x, const float* dy,
                                            const float* w, float* dw, float* db, float* dx) {
  switch ((in + 7) / 8) {
    case 1:
      return one_unit_backward<1, F>(rows, in, x, dy, w, dw, db, dx);
    case 2:
      return one_unit_backward<2, F>(rows, in, x, dy, w, dw, db, dx);
    case 3:
      return one_unit_backward<3, F>(rows, in, x, dy, w, dw, db, dx);
    default:
      return one_unit_backward<4, F>(rows, in, x, dy, w, dw, db, dx);
  }
}

XDENSE_VECTOR_CLONES void small_one_unit_backward(std::size_t rows, std::size_t in, const float* x, const float* dy,
                                                  const float* w, float* dw, float* db, Derivative f, float* dx) {
  switch (f) {
    case Derivative::none:
      return one_unit_dispatch<Derivative::none>(rows, in, x, dy, w, dw, db, dx);
    case Derivative::sigmoid:
      return one_unit_dispatch<Derivative::sigmoid>(rows, in, x, dy, w, dw, db, dx);
    case Derivative::tanh:
      return one_unit_dispatch<Derivative::tanh>(rows, in, x, dy, w, dw, db, dx);
    case Derivative::relu:
      return one_unit_dispatch<Derivative::relu>(rows, in, x, dy, w, dw, db, dx);
  }
}

// (in, out) pairs with in * out / 8 <= 8: out = 8 with up to 8 inputs, 16 with up to 4,
// 32 with up to 2.
XDENSE_VECTOR_CLONES void small_few_inputs_backward(std::size_t rows, std::size_t in, std::size_t out, const float* x,
                                                    const float* dy, float* dw, float* db) {
#define XDENSE_FEW_INPUTS(IN, V) \
  if (in == IN && out == 8 * V) return few_inputs_backward<IN, V>(rows, x, dy, dw, db)
  XDENSE_FEW_INPUTS(1, 1);
  XDENSE_FEW_INPUTS(2, 1);
  XDENSE_FEW_INPUTS(3, 1);
  XDENSE_FEW_INPUTS(4, 1);
  XDENSE_FEW_INPUTS(5, 1);
  XDENSE_FEW_INPUTS(6, 1);
  XDENSE_FEW_INPUTS(7, 1);
  XDENSE_FEW_INPUTS(8, 1);
  XDENSE_FEW_INPUTS(1, 2);
  XDENSE_FEW_INPUTS(2, 2);
  XDENSE_FEW_INPUTS(3, 2);
  XDENSE_FEW_INPUTS(4, 2);
  XDENSE_FEW_INPUTS(1, 4);
  XDENSE_FEW_INPUTS(2, 4);
#undef XDENSE_FEW_INPUTS
}

bool few_inputs_fit(std::size_t in, std::size_t out) {
  return in >= 1 && (out == 8 || out == 16 || out == 32) && in * (out / 8) <= 8;
}

}  // namespace

void dense_backward(std::size_t rows, std::size_t in, std::size_t out, const float* x, const float* dy, const float* w,
                    float* dw, float* db, Derivative f, float* dx) {
  if (out == 1 && in <= 32) {
    small_one_unit_backward(rows, in, x, dy, w, dw, db, f, dx);
    return;
  }
  if (few_inputs_fit(in, out)) {
    small_few_inputs_backward(rows, in, out, x, dy, dw, db);
  } else {
    sgemm(true, false, in, out, rows, 1.0f, x, dy, 0.0f, dw);  // dW = x^T dy
    if (db != nullptr) column_sums(dy, rows, out, db);
  }
  if (dx != nullptr) product(false, true, rows, in, out, 1.0f, dy, w, Start{nullptr, 0.0f}, f, x, dx);  // dy W^T
}

XDENSE_VECTOR_CLONES void column_sums(const float* x, std::size_t rows, std::size_t cols, float* __restrict sums) {
  if (cols == 1) {  // one contiguous column
    sums[0] = sum_of(x, rows);
    return;
  }
  // sums (1,cols) = 1 (1,rows) . x (rows,cols), summed over the rows in order
  const float one = 1.0f;
  rows_of_c<Derivative::none, true>(1, cols, rows, &one, 0, 0, x, cols, Start{}, nullptr, sums);
}

}  // namespace xdense::blas
