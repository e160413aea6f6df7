// Tests of the readers' one way of opening a file (src/input_file.hpp, private to the library) and,
// through it, of every public reader (CSV, IDX, NPY, model file, checkpoint, JSON model config):
// non-regular files (FIFO, character and block devices, socket, directory) are refused at once,
// never opened, so a FIFO without a writer cannot block; ordinary bad paths (missing, symlink
// loop, name too long, permission denied) are DataErrors naming the path and the OS's reason; a
// sparse file of a terabyte is refused after reading a few bytes (or one CSV line's limit), and a
// valid file followed by a terabyte of zeros after reading what its header declares.
//
// Every call that could block or read for ever runs in a child process with an alarm: a hang is
// reported as a failure after a few seconds, and the child's peak memory is checked too.
// Nothing here touches /dev: device nodes are made with mknod in a temporary folder (as root;
// skipped with a message where that is not permitted) and never opened.

#include "../src/input_file.hpp"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>  // mkdtemp
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "xdense/checkpoint.hpp"
#include "xdense/csv.hpp"
#include "xdense/dense.hpp"
#include "xdense/error.hpp"
#include "xdense/idx.hpp"
#include "xdense/model_config.hpp"
#include "xdense/model_file.hpp"
#include "xdense/npy.hpp"

namespace xdense {
namespace {

constexpr std::uint64_t terabyte = std::uint64_t{1} << 40;

/// What a call did in a child process.
struct Outcome {
  bool finished = false;      // false: killed (by the alarm when it blocked or ran too long)
  std::string error;          // the DataError's message; empty if none
  std::string other;          // "no error", or another exception's type and message
  double seconds = 0;         // wall time of the child
  double peak_rss_mb = 0;     // the child's peak resident memory (including what it shares with us)
};

/// Runs `call` in a child process that is killed after `limit_seconds`. With `as_nobody` the child
/// first becomes user and group 65534 (only when running as root).
Outcome run_bounded(const std::function<void()>& call, unsigned limit_seconds = 30, bool as_nobody = false) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) {
    ADD_FAILURE() << "pipe: " << std::strerror(errno);
    return {};
  }
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    return {};
  }
  if (pid == 0) {
    ::close(pipe_fds[0]);
    ::alarm(limit_seconds);  // SIGALRM's default action ends the child
    std::string report;
    if (as_nobody && (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0)) {
      report = "Ecannot become nobody";
    } else {
      try {
        call();
        report = "Eno error";
      } catch (const DataError& e) {
        report = std::string("D") + e.what();
      } catch (const std::exception& e) {
        report = std::string("Eother exception: ") + e.what();
      }
    }
    const char* p = report.data();
    std::size_t left = report.size();
    while (left > 0) {
      const ssize_t n = ::write(pipe_fds[1], p, left);
      if (n <= 0) break;
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string report;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    report.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  struct rusage usage {};
  while (::wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  Outcome outcome;
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  outcome.peak_rss_mb = static_cast<double>(usage.ru_maxrss) / 1024.0;
  outcome.finished = WIFEXITED(status) && !report.empty();
  if (!report.empty() && report[0] == 'D') outcome.error = report.substr(1);
  if (!report.empty() && report[0] == 'E') outcome.other = report.substr(1);
  if (!outcome.finished) {
    outcome.other = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status)) +
                                              (WTERMSIG(status) == SIGALRM ? " (blocked or too slow)" : "")
                                        : "no report";
  }
  return outcome;
}

/// A reader of the public API, by name.
struct Reader {
  const char* name;
  std::function<void(const std::string&)> read;
};

const std::vector<Reader>& readers() {
  static const std::vector<Reader> all = {
      {"load_csv", [](const std::string& path) { load_csv(path); }},
      {"load_csv_columns", [](const std::string& path) { load_csv_columns(path); }},
      {"load_idx_images", [](const std::string& path) { load_idx_images(path); }},
      {"load_idx_labels", [](const std::string& path) { load_idx_labels(path); }},
      {"load_npy", [](const std::string& path) { load_npy(path); }},
      {"load_model", [](const std::string& path) { load_model(path); }},
      {"load_checkpoint", [](const std::string& path) { load_checkpoint(path); }},
      {"add_layers_from_json_file",
       [](const std::string& path) {
         Sequential model;
         add_layers_from_json_file(model, path);
       }},
  };
  return all;
}

