#include "xdense/atomic_file.hpp"
#include "xdense/model_file.hpp"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include "input_file.hpp"
#include "xdense/activation.hpp"
#include "xdense/dense.hpp"
#include "xdense/error.hpp"
#include "xdense/loss.hpp"
#include "xdense/optimizer.hpp"

namespace xdense {
namespace {

// --- format constants (docs/model-format.md) -------------------------------------------

constexpr unsigned char magic[8] = {'X', 'D', 'E', 'N', 'S', 'E', 'M', 0x1a};
constexpr std::size_t header_size = 24;  // magic, u32 version, u32 flags, u64 payload length
constexpr std::size_t trailer_size = 4;  // u32 CRC-32 of header + payload
constexpr std::size_t max_string_bytes = std::size_t{1} << 20;
constexpr std::uint64_t max_units = std::uint64_t{1} << 31;  // per layer; anything larger is corruption
constexpr std::uint8_t kind_dense = 1;
constexpr std::uint8_t kind_activation = 2;
// Smallest encodings, used to reject counts that cannot fit in the bytes left.
constexpr std::size_t min_layer_bytes = 5;   // kind + empty spec string
constexpr std::size_t min_string_bytes = 4;  // length of an empty string

std::uint32_t checksum(const unsigned char* data, std::size_t size) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (size > 0) {  // zlib takes uInt lengths
    const auto chunk = static_cast<uInt>(std::min<std::size_t>(size, std::size_t{1} << 30));
    crc = crc32(crc, data, chunk);
    data += chunk;
    size -= chunk;
  }
  return static_cast<std::uint32_t>(crc);
}

std::uint32_t get_u32(const unsigned char* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

std::uint64_t get_u64(const unsigned char* p) {
  return static_cast<std::uint64_t>(get_u32(p)) | static_cast<std::uint64_t>(get_u32(p + 4)) << 32;
}

std::string hex(std::uint32_t value) {
  char text[11];
  std::snprintf(text, sizeof text, "0x%08x", value);
  return text;
}

bool all_finite(const float* values, std::size_t n) {
  return std::all_of(values, values + n, [](float v) { return std::isfinite(v); });
}

// "layer 3 (dense)": how messages name layer `index`, with `what` saying what it is.
std::string layer_label(std::size_t index, const std::string& what) {
  return "layer " + std::to_string(index) + " (" + what + ")";
}

/// What is inconsistent between `info` and a model with `inputs` inputs and `outputs` outputs;
/// empty when nothing is. Shared by save (InvalidArgument) and load (DataError).
std::string info_problem(const ModelInfo& info, std::size_t inputs, std::size_t outputs) {
  if (!info.feature_names.empty() && info.feature_names.size() != inputs) {
    return std::to_string(info.feature_names.size()) + " feature names for a model with " + std::to_string(inputs) +
           " inputs";
  }
  // A single (sigmoid) unit tells two classes apart; otherwise one unit per class. Fewer names than
  // that is fine (classes absent from the training data).
  const std::size_t capacity = outputs == 1 ? 2 : outputs;
  if (info.class_names.size() > capacity) {
    return std::to_string(info.class_names.size()) + " class names for a model with " + std::to_string(outputs) +
           " output unit" + (outputs == 1 ? "" : "s") + " (at most " + std::to_string(capacity) + ")";
  }
  if (info.standardizer) {
    if (!info.standardizer->fitted()) return "the standardizer is not fitted";
    if (info.standardizer->mean().size() != inputs) {
      return "the standardizer has " + std::to_string(info.standardizer->mean().size()) +
             " features, the model " + std::to_string(inputs) + " inputs";
    }
  }
  return {};
}

// --- encoding ----------------------------------------------------------------------------

/// Appends little-endian fields to a byte buffer.
class Writer {
 public:
  void u8(std::uint8_t v) { bytes_.push_back(v); }
  void u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) bytes_.push_back(static_cast<unsigned char>(v >> (8 * i)));
  }
  void u64(std::uint64_t v) {
    u32(static_cast<std::uint32_t>(v));
    u32(static_cast<std::uint32_t>(v >> 32));
  }
  void f32(float v) {
    std::uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    u32(bits);
  }
  void f32s(const float* values, std::size_t n) {
    bytes_.reserve(bytes_.size() + 4 * n);
    for (std::size_t i = 0; i < n; ++i) f32(values[i]);
  }
  /// u32 length + bytes; `what` names the string for the too-long error.
  void str(const std::string& s, const std::string& what) {
    if (s.size() > max_string_bytes) {
      throw InvalidArgument("save_model: " + what + " is " + std::to_string(s.size()) +
                            " bytes long; the model format allows at most 1 MiB per string");
    }
    u32(static_cast<std::uint32_t>(s.size()));
    bytes_.insert(bytes_.end(), s.begin(), s.end());
  }
  void count(std::size_t n, const std::string& what) {
    if (n > 0xffffffffu) throw InvalidArgument("save_model: too many " + what + " (" + std::to_string(n) + ")");
    u32(static_cast<std::uint32_t>(n));
  }
  void strings(const std::vector<std::string>& list, const std::string& what) {
    count(list.size(), what);
    for (std::size_t i = 0; i < list.size(); ++i) str(list[i], what + " " + std::to_string(i));
  }
  std::vector<unsigned char>& bytes() { return bytes_; }

