#include "onnx_checker.hpp"

#ifdef XDENSE_HAVE_ONNX_CHECKER
#include <exception>

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>
#endif

namespace xdense::test {

#ifdef XDENSE_HAVE_ONNX_CHECKER

bool onnx_checker_available() { return true; }

std::string onnx_checker_problem(const std::string& model_bytes) {
  onnx::ModelProto model;
  if (!model.ParseFromString(model_bytes)) return "protobuf cannot parse the bytes as a ModelProto";
  try {
    onnx::checker::check_model(model);
    // full_check=True of the Python checker: check_type=true, strict mode (errors thrown).
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(/*check_type=*/true, /*strict_mode=*/1));
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

#else

bool onnx_checker_available() { return false; }

std::string onnx_checker_problem(const std::string& /*model_bytes*/) { return ""; }

#endif

}  // namespace xdense::test
