// The built-in metrics allocate nothing in update() and result() once they have seen a first epoch
// (the per-column and per-class counts are sized by the first batch), and auc / pr_auc nothing at
// all once reserve()d for the epoch's samples: fit() can feed them every batch without touching
// the heap. This binary replaces the global operator new to count allocations (a separate
// executable so no other test is affected).

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "metrics/metric_test_support.hpp"

namespace {
std::atomic<std::size_t> allocations{0};
}

// Out of line, as in tests/sequential_allocation_test.cpp (-Wmismatched-new-delete otherwise).
[[gnu::noinline]] void* operator new(std::size_t size) {
  ++allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void* operator new[](std::size_t size) { return operator new(size); }
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace xdense {
namespace {

constexpr std::size_t samples = 100;
constexpr std::size_t batch = 16;

// One epoch: reset, the batches, the result; returns the allocations it made.
std::size_t epoch(Metric& metric, const Matrix& outputs, const Matrix& targets) {
  const std::size_t before = allocations.load();
  testing::result_in_batches(metric, outputs, targets, batch);
  return allocations.load() - before;
}

Matrix filled(std::size_t rows, std::size_t cols, float scale) {
  Matrix m = Matrix::from_shape({rows, cols});
  for (std::size_t i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>((i * 37) % 11) * scale;
  return m;
}

TEST(MetricAllocation, NoneAfterTheFirstEpoch) {
  const Matrix scores = filled(samples, 1, 0.1f);
  Matrix labels = Matrix::from_shape({samples, 1});
  for (std::size_t i = 0; i < samples; ++i) labels(i, 0) = static_cast<float>(i % 3 == 0);
  const Matrix class_scores = filled(samples, 4, 0.1f);
  Matrix classes = Matrix::from_shape({samples, 1});
  for (std::size_t i = 0; i < samples; ++i) classes(i, 0) = static_cast<float>(i % 4);
  const Matrix values = filled(samples, 3, 1.5f);
  const Matrix truths = filled(samples, 3, -0.5f);

  struct Case {
    const char* name;
    const Matrix& outputs;
    const Matrix& targets;
  };
  const Case cases[] = {{"precision", scores, labels},
                        {"recall", scores, labels},
                        {"f1", scores, labels},
                        {"auc", scores, labels},
                        {"pr_auc", scores, labels},
                        {"top_k_accuracy", class_scores, classes},
                        {"macro_f1", class_scores, classes},
                        {"weighted_f1", class_scores, classes},
                        {"mse", values, truths},
                        {"mae", values, truths},
                        {"rmse", values, truths},
                        {"r2", values, truths}};
  for (const Case& c : cases) {
    auto metric = make_metric(c.name, std::string(c.name) == "top_k_accuracy" ? Config({{"k", 2}}) : Config::object());
    metric->reserve(samples);
    const std::size_t first = epoch(*metric, c.outputs, c.targets);
    const double result = metric->result();
    EXPECT_EQ(epoch(*metric, c.outputs, c.targets), 0u) << c.name;
    EXPECT_TRUE(testing::same_bits(metric->result(), result)) << c.name;
    // The kept scores were reserved: not even the first epoch allocates.
    if (std::string(c.name) == "auc" || std::string(c.name) == "pr_auc") {
      EXPECT_EQ(first, 0u) << c.name;
    }
  }
}

TEST(MetricAllocation, NoneInTheEpochAfterAMergeOfKeptScores) {
  // Data-parallel: each process reserve()s for its share, merges every share at the end of the epoch
  // (which may allocate), and the next epoch's update()s must still not allocate.
  const Matrix scores = filled(samples, 1, 0.1f);
  Matrix labels = Matrix::from_shape({samples, 1});
  for (std::size_t i = 0; i < samples; ++i) labels(i, 0) = static_cast<float>(i % 3 == 0);
  for (const char* name : {"auc", "pr_auc"}) {
    auto mine = make_metric(name);
    auto other = make_metric(name);
    mine->reserve(samples);
    EXPECT_EQ(epoch(*mine, scores, labels), 0u) << name;
    epoch(*other, scores, labels);
    const auto my_state = mine->partial_state();
    const auto other_state = other->partial_state();
    mine->reset();
    mine->merge(my_state);
    mine->merge(other_state);  // 2 x samples: beyond the reserved room
    const double merged = mine->result();
    EXPECT_EQ(epoch(*mine, scores, labels), 0u) << name;
    EXPECT_TRUE(testing::same_bits(mine->result(), merged)) << name;  // the same scores twice: the same AUC
  }
}

}  // namespace
}  // namespace xdense
