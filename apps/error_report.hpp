#pragma once
// How the tool reports an error that ends a command: the one stderr line and the exit code, by the
// exception's type (README "Exit codes"). main() prints it; a data-parallel run (data_parallel.hpp)
// prints it once, from the rank that failed, naming the rank.

#include <exception>
#include <string>

namespace xdense::cli {

/// An exception as the tool reports it.
struct ErrorReport {
  int exit_code = 0;   ///< exit_user_error (xdense::Error, filesystem errors), exit_diverged, exit_internal_error
  std::string prefix;  ///< "error: " or "internal error: "
  std::string message;
  /// "xdense: error: <rank_note><message>", e.g. rank_note "rank 1: ".
  std::string line(const std::string& rank_note = "") const { return "xdense: " + prefix + rank_note + message; }
};

/// The report of `error` (not null): TrainingDiverged -> exit_diverged; other xdense::Error and
/// std::filesystem::filesystem_error (a path the OS refused) -> exit_user_error; std::bad_alloc
/// ("out of memory") and any other exception -> exit_internal_error.
ErrorReport report_of(std::exception_ptr error);

/// Thrown by a process of a data-parallel run that must end because another process failed, whose
/// error is already reported: main() exits with `exit_code` and prints nothing.
struct QuietExit {
  int exit_code;
};

}  // namespace xdense::cli
