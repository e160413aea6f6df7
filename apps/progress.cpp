#include "progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

namespace xdense::cli {

std::string format_duration(double seconds) {
  char text[32];
  if (seconds < 1.0) {
    std::snprintf(text, sizeof text, "%.0fms", seconds * 1e3);
  } else if (seconds < 10.0) {
    std::snprintf(text, sizeof text, "%.1fs", seconds);
  } else if (seconds < 60.0) {
    std::snprintf(text, sizeof text, "%.0fs", seconds);
  } else {
    const long total = std::lround(seconds);
    std::snprintf(text, sizeof text, "%ldm%02lds", total / 60, total % 60);
  }
  return text;
}

namespace {

std::string per_step(double seconds, std::size_t steps) {
  const double each = steps ? seconds / static_cast<double>(steps) : 0.0;
  char text[32];
  if (each >= 1.0) std::snprintf(text, sizeof text, "%.2fs/step", each);
  else if (each >= 1e-3) std::snprintf(text, sizeof text, "%.0fms/step", each * 1e3);
  else std::snprintf(text, sizeof text, "%.0fus/step", each * 1e6);
  return text;
}

std::string metric(const std::string& name, double value) {
  if (std::isnan(value)) return "";
  char text[48];
  std::snprintf(text, sizeof text, "%.4f", value);
  return " - " + name + ": " + text;
}

// " - auc: 0.9312 - f1: 0.8000" for the metrics, by name ("val_" before each with `prefix`).
std::string metrics_text(const std::vector<std::pair<std::string, double>>& metrics, const std::string& prefix = "") {
  std::string text;
  for (const auto& [name, value] : metrics) text += metric(prefix + name, value);
  return text;
}

std::string learning_rate_text(double learning_rate) {
  if (std::isnan(learning_rate)) return "";
  char text[48];
  std::snprintf(text, sizeof text, " - lr: %.4g", learning_rate);
  return text;
}

// The metrics of an epoch log other than accuracy (shown by its own field).
std::vector<std::pair<std::string, double>> other_metrics(const std::vector<std::pair<std::string, double>>& metrics) {
  std::vector<std::pair<std::string, double>> others;
  for (const auto& entry : metrics) {
    if (entry.first != "accuracy") others.push_back(entry);
  }
  return others;
}

}  // namespace

std::string format_bar(const BarLine& line, std::size_t width) {
  const std::size_t limit = width > 0 ? width - 1 : 0;
  const std::string total = std::to_string(line.batches);
  std::string counter = std::to_string(line.batch);
  counter = std::string(total.size() > counter.size() ? total.size() - counter.size() : 0, ' ') + counter + "/" + total;
  const bool closing = !std::isnan(line.epoch_seconds);
  // Timing: "- ETA: 3s - 5ms/step" while the epoch runs, "- 2s 5ms/step" at its end.
  std::string time, step;
  if (closing) {
    time = " - " + format_duration(line.epoch_seconds);
    step = " " + per_step(line.epoch_seconds, line.batches);
  } else if (!std::isnan(line.step_seconds)) {
    const std::size_t left = line.batches > line.batch ? line.batches - line.batch : 0;
    time = " - ETA: " + format_duration(line.step_seconds * static_cast<double>(left));
    step = " - " + per_step(line.step_seconds, 1);
  }
  const std::string loss = metric("loss", line.loss), accuracy = metric("accuracy", line.accuracy);
  const std::string metrics = loss + accuracy + metrics_text(line.metrics) + metric("val_loss", line.val_loss) +
                              metric("val_accuracy", line.val_accuracy) + metrics_text(line.val_metrics, "val_") +
                              learning_rate_text(line.learning_rate);
  // Drop in turn the time per step, the timing, the bar; the bar first shrinks from 30 to 10.
  constexpr std::size_t full_bar = 30, shortest_bar = 10;
  for (int dropped = 0; dropped <= 3; ++dropped) {
    const std::string rest = (dropped < 2 ? time : "") + (dropped < 1 ? step : "") + metrics;
    const std::size_t fixed = counter.size() + rest.size();
    if (dropped == 3) {
      if (fixed <= limit) return counter + rest;
      break;
    }
    const std::size_t room = limit > fixed + 3 ? limit - fixed - 3 : 0;  // 3: " [" and "]"
    if (room < shortest_bar) continue;
    const std::size_t bar_width = std::min(room, full_bar);
    const std::size_t filled = line.batches ? bar_width * std::min(line.batch, line.batches) / line.batches : bar_width;
    std::string bar(filled, '=');
    if (filled < bar_width) bar += '>' + std::string(bar_width - filled - 1, '.');
    return counter + " [" + bar + "]" + rest;
  }
  // Never redrawn, the closing line may wrap rather than lose a metric; as it wraps anyway,
  // it keeps the epoch's time too.
  if (closing) return counter + time + step + metrics;
  if (counter.size() + loss.size() <= limit) return counter + loss;
  return counter.substr(0, limit);
}

std::size_t terminal_width(std::FILE* out) {
  winsize size{};
  if (out && ::ioctl(::fileno(out), TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  if (const char* columns = std::getenv("COLUMNS")) {
    char* end = nullptr;
    const long value = std::strtol(columns, &end, 10);
    if (end != columns && *end == '\0' && value > 0 && value <= 100000) return static_cast<std::size_t>(value);
  }
  return 80;
}

Progress::Progress(std::size_t epochs, bool interactive, std::FILE* out, std::size_t width)
    : epochs_(epochs), interactive_(interactive), out_(out), width_(width) {}

std::size_t Progress::width() const { return width_ ? width_ : terminal_width(out_); }

void Progress::on_batch_end(const BatchLog& log) {
  const auto now = std::chrono::steady_clock::now();
  if (log.epoch != current_epoch_) {
    current_epoch_ = log.epoch;
    batches_ = log.batches;
    // Timing starts at the end of the epoch's first batch: the time of that batch itself
    // is unknown (the epoch's start is not reported), so rates count the batches after it.
    first_batch_ = log.batch;
    first_batch_end_ = now;
    last_draw_ = now - std::chrono::seconds(1);
    if (interactive_) std::fprintf(out_, "Epoch %zu/%zu\n", log.epoch, epochs_);
  }
  last_batch_ = log;
  if (!interactive_) return;
  // Redraw at most ~20 times a second: printing must not cost more than training.
  if (now - last_draw_ >= std::chrono::milliseconds(50) || log.batch == log.batches) {
    last_draw_ = now;
    BarLine line;
    line.batch = log.batch;
    line.batches = log.batches;
    if (log.batch > first_batch_) {
      line.step_seconds = std::chrono::duration<double>(now - first_batch_end_).count() /
                          static_cast<double>(log.batch - first_batch_);
    }
    line.loss = log.mean_loss;
    line.accuracy = log.mean_accuracy;
    std::fprintf(out_, "\r%s\033[K", format_bar(line, width()).c_str());
    std::fflush(out_);
  }
}

void Progress::on_epoch_end(const EpochLog& log) {
  if (interactive_) {
    BarLine line;
    line.batch = last_batch_.batch;
    line.batches = last_batch_.batches;
    line.epoch_seconds = log.seconds;
    line.loss = log.loss;
    line.accuracy = log.accuracy;
    line.val_loss = log.val_loss;
    line.val_accuracy = log.val_accuracy;
    line.metrics = other_metrics(log.metrics);
    line.val_metrics = other_metrics(log.val_metrics);
    if (show_learning_rate_) line.learning_rate = log.learning_rate;
    std::fprintf(out_, "\r%s\033[K\n", format_bar(line, width()).c_str());
  } else {
    const std::string training = metric("loss", log.loss) + metric("accuracy", log.accuracy) + metrics_text(other_metrics(log.metrics));
    const std::string validation = metric("val_loss", log.val_loss) + metric("val_accuracy", log.val_accuracy) +
                                   metrics_text(other_metrics(log.val_metrics), "val_");
    const std::string rate = show_learning_rate_ ? learning_rate_text(log.learning_rate) : "";
    std::fprintf(out_, "Epoch %zu/%zu - %zu/%zu - %s %s%s%s%s\n", log.epoch, epochs_, batches_, batches_,
                 format_duration(log.seconds).c_str(), per_step(log.seconds, batches_).c_str(), training.c_str(),
                 validation.c_str(), rate.c_str());
  }
  std::fflush(out_);
}

}  // namespace xdense::cli
