// `xdense export`: the model as an ONNX file (--onnx FILE: onnx.hpp's graph, raw features in,
// predict's outputs out, preprocessing included), and/or every layer's named arrays as .npy files
// (--npy DIR) <kind>_<i>_<name>.npy, e.g. a Dense layer's
// (dense_<i>_kernel.npy (inputs, units) float32, dense_<i>_bias.npy (units,)), and the
// standardizer's statistics (standardize_mean.npy, standardize_std.npy, (features,)) when the
// model has one, and a regressor's target standardizer's (standardize_targets_mean.npy,
// standardize_targets_std.npy, (targets,)).
//
// All or nothing: every file is written into a temporary folder created beside DIR (same parent,
// so renames never cross file systems), then moved in: a DIR that does not exist yet is the
// temporary folder renamed; into an existing DIR each file is renamed after all were written
// (first checking that no destination is a folder, the one failure a rename could then meet). On
// any failure the temporary folder is removed, so no partial set of files appears.
// Folder rule, as for every command's output: DIR itself is created, its parent must exist.
//
// With both outputs, nothing is written until both are ready: the ONNX bytes (a layer without an
// ONNX form refuses the whole export, naming it) go to a temporary file reserved before the model
// is read (a missing folder fails at once); the .npy files to their temporary folder; the ONNX file
// is then renamed into place, then the .npy files. --onnx naming the model file is refused.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "commands.hpp"
#include "model_support.hpp"
#include "xdense/error.hpp"
#include "xdense/model_file.hpp"
#include "xdense/atomic_file.hpp"
#include "xdense/npy.hpp"
#include "xdense/onnx.hpp"

namespace xdense::cli {
namespace {

namespace fs = std::filesystem;

std::string os_error(const std::string& path, const std::string& what, int error) {
  return path + ": " + what + ": " + std::strerror(error);
}

/// A temporary folder "<dir>.tmp-XXXXXX" beside `dir`, removed with its contents unless released.
class TemporaryFolder {
 public:
  explicit TemporaryFolder(const std::string& dir) {
    std::vector<char> name(dir.begin(), dir.end());
    for (char c : std::string(".tmp-XXXXXX")) name.push_back(c);
    name.push_back('\0');
    if (::mkdtemp(name.data()) == nullptr) {
      const int error = errno;
      throw DataError(os_error(dir, "cannot create a temporary folder beside it", error));
    }
    path_ = name.data();
  }
  TemporaryFolder(const TemporaryFolder&) = delete;
  TemporaryFolder& operator=(const TemporaryFolder&) = delete;
  ~TemporaryFolder() {
    if (path_.empty()) return;
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }
  void release() { path_.clear(); }

 private:
  std::string path_;
};

struct Array {
  std::string name;
  const float* data;
  std::vector<std::size_t> shape;
};

std::string shape_text(const std::vector<std::size_t>& shape) {
  return shape.size() == 1 ? "(" + std::to_string(shape[0]) + ",)"
                           : "(" + std::to_string(shape[0]) + ", " + std::to_string(shape[1]) + ")";
}

void sync_folder(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;  // durability only: the files are complete either way
  ::fsync(fd);
  ::close(fd);
}

/// The .npy files of `saved` written into a temporary folder beside `dir` and checked against
/// what `dir` already holds; publish() moves them in (export's npy part, see the file comment).
class NpyExport {
 public:
  NpyExport(SavedModel& saved, const std::string& npy_dir) {
    // Every layer's parameters by name: <kind>_<i>_<parameter>.npy, i counting layers of that
    // kind (dense_0_kernel.npy, dense_0_bias.npy, ...), the names --init-weights reads back.
    for (const NamedParameter& p : named_parameters(saved.model)) {
      arrays_.push_back({p.stem + ".npy", p.parameter.value, p.parameter.shape});
      layers_with_parameters_.insert(p.layer);
    }
    if (const auto& standardizer = saved.info.standardizer) {
      arrays_.push_back({"standardize_mean.npy", standardizer->mean().data(), {standardizer->mean().size()}});
      arrays_.push_back({"standardize_std.npy", standardizer->scale().data(), {standardizer->scale().size()}});
      what_ += " and the standardizer's mean and std";
    }
    // A regressor trained with --standardize-targets: outputs * std + mean are the predicted values.
    if (const auto& targets = saved.info.target_standardizer) {
      arrays_.push_back({"standardize_targets_mean.npy", targets->mean().data(), {targets->mean().size()}});
      arrays_.push_back({"standardize_targets_std.npy", targets->scale().data(), {targets->scale().size()}});
      what_ += " and the target standardizer's mean and std";
    }

    // "weights/" names the folder "weights": drop trailing slashes (but keep "/").
    dir_ = npy_dir;
    while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
    if (dir_.empty()) throw InvalidArgument("--npy: expected a folder name, received ''");
    const fs::path parent = fs::path(dir_).parent_path();
    std::error_code parent_error;
    if (!parent.empty() && !fs::is_directory(parent, parent_error)) {
      throw DataError(dir_ + ": folder '" + parent.string() + "' does not exist");
    }
    std::error_code error;
    const fs::file_status status = fs::status(dir_, error);
    exists_ = fs::exists(status);
    if (exists_ && !fs::is_directory(status)) throw DataError(dir_ + ": exists and is not a folder");
    if (exists_) {
      // Another model's export left there would mix with this one (a stale standardize_mean.npy, a
      // third layer's weights): the folder must hold no .npy file this export does not replace.
      std::vector<std::string> others;
      std::error_code error;
      for (fs::directory_iterator it(dir_, error), end; !error && it != end; it.increment(error)) {
        const std::string name = it->path().filename().string();
        const bool ours = std::any_of(arrays_.begin(), arrays_.end(), [&](const Array& a) { return a.name == name; });
        if (!ours && it->path().extension() == ".npy") others.push_back(name);
      }
      if (!others.empty()) {
        std::sort(others.begin(), others.end());
        throw DataError(dir_ + ": holds .npy files this model does not write (" + name_list(others) +
                        "); export into a new or empty folder, or remove them");
      }
    }

    temp_ = std::make_unique<TemporaryFolder>(dir_);
    for (const Array& a : arrays_) save_npy(temp_->path() + "/" + a.name, a.data, a.shape);
    if (exists_) {
      for (const Array& a : arrays_) {
        const std::string target = dir_ + "/" + a.name;
        if (fs::is_directory(fs::symlink_status(target, error))) {
          throw DataError(target + ": is a folder, cannot replace it with a file");
        }
      }
    }
  }

