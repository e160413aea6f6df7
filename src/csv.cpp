#include "xdense/csv.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <istream>
#include <limits>
#include <memory>
#include <optional>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "input_file.hpp"
#include "xdense/error.hpp"

namespace xdense {
namespace {

/// Most fields a line may have: a wider line is refused as soon as it is seen, before a vector of
/// millions of fields and a map of millions of names are built.
constexpr std::size_t max_columns = 1'000'000;

std::string quote(const std::string& text) { return quote_value(text); }

std::string join(const std::vector<std::string>& names) { return name_list(names); }

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
    if (fields.size() == max_columns) {
      throw DataError(where + ": more than " + std::to_string(max_columns) + " columns (the limit)");
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
  // Out of range only when rounding to float overflows: 3.4028235e38 (how numpy prints float32's
  // largest value) is a bit above FLT_MAX but rounds to it.
  // Doubles from 2^128 - 2^103 (FLT_MAX plus half an ulp) up round to infinity.
  if (std::fabs(parsed) >= std::ldexp(1.0, 128) - std::ldexp(1.0, 103)) return NumberStatus::out_of_range;
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

/// Index of the column named by `spec` (a header name or a 0-based index as text), or npos.
std::size_t find_column(const std::string& spec, const std::vector<std::string>& header,
                        const std::unordered_map<std::string, std::size_t>& index_of) {
  const auto named = index_of.find(spec);
  if (named != index_of.end()) return named->second;
  const bool all_digits = !spec.empty() && std::all_of(spec.begin(), spec.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (all_digits) {
    std::size_t index = 0;
    auto [ptr, ec] = std::from_chars(spec.data(), spec.data() + spec.size(), index);
    if (ec == std::errc() && ptr == spec.data() + spec.size() && index < header.size()) return index;
  }
  return std::string::npos;
}

/// Index of the label column named by `spec` (a header name or a 0-based index as text).
std::size_t resolve_label_column(const std::string& spec, const std::vector<std::string>& header,
                                 const std::unordered_map<std::string, std::size_t>& index_of,
                                 const std::string& source) {
  if (spec.empty()) return header.size() - 1;
  const std::size_t found = find_column(spec, header, index_of);
  if (found != std::string::npos) return found;
  const bool all_digits = std::all_of(spec.begin(), spec.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (all_digits) {
    throw DataError(source + ": label column index " + (spec.size() > 30 ? spec.substr(0, 27) + "..." : spec) +
                    " is out of range (" + std::to_string(header.size()) + " columns: " + name_list(header) + ")");
  }
  throw DataError(source + ": unknown label column " + quote(spec) + " (columns: " + name_list(header) + ")");
}

/// Names the header row's columns: empty names become pandas' "Unnamed: <index>"; a duplicate name
/// is an error. Returns the names and fills `index_of` (name -> column).
std::vector<std::string> name_columns(std::vector<std::string> header, const std::string& where,
                                      std::unordered_map<std::string, std::size_t>& index_of) {
  index_of.reserve(header.size());
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i].empty()) header[i] = "Unnamed: " + std::to_string(i);
    const auto [it, inserted] = index_of.emplace(header[i], i);
    if (!inserted) {
      throw DataError(where + ": duplicate column name " + quote(header[i]) + " (fields " +
                      std::to_string(it->second + 1) + " and " + std::to_string(i + 1) + ")");
    }
  }
  return header;
}

/// True when a first row is data rather than a header: every field, or every field but one (a
/// class label), is a number, and the numbers are not column indices (0, 1, 2, ... or 1, 2, 3,
/// ..., the header pandas writes for unnamed columns).
bool looks_like_data(const std::vector<std::string>& fields);

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

namespace {

/// Reads lines ending in LF, CRLF or a lone CR; refuses UTF-16 and NUL bytes. Counts lines.
class LineReader {
 public:
  LineReader(std::istream& in, std::string source) : in_(in), source_(std::move(source)) {}

