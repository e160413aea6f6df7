// Sequential's data-parallel training over a Communicator (FitOptions::communicator): the step that
// sums the processes' gradients, the copies of process 0's state, and the collective agreements.

#include "data_parallel.hpp"

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "xdense/error.hpp"
#include "xdense/sequential.hpp"

namespace xdense {
namespace detail {

void agree(Communicator& group, const std::exception_ptr& failure, const std::string& who) {
  const std::size_t ranks = group.size();
  // The lowest failed rank r as ranks - r (0: none failed), maximised over the processes.
  double first = failure ? static_cast<double>(ranks - group.rank()) : 0.0;
  group.allreduce_max(&first, 1);
  if (first == 0.0) return;
  const std::size_t failed = ranks - static_cast<std::size_t>(first);
  std::string message;
  if (group.rank() == failed) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      message = e.what();
    } catch (...) {
      message = "an unknown exception";
    }
  }
  message = broadcast_string(group, message, failed);
  if (failure) std::rethrow_exception(failure);
  throw StateError(who + ": process " + std::to_string(failed) + " of " + std::to_string(ranks) + " failed: " + message);
}

bool agree_flag(Communicator& group, bool flag) {
  double value = flag ? 1.0 : 0.0;
  group.allreduce_max(&value, 1);
  return value != 0.0;
}

void check_same_run(Communicator& group, const std::vector<double>& values) {
  const std::vector<std::vector<double>> all = group.allgather(values);
  for (std::size_t rank = 1; rank < all.size(); ++rank) {
    if (all[rank] == all[0]) continue;
    std::string detail;
    static const char* const names[] = {"samples",       "features",  "target columns",  "batch_size",
                                        "epochs",        "initial_epoch", "training samples", "shuffle",
                                        "validation data", "parameters"};
    for (std::size_t i = 0; i < all[0].size() && i < all[rank].size(); ++i) {
      if (all[rank][i] == all[0][i]) continue;
      const std::string name = i < sizeof names / sizeof names[0] ? names[i] : "setting " + std::to_string(i);
      detail = name + " " + std::to_string(static_cast<long long>(all[0][i])) + " on process 0, " +
               std::to_string(static_cast<long long>(all[rank][i])) + " on process " + std::to_string(rank);
      break;
    }
    throw InvalidArgument("Sequential::fit: the processes were given different runs (" + detail +
                          "): every process must call fit() with the same model, data size and options");
  }
}

namespace {

// Copies `values` from process 0 to every process (their length too).
void broadcast_floats(Communicator& group, std::vector<float>& values) {
  std::uint64_t length = values.size();
  group.broadcast(&length, sizeof length, 0);
  values.resize(length);
  if (length != 0) group.broadcast(values.data(), length * sizeof(float), 0);
}

}  // namespace
}  // namespace detail

bool Sequential::has_layer_state() const {
  for (const auto& layer : layers_) {
    if (!layer->non_trainable_weights().empty()) return true;
  }
  return false;
}

void Sequential::share_training_state(Communicator& group) {
  // Weights (trainable and state), flattened in layer order.
  std::vector<std::vector<float>> weights = get_weights();
  std::vector<float> flat;
  for (const auto& w : weights) flat.insert(flat.end(), w.begin(), w.end());
  detail::broadcast_floats(group, flat);
  std::size_t at = 0;
  for (auto& w : weights) {
    std::memcpy(w.data(), flat.data() + at, w.size() * sizeof(float));
    at += w.size();
  }
  set_weights(weights);
  // Layer training states (a dropout layer's stream), then each process's own replica index.
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const std::string state = broadcast_string(group, layers_[i]->training_state().dump(), 0);
    if (group.rank() != 0) layers_[i]->restore_training_state(Config::parse(state));
    layers_[i]->set_replica(group.rank());
  }
  // The optimizer's state (moments of a resumed run) and the random engine (the shuffles).
  OptimizerState state = optimizer_->state();
  double iterations = static_cast<double>(state.iterations);
  group.broadcast(&iterations, sizeof iterations, 0);
  std::vector<float> slots;
  for (const auto& slot : state.slots) slots.insert(slots.end(), slot.begin(), slot.end());
  std::vector<float> sizes;  // slot lengths as floats: exact below 2^24 floats per slot
  for (const auto& slot : state.slots) sizes.push_back(static_cast<float>(slot.size()));
  detail::broadcast_floats(group, sizes);
  detail::broadcast_floats(group, slots);
  if (group.rank() != 0) {
    OptimizerState shared;
    shared.iterations = static_cast<std::size_t>(iterations);
    std::size_t from = 0;
    for (const float size : sizes) {
      const auto n = static_cast<std::size_t>(size);
      shared.slots.emplace_back(slots.begin() + static_cast<std::ptrdiff_t>(from),
                                slots.begin() + static_cast<std::ptrdiff_t>(from + n));
      from += n;
    }
    optimizer_->restore(shared, parameters_);
  }
  rng_.set_state(broadcast_string(group, rng_.state(), 0));
  // The weight penalties' gradients are added once, after the sum over the processes.
  for (auto& layer : layers_) layer->set_penalty_in_backward(false);
}

