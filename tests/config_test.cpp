// The component model's self-description: every built-in layer, activation, optimizer and loss
// says its kind and Config and is rebuilt from them through its family's registry; ConfigReader
// refuses what a factory cannot take, naming the key.
#include "xdense/config.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "error_messages.hpp"
#include "xdense/activation.hpp"
#include "xdense/dense.hpp"
#include "xdense/error.hpp"
#include "xdense/loss.hpp"
#include "xdense/optimizer.hpp"
#include "xdense/random.hpp"

namespace xdense {
namespace {

using testing::contains;
using testing::message_of;

// --- ConfigReader -----------------------------------------------------------------------

TEST(ConfigReader, ReadsTypedValuesWithFallbacks) {
  const Config config = {{"units", 8}, {"rate", 0.25}, {"on", true}, {"how", "fast"}};
  ConfigReader in(config, "Thing");
  EXPECT_EQ(in.positive_integer("units"), 8u);
  EXPECT_DOUBLE_EQ(in.number("rate", 1.0), 0.25);
  EXPECT_FLOAT_EQ(in.real("missing", 2.5f), 2.5f);
  EXPECT_TRUE(in.boolean("on", false));
  EXPECT_EQ(in.text("how", ""), "fast");
  EXPECT_EQ(in.text("absent", "default"), "default");
  EXPECT_NO_THROW(in.finish());
}

TEST(ConfigReader, NullIsAnEmptyObject) {
  const Config null_config;
  ConfigReader in(null_config, "Thing");
  EXPECT_FALSE(in.has("units"));
  EXPECT_NO_THROW(in.finish());
}

TEST(ConfigReader, RefusalsNameTheComponentAndTheKey) {
  const Config array = Config::array();
  EXPECT_TRUE(contains(message_of<InvalidArgument>([&] { ConfigReader(array, "Dense"); }),
                       "Dense config: expected a JSON object"));
  const auto refused = [](const Config& config, auto read) {
    return message_of<InvalidArgument>([&] {
      ConfigReader in(config, "Dense");
      read(in);
    });
  };
  const auto units = [](ConfigReader& in) { in.positive_integer("units"); };
  EXPECT_TRUE(contains(refused(Config::object(), units), "Dense config: \"units\": missing"));
  for (const Config& bad : {Config(0), Config(-3), Config(2.5), Config("8"), Config(true)}) {
    EXPECT_TRUE(contains(refused({{"units", bad}}, units), "\"units\": expected a positive integer")) << bad.dump();
  }
  EXPECT_TRUE(contains(refused({{"units", std::uint64_t{1} << 40}}, units), "at most 2147483648"));
  EXPECT_TRUE(contains(refused({{"rate", "x"}}, [](ConfigReader& in) { in.number("rate", 0); }),
                       "\"rate\": expected a finite number, received '\"x\"'"));
  EXPECT_TRUE(contains(refused({{"rate", 1e300}}, [](ConfigReader& in) { in.real("rate", 0); }), "float range"));
  EXPECT_TRUE(contains(refused({{"on", 1}}, [](ConfigReader& in) { in.boolean("on", false); }),
                       "expected true or false"));
  EXPECT_TRUE(contains(refused({{"how", 3}}, [](ConfigReader& in) { in.text("how", ""); }), "expected a string"));
}

TEST(ConfigReader, FinishRefusesKeysNobodyRead) {
  const Config config = {{"units", 4}, {"unit", 5}};
  ConfigReader in(config, "Dense");
  in.positive_integer("units");
  in.ignore("name");
  const std::string m = message_of<InvalidArgument>([&] { in.finish(); });
  EXPECT_TRUE(contains(m, "Dense config: \"unit\": unknown key (expected one of: name, units)"));
}

// --- registries ---------------------------------------------------------------------------

TEST(LayerRegistry, BuiltInsRebuildFromKindAndConfig) {
  EXPECT_EQ(layer_kinds(), (std::vector<std::string>{"Activation", "BatchNormalization", "Dense", "Dropout",
                                                     "LayerNormalization"}));
  DenseOptions options;
  options.use_bias = false;
  options.kernel_initializer = "he_normal";
  const Dense dense(7, 0, options);
  EXPECT_EQ(dense.kind(), "Dense");
  EXPECT_EQ(dense.config(), (Config{{"units", 7}, {"use_bias", false}, {"kernel_initializer", "he_normal"},
                                    {"bias_initializer", "zeros"}}));
  const std::unique_ptr<Layer> rebuilt = make_layer(dense.kind(), dense.config());
  EXPECT_EQ(rebuilt->kind(), "Dense");
  EXPECT_EQ(rebuilt->config(), dense.config());
  // Keras's "name" is accepted and ignored; its "activation" is not a Dense key here.
  EXPECT_NO_THROW(make_layer("Dense", {{"units", 3}, {"name", "dense_4"}}));
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { make_layer("Dense", {{"units", 3}, {"activation", "relu"}}); }),
                       "Dense config: \"activation\": unknown key"));
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { make_layer("Dense", {{"units", 3}, {"kernel_initializer", "nope"}}); }),
                       "nope"));

  for (const std::string spec : {"relu", "leaky_relu(0.1)", "binary_step(ste)", "softmax", "linear"}) {
    const std::unique_ptr<Activation> activation = make_activation(spec);
    EXPECT_EQ(activation->kind(), "Activation");
    EXPECT_EQ(activation->config(), (Config{{"activation", spec}}));
    const std::unique_ptr<Layer> layer = make_layer("Activation", activation->config());
    ASSERT_NE(layer->as_activation(), nullptr);
    EXPECT_EQ(layer->as_activation()->spec(), spec);
  }
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { make_layer("Activation", Config::object()); }),
                       "Activation config: \"activation\": missing"));
}

