#include "progress.hpp"

#include <cmath>
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

std::string metric(const char* name, double value) {
  if (std::isnan(value)) return "";
  char text[48];
  std::snprintf(text, sizeof text, " - %s: %.4f", name, value);
  return text;
}

}  // namespace

Progress::Progress(std::size_t epochs, bool interactive, std::FILE* out)
    : epochs_(epochs), interactive_(interactive), out_(out) {}

void Progress::draw_bar(const BatchLog& log, double elapsed, bool final_draw) {
  constexpr std::size_t width = 30;
  const std::size_t filled = log.batches ? width * log.batch / log.batches : width;
  std::string bar(filled, '=');
  if (filled < width) bar += '>' + std::string(width - filled - 1, '.');
  const std::string digits = std::to_string(log.batches);
  std::string timing;
  if (final_draw) {
    timing = format_duration(elapsed) + " " + per_step(elapsed, log.batch);
  } else {
    const double eta = log.batch ? elapsed / static_cast<double>(log.batch) * static_cast<double>(log.batches - log.batch) : 0.0;
    timing = "ETA: " + format_duration(eta) + " - " + per_step(elapsed, log.batch);
  }
  std::fprintf(out_, "\r%*zu/%s [%s] - %s%s%s\033[K", static_cast<int>(digits.size()), log.batch, digits.c_str(),
               bar.c_str(), timing.c_str(), metric("loss", log.mean_loss).c_str(),
               metric("accuracy", log.mean_accuracy).c_str());
  std::fflush(out_);
}

void Progress::on_batch_end(const BatchLog& log) {
  const auto now = std::chrono::steady_clock::now();
  if (log.epoch != current_epoch_) {
    current_epoch_ = log.epoch;
    batches_ = log.batches;
    // The epoch started just before its first batch; close enough for ETAs.
    epoch_start_ = now;
    last_draw_ = now - std::chrono::seconds(1);
    if (interactive_) std::fprintf(out_, "Epoch %zu/%zu\n", log.epoch, epochs_);
  }
  last_batch_ = log;
  if (!interactive_) return;
  // Redraw at most ~20 times a second: printing must not cost more than training.
  if (now - last_draw_ >= std::chrono::milliseconds(50) || log.batch == log.batches) {
    last_draw_ = now;
    draw_bar(log, std::chrono::duration<double>(now - epoch_start_).count(), false);
  }
}

void Progress::on_epoch_end(const EpochLog& log) {
  const std::string validation = metric("val_loss", log.val_loss) + metric("val_accuracy", log.val_accuracy);
  if (interactive_) {
    BatchLog final_state = last_batch_;
    final_state.mean_loss = log.loss;
    final_state.mean_accuracy = log.accuracy;
    draw_bar(final_state, log.seconds, true);
    std::fprintf(out_, "%s\n", validation.c_str());
  } else {
    std::fprintf(out_, "Epoch %zu/%zu - %zu/%zu - %s %s%s%s%s\n", log.epoch, epochs_, batches_, batches_,
                 format_duration(log.seconds).c_str(), per_step(log.seconds, batches_).c_str(),
                 metric("loss", log.loss).c_str(), metric("accuracy", log.accuracy).c_str(), validation.c_str());
  }
  std::fflush(out_);
}

}  // namespace xdense::cli
