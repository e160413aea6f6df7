// Tests of include/xdense/atomic_file.hpp. Everything happens inside temporary folders: device
// nodes are made there with mknod (skipped where not permitted), never touched under /dev.

#include "xdense/atomic_file.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "xdense/error.hpp"

namespace xdense {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

/// Removes the test's folders when the tests end.
class FolderCleanup : public ::testing::Environment {
 public:
  static std::vector<fs::path>& folders() {
    static std::vector<fs::path> created;
    return created;
  }
  void TearDown() override {
    std::error_code ignored;
    for (const fs::path& dir : folders()) fs::remove_all(dir, ignored);
  }
};
const auto* const folder_cleanup = ::testing::AddGlobalTestEnvironment(new FolderCleanup);

/// An empty folder of this process (tests of several builds may run at once).
fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("xdense_atomic_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  FolderCleanup::folders().push_back(dir);
  return dir;
}

/// The names in `dir`, sorted.
std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

bool has_temporary(const fs::path& dir) {
  const auto names = listing(dir);
  return std::any_of(names.begin(), names.end(), [](const std::string& n) { return n.find(".tmp-") != std::string::npos; });
}

template <class F>
std::string data_error_of(F&& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no DataError";
  return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

/// Makes character device (major, minor) at `path`; "" when done, else why not (to skip with).
std::string make_char_device(const fs::path& path, unsigned major, unsigned minor) {
  if (::mknod(path.c_str(), S_IFCHR | 0666, ::makedev(major, minor)) != 0) {
    return std::string("mknod of a character device is not permitted here: ") + std::strerror(errno);
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    const std::string why = std::string("device nodes cannot be opened here (nodev mount?): ") + std::strerror(errno);
    ::unlink(path.c_str());
    return why;
  }
  ::close(fd);
  return "";
}

bool is_char_device(const fs::path& p) { return fs::symlink_status(p).type() == fs::file_type::character; }

void set_mtime_ago(const fs::path& p, long seconds) {
  timespec times[2];
  ::clock_gettime(CLOCK_REALTIME, &times[0]);
  times[0].tv_sec -= seconds;
  times[1] = times[0];
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << p << ": " << std::strerror(errno);
}

/// Waits for `pid` at most `seconds`, then kills it; its wait status, or -1 after a kill.
int wait_bounded(pid_t pid, double seconds) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  int status = 0;
  while (Clock::now() < deadline) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0 && errno != EINTR) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

/// Runs `body` in a child process (as user 65534 when `as_nobody` and this is root) and returns
/// its exit code: 77 means "could not drop privileges", -1 a child that did not end in 30 s.
int exit_code_in_child(bool as_nobody, const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (as_nobody && ::geteuid() == 0) {
      if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) {
        ::_exit(77);
      }
    }
    int code = 1;
    try {
      code = body();
    } catch (...) {
      code = 2;
    }
    ::_exit(code);
  }
  const int status = wait_bounded(pid, 30);
  return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// ------------------------------------------------------------------- regular files

TEST(WriteFileAtomically, CreatesAndReplacesWithoutLeavingTemporaries) {
  const fs::path dir = fresh_dir("replace");
  const fs::path file = dir / "out.csv";
  write_file_atomically(file.string(), "first\n");
  EXPECT_EQ(read_all(file), "first\n");
  write_file_atomically(file.string(), std::string("second\0binary", 13));
  EXPECT_EQ(read_all(file), std::string("second\0binary", 13));
  EXPECT_EQ(listing(dir), std::vector<std::string>{"out.csv"});
}

