#include "data_parallel.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "commands.hpp"
#include "error_report.hpp"
#include "xdense/error.hpp"
#include "xdense/mpi.hpp"

namespace xdense::cli {
namespace {

// This process's rank as its launcher numbers it (before MPI is initialised, or without MPI):
// Open MPI, MPICH/Hydra and Intel MPI, PMIx, Slurm. 0 when none says.
long launcher_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"}) {
    if (const char* value = std::getenv(name)) return std::strtol(value, nullptr, 10);
  }
  return 0;
}

std::string rank_note(std::size_t rank) { return "rank " + std::to_string(rank) + ": "; }

}  // namespace

bool first_process_of_job() { return !launched_by_mpi() || launcher_rank() == 0; }

std::shared_ptr<Communicator> training_world() {
  if (!launched_by_mpi()) return nullptr;
  if (!mpi_available()) {
    // Each process would train alone and write the same files: refused, said once.
    if (!first_process_of_job()) throw QuietExit{exit_user_error};
    throw StateError("launched by mpirun or srun, but this xdense was built without MPI: install libopenmpi-dev and "
                     "rebuild it (or run it without mpirun)");
  }
  return mpi_world();
}

void agree_on_setup(Communicator& world, const std::function<void()>& setup) {
  std::exception_ptr failure;
  try {
    setup();
  } catch (...) {
    failure = std::current_exception();
  }
  if (world.size() == 1) {
    if (failure) std::rethrow_exception(failure);
    return;
  }
  const ErrorReport report = failure ? report_of(failure) : ErrorReport{};
  // {failed, exit code} of every process.
  const std::vector<std::vector<double>> outcomes = world.allgather({failure ? 1.0 : 0.0, double(report.exit_code)});
  for (std::size_t rank = 0; rank < outcomes.size(); ++rank) {
    if (outcomes[rank].at(0) == 0.0) continue;
    if (rank == world.rank()) {
      // Printed before anyone exits: a process's exit ends the job, maybe before a later print.
      std::fprintf(stderr, "%s\n", report.line(rank == 0 ? "" : rank_note(rank)).c_str());
      std::fflush(stderr);
    }
    world.barrier();
    throw QuietExit{static_cast<int>(outcomes[rank].at(1))};
  }
}

void run_collective(Communicator& world, const std::function<void()>& step) {
  if (world.size() == 1) return step();
  try {
    step();
  } catch (const TrainingDiverged&) {
    if (world.rank() == 0) throw;
    throw QuietExit{exit_diverged};
  } catch (...) {
    const ErrorReport report = report_of(std::current_exception());
    std::fprintf(stderr, "%s\n", report.line(rank_note(world.rank())).c_str());
    std::fflush(stderr);
    throw JobAbort{report.exit_code};
  }
}

int run_ending_job_on_abort(const std::shared_ptr<Communicator>& world, const std::function<int()>& run) {
  try {
    return run();
  } catch (const JobAbort& e) {
    if (world) world->abort(e.exit_code);
    return e.exit_code;
  }
}

}  // namespace xdense::cli