TEST(LayerRegistry, UnknownKindNamesTheRegisteredOnes) {
  const std::string m = message_of<InvalidArgument>([] { make_layer("Conv2D", Config::object()); });
  EXPECT_TRUE(contains(m, "unknown layer 'Conv2D' (expected one of: Activation, BatchNormalization, Dense, Dropout, "
                          "LayerNormalization)"));
}

TEST(LayerRegistry, RefusesNamesThatCannotBeParsedAndEmptyFactories) {
  EXPECT_THROW(register_layer("my layer", [](const Config&) { return std::unique_ptr<Layer>(); }), InvalidArgument);
  EXPECT_THROW(register_layer("f(x)", [](const Config&) { return std::unique_ptr<Layer>(); }), InvalidArgument);
  EXPECT_THROW(register_layer("Empty", nullptr), InvalidArgument);
  register_layer("ReturnsNull", [](const Config&) { return std::unique_ptr<Layer>(); });
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { make_layer("ReturnsNull", {}); }), "returned null"));
}

TEST(LayerRegistry, NamedParametersWithShapes) {
  Rng rng(3);
  Dense dense(4);
  EXPECT_TRUE(dense.parameters().empty());  // before build
  dense.build(3, rng);
  const Dense& view = dense;  // usable on a const layer
  const std::vector<Parameter> weights = view.weights();
  ASSERT_EQ(weights.size(), 2u);
  EXPECT_EQ(weights[0].name, "kernel");
  EXPECT_EQ(weights[0].shape, (std::vector<std::size_t>{3, 4}));
  EXPECT_EQ(weights[0].value, dense.kernel().data());
  EXPECT_EQ(weights[1].name, "bias");
  EXPECT_EQ(weights[1].shape, (std::vector<std::size_t>{4}));
  EXPECT_EQ(view.parameter_count(), 16u);
  EXPECT_TRUE(view.non_trainable_weights().empty());
}

TEST(OptimizerRegistry, BuiltInsRebuildFromNameAndConfig) {
  EXPECT_EQ(optimizer_names(), (std::vector<std::string>{"adagrad", "adam", "adamax", "adamw", "nadam", "rmsprop", "sgd"}));
  SGDOptions sgd_options;
  sgd_options.learning_rate = 0.05f;
  sgd_options.momentum = 0.9f;
  sgd_options.nesterov = true;
  const SGD sgd(sgd_options);
  const auto sgd_again = make_optimizer(sgd.name(), sgd.config());
  EXPECT_EQ(sgd_again->config(), sgd.config());
  EXPECT_EQ(dynamic_cast<const SGD&>(*sgd_again).options().momentum, 0.9f);  // the float, exactly
  EXPECT_EQ(sgd.slot_names(), (std::vector<std::string>{"momentum"}));
  EXPECT_TRUE(SGD().slot_names().empty());

  AdamOptions adam_options;
  adam_options.learning_rate = 3e-4f;
  adam_options.beta2 = 0.98f;
  adam_options.epsilon = 1e-8f;
  const Adam adam(adam_options);
  EXPECT_EQ(adam.config(), (Config{{"learning_rate", 3e-4f}, {"beta_1", 0.9f}, {"beta_2", 0.98f}, {"epsilon", 1e-8f}}));
  const auto adam_again = make_optimizer("adam", Config::parse(adam.config().dump()));  // through text
  const AdamOptions& rebuilt = dynamic_cast<const Adam&>(*adam_again).options();
  EXPECT_EQ(rebuilt.learning_rate, 3e-4f);
  EXPECT_EQ(rebuilt.beta2, 0.98f);
  EXPECT_EQ(rebuilt.epsilon, 1e-8f);
  EXPECT_EQ(adam.slot_names(), (std::vector<std::string>{"momentum", "velocity"}));

  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { make_optimizer("adam", {{"beta1", 0.8}}); }),
                       "Adam config: \"beta1\": unknown key"));
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { make_optimizer("sgd", {{"momentum", 1.5}}); }), "momentum"));
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { make_optimizer("lamb"); }),
                       "unknown optimizer 'lamb' (expected one of: adagrad, adam, adamax, adamw, nadam, rmsprop, sgd)"));
}

