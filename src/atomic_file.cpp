#include "xdense/atomic_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "xdense/error.hpp"

namespace xdense {
namespace {

const std::string temporary_suffix = ".tmp-XXXXXX";  // mkstemp replaces the six X
constexpr int max_symlink_hops = 40;                 // Linux's own limit (ELOOP beyond)

std::string folder_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

::mode_t new_file_mode() {
  const ::mode_t mask = ::umask(0);  // umask can only be read by setting it: restore at once
  ::umask(mask);
  return 0666 & ~mask;
}

DataError cannot_write(const std::string& path, int error, const std::string& detail = "") {
  return DataError(path + ": cannot write here: " + std::strerror(error) + detail);
}

/// N for "/dev/stdout" (1), "/dev/stderr" (2), "/dev/fd/N", "/proc/self/fd/N"; else -1.
int descriptor_of(const std::string& path) {
  if (path == "/dev/stdout") return 1;
  if (path == "/dev/stderr") return 2;
  for (const std::string prefix : {"/dev/fd/", "/proc/self/fd/"}) {
    if (path.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string number = path.substr(prefix.size());
    if (number.empty() || number.size() > 9) return -1;
    if (!std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; })) return -1;
    return std::stoi(number);
  }
  return -1;
}

std::string read_link(const std::string& path) {
  std::vector<char> buffer(PATH_MAX + 1);
  const ssize_t n = ::readlink(path.c_str(), buffer.data(), buffer.size());
  if (n < 0) throw cannot_write(path, errno);
  if (static_cast<std::size_t>(n) >= buffer.size()) throw cannot_write(path, ENAMETOOLONG);
  return std::string(buffer.data(), static_cast<std::size_t>(n));
}

std::string link_target(const std::string& link) {
  const std::string to = read_link(link);
  return to.empty() || to[0] == '/' ? to : folder_of(link) + "/" + to;
}

std::string real_path(const std::string& path) {
  char* resolved = ::realpath(path.c_str(), nullptr);
  if (resolved == nullptr) return "";
  std::string result(resolved);
  std::free(resolved);
  return result;
}

/// Where writing `path` lands once the symbolic links of its last component are followed.
struct Resolved {
  std::string target;  // `path`, or the canonical path its links lead to
  bool exists = false;
  struct stat info {};  // of the target, when it exists
};

Resolved resolve_target(const std::string& path) {
  Resolved r;
  r.target = path;
  for (int hops = 0;; ++hops) {
    if (::lstat(r.target.c_str(), &r.info) != 0) {
      if (errno != ENOENT) throw cannot_write(path, errno);
      break;  // a new file; mkstemp reports a missing folder
    }
    if (!S_ISLNK(r.info.st_mode)) {
      r.exists = true;
      break;
    }
    if (hops == max_symlink_hops) throw cannot_write(path, ELOOP);
    r.target = link_target(r.target);
  }
  if (r.target != path) {
    // Canonical, so that the temporary is created beside the real file and the rename replaces it.
    const std::string real = r.exists ? real_path(r.target) : real_path(folder_of(r.target));
    if (real.empty()) throw cannot_write(path, errno, " (a symbolic link to '" + r.target + "')");
    if (!r.exists) r.target = (real == "/" ? "" : real) + "/" + base_name(r.target);
    else if (S_ISREG(r.info.st_mode)) r.target = real;
  }
  return r;
}

/// "a character device", ... for a special file's mode; "" for a regular file.
std::string special_kind(::mode_t mode) {
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  return "";
}

// --- registry of live temporaries, read by the signal handler --------------------------------

constexpr std::size_t registry_slots = 64;
constexpr std::size_t registry_path_max = 4096;
enum : int { slot_free = 0, slot_filling = 1, slot_live = 2 };

struct RegistrySlot {
  std::atomic<int> state;
  char path[registry_path_max];
};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler reads the slots' state");
RegistrySlot registry[registry_slots];  // static storage: zero (slot_free) before main

int register_temporary(const std::string& path) noexcept {
  char absolute[registry_path_max];
  std::size_t length = 0;
  if (path[0] != '/') {  // absolute, in case the program changes folders before a signal
    if (::getcwd(absolute, sizeof absolute) == nullptr) return -1;
    length = std::strlen(absolute);
    absolute[length++] = '/';
  }
  if (length + path.size() >= registry_path_max) return -1;
  std::memcpy(absolute + length, path.c_str(), path.size() + 1);
  length += path.size();
  for (std::size_t i = 0; i < registry_slots; ++i) {
    int expected = slot_free;
    if (!registry[i].state.compare_exchange_strong(expected, slot_filling)) continue;
    std::memcpy(registry[i].path, absolute, length + 1);
    registry[i].state.store(slot_live);
    return static_cast<int>(i);
  }
  return -1;  // full: only the stale-temporary rule will remove this one after a signal
}

void unregister_temporary(int& slot) {
  if (slot >= 0) registry[slot].state.store(slot_free);
  slot = -1;
}

constexpr int cleanup_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};

