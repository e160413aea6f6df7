#pragma once
// Private: Float8, eight floats operated on together, for the few kernels whose
// shapes are too small or irregular for the compiler to vectorise plain loops well
// (the small-product path of blas.cpp). With GCC or Clang it is a vector extension
// type: one AVX register in the x86-64-v3 clones (cpu_dispatch.hpp), two SSE registers
// in the baseline ones. Elsewhere it is a plain array with the same arithmetic, so
// results do not depend on which definition is used (lane by lane, same order).

#include <cstddef>
#include <cstring>

#include "cpu_dispatch.hpp"

namespace xdense::detail {

#if defined(__GNUC__)
// Float8 values only pass between inline functions of the including file, never
// across a library boundary, so GCC's note that AVX-sized vectors are passed
// differently without AVX does not apply (this header is included by kernel files only).
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float Float8 __attribute__((vector_size(32)));

#else
struct Float8 {
  float lane[8];
  float& operator[](std::size_t i) { return lane[i]; }
  float operator[](std::size_t i) const { return lane[i]; }
};
inline Float8 operator+(Float8 a, Float8 b) {
  for (std::size_t i = 0; i < 8; ++i) a.lane[i] += b.lane[i];
  return a;
}
inline Float8 operator*(Float8 a, Float8 b) {
  for (std::size_t i = 0; i < 8; ++i) a.lane[i] *= b.lane[i];
  return a;
}
inline Float8& operator+=(Float8& a, Float8 b) { return a = a + b; }
inline Float8 operator*(Float8 a, float x) {
  for (std::size_t i = 0; i < 8; ++i) a.lane[i] *= x;
  return a;
}
#endif

// Arithmetic on Float8 is written out in the kernels themselves, not in helper
// functions here: GCC lowers a function's vector operations for that function's own
// target, so an operation inside a helper would be split into SSE halves before being
// inlined into an AVX2 clone. Loads and stores (memcpy) and lane reads are unaffected.

/// (1, ..., 1): `ones8 * x` puts x in every lane with one broadcast (x * 1 is x
/// exactly, -0 and NaN included).
constexpr Float8 ones8 = {1, 1, 1, 1, 1, 1, 1, 1};

XDENSE_KERNEL_INLINE Float8 load8(const float* p) {
  Float8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

XDENSE_KERNEL_INLINE void store8(float* p, const Float8& v) { std::memcpy(p, &v, sizeof v); }

/// The lanes summed pairwise in a fixed order, ((0+1) + (2+3)) + ((4+5) + (6+7)): the
/// order in which sum8_of_eight() adds each of its vectors.
XDENSE_KERNEL_INLINE float sum8(const Float8& v) { return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7])); }

// XDENSE_SHUFFLE8(a, b, i0, ..., i7): lane l of the result is lane i_l of the 16
// lanes a0..a7 b0..b7 (a compile-time selection: one or two permute instructions).
#if defined(__clang__)
#define XDENSE_SHUFFLE8(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#elif defined(__GNUC__)
typedef int Int8 __attribute__((vector_size(32)));
#define XDENSE_SHUFFLE8(a, b, ...) __builtin_shuffle(a, b, ::xdense::detail::Int8{__VA_ARGS__})
#else
template <class... I>
Float8 shuffle8(Float8 a, Float8 b, I... index) {
  const int indices[8] = {index...};
  Float8 out;
  for (std::size_t l = 0; l < 8; ++l) out[l] = indices[l] < 8 ? a[indices[l]] : b[indices[l] - 8];
  return out;
}
#define XDENSE_SHUFFLE8(a, b, ...) ::xdense::detail::shuffle8(a, b, __VA_ARGS__)
#endif

/// (sum8(v[0]), ..., sum8(v[7])) at once: three rounds of pairwise adds across the
/// eight vectors (a transpose folded into the additions), same order as sum8.
XDENSE_KERNEL_INLINE Float8 sum8_of_eight(const Float8* v) {
  Float8 pairs[4];  // round 1: lanes (2l, 2l+1) of v[2q] and v[2q+1], interleaved
  for (int q = 0; q < 4; ++q) {
    const Float8 x = v[2 * q], y = v[2 * q + 1];
    pairs[q] = XDENSE_SHUFFLE8(x, y, 0, 8, 2, 10, 4, 12, 6, 14) + XDENSE_SHUFFLE8(x, y, 1, 9, 3, 11, 5, 13, 7, 15);
  }
  Float8 quads[2];  // round 2: lanes 0-3 and 4-7 of four vectors
  for (int q = 0; q < 2; ++q) {
    const Float8 x = pairs[2 * q], y = pairs[2 * q + 1];
    quads[q] = XDENSE_SHUFFLE8(x, y, 0, 1, 8, 9, 4, 5, 12, 13) + XDENSE_SHUFFLE8(x, y, 2, 3, 10, 11, 6, 7, 14, 15);
  }
  // round 3: low half + high half, one lane per vector
  return XDENSE_SHUFFLE8(quads[0], quads[1], 0, 1, 2, 3, 8, 9, 10, 11) +
         XDENSE_SHUFFLE8(quads[0], quads[1], 4, 5, 6, 7, 12, 13, 14, 15);
}

}  // namespace xdense::detail
