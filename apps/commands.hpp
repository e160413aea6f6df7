#pragma once
// The subcommands of the xdense tool, free of CLI11 so each compiles quickly.

#include <string>

namespace xdense::cli {

/// Settings of `xdense demo`.
struct DemoOptions {
  std::string data_dir = "data";
  unsigned long long seed = 42;
  bool quiet = false;
};

/// Trains the two demo classifiers on the shipped data and prints their results.
/// Returns the process exit code.
int run_demo(const DemoOptions& options);

}  // namespace xdense::cli
