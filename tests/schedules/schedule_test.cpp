// The built-in learning-rate schedules against values worked out by hand from Keras's formulas
// (keras/src/optimizers/schedules/learning_rate_schedule.py), their configs, their refusals, and an
// optimizer following one: the rate of each step, config() in Keras 3's serialized form and
// make_optimizer() reading it back (Keras 2's form too). The step-by-step comparison with Keras's
// float32 arithmetic over hundreds of steps is keras_schedules_oracle_test.

#include "xdense/schedule.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "error_messages.hpp"
#include "xdense/optimizer.hpp"
#include "xdense/schedules/cosine_decay.hpp"
#include "xdense/schedules/exponential_decay.hpp"
#include "xdense/schedules/inverse_time_decay.hpp"
#include "xdense/schedules/piecewise_constant_decay.hpp"
#include "xdense/schedules/polynomial_decay.hpp"

namespace xdense {
namespace {

using namespace xdense::testing;

// The schedules compute in float32: a hand value (exact in decimal) is met within a few float ulps.
void expect_rate(const LearningRateSchedule& schedule, std::size_t step, double expected) {
  EXPECT_NEAR(schedule.at(step), expected, 4e-7 * std::max(1.0, std::abs(expected)))
      << schedule.name() << " at step " << step;
}

std::unique_ptr<LearningRateSchedule> make(const std::string& name, const Config& config) {
  return make_schedule(name, config);
}

TEST(Schedules, RegisteredUnderKerasClassNamesWithShortAliases) {
  EXPECT_EQ(schedule_names(), (std::vector<std::string>{"CosineDecay", "ExponentialDecay", "InverseTimeDecay",
                                                        "PiecewiseConstantDecay", "PolynomialDecay"}));
  const Config decay = {{"initial_learning_rate", 0.1}, {"decay_steps", 10}, {"decay_rate", 0.5}};
  EXPECT_EQ(make("exponential", decay)->name(), "ExponentialDecay");
  EXPECT_EQ(make("inverse_time", decay)->name(), "InverseTimeDecay");
  EXPECT_EQ(make("cosine", {{"initial_learning_rate", 0.1}, {"decay_steps", 10}})->name(), "CosineDecay");
  EXPECT_EQ(make("polynomial", {{"initial_learning_rate", 0.1}, {"decay_steps", 10}})->name(), "PolynomialDecay");
  EXPECT_EQ(make("piecewise", {{"boundaries", {5}}, {"values", {0.1, 0.01}}})->name(), "PiecewiseConstantDecay");
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { make("step", Config::object()); }),
                       "unknown learning-rate schedule 'step' (expected one of: CosineDecay, ExponentialDecay"));
}

// ---- hand values --------------------------------------------------------------------------------

TEST(ExponentialDecay, RateIsInitialTimesDecayRateToTheStepsOverDecaySteps) {
  // 0.1 0.5^(step / 10): 0.1, 0.1 sqrt(0.5), 0.05, 0.025.
  const ExponentialDecay smooth({0.1, 10, 0.5, false});
  expect_rate(smooth, 0, 0.1);
  expect_rate(smooth, 5, 0.1 * std::sqrt(0.5));
  expect_rate(smooth, 10, 0.05);
  expect_rate(smooth, 20, 0.025);
  // Staircase: the exponent floored, so the rate drops at steps 10, 20, ... only.
  const ExponentialDecay stairs({0.1, 10, 0.5, true});
  expect_rate(stairs, 9, 0.1);
  expect_rate(stairs, 10, 0.05);
  expect_rate(stairs, 19, 0.05);
  expect_rate(stairs, 20, 0.025);
}

TEST(InverseTimeDecay, RateIsInitialOverOnePlusDecayRateTimesStepsOverDecaySteps) {
  // 0.1 / (1 + 2 step / 10): 0.1, 0.05 (step 5), 1/30 (step 10), 0.01 (step 45).
  const InverseTimeDecay smooth({0.1, 10, 2.0, false});
  expect_rate(smooth, 0, 0.1);
  expect_rate(smooth, 5, 0.05);
  expect_rate(smooth, 10, 0.1 / 3);
  expect_rate(smooth, 45, 0.01);
  const InverseTimeDecay stairs({0.1, 10, 2.0, true});
  expect_rate(stairs, 9, 0.1);
  expect_rate(stairs, 19, 0.1 / 3);
}

