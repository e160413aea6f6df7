// Tests of include/xdense/sequential.hpp: end-to-end gradients, learning on real
// data, determinism, history, summary and caller errors.

#include "xdense/sequential.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "gradient_check.hpp"
#include "xdense/builtin_activations.hpp"
#include "xdense/csv.hpp"
#include "xdense/dense.hpp"
#include "xdense/error.hpp"
#include "xdense/preprocessing.hpp"

namespace xdense {
namespace {

Matrix random_matrix(std::size_t rows, std::size_t cols, Rng& rng, double low = -1.0, double high = 1.0) {
  Matrix m = Matrix::from_shape({rows, cols});
  for (float& v : m) v = static_cast<float>(rng.uniform(low, high));
  return m;
}

std::string data_file(const std::string& name) { return std::string(XDENSE_DATA_DIR) + "/" + name; }

template <class F>
void expect_error_containing(F&& call, const std::string& fragment) {
  try {
    call();
    ADD_FAILURE() << "expected an exception containing '" << fragment << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

// Loss of the whole model on (x, y) as the training step computes it, without an update.
double model_loss(Sequential& model, const Matrix& x, const Matrix& y) {
  return model.evaluate(x, y, x.shape(0)).loss;
}

// Fills every parameter gradient of `model` through one backward pass, without
// changing the weights: an SGD step with a tiny rate would change them, so run the
// step on a copy of the weights and restore them.
void compute_gradients(Sequential& model, const Matrix& x, const Matrix& y) {
  std::vector<std::vector<float>> saved;
  for (const Parameter& p : model.parameters()) saved.emplace_back(p.value, p.value + p.size);
  model.reserve(x.shape(0));
  model.train_step(view(x), view(y));
  for (std::size_t i = 0; i < saved.size(); ++i) {
    std::copy(saved[i].begin(), saved[i].end(), model.parameters()[i].value);
  }
}

void check_model_gradients(Sequential& model, const Matrix& x, const Matrix& y, const std::string& what,
                           double absolute = 2e-4) {
  compute_gradients(model, x, y);
  for (const Parameter& p : model.parameters()) {
    const std::vector<float> analytic(p.gradient, p.gradient + p.size);
    testing::expect_gradient_matches(p.value, analytic.data(), p.size, [&] { return model_loss(model, x, y); },
                                     what + " " + p.name, 1e-2, 1e-2, absolute);
  }
}

// -------------------------------------------------------------- gradients

TEST(SequentialGradient, ThreeLayerTanhSoftmaxCrossEntropyMatchesFiniteDifferences) {
  Rng rng(3);
  Sequential model(11);
  model.add(std::make_unique<Dense>(6)).add("tanh");
  model.add(std::make_unique<Dense>(5)).add("sigmoid");
  model.add(std::make_unique<Dense>(3)).add("softmax");
  model.compile(make_loss("categorical_crossentropy"), std::make_unique<SGD>());
  const Matrix x = random_matrix(4, 4, rng);
  Matrix y = Matrix::from_shape({4, 1});
  y(0, 0) = 0; y(1, 0) = 2; y(2, 0) = 1; y(3, 0) = 2;
  model.build(4);
  ASSERT_TRUE(model.loss_from_logits());
  check_model_gradients(model, x, y, "tanh/sigmoid/softmax");
}

TEST(SequentialGradient, ThreeLayerLeakyReluSigmoidBinaryCrossEntropy) {
  Rng rng(5);
  Sequential model(13);
  model.add(std::make_unique<Dense>(8)).add("leaky_relu(0.2)");
  model.add(std::make_unique<Dense>(8)).add("tanh");
  model.add(std::make_unique<Dense>(1)).add("sigmoid");
  model.compile("binary_crossentropy", "sgd");
  const Matrix x = random_matrix(3, 5, rng);
  Matrix y = Matrix::from_shape({3, 1});
  y(0, 0) = 1; y(1, 0) = 0; y(2, 0) = 1;
  model.build(5);
  check_model_gradients(model, x, y, "leaky_relu/tanh/sigmoid");
}

TEST(SequentialGradient, UnfusedSoftmaxWithMeanSquaredError) {
  // Softmax + MSE does not fuse: the softmax Jacobian-vector product is exercised end to end.
  Rng rng(7);
  Sequential model(17);
  model.add(std::make_unique<Dense>(5)).add("sigmoid");
  model.add(std::make_unique<Dense>(4)).add("tanh");
  model.add(std::make_unique<Dense>(3)).add("softmax");
  model.compile("mse", "sgd");
  const Matrix x = random_matrix(3, 2, rng, -2.0, 2.0);
  Matrix y = Matrix::from_shape({3, 3});
  std::fill(y.begin(), y.end(), 0.0f);
  y(0, 1) = 1; y(1, 0) = 1; y(2, 2) = 1;
  model.build(2);
  EXPECT_FALSE(model.loss_from_logits());
  // MSE gradients are divided by batch * units = 9, so they are small; the loss is
  // O(0.2) and float rounding in it stays below 1e-6 / (2h) = 5e-5: a 2e-5 floor holds.
  check_model_gradients(model, x, y, "softmax+mse", 2e-5);
}

// -------------------------------------------------------------- learning

TEST(SequentialFit, LearnsXorToFullAccuracy) {
  Matrix x = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
  Matrix y = {{0}, {1}, {1}, {0}};
  Sequential model(1);
  model.add(std::make_unique<Dense>(8)).add("tanh");
  model.add(std::make_unique<Dense>(1)).add("sigmoid");
  AdamOptions adam;
  adam.learning_rate = 0.05f;
  model.compile(make_loss("binary_crossentropy"), std::make_unique<Adam>(adam));
  FitOptions options;
  options.epochs = 300;
  options.batch_size = 4;
  const History history = model.fit(x, y, options);
  EXPECT_EQ(history.epochs.size(), 300u);
  const Evaluation e = model.evaluate(x, y);
  EXPECT_EQ(e.accuracy, 1.0);
  EXPECT_LT(e.loss, 0.1);
  EXPECT_EQ(model.predict_classes(x), (std::vector<std::size_t>{0, 1, 1, 0}));
}

TEST(SequentialFit, OnViewsOfTheFirstRowsGivesTheBitsOfACopy) {
  // fit(ConstMatrixView, ...) trains on rows of a larger matrix in place (the CLI holds the
  // validation rows after the training rows): the same weights and history as on copies.
  Rng rng(3);
  const Matrix all = random_matrix(50, 3, rng, -1.0, 1.0);
  Matrix labels = Matrix::from_shape({50, 1});
  for (std::size_t r = 0; r < 50; ++r) labels(r, 0) = all(r, 0) + all(r, 1) > 0.0f ? 1.0f : 0.0f;
  const std::size_t rows = 37;
  const Matrix x = to_matrix(ConstMatrixView{all.data(), rows, 3});
  const Matrix y = to_matrix(ConstMatrixView{labels.data(), rows, 1});
  const auto trained = [&](bool on_views) {
    Sequential model(5);
    model.add(std::make_unique<Dense>(6)).add("relu");
    model.add(std::make_unique<Dense>(1)).add("sigmoid");
    model.compile("binary_crossentropy", "adam", {"accuracy"});
    FitOptions options;
    options.epochs = 3;
    options.batch_size = 8;
    options.validation_split = 0.2;
    options.class_weight = {{0, 1.0}, {1, 2.0}};
    const History history = on_views ? model.fit(ConstMatrixView{all.data(), rows, 3},
                                                 ConstMatrixView{labels.data(), rows, 1}, options)
                                     : model.fit(x, y, options);
    std::vector<double> record;
    for (const EpochLog& epoch : history.epochs) record.insert(record.end(), {epoch.loss, epoch.accuracy, epoch.val_loss});
    for (const auto& weights : model.get_weights()) record.insert(record.end(), weights.begin(), weights.end());
    return record;
  };
  EXPECT_EQ(trained(true), trained(false));
}

// With the loss taken from the logits, train_step() skips the output activation;
// fit()'s training accuracy must still be that of the output probabilities made before
// the batch's update (Keras's rule). One batch of all samples, one epoch: the epoch's
// accuracy is the untrained model's. Random logits near 0 make "p > 0.5" differ from
// thresholds on the logits.
TEST(SequentialFit, TrainingAccuracyIsThatOfTheOutputsBeforeTheUpdate) {
  for (const bool softmax : {false, true}) {
    Rng rng(3);
    Matrix x = Matrix::from_shape({64, 3});
    Matrix y = Matrix::from_shape({64, softmax ? std::size_t{3} : std::size_t{1}});
    for (float& v : x) v = static_cast<float>(rng.normal());
    for (std::size_t r = 0; r < 64; ++r) {
      if (softmax) {
        y(r, r % 3) = 1.0f;
      } else {
        y(r, 0) = x(r, 0) * 0.7f + x(r, 1) > 0.1f ? 1.0f : 0.0f;
      }
    }
    Sequential model(11);
    model.add(std::make_unique<Dense>(5)).add("tanh");
    model.add(std::make_unique<Dense>(softmax ? 3 : 1)).add(softmax ? "softmax" : "sigmoid");
    AdamOptions adam;
    adam.learning_rate = 0.5f;  // large: the update changes many predictions
    model.compile(make_loss(softmax ? "categorical_crossentropy" : "binary_crossentropy"),
                  std::make_unique<Adam>(adam));
    ASSERT_TRUE(model.loss_from_logits());
    model.build(3);
    const double before = model.evaluate(x, y).accuracy;
    FitOptions options;
    options.batch_size = 64;
    options.shuffle = false;
    const History history = model.fit(x, y, options);
    EXPECT_EQ(history.epochs[0].accuracy, before) << (softmax ? "softmax" : "sigmoid");
    EXPECT_NE(model.evaluate(x, y).accuracy, before) << "the update should change some predictions";
  }
}

// One split + standardise + train + test run; returns the held-out accuracy.
double held_out_accuracy(const Dataset& data, double test_fraction, std::uint64_t seed, bool softmax) {
  Split split = train_test_split(data.features, data.labels, test_fraction, seed, /*stratify=*/true);
  Standardizer scaler;
  split.x_train = scaler.fit_transform(split.x_train);  // statistics from the training part only
  split.x_test = scaler.transform(split.x_test);

  Sequential model(seed);
  model.add(std::make_unique<Dense>(16)).add("relu");
  FitOptions options;
  if (softmax) {
    model.add(std::make_unique<Dense>(data.class_names.size())).add("softmax");
    AdamOptions adam;
    adam.learning_rate = 0.01f;
    model.compile(std::make_unique<CategoricalCrossEntropy>(), std::make_unique<Adam>(adam));
    options.epochs = 100;
    options.batch_size = 16;
  } else {
    model.add(std::make_unique<Dense>(1)).add("sigmoid");
    model.compile("binary_crossentropy", "adam");
    options.epochs = 40;
    options.batch_size = 32;
    options.validation_split = 0.1;
  }
  const History history = model.fit(split.x_train, split.y_train, options);
  EXPECT_LT(history.epochs.back().loss, history.epochs.front().loss);
  const Evaluation test = model.evaluate(split.x_test, split.y_test);
  EXPECT_EQ(test.samples, split.x_test.shape(0));
  return test.accuracy;
}

// Accuracy over several seeds (split, initialisation and shuffling all change), so
// the claim does not rest on one lucky seed.
TEST(SequentialFit, BreastCancerSigmoidNetworkReaches95PercentOnHeldOutFifth) {
  const Dataset data = load_csv(data_file("breast_cancer.csv"));
  ASSERT_EQ(data.features.shape(1), 30u);
  double sum = 0.0;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const double accuracy = held_out_accuracy(data, 0.2, seed, false);
    EXPECT_GE(accuracy, 0.93) << "seed " << seed;  // 114 test samples: 0.93 is 8 errors
    sum += accuracy;
  }
  EXPECT_GE(sum / 5, 0.95);
}

TEST(SequentialFit, IrisSoftmaxNetworkReaches93PercentOnHeldOutPart) {
  const Dataset data = load_csv(data_file("iris.csv"));
  ASSERT_EQ(data.class_names, (std::vector<std::string>{"setosa", "versicolor", "virginica"}));
  // The file is sorted by species: a stratified shuffled split keeps every class in both parts.
  double sum = 0.0;
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const double accuracy = held_out_accuracy(data, 0.3, seed, true);  // 45 test samples
    EXPECT_GE(accuracy, 0.88) << "seed " << seed;
    sum += accuracy;
  }
  EXPECT_GE(sum / 5, 0.93);
}

TEST(SequentialFit, SparseAndOneHotTargetsGiveTheSameEvaluation) {
  const Dataset data = load_csv(data_file("iris.csv"));
  Sequential model(3);
  model.add(std::make_unique<Dense>(8)).add("tanh").add(std::make_unique<Dense>(3)).add("softmax");
  model.compile("categorical_crossentropy", "adam");
  FitOptions options;
  options.epochs = 5;
  model.fit(data.features, data.labels, options);
  const Evaluation sparse = model.evaluate(data.features, data.labels);
  const Evaluation dense = model.evaluate(data.features, one_hot(data.labels, 3));
  EXPECT_DOUBLE_EQ(dense.accuracy, sparse.accuracy);
  EXPECT_NEAR(dense.loss, sparse.loss, 1e-6);
}

// -------------------------------------------------------------- determinism

DenseOptions dense_options(const char* kernel_initializer) {
  DenseOptions options;
  options.kernel_initializer = kernel_initializer;
  return options;
}

std::vector<float> trained_weights(std::uint64_t seed) {
  Rng rng(123);
  const Matrix x = random_matrix(64, 3, rng);
  Matrix y = Matrix::from_shape({64, 1});
  for (std::size_t r = 0; r < 64; ++r) y(r, 0) = x(r, 0) * x(r, 1) > 0 ? 1.0f : 0.0f;
  Sequential model;
  model.add(std::make_unique<Dense>(8, 0, dense_options("he_normal"))).add("relu");
  model.add(std::make_unique<Dense>(1)).add("sigmoid");
  model.compile("binary_crossentropy", "adam");
  FitOptions options;
  options.epochs = 5;
  options.batch_size = 10;
  options.validation_split = 0.2;
  options.seed = seed;
  model.fit(x, y, options);
  std::vector<float> weights;
  for (const Parameter& p : model.parameters()) weights.insert(weights.end(), p.value, p.value + p.size);
  return weights;
}

TEST(SequentialDeterminism, SameSeedGivesBitIdenticalWeights) {
  const std::vector<float> a = trained_weights(77);
  const std::vector<float> b = trained_weights(77);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)));
  EXPECT_NE(a, trained_weights(78));
}

