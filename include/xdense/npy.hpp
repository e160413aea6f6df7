#pragma once
/// \file
/// Reading and writing NumPy .npy arrays (format versions 1.0, 2.0 and 3.0).

#include <cstddef>
#include <string>
#include <vector>

#include "xdense/tensor.hpp"

namespace xdense {

/// Reads a 1-D or 2-D .npy array of float32, float64, uint8, int32, int64 ('<f4','<f8','|u1','<i4','<i8', little-endian; C order; fortran_order True is rejected with a clear message) into a float Matrix: 1-D (n,) becomes (n, 1).
/// Values are converted to float (int64 above 2^24 loses precision); NaN, Inf and float64 values
/// beyond float range are DataErrors naming the element, as is any malformed header or size mismatch.
Matrix load_npy(const std::string& path);

/// Writes a float32 array '<f4' C-order .npy (version 1.0) with the given shape (1-D when `shape` has one entry).
/// `data` holds the product of `shape` floats in row-major order. Written atomically: to
/// "path.tmp-XXXXXX" in the same folder, then renamed; on failure nothing is left behind.
/// Throws InvalidArgument for a shape without 1 or 2 entries, DataError naming the path on I/O errors.
void save_npy(const std::string& path, const float* data, const std::vector<std::size_t>& shape);

/// True if the file starts with the .npy magic "\x93NUMPY"; false if it cannot be read.
bool looks_like_npy(const std::string& path);

}  // namespace xdense
