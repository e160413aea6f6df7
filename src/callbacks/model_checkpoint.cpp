#include "xdense/callbacks/model_checkpoint.hpp"

#include <cmath>

#include <nlohmann/json.hpp>

#include "monitor.hpp"
#include "xdense/atomic_file.hpp"
#include "xdense/error.hpp"
#include "xdense/model_file.hpp"
#include "xdense/sequential.hpp"

namespace xdense {

ModelCheckpoint::ModelCheckpoint(std::string filepath, const ModelInfo& info, ModelCheckpointOptions options)
    : filepath_(std::move(filepath)), info_(std::make_unique<ModelInfo>(info)), options_(std::move(options)) {
  if (filepath_.empty()) throw InvalidArgument("ModelCheckpoint: expected a file path, received ''");
  maximize_ = detail::monitor_maximizes(options_.mode, options_.monitor, "ModelCheckpoint");
  if (options_.initial_value_threshold && !std::isfinite(*options_.initial_value_threshold)) {
    throw InvalidArgument("ModelCheckpoint: initial_value_threshold must be finite, received " +
                          std::to_string(*options_.initial_value_threshold));
  }
  best_ = options_.initial_value_threshold;
}

ModelCheckpoint::~ModelCheckpoint() = default;

Config ModelCheckpoint::config() const {
  return {{"filepath", filepath_},
          {"monitor", options_.monitor},
          {"verbose", 0},
          {"save_best_only", options_.save_best_only},
          {"save_weights_only", false},
          {"mode", options_.mode},
          {"save_freq", "epoch"},
          {"initial_value_threshold",
           options_.initial_value_threshold ? Config(*options_.initial_value_threshold) : Config(nullptr)}};
}

void ModelCheckpoint::on_train_begin(Sequential& model) {
  if (options_.save_best_only) detail::check_monitor(model, options_.monitor, "ModelCheckpoint");
  check_writable(filepath_, detail::regular_file("a model file"));
  warned_ = false;
}

void ModelCheckpoint::on_epoch_end(Sequential& model, const EpochLog& log) {
  if (options_.save_best_only) {
    const std::optional<double> current =
        detail::monitored_value(log, options_.monitor, "ModelCheckpoint",
                                "the model is saved after every epoch without it, as Keras does", warned_);
    if (current) {
      const bool improved = !best_ || (maximize_ ? *current > *best_ : *current < *best_);
      if (!improved) return;
      best_ = *current;
    }
  }
  save_model(filepath_, model, *info_);
  last_saved_epoch_ = log.epoch;
  ++saves_;
}

Config ModelCheckpoint::state() const {
  return {{"monitor", options_.monitor},
          {"best", best_ ? detail::exact_number(*best_) : Config(nullptr)},
          {"last_saved_epoch", last_saved_epoch_}};
}

void ModelCheckpoint::restore_state(const Config& state) {
  detail::StateReader in(state, "ModelCheckpoint");
  in.expect_monitor(options_.monitor);
  const std::optional<double> best = in.optional_number("best");
  const std::size_t last_saved_epoch = in.count("last_saved_epoch");
  in.finish();
  best_ = best;
  last_saved_epoch_ = last_saved_epoch;
}

}  // namespace xdense
