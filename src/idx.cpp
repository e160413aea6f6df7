#include "xdense/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>
#include <optional>
#include <vector>

#include "input_file.hpp"
#include "xdense/error.hpp"

namespace xdense {
namespace {

/// Most elements an IDX file may declare; larger headers are refused before anything is allocated.
constexpr std::uint64_t max_elements = std::uint64_t{1} << 31;

/// IDX element type code of unsigned bytes, the only type read.
constexpr unsigned char type_ubyte = 0x08;

/// Name of an IDX element type code, or nullptr if the format defines no such code.
const char* type_name(unsigned char code) {
  switch (code) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return nullptr;
  }
}

/// "0x0000080D" (digits = 8) or "0x0D" (digits = 2).
std::string hex(std::uint32_t value, int digits) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "0x%0*X", digits, static_cast<unsigned>(value));
  return buffer;
}

std::uint32_t big_endian_u32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

/// 00 00 <known type> <at least one dimension>.
bool valid_magic(const std::array<unsigned char, 4>& magic) {
  return magic[0] == 0 && magic[1] == 0 && type_name(magic[2]) != nullptr && magic[3] >= 1;
}

/// Most decompressed bytes read beyond the data a gzip file's header describes, to report them:
/// the header's sizes, not the stream, bound how much is ever inflated.
constexpr std::size_t max_surplus_read = std::size_t{1} << 16;

/// A file read as bytes: gzip data (recognised by its 1f 8b magic, whatever the file is called)
/// is inflated, anything else is passed through unchanged. Concatenated gzip members are read
/// one after the other, as gunzip does. Errors throw DataError naming the file: a damaged or
/// cut-off gzip stream, or bytes after it that are not another member, are never silent.
class ByteReader {
 public:
  explicit ByteReader(const std::string& path) : path_(path), file_(path), buffer_(std::size_t{1} << 17) {
    stream_.next_in = buffer_.data();
    gzip_ = at_gzip_magic();
    if (gzip_ && inflateInit2(&stream_, 15 + 16) != Z_OK) {  // 15-bit window, gzip wrapper only
      throw DataError(path_ + ": cannot start gzip decompression (out of memory)");
    }
  }
  ~ByteReader() {
    if (gzip_) inflateEnd(&stream_);
  }
  ByteReader(const ByteReader&) = delete;
  ByteReader& operator=(const ByteReader&) = delete;

  /// Reads up to `size` bytes into `out`; returns fewer only at the end of the data.
  std::size_t read(unsigned char* out, std::size_t size) { return gzip_ ? inflate_into(out, size) : copy_into(out, size); }