// -------------------------------------------------------------- history, predict, summary

TEST(SequentialFit, HistoryRecordsEveryEpochAndCallbacksRun) {
  Rng rng(4);
  const Matrix x = random_matrix(50, 2, rng);
  Matrix y = Matrix::from_shape({50, 1});
  for (std::size_t r = 0; r < 50; ++r) y(r, 0) = x(r, 0) > 0 ? 1.0f : 0.0f;
  Sequential model;
  model.add(std::make_unique<Dense>(1)).add("sigmoid");
  model.compile("binary_crossentropy", "sgd");
  std::size_t batches_seen = 0, epochs_seen = 0;
  FitOptions options;
  options.epochs = 3;
  options.batch_size = 16;  // 40 training rows -> batches of 16, 16, 8
  options.validation_split = 0.2;
  options.on_batch_end = [&](const BatchLog& log) {
    EXPECT_EQ(log.batches, 3u);
    EXPECT_EQ(log.batch, batches_seen % 3 + 1);
    EXPECT_TRUE(std::isfinite(log.loss));
    EXPECT_TRUE(std::isfinite(log.mean_loss));
    EXPECT_GE(log.mean_accuracy, 0.0);
    ++batches_seen;
  };
  options.on_epoch_end = [&](const EpochLog& log) { EXPECT_EQ(log.epoch, ++epochs_seen); };
  const History h = model.fit(x, y, options);
  EXPECT_EQ(batches_seen, 9u);
  EXPECT_EQ(epochs_seen, 3u);
  ASSERT_EQ(h.values("loss").size(), 3u);
  for (const EpochLog& e : h.epochs) {
    EXPECT_GE(e.accuracy, 0.0);
    EXPECT_LE(e.accuracy, 1.0);
    EXPECT_TRUE(std::isfinite(e.val_loss));
    EXPECT_TRUE(std::isfinite(e.val_accuracy));
  }
  // val metrics equal evaluate() on the last 20% of rows, taken before shuffling.
  const Matrix val_x = take_rows(x, {40, 41, 42, 43, 44, 45, 46, 47, 48, 49});
  const Matrix val_y = take_rows(y, {40, 41, 42, 43, 44, 45, 46, 47, 48, 49});
  const Evaluation e = model.evaluate(val_x, val_y);
  EXPECT_NEAR(e.loss, h.epochs.back().val_loss, 1e-9);
  EXPECT_THROW(h.values("precision"), InvalidArgument);
}

