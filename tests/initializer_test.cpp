#include "xdense/initializer.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
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
  EXPECT_EQ(names, (std::vector<std::string>{"constant", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform",
                                             "lecun_normal", "lecun_uniform", "ones", "orthogonal", "pytorch",
                                             "random_normal", "random_uniform", "truncated_normal", "variance_scaling",
                                             "zeros"}));
  for (const auto& n : names) EXPECT_NO_THROW(check_initializer(n)) << n;
  // Keras's class names and aliases.
  for (const std::string n : {"GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "LecunNormal", "LecunUniform",
                              "RandomNormal", "RandomUniform", "TruncatedNormal", "Orthogonal", "OrthogonalInitializer",
                              "Constant", "Zeros", "Ones", "VarianceScaling", "normal", "uniform", "zero", "one"}) {
    EXPECT_NO_THROW(check_initializer(n)) << n;
  }
  EXPECT_EQ(make_initializer("HeNormal")->name(), "he_normal");
  EXPECT_EQ(make_initializer("uniform")->name(), "random_uniform");

  std::string message;
  try {
    check_initializer("lecun_magic");
    ADD_FAILURE() << "no exception";
  } catch (const InvalidArgument& e) {
    message = e.what();
  }
  EXPECT_TRUE(contains(message, "'lecun_magic'"));
  for (const auto& n : names) EXPECT_TRUE(contains(message, n)) << n;

  std::vector<float> v(4, 7.0f);
  Rng rng;
  EXPECT_THROW(initialize("Glorot", v.data(), v.size(), 2, 2, rng), InvalidArgument);
  EXPECT_EQ(v, std::vector<float>(4, 7.0f));
}

// ---- the same draws as before initializers were components ------------------------------------

TEST(InitializerDeterminism, DrawsAreThoseXdenseAlwaysMade) {
  // The formulas and draw order of the original initialize(): a seed gives the weights it always gave
  // (the model files and fixtures of tests/fixtures rely on it).
  const std::size_t in = 13, out = 7, n = in * out;
  const double sum = double(in + out);
  const auto uniform = [&](double limit) {
    Rng rng(99);
    std::vector<float> v(n);
    for (float& x : v) x = static_cast<float>(rng.uniform(-limit, limit));
    return v;
  };
  const auto truncated = [&](double stddev) {
    Rng rng(99);
    std::vector<float> v(n);
    for (float& x : v) x = static_cast<float>(rng.truncated_normal(stddev));
    return v;
  };
  constexpr double c = 0.87962566103423978;
  EXPECT_EQ(draw("glorot_uniform", 99, in, out, n), uniform(std::sqrt(6.0 / sum)));
  EXPECT_EQ(draw("he_uniform", 99, in, out, n), uniform(std::sqrt(6.0 / double(in))));
  EXPECT_EQ(draw("glorot_normal", 99, in, out, n), truncated(std::sqrt(2.0 / sum) / c));
  EXPECT_EQ(draw("he_normal", 99, in, out, n), truncated(std::sqrt(2.0 / double(in)) / c));
}

// ---- the Keras 3 initializers -------------------------------------------------------------------

std::vector<float> draw_spec(const Config& identifier, std::uint64_t seed, std::size_t in = fan_in,
                             std::size_t out = fan_out, std::size_t n = count) {
  std::vector<float> values(n, -123.0f);
  Rng rng(seed);
  InitializerSpec::from_config(identifier)->fill(values.data(), values.size(), in, out, rng);
  return values;
}

Config object(const std::string& class_name, const Config& config) {
  return {{"class_name", class_name}, {"config", config}};
}

TEST(InitializerRandomNormal, MeanAndStddev) {
  // Defaults N(0, 0.05): standard errors of the mean 0.05 / sqrt(n) = 2e-4 and of the std 0.3%.
  Moments m = moments(draw("random_normal", 3));
  EXPECT_NEAR(m.mean, 0.0, 1.5e-3);
  EXPECT_NEAR(std::sqrt(m.variance), 0.05, 0.02 * 0.05);
  m = moments(draw_spec(object("RandomNormal", {{"mean", 1.5}, {"stddev", 2.0}}), 3));
  EXPECT_NEAR(m.mean, 1.5, 0.06);
  EXPECT_NEAR(std::sqrt(m.variance), 2.0, 0.04);
  EXPECT_GT(m.max_abs, 1.5 + 3 * 2.0);  // not truncated: n = 60,000 draws reach beyond 3 sigma
}

