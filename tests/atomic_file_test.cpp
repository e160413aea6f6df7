// Tests of include/xdense/atomic_file.hpp.

#include "xdense/atomic_file.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "xdense/error.hpp"

namespace xdense {
namespace {

namespace fs = std::filesystem;

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("xdense_atomic_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(WriteFileAtomically, CreatesAndReplacesWithoutLeavingTemporaries) {
  const fs::path dir = fresh_dir("replace");
  const fs::path file = dir / "out.csv";
  write_file_atomically(file.string(), "first\n");
  EXPECT_EQ(read_all(file), "first\n");
  write_file_atomically(file.string(), std::string("second\0binary", 13));
  EXPECT_EQ(read_all(file), std::string("second\0binary", 13));
  std::size_t entries = 0;
  for (const auto& entry : fs::directory_iterator(dir)) entries += entry.is_regular_file();
  EXPECT_EQ(entries, 1u);
}

TEST(WriteFileAtomically, FailureNamesThePathAndLeavesNothing) {
  const fs::path dir = fresh_dir("missing");
  const fs::path file = dir / "no_such_folder" / "out.csv";
  try {
    write_file_atomically(file.string(), "x");
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(WriteFileAtomically, RenameOntoADirectoryFailsAndKeepsIt) {
  const fs::path dir = fresh_dir("ontodir");
  fs::create_directories(dir / "target");
  EXPECT_THROW(write_file_atomically((dir / "target").string(), "x"), DataError);
  EXPECT_TRUE(fs::is_directory(dir / "target"));
  std::size_t entries = 0;
  for (const auto& entry : fs::directory_iterator(dir)) entries += 1 + 0 * entry.is_regular_file();
  EXPECT_EQ(entries, 1u);  // only the directory: the temporary file was removed
}

}  // namespace
}  // namespace xdense