extern "C" void remove_temporaries_and_reraise(int signal_number) {
  const int saved_errno = errno;
  for (RegistrySlot& slot : registry) {
    if (slot.state.load() == slot_live) ::unlink(slot.path);
  }
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  ::sigaction(signal_number, &default_action, nullptr);
  // Blocked while its handler runs: delivered, with the default action, as the handler returns.
  ::raise(signal_number);
  errno = saved_errno;
}

/// Blocks the cleanup signals in this thread for its lifetime: a temporary is created and
/// registered, or removed and unregistered, without a signal in between.
class CleanupSignalsBlocked {
 public:
  CleanupSignalsBlocked() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : cleanup_signals) sigaddset(&set, s);
    ::pthread_sigmask(SIG_BLOCK, &set, &previous_);
  }
  ~CleanupSignalsBlocked() { ::pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  CleanupSignalsBlocked(const CleanupSignalsBlocked&) = delete;
  CleanupSignalsBlocked& operator=(const CleanupSignalsBlocked&) = delete;

 private:
  sigset_t previous_;
};

// --- stale temporaries --------------------------------------------------------------------

/// True for "<base>.tmp-" followed by exactly six ASCII letters or digits (mkstemp's alphabet).
bool is_temporary_of(const char* entry, const std::string& base) {
  const std::size_t length = std::strlen(entry);
  const std::size_t prefix = base.size() + temporary_suffix.size() - 6;
  if (length != base.size() + temporary_suffix.size()) return false;
  if (std::memcmp(entry, base.data(), base.size()) != 0) return false;
  if (std::memcmp(entry + base.size(), temporary_suffix.data(), temporary_suffix.size() - 6) != 0) return false;
  return std::all_of(entry + prefix, entry + length, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  });
}

bool same_inode(const struct stat& a, const struct stat& b) { return a.st_dev == b.st_dev && a.st_ino == b.st_ino; }

