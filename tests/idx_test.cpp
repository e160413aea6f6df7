#include "xdense/idx.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>  // mkdtemp
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "xdense/error.hpp"

namespace xdense {
namespace {

using Bytes = std::string;
using namespace std::string_literals;

/// An IDX file: magic 00 00 <type> <dims.size()>, big-endian sizes, then `payload`.
Bytes idx_bytes(unsigned char type, const std::vector<std::uint32_t>& dims, const Bytes& payload) {
  Bytes bytes = {'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (std::uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes += static_cast<char>((d >> shift) & 0xFF);
  }
  return bytes + payload;
}

/// `n` bytes 0, 1, 2, ... (mod 256).
Bytes counting_bytes(std::size_t n) {
  Bytes bytes(n, '\0');
  for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<char>(i % 256);
  return bytes;
}

void write_plain(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

void write_gzip(const std::string& path, const Bytes& bytes) {
  gzFile out = gzopen(path.c_str(), "wb");
  ASSERT_NE(out, nullptr) << path;
  ASSERT_EQ(gzwrite(out, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  ASSERT_EQ(gzclose(out), Z_OK);
}

Bytes read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// The message of the DataError `load` throws, checked to name `path` first and to be one line.
std::string error_of(const std::function<void()>& load, const std::string& path) {
  try {
    load();
  } catch (const DataError& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    return message;
  }
  ADD_FAILURE() << "no DataError for " << path;
  return {};
}

std::string images_error(const std::string& path) { return error_of([&] { load_idx_images(path); }, path); }
std::string labels_error(const std::string& path) { return error_of([&] { load_idx_labels(path); }, path); }

/// Each test gets a fresh temporary directory.
class IdxFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "xdense_idx_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  std::string dir_;
};

// --- reading ------------------------------------------------------------------------------

TEST_F(IdxFile, LoadsImagesAsRowsScaledToUnitRange) {
  // Two 2x3 images.
  const Bytes pixels = {0, 1, 2, 3, 4, 5, 10, 20, 30, 127, static_cast<char>(254), static_cast<char>(255)};
  write_plain(path("images"), idx_bytes(0x08, {2, 2, 3}, pixels));
  const Matrix images = load_idx_images(path("images"));
  ASSERT_EQ(images.shape(0), 2u);
  ASSERT_EQ(images.shape(1), 6u);
  for (std::size_t i = 0; i < pixels.size(); ++i) {
    EXPECT_EQ(images.data()[i], static_cast<float>(static_cast<unsigned char>(pixels[i])) / 255.0f) << i;
  }
  EXPECT_EQ(images(0, 0), 0.0f);
  EXPECT_EQ(images(1, 5), 1.0f);
  EXPECT_FLOAT_EQ(images(1, 3), 127.0f / 255.0f);  // second image, row 1, column 0
}

TEST_F(IdxFile, LoadsGzippedImagesLikePlainOnes) {
  const Bytes file = idx_bytes(0x08, {5, 4, 7}, counting_bytes(5 * 4 * 7));
  write_plain(path("plain"), file);
  write_gzip(path("images.gz"), file);
  const Matrix plain = load_idx_images(path("plain"));
  const Matrix gzipped = load_idx_images(path("images.gz"));
  ASSERT_EQ(gzipped.shape(0), 5u);
  ASSERT_EQ(gzipped.shape(1), 28u);
  EXPECT_EQ(gzipped, plain);
  EXPECT_FLOAT_EQ(gzipped(4, 27), static_cast<float>(139 % 256) / 255.0f);
}

TEST_F(IdxFile, LoadsLabelsPlainAndGzipped) {
  const Bytes labels = {3, 0, 9, 1, static_cast<char>(255)};
  write_plain(path("labels"), idx_bytes(0x08, {5}, labels));
  write_gzip(path("labels.gz"), idx_bytes(0x08, {5}, labels));
  for (const std::string name : {"labels", "labels.gz"}) {
    const Matrix y = load_idx_labels(path(name));
    ASSERT_EQ(y.shape(0), 5u) << name;
    ASSERT_EQ(y.shape(1), 1u) << name;
    EXPECT_EQ(y(0, 0), 3.0f);
    EXPECT_EQ(y(1, 0), 0.0f);
    EXPECT_EQ(y(2, 0), 9.0f);
    EXPECT_EQ(y(4, 0), 255.0f);  // raw byte values, not scaled
  }
}

TEST_F(IdxFile, DetectsGzipByMagicNotByName) {
  const Bytes file = idx_bytes(0x08, {2}, {7, 8});
  write_gzip(path("labels.idx1-ubyte"), file);  // compressed, no .gz
  write_plain(path("labels.gz"), file);         // plain, named .gz
  EXPECT_EQ(load_idx_labels(path("labels.idx1-ubyte"))(1, 0), 8.0f);
  EXPECT_EQ(load_idx_labels(path("labels.gz"))(1, 0), 8.0f);
}

TEST_F(IdxFile, ReadsConcatenatedGzipMembers) {
  // As gunzip does: "cat a.gz b.gz" holds the concatenated contents.
  const Bytes file = idx_bytes(0x08, {4}, {1, 2, 3, 4});
  write_gzip(path("first.gz"), file.substr(0, 6));
  write_gzip(path("second.gz"), file.substr(6));
  write_plain(path("labels.gz"), read_all(path("first.gz")) + read_all(path("second.gz")));
  const Matrix y = load_idx_labels(path("labels.gz"));
  ASSERT_EQ(y.shape(0), 4u);
  EXPECT_EQ(y(3, 0), 4.0f);
}

TEST_F(IdxFile, ZeroItemsGiveEmptyMatrices) {
  write_plain(path("images"), idx_bytes(0x08, {0, 28, 28}, ""));
  write_gzip(path("labels"), idx_bytes(0x08, {0}, ""));
  const Matrix images = load_idx_images(path("images"));
  EXPECT_EQ(images.shape(0), 0u);
  EXPECT_EQ(images.shape(1), 784u);
  const Matrix labels = load_idx_labels(path("labels"));
  EXPECT_EQ(labels.shape(0), 0u);
  EXPECT_EQ(labels.shape(1), 1u);
}

TEST_F(IdxFile, LooksLikeIdx) {
  write_plain(path("images"), idx_bytes(0x08, {1, 1, 1}, {5}));
  write_gzip(path("labels.gz"), idx_bytes(0x08, {1}, {5}));
  write_plain(path("floats"), idx_bytes(0x0D, {1}, {0, 0, 0, 0}));  // valid IDX, unsupported type
  write_plain(path("empty"), "");
  write_plain(path("short"), Bytes("\0\0\x08", 3));
  write_plain(path("csv"), "a,b,label\n1,2,0\n");
  write_plain(path("npy"), "\x93NUMPY\x01\x00"s);
  write_plain(path("unknown_type"), idx_bytes(0x07, {1}, {5}));
  write_plain(path("no_dims"), Bytes("\0\0\x08\0", 4));
  write_plain(path("bad.gz"), "\x1f\x8b\x08\x00garbage that is not deflate"s);

  EXPECT_TRUE(looks_like_idx(path("images")));
  EXPECT_TRUE(looks_like_idx(path("labels.gz")));
  EXPECT_TRUE(looks_like_idx(path("floats")));
  EXPECT_FALSE(looks_like_idx(path("empty")));
  EXPECT_FALSE(looks_like_idx(path("short")));
  EXPECT_FALSE(looks_like_idx(path("csv")));
  EXPECT_FALSE(looks_like_idx(path("npy")));
  EXPECT_FALSE(looks_like_idx(path("unknown_type")));
  EXPECT_FALSE(looks_like_idx(path("no_dims")));
  EXPECT_FALSE(looks_like_idx(path("bad.gz")));
  EXPECT_FALSE(looks_like_idx(path("missing")));
  EXPECT_FALSE(looks_like_idx(dir_));
}

// --- errors ---------------------------------------------------------------------------------

TEST_F(IdxFile, MissingFileOrDirectory) {
  EXPECT_EQ(images_error(path("missing")), path("missing") + ": cannot open file: No such file or directory");
  EXPECT_EQ(labels_error(dir_), dir_ + ": is a directory");
}

TEST_F(IdxFile, NotAnIdxFile) {
  write_plain(path("zip"), "PK\x03\x04 and more bytes");
  write_plain(path("empty"), "");
  write_plain(path("short"), Bytes("\0\0", 2));
  write_gzip(path("text.gz"), "hello, world");
  write_plain(path("unknown_type"), idx_bytes(0x07, {1, 1, 1}, {5}));
  EXPECT_EQ(images_error(path("zip")), path("zip") + ": not an IDX file (magic 0x504B0304)");
  EXPECT_EQ(images_error(path("empty")), path("empty") + ": not an IDX file (empty)");
  EXPECT_EQ(labels_error(path("short")), path("short") + ": not an IDX file (only 2 bytes)");
  EXPECT_EQ(labels_error(path("text.gz")), path("text.gz") + ": not an IDX file (magic 0x68656C6C)");
  EXPECT_EQ(images_error(path("unknown_type")), path("unknown_type") + ": not an IDX file (magic 0x00000703)");
}

TEST_F(IdxFile, WrongDimensionality) {
  write_plain(path("labels"), idx_bytes(0x08, {2}, {1, 2}));
  write_plain(path("images"), idx_bytes(0x08, {1, 1, 2}, {1, 2}));
  write_plain(path("matrix"), idx_bytes(0x08, {1, 2}, {1, 2}));
  EXPECT_EQ(images_error(path("labels")),
            path("labels") + ": expected 3 dimensions for images (count x rows x cols), found 1 "
                             "(magic 0x00000801: a labels file?)");
  EXPECT_EQ(labels_error(path("images")),
            path("images") + ": expected 1 dimension for labels (count), found 3 (magic 0x00000803: an images file?)");
  EXPECT_EQ(labels_error(path("matrix")),
            path("matrix") + ": expected 1 dimension for labels (count), found 2 (magic 0x00000802)");
}

TEST_F(IdxFile, UnsupportedElementTypeIsNamed) {
  write_plain(path("floats"), idx_bytes(0x0D, {1, 1, 1}, {0, 0, 0, 0}));
  write_plain(path("ints"), idx_bytes(0x0C, {1}, {0, 0, 0, 1}));
  EXPECT_EQ(images_error(path("floats")),
            path("floats") + ": unsupported IDX element type 0x0D (float32); only 0x08 (unsigned byte) is supported");
  EXPECT_NE(labels_error(path("ints")).find("type 0x0C (int32)"), std::string::npos);
}

TEST_F(IdxFile, TruncatedData) {
  // 3 images of 2x2 = 12 bytes promised, 11 present.
  const Bytes file = idx_bytes(0x08, {3, 2, 2}, counting_bytes(11));
  write_plain(path("images"), file);
  write_gzip(path("images.gz"), file);  // a valid gzip stream of a truncated IDX file
  EXPECT_EQ(images_error(path("images")),
            path("images") + ": truncated: header says 3 items of 4 bytes, file has 11 bytes of data");
  EXPECT_EQ(images_error(path("images.gz")),
            path("images.gz") + ": truncated: header says 3 items of 4 bytes, file has 11 bytes of data");
  write_plain(path("labels"), idx_bytes(0x08, {60000}, ""));
  EXPECT_EQ(labels_error(path("labels")),
            path("labels") + ": truncated: header says 60000 items of 1 byte, file has 0 bytes of data");
}

TEST_F(IdxFile, TruncatedHeader) {
  write_plain(path("images"), idx_bytes(0x08, {3, 2, 2}, "").substr(0, 9));
  EXPECT_EQ(images_error(path("images")),
            path("images") + ": truncated header: 3 dimension sizes need 12 bytes, file has 5");
}

TEST_F(IdxFile, TrailingGarbage) {
  const Bytes file = idx_bytes(0x08, {2, 1, 2}, counting_bytes(4)) + "extra";
  write_plain(path("images"), file);
  write_gzip(path("images.gz"), file);
  const std::string expected = ": trailing garbage: 5 bytes after the 4 bytes of data the header describes (2 x 1 x 2)";
  EXPECT_EQ(images_error(path("images")), path("images") + expected);
  EXPECT_EQ(images_error(path("images.gz")), path("images.gz") + expected);
  write_plain(path("labels"), idx_bytes(0x08, {1}, {1, 2}));
  EXPECT_NE(labels_error(path("labels")).find("trailing garbage: 1 bytes"), std::string::npos);
  // Bytes after the gzip stream that do not start another gzip member (gunzip only warns).
  write_gzip(path("member.gz"), idx_bytes(0x08, {1}, {1}));
  write_plain(path("tail.gz"), read_all(path("member.gz")) + "garbage");
  EXPECT_EQ(labels_error(path("tail.gz")), path("tail.gz") + ": trailing garbage: 7 bytes after the end of the gzip stream");
}

TEST_F(IdxFile, RefusesHugeDimensionsBeforeReadingData) {
  // The product of three uint32 sizes overflows 64 bits.
  write_plain(path("overflow"), idx_bytes(0x08, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, ""));
  EXPECT_EQ(images_error(path("overflow")),
            path("overflow") + ": too large: dimensions 4294967295 x 4294967295 x 4294967295 exceed the limit of "
                               "2^31 (2147483648) elements");
  // 65536 x 65536 x 1 = 2^32 elements: no overflow, but beyond the limit.
  write_plain(path("big"), idx_bytes(0x08, {65536, 65536, 1}, ""));
  EXPECT_NE(images_error(path("big")).find(": too large: dimensions 65536 x 65536 x 1"), std::string::npos);
  write_plain(path("labels"), idx_bytes(0x08, {0x80000001u}, ""));
  EXPECT_NE(labels_error(path("labels")).find(": too large:"), std::string::npos);
  // Exactly 2^31 is allowed; the missing data is reported without allocating 8 GB for it.
  write_plain(path("limit"), idx_bytes(0x08, {0x80000000u}, {1, 2, 3}));
  EXPECT_EQ(labels_error(path("limit")),
            path("limit") + ": truncated: header says 2147483648 items of 1 byte, file has 3 bytes of data");
}

TEST_F(IdxFile, CorruptGzipStream) {
  // Incompressible-looking payload so that the deflate data is long enough to damage in the middle.
  Bytes payload(4000, '\0');
  std::uint32_t state = 12345;
  for (char& c : payload) {
    state = state * 1664525u + 1013904223u;
    c = static_cast<char>(state >> 24);
  }
  write_gzip(path("good.gz"), idx_bytes(0x08, {4000}, payload));
  const Bytes good = read_all(path("good.gz"));
  ASSERT_GT(good.size(), 100u);
  ASSERT_EQ(load_idx_labels(path("good.gz")).shape(0), 4000u);

  Bytes flipped = good;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x5A);
  write_plain(path("flipped.gz"), flipped);
  EXPECT_NE(labels_error(path("flipped.gz")).find(": corrupt gzip stream: "), std::string::npos);

  Bytes bad_crc = good;
  bad_crc[bad_crc.size() - 8] = static_cast<char>(bad_crc[bad_crc.size() - 8] ^ 0x01);  // CRC-32 trailer
  write_plain(path("bad_crc.gz"), bad_crc);
  EXPECT_EQ(labels_error(path("bad_crc.gz")), path("bad_crc.gz") + ": corrupt gzip stream: incorrect data check");

  write_plain(path("cut.gz"), good.substr(0, good.size() / 2));
  EXPECT_EQ(labels_error(path("cut.gz")),
            path("cut.gz") + ": corrupt gzip stream: unexpected end of file (compressed data is cut off)");

  // Compressible data: damage inside the deflate codes rather than in stored bytes.
  write_gzip(path("text.gz"), idx_bytes(0x08, {3000}, Bytes(3000, 'a')));
  Bytes damaged = read_all(path("text.gz"));
  damaged[12] = static_cast<char>(damaged[12] ^ 0xFF);
  write_plain(path("damaged.gz"), damaged);
  EXPECT_NE(labels_error(path("damaged.gz")).find(": corrupt gzip stream: "), std::string::npos);

  write_plain(path("garbage.gz"), "\x1f\x8b\x08\x00garbage that is not deflate"s);
  EXPECT_NE(labels_error(path("garbage.gz")).find(": corrupt gzip stream: "), std::string::npos);
}

// --- Fashion-MNIST, when the Debian package is installed -------------------------------------

TEST(IdxFashionMnist, T10kImagesAndLabels) {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  const std::string images_path = dir + "/t10k-images-idx3-ubyte.gz";
  const std::string labels_path = dir + "/t10k-labels-idx1-ubyte.gz";
  if (!std::filesystem::exists(images_path) || !std::filesystem::exists(labels_path)) {
    GTEST_SKIP() << "Fashion-MNIST not installed (" << dir << ")";
  }
  EXPECT_TRUE(looks_like_idx(images_path));
  const Matrix images = load_idx_images(images_path);
  ASSERT_EQ(images.shape(0), 10000u);
  ASSERT_EQ(images.shape(1), 784u);
  float low = 1.0f, high = 0.0f;
  for (float v : images) {
    low = std::min(low, v);
    high = std::max(high, v);
  }
  EXPECT_EQ(low, 0.0f);
  EXPECT_EQ(high, 1.0f);

  const Matrix labels = load_idx_labels(labels_path);
  ASSERT_EQ(labels.shape(0), 10000u);
  ASSERT_EQ(labels.shape(1), 1u);
  std::vector<std::size_t> counts(10, 0);
  for (float v : labels) {
    ASSERT_TRUE(v >= 0.0f && v <= 9.0f && v == static_cast<float>(static_cast<int>(v))) << v;
    ++counts[static_cast<std::size_t>(v)];
  }
  EXPECT_EQ(counts, std::vector<std::size_t>(10, 1000));  // the test set is balanced
}

// --- limits (issue 12) ----------------------------------------------------------------------------

TEST_F(IdxFile, GzipDataBeyondTheDeclaredSizeIsNotInflatedThrough) {
  // 64 MiB of zeros after one label compress to 64 KiB; only 64 KiB + 1 byte of them is inflated.
  const Bytes label = idx_bytes(0x08, {1}, {3});
  write_gzip(path("bomb.gz"), label + Bytes(std::size_t{64} << 20, '\0'));
  EXPECT_EQ(labels_error(path("bomb.gz")), path("bomb.gz") + ": trailing garbage: more than 65536 bytes after the "
                                                             "1 bytes of data the header describes (1)");
  write_gzip(path("tail.gz"), label + Bytes(65536, '\0'));  // up to 64 KiB the count is exact
  EXPECT_EQ(labels_error(path("tail.gz")),
            path("tail.gz") + ": trailing garbage: 65536 bytes after the 1 bytes of data the header describes (1)");
}

// --- part of a file (issue 16): idx_*_shape and load_idx_*_rows -------------------------------

/// Rows `rows` of m.
Matrix slice(const Matrix& m, const std::vector<std::size_t>& rows) {
  Matrix out = Matrix::from_shape({rows.size(), m.shape(1)});
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::copy(m.data() + rows[i] * m.shape(1), m.data() + (rows[i] + 1) * m.shape(1), out.data() + i * m.shape(1));
  }
  return out;
}

std::vector<std::size_t> range_rows(RowRange range) {
  std::vector<std::size_t> rows(range.count);
  for (std::size_t i = 0; i < range.count; ++i) rows[i] = range.first + i;
  return rows;
}

/// The row readers of images (or labels) of `file` equal slices of the whole load: ranges at both
/// ends, empty ones, every shard of 1 to 4 processes, and subsets.
void expect_rows_as_slices(const std::string& file, bool images) {
  const Matrix all = images ? load_idx_images(file) : load_idx_labels(file);
  const std::size_t n = all.shape(0);
  const IdxShape shape = images ? idx_images_shape(file) : idx_labels_shape(file);
  EXPECT_EQ(shape.rows, n) << file;
  EXPECT_EQ(shape.cols, all.shape(1)) << file;
  const auto by_range = [&](RowRange rows) {
    return images ? load_idx_images_rows(file, rows) : load_idx_labels_rows(file, rows);
  };
  const auto by_list = [&](const std::vector<std::size_t>& rows) {
    return images ? load_idx_images_rows(file, rows) : load_idx_labels_rows(file, rows);
  };
  std::vector<RowRange> ranges = {{0, 0}, {0, 1}, {0, n}, {n - 1, 1}, {n, 0}, {1, n - 2}};
  for (std::size_t ranks = 1; ranks <= 4; ++ranks) {
    for (std::size_t rank = 0; rank < ranks; ++rank) ranges.push_back(shard_rows(n, rank, ranks));
  }
  for (const RowRange& range : ranges) {
    const Matrix part = by_range(range);
    EXPECT_EQ(part.shape(1), all.shape(1)) << file;
    EXPECT_EQ(part, slice(all, range_rows(range))) << file << " rows [" << range.first << ", "
                                                     << range.first + range.count << ")";
  }
  const std::vector<std::vector<std::size_t>> subsets = {{}, {0}, {n - 1}, {0, 2, 3, n - 1}, {1, 2, 3}, {0, n - 2}};
  for (const auto& rows : subsets) {
    EXPECT_EQ(by_list(rows), slice(all, rows)) << file << ", " << rows.size() << " rows";
  }
}

TEST_F(IdxFile, RowsEqualSlicesOfTheWholeLoadPlainAndGzipped) {
  const Bytes images = idx_bytes(0x08, {9, 4, 7}, counting_bytes(9 * 4 * 7));
  const Bytes labels = idx_bytes(0x08, {9}, counting_bytes(9));
  write_plain(path("images"), images);
  write_gzip(path("images.gz"), images);
  write_plain(path("labels"), labels);
  write_gzip(path("labels.gz"), labels);
  expect_rows_as_slices(path("images"), true);
  expect_rows_as_slices(path("images.gz"), true);
  expect_rows_as_slices(path("labels"), false);
  expect_rows_as_slices(path("labels.gz"), false);
  // Images spanning several of the reader's buffers (1 MiB, 128 KiB of input), in 2 gzip members.
  const Bytes big = idx_bytes(0x08, {3000, 28, 28}, counting_bytes(3000 * 28 * 28));
  write_plain(path("big"), big);
  write_gzip(path("big.gz"), big.substr(0, 1000000));
  const Bytes second = read_all(path("big.gz"));
  write_gzip(path("big.gz"), big.substr(1000000));
  write_plain(path("big.gz"), second + read_all(path("big.gz")));
  expect_rows_as_slices(path("big"), true);
  expect_rows_as_slices(path("big.gz"), true);
}

TEST_F(IdxFile, RowsOfAFileWithoutItems) {
  write_gzip(path("none.gz"), idx_bytes(0x08, {0, 28, 28}, ""));
  EXPECT_EQ(idx_images_shape(path("none.gz")).rows, 0u);
  EXPECT_EQ(idx_images_shape(path("none.gz")).cols, 784u);
  const Matrix none = load_idx_images_rows(path("none.gz"), RowRange{0, 0});
  EXPECT_EQ(none.shape(0), 0u);
  EXPECT_EQ(none.shape(1), 784u);
}

TEST_F(IdxFile, RowsOutOfRangeOrUnsortedAreRefused) {
  write_gzip(path("labels.gz"), idx_bytes(0x08, {4}, {1, 2, 3, 4}));
  const std::string file = path("labels.gz");
  EXPECT_EQ(error_of([&] { load_idx_labels_rows(file, RowRange{3, 2}); }, file),
            file + ": rows [3, 5) are out of range: the file has 4 rows");
  EXPECT_EQ(error_of([&] { load_idx_labels_rows(file, RowRange{5, 0}); }, file),
            file + ": rows [5, 5) are out of range: the file has 4 rows");
  EXPECT_EQ(error_of([&] { load_idx_labels_rows(file, std::vector<std::size_t>{1, 4}); }, file),
            file + ": row 4 is out of range: the file has 4 rows");
  try {
    load_idx_labels_rows(file, std::vector<std::size_t>{2, 0});
    ADD_FAILURE() << "no InvalidArgument";
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(std::string(e.what()),
              "load_idx_labels_rows: expected sorted, unique row indices, received 0 at position 1 after 2");
  }
}

TEST_F(IdxFile, RowReadersCheckTheWholeFileAsTheLoaders) {
  // A cut-off or over-long file gives the loader's message even when the rows asked for are whole.
  const Bytes labels = idx_bytes(0x08, {6}, counting_bytes(6));
  const std::vector<std::pair<std::string, Bytes>> bad = {
      {"short", labels.substr(0, labels.size() - 2)},
      {"long", labels + "xyz"},
      {"images", idx_bytes(0x08, {1, 2, 2}, counting_bytes(4))},  // another kind of file
  };
  for (const auto& [name, bytes] : bad) {
    for (const std::string& file : {path(name), path(name + ".gz")}) {
      if (file.size() > 3 && file.substr(file.size() - 3) == ".gz") {
        write_gzip(file, bytes);
      } else {
        write_plain(file, bytes);
      }
      const std::string expected = labels_error(file);
      EXPECT_EQ(error_of([&] { load_idx_labels_rows(file, RowRange{0, 1}); }, file), expected);
      EXPECT_EQ(error_of([&] { load_idx_labels_rows(file, std::vector<std::size_t>{0}); }, file), expected);
      // The shape reads the header only: a plain file's size is checked, gzip data is not inflated.
      if (name == "images" || file.substr(file.size() - 3) != ".gz") {
        EXPECT_EQ(error_of([&] { idx_labels_shape(file); }, file), expected);
      } else {
        EXPECT_EQ(idx_labels_shape(file).rows, 6u) << file;
      }
    }
  }
}

TEST(IdxFashionMnist, HalfOfTheTrainingImagesAreTheSecondHalfOfTheWhole) {
  const std::string images_path = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";
  const std::string labels_path = "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz";
  if (!std::filesystem::exists(images_path) || !std::filesystem::exists(labels_path)) {
    GTEST_SKIP() << "Fashion-MNIST not installed";
  }
  const IdxShape shape = idx_images_shape(images_path);
  EXPECT_EQ(shape.rows, 60000u);
  EXPECT_EQ(shape.cols, 784u);
  const RowRange second = shard_rows(shape.rows, 1, 2);
  const Matrix half = load_idx_images_rows(images_path, second);
  const Matrix whole = load_idx_images(images_path);
  EXPECT_EQ(half, slice(whole, range_rows(second)));
  EXPECT_EQ(load_idx_labels_rows(labels_path, second), slice(load_idx_labels(labels_path), range_rows(second)));
}

}  // namespace
}  // namespace xdense