TEST(PolynomialDecay, GoesLinearlyOrAlongAPowerToTheEndRateThenStays) {
  // (0.1 - 0.01)(1 - min(step, 10) / 10)^power + 0.01.
  const PolynomialDecay linear({0.1, 10, 0.01, 1.0, false});
  expect_rate(linear, 0, 0.1);
  expect_rate(linear, 5, 0.055);
  expect_rate(linear, 10, 0.01);
  expect_rate(linear, 1000, 0.01);
  const PolynomialDecay square({0.1, 10, 0.01, 2.0, false});
  expect_rate(square, 5, 0.09 * 0.25 + 0.01);
  // cycle: decay_steps times ceil(step / decay_steps): 10 at steps 1..10, 20 at 11..20.
  const PolynomialDecay cycle({0.1, 10, 0.01, 1.0, true});
  expect_rate(cycle, 0, 0.1);
  expect_rate(cycle, 10, 0.01);
  expect_rate(cycle, 11, 0.09 * (1 - 11.0 / 20) + 0.01);
  expect_rate(cycle, 15, 0.09 * 0.25 + 0.01);
  expect_rate(cycle, 20, 0.01);
  // Keras's default end rate.
  EXPECT_EQ(PolynomialDecayOptions{}.end_learning_rate, 0.0001);
}

TEST(CosineDecay, HalfACosineFromTheInitialRateToAlphaTimesIt) {
  // 1 ((1 - alpha) 0.5 (1 + cos(pi min(step, 100) / 100)) + alpha).
  const CosineDecay plain({1.0, 100, 0.0, std::nullopt, 0});
  expect_rate(plain, 0, 1.0);
  expect_rate(plain, 50, 0.5);
  expect_rate(plain, 25, 0.5 * (1 + std::sqrt(0.5)));
  EXPECT_NEAR(plain.at(100), 0.0, 1e-7);  // cos(pi) in float32: 0 within rounding
  EXPECT_EQ(plain.at(100), plain.at(5000));
  const CosineDecay floor({1.0, 100, 0.1, std::nullopt, 0});
  expect_rate(floor, 50, 0.9 * 0.5 + 0.1);
  expect_rate(floor, 100, 0.1);
  expect_rate(floor, 300, 0.1);
}

TEST(CosineDecay, LinearWarmupToTheTargetThenTheDecayFromIt) {
  // Warmup 0 -> 2 over 10 steps, then 2 ((1 - 0.5) 0.5 (1 + cos(pi (step - 10) / 100)) + 0.5).
  const CosineDecay warm({0.0, 100, 0.5, 2.0, 10});
  expect_rate(warm, 0, 0.0);
  expect_rate(warm, 1, 0.2);
  expect_rate(warm, 5, 1.0);
  expect_rate(warm, 10, 2.0);
  expect_rate(warm, 60, 2 * (0.5 * 0.5 + 0.5));
  expect_rate(warm, 110, 1.0);
  expect_rate(warm, 10000, 1.0);
  // A warmup_target with no warmup steps: Keras decays from the target at once.
  const CosineDecay target_only({0.5, 100, 0.0, 2.0, 0});
  expect_rate(target_only, 0, 2.0);
  expect_rate(target_only, 50, 1.0);
}

TEST(PiecewiseConstantDecay, StepsAtABoundaryKeepTheValueBelowIt) {
  // Keras: values[0] for step <= 100, values[1] for 100 < step <= 200, values[2] after.
  const PiecewiseConstantDecay pieces({{100, 200}, {1.0, 0.5, 0.1}});
  expect_rate(pieces, 0, 1.0);
  expect_rate(pieces, 100, 1.0);
  expect_rate(pieces, 101, 0.5);
  expect_rate(pieces, 200, 0.5);
  expect_rate(pieces, 201, 0.1);
  expect_rate(pieces, 1u << 30, 0.1);
  // The value is rounded to float32 as Keras's tensor holds it.
  EXPECT_EQ(pieces.at(300), static_cast<double>(0.1f));
}

// ---- configs --------------------------------------------------------------------------------------