/// Removes the temporaries of `target` left by killed writers (the rule in the header); best effort.
void remove_stale_temporaries(const std::string& target) {
  const std::string base = base_name(target);
  DIR* folder = ::opendir(folder_of(target).c_str());
  if (folder == nullptr) return;
  const int folder_fd = ::dirfd(folder);
  const std::time_t now = std::time(nullptr);
  while (const dirent* entry = ::readdir(folder)) {
    if (!is_temporary_of(entry->d_name, base)) continue;
    struct stat listed {};
    if (::fstatat(folder_fd, entry->d_name, &listed, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (!S_ISREG(listed.st_mode) || listed.st_nlink != 1 || listed.st_uid != ::geteuid()) continue;
    if (now - listed.st_mtime < stale_temporary_seconds) continue;
    const int fd = ::openat(folder_fd, entry->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat opened {};
    struct stat again {};
    // Unlocked (no live writer holds it) and still the file listed under that name.
    if (::fstat(fd, &opened) == 0 && same_inode(opened, listed) && ::flock(fd, LOCK_EX | LOCK_NB) == 0 &&
        ::fstatat(folder_fd, entry->d_name, &again, AT_SYMLINK_NOFOLLOW) == 0 && same_inode(again, listed)) {
      ::unlinkat(folder_fd, entry->d_name, 0);
    }
    ::close(fd);
  }
  ::closedir(folder);
}

void fsync_folder(const std::string& folder) {
  // Makes a rename durable; a failure here leaves a complete file either way.
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

/// What same_file() compares: device and inode of an existing file, or of the folder of a new one
/// plus its name.
struct Identity {
  enum Kind { unknown, special, file } kind = unknown;
  ::dev_t device = 0;
  ::ino_t inode = 0;
  std::string name;  // "" for an existing file
};

Identity identify(const std::string& path) {
  Identity id;
  if (path.empty()) return id;
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0) {
    id.kind = special_kind(info.st_mode).empty() && !S_ISBLK(info.st_mode) ? Identity::file : Identity::special;
    id.device = info.st_dev;
    id.inode = info.st_ino;
    return id;
  }
  if (errno != ENOENT) return id;
  std::string where = path;  // follow a dangling link to the name it would create
  for (int hops = 0; hops <= max_symlink_hops; ++hops) {
    if (::lstat(where.c_str(), &info) != 0) {
      if (errno != ENOENT) return id;
      id.name = base_name(where);
      if (id.name.empty() || id.name == "." || id.name == ".." || ::stat(folder_of(where).c_str(), &info) != 0) return id;
      id.kind = Identity::file;
      id.device = info.st_dev;
      id.inode = info.st_ino;
      return id;
    }
    if (!S_ISLNK(info.st_mode)) return id;  // appeared meanwhile
    where = link_target(where);
  }
  return id;
}

}  // namespace

// --- AtomicFileWriter ---------------------------------------------------------------------

AtomicFileWriter::AtomicFileWriter(std::string path, WriteOptions options)
    : AtomicFileWriter(std::move(path), options, /*open_special_now=*/true) {}

AtomicFileWriter::AtomicFileWriter(std::string path, const WriteOptions& options, bool open_special_now)
    : path_(std::move(path)) {
  if (path_.empty()) throw DataError("cannot write to an empty path");
  descriptor_ = descriptor_of(path_);
  Resolved resolved;
  if (descriptor_ >= 0) {
    special_ = "file descriptor " + std::to_string(descriptor_);
  } else {
    resolved = resolve_target(path_);
    target_ = resolved.target;
    if (resolved.exists) {
      const ::mode_t mode = resolved.info.st_mode;
      if (S_ISDIR(mode)) throw DataError(path_ + ": is a directory");
      if (S_ISBLK(mode)) throw DataError(path_ + ": is a block device; xdense does not write to block devices");
      special_ = special_kind(mode);
    }
  }
  if (direct()) {
    if (options.require_regular) {
      throw DataError(path_ + ": is " + special_ + "; " + options.what +
                      " is written atomically and needs a regular file path");
    }
    // A FIFO's reader or a socket's server would notice an early open: only checked when deferred.
    const bool side_effects = S_ISFIFO(resolved.info.st_mode) || S_ISSOCK(resolved.info.st_mode);
    if (open_special_now || descriptor_ >= 0 || !side_effects) {
      open_special();
    } else if (::faccessat(AT_FDCWD, path_.c_str(), W_OK, AT_EACCESS) != 0) {
      throw cannot_write(path_, errno);
    }
    return;
  }

  // mkstemp in the target's folder, so the final rename never crosses file systems.
  std::vector<char> name(target_.begin(), target_.end());
  name.insert(name.end(), temporary_suffix.begin(), temporary_suffix.end());
  name.push_back('\0');
  {
    const CleanupSignalsBlocked blocked;
    fd_ = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd_ < 0) {
      const int error = errno;
      std::string hint;
      const long name_max = ::pathconf(folder_of(target_).c_str(), _PC_NAME_MAX);
      const std::size_t length = base_name(target_).size();
      if (error == ENAMETOOLONG && name_max > 0 && length <= static_cast<std::size_t>(name_max)) {
        hint = " (the name fits in " + std::to_string(name_max) + " bytes, but not with the suffix '" + temporary_suffix +
               "': shorten it)";
      }
      throw DataError(path_ + ": cannot create a temporary file in '" + folder_of(target_) + "': " + std::strerror(error) +
                      hint);
    }
    temp_path_ = name.data();
    registry_slot_ = register_temporary(temp_path_);
  }
  try {  // a constructor that throws gets no destructor call
    ::flock(fd_, LOCK_EX | LOCK_NB);  // marks it live for remove_stale_temporaries() of other processes
    struct stat created {};
    if (::fstat(fd_, &created) != 0) fail("inspect", errno);
    temp_device_ = created.st_dev;
    temp_inode_ = created.st_ino;
    // mkstemp creates the file 0600: keep the mode of the file being replaced, else the usual one.
    const bool replaces = resolved.exists && S_ISREG(resolved.info.st_mode);
    if (::fchmod(fd_, replaces ? (resolved.info.st_mode & 07777) : new_file_mode()) != 0) fail("set the mode of", errno);
  } catch (...) {
    remove_temporary();
    throw;
  }
}

AtomicFileWriter::~AtomicFileWriter() { remove_temporary(); }

void AtomicFileWriter::remove_temporary() {
  const CleanupSignalsBlocked blocked;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!committed_ && !temp_path_.empty()) ::unlink(temp_path_.c_str());
  unregister_temporary(registry_slot_);
}

