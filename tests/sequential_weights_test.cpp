// Tests of sample and class weights in include/xdense/sequential.hpp (FitOptions::sample_weight,
// FitOptions::class_weight, the weighted train_step and evaluate): Keras's weighted loss
// sum(w_i loss_i) / batch size and its gradient, checked by hand and by finite differences.

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "error_messages.hpp"
#include "gradient_check.hpp"
#include "xdense/dense.hpp"
#include "xdense/error.hpp"
#include "xdense/preprocessing.hpp"
#include "xdense/sequential.hpp"

namespace xdense {
namespace {

using testing::contains;
using testing::message_of;

// Three samples of two features; the weights of the batch: 0.5, 2 and 0 (a sample that counts for nothing).
const Matrix x3 = {{0.5f, -1.0f}, {1.5f, 0.25f}, {-0.75f, 0.5f}};
const std::vector<float> w3 = {0.5f, 2.0f, 0.0f};

// A one-layer model Dense(units) [+ activation] with fixed weights: kernel (2, units), bias (units).
Sequential linear_model(std::size_t units, const std::string& activation, const std::string& loss) {
  Sequential model;
  model.add(std::make_unique<Dense>(units));
  if (!activation.empty()) model.add(activation);
  model.compile(loss, "sgd", {});
  model.build(2);
  std::vector<float> kernel(2 * units), bias(units);
  for (std::size_t i = 0; i < kernel.size(); ++i) kernel[i] = 0.3f * static_cast<float>(i + 1) - 0.7f;
  for (std::size_t i = 0; i < units; ++i) bias[i] = 0.1f * static_cast<float>(i) - 0.05f;
  model.set_weights({kernel, bias});
  return model;
}

// The logits z = x W + b of the model above, in double, and the gradient of the weighted loss
// from dL/dz (rows, units): dW = x^T dz, db = sum of the rows.
std::vector<std::vector<double>> logits(const Sequential& model, std::size_t units) {
  const std::vector<std::vector<float>> w = model.get_weights();
  std::vector<std::vector<double>> z(3, std::vector<double>(units));
  for (std::size_t r = 0; r < 3; ++r)
    for (std::size_t u = 0; u < units; ++u)
      z[r][u] = double(x3(r, 0)) * w[0][u] + double(x3(r, 1)) * w[0][units + u] + w[1][u];
  return z;
}

void expect_parameter_gradients(const Sequential& model, const std::vector<std::vector<double>>& dz,
                                const std::string& what) {
  const std::size_t units = dz[0].size();
  const std::vector<Parameter>& p = model.parameters();
  ASSERT_EQ(p.size(), 2u);
  for (std::size_t j = 0; j < 2; ++j) {
    for (std::size_t u = 0; u < units; ++u) {
      double expected = 0.0;
      for (std::size_t r = 0; r < 3; ++r) expected += double(x3(r, j)) * dz[r][u];
      EXPECT_NEAR(p[0].gradient[j * units + u], expected, 1e-6) << what << " dW[" << j << "," << u << "]";
    }
  }
  for (std::size_t u = 0; u < units; ++u) {
    double expected = 0.0;
    for (std::size_t r = 0; r < 3; ++r) expected += dz[r][u];
    EXPECT_NEAR(p[1].gradient[u], expected, 1e-6) << what << " db[" << u << "]";
  }
}

// One weighted step's loss and gradients, the weights put back afterwards.
double weighted_gradients(Sequential& model, const Matrix& y, const std::vector<float>& weights) {
  const std::vector<std::vector<float>> saved = model.get_weights();
  model.reserve(3);
  const double loss = model.train_step(view(x3), view(y), weights.data());
  model.set_weights(saved);
  return loss;
}

// Finite differences on evaluate()'s weighted loss.
void expect_finite_differences(Sequential& model, const Matrix& y, const std::string& what) {
  for (const Parameter& p : model.parameters()) {
    const std::vector<float> analytic(p.gradient, p.gradient + p.size);
    testing::expect_gradient_matches(
        p.value, analytic.data(), p.size, [&] { return model.evaluate(x3, y, w3).loss; }, what + " " + p.name, 1e-2,
        1e-2, 1e-5);
  }
}

// -------------------------------------------------------------- loss and gradient

TEST(SequentialWeights, MeanSquaredErrorWeightedLossAndGradientByHand) {
  Sequential model = linear_model(1, "", "mse");
  const Matrix y = {{0.5f}, {-1.0f}, {2.0f}};
  const auto z = logits(model, 1);
  // L = sum_i w_i (p_i - y_i)^2 / 3;  dL/dp_i = 2 w_i (p_i - y_i) / 3.
  double expected_loss = 0.0;
  std::vector<std::vector<double>> dz(3, std::vector<double>(1));
  for (std::size_t r = 0; r < 3; ++r) {
    const double d = z[r][0] - y(r, 0);
    expected_loss += w3[r] * d * d / 3.0;
    dz[r][0] = 2.0 * w3[r] * d / 3.0;
  }
  EXPECT_NEAR(model.evaluate(x3, y, w3).loss, expected_loss, 1e-6);
  EXPECT_NEAR(weighted_gradients(model, y, w3), expected_loss, 1e-6);
  expect_parameter_gradients(model, dz, "mse");
  expect_finite_differences(model, y, "mse");
}

TEST(SequentialWeights, BinaryCrossEntropyFromLogitsWeightedLossAndGradientByHand) {
  Sequential model = linear_model(1, "sigmoid", "binary_crossentropy");
  ASSERT_TRUE(model.loss_from_logits());
  const Matrix y = {{1}, {0}, {1}};
  const auto z = logits(model, 1);
  // l_i = log(1 + e^z) - z y;  dL/dz_i = w_i (sigmoid(z_i) - y_i) / 3.
  double expected_loss = 0.0;
  std::vector<std::vector<double>> dz(3, std::vector<double>(1));
  for (std::size_t r = 0; r < 3; ++r) {
    const double v = z[r][0];
    expected_loss += w3[r] * (std::log1p(std::exp(v)) - v * y(r, 0)) / 3.0;
    dz[r][0] = w3[r] * (1.0 / (1.0 + std::exp(-v)) - y(r, 0)) / 3.0;
  }
  EXPECT_NEAR(model.evaluate(x3, y, w3).loss, expected_loss, 1e-6);
  EXPECT_NEAR(weighted_gradients(model, y, w3), expected_loss, 1e-6);
  expect_parameter_gradients(model, dz, "bce");
  expect_finite_differences(model, y, "bce");
}

TEST(SequentialWeights, CategoricalCrossEntropyFromLogitsWeightedLossAndGradientByHand) {
  for (const bool sparse : {true, false}) {
    Sequential model = linear_model(3, "softmax", "categorical_crossentropy");
    const std::vector<std::size_t> classes = {2, 0, 1};
    Matrix y = sparse ? Matrix::from_shape({3, 1}) : Matrix::from_shape({3, 3});
    std::fill(y.begin(), y.end(), 0.0f);
    for (std::size_t r = 0; r < 3; ++r) {
      if (sparse) {
        y(r, 0) = static_cast<float>(classes[r]);
      } else {
        y(r, classes[r]) = 1.0f;
      }
    }
    const auto z = logits(model, 3);
    // l_i = logsumexp(z_i) - z_i[c_i];  dL/dz_i = w_i (softmax(z_i) - onehot(c_i)) / 3.
    double expected_loss = 0.0;
    std::vector<std::vector<double>> dz(3, std::vector<double>(3));
    for (std::size_t r = 0; r < 3; ++r) {
      double sum = 0.0;
      for (double v : z[r]) sum += std::exp(v);
      expected_loss += w3[r] * (std::log(sum) - z[r][classes[r]]) / 3.0;
      for (std::size_t c = 0; c < 3; ++c) dz[r][c] = w3[r] * (std::exp(z[r][c]) / sum - (c == classes[r])) / 3.0;
    }
    const std::string what = sparse ? "sparse cce" : "one-hot cce";
    EXPECT_NEAR(model.evaluate(x3, y, w3).loss, expected_loss, 1e-6) << what;
    EXPECT_NEAR(weighted_gradients(model, y, w3), expected_loss, 1e-6) << what;
    expect_parameter_gradients(model, dz, what);
    expect_finite_differences(model, y, what);
  }
}

TEST(SequentialWeights, UnfusedLossWeightedGradientMatchesFiniteDifferences) {
  // Sigmoid output with MSE: no loss from logits, the output activation's backward pass runs.
  Sequential model = linear_model(1, "sigmoid", "mse");
  ASSERT_FALSE(model.loss_from_logits());
  const Matrix y = {{1}, {0}, {0.25f}};
  weighted_gradients(model, y, w3);
  expect_finite_differences(model, y, "sigmoid + mse");
}

TEST(SequentialWeights, WeightTwoEqualsTheSampleTwiceForTheGradient) {
  // Batch (a, b, c) with weights (1, 2, 1): sum = l_a + 2 l_b + l_c over 3. Batch (a, b, b, c): the
  // same sum over 4. The gradients are in the ratio 4 / 3.
  Sequential weighted = linear_model(3, "softmax", "sparse_categorical_crossentropy");
  Sequential twice = linear_model(3, "softmax", "sparse_categorical_crossentropy");
  const Matrix y = {{2}, {0}, {1}};
  const double loss3 = weighted_gradients(weighted, y, {1.0f, 2.0f, 1.0f});
  const Matrix x4 = take_rows(x3, {0, 1, 1, 2});
  const Matrix y4 = take_rows(y, {0, 1, 1, 2});
  const std::vector<std::vector<float>> saved = twice.get_weights();
  twice.reserve(4);
  const double loss4 = twice.train_step(view(x4), view(y4));
  twice.set_weights(saved);
  EXPECT_NEAR(loss3 * 3.0, loss4 * 4.0, 1e-6);
  for (std::size_t i = 0; i < weighted.parameters().size(); ++i) {
    const Parameter& a = weighted.parameters()[i];
    const Parameter& b = twice.parameters()[i];
    for (std::size_t k = 0; k < a.size; ++k) EXPECT_NEAR(a.gradient[k] * 3.0, b.gradient[k] * 4.0, 1e-6) << a.name;
  }
}

TEST(SequentialWeights, UnitWeightsAndNoWeightsAgree) {
  Sequential a = linear_model(1, "sigmoid", "binary_crossentropy");
  Sequential b = linear_model(1, "sigmoid", "binary_crossentropy");
  Sequential c = linear_model(1, "sigmoid", "binary_crossentropy");
  const Matrix y = {{1}, {0}, {1}};
  a.reserve(3);
  b.reserve(3);
  c.reserve(3);
  const double plain = a.train_step(view(x3), view(y));
  const double none = b.train_step(view(x3), view(y), nullptr);  // the unweighted step, bit for bit
  const double ones = c.train_step(view(x3), view(y), std::vector<float>(3, 1.0f).data());
  EXPECT_EQ(plain, none);
  EXPECT_NEAR(plain, ones, 1e-6);
  EXPECT_EQ(a.get_weights(), b.get_weights());
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t k = 0; k < a.parameters()[i].size; ++k)
      EXPECT_NEAR(a.parameters()[i].value[k], c.parameters()[i].value[k], 1e-7);
}

// -------------------------------------------------------------- fit

Matrix features(std::size_t rows) {
  Matrix x = Matrix::from_shape({rows, 2});
  for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>((i * 5) % 13) / 6.5f - 1.0f;
  return x;
}

Matrix labels(const Matrix& x, std::size_t classes) {
  Matrix y = Matrix::from_shape({x.shape(0), 1});
  for (std::size_t r = 0; r < x.shape(0); ++r) y(r, 0) = static_cast<float>((r * 7 + (x(r, 0) > 0)) % classes);
  return y;
}

std::vector<std::vector<float>> fitted(const std::string& output, std::size_t units, const Matrix& x, const Matrix& y,
                                       const FitOptions& options) {
  Sequential model(3);
  model.add(std::make_unique<Dense>(4)).add("tanh").add(std::make_unique<Dense>(units)).add(output);
  model.compile(units == 1 ? "binary_crossentropy" : "categorical_crossentropy", "adam");
  model.fit(x, y, options);
  return model.get_weights();
}

TEST(SequentialWeights, ClassWeightIsTheSameAsItsSampleWeights) {
  const Matrix x = features(30);
  for (const std::size_t classes : {2, 3}) {
    const Matrix y = labels(x, classes);
    const std::size_t units = classes == 2 ? 1 : 3;
    const std::string output = classes == 2 ? "sigmoid" : "softmax";
    FitOptions by_class;
    by_class.epochs = 3;
    by_class.batch_size = 8;
    by_class.class_weight = {{0, 0.5}, {1, 3.0}};  // class 2, when there is one, not listed: 1
    FitOptions by_sample = by_class;
    by_sample.class_weight.clear();
    for (std::size_t r = 0; r < 30; ++r) {
      const float label = y(r, 0);
      by_sample.sample_weight.push_back(label == 0.0f ? 0.5f : label == 1.0f ? 3.0f : 1.0f);
    }
    const auto a = fitted(output, units, x, y, by_class);
    EXPECT_EQ(a, fitted(output, units, x, y, by_sample)) << classes << " classes";
    // One-hot targets give the same weights as class indices.
    if (classes == 3) {
      EXPECT_EQ(a, fitted(output, units, x, one_hot(y, 3), by_class));
    }
    // And the weights change the training.
    FitOptions plain = by_class;
    plain.class_weight.clear();
    EXPECT_NE(a, fitted(output, units, x, y, plain));
  }
}

TEST(SequentialWeights, FitLossIsTheWeightedMeanAndValidationKeepsSampleWeightsOnly) {
  const Matrix x = features(20);
  const Matrix y = labels(x, 2);
  std::vector<float> weights(20);
  for (std::size_t r = 0; r < 20; ++r) weights[r] = 0.25f * static_cast<float>(r % 5);
  Sequential model(4);
  model.add(std::make_unique<Dense>(1)).add("sigmoid");
  model.compile("binary_crossentropy", "sgd");
  FitOptions options;
  options.batch_size = 16;  // one batch of the 16 training rows
  options.shuffle = false;
  options.validation_split = 0.2;
  options.sample_weight = weights;
  model.build(2);
  const Matrix train_x = take_rows(x, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15});
  const Matrix train_y = take_rows(y, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15});
  const double before =
      model.evaluate(train_x, train_y, std::vector<float>(weights.begin(), weights.begin() + 16)).loss;
  const History history = model.fit(x, y, options);
  EXPECT_NEAR(history.epochs[0].loss, before, 1e-6);  // the weighted loss before the one update
  const Matrix val_x = take_rows(x, {16, 17, 18, 19});
  const Matrix val_y = take_rows(y, {16, 17, 18, 19});
  const std::vector<float> val_w(weights.begin() + 16, weights.end());
  EXPECT_NEAR(history.epochs[0].val_loss, model.evaluate(val_x, val_y, val_w).loss, 1e-12);
  EXPECT_GT(std::abs(model.evaluate(val_x, val_y).loss - history.epochs[0].val_loss), 1e-3);

  // Class weights weigh the training rows only: val_loss is the plain one.
  options.sample_weight.clear();
  options.class_weight = {{1, 4.0}};
  const History by_class = model.fit(x, y, options);
  EXPECT_NEAR(by_class.epochs[0].val_loss, model.evaluate(val_x, val_y).loss, 1e-12);
}

