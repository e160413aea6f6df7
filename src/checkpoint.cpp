#include "xdense/checkpoint.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "input_file.hpp"
#include "xdense/atomic_file.hpp"
#include "xdense/error.hpp"

namespace xdense {
namespace {

// Layout (little-endian): magic "XDNSCKPT", u32 version, u64 model length, model
// bytes (the model file format), u64 epochs_done, u32 + bytes rng state, u64
// optimizer iterations, u32 slot count, per slot u64 n + n f32, u32 history count,
// per epoch u64 epoch + 5 f64 (loss, accuracy, val_loss, val_accuracy, seconds),
// then u32 CRC-32 of everything before it.
constexpr char magic[8] = {'X', 'D', 'N', 'S', 'C', 'K', 'P', 'T'};

class Writer {
 public:
  void raw(const void* data, std::size_t n) { bytes_.append(static_cast<const char*>(data), n); }
  void u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) bytes_.push_back(static_cast<char>(v >> (8 * i)));
  }
  void u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) bytes_.push_back(static_cast<char>(v >> (8 * i)));
  }
  void f32s(const float* values, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      std::uint32_t bits;
      std::memcpy(&bits, &values[i], 4);
      u32(bits);
    }
  }
  void f64(double v) {
    std::uint64_t bits;
    std::memcpy(&bits, &v, 8);
    u64(bits);
  }
  std::string& bytes() { return bytes_; }

 private:
  std::string bytes_;
};

std::uint32_t crc32_of(const std::string& bytes, std::size_t n) {
  uLong crc = crc32(0L, Z_NULL, 0);
  std::size_t done = 0;
  while (done < n) {  // zlib takes uInt lengths
    const auto chunk = static_cast<uInt>(std::min<std::size_t>(n - done, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data() + done), chunk);
    done += chunk;
  }
  return static_cast<std::uint32_t>(crc);
}

/// Reads a checkpoint file field by field: each field's declared length is checked against what
/// is left of the file before it is read, so only what the structure declares is ever read (a
/// real checkpoint followed by a terabyte of zeros is refused at the end of its structure, not
/// read whole). Everything read is kept, for the checksum over the whole file at the end.
class Reader {
 public:
  Reader(detail::InputFile& file, const std::string& path) : file_(file), end_(file.size()), path_(path) {}
  [[noreturn]] void fail(const std::string& what) const { throw DataError(path_ + ": invalid checkpoint: " + what); }
  std::uint64_t remaining() const { return end_ - bytes_.size(); }
  /// `n` more bytes, valid until the next take().
  const char* take(std::uint64_t n, const std::string& what) {
    if (n > remaining()) fail("truncated while reading " + what);
    const std::size_t start = bytes_.size();
    bytes_.resize(start + static_cast<std::size_t>(n));
    if (file_.read(bytes_.data() + start, static_cast<std::size_t>(n)) < n) {
      throw DataError(path_ + ": truncated checkpoint: the file shrank while being read");
    }
    return bytes_.data() + start;
  }
  std::uint32_t u32(const std::string& what) {
    const auto* p = reinterpret_cast<const unsigned char*>(take(4, what));
    return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
  }
  std::uint64_t u64(const std::string& what) {
    const std::uint64_t low = u32(what);
    return low | std::uint64_t(u32(what)) << 32;
  }
  double f64(const std::string& what) {
    const std::uint64_t bits = u64(what);
    double v;
    std::memcpy(&v, &bits, 8);
    return v;
  }
  std::vector<float> f32s(std::uint64_t n, const std::string& what) {
    if (n > remaining() / 4) fail(what + ": " + std::to_string(n) + " values do not fit in the file");
    std::vector<float> values(static_cast<std::size_t>(n));
    const char* p = take(4 * n, what);
    for (float& v : values) {
      std::uint32_t bits = 0;
      for (int i = 0; i < 4; ++i) bits |= std::uint32_t(static_cast<unsigned char>(*p++)) << (8 * i);
      std::memcpy(&v, &bits, 4);
    }
    return values;
  }
  /// Keeps the last 4 bytes, the checksum, out of the fields.
  void stop_before_checksum() {
    if (remaining() < 4) fail("truncated while reading the checksum");
    end_ -= 4;
  }
  /// The checksum stored after the structure against the one of everything read.
  bool checksum_matches() {
    const std::uint32_t computed = crc32_of(bytes_, bytes_.size());
    end_ += 4;
    return u32("checksum") == computed;
  }

 private:
  detail::InputFile& file_;
  std::uint64_t end_;  // where the fields end: the end of the file, then where the checksum starts
  std::string path_;
  std::string bytes_;  // everything read so far
};

}  // namespace