TEST(InitializerRandomUniform, BoundsAndVariance) {
  expect_uniform(draw("random_uniform", 5), 0.05, "random_uniform");
  // U(1, 3) is 2 + U(-1, 1).
  std::vector<float> v = draw_spec(object("RandomUniform", {{"minval", 1.0}, {"maxval", 3.0}}), 5);
  for (float& x : v) x -= 2.0f;
  for (float& x : v) x = std::min(std::max(x, -1.0f), 1.0f);  // rounding of x - 2 near the bounds
  expect_uniform(v, 1.0, "random_uniform(1, 3)");
}

TEST(InitializerTruncatedNormal, CutAtTwoOfItsStddev) {
  // Keras's TruncatedNormal(stddev=s) draws N(0, s) cut at 2 s: its draws have std 0.8796 s.
  expect_truncated_normal(draw("truncated_normal", 9), 0.05 * double(truncated_unit_stddev()), "truncated_normal");
  std::vector<float> v = draw_spec(object("TruncatedNormal", {{"mean", -1.0}, {"stddev", 0.5}}), 9);
  for (float& x : v) x += 1.0f;
  expect_truncated_normal(v, 0.5 * double(truncated_unit_stddev()), "truncated_normal(-1, 0.5)");
}

TEST(InitializerLecun, FanInScaleOne) {
  expect_uniform(draw("lecun_uniform", 7), std::sqrt(3.0 / double(fan_in)), "lecun_uniform");
  expect_truncated_normal(draw("lecun_normal", 7), std::sqrt(1.0 / double(fan_in)), "lecun_normal");
}

TEST(InitializerVarianceScaling, ItsFixedFormsAndTheUntruncatedNormal) {
  const auto scaling = [](double scale, const char* mode, const char* distribution) {
    return object("VarianceScaling", {{"scale", scale}, {"mode", mode}, {"distribution", distribution}, {"seed", nullptr}});
  };
  // glorot_* and he_* are variance scaling with fixed arguments: the same bits from the same seed.
  EXPECT_EQ(draw_spec(scaling(1.0, "fan_avg", "uniform"), 4, 20, 30, 600), draw("glorot_uniform", 4, 20, 30, 600));
  EXPECT_EQ(draw_spec(scaling(2.0, "fan_in", "truncated_normal"), 4, 20, 30, 600), draw("he_normal", 4, 20, 30, 600));
  EXPECT_EQ(draw_spec(scaling(2.0, "fan_in", "normal"), 4, 20, 30, 600), draw("he_normal", 4, 20, 30, 600));
  // Defaults: scale 1, fan_in, truncated normal = lecun_normal.
  EXPECT_EQ(draw("variance_scaling", 4, 20, 30, 600), draw("lecun_normal", 4, 20, 30, 600));
  // untruncated_normal with fan_out: N(0, sqrt(3 / 300) = 0.1).
  const Moments m = moments(draw_spec(scaling(3.0, "fan_out", "untruncated_normal"), 4));
  EXPECT_NEAR(m.mean, 0.0, 0.02 * 0.1);
  EXPECT_NEAR(std::sqrt(m.variance), 0.1, 0.02 * 0.1);
  EXPECT_GT(m.max_abs, 3.5 * 0.1);
}

/// (rows, cols) row-major weight w: max |(W^T W or W W^T) - gain^2 I| over the smaller side.
double orthogonality_error(const std::vector<float>& w, std::size_t rows, std::size_t cols, double gain) {
  const bool columns = rows >= cols;  // columns orthonormal when the weight is tall
  const std::size_t n = columns ? cols : rows;
  double worst = 0.0;
  for (std::size_t a = 0; a < n; ++a) {
    for (std::size_t b = 0; b < n; ++b) {
      double dot = 0.0;
      const std::size_t length = columns ? rows : cols;
      for (std::size_t k = 0; k < length; ++k) {
        dot += columns ? double(w[k * cols + a]) * w[k * cols + b] : double(w[a * cols + k]) * w[b * cols + k];
      }
      worst = std::max(worst, std::abs(dot - (a == b ? gain * gain : 0.0)));
    }
  }
  return worst;
}

TEST(InitializerOrthogonal, OrthonormalColumnsOrRowsScaledByGain) {
  // Floats carry 2^-24 relative error per value: a dot of 60 of them is off by ~1e-6.
  EXPECT_LT(orthogonality_error(draw("orthogonal", 2, 60, 40, 2400), 60, 40, 1.0), 1e-5);  // W^T W = I
  EXPECT_LT(orthogonality_error(draw("orthogonal", 2, 40, 60, 2400), 40, 60, 1.0), 1e-5);  // W W^T = I
  EXPECT_LT(orthogonality_error(draw("orthogonal", 2, 25, 25, 625), 25, 25, 1.0), 1e-5);
  const std::vector<float> scaled = draw_spec(object("Orthogonal", {{"gain", 2.0}, {"seed", nullptr}}), 2, 60, 40, 2400);
  EXPECT_LT(orthogonality_error(scaled, 60, 40, 2.0), 4e-5);
  // Same draws and sign correction, scaled: gain 2 is exactly twice gain 1.
  const std::vector<float> unit = draw("orthogonal", 2, 60, 40, 2400);
  for (std::size_t i = 0; i < unit.size(); ++i) ASSERT_EQ(scaled[i], 2.0f * unit[i]) << i;
  // A bias (count != fan_in * fan_out) cannot be orthogonal.
  std::vector<float> bias(40);
  Rng rng(1);
  EXPECT_THROW(make_initializer("orthogonal")->fill(bias.data(), bias.size(), 60, 40, rng), InvalidArgument);
}