 private:
  std::vector<unsigned char> bytes_;
};

/// Throws InvalidArgument unless make_activation(spec) gives back an activation computing the
/// same values: a spec that loses information (or is unregistered) would load as another model.
void check_activation_spec(const Activation& activation, std::size_t index) {
  const std::string spec = activation.spec();
  const std::string where = "save_model: " + layer_label(index, activation.type_name());
  std::unique_ptr<Activation> rebuilt;
  try {
    rebuilt = make_activation(spec);
  } catch (const std::exception& e) {
    throw InvalidArgument(where + ": its spec '" + spec +
                          "' cannot be rebuilt by make_activation(), so the file could not be loaded"
                          " (register_activation() it first): " + e.what());
  }
  // Compare the two on a fixed probe row, bit for bit.
  static const float probe[] = {-7.5f, -2.0f, -1.0f, -0.6180339f, -0.1f, -0.0f, 0.0f,
                                0.1f,  0.5f,  1.0f,  1.4142135f,  3.0f,  9.25f};
  constexpr std::size_t n = sizeof probe / sizeof probe[0];
  float original_out[n];
  float rebuilt_out[n];
  try {
    activation.activate({probe, 1, n}, {original_out, 1, n});
    rebuilt->activate({probe, 1, n}, {rebuilt_out, 1, n});
  } catch (const std::exception&) {
    return;  // an activation that cannot take the probe row: nothing to compare
  }
  if (std::memcmp(original_out, rebuilt_out, sizeof original_out) != 0) {
    throw InvalidArgument(where + ": make_activation('" + spec +
                          "') computes different values than the layer (its spec() loses information), so the"
                          " saved model would not reproduce it");
  }
}

