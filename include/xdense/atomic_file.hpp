#pragma once
/// \file
/// Crash-safe file replacement: write to a temporary file in the same folder,
/// flush it to disk, then rename it over the target. A reader sees the old file
/// or the new one, never a half-written one; on failure nothing is left behind.

#include <string>

namespace xdense {

/// Replaces `path` with `bytes` atomically; throws DataError naming the path on failure.
void write_file_atomically(const std::string& path, const std::string& bytes);

}  // namespace xdense
