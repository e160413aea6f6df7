// libFuzzer target: the .npy reader on arbitrary bytes, read from a file as the command-line tool
// does. Any exception other than xdense::Error, any crash, leak, undefined behaviour, or an
// allocation beyond -malloc_limit_mb is a finding.

#include <cstddef>
#include <cstdint>

#include "fuzz_file.hpp"
#include "xdense/error.hpp"
#include "xdense/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static xdense_fuzz::MemoryFile file;
  const std::string& path = file.write(data, size);
  xdense::looks_like_npy(path);
  try {
    xdense::load_npy(path);
  } catch (const xdense::Error&) {
  }
  return 0;
}