TEST(Schedules, ConfigGivesBackWhatWasReadAndRebuildsTheSameSchedule) {
  const std::vector<std::pair<std::string, Config>> cases = {
      {"ExponentialDecay", {{"initial_learning_rate", 0.1}, {"decay_steps", 1000}, {"decay_rate", 0.96}, {"staircase", true}}},
      {"InverseTimeDecay", {{"initial_learning_rate", 0.5}, {"decay_steps", 2.5}, {"decay_rate", 0.5}, {"staircase", false}}},
      {"PolynomialDecay",
       {{"initial_learning_rate", 0.1}, {"decay_steps", 100}, {"end_learning_rate", 0.001}, {"power", 0.5}, {"cycle", true}}},
      {"CosineDecay",
       {{"initial_learning_rate", 0.0}, {"decay_steps", 300}, {"alpha", 0.1}, {"warmup_target", 0.01}, {"warmup_steps", 30}}},
      {"CosineDecay",
       {{"initial_learning_rate", 0.01}, {"decay_steps", 300}, {"alpha", 0.0}, {"warmup_target", nullptr}, {"warmup_steps", 0}}},
      {"PiecewiseConstantDecay", {{"boundaries", {10, 20}}, {"values", {0.1, 0.05, 0.01}}}},
  };
  for (const auto& [name, config] : cases) {
    SCOPED_TRACE(name + " " + config.dump());
    const auto schedule = make(name, config);
    EXPECT_EQ(schedule->config(), config);
    EXPECT_EQ(schedule->config().dump(), config.dump());  // integers stay integers
    const auto again = make(schedule->name(), schedule->config());
    for (std::size_t step = 0; step < 400; step += 7) EXPECT_EQ(again->at(step), schedule->at(step));
  }
}

TEST(Schedules, KerasDefaultsAndItsNameKeyIsAccepted) {
  // Keras's get_config() holds "name"; xdense accepts and drops it.
  const auto cosine = make("CosineDecay", {{"initial_learning_rate", 0.1}, {"decay_steps", 10}, {"name", "CosineDecay"}});
  EXPECT_EQ(cosine->config(), (Config{{"initial_learning_rate", 0.1}, {"decay_steps", 10}, {"alpha", 0.0},
                                       {"warmup_target", nullptr}, {"warmup_steps", 0}}));
  const auto polynomial = make("PolynomialDecay", {{"initial_learning_rate", 0.1}, {"decay_steps", 10}});
  EXPECT_EQ(polynomial->config(), (Config{{"initial_learning_rate", 0.1}, {"decay_steps", 10},
                                           {"end_learning_rate", 0.0001}, {"power", 1.0}, {"cycle", false}}));
}

TEST(Schedules, ConfigMistakesAreRefusedNamingTheKey) {
  const auto refused = [](const std::string& name, const Config& config) {
    return message_of<ConfigError>([&] { make(name, config); });
  };
  EXPECT_EQ(refused("exponential", {{"initial_learning_rate", 0.1}, {"decay_steps", 10}, {"decay_rat", 0.5}}),
            "ExponentialDecay config: \"decay_rate\": missing (expected a number)");
  EXPECT_TRUE(contains(refused("exponential", {{"initial_learning_rate", 0.1}, {"decay_steps", 10}, {"decay_rate", 0.5},
                                               {"stair", true}}),
                       "ExponentialDecay config: \"stair\": unknown key (expected one of: decay_rate, decay_steps, "
                       "initial_learning_rate, name, staircase)"));
  EXPECT_EQ(refused("exponential", {{"initial_learning_rate", 0.1}, {"decay_steps", 0}, {"decay_rate", 0.5}}),
            "ExponentialDecay config: \"decay_steps\": expected a finite number > 0, received 0");
  EXPECT_EQ(refused("inverse_time", {{"initial_learning_rate", 0.1}, {"decay_steps", 5}, {"decay_rate", -1}}),
            "InverseTimeDecay config: \"decay_rate\": expected a finite number >= 0, received -1");
  EXPECT_EQ(refused("exponential", {{"initial_learning_rate", 0}, {"decay_steps", 5}, {"decay_rate", 0.5}}),
            "ExponentialDecay config: \"initial_learning_rate\": expected a finite number > 0, received 0");
  EXPECT_EQ(refused("exponential", {{"initial_learning_rate", 0.1}, {"decay_steps", "10"}, {"decay_rate", 0.5}}),
            "ExponentialDecay config: \"decay_steps\": expected a finite number, received '\"10\"'");
  EXPECT_EQ(refused("cosine", {{"initial_learning_rate", 0.1}, {"decay_steps", 10}, {"alpha", 1.5}}),
            "CosineDecay config: \"alpha\": expected a number in [0, 1], received 1.5");
  EXPECT_EQ(refused("cosine", {{"initial_learning_rate", 0.1}, {"decay_steps", 10}, {"warmup_steps", 5}}),
            "CosineDecay config: \"warmup_steps\": warmup_steps=5 needs a warmup_target, the rate to warm up to "
            "(Keras would skip the warmup)");
  EXPECT_EQ(refused("polynomial", {{"initial_learning_rate", 0.1}, {"decay_steps", 10}, {"power", 1e39}}),
            "PolynomialDecay config: \"power\": expected a finite number >= 0, received 1e+39");
  EXPECT_EQ(refused("piecewise", {{"boundaries", {10, 10}}, {"values", {1, 2, 3}}}),
            "PiecewiseConstantDecay config: \"boundaries\": expected strictly increasing step counts, received [10,10]");
  EXPECT_EQ(refused("piecewise", {{"boundaries", {10}}, {"values", {1, 2, 3}}}),
            "PiecewiseConstantDecay config: \"values\": expected one more value than boundaries (2), received 3: "
            "[1.0,2.0,3.0]");
  EXPECT_EQ(refused("piecewise", {{"boundaries", {10.5}}, {"values", {1, 2}}}),
            "PiecewiseConstantDecay config: \"boundaries\": expected whole step counts >= 0, received '10.5'");
  EXPECT_EQ(refused("piecewise", {{"boundaries", Config::array()}, {"values", {1}}}),
            "PiecewiseConstantDecay config: \"boundaries\": expected at least one boundary, received []");
  EXPECT_EQ(refused("piecewise", {{"boundaries", 10}, {"values", {1, 2}}}),
            "PiecewiseConstantDecay config: \"boundaries\": expected a list of numbers, received '10'");
  EXPECT_EQ(refused("piecewise", {{"boundaries", {10}}, {"values", {1, -2}}}),
            "PiecewiseConstantDecay config: \"values[1]\": expected a finite number >= 0, received -2");
}

