#include "xdense/callbacks/early_stopping.hpp"

#include <cmath>

#include <nlohmann/json.hpp>

#include "monitor.hpp"
#include "xdense/error.hpp"
#include "xdense/sequential.hpp"

namespace xdense {

EarlyStopping::EarlyStopping(EarlyStoppingOptions options) : options_(std::move(options)) {
  maximize_ = detail::monitor_maximizes(options_.mode, options_.monitor, "EarlyStopping");
  if (!std::isfinite(options_.min_delta)) {
    throw InvalidArgument("EarlyStopping: min_delta must be finite, received min_delta=" +
                          std::to_string(options_.min_delta));
  }
  if (options_.baseline && !std::isfinite(*options_.baseline)) {
    throw InvalidArgument("EarlyStopping: baseline must be finite, received baseline=" +
                          std::to_string(*options_.baseline));
  }
}

Config EarlyStopping::config() const {
  return {{"monitor", options_.monitor},
          {"min_delta", std::fabs(options_.min_delta)},
          {"patience", options_.patience},
          {"verbose", 0},
          {"mode", options_.mode},
          {"baseline", options_.baseline ? Config(*options_.baseline) : Config(nullptr)},
          {"restore_best_weights", options_.restore_best_weights},
          {"start_from_epoch", options_.start_from_epoch}};
}

bool EarlyStopping::improves(double value, double reference) const {
  // Keras: monitor_op(value - min_delta, reference), min_delta negated when minimising.
  const double delta = std::fabs(options_.min_delta);
  return maximize_ ? value - delta > reference : value + delta < reference;
}

void EarlyStopping::on_train_begin(Sequential& model) {
  detail::check_monitor(model, options_.monitor, "EarlyStopping");
  warned_ = false;
  if (restored_) {
    restored_ = false;
    if (!best_weights_.empty()) check_weights_fit(model);
    return;
  }
  wait_ = 0;
  stopped_epoch_ = 0;
  best_.reset();
  best_weights_.clear();
  best_epoch_ = 0;
}

void EarlyStopping::check_weights_fit(const Sequential& model) const {
  const std::vector<std::vector<float>> weights = model.get_weights();
  bool fits = weights.size() == best_weights_.size();
  for (std::size_t i = 0; fits && i < weights.size(); ++i) fits = weights[i].size() == best_weights_[i].size();
  if (!fits) {
    throw InvalidArgument("EarlyStopping: the restored best weights (" + std::to_string(best_weights_.size()) +
                          " arrays) do not fit the model (" + std::to_string(weights.size()) +
                          " arrays): the state comes from another model");
  }
}

void EarlyStopping::on_epoch_end(Sequential& model, const EpochLog& log) {
  const std::optional<double> current =
      detail::monitored_value(log, options_.monitor, "EarlyStopping", "the epochs without it are not counted", warned_);
  // Keras skips epoch indices < start_from_epoch, counting from 0: epochs 1..start_from_epoch here.
  if (!current || log.epoch <= options_.start_from_epoch) return;
  if (options_.restore_best_weights && best_weights_.empty()) {
    // Nothing kept yet: the current weights are the best.
    best_weights_ = model.get_weights();
    best_epoch_ = log.epoch;
  }
  ++wait_;
  if (!best_ || improves(*current, *best_)) {
    best_ = *current;
    best_epoch_ = log.epoch;
    if (options_.restore_best_weights) best_weights_ = model.get_weights();
    // Only restart the count when the value beats the baseline too.
    if (!options_.baseline || improves(*current, *options_.baseline)) wait_ = 0;
    return;
  }
  if (wait_ >= options_.patience && log.epoch > 1) {
    stopped_epoch_ = log.epoch;
    model.stop_training(true);
  }
}

void EarlyStopping::on_train_end(Sequential& model) {
  if (options_.restore_best_weights && !best_weights_.empty()) model.set_weights(best_weights_);
}

Config EarlyStopping::state() const {
  return {{"monitor", options_.monitor},
          {"wait", wait_},
          {"stopped_epoch", stopped_epoch_},
          {"best", best_ ? detail::exact_number(*best_) : Config(nullptr)},
          {"best_epoch", best_epoch_},
          {"best_weights", best_weights_.empty() ? Config(nullptr) : detail::float_arrays_json(best_weights_)}};
}

void EarlyStopping::restore_state(const Config& state) {
  detail::StateReader in(state, "EarlyStopping");
  in.expect_monitor(options_.monitor);
  const std::size_t wait = in.count("wait");
  const std::size_t stopped_epoch = in.count("stopped_epoch");
  const std::optional<double> best = in.optional_number("best");
  const std::size_t best_epoch = in.count("best_epoch");
  std::vector<std::vector<float>> best_weights = in.float_arrays("best_weights");
  in.finish();
  wait_ = wait;
  stopped_epoch_ = stopped_epoch;
  best_ = best;
  best_epoch_ = best_epoch;
  best_weights_ = std::move(best_weights);
  restored_ = true;
}

}  // namespace xdense
