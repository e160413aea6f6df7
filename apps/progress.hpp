#pragma once
// Keras-like training progress: on a terminal, a bar redrawn in place with steps,
// ETA, time per step and running metrics, fitted to the terminal's width; otherwise
// one plain line per epoch.

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "xdense/sequential.hpp"

namespace xdense::cli {

class Progress {
 public:
  /// `interactive`: draw the live bar (stdout is a terminal); `out` receives everything.
  /// `width`: the terminal's columns; 0 asks the terminal at each redraw (terminal_width()).
  Progress(std::size_t epochs, bool interactive, std::FILE* out = stdout, std::size_t width = 0);

  void on_batch_end(const BatchLog& log);
  /// The epoch's closing line: loss, every metric, their validation values (EpochLog order).
  void on_epoch_end(const EpochLog& log);
  /// Also show each epoch's learning rate (when a schedule or ReduceLROnPlateau changes it).
  void show_learning_rate(bool show) { show_learning_rate_ = show; }

 private:
  std::size_t width() const;

  std::size_t epochs_;
  bool interactive_;
  std::FILE* out_;
  std::size_t width_;
  std::size_t current_epoch_ = 0;
  std::size_t batches_ = 0;
  std::size_t first_batch_ = 0;  ///< the first batch seen this epoch
  std::chrono::steady_clock::time_point first_batch_end_;
  std::chrono::steady_clock::time_point last_draw_;
  BatchLog last_batch_;
  bool show_learning_rate_ = false;
};

/// What one drawing of the bar shows. NaN leaves a part out.
struct BarLine {
  std::size_t batch = 0;    ///< batches done
  std::size_t batches = 0;  ///< batches per epoch
  /// Mean time per batch so far; NaN while unknown (only one batch done: its time is not measured).
  double step_seconds = std::numeric_limits<double>::quiet_NaN();
  /// The epoch's wall time, for its closing line (shown instead of the ETA); NaN while it runs.
  double epoch_seconds = std::numeric_limits<double>::quiet_NaN();
  double loss = std::numeric_limits<double>::quiet_NaN();
  double accuracy = std::numeric_limits<double>::quiet_NaN();
  double val_loss = std::numeric_limits<double>::quiet_NaN();
  double val_accuracy = std::numeric_limits<double>::quiet_NaN();
  /// A closing line's other metrics (after accuracy) and validation metrics (after val_accuracy),
  /// in order: {"auc", 0.93}.
  std::vector<std::pair<std::string, double>> metrics, val_metrics;
  /// A closing line's learning rate, shown last as "lr: 0.0005"; NaN leaves it out.
  double learning_rate = std::numeric_limits<double>::quiet_NaN();
};

/// The bar's text (without the '\r' before it and the erase-to-end-of-line after it), at most
/// `width - 1` characters: a line reaching the last column makes terminals wrap, and every wrapped
/// redraw leaves a stale line behind. Too long, it loses in turn: bar length (30 down to 10), time
/// per step, ETA, the bar, then (while the epoch runs) accuracy and loss, then characters at the end.
/// An epoch's closing line (epoch_seconds given) keeps its metrics, even if it must wrap (it is
/// never redrawn), and then its time as well.
std::string format_bar(const BarLine& line, std::size_t width);

/// Columns of the terminal behind `out` (ioctl TIOCGWINSZ), else $COLUMNS, else 80.
std::size_t terminal_width(std::FILE* out);

/// Seconds as "3s", "1m05s", "450ms".
std::string format_duration(double seconds);

}  // namespace xdense::cli
