#pragma once
/// \file
/// Inside OnnxGraph (include/xdense/onnx.hpp): the nodes and initializers the layers add, and the
/// ModelProto encoding of the whole (field numbers of onnx/onnx.proto, ONNX 1.8 and later).

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "xdense/onnx.hpp"

namespace xdense {

struct OnnxGraph::Impl {
  /// onnx.proto TensorProto.DataType values used here.
  enum DataType : int { float32 = 1, int64 = 7 };

  struct Node {
    std::string op_type;
    std::string name;
    std::vector<std::string> inputs;
    std::vector<std::string> outputs;
    std::vector<OnnxAttribute> attributes;
  };
  struct Initializer {
    std::string name;
    std::vector<std::int64_t> dims;
    DataType data_type = float32;
    std::string raw_data;  // little-endian
  };
  /// A graph input or output: float32 of shape [N, width], N the dynamic batch.
  struct Value {
    std::string name;
    std::int64_t width = 0;
  };

  std::vector<Node> nodes;
  std::vector<Initializer> initializers;
  std::vector<Value> inputs, outputs;
  /// Every name given out (tensors and nodes share one namespace, so each is unique in both).
  std::set<std::string> taken;
  /// The tensors a node may read: graph inputs, initializers and node outputs so far.
  std::set<std::string> tensors;

  /// `hint` if free, else the first free of hint_1, hint_2, ...; marks it taken.
  std::string unique_name(const std::string& hint);
  /// Declares graph input `name` (float32 [N, width]); the name must be free.
  void add_input(const std::string& name, std::int64_t width);
  /// Declares graph output `name` (float32 [N, width]), giving that name to `tensor`: the output of
  /// the node that produced `tensor` is renamed (and every reader of it), or an Identity node is
  /// added when `tensor` is a graph input or an initializer.
  void add_output(const std::string& tensor, const std::string& name, std::int64_t width);
};

/// What the ModelProto holds besides the graph.
struct OnnxModelHeader {
  std::int64_t ir_version = 7;
  std::string producer_name;
  std::string producer_version;
  std::string doc_string;
  std::string graph_name;
  std::string graph_doc_string;
  std::vector<std::pair<std::string, std::string>> metadata;
};

/// The serialized ModelProto: `graph` at its opset (default domain) with `header`. Fields are
/// written in field-number order, as the reference protobuf implementation writes them.
std::string encode_onnx_model(const OnnxGraph::Impl& graph, int opset, const OnnxModelHeader& header);

}  // namespace xdense
