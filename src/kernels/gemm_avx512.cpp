// Compiled with -mavx512f -mfma (CMakeLists.txt: this file only). Everything here has internal
// linkage except sgemm_avx512(), and no standard-library template is used: an inline function
// emitted here would be AVX-512 code the linker might keep for the whole library.
#include "gemm_avx512.hpp"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace xdense::kernels {
#if defined(__AVX512F__)
namespace {

constexpr std::size_t MR = gemm_tile_rows;
constexpr std::size_t NR = gemm_tile_columns;
static_assert(NR == 32, "a tile row is two vectors of 16 floats");

std::size_t smaller(std::size_t a, std::size_t b) { return a < b ? a : b; }

// The first `count` of 16 lanes (count may exceed 16).
__mmask16 first_lanes(std::size_t count) {
  return count >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << count) - 1u);
}

// Where a tile's results go and what they start from.
struct Tile {
  float* c;           // the tile's first element in C
  std::size_t ldc;    // C's row length
  std::size_t cols;   // valid columns, 1..32
  bool first;         // the first k block: C = start + sum, else C += sum
  const float* row;   // the start row at the tile's first column, or null
  bool accumulate;    // without a row: start from C (beta 1) or from zeros
};

// R rows x 16 V columns of C: the kc products of packed A (p-major, R floats per p) and packed B
// (p-major, 16 V floats per p, zero-padded past the valid columns) summed in registers, in order of p,
// then added to the start (first block) or to C. Columns past t.cols are neither read nor written.
template <std::size_t R, std::size_t V>
__attribute__((noinline)) void tile(std::size_t kc, const float* __restrict a, const float* __restrict b,
                                    const Tile& t) {
  __m512 acc[R][V];
#pragma GCC unroll 16
  for (std::size_t r = 0; r < R; ++r)
#pragma GCC unroll 2
    for (std::size_t v = 0; v < V; ++v) acc[r][v] = _mm512_setzero_ps();
  for (std::size_t p = 0; p < kc; ++p) {
    __m512 bp[V];
#pragma GCC unroll 2
    for (std::size_t v = 0; v < V; ++v) bp[v] = _mm512_load_ps(b + p * 16 * V + 16 * v);
#pragma GCC unroll 16
    for (std::size_t r = 0; r < R; ++r) {
      const __m512 arp = _mm512_set1_ps(a[p * R + r]);
#pragma GCC unroll 2
      for (std::size_t v = 0; v < V; ++v) acc[r][v] = _mm512_fmadd_ps(arp, bp[v], acc[r][v]);
    }
  }
  const __mmask16 mask[2] = {first_lanes(t.cols), first_lanes(t.cols > 16 ? t.cols - 16 : 0)};
  const bool from_c = !t.first || (t.row == nullptr && t.accumulate);
#pragma GCC unroll 16
  for (std::size_t r = 0; r < R; ++r) {
    float* cr = t.c + r * t.ldc;
#pragma GCC unroll 2
    for (std::size_t v = 0; v < V; ++v) {
      const __m512 start = from_c               ? _mm512_maskz_loadu_ps(mask[v], cr + 16 * v)
                           : t.row != nullptr ? _mm512_maskz_loadu_ps(mask[v], t.row + 16 * v)
                                              : _mm512_setzero_ps();
      _mm512_mask_storeu_ps(cr + 16 * v, mask[v], _mm512_add_ps(start, acc[r][v]));
    }
  }
}

using TileFunction = void (*)(std::size_t, const float* __restrict, const float* __restrict, const Tile&);

// tiles[R - 1][V - 1]: a tile of R rows and V vectors.
#define XDENSE_TILES(R) {tile<R, 1>, tile<R, 2>}
const TileFunction tiles[MR][2] = {XDENSE_TILES(1),  XDENSE_TILES(2),  XDENSE_TILES(3),  XDENSE_TILES(4),
                                   XDENSE_TILES(5),  XDENSE_TILES(6),  XDENSE_TILES(7),  XDENSE_TILES(8),
                                   XDENSE_TILES(9),  XDENSE_TILES(10), XDENSE_TILES(11), XDENSE_TILES(12),
                                   XDENSE_TILES(13), XDENSE_TILES(14)};
#undef XDENSE_TILES
static_assert(MR == 14, "one tiles[] row per tile height");

