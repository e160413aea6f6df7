#pragma once
// Running under an address-space limit (ulimit -v) without hanging: see address_limit.cpp.

namespace xdense::cli {

/// Called first in main(). Under an address-space limit it re-executes the tool once with
/// OPENBLAS_NUM_THREADS set to the number of threads whose OpenBLAS work buffers fit (so no
/// worker thread spins on a refused mapping); without a limit, or once restarted, it does nothing.
void adapt_to_address_limit(char** argv);

/// Before a command that computes: under an address-space limit, checks the room for the calling
/// thread's OpenBLAS buffer and maps it now. Returns -1 to go on, or 1 (exit code, out of memory,
/// with one line on stderr) when it does not fit. Without a limit: -1 at once.
int reserve_blas_room();

/// Under an address-space limit: the most threads whose OpenBLAS buffers fit (at least 1; the
/// count the process started with, which adapt_to_address_limit chose). 0 without a limit.
int threads_allowed_by_address_limit();

}  // namespace xdense::cli
