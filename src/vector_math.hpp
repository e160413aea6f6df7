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

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace xdense::detail {

constexpr float round_magic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer

// e^r for |r| <= ln2/2: 1 + r + r^2 P(r), P of degree 5 evaluated by Estrin's scheme
// (pairs of coefficients first, then in powers of r^2): three multiply-adds deep
// instead of Horner's five. These loops run many independent elements at once, so
// their speed is set by how many elements the CPU keeps in flight, which a shorter
// dependency chain raises.
inline float exp_of_reduced(float r) {
  const float r2 = r * r;
  const float p01 = 1.6666665459e-1f * r + 5.0000001201e-1f;
  const float p23 = 8.3334519073e-3f * r + 4.1665795894e-2f;
  const float p45 = 1.9875691500e-4f * r + 1.3981999507e-3f;
  const float p = (p45 * r2 + p23) * r2 + p01;
  return p * r2 + r + 1.0f;
}

// e^x = 2^n e^r for x already clamped to [-104, 88.72]: n = round(x / ln2) and e^r.
struct ExpParts {
  float n;
  float exp_r;
};

inline ExpParts exp_parts(float x) {
  constexpr float log2e = 1.44269504088896341f;
  constexpr float ln2_high = 0.693359375f;  // few significant bits: n * ln2_high is exact
  constexpr float ln2_low = -2.12194440e-4f;
  const float n = (x * log2e + round_magic) - round_magic;  // round to nearest
  return {n, exp_of_reduced((x - n * ln2_high) - n * ln2_low)};
}

// 2^e as a float, for an integral e in [-126, 127].
inline float power_of_two(float e) {
  const std::int32_t bits = (static_cast<std::int32_t>(e) + 127) << 23;
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

inline float exp_approx(float x) {
  const float keep = x >= -104.0f ? 1.0f : 0.0f;
  x = x < -104.0f ? -104.0f : (x > 88.72f ? 88.72f : x);
  const ExpParts parts = exp_parts(x);
  const float n1 = (parts.n * 0.5f + round_magic) - round_magic;  // n1, n2 in [-75, 64]
  const float n2 = parts.n - n1;
  return parts.exp_r * power_of_two(n1) * power_of_two(n2) * keep;
}

// exp_approx for x <= 0 (or NaN), where it is cheaper: the sigmoid's e^-|x| and the
// softmax's e^(x - max). 2^n for n in [-150, 0] is applied as 2^(n+64), a normal
// float, then 2^-64: one rounding, as in exp_approx, so the results are the same.
// Below -104 the clamped value rounds to 0 by itself. The exponent field of 2^(n+64)
// comes straight from the bits of x log2e + (round_magic + 191): that sum is a float
// in [2^23, 2^24), whose low mantissa bits hold the integer n + 64 + 127 (in [41, 191])
// and which shifted left by 23 leaves exactly those bits as the exponent field, with
// no float-to-int conversion. (Only an exact tie x log2e = k + 1/2 can round to the
// other neighbour than in exp_approx; r then lies at the other end of [-ln2/2, ln2/2]
// and the result is as accurate.)
inline float exp_nonpositive(float x) {
  constexpr float log2e = 1.44269504088896341f;
  constexpr float biased_magic = round_magic + 191.0f;  // 191 = 64 + 127
  constexpr float ln2_high = 0.693359375f;
  constexpr float ln2_low = -2.12194440e-4f;
  x = x < -104.0f ? -104.0f : x;
  const float shifted = x * log2e + biased_magic;
  std::uint32_t bits;
  std::memcpy(&bits, &shifted, sizeof bits);
  const std::uint32_t exponent = bits << 23;  // (n + 64 + 127) << 23
  float scale;
  std::memcpy(&scale, &exponent, sizeof scale);
  const float n = shifted - biased_magic;
  return exp_of_reduced((x - n * ln2_high) - n * ln2_low) * scale * 5.42101086e-20f;  // 2^-64
}

// -|x|: x with its sign bit set (one vector instruction; a compare and select are three).
inline float minus_magnitude(float x) {
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  bits |= 0x80000000u;
  float result;
  std::memcpy(&result, &bits, sizeof result);
  return result;
}

// Whether x's sign bit is set (x < 0, -0 and negative NaNs): a vector select can take
// the sign bits as its mask directly.
inline bool sign_bit(float x) {
  std::int32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits < 0;
}

// 1 / (1 + e^-x) for x >= 0, e^x / (1 + e^x) otherwise: no overflow, full relative
// precision on both sides. The numerator is chosen before the one division (no
// multiplication after it, one rounding fewer). For x = -0 either form gives 1/2.
inline float sigmoid_from_exp(float x, float e) {  // e = e^-|x|
  const float numerator = sign_bit(x) ? e : 1.0f;
  return numerator / (1.0f + e);
}

inline float sigmoid_approx(float x) { return sigmoid_from_exp(x, exp_nonpositive(minus_magnitude(x))); }

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

// log(1 + e) for e in [0, 1] (the softplus term log(1 + e^-|z|) of a loss from
// logits), by Cephes logf's reduction and polynomial: with f = e below sqrt(2) - 1,
// log(1 + f) = f - f^2/2 + f^3 P(f), and f is e itself, so no rounding of 1 + e is
// lost; above, 1 + e = 2 (1 + f) with f = (e - 1) / 2 in [-0.29, 0], and ln 2 is
// added in two parts as in exp_approx. About 1-2 ulp.
inline float log1p_unit(float e) {
  const bool halve = e > 0.41421356f;
  const float f = halve ? (e - 1.0f) * 0.5f : e;
  const float k = halve ? 1.0f : 0.0f;
  const float f2 = f * f;
  const float f4 = f2 * f2;
  // P(f) = c0 + c1 f + ... + c8 f^8 by Estrin's scheme (see exp_of_reduced)
  const float p01 = -2.4999993993e-1f * f + 3.3333331174e-1f;
  const float p23 = -1.6668057665e-1f * f + 2.0000714765e-1f;
  const float p45 = -1.2420140846e-1f * f + 1.4249322787e-1f;
  const float p67 = -1.1514610310e-1f * f + 1.1676998740e-1f;
  const float p = (p23 * f2 + p01) + f4 * ((p67 * f2 + p45) + f4 * 7.0376836292e-2f);
  float y = p * f * f2;
  y += -2.12194440e-4f * k;
  y += -0.5f * f2;
  return (f + y) + 0.693359375f * k;
}

// e^x - 1 for x <= 0 (or NaN), without the cancellation of exp(x) - 1 near 0 (ELU and SELU):
// with x = n ln2 + r as in exp_approx, e^x - 1 = 2^n (e^r - 1) + (2^n - 1), where e^r - 1 is the
// polynomial of exp_of_reduced without its leading 1 and 2^n - 1 is exact for n in [-24, 0].
// Below -30 the result is -1 in float (e^-30 ~ 9e-14), so x is clamped there and n >= -44.
inline float expm1_nonpositive(float x) {
  constexpr float log2e = 1.44269504088896341f;
  constexpr float ln2_high = 0.693359375f;
  constexpr float ln2_low = -2.12194440e-4f;
  x = x < -30.0f ? -30.0f : x;
  const float n = (x * log2e + round_magic) - round_magic;
  const float r = (x - n * ln2_high) - n * ln2_low;
  const float r2 = r * r;
  const float p01 = 1.6666665459e-1f * r + 5.0000001201e-1f;  // exp_of_reduced's polynomial
  const float p23 = 8.3334519073e-3f * r + 4.1665795894e-2f;
  const float p45 = 1.9875691500e-4f * r + 1.3981999507e-3f;
  const float exp_r_minus_1 = ((p45 * r2 + p23) * r2 + p01) * r2 + r;
  const float scale = power_of_two(n);
  return scale * exp_r_minus_1 + (scale - 1.0f);
}

// e^x with IEEE overflow: +inf above ln(FLT_MAX) (the largest float x whose e^x is finite is
// 88.7228317f), as std::exp and Keras's exponential give, where exp_approx saturates at 88.72.
inline float exp_overflowing(float x) {
  constexpr float largest = 88.7228317f;
  const float keep = x >= -104.0f ? 1.0f : 0.0f;
  const bool overflow = x > largest;
  x = x < -104.0f ? -104.0f : (x > largest ? largest : x);
  const ExpParts parts = exp_parts(x);
  const float n1 = (parts.n * 0.5f + round_magic) - round_magic;
  const float n2 = parts.n - n1;
  const float value = parts.exp_r * power_of_two(n1) * power_of_two(n2) * keep;
  return overflow ? __builtin_inff() : value;
}

// The standard normal distribution function Phi(x) = (1 + erf(x / sqrt 2)) / 2 (exact GELU),
// given e = e^(-x^2 / 2), with Cephes erff / erfcf's polynomials in t = |x| / sqrt 2: erf(t) =
// t T(t^2) for t < 1; erfc(t) = e^-t^2 (1/t) P(1/t^2) for 1 <= t < 2 and (1/t) R(1/t^2) above.
// The lower tail is Phi(x) = erfc(|t|) / 2 itself, so it keeps its relative precision
// (Phi(-10) = 7.6e-24) where 1 + erf would cancel to 0.
inline float normal_cdf(float x, float e) {
  constexpr float sqrt_half = 0.707106781186547524f;
  const float a = x < 0.0f ? -x : x;
  const float t = a * sqrt_half;
  const float z = t * t;
  float p = 7.853861353153693e-5f;  // erf(t) / t
  p = p * z - 8.010193625184903e-4f;
  p = p * z + 5.188327685732524e-3f;
  p = p * z - 2.685381193529856e-2f;
  p = p * z + 1.128358514861418e-1f;
  p = p * z - 3.761262582423300e-1f;
  p = p * z + 1.128379165726710e+0f;
  const float central = 0.5f + 0.5f * (p * x * sqrt_half);
  const float q = 1.0f / t;
  const float y = q * q;
  float near = 2.326819970068386e-2f;  // P, 1 <= t < 2
  near = near * y - 1.387039388740657e-1f;
  near = near * y + 3.687424674597105e-1f;
  near = near * y - 5.824733027278666e-1f;
  near = near * y + 6.210004621745983e-1f;
  near = near * y - 4.944515323274145e-1f;
  near = near * y + 3.404879937665872e-1f;
  near = near * y - 2.741127028184656e-1f;
  near = near * y + 5.638259427386472e-1f;
  float far = -1.047766399936249e+1f;  // R, t >= 2
  far = far * y + 1.297719955372516e+1f;
  far = far * y - 7.495518717768503e+0f;
  far = far * y + 2.921019019210786e+0f;
  far = far * y - 1.015265279202700e+0f;
  far = far * y + 4.218463358204948e-1f;
  far = far * y - 2.820767439740514e-1f;
  far = far * y + 5.641895067754075e-1f;
  const float half_erfc = 0.5f * e * q * (t < 2.0f ? near : far);
  const float tail = x < 0.0f ? half_erfc : 1.0f - half_erfc;
  return t < 1.0f ? central : tail;
}

// y = e^(x - shift) for the n values of a softmax row shifted by its maximum, so every
// exponent is <= 0: the numerators of Softmax and of the softmax cross-entropy from logits.
// One loop, compiled for AVX2 and the baseline (cpu_dispatch.hpp), defined in builtin_activations.cpp;
// the sum is taken by the caller, apart, so that the exps vectorise.
void exp_shifted(const float* x, float* y, std::size_t n, float shift);

}  // namespace xdense::detail
