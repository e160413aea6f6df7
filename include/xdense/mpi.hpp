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

/// True when the environment says mpirun/mpiexec (Open MPI, MPICH, Intel MPI) or Slurm's srun started
/// this process as one of several (OMPI_COMM_WORLD_SIZE, PMI_SIZE, PMIX_RANK with PMIX_SIZE...,
/// SLURM_NTASKS): a program that was not started that way does not initialise MPI.
bool launched_by_mpi();

/// MPI_COMM_WORLD. The first call initialises MPI (MPI_Init_thread, MPI_THREAD_FUNNELED: only the
/// calling thread talks to MPI; OpenBLAS's threads do not), and MPI is finalised at exit. Errors
/// in MPI end the job (MPI_ERRORS_ARE_FATAL). StateError when xdense was built without MPI.
std::shared_ptr<Communicator> mpi_world();

}  // namespace xdense
