#include "xdense/regularizer.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gradient_check.hpp"
#include "xdense/activation.hpp"
#include "xdense/dense.hpp"
#include "xdense/error.hpp"
#include "xdense/model_file.hpp"
#include "xdense/random.hpp"
#include "xdense/sequential.hpp"

namespace xdense {
namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

Matrix random_matrix(std::size_t rows, std::size_t cols, double low, double high, std::uint64_t seed) {
  Rng rng(seed);
  Matrix m = Matrix::from_shape({rows, cols});
  for (float& x : m) x = static_cast<float>(rng.uniform(low, high));
  return m;
}

Vector random_vector(std::size_t size, double low, double high, std::uint64_t seed) {
  Rng rng(seed);
  Vector v = Vector::from_shape({size});
  for (float& x : v) x = static_cast<float>(rng.uniform(low, high));
  return v;
}

std::string message_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "no exception";
}

// ---- the penalties -----------------------------------------------------------------------------

TEST(Regularizer, PenaltiesAndGradientsByHand) {
  const std::vector<float> w = {0.5f, -2.0f, 0.0f, 1.0f, -0.25f};
  // sum |w| = 3.75, sum w^2 = 0.25 + 4 + 0 + 1 + 0.0625 = 5.3125
  EXPECT_DOUBLE_EQ(l2(0.5)->penalty(w.data(), w.size()), 0.5 * 5.3125);
  EXPECT_DOUBLE_EQ(l1(0.5)->penalty(w.data(), w.size()), 0.5 * 3.75);
  EXPECT_DOUBLE_EQ(l1_l2(0.5, 0.25)->penalty(w.data(), w.size()), 0.5 * 3.75 + 0.25 * 5.3125);
  // Keras 3's defaults: L2(0.01), L1(0.01), L1L2(0, 0); the factor is used as a float, as Keras's.
  EXPECT_DOUBLE_EQ(make_regularizer("l2")->penalty(w.data(), w.size()), double(0.01f) * 5.3125);
  EXPECT_DOUBLE_EQ(make_regularizer("L1")->penalty(w.data(), w.size()), double(0.01f) * 3.75);
  EXPECT_EQ(make_regularizer("L1L2")->penalty(w.data(), w.size()), 0.0);

  std::vector<float> g(w.size(), 1.0f);
  l2(0.5)->add_gradient(w.data(), g.data(), w.size());  // += 2 * 0.5 * w
  EXPECT_EQ(g, (std::vector<float>{1.5f, -1.0f, 1.0f, 2.0f, 0.75f}));
  g.assign(w.size(), 1.0f);
  l1(0.5)->add_gradient(w.data(), g.data(), w.size());  // += 0.5 * sign(w), sign(0) = 0
  EXPECT_EQ(g, (std::vector<float>{1.5f, 0.5f, 1.0f, 1.5f, 0.5f}));
  g.assign(w.size(), 0.0f);
  l1_l2(0.5, 0.25)->add_gradient(w.data(), g.data(), w.size());
  EXPECT_EQ(g, (std::vector<float>{0.75f, -1.5f, 0.0f, 1.0f, -0.625f}));
}

TEST(Regularizer, LongArraysAccumulateInDouble) {
  // 10^6 weights of 0.1: float accumulation would drift in the 4th digit, double does not.
  const std::vector<float> w(1000003, 0.1f);
  const double x = double(0.1f);
  EXPECT_NEAR(l2(1.0)->penalty(w.data(), w.size()), 1000003 * x * x, 1e-6);
  EXPECT_NEAR(l1(1.0)->penalty(w.data(), w.size()), 1000003 * x, 1e-6);
}

TEST(Regularizer, NamesConfigsAndKerasObjects) {
  EXPECT_EQ(regularizer_names(), (std::vector<std::string>{"l1", "l1_l2", "l2"}));
  EXPECT_EQ(make_regularizer("L2", {{"l2", 0.001}})->config(), (Config{{"l2", 0.001}}));
  EXPECT_EQ(make_regularizer("l1")->config(), (Config{{"l1", 0.01}}));
  EXPECT_EQ(make_regularizer("l1_l2")->config(), (Config{{"l1", 0.0}, {"l2", 0.0}}));
  // null is Keras's None: the default.
  EXPECT_EQ(make_regularizer("L1L2", {{"l1", nullptr}, {"l2", 0.5}})->config(), (Config{{"l1", 0.0}, {"l2", 0.5}}));

  EXPECT_FALSE(RegularizerSpec::from_config(nullptr));
  EXPECT_EQ(RegularizerSpec().to_config(), nullptr);
  const Config keras3 = {{"module", "keras.regularizers"},
                         {"class_name", "L2"},
                         {"config", {{"l2", 0.0001}}},
                         {"registered_name", nullptr}};
  const RegularizerSpec spec = RegularizerSpec::from_config(keras3);
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->name(), "l2");
  EXPECT_EQ(spec.to_config(), (Config{{"class_name", "l2"}, {"config", {{"l2", 0.0001}}}}));
  EXPECT_EQ(RegularizerSpec::from_config(spec.to_config()), spec);
  EXPECT_EQ(RegularizerSpec::from_config({{"class_name", "L2"}, {"config", {{"l2", 0.01}}}}).to_config(), "l2");
  EXPECT_EQ(RegularizerSpec("l1_l2").to_config(), "l1_l2");
  EXPECT_EQ(RegularizerSpec(l2(0.01)), RegularizerSpec("L2"));
  EXPECT_NE(RegularizerSpec(l2(0.02)), RegularizerSpec("l2"));
}

