#pragma once
// The one way the library's readers open a file (private to the library, not installed).
//
// xdense reads regular files only. A FIFO would block (the open itself when nothing writes to it, a
// read when the writer stalls), a device such as /dev/zero never ends, and neither has a size to
// check a header against; they are refused, as are directories, sockets and anything else that is
// not a regular file (a symbolic link is followed: its target is what counts). Every failure is a
// DataError "PATH: reason" with the operating system's reason where there is one ("cannot open
// file: Permission denied", "...: Too many levels of symbolic links", "...: File name too long").

#include <cstddef>
#include <cstdint>
#include <istream>
#include <streambuf>
#include <string>
#include <utility>
#include <vector>

namespace xdense::detail {

/// A regular file open for reading, closed on destruction. The path is checked with stat() before
/// it is opened (so a device is never opened: opening one can have effects), then opened with
/// O_NONBLOCK (so a FIFO swapped in meanwhile cannot block the open) and checked again with
/// fstat() on the descriptor itself, which is what is read.
class InputFile {
 public:
  /// Throws DataError "PATH: cannot open file: <reason>", "PATH: is a directory" or
  /// "PATH: is a FIFO (named pipe); xdense reads regular files only" (or the other type).
  explicit InputFile(const std::string& path);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  const std::string& path() const { return path_; }
  /// The file's size when it was opened.
  std::uint64_t size() const { return size_; }
  /// The read position: bytes read (or skipped by seek()) from the start.
  std::uint64_t position() const { return position_; }
  /// Bytes of size() not read yet (0 once more than that was read: the file grew).
  std::uint64_t remaining() const { return position_ < size_ ? size_ - position_ : 0; }

  /// Reads up to `count` bytes; fewer only at the end of the file. DataError "PATH: read error: ...".
  std::size_t read(void* out, std::size_t count);

  /// Moves the read position to byte `offset` from the start (beyond the end too: a read there
  /// returns nothing). DataError "PATH: seek error: ..." when the system refuses.
  void seek(std::uint64_t offset);

  /// The whole file as text, refused (before reading it) when it holds more than `max_bytes`:
  /// DataError "PATH: <size> bytes, more than the <limit> a <what> may hold".
  std::string read_all(std::uint64_t max_bytes, const std::string& what);

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::uint64_t position_ = 0;
};

/// The rows a reader of part of a file (load_npy_rows, load_idx_images_rows, ...) is asked for, as
/// contiguous runs in file order. `caller` names the function for the InvalidArgument of rows that
/// are not sorted and unique (a mistake of the program); rows beyond the file's `total` rows are a
/// DataError "PATH: row R is out of range: the file has N rows" (a file shorter than expected).
std::vector<std::pair<std::uint64_t, std::uint64_t>> row_runs(const std::vector<std::size_t>& rows, std::uint64_t total,
                                                              const std::string& path, const char* caller);
/// The same for rows [first, first + count): one run (none when count is 0); DataError
/// "PATH: rows [A, B) are out of range: the file has N rows".
std::vector<std::pair<std::uint64_t, std::uint64_t>> row_runs(std::uint64_t first, std::uint64_t count,
                                                              std::uint64_t total, const std::string& path);

/// "64 MiB" for 64 << 20, "1000 bytes" for what is not a whole number of KiB or MiB.
std::string size_text(std::uint64_t bytes);

/// A regular file as a std::istream for the text readers, with every line held to `max_line_bytes`
/// (lines end at LF, CRLF or a lone CR). A longer line, or a read error, throws DataError
/// ("PATH:LINE: line longer than ...") out of the stream's operations: the stream has badbit set
/// in its exceptions(), so the DataError reaches the caller unchanged. The limit keeps a file
/// without line breaks (a binary file, a sparse file of zeros) from being read whole into one line.
class TextInputStream : public std::istream {
 public:
  TextInputStream(const std::string& path, std::uint64_t max_line_bytes);

 private:
  class Buffer : public std::streambuf {
   public:
    Buffer(const std::string& path, std::uint64_t max_line_bytes);

   protected:
    int_type underflow() override;

   private:
    void check_lines(const char* data, std::size_t size);

    InputFile file_;
    std::vector<char> buffer_;
    std::uint64_t max_line_bytes_;
    std::uint64_t line_bytes_ = 0;  // length of the current line so far
    std::uint64_t line_ = 1;        // 1-based number of the current line
    bool after_cr_ = false;         // the last byte seen was a CR (a LF after it ends no line)
  };
  Buffer buffer_;
};

}  // namespace xdense::detail
