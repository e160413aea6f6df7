// The small-product kernels (src/kernels/small_gemm.hpp) against a plain double-precision
// reference, for each version the CPU can run, over shapes that exercise every block and tail:
// rows 1..17 (blocks of 8, 4, 2, 1), widths not multiples of the vector width.

#include "kernels/small_gemm.hpp"

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "xdense/error.hpp"
#include "xdense/random.hpp"

namespace xdense::kernels {
namespace {

struct Problem {
  std::size_t m, n, k;
  std::vector<float> a, b, bias;
};

Problem random_problem(std::size_t m, std::size_t n, std::size_t k, std::uint64_t seed) {
  Rng rng(seed);
  Problem p{m, n, k, std::vector<float>(m * k), std::vector<float>(k * n), std::vector<float>(n)};
  for (float& v : p.a) v = static_cast<float>(rng.uniform(-1.0, 1.0));
  for (float& v : p.b) v = static_cast<float>(rng.uniform(-1.0, 1.0));
  for (float& v : p.bias) v = static_cast<float>(rng.uniform(-1.0, 1.0));
  return p;
}

// sum in double of the same float inputs: exact to ~1e-16 relative, far below float rounding.
std::vector<double> reference(const Problem& p, bool with_bias) {
  std::vector<double> c(p.m * p.n);
  for (std::size_t i = 0; i < p.m; ++i)
    for (std::size_t j = 0; j < p.n; ++j) {
      double sum = with_bias ? p.bias[j] : 0.0;
      for (std::size_t q = 0; q < p.k; ++q) sum += static_cast<double>(p.a[i * p.k + q]) * p.b[q * p.n + j];
      c[i * p.n + j] = sum;
    }
  return c;
}

// Float rounding of a k-term sum of products of values in [-1, 1]: each step rounds by at most
// 2^-24 of a partial sum bounded by k + 1, so the error is below (k + 1)^2 2^-24; the bound used
// is 4 times the typical sqrt(k) growth and far below what a wrong index would give (O(0.1)).
double tolerance(std::size_t k) { return 1e-6 * (4.0 * static_cast<double>(k) + 8.0); }

// c is surrounded by guard values, to catch a write outside the m x n result (masked tails).
constexpr float guard = 12345.0f;

void check_isa(SmallGemmIsa isa, std::size_t m, std::size_t n, std::size_t k, bool with_bias) {
  const Problem p = random_problem(m, n, k, 1000 * m + 10 * n + k);
  const std::vector<double> expected = reference(p, with_bias);
  std::vector<float> c(m * n + 32, guard);
  small_gemm_bias(isa, m, n, k, p.a.data(), p.b.data(), with_bias ? p.bias.data() : nullptr, c.data() + 16);
  for (std::size_t i = 0; i < 16; ++i) {
    ASSERT_EQ(c[i], guard) << "write before C";
    ASSERT_EQ(c[16 + m * n + i], guard) << "write after C";
  }
  for (std::size_t e = 0; e < m * n; ++e) {
    ASSERT_NEAR(c[16 + e], expected[e], tolerance(k))
        << isa_name(isa) << " m=" << m << " n=" << n << " k=" << k << " at row " << e / n << " column " << e % n;
  }
}

void check_all_shapes(SmallGemmIsa isa) {
  for (std::size_t m = 1; m <= 17; ++m) {
    for (std::size_t n : {1, 7, 10, 15, 17, 33, 47, 100, 129, 257}) {
      for (std::size_t k : {1, 3, 19, 128}) check_isa(isa, m, n, k, /*with_bias=*/true);
    }
  }
  check_isa(isa, 3, 21, 5, /*with_bias=*/false);
  check_isa(isa, 1, 256, 784, /*with_bias=*/true);  // the MLP's first layer, one row
  check_isa(isa, 16, 256, 784, /*with_bias=*/true);
}

// Sets `reason` and returns false when the CPU cannot run `isa`.
bool runnable(SmallGemmIsa isa, std::string& reason) {
  if (isa_supported(isa)) return true;
  reason = std::string("the ") + isa_name(isa) +
           " kernels cannot run here: the CPU (or OS) lacks the instructions, or this build has no such version "
           "(GCC on x86-64 only)";
  return false;
}

TEST(SmallGemm, PortableMatchesTheDoubleReference) { check_all_shapes(SmallGemmIsa::portable); }

TEST(SmallGemm, Avx2MatchesTheDoubleReference) {
  std::string reason;
  if (!runnable(SmallGemmIsa::avx2, reason)) GTEST_SKIP() << reason;
  check_all_shapes(SmallGemmIsa::avx2);
}

TEST(SmallGemm, Avx512MatchesTheDoubleReference) {
  std::string reason;
  if (!runnable(SmallGemmIsa::avx512, reason)) GTEST_SKIP() << reason;
  check_all_shapes(SmallGemmIsa::avx512);
}

// Both vector versions fuse each multiply-add and sum in order of p: the same bits.
TEST(SmallGemm, Avx512AndAvx2GiveTheSameBits) {
  std::string reason;
  if (!runnable(SmallGemmIsa::avx512, reason)) GTEST_SKIP() << reason;
  for (std::size_t m : {1, 3, 8, 13, 16}) {
    const Problem p = random_problem(m, 139, 97, m);
    std::vector<float> c512(m * 139), c2(m * 139);
    small_gemm_bias(SmallGemmIsa::avx512, m, 139, 97, p.a.data(), p.b.data(), p.bias.data(), c512.data());
    small_gemm_bias(SmallGemmIsa::avx2, m, 139, 97, p.a.data(), p.b.data(), p.bias.data(), c2.data());
    EXPECT_EQ(c512, c2) << "m=" << m;
  }
}

// A row's result does not depend on the other rows of the block, nor on its place there.
TEST(SmallGemm, ARowGivesTheSameBitsAloneAndInAnyBlock) {
  for (SmallGemmIsa isa : {SmallGemmIsa::portable, SmallGemmIsa::avx2, SmallGemmIsa::avx512}) {
    if (!isa_supported(isa)) continue;
    const std::size_t n = 130, k = 75;
    const Problem p = random_problem(16, n, k, 77);
    std::vector<float> all(16 * n);
    small_gemm_bias(isa, 16, n, k, p.a.data(), p.b.data(), p.bias.data(), all.data());
    for (std::size_t m = 1; m <= 16; ++m) {
      for (std::size_t first = 0; first + m <= 16; first += m) {
        std::vector<float> part(m * n);
        small_gemm_bias(isa, m, n, k, p.a.data() + first * k, p.b.data(), p.bias.data(), part.data());
        for (std::size_t e = 0; e < m * n; ++e) {
          ASSERT_EQ(part[e], all[first * n + e]) << isa_name(isa) << ": rows " << first << ".." << first + m - 1;
        }
      }
    }
  }
}

TEST(SmallGemm, TheChosenVersionIsTheWidestTheCpuRuns) {
  const SmallGemmIsa chosen = small_gemm_isa();
  EXPECT_TRUE(isa_supported(chosen));
  if (isa_supported(SmallGemmIsa::avx512)) {
    EXPECT_EQ(chosen, SmallGemmIsa::avx512);
  } else if (isa_supported(SmallGemmIsa::avx2)) {
    EXPECT_EQ(chosen, SmallGemmIsa::avx2);
  } else {
    EXPECT_EQ(chosen, SmallGemmIsa::portable);
  }
  // The default entry point runs the chosen version: the same bits.
  const Problem p = random_problem(5, 37, 29, 9);
  std::vector<float> by_default(5 * 37), explicitly(5 * 37);
  small_gemm_bias(5, 37, 29, p.a.data(), p.b.data(), p.bias.data(), by_default.data());
  small_gemm_bias(chosen, 5, 37, 29, p.a.data(), p.b.data(), p.bias.data(), explicitly.data());
  EXPECT_EQ(by_default, explicitly);
}

TEST(SmallGemm, EmptySumIsTheBias) {
  const std::vector<float> bias{1.5f, -2.0f, 3.25f};
  std::vector<float> c(2 * 3, guard);
  small_gemm_bias(2, 3, 0, nullptr, nullptr, bias.data(), c.data());
  EXPECT_EQ(c, (std::vector<float>{1.5f, -2.0f, 3.25f, 1.5f, -2.0f, 3.25f}));
  small_gemm_bias(2, 3, 0, nullptr, nullptr, nullptr, c.data());
  EXPECT_EQ(c, std::vector<float>(6, 0.0f));
}

TEST(SmallGemm, AnUnsupportedVersionIsRefusedByName) {
  for (SmallGemmIsa isa : {SmallGemmIsa::avx2, SmallGemmIsa::avx512}) {
    if (isa_supported(isa)) continue;
    std::vector<float> c(1);
    const float one = 1.0f;
    try {
      small_gemm_bias(isa, 1, 1, 1, &one, &one, nullptr, c.data());
      FAIL() << "expected InvalidArgument";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(isa_name(isa)), std::string::npos) << e.what();
    }
  }
  EXPECT_STREQ(isa_name(SmallGemmIsa::avx512), "avx512");
  EXPECT_STREQ(isa_name(SmallGemmIsa::avx2), "avx2");
  EXPECT_STREQ(isa_name(SmallGemmIsa::portable), "portable");
}

}  // namespace
}  // namespace xdense::kernels