TEST(InitializerPyTorch, UniformWithinOneOverSqrtFanIn) {
  // torch.nn.Linear: kaiming_uniform_(a=sqrt(5)) for the weight, U(+-1/sqrt(fan_in)) for the bias.
  expect_uniform(draw("pytorch", 6), 1.0 / std::sqrt(double(fan_in)), "pytorch kernel");
  // The bias gets the kernel's fans (Dense passes them), so the same bound.
  const std::vector<float> bias = draw("pytorch", 6, fan_in, fan_out, fan_out);
  for (float x : bias) EXPECT_LE(std::abs(x), static_cast<float>(1.0 / std::sqrt(double(fan_in))));
}

TEST(InitializerConstants, ConstantValue) {
  for (float x : draw_spec(object("Constant", {{"value", 0.25}}), 1, 3, 4, 12)) EXPECT_EQ(x, 0.25f);
  for (float x : draw("constant", 1, 3, 4, 12)) EXPECT_EQ(x, 0.0f);
  EXPECT_EQ(InitializerSpec::from_config(object("Constant", {{"value", 0.25}})).to_config(),
            (Config{{"class_name", "constant"}, {"config", {{"value", 0.25}}}}));
}

TEST(InitializerSeed, AnIntegerSeedGivesTheInitializerItsOwnGenerator) {
  const Config seeded = object("GlorotUniform", {{"seed", 17}});
  // The same values on every fill, whatever the model's generator: Keras's seeded initializers.
  EXPECT_EQ(draw_spec(seeded, 1, 20, 30, 600), draw_spec(seeded, 2, 20, 30, 600));
  // Those of a generator seeded 17, and the model's generator is left untouched.
  EXPECT_EQ(draw_spec(seeded, 1, 20, 30, 600), draw("glorot_uniform", 17, 20, 30, 600));
  Rng used(5);
  Rng untouched(5);
  std::vector<float> v(600);
  InitializerSpec::from_config(seeded)->fill(v.data(), v.size(), 20, 30, used);
  EXPECT_EQ(used.next(), untouched.next());
  // Another seed, other values; null draws from the model's generator.
  EXPECT_NE(draw_spec(seeded, 1, 20, 30, 600), draw_spec(object("GlorotUniform", {{"seed", 18}}), 1, 20, 30, 600));
  EXPECT_EQ(draw_spec(object("GlorotUniform", {{"seed", nullptr}}), 3, 20, 30, 600), draw("glorot_uniform", 3, 20, 30, 600));
  for (const std::string name : {"random_normal", "random_uniform", "truncated_normal", "orthogonal", "pytorch",
                                 "he_normal", "variance_scaling"}) {
    const Config with_seed = object(name, {{"seed", 5}});
    EXPECT_EQ(draw_spec(with_seed, 1, 20, 30, 600), draw_spec(with_seed, 2, 20, 30, 600)) << name;
    EXPECT_EQ(make_initializer(name, {{"seed", 5}})->config().at("seed"), 5) << name;
  }
}

TEST(InitializerSpec, NamesObjectsAndTheirRoundTrip) {
  // Keras 3's to_json() form, and Keras 2's.
  const Config keras3 = {{"module", "keras.initializers"},
                         {"class_name", "RandomNormal"},
                         {"config", {{"mean", 0.0}, {"stddev", 0.1}, {"seed", nullptr}}},
                         {"registered_name", nullptr}};
  const InitializerSpec normal = InitializerSpec::from_config(keras3);
  EXPECT_EQ(normal.name(), "random_normal");
  EXPECT_EQ(normal.to_config(),
            (Config{{"class_name", "random_normal"}, {"config", {{"mean", 0.0}, {"stddev", 0.1}, {"seed", nullptr}}}}));
  EXPECT_EQ(InitializerSpec::from_config(normal.to_config()), normal);
  // Default settings are written as the name, as xdense always wrote them.
  EXPECT_EQ(InitializerSpec::from_config(object("GlorotUniform", {{"seed", nullptr}})).to_config(), "glorot_uniform");
  EXPECT_EQ(InitializerSpec::from_config(object("Zeros", Config::object())).to_config(), "zeros");
  EXPECT_EQ(InitializerSpec::from_config("HeNormal").to_config(), "he_normal");
  EXPECT_EQ(InitializerSpec::from_config(object("RandomNormal", {{"stddev", 0.05}})).to_config(), "random_normal");
  EXPECT_EQ(InitializerSpec("he_normal"), InitializerSpec::from_config("HeNormal"));
  EXPECT_NE(InitializerSpec("he_normal"), InitializerSpec("he_uniform"));
  const Config seeded = object("he_uniform", {{"seed", 3}});
  EXPECT_EQ(InitializerSpec::from_config(seeded).to_config(), seeded);
  // An Initializer of one's own.
  const InitializerSpec own(std::shared_ptr<const Initializer>(make_initializer("constant", {{"value", 2.0}})));
  EXPECT_EQ(own.name(), "constant");
}

