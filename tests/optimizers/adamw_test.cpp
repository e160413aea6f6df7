#include "xdense/optimizers/adamw.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "optimizers/optimizer_test_support.hpp"
#include "xdense/error.hpp"

// Keras 3's AdamW is Adam with weight_decay (default 0.004) applied by the base optimizer before
// each Adam step: w -= w wd lr.

namespace xdense {
namespace {

using namespace xdense::testing;

TEST(AdamW, IsAdamAfterDecayingTheWeights) {
  const AdamOptions options{0.05f, 0.8f, 0.95f, 1e-7f};
  AdamW adamw(options, 0.1f);
  Adam adam(options);
  Weights decayed(initial_weights, gradient_sequence[0]);
  Weights plain(initial_weights, gradient_sequence[0]);
  adamw.step({decayed.parameter()});
  // The same Adam step from weights first decayed by w wd lr = 0.005 w.
  for (float& w : plain.value) w -= w * 0.1f * 0.05f;
  adam.step({plain.parameter()});
  EXPECT_EQ(decayed.value, plain.value);
  EXPECT_EQ(adamw.name(), "adamw");
  EXPECT_EQ(adamw.slot_names(), (std::vector<std::string>{"momentum", "velocity"}));
}

TEST(AdamW, DefaultsAndConfig) {
  const std::unique_ptr<Optimizer> made = make_optimizer("adamw");
  EXPECT_FLOAT_EQ(made->learning_rate(), 0.001f);
  ASSERT_TRUE(made->base_options().weight_decay);
  EXPECT_FLOAT_EQ(*made->base_options().weight_decay, 0.004f);
  EXPECT_FLOAT_EQ(made->config().at("weight_decay").get<float>(), 0.004f);
  const auto& adam = dynamic_cast<const Adam&>(*made);
  EXPECT_FLOAT_EQ(adam.options().beta1, 0.9f);
  EXPECT_FLOAT_EQ(adam.options().epsilon, 1e-7f);
  const std::unique_ptr<Optimizer> custom = make_optimizer("adamw", Config{{"weight_decay", 0.0}, {"amsgrad", false}});
  EXPECT_EQ(custom->config(), make_optimizer("adamw", custom->config())->config());
  EXPECT_EQ(custom->config().at("weight_decay"), 0.0);
}

TEST(AdamW, WeightDecayIsRequired) {
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { make_optimizer("adamw", Config{{"weight_decay", nullptr}}); }),
                       "weight_decay=null"));
  AdamW adamw;
  EXPECT_THROW(adamw.set_base_options({}), InvalidArgument);
  EXPECT_FLOAT_EQ(*adamw.base_options().weight_decay, 0.004f) << "a refused setting leaves the old one";
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { AdamW(AdamOptions{}, -0.1f); }),
                       "weight_decay must be finite and >= 0"));
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { AdamW(AdamOptions{0.001f, 1.0f, 0.999f, 1e-7f}); }),
                       "AdamW: beta1 must be in [0, 1)"));
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { make_optimizer("adamw", Config{{"amsgrad", true}}); }),
                       "amsgrad"));
}

}  // namespace
}  // namespace xdense