TEST(SequentialWeights, BadWeightsAreRefusedWithClearMessages) {
  const Matrix x = features(6);
  const Matrix y = labels(x, 3);
  Sequential model;
  model.add(std::make_unique<Dense>(3)).add("softmax");
  model.compile("sparse_categorical_crossentropy", "sgd");
  FitOptions options;
  options.sample_weight = {1, 1, 1};
  std::string m = message_of<ShapeError>([&] { model.fit(x, y, options); });
  EXPECT_TRUE(contains(m, "sample_weight has 3 values, expected one per sample of x (6)"));
  options.sample_weight = {1, 1, -1, 1, 1, 1};
  m = message_of<DataError>([&] { model.fit(x, y, options); });
  EXPECT_TRUE(contains(m, "sample_weight[2] = -1"));
  options.sample_weight = {1, 1, 1, 1, NAN, 1};
  m = message_of<DataError>([&] { model.fit(x, y, options); });
  EXPECT_TRUE(contains(m, "sample_weight[4]"));
  options.class_weight = {{0, 2.0}};
  options.sample_weight = std::vector<float>(6, 1.0f);
  m = message_of<InvalidArgument>([&] { model.fit(x, y, options); });
  EXPECT_TRUE(contains(m, "class_weight and sample_weight cannot be given together"));
  options.sample_weight.clear();
  options.class_weight = {{3, 2.0}};
  m = message_of<InvalidArgument>([&] { model.fit(x, y, options); });
  EXPECT_TRUE(contains(m, "class_weight has class 3, but the model has 3 classes (0..2)"));
  options.class_weight = {{1, -0.5}};
  m = message_of<InvalidArgument>([&] { model.fit(x, y, options); });
  EXPECT_TRUE(contains(m, "expected finite class weights >= 0, received -0.5"));
  options.class_weight = {{1, INFINITY}};
  EXPECT_THROW(model.fit(x, y, options), InvalidArgument);

  Sequential regressor;
  regressor.add(std::make_unique<Dense>(1));
  regressor.compile("mse", "sgd");
  options.class_weight = {{0, 2.0}};
  m = message_of<InvalidArgument>([&] { regressor.fit(x, y, options); });
  EXPECT_TRUE(contains(m, "class_weight needs a classification loss; mean_squared_error is a regression loss"));

  regressor.reserve(2);
  const float bad[] = {1.0f, -2.0f};
  m = message_of<DataError>([&] { regressor.train_step({x.data(), 2, 2}, {y.data(), 2, 1}, bad); });
  EXPECT_TRUE(contains(m, "Sequential::train_step: expected finite sample weights >= 0"));
  m = message_of<ShapeError>([&] { regressor.evaluate(x, y, std::vector<float>(5, 1.0f)); });
  EXPECT_TRUE(contains(m, "Sequential::evaluate: sample_weight has 5 values"));
}

}  // namespace
}  // namespace xdense
