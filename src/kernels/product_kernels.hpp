#pragma once
// Private: which kernels run the large matrix products (src/blas.cpp's hook), chosen once per
// process at run time, never at build time.
//
//   XDENSE_KERNELS=openblas (or unset)  always OpenBLAS: the default, because on the AMD EPYC Zen 4
//                                   measured (512-bit instructions run as two 256-bit halves) these
//                                   kernels only match OpenBLAS's Haswell and Cooperlake cores.
//   XDENSE_KERNELS=auto             xdense's AVX-512 sgemm (gemm_avx512.hpp) when the CPU has
//                                   AVX-512F (and the OS saves its registers), OpenBLAS's active
//                                   core does not use AVX-512 (openblas_get_corename() is not
//                                   SkylakeX, Cooperlake or SapphireRapids), the products run on
//                                   one thread (set_num_threads(1)) and the product has at least
//                                   auto_min_rows rows and auto_min_columns columns (fewer rows
//                                   cannot pay for packing B: one row, 784 x 256, took 39 us against
//                                   OpenBLAS's 16; fewer columns waste most of a 32-wide tile);
//                                   else OpenBLAS.
//   XDENSE_KERNELS=avx512           always xdense's AVX-512 sgemm, on the calling thread whatever
//                                   the thread count (for tests and benchmarks); StateError where
//                                   the CPU lacks AVX-512F.
// Any other value: InvalidArgument at the first large product.

#include <cstddef>
#include <string>

namespace xdense::kernels {

/// The smallest product XDENSE_KERNELS=auto gives the AVX-512 kernels (see above).
constexpr std::size_t auto_min_rows = 32;
constexpr std::size_t auto_min_columns = 32;

/// True when the CPU and the OS support AVX-512F (CPUID and XGETBV, through GCC's
/// __builtin_cpu_supports).
bool cpu_has_avx512();

/// True when OpenBLAS's active core (openblas_get_corename()) uses AVX-512.
bool openblas_core_uses_avx512();

/// C (m,n) = start + op(A) op(B) as sgemm_avx512() when XDENSE_KERNELS and the machine choose the
/// AVX-512 kernels for the current thread count (see above); returns false, C untouched, when the
/// caller should use OpenBLAS. Start: `row` in every row, else C (accumulate), else zeros.
/// Allocates its packing buffer (gemm_workspace_floats) at a thread's first call, then none.
bool large_product(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, const float* a,
                   const float* b, const float* row, bool accumulate, float* c);

/// Overrides XDENSE_KERNELS for the process: "auto", "openblas" or "avx512" as above (StateError
/// for avx512 where the CPU lacks it, InvalidArgument for another name); "" goes back to the
/// environment's choice. For tests and benchmarks that compare the kernels in one process; not
/// to be called while products run on other threads.
void set_large_product_kernels(const std::string& kernels);

/// What large_product() does at the current thread count, for reports: "xdense AVX-512 (OpenBLAS core
/// Haswell not used)" or "OpenBLAS, core SkylakeX".
std::string large_product_kernels();

}  // namespace xdense::kernels
