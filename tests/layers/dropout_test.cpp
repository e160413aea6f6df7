// Tests of include/xdense/layers/dropout.hpp: the dropped fraction and the 1 / (1 - rate) scaling,
// the mask stream (reproducible from the seed, continued from a training state), inference as the
// identity, the config and its errors, and a model with dropout saved, loaded and resumed from a
// checkpoint bit for bit.

#include "xdense/layers/dropout.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gradient_check.hpp"
#include "layers/layer_test_support.hpp"
#include "xdense/xdense.hpp"

namespace xdense {
namespace {

namespace fs = std::filesystem;
using testing::filled;
using testing::same_bits;

std::unique_ptr<Dropout> built_dropout(double rate, std::size_t units, std::optional<std::uint64_t> seed = 11) {
  auto layer = std::make_unique<Dropout>(rate, seed);
  Rng rng;
  layer->build(units, rng);
  layer->set_training(true);
  return layer;
}

TEST(Dropout, DropsTheRateAndScalesTheKeptValuesByOneOverOneMinusRate) {
  for (const double rate : {0.1, 0.2, 0.5, 0.9}) {
    const std::size_t rows = 1000, cols = 1000;  // 10^6 elements
    const Matrix x = filled(rows, cols, 3, 0.5, 2.0);  // no zeros among the inputs
    auto layer = built_dropout(rate, cols);
    const ConstMatrixView y = layer->forward(view(x));
    const float scale = static_cast<float>(1.0 / (1.0 - rate));
    std::size_t dropped = 0, wrong = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (y.data[i] == 0.0f) {
        ++dropped;
      } else if (y.data[i] != x.data()[i] * scale) {
        ++wrong;
      }
    }
    EXPECT_EQ(wrong, 0u) << "rate " << rate;
    // Binomial(n, rate): 6 standard deviations is a false alarm once in ~10^9 runs.
    const double n = static_cast<double>(x.size());
    const double sigma = std::sqrt(n * rate * (1.0 - rate));
    EXPECT_NEAR(static_cast<double>(dropped), n * rate, 6.0 * sigma) << "rate " << rate;
  }
}

TEST(Dropout, MasksOfSuccessiveStepsAreIndependent) {
  // Dropped in both of two successive draws: rate^2 of the elements; in each column about rate.
  const double rate = 0.3;
  const std::size_t rows = 500, cols = 400;
  const Matrix x = filled(rows, cols, 4, 1.0, 2.0);
  auto layer = built_dropout(rate, cols);
  const Matrix first = to_matrix(layer->forward(view(x)));
  const Matrix second = to_matrix(layer->forward(view(x)));
  std::size_t both = 0;
  std::vector<std::size_t> per_column(cols, 0);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      both += first(r, c) == 0.0f && second(r, c) == 0.0f;
      per_column[c] += first(r, c) == 0.0f;
    }
  }
  const double n = static_cast<double>(rows * cols);
  const double p = rate * rate;
  EXPECT_NEAR(static_cast<double>(both), n * p, 6.0 * std::sqrt(n * p * (1.0 - p)));
  const double column_sigma = std::sqrt(rows * rate * (1.0 - rate));
  for (std::size_t c = 0; c < cols; ++c) {
    ASSERT_NEAR(static_cast<double>(per_column[c]), rows * rate, 6.0 * column_sigma) << "column " << c;
  }
  EXPECT_EQ(layer->draws(), 2u);
}

TEST(Dropout, BackwardAppliesTheSameMask) {
  const Matrix x = filled(7, 9, 5, 0.5, 1.5);
  const Matrix dy = filled(7, 9, 6);
  auto layer = built_dropout(0.4, 9);
  const Matrix y = to_matrix(layer->forward(view(x)));
  const ConstMatrixView dx = layer->backward(view(dy));
  const float scale = static_cast<float>(1.0 / 0.6);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const float m = y.data()[i] == 0.0f ? 0.0f : scale;  // the inputs are not 0
    EXPECT_EQ(dx.data[i], dy.data()[i] * m) << i;
  }
  EXPECT_EQ(layer->backward(view(dy), /*need_input_gradient=*/false).data, nullptr);
}

TEST(Dropout, GradientMatchesFiniteDifferencesWithTheMaskHeld) {
  const Matrix dy = filled(5, 6, 8);
  Matrix x = filled(5, 6, 7, 0.5, 1.5);
  auto layer = built_dropout(0.5, 6);
  const Config state = layer->training_state();
  const auto loss = [&] {
    layer->restore_training_state(state);  // the same draw every time
    const ConstMatrixView y = layer->forward(view(x));
    double total = 0.0;
    for (std::size_t i = 0; i < y.size(); ++i) total += double(dy.data()[i]) * y.data[i];
    return total;
  };
  loss();
  const Matrix analytic = to_matrix(layer->backward(view(dy)));
  testing::expect_gradient_matches(x.data(), analytic.data(), x.size(), loss, "Dropout dL/dx");
}

