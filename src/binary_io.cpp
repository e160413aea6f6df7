#include "binary_io.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "input_file.hpp"
#include "xdense/error.hpp"

namespace xdense::detail {

std::uint32_t crc32_update(std::uint32_t crc, const unsigned char* data, std::size_t size) {
  uLong value = crc;
  while (size > 0) {  // zlib takes uInt lengths
    const auto chunk = static_cast<uInt>(std::min<std::size_t>(size, std::size_t{1} << 30));
    value = crc32(value, data, chunk);
    data += chunk;
    size -= chunk;
  }
  return static_cast<std::uint32_t>(value);
}

std::string hex32(std::uint32_t value) {
  char text[11];
  std::snprintf(text, sizeof text, "0x%08x", value);
  return text;
}

std::uint32_t get_u32(const unsigned char* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

std::uint64_t get_u64(const unsigned char* p) {
  return static_cast<std::uint64_t>(get_u32(p)) | static_cast<std::uint64_t>(get_u32(p + 4)) << 32;
}

// ---------------------------------------------------------------- ByteWriter

void ByteWriter::u32(std::uint32_t v) {
  for (int i = 0; i < 4; ++i) bytes_.push_back(static_cast<unsigned char>(v >> (8 * i)));
}

void ByteWriter::u64(std::uint64_t v) {
  u32(static_cast<std::uint32_t>(v));
  u32(static_cast<std::uint32_t>(v >> 32));
}

void ByteWriter::f32(float v) {
  std::uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  u32(bits);
}

void ByteWriter::f64(double v) {
  std::uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  u64(bits);
}

void ByteWriter::f32s(const float* values, std::size_t n) {
  bytes_.reserve(bytes_.size() + 4 * n);
  for (std::size_t i = 0; i < n; ++i) f32(values[i]);
}

void ByteWriter::raw(const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  bytes_.insert(bytes_.end(), p, p + n);
}

void ByteWriter::str(const std::string& s, const std::string& what) {
  if (s.size() > max_string_bytes) {
    throw InvalidArgument(who_ + ": " + what + " is " + std::to_string(s.size()) +
                          " bytes long; the format allows at most 1 MiB per string");
  }
  u32(static_cast<std::uint32_t>(s.size()));
  raw(s.data(), s.size());
}

void ByteWriter::count(std::size_t n, const std::string& what) {
  if (n > 0xffffffffu) throw InvalidArgument(who_ + ": too many " + what + " (" + std::to_string(n) + ")");
  u32(static_cast<std::uint32_t>(n));
}

void ByteWriter::strings(const std::vector<std::string>& list, const std::string& what) {
  count(list.size(), what);
  for (std::size_t i = 0; i < list.size(); ++i) str(list[i], what + " " + std::to_string(i));
}

void ByteWriter::patch_u64(std::size_t at, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) bytes_.at(at + static_cast<std::size_t>(i)) = static_cast<unsigned char>(v >> (8 * i));
}

// ---------------------------------------------------------------- ByteReader

ByteReader::ByteReader(const unsigned char* data, std::size_t size, std::string prefix, std::string region)
    : data_(data), end_(size), prefix_(std::move(prefix)), region_(std::move(region)) {}

ByteReader::ByteReader(InputFile& file, std::string prefix, std::string region)
    : file_(&file), end_(file.remaining()), prefix_(std::move(prefix)), region_(std::move(region)) {}

void ByteReader::fail(const std::string& message) const { throw DataError(prefix_ + message); }

void ByteReader::need(const std::string& what) const {
  fail(what + ": needs more bytes than the " + std::to_string(remaining()) + " left in the " + region_);
}

const unsigned char* ByteReader::take(std::uint64_t n, const std::string& what) {
  if (n > remaining()) need(what);
  const std::uint64_t start = position_;
  position_ += n;
  if (data_ != nullptr || file_ == nullptr) return data_ + start;
  buffer_.resize(static_cast<std::size_t>(n));
  if (file_->read(buffer_.data(), buffer_.size()) < buffer_.size()) {
    throw DataError(file_->path() + ": truncated: the file shrank while being read");
  }
  crc_ = crc32_update(crc_, buffer_.data(), buffer_.size());
  return buffer_.data();
}

float ByteReader::f32(const std::string& what) {
  const std::uint32_t bits = u32(what);
  float v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

double ByteReader::f64(const std::string& what) {
  const std::uint64_t bits = u64(what);
  double v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

bool ByteReader::flag(const std::string& what) {
  const std::uint8_t v = u8(what);
  if (v > 1) fail(what + ": expected 0 or 1, found " + std::to_string(v));
  return v == 1;
}

std::string ByteReader::str(const std::string& what) {
  const std::uint32_t length = u32(what + " length");
  if (length > max_string_bytes) {
    fail(what + ": length " + std::to_string(length) + " exceeds the 1 MiB limit for strings");
  }
  const unsigned char* p = take(length, what);
  return std::string(reinterpret_cast<const char*>(p), length);
}

std::size_t ByteReader::count(const std::string& what, std::size_t min_item_bytes) {
  const std::uint32_t n = u32(what + " count");
  if (n > remaining() / min_item_bytes) {
    fail(what + " count " + std::to_string(n) + " cannot fit in the " + std::to_string(remaining()) + " " +
         region_ + " bytes left");
  }
  return n;
}

std::vector<std::string> ByteReader::strings(const std::string& what) {
  std::vector<std::string> list(count(what, min_string_bytes));
  for (std::size_t i = 0; i < list.size(); ++i) list[i] = str(what + " " + std::to_string(i));
  return list;
}

void ByteReader::f32s(float* out, std::size_t n, const std::string& what) {
  if (n > remaining() / 4) need(what);
  const unsigned char* p = take(4 * static_cast<std::uint64_t>(n), what);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t bits = get_u32(p + 4 * i);
    std::memcpy(out + i, &bits, sizeof(float));
  }
}

std::vector<float> ByteReader::f32_vector(std::uint64_t n, const std::string& what) {
  if (n > remaining() / 4) need(what);
  std::vector<float> values(static_cast<std::size_t>(n));
  f32s(values.data(), values.size(), what);
  return values;
}

void ByteReader::hold_back(std::uint64_t n, const std::string& what) {
  if (remaining() < n) fail("truncated while reading " + what);
  end_ -= n;
}

}  // namespace xdense::detail
