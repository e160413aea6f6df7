// xdense's AVX-512 sgemm (src/kernels/gemm_avx512.hpp) against a plain double-precision product,
// over shapes that cross its tile and block edges, all four transpose combinations and the three
// starts; its bits from call to call, buffer to buffer and row position to row position; and the
// kernel choice (src/kernels/product_kernels.hpp) end to end: a small MLP fitted with the kernels
// forced on and off agrees within float tolerance. Tests that run the kernels skip where the CPU
// lacks AVX-512F.

#include "../src/kernels/gemm_avx512.hpp"
#include "../src/kernels/product_kernels.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include <xdense/xdense.hpp>

namespace {

using xdense::kernels::gemm_workspace_floats;
using xdense::kernels::sgemm_avx512;

#define SKIP_WITHOUT_AVX512()                                                                   \
  if (!xdense::kernels::cpu_has_avx512()) {                                                     \
    GTEST_SKIP() << "this CPU does not have AVX-512F: the AVX-512 kernels cannot run (the products " \
                    "use OpenBLAS here)";                                                       \
  }

struct AlignedFree {
  void operator()(float* p) const { ::operator delete[](p, std::align_val_t{64}); }
};

// The kernels' packing buffer.
std::unique_ptr<float[], AlignedFree> make_workspace() {
  return std::unique_ptr<float[], AlignedFree>(
      static_cast<float*>(::operator new[](gemm_workspace_floats * sizeof(float), std::align_val_t{64})));
}

// Uniform values in [-1, 1) from a fixed linear congruential sequence.
std::vector<float> values(std::size_t count, std::uint64_t seed) {
  std::vector<float> out(count);
  std::uint64_t state = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  for (float& v : out) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    v = static_cast<float>(static_cast<double>(state >> 40) / static_cast<double>(1ULL << 23) - 1.0);
  }
  return out;
}

enum class Start { zeros, row, c };

struct Case {
  bool trans_a, trans_b;
  std::size_t m, n, k;
  Start start;
};

std::string describe(const Case& t) {
  const char* starts[] = {"zeros", "row", "C"};
  return std::string(t.trans_a ? "A^T" : "A") + (t.trans_b ? " B^T" : " B") + " m=" + std::to_string(t.m) +
         " n=" + std::to_string(t.n) + " k=" + std::to_string(t.k) + " start " + starts[static_cast<int>(t.start)];
}

// Runs one case through sgemm_avx512 and checks every element against the product in double:
// |c - ref| <= (k + 2) eps (|start| + sum |a b|), the bound of a float sum of k + 1 terms.
void check_case(const Case& t, float* workspace) {
  SCOPED_TRACE(describe(t));
  const std::vector<float> a = values(t.m * t.k, 1 + t.m), b = values(t.k * t.n, 2 + t.n), row = values(t.n, 3);
  std::vector<float> c = values(t.m * t.n, 4);
  if (t.start == Start::zeros) {  // beta 0: C's old values, NaN included, are not read
    for (float& v : c) v = std::numeric_limits<float>::quiet_NaN();
  }
  const std::vector<float> old_c = c;
  auto at_a = [&](std::size_t i, std::size_t p) { return double(t.trans_a ? a[p * t.m + i] : a[i * t.k + p]); };
  auto at_b = [&](std::size_t p, std::size_t j) { return double(t.trans_b ? b[j * t.k + p] : b[p * t.n + j]); };
  sgemm_avx512(t.trans_a, t.trans_b, t.m, t.n, t.k, a.data(), b.data(), t.start == Start::row ? row.data() : nullptr,
               t.start == Start::c, c.data(), workspace);
  const double eps = std::numeric_limits<float>::epsilon();
  std::size_t failures = 0;
  for (std::size_t i = 0; i < t.m && failures < 5; ++i)
    for (std::size_t j = 0; j < t.n && failures < 5; ++j) {
      double start = t.start == Start::row ? row[j] : (t.start == Start::c ? old_c[i * t.n + j] : 0.0);
      double sum = start, magnitude = std::fabs(start);
      for (std::size_t p = 0; p < t.k; ++p) {
        sum += at_a(i, p) * at_b(p, j);
        magnitude += std::fabs(at_a(i, p) * at_b(p, j));
      }
      const double got = c[i * t.n + j];
      if (!(std::fabs(got - sum) <= double(t.k + 2) * eps * magnitude)) {
        ++failures;
        ADD_FAILURE() << "C(" << i << ", " << j << ") = " << got << ", expected " << sum;
      }
    }
}

