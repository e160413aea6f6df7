#pragma once
/// \file
/// Training checkpoints: everything needed to continue a run exactly where it
/// stopped — the model file's contents (architecture, weights, info) plus the
/// optimizer's moments and step count, the random engine's state, each layer's
/// training state (a dropout layer's place in its random stream), the epochs
/// done and the history so far. One file, written atomically, CRC-32 checked.

#include <cstddef>
#include <string>
#include <vector>

#include "xdense/model_file.hpp"
#include "xdense/optimizer.hpp"
#include "xdense/sequential.hpp"

namespace xdense {

/// The part of a training run that is not the model itself.
struct TrainingState {
  std::size_t epochs_done = 0;  ///< completed epochs (fit's initial_epoch when resuming)
  std::string rng_state;        ///< Rng::state() after the last completed epoch
  OptimizerState optimizer;     ///< moments / velocities and step count
  History history;              ///< epochs 1..epochs_done
  /// Each layer's Layer::training_state() as JSON text, in layer order ("null" for a layer without
  /// any). Empty for a version-1 or version-2 checkpoint, which stored none.
  std::vector<std::string> layer_states;
};

/// A checkpoint as loaded.
struct Checkpoint {
  SavedModel saved;
  TrainingState state;
};

/// Current checkpoint format version. Version 3 adds each layer's training state to version 2,
/// which holds a version-2 model and names each optimizer array by its slot and parameter;
/// version-2 and version-1 checkpoints (xdense 0.2) still load.
constexpr std::uint32_t checkpoint_format_version = 3;

/// Captures `model`'s optimizer, random engine and layer training states after `epochs_done` epochs.
TrainingState capture_training_state(Sequential& model, std::size_t epochs_done, const History& history);

/// Writes a checkpoint atomically (temporary file, fsync, rename); DataError on I/O failure.
void save_checkpoint(const std::string& path, Sequential& model, const ModelInfo& info, const TrainingState& state);

/// Reads and validates a checkpoint; DataError "<path>: ..." when it is missing, truncated,
/// corrupted, of a newer version, or inconsistent with its model.
Checkpoint load_checkpoint(const std::string& path);

/// Puts a loaded checkpoint's optimizer, random engine and layer training states back into its
/// model; DataError when the state does not fit the model's optimizer (array sizes, slot names) or
/// a layer refuses its state.
void restore_training_state(Checkpoint& checkpoint);

}  // namespace xdense
