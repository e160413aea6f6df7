#include "xdense/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "xdense/error.hpp"

namespace xdense {

void write_file_atomically(const std::string& path, const std::string& bytes) {
  // mkstemp in the target's folder, so the final rename never crosses file systems.
  std::string pattern = path + ".tmp-XXXXXX";
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  if (fd < 0) throw DataError(path + ": cannot create file: " + std::strerror(errno));
  const std::string temp(name.data());
  auto fail = [&](const std::string& what) {
    const int saved = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    throw DataError(path + ": " + what + ": " + std::strerror(saved));
  };
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write file");
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, 0644) != 0) fail("cannot set permissions");
  if (::fsync(fd) != 0) fail("cannot flush file");
  if (::close(fd) != 0) {
    const int saved = errno;
    ::unlink(temp.c_str());
    throw DataError(path + ": cannot close file: " + std::strerror(saved));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    ::unlink(temp.c_str());
    throw DataError(path + ": cannot replace file: " + std::strerror(saved));
  }
}

}  // namespace xdense
