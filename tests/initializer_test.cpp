#include "xdense/initializer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "xdense/error.hpp"
#include "xdense/random.hpp"

// Statistical checks draw a 200 x 300 kernel (n = 60,000 values) from a fixed seed.
// Tolerances are argued from the sampling error at that n and kept at >= 5 standard
// errors, so they hold for any seed while a wrong formula (a missing factor 2 or 3, the
// wrong fan, a missing truncation correction of 12%) is far outside them.

namespace xdense {
namespace {

constexpr std::size_t fan_in = 200;
constexpr std::size_t fan_out = 300;
constexpr std::size_t count = fan_in * fan_out;

std::vector<float> draw(const std::string& name, std::uint64_t seed, std::size_t in = fan_in,
                        std::size_t out = fan_out, std::size_t n = count) {
  std::vector<float> values(n, -123.0f);  // sentinel: every entry must be overwritten
  Rng rng(seed);
  initialize(name, values.data(), values.size(), in, out, rng);
  return values;
}

struct Moments {
  double mean = 0.0;
  double variance = 0.0;  // population variance
  double max_abs = 0.0;
};

Moments moments(const std::vector<float>& v) {
  Moments m;
  double sum = 0.0;
  for (float x : v) sum += x;
  m.mean = sum / double(v.size());
  double squares = 0.0;
  for (float x : v) {
    squares += (x - m.mean) * (x - m.mean);
    m.max_abs = std::max(m.max_abs, std::abs(double(x)));
  }
  m.variance = squares / double(v.size());
  return m;
}

/// Standard normal CDF, Phi(x) = (1 + erf(x / sqrt 2)) / 2.
long double phi_cdf(long double x) { return 0.5L * (1.0L + std::erf(x / std::sqrt(2.0L))); }

/// Standard deviation of a unit normal truncated to [-2, 2]:
/// Var = 1 - 2 a pdf(a) / (2 Phi(a) - 1) with a = 2, pdf(a) = e^(-a^2/2) / sqrt(2 pi).
long double truncated_unit_stddev() {
  const long double a = 2.0L;
  const long double pdf = std::exp(-a * a / 2) / std::sqrt(2.0L * 3.14159265358979323846264338327950288L);
  return std::sqrt(1.0L - 2.0L * a * pdf / (2.0L * phi_cdf(a) - 1.0L));
}

::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

// ---- uniform ----------------------------------------------------------------------------------

/// U(-l, l): every value within +-l, mean 0, variance l^2 / 3.
/// Sampling error: Var(x^2) = l^4/5 - l^4/9 = 4 l^4 / 45, so the sample variance has
/// standard error sqrt(4/45 / n) l^2 = 1.2e-3 l^2, i.e. 0.37% of l^2/3: tolerance 2.5%.
/// The mean has standard error l / sqrt(3 n) = 2.4e-3 l: tolerance 0.015 l.
void expect_uniform(const std::vector<float>& v, double limit, const std::string& what) {
  const float bound = static_cast<float>(limit);  // values are rounded to float like the limit
  for (float x : v) ASSERT_LE(std::abs(x), bound) << what;
  const Moments m = moments(v);
  EXPECT_NEAR(m.mean, 0.0, 0.015 * limit) << what;
  EXPECT_NEAR(m.variance, limit * limit / 3.0, 0.025 * limit * limit / 3.0) << what;
  // The whole range is used: some values lie in the outer 1% on each side.
  EXPECT_GT(*std::max_element(v.begin(), v.end()), 0.99 * limit) << what;
  EXPECT_LT(*std::min_element(v.begin(), v.end()), -0.99 * limit) << what;
}

TEST(InitializerGlorotUniform, WithinLimitWithUniformVariance) {
  // l = sqrt(6 / (200 + 300)) = sqrt(0.012) = 0.10954...
  const double limit = std::sqrt(6.0 / double(fan_in + fan_out));
  EXPECT_NEAR(limit, 0.109544511501, 1e-11);
  expect_uniform(draw("glorot_uniform", 7), limit, "glorot_uniform");
}

TEST(InitializerHeUniform, WithinLimitWithUniformVariance) {
  // l = sqrt(6 / 200) = sqrt(0.03) = 0.17320...; variance l^2/3 = 2 / fan_in = 0.01.
  const double limit = std::sqrt(6.0 / double(fan_in));
  EXPECT_NEAR(limit, 0.173205080757, 1e-11);
  expect_uniform(draw("he_uniform", 7), limit, "he_uniform");
}

TEST(InitializerHeUniform, IgnoresFanOut) {
  // He scaling depends on fan_in only: same seed and fan_in, other fan_out, same values.
  EXPECT_EQ(draw("he_uniform", 3, fan_in, 10, 500), draw("he_uniform", 3, fan_in, 999, 500));
  EXPECT_NE(draw("he_uniform", 3, fan_in, 10, 500), draw("he_uniform", 3, 20, 10, 500));
}

// ---- truncated normal ----------------------------------------------------------------------

/// Keras truncated normal: the underlying normal has stddev sigma = target / 0.8796..., and is
/// cut at +-2 sigma, so the draws have standard deviation `target`.
/// Checks: |x| <= 2 sigma; the cut is not tighter (some |x| > 1.94 sigma: expected share
/// 2 (Phi(2) - Phi(1.94)) / (2 Phi(2) - 1) = 0.72%, ~430 draws); sample std within 2% of
/// target (the sample variance of this distribution has relative standard error
/// sqrt((kurtosis - 1) / n) ~ 0.5%, so the std ~ 0.25%: 2% is 8 standard errors); the share
/// beyond 1 sigma is 2 (Phi(2) - Phi(1)) / (2 Phi(2) - 1) = 0.2848 (standard error 1.8e-3,
/// tolerance 0.01).
void expect_truncated_normal(const std::vector<float>& v, double target, const std::string& what) {
  const long double unit = truncated_unit_stddev();
  const double sigma = double(target / unit);
  for (float x : v) ASSERT_LE(std::abs(x), static_cast<float>(2.0 * sigma)) << what;
  const Moments m = moments(v);
  EXPECT_GT(m.max_abs, 1.94 * sigma) << what;
  EXPECT_NEAR(std::sqrt(m.variance), target, 0.02 * target) << what;
  EXPECT_NEAR(m.mean, 0.0, 0.02 * target) << what;  // standard error target / sqrt(n) = 0.004 target

  std::size_t beyond_one_sigma = 0;
  for (float x : v) beyond_one_sigma += std::abs(double(x)) > sigma;
  const double expected_share = double(2 * (phi_cdf(2) - phi_cdf(1)) / (2 * phi_cdf(2) - 1));
  EXPECT_NEAR(expected_share, 0.2848, 1e-3);
  EXPECT_NEAR(double(beyond_one_sigma) / double(v.size()), expected_share, 0.01) << what;
}

TEST(InitializerTruncatedNormal, CorrectionConstantIsTheTruncatedStddev) {
  // The constant in initializer.hpp, recomputed from the truncated-normal variance formula.
  EXPECT_NEAR(double(truncated_unit_stddev()), 0.87962566103423978, 1e-12);
}

TEST(InitializerGlorotNormal, TruncatedWithGlorotStddev) {
  // target std sqrt(2 / (200 + 300)) = 0.063245...
  expect_truncated_normal(draw("glorot_normal", 11), std::sqrt(2.0 / double(fan_in + fan_out)), "glorot_normal");
}

TEST(InitializerHeNormal, TruncatedWithHeStddev) {
  // target std sqrt(2 / 200) = 0.1
  expect_truncated_normal(draw("he_normal", 11), std::sqrt(2.0 / double(fan_in)), "he_normal");
}

// ---- constants, determinism, names -------------------------------------------------------------

TEST(InitializerConstants, ZerosAndOnes) {
  for (float x : draw("zeros", 1, 3, 4, 12)) EXPECT_EQ(x, 0.0f);
  for (float x : draw("ones", 1, 3, 4, 12)) EXPECT_EQ(x, 1.0f);
}

TEST(InitializerConstants, DoNotConsumeRandomness) {
  // Constants draw nothing, so the generator continues exactly where it was.
  Rng used(5);
  Rng untouched(5);
  std::vector<float> v(10);
  initialize("zeros", v.data(), v.size(), 2, 5, used);
  initialize("ones", v.data(), v.size(), 2, 5, used);
  EXPECT_EQ(used.next(), untouched.next());
}

TEST(InitializerDeterminism, SameSeedSameValuesOtherSeedOtherValues) {
  for (const std::string name : {"glorot_uniform", "glorot_normal", "he_uniform", "he_normal"}) {
    const std::vector<float> a = draw(name, 42, 20, 30, 600);
    const std::vector<float> b = draw(name, 42, 20, 30, 600);
    const std::vector<float> c = draw(name, 43, 20, 30, 600);
    EXPECT_EQ(a, b) << name;
    std::size_t same = 0;
    for (std::size_t i = 0; i < a.size(); ++i) same += a[i] == c[i];
    EXPECT_LT(same, 10u) << name << ": another seed should give other values";
  }
}

TEST(InitializerNames, KnownNamesAndUnknownNameError) {
  const std::vector<std::string> names = initializer_names();
  EXPECT_EQ(names, (std::vector<std::string>{"glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "zeros",
                                             "ones"}));
  for (const auto& n : names) EXPECT_NO_THROW(check_initializer(n)) << n;

  std::string message;
  try {
    check_initializer("lecun_normal");
    ADD_FAILURE() << "no exception";
  } catch (const InvalidArgument& e) {
    message = e.what();
  }
  EXPECT_TRUE(contains(message, "'lecun_normal'"));
  for (const auto& n : names) EXPECT_TRUE(contains(message, n));

  std::vector<float> v(4, 7.0f);
  Rng rng;
  EXPECT_THROW(initialize("Glorot", v.data(), v.size(), 2, 2, rng), InvalidArgument);
  EXPECT_EQ(v, std::vector<float>(4, 7.0f));
}

}  // namespace
}  // namespace xdense
