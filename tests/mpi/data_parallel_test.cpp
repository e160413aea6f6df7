// Sequential::fit() and evaluate() over MPI_COMM_WORLD, run by ctest under mpirun with 1, 2 and 3
// processes. Every process also trains the same model alone (no communicator): the data-parallel
// model must equal it to float rounding, and every process must hold the same bits.
//
// Every test calls the same collectives in the same order on every process: failures are EXPECTs
// (an ASSERT that returns early on one process would leave the others waiting).

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "xdense/xdense.hpp"

namespace xdense {
namespace {

std::shared_ptr<Communicator> world() {
  static const std::shared_ptr<Communicator> communicator = mpi_world();
  return communicator;
}

struct Data {
  Matrix x;
  Matrix y;
};

// Two noisy interleaved classes over `features` inputs; the same on every process (fixed seed).
Data classification(std::size_t samples, std::size_t features, std::uint64_t seed) {
  Rng rng(seed);
  Data d{Matrix::from_shape({samples, features}), Matrix::from_shape({samples, 1})};
  for (std::size_t r = 0; r < samples; ++r) {
    double score = 0.0;
    for (std::size_t c = 0; c < features; ++c) {
      const float v = static_cast<float>(rng.uniform(-2.0, 2.0));
      d.x(r, c) = v;
      score += (c % 2 == 0 ? 1.0 : -0.7) * v + 0.3 * v * v * (c == 0);
    }
    d.y(r, 0) = score + rng.uniform(-0.5, 0.5) > 0.2 ? 1.0f : 0.0f;
  }
  return d;
}

Sequential binary_model(std::uint64_t seed, DenseOptions hidden = {}) {
  Sequential model(seed);
  model.add(std::make_unique<Dense>(12, 0, std::move(hidden))).add("relu");
  model.add(std::make_unique<Dense>(1)).add("sigmoid");
  return model;
}

std::vector<float> flat(const Sequential& model) {
  std::vector<float> all;
  for (const auto& w : model.get_weights()) all.insert(all.end(), w.begin(), w.end());
  return all;
}

double max_difference(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double worst = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(double(a[i]) - double(b[i])));
  return worst;
}

// True on every process when every process holds exactly process 0's `values`.
bool same_on_every_process(const std::vector<double>& values) {
  const auto all = world()->allgather(values);
  bool same = true;
  for (const auto& other : all) {
    same = same && other.size() == all[0].size() &&
           std::memcmp(other.data(), all[0].data(), other.size() * sizeof(double)) == 0;
  }
  return same;
}

std::vector<double> as_doubles(const std::vector<float>& v) { return {v.begin(), v.end()}; }

std::vector<double> history_values(const History& h) {
  std::vector<double> values;
  for (const EpochLog& log : h.epochs) {
    values.push_back(log.loss);
    for (const auto& m : log.metrics) values.push_back(m.second);
    values.push_back(log.val_loss);
    for (const auto& m : log.val_metrics) values.push_back(m.second);
  }
  return values;
}

void report(const char* what, double difference) {
  if (world()->rank() == 0) {
    std::printf("[ measured ] %s on %zu processes: max |difference| %.3g\n", what, world()->size(), difference);
  }
}

TEST(DataParallel, TrainsTheModelOneProcessTrains) {
  const Data d = classification(203, 6, 11);  // 203 rows, batch 16: an uneven last batch
  FitOptions options;
  options.epochs = 6;
  options.batch_size = 16;
  options.validation_split = 0.2;
  options.seed = 5;

  Sequential alone = binary_model(3);
  alone.compile("binary_crossentropy", "adam", {"accuracy", "auc", "precision"});
  const History h1 = alone.fit(d.x, d.y, options);

  Sequential together = binary_model(3);
  together.compile("binary_crossentropy", "adam", {"accuracy", "auc", "precision"});
  options.communicator = world();
  const History hn = together.fit(d.x, d.y, options);

  const double difference = max_difference(flat(alone), flat(together));
  report("weights after 6 epochs of adam", difference);
  EXPECT_LE(difference, 2e-5);
  const std::vector<double> a = history_values(h1), b = history_values(hn);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-4 * std::max(1.0, std::fabs(a[i]))) << i;
  EXPECT_TRUE(same_on_every_process(as_doubles(flat(together))));
  EXPECT_TRUE(same_on_every_process(b));
}

