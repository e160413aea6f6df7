// The MPI communicator (MPI_COMM_WORLD) behind xdense::mpi_world(), and the launcher detection.
// Compiled with MPI when CMake found it (XDENSE_HAVE_MPI, set for this file only); without it,
// mpi_available() is false and mpi_world() throws StateError. <mpi.h> is included here only: no
// public header depends on it.
#include "xdense/mpi.hpp"

#include <cstdlib>

#include "xdense/error.hpp"

#ifdef XDENSE_HAVE_MPI
// The C API only: without these, <mpi.h> in C++ declares MPI's old C++ bindings, whose symbols
// live in another library (libmpi_cxx) that MPI::MPI_C does not link.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>
#endif

namespace xdense {

bool launched_by_mpi() {
  // What the launchers put in every process's environment: Open MPI's mpirun (OMPI_COMM_WORLD_SIZE),
  // MPICH/Hydra, Intel MPI and `srun --mpi=pmi2` (PMI_SIZE), PMIx servers: `srun --mpi=pmix`, Open MPI
  // (PMIX_RANK). A bare SLURM_* variable is not one: a batch script's own process has them too.
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

#ifndef XDENSE_HAVE_MPI

bool mpi_available() { return false; }

std::shared_ptr<Communicator> mpi_world() {
  throw StateError("mpi_world: this xdense was built without MPI (install libopenmpi-dev and reconfigure)");
}

#else  // XDENSE_HAVE_MPI

namespace {

// MPI counts are int: larger buffers go in pieces of at most this many elements.
constexpr std::size_t kMaxCount = static_cast<std::size_t>(INT_MAX);

// MPI_COMM_WORLD uses MPI_ERRORS_ARE_FATAL: a failing call ends the job and never returns. A call
// that returns an error anyway (a communicator whose handler someone changed) ends it here.
void check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) length = 0;
  std::fprintf(stderr, "xdense: %s failed: %.*s\n", call, length, text);
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::_Exit(1);
}

// How MPI ends when this library initialised it. Registered right after MPI_Init_thread, so it runs
// after the destructors of every static object constructed later and before those of the ones
// constructed earlier (both are on the same exit list).
//
// A process that exits with a non-zero status while the others may still wait in a collective must
// not call MPI_Finalize: Open MPI's finalize waits for every process, the others wait for this one,
// and the job hangs (measured: mpirun still running after 20 s). It aborts the job with its status
// instead, which mpirun reports with the rank. glibc's on_exit() hands the status to the handler;
// elsewhere atexit() finalises always, and a failing program must call Communicator::abort() itself.
void end_mpi(int status) {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  std::fflush(stdout);
  std::fflush(stderr);
  if (status != 0) {
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size > 1) MPI_Abort(MPI_COMM_WORLD, status);
  }
  MPI_Finalize();
}

#ifdef __GLIBC__
void end_mpi_on_exit(int status, void*) { end_mpi(status); }
void register_end_mpi() { on_exit(end_mpi_on_exit, nullptr); }
#else
void end_mpi_at_exit() { end_mpi(0); }
void register_end_mpi() { std::atexit(end_mpi_at_exit); }
#endif

// "Open MPI v4.1.4" of "Open MPI v4.1.4, package: Debian OpenMPI, ident: ...": the library
// version's first line up to its first comma, runs of blanks as one space ("MPICH Version: 4.0.2").
std::string library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  if (MPI_Get_library_version(text, &length) != MPI_SUCCESS) return "unknown version";
  std::string version;
  for (int i = 0; i < length; ++i) {
    const char c = text[i];
    if (c == '\n' || c == '\r' || c == ',' || c == '\0') break;
    const bool blank = c == ' ' || c == '\t';
    if (blank && (version.empty() || version.back() == ' ')) continue;
    version.push_back(blank ? ' ' : c);
  }
  while (!version.empty() && version.back() == ' ') version.pop_back();
  return version.empty() ? "unknown version" : version;
}

class MpiWorld final : public Communicator {
 public:
  MpiWorld() {
    int finalized = 0;
    check(MPI_Finalized(&finalized), "MPI_Finalized");
    if (finalized) throw StateError("mpi_world: MPI was already finalised by this program");
    int initialized = 0;
    check(MPI_Initialized(&initialized), "MPI_Initialized");
    if (!initialized) {
      // FUNNELED: only this thread calls MPI (OpenBLAS's threads never do). A program that
      // initialised MPI itself also finalises it: then this library does neither.
      int provided = 0;
      check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
      register_end_mpi();
    }
    int rank = 0;
    int size = 1;
    check(MPI_Comm_rank(MPI_COMM_WORLD, &rank), "MPI_Comm_rank");
    check(MPI_Comm_size(MPI_COMM_WORLD, &size), "MPI_Comm_size");
    rank_ = static_cast<std::size_t>(rank);
    size_ = static_cast<std::size_t>(size);
    name_ = "MPI (" + library_version() + ")";
  }

  std::size_t rank() const override { return rank_; }
  std::size_t size() const override { return size_; }
  std::string name() const override { return name_; }