double Sequential::parallel_step(ConstMatrixView x, ConstMatrixView y, const float* sample_weights,
                                 std::size_t batch_rows, bool check_finite, Communicator& group) {
  if (!compiled()) require_compiled("Sequential::train_step");
  check_step_shapes(x, y);
  // This process's share of the batch mean: gradients scaled by rows / batch_rows sum to the mean.
  double local_sum = 0.0;
  if (x.rows != 0) {
    const float share = static_cast<float>(static_cast<double>(x.rows) / static_cast<double>(batch_rows));
    local_sum = forward_backward(x, y, sample_weights, share) * static_cast<double>(x.rows);
  } else {
    for (const Parameter& p : parameters_) std::memset(p.gradient, 0, p.size * sizeof(float));
    last_output_ = {};
    last_output_is_logits_ = false;
  }
  // Summed where they are, a parameter at a time: no copy of the gradients into one buffer and back
  // (two passes over every gradient per step, measured 6 % of a 2-rank Fashion-MNIST epoch).
  float totals[2] = {static_cast<float>(local_sum), static_cast<float>(x.rows)};
  group.allreduce_sum(totals, 2);
  if (totals[1] != static_cast<float>(batch_rows)) {
    throw StateError("Sequential::fit: the processes trained " + std::to_string(totals[1]) +
                     " rows of a batch of " + std::to_string(batch_rows) +
                     ": their rows overlap or miss some (check FitOptions::first_sample and total_samples)");
  }
  for (const Parameter& p : parameters_) group.allreduce_sum(p.gradient, p.size);
  if (!regularized_.empty()) {
    for (const auto& layer : layers_) {
      if (layer->regularized()) layer->add_regularization_gradients();
    }
  }
  double loss = static_cast<double>(totals[0]) / static_cast<double>(batch_rows);
  if (!regularized_.empty()) loss += regularization_loss();
  return update_weights(loss, check_finite);
}

void Sequential::average_layer_state(Communicator& group) {
  std::vector<float> values;
  for (const auto& layer : layers_) {
    for (const Parameter& p : layer->non_trainable_weights()) values.insert(values.end(), p.value, p.value + p.size);
  }
  group.allreduce_sum(values.data(), values.size());
  const float scale = 1.0f / static_cast<float>(group.size());
  std::size_t at = 0;
  for (const auto& layer : layers_) {
    for (const Parameter& p : layer->non_trainable_weights()) {
      for (std::size_t i = 0; i < p.size; ++i) p.value[i] = values[at++] * scale;
    }
  }
}

void Sequential::combine_metrics(Communicator& group) {
  for (const auto& metric : metrics_) {
    const std::vector<std::vector<double>> parts = group.allgather(metric->partial_state());
    metric->reset();
    for (const auto& part : parts) metric->merge(part);
  }
}

std::size_t Sequential::gather_owned_rows(ConstMatrixView x, ConstMatrixView y, const std::vector<float>& weights,
                                          const std::vector<std::size_t>& order, std::size_t first, std::size_t rows,
                                          RowRange owned, std::size_t offset) {
  const std::size_t x_cols = x.cols;
  const std::size_t y_cols = y.cols;
  const MatrixView xb = batch_x_.view(rows);
  const MatrixView yb = batch_y_.view(rows);
  std::size_t local = 0;
  for (std::size_t p = first; p < first + rows; ++p) {
    const std::size_t g = order[p];
    if (g < owned.first || g >= owned.first + owned.count) continue;
    const std::size_t r = g - offset;
    std::memcpy(xb.row(local), x.data + r * x_cols, x_cols * sizeof(float));
    std::memcpy(yb.row(local), y.data + r * y_cols, y_cols * sizeof(float));
    if (!weights.empty()) batch_weights_[local] = weights[r];
    ++local;
  }
  return local;
}

}  // namespace xdense
