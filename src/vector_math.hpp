#pragma once
// Private: float exp / sigmoid / tanh written so that GCC vectorises loops over
// them (no calls, no branches, no errno), at about 1-2 ulp from the exact values.
// libm's expf and tanhf are scalar calls costing 3-14 ns each; these run at a
// fraction of a nanosecond per element in a loop.
//
// exp: Cephes expf. x = n ln2 + r with |r| <= ln2/2 (ln2 split in two parts so
// n ln2 is exact), exp(r) by a degree-5 minimax polynomial, times 2^n applied as
// two factors 2^n1 2^n2 that are each normal floats, so results in the denormal
// range round correctly (sigmoid(-100) = 3.7e-44, as libm gives) and 2^128 never
// overflows. Arguments are clamped to [-104, 88.72]: exp(-104) is below half the
// smallest denormal (0 is returned), ln(FLT_MAX) = 88.72.

#include <cstdint>
#include <cstring>

namespace xdense::detail {

inline float exp_approx(float x) {
  constexpr float log2e = 1.44269504088896341f;
  constexpr float ln2_high = 0.693359375f;  // few significant bits: n * ln2_high is exact
  constexpr float ln2_low = -2.12194440e-4f;
  constexpr float round_magic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const float keep = x >= -104.0f ? 1.0f : 0.0f;
  x = x < -104.0f ? -104.0f : (x > 88.72f ? 88.72f : x);
  const float n = (x * log2e + round_magic) - round_magic;  // round to nearest
  const float r = (x - n * ln2_high) - n * ln2_low;
  const float r2 = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float er = p * r2 + r + 1.0f;
  const float n1 = (n * 0.5f + round_magic) - round_magic;  // n1, n2 in [-75, 64]
  const float n2 = n - n1;
  const std::int32_t bits1 = (static_cast<std::int32_t>(n1) + 127) << 23;
  const std::int32_t bits2 = (static_cast<std::int32_t>(n2) + 127) << 23;
  float scale1, scale2;
  std::memcpy(&scale1, &bits1, sizeof scale1);
  std::memcpy(&scale2, &bits2, sizeof scale2);
  return er * scale1 * scale2 * keep;
}

// 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x) otherwise: no overflow, full relative
// precision on both sides.
inline float sigmoid_approx(float x) {
  const float e = exp_approx(x >= 0.0f ? -x : x);
  const float inverse = 1.0f / (1.0f + e);
  return x >= 0.0f ? inverse : e * inverse;
}

// Cephes tanhf: an odd polynomial for |x| < 0.625 (where 1 - 2/(e^2x + 1) would
// cancel), 1 - 2/(e^2|x| + 1) with the sign restored elsewhere.
inline float tanh_approx(float x) {
  const float a = x < 0.0f ? -x : x;
  const float s = x * x;
  float p = -5.70498872745e-3f;
  p = p * s + 2.06390887954e-2f;
  p = p * s - 5.37397155531e-2f;
  p = p * s + 1.33314422036e-1f;
  p = p * s - 3.33332819422e-1f;
  const float small = p * s * x + x;
  const float large = 1.0f - 2.0f / (exp_approx(2.0f * a) + 1.0f);
  const float signed_large = x < 0.0f ? -large : large;
  return a < 0.625f ? small : signed_large;
}

}  // namespace xdense::detail