TEST(SequentialPredict, MatchesLayerByLayerComputationForAnyBatchSize) {
  Rng rng(8);
  const Matrix x = random_matrix(10, 3, rng);
  Sequential model;
  model.add(std::make_unique<Dense>(4)).add("relu").add(std::make_unique<Dense>(2)).add("softmax");
  model.build(3);
  const Matrix all = model.predict(x, 10);
  const Matrix batched = model.predict(x, 3);  // 3, 3, 3, 1
  ASSERT_EQ(all.shape(0), 10u);
  ASSERT_EQ(all.shape(1), 2u);
  for (std::size_t i = 0; i < all.size(); ++i) EXPECT_FLOAT_EQ(all.data()[i], batched.data()[i]);
  // Independent computation from the weights.
  const auto& d0 = dynamic_cast<const Dense&>(model.layer(0));
  const auto& d1 = dynamic_cast<const Dense&>(model.layer(2));
  for (std::size_t r = 0; r < 10; ++r) {
    double h[4], z[2];
    for (std::size_t j = 0; j < 4; ++j) {
      double s = d0.bias()(j);
      for (std::size_t i = 0; i < 3; ++i) s += double(x(r, i)) * d0.kernel()(i, j);
      h[j] = std::max(0.0, s);
    }
    for (std::size_t j = 0; j < 2; ++j) {
      z[j] = d1.bias()(j);
      for (std::size_t i = 0; i < 4; ++i) z[j] += h[i] * d1.kernel()(i, j);
    }
    const double p1 = 1.0 / (1.0 + std::exp(z[0] - z[1]));
    EXPECT_NEAR(all(r, 1), p1, 1e-5);
  }
}

