// What data-parallel loading does on real MPI processes: each process reads only its shard_rows() of
// a file (load_npy_rows), fits the Standardizer over every process's rows (Standardizer::fit(x,
// communicator)) and combines its metrics (partial_state() through allgather, then merge()); every
// process must end with the statistics and results of one process that saw all the rows. Run by
// ctest on 1, 2 and 3 processes (mpi_gtest_main.cpp: every process runs every test).

#include <gtest/gtest.h>
#include <stdlib.h>  // mkdtemp

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "xdense/communicator.hpp"
#include "xdense/metric.hpp"
#include "xdense/mpi.hpp"
#include "xdense/npy.hpp"
#include "xdense/preprocessing.hpp"

namespace xdense {
namespace {

// (rows, cols) with column c around 500 * c, the last column constant.
std::vector<float> features(std::size_t rows, std::size_t cols) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(rows * cols);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      x[r * cols + c] = c + 1 == cols ? 3.5f : 500.0f * static_cast<float>(c) + (1.0f + static_cast<float>(c)) * normal(rng);
    }
  }
  return x;
}

// A folder every process sees: made by process 0, its name sent to the others; removed at the end.
class SharedFolder {
 public:
  explicit SharedFolder(Communicator& world) : world_(world) {
    std::string made;
    if (world.rank() == 0) {
      std::string pattern = ::testing::TempDir() + "xdense_shards_XXXXXX";
      if (mkdtemp(pattern.data()) != nullptr) made = pattern;
    }
    path_ = broadcast_string(world, made);
  }
  ~SharedFolder() {
    world_.barrier();  // every process is done with the files
    if (world_.rank() == 0 && !path_.empty()) std::filesystem::remove_all(path_);
  }
  const std::string& path() const { return path_; }

 private:
  Communicator& world_;
  std::string path_;
};

TEST(DataShards, EachProcessReadsItsRowsAndTheStandardizerIsTheWholeFiles) {
  const auto world = mpi_world();
  SharedFolder folder(*world);
  ASSERT_FALSE(folder.path().empty());
  const std::string file = folder.path() + "/x.npy";
  constexpr std::size_t rows = 1001;  // not a multiple of 2 or 3: uneven shards
  constexpr std::size_t cols = 6;
  const std::vector<float> all = features(rows, cols);
  if (world->rank() == 0) save_npy(file, all.data(), {rows, cols});
  world->barrier();

  const NpyInfo info = npy_info(file);
  ASSERT_EQ(info.rows, rows);
  const RowRange mine = shard_rows(info.rows, world->rank(), world->size());
  const Matrix x = load_npy_rows(file, mine);
  EXPECT_EQ(x.shape(0), mine.count);  // no ASSERT before a collective: the other processes would wait
  if (x.shape(0) == mine.count) {
    EXPECT_EQ(std::memcmp(x.data(), all.data() + mine.first * cols, x.size() * sizeof(float)), 0);
  }

  Standardizer shards;
  shards.fit(x, *world);
  Standardizer whole;
  whole.fit(load_npy(file));
  for (std::size_t c = 0; c < cols; ++c) {
    const float tolerance_mean = 2.0f * std::numeric_limits<float>::epsilon() * std::abs(whole.mean()(c));
    const float tolerance_scale = 2.0f * std::numeric_limits<float>::epsilon() * std::abs(whole.scale()(c));
    EXPECT_NEAR(shards.mean()(c), whole.mean()(c), tolerance_mean) << "column " << c;
    EXPECT_NEAR(shards.scale()(c), whole.scale()(c), tolerance_scale) << "column " << c;
  }
  // The same bits on every process.
  std::vector<double> mine_stats;
  for (std::size_t c = 0; c < cols; ++c) {
    mine_stats.push_back(shards.mean()(c));
    mine_stats.push_back(shards.scale()(c));
  }
  for (const auto& other : world->allgather(mine_stats)) EXPECT_EQ(other, mine_stats);
}

TEST(DataShards, MetricsMergedOverTheProcessesEqualOneMetricOfEveryRow) {
  const auto world = mpi_world();
  constexpr std::size_t rows = 257;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  Matrix scores = Matrix::from_shape({rows, 1});
  Matrix labels = Matrix::from_shape({rows, 1});
  Matrix classes = Matrix::from_shape({rows, 4});
  Matrix class_labels = Matrix::from_shape({rows, 1});
  Matrix values = Matrix::from_shape({rows, 2});
  Matrix truths = Matrix::from_shape({rows, 2});
  for (std::size_t r = 0; r < rows; ++r) {
    scores(r, 0) = std::round(unit(rng) * 50.0f) / 50.0f;
    labels(r, 0) = static_cast<float>(unit(rng) < scores(r, 0));
    for (std::size_t c = 0; c < 4; ++c) classes(r, c) = unit(rng);
    class_labels(r, 0) = static_cast<float>(r % 4);
    for (std::size_t c = 0; c < 2; ++c) {
      truths(r, c) = 100.0f + unit(rng);
      values(r, c) = truths(r, c) + 0.1f * unit(rng);
    }
  }
  struct Case {
    const char* name;
    const Matrix& outputs;
    const Matrix& targets;
  };
  // Process 1 of 3 gets no row: its states are empty (auc) or of 0 samples.
  const RowRange mine = world->size() == 3 && world->rank() == 1 ? RowRange{0, 0}
                        : world->size() == 3                      ? shard_rows(rows, world->rank() / 2, 2)
                                                                  : shard_rows(rows, world->rank(), world->size());
  for (const Case& c : {Case{"auc", scores, labels}, Case{"pr_auc", scores, labels}, Case{"f1", scores, labels},
                        Case{"macro_f1", classes, class_labels}, Case{"accuracy", classes, class_labels},
                        Case{"r2", values, truths}, Case{"rmse", values, truths}}) {
    const std::size_t out_cols = c.outputs.shape(1);
    const std::size_t target_cols = c.targets.shape(1);
    auto whole = make_metric(c.name);
    whole->update(ConstMatrixView(c.outputs.data(), rows, out_cols), ConstMatrixView(c.targets.data(), rows, target_cols));
    auto part = make_metric(c.name);
    part->update(ConstMatrixView(c.outputs.data() + mine.first * out_cols, mine.count, out_cols),
                 ConstMatrixView(c.targets.data() + mine.first * target_cols, mine.count, target_cols));
    const auto states = world->allgather(part->partial_state());
    part->reset();
    for (const auto& state : states) part->merge(state);
    const double merged = part->result();
    if (std::string(c.name) == "r2" || std::string(c.name) == "rmse") {
      EXPECT_NEAR(merged, whole->result(), 1e-12 * std::abs(whole->result())) << c.name;
    } else {
      EXPECT_EQ(merged, whole->result()) << c.name;
    }
    for (const auto& other : world->allgather({merged})) EXPECT_EQ(std::memcmp(&other[0], &merged, sizeof merged), 0) << c.name;
  }
}

}  // namespace
}  // namespace xdense