// ---- serialization --------------------------------------------------------------------------------

TEST(Schedules, SerializedAsKeras3DoesAndReadBackInEitherKerasForm) {
  const ExponentialDecay schedule({0.1, 1000, 0.96, true});
  const Config serialized = serialize_schedule(schedule);
  EXPECT_EQ(serialized, (Config{{"module", "keras.optimizers.schedules"},
                                {"class_name", "ExponentialDecay"},
                                {"config", schedule.config()},
                                {"registered_name", nullptr}}));
  EXPECT_EQ(deserialize_schedule(serialized)->config(), schedule.config());
  // Keras 2: {"class_name", "config"}, the config with its "name".
  Config keras2 = {{"class_name", "ExponentialDecay"}, {"config", schedule.config()}};
  keras2["config"]["name"] = "ExponentialDecay";
  EXPECT_EQ(deserialize_schedule(keras2)->config(), schedule.config());
  EXPECT_EQ(message_of<ConfigError>([] { deserialize_schedule({{"class_name", "Step"}}); }),
            "learning-rate schedule config: \"class_name\": unknown learning-rate schedule 'Step' (expected one of: "
            "CosineDecay, ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay, PolynomialDecay)");
  EXPECT_TRUE(contains(message_of<ConfigError>([] { deserialize_schedule({{"config", Config::object()}}); }),
                       "\"class_name\": missing"));
  EXPECT_TRUE(contains(
      message_of<ConfigError>([] { deserialize_schedule({{"class_name", "CosineDecay"}, {"confg", Config::object()}}); }),
      "\"confg\": unknown key"));
  const ConfigError inner = [] {
    try {
      deserialize_schedule({{"class_name", "CosineDecay"}, {"config", {{"initial_learning_rate", 0.1}}}});
    } catch (const ConfigError& e) {
      return e;
    }
    return ConfigError("", "", "did not throw");
  }();
  EXPECT_EQ(inner.key(), "config.decay_steps");
  EXPECT_EQ(inner.reason(), "missing (expected a number)");
}

// ---- an optimizer following a schedule ------------------------------------------------------------