TEST(SequentialSummary, PrintsKerasStyleTableWithParameterCounts) {
  Sequential model;
  model.add(std::make_unique<Dense>(64, 30)).add("relu");
  model.add(std::make_unique<Dense>(1)).add("sigmoid");
  model.build(30);
  const std::string s = model.summary();
  EXPECT_NE(s.find("Layer (type)"), std::string::npos) << s;
  EXPECT_NE(s.find("dense (Dense)"), std::string::npos) << s;
  EXPECT_NE(s.find("dense_1 (Dense)"), std::string::npos) << s;
  EXPECT_NE(s.find("re_lu (ReLU)"), std::string::npos) << s;
  EXPECT_NE(s.find("(None, 64)"), std::string::npos) << s;
  EXPECT_NE(s.find("1984"), std::string::npos) << s;  // 30*64 + 64
  EXPECT_NE(s.find("Total params: 2,049"), std::string::npos) << s;  // 1984 + 64 + 1
  EXPECT_EQ(model.parameter_count(), 2049u);
}

// -------------------------------------------------------------- caller mistakes

// train_step checks x and y itself: with a loss from the logits the output activation,
// possibly the model's only layer, does not run to check them.
TEST(SequentialErrors, TrainStepRejectsMismatchedShapes) {
  Sequential model(1);
  model.add("sigmoid");
  model.compile("binary_crossentropy", "adam");
  const Matrix x = Matrix::from_shape({4, 3}), y = Matrix::from_shape({4, 3});
  EXPECT_THROW(model.train_step(view(x), view(y)), StateError);  // not built
  model.build(1);
  try {
    model.train_step(view(x), view(y));
    ADD_FAILURE() << "expected ShapeError";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("expected x with 1 columns"), std::string::npos) << e.what();
  }
  Matrix x1 = Matrix::from_shape({4, 1});
  std::fill(x1.begin(), x1.end(), 0.0f);
  const Matrix y_short = Matrix::from_shape({3, 1});
  EXPECT_THROW(model.train_step(view(x1), view(y_short)), ShapeError);
  Matrix y1 = Matrix::from_shape({4, 1});
  std::fill(y1.begin(), y1.end(), 1.0f);
  EXPECT_NEAR(model.train_step(view(x1), view(y1)), std::log(2.0), 1e-6);  // logits 0: p = 1/2
  Sequential uncompiled(1);
  uncompiled.add("sigmoid");
  uncompiled.build(1);
  EXPECT_THROW(uncompiled.train_step(view(x1), view(y1)), StateError);
}

