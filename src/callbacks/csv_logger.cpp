#include "xdense/callbacks/csv_logger.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "monitor.hpp"
#include "xdense/atomic_file.hpp"
#include "xdense/error.hpp"
#include "xdense/sequential.hpp"

namespace xdense {

namespace {

// The shortest "%.Ng" text that reads back as `value` (Python's repr, less its "1.0" for integers).
std::string exact_text(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char text[32];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, value);
    if (std::strtod(text, nullptr) == value) break;
  }
  return text;
}

std::string short_text(double value) {
  if (std::isnan(value)) return "";
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

std::string join(const std::vector<std::string>& fields, char separator) {
  std::string line;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) line += separator;
    line += fields[i];
  }
  return line + "\n";
}

}  // namespace

CSVLogger::CSVLogger(std::string filename, CSVLoggerOptions options)
    : filename_(std::move(filename)), options_(options) {
  if (filename_.empty()) throw InvalidArgument("CSVLogger: expected a file name, received ''");
  const char s = options_.separator;
  if (s == '"' || s == '\n' || s == '\r' || s == '.' || s == '-' || s == '+' || (s >= '0' && s <= '9') ||
      (s >= 'a' && s <= 'z') || (s >= 'A' && s <= 'Z') || s == '_') {
    throw InvalidArgument(
        "CSVLogger: the separator cannot be a quote, a line break, a letter, a digit, '.', '-', '+' or '_', "
        "received " +
        quote_value(std::string(1, s)));
  }
}

Config CSVLogger::config() const {
  return {{"filename", filename_}, {"separator", std::string(1, options_.separator)}, {"append", options_.append}};
}

void CSVLogger::on_train_begin(Sequential& /*model*/) {
  check_writable(filename_, detail::regular_file("a CSV log"));
  previous_.clear();
  keys_.clear();
  lines_.clear();
  rows_ = 0;
  const std::optional<std::size_t> resumed = restored_rows_;
  restored_rows_.reset();
  if (!options_.append && !resumed) return;
  std::ifstream in(filename_, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  previous_ = text.str();
  if (!previous_.empty() && previous_.back() != '\n') previous_ += '\n';
  // The header, then one line per epoch logged.
  std::size_t end = previous_.find('\n');
  for (; end != std::string::npos && (!resumed || rows_ < *resumed); ++rows_) {
    const std::size_t next = previous_.find('\n', end + 1);
    if (next == std::string::npos) break;
    end = next;
  }
  if (resumed && rows_ < *resumed) {
    throw DataError(filename_ + ": CSVLogger resumes a run that had logged " + std::to_string(*resumed) +
                    " epochs to this file, but it holds " + std::to_string(rows_));
  }
  // A resumed run drops the lines of epochs logged after the checkpoint was taken.
  if (resumed && end != std::string::npos) previous_.resize(end + 1);
}

void CSVLogger::on_epoch_end(Sequential& /*model*/, const EpochLog& log) {
  if (keys_.empty()) {
    keys_ = log.keys();
    std::vector<std::string> columns = {"epoch"};
    columns.insert(columns.end(), keys_.begin(), keys_.end());
    const std::string header = join(columns, options_.separator);
    const std::string previous_header = previous_.substr(0, previous_.find('\n') + 1);
    if (previous_header.empty()) {
      lines_ = header;
    } else if (previous_header != header) {
      throw DataError(filename_ + ": CSVLogger with append continues a file with the same columns, but its header is " +
                      quote_value(previous_header.substr(0, previous_header.size() - 1), 200) + " and this run logs " +
                      quote_value(header.substr(0, header.size() - 1), 200));
    }
  }
  std::vector<std::string> fields = {std::to_string(log.epoch - 1)};
  for (const std::string& key : keys_) {
    fields.push_back(log.has(key) ? exact_text(log.value(key)) : "NA");
  }
  lines_ += join(fields, options_.separator);
  ++rows_;
  write_file_atomically(filename_, previous_ + lines_, detail::regular_file("a CSV log"));
}

Config CSVLogger::state() const { return {{"rows", rows_}}; }

void CSVLogger::restore_state(const Config& state) {
  detail::StateReader in(state, "CSVLogger");
  const std::size_t rows = in.count("rows");
  in.finish();
  restored_rows_ = rows;
}

std::string history_csv(const History& history, char separator) {
  std::vector<std::string> metrics;
  if (!history.epochs.empty()) {
    for (const auto& [name, value] : history.epochs.front().metrics) metrics.push_back(name);
  }
  std::vector<std::string> columns = {"epoch", "loss"};
  columns.insert(columns.end(), metrics.begin(), metrics.end());
  columns.push_back("val_loss");
  for (const std::string& name : metrics) columns.push_back("val_" + name);
  columns.push_back("lr");
  columns.push_back("seconds");
  std::string csv = join(columns, separator);
  // A metric by name in one epoch's list; NaN (an empty field) when absent.
  auto find = [](const std::vector<std::pair<std::string, double>>& values, const std::string& name) {
    for (const auto& [key, value] : values) {
      if (key == name) return value;
    }
    return std::nan("");
  };
  for (const EpochLog& e : history.epochs) {
    std::vector<std::string> fields = {std::to_string(e.epoch), short_text(e.loss)};
    for (const std::string& name : metrics) fields.push_back(short_text(find(e.metrics, name)));
    fields.push_back(short_text(e.val_loss));
    for (const std::string& name : metrics) fields.push_back(short_text(find(e.val_metrics, name)));
    fields.push_back(short_text(e.learning_rate));
    fields.push_back(short_text(e.seconds));
    csv += join(fields, separator);
  }
  return csv;
}

}  // namespace xdense
