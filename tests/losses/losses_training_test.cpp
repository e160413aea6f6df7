// The Keras losses of losses/*.hpp in a model: each trains a small network (its targets pass the
// loss's checks, its output layer is accepted, the loss falls), and saves and loads with its name
// and config. The label-smoothed cross-entropies too.

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "xdense/xdense.hpp"

namespace xdense {
namespace {

struct Problem {
  std::string loss;
  Config config;
  std::string output;  // the output activation
  std::size_t units;
};

// 64 samples of 2 features in [-1, 1]; the class is the quadrant's half (x0 + x1 > 0) or, for 3
// units, the sector of x0; targets in the encoding each loss takes.
Matrix features() {
  Rng rng(11);
  Matrix x = Matrix::from_shape({std::size_t{64}, std::size_t{2}});
  for (float& v : x) v = static_cast<float>(rng.uniform(-1.0, 1.0));
  return x;
}

Matrix targets_for(const Problem& problem, const Matrix& x) {
  const std::size_t rows = x.shape(0);
  Matrix y = Matrix::from_shape({rows, problem.units});
  for (std::size_t r = 0; r < rows; ++r) {
    const float a = x(r, 0), b = x(r, 1);
    if (problem.units == 1) {
      const bool positive = a + b > 0.0f;
      if (problem.loss == "hinge" || problem.loss == "squared_hinge") {
        y(r, 0) = positive ? 1.0f : -1.0f;
      } else if (problem.loss == "poisson") {
        y(r, 0) = positive ? 3.0f : 1.0f;  // counts
      } else if (problem.loss == "binary_crossentropy") {
        y(r, 0) = positive ? 1.0f : 0.0f;
      } else {
        y(r, 0) = 2.0f * a - b;  // regression
      }
      continue;
    }
    const std::size_t cls = a < -0.33f ? 0 : (a < 0.33f ? 1 : 2);
    for (std::size_t c = 0; c < problem.units; ++c) y(r, c) = c == cls ? 1.0f : 0.0f;
  }
  return y;
}

TEST(LossesInAModel, EachTrainsSavesAndLoads) {
  const Problem problems[] = {
      {"mean_absolute_error", Config::object(), "linear", 1},
      {"huber", {{"delta", 0.5}}, "linear", 1},
      {"log_cosh", Config::object(), "linear", 1},
      {"hinge", Config::object(), "tanh", 1},
      {"squared_hinge", Config::object(), "linear", 1},
      {"categorical_hinge", Config::object(), "linear", 3},
      {"kl_divergence", Config::object(), "softmax", 3},
      {"poisson", Config::object(), "softplus", 1},
      {"binary_crossentropy", {{"label_smoothing", 0.1}}, "sigmoid", 1},
      {"categorical_crossentropy", {{"label_smoothing", 0.1}}, "softmax", 3},
  };
  const Matrix x = features();
  for (const Problem& problem : problems) {
    SCOPED_TRACE(problem.loss);
    const Matrix y = targets_for(problem, x);
    Sequential model;
    model.add(std::make_unique<Dense>(8)).add("tanh");
    model.add(std::make_unique<Dense>(problem.units)).add(problem.output);
    model.compile(make_loss(problem.loss, problem.config), make_optimizer("adam", {{"learning_rate", 0.05}}), {});
    FitOptions options;
    options.epochs = 30;
    options.batch_size = 16;
    options.seed = 3;
    const History history = model.fit(x, y, options);
    const double first = history.epochs.front().loss;
    const double last = history.epochs.back().loss;
    EXPECT_TRUE(std::isfinite(last));
    EXPECT_LT(last, 0.7 * first) << "first epoch " << first << ", last " << last;

    SavedModel loaded = decode_model(encode_model(model, ModelInfo{}), "memory");
    EXPECT_EQ(loaded.model.loss()->name(), problem.loss);
    EXPECT_EQ(loaded.model.loss()->config(), model.loss()->config());
    EXPECT_EQ(model.evaluate(x, y).loss, loaded.model.evaluate(x, y).loss);
  }
}

TEST(LossesInAModel, OutputLayersThatCannotWorkAreRefused) {
  for (const std::string loss : {"categorical_hinge", "kl_divergence"}) {
    Sequential model;
    model.add(std::make_unique<Dense>(1)).add("sigmoid");
    model.build(2);  // compile checks the output of a built model (fit builds it first)
    EXPECT_THROW(model.compile(make_loss(loss), make_optimizer("sgd"), {}), InvalidArgument) << loss;
  }
}

TEST(LossesInAModel, BadTargetsAreRefusedBeforeTraining) {
  Sequential model;
  model.add(std::make_unique<Dense>(1)).add("tanh");
  model.compile(make_loss("hinge"), make_optimizer("sgd"), {});
  const Matrix x = {{0.5f}, {-0.5f}, {0.25f}};
  const Matrix y = {{1.0f}, {-1.0f}, {0.5f}};
  try {
    model.fit(x, y);
    ADD_FAILURE() << "fit accepted a hinge target of 0.5";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("hinge: expected targets -1 or 1 (or 0 or 1), received 0.5 at row 2"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace xdense
