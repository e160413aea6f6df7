#include "small_gemm.hpp"

#include <string>

#include "xdense/error.hpp"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define XDENSE_SMALL_GEMM_X86 1
#include <immintrin.h>
#else
#define XDENSE_SMALL_GEMM_X86 0
#endif

// Helpers of the vector kernels are inlined into them, so that they are compiled for the
// kernel's instruction set (small_gemm_body.inc).
#define KERNEL_INLINE inline __attribute__((always_inline))

namespace xdense::kernels {
namespace {

// ------------------------------------------------------------------ portable
// Row by row: the row of C (at most a few KB) stays in the first-level cache while the rows of B
// stream past; the j loop vectorises for the baseline target. Same order of p as the others.
void portable_gemm_bias(std::size_t m, std::size_t n, std::size_t k, const float* a, const float* b,
                        const float* bias, float* c) {
  for (std::size_t i = 0; i < m; ++i) {
    float* __restrict ci = c + i * n;
    for (std::size_t j = 0; j < n; ++j) ci[j] = bias != nullptr ? bias[j] : 0.0f;
    for (std::size_t p = 0; p < k; ++p) {
      const float aip = a[i * k + p];
      const float* __restrict bp = b + p * n;
      for (std::size_t j = 0; j < n; ++j) ci[j] += aip * bp[j];
    }
  }
}

}  // namespace

#if XDENSE_SMALL_GEMM_X86

// ------------------------------------------------------------------ AVX-512
// 32 vector registers of 16 floats: a block of 8 rows x 3 vectors (24 accumulators), 4 x 4,
// 2 x 8, and a single row across 16 vectors (256 columns: the MLP's first layer in one pass
// over its weights, read in the order they are stored).
#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")
namespace avx512 {

struct Ops {
  using Vec = __m512;
  static constexpr int lanes = 16;
  static constexpr int max_rows = 8;
  template <int R>
  static constexpr int columns_for_rows = R >= 8 ? 3 : (R >= 4 ? 4 : (R >= 2 ? 8 : 16));
  static KERNEL_INLINE __mmask16 mask(int count) { return static_cast<__mmask16>((1u << count) - 1u); }
  static KERNEL_INLINE Vec load(const float* p) { return _mm512_loadu_ps(p); }
  static KERNEL_INLINE Vec load_tail(const float* p, int count) { return _mm512_maskz_loadu_ps(mask(count), p); }
  static KERNEL_INLINE void store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
  static KERNEL_INLINE void store_tail(float* p, Vec v, int count) { _mm512_mask_storeu_ps(p, mask(count), v); }
  static KERNEL_INLINE Vec broadcast(float x) { return _mm512_set1_ps(x); }
  static KERNEL_INLINE Vec zero() { return _mm512_setzero_ps(); }
  static KERNEL_INLINE Vec fma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
};

#include "small_gemm_body.inc"

}  // namespace avx512
#pragma GCC pop_options

// ------------------------------------------------------------------ AVX2 + FMA
// 16 vector registers of 8 floats: blocks of 4 rows x 3 vectors (12 accumulators), 2 x 6 and
// 1 row x 8 vectors, leaving room for the row of B and the broadcast.
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace avx2 {

// tail_mask + 8 - count: `count` lanes on (-1), the rest off.
alignas(32) constexpr int tail_masks[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

struct Ops {
  using Vec = __m256;
  static constexpr int lanes = 8;
  static constexpr int max_rows = 4;
  template <int R>
  static constexpr int columns_for_rows = R >= 4 ? 3 : (R >= 2 ? 6 : 8);
  static KERNEL_INLINE __m256i mask(int count) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tail_masks + 8 - count));
  }
  static KERNEL_INLINE Vec load(const float* p) { return _mm256_loadu_ps(p); }
  static KERNEL_INLINE Vec load_tail(const float* p, int count) { return _mm256_maskload_ps(p, mask(count)); }
  static KERNEL_INLINE void store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
  static KERNEL_INLINE void store_tail(float* p, Vec v, int count) { _mm256_maskstore_ps(p, mask(count), v); }
  static KERNEL_INLINE Vec broadcast(float x) { return _mm256_set1_ps(x); }
  static KERNEL_INLINE Vec zero() { return _mm256_setzero_ps(); }
  static KERNEL_INLINE Vec fma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
};

#include "small_gemm_body.inc"

}  // namespace avx2
#pragma GCC pop_options

#endif  // XDENSE_SMALL_GEMM_X86

namespace {

using Kernel = void (*)(std::size_t, std::size_t, std::size_t, const float*, const float*, const float*, float*);

Kernel kernel_of(SmallGemmIsa isa) {
  switch (isa) {
#if XDENSE_SMALL_GEMM_X86
    case SmallGemmIsa::avx512:
      return avx512::gemm_bias;
    case SmallGemmIsa::avx2:
      return avx2::gemm_bias;
#else
    case SmallGemmIsa::avx512:
    case SmallGemmIsa::avx2:
      return nullptr;
#endif
    case SmallGemmIsa::portable:
      return portable_gemm_bias;
  }
  return nullptr;
}

SmallGemmIsa widest_supported() {
  if (isa_supported(SmallGemmIsa::avx512)) return SmallGemmIsa::avx512;
  if (isa_supported(SmallGemmIsa::avx2)) return SmallGemmIsa::avx2;
  return SmallGemmIsa::portable;
}

// Chosen once per process (thread-safe static initialisation).
struct Chosen {
  SmallGemmIsa isa = widest_supported();
  Kernel kernel = kernel_of(isa);
};

const Chosen& chosen() {
  static const Chosen value;
  return value;
}

}  // namespace

const char* isa_name(SmallGemmIsa isa) {
  switch (isa) {
    case SmallGemmIsa::portable:
      return "portable";
    case SmallGemmIsa::avx2:
      return "avx2";
    case SmallGemmIsa::avx512:
      return "avx512";
  }
  return "unknown";
}

bool isa_supported(SmallGemmIsa isa) {
  switch (isa) {
    case SmallGemmIsa::portable:
      return true;
#if XDENSE_SMALL_GEMM_X86
    // libgcc's CPU model: the CPUID feature bits, and for AVX / AVX-512 also that the OS saves
    // the wide registers (XGETBV). __builtin_cpu_init: in case this runs before libgcc's own
    // constructor has (a user's static initialiser that predicts).
    case SmallGemmIsa::avx2:
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case SmallGemmIsa::avx512:
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    case SmallGemmIsa::avx2:
    case SmallGemmIsa::avx512:
      return false;
#endif
  }
  return false;
}

SmallGemmIsa small_gemm_isa() { return chosen().isa; }

void small_gemm_bias(std::size_t m, std::size_t n, std::size_t k, const float* a, const float* b, const float* bias,
                     float* c) {
  chosen().kernel(m, n, k, a, b, bias, c);
}

void small_gemm_bias(SmallGemmIsa isa, std::size_t m, std::size_t n, std::size_t k, const float* a, const float* b,
                     const float* bias, float* c) {
  if (!isa_supported(isa)) {
    throw InvalidArgument(std::string("small_gemm_bias: the ") + isa_name(isa) +
                          " kernels cannot run here (not built for this compiler or target, or the CPU lacks it)");
  }
  kernel_of(isa)(m, n, k, a, b, bias, c);
}

}  // namespace xdense::kernels