  /// The next line without its ending; false at the end of the input.
  bool next(std::string& line) {
    if (pending_.empty()) {
      std::string chunk;
      if (!std::getline(in_, chunk)) return false;
      if (line_number_ == 0) check_encoding(chunk);
      if (chunk.find('\0') != std::string::npos) {
        throw DataError(source_ + ":" + std::to_string(line_number_ + 1) +
                        ": NUL byte: not a text file (UTF-16 text is not supported, convert it to UTF-8)");
      }
      if (!chunk.empty() && chunk.back() == '\r') chunk.pop_back();
      if (chunk.find('\r') == std::string::npos) {
        ++line_number_;
        line = std::move(chunk);
        return true;
      }
      // Old Mac line endings (a lone CR): one chunk holds several lines.
      std::size_t start = 0;
      for (;;) {
        const std::size_t cr = chunk.find('\r', start);
        pending_.push_back(chunk.substr(start, cr == std::string::npos ? std::string::npos : cr - start));
        if (cr == std::string::npos) break;
        start = cr + 1;
      }
      std::reverse(pending_.begin(), pending_.end());
    }
    ++line_number_;
    line = std::move(pending_.back());
    pending_.pop_back();
    return true;
  }

  std::size_t line_number() const { return line_number_; }

 private:
  void check_encoding(std::string& first) const {
    if (first.compare(0, 2, "\xFF\xFE") == 0 || first.compare(0, 2, "\xFE\xFF") == 0) {
      throw DataError(source_ + ": UTF-16 text is not supported; convert the file to UTF-8 "
                                "(e.g. iconv -f UTF-16 -t UTF-8)");
    }
    if (first.compare(0, 3, "\xEF\xBB\xBF") == 0) first.erase(0, 3);  // UTF-8 byte order mark
  }

