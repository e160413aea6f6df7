#pragma once
// Collective agreements of data-parallel training (not part of the API).

#include <exception>
#include <string>
#include <vector>

#include "xdense/communicator.hpp"

namespace xdense::detail {

// Every process calls it after the checks it may fail on its own (`failure`: its error, or null).
// When any process failed, every one throws: a failed process its own error, the others a StateError
// naming the first failed process and its message. Returns normally when none failed.
void agree(Communicator& group, const std::exception_ptr& failure, const std::string& who);

// True on every process when `flag` is true on any.
bool agree_flag(Communicator& group, bool flag);

// InvalidArgument on every process when `values` (the settings that must match: sample count, batch
// size, epochs, parameter count, ...) differ between processes, naming the first that differs.
void check_same_run(Communicator& group, const std::vector<double>& values);

}  // namespace xdense::detail