TEST(Dropout, InferenceModeAndRateZeroAreTheIdentity) {
  const Matrix x = filled(6, 4, 9);
  auto layer = built_dropout(0.5, 4);
  layer->set_training(false);
  const ConstMatrixView y = layer->forward(view(x));
  EXPECT_TRUE(same_bits(y, view(x)));
  EXPECT_TRUE(same_bits(layer->forward(view(x)), view(x)));  // deterministic
  EXPECT_TRUE(same_bits(layer->backward(view(x)), view(x)));
  EXPECT_EQ(layer->draws(), 0u);  // inference draws nothing

  auto none = built_dropout(0.0, 4);
  EXPECT_TRUE(same_bits(none->forward(view(x)), view(x)));
  EXPECT_EQ(none->draws(), 0u);
}

TEST(Dropout, TheSeedAndTheTrainingStateDecideTheMasks) {
  const Matrix x = filled(8, 16, 10, 1.0, 2.0);
  auto a = built_dropout(0.5, 16, 99);
  auto b = built_dropout(0.5, 16, 99);
  auto c = built_dropout(0.5, 16, 100);
  const Matrix from_a = to_matrix(a->forward(view(x)));
  EXPECT_TRUE(same_bits(view(from_a), b->forward(view(x))));
  EXPECT_FALSE(same_bits(view(from_a), c->forward(view(x))));

  // A layer given another's state draws what the other draws next.
  const Config state = a->training_state();
  EXPECT_EQ(state, Config({{"seed", 99}, {"draws", 1}}));
  c->restore_training_state(state);
  EXPECT_TRUE(same_bits(a->forward(view(x)), c->forward(view(x))));

  EXPECT_THROW(c->restore_training_state(nullptr), InvalidArgument);
  EXPECT_THROW(c->restore_training_state({{"seed", 1}}), InvalidArgument);
  EXPECT_THROW(c->restore_training_state({{"seed", 1}, {"draws", -1}}), InvalidArgument);
  EXPECT_THROW(c->restore_training_state({{"seed", 1}, {"draws", 2}, {"extra", 0}}), InvalidArgument);
}

TEST(Dropout, AnUnseededLayerDrawsItsSeedFromTheModel) {
  const auto seed_of = [](std::uint64_t model_seed) {
    Sequential model(model_seed);
    model.add(std::make_unique<Dense>(4)).add(make_layer("Dropout", {{"rate", 0.5}}));
    model.build(3);
    return dynamic_cast<const Dropout&>(model.layer(1)).seed().value();
  };
  EXPECT_EQ(seed_of(1), seed_of(1));
  EXPECT_NE(seed_of(1), seed_of(2));
  EXPECT_EQ(Dropout(0.5).seed(), std::nullopt);
}

TEST(Dropout, ConfigRoundTripsAndBadConfigsAreRefusedByKey) {
  for (const Config& config : {Config{{"rate", 0.25}, {"seed", nullptr}, {"noise_shape", nullptr}},
                               Config{{"rate", 0.5}, {"seed", 1234}, {"noise_shape", nullptr}}}) {
    const std::unique_ptr<Layer> layer = make_layer("Dropout", config);
    EXPECT_EQ(layer->kind(), "Dropout");
    EXPECT_EQ(layer->config(), config);
    EXPECT_EQ(make_layer("Dropout", layer->config())->config(), config);
  }
  // Keras's own keys, as Keras 3 writes them.
  const Config keras = Config::parse(R"({"name": "dropout", "trainable": true, "dtype": {"module": "keras",
      "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null}, "rate": 0.2,
      "seed": null, "noise_shape": null})");
  EXPECT_EQ(make_layer("Dropout", keras)->config(), Config({{"rate", 0.2}, {"seed", nullptr}, {"noise_shape", nullptr}}));
  const auto error_of = [](const Config& config) { return testing::config_error("Dropout", config); };
  EXPECT_EQ(error_of({{"rate", 1.0}}), "rate: expected a number in [0, 1), received 1.0");
  EXPECT_EQ(error_of({{"rate", -0.1}}), "rate: expected a number in [0, 1), received -0.1");
  EXPECT_EQ(error_of(Config::object()), "rate: missing (expected a number in [0, 1))");
  EXPECT_EQ(error_of({{"rate", 0.1}, {"seed", -3}}), "seed: expected null or a non-negative integer, received -3");
  EXPECT_EQ(error_of({{"rate", 0.1}, {"noise_shape", {1, 4}}}),
            "noise_shape: expected null (a dropout mask per element only), received [1,4]");
  EXPECT_EQ(error_of({{"rate", 0.1}, {"trainable", false}}),
            "trainable: expected true (xdense has no frozen layers), received false");
  EXPECT_EQ(error_of({{"rate", 0.1}, {"dtype", "float16"}}), "dtype: xdense computes in float32 only, received \"float16\"");
  EXPECT_EQ(error_of({{"rate", 0.1}, {"rat", 0.1}}).substr(0, 17), "rat: unknown key ");
  EXPECT_THROW(Dropout(1.5), InvalidArgument);
  try {
    Dropout bad(1.5);
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(std::string(e.what()), "Dropout: rate must be in [0, 1), received rate=1.500000");
  }
}