// A user's initializer with a required setting: registered, made, written and read back as an object.
class Fill final : public Initializer {
 public:
  explicit Fill(float value) : value_(value) {}
  std::string name() const override { return "test_fill"; }
  Config config() const override { return {{"value", value_}}; }
  void fill(float* values, std::size_t count, std::size_t, std::size_t, Rng&) const override {
    std::fill(values, values + count, value_);
  }

 private:
  float value_;
};

TEST(InitializerRegistry, AUsersInitializerWithARequiredSetting) {
  register_initializer(
      "test_fill",
      [](const Config& config) -> std::unique_ptr<Initializer> {
        if (!config.contains("value")) throw InvalidArgument("test_fill: \"value\" is required");
        return std::make_unique<Fill>(config.at("value").get<float>());
      },
      {"TestFill"});
  const InitializerSpec spec = InitializerSpec::from_config(object("TestFill", {{"value", 1.5}}));
  EXPECT_EQ(spec.to_config(), (Config{{"class_name", "test_fill"}, {"config", {{"value", 1.5}}}}));
  EXPECT_EQ(InitializerSpec::from_config(spec.to_config()), spec);
  EXPECT_EQ(draw_spec(spec.to_config(), 1, 2, 2, 4), std::vector<float>(4, 1.5f));
  EXPECT_THROW(InitializerSpec("test_fill"), InvalidArgument);
}

TEST(InitializerSpec, ErrorsSayWhatIsWrong) {
  const auto message = [](const Config& identifier) -> std::string {
    try {
      InitializerSpec::from_config(identifier);
    } catch (const InvalidArgument& e) {
      return e.what();
    }
    return "no exception";
  };
  EXPECT_TRUE(contains(message("nope"), "unknown initializer 'nope'"));
  EXPECT_TRUE(contains(message(object("GlorotUnicorn", Config::object())), "'GlorotUnicorn'"));
  EXPECT_TRUE(contains(message(3), "expected a name or an object"));
  EXPECT_TRUE(contains(message(Config{{"config", Config::object()}}), "expected a name or an object"));
  EXPECT_TRUE(contains(message({{"class_name", "Zeros"}, {"shape", 3}}), "unknown key 'shape'"));
  EXPECT_TRUE(contains(message({{"class_name", "Zeros"}, {"config", 3}}), "\"config\" to be an object"));
  EXPECT_TRUE(contains(message(object("RandomNormal", {{"stdev", 0.1}})), "\"stdev\""));
  EXPECT_TRUE(contains(message(object("RandomNormal", {{"stddev", -0.1}})), "\"stddev\": expected a non-negative"));
  EXPECT_TRUE(contains(message(object("RandomUniform", {{"minval", 1.0}, {"maxval", 0.0}})), "maxval >= minval"));
  EXPECT_TRUE(contains(message(object("VarianceScaling", {{"mode", "fan_sum"}})), "fan_in, fan_out or fan_avg"));
  EXPECT_TRUE(contains(message(object("VarianceScaling", {{"distribution", "cauchy"}})), "'cauchy'"));
  EXPECT_TRUE(contains(message(object("VarianceScaling", {{"scale", 0.0}})), "\"scale\": expected a positive"));
  EXPECT_TRUE(contains(message(object("HeNormal", {{"seed", -1}})), "\"seed\": expected a non-negative integer"));
  EXPECT_TRUE(contains(message(object("HeNormal", {{"seed", "x"}})), "\"seed\""));
  EXPECT_TRUE(contains(message(object("HeNormal", {{"scale", 2.0}})), "\"scale\""));  // fixed: no scale
  EXPECT_TRUE(contains(message(object("Zeros", {{"value", 1.0}})), "\"value\""));
  EXPECT_THROW(InitializerSpec(std::shared_ptr<const Initializer>()), InvalidArgument);
}

}  // namespace
}  // namespace xdense
