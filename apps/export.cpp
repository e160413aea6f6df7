// `xdense export`: each Dense layer's kernel and bias as .npy files
// (dense_<i>_kernel.npy (inputs, units) float32, dense_<i>_bias.npy (units,)).

#include <cstdio>
#include <filesystem>

#include "commands.hpp"
#include "xdense/dense.hpp"
#include "xdense/error.hpp"
#include "xdense/model_file.hpp"
#include "xdense/npy.hpp"

namespace xdense::cli {

int run_export(const ExportOptions& o) {
  SavedModel saved = load_model(o.model);
  std::error_code error;
  std::filesystem::create_directories(o.npy_dir, error);
  if (error || !std::filesystem::is_directory(o.npy_dir)) {
    throw DataError(o.npy_dir + ": cannot create directory" + (error ? ": " + error.message() : std::string()));
  }
  std::size_t dense_index = 0;
  for (std::size_t i = 0; i < saved.model.layer_count(); ++i) {
    const auto* dense = dynamic_cast<const Dense*>(&saved.model.layer(i));
    if (dense == nullptr) continue;
    const std::string stem = o.npy_dir + "/dense_" + std::to_string(dense_index++);
    save_npy(stem + "_kernel.npy", dense->kernel().data(), {dense->input_units(), dense->output_units()});
    save_npy(stem + "_bias.npy", dense->bias().data(), {dense->output_units()});
  }
  std::printf("Exported %zu Dense layers to %s\n", dense_index, o.npy_dir.c_str());
  return exit_ok;
}

}  // namespace xdense::cli
