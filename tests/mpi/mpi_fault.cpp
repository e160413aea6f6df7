// A job in which rank 1 fails while the other ranks wait for it in a collective. Run under mpirun by
// run_fault_test.cmake, which expects the whole job to end with a non-zero status, naming rank 1,
// within seconds (no hang):
//   mpi_fault abort   rank 1 calls Communicator::abort(3)
//   mpi_fault kill    rank 1 is killed (SIGKILL) after 10 of the sums of the loop, the others in the 11th
//   mpi_fault exit    rank 1 returns 5 from main (its at-exit handler aborts the job: mpi.cpp)
// Every other rank sums in a loop of at most kSteps steps; finishing it means the job did not end:
// it then exits 0, which the test reports as a failure.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <vector>

#include "xdense/communicator.hpp"
#include "xdense/mpi.hpp"

namespace {

constexpr int kSteps = 200000;

void sum_in_a_loop(xdense::Communicator& world, int steps) {
  std::vector<float> gradient(50000, 1.0f);
  for (int step = 0; step < steps; ++step) world.allreduce_sum(gradient.data(), gradient.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: mpi_fault abort|kill|exit\n");
    return 2;
  }
  const char* mode = argv[1];
  auto world = xdense::mpi_world();
  world->barrier();  // every rank is up
  if (world->rank() == 1) {
    if (std::strcmp(mode, "abort") == 0) {
      sum_in_a_loop(*world, 10);
      std::fprintf(stderr, "rank 1: giving up (abort 3)\n");
      world->abort(3);
    }
    if (std::strcmp(mode, "kill") == 0) {
      // Killed after 10 sums while the others wait in the 11th (not after a delay: a fast machine
      // would finish the loop first).
      sum_in_a_loop(*world, 10);
      std::raise(SIGKILL);
      return 0;
    }
    if (std::strcmp(mode, "exit") == 0) {
      sum_in_a_loop(*world, 10);
      std::fprintf(stderr, "rank 1: failing (exit status 5)\n");
      return 5;
    }
    std::fprintf(stderr, "mpi_fault: unknown mode %s\n", mode);
    world->abort(2);
  }
  sum_in_a_loop(*world, kSteps);
  std::fprintf(stderr, "rank %zu: finished %d sums: the failure of rank 1 did not end the job\n", world->rank(), kSteps);
  return 0;
}
