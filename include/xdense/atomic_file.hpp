#pragma once
/// \file
/// Writing output files safely.
///
/// **Regular files and new paths are replaced atomically**: the bytes go to a temporary file
/// "<target>.tmp-XXXXXX" (mkstemp) in the target's folder, which is flushed to disk (fsync) and
/// renamed over the target; the folder is then flushed. A reader sees the old file or the new
/// one, never a half-written one; on failure the temporary is removed and the target untouched.
/// A replaced file keeps its permission bits; a new one gets 0666 less the umask.
///
/// The rules by what the path names (symbolic links followed):
/// - **nothing yet, or a regular file**: atomic replacement, as above.
/// - **a symbolic link**: followed (any number of links, up to the system's limit). The file it
///   finally points to is replaced atomically, the temporary being created beside that file, so
///   the link itself stays a link. A dangling link creates the file it points to (as a shell's
///   `>` does); that file's folder must exist.
/// - **a character device, FIFO or socket** (`/dev/null`, `/dev/full`, a named pipe, a listening
///   Unix stream socket): written to directly, with no temporary, no rename and no fsync; the
///   node is never replaced. A FIFO without a reader blocks until one opens it, as with `>`.
///   A failing write (ENOSPC from `/dev/full`, EPIPE) is a DataError naming the path and the OS
///   reason. With WriteOptions::require_regular (model files, checkpoints) such a path is refused.
/// - **a path naming an open descriptor**: "/dev/stdout", "/dev/stderr", "/dev/fd/N" and
///   "/proc/self/fd/N" (exactly these spellings) write to descriptor 1, 2 or N of this process
///   (a duplicate of it), at its current offset, whatever it is: a redirected standard output is
///   appended to, never replaced. Refused with require_regular. (A CLI mapping "-" to standard
///   output can pass "/dev/stdout".)
/// - **a directory**: DataError "<path>: is a directory". **A block device**: refused.
/// Errors are DataError "<path>: ...", naming the path as given and the OS reason.
///
/// **Signals.** install_signal_cleanup() makes SIGINT, SIGTERM, SIGHUP and SIGPIPE remove every
/// live temporary of this process before the process dies of the signal as it would have
/// (a shell then reports 130 for SIGINT, 143 for SIGTERM).
///
/// **Stale temporaries.** A process killed with SIGKILL (or a crash) leaves its temporary behind.
/// When a write to a target commits, the entries beside it named exactly "<name>.tmp-" followed
/// by six letters or digits (what mkstemp makes from "<name>.tmp-XXXXXX") are removed if each is
/// a regular file with one link, owned by the effective user, last modified at least
/// stale_temporary_seconds ago, and not locked: every live temporary of this writer holds a
/// flock() lock until it is renamed or removed, which the kernel drops when its process dies,
/// so an unlocked one belongs to no running xdense writer. Nothing else is ever deleted.

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace xdense {

/// How an output may be written.
struct WriteOptions {
  /// Refuse every target that cannot be replaced atomically (character device, FIFO, socket, a
  /// descriptor path such as /dev/stdout): DataError "<path>: is a FIFO; <what> is written
  /// atomically and needs a regular file path". For files whose readers rely on atomicity.
  bool require_regular = false;
  /// Names the output in that message, e.g. "a model file", "a checkpoint".
  std::string what = "this output";
};

/// Temporaries younger than this (seconds since their last change) are never removed as stale.
constexpr long stale_temporary_seconds = 10;

/// Writes one output: to a temporary renamed onto the target on commit() (regular files and new
/// paths), or directly into a character device, FIFO, socket or descriptor (see the file comment).
/// Destroyed without commit() (an exception on the way), it removes its temporary.
class AtomicFileWriter {
 public:
  /// Checks the target and creates the temporary file (or opens the special file) at once, so an
  /// unwritable path fails here: DataError "<path>: is a directory", "<path>: is a FIFO; ...
  /// needs a regular file path" (require_regular), "<path>: cannot create a temporary file in
  /// '<folder>': <OS reason>" (missing or read-only folder, name too long with the suffix, ...).
  explicit AtomicFileWriter(std::string path, WriteOptions options = {});
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  /// Appends bytes (straight into the device, FIFO, socket or descriptor when direct());
  /// DataError naming the path and the OS reason on failure.
  void write(const void* data, std::size_t size);

  /// Regular target: fsync, close, rename onto the target, fsync the folder, remove stale
  /// temporaries beside it. Direct target: close it (no fsync). Once only.
  void commit();

  /// The path as given.
  const std::string& path() const { return path_; }
  /// True when the target is written directly (no temporary, no rename).
  bool direct() const { return !special_.empty(); }

 private:
  friend class OutputSet;
  AtomicFileWriter(std::string path, const WriteOptions& options, bool open_special_now);
  void open_special();
  void write_fd(const void* data, std::size_t size);
  void finish_temporary();
  void publish();
  void remove_temporary();
  [[noreturn]] void fail(const std::string& action, int error) const;

  std::string path_;       // as given, for messages
  std::string target_;     // the file replaced: path_, or where its symbolic links lead
  std::string temp_path_;  // "<target_>.tmp-XXXXXX" while it exists
  std::string special_;    // "" (atomic replacement), "character device", "FIFO", "socket", "file descriptor"
  int descriptor_ = -1;    // N of a descriptor path
  int fd_ = -1;
  int registry_slot_ = -1;  // slot of temp_path_ in the signal cleanup registry
  unsigned long long temp_device_ = 0, temp_inode_ = 0;
  bool committed_ = false;
};

/// Replaces `path` with `bytes` (or writes them into a special file) by the rules above;
/// DataError naming the path on failure.
void write_file_atomically(const std::string& path, const std::string& bytes, const WriteOptions& options = {});

/// Checks up front that `path` could be written with `options`, as AtomicFileWriter's constructor
/// does (a temporary file is created and removed; a special file is checked, not opened).
/// For outputs written repeatedly later, e.g. a checkpoint each epoch.
void check_writable(const std::string& path, const WriteOptions& options = {});

/// All or nothing for the outputs of one command. Reserve every output before the long work:
/// each reservation creates its temporary at once (or checks its special file), so a missing or
/// read-only folder, an empty path, a name too long with the suffix, a symlink loop, a directory
/// fail in seconds, not after hours. Then write each output's bytes and commit():
///  1. every temporary is fsynced, closed, and checked to be still in place;
///  2. the bytes of direct outputs (devices, FIFOs, sockets, descriptors; kept in memory until
///     now) are written to them;
///  3. the temporaries are renamed onto their targets in reservation order.
/// A failure in steps 1-2 (or an exception, or destruction without commit()) removes every
/// temporary: no regular target changes (a device or FIFO may have received some bytes).
/// A failure in step 3 (rare: the folder made read-only or replaced meanwhile) cannot undo the
/// renames already done: the DataError then names the outputs already replaced; the later
/// temporaries are removed. No backups are kept, so nothing extra is left on disk after a crash.
class OutputSet {
 public:
  /// One reserved output; stays valid as long as its OutputSet.
  class Output {
   public:
    /// Appends bytes: to the temporary file, or to memory for a direct output.
    void write(const void* data, std::size_t size);
    void write(const std::string& bytes) { write(bytes.data(), bytes.size()); }
    const std::string& path() const { return writer_->path(); }
    bool direct() const { return writer_->direct(); }

   private:
    friend class OutputSet;
    explicit Output(std::unique_ptr<AtomicFileWriter> writer) : writer_(std::move(writer)) {}
    std::unique_ptr<AtomicFileWriter> writer_;
    std::string pending_;  // a direct output's bytes until commit()
  };

  OutputSet() = default;
  ~OutputSet();
  OutputSet(const OutputSet&) = delete;
  OutputSet& operator=(const OutputSet&) = delete;

  /// Reserves `path` as described above. Also refuses a path that is the same file (same_file())
  /// as an output already reserved: DataError "<path>: is the same file as output '<other>'".
  Output& reserve(const std::string& path, const WriteOptions& options = {});

  /// Writes every reserved output (an output never written becomes an empty file). Once only.
  void commit();

 private:
  std::vector<std::unique_ptr<Output>> outputs_;
  bool committed_ = false;
};

/// True when `a` and `b` name the same file, by identity rather than spelling: the device and
/// inode after following symbolic links (hard links, "..", "./" and links are all seen through),
/// or for a path that does not exist yet, its existing folder's device and inode plus its file
/// name (a dangling link counts as the path it points to). Character devices, FIFOs, sockets and
/// block devices are never "the same file" (writing /dev/null twice harms nothing). Two paths
/// that cannot be resolved (missing folder) are the same when spelled the same after lexical
/// normalisation. Never throws. For refusing `--output` equal to an input or to another output.
bool same_file(const std::string& a, const std::string& b);

/// Installs the handler that removes this process's live temporaries on SIGINT, SIGTERM, SIGHUP
/// and SIGPIPE, then restores the default action and re-raises the signal, so the process ends
/// as if killed by it (exit status 128 + signal number in a shell: 130, 143). A signal whose
/// disposition is not the default (ignored, e.g. SIGINT of a background job, or with a handler of
/// the program's own) is left alone. Idempotent; call it once at program start. The registry is
/// fixed-size (64 temporaries of up to 4095 bytes of absolute path, no allocation in the handler):
/// a temporary beyond that is not removed on a signal, only later as stale.
void install_signal_cleanup();

}  // namespace xdense
