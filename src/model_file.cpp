#include "xdense/model_file.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <new>
#include <optional>

#include "binary_io.hpp"
#include "input_file.hpp"
#include "model_record.hpp"
#include "xdense/activation.hpp"
#include "xdense/atomic_file.hpp"
#include "xdense/error.hpp"
#include "xdense/loss.hpp"
#include "xdense/metric.hpp"
#include "xdense/optimizer.hpp"
#include "xdense/random.hpp"

namespace xdense {
namespace detail {

std::string layer_label(std::size_t index, const std::string& what) {
  return "layer " + std::to_string(index) + " (" + what + ")";
}

bool all_finite(const float* values, std::size_t n) {
  return std::all_of(values, values + n, [](float v) { return std::isfinite(v); });
}

namespace {

/// A stored Standardizer's f32 mean[n], f32 scale[n] (`what` names it in messages; the Standardizer's
/// own refusal follows "info: " + `refusal`). Its size n is checked by the caller: against the inputs
/// here, against the output units once the model is built (target standardizer).
Standardizer read_standardizer(ByteReader& in, const std::string& what, const std::string& refusal, std::uint64_t n) {
  if (n > in.remaining() / 8) in.fail("info: " + what + ": needs more bytes than the payload has left");
  Vector mean = Vector::from_shape({static_cast<std::size_t>(n)});
  Vector scale = Vector::from_shape({static_cast<std::size_t>(n)});
  in.f32s(mean.data(), mean.size(), "info: " + what + " mean");
  in.f32s(scale.data(), scale.size(), "info: " + what + " scale");
  try {
    return Standardizer(std::move(mean), std::move(scale));
  } catch (const Error& e) {
    in.fail("info: " + refusal + e.what());
  }
}

}  // namespace

ModelInfo read_info(ByteReader& in, std::uint64_t input_units, std::uint32_t version) {
  ModelInfo info;
  info.class_names = in.strings("info: class name");
  info.feature_names = in.strings("info: feature name");
  if (in.flag("info: has_standardizer")) {
    const std::uint64_t n = in.u64("info: standardizer size");
    if (n != input_units) {
      in.fail("info: the standardizer has " + std::to_string(n) + " features, the model " +
              std::to_string(input_units) + " inputs");
    }
    info.standardizer = read_standardizer(in, "standardizer", "", n);
  }
  const std::size_t entries = in.count("info: metadata", 2 * min_string_bytes);
  info.metadata.reserve(entries);
  for (std::size_t i = 0; i < entries; ++i) {
    std::string key = in.str("info: metadata key " + std::to_string(i));
    std::string value = in.str("info: metadata value " + std::to_string(i));
    info.metadata.emplace_back(std::move(key), std::move(value));
  }
  if (version >= 3) {
    // The task and the targets; checked against the model by info_problem() once it is built.
    info.task = in.str("info: task");
    info.target_names = in.strings("info: target name");
    if (in.flag("info: has_target_standardizer")) {
      const std::uint64_t n = in.u64("info: target standardizer size");
      if (n == 0 || n > max_model_units) {
        in.fail("info: target standardizer size " + std::to_string(n) + " (expected 1 to " +
                std::to_string(max_model_units) + ")");
      }
      info.target_standardizer = read_standardizer(in, "target standardizer", "target standardizer: ", n);
    }
  }
  return info;
}

}  // namespace detail

namespace {

using detail::all_finite;
using detail::ByteReader;
using detail::ByteWriter;
using detail::layer_label;

// --- format constants (docs/model-format.md) -------------------------------------------

constexpr unsigned char magic[8] = {'X', 'D', 'E', 'N', 'S', 'E', 'M', 0x1a};
constexpr std::size_t header_size = 24;  // magic, u32 version, u32 flags, u64 payload length
constexpr std::size_t trailer_size = 4;  // u32 CRC-32 of header + payload
constexpr std::uint32_t max_tensor_rank = 8;
/// Deepest nesting of arrays and objects in a stored config (as JSON model configs): keeps a hostile
/// file (100,000 nested brackets) from exhausting the stack of recursive JSON code.
constexpr int max_config_depth = 32;
// Smallest encodings, used to reject counts that cannot fit in the bytes left.
constexpr std::size_t min_layer_bytes = 12;   // empty kind, empty config, no tensors
constexpr std::size_t min_tensor_bytes = 16;  // empty name, rank 1, one dimension
/// Weights a layer may hold beyond twice what the file stores for it before it is built (see
/// check_layer_size): 2^20 floats, 4 MiB.
constexpr std::uint64_t max_probe_slack = std::uint64_t{1} << 20;

const std::string classification_task = "classification";
const std::string regression_task = "regression";

/// The task a model records when ModelInfo::task is empty (and the task of a version-1 or -2 file):
/// regression for a loss taking real values (LabelEncoding::values) and no class names, else
/// classification (a classifier trained with mse on one-hot targets keeps its class names).
std::string implied_task(const Loss& loss, const ModelInfo& info) {
  return loss.label_encoding() == LabelEncoding::values && info.class_names.empty() ? regression_task
                                                                                    : classification_task;
}

/// "1 output unit", "3 output units".
std::string output_units_text(std::size_t outputs) {
  return std::to_string(outputs) + " output unit" + (outputs == 1 ? "" : "s");
}

/// What is inconsistent between `info` (its task given) and a model with `inputs` inputs and
/// `outputs` outputs; empty when nothing is. Shared by save (InvalidArgument) and load (DataError).
std::string info_problem(const ModelInfo& info, std::size_t inputs, std::size_t outputs) {
  if (info.task != classification_task && info.task != regression_task) {
    return "task " + quote_value(info.task) + " (expected classification or regression)";
  }
  const bool regression = info.task == regression_task;
  if (regression && !info.class_names.empty()) {
    return std::to_string(info.class_names.size()) + " class names for a regression model (a regressor names its " +
           "outputs with target_names)";
  }
  if (!regression && !info.target_names.empty()) {
    return std::to_string(info.target_names.size()) + " target names for a classification model (it names its " +
           "outputs with class_names)";
  }
  if (!regression && info.target_standardizer) return "a target standardizer for a classification model";
  if (!info.target_names.empty() && info.target_names.size() != outputs) {
    return std::to_string(info.target_names.size()) + " target names for a model with " + output_units_text(outputs) +
           " (one name per output unit)";
  }
  if (info.target_standardizer) {
    if (!info.target_standardizer->fitted()) return "the target standardizer is not fitted";
    if (info.target_standardizer->mean().size() != outputs) {
      return "the target standardizer has " + std::to_string(info.target_standardizer->mean().size()) +
             " targets, the model " + output_units_text(outputs);
    }
  }
  if (!info.feature_names.empty() && info.feature_names.size() != inputs) {
    return std::to_string(info.feature_names.size()) + " feature names for a model with " + std::to_string(inputs) +
           " inputs";
  }
  // A single (sigmoid) unit tells two classes apart; otherwise one unit per class. Fewer names than
  // that is fine (classes absent from the training data).
  const std::size_t capacity = outputs == 1 ? 2 : outputs;
  if (info.class_names.size() > capacity) {
    return std::to_string(info.class_names.size()) + " class names for a model with " + output_units_text(outputs) +
           " (at most " + std::to_string(capacity) + ")";
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

/// A Parameter's shape, (size) when it declares none.
std::vector<std::size_t> shape_of(const Parameter& p) {
  return p.shape.empty() ? std::vector<std::size_t>{p.size} : p.shape;
}

std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string text = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + (shape.size() == 1 ? ",)" : ")");
}

/// "kernel (4, 8), bias (8,)": a layer's weights for messages.
std::string weights_text(const std::vector<Parameter>& weights) {
  if (weights.empty()) return "none";
  std::string text;
  for (const Parameter& p : weights) text += (text.empty() ? "" : ", ") + quote_value(p.name) + " " + shape_text(shape_of(p));
  return text;
}

// --- encoding ----------------------------------------------------------------------------

/// Whether a config holds a non-finite number (which JSON cannot write).
bool has_non_finite(const Config& config) {
  if (config.is_number_float()) return !std::isfinite(config.get<double>());
  if (config.is_structured()) {
    return std::any_of(config.begin(), config.end(), [](const Config& item) { return has_non_finite(item); });
  }
  return false;
}

/// `config` as compact JSON text; InvalidArgument naming `where` for what JSON cannot hold.
std::string config_text(const Config& config, const std::string& where) {
  if (!config.is_object()) throw InvalidArgument(where + ": its config is not a JSON object: " + quote_value(config.dump()));
  if (has_non_finite(config)) throw InvalidArgument(where + ": its config holds a NaN or infinity, which JSON cannot store");
  try {
    return config.dump();
  } catch (const nlohmann::json::exception& e) {  // a string that is not UTF-8
    throw InvalidArgument(where + ": its config cannot be written as JSON: " + e.what());
  }
}

/// A component's config, an empty object for null (what a default-constructed Config is).
Config object_or_empty(Config config) { return config.is_null() ? Config::object() : config; }

/// Probe values, cycled over the inputs of one row. The row lives as long as the program, so a
/// layer that keeps a view of its last input (the Layer contract) never holds a dangling one.
const float* probe_row(std::size_t inputs) {
  constexpr std::size_t capacity = 4096;
  static const std::vector<float> row = [] {
    static const float probe[] = {-7.5f, -2.0f, -1.0f, -0.6180339f, -0.1f, -0.0f, 0.0f,
                                  0.1f,  0.5f,  1.0f,  1.4142135f,  3.0f,  9.25f};
    std::vector<float> values(capacity);
    for (std::size_t i = 0; i < capacity; ++i) values[i] = probe[i % (sizeof probe / sizeof probe[0])];
    return values;
  }();
  return inputs <= capacity ? row.data() : nullptr;
}

/// Throws InvalidArgument unless make_layer(kind, config) rebuilds `layer`, so that the file loads
/// as the same model: the rebuilt layer must give back the same config, and
/// - a layer that declares its arrays (Layer::shape_for) must hold what it declares, and the rebuilt
///   one declare the same; nothing is built (saving a large model allocates nothing more). An
///   activation must also compute bit-identical values on a probe row (its spec losing an argument
///   is the classic mistake);
/// - a layer that does not declare them is rebuilt for the same input width (a throwaway) and must
///   have the same arrays by name and shape and, given the same values, compute bit-identical
///   outputs on a probe row: its one-row output buffer and a view of the program-long probe row are
///   all the live layer keeps of it.
void check_layer_rebuilds(Layer& layer, std::size_t index, const std::string& kind, const Config& config,
                          const std::string& text) {
  const std::string where = "save_model: " + layer_label(index, layer.type_name());
  const std::string rebuilds = "make_layer(" + quote_value(kind) + ", " + quote_value(text) + ")";
  const std::size_t inputs = layer.input_units();
  const std::vector<Parameter> original = layer.weights();
  const std::string original_text = weights_text(original);
  std::unique_ptr<Layer> rebuilt;
  std::optional<LayerShape> declared;
  try {
    rebuilt = make_layer(kind, config);
    declared = layer.shape_for(inputs);
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    throw InvalidArgument(where + ": " + rebuilds + " cannot rebuild it, so the file could not be loaded " +
                          "(register_layer() its kind first): " + e.what());
  }
  if (object_or_empty(rebuilt->config()) != config) {
    throw InvalidArgument(where + ": " + rebuilds + " rebuilds a layer whose config is " +
                          quote_value(rebuilt->config().dump()) + " (its config() loses information)");
  }
  const auto differs = [&] {
    return InvalidArgument(where + ": " + rebuilds + " computes different values than the layer (its config() " +
                           "loses information), so the saved model would not reproduce it");
  };
  if (declared) {
    bool same = declared->output_units == layer.output_units() && declared->weights.size() == original.size();
    for (std::size_t k = 0; same && k < original.size(); ++k) {
      same = declared->weights[k].first == original[k].name && declared->weights[k].second == shape_of(original[k]);
    }
    if (!same) {
      throw InvalidArgument(where + ": its shape_for(" + std::to_string(inputs) + ") does not declare what it holds (" +
                            std::to_string(layer.output_units()) + " outputs and weights " + original_text +
                            "), so a loader would refuse the file");
    }
    const std::optional<LayerShape> again = rebuilt->shape_for(inputs);
    if (!again || again->output_units != declared->output_units || again->weights != declared->weights) {
      throw InvalidArgument(where + ": " + rebuilds + " rebuilds a layer of other arrays (its config() loses information)");
    }
    const Activation* activation = layer.as_activation();
    const Activation* activation_again = rebuilt->as_activation();
    const float* row = probe_row(inputs);
    if (activation != nullptr && row != nullptr) {
      if (activation_again == nullptr) throw differs();
      std::vector<float> a(inputs), b(inputs);
      try {
        activation->activate({row, 1, inputs}, {a.data(), 1, inputs});
        activation_again->activate({row, 1, inputs}, {b.data(), 1, inputs});
      } catch (const std::exception&) {
        return;  // an activation that cannot take the probe row: nothing to compare
      }
      if (std::memcmp(a.data(), b.data(), inputs * sizeof(float)) != 0) throw differs();
    }
    return;
  }

  try {
    Rng rng;
    rebuilt->build(inputs, rng);
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    throw InvalidArgument(where + ": " + rebuilds + " cannot rebuild it for " + std::to_string(inputs) +
                          " inputs, so the file could not be loaded: " + e.what());
  }
  const std::vector<Parameter> copy = rebuilt->weights();
  if (weights_text(copy) != original_text || rebuilt->output_units() != layer.output_units()) {
    throw InvalidArgument(where + ": " + rebuilds + " rebuilds a layer with " +
                          std::to_string(rebuilt->output_units()) + " outputs and weights " + weights_text(copy) +
                          ", not " + std::to_string(layer.output_units()) + " outputs and " + original_text +
                          " (its config() loses information)");
  }
  for (std::size_t k = 0; k < original.size(); ++k) {
    std::copy(original[k].value, original[k].value + original[k].size, copy[k].value);
  }
  const float* row = probe_row(inputs);
  if (row == nullptr) return;
  const bool training = layer.training();
  std::vector<float> original_out;
  std::vector<float> rebuilt_out;
  try {
    layer.set_training(false);
    layer.reserve(1);  // never less than what a step reserved: the live buffers do not move
    const ConstMatrixView y = layer.forward({row, 1, inputs});
    original_out.assign(y.data, y.data + y.size());
    rebuilt->reserve(1);
    const ConstMatrixView z = rebuilt->forward({row, 1, inputs});
    rebuilt_out.assign(z.data, z.data + z.size());
  } catch (const std::bad_alloc&) {
    layer.set_training(training);
    throw;
  } catch (const std::exception&) {
    layer.set_training(training);
    return;  // a layer that cannot take the probe row: nothing to compare
  }
  layer.set_training(training);
  if (original_out.size() != rebuilt_out.size() ||
      std::memcmp(original_out.data(), rebuilt_out.data(), original_out.size() * sizeof(float)) != 0) {
    throw differs();
  }
}

/// Throws InvalidArgument unless `make(name, config)` rebuilds a component of the same name and
/// config (`family` is "loss" or "optimizer").
template <typename Make>
void check_component_rebuilds(const std::string& family, const std::string& name, const Config& config,
                              const std::string& text, Make make) {
  const std::string where = "save_model: " + family + " " + quote_value(name);
  try {
    const auto rebuilt = make(name, config);
    if (rebuilt->name() != name) {
      throw InvalidArgument("it rebuilds " + family + " " + quote_value(rebuilt->name()));
    }
    if (object_or_empty(rebuilt->config()) != config) {
      throw InvalidArgument("it rebuilds one whose config is " + quote_value(rebuilt->config().dump()) +
                            " (its config() loses information)");
    }
  } catch (const std::exception& e) {
    throw InvalidArgument(where + " cannot be rebuilt by make_" + family + "(name, " + quote_value(text) +
                          "), so the file could not be loaded (register_" + family + "() it first): " + e.what());
  }
}

/// An optional Standardizer as bool has_it, then u64 n, f32 mean[n], f32 scale[n].
void write_standardizer(ByteWriter& w, const std::optional<Standardizer>& standardizer) {
  w.u8(standardizer ? 1 : 0);
  if (!standardizer) return;
  const Vector& mean = standardizer->mean();
  const Vector& scale = standardizer->scale();
  w.u64(mean.size());
  w.f32s(mean.data(), mean.size());
  w.f32s(scale.data(), scale.size());
}

/// The info section of version 3; `info.task` is the resolved task (never empty).
void write_info(ByteWriter& w, const ModelInfo& info) {
  w.strings(info.class_names, "class names");
  w.strings(info.feature_names, "feature names");
  write_standardizer(w, info.standardizer);
  w.count(info.metadata.size(), "metadata entries");
  for (const auto& [key, value] : info.metadata) {
    w.str(key, "metadata key");
    w.str(value, "metadata value '" + key.substr(0, 64) + "'");
  }
  w.str(info.task, "task");
  w.strings(info.target_names, "target names");
  write_standardizer(w, info.target_standardizer);
}

/// The compiled metrics as (name, config text), each checked to rebuild through make_metric().
std::vector<std::pair<std::string, std::string>> metric_records(const Sequential& model) {
  std::vector<std::pair<std::string, std::string>> records;
  for (const std::unique_ptr<Metric>& metric : model.metrics()) {
    const std::string name = metric->name();
    const Config config = object_or_empty(metric->config());
    const std::string text = config_text(config, "save_model: metric " + quote_value(name));
    check_component_rebuilds("metric", name, config, text,
                             [](const std::string& n, const Config& c) { return make_metric(n, c); });
    records.emplace_back(name, text);
  }
  return records;
}

void write_layer(ByteWriter& w, Layer& layer, std::size_t index, const std::string& name) {
  const std::string where = "save_model: " + layer_label(index, layer.type_name());
  const std::string kind = layer.kind();
  const Config config = object_or_empty(layer.config());
  const std::string text = config_text(config, where);
  check_layer_rebuilds(layer, index, kind, config, text);
  w.str(kind, "layer kind");
  w.str(text, "layer config");
  const std::vector<Parameter> weights = layer.weights();
  w.count(weights.size(), "weights");
  for (std::size_t k = 0; k < weights.size(); ++k) {
    const Parameter& p = weights[k];
    const std::vector<std::size_t> shape = shape_of(p);
    std::size_t product = 1;
    for (std::size_t d : shape) product *= d;
    if (shape.size() > max_tensor_rank || product != p.size) {
      throw InvalidArgument(where + ": weight " + quote_value(p.name) + " has shape " + shape_text(shape) + " for " +
                            std::to_string(p.size) + " values (the format stores 1 to 8 dimensions)");
    }
    for (std::size_t j = 0; j < k; ++j) {
      if (weights[j].name == p.name) throw InvalidArgument(where + ": two weights named " + quote_value(p.name));
    }
    if (!all_finite(p.value, p.size)) {
      throw InvalidArgument("save_model: " + layer_label(index, name) +
                            " has non-finite weights (NaN or infinity); training diverged?");
    }
    w.str(p.name, "weight name");
    w.u32(static_cast<std::uint32_t>(shape.size()));
    for (std::size_t d : shape) w.u64(d);
    w.f32s(p.value, p.size);
  }
}

std::vector<unsigned char> encode(Sequential& model, const ModelInfo& given) {
  const std::size_t inputs = model.input_units();
  const std::size_t outputs = model.output_units();
  ModelInfo info = given;
  if (info.task.empty()) info.task = implied_task(*model.loss(), info);
  const std::string problem = info_problem(info, inputs, outputs);
  if (!problem.empty()) throw InvalidArgument("save_model: ModelInfo does not fit the model: " + problem);

  ByteWriter w("save_model");
  w.raw(magic, sizeof magic);
  w.u32(model_format_version);
  w.u32(0);  // flags
  w.u64(0);  // payload length, patched below

  // layers
  w.u64(inputs);
  w.count(model.layer_count(), "layers");
  for (std::size_t i = 0; i < model.layer_count(); ++i) write_layer(w, model.layer(i), i, model.layer_name(i));

  // compile
  const Loss& loss = *model.loss();
  const Config loss_config = object_or_empty(loss.config());
  const std::string loss_text = config_text(loss_config, "save_model: loss " + quote_value(loss.name()));
  check_component_rebuilds("loss", loss.name(), loss_config, loss_text,
                           [](const std::string& n, const Config& c) { return make_loss(n, c); });
  w.str(loss.name(), "loss name");
  w.str(loss_text, "loss config");
  const Optimizer& optimizer = *model.optimizer();
  const Config optimizer_config = object_or_empty(optimizer.config());
  const std::string optimizer_text =
      config_text(optimizer_config, "save_model: optimizer " + quote_value(optimizer.name()));
  check_component_rebuilds("optimizer", optimizer.name(), optimizer_config, optimizer_text,
                           [](const std::string& n, const Config& c) { return make_optimizer(n, c); });
  w.str(optimizer.name(), "optimizer name");
  w.str(optimizer_text, "optimizer config");
  const std::vector<std::pair<std::string, std::string>> metrics = metric_records(model);
  w.count(metrics.size(), "metrics");
  for (const auto& [name, text] : metrics) {
    w.str(name, "metric name");
    w.str(text, "metric config");
  }

  write_info(w, info);

  w.patch_u64(16, w.size() - header_size);
  w.append_checksum();
  return std::move(w.bytes());
}

// --- decoding ----------------------------------------------------------------------------

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
  const std::uint32_t version = detail::get_u32(head + 8);
  if (version > model_format_version) {
    throw DataError(source + ": format version " + std::to_string(version) +
                    " is newer than this xdense supports (" + std::to_string(model_format_version) +
                    "); upgrade xdense");
  }
  if (version == 0) throw DataError(source + ": invalid format version 0");

  const std::uint64_t payload = detail::get_u64(head + 16);
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
  const std::uint32_t stored = detail::get_u32(bytes.data() + size - trailer_size);
  const std::uint32_t computed = detail::crc32_of(bytes.data(), size - trailer_size);
  if (stored != computed) {
    throw DataError(source + ": corrupted: checksum mismatch (stored " + detail::hex32(stored) + ", computed " +
                    detail::hex32(computed) + ")");
  }
  const std::uint32_t flags = detail::get_u32(bytes.data() + 12);
  if (flags != 0) throw DataError(source + ": unsupported flags " + detail::hex32(flags) + " (no version defines any)");
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

/// A stored config: JSON text holding an object, nested at most max_config_depth levels.
Config read_config(ByteReader& in, const std::string& what) {
  const std::string text = in.str(what);
  const nlohmann::json::parser_callback_t limit_depth = [&](int depth, nlohmann::json::parse_event_t event,
                                                            nlohmann::json&) {
    if ((event == nlohmann::json::parse_event_t::object_start ||
         event == nlohmann::json::parse_event_t::array_start) &&
        depth >= max_config_depth) {
      in.fail(what + ": nested deeper than " + std::to_string(max_config_depth) + " levels");
    }
    return true;
  };
  Config config;
  try {
    config = nlohmann::json::parse(text, limit_depth);
  } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for a number like 1e400
    in.fail(what + ": invalid JSON: " + e.what());
  }
  if (!config.is_object()) in.fail(what + ": expected a JSON object, found " + quote_value(text));
  return config;
}

/// One stored tensor of layer `where`: name (unique among `tensors`), shape, finite values.
detail::TensorRecord read_tensor(ByteReader& in, const std::string& where,
                                 const std::vector<detail::TensorRecord>& tensors) {
  detail::TensorRecord tensor;
  tensor.name = in.str(where + ": tensor name");
  const std::string what = where + ": tensor " + quote_value(tensor.name);
  for (const detail::TensorRecord& other : tensors) {
    if (other.name == tensor.name) in.fail(where + ": two tensors named " + quote_value(tensor.name));
  }
  const std::uint32_t rank = in.u32(what + " rank");
  if (rank == 0 || rank > max_tensor_rank) {
    in.fail(what + ": rank " + std::to_string(rank) + " (expected 1 to " + std::to_string(max_tensor_rank) + ")");
  }
  std::uint64_t product = 1;
  for (std::uint32_t d = 0; d < rank; ++d) {
    const std::uint64_t dim = in.u64(what + " dimension");
    tensor.shape.push_back(static_cast<std::size_t>(dim));
    // Its values follow: each factor must fit in what is left, which also keeps the product from overflowing.
    const std::uint64_t budget = in.remaining() / 4;
    if (product != 0 && dim != 0 && dim > budget / product) {
      in.fail(what + ": shape " + shape_text(tensor.shape) + "... cannot fit in the " +
              std::to_string(in.remaining()) + " payload bytes left");
    }
    product *= dim;
  }
  tensor.values = in.f32_vector(product, what + " values");
  if (!all_finite(tensor.values.data(), tensor.values.size())) {
    in.fail(what + ": non-finite weights (NaN or infinity)");
  }
  return tensor;
}

/// Decodes a version-2 or version-3 payload (they differ in the metrics and the end of the info).
detail::ModelRecord decode_payload(ByteReader& in, std::uint32_t version) {
  detail::ModelRecord record;
  record.version = version;
  record.input_units = in.u64("architecture: input_units");
  if (record.input_units == 0 || record.input_units > detail::max_model_units) {
    in.fail("architecture: input_units " + std::to_string(record.input_units) + " (expected 1 to " +
            std::to_string(detail::max_model_units) + ")");
  }
  const std::size_t layer_count = in.count("architecture: layer", min_layer_bytes);
  if (layer_count == 0) in.fail("architecture: the model has no layers");
  for (std::size_t i = 0; i < layer_count; ++i) {
    detail::LayerRecord layer;
    layer.kind = in.str("layer " + std::to_string(i) + ": kind");
    layer.label = quote_value(layer.kind).substr(1);
    layer.label.pop_back();  // the kind, cut to a readable length, unquoted
    const std::string where = layer_label(i, layer.label);
    layer.config = read_config(in, where + ": config");
    const std::size_t tensors = in.count(where + ": tensor", min_tensor_bytes);
    for (std::size_t t = 0; t < tensors; ++t) layer.tensors.push_back(read_tensor(in, where, layer.tensors));
    record.layers.push_back(std::move(layer));
  }
  record.loss = in.str("compile: loss name");
  record.loss_config = read_config(in, "compile: loss config");
  record.optimizer = in.str("compile: optimizer name");
  record.optimizer_config = read_config(in, "compile: optimizer config");
  if (version == 2) {
    for (std::string& name : in.strings("compile: metric")) record.metrics.push_back({std::move(name), Config::object()});
  } else {
    const std::size_t metrics = in.count("compile: metric", 2 * detail::min_string_bytes);
    for (std::size_t i = 0; i < metrics; ++i) {
      detail::MetricRecord metric;
      metric.name = in.str("compile: metric " + std::to_string(i) + " name");
      metric.config = read_config(in, "compile: metric " + quote_value(metric.name) + " config");
      record.metrics.push_back(std::move(metric));
    }
  }
  record.info = detail::read_info(in, record.input_units, version);
  if (in.remaining() != 0) in.fail("payload: " + std::to_string(in.remaining()) + " unread bytes after the info");
  return record;
}

/// Copies the stored tensors of `record` into `layer`'s weights, by name: each weight stored once,
/// with its shape, and nothing else stored.
/// Names and shapes of a layer's arrays, as LayerShape lists them.
using ArrayShapes = std::vector<std::pair<std::string, std::vector<std::size_t>>>;

/// "'kernel' (4, 8), 'bias' (8,)": arrays for messages.
std::string shapes_text(const ArrayShapes& shapes) {
  if (shapes.empty()) return "none";
  std::string text;
  for (const auto& [name, dims] : shapes) text += (text.empty() ? "" : ", ") + quote_value(name) + " " + shape_text(dims);
  return text;
}

/// Matches the stored tensors of `record` to the layer's arrays `shapes` by name: each stored name
/// must be one of them with the same shape, and each of them stored. Returns, per array, the
/// tensor that holds it; refuses anything else naming the tensor.
std::vector<const detail::TensorRecord*> match_tensors(const ArrayShapes& shapes, const detail::LayerRecord& record,
                                                       const std::string& where, const ByteReader& in) {
  std::vector<const detail::TensorRecord*> matched(shapes.size(), nullptr);
  for (const detail::TensorRecord& tensor : record.tensors) {
    const auto found = std::find_if(shapes.begin(), shapes.end(), [&](const auto& a) { return a.first == tensor.name; });
    if (found == shapes.end()) {
      in.fail(where + ": unexpected tensor " + quote_value(tensor.name) + " (the layer has " + shapes_text(shapes) +
              ")");
    }
    if (found->second != tensor.shape) {
      in.fail(where + ": tensor " + quote_value(tensor.name) + " has shape " + shape_text(tensor.shape) +
              ", the layer " + shape_text(found->second));
    }
    matched[static_cast<std::size_t>(found - shapes.begin())] = &tensor;
  }
  for (std::size_t k = 0; k < shapes.size(); ++k) {
    if (matched[k] == nullptr) {
      in.fail(where + ": missing tensor " + quote_value(shapes[k].first) + " (the layer has " + shapes_text(shapes) +
              ")");
    }
  }
  return matched;
}

void load_weights(const Layer& layer, const detail::LayerRecord& record, const std::string& where,
                  const ByteReader& in) {
  const std::vector<Parameter> weights = layer.weights();
  ArrayShapes shapes;
  for (const Parameter& p : weights) shapes.emplace_back(p.name, shape_of(p));
  const std::vector<const detail::TensorRecord*> matched = match_tensors(shapes, record, where, in);
  for (std::size_t k = 0; k < weights.size(); ++k) std::copy(matched[k]->values.begin(), matched[k]->values.end(), weights[k].value);
}

std::uint64_t weight_floats(const Layer& layer) {
  std::uint64_t total = 0;
  for (const Parameter& p : layer.weights()) total += p.size;
  return total;
}

/// Refuses, before anything is built for the real input width, a layer whose arrays would not be
/// the ones the file stores for it (a corrupted input width or config must not allocate gigabytes).
/// A layer that declares its shape (Layer::shape_for) is checked exactly: the names, order and
/// shapes of its stored tensors and its output width. Otherwise throwaway copies built for 1 and 2
/// inputs give its weight count and output width, extrapolated to `width` inputs (affine in the
/// input width for the usual layers), and the layer is refused when that exceeds twice what the
/// file stores; load_weights() checks exactly after the build. Returns the layer's output width,
/// or 0 when it cannot be known (the layers after it are then not checked here).
std::uint64_t check_layer_size(const detail::LayerRecord& record, std::uint64_t width, const std::string& where,
                               const ByteReader& in) {
  std::optional<LayerShape> declared;
  try {
    declared = make_layer(record.kind, record.config)->shape_for(static_cast<std::size_t>(width));
  } catch (const std::exception&) {
    return 0;  // assemble() reports a config its factory refuses (a throwing shape_for(): not checked here)
  }
  if (const std::optional<LayerShape>& shape = declared) {
    if (shape->output_units == 0 || shape->output_units > detail::max_model_units) {
      in.fail(where + ": built for " + std::to_string(width) + " inputs, its config makes " +
              std::to_string(shape->output_units) + " outputs (expected 1 to " +
              std::to_string(detail::max_model_units) + ")");
    }
    match_tensors(shape->weights, record, where, in);  // before anything is allocated for them
    return shape->output_units;
  }
  std::uint64_t weights[2];
  std::uint64_t outputs[2];
  try {
    for (std::size_t probe = 0; probe < 2; ++probe) {
      const std::unique_ptr<Layer> layer = make_layer(record.kind, record.config);
      Rng rng;
      layer->build(probe + 1, rng);
      weights[probe] = weight_floats(*layer);
      outputs[probe] = layer->output_units();
    }
  } catch (const std::exception&) {
    return 0;  // the real build reports what is wrong
  }
  std::uint64_t stored = 0;
  for (const detail::TensorRecord& tensor : record.tensors) stored += tensor.values.size();
  // Slack so that small mismatches get load_weights()'s precise message; stored is under 2^62.
  const std::uint64_t allowed = 2 * stored + max_probe_slack;
  // f(width) = f(1) + (f(2) - f(1)) (width - 1), compared without overflow.
  const auto exceeds = [&](const std::uint64_t (&f)[2], std::uint64_t limit) {
    if (f[0] > limit) return true;
    const std::uint64_t slope = f[1] > f[0] ? f[1] - f[0] : 0;
    return slope != 0 && width - 1 > (limit - f[0]) / slope;
  };
  if (exceeds(weights, allowed)) {
    in.fail(where + ": built for " + std::to_string(width) + " inputs, its config makes far more weights than the " +
            std::to_string(stored) + " values the file stores for it");
  }
  if (exceeds(outputs, detail::max_model_units)) {
    in.fail(where + ": built for " + std::to_string(width) + " inputs, its config makes more than " +
            std::to_string(detail::max_model_units) + " outputs");
  }
  return outputs[0] + (outputs[1] > outputs[0] ? outputs[1] - outputs[0] : 0) * (width - 1);
}

/// Rebuilds the model of `record` through the registries: make_layer() per layer, make_loss() and
/// make_optimizer() from their configs, compile, build, then the stored weights by name.
SavedModel assemble(detail::ModelRecord& record, const ByteReader& in) {
  SavedModel saved;
  for (std::size_t i = 0; i < record.layers.size(); ++i) {
    const detail::LayerRecord& layer = record.layers[i];
    try {  // user factories may throw anything
      saved.model.add(make_layer(layer.kind, layer.config));
    } catch (const std::exception& e) {
      in.fail(layer_label(i, layer.label) + ": " + e.what());
    }
  }
  std::uint64_t width = record.input_units;
  for (std::size_t i = 0; i < record.layers.size() && width != 0; ++i) {
    width = check_layer_size(record.layers[i], width, layer_label(i, record.layers[i].label), in);
  }
  std::unique_ptr<Loss> loss;
  std::unique_ptr<Optimizer> optimizer;
  try {
    loss = make_loss(record.loss, record.loss_config);
    optimizer = make_optimizer(record.optimizer, record.optimizer_config);
  } catch (const std::exception& e) {
    in.fail(std::string("compile: ") + e.what());
  }
  // Files before version 3 do not record the task: it follows from the loss and the class names.
  if (record.version < 3) record.info.task = implied_task(*loss, record.info);
  // Files written before regression metrics recorded accuracy for some regression models, a metric
  // a regression loss no longer takes (Accuracy::check_model): it is dropped on reading.
  const bool regression_loss = loss->label_encoding() == LabelEncoding::values;
  try {
    saved.model.compile(std::move(loss), std::move(optimizer), std::vector<std::string>{});
    saved.model.build(static_cast<std::size_t>(record.input_units));
  } catch (const std::exception& e) {
    in.fail(std::string("model: ") + e.what());
  }
  // Exactly the stored metrics, each with its settings (none: the loss's defaults are not added).
  for (const detail::MetricRecord& metric : record.metrics) {
    if ((metric.name == "accuracy" || metric.name == "acc") && regression_loss) continue;
    try {  // user factories may throw anything
      saved.model.add_metric(make_metric(metric.name, metric.config));
    } catch (const std::exception& e) {
      in.fail("compile: metric " + quote_value(metric.name) + ": " + e.what());
    }
  }
  for (std::size_t i = 0; i < record.layers.size(); ++i) {
    load_weights(saved.model.layer(i), record.layers[i], layer_label(i, record.layers[i].label), in);
  }
  const std::string problem =
      info_problem(record.info, static_cast<std::size_t>(record.input_units), saved.model.output_units());
  if (!problem.empty()) in.fail("info: " + problem);
  saved.info = std::move(record.info);
  return saved;
}

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
  ByteReader in(bytes.data() + header_size, bytes.size() - header_size - trailer_size, source + ": invalid ",
                "payload");
  const std::uint32_t version = detail::get_u32(bytes.data() + 8);
  detail::ModelRecord record = version == 1 ? detail::decode_v1_payload(in) : decode_payload(in, version);
  return assemble(record, in);
}

}  // namespace xdense
