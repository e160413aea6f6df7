#include "xdense/layer.hpp"

#include "xdense/error.hpp"

namespace xdense {

std::size_t Layer::parameter_count() {
  std::size_t total = 0;
  for (const Parameter& p : parameters()) total += p.size;
  return total;
}

ConstMatrixView Layer::backward_through_previous(const Activation& /*previous*/, ConstMatrixView /*dy*/) {
  throw StateError(type_name() + ": backward_through_previous called, but the layer takes no activation's backward "
                   "pass (takes_backward_of() is false)");
}

void Layer::check_columns(ConstMatrixView x, std::size_t expected_cols) const {
  if (x.cols != expected_cols) {  // names are built only on error: the hot path allocates nothing
    throw ShapeError(type_name() + ": expected input with " + std::to_string(expected_cols) +
                     " columns, received shape " + shape_string(x.rows, x.cols));
  }
}

}  // namespace xdense
