#pragma once
// Helpers shared by the tests that run the built xdense binary (cli_test, tutorial_test).

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace xdense::testing {

/// Exit code and captured output of one run of the tool.
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Whole file as bytes ("" if it cannot be read).
inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Number of '\n'-terminated lines.
inline std::size_t count_lines(const std::string& text) {
  std::size_t n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

}  // namespace xdense::testing
