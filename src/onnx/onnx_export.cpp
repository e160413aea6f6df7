// to_onnx() and export_onnx() (include/xdense/onnx.hpp): the model's graph between the
// preprocessing and the output, its names and task as metadata, encoded by onnx_graph.cpp.

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "onnx_graph.hpp"
#include "xdense/activation.hpp"
#include "xdense/atomic_file.hpp"
#include "xdense/error.hpp"
#include "xdense/fusion.hpp"
#include "xdense/loss.hpp"
#include "xdense/model_file.hpp"
#include "xdense/onnx.hpp"
#include "xdense/sequential.hpp"

#ifndef XDENSE_VERSION
#error "XDENSE_VERSION is defined by CMakeLists.txt for this file"
#endif

namespace xdense {
namespace {

const char* const classification = "classification";
const char* const regression = "regression";

std::vector<float> floats_of(const Vector& v) { return std::vector<float>(v.begin(), v.end()); }

/// The task the export describes: info.task, else what save_model() would record (regression for a
/// loss taking real values and no class names), else, for a model never compiled, regression when
/// target names or scaling are given and classification when class names are; "" when unknown.
std::string resolved_task(const Sequential& model, const ModelInfo& info) {
  if (!info.task.empty()) return info.task;
  if (const Loss* loss = model.loss()) {
    return loss->label_encoding() == LabelEncoding::values && info.class_names.empty() ? regression : classification;
  }
  if (!info.target_names.empty() || info.target_standardizer) return regression;
  if (!info.class_names.empty()) return classification;
  return "";
}

/// InvalidArgument "to_onnx: ..." for info that does not fit the model: the graph would be wrong.
void check_info(const ModelInfo& info, const std::string& task, std::size_t inputs, std::size_t outputs) {
  const auto fail = [](const std::string& what) { throw InvalidArgument("to_onnx: " + what); };
  const auto count = [](std::size_t n, const char* what) { return std::to_string(n) + " " + what; };
  if (!task.empty() && task != classification && task != regression) {
    fail("task " + quote_value(task) + " (expected classification or regression)");
  }
  if (!info.feature_names.empty() && info.feature_names.size() != inputs) {
    fail(count(info.feature_names.size(), "feature names") + " for a model of " + count(inputs, "inputs"));
  }
  if (info.standardizer) {
    if (!info.standardizer->fitted()) fail("the standardizer is not fitted");
    if (info.standardizer->mean().size() != inputs) {
      fail("a standardizer of " + count(info.standardizer->mean().size(), "features") + " for a model of " +
           count(inputs, "inputs"));
    }
  }
  const std::size_t max_classes = outputs == 1 ? 2 : outputs;
  if (info.class_names.size() > max_classes) {
    fail(count(info.class_names.size(), "class names") + " for a model of " + count(outputs, "output units"));
  }
  if (task == classification && (!info.target_names.empty() || info.target_standardizer)) {
    fail("target names or a target standardizer for a classification model");
  }
  if (task == regression && !info.class_names.empty()) fail("class names for a regression model");
  if (!info.target_names.empty() && info.target_names.size() != outputs) {
    fail(count(info.target_names.size(), "target names") + " for a model of " + count(outputs, "output units"));
  }
  if (info.target_standardizer) {
    if (!info.target_standardizer->fitted()) fail("the target standardizer is not fitted");
    if (info.target_standardizer->mean().size() != outputs) {
      fail("a target standardizer of " + count(info.target_standardizer->mean().size(), "columns") +
           " for a model of " + count(outputs, "output units"));
    }
  }
}

/// What the output holds, for metadata_props["output"] and the doc string.
struct OutputMeaning {
  std::string key;   // class_probabilities, probability_of_class_1, class_scores, values, outputs
  std::string text;  // one sentence
};

OutputMeaning output_meaning(const Sequential& model, const ModelInfo& info, const std::string& task) {
  const std::size_t units = model.output_units();
  const Activation* last = model.layer(model.layer_count() - 1).as_activation();
  const ProbabilityOutput probability = last != nullptr ? last->probability_output() : ProbabilityOutput::none;
  const std::string shape = "[N, " + std::to_string(units) + "]";
  if (task == regression) {
    return {"values", "regression values " + shape +
                          (info.target_standardizer ? " in the targets' units (their standardization undone)" : "")};
  }
  if (task != classification) return {"outputs", "the last layer's outputs " + shape};
  if (units == 1 && probability == ProbabilityOutput::sigmoid) {
    std::string text = "P(class 1) " + shape + ", the probability of the second class";
    if (info.class_names.size() == 2) text += " (" + nlohmann::json(info.class_names[1]).dump() + ")";
    return {"probability_of_class_1", text + "; 1 - P is the first class's"};
  }
  if (probability != ProbabilityOutput::none) {
    return {"class_probabilities", "class probabilities " + shape + ", one column per class"};
  }
  return {"class_scores", "class scores " + shape + " (the last layer is not a probability activation)"};
}

std::string json_array(const std::vector<std::string>& names) { return nlohmann::json(names).dump(); }

/// metadata_props: one entry per key, in first-written order; a later set() of a key replaces its value.
class Metadata {
 public:
  void set(const std::string& key, const std::string& value) {
    const auto it = std::find_if(entries_.begin(), entries_.end(), [&](const auto& e) { return e.first == key; });
    if (it != entries_.end()) {
      it->second = value;
    } else {
      entries_.emplace_back(key, value);
    }
  }
  std::vector<std::pair<std::string, std::string>> entries() const { return entries_; }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

}  // namespace

std::string to_onnx(const Sequential& model, const ModelInfo& info, const OnnxExportOptions& options) {
  if (!model.built() || model.layer_count() == 0) {
    throw StateError("to_onnx: the model is not built; call build() or fit() first");
  }
  const std::size_t inputs = model.input_units();
  const std::size_t outputs = model.output_units();
  const std::string task = resolved_task(model, info);
  check_info(info, task, inputs, outputs);

  OnnxGraph graph;
  OnnxGraph::Impl& impl = graph.impl();
  impl.add_input("input", static_cast<std::int64_t>(inputs));
  impl.taken.insert("output");  // given to the last tensor at the end

  // The standardizer as it is computed in predict, (x - mean) / scale: two nodes, not folded into the
  // first Gemm, so that the graph shows the preprocessing and the statistics (Netron).
  std::string x = "input";
  const auto features = static_cast<std::int64_t>(inputs);
  if (info.standardizer) {
    const std::string mean = graph.add_initializer("standardizer/mean", {features}, floats_of(info.standardizer->mean()));
    const std::string scale =
        graph.add_initializer("standardizer/scale", {features}, floats_of(info.standardizer->scale()));
    x = graph.add("Sub", {x, mean}, {}, "standardizer/subtract_mean");
    x = graph.add("Div", {x, scale}, {}, "standardizer/divide_by_scale");
  }
  for (std::size_t i = 0; i < model.layer_count(); ++i) {
    const std::string name = model.layer_name(i);
    x = model.layer(i).to_onnx(graph, x, name);
    if (impl.tensors.count(x) == 0) {
      throw InvalidArgument("to_onnx: " + model.layer(i).type_name() + " (layer " + name + ") returned " +
                            quote_value(x) + ", which is not a tensor of the graph");
    }
  }
  // Regression targets trained standardized: back in their units, outputs * scale + mean.
  if (info.target_standardizer) {
    const auto units = static_cast<std::int64_t>(outputs);
    const std::string scale = graph.add_initializer("target_standardizer/scale", {units},
                                                    floats_of(info.target_standardizer->scale()));
    const std::string mean =
        graph.add_initializer("target_standardizer/mean", {units}, floats_of(info.target_standardizer->mean()));
    x = graph.add("Mul", {x, scale}, {}, "target_standardizer/multiply_by_scale");
    x = graph.add("Add", {x, mean}, {}, "target_standardizer/add_mean");
  }
  impl.taken.erase("output");
  impl.add_output(x, "output", static_cast<std::int64_t>(outputs));

  const OutputMeaning meaning = output_meaning(model, info, task);
  Metadata metadata;
  if (!task.empty()) metadata.set("task", task);
  if (!info.feature_names.empty()) metadata.set("feature_names", json_array(info.feature_names));
  if (!info.class_names.empty()) metadata.set("class_names", json_array(info.class_names));
  if (!info.target_names.empty()) metadata.set("target_names", json_array(info.target_names));
  metadata.set("output", meaning.key);
  metadata.set("xdense_version", XDENSE_VERSION);
  for (const auto& [key, value] : info.metadata) metadata.set(key, value);
  for (const auto& [key, value] : options.metadata) metadata.set(key, value);

  std::string layers, chain;  // "dense (Dense), re_lu (ReLU)"; "dense (Dense) -> re_lu (ReLU)"
  for (std::size_t i = 0; i < model.layer_count(); ++i) {
    const std::string layer = model.layer_name(i) + " (" + model.layer(i).type_name() + ")";
    layers += (i ? ", " : "") + layer;
    chain += (i ? " -> " : "") + layer;
  }
  OnnxModelHeader header;
  header.producer_name = options.producer_name;
  header.producer_version = XDENSE_VERSION;
  header.graph_name = options.graph_name;
  header.doc_string = options.graph_name + ": an xdense model. Input \"input\": float32 [N, " +
                      std::to_string(inputs) + "], the raw features" +
                      (info.feature_names.empty() ? std::string() : " " + json_array(info.feature_names)) +
                      (info.standardizer ? ", standardized inside the graph" : "") + ". Output \"output\": " +
                      meaning.text +
                      (info.class_names.empty() ? std::string() : "; classes " + json_array(info.class_names)) +
                      ". Layers: " + layers + ".";
  header.graph_doc_string = std::string("input") + (info.standardizer ? " -> standardizer (Sub mean, Div scale)" : "") +
                            " -> " + chain +
                            (info.target_standardizer ? " -> target standardizer undone (Mul scale, Add mean)" : "") +
                            " -> output";
  header.metadata = metadata.entries();
  return encode_onnx_model(impl, graph.opset(), header);
}

void export_onnx(const std::string& path, const Sequential& model, const ModelInfo& info,
                 const OnnxExportOptions& options) {
  const std::string bytes = to_onnx(model, info, options);  // every refusal before the file is touched
  write_file_atomically(path, bytes, WriteOptions{/*require_regular=*/true, "an ONNX model"});
}

}  // namespace xdense
