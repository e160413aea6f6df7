#include "xdense/callbacks/reduce_lr_on_plateau.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "monitor.hpp"
#include "xdense/error.hpp"
#include "xdense/schedule.hpp"
#include "xdense/sequential.hpp"

namespace xdense {

ReduceLROnPlateau::ReduceLROnPlateau(ReduceLROnPlateauOptions options) : options_(std::move(options)) {
  maximize_ = detail::monitor_maximizes(options_.mode, options_.monitor, "ReduceLROnPlateau");
  if (!(options_.factor > 0.0 && options_.factor < 1.0)) {
    throw InvalidArgument("ReduceLROnPlateau: factor must be in (0, 1) (new_lr = lr * factor), received factor=" +
                          std::to_string(options_.factor));
  }
  if (!(std::isfinite(options_.min_lr) && options_.min_lr >= 0.0)) {
    throw InvalidArgument("ReduceLROnPlateau: min_lr must be finite and >= 0, received min_lr=" +
                          std::to_string(options_.min_lr));
  }
  if (!std::isfinite(options_.min_delta)) {
    throw InvalidArgument("ReduceLROnPlateau: min_delta must be finite, received min_delta=" +
                          std::to_string(options_.min_delta));
  }
  reset();
}

Config ReduceLROnPlateau::config() const {
  return {{"monitor", options_.monitor},   {"factor", options_.factor},
          {"patience", options_.patience}, {"verbose", 0},
          {"mode", options_.mode},         {"min_delta", options_.min_delta},
          {"cooldown", options_.cooldown}, {"min_lr", options_.min_lr}};
}

void ReduceLROnPlateau::reset() {
  best_ = maximize_ ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  wait_ = 0;
  cooldown_counter_ = 0;
}

void ReduceLROnPlateau::on_train_begin(Sequential& model) {
  Optimizer* optimizer = model.optimizer();
  if (optimizer == nullptr) throw StateError("ReduceLROnPlateau: the model is not compiled");
  if (optimizer->schedule() != nullptr) {
    throw StateError(
        "ReduceLROnPlateau: the optimizer's learning rate follows a schedule (" + optimizer->schedule()->name() +
        "); ReduceLROnPlateau sets the rate and needs a fixed one (Keras refuses to set a scheduled rate)");
  }
  // Setting the rate it has changes nothing, and fails now, not at the first plateau, for an
  // optimizer that cannot change its rate.
  optimizer->set_learning_rate(optimizer->learning_rate());
  detail::check_monitor(model, options_.monitor, "ReduceLROnPlateau");
  warned_ = false;
  reductions_ = 0;
  if (restored_) {
    restored_ = false;
    return;
  }
  reset();
}

void ReduceLROnPlateau::on_epoch_end(Sequential& model, const EpochLog& log) {
  const std::optional<double> current = detail::monitored_value(log, options_.monitor, "ReduceLROnPlateau",
                                                                "the epochs without it are not counted", warned_);
  if (!current) return;
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    wait_ = 0;
  }
  const bool improved = maximize_ ? *current > best_ + options_.min_delta : *current < best_ - options_.min_delta;
  if (improved) {
    best_ = *current;
    wait_ = 0;
    return;
  }
  if (cooldown_counter_ > 0) return;
  ++wait_;
  if (wait_ < options_.patience) return;
  Optimizer& optimizer = *model.optimizer();
  const double old_lr = optimizer.learning_rate();
  if (!(old_lr > static_cast<double>(static_cast<float>(options_.min_lr)))) return;
  // Keras computes in double and stores the rate in a float variable.
  const float new_lr = static_cast<float>(std::max(old_lr * options_.factor, options_.min_lr));
  if (!(new_lr > 0.0f)) return;  // below the smallest float: no rate is lower than the current one
  optimizer.set_learning_rate(new_lr);
  ++reductions_;
  cooldown_counter_ = options_.cooldown;
  wait_ = 0;
}

Config ReduceLROnPlateau::state() const {
  return {{"monitor", options_.monitor},
          {"best", detail::exact_number(best_)},
          {"wait", wait_},
          {"cooldown_counter", cooldown_counter_}};
}

void ReduceLROnPlateau::restore_state(const Config& state) {
  detail::StateReader in(state, "ReduceLROnPlateau");
  in.expect_monitor(options_.monitor);
  const double best = in.number("best");
  const std::size_t wait = in.count("wait");
  const std::size_t cooldown_counter = in.count("cooldown_counter");
  in.finish();
  best_ = best;
  wait_ = wait;
  cooldown_counter_ = cooldown_counter;
  restored_ = true;
}

}  // namespace xdense
