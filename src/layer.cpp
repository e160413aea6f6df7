#include "xdense/layer.hpp"

#include "xdense/error.hpp"

namespace xdense {

std::size_t Layer::parameter_count() {
  std::size_t total = 0;
  for (const Parameter& p : parameters()) total += p.size;
  return total;
}

void Layer::check_columns(const std::string& what, ConstMatrixView x, std::size_t expected_cols) {
  if (x.cols != expected_cols) {
    throw ShapeError(what + ": expected input with " + std::to_string(expected_cols) +
                     " columns, received shape " + shape_string(x.rows, x.cols));
  }
}

}  // namespace xdense