TEST(SequentialErrors, RejectsMistakesWithClearMessages) {
  Matrix x = {{0, 0}, {1, 1}};
  Matrix y = {{0}, {1}};
  Sequential empty;
  expect_error_containing([&] { empty.build(2); }, "no layers");

  Sequential model;
  model.add(std::make_unique<Dense>(3)).add("softmax");
  expect_error_containing([&] { model.fit(x, y); }, "not compiled");
  model.compile("categorical_crossentropy", "adam");
  FitOptions zero_batch;
  zero_batch.batch_size = 0;
  expect_error_containing([&] { model.fit(x, y, zero_batch); }, "batch_size >= 1, received 0");
  Matrix out_of_range = {{0}, {3}};
  expect_error_containing([&] { model.fit(x, out_of_range); }, "received 3");
  Matrix wrong_rows = {{0}};
  expect_error_containing([&] { model.fit(x, wrong_rows); }, "x has 2 samples but y has 1");
  Matrix empty_x = Matrix::from_shape({0, 2});
  Matrix empty_y = Matrix::from_shape({0, 1});
  expect_error_containing([&] { model.fit(empty_x, empty_y); }, "empty");
  model.fit(x, y);
  Matrix three_columns = {{0, 0, 0}};
  expect_error_containing([&] { model.predict(three_columns); }, "expected x with 2 columns");
  expect_error_containing([&] { model.add("relu"); }, "already built");
  FitOptions bad_split;
  bad_split.validation_split = 1.5;
  expect_error_containing([&] { model.fit(x, y, bad_split); }, "validation_split");

  Sequential unknown;
  expect_error_containing([&] { unknown.add("swoosh"); }, "unknown activation 'swoosh'");
  expect_error_containing([&] { unknown.compile("hinge_embedding", "adam"); }, "unknown loss 'hinge_embedding'");
  expect_error_containing([&] { unknown.compile("mse", "lamb"); }, "unknown optimizer 'lamb'");
  expect_error_containing([&] { unknown.compile("mse", "adam", {"kappa"}); }, "unknown metric 'kappa'");

  Sequential one_unit;
  one_unit.add(std::make_unique<Dense>(1)).add("sigmoid");
  one_unit.compile("categorical_crossentropy", "adam");
  expect_error_containing([&] { one_unit.build(2); }, "at least 2");
}

}  // namespace
}  // namespace xdense

