#include "xdense/random.hpp"

#include "xdense/error.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

// Statistical checks use fixed seeds and n = 100,000 draws; each tolerance is stated in
// standard errors (>= 5) or as a chi-square quantile far in the tail, so it holds for
// any seed while a biased formula is far outside it.

namespace xdense {
namespace {

constexpr std::size_t draws = 100000;

// ---- determinism --------------------------------------------------------------------------

TEST(RngDeterminism, SameSeedSameSequence) {
  Rng a(123);
  Rng b(123);
  Rng c(124);
  std::size_t equal_to_other_seed = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::uint64_t x = a.next();
    ASSERT_EQ(x, b.next()) << "draw " << i;
    equal_to_other_seed += x == c.next();
  }
  EXPECT_EQ(equal_to_other_seed, 0u);
}

TEST(RngDeterminism, SeedRestartsTheSequence) {
  Rng rng(9);
  std::vector<std::uint64_t> first(20);
  for (auto& x : first) x = rng.next();
  rng.uniform();
  rng.normal();
  rng.seed(9);
  for (std::size_t i = 0; i < first.size(); ++i) EXPECT_EQ(rng.next(), first[i]) << i;

  Rng other(1);
  other.seed(9);
  EXPECT_EQ(other.next(), first[0]);
}

TEST(RngDeterminism, DefaultSeedIs42) {
  Rng by_default;
  Rng explicit_42(42);
  EXPECT_EQ(Rng::default_seed, 42u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(by_default.next(), explicit_42.next());
}

TEST(RngDeterminism, NextIsMersenneTwister64) {
  // The first output of mt19937_64 seeded with 5489 (its default seed), as published with
  // the reference implementation (mt19937-64.c, init_genrand64(5489)).
  Rng rng(5489);
  EXPECT_EQ(rng.next(), 14514284786278117030ULL);
  // And the same stream as the standard engine thereafter.
  Rng again(2024);
  std::mt19937_64 engine(2024);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(again.next(), engine()) << i;
}

TEST(RngDeterminism, SameStreamAsStdMt19937_64OverManyRefills) {
  // xdense's engine refills its 312 words in vector registers: every word of ten refills, for
  // seeds that exercise the top and bottom bits, is the standard engine's.
  for (const std::uint64_t seed : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{42}, std::uint64_t{5489},
                                   std::uint64_t{0x8000000000000000ULL}, std::numeric_limits<std::uint64_t>::max()}) {
    Rng rng(seed);
    std::mt19937_64 engine(seed);
    for (int i = 0; i < 312 * 10 + 7; ++i) ASSERT_EQ(rng.next(), engine()) << "seed " << seed << ", draw " << i;
    rng.seed(seed + 1);
    engine.seed(seed + 1);
    for (int i = 0; i < 400; ++i) ASSERT_EQ(rng.next(), engine()) << "reseeded " << seed + 1 << ", draw " << i;
  }
}

TEST(RngDeterminism, StateTextIsStdMt19937_64sBothWays) {
  // Checkpoints written before xdense had its own engine hold std::mt19937_64's operator<< text:
  // state() writes that same text, and set_state() reads it and goes on with the same draws.
  for (const int drawn : {0, 1, 311, 312, 313, 1000}) {
    Rng rng(77);
    std::mt19937_64 engine(77);
    for (int i = 0; i < drawn; ++i) {
      rng.next();
      engine();
    }
    std::ostringstream text;
    text << engine;
    EXPECT_EQ(rng.state(), text.str()) << drawn;
    Rng restored(1);
    restored.set_state(text.str());
    std::mt19937_64 from_text;
    std::istringstream(rng.state()) >> from_text;
    for (int i = 0; i < 700; ++i) {
      const std::uint64_t expected = engine();
      ASSERT_EQ(restored.next(), expected) << drawn << " " << i;
      ASSERT_EQ(from_text(), expected) << drawn << " " << i;
    }
  }
}

TEST(RngDeterminism, SetStateRefusesTextThatIsNotAState) {
  Rng rng(3);
  const std::string good = rng.state();
  const std::uint64_t first = Rng(3).next();
  std::string words_only = good.substr(0, good.rfind(' '));  // 312 words, no position
  for (const std::string& bad : {std::string(), std::string("1 2 3"), words_only, words_only + " 313",
                                 words_only + " x", std::string("state")}) {
    EXPECT_THROW(rng.set_state(bad), InvalidArgument) << bad.substr(0, 40);
  }
  EXPECT_EQ(rng.next(), first);  // a refused text leaves the state as it was
}

// ---- uniform ------------------------------------------------------------------------------

TEST(RngUniform, InUnitIntervalWithFiftyThreeBits) {
  // uniform() = (next() >> 11) * 2^-53, checked against a twin generator.
  Rng rng(77);
  Rng twin(77);
  for (int i = 0; i < 1000; ++i) {
    const double u = rng.uniform();
    ASSERT_EQ(u, std::ldexp(double(twin.next() >> 11), -53));
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

TEST(RngUniform, MeanHalfVarianceTwelfth) {
  // U[0,1): mean 1/2 with standard error sqrt(1/12/n) = 9.1e-4 (tolerance 5e-3);
  // variance 1/12 with standard error sqrt(1/180/n) = 2.4e-4 (tolerance 1.5e-3).
  Rng rng(1);
  double sum = 0.0;
  double squares = 0.0;
  for (std::size_t i = 0; i < draws; ++i) {
    const double u = rng.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    squares += u * u;
  }
  const double mean = sum / draws;
  EXPECT_NEAR(mean, 0.5, 5e-3);
  EXPECT_NEAR(squares / draws - mean * mean, 1.0 / 12.0, 1.5e-3);
}

TEST(RngUniform, RangeOverload) {
  Rng rng(3);
  double low_seen = 1e9;
  double high_seen = -1e9;
  for (int i = 0; i < 10000; ++i) {
    const double x = rng.uniform(-2.5, 4.0);
    ASSERT_GE(x, -2.5);
    ASSERT_LT(x, 4.0);
    low_seen = std::min(low_seen, x);
    high_seen = std::max(high_seen, x);
  }
  // Spread over the whole interval (gaps at each end ~ 6.5 / 10,000).
  EXPECT_LT(low_seen, -2.49);
  EXPECT_GT(high_seen, 3.99);
}

// ---- below --------------------------------------------------------------------------------

TEST(RngBelow, WithinRange) {
  Rng rng(8);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(rng.below(1), 0u);
  for (std::uint64_t n : {2ULL, 3ULL, 7ULL, 1000ULL, (1ULL << 63) + 1}) {
    for (int i = 0; i < 1000; ++i) ASSERT_LT(rng.below(n), n) << "n = " << n;
  }
}

TEST(RngBelow, ChiSquareOverTenValues) {
  // 100,000 draws of below(10): 10,000 expected per value. The statistic
  // sum (observed - expected)^2 / expected has 9 degrees of freedom (mean 9, sd 4.2);
  // P(chi2_9 > 33.7) = 1e-4, so 33.7 is the bound.
  Rng rng(2718);
  std::vector<double> observed(10, 0.0);
  for (std::size_t i = 0; i < draws; ++i) observed[rng.below(10)] += 1.0;
  const double expected = double(draws) / 10.0;
  double chi2 = 0.0;
  for (double o : observed) chi2 += (o - expected) * (o - expected) / expected;
  EXPECT_LT(chi2, 33.7);
}

TEST(RngBelow, NoModuloBiasForLargeBound) {
  // n = 3 * 2^62: a plain next() % n would land in [0, 2^62) half the time (the top quarter
  // of 64-bit values wraps onto it) instead of a third. With rejection, each third of
  // [0, n) gets 1/3; standard error sqrt(2/9 / n) = 1.5e-3, tolerance 0.01.
  const std::uint64_t n = 3ULL << 62;
  Rng rng(31);
  std::size_t low_third = 0;
  for (std::size_t i = 0; i < draws; ++i) {
    const std::uint64_t r = rng.below(n);
    ASSERT_LT(r, n);
    low_third += r < (1ULL << 62);
  }
  EXPECT_NEAR(double(low_third) / double(draws), 1.0 / 3.0, 0.01);
}

TEST(RngBelow, DrawsWhatTheTwoDivisionRejectionRuleDraws) {
  // below() tests acceptance with one division; every model trained before that must shuffle
  // alike, so its draws must equal the rule "accept r < UINT64_MAX - UINT64_MAX % n" on the same
  // mt19937_64 stream. Bounds where rejection happens often (just above 2^63: about half the draws),
  // powers of two (where that rule also rejects the top whole block) and the shuffle's small ones.
  const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  std::vector<std::uint64_t> bounds{1, 2, 3, 10, 32, 1000, 60000, 1ULL << 40, (1ULL << 63) - 1, 1ULL << 63,
                                    (1ULL << 63) + 1, 3ULL << 62, max - 1, max};
  for (std::uint64_t n : bounds) {
    Rng rng(77);
    std::mt19937_64 engine(77);
    std::size_t rejected = 0;
    for (int i = 0; i < 2000; ++i) {
      std::uint64_t r = engine();
      for (; r >= max - max % n; r = engine()) ++rejected;
      ASSERT_EQ(rng.below(n), r % n) << "n = " << n << ", draw " << i;
    }
    // The rejecting path ran where it should: about half the draws for bounds just above 2^63.
    if (n == (1ULL << 63) + 1) {
      EXPECT_GT(rejected, 500u);
    }
  }
}

// ---- shuffle ------------------------------------------------------------------------------

std::vector<std::size_t> identity(std::size_t n) {
  std::vector<std::size_t> v(n);
  std::iota(v.begin(), v.end(), std::size_t{0});
  return v;
}

TEST(RngShuffle, IsADeterministicPermutation) {
  Rng a(5);
  Rng b(5);
  Rng c(6);
  std::vector<std::size_t> x = identity(100);
  std::vector<std::size_t> y = identity(100);
  std::vector<std::size_t> z = identity(100);
  a.shuffle(x);
  b.shuffle(y);
  c.shuffle(z);
  EXPECT_EQ(x, y);
  EXPECT_NE(x, z);
  EXPECT_NE(x, identity(100));  // probability 1/100! of failing for a correct shuffle
  std::vector<std::size_t> sorted = x;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, identity(100));
}

TEST(RngShuffle, EmptyAndSingle) {
  Rng rng(1);
  std::vector<std::size_t> empty;
  rng.shuffle(empty);
  EXPECT_TRUE(empty.empty());
  std::vector<std::size_t> one = {7};
  rng.shuffle(one);
  EXPECT_EQ(one, std::vector<std::size_t>{7});
}

TEST(RngShuffle, AllPermutationsOfThreeEquallyLikely) {
  // 60,000 shuffles of {0, 1, 2}: 10,000 expected per permutation; chi-square with
  // 5 degrees of freedom, P(chi2_5 > 25.7) = 1e-4. A classic off-by-one Fisher-Yates
  // (j drawn from all n positions at every step) gives 27 equally likely paths over 6
  // permutations, a chi-square in the thousands.
  Rng rng(99);
  std::map<std::vector<std::size_t>, double> counts;
  const std::size_t shuffles = 60000;
  for (std::size_t i = 0; i < shuffles; ++i) {
    std::vector<std::size_t> v = identity(3);
    rng.shuffle(v);
    counts[v] += 1.0;
  }
  ASSERT_EQ(counts.size(), 6u);
  const double expected = double(shuffles) / 6.0;
  double chi2 = 0.0;
  for (const auto& entry : counts) chi2 += (entry.second - expected) * (entry.second - expected) / expected;
  EXPECT_LT(chi2, 25.7);
}

// ---- normal -------------------------------------------------------------------------------

TEST(RngNormal, StandardMoments) {
  // N(0,1): mean standard error 1/sqrt(n) = 3.2e-3 (tolerance 0.016); variance standard error
  // sqrt(2/n) = 4.5e-3 (tolerance 0.025); share within +-1 is erf(1/sqrt 2) = 0.682689 with
  // standard error 1.5e-3 (tolerance 0.008).
  Rng rng(4);
  double sum = 0.0;
  double squares = 0.0;
  std::size_t within_one = 0;
  for (std::size_t i = 0; i < draws; ++i) {
    const double z = rng.normal();
    ASSERT_TRUE(std::isfinite(z));
    sum += z;
    squares += z * z;
    within_one += std::abs(z) <= 1.0;
  }
  const double mean = sum / draws;
  EXPECT_NEAR(mean, 0.0, 0.016);
  EXPECT_NEAR(squares / draws - mean * mean, 1.0, 0.025);
  EXPECT_NEAR(double(within_one) / draws, std::erf(1.0 / std::sqrt(2.0)), 0.008);
}

TEST(RngNormal, TruncatedWithinTwoStddev) {
  // truncated_normal(0.5): |x| <= 1 always; values reach close to the cut (share beyond
  // 0.95 is about 2 (Phi(2) - Phi(1.9)) / 0.9545 = 1.2%); std 0.5 * 0.87963 (the std of a
  // unit normal cut at +-2), standard error ~0.25% (tolerance 2%).
  Rng rng(12);
  const double stddev = 0.5;
  double squares = 0.0;
  double sum = 0.0;
  double largest = 0.0;
  for (std::size_t i = 0; i < draws; ++i) {
    const double x = rng.truncated_normal(stddev);
    ASSERT_LE(std::abs(x), 2.0 * stddev);
    largest = std::max(largest, std::abs(x));
    sum += x;
    squares += x * x;
  }
  EXPECT_GT(largest, 0.95 * 2.0 * stddev);
  const double mean = sum / draws;
  EXPECT_NEAR(mean, 0.0, 0.02 * stddev);
  EXPECT_NEAR(std::sqrt(squares / draws - mean * mean), stddev * 0.87962566103423978, 0.02 * stddev * 0.88);
}

}  // namespace
}  // namespace xdense
