#include "onnx_graph.hpp"

#include <algorithm>
#include <limits>

#include "protobuf_writer.hpp"
#include "xdense/error.hpp"

namespace xdense {

// --- OnnxAttribute --------------------------------------------------------------------------

OnnxAttribute OnnxAttribute::real(std::string name, float value) {
  OnnxAttribute a;
  a.name = std::move(name);
  a.kind = Kind::float_value;
  a.f = value;
  return a;
}

OnnxAttribute OnnxAttribute::integer(std::string name, std::int64_t value) {
  OnnxAttribute a;
  a.name = std::move(name);
  a.kind = Kind::int_value;
  a.i = value;
  return a;
}

OnnxAttribute OnnxAttribute::text(std::string name, std::string value) {
  OnnxAttribute a;
  a.name = std::move(name);
  a.kind = Kind::string_value;
  a.s = std::move(value);
  return a;
}

OnnxAttribute OnnxAttribute::reals(std::string name, std::vector<float> values) {
  OnnxAttribute a;
  a.name = std::move(name);
  a.kind = Kind::floats;
  a.float_list = std::move(values);
  return a;
}

OnnxAttribute OnnxAttribute::integers(std::string name, std::vector<std::int64_t> values) {
  OnnxAttribute a;
  a.name = std::move(name);
  a.kind = Kind::ints;
  a.int_list = std::move(values);
  return a;
}

// --- OnnxGraph::Impl ------------------------------------------------------------------------

std::string OnnxGraph::Impl::unique_name(const std::string& hint) {
  std::string name = hint;
  for (std::size_t n = 1; taken.count(name) != 0; ++n) name = hint + "_" + std::to_string(n);
  taken.insert(name);
  return name;
}

void OnnxGraph::Impl::add_input(const std::string& name, std::int64_t width) {
  if (taken.count(name) != 0) throw InvalidArgument("OnnxGraph: input name " + quote_value(name) + " is already used");
  taken.insert(name);
  tensors.insert(name);
  inputs.push_back({name, width});
}

void OnnxGraph::Impl::add_output(const std::string& tensor, const std::string& name, std::int64_t width) {
  if (tensors.count(tensor) == 0) {
    throw InvalidArgument("OnnxGraph: output " + quote_value(name) + " would be tensor " + quote_value(tensor) +
                          ", which is not in the graph");
  }
  if (taken.count(name) != 0 && name != tensor) {
    throw InvalidArgument("OnnxGraph: output name " + quote_value(name) + " is already used");
  }
  const auto producer = std::find_if(nodes.begin(), nodes.end(), [&](const Node& node) {
    return std::find(node.outputs.begin(), node.outputs.end(), tensor) != node.outputs.end();
  });
  const bool graph_input =
      std::any_of(inputs.begin(), inputs.end(), [&](const Value& v) { return v.name == tensor; });
  if (producer == nodes.end() || graph_input) {
    // A graph input or an initializer cannot be renamed: copy it.
    taken.insert(name);
    nodes.push_back({"Identity", unique_name(name + "_identity"), {tensor}, {name}, {}});
  } else if (name != tensor) {
    taken.insert(name);
    for (Node& node : nodes) {
      std::replace(node.inputs.begin(), node.inputs.end(), tensor, name);
      std::replace(node.outputs.begin(), node.outputs.end(), tensor, name);
    }
    tensors.erase(tensor);
  }
  tensors.insert(name);
  outputs.push_back({name, width});
}

// --- OnnxGraph ------------------------------------------------------------------------------

OnnxGraph::OnnxGraph() : impl_(std::make_unique<Impl>()) {}
OnnxGraph::~OnnxGraph() = default;

int OnnxGraph::opset() const { return 13; }

namespace {

// The element count of `shape`; InvalidArgument naming `who` for a negative dimension or an overflow.
std::size_t element_count(const std::vector<std::int64_t>& shape, const std::string& who) {
  std::size_t count = 1;
  for (const std::int64_t d : shape) {
    if (d < 0) throw InvalidArgument(who + ": negative dimension " + std::to_string(d));
    const auto dim = static_cast<std::size_t>(d);
    if (dim != 0 && count > std::numeric_limits<std::size_t>::max() / dim) {
      throw InvalidArgument(who + ": shape too large");
    }
    count *= dim;
  }
  return count;
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

template <class T>
void check_values(const std::string& who, const std::vector<std::int64_t>& shape, const std::vector<T>& values) {
  const std::size_t expected = element_count(shape, who);
  if (values.size() != expected) {
    throw InvalidArgument(who + ": shape " + shape_text(shape) + " holds " + std::to_string(expected) +
                          " values, received " + std::to_string(values.size()));
  }
}

}  // namespace

namespace {

/// Adds an initializer of `shape` holding `values` (checked first) to `impl`; returns its name.
template <class T>
std::string add_constant(OnnxGraph::Impl& impl, const std::string& who, const std::string& hint,
                         OnnxGraph::Impl::DataType type, std::vector<std::int64_t> shape, const std::vector<T>& values) {
  check_values(who + "(" + quote_value(hint) + ")", shape, values);
  const std::string name = impl.unique_name(hint.empty() ? "constant" : hint);
  impl.initializers.push_back({name, std::move(shape), type, detail::little_endian_bytes(values)});
  impl.tensors.insert(name);
  return name;
}

}  // namespace

std::string OnnxGraph::add_initializer(const std::string& hint, std::vector<std::int64_t> shape,
                                       std::vector<float> values) {
  return add_constant(*impl_, "OnnxGraph::add_initializer", hint, Impl::float32, std::move(shape), values);
}

std::string OnnxGraph::add_int64_initializer(const std::string& hint, std::vector<std::int64_t> shape,
                                             std::vector<std::int64_t> values) {
  return add_constant(*impl_, "OnnxGraph::add_int64_initializer", hint, Impl::int64, std::move(shape), values);
}

std::vector<std::string> OnnxGraph::add_node(const std::string& op_type, const std::vector<std::string>& inputs,
                                             const std::vector<OnnxAttribute>& attributes, const std::string& hint,
                                             std::size_t outputs) {
  if (op_type.empty()) throw InvalidArgument("OnnxGraph::add_node: empty op_type");
  const std::string who = "OnnxGraph::add_node(" + op_type + ")";
  if (outputs == 0) throw InvalidArgument(who + ": a node needs at least one output");
  for (const std::string& input : inputs) {
    if (!input.empty() && impl_->tensors.count(input) == 0) {
      throw InvalidArgument(who + ": input " + quote_value(input) +
                            " is not the graph input, an initializer or an earlier node's output");
    }
  }
  for (std::size_t a = 0; a < attributes.size(); ++a) {
    if (attributes[a].name.empty()) throw InvalidArgument(who + ": an attribute without a name");
    for (std::size_t b = 0; b < a; ++b) {
      if (attributes[a].name == attributes[b].name) {
        throw InvalidArgument(who + ": attribute " + quote_value(attributes[a].name) + " given twice");
      }
    }
  }
  Impl::Node node{op_type, impl_->unique_name(hint.empty() ? op_type : hint), inputs, {}, attributes};
  if (outputs == 1) {
    node.outputs.push_back(node.name);  // names are unique across nodes and tensors: reuse it
  } else {
    for (std::size_t i = 0; i < outputs; ++i) node.outputs.push_back(impl_->unique_name(node.name + ":" + std::to_string(i)));
  }
  for (const std::string& output : node.outputs) impl_->tensors.insert(output);
  std::vector<std::string> names = node.outputs;
  impl_->nodes.push_back(std::move(node));
  return names;
}

std::string OnnxGraph::add(const std::string& op_type, const std::vector<std::string>& inputs,
                           const std::vector<OnnxAttribute>& attributes, const std::string& hint) {
  return add_node(op_type, inputs, attributes, hint, 1).front();
}

// --- encoding -------------------------------------------------------------------------------
// Field numbers from onnx/onnx.proto (the same in every release since IR version 7).

namespace {

using detail::ProtobufWriter;

ProtobufWriter encode_attribute(const OnnxAttribute& attribute) {
  // AttributeProto: name 1, f 2, i 3, s 4, floats 7, ints 8, type 20
  // (AttributeType FLOAT 1, INT 2, STRING 3, FLOATS 6, INTS 7).
  ProtobufWriter w;
  w.bytes(1, attribute.name);
  int type = 0;
  switch (attribute.kind) {
    case OnnxAttribute::Kind::float_value:
      w.real(2, attribute.f);
      type = 1;
      break;
    case OnnxAttribute::Kind::int_value:
      w.integer(3, attribute.i);
      type = 2;
      break;
    case OnnxAttribute::Kind::string_value:
      w.bytes(4, attribute.s);
      type = 3;
      break;
    case OnnxAttribute::Kind::floats:
      w.reals(7, attribute.float_list);
      type = 6;
      break;
    case OnnxAttribute::Kind::ints:
      w.integers(8, attribute.int_list);
      type = 7;
      break;
  }
  w.integer(20, type);
  return w;
}

ProtobufWriter encode_node(const OnnxGraph::Impl::Node& node) {
  // NodeProto: input 1, output 2, name 3, op_type 4, attribute 5 (domain 7 left out: the default domain).
  ProtobufWriter w;
  for (const std::string& input : node.inputs) w.bytes(1, input);
  for (const std::string& output : node.outputs) w.bytes(2, output);
  w.bytes(3, node.name);
  w.bytes(4, node.op_type);
  for (const OnnxAttribute& attribute : node.attributes) w.message(5, encode_attribute(attribute));
  return w;
}

ProtobufWriter encode_tensor(const OnnxGraph::Impl::Initializer& tensor) {
  // TensorProto: dims 1, data_type 2, name 8, raw_data 9.
  ProtobufWriter w;
  w.integers(1, tensor.dims);
  w.integer(2, tensor.data_type);
  w.bytes(8, tensor.name);
  w.bytes(9, tensor.raw_data);
  return w;
}

ProtobufWriter encode_value(const OnnxGraph::Impl::Value& value) {
  // TensorShapeProto.Dimension: dim_value 1, dim_param 2; TensorShapeProto: dim 1;
  // TypeProto.Tensor: elem_type 1, shape 2; TypeProto: tensor_type 1; ValueInfoProto: name 1, type 2.
  ProtobufWriter batch, width, shape, tensor_type, type, w;
  batch.bytes(2, "N");
  width.integer(1, value.width);
  shape.message(1, batch);
  shape.message(1, width);
  tensor_type.integer(1, OnnxGraph::Impl::float32);
  tensor_type.message(2, shape);
  type.message(1, tensor_type);
  w.bytes(1, value.name);
  w.message(2, type);
  return w;
}

}  // namespace

std::string encode_onnx_model(const OnnxGraph::Impl& graph, int opset, const OnnxModelHeader& header) {
  // GraphProto: node 1, name 2, initializer 5, doc_string 10, input 11, output 12.
  ProtobufWriter g;
  for (const auto& node : graph.nodes) g.message(1, encode_node(node));
  g.bytes(2, header.graph_name);
  for (const auto& tensor : graph.initializers) g.message(5, encode_tensor(tensor));
  if (!header.graph_doc_string.empty()) g.bytes(10, header.graph_doc_string);
  for (const auto& input : graph.inputs) g.message(11, encode_value(input));
  for (const auto& output : graph.outputs) g.message(12, encode_value(output));

  // OperatorSetIdProto: domain 1, version 2.
  ProtobufWriter opset_id;
  opset_id.bytes(1, "");
  opset_id.integer(2, opset);

  // ModelProto: ir_version 1, producer_name 2, producer_version 3, doc_string 6, graph 7,
  // opset_import 8, metadata_props 14 (StringStringEntryProto: key 1, value 2).
  ProtobufWriter m;
  m.integer(1, header.ir_version);
  m.bytes(2, header.producer_name);
  m.bytes(3, header.producer_version);
  if (!header.doc_string.empty()) m.bytes(6, header.doc_string);
  m.message(7, g);
  m.message(8, opset_id);
  for (const auto& [key, value] : header.metadata) {
    ProtobufWriter entry;
    entry.bytes(1, key);
    entry.bytes(2, value);
    m.message(14, entry);
  }
  return m.data();
}

}  // namespace xdense
