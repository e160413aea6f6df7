#include "product_kernels.hpp"

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <memory>
#include <new>

#include "gemm_avx512.hpp"
#include "xdense/error.hpp"
#include "xdense/threads.hpp"

// OpenBLAS's name for its active core (declared in OpenBLAS's cblas.h, which this file does not include).
extern "C" char* openblas_get_corename(void);

namespace xdense::kernels {
namespace {

enum class Choice { automatic, openblas, avx512 };

Choice parse_choice(const std::string& text, const std::string& what) {
  if (text.empty() || text == "openblas") return Choice::openblas;
  if (text == "auto") return Choice::automatic;
  if (text == "avx512") {
    if (!cpu_has_avx512()) throw StateError(what + "=avx512: this CPU does not have AVX-512F");
    return Choice::avx512;
  }
  throw InvalidArgument(what + ": expected openblas, auto or avx512, received '" + text + "'");
}

// set_large_product_kernels()'s choice, or -1: the environment's.
std::atomic<int> forced{-1};

// The environment's choice, read once (a bad value throws at every call until fixed: no product
// silently runs on the other kernels), unless set_large_product_kernels() chose.
Choice choice() {
  const int set = forced.load(std::memory_order_relaxed);
  if (set >= 0) return static_cast<Choice>(set);
  static const Choice chosen = [] {
    const char* value = std::getenv("XDENSE_KERNELS");
    return parse_choice(value != nullptr ? value : "", "XDENSE_KERNELS");
  }();
  return chosen;
}

// The AVX-512 kernels, for this process at the current thread count, for an m x n product?
bool use_avx512(std::size_t m, std::size_t n) {
  switch (choice()) {
    case Choice::openblas:
      return false;
    case Choice::avx512:
      return true;
    case Choice::automatic: {
      static const bool machine = cpu_has_avx512() && !openblas_core_uses_avx512();
      return machine && m >= auto_min_rows && n >= auto_min_columns && num_threads() == 1;
    }
  }
  return false;
}

struct AlignedFree {
  void operator()(float* p) const { ::operator delete[](p, std::align_val_t{64}); }
};

float* workspace() {
  thread_local std::unique_ptr<float[], AlignedFree> buffer(
      static_cast<float*>(::operator new[](gemm_workspace_floats * sizeof(float), std::align_val_t{64})));
  return buffer.get();
}

std::string lower(const char* text) {
  std::string out = text != nullptr ? text : "";
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

}  // namespace

bool cpu_has_avx512() {
#if defined(__GNUC__) && defined(__x86_64__)
  return __builtin_cpu_supports("avx512f");
#else
  return false;
#endif
}

bool openblas_core_uses_avx512() {
  const std::string core = lower(openblas_get_corename());
  return core == "skylakex" || core == "cooperlake" || core == "sapphirerapids";
}

bool large_product(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, const float* a,
                   const float* b, const float* row, bool accumulate, float* c) {
  if (!use_avx512(m, n)) return false;
  sgemm_avx512(trans_a, trans_b, m, n, k, a, b, row, accumulate, c, workspace());
  return true;
}

void set_large_product_kernels(const std::string& kernels) {
  if (kernels.empty()) {
    forced.store(-1, std::memory_order_relaxed);
    return;
  }
  forced.store(static_cast<int>(parse_choice(kernels, "set_large_product_kernels")), std::memory_order_relaxed);
}

std::string large_product_kernels() {
  const std::string core = openblas_get_corename();
  if (use_avx512(auto_min_rows, auto_min_columns)) return "xdense AVX-512 (OpenBLAS core " + core + " not used)";
  return "OpenBLAS, core " + core;
}

}  // namespace xdense::kernels
