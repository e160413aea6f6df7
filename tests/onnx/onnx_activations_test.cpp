// The ONNX form of every activation (Activation::to_onnx of builtin_activations.hpp and
// activations/*.hpp): each registered activation exports, as the ops its header states, with its
// parameters written as attributes or scalar initializers; and, when ONNX Runtime is installed
// (tests/onnx/onnx_runtime.hpp), each exported Dense -> activation model gives predict()'s values
// on inputs from -1000 to 1000 (negative, zero, positive, overflowing) within 1e-5 (absolute, or
// relative above 1).
//
// The graph is read back from the bytes to_onnx() writes, with a protobuf reader of its own (the
// few fields of onnx.proto used here), so what is checked is the file a runtime would read.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "onnx/onnx_checker.hpp"
#include "onnx/onnx_runtime.hpp"
#include "xdense/activations/exponential.hpp"
#include "xdense/builtin_activations.hpp"
#include "xdense/dense.hpp"
#include "xdense/error.hpp"
#include "xdense/model_file.hpp"
#include "xdense/onnx.hpp"
#include "xdense/sequential.hpp"

namespace xdense {
namespace {

// ---------------------------------------------------------------- reading the ModelProto back

/// One field of a protobuf message: its number and either a varint, a fixed 32-bit value or bytes.
struct Field {
  std::uint32_t number = 0;
  int wire_type = 0;
  std::uint64_t varint = 0;
  std::uint32_t fixed32 = 0;
  std::string bytes;
};

std::uint64_t read_varint(const std::string& data, std::size_t& at) {
  std::uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (at >= data.size()) throw std::runtime_error("protobuf: varint runs past the end");
    const auto byte = static_cast<unsigned char>(data[at++]);
    value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return value;
  }
  throw std::runtime_error("protobuf: varint longer than 10 bytes");
}

std::vector<Field> parse_message(const std::string& data) {
  std::vector<Field> fields;
  std::size_t at = 0;
  while (at < data.size()) {
    Field f;
    const std::uint64_t key = read_varint(data, at);
    f.number = static_cast<std::uint32_t>(key >> 3);
    f.wire_type = static_cast<int>(key & 7);
    if (f.wire_type == 0) {
      f.varint = read_varint(data, at);
    } else if (f.wire_type == 2) {
      const std::uint64_t length = read_varint(data, at);
      if (length > data.size() - at) throw std::runtime_error("protobuf: field runs past the end");
      f.bytes = data.substr(at, length);
      at += length;
    } else if (f.wire_type == 5) {
      if (data.size() - at < 4) throw std::runtime_error("protobuf: fixed32 runs past the end");
      std::memcpy(&f.fixed32, data.data() + at, 4);  // little-endian, as x86
      at += 4;
    } else if (f.wire_type == 1) {
      if (data.size() - at < 8) throw std::runtime_error("protobuf: fixed64 runs past the end");
      at += 8;
    } else {
      throw std::runtime_error("protobuf: unexpected wire type " + std::to_string(f.wire_type));
    }
    fields.push_back(std::move(f));
  }
  return fields;
}

float float_of(std::uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, 4);
  return value;
}

struct Attribute {
  int type = 0;  // AttributeProto.AttributeType: FLOAT 1, INT 2
  float f = 0.0f;
  std::int64_t i = 0;
};

struct Node {
  std::string op_type;
  std::vector<std::string> inputs, outputs;
  std::map<std::string, Attribute> attributes;
};

struct Initializer {
  std::vector<std::int64_t> dims;
  std::vector<float> values;
};

struct Graph {
  std::vector<Node> nodes;
  std::map<std::string, Initializer> initializers;
  std::vector<std::string> inputs, outputs;  // names of the graph's inputs and outputs