  std::istream& in_;
  std::string source_;
  std::size_t line_number_ = 0;
  std::vector<std::string> pending_;  // lines left of a CR-separated chunk, last first
};

bool looks_like_data(const std::vector<std::string>& fields) {
  std::size_t words = 0;
  std::vector<float> numbers;
  for (const std::string& field : fields) {
    float value = 0.0f;
    const NumberStatus status = parse_number(field, value);
    if (status == NumberStatus::ok) {
      numbers.push_back(value);
    } else if (status != NumberStatus::out_of_range) {
      ++words;
    }
  }
  if (words > 1 || numbers.empty() || (words == 1 && fields.size() < 2)) return false;
  const auto indices_from = [&numbers](float first) {
    for (std::size_t i = 0; i < numbers.size(); ++i) {
      if (numbers[i] != first + static_cast<float>(i)) return false;
    }
    return true;
  };
  return numbers.size() < 2 || !(indices_from(0.0f) || indices_from(1.0f));
}

/// A feature's or (with `target`) a regression target's field as a float; DataError naming the
/// line (`where`) and the column otherwise.
float number_field(const std::string& field, const std::string& column, const std::string& where, bool target,
                   const CsvOptions& options) {
  float value = 0.0f;
  const std::string at = where + ", column " + quote(column);
  switch (parse_number(field, value)) {
    case NumberStatus::ok:
      break;
    case NumberStatus::empty:
      throw DataError(at + (target ? ": missing target (empty field)" : ": missing value (empty field)"));
    case NumberStatus::not_a_number:
      if (target) {
        throw DataError(at + " holds text (" + quote(field) + "): " +
                        (options.target_note.empty() ? "a regression target must be a number" : options.target_note));
      }
      throw DataError(at + ": " + quote(field) + " is not a number");
    case NumberStatus::not_finite:
      throw DataError(at + ": NaN/Inf is not allowed");
    case NumberStatus::out_of_range:
      throw DataError(at + ": " + quote(field) + " is out of range for a float");
  }
  return value;
}

/// What each column of a file is, once the header is known.
struct ColumnRoles {
  std::vector<std::size_t> features;        // columns, in feature order
  std::size_t label = std::string::npos;    // npos: none
  std::vector<std::size_t> targets;         // regression: columns, in target order
  std::size_t id = std::string::npos;       // npos: none
  std::vector<std::string> ignored;
};

std::size_t require_column(const std::string& spec, const std::vector<std::string>& header,
                           const std::unordered_map<std::string, std::size_t>& index_of, const std::string& source,
                           const char* what) {
  const std::size_t found = find_column(spec, header, index_of);
  if (found == std::string::npos) {
    throw DataError(source + ": unknown " + what + " " + quote(spec) + " (columns: " + join(header) + ")");
  }
  return found;
}

bool is_pandas_index_name(const std::string& name) { return name.rfind("Unnamed: ", 0) == 0; }

ColumnRoles assign_roles(const std::vector<std::string>& header,
                         const std::unordered_map<std::string, std::size_t>& index_of, const CsvOptions& options,
                         const std::string& source) {
  ColumnRoles roles;
  enum class Role { unused, feature, label, id, dropped };
  std::vector<Role> role(header.size(), Role::unused);
  // A missing feature is the most telling mismatch (a file for another model): reported first.
  std::vector<std::string> missing;
  for (const std::string& spec : options.feature_columns) {
    if (find_column(spec, header, index_of) == std::string::npos) missing.push_back(spec);
  }
  if (!missing.empty()) {
    throw DataError(source + ": missing feature column" + (missing.size() > 1 ? "s " : " ") + join(missing) +
                    " (the file has: " + join(header) + ")");
  }
  if (!options.id_column.empty()) {
    roles.id = require_column(options.id_column, header, index_of, source, "id column");
    role[roles.id] = Role::id;
  }
  for (const std::string& spec : options.drop_columns) {
    const std::size_t c = require_column(spec, header, index_of, source, "column to drop");
    if (role[c] == Role::unused) role[c] = Role::dropped;
  }
  if (!options.unlabelled && !options.target_columns.empty()) {
    std::vector<std::string> missing_targets;
    for (const std::string& spec : options.target_columns) {
      if (find_column(spec, header, index_of) == std::string::npos) missing_targets.push_back(spec);
    }
    const bool absent = options.label_optional && missing_targets.size() == options.target_columns.size();
    if (!missing_targets.empty() && !absent) {
      throw DataError(source + ": missing target column" + (missing_targets.size() > 1 ? "s " : " ") +
                      join(missing_targets) + " (the file has: " + join(header) + ")");
    }
    for (std::size_t i = 0; i < options.target_columns.size() && !absent; ++i) {
      const std::size_t c = find_column(options.target_columns[i], header, index_of);
      if (role[c] == Role::id) {
        throw InvalidArgument(source + ": column " + quote(header[c]) + " cannot be both a target and the id");
      }
      if (role[c] == Role::label) throw InvalidArgument(source + ": target column " + quote(header[c]) + " listed twice");
      role[c] = Role::label;
      roles.targets.push_back(c);
    }
  } else if (!options.unlabelled) {
    const bool absent = options.label_optional && !options.label_column.empty() &&
                        find_column(options.label_column, header, index_of) == std::string::npos;
    if (!absent) {
      if (options.label_column.empty() && header.size() < 2) {
        throw DataError(source + ": only one column " + quote(header[0]) +
                        "; need at least one feature column and a label column");
      }
      roles.label = resolve_label_column(options.label_column, header, index_of, source);
      if (role[roles.label] == Role::id) {
        throw InvalidArgument(source + ": column " + quote(header[roles.label]) + " cannot be both the label and the id");
      }
      role[roles.label] = Role::label;
    }
  }
  if (!options.feature_columns.empty()) {
    for (const std::string& spec : options.feature_columns) {
      const std::size_t c = find_column(spec, header, index_of);
      if (role[c] == Role::label || role[c] == Role::id) {
        const char* what = role[c] == Role::id ? "the id" : roles.targets.empty() ? "the label" : "a target";
        throw DataError(source + ": column " + quote(header[c]) + " is " + what + " column, it cannot also be a feature");
      }
      if (role[c] == Role::feature) throw InvalidArgument(source + ": feature column " + quote(spec) + " listed twice");
      role[c] = Role::feature;
      roles.features.push_back(c);
    }
  } else {
    for (std::size_t c = 0; c < header.size(); ++c) {
      if (role[c] != Role::unused) continue;
      if (is_pandas_index_name(header[c])) {
        throw DataError(source + ": column " + std::to_string(c + 1) + " has no name (" + quote(header[c]) +
                        ", a pandas index column?): leave it out with --drop-columns '" + header[c] +
                        "' (CsvOptions::drop_columns) or name it in the header");
      }
      role[c] = Role::feature;
      roles.features.push_back(c);
    }
  }
  if (roles.features.empty()) throw DataError(source + ": no feature columns left (columns: " + join(header) + ")");
  for (std::size_t c = 0; c < header.size(); ++c) {
    if (role[c] == Role::unused) roles.ignored.push_back(header[c]);
  }
  return roles;
}

/// The header row (or index names for CsvHeader::absent); `first_data` receives the first row
/// when it is data. Returns an empty vector for an empty input.
std::vector<std::string> read_header(LineReader& lines, const std::string& source, CsvHeader mode,
                                     std::unordered_map<std::string, std::size_t>& index_of,
                                     std::optional<std::vector<std::string>>& first_data) {
  std::string line;
  while (lines.next(line)) {
    if (is_blank(line)) continue;
    const std::string where = source + ":" + std::to_string(lines.line_number());
    std::vector<std::string> fields = split_fields(line, where);
    if (mode == CsvHeader::absent) {
      std::vector<std::string> names(fields.size());
      for (std::size_t i = 0; i < names.size(); ++i) names[i] = std::to_string(i);
      first_data = std::move(fields);
      return name_columns(std::move(names), where, index_of);
    }
    if (mode == CsvHeader::detect && looks_like_data(fields)) {
      throw DataError(where + ": the first row (" + quote_value(line, 40) +
                      ") holds numbers, so it is data, not a header naming the columns; "
                      "for a file without a header row use --no-header, for a header of numbers --header "
                      "(CsvHeader::absent, CsvHeader::present in the library)");
    }
    return name_columns(std::move(fields), where, index_of);
  }
  return {};
}

}  // namespace

Dataset read_csv(std::istream& in, const std::string& source_name, const CsvOptions& options) {
  Dataset data;
  LineReader lines(in, source_name);
  std::unordered_map<std::string, std::size_t> index_of;
  std::optional<std::vector<std::string>> first_data;
  const std::vector<std::string> header = read_header(lines, source_name, options.header, index_of, first_data);
  if (header.empty()) {
    if (in.bad()) throw DataError(source_name + ": read error after line " + std::to_string(lines.line_number()));
    throw DataError(source_name + (options.header == CsvHeader::absent ? ": empty file (no data rows)"
                                                                        : ": empty file (expected a header row)"));
  }
  const ColumnRoles roles = assign_roles(header, index_of, options, source_name);

  std::vector<float> features;  // row-major (samples, features)
  std::vector<float> targets;   // regression: row-major (samples, targets)
  std::vector<RawLabel> labels;
  std::size_t samples = 0;
  std::size_t line_number = lines.line_number();
  auto add_row = [&](std::vector<std::string>& fields, const std::string& where) {
    if (fields.size() != header.size()) {
      throw DataError(where + ": expected " + std::to_string(header.size()) + " fields, found " +
                      std::to_string(fields.size()));
    }
    ++samples;
    data.lines.push_back(line_number);
    for (const std::size_t c : roles.features) features.push_back(number_field(fields[c], header[c], where, false, options));
    for (const std::size_t c : roles.targets) targets.push_back(number_field(fields[c], header[c], where, true, options));
    if (roles.label != std::string::npos) {
      if (fields[roles.label].empty()) {
        throw DataError(where + ", column " + quote(header[roles.label]) + ": missing label (empty field)");
      }
      labels.push_back({std::move(fields[roles.label]), line_number});
    }
    if (roles.id != std::string::npos) data.ids.push_back(std::move(fields[roles.id]));
  };
  if (first_data) add_row(*first_data, source_name + ":" + std::to_string(line_number));

  std::string line;
  while (lines.next(line)) {
    line_number = lines.line_number();
    if (is_blank(line)) continue;
    const std::string where = source_name + ":" + std::to_string(line_number);
    std::vector<std::string> fields = split_fields(line, where);
    add_row(fields, where);
  }
  if (in.bad()) throw DataError(source_name + ": read error after line " + std::to_string(lines.line_number()));
  if (samples == 0) throw DataError(source_name + ": header only, no data rows");

  for (const std::size_t c : roles.features) data.feature_names.push_back(header[c]);
  data.ignored_columns = roles.ignored;
  data.features = Matrix::from_shape({samples, roles.features.size()});
  std::copy(features.begin(), features.end(), data.features.data());
  if (!roles.targets.empty()) {
    for (const std::size_t c : roles.targets) data.target_names.push_back(header[c]);
    data.labels = Matrix::from_shape({samples, roles.targets.size()});
    std::copy(targets.begin(), targets.end(), data.labels.data());
    return data;
  }
  if (roles.label == std::string::npos) {
    data.labels = Matrix::from_shape({std::size_t{0}, std::size_t{1}});
    return data;
  }
  data.label_name = header[roles.label];
  data.class_names = options.class_names;
  const std::vector<float> encoded = encode_labels(labels, data.class_names, source_name, data.label_name);
  data.labels = Matrix::from_shape({samples, std::size_t{1}});
  std::copy(encoded.begin(), encoded.end(), data.labels.data());
  return data;
}

namespace {

CsvOptions options_for_schema(const DatasetSchema& schema, const CsvOptions& options) {
  if (schema.feature_names.empty()) {
    throw InvalidArgument("read_csv: the schema has no feature names (it must come from data read with names)");
  }
  CsvOptions merged = options;
  merged.feature_columns = schema.feature_names;
  if (merged.target_columns.empty()) merged.target_columns = schema.target_names;
  if (!merged.target_columns.empty()) return merged;
  if (merged.label_column.empty()) merged.label_column = schema.label_name;
  if (merged.label_column.empty()) merged.unlabelled = true;
  merged.class_names = schema.class_names;
  return merged;
}

/// Most bytes a line of a CSV file may hold (64 MiB: a million columns of 60-odd characters): a
/// file without line breaks, such as a binary or sparse file, is refused instead of read whole.
constexpr std::uint64_t max_line_bytes = std::uint64_t{64} << 20;

std::unique_ptr<std::istream> open_text_file(const std::string& path) {
  return std::make_unique<detail::TextInputStream>(path, max_line_bytes);
}

}  // namespace

Dataset read_csv(std::istream& in, const std::string& source_name, const DatasetSchema& schema,
                 const CsvOptions& options) {
  return read_csv(in, source_name, options_for_schema(schema, options));
}

Dataset load_csv(const std::string& path, const CsvOptions& options) {
  const auto in = open_text_file(path);
  return read_csv(*in, path, options);
}

Dataset load_csv(const std::string& path, const DatasetSchema& schema, const CsvOptions& options) {
  const auto in = open_text_file(path);
  return read_csv(*in, path, options_for_schema(schema, options));
}

std::vector<std::string> load_csv_columns(const std::string& path, CsvHeader header) {
  const auto in = open_text_file(path);
  LineReader lines(*in, path);
  std::unordered_map<std::string, std::size_t> index_of;
  std::optional<std::vector<std::string>> first_data;
  std::vector<std::string> names = read_header(lines, path, header, index_of, first_data);
  if (names.empty()) throw DataError(path + ": empty file (expected a header row)");
  return names;
}

}  // namespace xdense
