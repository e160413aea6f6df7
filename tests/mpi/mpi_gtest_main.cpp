// main() of the GoogleTest programs that run under mpirun: every process runs every test; process 0
// prints gtest's usual output, the others only their failures, each line naming the process.
#include <gtest/gtest.h>

#include <cstdio>

#include "xdense/mpi.hpp"

namespace {

class FailurePrinter : public ::testing::EmptyTestEventListener {
 public:
  explicit FailurePrinter(std::size_t rank) : rank_(rank) {}
  void OnTestPartResult(const ::testing::TestPartResult& result) override {
    if (!result.failed()) return;
    std::fprintf(stderr, "[rank %zu] %s:%d: Failure\n%s\n", rank_, result.file_name() ? result.file_name() : "?",
                 result.line_number(), result.summary());
  }
  void OnTestEnd(const ::testing::TestInfo& info) override {
    if (info.result()->Failed()) {
      std::fprintf(stderr, "[rank %zu] FAILED %s.%s\n", rank_, info.test_suite_name(), info.name());
    }
  }

 private:
  std::size_t rank_;
};

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const std::size_t rank = xdense::mpi_world()->rank();
  if (rank != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new FailurePrinter(rank));
  }
  // A process that returns non-zero ends the job with its status (src/mpi.cpp), so mpirun fails.
  return RUN_ALL_TESTS();
}