TEST(WriteFileAtomically, FailureNamesThePathAndLeavesNothing) {
  const fs::path dir = fresh_dir("missing");
  const fs::path file = dir / "no_such_folder" / "out.csv";
  const std::string message = data_error_of([&] { write_file_atomically(file.string(), "x"); });
  EXPECT_TRUE(contains(message, file.string() + ": ")) << message;
  EXPECT_TRUE(contains(message, "No such file or directory")) << message;
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(WriteFileAtomically, ADirectoryIsRefusedAndKept) {
  const fs::path dir = fresh_dir("ontodir");
  fs::create_directories(dir / "target");
  const std::string message = data_error_of([&] { write_file_atomically((dir / "target").string(), "x"); });
  EXPECT_EQ(message, (dir / "target").string() + ": is a directory");
  EXPECT_TRUE(fs::is_directory(dir / "target"));
  EXPECT_EQ(listing(dir), std::vector<std::string>{"target"});
}

// ------------------------------------------------------------------- special files

TEST(SpecialFiles, AFifoGetsTheBytesAndStaysAFifo) {
  const fs::path dir = fresh_dir("fifo");
  const fs::path fifo = dir / "pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  // Larger than a pipe's buffer: the writer blocks until the reader thread drains it.
  std::string payload(200000, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + i % 26);
  const int reader_fd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);  // so the writer's open returns
  ASSERT_GE(reader_fd, 0) << std::strerror(errno);
  std::string received;
  std::thread reader([&] {
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    char chunk[65536];
    while (received.size() < payload.size() && Clock::now() < deadline) {
      pollfd p{reader_fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = ::read(reader_fd, chunk, sizeof chunk);
      if (n > 0) received.append(chunk, static_cast<std::size_t>(n));
    }
  });
  struct sigaction ignore {}, previous {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &previous);  // a reader giving up must fail the test, not kill it
  EXPECT_NO_THROW(write_file_atomically(fifo.string(), payload));
  reader.join();
  ::sigaction(SIGPIPE, &previous, nullptr);
  ::close(reader_fd);
  EXPECT_TRUE(received == payload) << received.size() << " of " << payload.size() << " bytes received";
  EXPECT_EQ(fs::symlink_status(fifo).type(), fs::file_type::fifo);
  EXPECT_EQ(listing(dir), std::vector<std::string>{"pipe"});
}

TEST(SpecialFiles, ANullDeviceStaysADevice) {
  const fs::path dir = fresh_dir("null");
  const fs::path null = dir / "null";
  const std::string why = make_char_device(null, 1, 3);
  if (!why.empty()) GTEST_SKIP() << why;
  write_file_atomically(null.string(), "discarded\n");
  AtomicFileWriter writer(null.string());
  EXPECT_TRUE(writer.direct());
  writer.write("more", 4);
  writer.commit();
  EXPECT_TRUE(is_char_device(null));
  EXPECT_EQ(listing(dir), std::vector<std::string>{"null"});
}

TEST(SpecialFiles, AFullDeviceGivesNoSpaceLeftOnDevice) {
  const fs::path dir = fresh_dir("full");
  const fs::path full = dir / "full";
  const std::string why = make_char_device(full, 1, 7);
  if (!why.empty()) GTEST_SKIP() << why;
  const std::string message = data_error_of([&] { write_file_atomically(full.string(), "x"); });
  EXPECT_EQ(message, full.string() + ": cannot write to a character device: No space left on device");
  EXPECT_TRUE(is_char_device(full));
  EXPECT_EQ(listing(dir), std::vector<std::string>{"full"});
}

TEST(SpecialFiles, AListeningSocketGetsTheBytes) {
  const fs::path dir = fresh_dir("socket");
  const fs::path socket_path = dir / "sock";
  const int server = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(server, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  ASSERT_LT(socket_path.string().size(), sizeof address.sun_path);
  std::strcpy(address.sun_path, socket_path.c_str());
  ASSERT_EQ(::bind(server, reinterpret_cast<sockaddr*>(&address), sizeof address), 0) << std::strerror(errno);
  ASSERT_EQ(::listen(server, 1), 0);
  write_file_atomically(socket_path.string(), "over the socket");  // small: buffered before accept
  const int connection = ::accept(server, nullptr, nullptr);
  ASSERT_GE(connection, 0);
  std::string received;
  char chunk[256];
  for (ssize_t n; (n = ::read(connection, chunk, sizeof chunk)) > 0;) received.append(chunk, static_cast<std::size_t>(n));
  ::close(connection);
  ::close(server);
  EXPECT_EQ(received, "over the socket");
  EXPECT_EQ(fs::symlink_status(socket_path).type(), fs::file_type::socket);
}

TEST(SpecialFiles, ADescriptorPathWritesIntoThatDescriptor) {
  // A pipe, as when standard output is piped.
  int ends[2];
  ASSERT_EQ(::pipe(ends), 0);
  write_file_atomically("/proc/self/fd/" + std::to_string(ends[1]), "through the pipe");
  char buffer[64] = {};
  EXPECT_EQ(::read(ends[0], buffer, sizeof buffer), 16);
  EXPECT_EQ(std::string(buffer), "through the pipe");
  ::close(ends[0]);
  ::close(ends[1]);

  // A regular file open for appending, as `>> file`: appended to, not replaced.
  const fs::path dir = fresh_dir("descriptor");
  const fs::path file = dir / "log.txt";
  write_text(file, "head\n");
  const auto inode = [&] { struct stat s {}; ::stat(file.c_str(), &s); return s.st_ino; };
  const auto before = inode();
  const int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  write_file_atomically("/proc/self/fd/" + std::to_string(fd), "tail\n");
  ::close(fd);
  EXPECT_EQ(read_all(file), "head\ntail\n");
  EXPECT_EQ(inode(), before);
  EXPECT_EQ(listing(dir), std::vector<std::string>{"log.txt"});
}

TEST(SpecialFiles, DevStdoutMeansDescriptorOne) {
  // In a child whose standard output is a pipe; the path is never opened (descriptor 1 is duplicated).
  int ends[2];
  ASSERT_EQ(::pipe(ends), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(ends[1], 1);
    try {
      write_file_atomically("/dev/stdout", "to standard output");
    } catch (...) {
      ::_exit(1);
    }
    ::_exit(0);
  }
  ::close(ends[1]);
  const int status = wait_bounded(pid, 10);
  char buffer[64] = {};
  pollfd p{ends[0], POLLIN, 0};
  if (::poll(&p, 1, 1000) > 0) {
    EXPECT_EQ(::read(ends[0], buffer, sizeof buffer), 18);
  }
  ::close(ends[0]);
  EXPECT_TRUE(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(std::string(buffer), "to standard output");
}

TEST(SpecialFiles, RequireRegularRefusesThemAndCreatesNothing) {
  const fs::path dir = fresh_dir("require_regular");
  const fs::path fifo = dir / "pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  WriteOptions model;
  model.require_regular = true;
  model.what = "a model file";
  // No reader: a refusal must come before any open, which would block.
  EXPECT_EQ(data_error_of([&] { write_file_atomically(fifo.string(), "x", model); }),
            fifo.string() + ": is a FIFO; a model file is written atomically and needs a regular file path");
  EXPECT_EQ(data_error_of([&] { OutputSet().reserve(fifo.string(), model); }),
            fifo.string() + ": is a FIFO; a model file is written atomically and needs a regular file path");
  EXPECT_EQ(data_error_of([&] { check_writable("/proc/self/fd/2", model); }),
            "/proc/self/fd/2: is file descriptor 2; a model file is written atomically and needs a regular file path");
  const fs::path null = dir / "null";
  if (make_char_device(null, 1, 3).empty()) {
    EXPECT_EQ(data_error_of([&] { write_file_atomically(null.string(), "x", model); }),
              null.string() + ": is a character device; a model file is written atomically and needs a regular file path");
    EXPECT_TRUE(is_char_device(null));
  }
  // A regular file or a new path is fine.
  write_file_atomically((dir / "m.xdm").string(), "model", model);
  EXPECT_EQ(read_all(dir / "m.xdm"), "model");
  EXPECT_FALSE(has_temporary(dir));
}

// ------------------------------------------------------------------- symbolic links

TEST(SymbolicLinks, AreFollowedAndTheFileTheyPointToIsReplaced) {
  const fs::path dir = fresh_dir("symlink");
  fs::create_directories(dir / "links");
  fs::create_directories(dir / "real");
  write_text(dir / "real" / "model.xdm", "old");
  ::chmod((dir / "real" / "model.xdm").c_str(), 0640);
  fs::create_symlink("../real/model.xdm", dir / "links" / "model.xdm");
  fs::create_symlink("model.xdm", dir / "links" / "chained.xdm");  // a link to a link
  write_file_atomically((dir / "links" / "model.xdm").string(), "new");
  EXPECT_TRUE(fs::is_symlink(dir / "links" / "model.xdm"));
  EXPECT_EQ(fs::read_symlink(dir / "links" / "model.xdm"), "../real/model.xdm");
  EXPECT_EQ(read_all(dir / "real" / "model.xdm"), "new");
  write_file_atomically((dir / "links" / "chained.xdm").string(), "newer");
  EXPECT_TRUE(fs::is_symlink(dir / "links" / "chained.xdm"));
  EXPECT_EQ(read_all(dir / "real" / "model.xdm"), "newer");
  struct stat info {};
  ASSERT_EQ(::stat((dir / "real" / "model.xdm").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0640u);  // the replaced file's mode is kept
  EXPECT_EQ(listing(dir / "links"), (std::vector<std::string>{"chained.xdm", "model.xdm"}));
  EXPECT_EQ(listing(dir / "real"), std::vector<std::string>{"model.xdm"});
}

TEST(SymbolicLinks, ADanglingLinkCreatesTheFileItPointsTo) {
  const fs::path dir = fresh_dir("dangling");
  fs::create_directories(dir / "real");
  fs::create_symlink("real/new.csv", dir / "link.csv");
  write_file_atomically((dir / "link.csv").string(), "created");
  EXPECT_TRUE(fs::is_symlink(dir / "link.csv"));
  EXPECT_EQ(read_all(dir / "real" / "new.csv"), "created");
  // Pointing into a missing folder: refused up front, naming the link's target.
  fs::create_symlink("nowhere/x.csv", dir / "lost.csv");
  const std::string message = data_error_of([&] { OutputSet().reserve((dir / "lost.csv").string()); });
  EXPECT_TRUE(contains(message, "lost.csv: cannot write here: No such file or directory")) << message;
  EXPECT_EQ(listing(dir), (std::vector<std::string>{"link.csv", "lost.csv", "real"}));
  EXPECT_EQ(listing(dir / "real"), std::vector<std::string>{"new.csv"});
}

TEST(SymbolicLinks, ALoopFailsUpFront) {
  const fs::path dir = fresh_dir("loop");
  fs::create_symlink("b", dir / "a");
  fs::create_symlink("a", dir / "b");
  const std::string message = data_error_of([&] { OutputSet().reserve((dir / "a").string()); });
  EXPECT_EQ(message, (dir / "a").string() + ": cannot write here: Too many levels of symbolic links");
  EXPECT_EQ(listing(dir), (std::vector<std::string>{"a", "b"}));
}

// ------------------------------------------------------------------- reservations (up front)

TEST(OutputSetReserve, FailsAtOnceForAMissingFolderAnEmptyPathOrATooLongName) {
  const fs::path dir = fresh_dir("reserve");
  OutputSet set;
  const std::string missing = (dir / "no" / "out.csv").string();
  EXPECT_EQ(data_error_of([&] { set.reserve(missing); }),
            missing + ": cannot create a temporary file in '" + (dir / "no").string() + "': No such file or directory");
  EXPECT_EQ(data_error_of([&] { set.reserve(""); }), "cannot write to an empty path");
  // 250 bytes fit a file name (255), not with ".tmp-XXXXXX".
  const std::string long_name = (dir / std::string(250, 'n')).string();
  const std::string message = data_error_of([&] { set.reserve(long_name); });
  EXPECT_TRUE(contains(message, "File name too long")) << message;
  EXPECT_TRUE(contains(message, "not with the suffix '.tmp-XXXXXX'")) << message;
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(OutputSetReserve, FailsAtOnceForAReadOnlyFolder) {
  const fs::path dir = fresh_dir("readonly");
  fs::create_directories(dir / "ro");
  fs::create_directories(dir / "rw");
  ::chmod(dir.c_str(), 0755);
  ::chmod((dir / "ro").c_str(), 0555);
  ::chmod((dir / "rw").c_str(), 0777);
  // As root permissions do not apply: the check runs as user 65534 in a child process.
  const int code = exit_code_in_child(/*as_nobody=*/true, [&] {
    try {
      check_writable((dir / "rw" / "out.csv").string());  // the control: must work
    } catch (const DataError&) {
      return 77;  // this user cannot reach the temporary folder at all
    }
    try {
      OutputSet set;
      set.reserve((dir / "ro" / "out.csv").string());
      return 1;
    } catch (const DataError& e) {
      return contains(e.what(), (dir / "ro" / "out.csv").string() + ": ") && contains(e.what(), "Permission denied") ? 0 : 3;
    }
  });
  if (code == 77) GTEST_SKIP() << "cannot run as an unprivileged user here (setresuid, or the temp folder is private)";
  EXPECT_EQ(code, 0);
  EXPECT_TRUE(fs::is_empty(dir / "ro"));
  EXPECT_TRUE(fs::is_empty(dir / "rw"));
}

TEST(OutputSetReserve, RefusesTheSameFileTwiceButNotADeviceTwice) {
  const fs::path dir = fresh_dir("twice");
  write_text(dir / "a.csv", "old");
  fs::create_symlink("a.csv", dir / "alias.csv");
  OutputSet set;
  set.reserve((dir / "a.csv").string());
  EXPECT_EQ(data_error_of([&] { set.reserve((dir / "." / "a.csv").string()); }),
            (dir / "." / "a.csv").string() + ": is the same file as output '" + (dir / "a.csv").string() + "'");
  EXPECT_THROW(set.reserve((dir / "alias.csv").string()), DataError);
  set.reserve((dir / "new.csv").string());
  EXPECT_THROW(set.reserve((dir / "new.csv").string()), DataError);  // not yet existing: same folder and name
  const fs::path null = dir / "null";
  if (make_char_device(null, 1, 3).empty()) {
    set.reserve(null.string()).write("one");
    set.reserve(null.string()).write("two");
  }
  set.commit();
  EXPECT_EQ(read_all(dir / "a.csv"), "");  // reserved, never written: empty
  EXPECT_FALSE(has_temporary(dir));
}

TEST(OutputSetReserve, CheckWritableLeavesNothing) {
  const fs::path dir = fresh_dir("check");
  check_writable((dir / "out.csv").string());
  EXPECT_TRUE(fs::is_empty(dir));
  EXPECT_THROW(check_writable((dir / "no" / "out.csv").string()), DataError);
  EXPECT_THROW(check_writable(dir.string()), DataError);
}

// ------------------------------------------------------------------- all or nothing

TEST(OutputSetCommit, WritesEveryOutput) {
  const fs::path dir = fresh_dir("commit");
  write_text(dir / "model.xdm", "old model");
  OutputSet set;
  OutputSet::Output& model = set.reserve((dir / "model.xdm").string());
  OutputSet::Output& history = set.reserve((dir / "history.csv").string());
  EXPECT_TRUE(has_temporary(dir));  // created at reservation
  model.write("new model");
  history.write(std::string("epoch,loss\n"));
  EXPECT_EQ(read_all(dir / "model.xdm"), "old model");  // nothing visible before commit()
  set.commit();
  EXPECT_EQ(read_all(dir / "model.xdm"), "new model");
  EXPECT_EQ(read_all(dir / "history.csv"), "epoch,loss\n");
  EXPECT_EQ(listing(dir), (std::vector<std::string>{"history.csv", "model.xdm"}));
  EXPECT_THROW(model.write("late"), StateError);
}

TEST(OutputSetCommit, WithoutCommitNothingChanges) {
  const fs::path dir = fresh_dir("abandon");
  write_text(dir / "a.csv", "old");
  {
    OutputSet set;
    set.reserve((dir / "a.csv").string()).write("new");
    set.reserve((dir / "b.csv").string()).write("new");
  }  // e.g. an exception during training
  EXPECT_EQ(read_all(dir / "a.csv"), "old");
  EXPECT_EQ(listing(dir), std::vector<std::string>{"a.csv"});
}

TEST(OutputSetCommit, ASecondOutputWhoseFolderVanishedChangesNoTarget) {
  const fs::path dir = fresh_dir("vanished");
  write_text(dir / "a.csv", "old a");
  fs::create_directories(dir / "sub");
  OutputSet set;
  set.reserve((dir / "a.csv").string()).write("new a");
  set.reserve((dir / "sub" / "b.csv").string()).write("new b");
  fs::remove_all(dir / "sub");  // its temporary goes with it
  const std::string message = data_error_of([&] { set.commit(); });
  EXPECT_TRUE(contains(message, (dir / "sub" / "b.csv").string() + ": ")) << message;
  EXPECT_EQ(read_all(dir / "a.csv"), "old a");
  EXPECT_EQ(listing(dir), std::vector<std::string>{"a.csv"});
}

TEST(OutputSetCommit, AFullDeviceAsSecondOutputChangesNoTarget) {
  const fs::path dir = fresh_dir("full_second");
  const std::string why = make_char_device(dir / "full", 1, 7);
  if (!why.empty()) GTEST_SKIP() << why;
  write_text(dir / "a.csv", "old a");
  OutputSet set;
  set.reserve((dir / "a.csv").string()).write("new a");
  set.reserve((dir / "new.csv").string()).write("new");
  set.reserve((dir / "full").string()).write("history");
  const std::string message = data_error_of([&] { set.commit(); });
  EXPECT_EQ(message, (dir / "full").string() + ": cannot write to a character device: No space left on device");
  EXPECT_EQ(read_all(dir / "a.csv"), "old a");
  EXPECT_EQ(listing(dir), (std::vector<std::string>{"a.csv", "full"}));
  EXPECT_TRUE(is_char_device(dir / "full"));
}

// ------------------------------------------------------------------- same_file

TEST(SameFile, SeesThroughSpellingsLinksAndHardLinks) {
  const fs::path dir = fresh_dir("same");
  fs::create_directories(dir / "sub");
  write_text(dir / "d.csv", "data");
  write_text(dir / "other.csv", "data");
  fs::create_symlink("d.csv", dir / "link.csv");
  fs::create_hard_link(dir / "d.csv", dir / "hard.csv");
  fs::create_directory_symlink(dir, dir / "sub" / "up");
  const std::string d = (dir / "d.csv").string();
  EXPECT_TRUE(same_file(d, d));
  EXPECT_TRUE(same_file(d, (dir / "sub" / ".." / "d.csv").string()));
  EXPECT_TRUE(same_file(d, (dir / "link.csv").string()));
  EXPECT_TRUE(same_file(d, (dir / "hard.csv").string()));
  EXPECT_TRUE(same_file(d, (dir / "sub" / "up" / "d.csv").string()));
  EXPECT_FALSE(same_file(d, (dir / "other.csv").string()));
  EXPECT_FALSE(same_file(d, (dir / "new.csv").string()));
  EXPECT_FALSE(same_file(d, ""));
  EXPECT_FALSE(same_file("", ""));
}

TEST(SameFile, NewPathsCompareByFolderAndName) {
  const fs::path dir = fresh_dir("same_new");
  fs::create_directories(dir / "sub");
  fs::create_directory_symlink(dir, dir / "sub" / "up");
  fs::create_symlink("new.csv", dir / "dangling.csv");
  const std::string fresh = (dir / "new.csv").string();
  EXPECT_TRUE(same_file(fresh, fresh));
  EXPECT_TRUE(same_file(fresh, (dir / "." / "new.csv").string()));
  EXPECT_TRUE(same_file(fresh, (dir / "sub" / "up" / "new.csv").string()));
  EXPECT_TRUE(same_file(fresh, (dir / "dangling.csv").string()));  // the file the link would create
  EXPECT_FALSE(same_file(fresh, (dir / "new2.csv").string()));
  EXPECT_FALSE(same_file(fresh, (dir / "sub" / "new.csv").string()));
  // Missing folder: by spelling.
  EXPECT_TRUE(same_file((dir / "no" / "x.csv").string(), (dir / "no" / "." / "x.csv").string()));
  EXPECT_FALSE(same_file((dir / "no" / "x.csv").string(), (dir / "no" / "y.csv").string()));
}

TEST(SameFile, SpecialFilesAreNeverTheSameFile) {
  const fs::path dir = fresh_dir("same_special");
  ASSERT_EQ(::mkfifo((dir / "pipe").c_str(), 0600), 0);
  EXPECT_FALSE(same_file((dir / "pipe").string(), (dir / "pipe").string()));
  if (make_char_device(dir / "null", 1, 3).empty()) {
    EXPECT_FALSE(same_file((dir / "null").string(), (dir / "null").string()));
  }
}

// ------------------------------------------------------------------- signals

/// A child reserves outputs, writes some bytes, says so through a pipe, then waits to be killed by
/// `signal_number`; the parent checks how it ended and that no temporary is left.
void expect_signal_removes_temporaries(int signal_number, const std::string& name) {
  const fs::path dir = fresh_dir(name);
  write_text(dir / "model.xdm", "previous model");
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(ready[0]);
    // A test runner may start us with SIGINT ignored (background jobs): the default is needed.
    for (int s : {SIGINT, SIGTERM}) ::signal(s, SIG_DFL);
    install_signal_cleanup();
    try {
      OutputSet set;
      set.reserve((dir / "model.xdm").string()).write("half a mod");
      set.reserve((dir / "history.csv").string()).write("epoch");
      AtomicFileWriter checkpoint((dir / "checkpoint.xdc").string());
      checkpoint.write("partial", 7);
      if (::write(ready[1], "r", 1) != 1) ::_exit(3);
      for (int i = 0; i < 3000; ++i) ::usleep(10000);  // 30 s at most
    } catch (...) {
      ::_exit(2);
    }
    ::_exit(4);  // not killed
  }
  ::close(ready[1]);
  pollfd p{ready[0], POLLIN, 0};
  char byte = 0;
  const bool is_ready = ::poll(&p, 1, 10000) == 1 && ::read(ready[0], &byte, 1) == 1;
  ::close(ready[0]);
  if (is_ready) {
    EXPECT_TRUE(has_temporary(dir));
  }
  ::kill(pid, signal_number);
  const int status = wait_bounded(pid, 10);
  ASSERT_TRUE(is_ready) << "the child did not get ready (status " << status << ")";
  EXPECT_TRUE(status >= 0 && WIFSIGNALED(status) && WTERMSIG(status) == signal_number)
      << "status " << status << (status >= 0 && WIFEXITED(status) ? ", exit code " + std::to_string(WEXITSTATUS(status)) : "");
  EXPECT_EQ(listing(dir), std::vector<std::string>{"model.xdm"});
  EXPECT_EQ(read_all(dir / "model.xdm"), "previous model");
}

TEST(Signals, SigtermRemovesTheTemporariesAndEndsBySigterm) { expect_signal_removes_temporaries(SIGTERM, "sigterm"); }

TEST(Signals, SigintRemovesTheTemporariesAndEndsBySigint) { expect_signal_removes_temporaries(SIGINT, "sigint"); }

TEST(Signals, AnIgnoredSignalStaysIgnored) {
  const int code = exit_code_in_child(false, [] {
    ::signal(SIGHUP, SIG_IGN);
    install_signal_cleanup();
    install_signal_cleanup();  // idempotent
    struct sigaction current {};
    ::sigaction(SIGHUP, nullptr, &current);
    return current.sa_handler == SIG_IGN ? 0 : 1;
  });
  EXPECT_EQ(code, 0);
}

// ------------------------------------------------------------------- stale temporaries

TEST(StaleTemporaries, OnlyThoseOfAKilledWriterAreRemovedOnTheNextCommit) {
  const fs::path dir = fresh_dir("stale");
  const auto make = [&](const std::string& name) {
    write_text(dir / name, "leftover");
    set_mtime_ago(dir / name, 3600);
  };
  make("out.csv.tmp-Ab3xY9");   // stale: removed
  make("out.csv.tmp-abc12");    // 5 characters: kept
  make("out.csv.tmp-abc1234");  // 7 characters: kept
  make("out.csv.tmp-ab_123");   // not mkstemp's alphabet: kept
  make("other.csv.tmp-Ab3xY9"); // another target's: kept
  make("out.csv.bak");
  make("victim.txt");
  write_text(dir / "out.csv.tmp-Fresh1", "a writer just started");  // too recent: kept
  fs::create_directory(dir / "out.csv.tmp-Dir123");
  fs::create_symlink("victim.txt", dir / "out.csv.tmp-Lnk123");  // a link: kept, and so is its target
  set_mtime_ago(dir / "out.csv.tmp-Lnk123", 3600);
  make("out.csv.tmp-Hrd123");
  fs::create_hard_link(dir / "out.csv.tmp-Hrd123", dir / "hard.txt");  // two links: kept
  make("out.csv.tmp-Lck123");  // locked, as by a live writer: kept
  const int locked = ::open((dir / "out.csv.tmp-Lck123").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(locked, 0);
  ASSERT_EQ(::flock(locked, LOCK_EX | LOCK_NB), 0);
  std::vector<std::string> kept = listing(dir);
  kept.erase(std::find(kept.begin(), kept.end(), "out.csv.tmp-Ab3xY9"));
  bool other_owner = false;
  if (::geteuid() == 0) {
    make("out.csv.tmp-Own123");  // another user's: kept
    other_owner = ::chown((dir / "out.csv.tmp-Own123").c_str(), 65534, 65534) == 0;
    if (other_owner) kept.push_back("out.csv.tmp-Own123");
    else fs::remove(dir / "out.csv.tmp-Own123");
  }
  kept.push_back("out.csv");
  std::sort(kept.begin(), kept.end());

  write_file_atomically((dir / "out.csv").string(), "new");
  ::close(locked);
  EXPECT_EQ(listing(dir), kept);
  EXPECT_EQ(read_all(dir / "victim.txt"), "leftover");
  EXPECT_EQ(read_all(dir / "out.csv"), "new");
  if (!other_owner) std::cout << "[ note ] the other-owner case needs root (chown)\n";
}

TEST(StaleTemporaries, ALiveReservationOfAnotherWriterIsKept) {
  const fs::path dir = fresh_dir("live");
  OutputSet set;
  OutputSet::Output& output = set.reserve((dir / "out.csv").string());
  const std::vector<std::string> names = listing(dir);
  ASSERT_EQ(names.size(), 1u);
  set_mtime_ago(dir / names[0], 3600);  // reserved an hour ago, training since
  write_file_atomically((dir / "out.csv").string(), "another writer");
  EXPECT_TRUE(fs::exists(dir / names[0]));
  output.write("mine");
  set.commit();
  EXPECT_EQ(read_all(dir / "out.csv"), "mine");
  EXPECT_EQ(listing(dir), std::vector<std::string>{"out.csv"});
}

}  // namespace
}  // namespace xdense
