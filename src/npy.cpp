#include "xdense/atomic_file.hpp"
#include "xdense/npy.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>

#include "input_file.hpp"
#include "xdense/error.hpp"

namespace xdense {
namespace {

constexpr char npy_magic[] = "\x93NUMPY";
constexpr std::size_t npy_magic_size = 6;
/// Longest header read. NumPy writes ~120 bytes (and by default refuses to read over 10,000);
/// a longer one, up to the 4 GiB a version 2.0 file may declare, is refused before it is allocated.
constexpr std::uint64_t max_header_length = std::uint64_t{1} << 16;
/// Most elements an array may have (as for IDX files): 8 GiB of float32 once loaded.
constexpr std::uint64_t max_elements = std::uint64_t{1} << 31;

/// A supported element type: kind 'f' (float), 'i' (signed) or 'u' (unsigned), and size in bytes.
struct DType {
  char kind;
  std::size_t size;
};

/// The parsed header dictionary.
struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  std::vector<std::uint64_t> shape;
};

/// Python's repr of a shape tuple: "()", "(5,)", "(2, 3)".
std::string shape_repr(const std::vector<std::uint64_t>& shape) {
  std::string text = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i > 0 ? ", " : "") + std::to_string(shape[i]);
  return text + (shape.size() == 1 ? ",)" : ")");
}

/// `text` made safe for a one-line message: control and non-ASCII bytes become '?', long text is cut.
std::string printable(std::string text, std::size_t max_shown = 60) {
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F) c = '?';
  }
  if (text.size() > max_shown) text = text.substr(0, max_shown - 3) + "...";
  return text;
}

/// Parses the header: a Python dict literal with the keys 'descr' (a string), 'fortran_order'
/// (True/False) and 'shape' (a tuple of non-negative ints), in any order, with any spacing and an
/// optional trailing comma. Ints may carry the 'L' suffix Python 2 wrote.
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& path) : text_(text), path_(path) {}

  NpyHeader parse() {
    NpyHeader header;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    skip_space();
    expect('{', "at the start of the header dictionary");
    for (;;) {
      skip_space();
      if (consume('}')) break;
      const std::string key = parse_string("a key");
      skip_space();
      expect(':', ("after key '" + printable(key) + "'").c_str());
      skip_space();
      if (key == "descr") {
        mark_seen(seen_descr, key);
        if (peek() == '[') {
          fail("structured dtype (a list of fields) is not supported; expected one of "
               "'<f4', '<f8', '|u1', '<i4', '<i8'");
        }
        header.descr = parse_string("the value of 'descr'");
      } else if (key == "fortran_order") {
        mark_seen(seen_order, key);
        header.fortran_order = parse_bool();
      } else if (key == "shape") {
        mark_seen(seen_shape, key);
        header.shape = parse_shape();
      } else {
        fail("unexpected key '" + printable(key) + "' (expected 'descr', 'fortran_order' and 'shape')");
      }
      skip_space();
      if (consume('}')) break;
      expect(',', ("after the value of '" + key + "'").c_str());
    }
    skip_space();
    if (pos_ != text_.size()) fail("unexpected text after the closing '}'");
    if (!seen_descr) fail("no 'descr' key");
    if (!seen_order) fail("no 'fortran_order' key");
    if (!seen_shape) fail("no 'shape' key");
    return header;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    // Show the header on one line, without its padding, cut if very long.
    std::string shown = text_;
    while (!shown.empty() && (shown.back() == ' ' || shown.back() == '\n' || shown.back() == '\r')) shown.pop_back();
    throw DataError(path_ + ": bad .npy header: " + what + " (header: " + printable(shown, 120) + ")");
  }

  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool consume(char c) {
    if (pos_ >= text_.size() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }

  void expect(char c, const char* where) {
    if (!consume(c)) fail(std::string("expected '") + c + "' " + where);
  }

  void mark_seen(bool& seen, const std::string& key) const {
    if (seen) fail("duplicate key '" + printable(key) + "'");
    seen = true;
  }

  /// A quoted string ('...' or "..."), without escapes (none occur in these keys and values).
  std::string parse_string(const char* what) {
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail(std::string("expected a quoted string for ") + what);
    const std::size_t start = ++pos_;
    const std::size_t end = text_.find(quote, start);
    if (end == std::string::npos) fail("unterminated string");
    pos_ = end + 1;
    return text_.substr(start, end - start);
  }

  bool parse_bool() {
    if (text_.compare(pos_, 4, "True") == 0) {
      pos_ += 4;
      return true;
    }
    if (text_.compare(pos_, 5, "False") == 0) {
      pos_ += 5;
      return false;
    }
    fail("'fortran_order' must be True or False");
  }

  std::vector<std::uint64_t> parse_shape() {
    std::vector<std::uint64_t> shape;
    expect('(', "to open 'shape' (a tuple)");
    for (;;) {
      skip_space();
      if (consume(')')) return shape;
      if (peek() < '0' || peek() > '9') fail("'shape' must be a tuple of non-negative integers");
      std::uint64_t value = 0;
      while (peek() >= '0' && peek() <= '9') {
        const auto digit = static_cast<std::uint64_t>(peek() - '0');
        if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) fail("a 'shape' entry is too large");
        value = value * 10 + digit;
        ++pos_;
      }
      if (peek() == 'L' || peek() == 'l') ++pos_;  // Python 2 long
      shape.push_back(value);
      skip_space();
      if (consume(')')) return shape;
      expect(',', "between 'shape' entries");
    }
  }

  const std::string& text_;
  const std::string& path_;
  std::size_t pos_ = 0;
};

