// mpi_world()'s collectives on several processes: run under mpirun (tests/mpi/CMakeLists.txt: 2 and 3
// ranks, and 2 ranks over TCP only). Every process runs every test, so every collective is reached
// by every rank in the same order; a check that fails on any rank fails that rank, and mpirun then
// fails the job (main(): mpi_gtest_main.cpp). Tests use EXPECT (not ASSERT) before a collective, so a failing rank still calls
// the collectives the others wait in.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "xdense/communicator.hpp"
#include "xdense/error.hpp"
#include "xdense/mpi.hpp"

namespace {

xdense::Communicator& world() {
  static const std::shared_ptr<xdense::Communicator> communicator = xdense::mpi_world();
  return *communicator;
}

// Rank `rank`'s test values: `count` floats of magnitudes 1e-8 .. 1e7, both signs. Every rank can
// make every other rank's values (the reference sums below).
template <typename T>
std::vector<T> mixed_values(std::size_t rank, std::size_t count) {
  std::mt19937_64 generator(0x9E3779B97F4A7C15ull * (rank + 1) + count);
  std::uniform_real_distribution<double> mantissa(-0.5, 0.5);
  std::uniform_int_distribution<int> exponent(-8, 7);
  std::vector<T> values(count);
  for (T& value : values) value = static_cast<T>(mantissa(generator) * std::pow(10.0, exponent(generator)));
  return values;
}

// How many of `values` differ, bit for bit, from rank 0's: summed over every rank.
template <typename T>
double differences_from_rank_0(const std::vector<T>& values) {
  std::vector<T> rank_0 = values;
  world().broadcast(rank_0.data(), rank_0.size() * sizeof(T), 0);
  double differing = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (std::memcmp(&values[i], &rank_0[i], sizeof(T)) != 0) ++differing;
  }
  world().allreduce_sum(&differing, 1);
  return differing;
}

const std::vector<std::size_t> kCounts = {1, 2, 3, 7, 100, 1000, 4097, 65537, 1000000};

TEST(MpiWorld, KnowsItsRankSizeAndLibrary) {
  EXPECT_TRUE(xdense::mpi_available());
  EXPECT_TRUE(xdense::launched_by_mpi());
  EXPECT_GE(world().size(), 2u) << "run under mpirun -n 2 or more";
  EXPECT_LT(world().rank(), world().size());
  EXPECT_EQ(world().name().rfind("MPI (", 0), 0u) << world().name();
  EXPECT_EQ(world().name().find(','), std::string::npos) << world().name();
  EXPECT_EQ(xdense::mpi_world().get(), &world()) << "mpi_world() returns the same communicator every time";
  // Every rank number once, in order.
  const auto ranks = world().allgather({static_cast<double>(world().rank())});
  ASSERT_EQ(ranks.size(), world().size());
  for (std::size_t r = 0; r < ranks.size(); ++r) EXPECT_EQ(ranks[r], std::vector<double>{static_cast<double>(r)});
}

TEST(MpiWorld, SumsSmallIntegersExactly) {
  // rank + i on every rank: exact in float, sum = size * i + size * (size - 1) / 2.
  const std::size_t n = world().size();
  for (std::size_t count : {std::size_t{0}, std::size_t{1}, std::size_t{5}, std::size_t{100000}}) {
    std::vector<float> floats(count);
    std::vector<double> doubles(count);
    for (std::size_t i = 0; i < count; ++i) {
      floats[i] = static_cast<float>(world().rank() + i % 1000);
      doubles[i] = static_cast<double>(world().rank()) + 0.5 * static_cast<double>(i);
    }
    world().allreduce_sum(floats.data(), count);
    world().allreduce_sum(doubles.data(), count);
    for (std::size_t i = 0; i < count; ++i) {
      EXPECT_EQ(floats[i], static_cast<float>(n * (i % 1000) + n * (n - 1) / 2)) << "float " << i << " of " << count;
      EXPECT_EQ(doubles[i], static_cast<double>(n * (n - 1) / 2) + 0.5 * static_cast<double>(n * i))
          << "double " << i << " of " << count;
      if (::testing::Test::HasFailure()) break;
    }
  }
}

