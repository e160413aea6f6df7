#pragma once
// Helpers shared by the tests that run the built xdense binary (cli_test, tutorial_test).

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>
#include <algorithm>
#include <sys/wait.h>
#include <cstdlib>

#include <gtest/gtest.h>

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

/// The non-empty lines of a CSV text split at commas (for the tool's own outputs and the test files:
/// no quoted fields).
inline std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> fields;
    std::istringstream fields_in(line);
    std::string field;
    while (std::getline(fields_in, field, ',')) fields.push_back(field);
    rows.push_back(fields);
  }
  return rows;
}

/// Number of '\n'-terminated lines.
inline std::size_t count_lines(const std::string& text) {
  std::size_t n = 0;
  for (char c : text) n += c == '\n';
  return n;
}


#ifdef XDENSE_CLI
/// Fixture for the tests that run the built tool: a fresh temporary folder per test, the tool run
/// in it with stdout and stderr captured, and checks for the exit-code promises.
class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::path(::testing::TempDir()) / (std::string("xdense_cli_") + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }

  std::filesystem::path path(const std::string& name) const { return dir_ / name; }

  // Runs `xdense ARGS` in the test's folder; stdout and stderr captured separately.
  CommandResult xdense(const std::string& args) const { return xdense_in_shell("'" XDENSE_CLI "' " + args); }

  // Runs a shell command line in the test's folder (for ulimit, pipes, ...); output captured.
  CommandResult xdense_in_shell(const std::string& line) const {
    const std::filesystem::path out = dir_ / ".stdout", err = dir_ / ".stderr";
    const std::string command = "cd '" + dir_.string() + "' && (" + line + ") >'" + out.string() + "' 2>'" +
                                err.string() + "' </dev/null";
    const int status = std::system(command.c_str());
    CommandResult run;
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    run.out = read_file(out);
    run.err = read_file(err);
    std::filesystem::remove(out);
    std::filesystem::remove(err);
    return run;
  }

  // A failing command: exit 2, exactly one line on stderr containing every fragment.
  void expect_user_error(const std::string& args, const std::vector<std::string>& fragments) const {
    const CommandResult run = xdense(args);
    EXPECT_EQ(run.exit_code, 2) << args << "\n" << run.err;
    EXPECT_EQ(count_lines(run.err), 1u) << run.err;
    for (const auto& f : fragments)
      EXPECT_NE(run.err.find(f), std::string::npos) << "missing '" << f << "' in: " << run.err;
  }

  // No file other than the ones listed is in the folder (no partial or temp outputs).
  void expect_only_files(const std::vector<std::string>& names) const {
    std::vector<std::string> found;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) found.push_back(entry.path().filename().string());
    std::sort(found.begin(), found.end());
    std::vector<std::string> expected = names;
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(found, expected);
  }

  std::string train_cancer(const std::string& output, const std::string& extra = "") const {
    const CommandResult run = xdense("train --data " + std::string(XDENSE_DATA_DIR) +
                                     "/breast_cancer.csv --label-column benign --layers 16:relu,1:sigmoid "
                                     "--loss binary_crossentropy --optimizer adam --epochs 50 --batch-size 32 "
                                     "--validation-split 0.2 --standardize --output " +
                                     output + " " + extra);
    EXPECT_EQ(run.exit_code, 0) << run.err;
    return run.out;
  }

  std::filesystem::path dir_;
};
#endif  // XDENSE_CLI

}  // namespace xdense::testing
