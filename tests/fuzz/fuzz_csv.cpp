// libFuzzer target: the CSV dataset reader (read_csv) on arbitrary bytes, with the option sets the
// command-line tool uses. Any exception other than xdense::Error, any crash, leak or undefined
// behaviour is a finding.

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "xdense/csv.hpp"
#include "xdense/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  xdense::CsvOptions by_index;
  by_index.label_column = "0";
  xdense::CsvOptions unlabelled;
  unlabelled.unlabelled = true;
  xdense::CsvOptions fixed_classes;
  fixed_classes.class_names = {"0", "1", "setosa"};
  for (const xdense::CsvOptions& options : {xdense::CsvOptions{}, by_index, unlabelled, fixed_classes}) {
    std::istringstream in(text);
    try {
      xdense::read_csv(in, "fuzz.csv", options);
    } catch (const xdense::Error&) {
      // rejected with a typed error: the expected outcome for malformed input
    }
  }
  return 0;
}
