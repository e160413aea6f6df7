#pragma once
// Keras-like training progress: on a terminal, a bar redrawn in place with steps,
// ETA, time per step and running metrics; otherwise one plain line per epoch.

#include <chrono>
#include <cstddef>
#include <cstdio>

#include "xdense/sequential.hpp"

namespace xdense::cli {

class Progress {
 public:
  /// `interactive`: draw the live bar (stdout is a terminal); `out` receives everything.
  Progress(std::size_t epochs, bool interactive, std::FILE* out = stdout);

  void on_batch_end(const BatchLog& log);
  void on_epoch_end(const EpochLog& log);

 private:
  void draw_bar(const BatchLog& log, double elapsed, bool final_draw);

  std::size_t epochs_;
  bool interactive_;
  std::FILE* out_;
  std::size_t current_epoch_ = 0;
  std::size_t batches_ = 0;
  std::chrono::steady_clock::time_point epoch_start_;
  std::chrono::steady_clock::time_point last_draw_;
  BatchLog last_batch_;
};

/// Seconds as "3s", "1m05s", "450ms".
std::string format_duration(double seconds);

}  // namespace xdense::cli
