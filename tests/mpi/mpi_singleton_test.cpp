// mpi_world() in a process that no launcher started (MPI's singleton): a world of one process whose
// collectives leave the values as they are. Built and run when xdense has MPI.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "xdense/communicator.hpp"
#include "xdense/mpi.hpp"

namespace {

TEST(MpiWorld, WithoutALauncherIsAWorldOfOne) {
  EXPECT_TRUE(xdense::mpi_available());
  EXPECT_FALSE(xdense::launched_by_mpi()) << "run it without mpirun";
  const auto world = xdense::mpi_world();
  EXPECT_EQ(world->size(), 1u);
  EXPECT_EQ(world->rank(), 0u);
  EXPECT_EQ(world->name().rfind("MPI (", 0), 0u) << world->name();
  std::vector<float> values = {1.0f, 2.5f};
  world->allreduce_sum(values.data(), values.size());
  EXPECT_EQ(values, (std::vector<float>{1.0f, 2.5f}));
  EXPECT_EQ(world->allgather({4.0}), (std::vector<std::vector<double>>{{4.0}}));
  EXPECT_EQ(xdense::broadcast_string(*world, "text"), "text");
  world->barrier();
}

}  // namespace
