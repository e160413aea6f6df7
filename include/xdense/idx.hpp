#pragma once
/// \file
/// Loading MNIST-style IDX files (images and labels), plain or gzip-compressed.
///
/// IDX layout: magic 00 00 <type> <dims>, then <dims> big-endian uint32 sizes, then the
/// elements in row-major order. Only unsigned bytes (type 0x08) are read; gzip is detected
/// by the 1f 8b magic, not by the file name.

#include <cstddef>
#include <string>
#include <vector>

#include "xdense/communicator.hpp"
#include "xdense/tensor.hpp"

namespace xdense {

/// Reads IDX images (magic 0x00000803, uint8, dims n x rows x cols) into (n, rows*cols) floats scaled to [0,1] (value/255).
Matrix load_idx_images(const std::string& path);

/// Reads IDX labels (magic 0x00000801, uint8, n) into (n, 1) floats holding the raw byte values.
Matrix load_idx_labels(const std::string& path);

/// The shape of the matrix a loader gives: (count, rows*cols) for images, (count, 1) for labels.
struct IdxShape {
  std::size_t rows = 0;
  std::size_t cols = 0;
};

/// The shape load_idx_images(path) gives, from the header: what a data-parallel loader asks first,
/// to choose each process's rows (shard_rows()). The same DataErrors as load_idx_images() for the
/// header; a plain file's data size is checked against its header from the file's size (nothing
/// more is read), gzip data only by the loaders (it would have to be inflated).
IdxShape idx_images_shape(const std::string& path);

/// The shape load_idx_labels(path) gives, (count, 1), as idx_images_shape().
IdxShape idx_labels_shape(const std::string& path);

/// Images [rows.first, rows.first + rows.count) of what load_idx_images(path) gives: a process of a
/// data-parallel run loads its share, in memory about its share. A plain file is read only at
/// those images (the others are seeked over); gzip data is inflated through a small buffer from the
/// start to the end (every byte, as by a whole read: the same errors for a cut-off or over-long
/// stream) and only these images are kept. DataError "PATH: rows [A, B) are out of range: the file
/// has N rows" beyond the file's images; the other DataErrors as load_idx_images(). count 0 gives a
/// (0, pixels) matrix.
Matrix load_idx_images_rows(const std::string& path, RowRange rows);

/// The images listed in `rows` (sorted, unique indices), in that order, read as above.
/// InvalidArgument for indices that are not sorted and unique; DataError "PATH: row R is out of
/// range: the file has N rows".
Matrix load_idx_images_rows(const std::string& path, const std::vector<std::size_t>& rows);

/// Labels [rows.first, rows.first + rows.count) of what load_idx_labels(path) gives, read as
/// load_idx_images_rows() reads images; (count, 1).
Matrix load_idx_labels_rows(const std::string& path, RowRange rows);

/// The labels listed in `rows` (sorted, unique indices), in that order, as load_idx_images_rows().
Matrix load_idx_labels_rows(const std::string& path, const std::vector<std::size_t>& rows);

/// True if the file starts (after gunzip) with a valid IDX magic (00 00 <known type> <dims >= 1>); false if unreadable.
bool looks_like_idx(const std::string& path);

}  // namespace xdense