  /// Passes over up to `count` bytes without keeping them; returns fewer only at the end of the
  /// data. A plain file is not read (a seek); gzip data is inflated through a small buffer.
  std::uint64_t skip(std::uint64_t count) {
    if (gzip_) {
      if (count != 0 && skipped_.empty()) skipped_.resize(std::size_t{1} << 17);  // once: many runs skip
      std::uint64_t done = 0;
      while (done < count) {
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(count - done, skipped_.size()));
        const std::size_t got = read(skipped_.data(), want);
        done += got;
        if (got < want) break;
      }
      return done;
    }
    if (count <= stream_.avail_in) {
      stream_.next_in += count;
      stream_.avail_in -= static_cast<uInt>(count);
      return count;
    }
    const std::uint64_t from_file = std::min<std::uint64_t>(count - stream_.avail_in, file_.remaining());
    const std::uint64_t done = stream_.avail_in + from_file;
    file_.seek(file_.position() + from_file);
    stream_.next_in = buffer_.data();
    stream_.avail_in = 0;
    return done;
  }

  bool gzip() const { return gzip_; }

  /// The file's size: of gzip data, the compressed size.
  std::uint64_t compressed_size() const { return file_.size(); }

  /// How many bytes are left: of a plain file, from its size (nothing is read: a sparse file of
  /// a terabyte is not read through); of gzip data, at most max_surplus_read + 1 are inflated, so
  /// a result above max_surplus_read means "more than that".
  std::uint64_t rest() {
    if (!gzip_) return stream_.avail_in + file_.remaining();
    std::vector<unsigned char> scratch(max_surplus_read + 1);
    return read(scratch.data(), scratch.size());
  }

 private:
  /// Makes at least `count` unread input bytes available in the buffer, unless the file ends first.
  bool fill(std::size_t count) {
    if (stream_.avail_in >= count) return true;
    std::memmove(buffer_.data(), stream_.next_in, stream_.avail_in);  // keep what is still unread
    stream_.next_in = buffer_.data();
    while (stream_.avail_in < count) {
      const std::size_t got = file_.read(buffer_.data() + stream_.avail_in, buffer_.size() - stream_.avail_in);
      if (got == 0) return false;
      stream_.avail_in += static_cast<uInt>(got);
    }
    return true;
  }

  bool at_gzip_magic() { return fill(2) && stream_.next_in[0] == 0x1f && stream_.next_in[1] == 0x8b; }

  /// Unread input bytes, from the buffer and the rest of the file (by its size: nothing is read).
  std::uint64_t count_rest() const { return stream_.avail_in + file_.remaining(); }

  std::size_t copy_into(unsigned char* out, std::size_t size) {
    std::size_t total = 0;
    while (total < size && fill(1)) {
      const std::size_t count = std::min<std::size_t>(size - total, stream_.avail_in);
      std::memcpy(out + total, stream_.next_in, count);
      stream_.next_in += count;
      stream_.avail_in -= static_cast<uInt>(count);
      total += count;
    }
    return total;
  }

  std::size_t inflate_into(unsigned char* out, std::size_t size) {
    std::size_t total = 0;
    while (total < size) {
      if (member_ended_) {
        if (!fill(1)) return total;  // clean end after the last member
        if (!at_gzip_magic()) {
          throw DataError(path_ + ": trailing garbage: " + std::to_string(count_rest()) +
                          " bytes after the end of the gzip stream");
        }
        inflateReset(&stream_);  // another member follows
        member_ended_ = false;
      }
      if (!fill(1)) throw DataError(path_ + ": corrupt gzip stream: unexpected end of file (compressed data is cut off)");
      const auto chunk = static_cast<uInt>(std::min<std::size_t>(size - total, std::size_t{1} << 30));
      stream_.next_out = out + total;
      stream_.avail_out = chunk;
      const int status = inflate(&stream_, Z_NO_FLUSH);
      total += chunk - stream_.avail_out;
      switch (status) {
        case Z_OK:
        case Z_BUF_ERROR:  // no progress without more input: fill() above gets it or reports the cut
          break;
        case Z_STREAM_END:
          member_ended_ = true;
          break;
        case Z_MEM_ERROR:
          throw DataError(path_ + ": out of memory while decompressing");
        default:
          throw DataError(path_ + ": corrupt gzip stream: " +
                          (stream_.msg != nullptr ? std::string(stream_.msg) : "error " + std::to_string(status)));
      }
    }
    return total;
  }

  std::string path_;
  detail::InputFile file_;
  std::vector<unsigned char> buffer_;  // input not yet consumed: stream_.next_in, stream_.avail_in
  std::vector<unsigned char> skipped_;  // where skip() inflates what it passes over
  z_stream stream_{};
  bool gzip_ = false;
  bool member_ended_ = false;
};

/// An IDX header of unsigned bytes: the dimension sizes and what they make.
struct IdxHeader {
  std::vector<std::uint32_t> dims;
  std::uint64_t elements = 0;    // product of dims
  std::uint64_t item_bytes = 1;  // product of dims[1..]: the bytes of one item (image, label)
  std::string dims_text;         // "60000 x 28 x 28"
};

