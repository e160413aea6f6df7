// Tests of the private vectorisable float functions (src/vector_math.hpp) against long
// double references over dense sweeps of their float arguments: exp, its cheaper
// non-positive form (which must give the very same bits), log1p on [0, 1], sigmoid
// and tanh. Error is counted in units in the last place (ulp) of the float result.

#include "../src/vector_math.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

namespace xdense::detail {
namespace {

float from_bits(std::uint32_t bits) {
  float x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

std::uint32_t bits_of(float x) {
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits;
}

// |got - want| in ulps of the float nearest to want (the smallest denormal for results
// below the normal range, where the spacing is fixed).
double ulps(float got, long double want) {
  const float nearest = static_cast<float>(want);
  const float spacing =
      std::fabs(nearest) < std::numeric_limits<float>::min()
          ? std::numeric_limits<float>::denorm_min()
          : std::nextafter(std::fabs(nearest), std::numeric_limits<float>::infinity()) - std::fabs(nearest);
  return static_cast<double>(std::fabs(static_cast<long double>(got) - want) / spacing);
}

// Calls f(x) for every `stride`-th float from `low` up to `high` (same sign).
template <class F>
void sweep(float low, float high, std::uint32_t stride, F f) {
  const bool negative = low < 0.0f || (low == 0.0f && std::signbit(low));
  std::uint32_t from = bits_of(negative ? high : low), to = bits_of(negative ? low : high);
  for (std::uint32_t b = from; b <= to && b >= from; b += stride) f(from_bits(b));
}

TEST(VectorMath, ExpNonPositiveGivesTheBitsOfExp) {
  sweep(-120.0f, -0.0f, 211, [](float x) { ASSERT_EQ(bits_of(exp_nonpositive(x)), bits_of(exp_approx(x))) << x; });
  EXPECT_EQ(exp_nonpositive(-std::numeric_limits<float>::infinity()), 0.0f);
  EXPECT_TRUE(std::isnan(exp_nonpositive(std::numeric_limits<float>::quiet_NaN())));
}

TEST(VectorMath, ExpWithinOneAndAHalfUlps) {
  double worst = 0.0;
  sweep(-103.0f, -0.0f, 1009, [&](float x) { worst = std::max(worst, ulps(exp_approx(x), std::exp((long double)x))); });
  sweep(0.0f, 88.7f, 1009, [&](float x) { worst = std::max(worst, ulps(exp_approx(x), std::exp((long double)x))); });
  EXPECT_LE(worst, 1.5);  // measured 0.92
  RecordProperty("worst_ulps", std::to_string(worst));
  EXPECT_EQ(exp_approx(-200.0f), 0.0f);
  EXPECT_EQ(exp_approx(0.0f), 1.0f);
}

TEST(VectorMath, Log1pOnTheUnitIntervalWithinTwoUlps) {
  double worst = 0.0;
  sweep(0.0f, 1.0f, 211, [&](float e) { worst = std::max(worst, ulps(log1p_unit(e), std::log1p((long double)e))); });
  EXPECT_LE(worst, 2.0);  // measured 1.35
  RecordProperty("worst_ulps", std::to_string(worst));
  EXPECT_EQ(log1p_unit(0.0f), 0.0f);
}

TEST(VectorMath, SigmoidAndTanhWithinThreeUlps) {
  double sigmoid_worst = 0.0, tanh_worst = 0.0;
  for (float sign : {1.0f, -1.0f}) {
    sweep(0.0f, 40.0f, 1999, [&](float a) {
      const float x = sign * a;
      const long double want = 1.0L / (1.0L + std::exp(-(long double)x));
      sigmoid_worst = std::max(sigmoid_worst, ulps(sigmoid_approx(x), want));
      tanh_worst = std::max(tanh_worst, ulps(tanh_approx(x), std::tanh((long double)x)));
    });
  }
  EXPECT_LE(sigmoid_worst, 3.0);  // measured 2.37
  EXPECT_LE(tanh_worst, 2.0);     // measured 1.18
  RecordProperty("sigmoid_worst_ulps", std::to_string(sigmoid_worst));
  RecordProperty("tanh_worst_ulps", std::to_string(tanh_worst));
  EXPECT_TRUE(std::isnan(sigmoid_approx(std::numeric_limits<float>::quiet_NaN())));
}

// Issue 11: no NaN or infinity from any finite float, the largest and the subnormal ones
// included (every 4099th float of each sign, and the ends of the range).
TEST(VectorMath, FiniteAndBoundedForEveryFiniteFloat) {
  const auto check = [](float x) {
    const float s = sigmoid_approx(x), t = tanh_approx(x), e = exp_nonpositive(minus_magnitude(x));
    ASSERT_TRUE(s >= 0.0f && s <= 1.0f) << x << " -> sigmoid " << s;
    ASSERT_TRUE(t >= -1.0f && t <= 1.0f) << x << " -> tanh " << t;
    ASSERT_TRUE(e >= 0.0f && e <= 1.0f) << x << " -> e^-|x| " << e;
    ASSERT_TRUE(std::isfinite(exp_approx(x))) << x;
    ASSERT_TRUE(std::isfinite(log1p_unit(e))) << x;
    ASSERT_EQ(sigmoid_from_exp(x, e), s) << x;
  };
  constexpr float big = std::numeric_limits<float>::max();
  for (float x : {big, -big, std::numeric_limits<float>::denorm_min(), -std::numeric_limits<float>::denorm_min(),
                  std::numeric_limits<float>::min(), 0.0f, -0.0f}) {
    check(x);
  }
  sweep(0.0f, big, 4099, check);
  sweep(-big, -0.0f, 4099, check);
  EXPECT_EQ(sigmoid_approx(big), 1.0f);
  EXPECT_EQ(sigmoid_approx(-big), 0.0f);
  EXPECT_EQ(tanh_approx(-big), -1.0f);
  EXPECT_EQ(exp_nonpositive(-big - big), 0.0f);  // x - max in a softmax row can overflow to -inf
}

}  // namespace
}  // namespace xdense::detail