TEST(GemmAvx512, MatchesADoubleProductAcrossTileAndBlockEdges) {
  SKIP_WITHOUT_AVX512();
  auto workspace = make_workspace();
  // 1, 15, 17 cross the 14-row and 16/32-column tile edges, 255 and 257 the 256-deep k blocks
  // and the 140-row A blocks.
  const std::size_t sizes[] = {1, 15, 17, 255, 257};
  int index = 0;
  for (int trans = 0; trans < 4; ++trans)
    for (std::size_t m : sizes)
      for (std::size_t n : sizes)
        for (std::size_t k : sizes) {
          check_case({(trans & 1) != 0, (trans & 2) != 0, m, n, k, static_cast<Start>(index++ % 3)}, workspace.get());
        }
}

TEST(GemmAvx512, MatchesADoubleProductOnLargeShapesWithEveryStart) {
  SKIP_WITHOUT_AVX512();
  auto workspace = make_workspace();
  // The MLP 784-256-128-10's products at batch 128 (forward, dW = x^T dy, dx = dy W^T), and a shape
  // with several A blocks, k blocks and B blocks (n > 512).
  const Case shapes[] = {{false, false, 128, 256, 784, Start::row}, {true, false, 784, 256, 128, Start::zeros},
                         {false, true, 128, 256, 128, Start::zeros}, {false, false, 128, 10, 128, Start::row},
                         {false, false, 300, 600, 600, Start::c},    {true, true, 300, 600, 600, Start::c}};
  for (Case t : shapes) {
    check_case(t, workspace.get());
    for (Start s : {Start::zeros, Start::row, Start::c}) {
      t.start = s;
      if (t.m == 128 && t.n == 10) check_case(t, workspace.get());
    }
  }
}

// The product of `m` rows of A (starting at row `first` of the values) with the results' bits.
std::vector<float> product_bits(bool trans_b, std::size_t m, std::size_t n, std::size_t k, const float* a,
                                const float* b, const float* row, float* workspace) {
  std::vector<float> c(m * n);
  sgemm_avx512(false, trans_b, m, n, k, a, b, row, false, c.data(), workspace);
  return c;
}

TEST(GemmAvx512, GivesTheSameBitsEveryCallWhateverTheAlignmentAndTheRowsPosition) {
  SKIP_WITHOUT_AVX512();
  auto workspace = make_workspace();
  const std::size_t m = 257, n = 130, k = 600;
  const std::vector<float> a = values(m * k + 1, 5), b = values(k * n + 1, 6), row = values(n + 1, 7);
  for (bool trans_b : {false, true}) {
    SCOPED_TRACE(trans_b ? "B^T" : "B");
    const std::vector<float> first = product_bits(trans_b, m, n, k, a.data(), b.data(), row.data(), workspace.get());
    EXPECT_EQ(first, product_bits(trans_b, m, n, k, a.data(), b.data(), row.data(), workspace.get()));
    // The same values one float further on (other alignments of A, B, row and C).
    std::vector<float> shifted_a(a.begin(), a.end() - 1), shifted_b(b.begin(), b.end() - 1);
    shifted_a.insert(shifted_a.begin(), 0.0f);
    shifted_b.insert(shifted_b.begin(), 0.0f);
    std::vector<float> shifted_row(row.begin(), row.end() - 1);
    shifted_row.insert(shifted_row.begin(), 0.0f);
    std::vector<float> shifted_c(m * n + 1);
    sgemm_avx512(false, trans_b, m, n, k, shifted_a.data() + 1, shifted_b.data() + 1, shifted_row.data() + 1, false,
                 shifted_c.data() + 1, workspace.get());
    EXPECT_EQ(0, std::memcmp(first.data(), shifted_c.data() + 1, first.size() * sizeof(float)));
    // Rows 150..164 on their own (another tile and block position): the same bits as in the batch.
    const std::size_t from = 150, rows = 15;
    const std::vector<float> part =
        product_bits(trans_b, rows, n, k, a.data() + from * k, b.data(), row.data(), workspace.get());
    EXPECT_EQ(0, std::memcmp(first.data() + from * n, part.data(), part.size() * sizeof(float)));
  }
}

TEST(GemmAvx512, KZeroLeavesTheStart) {
  SKIP_WITHOUT_AVX512();
  auto workspace = make_workspace();
  const std::vector<float> row{1.0f, 2.0f, 3.0f};
  std::vector<float> c(6, 7.0f);
  sgemm_avx512(false, false, 2, 3, 0, nullptr, nullptr, nullptr, true, c.data(), workspace.get());
  EXPECT_EQ(std::vector<float>(6, 7.0f), c);
  sgemm_avx512(false, false, 2, 3, 0, nullptr, nullptr, row.data(), false, c.data(), workspace.get());
  EXPECT_EQ((std::vector<float>{1, 2, 3, 1, 2, 3}), c);
  sgemm_avx512(false, false, 2, 3, 0, nullptr, nullptr, nullptr, false, c.data(), workspace.get());
  EXPECT_EQ(std::vector<float>(6, 0.0f), c);
}