/// Reads the header of an IDX file of unsigned bytes with exactly `rank` dimensions. `what` names
/// the content for messages ("images (count x rows x cols)"), `other` the content the other rank
/// would be.
IdxHeader read_ubyte_idx_header(ByteReader& in, const std::string& path, std::size_t rank, const std::string& what,
                                std::size_t other_rank, const std::string& other) {
  std::array<unsigned char, 4> magic{};
  const std::size_t magic_bytes = in.read(magic.data(), magic.size());
  if (magic_bytes == 0) throw DataError(path + ": not an IDX file (empty)");
  if (magic_bytes < magic.size()) {
    throw DataError(path + ": not an IDX file (only " + std::to_string(magic_bytes) + " bytes)");
  }
  const std::string magic_text = hex(big_endian_u32(magic.data()), 8);
  if (!valid_magic(magic)) throw DataError(path + ": not an IDX file (magic " + magic_text + ")");
  if (magic[2] != type_ubyte) {
    throw DataError(path + ": unsupported IDX element type " + hex(magic[2], 2) + " (" + type_name(magic[2]) +
                    "); only " + hex(type_ubyte, 2) + " (unsigned byte) is supported");
  }
  if (magic[3] != rank) {
    throw DataError(path + ": expected " + std::to_string(rank) + (rank == 1 ? " dimension" : " dimensions") +
                    " for " + what + ", found " + std::to_string(magic[3]) + " (magic " + magic_text +
                    (magic[3] == other_rank ? ": " + other + "?)" : ")"));
  }

  std::array<unsigned char, 4 * 255> size_bytes{};
  const std::size_t wanted = 4 * rank;
  const std::size_t got = in.read(size_bytes.data(), wanted);
  if (got < wanted) {
    throw DataError(path + ": truncated header: " + std::to_string(rank) + " dimension sizes need " +
                    std::to_string(wanted) + " bytes, file has " + std::to_string(got));
  }
  IdxHeader content;
  std::string dims_text;
  bool any_zero = false;
  for (std::size_t i = 0; i < rank; ++i) {
    content.dims.push_back(big_endian_u32(size_bytes.data() + 4 * i));
    dims_text += (i > 0 ? " x " : "") + std::to_string(content.dims.back());
    any_zero = any_zero || content.dims.back() == 0;
  }

  // Checked before allocating: the product of three uint32 sizes can overflow 64 bits.
  std::uint64_t elements = any_zero ? 0 : 1;
  for (std::uint32_t d : content.dims) {
    if (d != 0 && elements > max_elements / d) {
      throw DataError(path + ": too large: dimensions " + dims_text + " exceed the limit of 2^31 (" +
                      std::to_string(max_elements) + ") elements");
    }
    elements *= d;
  }

  for (std::size_t i = 1; i < rank; ++i) content.item_bytes *= content.dims[i];
  content.elements = elements;
  content.dims_text = dims_text;
  return content;
}

[[noreturn]] void fail_truncated(const std::string& path, const IdxHeader& header, std::uint64_t have) {
  throw DataError(path + ": truncated: header says " + std::to_string(header.dims[0]) + " items of " +
                  std::to_string(header.item_bytes) + (header.item_bytes == 1 ? " byte" : " bytes") + ", file has " +
                  std::to_string(have) + " bytes of data");
}

/// DataError unless nothing follows the data the header describes (`extra` bytes do).
void check_no_trailing(const std::string& path, const IdxHeader& header, std::uint64_t extra, bool gzip) {
  if (extra > 0) {
    throw DataError(path + ": trailing garbage: " +
                    (gzip && extra > max_surplus_read ? "more than " + std::to_string(max_surplus_read) : std::to_string(extra)) +
                    " bytes after the " + std::to_string(header.elements) + " bytes of data the header describes (" +
                    header.dims_text + ")");
  }
}

/// A plain file's data size against its header, from the file's size (nothing is read). gzip data
/// cannot be measured without inflating it: checked as it is read.
void check_plain_size(ByteReader& in, const std::string& path, const IdxHeader& header) {
  if (in.gzip()) return;
  const std::uint64_t have = in.rest();
  if (have < header.elements) fail_truncated(path, header, have);
  check_no_trailing(path, header, have - header.elements, false);
}