std::vector<unsigned char> encode(Sequential& model, const ModelInfo& info) {
  const std::size_t inputs = model.input_units();
  const std::size_t outputs = model.output_units();
  Writer w;
  for (unsigned char c : magic) w.u8(c);
  w.u32(model_format_version);
  w.u32(0);  // flags
  w.u64(0);  // payload length, patched below

  // architecture
  w.u64(inputs);
  w.count(model.layer_count(), "layers");
  std::vector<const Dense*> dense_layers;
  for (std::size_t i = 0; i < model.layer_count(); ++i) {
    const Layer& layer = model.layer(i);
    if (const auto* dense = dynamic_cast<const Dense*>(&layer)) {
      w.u8(kind_dense);
      w.u64(dense->input_units());
      w.u64(dense->output_units());
      w.u8(dense->options().use_bias ? 1 : 0);
      w.str(dense->options().kernel_initializer, "kernel initializer");
      w.str(dense->options().bias_initializer, "bias initializer");
      if (!all_finite(dense->kernel().data(), dense->kernel().size()) ||
          !all_finite(dense->bias().data(), dense->bias().size())) {
        throw InvalidArgument("save_model: " + layer_label(i, model.layer_name(i)) +
                              " has non-finite weights (NaN or infinity); training diverged?");
      }
      dense_layers.push_back(dense);
    } else if (const auto* activation = dynamic_cast<const Activation*>(&layer)) {
      check_activation_spec(*activation, i);
      w.u8(kind_activation);
      w.str(activation->spec(), "activation spec");
    } else {
      throw InvalidArgument("save_model: " + layer_label(i, layer.type_name()) +
                            " is neither Dense nor an Activation; the model format cannot hold it");
    }
  }

  // compile
  const std::string loss = model.loss()->name();
  try {
    if (make_loss(loss)->name() != loss) throw InvalidArgument("make_loss() resolves it to another loss");
  } catch (const InvalidArgument& e) {
    throw InvalidArgument("save_model: loss '" + loss + "' cannot be rebuilt by name: " + e.what());
  }
  w.str(loss, "loss name");
  Optimizer* optimizer = model.optimizer();
  const AdamOptions adam_defaults;  // written for SGD, whose file entry ignores them
  if (const auto* sgd = dynamic_cast<const SGD*>(optimizer)) {
    w.str("sgd", "optimizer name");
    w.f32(sgd->options().learning_rate);
    w.f32(sgd->options().momentum);
    w.u8(sgd->options().nesterov ? 1 : 0);
    w.f32(adam_defaults.beta1);
    w.f32(adam_defaults.beta2);
    w.f32(adam_defaults.epsilon);
  } else if (const auto* adam = dynamic_cast<const Adam*>(optimizer)) {
    w.str("adam", "optimizer name");
    w.f32(adam->options().learning_rate);
    w.f32(0.0f);  // momentum
    w.u8(0);      // nesterov
    w.f32(adam->options().beta1);
    w.f32(adam->options().beta2);
    w.f32(adam->options().epsilon);
  } else {
    throw InvalidArgument("save_model: optimizer '" + optimizer->name() +
                          "' is neither SGD nor Adam; the model format cannot hold it");
  }
  w.strings(model.has_accuracy() ? std::vector<std::string>{"accuracy"} : std::vector<std::string>{}, "metrics");

  // info
  const std::string problem = info_problem(info, inputs, outputs);
  if (!problem.empty()) throw InvalidArgument("save_model: ModelInfo does not fit the model: " + problem);
  w.strings(info.class_names, "class names");
  w.strings(info.feature_names, "feature names");
  w.u8(info.standardizer ? 1 : 0);
  if (info.standardizer) {
    const Vector& mean = info.standardizer->mean();
    const Vector& scale = info.standardizer->scale();
    w.u64(mean.size());
    w.f32s(mean.data(), mean.size());
    w.f32s(scale.data(), scale.size());
  }
  w.count(info.metadata.size(), "metadata entries");
  for (const auto& [key, value] : info.metadata) {
    w.str(key, "metadata key");
    w.str(value, "metadata value '" + key.substr(0, 64) + "'");
  }

  // weights
  for (const Dense* dense : dense_layers) {
    w.f32s(dense->kernel().data(), dense->kernel().size());
    w.f32s(dense->bias().data(), dense->bias().size());
  }

  std::vector<unsigned char>& bytes = w.bytes();
  const std::uint64_t payload = bytes.size() - header_size;
  for (int i = 0; i < 8; ++i) bytes[16 + i] = static_cast<unsigned char>(payload >> (8 * i));
  const std::uint32_t crc = checksum(bytes.data(), bytes.size());
  w.u32(crc);
  return std::move(bytes);
}