TEST(DataParallel, TheSameSeedGivesTheSameBits) {
  const Data d = classification(150, 5, 12);
  FitOptions options;
  options.epochs = 3;
  options.batch_size = 20;
  options.seed = 9;
  options.communicator = world();
  Sequential first = binary_model(1), second = binary_model(1);
  first.compile("binary_crossentropy", "adam");
  second.compile("binary_crossentropy", "adam");
  first.fit(d.x, d.y, options);
  second.fit(d.x, d.y, options);
  const std::vector<float> a = flat(first), b = flat(second);
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)));
}

TEST(DataParallel, WeightsPenaltiesAndMomentumMatchOneProcess) {
  const Data d = classification(120, 4, 13);
  std::vector<float> sample_weight(120);
  for (std::size_t i = 0; i < sample_weight.size(); ++i) sample_weight[i] = 0.5f + static_cast<float>(i % 4);
  FitOptions options;
  options.epochs = 4;
  options.batch_size = 25;
  options.seed = 2;
  options.sample_weight = sample_weight;
  options.validation_split = 0.25;
  DenseOptions penalised;
  penalised.kernel_regularizer = l2(0.01);
  Sequential alone = binary_model(4, penalised), together = binary_model(4, penalised);
  alone.compile(make_loss("binary_crossentropy"), make_optimizer("sgd", Config{{"learning_rate", 0.05}, {"momentum", 0.9}}));
  together.compile(make_loss("binary_crossentropy"),
                   make_optimizer("sgd", Config{{"learning_rate", 0.05}, {"momentum", 0.9}}));
  const History h1 = alone.fit(d.x, d.y, options);
  options.communicator = world();
  const History hn = together.fit(d.x, d.y, options);
  const double difference = max_difference(flat(alone), flat(together));
  report("weights with sample weights, l2 and momentum", difference);
  EXPECT_LE(difference, 2e-5);
  EXPECT_NEAR(h1.epochs.back().loss, hn.epochs.back().loss, 1e-5);
  EXPECT_NEAR(h1.epochs.back().val_loss, hn.epochs.back().val_loss, 1e-5);
  EXPECT_TRUE(same_on_every_process(as_doubles(flat(together))));
}

TEST(DataParallel, BatchesSmallerThanTheGroupLeaveSomeProcessesWithoutRows) {
  const Data d = classification(31, 3, 14);
  FitOptions options;
  options.epochs = 2;
  options.batch_size = 2;  // with 3 processes one holds no row of each batch
  options.seed = 8;
  Sequential alone = binary_model(6), together = binary_model(6);
  alone.compile("binary_crossentropy", "rmsprop");
  together.compile("binary_crossentropy", "rmsprop");
  alone.fit(d.x, d.y, options);
  options.communicator = world();
  together.fit(d.x, d.y, options);
  const double difference = max_difference(flat(alone), flat(together));
  report("weights with batches of 2", difference);
  EXPECT_LE(difference, 2e-5);
}

TEST(DataParallel, EachProcessMayHoldOnlyItsRows) {
  const Data d = classification(97, 5, 15);
  FitOptions options;
  options.epochs = 3;
  options.batch_size = 10;
  options.seed = 4;
  options.validation_split = 0.3;
  options.communicator = world();
  Sequential whole = binary_model(2), part = binary_model(2);
  whole.compile("binary_crossentropy", "adam", {"accuracy", "auc"});
  part.compile("binary_crossentropy", "adam", {"accuracy", "auc"});
  const History hw = whole.fit(d.x, d.y, options);

  const RowRange mine = shard_rows(97, world()->rank(), world()->size());
  Matrix x = Matrix::from_shape({mine.count, 5}), y = Matrix::from_shape({mine.count, 1});
  std::memcpy(x.data(), d.x.data() + mine.first * 5, mine.count * 5 * sizeof(float));
  std::memcpy(y.data(), d.y.data() + mine.first, mine.count * sizeof(float));
  options.total_samples = 97;
  options.first_sample = mine.first;
  const History hp = part.fit(x, y, options);
  // The same rows in the same batches on the same process: the same bits.
  const std::vector<float> a = flat(whole), b = flat(part);
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)));
  EXPECT_EQ(history_values(hw), history_values(hp));
}

