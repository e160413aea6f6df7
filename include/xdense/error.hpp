#pragma once
/// \file
/// Typed exceptions. Every caller mistake throws one of these with a message that
/// names what was expected and what was received; nothing aborts on user input.

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace xdense {

/// Base of every exception xdense throws on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A parameter out of its domain (units 0, learning rate <= 0, unknown name, ...).
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

/// Tensor shapes that do not fit together.
class ShapeError : public Error {
 public:
  using Error::Error;
};

/// A method called in the wrong state (fit before compile, ...).
class StateError : public Error {
 public:
  using Error::Error;
};

/// Bad data: a file that cannot be read or parsed, labels out of range, NaN...
/// The message names the file and, where it applies, the line and field.
class DataError : public Error {
 public:
  using Error::Error;
};

/// Training produced a NaN or infinite loss or weight. Thrown at the step where it
/// happened; the model's weights are then unusable: go back to the last checkpoint
/// or saved model (the xdense tool keeps both untouched).
class TrainingDiverged : public Error {
 public:
  TrainingDiverged(const std::string& message, std::size_t epoch, std::size_t batch)
      : Error(message), epoch_(epoch), batch_(batch) {}
  /// 1-based epoch and batch where it happened (0 when unknown, e.g. from train_step()).
  std::size_t epoch() const { return epoch_; }
  std::size_t batch() const { return batch_; }

 private:
  std::size_t epoch_;
  std::size_t batch_;
};

/// 'text' for messages, cut to at most `max_chars` characters of the text with "..." after them, so a
/// 2 MiB field or a binary file read as text is never echoed whole; control characters show as '?'.
std::string quote_value(const std::string& text, std::size_t max_chars = 60);

/// "a, b, c" for messages: the first `max_items` names (each cut as quote_value does, unquoted), then
/// "... (N in all)" when there are more.
std::string name_list(const std::vector<std::string>& names, std::size_t max_items = 12);

/// "(a, b)" for shape messages.
std::string shape_string(std::size_t rows, std::size_t cols);

/// `text` without its leading and trailing spaces and tabs: how specs and lists typed by a user
/// ("leaky_relu( 0.1 )", "a, b") are read.
inline std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

}  // namespace xdense