// --- decoding ----------------------------------------------------------------------------

/// Reads little-endian fields from the payload, checking every length against the bytes left
/// before touching (or allocating for) them.
class Reader {
 public:
  Reader(const unsigned char* data, std::size_t size, const std::string& path)
      : data_(data), size_(size), path_(path) {}

  std::size_t remaining() const { return size_ - position_; }

  /// Throws DataError "<path>: invalid <message>".
  [[noreturn]] void fail(const std::string& message) const { throw DataError(path_ + ": invalid " + message); }

  std::uint8_t u8(const std::string& what) { return *take(1, what); }
  std::uint32_t u32(const std::string& what) { return get_u32(take(4, what)); }
  std::uint64_t u64(const std::string& what) { return get_u64(take(8, what)); }
  float f32(const std::string& what) {
    const std::uint32_t bits = u32(what);
    float v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
  }
  bool flag(const std::string& what) {
    const std::uint8_t v = u8(what);
    if (v > 1) fail(what + ": expected 0 or 1, found " + std::to_string(v));
    return v == 1;
  }
  std::string str(const std::string& what) {
    const std::uint32_t length = u32(what + " length");
    if (length > max_string_bytes) {
      fail(what + ": length " + std::to_string(length) + " exceeds the 1 MiB limit for strings");
    }
    const unsigned char* p = take(length, what);
    return std::string(reinterpret_cast<const char*>(p), length);
  }
  /// A u32 count of items taking at least `min_item_bytes` each.
  std::size_t count(const std::string& what, std::size_t min_item_bytes) {
    const std::uint32_t n = u32(what + " count");
    if (n > remaining() / min_item_bytes) {
      fail(what + " count " + std::to_string(n) + " cannot fit in the " + std::to_string(remaining()) +
           " payload bytes left");
    }
    return n;
  }
  std::vector<std::string> strings(const std::string& what) {
    std::vector<std::string> list(count(what, min_string_bytes));
    for (std::size_t i = 0; i < list.size(); ++i) list[i] = str(what + " " + std::to_string(i));
    return list;
  }
  /// Copies `n` floats into `out` (which has room for them).
  void f32s(float* out, std::size_t n, const std::string& what) {
    if (n > remaining() / 4) need(what);
    const unsigned char* p = take(4 * n, what);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint32_t bits = get_u32(p + 4 * i);
      std::memcpy(out + i, &bits, sizeof(float));
    }
  }

 private:
  const unsigned char* take(std::size_t n, const std::string& what) {
    if (n > remaining()) need(what);
    const unsigned char* p = data_ + position_;
    position_ += n;
    return p;
  }
  [[noreturn]] void need(const std::string& what) const {
    fail(what + ": needs more bytes than the " + std::to_string(remaining()) + " left in the payload");
  }

  const unsigned char* data_;
  std::size_t size_;
  std::size_t position_ = 0;
  const std::string& path_;
};

/// Checks what the first min(size, 24) bytes of a model of `size` bytes say: magic, version, and
/// the payload length the header declares against the size. `head` holds those bytes.
void verify_header(const unsigned char* head, std::uint64_t size, const std::string& source) {
  if (size == 0) throw DataError(source + ": not an xdense model file (the file is empty)");
  if (std::memcmp(head, magic, static_cast<std::size_t>(std::min<std::uint64_t>(size, sizeof magic))) != 0) {
    throw DataError(source + ": not an xdense model file (wrong magic bytes)");
  }
  if (size < header_size) {
    throw DataError(source + ": truncated: " + std::to_string(size) + " bytes, less than the " +
                    std::to_string(header_size) + "-byte header");
  }
  const std::uint32_t version = get_u32(head + 8);
  if (version > model_format_version) {
    throw DataError(source + ": format version " + std::to_string(version) +
                    " is newer than this xdense supports (" + std::to_string(model_format_version) +
                    "); upgrade xdense");
  }
  if (version == 0) throw DataError(source + ": invalid format version 0");

  const std::uint64_t payload = get_u64(head + 16);
  const std::uint64_t available = size - header_size;
  if (available < trailer_size || payload > available - trailer_size) {
    throw DataError(source + ": truncated: the header announces " + std::to_string(payload) +
                    " payload bytes plus a 4-byte checksum, but only " + std::to_string(available) +
                    " bytes follow the header");
  }
  const std::uint64_t expected = header_size + payload + trailer_size;
  if (size > expected) {
    throw DataError(source + ": " + std::to_string(size - expected) +
                    " trailing bytes after the checksum (the model ends at byte " + std::to_string(expected) + ")");
  }
}

