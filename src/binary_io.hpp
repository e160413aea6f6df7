#pragma once
// The byte layer shared by the model file and the checkpoint (private to the library): one
// little-endian writer, one bounded reader and the CRC-32 both formats end with
// (docs/model-format.md, "Conventions").

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace xdense::detail {

class InputFile;

/// Longest string either format holds: 1 MiB.
constexpr std::size_t max_string_bytes = std::size_t{1} << 20;
/// Smallest encoding of a string (its u32 length): used to bound counts of strings.
constexpr std::size_t min_string_bytes = 4;

/// Standard CRC-32 (zlib's crc32(): reflected polynomial 0xEDB88320) of `size` bytes, continuing
/// from `crc` (0 for a new checksum).
std::uint32_t crc32_update(std::uint32_t crc, const unsigned char* data, std::size_t size);
inline std::uint32_t crc32_of(const unsigned char* data, std::size_t size) { return crc32_update(0, data, size); }

/// "0x05bac31b".
std::string hex32(std::uint32_t value);

/// Little-endian u32 / u64 stored at `p`.
std::uint32_t get_u32(const unsigned char* p);
std::uint64_t get_u64(const unsigned char* p);

/// Appends little-endian fields to a byte buffer. `who` ("save_model") starts its messages:
/// InvalidArgument "<who>: <what> is N bytes long; ..." for a string over 1 MiB.
class ByteWriter {
 public:
  explicit ByteWriter(std::string who) : who_(std::move(who)) {}

  void u8(std::uint8_t v) { bytes_.push_back(v); }
  void u32(std::uint32_t v);
  void u64(std::uint64_t v);
  void f32(float v);
  void f64(double v);
  void f32s(const float* values, std::size_t n);
  void raw(const void* data, std::size_t n);
  /// u32 length + bytes; `what` names the string in the too-long error.
  void str(const std::string& s, const std::string& what);
  /// A u32 count; InvalidArgument "too many <what>" above 2^32 - 1.
  void count(std::size_t n, const std::string& what);
  /// count + each string.
  void strings(const std::vector<std::string>& list, const std::string& what);
  /// Overwrites the u64 at byte `at` (a length known only at the end).
  void patch_u64(std::size_t at, std::uint64_t v);
  /// Appends the u32 CRC-32 of every byte so far.
  void append_checksum() { u32(crc32_of(bytes_.data(), bytes_.size())); }

  std::size_t size() const { return bytes_.size(); }
  std::vector<unsigned char>& bytes() { return bytes_; }

 private:
  std::string who_;
  std::vector<unsigned char> bytes_;
};

/// Reads little-endian fields from bytes in memory or from a file, checking every length against
/// the bytes left before touching (or allocating for) them. Failures throw DataError
/// "<prefix><what>: <problem>", e.g. prefix "model.xdm: invalid " gives
/// "model.xdm: invalid compile: loss name: needs more bytes than the 12 left in the payload".
class ByteReader {
 public:
  /// Reads `size` bytes at `data` (borrowed); `region` names them in messages ("payload").
  ByteReader(const unsigned char* data, std::size_t size, std::string prefix, std::string region);
  /// Reads `file` from its current position to its end, field by field: only what the fields
  /// declare is ever read, and each read is checked against the file's size first (so a file
  /// followed by a terabyte is refused at the end of its structure, not read whole). Keeps a running
  /// CRC-32 of what was read (checksum()).
  ByteReader(InputFile& file, std::string prefix, std::string region);

  /// Bytes left before the end (the end of the data, or the end set by hold_back()).
  std::uint64_t remaining() const { return end_ - position_; }

  /// Throws DataError "<prefix><message>".
  [[noreturn]] void fail(const std::string& message) const;

  std::uint8_t u8(const std::string& what) { return *take(1, what); }
  std::uint32_t u32(const std::string& what) { return get_u32(take(4, what)); }
  std::uint64_t u64(const std::string& what) { return get_u64(take(8, what)); }
  float f32(const std::string& what);
  double f64(const std::string& what);
  /// A u8 that must be 0 or 1.
  bool flag(const std::string& what);
  /// u32 length (at most 1 MiB and what is left) + bytes.
  std::string str(const std::string& what);
  /// A u32 count of items taking at least `min_item_bytes` each: refused when they cannot fit.
  std::size_t count(const std::string& what, std::size_t min_item_bytes);
  /// count + each string.
  std::vector<std::string> strings(const std::string& what);
  /// Copies `n` floats into `out` (which has room for them); `n` is checked first.
  void f32s(float* out, std::size_t n, const std::string& what);
  /// `n` floats, checked against the bytes left before the vector is allocated.
  std::vector<float> f32_vector(std::uint64_t n, const std::string& what);
  /// `n` raw bytes, valid until the next read.
  const unsigned char* bytes(std::uint64_t n, const std::string& what) { return take(n, what); }

  /// Keeps the last `n` bytes (a trailer) out of the fields: "truncated while reading <what>" when
  /// fewer are left. release() gives them back.
  void hold_back(std::uint64_t n, const std::string& what);
  void release(std::uint64_t n) { end_ += n; }

  /// CRC-32 of everything read so far (file reader only).
  std::uint32_t checksum() const { return crc_; }

 private:
  const unsigned char* take(std::uint64_t n, const std::string& what);
  [[noreturn]] void need(const std::string& what) const;

  const unsigned char* data_ = nullptr;  // memory reader
  InputFile* file_ = nullptr;            // file reader
  std::vector<unsigned char> buffer_;    // file reader: the last field read
  std::uint64_t position_ = 0;
  std::uint64_t end_ = 0;
  std::uint32_t crc_ = 0;
  std::string prefix_;
  std::string region_;
};

}  // namespace xdense::detail