  /// The value of scalar float initializer `name` (fails the test unless it is one).
  float scalar(const std::string& name) const {
    const auto found = initializers.find(name);
    if (found == initializers.end()) {
      ADD_FAILURE() << name << " is not an initializer";
      return NAN;
    }
    EXPECT_TRUE(found->second.dims.empty()) << name << " is not a scalar (shape {})";
    EXPECT_EQ(found->second.values.size(), 1u) << name;
    return found->second.values.empty() ? NAN : found->second.values[0];
  }
};

std::string name_of_value_info(const std::string& bytes) {
  for (const Field& f : parse_message(bytes)) {
    if (f.number == 1) return f.bytes;
  }
  return "";
}

Graph read_graph(const std::string& model_bytes) {
  Graph graph;
  std::string graph_bytes;
  for (const Field& f : parse_message(model_bytes)) {
    if (f.number == 7 && f.wire_type == 2) graph_bytes = f.bytes;  // ModelProto.graph
  }
  if (graph_bytes.empty()) throw std::runtime_error("ModelProto without a graph");
  for (const Field& f : parse_message(graph_bytes)) {
    if (f.number == 1) {  // GraphProto.node
      Node node;
      for (const Field& n : parse_message(f.bytes)) {
        if (n.number == 1) node.inputs.push_back(n.bytes);
        if (n.number == 2) node.outputs.push_back(n.bytes);
        if (n.number == 4) node.op_type = n.bytes;
        if (n.number == 7 && !n.bytes.empty()) node.op_type = n.bytes + "." + node.op_type;  // not the default domain
        if (n.number == 5) {
          std::string name;
          Attribute a;
          for (const Field& x : parse_message(n.bytes)) {
            if (x.number == 1) name = x.bytes;
            if (x.number == 2) a.f = float_of(x.fixed32);
            if (x.number == 3) a.i = static_cast<std::int64_t>(x.varint);
            if (x.number == 20) a.type = static_cast<int>(x.varint);
          }
          node.attributes[name] = a;
        }
      }
      graph.nodes.push_back(std::move(node));
    } else if (f.number == 5) {  // GraphProto.initializer (TensorProto)
      std::string name;
      Initializer init;
      for (const Field& t : parse_message(f.bytes)) {
        if (t.number == 1) {
          if (t.wire_type == 0) {
            init.dims.push_back(static_cast<std::int64_t>(t.varint));
          } else {  // packed
            std::size_t at = 0;
            while (at < t.bytes.size()) init.dims.push_back(static_cast<std::int64_t>(read_varint(t.bytes, at)));
          }
        }
        if (t.number == 8) name = t.bytes;
        if (t.number == 9) {  // raw_data, little-endian
          for (std::size_t at = 0; at + 4 <= t.bytes.size(); at += 4) {
            std::uint32_t bits;
            std::memcpy(&bits, t.bytes.data() + at, 4);
            init.values.push_back(float_of(bits));
          }
        }
        if (t.number == 4) {  // float_data, packed or not
          if (t.wire_type == 5) {
            init.values.push_back(float_of(t.fixed32));
          } else {
            for (std::size_t at = 0; at + 4 <= t.bytes.size(); at += 4) {
              std::uint32_t bits;
              std::memcpy(&bits, t.bytes.data() + at, 4);
              init.values.push_back(float_of(bits));
            }
          }
        }
      }
      graph.initializers[name] = init;
    } else if (f.number == 11) {
      graph.inputs.push_back(name_of_value_info(f.bytes));
    } else if (f.number == 12) {
      graph.outputs.push_back(name_of_value_info(f.bytes));
    }
  }
  return graph;
}

// ---------------------------------------------------------------- models

constexpr std::size_t width = 4;  // inputs = units of the Dense layer = units of the activation

/// Dense(width) with the identity kernel and zero bias, then `activation`: the activation sees the
/// raw inputs.
Sequential dense_then(std::unique_ptr<Layer> activation) {
  Sequential model(/*seed=*/3);
  model.add(std::make_unique<Dense>(width)).add(std::move(activation));
  model.build(width);
  std::vector<float> kernel(width * width, 0.0f), bias(width, 0.0f);
  for (std::size_t i = 0; i < width; ++i) kernel[i * width + i] = 1.0f;
  model.set_weights({kernel, bias});
  return model;
}

