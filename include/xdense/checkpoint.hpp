#pragma once
/// \file
/// Training checkpoints: everything needed to continue a run exactly where it
/// stopped — the model file's contents (architecture, weights, info) plus the
/// optimizer's moments and step count (a learning-rate schedule's place), the random engine's
/// state, each layer's training state (a dropout layer's place in its random stream), each
/// callback's state (early stopping's counters and best weights, ReduceLROnPlateau's wait), the
/// epochs done and the history so far. One file, written atomically, CRC-32 checked.
///
///   options.callbacks = {stop, plateau};
///   xdense::History history;
///   options.on_epoch_end = [&](const xdense::EpochLog& log) {   // runs after the callbacks
///     history.epochs.push_back(log);
///     xdense::save_checkpoint(path, model, info,
///         xdense::capture_training_state(model, log.epoch, history, options.callbacks));
///   };
///   ...
///   xdense::Checkpoint c = xdense::load_checkpoint(path);
///   xdense::restore_training_state(c);
///   xdense::restore_callback_states(c.state, options.callbacks);   // the same callbacks, same order
///   options.initial_epoch = c.state.epochs_done;

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "xdense/model_file.hpp"
#include "xdense/optimizer.hpp"
#include "xdense/sequential.hpp"

namespace xdense {

/// One callback's state in a checkpoint.
struct CallbackState {
  std::string name;  ///< Callback::name(): "EarlyStopping"
  /// Callback::state() encoded as CBOR (RFC 8949, nlohmann::json::to_cbor): exact, compact for
  /// best weights, and able to hold the infinities and NaN that JSON text cannot. No size limit.
  std::vector<std::uint8_t> state;
};

/// The part of a training run that is not the model itself.
struct TrainingState {
  std::size_t epochs_done = 0;  ///< completed epochs (fit's initial_epoch when resuming)
  std::string rng_state;        ///< Rng::state() after the last completed epoch
  OptimizerState optimizer;     ///< moments / velocities and step count
  /// Epochs 1..epochs_done with every EpochLog field: metrics, validation metrics, learning rate
  /// (a version-3 or older checkpoint held loss, accuracy, val_loss, val_accuracy and seconds only:
  /// the rest reads as NaN or empty).
  History history;
  /// Each layer's Layer::training_state() as JSON text, in layer order ("null" for a layer without
  /// any). Empty for a version-1 or version-2 checkpoint, which stored none.
  std::vector<std::string> layer_states;
  /// A callback had stopped training (Sequential::stop_training(), EarlyStopping) at the end of the
  /// last epoch: the run is over, a resumed run trains no further epoch. False before version 4.
  bool stop_training = false;
  /// Each callback's state, in FitOptions::callbacks order (empty before version 4).
  std::vector<CallbackState> callbacks;
};

/// A checkpoint as loaded.
struct Checkpoint {
  SavedModel saved;
  TrainingState state;
};

/// Current checkpoint format version. Version 4 adds each callback's state, whether training was
/// stopped, and every field of the history (learning rate, metrics); version 3 added each layer's
/// training state to version 2, which holds a version-2 model and names each optimizer array by
/// its slot and parameter. Versions 1 (xdense 0.2) to 3 still load.
constexpr std::uint32_t checkpoint_format_version = 4;

/// Captures `model`'s optimizer, random engine and layer training states after `epochs_done` epochs,
/// whether a callback stopped training, and the state of each of `callbacks` (in their order:
/// FitOptions::callbacks). Call it after the callbacks' on_epoch_end (FitOptions::on_epoch_end).
TrainingState capture_training_state(Sequential& model, std::size_t epochs_done, const History& history,
                                     const std::vector<std::shared_ptr<Callback>>& callbacks = {});

/// Writes a checkpoint atomically (temporary file, fsync, rename); DataError on I/O failure.
void save_checkpoint(const std::string& path, Sequential& model, const ModelInfo& info, const TrainingState& state);

/// Reads and validates a checkpoint; DataError "<path>: ..." when it is missing, truncated,
/// corrupted, of a newer version, or inconsistent with its model.
Checkpoint load_checkpoint(const std::string& path);

/// Puts a loaded checkpoint's optimizer, random engine and layer training states back into its
/// model; DataError when the state does not fit the model's optimizer (array sizes, slot names) or
/// a layer refuses its state.
void restore_training_state(Checkpoint& checkpoint);

/// Gives each of `callbacks` its state from `state` (Callback::restore_state), before fit() runs
/// again. InvalidArgument when the callbacks are not the checkpoint's: another count or another
/// name at some place ("the checkpoint holds the states of EarlyStopping, ReduceLROnPlateau; given
/// EarlyStopping"); DataError naming the callback when its state cannot be decoded or it refuses it.
void restore_callback_states(const TrainingState& state, const std::vector<std::shared_ptr<Callback>>& callbacks);

}  // namespace xdense
