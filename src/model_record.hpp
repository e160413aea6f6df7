#pragma once
// What a model file holds, between its bytes and a Sequential (private to the library): each layer
// as kind + config + named tensors, loss and optimizer as name + config, the metrics and the
// ModelInfo. The version-2/3 reader (model_file.cpp) and the version-1 reader (model_file_v1.cpp)
// both decode a payload into a ModelRecord; one function rebuilds the model from it through the
// registries, so neither reader knows a concrete layer or optimizer class.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "binary_io.hpp"
#include "xdense/config.hpp"
#include "xdense/model_file.hpp"

namespace xdense::detail {

/// Largest input width, and largest units of a v1 Dense layer: anything larger is corruption.
constexpr std::uint64_t max_model_units = std::uint64_t{1} << 31;

/// One stored array of a layer: a Parameter's name, shape and values.
struct TensorRecord {
  std::string name;
  std::vector<std::size_t> shape;
  std::vector<float> values;
};

struct LayerRecord {
  std::string kind;   ///< registered layer kind, for make_layer()
  Config config;      ///< its config
  std::string label;  ///< how messages name it after "layer i": "Dense", v1's "dense"
  std::vector<TensorRecord> tensors;
};

/// One compiled metric: its registered name and config (version 3; {} in older files).
struct MetricRecord {
  std::string name;
  Config config = Config::object();
};

struct ModelRecord {
  std::uint32_t version = 0;  ///< the file's format version
  std::uint64_t input_units = 0;
  std::vector<LayerRecord> layers;
  std::string loss;
  Config loss_config = Config::object();
  std::string optimizer;
  Config optimizer_config = Config::object();
  std::vector<MetricRecord> metrics;
  ModelInfo info;  ///< task empty before version 3: assemble() infers it from the loss
};

/// "layer 3 (Dense)": how messages name layer `index`, with `what` saying what it is.
std::string layer_label(std::size_t index, const std::string& what);

/// Whether all `n` values are finite.
bool all_finite(const float* values, std::size_t n);

/// Reads the info section (docs/model-format.md, "Info") of a model with `input_units` inputs:
/// the same in versions 1 and 2; version 3 adds the task, target names and target standardizer.
ModelInfo read_info(ByteReader& in, std::uint64_t input_units, std::uint32_t version);

/// Decodes a version-1 payload (docs/model-format.md, "Version 1"), with all of v1's checks.
ModelRecord decode_v1_payload(ByteReader& in);

}  // namespace xdense::detail
