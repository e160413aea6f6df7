// libFuzzer target: the model file reader (load_model) and the checkpoint reader (load_checkpoint,
// then restore_training_state) on arbitrary bytes, read from a file. Both formats end with a CRC-32
// of everything before it; random bytes would almost never get past it, so the harness writes the
// correct checksum into the last 4 bytes of every input of at least 28 bytes (a model's header +
// checksum) and the fuzzer explores the parsers behind it (the magic bytes pick which one gets
// further; seeds of both, versions 1 and 2, are in corpus/model_file/). Both compare the lengths
// their headers declare with the file's size before reading on. Any exception other than xdense::Error, any crash, leak,
// undefined behaviour, or an allocation beyond -malloc_limit_mb is a finding.

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_file.hpp"
#include "xdense/checkpoint.hpp"
#include "xdense/error.hpp"
#include "xdense/model_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static xdense_fuzz::MemoryFile file;
  std::vector<std::uint8_t> bytes(data, data + size);
  constexpr std::size_t header_and_checksum = 28;
  if (bytes.size() >= header_and_checksum) {
    const std::size_t body = bytes.size() - 4;
    const auto crc = static_cast<std::uint32_t>(crc32(crc32(0L, Z_NULL, 0), bytes.data(), static_cast<uInt>(body)));
    for (int i = 0; i < 4; ++i) bytes[body + i] = static_cast<std::uint8_t>(crc >> (8 * i));  // little-endian
  }
  const std::string& path = file.write(bytes.data(), bytes.size());
  try {
    xdense::SavedModel saved = xdense::load_model(path);
    saved.model.summary();
  } catch (const xdense::Error&) {
  }
  try {
    xdense::Checkpoint checkpoint = xdense::load_checkpoint(path);
    xdense::restore_training_state(checkpoint);
    checkpoint.saved.model.summary();
  } catch (const xdense::Error&) {
  }
  return 0;
}