// Restores the environment's kernel choice when a test ends.
struct KernelChoice {
  explicit KernelChoice(const std::string& kernels) { xdense::kernels::set_large_product_kernels(kernels); }
  ~KernelChoice() { xdense::kernels::set_large_product_kernels(""); }
};

TEST(ProductKernels, RejectsAnUnknownChoiceAndNamesThePathThatRuns) {
  EXPECT_THROW(xdense::kernels::set_large_product_kernels("mkl"), xdense::InvalidArgument);
  {
    KernelChoice choice("openblas");
    EXPECT_EQ(0u, xdense::kernels::large_product_kernels().find("OpenBLAS, core "));
    float c = 0.0f;
    EXPECT_FALSE(xdense::kernels::large_product(false, false, 1, 1, 1, &c, &c, nullptr, false, &c));
  }
  {
    // auto: the AVX-512 kernels exactly where the CPU has them, OpenBLAS's core does not, one
    // thread runs the products and the product is not too narrow or short for them.
    KernelChoice choice("auto");
    const bool machine = xdense::kernels::cpu_has_avx512() && !xdense::kernels::openblas_core_uses_avx512() &&
                         xdense::num_threads() == 1;
    const std::size_t rows = xdense::kernels::auto_min_rows, cols = xdense::kernels::auto_min_columns;
    const std::vector<float> a(rows, 1.0f), b(cols, 1.0f);
    std::vector<float> c(rows * cols);
    EXPECT_EQ(machine, xdense::kernels::large_product(false, false, rows, cols, 1, a.data(), b.data(), nullptr,
                                                      false, c.data()));
    EXPECT_FALSE(xdense::kernels::large_product(false, false, rows - 1, cols, 1, a.data(), b.data(), nullptr, false,
                                                c.data()));
    EXPECT_FALSE(xdense::kernels::large_product(false, false, rows, cols - 1, 1, a.data(), b.data(), nullptr, false,
                                                c.data()));
  }
  if (!xdense::kernels::cpu_has_avx512()) {
    EXPECT_THROW(xdense::kernels::set_large_product_kernels("avx512"), xdense::StateError);
    return;
  }
  KernelChoice choice("avx512");
  EXPECT_EQ(0u, xdense::kernels::large_product_kernels().find("xdense AVX-512"));
  const float a[2] = {2.0f, 3.0f}, b[2] = {5.0f, 7.0f};
  float c = 1.0f;
  EXPECT_TRUE(xdense::kernels::large_product(false, false, 1, 1, 2, a, b, nullptr, true, &c));
  EXPECT_EQ(1.0f + 2.0f * 5.0f + 3.0f * 7.0f, c);
}

// A 64-100-60-10 MLP fitted for two epochs on fixed data: its products are large enough for
// src/blas.cpp to hand them to the large-product kernels.
std::vector<float> fitted_weights(const std::string& kernels) {
  KernelChoice choice(kernels);
  const std::size_t samples = 512, inputs = 64, classes = 10;
  xdense::Matrix x = xdense::Matrix::from_shape({samples, inputs});
  xdense::Matrix y = xdense::Matrix::from_shape({samples, classes});
  const std::vector<float> v = values(samples * inputs, 8);
  std::copy(v.begin(), v.end(), x.begin());
  y.fill(0.0f);
  for (std::size_t s = 0; s < samples; ++s) y(s, (s * 7) % classes) = 1.0f;
  xdense::Sequential model(11);
  model.add(std::make_unique<xdense::Dense>(100)).add("relu");
  model.add(std::make_unique<xdense::Dense>(60)).add("tanh");
  model.add(std::make_unique<xdense::Dense>(classes)).add("softmax");
  model.compile("categorical_crossentropy", "adam");
  xdense::FitOptions options;
  options.epochs = 2;
  options.batch_size = 128;
  options.seed = 11;
  model.fit(x, y, options);
  std::vector<float> out;
  for (const auto& w : model.get_weights()) out.insert(out.end(), w.begin(), w.end());
  return out;
}

TEST(ProductKernels, FitWithTheAvx512KernelsAgreesWithOpenBlas) {
  SKIP_WITHOUT_AVX512();
  const std::vector<float> avx512 = fitted_weights("avx512"), openblas = fitted_weights("openblas");
  ASSERT_EQ(openblas.size(), avx512.size());
  double worst = 0.0;
  for (std::size_t i = 0; i < avx512.size(); ++i)
    worst = std::max(worst, std::fabs(double(avx512[i]) - double(openblas[i])));
  EXPECT_LT(worst, 1e-4) << "largest weight difference after two epochs";
  EXPECT_GT(worst, 0.0) << "the two runs used the same kernels (the choice did not take effect)";
  EXPECT_EQ(avx512, fitted_weights("avx512")) << "a second run with the AVX-512 kernels differs";
}

}  // namespace