/// Checks magic, version, size, checksum and flags of a whole model held in `bytes`;
/// `source` names it in messages.
void verify_bytes(const std::vector<unsigned char>& bytes, const std::string& source) {
  const std::size_t size = bytes.size();
  verify_header(bytes.data(), size, source);
  const std::uint32_t stored = get_u32(bytes.data() + size - trailer_size);
  const std::uint32_t computed = checksum(bytes.data(), size - trailer_size);
  if (stored != computed) {
    throw DataError(source + ": corrupted: checksum mismatch (stored " + hex(stored) + ", computed " +
                    hex(computed) + ")");
  }
  const std::uint32_t flags = get_u32(bytes.data() + 12);
  if (flags != 0) throw DataError(source + ": unsupported flags " + hex(flags) + " (version 1 defines none)");
}

/// Reads a whole regular file; the model checks are verify_bytes()'s. The header is read and
/// checked against the file's size first, so a file that is not a model, or whose size is not the
/// one its header declares (a sparse file of a terabyte, say), is refused after 24 bytes.
std::vector<unsigned char> read_verified(const std::string& path) {
  detail::InputFile file(path);
  std::vector<unsigned char> bytes(static_cast<std::size_t>(std::min<std::uint64_t>(file.size(), header_size)));
  const auto read_into = [&](std::size_t from) {
    if (file.read(bytes.data() + from, bytes.size() - from) < bytes.size() - from) {
      throw DataError(path + ": truncated: the file shrank while being read");
    }
  };
  read_into(0);
  verify_header(bytes.data(), file.size(), path);
  bytes.resize(static_cast<std::size_t>(file.size()));
  read_into(header_size);
  verify_bytes(bytes, path);
  return bytes;
}

/// Runs `build`, turning an xdense error (a constructor rejecting a stored value) into DataError.
template <typename Build>
auto rebuild(const Reader& in, const std::string& where, Build build) -> decltype(build()) {
  try {
    return build();
  } catch (const Error& e) {
    in.fail(where + ": " + e.what());
  }
}

struct DenseRecord {
  Dense* layer;
  std::size_t index;
};

}  // namespace

void save_model(const std::string& path, Sequential& model, const ModelInfo& info) {
  if (!model.built()) throw StateError("save_model: the model is not built; call build() or fit() first");
  if (!model.compiled()) throw StateError("save_model: the model is not compiled; call compile() first");
  const std::vector<unsigned char> bytes = encode(model, info);
  AtomicFileWriter out(path, WriteOptions{/*require_regular=*/true, "a model file"});
  out.write(bytes.data(), bytes.size());
  out.commit();
}

SavedModel load_model(const std::string& path) { return decode_model(read_verified(path), path); }

std::vector<unsigned char> encode_model(Sequential& model, const ModelInfo& info) {
  if (!model.built()) throw StateError("encode_model: the model is not built; call build() or fit() first");
  if (!model.compiled()) throw StateError("encode_model: the model is not compiled; call compile() first");
  return encode(model, info);
}