TEST(OptimizerRegistry, StateNamesItsSlots) {
  float w[2] = {1.0f, 2.0f}, g[2] = {0.5f, -0.5f}, b[1] = {0.0f}, gb[1] = {1.0f};
  const std::vector<Parameter> parameters{{"kernel", w, g, 2}, {"bias", b, gb, 1}};
  Adam adam;
  adam.step(parameters);
  OptimizerState state = adam.state();
  ASSERT_EQ(state.slots.size(), 4u);
  EXPECT_EQ(state.names, (std::vector<std::string>{"momentum", "momentum", "velocity", "velocity"}));
  Adam other;
  EXPECT_NO_THROW(other.restore(state, parameters));
  state.names = {"velocity", "velocity", "momentum", "momentum"};
  EXPECT_TRUE(contains(message_of<ShapeError>([&] { other.restore(state, parameters); }),
                       "not this optimizer's slots (momentum, velocity per parameter)"));
}

// An optimizer keeping one array per parameter without naming it (slot_names() left empty).
class UnnamedSlots final : public Optimizer {
 public:
  std::string name() const override { return "unnamed_slots"; }
  float learning_rate() const override { return 0.1f; }

 protected:
  bool update(std::size_t index, const Parameter& p) override {
    for (std::size_t i = 0; i < p.size; ++i) p.value[i] -= 0.1f * (state_[index][i] += p.gradient[i]);
    return true;
  }
  void allocate_state(const std::vector<std::size_t>& sizes) override {
    state_.clear();
    for (std::size_t n : sizes) state_.emplace_back(n, 0.0f);
  }
  void clear_state() override { state_.clear(); }
  std::vector<std::vector<float>> slots() const override { return state_; }
  void set_slots(std::vector<std::vector<float>> slots) override { state_ = std::move(slots); }

 private:
  std::vector<std::vector<float>> state_;
};

TEST(OptimizerRegistry, UnnamedSlotsRestoreUnnamedAndRefuseNames) {
  float w[2] = {1.0f, 2.0f}, g[2] = {0.5f, -0.5f};
  const std::vector<Parameter> parameters{{"kernel", w, g, 2}};
  UnnamedSlots optimizer;
  optimizer.step(parameters);
  OptimizerState state = optimizer.state();
  EXPECT_TRUE(state.names.empty());
  UnnamedSlots other;
  EXPECT_NO_THROW(other.restore(state, parameters));
  state.names = {"momentum"};  // names it does not declare: refused, never divided by zero
  EXPECT_THROW(other.restore(state, parameters), ShapeError);
}

TEST(LossRegistry, BuiltInsRebuildFromNameAndConfig) {
  for (const std::string& name : loss_names()) {
    const auto loss = make_loss(name);
    // Defaults save as {}, but for a loss with a setting of its own (huber's delta).
    if (name != "huber") {
      EXPECT_EQ(loss->config(), Config::object()) << name;
    }
    EXPECT_EQ(make_loss(loss->name(), loss->config())->name(), name);
    EXPECT_EQ(make_loss(loss->name(), loss->config())->config(), loss->config()) << name;
  }
  EXPECT_NO_THROW(make_loss("mse", {{"name", "mean_squared_error"}, {"reduction", "sum_over_batch_size"}}));
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { make_loss("bce", {{"from_logits", true}}); }),
                       "binary_crossentropy config: \"from_logits\": unknown key"));
}

// A user's loss registers the same way as a built-in, under its own name and aliases.
class MeanAbsoluteError final : public Loss {
 public:
  std::string name() const override { return "test_mean_absolute_error"; }
  double value(ConstMatrixView p, ConstMatrixView y) const override {
    double sum = 0;
    for (std::size_t i = 0; i < p.size(); ++i) sum += std::abs(p.data[i] - y.data[i]);
    return sum / static_cast<double>(p.size());
  }
  void gradient(ConstMatrixView p, ConstMatrixView y, MatrixView grad) const override {
    for (std::size_t i = 0; i < p.size(); ++i) {
      grad.data[i] = (p.data[i] > y.data[i] ? 1.0f : p.data[i] < y.data[i] ? -1.0f : 0.0f) / float(p.size());
    }
  }
};

TEST(LossRegistry, UserLossesRegisterWithAliases) {
  register_loss("test_mean_absolute_error", [](const Config&) { return std::make_unique<MeanAbsoluteError>(); },
                {"test_mae"});
  EXPECT_EQ(make_loss("test_mae")->name(), "test_mean_absolute_error");
  const std::vector<std::string> names = loss_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "test_mean_absolute_error"), names.end());
  EXPECT_EQ(std::find(names.begin(), names.end(), "test_mae"), names.end());  // aliases are not listed
}

}  // namespace
}  // namespace xdense