TEST(Regularizer, ErrorsSayWhatIsWrong) {
  EXPECT_TRUE(contains(message_of([] { make_regularizer("l3"); }), "unknown regularizer 'l3'"));
  EXPECT_TRUE(contains(message_of([] { make_regularizer("l2", {{"l2", -0.1}}); }), "\"l2\": expected a non-negative"));
  EXPECT_TRUE(contains(message_of([] { make_regularizer("l2", {{"l1", 0.1}}); }), "\"l1\": unknown key"));
  EXPECT_TRUE(contains(message_of([] { make_regularizer("l1", {{"l1", "x"}}); }), "\"l1\""));
  EXPECT_TRUE(contains(message_of([] { RegularizerSpec::from_config(0.01); }), "expected a name or an object"));
  EXPECT_TRUE(contains(message_of([] { l2(-1.0); }), "l2=-1"));
  EXPECT_TRUE(contains(message_of([] { l1_l2(0.0, std::nan("")); }), "l2"));
}

// ---- a regularized Dense -----------------------------------------------------------------------

DenseOptions regularized_options() {
  DenseOptions options;
  options.kernel_regularizer = l1_l2(0.03, 0.2);
  options.bias_regularizer = l2(0.3);
  return options;
}

TEST(RegularizedDense, PenaltyIsTheSumOfItsWeightsPenalties) {
  Dense layer(3, 0, regularized_options());
  EXPECT_TRUE(layer.regularized());
  EXPECT_EQ(layer.regularization_loss(), 0.0);  // not built
  const Matrix kernel = random_matrix(4, 3, -1, 1, 1);
  const Vector bias = random_vector(3, -1, 1, 2);
  layer.set_weights(kernel, bias);
  const double expected = l1_l2(0.03, 0.2)->penalty(kernel.data(), kernel.size()) + l2(0.3)->penalty(bias.data(), 3);
  EXPECT_DOUBLE_EQ(layer.regularization_loss(), expected);

  // Without a bias, the bias regularizer has nothing to act on (Keras makes no bias).
  DenseOptions no_bias;
  no_bias.use_bias = false;
  no_bias.bias_regularizer = "l2";
  EXPECT_FALSE(Dense(3, 0, no_bias).regularized());
}

/// Finite differences of loss = sum_ij v_ij y_ij + penalty, with respect to the kernel and the bias,
/// against backward(v) and against backward_through(activation, v).
TEST(RegularizedDense, GradientsOfLossPlusPenaltyMatchFiniteDifferences) {
  const Matrix z = random_matrix(6, 5, -2.0, 2.0, 3);
  const Matrix v = random_matrix(6, 4, -1.0, 1.0, 4);
  for (const bool fused : {false, true}) {
    const std::string what = fused ? "backward_through(tanh)" : "backward";
    std::unique_ptr<Activation> tanh = make_activation("tanh");
    Rng rng(1);
    tanh->build(5, rng);
    tanh->reserve(6);
    const ConstMatrixView x = tanh->forward(view(z));
    Dense layer(4, 0, regularized_options());
    layer.set_weights(random_matrix(5, 4, -1, 1, 5), random_vector(4, -1, 1, 6));
    // Some weights at 0 exactly: l1's kink, where its gradient is 0 (as Keras's and torch's).
    std::vector<Parameter> params = layer.parameters();
    params[0].value[3] = 0.0f;
    const auto loss = [&]() {
      const ConstMatrixView y = layer.forward(x);
      double total = 0.0;
      for (std::size_t i = 0; i < y.size(); ++i) total += double(v.data()[i]) * double(y.data[i]);
      return total + layer.regularization_loss();
    };
    loss();
    if (fused) {
      layer.backward_through(*tanh, view(v));
    } else {
      layer.backward(view(v));
    }
    Matrix dw = layer.kernel_gradient();
    const Vector db = layer.bias_gradient();
    // The kink: d/dw (0.03 |w|) is taken as 0 at w = 0; finite differences see the mean of the
    // two sides, which is also 0, so the entry is checked as the others.
    testing::expect_gradient_matches(params[0].value, dw.data(), dw.size(), loss, "regularized dL/dW, " + what,
                                     1e-3);
    testing::expect_gradient_matches(params[1].value, db.data(), db.size(), loss, "regularized dL/db, " + what,
                                     1e-3);
  }
}

