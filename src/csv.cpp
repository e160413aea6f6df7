#include "xdense/csv.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <istream>
#include <limits>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "xdense/error.hpp"

namespace xdense {
namespace {

/// "'text'" for messages; very long fields (a binary file read as text) are cut.
std::string quote(const std::string& text) {
  constexpr std::size_t max_shown = 60;
  if (text.size() <= max_shown) return "'" + text + "'";
  return "'" + text.substr(0, max_shown - 3) + "...'";
}

/// "a, b, c".
std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ", ";
    out += names[i];
  }
  return out;
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

bool is_blank(const std::string& line) { return std::all_of(line.begin(), line.end(), is_space); }

/// Splits one line at commas. Fields are trimmed of surrounding spaces and tabs; a field may be
/// double-quoted (keeping commas and spaces inside, with "" standing for one quote). Throws
/// DataError prefixed by `where` ("file:line") on a malformed quoted field.
std::vector<std::string> split_fields(const std::string& line, const std::string& where) {
  std::vector<std::string> fields;
  std::size_t pos = 0;
  const std::size_t end = line.size();
  for (;;) {
    while (pos < end && is_space(line[pos])) ++pos;
    std::string field;
    if (pos < end && line[pos] == '"') {
      ++pos;
      bool closed = false;
      while (pos < end) {
        if (line[pos] == '"') {
          if (pos + 1 < end && line[pos + 1] == '"') {
            field += '"';
            pos += 2;
          } else {
            ++pos;
            closed = true;
            break;
          }
        } else {
          field += line[pos++];
        }
      }
      if (!closed) {
        throw DataError(where + ": unterminated quoted field " + std::to_string(fields.size() + 1) +
                        " (quoted fields cannot span lines)");
      }
      while (pos < end && is_space(line[pos])) ++pos;
      if (pos < end && line[pos] != ',') {
        throw DataError(where + ": unexpected text after the closing quote of field " +
                        std::to_string(fields.size() + 1));
      }
    } else {
      const std::size_t start = pos;
      while (pos < end && line[pos] != ',') ++pos;
      std::size_t stop = pos;
      while (stop > start && is_space(line[stop - 1])) --stop;
      field.assign(line, start, stop - start);
    }
    fields.push_back(std::move(field));
    if (pos >= end) break;
    ++pos;  // the comma; a trailing comma yields a final empty field
  }
  return fields;
}

/// Outcome of parsing one feature field.
enum class NumberStatus { ok, empty, not_a_number, not_finite, out_of_range };

/// Parses a whole field as a decimal floating-point number (what std::strtod accepts, except hex
/// floats, and independent of the C locale), rounded to float.
NumberStatus parse_number(const std::string& field, float& value) {
  if (field.empty()) return NumberStatus::empty;
  const char* first = field.data();
  const char* last = field.data() + field.size();
  // from_chars rejects a leading '+', strtod allows it.
  if (*first == '+' && field.size() > 1 && first[1] != '-' && first[1] != '+') ++first;
  double parsed = 0.0;
  auto [ptr, ec] = std::from_chars(first, last, parsed);
  if (ec == std::errc::result_out_of_range) {
    // Out of range for double: underflow reads as zero (as strtod does), overflow is an error.
    long double wide = 0.0L;
    auto [wide_ptr, wide_ec] = std::from_chars(first, last, wide);
    if (wide_ec != std::errc() || wide_ptr != last || !(std::fabs(wide) < 1.0L)) {
      return NumberStatus::out_of_range;
    }
    parsed = std::signbit(wide) ? -0.0 : 0.0;
    ptr = last;
    ec = std::errc();
  }
  if (ec != std::errc() || ptr != last) return NumberStatus::not_a_number;
  if (!std::isfinite(parsed)) return NumberStatus::not_finite;
  if (std::fabs(parsed) > static_cast<double>(std::numeric_limits<float>::max())) {
    return NumberStatus::out_of_range;
  }
  value = static_cast<float>(parsed);
  return NumberStatus::ok;
}

/// Parses a whole field as a (signed) integer.
bool parse_integer(const std::string& field, long long& value) {
  const char* first = field.data();
  const char* last = field.data() + field.size();
  if (first != last && *first == '+' && field.size() > 1 && first[1] != '-') ++first;
  auto [ptr, ec] = std::from_chars(first, last, value);
  return ec == std::errc() && ptr == last && first != last;
}

/// Index of the label column named by `spec` (a header name or a 0-based index as text).
std::size_t resolve_label_column(const std::string& spec, const std::vector<std::string>& header,
                                 const std::string& source) {
  if (spec.empty()) return header.size() - 1;
  const auto named = std::find(header.begin(), header.end(), spec);
  if (named != header.end()) return static_cast<std::size_t>(named - header.begin());
  const bool all_digits = std::all_of(spec.begin(), spec.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (all_digits) {
    std::size_t index = 0;
    auto [ptr, ec] = std::from_chars(spec.data(), spec.data() + spec.size(), index);
    if (ec == std::errc() && ptr == spec.data() + spec.size() && index < header.size()) return index;
    throw DataError(source + ": label column index " + spec + " is out of range (" +
                    std::to_string(header.size()) + " columns: " + join(header) + ")");
  }
  throw DataError(source + ": unknown label column " + quote(spec) + " (columns: " + join(header) + ")");
}

/// Checks the header row and returns its column names.
std::vector<std::string> check_header(std::vector<std::string> header, const std::string& where, bool unlabelled) {
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i].empty()) {
      throw DataError(where + ": header field " + std::to_string(i + 1) + " has an empty column name");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (header[j] == header[i]) {
        throw DataError(where + ": duplicate column name " + quote(header[i]) + " (fields " +
                        std::to_string(j + 1) + " and " + std::to_string(i + 1) + ")");
      }
    }
  }
  if (header.size() < 2 && !unlabelled) {
    throw DataError(where + ": only one column " + quote(header[0]) +
                    "; need at least one feature column and a label column");
  }
  return header;
}