/// The element type named by `descr`, or a DataError naming it.
DType resolve_dtype(const std::string& descr, const std::string& path) {
  static const std::array<std::pair<const char*, DType>, 5> supported = {{
      {"f4", {'f', 4}}, {"f8", {'f', 8}}, {"u1", {'u', 1}}, {"i4", {'i', 4}}, {"i8", {'i', 8}}}};
  if (descr.size() == 3) {
    const char order = descr[0];
    const std::string code = descr.substr(1);
    for (const auto& [name, dtype] : supported) {
      if (code != name) continue;
      if (dtype.size == 1 && (order == '|' || order == '<' || order == '>' || order == '=')) return dtype;
      if (order == '<') return dtype;
      if (order == '>') {
        throw DataError(path + ": big-endian dtype '" + descr + "' is not supported (expected little-endian '<" +
                        code + "')");
      }
    }
  }
  throw DataError(path + ": unsupported dtype '" + printable(descr) + "' (supported: '<f4', '<f8', '|u1', '<i4', '<i8')");
}

/// Little-endian unsigned integer of `bytes` bytes at `p`.
std::uint64_t little_endian(const unsigned char* p, std::size_t bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < bytes; ++i) value |= std::uint64_t{p[i]} << (8 * i);
  return value;
}

/// One element of type `dtype` at `p`, as a double (exact for every supported type but large int64).
double decode(const unsigned char* p, DType dtype) {
  const std::uint64_t bits = little_endian(p, dtype.size);
  switch (dtype.kind) {
    case 'u': return static_cast<double>(bits);
    case 'i': {
      if (dtype.size == 4) {
        std::int32_t v = 0;
        const auto narrow = static_cast<std::uint32_t>(bits);
        std::memcpy(&v, &narrow, sizeof v);
        return static_cast<double>(v);
      }
      std::int64_t v = 0;
      std::memcpy(&v, &bits, sizeof v);
      return static_cast<double>(v);
    }
    default: {
      if (dtype.size == 4) {
        float v = 0;
        const auto narrow = static_cast<std::uint32_t>(bits);
        std::memcpy(&v, &narrow, sizeof v);
        return static_cast<double>(v);
      }
      double v = 0;
      std::memcpy(&v, &bits, sizeof v);
      return v;
    }
  }
}