// ------------------------------------------------------------------ in a model

Sequential dropout_model() {
  Sequential model;
  model.add(std::make_unique<Dense>(16)).add("relu").add(make_layer("Dropout", {{"rate", 0.3}}));
  model.add(std::make_unique<Dense>(16)).add("relu").add(make_layer("Dropout", {{"rate", 0.2}, {"seed", 5}}));
  model.add(std::make_unique<Dense>(3)).add("softmax");
  model.compile("sparse_categorical_crossentropy", "adam");
  return model;
}

FitOptions fit_options(std::size_t epochs, std::size_t initial = 0) {
  FitOptions options = testing::run_options(epochs, initial, 8);
  options.validation_split = 0.2;  // evaluate between epochs: inference mode, no draws
  return options;
}

testing::Data three_classes(std::size_t n) { return testing::three_classes(n, 5, 21); }

fs::path temp_file(const std::string& name) { return testing::scratch_file("xdense_dropout_test", name); }

TEST(DropoutModel, TrainsSavesLoadsAndPredictsDeterministically) {
  const testing::Data d = three_classes(120);
  Sequential model = dropout_model();
  model.fit(d.x, d.y, fit_options(3));
  const Matrix first = model.predict(d.x);
  EXPECT_TRUE(same_bits(view(model.predict(d.x)), view(first)));  // inference: no masks
  EXPECT_NE(model.summary().find("dropout (Dropout)"), std::string::npos) << model.summary();
  EXPECT_NE(model.summary().find("dropout_1 (Dropout)"), std::string::npos) << model.summary();

  save_model(temp_file("dropout.xdm").string(), model, ModelInfo{});
  SavedModel loaded = load_model(temp_file("dropout.xdm").string());
  EXPECT_EQ(loaded.model.layer(2).kind(), "Dropout");
  EXPECT_EQ(loaded.model.layer(2).config(), model.layer(2).config());
  EXPECT_EQ(loaded.model.layer(5).config()["seed"], 5);
  EXPECT_TRUE(same_bits(view(loaded.model.predict(d.x)), view(first)));
}

TEST(DropoutModel, ResumeFromACheckpointIsBitIdentical) {
  const testing::Data d = three_classes(120);
  Sequential straight = dropout_model();
  const History full = straight.fit(d.x, d.y, fit_options(5));

  Sequential first = dropout_model();
  const History early = first.fit(d.x, d.y, fit_options(2));
  const fs::path file = temp_file("dropout.xdc");
  save_checkpoint(file.string(), first, ModelInfo{}, capture_training_state(first, 2, early));
  // The process ends here; a new one loads the checkpoint.
  Checkpoint checkpoint = load_checkpoint(file.string());
  ASSERT_EQ(checkpoint.state.layer_states.size(), first.layer_count());
  EXPECT_EQ(checkpoint.state.layer_states[0], "null");
  EXPECT_EQ(Config::parse(checkpoint.state.layer_states[2]), first.layer(2).training_state());
  restore_training_state(checkpoint);
  Sequential& resumed = checkpoint.saved.model;
  EXPECT_EQ(resumed.layer(2).training_state(), first.layer(2).training_state());
  const History late = resumed.fit(d.x, d.y, fit_options(5, 2));
  ASSERT_EQ(late.epochs.size(), 3u);
  EXPECT_EQ(late.epochs.back().loss, full.epochs.back().loss);
  const std::vector<float> a = testing::all_weights(straight);
  EXPECT_TRUE(same_bits(testing::all_weights(resumed), a));

  // Without the layer states the masks would start over: the run would differ.
  Checkpoint stale = load_checkpoint(file.string());
  stale.state.layer_states.clear();
  restore_training_state(stale);
  stale.saved.model.fit(d.x, d.y, fit_options(5, 2));
  EXPECT_FALSE(same_bits(testing::all_weights(stale.saved.model), a));
}

TEST(DropoutModel, ACheckpointRefusesALayerStateThatDoesNotFit) {
  const testing::Data d = three_classes(40);
  Sequential model = dropout_model();
  const History h = model.fit(d.x, d.y, fit_options(1));
  TrainingState state = capture_training_state(model, 1, h);
  state.layer_states[2] = R"({"seed": "x"})";
  const fs::path file = temp_file("bad_state.xdc");
  save_checkpoint(file.string(), model, ModelInfo{}, state);
  Checkpoint checkpoint = load_checkpoint(file.string());
  try {
    restore_training_state(checkpoint);
    ADD_FAILURE() << "restored a bad dropout state";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("invalid checkpoint: layer 2 (Dropout): Dropout: expected a training state"),
              std::string::npos)
        << e.what();
  }
  state.layer_states.pop_back();
  EXPECT_THROW(save_checkpoint(file.string(), model, ModelInfo{}, state), InvalidArgument);
}

}  // namespace
}  // namespace xdense