namespace xdense {
namespace {

// An identity layer that records the mode of each forward pass.
class ModeProbe final : public Activation {
 public:
  explicit ModeProbe(std::vector<bool>* modes) : modes_(modes) {}
  std::string type_name() const override { return "ModeProbe"; }
  std::string spec() const override { return "mode_probe"; }
  void activate(ConstMatrixView x, MatrixView y) const override {
    modes_->push_back(training());
    std::copy(x.data, x.data + x.size(), y.data);
  }
  void derivative(ConstMatrixView, ConstMatrixView, ConstMatrixView dy, MatrixView dx) const override {
    std::copy(dy.data, dy.data + dy.size(), dx.data);
  }

 private:
  std::vector<bool>* modes_;
};

TEST(SequentialMode, FitTrainsInTrainingModeEvaluateAndPredictInInference) {
  std::vector<bool> modes;
  Sequential model(3);
  model.add(std::make_unique<Dense>(4));
  model.add(std::make_unique<ModeProbe>(&modes));
  model.add(std::make_unique<Dense>(1)).add("sigmoid");
  model.compile("binary_crossentropy", "sgd");
  Matrix x = Matrix::from_shape({8, 2});
  Matrix y = Matrix::from_shape({8, 1});
  for (std::size_t i = 0; i < 8; ++i) {
    x(i, 0) = static_cast<float>(i % 2);
    x(i, 1) = static_cast<float>(i / 4);
    y(i, 0) = static_cast<float>((i % 2) ^ (i / 4));
  }
  FitOptions options;
  options.epochs = 2;
  options.batch_size = 4;
  options.validation_x = &x;
  options.validation_y = &y;
  model.fit(x, y, options);
  // Per epoch: two training steps, then the validation pass (two batches of 4).
  EXPECT_EQ(modes, (std::vector<bool>{true, true, false, false, true, true, false, false}));
  EXPECT_FALSE(model.layer(1).training());  // a fitted model is in inference mode
  modes.clear();
  model.predict(x);
  model.evaluate(x, y);
  EXPECT_EQ(modes, (std::vector<bool>{false, false}));
  modes.clear();
  model.train_step(view(x), view(y));
  EXPECT_EQ(modes, (std::vector<bool>{true}));
}

}  // namespace
}  // namespace xdense
