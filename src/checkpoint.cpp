#include "xdense/checkpoint.hpp"

#include <cstdint>
#include <cstring>
#include <limits>
#include <map>

#include <nlohmann/json.hpp>

#include "binary_io.hpp"
#include "input_file.hpp"
#include "xdense/atomic_file.hpp"
#include "xdense/error.hpp"

namespace xdense {
namespace {

// Layout (little-endian; docs/model-format.md, "Checkpoints"): magic "XDNSCKPT", u32 version,
// u64 model length, model bytes (the model file format), u64 epochs_done, string rng state,
// u64 optimizer iterations, u32 array count, per array (version 2) string slot name + u32
// parameter index + u64 n + n f32 (version 1: u64 n + n f32), u32 history count, per epoch
// u64 epoch + 5 f64 (loss, accuracy, val_loss, val_accuracy, seconds) and (version 4) f64
// learning rate + the metrics and the validation metrics (each u32 count + per metric string name
// + f64), (version 3) u32 layer count + per layer a string, its training state as JSON text,
// (version 4) u8 stop_training + u32 callback count + per callback string name + u64 n + n bytes
// of CBOR, then u32 CRC-32 of everything before it.
constexpr char magic[8] = {'X', 'D', 'N', 'S', 'C', 'K', 'P', 'T'};
constexpr std::size_t epoch_bytes_v1 = 48;        // u64 epoch + 5 f64
constexpr std::size_t epoch_bytes_v4 = 64;        // + f64 learning rate + 2 u32 metric counts
constexpr std::size_t metric_bytes = 12;          // empty name + f64
constexpr std::size_t min_callback_bytes = 12;    // empty name + u64 length
constexpr std::size_t min_array_bytes_v1 = 8;   // u64 n
constexpr std::size_t min_array_bytes_v2 = 16;  // empty name, parameter index, n
constexpr std::size_t min_layer_state_bytes = 4;  // u32 length of the text

/// Numbers the arrays of each slot: arrays are grouped by slot name, one per parameter in parameter
/// order, so an array's number within its slot is the index of its parameter.
class ParameterIndex {
 public:
  std::uint32_t next(const std::string& slot) { return counts_[slot]++; }