TEST(ScheduledOptimizer, EachStepUsesTheRateOfTheStepsDoneBeforeIt) {
  // SGD on one weight with gradient 1: w -= lr(t) for t = 0, 1, 2, ... (Keras: schedule(iterations)).
  SGD sgd(SGDOptions{0.5f});
  sgd.set_schedule(std::make_shared<PiecewiseConstantDecay>(PiecewiseConstantDecayOptions{{1}, {1.0, 0.25}}));
  EXPECT_EQ(sgd.learning_rate(), 1.0f);  // the next step's rate, in effect at once
  float w = 0.0f, g = 1.0f;
  const std::vector<Parameter> parameters = {Parameter{"w", &w, &g, 1}};
  const float expected[] = {-1.0f, -2.0f, -2.25f, -2.5f};
  for (float after : expected) {
    EXPECT_EQ(sgd.current_learning_rate(), sgd.iterations() <= 1 ? 1.0 : 0.25);
    sgd.step(parameters);
    EXPECT_EQ(w, after) << "after step " << sgd.iterations();
  }
  EXPECT_TRUE(contains(message_of<StateError>([&] { sgd.set_learning_rate(0.1f); }),
                       "sgd: the learning rate follows a schedule (PiecewiseConstantDecay) and cannot be set"));
  sgd.set_schedule(nullptr);  // back to a fixed rate: the last one in effect
  sgd.set_learning_rate(0.1f);
  EXPECT_EQ(sgd.current_learning_rate(), static_cast<double>(0.1f));
}

TEST(ScheduledOptimizer, ConfigHoldsTheSerializedScheduleAndEveryOptimizerReadsItBack) {
  const auto schedule = std::make_shared<CosineDecay>(CosineDecayOptions{0.0, 100, 0.1, 0.01, 10});
  for (const std::string& name : optimizer_names()) {
    SCOPED_TRACE(name);
    const Config base = name == "adamw" ? Config{{"weight_decay", 0.004}} : Config{{"clipnorm", 1.0}};
    auto optimizer = make_optimizer(name, base);
    optimizer->set_schedule(schedule);
    const Config config = optimizer->config();
    EXPECT_EQ(config.at("learning_rate"), serialize_schedule(*schedule));
    const auto rebuilt = make_optimizer(name, config);
    ASSERT_NE(rebuilt->schedule(), nullptr);
    EXPECT_EQ(rebuilt->schedule()->config(), schedule->config());
    EXPECT_EQ(rebuilt->config(), config);
    EXPECT_EQ(rebuilt->current_learning_rate(), 0.0);
    // Keras 2's form of the same.
    Config keras2 = config;
    keras2["learning_rate"] = {{"class_name", "CosineDecay"}, {"config", schedule->config()}};
    EXPECT_EQ(make_optimizer(name, keras2)->config(), config);
  }
}

TEST(ScheduledOptimizer, AScheduleMistakeInAnOptimizerConfigIsNamedByItsPath) {
  const Config config = {{"learning_rate", {{"class_name", "ExponentialDecay"},
                                            {"config", {{"initial_learning_rate", 0.1}, {"decay_steps", -5},
                                                        {"decay_rate", 0.5}}}}}};
  EXPECT_EQ(message_of<ConfigError>([&] { make_optimizer("adam", config); }),
            "adam config: \"learning_rate.config.decay_steps\": expected a finite number > 0, received -5");
  EXPECT_TRUE(contains(message_of<ConfigError>([] { make_optimizer("sgd", {{"learning_rate", {{"class_name", "X"}}}}); }),
                       "sgd config: \"learning_rate.class_name\": unknown learning-rate schedule 'X'"));
  // The optimizer's own keys are still checked.
  const Config other = {{"learning_rate", serialize_schedule(ExponentialDecay({0.1, 10, 0.5}))}, {"momentun", 0.9}};
  EXPECT_TRUE(contains(message_of<ConfigError>([&] { make_optimizer("sgd", other); }), "\"momentun\": unknown key"));
}

TEST(ScheduledOptimizer, RestoreAndResetTakeTheRateOfTheirStepCount) {
  SGD sgd(SGDOptions{0.5f});
  sgd.set_schedule(std::make_shared<ExponentialDecay>(ExponentialDecayOptions{0.1, 1, 0.5}));
  float w = 0.0f, g = 1.0f;
  const std::vector<Parameter> parameters = {Parameter{"w", &w, &g, 1}};
  for (int i = 0; i < 3; ++i) sgd.step(parameters);
  EXPECT_EQ(sgd.learning_rate(), 0.1f * 0.125f);
  SGD other(SGDOptions{0.5f});
  other.set_schedule(std::make_shared<ExponentialDecay>(ExponentialDecayOptions{0.1, 1, 0.5}));
  other.restore(sgd.state(), parameters);
  EXPECT_EQ(other.learning_rate(), 0.1f * 0.125f);
  other.reset();
  EXPECT_EQ(other.learning_rate(), 0.1f);
}

}  // namespace
}  // namespace xdense