Sequential dense_then(const std::string& spec) { return dense_then(make_activation(spec)); }

/// The exported graph, and its nodes after the Dense layer's Gemm: the activation's.
struct Exported {
  Graph graph;
  std::size_t first_activation_node = 0;  // index of the node after the Gemm

  std::vector<const Node*> activation_nodes() const {
    std::vector<const Node*> nodes;
    for (std::size_t i = first_activation_node; i < graph.nodes.size(); ++i) nodes.push_back(&graph.nodes[i]);
    return nodes;
  }
  std::vector<std::string> op_types() const {
    std::vector<std::string> ops;
    for (const Node* n : activation_nodes()) ops.push_back(n->op_type);
    return ops;
  }
  /// The one activation node of type `op` (throws, failing the test, unless exactly one).
  const Node& only(const std::string& op) const {
    const Node* found = nullptr;
    int count = 0;
    for (const Node* n : activation_nodes()) {
      if (n->op_type == op) {
        found = n;
        ++count;
      }
    }
    if (count != 1) throw std::runtime_error("expected one " + op + " node, found " + std::to_string(count));
    return *found;
  }
};

Exported export_model(const Sequential& model) {
  Exported e;
  e.graph = read_graph(to_onnx(model, ModelInfo{}));
  std::size_t gemms = 0;
  for (std::size_t i = 0; i < e.graph.nodes.size(); ++i) {
    if (e.graph.nodes[i].op_type == "Gemm") {
      e.first_activation_node = i + 1;
      ++gemms;
    }
  }
  EXPECT_EQ(gemms, 1u) << "expected one Gemm node, for the Dense layer";
  return e;
}

Exported export_spec(const std::string& spec) { return export_model(dense_then(spec)); }

float attribute_float(const Node& node, const std::string& name) {
  const auto found = node.attributes.find(name);
  if (found == node.attributes.end()) throw std::runtime_error(node.op_type + " without attribute " + name);
  EXPECT_EQ(found->second.type, 1) << node.op_type << "." << name << " is not a FLOAT attribute";
  return found->second.f;
}

std::int64_t attribute_int(const Node& node, const std::string& name) {
  const auto found = node.attributes.find(name);
  if (found == node.attributes.end()) throw std::runtime_error(node.op_type + " without attribute " + name);
  EXPECT_EQ(found->second.type, 2) << node.op_type << "." << name << " is not an INT attribute";
  return found->second.i;
}

using Ops = std::vector<std::string>;

// The ONNX ops each registered activation becomes (the headers' tables), in graph order. A newly
// registered activation fails ExportsEveryRegisteredActivation until it is listed here: with its
// ops, or in `refused` below with the reason it has no exact ONNX form.
const std::map<std::string, Ops>& expected_ops() {
  static const std::map<std::string, Ops> ops = {
      {"binary_step", {"GreaterOrEqual", "Cast"}},
      {"binary_step_ste", {"GreaterOrEqual", "Cast"}},
      {"elu", {"Elu"}},
      {"exponential", {"Exp"}},
      {"gelu", {"Mul", "Erf", "Add", "Mul", "Mul"}},
      {"hard_sigmoid", {"HardSigmoid"}},
      {"leaky_relu", {"LeakyRelu"}},
      {"linear", {}},
      {"mish", {"Softplus", "Tanh", "Mul"}},
      {"relu", {"Relu"}},
      {"selu", {"Selu"}},
      {"sigmoid", {"Sigmoid"}},
      {"softmax", {"Softmax"}},
      {"softplus", {"Softplus"}},
      {"softsign", {"Softsign"}},
      {"swish", {"Sigmoid", "Mul"}},
      {"tanh", {"Tanh"}},
  };
  return ops;
}