TEST(DataParallel, EvaluateCombinesEveryProcesssRows) {
  const Data d = classification(90, 4, 16);
  Sequential model = binary_model(7);
  model.compile("binary_crossentropy", "adam", {"accuracy", "auc", "recall"});
  FitOptions options;
  options.epochs = 2;
  model.fit(d.x, d.y, options);  // alone: the same model on every process
  const Evaluation whole = model.evaluate(d.x, d.y);
  const RowRange mine = shard_rows(90, world()->rank(), world()->size());
  Matrix x = Matrix::from_shape({mine.count, 4}), y = Matrix::from_shape({mine.count, 1});
  std::memcpy(x.data(), d.x.data() + mine.first * 4, mine.count * 4 * sizeof(float));
  std::memcpy(y.data(), d.y.data() + mine.first, mine.count * sizeof(float));
  const Evaluation combined = model.evaluate(x, y, *world());
  EXPECT_EQ(combined.samples, 90u);
  EXPECT_NEAR(combined.loss, whole.loss, 1e-6);
  EXPECT_DOUBLE_EQ(combined.metric("accuracy"), whole.metric("accuracy"));
  EXPECT_NEAR(combined.metric("auc"), whole.metric("auc"), 1e-12);
  EXPECT_DOUBLE_EQ(combined.metric("recall"), whole.metric("recall"));
}

TEST(DataParallel, DropoutAndBatchNormalizationKeepEveryProcessAlike) {
  const Data d = classification(160, 6, 17);
  Sequential model(3);
  model.add(std::make_unique<Dense>(16)).add(std::make_unique<BatchNormalization>()).add("relu");
  model.add(std::make_unique<Dropout>(0.3)).add(std::make_unique<Dense>(1)).add("sigmoid");
  model.compile("binary_crossentropy", "adam");
  FitOptions options;
  options.epochs = 4;
  options.batch_size = 16;
  options.seed = 1;
  options.communicator = world();
  const History h = model.fit(d.x, d.y, options);
  EXPECT_LT(h.epochs.back().loss, h.epochs.front().loss);
  // Moving statistics averaged, gradients summed: every process ends with the same weights.
  EXPECT_TRUE(same_on_every_process(as_doubles(flat(model))));
}

TEST(DataParallel, EarlyStoppingStopsEveryProcessAtTheSameEpoch) {
  const Data d = classification(140, 4, 18);
  FitOptions options;
  options.epochs = 60;
  options.batch_size = 16;
  options.seed = 3;
  options.validation_split = 0.3;
  EarlyStoppingOptions stop;
  stop.patience = 2;
  stop.min_delta = 1e-3;
  stop.restore_best_weights = true;
  auto alone_stop = std::make_shared<EarlyStopping>(stop), together_stop = std::make_shared<EarlyStopping>(stop);
  Sequential alone = binary_model(5), together = binary_model(5);
  alone.compile("binary_crossentropy", "adam");
  together.compile("binary_crossentropy", "adam");
  options.callbacks = {alone_stop};
  const History h1 = alone.fit(d.x, d.y, options);
  options.callbacks = {together_stop};
  options.communicator = world();
  const History hn = together.fit(d.x, d.y, options);
  EXPECT_EQ(h1.epochs.size(), hn.epochs.size());
  EXPECT_EQ(alone_stop->stopped_epoch(), together_stop->stopped_epoch());
  EXPECT_TRUE(same_on_every_process({static_cast<double>(hn.epochs.size())}));
  EXPECT_LE(max_difference(flat(alone), flat(together)), 2e-5);
}

TEST(DataParallel, AnErrorOnOneProcessIsAnErrorOnEvery) {
  if (world()->size() == 1) GTEST_SKIP() << "needs 2 or more processes";
  const Data d = classification(40, 3, 19);
  Sequential model = binary_model(1);
  model.compile("binary_crossentropy", "adam");
  FitOptions options;
  options.communicator = world();
  // Process 1 passes targets of the wrong length; the others' fit() must not wait for it.
  const Matrix y_short = Matrix::from_shape({39, 1});
  const Matrix& y = world()->rank() == 1 ? y_short : d.y;
  try {
    model.fit(d.x, y, options);
    ADD_FAILURE() << "fit() returned on process " << world()->rank();
  } catch (const ShapeError& e) {
    EXPECT_EQ(world()->rank(), 1u) << e.what();
  } catch (const StateError& e) {
    EXPECT_NE(world()->rank(), 1u);
    EXPECT_NE(std::string(e.what()).find("process 1 of"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("39"), std::string::npos) << e.what();
  }
  // Different settings on different processes: refused on every process.
  options.epochs = world()->rank() == 0 ? 2 : 3;
  EXPECT_THROW(model.fit(d.x, d.y, options), InvalidArgument);
}

}  // namespace
}  // namespace xdense
