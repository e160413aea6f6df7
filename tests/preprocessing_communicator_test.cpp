// Standardizer::fit(x, communicator): the statistics of every process's rows put together. The
// processes are threads of this test (thread_communicator.hpp: real collectives, each rank waiting
// for the others), so the combination, the agreement of every rank and the errors thrown on every
// rank alike are checked without MPI; the single-process communicator must be fit(x) exactly.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "error_messages.hpp"
#include "thread_communicator.hpp"
#include "xdense/communicator.hpp"
#include "xdense/error.hpp"
#include "xdense/preprocessing.hpp"

namespace xdense {
namespace {

using testing::contains;
using testing::message_of;
using testing::run_ranks;

// (rows, cols) with column c around 1000 * c (far from 0), spread 1 + c; the last column constant.
Matrix features(std::size_t rows, std::size_t cols, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Matrix x = Matrix::from_shape({rows, cols});
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      x(r, c) = c + 1 == cols ? 7.25f : 1000.0f * static_cast<float>(c) + (1.0f + static_cast<float>(c)) * normal(rng);
    }
  }
  return x;
}

// Rows [first, first + count) of x.
Matrix rows_of(const Matrix& x, std::size_t first, std::size_t count) {
  std::vector<std::size_t> rows(count);
  for (std::size_t i = 0; i < count; ++i) rows[i] = first + i;
  return take_rows(x, rows);
}

bool same_bits(const Vector& a, const Vector& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Within 2 float roundings of the value fit() gives on every row at once.
void expect_float_close(const Vector& actual, const Vector& expected, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (std::size_t c = 0; c < actual.size(); ++c) {
    EXPECT_NEAR(actual(c), expected(c), 2.0f * std::numeric_limits<float>::epsilon() * std::abs(expected(c)))
        << what << " of column " << c;
  }
}

// fit() over `shares` rows per rank (0 allowed) equals fit() of all the rows, on every rank alike.
void expect_union_statistics(const std::vector<std::size_t>& shares) {
  std::size_t total = 0;
  for (std::size_t share : shares) total += share;
  const Matrix all = features(total, 4, static_cast<std::uint32_t>(total + shares.size()));
  Standardizer whole;
  whole.fit(all);

  std::vector<Standardizer> fitted(shares.size());
  const auto errors = run_ranks(shares.size(), [&](Communicator& communicator, std::size_t rank) {
    std::size_t first = 0;
    for (std::size_t r = 0; r < rank; ++r) first += shares[r];
    fitted[rank].fit(rows_of(all, first, shares[rank]), communicator);
  });
  std::string label = "shares";
  for (std::size_t share : shares) label += " " + std::to_string(share);
  for (std::size_t rank = 0; rank < shares.size(); ++rank) {
    ASSERT_FALSE(errors[rank]) << label << ": rank " << rank << " threw";
    EXPECT_TRUE(same_bits(fitted[rank].mean(), fitted[0].mean())) << label << ": rank " << rank;
    EXPECT_TRUE(same_bits(fitted[rank].scale(), fitted[0].scale())) << label << ": rank " << rank;
  }
  expect_float_close(fitted[0].mean(), whole.mean(), label + ": mean");
  expect_float_close(fitted[0].scale(), whole.scale(), label + ": scale");
  EXPECT_EQ(fitted[0].scale()(3), 1.0f) << label << ": the constant column";
}

TEST(StandardizerOverProcesses, StatisticsOfEveryProcesssRowsTogether) {
  expect_union_statistics({40});
  expect_union_statistics({20, 21});
  expect_union_statistics({17, 0, 30});   // a process without rows
  expect_union_statistics({0, 0, 0, 5});  // only one process has rows
  expect_union_statistics({1, 1, 1, 1});
}

TEST(StandardizerOverProcesses, TheSingleProcessCommunicatorIsFit) {
  const Matrix x = features(33, 5, 3);
  Standardizer plain;
  plain.fit(x);
  Standardizer alone;
  SingleProcessCommunicator one;
  alone.fit(x, one);
  EXPECT_TRUE(same_bits(alone.mean(), plain.mean()));
  EXPECT_TRUE(same_bits(alone.scale(), plain.scale()));

  Matrix bad = x;
  bad(4, 2) = std::nanf("");
  EXPECT_EQ(message_of<DataError>([&] { alone.fit(bad, one); }),
            "Standardizer::fit: x(4, 2) is NaN/Inf; clean the data first");
  EXPECT_EQ(message_of<DataError>([&] { alone.fit(Matrix::from_shape({0, 3}), one); }),
            "Standardizer::fit: need at least one sample and one feature, got x (0, 3)");
}

// Every rank throws E; returns each rank's message.
template <class E>
std::vector<std::string> messages_of_every_rank(const std::vector<std::exception_ptr>& errors) {
  std::vector<std::string> messages;
  for (std::size_t rank = 0; rank < errors.size(); ++rank) {
    messages.push_back(message_of<E>([&] {
      if (errors[rank]) std::rethrow_exception(errors[rank]);
    }));
  }
  return messages;
}

TEST(StandardizerOverProcesses, ANonFiniteValueOnOneProcessStopsEveryProcess) {
  const auto errors = run_ranks(3, [&](Communicator& communicator, std::size_t rank) {
    Matrix x = features(6, 3, static_cast<std::uint32_t>(rank));
    if (rank == 1) x(2, 0) = INFINITY;
    Standardizer s;
    s.fit(x, communicator);
  });
  const auto messages = messages_of_every_rank<DataError>(errors);
  EXPECT_EQ(messages[1], "Standardizer::fit: x(2, 0) of process 1's rows is NaN/Inf; clean the data first");
  EXPECT_EQ(messages[0], "Standardizer::fit: process 1's rows hold a NaN/Inf value; clean the data first");
  EXPECT_EQ(messages[2], messages[0]);
}

TEST(StandardizerOverProcesses, DifferentColumnCountsStopEveryProcess) {
  const auto errors = run_ranks(3, [&](Communicator& communicator, std::size_t rank) {
    Standardizer s;
    s.fit(features(5, rank == 2 ? 4 : 3, 1), communicator);
  });
  const auto messages = messages_of_every_rank<ShapeError>(errors);
  EXPECT_EQ(messages[2],
            "Standardizer::fit: every process must pass x with the same number of columns, got from 3 to 4 columns "
            "(x (5, 4) on process 2)");
  EXPECT_TRUE(contains(messages[0], "got from 3 to 4 columns (x (5, 3) on process 0)")) << messages[0];
}

TEST(StandardizerOverProcesses, NoRowOnAnyProcessStopsEveryProcess) {
  const auto errors = run_ranks(2, [&](Communicator& communicator, std::size_t) {
    Standardizer s;
    s.fit(Matrix::from_shape({0, 3}), communicator);
  });
  for (const std::string& message : messages_of_every_rank<DataError>(errors)) {
    EXPECT_EQ(message, "Standardizer::fit: need at least one sample and one feature, got x (0, 3) over every process");
  }
}

}  // namespace
}  // namespace xdense