TEST(RegularizedDense, FusedAndTwoPassGradientsAreTheSameBits) {
  const Matrix z = random_matrix(7, 5, -2.0, 2.0, 8);
  const Matrix dy = random_matrix(7, 3, -1.0, 1.0, 9);
  std::unique_ptr<Activation> relu = make_activation("relu");
  Rng rng(1);
  relu->build(5, rng);
  relu->reserve(7);
  const ConstMatrixView x = relu->forward(view(z));
  Dense two(3, 0, regularized_options()), fused(3, 0, regularized_options());
  for (Dense* d : {&two, &fused}) d->set_weights(random_matrix(5, 3, -1, 1, 10), random_vector(3, -1, 1, 11));
  two.forward(x);
  relu->backward(two.backward(view(dy)));
  fused.forward(x);
  fused.backward_through(*relu, view(dy));
  for (std::size_t i = 0; i < 15; ++i) EXPECT_EQ(fused.kernel_gradient().data()[i], two.kernel_gradient().data()[i]);
  for (std::size_t j = 0; j < 3; ++j) EXPECT_EQ(fused.bias_gradient()(j), two.bias_gradient()(j));
  // And the penalty's gradient is there: 2 * 0.3 * b added to the bias gradient.
  Dense plain(3);
  plain.set_weights(random_matrix(5, 3, -1, 1, 10), random_vector(3, -1, 1, 11));
  plain.forward(x);
  plain.backward(view(dy));
  for (std::size_t j = 0; j < 3; ++j) {
    EXPECT_EQ(two.bias_gradient()(j), plain.bias_gradient()(j) + 2.0f * 0.3f * plain.bias()(j));
  }
}

// ---- in a model ---------------------------------------------------------------------------------

Sequential mlp(const RegularizerSpec& kernel_regularizer, const RegularizerSpec& bias_regularizer) {
  Sequential model(/*seed=*/7);
  DenseOptions options;
  options.kernel_regularizer = kernel_regularizer;
  options.bias_regularizer = bias_regularizer;
  model.add(std::make_unique<Dense>(8, 0, options)).add("relu");
  model.add(std::make_unique<Dense>(3, 0, options)).add("softmax");
  model.compile("categorical_crossentropy", "sgd");
  model.build(4);
  return model;
}

Matrix one_hot(std::size_t rows, std::size_t classes) {
  Matrix y = Matrix::from_shape({rows, classes});
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t c = 0; c < classes; ++c) y.data()[i * classes + c] = (i % classes == c) ? 1.0f : 0.0f;
  return y;
}

TEST(RegularizedModel, TrainingAndEvaluationLossesIncludeThePenalty) {
  const Matrix x = random_matrix(12, 4, -1, 1, 20);
  const Matrix y = one_hot(12, 3);
  Sequential plain = mlp({}, {});
  Sequential regularized = mlp(l2(0.05), l1(0.02));
  // Same seed, same initial weights (regularizers draw nothing).
  ASSERT_EQ(plain.parameters().size(), regularized.parameters().size());
  for (std::size_t p = 0; p < plain.parameters().size(); ++p) {
    for (std::size_t i = 0; i < plain.parameters()[p].size; ++i) {
      ASSERT_EQ(plain.parameters()[p].value[i], regularized.parameters()[p].value[i]);
    }
  }
  const double penalty = regularized.regularization_loss();
  EXPECT_GT(penalty, 0.01);
  EXPECT_EQ(plain.regularization_loss(), 0.0);
  EXPECT_NEAR(regularized.evaluate(x, y).loss, plain.evaluate(x, y).loss + penalty, 1e-9);
  // A step reports the loss at the weights it started from, penalty included.
  EXPECT_NEAR(regularized.train_step(view(x), view(y)), plain.train_step(view(x), view(y)) + penalty, 1e-6);

  // fit's reported loss too: one batch of all the rows, one epoch.
  Sequential fitted = mlp(l2(0.05), l1(0.02));
  Sequential reference = mlp({}, {});
  const double fitted_penalty = fitted.regularization_loss();
  FitOptions options;
  options.batch_size = 12;
  options.shuffle = false;
  const History a = fitted.fit(x, y, options);
  const History b = reference.fit(x, y, options);
  EXPECT_NEAR(a.values("loss").at(0), b.values("loss").at(0) + fitted_penalty, 1e-6);
}

TEST(RegularizedModel, SaveAndLoadKeepTheRegularizers) {
  const Matrix x = random_matrix(12, 4, -1, 1, 20);
  const Matrix y = one_hot(12, 3);
  Sequential model = mlp(RegularizerSpec(l2(0.05)), RegularizerSpec("l1"));
  model.train_step(view(x), view(y));
  const std::string path = ::testing::TempDir() + "regularized_model.xdm";
  ModelInfo info;
  save_model(path, model, info);
  SavedModel loaded = load_model(path);
  std::remove(path.c_str());
  EXPECT_EQ(loaded.model.layer(0).config(), model.layer(0).config());
  EXPECT_EQ(loaded.model.layer(0).config().at("kernel_regularizer"),
            (Config{{"class_name", "l2"}, {"config", {{"l2", 0.05}}}}));
  EXPECT_EQ(loaded.model.layer(0).config().at("bias_regularizer"), "l1");
  EXPECT_EQ(loaded.model.regularization_loss(), model.regularization_loss());
  EXPECT_EQ(loaded.model.evaluate(x, y).loss, model.evaluate(x, y).loss);
}

}  // namespace
}  // namespace xdense