// Registered activations without an ONNX form, each with why (to_onnx must refuse them): none today.
const std::map<std::string, std::string>& refused() {
  static const std::map<std::string, std::string> reasons = {};
  return reasons;
}

// ---------------------------------------------------------------- the graph of each activation

TEST(OnnxActivations, ExportsEveryRegisteredActivation) {
  const std::vector<std::string> names = activation_names();
  ASSERT_GE(names.size(), expected_ops().size());
  for (const std::string& name : names) {
    SCOPED_TRACE("activation " + name);
    const auto reason = refused().find(name);
    if (reason != refused().end()) {
      EXPECT_THROW(export_spec(name), InvalidArgument) << "listed as refused: " << reason->second;
      continue;
    }
    const auto expected = expected_ops().find(name);
    ASSERT_NE(expected, expected_ops().end())
        << "activation '" << name << "' is registered but this test does not know its ONNX form: add its ops to "
        << "expected_ops() (or, with the reason, to refused())";
    Exported e;
    ASSERT_NO_THROW(e = export_spec(name));
    EXPECT_EQ(e.op_types(), expected->second);
    // (A node outside the default domain reads "domain.Op" above.) The graph ends in the activation.
    ASSERT_EQ(e.graph.outputs.size(), 1u);
    EXPECT_EQ(e.graph.nodes.back().outputs.at(0), e.graph.outputs[0]);
  }
}

/// Every registered activation, and the variants with arguments.
std::vector<std::string> every_activation_spec() {
  std::vector<std::string> specs = activation_names();
  for (const char* variant : {"leaky_relu(0.05)", "elu(0.25)", "gelu(approximate)"}) specs.push_back(variant);
  return specs;
}

TEST(OnnxActivations, PassTheOnnxChecker) {
  // check_model with full_check: each node's schema at opset 13, its attributes' types, and shape
  // inference through the graph.
  if (!test::onnx_checker_available()) GTEST_SKIP() << test::onnx_checker_missing();
  for (const std::string& spec : every_activation_spec()) {
    if (refused().count(spec) != 0) continue;
    EXPECT_EQ(test::onnx_checker_problem(to_onnx(dense_then(spec), ModelInfo{})), "") << spec;
  }
}

TEST(OnnxActivations, AddedByNameOrAsActivationLayerExportTheirOwnOps) {
  // model.add("leaky_relu(0.1)") and make_layer("Activation", ...) (a model file's layers) build the
  // same activation object, whose to_onnx writes the graph.
  Config config = Config::object();
  config["activation"] = "leaky_relu(0.1)";
  const Exported from_layer = export_model(dense_then(make_layer("Activation", config)));
  EXPECT_EQ(from_layer.op_types(), Ops{"LeakyRelu"});
  EXPECT_FLOAT_EQ(attribute_float(from_layer.only("LeakyRelu"), "alpha"), 0.1f);

  Sequential by_name(/*seed=*/3);
  by_name.add(std::make_unique<Dense>(width)).add("relu");
  by_name.add(std::make_unique<Dense>(2)).add("softmax");
  by_name.build(width);
  const Graph g = read_graph(to_onnx(by_name, ModelInfo{}));
  Ops ops;
  for (const Node& n : g.nodes) ops.push_back(n.op_type);
  EXPECT_EQ(ops, (Ops{"Gemm", "Relu", "Gemm", "Softmax"}));
}

TEST(OnnxActivations, LeakyReluWritesItsSlopeEvenTheDefault) {
  // ONNX's LeakyRelu defaults to 0.01, xdense to 0.3: the default must be written too.
  EXPECT_EQ(attribute_float(export_spec("leaky_relu").only("LeakyRelu"), "alpha"), LeakyReLU::default_slope);
  EXPECT_EQ(attribute_float(export_spec("leaky_relu(0.05)").only("LeakyRelu"), "alpha"), 0.05f);
  EXPECT_EQ(attribute_float(export_spec("leaky_relu(0)").only("LeakyRelu"), "alpha"), 0.0f);
}

