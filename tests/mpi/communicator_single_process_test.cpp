// The communicator parts that need no mpirun: shard_rows, the single-process communicator,
// launched_by_mpi()'s reading of the environment, and mpi_world() in a build without MPI
// (StateError; with MPI, mpi_singleton_test checks it without a launcher).
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "xdense/communicator.hpp"
#include "xdense/error.hpp"
#include "xdense/mpi.hpp"

namespace {

TEST(ShardRows, SplitsTheDocumentedExample) {
  const xdense::RowRange a = xdense::shard_rows(10, 0, 3);
  const xdense::RowRange b = xdense::shard_rows(10, 1, 3);
  const xdense::RowRange c = xdense::shard_rows(10, 2, 3);
  EXPECT_EQ(a.first, 0u);
  EXPECT_EQ(a.count, 4u);
  EXPECT_EQ(b.first, 4u);
  EXPECT_EQ(b.count, 3u);
  EXPECT_EQ(c.first, 7u);
  EXPECT_EQ(c.count, 3u);
}

TEST(ShardRows, CoversEveryRowOnceInRankOrderWithBlocksOneRowApart) {
  for (std::size_t samples : {0ul, 1ul, 2ul, 3ul, 5ul, 10ul, 63ul, 64ul, 97ul, 1000ul, 60000ul, 1ul << 40}) {
    for (std::size_t ranks = 1; ranks <= 17; ++ranks) {
      std::size_t next = 0;
      for (std::size_t rank = 0; rank < ranks; ++rank) {
        const xdense::RowRange range = xdense::shard_rows(samples, rank, ranks);
        ASSERT_EQ(range.first, next) << samples << " rows, rank " << rank << " of " << ranks;
        // The first samples % ranks blocks are one row longer than the others.
        const std::size_t expected = samples / ranks + (rank < samples % ranks ? 1 : 0);
        ASSERT_EQ(range.count, expected) << samples << " rows, rank " << rank << " of " << ranks;
        next += range.count;
      }
      ASSERT_EQ(next, samples) << samples << " rows, " << ranks << " ranks";
    }
  }
}

TEST(ShardRows, RejectsNoRanksAndARankOutOfRange) {
  EXPECT_THROW(xdense::shard_rows(10, 0, 0), xdense::InvalidArgument);
  EXPECT_THROW(xdense::shard_rows(10, 3, 3), xdense::InvalidArgument);
  try {
    xdense::shard_rows(10, 5, 2);
    FAIL() << "expected InvalidArgument";
  } catch (const xdense::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("rank 5 of 2"), std::string::npos) << e.what();
  }
}

TEST(SingleProcessCommunicator, IsOneProcessWhoseCollectivesKeepTheValues) {
  xdense::SingleProcessCommunicator one;
  EXPECT_EQ(one.rank(), 0u);
  EXPECT_EQ(one.size(), 1u);
  EXPECT_EQ(one.name(), "single process");
  std::vector<float> floats = {1.5f, -2.0f};
  std::vector<double> doubles = {3.25, 1e300};
  one.allreduce_sum(floats.data(), floats.size());
  one.allreduce_sum(doubles.data(), doubles.size());
  EXPECT_EQ(floats, (std::vector<float>{1.5f, -2.0f}));
  EXPECT_EQ(doubles, (std::vector<double>{3.25, 1e300}));
  one.allreduce_max(doubles.data(), doubles.size());
  EXPECT_EQ(doubles, (std::vector<double>{3.25, 1e300}));
  EXPECT_EQ(one.allgather({1.0, 2.0}), (std::vector<std::vector<double>>{{1.0, 2.0}}));
  EXPECT_EQ(xdense::broadcast_string(one, "text"), "text");
  one.barrier();
}

// Sets or removes environment variables for one test, and puts the old values back.
class Environment {
 public:
  ~Environment() {
    for (const auto& [name, value] : saved_) {
      if (value) {
        setenv(name.c_str(), value->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
  }
  void set(const std::string& name, const char* value) {
    const char* old = std::getenv(name.c_str());
    saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    if (value) {
      setenv(name.c_str(), value, 1);
    } else {
      unsetenv(name.c_str());
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

const char* const kLauncherVariables[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"};

TEST(LaunchedByMpi, ReadsTheLaunchersVariablesOnly) {
  Environment environment;
  for (const char* name : kLauncherVariables) environment.set(name, nullptr);
  EXPECT_FALSE(xdense::launched_by_mpi());
  // A Slurm batch script's own process: Slurm's variables, no launcher's.
  environment.set("SLURM_NTASKS", "4");
  environment.set("SLURM_PROCID", "0");
  environment.set("SLURM_JOB_ID", "123");
  EXPECT_FALSE(xdense::launched_by_mpi());
  for (const char* name : kLauncherVariables) {
    Environment one;
    one.set(name, "2");
    EXPECT_TRUE(xdense::launched_by_mpi()) << name;
  }
  EXPECT_FALSE(xdense::launched_by_mpi());
}

#ifndef XDENSE_TEST_HAVE_MPI
TEST(MpiWorld, IsAStateErrorWithoutMpi) {
  EXPECT_FALSE(xdense::mpi_available());
  try {
    xdense::mpi_world();
    FAIL() << "expected StateError";
  } catch (const xdense::StateError& e) {
    EXPECT_NE(std::string(e.what()).find("built without MPI"), std::string::npos) << e.what();
  }
}
#endif

}  // namespace
