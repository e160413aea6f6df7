#pragma once
// Private: f'(z) computed from y = f(z), applied to an upstream gradient g, for each
// OutputDerivative. Defined once here for the activations' own backward passes
// (builtin_activations.cpp) and the fused Dense backward kernels (blas.cpp), so a fused step
// gives the same bits as the two passes. T is float or an 8-float GNU vector.

#include "cpu_dispatch.hpp"
#include "simd.hpp"  // Float8, and its note on -Wpsabi (kernel files only)
#include "xdense/fusion.hpp"

namespace xdense::detail {

// Always inlined: it runs inside the AVX2 clones of the kernels, on vectors in registers.
template <OutputDerivative F, typename T>
XDENSE_KERNEL_INLINE T times_output_derivative(T g, T y, T one, T zero) {
  if constexpr (F == OutputDerivative::sigmoid) {
    return g * y * (one - y);  // y (1 - y)
  } else if constexpr (F == OutputDerivative::tanh) {
    return g * (one - y * y);  // 1 - y^2
  } else if constexpr (F == OutputDerivative::relu) {
    return y > zero ? g : zero;  // y > 0 exactly where z > 0
  } else {
    return g;
  }
}

}  // namespace xdense::detail