SavedModel decode_model(const std::vector<unsigned char>& bytes, const std::string& source) {
  verify_bytes(bytes, source);
  const std::string& path = source;
  Reader in(bytes.data() + header_size, bytes.size() - header_size - trailer_size, path);

  // architecture: layers are created as they are read (nothing large is allocated before build)
  const std::uint64_t input_units = in.u64("architecture: input_units");
  if (input_units == 0 || input_units > max_units) {
    in.fail("architecture: input_units " + std::to_string(input_units) + " (expected 1 to " +
            std::to_string(max_units) + ")");
  }
  const std::size_t layer_count = in.count("architecture: layer", min_layer_bytes);
  if (layer_count == 0) in.fail("architecture: the model has no layers");
  std::vector<std::unique_ptr<Layer>> layers;
  std::vector<DenseRecord> dense_layers;
  std::uint64_t width = input_units;
  std::uint64_t weight_floats = 0;
  for (std::size_t i = 0; i < layer_count; ++i) {
    const std::string where = "layer " + std::to_string(i);
    const std::uint8_t kind = in.u8(where + ": kind");
    if (kind == kind_dense) {
      const std::string dense_where = layer_label(i, "dense");
      const std::uint64_t inputs = in.u64(dense_where + ": input_units");
      const std::uint64_t units = in.u64(dense_where + ": units");
      DenseOptions options;
      options.use_bias = in.flag(dense_where + ": use_bias");
      options.kernel_initializer = in.str(dense_where + ": kernel_initializer");
      options.bias_initializer = in.str(dense_where + ": bias_initializer");
      if (units == 0 || units > max_units) {
        in.fail(dense_where + ": units " + std::to_string(units) + " (expected 1 to " + std::to_string(max_units) +
                ")");
      }
      if (inputs != width) {
        in.fail(dense_where + ": input_units " + std::to_string(inputs) + " does not match the " +
                (i == 0 ? "model's " + std::to_string(width) + " inputs"
                        : std::to_string(width) + " outputs of the layer before it"));
      }
      // Both factors are <= 2^31: no overflow. The weights follow later in the payload, so they
      // must fit in what is left of it.
      const std::uint64_t floats = inputs * units + units;
      const std::uint64_t budget = in.remaining() / 4;
      if (weight_floats > budget || floats > budget - weight_floats) {
        in.fail(dense_where + ": " + std::to_string(inputs) + " x " + std::to_string(units) +
                " weights cannot fit in the " + std::to_string(in.remaining()) + " payload bytes left");
      }
      weight_floats += floats;
      auto dense = rebuild(in, dense_where, [&] {
        return std::make_unique<Dense>(static_cast<std::size_t>(units), static_cast<std::size_t>(inputs), options);
      });
      dense_layers.push_back({dense.get(), i});
      layers.push_back(std::move(dense));
      width = units;
    } else if (kind == kind_activation) {
      const std::string spec = in.str(where + " (activation): spec");
      std::unique_ptr<Activation> activation;
      try {
        activation = make_activation(spec);
      } catch (const std::exception& e) {  // user factories may throw anything
        in.fail(layer_label(i, "activation '" + spec + "'") + ": " + e.what());
      }
      layers.push_back(std::move(activation));
    } else {
      in.fail(where + ": unknown layer kind " + std::to_string(kind) + " (expected 1 dense or 2 activation)");
    }
  }
  const auto output_units = static_cast<std::size_t>(width);

  // compile
  const std::string loss_name = in.str("compile: loss name");
  const std::string optimizer_name = in.str("compile: optimizer name");
  SGDOptions sgd;
  AdamOptions adam;
  sgd.learning_rate = adam.learning_rate = in.f32("compile: learning_rate");
  sgd.momentum = in.f32("compile: momentum");
  sgd.nesterov = in.flag("compile: nesterov");
  adam.beta1 = in.f32("compile: beta1");
  adam.beta2 = in.f32("compile: beta2");
  adam.epsilon = in.f32("compile: epsilon");
  const std::vector<std::string> metrics = in.strings("compile: metric");
  for (float v : {sgd.learning_rate, sgd.momentum, adam.beta1, adam.beta2, adam.epsilon}) {
    if (!std::isfinite(v)) in.fail("compile: non-finite optimizer hyperparameter");
  }
  std::unique_ptr<Loss> loss = rebuild(in, "compile", [&] { return make_loss(loss_name); });
  std::unique_ptr<Optimizer> optimizer;
  if (optimizer_name == "sgd") {
    optimizer = rebuild(in, "compile", [&] { return std::make_unique<SGD>(sgd); });
  } else if (optimizer_name == "adam") {
    optimizer = rebuild(in, "compile", [&] { return std::make_unique<Adam>(adam); });
  } else {
    in.fail("compile: unknown optimizer '" + optimizer_name + "' (expected sgd or adam)");
  }

  // info
  ModelInfo info;
  info.class_names = in.strings("info: class name");
  info.feature_names = in.strings("info: feature name");
  if (in.flag("info: has_standardizer")) {
    const std::uint64_t n = in.u64("info: standardizer size");
    if (n != input_units) {
      in.fail("info: the standardizer has " + std::to_string(n) + " features, the model " +
              std::to_string(input_units) + " inputs");
    }
    if (n > in.remaining() / 8) in.fail("info: standardizer: needs more bytes than the payload has left");
    Vector mean = Vector::from_shape({static_cast<std::size_t>(n)});
    Vector scale = Vector::from_shape({static_cast<std::size_t>(n)});
    in.f32s(mean.data(), mean.size(), "info: standardizer mean");
    in.f32s(scale.data(), scale.size(), "info: standardizer scale");
    info.standardizer = rebuild(in, "info", [&] { return Standardizer(std::move(mean), std::move(scale)); });
  }
  const std::size_t entries = in.count("info: metadata", 2 * min_string_bytes);
  info.metadata.reserve(entries);
  for (std::size_t i = 0; i < entries; ++i) {
    std::string key = in.str("info: metadata key " + std::to_string(i));
    std::string value = in.str("info: metadata value " + std::to_string(i));
    info.metadata.emplace_back(std::move(key), std::move(value));
  }
  const std::string problem = info_problem(info, static_cast<std::size_t>(input_units), output_units);
  if (!problem.empty()) in.fail("info: " + problem);

  // weights (sizes were checked against the payload while reading the architecture)
  std::vector<std::pair<Matrix, Vector>> weights;
  for (const DenseRecord& record : dense_layers) {
    const std::string where = layer_label(record.index, "dense");
    const std::size_t inputs = record.layer->input_units();
    const std::size_t units = record.layer->output_units();
    Matrix kernel = Matrix::from_shape({inputs, units});
    Vector bias = Vector::from_shape({units});
    in.f32s(kernel.data(), kernel.size(), where + ": kernel");
    in.f32s(bias.data(), bias.size(), where + ": bias");
    if (!all_finite(kernel.data(), kernel.size()) || !all_finite(bias.data(), bias.size())) {
      in.fail(where + ": non-finite weights (NaN or infinity)");
    }
    if (!record.layer->options().use_bias &&
        std::any_of(bias.begin(), bias.end(), [](float b) { return b != 0.0f; })) {
      in.fail(where + ": non-zero bias in a layer without bias");
    }
    weights.emplace_back(std::move(kernel), std::move(bias));
  }
  if (in.remaining() != 0) {
    in.fail("payload: " + std::to_string(in.remaining()) + " unread bytes after the weights");
  }

  SavedModel saved;
  rebuild(in, "model", [&] {
    for (auto& layer : layers) saved.model.add(std::move(layer));
    saved.model.compile(std::move(loss), std::move(optimizer), metrics);
    saved.model.build(static_cast<std::size_t>(input_units));
    for (std::size_t k = 0; k < dense_layers.size(); ++k) {
      dense_layers[k].layer->set_weights(weights[k].first, weights[k].second);
    }
  });
  saved.info = std::move(info);
  return saved;
}

}  // namespace xdense
