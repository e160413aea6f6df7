#include "xdense/communicator.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "xdense/error.hpp"

namespace xdense {

void SingleProcessCommunicator::abort(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(code);
}

RowRange shard_rows(std::size_t samples, std::size_t rank, std::size_t ranks) {
  if (ranks == 0 || rank >= ranks) {
    throw InvalidArgument("shard_rows: expected 0 <= rank < ranks, received rank " + std::to_string(rank) + " of " +
                          std::to_string(ranks));
  }
  const std::size_t base = samples / ranks;
  const std::size_t longer = samples % ranks;  // the first `longer` blocks hold one row more
  RowRange range;
  range.first = rank * base + std::min(rank, longer);
  range.count = base + (rank < longer ? 1 : 0);
  return range;
}

std::string broadcast_string(Communicator& communicator, const std::string& text, std::size_t root) {
  if (communicator.size() == 1) return text;
  std::uint64_t length = text.size();
  communicator.broadcast(&length, sizeof length, root);
  std::string result = communicator.rank() == root ? text : std::string(length, '\0');
  if (length != 0) communicator.broadcast(result.data(), length, root);
  return result;
}

}  // namespace xdense