TEST(OnnxActivations, EluAndSeluWriteTheirConstants) {
  EXPECT_EQ(attribute_float(export_spec("elu").only("Elu"), "alpha"), 1.0f);
  EXPECT_EQ(attribute_float(export_spec("elu(0.25)").only("Elu"), "alpha"), 0.25f);
  const Exported selu = export_spec("selu");
  EXPECT_EQ(attribute_float(selu.only("Selu"), "alpha"), SELU::alpha);
  EXPECT_EQ(attribute_float(selu.only("Selu"), "gamma"), SELU::scale);
}

TEST(OnnxActivations, HardSigmoidIsKeras3sRelu6Form) {
  // max(0, min(1, alpha x + beta)) with alpha 1/6, beta 1/2 = relu6(x + 3) / 6, not ONNX's default
  // (0.2, 0.5: Keras 2's hard sigmoid).
  const Exported exported = export_spec("hard_sigmoid");  // owns the node read below
  const Node& node = exported.only("HardSigmoid");
  EXPECT_EQ(attribute_float(node, "alpha"), 1.0f / 6.0f);
  EXPECT_EQ(attribute_float(node, "beta"), 0.5f);
}

TEST(OnnxActivations, SoftmaxNormalisesTheLastAxis) {
  EXPECT_EQ(attribute_int(export_spec("softmax").only("Softmax"), "axis"), -1);
}

TEST(OnnxActivations, BinaryStepFiresAtZeroAndCastsToFloat) {
  for (const std::string spec : {"binary_step", "binary_step(ste)", "binary_step_ste"}) {
    SCOPED_TRACE(spec);
    const Exported e = export_spec(spec);
    const Node& compare = e.only("GreaterOrEqual");  // >= : binary_step(0) = 1, as the forward pass
    ASSERT_EQ(compare.inputs.size(), 2u);
    EXPECT_EQ(e.graph.scalar(compare.inputs[1]), 0.0f);
    const Node& cast = e.only("Cast");
    EXPECT_EQ(attribute_int(cast, "to"), 1);  // TensorProto FLOAT
    EXPECT_EQ(cast.inputs.at(0), compare.outputs.at(0));
  }
}

TEST(OnnxActivations, GeluWritesTheFormOfItsSetting) {
  const Exported exact = export_spec("gelu");
  const Node& erf = exact.only("Erf");
  // Erf reads x * (1 / sqrt 2); the constants 1/sqrt 2, 1 and 0.5 are scalar initializers.
  const Node* scale = nullptr;
  for (const Node* n : exact.activation_nodes()) {
    if (n->outputs.at(0) == erf.inputs.at(0)) scale = n;
  }
  ASSERT_NE(scale, nullptr);
  EXPECT_EQ(scale->op_type, "Mul");
  EXPECT_FLOAT_EQ(exact.graph.scalar(scale->inputs.at(1)), 0.70710678f);
  EXPECT_EQ(exact.graph.scalar(exact.only("Add").inputs.at(1)), 1.0f);

  // Approximate: x * Sigmoid(x * (k + c x^2)), k = 2 sqrt(2/pi), c = 0.044715 k; no Erf.
  const Exported approximate = export_spec("gelu(approximate)");
  EXPECT_EQ(approximate.op_types(), (Ops{"Mul", "Mul", "Add", "Mul", "Sigmoid", "Mul"}));
  const Node& add = approximate.only("Add");
  EXPECT_FLOAT_EQ(approximate.graph.scalar(add.inputs.at(1)), 1.5957691216f);
  const Node* cubic = approximate.activation_nodes().at(1);
  EXPECT_FLOAT_EQ(approximate.graph.scalar(cubic->inputs.at(1)), 1.5957691216f * 0.044715f);
  EXPECT_EQ(export_spec("gelu(tanh)").op_types(), approximate.op_types());
}

TEST(OnnxActivations, LinearAddsNoNode) {
  const Exported e = export_spec("linear");
  EXPECT_TRUE(e.activation_nodes().empty());
  EXPECT_EQ(e.graph.nodes.back().op_type, "Gemm");
}

