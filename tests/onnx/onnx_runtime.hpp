#pragma once
// ONNX Runtime for the tests: runs an exported .onnx file in onnxruntime-node (tests/onnx/run_onnx.js,
// one thread) on a Matrix and returns its output, so a test can compare it with predict().
//
//   XDENSE_REQUIRE_ONNX_RUNTIME();                       // GTEST_SKIP naming what is missing
//   xdense::Matrix out = xdense::testing::run_onnx(path("m.onnx"), x);
//
// Found at run time: node (XDENSE_NODE, else `node` on PATH) and the onnxruntime-node package
// (a node_modules folder holding it: XDENSE_ONNXRUNTIME_NODE_MODULES, else the folder
// scripts/setup.sh installs into, compiled in as XDENSE_ONNXRUNTIME_NODE_MODULES_DEFAULT).
// Both are optional for the build: the tests skip, with one message saying what to install.

#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "xdense/npy.hpp"
#include "xdense/tensor.hpp"

#ifndef XDENSE_ONNX_RUNNER
#error "XDENSE_ONNX_RUNNER (the path of tests/onnx/run_onnx.js) must be defined by the build"
#endif
#ifndef XDENSE_ONNXRUNTIME_NODE_MODULES_DEFAULT
#error "XDENSE_ONNXRUNTIME_NODE_MODULES_DEFAULT (where scripts/setup.sh installs onnxruntime-node) must be defined"
#endif

namespace xdense::testing {

/// Where the runtime is, or what is missing.
struct OnnxRuntimeSetup {
  std::string node;          ///< the node executable (a path or a name found on PATH)
  std::string node_modules;  ///< the node_modules folder holding onnxruntime-node
  std::string missing;       ///< empty when both were found; else one sentence saying what to install
};

/// `text` quoted for /bin/sh.
inline std::string shell_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

/// Finds node and onnxruntime-node (once per process; see the file comment for the order).
inline const OnnxRuntimeSetup& onnx_runtime_setup() {
  static const OnnxRuntimeSetup setup = [] {
    OnnxRuntimeSetup s;
    const char* node = std::getenv("XDENSE_NODE");
    s.node = node != nullptr && *node != '\0' ? node : "node";
    const char* modules = std::getenv("XDENSE_ONNXRUNTIME_NODE_MODULES");
    s.node_modules = modules != nullptr && *modules != '\0' ? modules : XDENSE_ONNXRUNTIME_NODE_MODULES_DEFAULT;
    const std::string probe = "timeout 30 " + shell_quote(s.node) + " --version >/dev/null 2>&1";
    if (std::system(probe.c_str()) != 0) {
      s.missing = "node not found (" + s.node + "; set XDENSE_NODE, or run scripts/setup.sh to install Debian's nodejs)";
    } else if (!std::filesystem::exists(std::filesystem::path(s.node_modules) / "onnxruntime-node" / "package.json")) {
      s.missing = "onnxruntime-node not installed in " + s.node_modules +
                  " (run scripts/setup.sh, or set XDENSE_ONNXRUNTIME_NODE_MODULES to a node_modules folder holding it)";
    }
    return s;
  }();
  return setup;
}

/// Skips the current test (GTEST_SKIP) when node or onnxruntime-node is missing, saying which.
#define XDENSE_REQUIRE_ONNX_RUNTIME()                                                            \
  do {                                                                                           \
    const std::string& missing_ = ::xdense::testing::onnx_runtime_setup().missing;              \
    if (!missing_.empty()) GTEST_SKIP() << "ONNX Runtime tests skipped: " << missing_;          \
  } while (false)

/// Runs `model` (an .onnx file) in ONNX Runtime on `x` (rows = samples) and returns its output.
/// The input and output files are written beside the model (<model>.input.npy, <model>.output.npy)
/// and removed afterwards. Throws std::runtime_error with the runner's message when ONNX Runtime
/// refuses the model or fails, or when it runs longer than `timeout_seconds`.
inline Matrix run_onnx(const std::filesystem::path& model, const Matrix& x, int timeout_seconds = 120) {
  const OnnxRuntimeSetup& setup = onnx_runtime_setup();
  if (!setup.missing.empty()) throw std::runtime_error(setup.missing);
  const std::string input = model.string() + ".input.npy", output = model.string() + ".output.npy",
                    messages = model.string() + ".stderr";
  save_npy(input, x.data(), {x.shape(0), x.shape(1)});
  std::filesystem::remove(output);
  const std::string command = "NODE_PATH=" + shell_quote(setup.node_modules) + " timeout " +
                              std::to_string(timeout_seconds) + " " + shell_quote(setup.node) + " " +
                              shell_quote(XDENSE_ONNX_RUNNER) + " " + shell_quote(model.string()) + " " +
                              shell_quote(input) + " " + shell_quote(output) + " >/dev/null 2>" + shell_quote(messages) +
                              " </dev/null";
  const int status = std::system(command.c_str());
  std::string error_text;
  {
    std::FILE* file = std::fopen(messages.c_str(), "r");
    if (file != nullptr) {
      char buffer[4096];
      std::size_t n;
      while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) error_text.append(buffer, n);
      std::fclose(file);
    }
  }
  std::filesystem::remove(input);
  std::filesystem::remove(messages);
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (code == 124) {
    throw std::runtime_error("ONNX Runtime did not finish within " + std::to_string(timeout_seconds) + " s on " +
                             model.string());
  }
  if (code != 0) {
    throw std::runtime_error("ONNX Runtime failed on " + model.string() + " (exit " + std::to_string(code) +
                             "): " + error_text);
  }
  Matrix result = load_npy(output);
  std::filesystem::remove(output);
  return result;
}

/// The largest |a - b| over equal-shaped matrices (infinity when the shapes differ, NaN counts as
/// infinitely far from anything but NaN).
inline double max_abs_difference(const Matrix& a, const Matrix& b) {
  if (a.shape(0) != b.shape(0) || a.shape(1) != b.shape(1)) return std::numeric_limits<double>::infinity();
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double x = a.data()[i], y = b.data()[i];
    if (x == y) continue;  // equal infinities too
    if (std::isnan(x) || std::isnan(y)) {
      if (std::isnan(x) != std::isnan(y)) return std::numeric_limits<double>::infinity();
      continue;
    }
    worst = std::max(worst, std::abs(x - y));
  }
  return worst;
}

}  // namespace xdense::testing
