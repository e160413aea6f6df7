// The component model's acceptance test (issue 13): a layer, an optimizer and a loss defined here,
// outside the library, registered by name, train, save, load and resume from a checkpoint exactly
// as built-ins do: the model file and checkpoint formats store each as kind + config + named
// tensors or state and rebuild them through the registries.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "xdense/xdense.hpp"

namespace xdense {
namespace {

namespace fs = std::filesystem;

/// y = x * gamma, one trainable gamma per unit, all starting at config "initial".
///   forward : y(r, c) = x(r, c) gamma(c)
///   backward: dgamma(c) = sum over rows of dy(r, c) x(r, c);  dx(r, c) = dy(r, c) gamma(c)
class Scale final : public Layer {
 public:
  explicit Scale(float initial) : initial_(initial) {}

  std::string type_name() const override { return "Scale"; }
  std::string kind() const override { return "ComponentScale"; }
  Config config() const override { return {{"initial", initial_}}; }
  void build(std::size_t input_units, Rng&) override {
    gamma_.assign(input_units, initial_);
    gamma_gradient_.assign(input_units, 0.0f);
  }
  bool built() const override { return !gamma_.empty(); }
  std::size_t input_units() const override { return gamma_.size(); }
  std::size_t output_units() const override { return gamma_.size(); }
  void reserve(std::size_t rows) override {
    output_.resize(rows * gamma_.size());
    input_gradient_.resize(rows * gamma_.size());
  }
  ConstMatrixView forward(ConstMatrixView x) override {
    check_columns(x, gamma_.size());
    input_ = x;
    output_.resize(x.size());
    for (std::size_t r = 0; r < x.rows; ++r) {
      for (std::size_t c = 0; c < x.cols; ++c) output_[r * x.cols + c] = x(r, c) * gamma_[c];
    }
    return {output_.data(), x.rows, x.cols};
  }
  ConstMatrixView backward(ConstMatrixView dy, bool) override {
    input_gradient_.resize(dy.size());
    std::fill(gamma_gradient_.begin(), gamma_gradient_.end(), 0.0f);
    for (std::size_t r = 0; r < dy.rows; ++r) {
      for (std::size_t c = 0; c < dy.cols; ++c) {
        gamma_gradient_[c] += dy(r, c) * input_(r, c);
        input_gradient_[r * dy.cols + c] = dy(r, c) * gamma_[c];
      }
    }
    return {input_gradient_.data(), dy.rows, dy.cols};
  }
  std::vector<Parameter> parameters() const override {
    if (gamma_.empty()) return {};
    auto* values = const_cast<float*>(gamma_.data());  // handles to the layer's own storage (layer.hpp)
    auto* gradients = const_cast<float*>(gamma_gradient_.data());
    return {Parameter{"gamma", values, gradients, gamma_.size(), {gamma_.size()}}};
  }

 private:
  float initial_;
  std::vector<float> gamma_;
  std::vector<float> gamma_gradient_;
  ConstMatrixView input_;
  std::vector<float> output_;
  std::vector<float> input_gradient_;
};

/// y = x - mean, the mean a non-trainable state: in training mode each batch moves it towards the
/// batch's column means (mean += (batch mean - mean) (1 - momentum)) and the batch is centred on
/// its own means; in inference mode the stored mean is used, as batch normalisation does with its
/// moving statistics. It declares its arrays (shape_for), so a loader checks them before building.
class Centre final : public Layer {
 public:
  explicit Centre(float momentum) : momentum_(momentum) {}

