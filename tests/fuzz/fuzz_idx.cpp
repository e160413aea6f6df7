// libFuzzer target: the IDX readers (plain or gzip) on arbitrary bytes, read from a file as the
// command-line tool does. Any exception other than xdense::Error, any crash, leak, undefined
// behaviour, or an allocation beyond -malloc_limit_mb is a finding.

#include <cstddef>
#include <cstdint>

#include "fuzz_file.hpp"
#include "xdense/error.hpp"
#include "xdense/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static xdense_fuzz::MemoryFile file;
  const std::string& path = file.write(data, size);
  xdense::looks_like_idx(path);
  try {
    xdense::load_idx_images(path);
  } catch (const xdense::Error&) {
  }
  try {
    xdense::load_idx_labels(path);
  } catch (const xdense::Error&) {
  }
  return 0;
}