 private:
  std::map<std::string, std::uint32_t> counts_;
};

/// Version 1 stored the arrays without names: they are the rebuilt optimizer's slots, grouped by
/// slot name as OptimizerState documents (left unnamed when the count does not fit that grouping,
/// for Optimizer::restore() to refuse by size).
void name_v1_slots(OptimizerState& state, const Optimizer& optimizer) {
  const std::vector<std::string> names = optimizer.slot_names();
  if (names.empty() || state.slots.empty() || state.slots.size() % names.size() != 0) return;
  const std::size_t per_name = state.slots.size() / names.size();
  for (std::size_t i = 0; i < state.slots.size(); ++i) state.names.push_back(names[i / per_name]);
}

void read_slots(detail::ByteReader& in, std::uint32_t version, OptimizerState& state) {
  if (version == 1) {
    const std::size_t count = in.count("optimizer slot", min_array_bytes_v1);
    for (std::size_t i = 0; i < count; ++i) {
      state.slots.push_back(in.f32_vector(in.u64("optimizer slot size"), "optimizer slot"));
    }
    return;
  }
  const std::size_t count = in.count("optimizer array", min_array_bytes_v2);
  ParameterIndex numbering;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string where = "optimizer array " + std::to_string(i);
    state.names.push_back(in.str(where + " slot name"));
    const std::uint32_t index = in.u32(where + " parameter index");
    const std::uint32_t expected = numbering.next(state.names.back());
    if (index != expected) {
      in.fail(where + " (" + quote_value(state.names.back()) + "): parameter index " + std::to_string(index) +
              ", expected " + std::to_string(expected) + " (arrays are grouped by slot, in parameter order)");
    }
    state.slots.push_back(in.f32_vector(in.u64(where + " size"), where));
  }
  bool named = false;
  for (const std::string& name : state.names) named |= !name.empty();
  if (!named) state.names.clear();  // a state without slot names (see save_checkpoint)
}

void write_metrics(detail::ByteWriter& out, const std::vector<std::pair<std::string, double>>& metrics) {
  out.count(metrics.size(), "metrics of an epoch");
  for (const auto& [name, value] : metrics) {
    out.str(name, "a metric's name");
    out.f64(value);
  }
}

std::vector<std::pair<std::string, double>> read_metrics(detail::ByteReader& in, const std::string& what) {
  std::vector<std::pair<std::string, double>> metrics(in.count(what, metric_bytes));
  for (auto& [name, value] : metrics) {
    name = in.str(what + " name");
    value = in.f64(what + " " + quote_value(name));
  }
  return metrics;
}

void write_epoch(detail::ByteWriter& out, const EpochLog& e) {
  out.u64(e.epoch);
  for (double v : {e.loss, e.accuracy, e.val_loss, e.val_accuracy, e.seconds, e.learning_rate}) out.f64(v);
  write_metrics(out, e.metrics);
  write_metrics(out, e.val_metrics);
}

EpochLog read_epoch(detail::ByteReader& in, std::uint32_t version) {
  EpochLog e;
  e.epoch = static_cast<std::size_t>(in.u64("history epoch"));
  const std::string where = "history epoch " + std::to_string(e.epoch);
  e.loss = in.f64(where + " loss");
  e.accuracy = in.f64(where + " accuracy");
  e.val_loss = in.f64(where + " val_loss");
  e.val_accuracy = in.f64(where + " val_accuracy");
  e.seconds = in.f64(where + " seconds");
  if (version < 4) {
    e.learning_rate = std::numeric_limits<double>::quiet_NaN();  // not recorded
    return e;
  }
  e.learning_rate = in.f64(where + " learning rate");
  e.metrics = read_metrics(in, where + " metric");
  e.val_metrics = read_metrics(in, where + " validation metric");
  return e;
}

// "EarlyStopping, ReduceLROnPlateau" ("none" for an empty list).
template <class List, class Name>
std::string names_of(const List& list, Name name) {
  std::string names;
  for (const auto& item : list) names += (names.empty() ? "" : ", ") + name(item);
  return names.empty() ? "none" : names;
}

}  // namespace

TrainingState capture_training_state(Sequential& model, std::size_t epochs_done, const History& history,
                                     const std::vector<std::shared_ptr<Callback>>& callbacks) {
  if (model.optimizer() == nullptr) throw StateError("capture_training_state: the model is not compiled");
  TrainingState state;
  state.epochs_done = epochs_done;
  state.rng_state = model.rng().state();
  state.optimizer = model.optimizer()->state();
  state.history = history;
  for (std::size_t i = 0; i < model.layer_count(); ++i) state.layer_states.push_back(model.layer(i).training_state().dump());
  state.stop_training = model.stop_training();
  for (const auto& callback : callbacks) {
    if (!callback) throw InvalidArgument("capture_training_state: a callback is nullptr");
    state.callbacks.push_back({callback->name(), Config::to_cbor(callback->state())});
  }
  return state;
}