TEST(MpiWorld, FloatSumsAreBitIdenticalOnEveryRankAndReproducible) {
  for (std::size_t count : kCounts) {
    const std::vector<float> mine = mixed_values<float>(world().rank(), count);
    std::vector<float> sums = mine;
    world().allreduce_sum(sums.data(), count);
    EXPECT_EQ(differences_from_rank_0(sums), 0.0) << count << " floats";
    // The same inputs again: the same bits.
    std::vector<float> again = mine;
    world().allreduce_sum(again.data(), count);
    EXPECT_EQ(std::memcmp(sums.data(), again.data(), count * sizeof(float)), 0) << count << " floats, second sum";
    // Within float rounding of the sum in double of every rank's values.
    std::vector<std::vector<float>> all;
    for (std::size_t r = 0; r < world().size(); ++r) all.push_back(mixed_values<float>(r, count));
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < count; ++i) {
      double exact = 0.0;
      double magnitude = 0.0;
      for (const auto& values : all) {
        exact += values[i];
        magnitude += std::fabs(values[i]);
      }
      const double tolerance = world().size() * 6e-8 * magnitude;
      if (std::fabs(sums[i] - exact) > tolerance && wrong++ < 3) {
        ADD_FAILURE() << "element " << i << " of " << count << ": " << sums[i] << ", expected " << exact;
      }
    }
    EXPECT_EQ(wrong, 0u) << count << " floats";
  }
}

TEST(MpiWorld, DoubleSumsAreBitIdenticalOnEveryRank) {
  for (std::size_t count : {std::size_t{1}, std::size_t{1000}, std::size_t{262144}}) {
    std::vector<double> sums = mixed_values<double>(world().rank(), count);
    world().allreduce_sum(sums.data(), count);
    EXPECT_EQ(differences_from_rank_0(sums), 0.0) << count << " doubles";
    double exact = 0.0;
    for (std::size_t r = 0; r < world().size(); ++r) exact += mixed_values<double>(r, count)[count - 1];
    EXPECT_NEAR(sums[count - 1], exact, 1e-9 * std::fabs(exact) + 1e-15);
  }
}

TEST(MpiWorld, MaxIsTheLargestOfEveryRank) {
  const double r = static_cast<double>(world().rank());
  const double last = static_cast<double>(world().size() - 1);
  std::vector<double> values = {r, -r, r == 1 ? 1e300 : -1e300, r == 0 ? 0.0 : -0.0, -1.0 - r};
  world().allreduce_max(values.data(), values.size());
  EXPECT_EQ(values[0], last);
  EXPECT_EQ(values[1], 0.0);
  EXPECT_EQ(values[2], 1e300);
  EXPECT_EQ(values[4], -1.0);
  EXPECT_EQ(differences_from_rank_0(values), 0.0) << "the sign of max(+0, -0) too";
  world().allreduce_max(values.data(), 0);  // nothing to do, and no hang
}

TEST(MpiWorld, BroadcastsBytesFromAnyRoot) {
  for (std::size_t root : {std::size_t{0}, std::size_t{1}, world().size() - 1}) {
    std::vector<std::uint8_t> bytes(100003);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      bytes[i] = static_cast<std::uint8_t>(world().rank() == root ? (i * 7 + root) % 251 : 0xEE);
    }
    world().broadcast(bytes.data(), bytes.size(), root);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i) wrong += bytes[i] != (i * 7 + root) % 251;
    EXPECT_EQ(wrong, 0u) << "root " << root;
    world().broadcast(nullptr, 0, root);  // no bytes: nothing to do
  }
  char byte = 0;
  EXPECT_THROW(world().broadcast(&byte, 1, world().size()), xdense::InvalidArgument);
}

TEST(MpiWorld, BroadcastsStrings) {
  const std::string text = "rank " + std::to_string(world().rank()) + std::string(world().rank() * 1000, 'x');
  for (std::size_t root = 0; root < world().size(); ++root) {
    EXPECT_EQ(xdense::broadcast_string(world(), text, root),
              "rank " + std::to_string(root) + std::string(root * 1000, 'x'));
  }
  EXPECT_EQ(xdense::broadcast_string(world(), world().rank() == 1 ? "" : "not rank 1's", 1), "");
}

TEST(MpiWorld, GathersUnevenLengthsInRankOrder) {
  // Rank 1 has nothing; the others 2 + rank values.
  auto values_of = [](std::size_t r) {
    std::vector<double> values(r == 1 ? 0 : 2 + r);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = 1000.0 * r + i + 0.25;
    return values;
  };
  const auto gathered = world().allgather(values_of(world().rank()));
  ASSERT_EQ(gathered.size(), world().size());
  for (std::size_t r = 0; r < world().size(); ++r) EXPECT_EQ(gathered[r], values_of(r)) << "rank " << r;

  const auto empty = world().allgather({});
  ASSERT_EQ(empty.size(), world().size());
  for (const auto& values : empty) EXPECT_TRUE(values.empty());
}

TEST(MpiWorld, BarrierWaitsForTheLastRank) {
  world().barrier();
  const auto start = std::chrono::steady_clock::now();
  if (world().rank() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(300));
  world().barrier();
  const auto waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Only a lower bound: a loaded machine makes every wait longer, never shorter.
  if (world().rank() != 0) {
    EXPECT_GT(waited, 0.2) << "rank " << world().rank() << " left the barrier early";
  }
}

}  // namespace