  std::string type_name() const override { return "Centre"; }
  std::string kind() const override { return "ComponentCentre"; }
  Config config() const override { return {{"momentum", momentum_}}; }
  void build(std::size_t input_units, Rng&) override {
    mean_.assign(input_units, 0.0f);
    batch_mean_.assign(input_units, 0.0f);
  }
  bool built() const override { return !mean_.empty(); }
  std::size_t input_units() const override { return mean_.size(); }
  std::size_t output_units() const override { return mean_.size(); }
  std::optional<LayerShape> shape_for(std::size_t input_units) const override {
    return LayerShape{input_units, {{"moving_mean", {input_units}}}};
  }
  void reserve(std::size_t rows) override { output_.resize(rows * mean_.size()); }
  ConstMatrixView forward(ConstMatrixView x) override {
    check_columns(x, mean_.size());
    output_.resize(x.size());
    const std::vector<float>* centre = &mean_;
    if (training()) {
      std::fill(batch_mean_.begin(), batch_mean_.end(), 0.0f);
      for (std::size_t r = 0; r < x.rows; ++r) {
        for (std::size_t c = 0; c < x.cols; ++c) batch_mean_[c] += x(r, c) / static_cast<float>(x.rows);
      }
      for (std::size_t c = 0; c < x.cols; ++c) mean_[c] += (batch_mean_[c] - mean_[c]) * (1.0f - momentum_);
      centre = &batch_mean_;
    }
    for (std::size_t r = 0; r < x.rows; ++r) {
      for (std::size_t c = 0; c < x.cols; ++c) output_[r * x.cols + c] = x(r, c) - (*centre)[c];
    }
    return {output_.data(), x.rows, x.cols};
  }
  // The batch mean's own gradient is left out (a straight-through centring): enough for a test of
  // state, not a layer to ship.
  ConstMatrixView backward(ConstMatrixView dy, bool) override { return dy; }
  std::vector<Parameter> non_trainable_weights() const override {
    if (mean_.empty()) return {};
    return {Parameter{"moving_mean", const_cast<float*>(mean_.data()), nullptr, mean_.size(), {mean_.size()}}};
  }

 private:
  float momentum_;
  std::vector<float> mean_;
  std::vector<float> batch_mean_;
  std::vector<float> output_;
};

/// signSGD: w -= lr sign(g), no state per parameter.
class SignSGD final : public Optimizer {
 public:
  explicit SignSGD(float learning_rate) : learning_rate_(learning_rate) {}
  std::string name() const override { return "component_sign_sgd"; }
  Config config() const override { return {{"learning_rate", learning_rate_}}; }
  float learning_rate() const override { return learning_rate_; }

 protected:
  bool update(std::size_t, const Parameter& p) override {
    bool finite = true;
    for (std::size_t i = 0; i < p.size; ++i) {
      const float g = p.gradient[i];
      p.value[i] -= g > 0.0f ? learning_rate_ : g < 0.0f ? -learning_rate_ : 0.0f;
      finite = finite && std::isfinite(p.value[i]);
    }
    return finite;
  }
  void allocate_state(const std::vector<std::size_t>&) override {}
  void clear_state() override {}
  std::vector<std::vector<float>> slots() const override { return {}; }
  void set_slots(std::vector<std::vector<float>>) override {}

 private:
  float learning_rate_;
};

/// Mean absolute error: mean over batch and units of |p - y|; gradient sign(p - y) / (rows cols).
class MeanAbsoluteError final : public Loss {
 public:
  std::string name() const override { return "component_mean_absolute_error"; }
  double value(ConstMatrixView predictions, ConstMatrixView targets) const override {
    double total = 0.0;
    for (std::size_t i = 0; i < predictions.size(); ++i) total += std::fabs(predictions.data[i] - targets.data[i]);
    return total / static_cast<double>(predictions.size());
  }
  void gradient(ConstMatrixView predictions, ConstMatrixView targets, MatrixView grad) const override {
    const float scale = 1.0f / static_cast<float>(predictions.size());
    for (std::size_t i = 0; i < predictions.size(); ++i) {
      const float d = predictions.data[i] - targets.data[i];
      grad.data[i] = d > 0.0f ? scale : d < 0.0f ? -scale : 0.0f;
    }
  }
};

class ComponentModel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    register_layer("ComponentScale", [](const Config& config) {
      ConfigReader in(config, "ComponentScale");
      const float initial = in.real("initial", 1.0f);
      in.finish();
      return std::make_unique<Scale>(initial);
    });
    register_optimizer("component_sign_sgd", [](const Config& config) {
      ConfigReader in(config, "component_sign_sgd");
      const float learning_rate = in.real("learning_rate", 0.01f);
      in.finish();
      return std::make_unique<SignSGD>(learning_rate);
    });
    register_layer("ComponentCentre", [](const Config& config) {
      ConfigReader in(config, "ComponentCentre");
      const float momentum = in.real("momentum", 0.9f);
      in.finish();
      return std::make_unique<Centre>(momentum);
    });
    register_loss("component_mean_absolute_error", [](const Config& config) {
      ConfigReader(config, "component_mean_absolute_error").finish();
      return std::make_unique<MeanAbsoluteError>();
    });
  }

  static fs::path file(const std::string& name) {
    const fs::path dir = fs::path(::testing::TempDir()) / "xdense_component_model_test";
    fs::create_directories(dir);
    return dir / name;
  }
};

struct Data {
  Matrix x, y;
};