/// A user's activation that declares no ONNX form.
class Cube final : public Activation {
 public:
  std::string type_name() const override { return "Cube"; }
  std::string spec() const override { return "cube"; }
  void activate(ConstMatrixView x, MatrixView y) const override {
    for (std::size_t i = 0; i < x.size(); ++i) y.data[i] = x.data[i] * x.data[i] * x.data[i];
  }
  void derivative(ConstMatrixView x, ConstMatrixView, ConstMatrixView dy, MatrixView dx) const override {
    for (std::size_t i = 0; i < x.size(); ++i) dx.data[i] = 3.0f * x.data[i] * x.data[i] * dy.data[i];
  }
};

TEST(OnnxActivations, ActivationWithoutOnnxFormIsRefusedByName) {
  const Sequential model = dense_then(std::make_unique<Cube>());
  try {
    to_onnx(model, ModelInfo{});
    FAIL() << "exported an activation without an ONNX form";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("Cube"), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------- in ONNX Runtime

/// Inputs from -1000 to 1000: both tails, the kinks (0, +-3), tiny values, -0, around e^x's overflow (88.72).
Matrix probe_inputs() {
  const std::vector<float> values = {-1000.0f, -100.0f, -88.0f, -30.0f, -20.0f, -10.0f, -7.0f, -5.5f,
                                     -3.0f,    -2.5f,   -1.0f,  -0.5f,  -1e-3f, -1e-6f, -0.0f, 0.0f,
                                     1e-6f,    1e-3f,   0.25f,  0.5f,   1.0f,   2.5f,   3.0f,  5.5f,
                                     7.0f,     10.0f,   20.0f,  30.0f,  88.0f,  88.8f,  100.0f, 1000.0f};
  Matrix x = Matrix::from_shape({values.size() / width, width});
  std::copy(values.begin(), values.end(), x.data());
  return x;
}

TEST(OnnxActivations, RunInOnnxRuntimeAsPredict) {
  XDENSE_REQUIRE_ONNX_RUNTIME();
  const std::filesystem::path folder =
      std::filesystem::temp_directory_path() / ("xdense_onnx_activations_" + std::to_string(::getpid()));
  std::filesystem::create_directories(folder);
  const Matrix probe = probe_inputs();
  for (const std::string& spec : every_activation_spec()) {
    if (refused().count(spec) != 0) continue;
    SCOPED_TRACE("activation " + spec);
    Sequential model = dense_then(spec);
    // The runner's .npy reader refuses infinities: e^x stays below its overflow (88.72) here.
    Matrix x = probe;
    if (spec == "exponential") {
      for (float& v : x) v = std::min(v, 88.0f);
    }
    const Matrix expected = model.predict(x);
    const std::filesystem::path file = folder / (spec + ".onnx");
    export_onnx(file.string(), model, ModelInfo{});
    Matrix actual;
    try {
      actual = testing::run_onnx(file, x);
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
      continue;
    }
    ASSERT_EQ(actual.shape(0), expected.shape(0));
    ASSERT_EQ(actual.shape(1), expected.shape(1));
    double worst = 0.0;  // the largest difference, relative above 1
    for (std::size_t i = 0; i < expected.size(); ++i) {
      const float want = expected.data()[i], got = actual.data()[i];
      if (want == got || (std::isnan(want) && std::isnan(got))) continue;  // equal infinities too
      const double difference = std::abs(static_cast<double>(got) - want) /
                                std::max(1.0, std::abs(static_cast<double>(want)));
      worst = std::max(worst, difference);
      EXPECT_LE(difference, 1e-5) << "at x = " << x.data()[i] << ": predict " << want << ", ONNX Runtime " << got;
    }
    std::cout << "  " << spec << ": largest difference " << worst << "\n";
  }
  std::filesystem::remove_all(folder);
}

}  // namespace
}  // namespace xdense