void save_checkpoint(const std::string& path, Sequential& model, const ModelInfo& info, const TrainingState& state) {
  const std::vector<unsigned char> model_bytes = encode_model(model, info);
  const OptimizerState& optimizer = state.optimizer;
  // Arrays without names (a state built by hand, an optimizer declaring no slot_names()) are
  // written with empty names and read back unnamed.
  std::vector<std::string> names = optimizer.names;
  if (names.empty()) names.resize(optimizer.slots.size());
  if (names.size() != optimizer.slots.size()) {
    throw InvalidArgument("save_checkpoint: the optimizer state has " + std::to_string(optimizer.slots.size()) +
                          " arrays but " + std::to_string(names.size()) + " slot names");
  }
  detail::ByteWriter out("save_checkpoint");
  out.raw(magic, sizeof magic);
  out.u32(checkpoint_format_version);
  out.u64(model_bytes.size());
  out.raw(model_bytes.data(), model_bytes.size());
  out.u64(state.epochs_done);
  out.str(state.rng_state, "random engine state");
  out.u64(optimizer.iterations);
  out.count(optimizer.slots.size(), "optimizer arrays");
  ParameterIndex numbering;
  for (std::size_t i = 0; i < optimizer.slots.size(); ++i) {
    out.str(names[i], "slot name");
    out.u32(numbering.next(names[i]));
    out.u64(optimizer.slots[i].size());
    out.f32s(optimizer.slots[i].data(), optimizer.slots[i].size());
  }
  out.count(state.history.epochs.size(), "history epochs");
  for (const EpochLog& e : state.history.epochs) write_epoch(out, e);
  if (!state.layer_states.empty() && state.layer_states.size() != model.layer_count()) {
    throw InvalidArgument("save_checkpoint: the training state holds " + std::to_string(state.layer_states.size()) +
                          " layer states for a model of " + std::to_string(model.layer_count()) + " layers");
  }
  out.count(state.layer_states.size(), "layer states");
  for (const std::string& text : state.layer_states) out.str(text, "a layer's training state");
  out.u8(state.stop_training ? 1 : 0);
  out.count(state.callbacks.size(), "callback states");
  for (const CallbackState& callback : state.callbacks) {
    out.str(callback.name, "a callback's name");
    out.u64(callback.state.size());
    out.raw(callback.state.data(), callback.state.size());
  }
  out.append_checksum();
  AtomicFileWriter file(path, WriteOptions{/*require_regular=*/true, "a checkpoint"});
  file.write(out.bytes().data(), out.size());
  file.commit();
}

Checkpoint load_checkpoint(const std::string& path) {
  detail::InputFile file(path);
  // Field by field from the file: only what the structure declares is ever read.
  detail::ByteReader in(file, path + ": invalid checkpoint: ", "file");
  if (file.size() < sizeof magic || std::memcmp(in.bytes(sizeof magic, "magic"), magic, sizeof magic) != 0) {
    throw DataError(path + ": not an xdense checkpoint (wrong magic bytes)");
  }
  if (file.size() < sizeof magic + 8) throw DataError(path + ": truncated checkpoint");
  in.hold_back(4, "the checksum");
  const std::uint32_t version = in.u32("version");
  if (version > checkpoint_format_version) {
    throw DataError(path + ": checkpoint format version " + std::to_string(version) +
                    " is newer than this xdense supports (" + std::to_string(checkpoint_format_version) +
                    "); upgrade xdense");
  }
  if (version == 0) in.fail("version 0");
  const std::uint64_t model_size = in.u64("model length");
  if (model_size > in.remaining()) in.fail("the model length exceeds the file");
  const unsigned char* model_start = in.bytes(model_size, "model");
  const std::vector<unsigned char> model_bytes(model_start, model_start + model_size);

  Checkpoint checkpoint;
  checkpoint.saved = decode_model(model_bytes, path + " (model)");
  TrainingState& state = checkpoint.state;
  state.epochs_done = static_cast<std::size_t>(in.u64("epochs done"));
  state.rng_state = in.str("random engine state");
  state.optimizer.iterations = static_cast<std::size_t>(in.u64("optimizer iterations"));
  read_slots(in, version, state.optimizer);
  if (version == 1) name_v1_slots(state.optimizer, *checkpoint.saved.model.optimizer());
  const std::size_t epochs = in.count("history", version >= 4 ? epoch_bytes_v4 : epoch_bytes_v1);
  if (epochs != state.epochs_done) {
    in.fail("history of " + std::to_string(epochs) + " epochs for " + std::to_string(state.epochs_done) +
            " epochs done");
  }
  for (std::size_t i = 0; i < epochs; ++i) state.history.epochs.push_back(read_epoch(in, version));
  if (version >= 3) {
    const std::size_t layers = in.count("layer states", min_layer_state_bytes);
    if (layers != 0 && layers != checkpoint.saved.model.layer_count()) {
      in.fail(std::to_string(layers) + " layer states for a model of " +
              std::to_string(checkpoint.saved.model.layer_count()) + " layers");
    }
    for (std::size_t i = 0; i < layers; ++i) state.layer_states.push_back(in.str("layer " + std::to_string(i) + " training state"));
  }
  if (version >= 4) {
    state.stop_training = in.flag("stop_training");
    state.callbacks.resize(in.count("callback states", min_callback_bytes));
    for (std::size_t i = 0; i < state.callbacks.size(); ++i) {
      CallbackState& callback = state.callbacks[i];
      callback.name = in.str("callback " + std::to_string(i) + " name");
      const std::string where = "callback " + std::to_string(i) + " (" + quote_value(callback.name) + ") state";
      const std::uint64_t size = in.u64(where + " length");
      if (size > in.remaining()) in.fail(where + ": length " + std::to_string(size) + " exceeds the file");
      const unsigned char* bytes = in.bytes(size, where);
      callback.state.assign(bytes, bytes + size);
    }
  }
  if (in.remaining() != 0) in.fail(std::to_string(in.remaining()) + " unread bytes");
  const std::uint32_t computed = in.checksum();
  in.release(4);
  if (in.u32("checksum") != computed) {
    throw DataError(path + ": corrupted checkpoint: checksum mismatch (truncated or damaged file)");
  }
  return checkpoint;
}

