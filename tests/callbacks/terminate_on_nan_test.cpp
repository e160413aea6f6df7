// Tests of include/xdense/callbacks/terminate_on_nan.hpp: a diverging fit() (huge learning rate)
// stops gracefully with the callback, throws with raise_error or fit()'s own guard.

#include "xdense/callbacks/terminate_on_nan.hpp"

#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "callback_test_support.hpp"
#include "error_messages.hpp"
#include "xdense/error.hpp"

namespace xdense {
namespace {

using testing::contains;
using testing::message_of;

FitOptions diverging_fit(std::shared_ptr<Callback> callback) {
  FitOptions fit;
  fit.epochs = 50;
  fit.batch_size = 8;
  fit.stop_on_divergence = false;
  fit.callbacks = {std::move(callback)};
  return fit;
}

TEST(TerminateOnNaN, StopsAtTheBatchWhoseLossIsNotFinite) {
  Sequential model = testing::small_model();
  TerminateOnNaN terminate;
  EXPECT_EQ(terminate.name(), "TerminateOnNaN");
  EXPECT_EQ(terminate.config(), nlohmann::json::parse(R"({"raise_error": false})"));
  terminate.on_train_begin(model);
  BatchLog log;
  log.epoch = 2;
  log.batch = 3;
  log.loss = 1e30;
  terminate.on_batch_end(model, log);
  EXPECT_FALSE(model.stop_training());
  for (const double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity()}) {
    model.stop_training(false);
    log.loss = bad;
    terminate.on_batch_end(model, log);
    EXPECT_TRUE(model.stop_training()) << bad;
    EXPECT_EQ(terminate.terminated_epoch(), 2u);
    EXPECT_EQ(terminate.terminated_batch(), 3u);
  }
}

// Counts the batches trained (put after the callback under test).
class BatchCounter final : public Callback {
 public:
  std::string name() const override { return "BatchCounter"; }
  void on_batch_end(Sequential& /*model*/, const BatchLog& log) override {
    ++batches;
    last_batch = log.batch;
  }
  std::size_t batches = 0;
  std::size_t last_batch = 0;
};

TEST(TerminateOnNaN, EndsADivergingFitGracefully) {
  const testing::Data data = testing::regression_data();
  Sequential model = testing::small_model(1e12f);
  auto terminate = std::make_shared<TerminateOnNaN>();
  auto counter = std::make_shared<BatchCounter>();
  FitOptions fit = diverging_fit(terminate);
  fit.callbacks.push_back(counter);
  const History history = model.fit(data.x, data.y, fit);
  ASSERT_GT(terminate->terminated_epoch(), 0u);
  EXPECT_GT(terminate->terminated_batch(), 0u);
  // No batch is trained after the bad one (64 rows in batches of 8: 8 a epoch).
  EXPECT_EQ(counter->batches, (terminate->terminated_epoch() - 1) * 8 + terminate->terminated_batch());
  EXPECT_EQ(counter->last_batch, terminate->terminated_batch());
  // fit() stops in the epoch of the bad batch and returns what it trained.
  EXPECT_EQ(history.epochs.size(), terminate->terminated_epoch());
  EXPECT_LT(history.epochs.size(), 50u);
  EXPECT_FALSE(std::isfinite(history.epochs.back().loss));
}

TEST(TerminateOnNaN, RaiseErrorThrowsTrainingDiverged) {
  const testing::Data data = testing::regression_data();
  Sequential model = testing::small_model(1e12f);
  TerminateOnNaNOptions options;
  options.raise_error = true;
  auto terminate = std::make_shared<TerminateOnNaN>(options);
  const FitOptions fit = diverging_fit(terminate);
  const std::string message = message_of<TrainingDiverged>([&] { model.fit(data.x, data.y, fit); });
  EXPECT_TRUE(contains(message, "TerminateOnNaN: NaN or Inf loss encountered at batch"));
  EXPECT_GT(terminate->terminated_epoch(), 0u);
}

TEST(TerminateOnNaN, FitsOwnGuardThrowsFirst) {
  const testing::Data data = testing::regression_data();
  Sequential model = testing::small_model(1e12f);
  auto terminate = std::make_shared<TerminateOnNaN>();
  FitOptions fit = diverging_fit(terminate);
  fit.stop_on_divergence = true;  // the default
  EXPECT_THROW(model.fit(data.x, data.y, fit), TrainingDiverged);
  EXPECT_EQ(terminate->terminated_epoch(), 0u);
}

}  // namespace
}  // namespace xdense
