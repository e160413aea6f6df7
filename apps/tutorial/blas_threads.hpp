#pragma once
// OpenBLAS's thread count, without including <cblas.h> (it clashes with xtensor-blas).
// Weak, so the tool still links and runs against a BLAS that lacks the call.

extern "C" void openblas_set_num_threads(int threads) __attribute__((weak));

namespace xdense::cli::tutorial {

/// Sets OpenBLAS's thread count when that BLAS is the one linked; otherwise does nothing.
inline void set_blas_threads(int threads) {
  if (openblas_set_num_threads != nullptr) openblas_set_num_threads(threads);
}

}  // namespace xdense::cli::tutorial
