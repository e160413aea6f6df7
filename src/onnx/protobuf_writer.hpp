#pragma once
/// \file
/// The protocol buffers wire format, written by hand: the few encodings an ONNX model needs
/// (https://protobuf.dev/programming-guides/encoding/). A message is a sequence of fields, each a key
/// (field number << 3 | wire type) as a varint, then the value:
///   wire type 0 (varint)           int32, int64, enum, bool: base-128, least significant group first,
///                                  a negative value as its 64-bit two's complement (ten bytes);
///   wire type 5 (fixed 32 bits)    float: IEEE 754 single, little-endian;
///   wire type 2 (length-delimited) string, bytes, a nested message, a packed repeated scalar:
///                                  the byte count as a varint, then the bytes.
/// Fields are written in the order the caller gives; onnx.proto is proto2, whose repeated scalars
/// without [packed = true] are one field per element (ints(), floats()): what the reference
/// implementation writes too, so the bytes can be compared with it.

#include <cstdint>
#include <string>
#include <vector>

namespace xdense::detail {

/// Appends fields of one message to a byte string; a nested message is written into its own
/// ProtobufWriter and then added with message().
class ProtobufWriter {
 public:
  /// A varint field (int32, int64, enum, bool): wire type 0.
  void integer(int field, std::int64_t value);
  /// A float field: wire type 5, four bytes little-endian.
  void real(int field, float value);
  /// A string or bytes field: wire type 2.
  void bytes(int field, const std::string& value);
  /// A nested message: wire type 2 holding `message`'s bytes.
  void message(int field, const ProtobufWriter& message) { bytes(field, message.data()); }
  /// A repeated int64 field written unpacked: one varint field per element.
  void integers(int field, const std::vector<std::int64_t>& values);
  /// A repeated float field written unpacked: one fixed-32 field per element.
  void reals(int field, const std::vector<float>& values);

  /// The message's bytes so far.
  const std::string& data() const { return data_; }

 private:
  void key(int field, int wire_type);
  void varint(std::uint64_t value);
  std::string data_;
};

/// `values` as IEEE 754 single-precision little-endian bytes (TensorProto.raw_data of a FLOAT tensor).
std::string little_endian_bytes(const std::vector<float>& values);
/// `values` as 64-bit two's complement little-endian bytes (raw_data of an INT64 tensor).
std::string little_endian_bytes(const std::vector<std::int64_t>& values);

}  // namespace xdense::detail
