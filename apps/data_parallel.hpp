#pragma once
// The processes of a data-parallel `xdense train` (mpirun -np N, srun): which ones there are, and how
// they end together. Every process runs the same command on the same data; rank 0 alone prints and
// writes files. A failure must end every process, never leave one waiting in a collective:
//  - while loading (before training's first collective), every process runs its setup, then they
//    agree (agree_on_setup): if any failed, the lowest failing rank's error is printed once and
//    every process exits with its code;
//  - while training, an error of one process (its checkpoint unwritable, out of memory) cannot be
//    agreed on, as the others are in a collective: that process reports it naming its rank and ends
//    the whole job (run_collective).

#include <functional>
#include <memory>

#include "xdense/communicator.hpp"

namespace xdense::cli {

/// False on a process its launcher (mpirun, srun) started as rank 1 or higher: such a process leaves
/// the messages of errors every process finds alike (a mistyped flag) to rank 0. Read from the
/// launcher's environment, so it holds before MPI is initialised and in a build without MPI.
bool first_process_of_job();

/// The processes of this run: null when the tool was not launched by mpirun/srun
/// (xdense::launched_by_mpi()); else MPI_COMM_WORLD, of one or more processes. Launched by MPI
/// while this build has none: StateError (printed by rank 0 only, as its launcher numbers it; the
/// others end with a QuietExit of exit_user_error).
std::shared_ptr<Communicator> training_world();

/// Runs `setup` on every process of `world` (a collective: every process must call it), then
/// agrees on the outcome with one allgather. None failed: returns. Some failed: the lowest failing
/// rank prints its error (report_of(), "rank k: " before the message when k > 0) and every process
/// throws QuietExit with that error's exit code once it has been printed. With one process, the
/// setup's exception simply propagates.
void agree_on_setup(Communicator& world, const std::function<void()>& setup);

/// Thrown by run_collective() once the error is printed: the job must end (Communicator::abort),
/// after this process's objects are destroyed (its reserved outputs' temporary files removed).
struct JobAbort {
  int exit_code;
};

/// Runs `step`, a part of the run every process executes in step with the others (training, the
/// --test evaluation). With one process, exceptions propagate. With several: TrainingDiverged (raised
/// alike on every process, from the combined loss and the common weights) propagates on rank 0
/// and becomes a QuietExit(exit_diverged) elsewhere; any other exception is printed at once as
/// "xdense: error: rank k: <message>" and becomes a JobAbort with its exit code.
void run_collective(Communicator& world, const std::function<void()>& step);

/// Runs the whole command `run` and returns its exit code; a JobAbort leaving it ends every process
/// of `world` with its exit code (Communicator::abort), so no process waits forever for this one.
/// The job's other processes are ended by their launcher (mpirun sends SIGTERM: their temporary files
/// are removed by install_signal_cleanup()). Without a world, `run` alone.
int run_ending_job_on_abort(const std::shared_ptr<Communicator>& world, const std::function<int()>& run);

}  // namespace xdense::cli
