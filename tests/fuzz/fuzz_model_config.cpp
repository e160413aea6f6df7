// libFuzzer target: the JSON model config reader (add_layers_from_json) and the compact layer spec
// (add_layers) on arbitrary text. Any exception other than xdense::Error, any crash, leak or
// undefined behaviour is a finding.

#include <cstddef>
#include <cstdint>
#include <string>

#include "xdense/error.hpp"
#include "xdense/model_config.hpp"
#include "xdense/sequential.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    xdense::Sequential model;
    xdense::add_layers_from_json(model, text, "fuzz.json");
    model.summary();
  } catch (const xdense::Error&) {
  }
  try {
    xdense::Sequential model;
    xdense::add_layers(model, text);
    model.summary();
  } catch (const xdense::Error&) {
  }
  return 0;
}