TrainingState capture_training_state(Sequential& model, std::size_t epochs_done, const History& history) {
  if (model.optimizer() == nullptr) throw StateError("capture_training_state: the model is not compiled");
  TrainingState state;
  state.epochs_done = epochs_done;
  state.rng_state = model.rng().state();
  state.optimizer = model.optimizer()->state();
  state.history = history;
  return state;
}

void save_checkpoint(const std::string& path, Sequential& model, const ModelInfo& info, const TrainingState& state) {
  const std::vector<unsigned char> model_bytes = encode_model(model, info);
  Writer out;
  out.raw(magic, sizeof magic);
  out.u32(checkpoint_format_version);
  out.u64(model_bytes.size());
  out.raw(model_bytes.data(), model_bytes.size());
  out.u64(state.epochs_done);
  out.u32(static_cast<std::uint32_t>(state.rng_state.size()));
  out.raw(state.rng_state.data(), state.rng_state.size());
  out.u64(state.optimizer.iterations);
  out.u32(static_cast<std::uint32_t>(state.optimizer.slots.size()));
  for (const auto& slot : state.optimizer.slots) {
    out.u64(slot.size());
    out.f32s(slot.data(), slot.size());
  }
  out.u32(static_cast<std::uint32_t>(state.history.epochs.size()));
  for (const EpochLog& e : state.history.epochs) {
    out.u64(e.epoch);
    for (double v : {e.loss, e.accuracy, e.val_loss, e.val_accuracy, e.seconds}) out.f64(v);
  }
  out.u32(crc32_of(out.bytes(), out.bytes().size()));
  write_file_atomically(path, out.bytes(), WriteOptions{/*require_regular=*/true, "a checkpoint"});
}

Checkpoint load_checkpoint(const std::string& path) {
  detail::InputFile file(path);
  Reader body(file, path);
  if (file.size() < sizeof magic || std::memcmp(body.take(sizeof magic, "magic"), magic, sizeof magic) != 0) {
    throw DataError(path + ": not an xdense checkpoint (wrong magic bytes)");
  }
  if (file.size() < sizeof magic + 8) throw DataError(path + ": truncated checkpoint");
  body.stop_before_checksum();
  const std::uint32_t version = body.u32("version");
  if (version > checkpoint_format_version) {
    throw DataError(path + ": checkpoint format version " + std::to_string(version) +
                    " is newer than this xdense supports (" + std::to_string(checkpoint_format_version) +
                    "); upgrade xdense");
  }
  const std::uint64_t model_size = body.u64("model length");
  if (model_size > body.remaining()) body.fail("the model length exceeds the file");
  const char* model_start = body.take(model_size, "model");
  const std::vector<unsigned char> model_bytes(model_start, model_start + model_size);

  Checkpoint checkpoint;
  checkpoint.saved = decode_model(model_bytes, path + " (model)");
  TrainingState& state = checkpoint.state;
  state.epochs_done = static_cast<std::size_t>(body.u64("epochs done"));
  const std::uint32_t rng_size = body.u32("random engine state length");
  const char* rng = body.take(rng_size, "random engine state");
  state.rng_state.assign(rng, rng_size);
  state.optimizer.iterations = static_cast<std::size_t>(body.u64("optimizer iterations"));
  const std::uint32_t slots = body.u32("optimizer slot count");
  if (slots > body.remaining() / 8) body.fail("optimizer slot count " + std::to_string(slots));
  for (std::uint32_t i = 0; i < slots; ++i) {
    state.optimizer.slots.push_back(body.f32s(body.u64("optimizer slot size"), "optimizer slot"));
  }
  const std::uint32_t epochs = body.u32("history length");
  if (epochs > body.remaining() / 48 || epochs != state.epochs_done) {
    body.fail("history of " + std::to_string(epochs) + " epochs for " + std::to_string(state.epochs_done) +
              " epochs done");
  }
  for (std::uint32_t i = 0; i < epochs; ++i) {
    EpochLog e;
    e.epoch = static_cast<std::size_t>(body.u64("history epoch"));
    e.loss = body.f64("history loss");
    e.accuracy = body.f64("history accuracy");
    e.val_loss = body.f64("history val_loss");
    e.val_accuracy = body.f64("history val_accuracy");
    e.seconds = body.f64("history seconds");
    state.history.epochs.push_back(e);
  }
  if (body.remaining() != 0) body.fail(std::to_string(body.remaining()) + " unread bytes");
  if (!body.checksum_matches()) {
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
}

}  // namespace xdense
