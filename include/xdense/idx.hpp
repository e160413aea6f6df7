#pragma once
/// \file
/// Loading MNIST-style IDX files (images and labels), plain or gzip-compressed.
///
/// IDX layout: magic 00 00 <type> <dims>, then <dims> big-endian uint32 sizes, then the
/// elements in row-major order. Only unsigned bytes (type 0x08) are read; gzip is detected
/// by the 1f 8b magic, not by the file name.

#include <string>

#include "xdense/tensor.hpp"

namespace xdense {

/// Reads IDX images (magic 0x00000803, uint8, dims n x rows x cols) into (n, rows*cols) floats scaled to [0,1] (value/255).
Matrix load_idx_images(const std::string& path);

/// Reads IDX labels (magic 0x00000801, uint8, n) into (n, 1) floats holding the raw byte values.
Matrix load_idx_labels(const std::string& path);

/// True if the file starts (after gunzip) with a valid IDX magic (00 00 <known type> <dims >= 1>); false if unreadable.
bool looks_like_idx(const std::string& path);

}  // namespace xdense