/// The .npy v1.0 header for a C-order '<f4' array, byte for byte as NumPy writes it
/// (numpy/lib/format.py, _write_array_header and _wrap_header).
std::string npy_header(const std::vector<std::uint64_t>& shape) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape_repr(shape) + ", }";
  // NumPy leaves room for the first axis to grow to 21 digits without rewriting the file.
  constexpr std::size_t growth_axis_max_digits = 21;
  dict.append(growth_axis_max_digits - std::to_string(shape[0]).size(), ' ');
  // Then spaces and a final '\n' so that magic (6) + version (2) + length (2) + header is a multiple
  // of 64; NumPy adds a full 64 spaces when it is already aligned.
  constexpr std::size_t prefix = npy_magic_size + 2 + 2;
  const std::size_t hlen = dict.size() + 1;
  const std::size_t padding = 64 - (prefix + hlen) % 64;
  const std::size_t header_length = hlen + padding;  // < 256 for two 20-digit entries

  std::string bytes(npy_magic, npy_magic_size);
  bytes += '\x01';
  bytes += '\x00';
  bytes += static_cast<char>(header_length & 0xFF);
  bytes += static_cast<char>(header_length >> 8);
  bytes += dict;
  bytes.append(padding, ' ');
  bytes += '\n';
  return bytes;
}

