#pragma once
// Private: xdense's own single-precision matrix product for CPUs with AVX-512 (a Goto/BLIS-style
// blocked sgemm), for when OpenBLAS's active core does not use AVX-512 (Debian 12's OpenBLAS
// 0.3.21 runs Zen 4/5 on its Haswell or Zen cores: half the vector width). gemm_avx512.cpp is the
// only file compiled with -mavx512f -mfma; call sgemm_avx512() only after cpu_has_avx512()
// (product_kernels.hpp decides). This header holds declarations and constants only, no code, so
// that nothing compiled for AVX-512 can be picked by the linker for another translation unit.

#include <cstddef>

namespace xdense::kernels {

/// The blocking, fixed (results never depend on the data's addresses or on the machine's caches):
/// C is computed in tiles of gemm_tile_rows x gemm_tile_columns held in 28 registers; the k
/// dimension is cut into ceil(k / gemm_depth) equal blocks (the last one shorter), A into blocks of
/// gemm_block_rows rows and B into blocks of gemm_block_columns columns, each packed before use.
constexpr std::size_t gemm_tile_rows = 14;
constexpr std::size_t gemm_tile_columns = 32;
constexpr std::size_t gemm_depth = 256;
constexpr std::size_t gemm_block_rows = 10 * gemm_tile_rows;
constexpr std::size_t gemm_block_columns = 512;

/// Floats of the packing buffer sgemm_avx512() needs, whatever the shapes: one block of A and one of B.
constexpr std::size_t gemm_workspace_floats = gemm_block_rows * gemm_depth + gemm_depth * gemm_block_columns;

/// C (m,n) = start + op(A) (m,k) . op(B) (k,n), all row-major, op(A) = A^T when trans_a (A stored
/// (k,m)), likewise for B. The start is `row` (n values) in every row when row is not null, else
/// C itself when `accumulate` (beta 1), else zeros (beta 0: C's old values are never read, NaN
/// included). `workspace`: gemm_workspace_floats floats, 64-byte aligned, not shared with another
/// running call; C must not overlap A, B or row.
///
/// Each element is the start plus, for each k block in order, the block's products summed in
/// order of k in one fused multiply-add chain: the same bits for the same (k, element) wherever
/// the element falls in C (its row's position in a batch, m, n, the buffers' alignment), from run
/// to run and between threads.
void sgemm_avx512(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, const float* a,
                  const float* b, const float* row, bool accumulate, float* c, float* workspace);

}  // namespace xdense::kernels
