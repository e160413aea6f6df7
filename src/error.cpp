#include "xdense/error.hpp"

#include "xdense/tensor.hpp"

#include <algorithm>

namespace xdense {

std::string shape_string(std::size_t rows, std::size_t cols) {
  return "(" + std::to_string(rows) + ", " + std::to_string(cols) + ")";
}

Matrix to_matrix(ConstMatrixView v) {
  Matrix m = Matrix::from_shape({v.rows, v.cols});
  std::copy(v.data, v.data + v.size(), m.data());
  return m;
}

}  // namespace xdense