/// What load_npy and the row readers share: the file open, its header parsed and checked against
/// the file's size (every check of load_npy but the values'), and the decoding of rows.
class NpyReader {
 public:
  explicit NpyReader(const std::string& path) : path_(path), in_(path) { read_header(); }

  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return cols_; }
  const std::string& descr() const { return header_.descr; }

  /// Decodes rows [first, first + count) into `out` (count x cols floats); DataError naming the
  /// element (its index in the whole file) for NaN, Inf or a float64 beyond float range.
  void read_rows(std::uint64_t first, std::uint64_t count, float* out) {
    if (count == 0 || cols_ == 0) return;
    in_.seek(data_offset_ + first * cols_ * dtype_.size);
    buffer_.resize(std::size_t{1} << 20);  // a multiple of every element size
    std::uint64_t index = first * cols_;
    const std::uint64_t end = (first + count) * cols_;
    while (index < end) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(end - index, buffer_.size() / dtype_.size));
      read_exact(buffer_.data(), n * dtype_.size);
      for (std::size_t k = 0; k < n; ++k, ++index) {
        const double value = decode(buffer_.data() + k * dtype_.size, dtype_);
        if (!std::isfinite(value) || std::fabs(value) > static_cast<double>(std::numeric_limits<float>::max())) {
          fail_value(index, value);
        }
        *out++ = static_cast<float>(value);
      }
    }
  }

  /// The rows of `runs` (first row, rows), one after the other, as a matrix.
  Matrix read_runs(const std::vector<std::pair<std::uint64_t, std::uint64_t>>& runs) {
    std::size_t total = 0;
    for (const auto& run : runs) total += static_cast<std::size_t>(run.second);
    Matrix out = Matrix::from_shape({total, cols_});
    float* target = out.data();
    for (const auto& [first, count] : runs) {
      read_rows(first, count, target);
      target += count * cols_;
    }
    return out;
  }

 private:
  void read_exact(void* out, std::size_t size) {
    if (in_.read(out, size) < size) throw DataError(path_ + ": truncated: the file shrank while being read");
  }

  [[noreturn]] void fail_value(std::uint64_t index, double value) const {
    const std::string where = path_ + ": element " + std::to_string(index) + " (row " + std::to_string(index / cols_) +
                              ", column " + std::to_string(index % cols_) + ")";
    if (std::isnan(value)) throw DataError(where + " is NaN; NaN and Inf are not allowed");
    if (std::isinf(value)) throw DataError(where + " is infinite; NaN and Inf are not allowed");
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", value);
    throw DataError(where + ": " + text + " is out of range for float32");
  }

  void read_header() {
    const std::string& path = path_;
    const std::uint64_t file_size = in_.size();
    // --- magic, version, header length --------------------------------------------------
    std::array<unsigned char, 8> prefix{};
    const std::size_t prefix_bytes = static_cast<std::size_t>(std::min<std::uint64_t>(file_size, prefix.size()));
    read_exact(prefix.data(), prefix_bytes);
    if (prefix_bytes < npy_magic_size || std::memcmp(prefix.data(), npy_magic, npy_magic_size) != 0) {
      throw DataError(path + ": not a .npy file (" +
                      (file_size == 0 ? std::string("empty") : std::string("does not start with \\x93NUMPY")) + ")");
    }
    if (prefix_bytes < prefix.size()) throw DataError(path + ": truncated: file ends inside the .npy version");
    const unsigned major = prefix[6];
    const unsigned minor = prefix[7];
    if (major < 1 || major > 3 || minor != 0) {
      throw DataError(path + ": unsupported .npy format version " + std::to_string(major) + "." +
                      std::to_string(minor) + " (supported: 1.0, 2.0, 3.0)");
    }
    const std::size_t length_size = major == 1 ? 2 : 4;  // little-endian uint16 in 1.0, uint32 after
    if (file_size < prefix.size() + length_size) throw DataError(path + ": truncated: file ends inside the header length");
    std::array<unsigned char, 4> length_bytes{};
    read_exact(length_bytes.data(), length_size);
    const std::uint64_t header_length = little_endian(length_bytes.data(), length_size);
    const std::uint64_t data_offset = prefix.size() + length_size + header_length;
    if (data_offset > file_size) {
      throw DataError(path + ": truncated: header length " + std::to_string(header_length) +
                      " goes beyond the end of the file (" + std::to_string(file_size) + " bytes)");
    }
    if (header_length > max_header_length) {
      throw DataError(path + ": bad .npy header: " + std::to_string(header_length) + " bytes long, over the limit of " +
                      detail::size_text(max_header_length));
    }

    // --- header dictionary ----------------------------------------------------------------
    std::string header_text(static_cast<std::size_t>(header_length), '\0');
    read_exact(header_text.data(), header_text.size());
    header_ = HeaderParser(header_text, path).parse();
    const NpyHeader& header = header_;
    dtype_ = resolve_dtype(header.descr, path);
    const DType dtype = dtype_;
    if (header.fortran_order) {
      throw DataError(path + ": Fortran-order arrays (fortran_order: True) are not supported; "
                      "save the array in C order (e.g. numpy.ascontiguousarray)");
    }
    const std::string shape_text = shape_repr(header.shape);
    if (header.shape.empty() || header.shape.size() > 2) {
      throw DataError(path + ": " + std::to_string(header.shape.size()) + "-d array (shape " + shape_text +
                      ") is not supported; expected a 1-D or 2-D array");
    }

    // --- sizes, checked before allocating ------------------------------------------------------
    std::uint64_t elements = 1;
    bool overflow = false;
    for (std::uint64_t d : header.shape) {
      if (d != 0 && elements > std::numeric_limits<std::uint64_t>::max() / d) overflow = true;
      elements *= d;
    }
    if (!overflow && elements > std::numeric_limits<std::uint64_t>::max() / dtype.size) overflow = true;
    if (overflow) throw DataError(path + ": shape " + shape_text + " is too large (its size overflows)");
    const std::uint64_t data_bytes = elements * dtype.size;
    const std::uint64_t available = file_size - data_offset;
    if (available < data_bytes) {
      throw DataError(path + ": truncated: header says shape " + shape_text + " of '" + header.descr + "' = " +
                      std::to_string(data_bytes) + " bytes of data, file has " + std::to_string(available));
    }
    if (available > data_bytes) {
      throw DataError(path + ": trailing garbage: " + std::to_string(available - data_bytes) + " bytes after the " +
                      std::to_string(data_bytes) + " bytes of data the header describes (shape " + shape_text +
                      ", '" + header.descr + "')");
    }
    if (elements > max_elements) {
      throw DataError(path + ": too large: shape " + shape_text + " has " + std::to_string(elements) +
                      " elements, more than the limit of 2^31 (" + std::to_string(max_elements) + ")");
    }
    data_offset_ = data_offset;
    rows_ = static_cast<std::size_t>(header.shape[0]);
    cols_ = header.shape.size() == 2 ? static_cast<std::size_t>(header.shape[1]) : std::size_t{1};
  }

  std::string path_;
  detail::InputFile in_;
  NpyHeader header_;
  DType dtype_{};
  std::uint64_t data_offset_ = 0;
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
  std::vector<unsigned char> buffer_;
};

}  // namespace