/// A label as read, with the line it came from for error messages.
struct RawLabel {
  std::string text;
  std::size_t line;
};

/// Maps label strings to class indices; fills `class_names` unless it was given.
std::vector<float> encode_labels(const std::vector<RawLabel>& raw, std::vector<std::string>& class_names,
                                 const std::string& source, const std::string& label_name) {
  std::vector<float> encoded(raw.size());
  if (!class_names.empty()) {
    std::unordered_map<std::string, std::size_t> index_of;
    for (std::size_t i = 0; i < class_names.size(); ++i) {
      if (!index_of.emplace(class_names[i], i).second) {
        throw InvalidArgument("read_csv: duplicate class name " + quote(class_names[i]) +
                              " in CsvOptions::class_names");
      }
    }
    for (std::size_t r = 0; r < raw.size(); ++r) {
      const auto found = index_of.find(raw[r].text);
      if (found == index_of.end()) {
        throw DataError(source + ":" + std::to_string(raw[r].line) + ", column '" + label_name +
                        "': unknown class " + quote(raw[r].text) + " (expected one of: " + join(class_names) +
                        ")");
      }
      encoded[r] = static_cast<float>(found->second);
    }
    return encoded;
  }

  // Integer labels: classes are the distinct values in numeric order.
  std::vector<long long> values(raw.size());
  bool all_integers = true;
  for (std::size_t r = 0; r < raw.size() && all_integers; ++r) all_integers = parse_integer(raw[r].text, values[r]);
  if (all_integers) {
    std::vector<long long> classes = values;
    std::sort(classes.begin(), classes.end());
    classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
    for (std::size_t r = 0; r < raw.size(); ++r) {
      encoded[r] = static_cast<float>(std::lower_bound(classes.begin(), classes.end(), values[r]) - classes.begin());
    }
    for (long long c : classes) class_names.push_back(std::to_string(c));
    return encoded;
  }

  // Any other labels: classes are the distinct strings in lexicographic (byte) order.
  std::vector<std::string> classes;
  classes.reserve(raw.size());
  for (const RawLabel& label : raw) classes.push_back(label.text);
  std::sort(classes.begin(), classes.end());
  classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
  for (std::size_t r = 0; r < raw.size(); ++r) {
    encoded[r] = static_cast<float>(std::lower_bound(classes.begin(), classes.end(), raw[r].text) - classes.begin());
  }
  class_names = std::move(classes);
  return encoded;
}

}  // namespace

