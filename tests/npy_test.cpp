#include "xdense/npy.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>      // mkdtemp
#include <sys/stat.h>    // umask, stat
#include <unistd.h>      // truncate

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "xdense/error.hpp"

namespace xdense {
namespace {

using Bytes = std::string;
using Shape = std::vector<std::size_t>;
using namespace std::string_literals;

/// `bytes` little-endian bytes of `value`.
Bytes little_endian(std::uint64_t value, std::size_t bytes) {
  Bytes out;
  for (std::size_t i = 0; i < bytes; ++i) out += static_cast<char>((value >> (8 * i)) & 0xFF);
  return out;
}

Bytes f4(float v) {
  std::uint32_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  return little_endian(bits, 4);
}
Bytes f8(double v) {
  std::uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  return little_endian(bits, 8);
}
Bytes i4(std::int32_t v) { return little_endian(static_cast<std::uint32_t>(v), 4); }
Bytes i8(std::int64_t v) { return little_endian(static_cast<std::uint64_t>(v), 8); }

/// A hand-made .npy file: magic, version major.0, header length, `dict` padded with spaces and a
/// final '\n' to a multiple of 64 bytes, then `payload`.
Bytes make_npy(const std::string& dict, const Bytes& payload, int major = 1) {
  const std::size_t length_size = major == 1 ? 2 : 4;
  std::string header = dict;
  while ((6 + 2 + length_size + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  return "\x93NUMPY"s + static_cast<char>(major) + '\0' + little_endian(header.size(), length_size) + header + payload;
}

/// The usual header dictionary for `descr` and `shape` (written as Python does, e.g. "(3,)").
std::string dict(const std::string& descr, const std::string& shape, const std::string& fortran = "False") {
  return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
}

void write_file(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

Bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// The message of the DataError load_npy throws, checked to name `path` first and to be one line.
std::string load_error(const std::string& path) {
  try {
    load_npy(path);
  } catch (const DataError& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    return message;
  }
  ADD_FAILURE() << "no DataError for " << path;
  return {};
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

/// Each test gets a fresh temporary directory.
class NpyFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "xdense_npy_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  /// Names of the files in the temporary directory.
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) names.push_back(entry.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }

  /// Writes a hand-made file and returns load_npy's error for it.
  std::string error_for(const Bytes& bytes) {
    write_file(path("bad.npy"), bytes);
    return load_error(path("bad.npy"));
  }

  std::string dir_;
};

// --- save_npy / load_npy round trips ---------------------------------------------------------

TEST_F(NpyFile, RoundTripsTwoDimensions) {
  const std::vector<float> values = {1.0f, -2.5f, 0.0f, 3.4028235e38f, -1.17549435e-38f, 1e-45f};
  save_npy(path("m.npy"), values.data(), {2, 3});
  const Matrix m = load_npy(path("m.npy"));
  ASSERT_EQ(m.shape(0), 2u);
  ASSERT_EQ(m.shape(1), 3u);
  for (std::size_t i = 0; i < values.size(); ++i) EXPECT_EQ(m.data()[i], values[i]) << i;  // bit-exact
}

TEST_F(NpyFile, OneDimensionBecomesAColumn) {
  const std::vector<float> values = {4.0f, 3.0f, 2.0f, 1.0f};
  save_npy(path("v.npy"), values.data(), {4});
  const Matrix v = load_npy(path("v.npy"));
  ASSERT_EQ(v.shape(0), 4u);
  ASSERT_EQ(v.shape(1), 1u);
  EXPECT_EQ(v(0, 0), 4.0f);
  EXPECT_EQ(v(3, 0), 1.0f);
}

TEST_F(NpyFile, EmptyArrays) {
  save_npy(path("a.npy"), nullptr, {0});
  save_npy(path("b.npy"), nullptr, {0, 3});
  save_npy(path("c.npy"), nullptr, {3, 0});
  EXPECT_EQ(load_npy(path("a.npy")).shape(), (std::array<std::size_t, 2>{0, 1}));
  EXPECT_EQ(load_npy(path("b.npy")).shape(), (std::array<std::size_t, 2>{0, 3}));
  EXPECT_EQ(load_npy(path("c.npy")).shape(), (std::array<std::size_t, 2>{3, 0}));
}

TEST_F(NpyFile, HeaderIsByteExactForTwoByThreeFloat32) {
  // NumPy's current rule (numpy/lib/format.py, _write_array_header + _wrap_header): the dict repr
  // with sorted keys and a trailing ", ", then spaces and a final '\n' so that magic (6) + version
  // (2) + header length (2) + header is a multiple of 64 bytes (here 10 + 118 = 128). NumPy >= 1.24
  // first adds 21 - len(repr(shape[0])) spaces of room for the first axis to grow; they are part
  // of the same run of spaces and do not change the total here.
  const std::vector<float> values = {1, 2, 3, 4, 5, 6};
  save_npy(path("m.npy"), values.data(), {2, 3});
  const std::string dict_text = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  Bytes expected = "\x93NUMPY\x01\x00"s + little_endian(118, 2) + dict_text;
  expected.append(127 - expected.size(), ' ');
  expected += '\n';
  ASSERT_EQ(expected.size(), 128u);
  for (float v : values) expected += f4(v);
  EXPECT_EQ(read_file(path("m.npy")), expected);
  EXPECT_EQ(expected.substr(128, 4), "\x00\x00\x80\x3f"s);  // 1.0f, little-endian
}

TEST_F(NpyFile, HeaderIsAlignedTo64ForAnyShape) {
  // Zero-size shapes exercise every digit count without writing data.
  const std::vector<Shape> shapes = {{0},    {1},          {7},          {123456},          {2, 3},
                                     {0, 5}, {1000, 784},  {1, 100000},  {4294967296ull, 0}, {0, 18446744073709551615ull}};
  for (const Shape& shape : shapes) {
    std::size_t elements = 1;
    for (std::size_t d : shape) elements *= d;
    const std::vector<float> zeros(elements, 0.0f);
    save_npy(path("s.npy"), zeros.data(), shape);
    const Bytes bytes = read_file(path("s.npy"));
    const std::size_t header_length = static_cast<unsigned char>(bytes[8]) + 256u * static_cast<unsigned char>(bytes[9]);
    EXPECT_EQ((10 + header_length) % 64, 0u) << header_length;
    EXPECT_EQ(bytes[10 + header_length - 1], '\n');
    EXPECT_EQ(bytes.size(), 10 + header_length + 4 * elements);
    const Matrix m = load_npy(path("s.npy"));
    EXPECT_EQ(m.shape(0), shape[0]);
    EXPECT_EQ(m.shape(1), shape.size() == 2 ? shape[1] : 1u);
  }
}

TEST_F(NpyFile, OverwritesAtomicallyLeavingOnlyTheFile) {
  const std::vector<float> first = {1, 2, 3};
  const std::vector<float> second = {9, 8};
  save_npy(path("x.npy"), first.data(), {3});
  save_npy(path("x.npy"), second.data(), {1, 2});
  EXPECT_EQ(listing(), std::vector<std::string>{"x.npy"});  // no "x.npy.tmp-XXXXXX" left
  const Matrix m = load_npy(path("x.npy"));
  ASSERT_EQ(m.shape(1), 2u);
  EXPECT_EQ(m(0, 1), 8.0f);
}

TEST_F(NpyFile, SavedFileGetsTheUmaskPermissions) {
  const mode_t mask = ::umask(0022);
  ::umask(mask);
  const float value = 1.0f;
  save_npy(path("p.npy"), &value, {1});
  struct stat info {};
  ASSERT_EQ(::stat(path("p.npy").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0666 & ~mask);  // not mkstemp's 0600
}

TEST_F(NpyFile, SaveFailureLeavesNothingBehind) {
  const float value = 1.0f;
  const std::string in_missing_dir = path("no/such/dir/x.npy");
  try {
    save_npy(in_missing_dir, &value, {1});
    ADD_FAILURE() << "no DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(in_missing_dir + ": cannot create a temporary file", 0), 0u) << e.what();
    EXPECT_TRUE(contains(e.what(), "No such file or directory")) << e.what();
  }
  // Renaming onto an existing directory fails after the data was written: the temporary goes away.
  std::filesystem::create_directory(path("taken"));
  EXPECT_THROW(save_npy(path("taken"), &value, {1}), DataError);
  EXPECT_EQ(listing(), std::vector<std::string>{"taken"});
}

TEST_F(NpyFile, SaveRejectsBadShapes) {
  const std::vector<float> values(8, 0.0f);
  EXPECT_THROW(save_npy(path("x.npy"), values.data(), {}), InvalidArgument);
  EXPECT_THROW(save_npy(path("x.npy"), values.data(), {2, 2, 2}), InvalidArgument);
  EXPECT_THROW(save_npy(path("x.npy"), nullptr, {2}), InvalidArgument);
  EXPECT_TRUE(listing().empty());
}

// --- hand-made files: other dtypes, versions, header spellings ---------------------------------

TEST_F(NpyFile, ReadsFloat64Uint8Int32Int64) {
  write_file(path("f8.npy"), make_npy(dict("<f8", "(2, 2)"), f8(0.1) + f8(-1e30) + f8(1e-300) + f8(2.0)));
  const Matrix a = load_npy(path("f8.npy"));
  ASSERT_EQ(a.shape(1), 2u);
  EXPECT_EQ(a(0, 0), 0.1f);
  EXPECT_EQ(a(0, 1), -1e30f);
  EXPECT_EQ(a(1, 0), 0.0f);  // underflows to zero in float
  EXPECT_EQ(a(1, 1), 2.0f);

  write_file(path("u1.npy"), make_npy(dict("|u1", "(3,)"), "\x00\x7f\xff"s));
  const Matrix b = load_npy(path("u1.npy"));
  ASSERT_EQ(b.shape(0), 3u);
  EXPECT_EQ(b(1, 0), 127.0f);
  EXPECT_EQ(b(2, 0), 255.0f);  // not scaled

  write_file(path("i4.npy"), make_npy(dict("<i4", "(1, 3)"), i4(-7) + i4(2147483647) + i4(0)));
  const Matrix c = load_npy(path("i4.npy"));
  EXPECT_EQ(c(0, 0), -7.0f);
  EXPECT_EQ(c(0, 1), 2147483648.0f);  // nearest float

  write_file(path("i8.npy"), make_npy(dict("<i8", "(3,)"), i8(-1) + i8(1LL << 40) + i8(std::numeric_limits<std::int64_t>::min())));
  const Matrix d = load_npy(path("i8.npy"));
  EXPECT_EQ(d(0, 0), -1.0f);
  EXPECT_EQ(d(1, 0), 1099511627776.0f);
  EXPECT_EQ(d(2, 0), -9223372036854775808.0f);
}

TEST_F(NpyFile, ReadsVersions2And3) {
  write_file(path("v2.npy"), make_npy(dict("<f4", "(2,)"), f4(1.5f) + f4(2.5f), 2));
  write_file(path("v3.npy"), make_npy(dict("<f4", "(2,)"), f4(1.5f) + f4(2.5f), 3));
  EXPECT_EQ(load_npy(path("v2.npy"))(1, 0), 2.5f);
  EXPECT_EQ(load_npy(path("v3.npy"))(1, 0), 2.5f);
}

TEST_F(NpyFile, ParsesHeaderSpellings) {
  const Bytes data = f4(1) + f4(2) + f4(3) + f4(4) + f4(5) + f4(6);
  const std::vector<std::string> dicts = {
      "{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4'}",        // other order, no trailing comma
      "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,3)}",  // double quotes, no spaces
      "  {  'descr' :'<f4' ,\t'fortran_order':False,'shape':( 2 , 3 , ) ,  }  ",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }",      // Python 2
  };
  for (const std::string& d : dicts) {
    write_file(path("h.npy"), make_npy(d, data));
    const Matrix m = load_npy(path("h.npy"));
    ASSERT_EQ(m.shape(0), 2u) << d;
    ASSERT_EQ(m.shape(1), 3u) << d;
    EXPECT_EQ(m(1, 2), 6.0f) << d;
  }
  // No padding and no final newline at all.
  const std::string bare = dict("<f4", "(2, 3)");
  write_file(path("bare.npy"), "\x93NUMPY\x01\x00"s + little_endian(bare.size(), 2) + bare + data);
  EXPECT_EQ(load_npy(path("bare.npy"))(0, 1), 2.0f);
}

TEST_F(NpyFile, LooksLikeNpy) {
  const float value = 1.0f;
  save_npy(path("x.npy"), &value, {1});
  write_file(path("text"), "a,b\n1,2\n");
  write_file(path("short"), "\x93NUM");
  EXPECT_TRUE(looks_like_npy(path("x.npy")));
  EXPECT_FALSE(looks_like_npy(path("text")));
  EXPECT_FALSE(looks_like_npy(path("short")));
  EXPECT_FALSE(looks_like_npy(path("missing")));
  EXPECT_FALSE(looks_like_npy(dir_));
}

// --- errors ----------------------------------------------------------------------------------

TEST_F(NpyFile, MissingFileOrDirectory) {
  EXPECT_EQ(load_error(path("missing.npy")), path("missing.npy") + ": cannot open file: No such file or directory");
  EXPECT_EQ(load_error(dir_), dir_ + ": is a directory");
}

TEST_F(NpyFile, RejectsFortranOrder) {
  const std::string message = error_for(make_npy(dict("<f4", "(2, 2)", "True"), f4(1) + f4(2) + f4(3) + f4(4)));
  EXPECT_EQ(message, path("bad.npy") + ": Fortran-order arrays (fortran_order: True) are not supported; "
                                       "save the array in C order (e.g. numpy.ascontiguousarray)");
}

TEST_F(NpyFile, RejectsBigEndian) {
  EXPECT_EQ(error_for(make_npy(dict(">f4", "(1,)"), "\x3f\x80\x00\x00"s)),
            path("bad.npy") + ": big-endian dtype '>f4' is not supported (expected little-endian '<f4')");
  EXPECT_TRUE(contains(error_for(make_npy(dict(">i8", "(1,)"), i8(1))), "big-endian dtype '>i8'"));
}

TEST_F(NpyFile, RejectsUnsupportedDtypesByName) {
  EXPECT_EQ(error_for(make_npy(dict("<f2", "(1,)"), "\x00\x3c"s)),
            path("bad.npy") + ": unsupported dtype '<f2' (supported: '<f4', '<f8', '|u1', '<i4', '<i8')");
  EXPECT_TRUE(contains(error_for(make_npy(dict("<c8", "(1,)"), f8(0))), "unsupported dtype '<c8'"));
  EXPECT_TRUE(contains(error_for(make_npy(dict("|b1", "(1,)"), "\x01"s)), "unsupported dtype '|b1'"));
  EXPECT_TRUE(contains(error_for(make_npy(dict("|f4", "(1,)"), f4(1))), "unsupported dtype '|f4'"));
  const std::string structured = "{'descr': [('x', '<f4'), ('y', '<f4')], 'fortran_order': False, 'shape': (1,), }";
  EXPECT_TRUE(contains(error_for(make_npy(structured, f4(1) + f4(2))), "structured dtype"));
}

TEST_F(NpyFile, RejectsZeroAndMoreThanTwoDimensions) {
  EXPECT_EQ(error_for(make_npy(dict("<f4", "()"), f4(1))),
            path("bad.npy") + ": 0-d array (shape ()) is not supported; expected a 1-D or 2-D array");
  EXPECT_EQ(error_for(make_npy(dict("<f4", "(1, 1, 2)"), f4(1) + f4(2))),
            path("bad.npy") + ": 3-d array (shape (1, 1, 2)) is not supported; expected a 1-D or 2-D array");
}

TEST_F(NpyFile, RejectsBadMagicAndVersion) {
  EXPECT_EQ(error_for("PK\x03\x04 a zip file"), path("bad.npy") + ": not a .npy file (does not start with \\x93NUMPY)");
  EXPECT_EQ(error_for(""), path("bad.npy") + ": not a .npy file (empty)");
  EXPECT_EQ(error_for("\x93NUM"), path("bad.npy") + ": not a .npy file (does not start with \\x93NUMPY)");
  EXPECT_EQ(error_for("\x93NUMPY\x01"), path("bad.npy") + ": truncated: file ends inside the .npy version");
  EXPECT_EQ(error_for(make_npy(dict("<f4", "(1,)"), f4(1), 4)),
            path("bad.npy") + ": unsupported .npy format version 4.0 (supported: 1.0, 2.0, 3.0)");
  EXPECT_EQ(error_for("\x93NUMPY\x01\x00\x10"s), path("bad.npy") + ": truncated: file ends inside the header length");
}

TEST_F(NpyFile, RejectsHeaderLengthBeyondFile) {
  const Bytes file = "\x93NUMPY\x01\x00"s + little_endian(0xFFFF, 2) + dict("<f4", "(1,)");
  EXPECT_EQ(error_for(file), path("bad.npy") + ": truncated: header length 65535 goes beyond the end of the file (" +
                                 std::to_string(file.size()) + " bytes)");
  const Bytes v2 = "\x93NUMPY\x02\x00"s + little_endian(0xFFFFFFFFu, 4) + dict("<f4", "(1,)");
  EXPECT_TRUE(contains(error_for(v2), "truncated: header length 4294967295 goes beyond the end of the file"));
}

TEST_F(NpyFile, RejectsTruncatedAndTrailingData) {
  EXPECT_EQ(error_for(make_npy(dict("<f4", "(2, 3)"), Bytes(20, '\0'))),
            path("bad.npy") + ": truncated: header says shape (2, 3) of '<f4' = 24 bytes of data, file has 20");
  EXPECT_EQ(error_for(make_npy(dict("<f8", "(2,)"), Bytes(20, '\0'))),
            path("bad.npy") + ": trailing garbage: 4 bytes after the 16 bytes of data the header describes "
                              "(shape (2,), '<f8')");
}

TEST_F(NpyFile, RejectsHugeShapesBeforeAllocating) {
  EXPECT_EQ(error_for(make_npy(dict("<f4", "(4294967296, 4294967296)"), "")),
            path("bad.npy") + ": shape (4294967296, 4294967296) is too large (its size overflows)");
  EXPECT_TRUE(contains(error_for(make_npy(dict("<i8", "(4611686018427387904,)"), "")), "too large"));  // 2^62 * 8
  EXPECT_TRUE(contains(error_for(make_npy(dict("<f4", "(99999999999999999999999,)"), "")), "'shape' entry is too large"));
  // Large but representable: compared with the file size, nothing allocated.
  EXPECT_TRUE(contains(error_for(make_npy(dict("<f4", "(1000000000, 1000000000)"), f4(1))),
                       "truncated: header says shape (1000000000, 1000000000) of '<f4' = 4000000000000000000 bytes"));
}

TEST_F(NpyFile, RejectsMalformedHeaders) {
  const Bytes one = f4(1);
  auto message = [&](const std::string& d) { return error_for(make_npy(d, one)); };
  EXPECT_TRUE(contains(message("{'descr': '<f4', 'shape': (1,), }"), "bad .npy header: no 'fortran_order' key"));
  EXPECT_TRUE(contains(message("{'descr': '<f4', 'fortran_order': False}"), "no 'shape' key"));
  EXPECT_TRUE(contains(message("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}"),
                       "duplicate key 'descr'"));
  EXPECT_TRUE(contains(message("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}"),
                       "unexpected key 'extra'"));
  EXPECT_TRUE(contains(message("['descr', '<f4']"), "expected '{'"));
  EXPECT_TRUE(contains(message(dict("<f4", "(-1,)")), "'shape' must be a tuple of non-negative integers"));
  EXPECT_TRUE(contains(message(dict("<f4", "[1]")), "expected '(' to open 'shape'"));
  EXPECT_TRUE(contains(message(dict("<f4", "(1,)", "0")), "'fortran_order' must be True or False"));
  EXPECT_TRUE(contains(message(dict("<f4", "(1,)") + " junk"), "unexpected text after the closing '}'"));
  EXPECT_TRUE(contains(message("{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}"), "bad .npy header"));
  // The message shows the header on one line.
  EXPECT_TRUE(contains(message("{'descr': '<f4'}"), "(header: {'descr': '<f4'})"));
}

TEST_F(NpyFile, RejectsNonFiniteValuesNamingTheElement) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(error_for(make_npy(dict("<f4", "(2, 3)"), f4(0) + f4(1) + f4(2) + f4(3) + f4(nan) + f4(5))),
            path("bad.npy") + ": element 4 (row 1, column 1) is NaN; NaN and Inf are not allowed");
  EXPECT_EQ(error_for(make_npy(dict("<f8", "(3,)"), f8(0) + f8(1) + f8(-static_cast<double>(inf)))),
            path("bad.npy") + ": element 2 (row 2, column 0) is infinite; NaN and Inf are not allowed");
  EXPECT_EQ(error_for(make_npy(dict("<f8", "(1, 2)"), f8(1) + f8(1e300))),
            path("bad.npy") + ": element 1 (row 0, column 1): 1.0000000000000001e+300 is out of range for float32");
  // save_npy writes what it is given; load_npy is where NaN is refused.
  const std::vector<float> values = {1.0f, nan};
  save_npy(path("nan.npy"), values.data(), {2});
  EXPECT_TRUE(contains(load_error(path("nan.npy")), "element 1 (row 1, column 0) is NaN"));
}

// --- limits (issue 12): what a header may declare is bounded before anything is allocated ----------

TEST_F(NpyFile, RefusesAHeaderOver64KiBBeforeReadingIt) {
  const Bytes payload = f4(1.5f);
  const Bytes long_ok = make_npy(dict("<f4", "(1,)") + std::string(60000, ' '), payload, 2);
  write_file(path("ok.npy"), long_ok);
  EXPECT_EQ(load_npy(path("ok.npy"))(0, 0), 1.5f);
  const Bytes too_long = make_npy(dict("<f4", "(1,)") + std::string(70000, ' '), payload, 2);
  const std::size_t header_length = too_long.size() - 12 - payload.size();
  EXPECT_EQ(error_for(too_long), path("bad.npy") + ": bad .npy header: " + std::to_string(header_length) +
                                     " bytes long, over the limit of 64 KiB");
}

TEST_F(NpyFile, RefusesMoreThan2Pow31ElementsEvenWhenTheFileHoldsThem) {
  // A sparse file of 2 GiB that really has the bytes its header declares.
  const Bytes header = make_npy(dict("|u1", "(2147483649,)"), "");
  write_file(path("big.npy"), header);
  struct stat status {};
  if (::truncate(path("big.npy").c_str(), static_cast<off_t>(header.size() + 2147483649u)) != 0 ||
      ::stat(path("big.npy").c_str(), &status) != 0 || status.st_blocks * 512 > (64 << 20)) {
    GTEST_SKIP() << "the temporary folder's file system has no sparse files";
  }
  EXPECT_EQ(load_error(path("big.npy")), path("big.npy") + ": too large: shape (2147483649,) has 2147483649 "
                                                           "elements, more than the limit of 2^31 (2147483648)");
}

// --- part of a file (issue 16): npy_info and load_npy_rows ---------------------------------------

/// Rows `rows` of m, as load_npy_rows should give them.
Matrix slice(const Matrix& m, const std::vector<std::size_t>& rows) {
  Matrix out = Matrix::from_shape({rows.size(), m.shape(1)});
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::copy(m.data() + rows[i] * m.shape(1), m.data() + (rows[i] + 1) * m.shape(1), out.data() + i * m.shape(1));
  }
  return out;
}

std::vector<std::size_t> range_rows(std::size_t first, std::size_t count) {
  std::vector<std::size_t> rows(count);
  for (std::size_t i = 0; i < count; ++i) rows[i] = first + i;
  return rows;
}

::testing::AssertionResult same_matrix(const Matrix& a, const Matrix& b) {
  if (a.shape(0) != b.shape(0) || a.shape(1) != b.shape(1)) {
    return ::testing::AssertionFailure() << "shapes (" << a.shape(0) << ", " << a.shape(1) << ") and (" << b.shape(0)
                                         << ", " << b.shape(1) << ")";
  }
  if (a.size() != 0 && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) != 0) {
    return ::testing::AssertionFailure() << "different values";
  }
  return ::testing::AssertionSuccess();
}

/// load_npy_rows of ranges (at both ends, empty, every shard of 1 to 4 processes) and of subsets
/// equals slicing load_npy; npy_info gives its shape.
void expect_rows_as_slices(const std::string& file, const std::string& descr) {
  const Matrix all = load_npy(file);
  const std::size_t n = all.shape(0);
  const NpyInfo info = npy_info(file);
  EXPECT_EQ(info.rows, n) << file;
  EXPECT_EQ(info.cols, all.shape(1)) << file;
  EXPECT_EQ(info.descr, descr) << file;
  std::vector<RowRange> ranges = {{0, 0}, {0, 1}, {0, n}, {n - 1, 1}, {n, 0}, {1, n - 2}};
  for (std::size_t ranks = 1; ranks <= 4; ++ranks) {
    for (std::size_t rank = 0; rank < ranks; ++rank) ranges.push_back(shard_rows(n, rank, ranks));
  }
  for (const RowRange& range : ranges) {
    EXPECT_TRUE(same_matrix(load_npy_rows(file, range), slice(all, range_rows(range.first, range.count))))
        << file << " rows [" << range.first << ", " << range.first + range.count << ")";
  }
  const std::vector<std::vector<std::size_t>> subsets = {{}, {0}, {n - 1}, {0, 2, 3, n - 1}, {1, 2, 3}, {0, n - 2}};
  for (const auto& rows : subsets) {
    EXPECT_TRUE(same_matrix(load_npy_rows(file, rows), slice(all, rows))) << file << ", " << rows.size() << " rows";
  }
}

TEST_F(NpyFile, RowsOfEveryTypeEqualSlicesOfTheWholeLoad) {
  Bytes f4s, f8s, u1s, i4s, i8s;
  for (int i = 0; i < 7 * 3; ++i) {
    f4s += f4(0.1f * static_cast<float>(i) - 1.0f);
    f8s += f8(1e-3 * i * i - 0.5);
    i4s += i4(-1000 * i + 7);
  }
  for (int i = 0; i < 9; ++i) {
    u1s += static_cast<char>(i * 29);
    i8s += i8((std::int64_t{1} << 33) * i - 5);
  }
  write_file(path("f4.npy"), make_npy(dict("<f4", "(7, 3)"), f4s));
  write_file(path("f8.npy"), make_npy(dict("<f8", "(7, 3)"), f8s, 2));
  write_file(path("i4.npy"), make_npy(dict("<i4", "(7, 3)"), i4s, 3));
  write_file(path("u1.npy"), make_npy(dict("|u1", "(9,)"), u1s));
  write_file(path("i8.npy"), make_npy(dict("<i8", "(9,)"), i8s));
  expect_rows_as_slices(path("f4.npy"), "<f4");
  expect_rows_as_slices(path("f8.npy"), "<f8");
  expect_rows_as_slices(path("i4.npy"), "<i4");
  expect_rows_as_slices(path("u1.npy"), "|u1");
  expect_rows_as_slices(path("i8.npy"), "<i8");
  // Rows that span several of the reader's 1 MiB buffers.
  std::vector<float> big(100000 * 5);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<float>(i % 1000) * 0.25f;
  save_npy(path("big.npy"), big.data(), {100000, 5});
  expect_rows_as_slices(path("big.npy"), "<f4");
}

TEST_F(NpyFile, RowsOfAnEmptyArray) {
  write_file(path("empty.npy"), make_npy(dict("<f4", "(0, 4)"), ""));
  EXPECT_EQ(npy_info(path("empty.npy")).rows, 0u);
  EXPECT_EQ(npy_info(path("empty.npy")).cols, 4u);
  const Matrix none = load_npy_rows(path("empty.npy"), RowRange{0, 0});
  EXPECT_EQ(none.shape(0), 0u);
  EXPECT_EQ(none.shape(1), 4u);
  EXPECT_EQ(load_npy_rows(path("empty.npy"), std::vector<std::size_t>{}).shape(1), 4u);
}

TEST_F(NpyFile, RowsOutOfRangeOrUnsortedAreRefused) {
  write_file(path("a.npy"), make_npy(dict("<f4", "(3, 2)"), f4(1) + f4(2) + f4(3) + f4(4) + f4(5) + f4(6)));
  const std::string file = path("a.npy");
  try {
    load_npy_rows(file, RowRange{2, 2});
    ADD_FAILURE() << "no DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()), file + ": rows [2, 4) are out of range: the file has 3 rows");
  }
  try {
    load_npy_rows(file, std::vector<std::size_t>{0, 3});
    ADD_FAILURE() << "no DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()), file + ": row 3 is out of range: the file has 3 rows");
  }
  for (const std::vector<std::size_t>& rows : {std::vector<std::size_t>{2, 1}, std::vector<std::size_t>{1, 1}}) {
    try {
      load_npy_rows(file, rows);
      ADD_FAILURE() << "no InvalidArgument";
    } catch (const InvalidArgument& e) {
      EXPECT_TRUE(contains(e.what(), "load_npy_rows: expected sorted, unique row indices, received 1 at position 1"))
          << e.what();
    }
  }
}

TEST_F(NpyFile, RowReadersCheckTheFileAsLoadNpy) {
  // The header and the data's size: the same message from each reader.
  const std::vector<Bytes> bad = {
      make_npy(dict("<f4", "(2, 2)", "True"), f4(1) + f4(2) + f4(3) + f4(4)),  // Fortran order
      make_npy(dict("<f4", "(2, 2)"), f4(1) + f4(2) + f4(3)),                  // truncated
      make_npy(dict("<f4", "(1, 2)"), f4(1) + f4(2) + f4(3)),                  // trailing bytes
      make_npy(dict(">f4", "(1,)"), f4(1)),                                    // big-endian
      "\x93NUMPY"s,
  };
  for (const Bytes& bytes : bad) {
    const std::string expected = error_for(bytes);
    const auto message = [&](const std::function<void()>& read) {
      try {
        read();
      } catch (const DataError& e) {
        return std::string(e.what());
      }
      return std::string("no DataError");
    };
    EXPECT_EQ(message([&] { npy_info(path("bad.npy")); }), expected);
    EXPECT_EQ(message([&] { load_npy_rows(path("bad.npy"), RowRange{0, 1}); }), expected);
    EXPECT_EQ(message([&] { load_npy_rows(path("bad.npy"), std::vector<std::size_t>{0}); }), expected);
  }
}

TEST_F(NpyFile, OnlyTheRowsReadHaveTheirValuesChecked) {
  write_file(path("nan.npy"), make_npy(dict("<f8", "(3, 2)"), f8(1) + f8(2) + f8(3) + f8(NAN) + f8(5) + f8(6)));
  const std::string file = path("nan.npy");
  EXPECT_EQ(load_npy_rows(file, RowRange{2, 1})(0, 1), 6.0f);
  EXPECT_EQ(load_npy_rows(file, std::vector<std::size_t>{0, 2})(1, 0), 5.0f);
  try {
    load_npy_rows(file, RowRange{1, 2});
    ADD_FAILURE() << "no DataError";
  } catch (const DataError& e) {
    // Named by its place in the whole file, as load_npy names it.
    EXPECT_EQ(std::string(e.what()), file + ": element 3 (row 1, column 1) is NaN; NaN and Inf are not allowed");
  }
}

}  // namespace
}  // namespace xdense