/// y = sin(x0) + x1 x2 / 2 over 96 samples of 3 features.
Data regression() {
  Rng rng(17);
  Data d{Matrix::from_shape({96, 3}), Matrix::from_shape({96, 1})};
  for (std::size_t r = 0; r < 96; ++r) {
    for (std::size_t c = 0; c < 3; ++c) d.x(r, c) = static_cast<float>(rng.uniform(-1.5, 1.5));
    d.y(r, 0) = std::sin(d.x(r, 0)) + 0.5f * d.x(r, 1) * d.x(r, 2);
  }
  return d;
}

/// Dense(8) -> Scale(1.5) -> tanh -> Dense(1), compiled with `loss` and `optimizer`.
Sequential scale_model(std::unique_ptr<Loss> loss, std::unique_ptr<Optimizer> optimizer) {
  Sequential model;
  model.add(std::make_unique<Dense>(8)).add(make_layer("ComponentScale", {{"initial", 1.5}})).add("tanh");
  model.add(std::make_unique<Dense>(1));
  model.compile(std::move(loss), std::move(optimizer), {});
  return model;
}

FitOptions epochs(std::size_t count, std::size_t initial = 0) {
  FitOptions options;
  options.epochs = count;
  options.initial_epoch = initial;
  options.batch_size = 16;
  if (initial == 0) options.seed = 3;  // a resumed run continues the restored engine
  return options;
}

