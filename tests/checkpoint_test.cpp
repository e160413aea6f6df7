// Tests of include/xdense/checkpoint.hpp: a run stopped after some epochs and
// resumed from its checkpoint ends bit-identical to an uninterrupted run; damaged
// checkpoints are refused. Also the divergence guard that keeps the last good weights.

#include "xdense/checkpoint.hpp"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <gtest/gtest.h>

#include "checkpoint_support.hpp"

#include "xdense/dense.hpp"
#include "xdense/error.hpp"

namespace xdense {
namespace {

namespace fs = std::filesystem;

using testing::circles_like;
using testing::Data;
using testing::weights_of;

Sequential make_model() { return testing::circles_model("adam"); }

FitOptions options(std::size_t epochs) {
  FitOptions o;
  o.epochs = epochs;
  o.batch_size = 16;
  o.validation_split = 0.2;
  return o;
}

fs::path temp_file(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / "xdense_checkpoint_test";
  fs::create_directories(dir);
  return dir / name;
}

TEST(Checkpoint, ResumedRunIsBitIdenticalToUninterruptedRun) {
  const Data d = circles_like(200);
  Sequential straight = make_model();
  FitOptions all = options(6);
  all.seed = 5;
  const History full = straight.fit(d.x, d.y, all);

  Sequential first = make_model();
  FitOptions part = options(3);
  part.seed = 5;
  const History early = first.fit(d.x, d.y, part);
  ModelInfo info;
  info.metadata.emplace_back("note", "test");
  const fs::path file = temp_file("resume.xdc");
  save_checkpoint(file.string(), first, info, capture_training_state(first, 3, early));

  Checkpoint checkpoint = load_checkpoint(file.string());
  restore_training_state(checkpoint);
  EXPECT_EQ(checkpoint.state.epochs_done, 3u);
  ASSERT_EQ(checkpoint.state.history.epochs.size(), 3u);
  EXPECT_EQ(checkpoint.state.history.epochs[2].loss, early.epochs[2].loss);
  EXPECT_EQ(checkpoint.saved.info.metadata, info.metadata);
  EXPECT_EQ(checkpoint.saved.model.optimizer()->iterations(), first.optimizer()->iterations());

  FitOptions rest = options(6);
  rest.initial_epoch = 3;  // no seed: the restored engine continues the sequence
  const History late = checkpoint.saved.model.fit(d.x, d.y, rest);
  ASSERT_EQ(late.epochs.size(), 3u);
  EXPECT_EQ(late.epochs.front().epoch, 4u);
  EXPECT_EQ(late.epochs.back().loss, full.epochs.back().loss);
  const std::vector<float> a = weights_of(straight), b = weights_of(checkpoint.saved.model);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)));
}

