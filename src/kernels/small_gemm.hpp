#pragma once
// Private: xdense's own kernels for a dense layer's forward product over a few rows,
//   C (m, n) = A (m, k) . B (k, n) + bias (n) added to every row,   m <= small_gemm_max_rows,
// all row-major and contiguous: a served request of one sample (or a small batch) through
// x . W + b. Such a product is bound by reading B once (the MLP 784-256-128-10 reads about
// 0.9 MB of weights per request), not by arithmetic, and BLAS's per-call set-up and packing
// cost more than the product itself; these kernels stream B row by row once per block of
// rows and keep the outputs in registers.
//
// Three versions, chosen at run time by CPUID on the first call (never at build time, so one
// build runs everywhere): AVX-512 (512-bit FMA, 16 floats per instruction), AVX2 + FMA (8), and
// a portable one in plain C++ (whatever the baseline target vectorises it to). The vector ones
// are compiled with GCC's target pragmas (x86-64, GCC only); elsewhere only the portable one
// exists.
//
// Summation order, the same in every version: each output is bias[j], then + A(i,p) B(p,j) for
// p = 0, 1, ..., k-1 in order, one rounding per step. The AVX-512 and AVX2 versions fuse each
// step (one rounding for the multiply-add), so they give the same bits as each other; the
// portable one rounds the product and the sum apart (within float rounding of them). A row's
// result depends only on that row, never on m or on the row's place in the block: the same row
// gives the same bits alone or in any batch of up to small_gemm_max_rows rows, on a given
// machine. OpenBLAS's sgemm (used for larger batches) sums in its own blocked order, so a row's
// result there may differ from this in the last bits (float rounding; see small_gemm_test).

#include <cstddef>

namespace xdense::kernels {

/// The most rows the small kernels take; larger products go to BLAS.
constexpr std::size_t small_gemm_max_rows = 16;

/// Which version of the kernels runs.
enum class SmallGemmIsa { portable, avx2, avx512 };

/// "portable", "avx2" or "avx512".
const char* isa_name(SmallGemmIsa isa);

/// True when this build has the version and the CPU (and OS) can run it; portable always.
bool isa_supported(SmallGemmIsa isa);

/// The version small_gemm_bias() runs on this machine: the widest supported one, chosen once
/// per process from CPUID.
SmallGemmIsa small_gemm_isa();

/// C (m, n) = A (m, k) . B (k, n) + bias, bias (n) added to every row (null: no bias), all
/// row-major and contiguous, with the version small_gemm_isa() names. Any m (rows are taken in
/// register blocks of up to 8 with AVX-512, 4 with AVX2), but meant for m <= small_gemm_max_rows. C must not overlap A, B or bias.
/// m, n or k may be 0 (k 0: C is the bias, or zeros).
void small_gemm_bias(std::size_t m, std::size_t n, std::size_t k, const float* a, const float* b, const float* bias,
                     float* c);

/// The same with a given version, for tests and benchmarks; InvalidArgument when
/// isa_supported(isa) is false.
void small_gemm_bias(SmallGemmIsa isa, std::size_t m, std::size_t n, std::size_t k, const float* a, const float* b,
                     const float* bias, float* c);

}  // namespace xdense::kernels
