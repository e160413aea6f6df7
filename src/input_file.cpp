#include "input_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "xdense/error.hpp"

namespace xdense::detail {
namespace {

std::string reason(int error) { return std::generic_category().message(error); }

/// What a file of type `mode` is, for "PATH: is ..."; empty for a regular file.
std::string not_regular(::mode_t mode) {
  if (S_ISREG(mode)) return {};
  if (S_ISDIR(mode)) return "is a directory";
  const char* type = S_ISFIFO(mode)  ? "is a FIFO (named pipe)"
                     : S_ISSOCK(mode) ? "is a socket"
                     : S_ISCHR(mode)  ? "is a character device"
                     : S_ISBLK(mode)  ? "is a block device"
                                      : "is not a regular file";
  return std::string(type) + "; xdense reads regular files only";
}

void require_regular(const std::string& path, const struct stat& status) {
  const std::string problem = not_regular(status.st_mode);
  if (!problem.empty()) throw DataError(path + ": " + problem);
}

[[noreturn]] void cannot_open(const std::string& path, int error) {
  throw DataError(path + ": cannot open file: " + reason(error));
}

}  // namespace

InputFile::InputFile(const std::string& path) : path_(path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) cannot_open(path, errno);
  require_regular(path, status);
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd_ < 0) cannot_open(path, errno);
  try {
    if (::fstat(fd_, &status) != 0) cannot_open(path, errno);
    require_regular(path, status);  // the path may name another file by now
    const int flags = ::fcntl(fd_, F_GETFL);
    if (flags < 0 || ::fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK) != 0) cannot_open(path, errno);
  } catch (...) {
    ::close(fd_);
    throw;
  }
  size_ = static_cast<std::uint64_t>(status.st_size);
}

InputFile::~InputFile() { ::close(fd_); }

std::size_t InputFile::read(void* out, std::size_t count) {
  std::size_t done = 0;
  while (done < count) {
    const ssize_t got = ::read(fd_, static_cast<char*>(out) + done, count - done);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw DataError(path_ + ": read error: " + reason(errno));
    }
    if (got == 0) break;
    done += static_cast<std::size_t>(got);
  }
  position_ += done;
  return done;
}

void InputFile::seek(std::uint64_t offset) {
  if (::lseek(fd_, static_cast<off_t>(offset), SEEK_SET) < 0) throw DataError(path_ + ": seek error: " + reason(errno));
  position_ = offset;
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> row_runs(const std::vector<std::size_t>& rows, std::uint64_t total,
                                                              const std::string& path, const char* caller) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> runs;  // (first row, rows)
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (i > 0 && rows[i] <= rows[i - 1]) {
      throw InvalidArgument(std::string(caller) + ": expected sorted, unique row indices, received " +
                            std::to_string(rows[i]) + " at position " + std::to_string(i) + " after " +
                            std::to_string(rows[i - 1]));
    }
    if (rows[i] >= total) {
      throw DataError(path + ": row " + std::to_string(rows[i]) + " is out of range: the file has " +
                      std::to_string(total) + " rows");
    }
    if (!runs.empty() && runs.back().first + runs.back().second == rows[i]) {
      ++runs.back().second;
    } else {
      runs.emplace_back(rows[i], 1);
    }
  }
  return runs;
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> row_runs(std::uint64_t first, std::uint64_t count,
                                                              std::uint64_t total, const std::string& path) {
  if (first > total || count > total - first) {
    throw DataError(path + ": rows [" + std::to_string(first) + ", " + std::to_string(first + count) +
                    ") are out of range: the file has " + std::to_string(total) + " rows");
  }
  if (count == 0) return {};
  return {{first, count}};
}

std::string InputFile::read_all(std::uint64_t max_bytes, const std::string& what) {
  const auto too_large = [&](const std::string& size) {
    return DataError(path_ + ": " + size + ", more than the " + size_text(max_bytes) + " a " + what + " may hold");
  };
  if (size_ > max_bytes) throw too_large(std::to_string(size_) + " bytes");
  // Up to one byte beyond the limit, in case the file grew since it was opened.
  std::string text(static_cast<std::size_t>(std::min(size_, max_bytes) + 1), '\0');
  std::size_t have = 0;
  for (;;) {
    have += read(text.data() + have, text.size() - have);
    if (have < text.size()) break;
    if (have > max_bytes) throw too_large("over " + std::to_string(max_bytes) + " bytes");
    text.resize(std::min<std::uint64_t>(2 * text.size(), max_bytes + 1));
  }
  text.resize(have);
  return text;
}

std::string size_text(std::uint64_t bytes) {
  if (bytes != 0 && bytes % (std::uint64_t{1} << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes != 0 && bytes % (std::uint64_t{1} << 10) == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

TextInputStream::TextInputStream(const std::string& path, std::uint64_t max_line_bytes)
    : std::istream(nullptr), buffer_(path, max_line_bytes) {
  rdbuf(&buffer_);
  exceptions(std::ios::badbit);
}

TextInputStream::Buffer::Buffer(const std::string& path, std::uint64_t max_line_bytes)
    : file_(path), buffer_(std::size_t{1} << 16), max_line_bytes_(max_line_bytes) {}

TextInputStream::Buffer::int_type TextInputStream::Buffer::underflow() {
  if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
  const std::size_t got = file_.read(buffer_.data(), buffer_.size());
  if (got == 0) return traits_type::eof();
  check_lines(buffer_.data(), got);
  setg(buffer_.data(), buffer_.data(), buffer_.data() + got);
  return traits_type::to_int_type(*gptr());
}

void TextInputStream::Buffer::check_lines(const char* data, std::size_t size) {
  // memchr for each kind of line break, each remembered until passed: every byte is looked at
  // once per kind, at memchr's speed.
  const auto find = [data, size](char c, std::size_t from) {
    const void* found = std::memchr(data + from, c, size - from);
    return found == nullptr ? size : static_cast<std::size_t>(static_cast<const char*>(found) - data);
  };
  std::size_t next_lf = find('\n', 0);
  std::size_t next_cr = find('\r', 0);
  for (std::size_t at = 0; at < size;) {
    if (next_lf < at) next_lf = find('\n', at);
    if (next_cr < at) next_cr = find('\r', at);
    const std::size_t stop = std::min(next_lf, next_cr);  // the next line break, or the end
    if (stop > at) after_cr_ = false;
    line_bytes_ += stop - at;
    if (line_bytes_ > max_line_bytes_) {
      throw DataError(file_.path() + ":" + std::to_string(line_) + ": line longer than the limit of " +
                      size_text(max_line_bytes_) + " (not a text file?)");
    }
    if (stop == size) break;
    if (data[stop] == '\r' || !after_cr_) ++line_;  // the LF of a CRLF ends no other line
    after_cr_ = data[stop] == '\r';
    line_bytes_ = 0;
    at = stop + 1;
  }
}

}  // namespace xdense::detail