  /// Moves the files into the folder (renames only) and prints what was written.
  void publish() {
    if (!exists_) {
      // mkdtemp made it 0700; give DIR the mode a plain mkdir would have.
      const ::mode_t mask = ::umask(0);
      ::umask(mask);
      ::chmod(temp_->path().c_str(), 0777 & ~mask);
      if (::rename(temp_->path().c_str(), dir_.c_str()) != 0) {
        const int e = errno;
        throw DataError(os_error(dir_, "cannot rename '" + temp_->path() + "' to it", e));
      }
      temp_->release();
    } else {
      for (const Array& a : arrays_) {
        const std::string from = temp_->path() + "/" + a.name, target = dir_ + "/" + a.name;
        if (::rename(from.c_str(), target.c_str()) != 0) {
          const int e = errno;
          throw DataError(os_error(target, "cannot move '" + from + "' there", e));
        }
      }
    }
    sync_folder(dir_);

    for (const Array& a : arrays_)
      std::printf("Wrote %s/%s %s\n", dir_.c_str(), a.name.c_str(), shape_text(a.shape).c_str());
    std::printf("Exported %zu layers' parameters%s to %s\n", layers_with_parameters_.size(), what_.c_str(),
                dir_.c_str());
  }

 private:
  std::vector<Array> arrays_;
  std::set<std::size_t> layers_with_parameters_;
  std::string what_;  // " and the standardizer's mean and std", ...
  std::string dir_;
  bool exists_ = false;
  std::unique_ptr<TemporaryFolder> temp_;
};

}  // namespace

int run_export(const ExportOptions& o) {
  if (o.npy_dir.empty() && o.onnx.empty()) {
    throw InvalidArgument("export: nothing to write: give --onnx FILE.onnx, --npy DIR, or both");
  }
  refuse_same_files({{"--onnx", o.onnx}}, {{"--model", o.model}});
  // Reserved first: a missing folder or a folder in the way fails before any work.
  OutputSet outputs;
  OutputSet::Output* onnx_file = o.onnx.empty() ? nullptr : &reserve_output(outputs, o.onnx);

  SavedModel saved = load_model(o.model);
  if (onnx_file != nullptr) onnx_file->write(to_onnx(saved.model, saved.info));
  std::unique_ptr<NpyExport> npy = o.npy_dir.empty() ? nullptr : std::make_unique<NpyExport>(saved, o.npy_dir);

  if (onnx_file != nullptr) {
    outputs.commit();
    std::printf("Wrote %s: ONNX model, input \"input\" float32 [N, %zu] (raw features), output \"output\" float32 "
                "[N, %zu] (%s)\n",
                o.onnx.c_str(), saved.model.input_units(), saved.model.output_units(),
                saved.info.task == "regression" ? "predicted values" : "class probabilities");
  }
  if (npy) npy->publish();
  return exit_ok;
}

}  // namespace xdense::cli
