#include "xdense/error.hpp"

#include "xdense/tensor.hpp"

#include <algorithm>

namespace xdense {

namespace {

std::string shortened(const std::string& text, std::size_t max_chars) {
  std::string out = text.size() <= max_chars ? text : text.substr(0, max_chars > 3 ? max_chars - 3 : 0) + "...";
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

}  // namespace

std::string quote_value(const std::string& text, std::size_t max_chars) {
  return "'" + shortened(text, max_chars) + "'";
}

std::string name_list(const std::vector<std::string>& names, std::size_t max_items) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < max_items; ++i) out += (i ? ", " : "") + shortened(names[i], 40);
  if (names.size() > max_items) out += ", ... (" + std::to_string(names.size()) + " in all)";
  return out;
}

std::string shape_string(std::size_t rows, std::size_t cols) {
  return "(" + std::to_string(rows) + ", " + std::to_string(cols) + ")";
}

Matrix to_matrix(ConstMatrixView v) {
  Matrix m = Matrix::from_shape({v.rows, v.cols});
  std::copy(v.data, v.data + v.size(), m.data());
  return m;
}

}  // namespace xdense