std::vector<float> weights_of(const Sequential& model) {
  std::vector<float> all;
  for (const Parameter& p : model.parameters()) all.insert(all.end(), p.value, p.value + p.size);
  return all;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

bool same_bits(const Matrix& a, const Matrix& b) {
  return same_bits(std::vector<float>(a.begin(), a.end()), std::vector<float>(b.begin(), b.end()));
}

TEST_F(ComponentModel, UserLayerTrainsSavesLoadsAndPredictsBitForBit) {
  const Data d = regression();
  Sequential model = scale_model(make_loss("mse"), make_optimizer("adam", {{"learning_rate", 0.01}}));
  model.fit(d.x, d.y, epochs(5));
  const std::vector<Parameter> gamma = model.layer(1).parameters();
  ASSERT_EQ(gamma.size(), 1u);
  EXPECT_NE(gamma[0].value[0], 1.5f);  // trained

  save_model(file("scale.xdm").string(), model, ModelInfo{});
  SavedModel loaded = load_model(file("scale.xdm").string());
  EXPECT_EQ(loaded.model.layer(1).kind(), "ComponentScale");
  EXPECT_EQ(loaded.model.layer(1).type_name(), "Scale");
  EXPECT_EQ(loaded.model.layer(1).config(), model.layer(1).config());
  EXPECT_TRUE(same_bits(weights_of(loaded.model), weights_of(model)));
  EXPECT_TRUE(same_bits(loaded.model.predict(d.x), model.predict(d.x)));
}

TEST_F(ComponentModel, UserOptimizerAndLossResumeFromACheckpointBitForBit) {
  const Data d = regression();
  const auto make = [] {
    return scale_model(make_loss("component_mean_absolute_error", Config::object()),
                       make_optimizer("component_sign_sgd", {{"learning_rate", 0.005}}));
  };
  Sequential straight = make();
  const History full = straight.fit(d.x, d.y, epochs(4));

  Sequential first = make();
  const History early = first.fit(d.x, d.y, epochs(2));
  save_checkpoint(file("sign.xdc").string(), first, ModelInfo{}, capture_training_state(first, 2, early));
  Checkpoint checkpoint = load_checkpoint(file("sign.xdc").string());
  restore_training_state(checkpoint);
  Sequential& resumed = checkpoint.saved.model;
  EXPECT_EQ(resumed.loss()->name(), "component_mean_absolute_error");
  EXPECT_EQ(resumed.optimizer()->name(), "component_sign_sgd");
  EXPECT_EQ(resumed.optimizer()->config(), first.optimizer()->config());
  EXPECT_EQ(resumed.optimizer()->iterations(), first.optimizer()->iterations());
  EXPECT_TRUE(checkpoint.state.optimizer.slots.empty());

  const History late = resumed.fit(d.x, d.y, epochs(4, 2));
  ASSERT_EQ(late.epochs.size(), 2u);
  EXPECT_EQ(late.epochs.back().loss, full.epochs.back().loss);
  EXPECT_TRUE(same_bits(weights_of(resumed), weights_of(straight)));
  EXPECT_TRUE(same_bits(resumed.predict(d.x), straight.predict(d.x)));
}

TEST_F(ComponentModel, UserLayerWithAdamResumesWithNamedSlots) {
  // Adam keeps "momentum" and "velocity" per parameter, the user layer's gamma among them.
  const Data d = regression();
  const auto make = [] { return scale_model(make_loss("mse"), make_optimizer("adam", {{"learning_rate", 0.01}})); };
  Sequential straight = make();
  straight.fit(d.x, d.y, epochs(4));

  Sequential first = make();
  const History early = first.fit(d.x, d.y, epochs(2));
  save_checkpoint(file("adam.xdc").string(), first, ModelInfo{}, capture_training_state(first, 2, early));
  Checkpoint checkpoint = load_checkpoint(file("adam.xdc").string());
  const std::size_t parameters = first.parameters().size();  // kernel, bias, gamma, kernel, bias
  ASSERT_EQ(checkpoint.state.optimizer.names.size(), 2 * parameters);
  EXPECT_EQ(checkpoint.state.optimizer.names.front(), "momentum");
  EXPECT_EQ(checkpoint.state.optimizer.names.back(), "velocity");
  restore_training_state(checkpoint);
  checkpoint.saved.model.fit(d.x, d.y, epochs(4, 2));
  EXPECT_TRUE(same_bits(weights_of(checkpoint.saved.model), weights_of(straight)));
}

// Non-trainable state and the training mode: fit moves the layer's moving mean, predict and
// evaluate leave it alone; the model file and a checkpoint carry it by name; summary counts it as
// Keras does.
TEST_F(ComponentModel, UserLayerStateFollowsTheModeAndSavesByName) {
  const Data d = regression();
  const auto make = [] {
    Sequential model;
    model.add(std::make_unique<Dense>(6)).add(make_layer("ComponentCentre", {{"momentum", 0.5}})).add("tanh");
    model.add(std::make_unique<Dense>(1));
    model.compile(make_loss("mse"), make_optimizer("adam", {{"learning_rate", 0.01}}), {});
    return model;
  };
  Sequential model = make();
  model.fit(d.x, d.y, epochs(2));
  const std::vector<Parameter> state = model.layer(1).non_trainable_weights();
  ASSERT_EQ(state.size(), 1u);
  const std::vector<float> trained(state[0].value, state[0].value + state[0].size);
  EXPECT_NE(trained, std::vector<float>(6, 0.0f));  // moved in training mode
  const Matrix first = model.predict(d.x);
  model.evaluate(d.x, d.y);
  EXPECT_TRUE(same_bits(std::vector<float>(state[0].value, state[0].value + 6), trained));  // inference: untouched
  EXPECT_TRUE(same_bits(model.predict(d.x), first));
  EXPECT_NE(model.summary().find("Non-trainable params: 6"), std::string::npos) << model.summary();
  EXPECT_EQ(model.parameters().size(), 4u);  // the optimizer never sees the state

  save_model(file("centre.xdm").string(), model, ModelInfo{});
  SavedModel loaded = load_model(file("centre.xdm").string());
  const std::vector<Parameter> loaded_state = loaded.model.layer(1).non_trainable_weights();
  ASSERT_EQ(loaded_state.size(), 1u);
  EXPECT_TRUE(same_bits(std::vector<float>(loaded_state[0].value, loaded_state[0].value + 6), trained));
  EXPECT_TRUE(same_bits(loaded.model.predict(d.x), first));

  // Resume: 2 epochs, checkpoint, 2 more gives what 4 straight give, state included.
  Sequential straight = make();
  straight.fit(d.x, d.y, epochs(4));
  Sequential early = make();
  const History history = early.fit(d.x, d.y, epochs(2));
  save_checkpoint(file("centre.xdc").string(), early, ModelInfo{}, capture_training_state(early, 2, history));
  Checkpoint checkpoint = load_checkpoint(file("centre.xdc").string());
  restore_training_state(checkpoint);
  checkpoint.saved.model.fit(d.x, d.y, epochs(4, 2));
  const Parameter resumed = checkpoint.saved.model.layer(1).non_trainable_weights()[0];
  const Parameter uninterrupted = straight.layer(1).non_trainable_weights()[0];
  EXPECT_TRUE(same_bits(std::vector<float>(resumed.value, resumed.value + 6),
                        std::vector<float>(uninterrupted.value, uninterrupted.value + 6)));
  EXPECT_TRUE(same_bits(weights_of(checkpoint.saved.model), weights_of(straight)));
}

}  // namespace
}  // namespace xdense