TEST(Checkpoint, DamagedFilesAreRefusedWithTheirName) {
  const Data d = circles_like(50);
  Sequential model = make_model();
  const History h = model.fit(d.x, d.y, options(1));
  const fs::path file = temp_file("good.xdc");
  save_checkpoint(file.string(), model, {}, capture_training_state(model, 1, h));
  std::ifstream in(file, std::ios::binary);
  const std::string good((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  auto expect_refused = [&](const std::string& bytes, const std::string& fragment) {
    const fs::path bad = temp_file("bad.xdc");
    std::ofstream(bad, std::ios::binary) << bytes;
    try {
      load_checkpoint(bad.string());
      ADD_FAILURE() << "accepted a damaged checkpoint (" << fragment << ")";
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(bad.string()), std::string::npos) << e.what();
    }
  };
  for (std::size_t cut : {std::size_t{3}, std::size_t{20}, good.size() / 2, good.size() - 1}) {
    expect_refused(good.substr(0, cut), cut < 8 ? "not an xdense checkpoint" : "");
  }
  std::string flipped = good;
  flipped[good.size() / 3] = static_cast<char>(flipped[good.size() / 3] ^ 1);
  expect_refused(flipped, "checksum");
  std::string magic = good;
  magic[0] = 'Z';
  expect_refused(magic, "not an xdense checkpoint");
  expect_refused("", "not an xdense checkpoint");
  EXPECT_THROW(load_checkpoint(temp_file("missing.xdc").string()), DataError);
}

TEST(DivergenceGuard, StopsAtTheStepNamingEpochBatchAndLearningRate) {
  const Data d = circles_like(64);
  Sequential model;
  model.add(std::make_unique<Dense>(8)).add("relu").add(std::make_unique<Dense>(1));
  SGDOptions sgd;
  sgd.learning_rate = 1e6f;  // explodes within a few steps on MSE
  model.compile(make_loss("mse"), std::make_unique<SGD>(sgd));
  FitOptions o = options(50);
  o.validation_split = 0.0;
  try {
    model.fit(d.x, d.y, o);
    FAIL() << "expected TrainingDiverged";
  } catch (const TrainingDiverged& e) {
    EXPECT_GE(e.epoch(), 1u);
    EXPECT_GE(e.batch(), 1u);
    const std::string message = e.what();
    EXPECT_NE(message.find("learning rate"), std::string::npos) << message;
    EXPECT_NE(message.find("epoch " + std::to_string(e.epoch())), std::string::npos) << message;
  }
  // It stops at the first bad step: the weights just went non-finite.
  bool any_bad = false;
  for (float w : weights_of(model)) any_bad |= !std::isfinite(w);
  EXPECT_TRUE(any_bad);
}

TEST(DivergenceGuard, CanBeTurnedOff) {
  const Data d = circles_like(64);
  Sequential model;
  model.add(std::make_unique<Dense>(8)).add("relu").add(std::make_unique<Dense>(1));
  SGDOptions sgd;
  sgd.learning_rate = 1e6f;
  model.compile(make_loss("mse"), std::make_unique<SGD>(sgd));
  FitOptions o = options(20);
  o.validation_split = 0.0;
  o.stop_on_divergence = false;
  const History h = model.fit(d.x, d.y, o);
  EXPECT_FALSE(std::isfinite(h.epochs.back().loss));
}

TEST(OptimizerState, RestoreRejectsSlotsOfAnotherModel) {
  const Data d = circles_like(32);
  Sequential a = make_model();
  a.fit(d.x, d.y, options(1));
  Sequential b;
  b.add(std::make_unique<Dense>(3)).add(std::make_unique<Dense>(1)).add("sigmoid");
  b.compile("binary_crossentropy", "adam");
  b.build(2);
  EXPECT_THROW(b.optimizer()->restore(a.optimizer()->state(), b.parameters()), ShapeError);
}

TEST(Checkpoint, ReadsOnlyWhatItsStructureDeclares) {
  Sequential model = make_model();
  model.build(2);
  const fs::path file = temp_file("declared.xdc");
  save_checkpoint(file.string(), model, {}, capture_training_state(model, 0, History{}));
  std::ifstream in(file, std::ios::binary);
  const std::string good((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_NO_THROW(load_checkpoint(file.string()));
  auto error_for = [&](const std::string& bytes) {
    std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
    try {
      load_checkpoint(file.string());
    } catch (const DataError& e) {
      return std::string(e.what());
    }
    return std::string("no DataError");
  };
  // Bytes after the checksum: refused when the structure ends, not read (nor checksummed) first.
  EXPECT_EQ(error_for(good + std::string(10, '\0')), file.string() + ": invalid checkpoint: 10 unread bytes");
  // A model length beyond the file is refused before anything of that length is allocated.
  std::string long_model = good;
  long_model[19] = '\x7f';  // the top byte of the u64 model length at offset 12
  EXPECT_EQ(error_for(long_model), file.string() + ": invalid checkpoint: the model length exceeds the file");
}

std::string read_all(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// `bytes` with the u32 at `at` replaced. The checksum is checked once the structure is read, so a
/// structural error is reported first.
std::string patched(std::string bytes, std::size_t at, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<char>(value >> (8 * i));
  return bytes;
}

std::string load_error(const fs::path& file, const std::string& bytes) {
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
  try {
    load_checkpoint(file.string());
  } catch (const DataError& e) {
    return e.what();
  }
  return "no DataError";
}

TEST(Checkpoint, Version2NamesEachOptimizerArrayBySlotAndParameter) {
  const Data d = circles_like(48);
  Sequential model = make_model();
  const History h = model.fit(d.x, d.y, options(1));
  const fs::path file = temp_file("named.xdc");
  save_checkpoint(file.string(), model, {}, capture_training_state(model, 1, h));
  const std::string good = read_all(file);
  EXPECT_EQ(good.substr(0, 12), std::string("XDNSCKPT\x04\0\0\0", 12));  // magic, version 4

  Checkpoint checkpoint = load_checkpoint(file.string());
  const std::size_t parameters = model.parameters().size();
  ASSERT_EQ(checkpoint.state.optimizer.slots.size(), 2 * parameters);
  EXPECT_EQ(checkpoint.state.optimizer.names, model.optimizer()->state().names);
  EXPECT_NO_THROW(restore_training_state(checkpoint));

  // Each array's parameter index must be its place within its slot: "momentum" arrays 0, 1, ...
  const std::string slot = std::string("\x08\0\0\0momentum", 12);
  const std::size_t second = good.find(slot, good.find(slot) + 1);
  ASSERT_NE(second, std::string::npos);
  EXPECT_EQ(load_error(file, patched(good, second + 12, 5)),
            file.string() + ": invalid checkpoint: optimizer array 1 ('momentum'): parameter index 5, expected 1 "
                            "(arrays are grouped by slot, in parameter order)");
  EXPECT_NE(load_error(file, patched(good, good.find(slot) - 4, 0x7fffffffu))
                .find("invalid checkpoint: optimizer array count 2147483647 cannot fit in the"),
            std::string::npos);
  const std::string future = load_error(file, patched(good, 8, 9));
  EXPECT_EQ(future, file.string() + ": checkpoint format version 9 is newer than this xdense supports (" +
                        std::to_string(checkpoint_format_version) + "); upgrade xdense");
}

/// CRC-32 (IEEE 802.3, as zlib's crc32()), to write a checkpoint of an older version by hand.
std::uint32_t crc32_of(const std::string& bytes) {
  std::uint32_t crc = 0xffffffffu;
  for (const char byte : bytes) {
    crc ^= static_cast<unsigned char>(byte);
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

/// `bytes` (a checkpoint without its CRC) with the version set to `version` and a new CRC.
std::string as_version(std::string bytes, std::uint32_t version) {
  bytes = patched(bytes, 8, version);
  return patched(bytes + std::string(4, '\0'), bytes.size(), crc32_of(bytes));
}

TEST(Checkpoint, Version3StoresEachLayersTrainingStateAndVersion2StillLoads) {
  const Data d = circles_like(48);
  Sequential model = make_model();  // Dense, tanh, Dense, sigmoid: no layer has a training state
  History h = model.fit(d.x, d.y, options(1));
  h.epochs[0].metrics.clear();  // an epoch record of known length: 64 bytes in version 4, 48 before
  h.epochs[0].val_metrics.clear();
  const TrainingState state = capture_training_state(model, 1, h);
  EXPECT_EQ(state.layer_states, std::vector<std::string>(4, "null"));
  const fs::path file = temp_file("layers.xdc");
  save_checkpoint(file.string(), model, {}, state);
  const std::string v4 = read_all(file);
  // The end: u32 layer count 4, four strings "null", u8 stop_training 0, u32 callback count 0, the CRC.
  std::string layer_states = std::string("\x04\0\0\0", 4);
  for (int i = 0; i < 4; ++i) layer_states += std::string("\x04\0\0\0null", 8);
  const std::string v4_end = std::string(5, '\0');
  ASSERT_EQ(v4.substr(v4.size() - 4 - v4_end.size() - layer_states.size(), layer_states.size() + v4_end.size()),
            layer_states + v4_end);
  EXPECT_EQ(load_checkpoint(file.string()).state.layer_states, state.layer_states);

  // Version 3: each epoch without learning rate and metrics (f64 + two u32 counts), no stop flag
  // and callbacks at the end.
  std::string epoch_start = std::string("\x01\0\0\0\x01\0\0\0\0\0\0\0", 12);  // history count 1, epoch 1
  epoch_start.append(reinterpret_cast<const char*>(&h.epochs[0].loss), 8);
  const std::size_t record = v4.find(epoch_start) + 4;
  ASSERT_NE(record, std::string::npos + 4);
  const std::string v3 = as_version(v4.substr(0, record + 48) + v4.substr(record + 64, v4.size() - 4 - 5 - record - 64), 3);
  std::ofstream(file, std::ios::binary | std::ios::trunc) << v3;
  Checkpoint old = load_checkpoint(file.string());
  EXPECT_EQ(old.state.layer_states, state.layer_states);
  ASSERT_EQ(old.state.history.epochs.size(), 1u);
  EXPECT_EQ(old.state.history.epochs[0].loss, h.epochs[0].loss);
  EXPECT_EQ(old.state.history.epochs[0].val_accuracy, h.epochs[0].val_accuracy);
  EXPECT_TRUE(std::isnan(old.state.history.epochs[0].learning_rate));  // not recorded before version 4
  EXPECT_FALSE(old.state.stop_training);
  EXPECT_TRUE(old.state.callbacks.empty());
  EXPECT_NO_THROW(restore_training_state(old));

  // Version 2 is version 3 without the layer states.
  const std::string v2 = as_version(v3.substr(0, v3.size() - 4 - layer_states.size()), 2);
  std::ofstream(file, std::ios::binary | std::ios::trunc) << v2;
  Checkpoint checkpoint = load_checkpoint(file.string());
  EXPECT_TRUE(checkpoint.state.layer_states.empty());
  EXPECT_EQ(checkpoint.state.optimizer.names, state.optimizer.names);
  EXPECT_NO_THROW(restore_training_state(checkpoint));

  // A count of layer states other than the model's layers is refused.
  const std::size_t count_at = v4.size() - 4 - v4_end.size() - layer_states.size();
  const std::string five = patched(v4.substr(0, count_at) + layer_states, count_at, 5) + std::string("\x04\0\0\0null", 8) + v4_end;
  EXPECT_EQ(load_error(file, as_version(five, 4)), file.string() + ": invalid checkpoint: 5 layer states for a model of 4 layers");
}

TEST(Checkpoint, RestoreRefusesSlotsNamedForAnotherOptimizer) {
  const Data d = circles_like(48);
  Sequential model = make_model();
  const History h = model.fit(d.x, d.y, options(1));
  TrainingState state = capture_training_state(model, 1, h);
  for (std::string& name : state.optimizer.names) name = "m_" + name;  // SGD-like names for Adam's arrays
  const fs::path file = temp_file("renamed.xdc");
  save_checkpoint(file.string(), model, {}, state);
  Checkpoint checkpoint = load_checkpoint(file.string());
  try {
    restore_training_state(checkpoint);
    ADD_FAILURE() << "restored arrays of other slots";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("not this optimizer's slots (momentum, velocity per parameter)"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace xdense
