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
  if (!options_.append) return;
  std::ifstream in(filename_, std::ios::binary);
  if (!in) return;  // a new file
  std::ostringstream text;
  text << in.rdbuf();
  previous_ = text.str();
  if (!previous_.empty() && previous_.back() != '\n') previous_ += '\n';
}

void CSVLogger::on_epoch_end(Sequential& /*model*/, const EpochLog& log) {
  if (keys_.empty()) {
    keys_ = detail::log_keys(log);
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
    const std::optional<double> value = detail::log_value(log, key);
    fields.push_back(value ? exact_text(*value) : "NA");
  }
  lines_ += join(fields, options_.separator);
  write_file_atomically(filename_, previous_ + lines_, detail::regular_file("a CSV log"));
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
