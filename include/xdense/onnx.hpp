#pragma once
/// \file
/// ONNX export: a trained model as an ONNX file that ONNX Runtime (or anything reading ONNX) runs on
/// the RAW features, preprocessing included, and whose output is what Sequential::predict() gives
/// after the model file's target scaling (class probabilities, or regression values in their units).
///
///   xdense::SavedModel saved = xdense::load_model("iris.xdm");
///   xdense::export_onnx("iris.onnx", saved.model, saved.info);     // atomic, like save_model()
///
/// The graph: input "input" float32 [N, features] (N dynamic) -> the standardizer (Sub mean, Div
/// scale, as predict computes (x - mean) / scale; not folded into the first Gemm, so the graph shows
/// the preprocessing and its statistics) -> each layer's nodes (Layer::to_onnx) -> the target
/// standardizer undone (Mul scale, Add mean) -> output "output" float32 [N, units]. ONNX IR version 7
/// (ONNX 1.8), default-domain opset 13 (ONNX Runtime 1.6 and later); the protobuf encoding is
/// xdense's own (src/onnx/), no dependency.
///
/// The output is what predict() gives: class probabilities [N, classes] for a softmax (or sigmoid)
/// output; for a one-unit sigmoid classifier [N, 1] = P(class 1), the second class's probability;
/// regression values in the targets' units. metadata_props, one entry per key, in this order:
///   "task"          "classification" or "regression" (ModelInfo::task, else the loss's, as save_model)
///   "feature_names", "class_names", "target_names"   JSON arrays of strings, e.g. ["a","b,c"]
///                   (names may hold commas), each only when the info has them
///   "output"        class_probabilities | probability_of_class_1 | class_scores (the last layer is
///                   not a probability) | values (regression) | outputs (task unknown)
///   "xdense_version" the exporting library's version
/// then ModelInfo::metadata and OnnxExportOptions::metadata: a key already there gets the later
/// value (a model file's own "xdense_version" is the version that trained it). doc_string
/// summarises input, output, classes and layers; the graph's doc_string is its chain of steps.
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
/// graph; `hint` ("dense_1", "re_lu") makes them readable in Netron: the hint itself when free, else
/// hint_1, hint_2, ... (nodes and tensors share one namespace; a node's one output has the node's
/// name, several are "<name>:0", "<name>:1", ...; an empty hint is the op type, "constant" for an
/// initializer). Node inputs must already be in the graph: InvalidArgument otherwise, as for a
/// repeated attribute name or a value count that does not match the shape.
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

  /// The nodes and initializers so far (src/onnx/onnx_graph.hpp: for the exporter itself).
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
/// InvalidArgument naming the layer for a layer without an ONNX form ("Square (layer square): no ONNX
/// form: ..."); InvalidArgument "to_onnx: ..." for info that does not fit the model (a standardizer
/// or names of another width, an unfitted standardizer, target scaling for a classifier, an unknown
/// task); StateError for a model that is not built. The model need not be compiled.
std::string to_onnx(const Sequential& model, const ModelInfo& info, const OnnxExportOptions& options = {});

/// Writes to_onnx() to `path` atomically (atomic_file.hpp: a temporary file renamed over `path`;
/// nothing is created or changed on failure). A device, FIFO, socket or descriptor path is refused
/// (WriteOptions::require_regular, as for model files): DataError naming the path, as for I/O errors.
void export_onnx(const std::string& path, const Sequential& model, const ModelInfo& info,
                 const OnnxExportOptions& options = {});

}  // namespace xdense
