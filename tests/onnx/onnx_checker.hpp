#pragma once
/// \file
/// The ONNX checker of Debian's libonnx-dev (ONNX 1.12, C++) for the ONNX export tests: a test-only
/// dependency (tests/onnx/onnx_checker.cmake; the library never links it). Found at configure time
/// or not: without it the checks are skipped with a message saying so (scripts/setup.sh installs it).

#include <string>

namespace xdense::test {

/// Whether the checker was found when the tests were configured.
bool onnx_checker_available();

/// What onnx.checker.check_model(model, full_check=True) says of a serialized ModelProto: the
/// C++ check_model() (structure, names, opset and schemas of every node), then strict shape
/// inference with type checks. "" when both pass, else the checker's message. "" without a checker.
std::string onnx_checker_problem(const std::string& model_bytes);

/// The skip message when it is not available.
inline const char* onnx_checker_missing() {
  return "the ONNX checker (libonnx-dev) was not found when the tests were configured: "
         "run scripts/setup.sh and configure again";
}

}  // namespace xdense::test
