#pragma once
/// \file
/// Crash-safe file replacement: write to a temporary file in the same folder,
/// flush it to disk, then rename it over the target. A reader sees the old file
/// or the new one, never a half-written one; on failure nothing is left behind.
/// A replaced file keeps its permissions; a new one gets 0666 less the umask.

#include <cstddef>
#include <string>

namespace xdense {

/// Streams bytes into "<path>.tmp-XXXXXX" and renames it onto `path` on commit();
/// destroyed without commit() (an exception on the way), it removes the temporary.
class AtomicFileWriter {
 public:
  /// Creates the temporary file; DataError "<path>: cannot create a temporary file in '<folder>': ...".
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  /// Appends bytes; DataError naming the path on failure.
  void write(const void* data, std::size_t size);

  /// Flushes to disk and renames onto the path (then flushes the folder entry).
  void commit();

 private:
  [[noreturn]] void fail(const std::string& action, int error);

  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
  bool committed_ = false;
};

/// Replaces `path` with `bytes` atomically; throws DataError naming the path on failure.
void write_file_atomically(const std::string& path, const std::string& bytes);

}  // namespace xdense