/// Checks that every reader refuses `path` promptly with exactly `message`, and that the format
/// probes say no without blocking.
void expect_every_reader_refuses(const std::string& path, const std::string& message) {
  for (const Reader& reader : readers()) {
    const Outcome outcome = run_bounded([&] { reader.read(path); });
    EXPECT_TRUE(outcome.finished) << reader.name << " on " << path << ": " << outcome.other;
    EXPECT_EQ(outcome.error, message) << reader.name << " (" << outcome.other << ")";
    EXPECT_LT(outcome.seconds, 10.0) << reader.name;
  }
  const Outcome probes = run_bounded([&] {
    if (looks_like_idx(path) || looks_like_npy(path)) throw DataError("a probe said yes");
  });
  EXPECT_TRUE(probes.finished) << path << ": " << probes.other;
  EXPECT_EQ(probes.other, "no error") << probes.error;
}

class InputFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "xdense_input_XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr) << std::strerror(errno);
    dir_ = pattern;
  }
  void TearDown() override {
    if (socket_ >= 0) ::close(socket_);
    std::error_code ignored;
    std::filesystem::permissions(dir_, std::filesystem::perms::owner_all, ignored);
    std::filesystem::remove_all(dir_, ignored);
  }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  void write(const std::string& name, const std::string& bytes) const {
    std::ofstream out(path(name), std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    ASSERT_TRUE(out.good()) << path(name);
  }

  /// Makes `name` `size` bytes long (a sparse tail of zeros); false when the file system cannot.
  bool extend(const std::string& name, std::uint64_t size) const {
    const int fd = ::open(path(name).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return false;
    const bool done = ::ftruncate(fd, static_cast<off_t>(size)) == 0;
    ::close(fd);
    struct stat status {};
    // A file system without holes would store the zeros: refuse rather than fill the disk.
    return done && ::stat(path(name).c_str(), &status) == 0 && static_cast<std::uint64_t>(status.st_size) == size &&
           static_cast<std::uint64_t>(status.st_blocks) * 512 < (std::uint64_t{64} << 20);
  }

  std::string dir_;
  int socket_ = -1;
};

// --- the helper itself ------------------------------------------------------------------------

TEST_F(InputFileTest, ReadsARegularFileAndKnowsItsSize) {
  write("data.bin", "0123456789");
  detail::InputFile file(path("data.bin"));
  EXPECT_EQ(file.path(), path("data.bin"));
  EXPECT_EQ(file.size(), 10u);
  char buffer[16] = {};
  EXPECT_EQ(file.read(buffer, 4), 4u);
  EXPECT_EQ(std::string(buffer, 4), "0123");
  EXPECT_EQ(file.remaining(), 6u);
  EXPECT_EQ(file.read(buffer, sizeof buffer), 6u);  // fewer only at the end
  EXPECT_EQ(file.read(buffer, sizeof buffer), 0u);
  EXPECT_EQ(file.remaining(), 0u);
  EXPECT_EQ(detail::InputFile(path("data.bin")).read_all(10, "test file"), "0123456789");
}

TEST_F(InputFileTest, FollowsSymbolicLinksToRegularFiles) {
  write("target.bin", "abc");
  ASSERT_EQ(::symlink("target.bin", path("link").c_str()), 0);
  EXPECT_EQ(detail::InputFile(path("link")).read_all(100, "test file"), "abc");
}

TEST_F(InputFileTest, ReadAllRefusesAFileOverItsLimitBeforeReadingIt) {
  write("small.txt", "12345");
  EXPECT_EQ(detail::InputFile(path("small.txt")).read_all(5, "test file"), "12345");
  try {
    detail::InputFile(path("small.txt")).read_all(4, "test file");
    ADD_FAILURE() << "no DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()), path("small.txt") + ": 5 bytes, more than the 4 bytes a test file may hold");
  }
  if (!extend("huge.txt", terabyte)) GTEST_SKIP() << "the temporary folder's file system has no sparse files";
  const Outcome outcome = run_bounded([&] { detail::InputFile(path("huge.txt")).read_all(16 << 20, "test file"); });
  EXPECT_EQ(outcome.error, path("huge.txt") + ": 1099511627776 bytes, more than the 16 MiB a test file may hold");
  EXPECT_LT(outcome.seconds, 5.0);
}

TEST_F(InputFileTest, SizeTextNamesWholeMebibytesAndKibibytes) {
  EXPECT_EQ(detail::size_text(std::uint64_t{64} << 20), "64 MiB");
  EXPECT_EQ(detail::size_text(65536), "64 KiB");
  EXPECT_EQ(detail::size_text(1000), "1000 bytes");
  EXPECT_EQ(detail::size_text(0), "0 bytes");
}

TEST_F(InputFileTest, TextStreamHoldsEveryLineToItsLimitCountingLfCrlfAndCrLines) {
  const auto read_lines = [](const std::string& file, std::uint64_t limit) {
    detail::TextInputStream in(file, limit);
    std::string line, all;
    while (std::getline(in, line)) all += line + "|";
    return all;
  };
  // Lines of exactly the limit pass; line endings are not counted.
  write("ok.txt", "12345\r\n12345\n12345\r12345");
  EXPECT_EQ(read_lines(path("ok.txt"), 5), "12345\r|12345|12345\r12345|");
  // Line 4 is too long whichever ending came before it.
  for (const std::string ending : {"\n", "\r\n", "\r"}) {
    write("long.txt", "a" + ending + "b" + ending + "c" + ending + "123456" + ending);
    try {
      read_lines(path("long.txt"), 5);
      ADD_FAILURE() << "no DataError";
    } catch (const DataError& e) {
      EXPECT_EQ(std::string(e.what()), path("long.txt") + ":4: line longer than the limit of 5 bytes (not a text file?)");
    }
  }
  // A file without a line break is not read whole.
  if (!extend("zeros", terabyte)) GTEST_SKIP() << "the temporary folder's file system has no sparse files";
  const Outcome outcome = run_bounded([&] { read_lines(path("zeros"), 1 << 20); });
  EXPECT_EQ(outcome.error, path("zeros") + ":1: line longer than the limit of 1 MiB (not a text file?)");
  EXPECT_LT(outcome.seconds, 5.0);
}

// --- special files, through every reader ------------------------------------------------------

TEST_F(InputFileTest, EveryReaderRefusesAFifoAtOnceEvenWithoutAWriter) {
  ASSERT_EQ(::mkfifo(path("pipe").c_str(), 0600), 0) << std::strerror(errno);
  expect_every_reader_refuses(path("pipe"), path("pipe") + ": is a FIFO (named pipe); xdense reads regular files only");
  // Through a symbolic link, the target is what counts.
  ASSERT_EQ(::symlink("pipe", path("link").c_str()), 0);
  expect_every_reader_refuses(path("link"), path("link") + ": is a FIFO (named pipe); xdense reads regular files only");
}

TEST_F(InputFileTest, EveryReaderRefusesADirectory) {
  expect_every_reader_refuses(dir_, dir_ + ": is a directory");
  expect_every_reader_refuses(dir_ + "/", dir_ + "/: is a directory");
}

TEST_F(InputFileTest, EveryReaderRefusesASocket) {
  const std::string file = path("socket");
  sockaddr_un address{};
  if (file.size() >= sizeof address.sun_path) GTEST_SKIP() << "temporary folder path too long for a socket";
  socket_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(socket_, 0) << std::strerror(errno);
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, file.c_str(), file.size() + 1);
  ASSERT_EQ(::bind(socket_, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0) << std::strerror(errno);
  expect_every_reader_refuses(file, file + ": is a socket; xdense reads regular files only");
}

TEST_F(InputFileTest, EveryReaderRefusesDeviceNodesWithoutOpeningThem) {
  // The numbers of /dev/zero and /dev/loop0, in our own folder; they are never opened.
  if (::mknod(path("zero").c_str(), S_IFCHR | 0600, ::makedev(1, 5)) != 0) {
    GTEST_SKIP() << "mknod in " << dir_ << " not permitted (" << std::strerror(errno) << "): run as root to test devices";
  }
  expect_every_reader_refuses(path("zero"), path("zero") + ": is a character device; xdense reads regular files only");
  ASSERT_EQ(::mknod(path("disk").c_str(), S_IFBLK | 0600, ::makedev(7, 0)), 0) << std::strerror(errno);
  expect_every_reader_refuses(path("disk"), path("disk") + ": is a block device; xdense reads regular files only");
}

// --- bad paths: the OS's reason, never a filesystem_error ----------------------------------------

TEST_F(InputFileTest, EveryReaderNamesTheOsReasonForABadPath) {
  expect_every_reader_refuses(path("missing"), path("missing") + ": cannot open file: No such file or directory");
  write("file", "x");
  expect_every_reader_refuses(path("file/inside"), path("file/inside") + ": cannot open file: Not a directory");
  ASSERT_EQ(::symlink("loop", path("loop").c_str()), 0);
  expect_every_reader_refuses(path("loop"), path("loop") + ": cannot open file: Too many levels of symbolic links");
  const std::string long_name = path(std::string(300, 'n'));
  expect_every_reader_refuses(long_name, long_name + ": cannot open file: File name too long");
  expect_every_reader_refuses("", ": cannot open file: No such file or directory");
}

TEST_F(InputFileTest, EveryReaderNamesPermissionDenied) {
  write("secret", "x");
  ASSERT_EQ(::chmod(path("secret").c_str(), 0), 0);
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  const bool root = ::geteuid() == 0;  // root reads anything: test as user nobody then
  if (root && run_bounded([] {}, 30, true).other != "no error") {
    GTEST_SKIP() << "running as root without the right to become user nobody";
  }
  const std::string message = path("secret") + ": cannot open file: Permission denied";
  for (const Reader& reader : readers()) {
    const Outcome outcome = run_bounded([&] { reader.read(path("secret")); }, 30, root);
    EXPECT_EQ(outcome.error, message) << reader.name << " (" << outcome.other << ")";
  }
}

// --- sparse files: refused after reading a few bytes ----------------------------------------------

TEST_F(InputFileTest, EveryReaderRefusesATerabyteOfZerosAfterAFewBytes) {
  if (!extend("zeros", terabyte)) GTEST_SKIP() << "the temporary folder's file system has no sparse files";
  const std::string file = path("zeros");
  const std::vector<std::pair<const char*, std::string>> expected = {
      {"load_csv", ":1: line longer than the limit of 64 MiB (not a text file?)"},
      {"load_csv_columns", ":1: line longer than the limit of 64 MiB (not a text file?)"},
      {"load_idx_images", ": not an IDX file (magic 0x00000000)"},
      {"load_idx_labels", ": not an IDX file (magic 0x00000000)"},
      {"load_npy", ": not a .npy file (does not start with \\x93NUMPY)"},
      {"load_model", ": not an xdense model file (wrong magic bytes)"},
      {"load_checkpoint", ": not an xdense checkpoint (wrong magic bytes)"},
      {"add_layers_from_json_file", ": 1099511627776 bytes, more than the 16 MiB a JSON model config may hold"},
  };
  ASSERT_EQ(expected.size(), readers().size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(std::string(readers()[i].name), expected[i].first);
    const Outcome outcome = run_bounded([&] { readers()[i].read(file); });
    EXPECT_EQ(outcome.error, file + expected[i].second) << expected[i].first << " (" << outcome.other << ")";
    EXPECT_LT(outcome.seconds, 10.0) << expected[i].first;
    EXPECT_LT(outcome.peak_rss_mb, 512.0) << expected[i].first;
  }
}

TEST_F(InputFileTest, ValidFilesWithATerabyteTailAreRefusedAtTheEndOfWhatTheyDeclare) {
  // Each: a valid file, then zeros up to 1 TiB; refused without reading the zeros.
  Sequential model;
  model.add(std::make_unique<Dense>(3, 2)).add("relu").add(std::make_unique<Dense>(1)).add("sigmoid");
  model.compile("binary_crossentropy", "adam");
  model.build(2);
  save_model(path("model.xdm"), model, {});
  save_checkpoint(path("checkpoint.xdc"), model, {}, capture_training_state(model, 0, History{}));
  const float values[3] = {1, 2, 3};
  save_npy(path("array.npy"), values, {3});
  write("labels.idx", std::string("\0\0\x08\x01\0\0\0\x02\x05\x07", 10));
  struct Case {
    std::string name;
    std::function<void(const std::string&)> read;
    std::string message;  // after "PATH: "
  };
  const std::vector<Case> cases = {
      {"model.xdm", [](const std::string& p) { load_model(p); }, "trailing bytes after the checksum"},
      {"checkpoint.xdc", [](const std::string& p) { load_checkpoint(p); }, " unread bytes"},
      {"array.npy", [](const std::string& p) { load_npy(p); }, "trailing garbage: 1099511627"},
      {"labels.idx", [](const std::string& p) { load_idx_labels(p); },
       "trailing garbage: " + std::to_string(terabyte - 10) + " bytes after the 2 bytes of data the header describes (2)"},
  };
  for (const Case& c : cases) {
    ASSERT_NO_THROW(c.read(path(c.name))) << c.name;
    if (!extend(c.name, terabyte)) GTEST_SKIP() << "the temporary folder's file system has no sparse files";
    const Outcome outcome = run_bounded([&] { c.read(path(c.name)); });
    EXPECT_EQ(outcome.error.rfind(path(c.name) + ": ", 0), 0u) << c.name << ": " << outcome.error << outcome.other;
    EXPECT_NE(outcome.error.find(c.message), std::string::npos) << outcome.error;
    EXPECT_LT(outcome.seconds, 10.0) << c.name;
    EXPECT_LT(outcome.peak_rss_mb, 512.0) << c.name;
  }
}

// --- memory: a wide CSV header is refused before huge vectors are built ---------------------------

#if defined(__SANITIZE_ADDRESS__)
constexpr bool sanitized = true;  // AddressSanitizer's quarantine and shadow change peak memory
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool sanitized = true;
#else
constexpr bool sanitized = false;
#endif
#else
constexpr bool sanitized = false;
#endif

TEST_F(InputFileTest, WideCsvLinesAreRefusedWithBoundedMemory) {
  // Issue 12: a 100 MB single-line file of ~10^7 short names peaked at 1.3-2.2 GB; now its line is
  // refused at 64 MiB. A 60 MB line of ~6.7 million names fits in a line but not in the 10^6
  // columns allowed, and is refused at the millionth field.
  const auto names = [](std::size_t bytes) {
    std::string line;
    for (std::size_t i = 0; line.size() < bytes; ++i) line += (i > 0 ? ",c" : "c") + std::to_string(i);
    return line;
  };
  write("100mb.csv", names(100'000'000));
  write("60mb.csv", names(60'000'000));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"100mb.csv", ":1: line longer than the limit of 64 MiB (not a text file?)"},
      {"60mb.csv", ":1: more than 1000000 columns (the limit)"},
  };
  for (const auto& [name, message] : cases) {
    for (const Reader& reader : {readers()[0], readers()[1]}) {  // load_csv, load_csv_columns
      const Outcome outcome = run_bounded([&, file = path(name)] { reader.read(file); });
      EXPECT_EQ(outcome.error, path(name) + message) << reader.name << " (" << outcome.other << ")";
      if (!sanitized) {
        EXPECT_LT(outcome.peak_rss_mb, 300.0) << reader.name << " on " << name;
      }
      std::printf("%s on %s: %.0f MB peak, %.2f s\n", reader.name, name.c_str(), outcome.peak_rss_mb, outcome.seconds);
    }
  }
}

}  // namespace
}  // namespace xdense
