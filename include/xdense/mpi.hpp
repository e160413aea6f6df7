#pragma once
/// \file
/// MPI: the communicator of every process mpirun (or srun) started. Available when xdense was built
/// with MPI (CMake option XDENSE_WITH_MPI, on when find_package(MPI) finds it); the header itself
/// never includes <mpi.h>.
///
///   if (xdense::launched_by_mpi()) options.communicator = xdense::mpi_world();

#include <memory>

#include "xdense/communicator.hpp"

namespace xdense {

/// True when this build of xdense has MPI.
bool mpi_available();

/// True when the environment says mpirun/mpiexec (Open MPI, MPICH, Intel MPI) or Slurm's srun with an
/// MPI plugin started this process: OMPI_COMM_WORLD_SIZE (Open MPI), PMI_SIZE (MPICH/Hydra, Intel
/// MPI, srun --mpi=pmi2), PMIX_RANK (PMIx: srun --mpi=pmix, Open MPI). Slurm's own variables alone
/// (SLURM_NTASKS: a batch script's process has them) do not count. A program that was not started
/// that way should not initialise MPI.
bool launched_by_mpi();

/// MPI_COMM_WORLD. The first call initialises MPI (MPI_Init_thread, MPI_THREAD_FUNNELED: only the
/// calling thread talks to MPI; OpenBLAS's threads do not), and MPI is finalised at exit; a program
/// that initialised MPI itself keeps doing both. Errors in MPI end the job (MPI_ERRORS_ARE_FATAL).
/// A process that exits with a non-zero status (exit(), or returning it from main) ends the whole
/// job with that status (MPI_Abort: the others may be waiting for it in a collective, and finalising
/// would wait for them); a process that cannot go on should say why and call abort(code).
/// Without a launcher it is a world of one process. StateError when xdense was built without MPI, or
/// when the program has already finalised MPI.
std::shared_ptr<Communicator> mpi_world();

}  // namespace xdense