void AtomicFileWriter::fail(const std::string& action, int error) const {
  if (direct()) throw DataError(path_ + ": cannot " + action + " " + special_ + ": " + std::strerror(error));
  throw DataError(path_ + ": cannot " + action + " temporary file '" + temp_path_ + "': " + std::strerror(error));
}

void AtomicFileWriter::open_special() {
  if (fd_ >= 0) return;
  if (descriptor_ >= 0) {
    fd_ = ::fcntl(descriptor_, F_DUPFD_CLOEXEC, 0);
    if (fd_ < 0) throw cannot_write(path_, errno);
    if ((::fcntl(fd_, F_GETFL) & O_ACCMODE) == O_RDONLY) {
      ::close(fd_);
      fd_ = -1;
      throw DataError(path_ + ": cannot write here: " + special_ + " is open for reading only");
    }
    return;
  }
  struct stat info {};
  if (::stat(path_.c_str(), &info) != 0) throw cannot_write(path_, errno);
  if (S_ISSOCK(info.st_mode)) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path_.size() >= sizeof address.sun_path) throw cannot_write(path_, ENAMETOOLONG);
    std::memcpy(address.sun_path, path_.c_str(), path_.size() + 1);
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) fail("connect to", errno);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      const int error = errno;
      ::close(fd_);
      fd_ = -1;
      fail("connect to", error);
    }
    return;
  }
  // A FIFO without a reader: waits for one, as a shell's `>` does.
  do {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC);
  } while (fd_ < 0 && errno == EINTR);
  if (fd_ < 0) throw cannot_write(path_, errno);
}

void AtomicFileWriter::write_fd(const void* data, std::size_t size) {
  const auto* bytes = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd_, bytes, std::min<std::size_t>(size, std::size_t{1} << 30));
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(direct() ? "write to" : "write", errno);
    }
    bytes += n;
    size -= static_cast<std::size_t>(n);
  }
}

void AtomicFileWriter::write(const void* data, std::size_t size) {
  if (committed_) throw StateError(path_ + ": written after commit()");
  if (direct()) open_special();
  write_fd(data, size);
}

void AtomicFileWriter::finish_temporary() {
  if (::fsync(fd_) != 0) fail("fsync", errno);
  // Still there under its name (its folder not removed or renamed meanwhile)? Checked before any
  // output of an OutputSet is renamed. The descriptor (and its lock) stays open until the rename.
  struct stat now {};
  if (::lstat(temp_path_.c_str(), &now) != 0) fail("find", errno);
  if (now.st_dev != temp_device_ || now.st_ino != temp_inode_) fail("find", ENOENT);
}

void AtomicFileWriter::publish() {
  {
    const CleanupSignalsBlocked blocked;
    if (::rename(temp_path_.c_str(), target_.c_str()) != 0) {
      const int error = errno;
      throw DataError(path_ + ": cannot replace it with temporary file '" + temp_path_ + "': " + std::strerror(error));
    }
    committed_ = true;
    unregister_temporary(registry_slot_);
  }
  const int fd = fd_;
  fd_ = -1;
  ::close(fd);  // after fsync, close has nothing left to report
  fsync_folder(folder_of(target_));
  remove_stale_temporaries(target_);
}

