// OpenBLAS maps a 128 MiB work buffer per thread: its worker threads when the library loads
// (before main), the main thread at its first product. When an address-space limit (ulimit -v)
// refuses that mapping, OpenBLAS retries forever: every command, even --version, then spun on
// both cores and never exited (the exit handler waits for the workers). The thread count cannot
// be changed before the library loads, so under a limit the tool re-executes itself once with
// OPENBLAS_NUM_THREADS set to what fits, and maps the main thread's buffer before any work, so
// running out of room is a prompt "out of memory" (exit 1) instead of a hang.

#include "address_limit.hpp"

#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "xdense/threads.hpp"

namespace xdense::cli {
namespace {

constexpr const char* marker = "XDENSE_ADDRESS_LIMIT_THREADS";

// Whether `bytes` of address space can be mapped now (mapped and released at once).
bool room_for(std::size_t bytes) {
  // Writable, as OpenBLAS's buffer: RLIMIT_DATA counts only writable private mappings.
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return false;
  ::munmap(p, bytes);
  return true;
}

// The tighter of the address-space limit (ulimit -v) and the data limit (ulimit -d, which
// since Linux 4.7 counts writable private mappings such as OpenBLAS's buffers).
rlimit tightest_limit() {
  rlimit as{RLIM_INFINITY, RLIM_INFINITY}, data{RLIM_INFINITY, RLIM_INFINITY};
  ::getrlimit(RLIMIT_AS, &as);
  ::getrlimit(RLIMIT_DATA, &data);
  return data.rlim_cur < as.rlim_cur ? data : as;
}

bool limited() { return tightest_limit().rlim_cur != RLIM_INFINITY; }

// Room kept for the tool's own data beside the buffers when choosing the thread count.
constexpr std::size_t data_margin = std::size_t{64} << 20;

}  // namespace

int threads_allowed_by_address_limit() {
  const char* chosen = std::getenv(marker);
  return chosen != nullptr ? std::max(1, std::atoi(chosen)) : 0;
}

void adapt_to_address_limit(char** argv) {
  if (!limited()) return;
  if (std::getenv(marker) != nullptr) return;  // restarted already
  // OpenBLAS's workers may already be spinning. Count the buffers that fit (the stuck workers
  // hold none), and start again with that many threads.
  long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
  if (const char* asked = std::getenv("OPENBLAS_NUM_THREADS")) cores = std::atol(asked);
  int threads = static_cast<int>(cores > 0 ? cores : 1);
  while (threads > 1 && !room_for(static_cast<std::size_t>(threads) * blas_buffer_bytes + data_margin)) --threads;
  const std::string count = std::to_string(threads);
  ::setenv(marker, count.c_str(), 1);
  ::setenv("OPENBLAS_NUM_THREADS", count.c_str(), 1);
  ::execv("/proc/self/exe", argv);
  // Could not restart: go on; reserve_blas_room() still protects this thread's products.
  std::fprintf(stderr, "xdense: warning: cannot restart with %s OpenBLAS threads under the address-space limit\n",
               count.c_str());
}

int reserve_blas_room() {
  if (!limited()) return -1;
  const rlimit limit = tightest_limit();
  if (!room_for(blas_buffer_bytes)) {
    // What the process maps now (first field of /proc/self/statm, in pages), plus the buffer and
    // room for data: the least limit worth trying.
    std::size_t pages = 0;
    if (std::FILE* statm = std::fopen("/proc/self/statm", "r")) {
      if (std::fscanf(statm, "%zu", &pages) != 1) pages = 0;
      std::fclose(statm);
    }
    const std::size_t in_use = pages * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    std::fprintf(stderr,
                 "xdense: error: out of memory: the memory limit (ulimit -v or -d: %zu KiB) leaves no room for "
                 "the %zu MiB work buffer of the matrix products (OpenBLAS); try about %zu MiB (%zu KiB)\n",
                 static_cast<std::size_t>(limit.rlim_cur >> 10), blas_buffer_bytes >> 20,
                 (in_use + blas_buffer_bytes + data_margin) >> 20, (in_use + blas_buffer_bytes + data_margin) >> 10);
    return 1;
  }
  reserve_blas_buffer();
  return -1;
}

}  // namespace xdense::cli
