#pragma once
/// \file
/// Reading and writing NumPy .npy arrays (format versions 1.0, 2.0 and 3.0).

#include <cstddef>
#include <string>
#include <vector>

#include "xdense/communicator.hpp"
#include "xdense/tensor.hpp"

namespace xdense {

/// Reads a 1-D or 2-D .npy array of float32, float64, uint8, int32, int64 ('<f4','<f8','|u1','<i4','<i8', little-endian; C order; fortran_order True is rejected with a clear message) into a float Matrix: 1-D (n,) becomes (n, 1).
/// Values are converted to float (int64 above 2^24 loses precision); NaN, Inf and float64 values
/// beyond float range are DataErrors naming the element, as is any malformed header or size mismatch.
Matrix load_npy(const std::string& path);

/// What a .npy file's header says, in load_npy()'s terms: the matrix it loads is (rows, cols), a
/// 1-D array (n,) being (n, 1); `descr` is the element type ("<f4").
struct NpyInfo {
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::string descr;
};

/// Reads the header only (the data is not read): every check of load_npy() but the values' (the
/// header, the supported types, the data's size against the file's), with the same DataErrors.
/// What a data-parallel loader asks first, to choose each process's rows (shard_rows()).
NpyInfo npy_info(const std::string& path);

/// Rows [rows.first, rows.first + rows.count) of the matrix load_npy(path) gives, reading only their
/// bytes (from their offset in the file): a process of a data-parallel run loads its share, in
/// memory about its share. The same DataErrors as load_npy() for the file and for the values of
/// these rows (the element named by its index in the whole file); DataError
/// "PATH: rows [A, B) are out of range: the file has N rows" beyond the file's rows. count 0 gives
/// a (0, cols) matrix.
Matrix load_npy_rows(const std::string& path, RowRange rows);

/// The rows listed in `rows` (sorted, unique indices), in that order, reading only theirs (the
/// neighbouring ones in one read). InvalidArgument for indices that are not sorted and unique;
/// DataError "PATH: row R is out of range: the file has N rows"; otherwise as load_npy().
Matrix load_npy_rows(const std::string& path, const std::vector<std::size_t>& rows);

/// Writes a float32 array '<f4' C-order .npy (version 1.0) with the given shape (1-D when `shape` has one entry).
/// `data` holds the product of `shape` floats in row-major order. Written atomically: to
/// "path.tmp-XXXXXX" in the same folder, then renamed; on failure nothing is left behind.
/// Throws InvalidArgument for a shape without 1 or 2 entries, DataError naming the path on I/O errors.
void save_npy(const std::string& path, const float* data, const std::vector<std::size_t>& shape);

/// True if the file starts with the .npy magic "\x93NUMPY"; false if it cannot be read.
bool looks_like_npy(const std::string& path);

}  // namespace xdense
