#include "protobuf_writer.hpp"

#include <cstring>

namespace xdense::detail {
namespace {

constexpr int wire_varint = 0;
constexpr int wire_length_delimited = 2;
constexpr int wire_fixed32 = 5;

void append_little_endian(std::string& out, std::uint64_t bits, int bytes) {
  for (int b = 0; b < bytes; ++b) out.push_back(static_cast<char>((bits >> (8 * b)) & 0xffu));
}

std::uint32_t float_bits(float value) {
  std::uint32_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

}  // namespace

void ProtobufWriter::varint(std::uint64_t value) {
  while (value >= 0x80u) {
    data_.push_back(static_cast<char>((value & 0x7fu) | 0x80u));
    value >>= 7;
  }
  data_.push_back(static_cast<char>(value));
}

void ProtobufWriter::key(int field, int wire_type) {
  varint((static_cast<std::uint64_t>(field) << 3) | static_cast<std::uint64_t>(wire_type));
}

void ProtobufWriter::integer(int field, std::int64_t value) {
  key(field, wire_varint);
  varint(static_cast<std::uint64_t>(value));  // a negative value: its two's complement, ten bytes
}

void ProtobufWriter::real(int field, float value) {
  key(field, wire_fixed32);
  append_little_endian(data_, float_bits(value), 4);
}

void ProtobufWriter::bytes(int field, const std::string& value) {
  key(field, wire_length_delimited);
  varint(value.size());
  data_ += value;
}

void ProtobufWriter::integers(int field, const std::vector<std::int64_t>& values) {
  for (const std::int64_t v : values) integer(field, v);
}

void ProtobufWriter::reals(int field, const std::vector<float>& values) {
  for (const float v : values) real(field, v);
}

std::string little_endian_bytes(const std::vector<float>& values) {
  std::string out;
  out.reserve(4 * values.size());
  for (const float v : values) append_little_endian(out, float_bits(v), 4);
  return out;
}

std::string little_endian_bytes(const std::vector<std::int64_t>& values) {
  std::string out;
  out.reserve(8 * values.size());
  for (const std::int64_t v : values) append_little_endian(out, static_cast<std::uint64_t>(v), 8);
  return out;
}

}  // namespace xdense::detail