Dataset read_csv(std::istream& in, const std::string& source_name, const CsvOptions& options) {
  Dataset data;
  std::vector<std::string> header;
  std::size_t label_column = 0;
  std::vector<float> features;  // row-major (samples, features)
  std::vector<RawLabel> labels;
  std::size_t samples = 0;

  std::string line;
  std::size_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_number == 1 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);  // UTF-8 BOM
    if (is_blank(line)) continue;
    const std::string where = source_name + ":" + std::to_string(line_number);
    std::vector<std::string> fields = split_fields(line, where);

    if (header.empty()) {
      header = check_header(std::move(fields), where, options.unlabelled);
      // Without labels, the label column index is one past the last column: never matched.
      label_column = options.unlabelled ? header.size()
                                        : resolve_label_column(options.label_column, header, source_name);
      continue;
    }
    if (fields.size() != header.size()) {
      throw DataError(where + ": expected " + std::to_string(header.size()) + " fields, found " +
                      std::to_string(fields.size()));
    }
    ++samples;
    for (std::size_t c = 0; c < fields.size(); ++c) {
      if (c == label_column) {
        if (fields[c].empty()) throw DataError(where + ", column '" + header[c] + "': missing label (empty field)");
        labels.push_back({std::move(fields[c]), line_number});
        continue;
      }
      float value = 0.0f;
      switch (parse_number(fields[c], value)) {
        case NumberStatus::ok:
          features.push_back(value);
          break;
        case NumberStatus::empty:
          throw DataError(where + ", column '" + header[c] + "': missing value (empty field)");
        case NumberStatus::not_a_number:
          throw DataError(where + ", column '" + header[c] + "': " + quote(fields[c]) + " is not a number");
        case NumberStatus::not_finite:
          throw DataError(where + ", column '" + header[c] + "': NaN/Inf is not allowed");
        case NumberStatus::out_of_range:
          throw DataError(where + ", column '" + header[c] + "': " + quote(fields[c]) +
                          " is out of range for a float");
      }
    }
  }
  if (in.bad()) throw DataError(source_name + ": read error after line " + std::to_string(line_number));
  if (header.empty()) throw DataError(source_name + ": empty file (expected a header row)");
  if (samples == 0) throw DataError(source_name + ": header only, no data rows");

  const std::size_t feature_count = options.unlabelled ? header.size() : header.size() - 1;
  for (std::size_t c = 0; c < header.size(); ++c) {
    if (c != label_column) data.feature_names.push_back(header[c]);
  }
  data.features = Matrix::from_shape({samples, feature_count});
  std::copy(features.begin(), features.end(), data.features.data());
  if (options.unlabelled) {
    data.labels = Matrix::from_shape({std::size_t{0}, std::size_t{1}});
    return data;
  }
  data.label_name = header[label_column];
  data.class_names = options.class_names;
  const std::vector<float> encoded = encode_labels(labels, data.class_names, source_name, data.label_name);
  data.labels = Matrix::from_shape({samples, std::size_t{1}});
  std::copy(encoded.begin(), encoded.end(), data.labels.data());
  return data;
}

Dataset load_csv(const std::string& path, const CsvOptions& options) {
  std::error_code fs_error;
  if (std::filesystem::is_directory(path, fs_error)) {
    throw DataError(path + ": cannot open file: " + std::generic_category().message(EISDIR));
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int open_errno = errno;
    throw DataError(path + ": cannot open file" +
                    (open_errno != 0 ? ": " + std::generic_category().message(open_errno) : std::string()));
  }
  return read_csv(in, path, options);
}

}  // namespace xdense