void AtomicFileWriter::commit() {
  if (committed_) throw StateError(path_ + ": commit() called twice");
  if (direct()) {
    open_special();  // a FIFO nobody wrote to still gets opened and closed: its reader sees the end
    const int fd = fd_;
    fd_ = -1;
    committed_ = true;
    if (::close(fd) != 0 && errno != EINTR) fail("close", errno);
    return;
  }
  finish_temporary();
  publish();
}

void write_file_atomically(const std::string& path, const std::string& bytes, const WriteOptions& options) {
  AtomicFileWriter out(path, options);
  out.write(bytes.data(), bytes.size());
  out.commit();
}

void check_writable(const std::string& path, const WriteOptions& options) {
  OutputSet probe;
  probe.reserve(path, options);
}  // the probe's temporary is removed here

// --- OutputSet ----------------------------------------------------------------------------

OutputSet::~OutputSet() = default;  // each writer removes its temporary unless renamed

void OutputSet::Output::write(const void* data, std::size_t size) {
  if (writer_->committed_) throw StateError(path() + ": written after commit()");
  if (direct()) {
    pending_.append(static_cast<const char*>(data), size);
  } else {
    writer_->write(data, size);
  }
}

OutputSet::Output& OutputSet::reserve(const std::string& path, const WriteOptions& options) {
  if (committed_) throw StateError(path + ": reserved after commit()");
  std::unique_ptr<AtomicFileWriter> writer(new AtomicFileWriter(path, options, /*open_special_now=*/false));
  for (const auto& output : outputs_) {
    if (same_file(output->path(), path)) {
      throw DataError(path + ": is the same file as output '" + output->path() + "'");
    }
  }
  outputs_.push_back(std::unique_ptr<Output>(new Output(std::move(writer))));
  return *outputs_.back();
}

void OutputSet::commit() {
  if (committed_) throw StateError("OutputSet::commit() called twice");
  committed_ = true;
  std::string replaced;
  try {
    for (const auto& output : outputs_) {
      if (!output->direct()) output->writer_->finish_temporary();
    }
    for (const auto& output : outputs_) {
      if (!output->direct()) continue;
      output->writer_->write(output->pending_.data(), output->pending_.size());
      output->writer_->commit();
    }
    for (const auto& output : outputs_) {
      if (output->direct()) continue;
      output->writer_->publish();
      replaced += (replaced.empty() ? "" : ", ") + output->path();
    }
  } catch (const DataError& e) {
    for (const auto& output : outputs_) output->writer_->remove_temporary();  // the renamed ones have none
    if (replaced.empty()) throw;
    throw DataError(std::string(e.what()) + " (already replaced: " + replaced + ")");
  } catch (...) {
    for (const auto& output : outputs_) output->writer_->remove_temporary();
    throw;
  }
}

// --- same_file, signals -------------------------------------------------------------------

bool same_file(const std::string& a, const std::string& b) {
  try {
    const Identity x = identify(a);
    const Identity y = identify(b);
    if (x.kind == Identity::special || y.kind == Identity::special) return false;
    if (x.kind == Identity::file && y.kind == Identity::file) {
      return x.device == y.device && x.inode == y.inode && x.name == y.name;
    }
    if (x.kind == Identity::unknown && y.kind == Identity::unknown) {
      return !a.empty() && std::filesystem::path(a).lexically_normal() == std::filesystem::path(b).lexically_normal();
    }
    return false;
  } catch (...) {  // out of memory: cannot tell
    return false;
  }
}

void install_signal_cleanup() {
  for (int s : cleanup_signals) {
    struct sigaction current {};
    if (::sigaction(s, nullptr, &current) != 0) continue;
    if ((current.sa_flags & SA_SIGINFO) != 0 || current.sa_handler != SIG_DFL) continue;  // ignored or the program's own
    struct sigaction action {};
    action.sa_handler = remove_temporaries_and_reraise;
    sigemptyset(&action.sa_mask);
    for (int other : cleanup_signals) sigaddset(&action.sa_mask, other);  // one cleanup at a time
    ::sigaction(s, &action, nullptr);
  }
}

}  // namespace xdense
