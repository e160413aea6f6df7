#pragma once
/// \file
/// How many threads the matrix products use. xdense's only parallelism is inside
/// OpenBLAS's sgemm (large products); small products, activations, losses and
/// optimizer updates run on the calling thread. By default OpenBLAS uses all cores,
/// or OPENBLAS_NUM_THREADS when set.
///
/// Results are bit-identical from run to run for a given thread count; another count
/// may differ in the last bits (OpenBLAS blocks the work differently), so a seeded
/// run is reproduced exactly with the same count.
///
/// Large layers gain from more threads (docs/performance.md has measurements);
/// networks whose products are all small (say, every layer under 128 units at batch
/// 32) gain nothing from more threads.

#include <cstddef>

namespace xdense {

/// Sets the number of threads of the matrix products, process-wide (OpenBLAS's
/// pool is global). Throws InvalidArgument for threads < 1. More threads than
/// OpenBLAS was built for are capped by OpenBLAS.
void set_num_threads(int threads);

/// The number of threads the matrix products currently use.
int num_threads();

/// Address space OpenBLAS maps for one thread's work buffer (128 MiB plus alignment), at that
/// thread's first product: worker threads as the library loads, the calling thread later.
/// When an address-space limit (`ulimit -v`) refuses the mapping, OpenBLAS retries forever.
constexpr std::size_t blas_buffer_bytes = std::size_t{136} << 20;

/// Makes OpenBLAS map the calling thread's work buffer now (one small product), so that a
/// program that has checked the room for it under an address-space limit cannot hang later,
/// halfway through a run. Cheap (microseconds) once the buffer exists.
void reserve_blas_buffer();

}  // namespace xdense
