// Placeholder until the MPI implementation lands (issue 16): built without MPI.
#include "xdense/mpi.hpp"

#include <cstdlib>

#include "xdense/error.hpp"

namespace xdense {

bool mpi_available() { return false; }

bool launched_by_mpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

std::shared_ptr<Communicator> mpi_world() {
  throw StateError("mpi_world: this xdense was built without MPI (install libopenmpi-dev and reconfigure)");
}

}  // namespace xdense