// Rows [i0, i0 + mc) x depth [p0, p0 + kc) of op(A) into panels of MR rows (the last one
// mc mod MR rows), panel q at out + q kc, element (r, p) of a panel of mr rows at p mr + r.
// A(i, p) is a[i lda + p], or a[p lda + i] when trans.
void pack_a(bool trans, const float* a, std::size_t lda, std::size_t i0, std::size_t mc, std::size_t p0,
            std::size_t kc, float* __restrict out) {
  for (std::size_t q = 0; q < mc; q += MR) {
    const std::size_t mr = smaller(MR, mc - q);
    float* panel = out + q * kc;
    if (trans) {
      for (std::size_t p = 0; p < kc; ++p) {
        const float* from = a + (p0 + p) * lda + i0 + q;
        for (std::size_t r = 0; r < mr; ++r) panel[p * mr + r] = from[r];
      }
    } else {
      const float* from = a + (i0 + q) * lda + p0;
      for (std::size_t p = 0; p < kc; ++p)
        for (std::size_t r = 0; r < mr; ++r) panel[p * mr + r] = from[r * lda + p];
    }
  }
}

// Depth [p0, p0 + kc) x columns [j0, j0 + nc) of op(B) into panels of 32 columns, panel q (q a
// multiple of 32) at out + q kc, element (p, j) at p w + j where w = 32, or 16 for a last panel of
// up to 16 columns (the tiles of one vector read it); zeros past the last column.
// B(p, j) is b[p ldb + j], or b[j ldb + p] when trans.
void pack_b(bool trans, const float* b, std::size_t ldb, std::size_t p0, std::size_t kc, std::size_t j0,
            std::size_t nc, float* __restrict out) {
  for (std::size_t q = 0; q < nc; q += NR) {
    const std::size_t cols = smaller(NR, nc - q);
    const std::size_t width = cols > 16 ? 32 : 16;
    float* panel = out + q * kc;
    if (trans) {
      for (std::size_t j = 0; j < width; ++j) {
        if (j < cols) {
          const float* from = b + (j0 + q + j) * ldb + p0;
          for (std::size_t p = 0; p < kc; ++p) panel[p * width + j] = from[p];
        } else {
          for (std::size_t p = 0; p < kc; ++p) panel[p * width + j] = 0.0f;
        }
      }
    } else {
      const __mmask16 low = first_lanes(cols), high = first_lanes(cols > 16 ? cols - 16 : 0);
      for (std::size_t p = 0; p < kc; ++p) {
        const float* from = b + (p0 + p) * ldb + j0 + q;
        _mm512_store_ps(panel + p * width, _mm512_maskz_loadu_ps(low, from));
        if (width == 32) _mm512_store_ps(panel + p * width + 16, _mm512_maskz_loadu_ps(high, from + 16));
      }
    }
  }
}

}  // namespace

void sgemm_avx512(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, const float* a,
                  const float* b, const float* row, bool accumulate, float* c, float* workspace) {
  if (m == 0 || n == 0) return;
  if (k == 0) {  // no products: C = start
    for (std::size_t i = 0; i < m; ++i)
      for (std::size_t j = 0; j < n; ++j)
        c[i * n + j] = row != nullptr ? row[j] : (accumulate ? c[i * n + j] : 0.0f);
    return;
  }
  const std::size_t lda = trans_a ? m : k, ldb = trans_b ? k : n;
  float* a_packed = workspace;
  float* b_packed = workspace + gemm_block_rows * gemm_depth;
  const std::size_t blocks = (k + gemm_depth - 1) / gemm_depth;
  const std::size_t depth = (k + blocks - 1) / blocks;  // <= gemm_depth
  for (std::size_t jc = 0; jc < n; jc += gemm_block_columns) {
    const std::size_t nc = smaller(gemm_block_columns, n - jc);
    for (std::size_t pc = 0; pc < k; pc += depth) {
      const std::size_t kc = smaller(depth, k - pc);
      pack_b(trans_b, b, ldb, pc, kc, jc, nc, b_packed);
      for (std::size_t ic = 0; ic < m; ic += gemm_block_rows) {
        const std::size_t mc = smaller(gemm_block_rows, m - ic);
        pack_a(trans_a, a, lda, ic, mc, pc, kc, a_packed);
        for (std::size_t jr = 0; jr < nc; jr += NR) {
          const std::size_t cols = smaller(NR, nc - jr);
          for (std::size_t ir = 0; ir < mc; ir += MR) {
            const std::size_t mr = smaller(MR, mc - ir);
            const Tile t{c + (ic + ir) * n + jc + jr, n, cols, pc == 0, row != nullptr ? row + jc + jr : nullptr,
                         accumulate};
            tiles[mr - 1][cols > 16 ? 1 : 0](kc, a_packed + ir * kc, b_packed + jr * kc, t);
          }
        }
      }
    }
  }
}

#else
// Not an x86-64 build: product_kernels.cpp never chooses these kernels (cpu_has_avx512() is false).
void sgemm_avx512(bool, bool, std::size_t, std::size_t, std::size_t, const float*, const float*, const float*, bool,
                  float*, float*) {}
#endif

}  // namespace xdense::kernels