void restore_training_state(Checkpoint& checkpoint) {
  Sequential& model = checkpoint.saved.model;
  try {
    model.rng().set_state(checkpoint.state.rng_state);
    model.optimizer()->restore(checkpoint.state.optimizer, model.parameters());
  } catch (const Error& e) {
    throw DataError(std::string("invalid checkpoint: ") + e.what());
  }
  const std::vector<std::string>& layer_states = checkpoint.state.layer_states;
  if (!layer_states.empty() && layer_states.size() != model.layer_count()) {
    throw DataError("invalid checkpoint: " + std::to_string(layer_states.size()) + " layer states for a model of " +
                    std::to_string(model.layer_count()) + " layers");
  }
  for (std::size_t i = 0; i < layer_states.size(); ++i) {
    const std::string where = "invalid checkpoint: layer " + std::to_string(i) + " (" + model.layer(i).type_name() + ")";
    Config state;
    try {
      state = Config::parse(layer_states[i]);
    } catch (const Config::exception& e) {
      throw DataError(where + ": its training state is not JSON: " + e.what());
    }
    try {
      model.layer(i).restore_training_state(state);
    } catch (const Error& e) {
      throw DataError(where + ": " + e.what());
    }
  }
}

void restore_callback_states(const TrainingState& state, const std::vector<std::shared_ptr<Callback>>& callbacks) {
  bool same = state.callbacks.size() == callbacks.size();
  for (std::size_t i = 0; same && i < callbacks.size(); ++i) same = callbacks[i] && callbacks[i]->name() == state.callbacks[i].name;
  if (!same) {
    throw InvalidArgument(
        "restore_callback_states: the callbacks are not the checkpoint's: it holds the states of " +
        names_of(state.callbacks, [](const CallbackState& c) { return c.name; }) + "; given " +
        names_of(callbacks, [](const std::shared_ptr<Callback>& c) { return c ? c->name() : std::string("nullptr"); }) +
        " (give the callbacks of the checkpointed run, in the same order)");
  }
  for (std::size_t i = 0; i < callbacks.size(); ++i) {
    const std::string where = "invalid checkpoint: callback " + std::to_string(i) + " (" + callbacks[i]->name() + ")";
    Config value;
    try {
      value = Config::from_cbor(state.callbacks[i].state);
    } catch (const Config::exception& e) {
      throw DataError(where + ": its state is not valid CBOR: " + e.what());
    }
    try {
      callbacks[i]->restore_state(value);
    } catch (const Error& e) {
      throw DataError(where + ": " + e.what());
    }
  }
}

}  // namespace xdense