/// Passes the bytes of the items of `runs` (first item, items), in order, after the header, to
/// `keep(bytes, count)` through a buffer of at most 1 MiB. Every byte of the data is passed (gzip:
/// inflated; plain: seeked over) so a cut-off or over-long file is refused as by a whole read, but
/// only the wanted items are kept.
template <typename Keep>
void read_items(ByteReader& in, const std::string& path, const IdxHeader& header,
                const std::vector<std::pair<std::uint64_t, std::uint64_t>>& runs, Keep keep) {
  check_plain_size(in, path, header);
  std::uint64_t position = 0;  // bytes of data passed so far
  const auto skip_to = [&](std::uint64_t offset) {
    const std::uint64_t skipped = in.skip(offset - position);
    position += skipped;
    if (position < offset) fail_truncated(path, header, position);
  };
  constexpr std::size_t chunk = std::size_t{1} << 20;
  std::vector<unsigned char> buffer;
  for (const auto& [first, count] : runs) {
    skip_to(first * header.item_bytes);
    const std::uint64_t end = (first + count) * header.item_bytes;
    while (position < end) {
      const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, end - position));
      if (buffer.size() < want) buffer.resize(want);
      const std::size_t read = in.read(buffer.data(), want);
      position += read;
      keep(buffer.data(), read);
      if (read < want) fail_truncated(path, header, position);
    }
  }
  skip_to(header.elements);
  check_no_trailing(path, header, in.rest(), in.gzip());
}

/// What load_idx_images() and load_idx_labels() read, and their row readers.
struct IdxKind {
  std::size_t rank;
  const char* what;
  std::size_t other_rank;
  const char* other;
};
constexpr IdxKind images_kind{3, "images (count x rows x cols)", 1, "a labels file"};
constexpr IdxKind labels_kind{1, "labels (count)", 3, "an images file"};

/// DataError for images of 0 pixels; else the pixels of one image.
std::size_t pixels_of(const std::string& path, const IdxHeader& header) {
  const std::size_t pixels = std::size_t{header.dims[1]} * header.dims[2];
  if (pixels == 0) {
    throw DataError(path + ": images have no pixels (rows x cols = " + std::to_string(header.dims[1]) + " x " +
                    std::to_string(header.dims[2]) + ")");
  }
  return pixels;
}

/// Most bytes a deflate stream inflates to per compressed byte (a run of one byte value, coded at
/// 258 bytes per 2 bits): no gzip file of N bytes holds more than this times N bytes of data.
constexpr std::uint64_t max_deflate_ratio = 1032;

/// The (items, width) matrix for the kept items, allocated before they are read, or an empty
/// matrix when it must grow as data arrives instead. A plain file's size is checked against its
/// header first, so the header is the truth. A gzip header could promise more than its stream holds: the
/// matrix is allocated only when the compressed size could hold that much, and its pages are only
/// touched as data arrives (a lie costs address space, not memory); a refused allocation falls
/// back to growing as well.
std::optional<Matrix> matrix_for(ByteReader& in, const std::string& path, const IdxHeader& header, std::uint64_t items,
                                 std::size_t width) {
  check_plain_size(in, path, header);  // before allocating: a plain file shorter than its header is refused here
  if (in.gzip() && header.elements / max_deflate_ratio > in.compressed_size()) return std::nullopt;
  try {
    return Matrix::from_shape({static_cast<std::size_t>(items), width});
  } catch (const std::bad_alloc&) {
    return std::nullopt;
  }
}

