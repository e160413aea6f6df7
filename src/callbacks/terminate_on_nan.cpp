#include "xdense/callbacks/terminate_on_nan.hpp"

#include <cmath>
#include <sstream>

#include <nlohmann/json.hpp>

#include "xdense/error.hpp"
#include "xdense/sequential.hpp"

namespace xdense {

Config TerminateOnNaN::config() const { return {{"raise_error", options_.raise_error}}; }

void TerminateOnNaN::on_train_begin(Sequential& /*model*/) {
  epoch_ = 0;
  batch_ = 0;
}

void TerminateOnNaN::on_batch_end(Sequential& model, const BatchLog& log) {
  if (std::isfinite(log.loss)) return;
  epoch_ = log.epoch;
  batch_ = log.batch;
  if (options_.raise_error) {
    std::ostringstream message;
    message << "TerminateOnNaN: NaN or Inf loss encountered at batch " << log.batch << " of epoch " << log.epoch
            << " (loss " << log.loss << "); terminating training";
    throw TrainingDiverged(message.str(), log.epoch, log.batch);
  }
  model.stop_training(true);
}

}  // namespace xdense
