#pragma once
/// \file
/// ONNX export: a trained model as an ONNX file that ONNX Runtime (or anything reading ONNX) runs on
/// the RAW features, preprocessing included, and whose output is what Sequential::predict() gives
/// after the model file's target scaling (class probabilities, or regression values in their units).
///
///   xdense::SavedModel saved = xdense::load_model("iris.xdm");
///   xdense::export_onnx("iris.onnx", saved.model, saved.info);     // atomic, like save_model()
///
/// The graph: input "input" float32 [N, features] (N dynamic) -> the standardizer (Sub, Div) ->
/// each layer's nodes (Layer::to_onnx) -> the target standardizer undone (Mul, Add) -> output
/// "output" float32 [N, units]. ONNX IR version 7 (ONNX 1.8), default-domain opset 13. Feature, class
/// and target names and the task go into metadata_props, a summary into doc_string.
///
/// Each layer writes its own nodes (a capability, Layer::to_onnx): a layer without an ONNX form
/// is refused with InvalidArgument naming it, never exported wrong.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace xdense {

class Sequential;
struct ModelInfo;

/// One attribute of an ONNX node (AttributeProto): a float, an int, a string, or lists of them.
struct OnnxAttribute {
  enum class Kind { float_value, int_value, string_value, floats, ints };
  std::string name;
  Kind kind = Kind::float_value;
  float f = 0.0f;
  std::int64_t i = 0;
  std::string s;
  std::vector<float> float_list;
  std::vector<std::int64_t> int_list;

  static OnnxAttribute real(std::string name, float value);
  static OnnxAttribute integer(std::string name, std::int64_t value);
  static OnnxAttribute text(std::string name, std::string value);
  static OnnxAttribute reals(std::string name, std::vector<float> values);
  static OnnxAttribute integers(std::string name, std::vector<std::int64_t> values);
};

/// The graph being written, handed to each layer's to_onnx(). Names it returns are unique in the
/// graph; `hint` ("dense_1", "re_lu") makes them readable in Netron.
class OnnxGraph {
 public:
  OnnxGraph();
  ~OnnxGraph();
  OnnxGraph(const OnnxGraph&) = delete;
  OnnxGraph& operator=(const OnnxGraph&) = delete;

  /// The default-domain opset the graph is written for (13).
  int opset() const;

  /// A float32 constant (TensorProto initializer) of `shape` (row-major; {} is a scalar) holding
  /// `values` (as many as the shape's product: InvalidArgument otherwise). Returns its name.
  std::string add_initializer(const std::string& hint, std::vector<std::int64_t> shape, std::vector<float> values);
  /// An int64 constant (shapes, axes for Reshape, ...). Returns its name.
  std::string add_int64_initializer(const std::string& hint, std::vector<std::int64_t> shape,
                                    std::vector<std::int64_t> values);

  /// Appends node `op_type` (default domain) reading `inputs` (names of the graph input,
  /// initializers or earlier outputs; "" for an omitted optional input) with `attributes`; returns
  /// the names of its `outputs` outputs.
  std::vector<std::string> add_node(const std::string& op_type, const std::vector<std::string>& inputs,
                                    const std::vector<OnnxAttribute>& attributes = {}, const std::string& hint = "",
                                    std::size_t outputs = 1);
  /// The same for a node with one output: its name.
  std::string add(const std::string& op_type, const std::vector<std::string>& inputs,
                  const std::vector<OnnxAttribute>& attributes = {}, const std::string& hint = "");

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

/// What export_onnx() writes besides the network (ModelInfo gives the rest).
struct OnnxExportOptions {
  /// producer_name / producer_version of the ModelProto.
  std::string producer_name = "xdense";
  /// The graph's name (GraphProto.name) and the model's doc_string prefix.
  std::string graph_name = "xdense_model";
  /// More metadata_props, after those export_onnx() writes (features, classes, task, ...).
  std::vector<std::pair<std::string, std::string>> metadata;
};

/// The ONNX ModelProto bytes of `model` (built) with `info`'s preprocessing and names.
/// InvalidArgument naming the layer for a layer without an ONNX form; StateError for a model that is
/// not built.
std::string to_onnx(const Sequential& model, const ModelInfo& info, const OnnxExportOptions& options = {});

/// Writes to_onnx() to `path` atomically (atomic_file.hpp: a temporary file renamed over `path`;
/// nothing is created or changed on failure).
void export_onnx(const std::string& path, const Sequential& model, const ModelInfo& info,
                 const OnnxExportOptions& options = {});

}  // namespace xdense