  // Sums: MPI_Reduce to rank 0, then MPI_Bcast of rank 0's result, not MPI_Allreduce. The MPI
  // standard does not promise that MPI_Allreduce gives every process the same bits (only advises a
  // reproducible order); MPI implementations and collective components (hierarchical, offloaded)
  // are free to add in a different order on different processes, and then the ranks' weights would
  // drift apart. A sum computed once, on rank 0, and copied, is the same on every rank by
  // construction. Open MPI 4.1.4's MPI_Allreduce did give identical bits on every rank here (2, 3, 4
  // processes, 1 to 3e6 floats of magnitudes 1e-8 .. 1e7), but in a different order than its
  // MPI_Reduce (about 10 % of the sums differ in the last bit for 3 and 4 processes): the choice
  // changes the rounding, not the maths. For a given number of processes and count, Open MPI picks
  // the same algorithm every time, so the same run gives the same bits.
  //
  // Two processes are the exception: each result is then one addition of two numbers, and IEEE 754
  // addition is commutative (a + b and b + a are the same bits; only two NaNs' payloads may differ),
  // so whatever the algorithm, every rank gets the bits MPI_Reduce would give. MPI_Allreduce does it
  // in one exchange instead of two: measured on Fashion-MNIST's 235,146 parameters, 2 ranks on one
  // machine, 212 us per step with MPI_Reduce + MPI_Bcast against 107 us with MPI_Allreduce.
  void allreduce_sum(float* values, std::size_t count) override { sum(values, count, MPI_FLOAT); }
  void allreduce_sum(double* values, std::size_t count) override { sum(values, count, MPI_DOUBLE); }
  // The same path as the sums: the maximum of a NaN, or of -0 and +0, depends on the order.
  void allreduce_max(double* values, std::size_t count) override {
    reduce_then_broadcast(values, count, MPI_DOUBLE, MPI_MAX);
  }

  void broadcast(void* data, std::size_t bytes, std::size_t root) override {
    check_root(root, "broadcast");
    if (size_ == 1) return;
    broadcast_chunks(static_cast<char*>(data), bytes, static_cast<int>(root));
  }

  std::vector<std::vector<double>> allgather(const std::vector<double>& values) override {
    if (size_ == 1) return {values};
    const std::uint64_t mine = values.size();
    std::vector<std::uint64_t> counts(size_);
    check(MPI_Allgather(&mine, 1, MPI_UINT64_T, counts.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD), "MPI_Allgather");
    std::uint64_t total = 0;
    for (std::uint64_t count : counts) total += count;

    std::vector<std::vector<double>> result(size_);
    if (total <= kMaxCount) {
      // One MPI_Allgatherv: counts and offsets fit in int.
      std::vector<int> sizes(size_);
      std::vector<int> offsets(size_);
      for (std::size_t r = 0; r < size_; ++r) {
        sizes[r] = static_cast<int>(counts[r]);
        offsets[r] = r == 0 ? 0 : offsets[r - 1] + sizes[r - 1];
      }
      std::vector<double> all(std::max<std::uint64_t>(total, 1));
      double unused = 0.0;  // a valid address for an empty send
      check(MPI_Allgatherv(values.empty() ? &unused : values.data(), static_cast<int>(mine), MPI_DOUBLE, all.data(),
                           sizes.data(), offsets.data(), MPI_DOUBLE, MPI_COMM_WORLD),
            "MPI_Allgatherv");
      for (std::size_t r = 0; r < size_; ++r) {
        result[r].assign(all.begin() + offsets[r], all.begin() + offsets[r] + sizes[r]);
      }
    } else {
      // More than INT_MAX values in all: each process's values broadcast from it, in pieces.
      for (std::size_t r = 0; r < size_; ++r) {
        result[r] = r == rank_ ? values : std::vector<double>(counts[r]);
        broadcast_chunks(reinterpret_cast<char*>(result[r].data()), counts[r] * sizeof(double), static_cast<int>(r));
      }
    }
    return result;
  }

  void barrier() override { check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }

  [[noreturn]] void abort(int code) override {
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);  // MPI_Abort does not return; this keeps the promise if it did
  }

 private:
  void check_root(std::size_t root, const char* what) const {
    if (root >= size_) {
      throw InvalidArgument(std::string(what) + ": expected a root below " + std::to_string(size_) +
                            " (the number of processes), received " + std::to_string(root));
    }
  }

  template <typename T>
  void sum(T* values, std::size_t count, MPI_Datatype type) {
    if (size_ != 2) {
      reduce_then_broadcast(values, count, type, MPI_SUM);
      return;
    }
    for (std::size_t first = 0; first < count; first += kMaxCount) {
      const int n = static_cast<int>(std::min(kMaxCount, count - first));
      check(MPI_Allreduce(MPI_IN_PLACE, values + first, n, type, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
    }
  }

  template <typename T>
  void reduce_then_broadcast(T* values, std::size_t count, MPI_Datatype type, MPI_Op op) {
    if (size_ == 1 || count == 0) return;
    for (std::size_t first = 0; first < count; first += kMaxCount) {
      const int n = static_cast<int>(std::min(kMaxCount, count - first));
      T* part = values + first;
      if (rank_ == 0) {
        check(MPI_Reduce(MPI_IN_PLACE, part, n, type, op, 0, MPI_COMM_WORLD), "MPI_Reduce");
      } else {
        check(MPI_Reduce(part, nullptr, n, type, op, 0, MPI_COMM_WORLD), "MPI_Reduce");
      }
      check(MPI_Bcast(part, n, type, 0, MPI_COMM_WORLD), "MPI_Bcast");
    }
  }

  static void broadcast_chunks(char* data, std::size_t bytes, int root) {
    for (std::size_t first = 0; first < bytes; first += kMaxCount) {
      const int n = static_cast<int>(std::min(kMaxCount, bytes - first));
      check(MPI_Bcast(data + first, n, MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
    }
  }

  std::size_t rank_ = 0;
  std::size_t size_ = 1;
  std::string name_;
};

}  // namespace

bool mpi_available() { return true; }

std::shared_ptr<Communicator> mpi_world() {
  // Initialised once, on the first call (thread-safe; a call that throws leaves it for the next one).
  static const std::shared_ptr<Communicator> world = std::make_shared<MpiWorld>();
  return world;
}

#endif  // XDENSE_HAVE_MPI

}  // namespace xdense
