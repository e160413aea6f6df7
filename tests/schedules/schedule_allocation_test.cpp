// A scheduled optimizer's step stays off the heap: evaluating the schedule (twice a step: the step's
// rate and the next one) allocates nothing, for every built-in schedule. This binary replaces the
// global operator new to count allocations (as sequential_allocation_test does).

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "xdense/optimizer.hpp"
#include "xdense/schedule.hpp"

namespace {
std::atomic<std::size_t> allocations{0};
}

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

TEST(ScheduleAllocation, AScheduledStepAllocatesNothingAfterTheFirst) {
  const std::vector<std::pair<std::string, Config>> schedules = {
      {"exponential", {{"initial_learning_rate", 0.1}, {"decay_steps", 3}, {"decay_rate", 0.5}}},
      {"inverse_time", {{"initial_learning_rate", 0.1}, {"decay_steps", 3}, {"decay_rate", 0.5}}},
      {"polynomial", {{"initial_learning_rate", 0.1}, {"decay_steps", 7}, {"cycle", true}}},
      {"cosine", {{"initial_learning_rate", 0.0}, {"decay_steps", 20}, {"warmup_target", 0.1}, {"warmup_steps", 5}}},
      {"piecewise", {{"boundaries", {5, 10, 20}}, {"values", {0.1, 0.05, 0.02, 0.01}}}},
  };
  for (const auto& [name, config] : schedules) {
    for (const std::string optimizer_name : {"sgd", "adamw"}) {
      SCOPED_TRACE(name + " with " + optimizer_name);
      auto optimizer = make_optimizer(optimizer_name);
      optimizer->set_schedule(make_schedule(name, config));
      std::vector<float> w(8, 1.0f), g(8, 0.5f);
      const std::vector<Parameter> parameters = {Parameter{"w", w.data(), g.data(), w.size()}};
      optimizer->step(parameters);
      const std::size_t before = allocations.load();
      for (int i = 0; i < 40; ++i) optimizer->step(parameters);
      EXPECT_EQ(allocations.load() - before, 0u);
      EXPECT_EQ(optimizer->iterations(), 41u);
    }
  }
}

}  // namespace
}  // namespace xdense
