// The --lr-schedule SPEC parser of `xdense train` (apps/schedule_spec.cpp): each built-in schedule's
// form, initial_learning_rate from --lr, lists and booleans, and the one-line refusals naming the
// bad key or value and the schedule's keys.

#include "schedule_spec.hpp"

#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "error_messages.hpp"

namespace xdense::cli {
namespace {

using namespace xdense::testing;

Config config_of(const std::string& spec, double lr = 0.01) {
  const auto schedule = parse_schedule_spec(spec, lr);
  Config serialized = serialize_schedule(*schedule);
  return serialized;
}

std::string refusal(const std::string& spec) {
  return message_of<InvalidArgument>([&] { parse_schedule_spec(spec, 0.01); });
}

TEST(ScheduleSpec, EachFormOfTheIssueMakesItsKerasSchedule) {
  EXPECT_EQ(config_of("exponential:decay_steps=1000,decay_rate=0.9"),
            (Config{{"module", "keras.optimizers.schedules"},
                    {"class_name", "ExponentialDecay"},
                    {"config", {{"initial_learning_rate", 0.01}, {"decay_steps", 1000}, {"decay_rate", 0.9}, {"staircase", false}}},
                    {"registered_name", nullptr}}));
  EXPECT_EQ(config_of("exponential:decay_steps=1000,decay_rate=0.9,staircase=1").at("config").at("staircase"), true);
  EXPECT_EQ(config_of("cosine:decay_steps=500").at("config"),
            (Config{{"initial_learning_rate", 0.01}, {"decay_steps", 500}, {"alpha", 0.0}, {"warmup_target", nullptr},
                    {"warmup_steps", 0}}));
  EXPECT_EQ(config_of("cosine:decay_steps=500,alpha=0.1,warmup_steps=50,warmup_target=0.05").at("config"),
            (Config{{"initial_learning_rate", 0.01}, {"decay_steps", 500}, {"alpha", 0.1}, {"warmup_target", 0.05},
                    {"warmup_steps", 50}}));
  EXPECT_EQ(config_of("piecewise:boundaries=1000/2000,values=0.01/0.005/0.001").at("config"),
            (Config{{"boundaries", {1000, 2000}}, {"values", {0.01, 0.005, 0.001}}}));
  EXPECT_EQ(config_of("inverse_time:decay_steps=100,decay_rate=0.5").at("config"),
            (Config{{"initial_learning_rate", 0.01}, {"decay_steps", 100}, {"decay_rate", 0.5}, {"staircase", false}}));
  EXPECT_EQ(config_of("polynomial:decay_steps=100,end_learning_rate=0.001,power=2,cycle=true").at("config"),
            (Config{{"initial_learning_rate", 0.01}, {"decay_steps", 100}, {"end_learning_rate", 0.001}, {"power", 2},
                    {"cycle", true}}));
}

TEST(ScheduleSpec, KerasClassNamesSpacesAndAGivenInitialRate) {
  EXPECT_EQ(config_of(" ExponentialDecay : decay_steps = 10 , decay_rate = 0.5 ").at("class_name"), "ExponentialDecay");
  EXPECT_EQ(config_of("cosine:decay_steps=10,initial_learning_rate=0,warmup_steps=5,warmup_target=0.1")
                .at("config")
                .at("initial_learning_rate"),
            0);
  // One boundary: a list of one.
  EXPECT_EQ(config_of("piecewise:boundaries=100,values=0.1/0.01").at("config").at("boundaries"), Config({100}));
}

TEST(ScheduleSpec, TheLearningRateOfTheOptimizerIsTakenAsTyped) {
  // --lr 0.001 is a float: 0.0010000000474974513 widened, written back as 0.001.
  EXPECT_EQ(config_of("exponential:decay_steps=10,decay_rate=0.5", static_cast<double>(0.001f))
                .at("config")
                .at("initial_learning_rate")
                .get<double>(),
            0.001);
  EXPECT_EQ(config_of("exponential:decay_steps=10,decay_rate=0.5", 0.0123456789).at("config").at("initial_learning_rate"),
            0.0123456789);
  const auto schedule = parse_schedule_spec("piecewise:boundaries=2,values=1/0.5", 0.01);
  EXPECT_EQ(schedule->at(2), 1.0);
  EXPECT_EQ(schedule->at(3), 0.5);
}

TEST(ScheduleSpec, MistakesAreOneLineNamingTheKeyAndTheKnownKeys) {
  EXPECT_EQ(refusal("exponential:decay_step=1000,decay_rate=0.9"),
            "--lr-schedule: exponential has no key 'decay_step' (exponential keys: decay_steps, decay_rate, staircase, "
            "initial_learning_rate)");
  EXPECT_EQ(refusal("exponential:decay_steps=abc,decay_rate=0.9"),
            "--lr-schedule: decay_steps: expected a number, received 'abc' (exponential keys: decay_steps, decay_rate, "
            "staircase, initial_learning_rate)");
  EXPECT_EQ(refusal("exponential:decay_steps=0,decay_rate=0.9"),
            "--lr-schedule: decay_steps: expected a finite number > 0, received 0 (exponential keys: decay_steps, "
            "decay_rate, staircase, initial_learning_rate)");
  EXPECT_EQ(refusal("exponential:decay_rate=0.9"),
            "--lr-schedule: decay_steps: missing (expected a number) (exponential keys: decay_steps, decay_rate, "
            "staircase, initial_learning_rate)");
  EXPECT_TRUE(contains(refusal("exponential:decay_steps=10,decay_rate=0.9,staircase=yes"),
                       "--lr-schedule: staircase: expected 1 or 0 (true or false), received 'yes'"));
  EXPECT_TRUE(contains(refusal("exponential:decay_steps=10,decay_steps=20,decay_rate=0.9"),
                       "--lr-schedule: decay_steps is given twice"));
  EXPECT_TRUE(contains(refusal("exponential:decay_steps"), "--lr-schedule: expected key=value, received 'decay_steps'"));
  EXPECT_TRUE(contains(refusal("exponential:decay_steps=10,decay_rate=0.9,"), "expected key=value, received ''"));
  EXPECT_TRUE(contains(refusal("piecewise:boundaries=100/x,values=1/2/3"),
                       "--lr-schedule: boundaries: expected numbers separated by '/', e.g. 1000/2000, received '100/x' "
                       "(piecewise keys: boundaries, values)"));
  EXPECT_EQ(refusal("piecewise:boundaries=100/200,values=1/2"),
            "--lr-schedule: values: expected one more value than boundaries (3), received 2: [1.0,2.0] (piecewise keys: "
            "boundaries, values)");
  EXPECT_TRUE(contains(refusal("cosine:decay_steps=100,warmup_steps=10"),
                       "--lr-schedule: warmup_steps: warmup_steps=10 needs a warmup_target"));
  EXPECT_EQ(refusal("step:decay_steps=10"),
            "--lr-schedule: unknown schedule 'step' (expected one of: exponential, cosine, piecewise, inverse_time, "
            "polynomial, or a Keras class name such as ExponentialDecay)");
  EXPECT_TRUE(contains(refusal(":decay_steps=10"), "--lr-schedule: expected NAME:key=value,..."));
  EXPECT_TRUE(contains(refusal("exponential:decay_steps=1e999,decay_rate=0.5"), "received '1e999'"));
  for (const std::string spec : {"exponential:decay_step=1", "cosine:x", "piecewise:values=1/q", "nope"}) {
    const std::string message = refusal(spec);
    EXPECT_EQ(message.rfind("--lr-schedule: ", 0), 0u) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST(ScheduleSpec, FormsForHelp) {
  EXPECT_EQ(schedule_spec_forms(),
            "exponential:decay_steps=N,decay_rate=R[,staircase=1]\n"
            "cosine:decay_steps=N[,alpha=A][,warmup_steps=W,warmup_target=T]\n"
            "piecewise:boundaries=B1/B2,values=V1/V2/V3\n"
            "inverse_time:decay_steps=N,decay_rate=R[,staircase=1]\n"
            "polynomial:decay_steps=N[,end_learning_rate=E,power=P,cycle=1]\n");
}

}  // namespace
}  // namespace xdense::cli