Matrix load_npy(const std::string& path) {
  NpyReader reader(path);
  return reader.read_runs(detail::row_runs(0, reader.rows(), reader.rows(), path));
}

NpyInfo npy_info(const std::string& path) {
  const NpyReader reader(path);
  return {reader.rows(), reader.cols(), reader.descr()};
}

Matrix load_npy_rows(const std::string& path, RowRange rows) {
  NpyReader reader(path);
  return reader.read_runs(detail::row_runs(rows.first, rows.count, reader.rows(), path));
}

Matrix load_npy_rows(const std::string& path, const std::vector<std::size_t>& rows) {
  NpyReader reader(path);
  return reader.read_runs(detail::row_runs(rows, reader.rows(), path, "load_npy_rows"));
}

void save_npy(const std::string& path, const float* data, const std::vector<std::size_t>& shape) {
  const std::vector<std::uint64_t> dims(shape.begin(), shape.end());
  if (dims.empty() || dims.size() > 2) {
    throw InvalidArgument("save_npy: expected a shape with 1 or 2 entries, got " + std::to_string(dims.size()) +
                          " " + shape_repr(dims));
  }
  std::uint64_t elements = 1;
  for (std::uint64_t d : dims) {
    if (d != 0 && elements > std::numeric_limits<std::uint64_t>::max() / sizeof(float) / d) {
      throw InvalidArgument("save_npy: shape " + shape_repr(dims) + " is too large");
    }
    elements *= d;
  }
  if (data == nullptr && elements > 0) {
    throw InvalidArgument("save_npy: data is null for shape " + shape_repr(dims));
  }

  AtomicFileWriter out(path);
  const std::string header = npy_header(dims);
  out.write(header.data(), header.size());
  // Little-endian float32 whatever the host's byte order.
  std::vector<unsigned char> buffer(std::size_t{1} << 20);
  const std::size_t per_chunk = buffer.size() / 4;
  for (std::uint64_t done = 0; done < elements;) {
    const auto count = static_cast<std::size_t>(std::min<std::uint64_t>(elements - done, per_chunk));
    for (std::size_t k = 0; k < count; ++k) {
      std::uint32_t bits = 0;
      std::memcpy(&bits, data + done + k, sizeof bits);
      for (std::size_t b = 0; b < 4; ++b) buffer[4 * k + b] = static_cast<unsigned char>(bits >> (8 * b));
    }
    out.write(buffer.data(), 4 * count);
    done += count;
  }
  out.commit();
}

bool looks_like_npy(const std::string& path) {
  try {
    detail::InputFile in(path);
    char magic[npy_magic_size] = {};
    return in.read(magic, npy_magic_size) == npy_magic_size && std::memcmp(magic, npy_magic, npy_magic_size) == 0;
  } catch (const DataError&) {
    return false;
  }
}

}  // namespace xdense