/// Opens `path`, reads its header as `kind`, and loads the rows `select(header)` gives: images as
/// rows of floats in [0, 1] (pixel / 255), labels as their byte values. Each chunk of bytes is
/// converted into the matrix as it is read: no buffer of the whole data's bytes.
template <typename Select>
Matrix load_rows(const std::string& path, const IdxKind& kind, Select select) {
  ByteReader in(path);
  const IdxHeader header = read_ubyte_idx_header(in, path, kind.rank, kind.what, kind.other_rank, kind.other);
  const auto runs = select(header);
  const bool images = kind.rank == 3;
  const auto value = [images](unsigned char v) { return images ? static_cast<float>(v) / 255.0f : static_cast<float>(v); };
  if (images && std::uint64_t{header.dims[1]} * header.dims[2] == 0) {
    read_items(in, path, header, runs, [](const unsigned char*, std::size_t) {});
    pixels_of(path, header);  // throws: no pixels
  }
  const std::size_t width = images ? pixels_of(path, header) : 1;
  std::uint64_t items = 0;
  for (const auto& run : runs) items += run.second;
  if (std::optional<Matrix> out = matrix_for(in, path, header, items, width)) {
    float* next = out->data();
    read_items(in, path, header, runs, [&](const unsigned char* bytes, std::size_t count) {
      next = std::transform(bytes, bytes + count, next, value);
    });
    return std::move(*out);
  }
  // Grows as the data arrives, one byte per element, then converted.
  std::vector<unsigned char> kept;
  read_items(in, path, header, runs, [&](const unsigned char* bytes, std::size_t count) {
    kept.insert(kept.end(), bytes, bytes + count);
  });
  Matrix out = Matrix::from_shape({kept.size() / width, width});
  std::transform(kept.begin(), kept.end(), out.data(), value);
  return out;
}

/// The rows load_idx_images() / load_idx_labels() would give, from the header.
IdxShape shape_of(const std::string& path, const IdxKind& kind) {
  ByteReader in(path);
  const IdxHeader header = read_ubyte_idx_header(in, path, kind.rank, kind.what, kind.other_rank, kind.other);
  check_plain_size(in, path, header);
  if (kind.rank == 3) {
    const std::size_t pixels = std::size_t{header.dims[1]} * header.dims[2];
    if (pixels == 0) pixels_of(path, header);  // throws: no pixels
    return {header.dims[0], pixels};
  }
  return {header.dims[0], 1};
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> all_rows(const std::string& path, const IdxHeader& header) {
  return detail::row_runs(0, header.dims[0], header.dims[0], path);
}

/// load_rows()'s selection of the items in `rows`.
auto rows_in(const std::string& path, RowRange rows) {
  return [&path, rows](const IdxHeader& header) { return detail::row_runs(rows.first, rows.count, header.dims[0], path); };
}

/// load_rows()'s selection of the items listed in `rows`; `caller` names the function for errors.
auto rows_listed(const std::string& path, const std::vector<std::size_t>& rows, const char* caller) {
  return [&path, &rows, caller](const IdxHeader& header) { return detail::row_runs(rows, header.dims[0], path, caller); };
}

}  // namespace

Matrix load_idx_images(const std::string& path) {
  return load_rows(path, images_kind, [&](const IdxHeader& header) { return all_rows(path, header); });
}

Matrix load_idx_labels(const std::string& path) {
  return load_rows(path, labels_kind, [&](const IdxHeader& header) { return all_rows(path, header); });
}

IdxShape idx_images_shape(const std::string& path) { return shape_of(path, images_kind); }

IdxShape idx_labels_shape(const std::string& path) { return shape_of(path, labels_kind); }

Matrix load_idx_images_rows(const std::string& path, RowRange rows) {
  return load_rows(path, images_kind, rows_in(path, rows));
}

Matrix load_idx_images_rows(const std::string& path, const std::vector<std::size_t>& rows) {
  return load_rows(path, images_kind, rows_listed(path, rows, "load_idx_images_rows"));
}

Matrix load_idx_labels_rows(const std::string& path, RowRange rows) {
  return load_rows(path, labels_kind, rows_in(path, rows));
}

Matrix load_idx_labels_rows(const std::string& path, const std::vector<std::size_t>& rows) {
  return load_rows(path, labels_kind, rows_listed(path, rows, "load_idx_labels_rows"));
}

bool looks_like_idx(const std::string& path) {
  try {
    ByteReader in(path);
    std::array<unsigned char, 4> magic{};
    return in.read(magic.data(), magic.size()) == magic.size() && valid_magic(magic);
  } catch (const DataError&) {
    return false;
  }
}

}  // namespace xdense
