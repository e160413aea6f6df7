// Peak memory of `xdense train`: the training set is held once, as float32. No second copy of it
// (the training part moves out of the loaded data), and no buffer of all its decompressed bytes
// beside the floats (each inflated chunk is converted into the matrix as it arrives).

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

#include "cli_support.hpp"

namespace xdense::testing {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool sanitized = true;  // ASan's shadow memory and its quarantine of freed blocks are in the peak
#else
constexpr bool sanitized = false;
#endif

class CliMemory : public Cli {
 protected:
  // A gzip IDX file: magic 00 00 08 <dims>, big-endian sizes, then `data`.
  void write_idx_gzip(const std::string& name, const std::vector<std::uint32_t>& dims,
                      const std::vector<unsigned char>& data) const {
    std::vector<unsigned char> header{0, 0, 0x08, static_cast<unsigned char>(dims.size())};
    for (std::uint32_t d : dims) {
      for (int shift = 24; shift >= 0; shift -= 8) header.push_back(static_cast<unsigned char>(d >> shift));
    }
    gzFile out = gzopen(path(name).c_str(), "wb1");
    ASSERT_NE(out, nullptr) << path(name);
    ASSERT_EQ(gzwrite(out, header.data(), static_cast<unsigned>(header.size())), static_cast<int>(header.size()));
    ASSERT_EQ(gzwrite(out, data.data(), static_cast<unsigned>(data.size())), static_cast<int>(data.size()));
    ASSERT_EQ(gzclose(out), Z_OK);
  }

  // Runs the tool in the test's folder (output to files there) and returns its exit status and peak
  // resident set size in KiB (wait4's ru_maxrss: the child's, which also counts this small test
  // process's resident pages at the fork).
  std::pair<int, long> run_measured(const std::vector<std::string>& args) const {
    std::vector<std::string> argv_text{XDENSE_CLI};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : argv_text) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string out = path("out.txt").string(), err = path("err.txt").string(), dir = dir_.string();
    const pid_t pid = fork();
    if (pid == 0) {
      if (chdir(dir.c_str()) != 0 || !std::freopen(out.c_str(), "w", stdout) || !std::freopen(err.c_str(), "w", stderr)) {
        _exit(126);
      }
      execv(XDENSE_CLI, argv.data());
      _exit(127);
    }
    if (pid < 0) return {-1, 0};
    int status = 0;
    struct rusage usage {};
    if (wait4(pid, &status, 0, &usage) != pid) return {-1, 0};
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), usage.ru_maxrss};
  }

  static constexpr std::size_t images = 40000, pixels = 784;

  // 40,000 images of 784 pixels: 31 MB of bytes, 120 MiB as float32.
  void write_images_and_labels() const {
    std::vector<unsigned char> data(images * pixels);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<unsigned char>((i * 2654435761u) >> 24 & 0x3F);
    std::vector<unsigned char> labels(images);
    for (std::size_t i = 0; i < images; ++i) labels[i] = static_cast<unsigned char>(i % 10);
    write_idx_gzip("images.gz", {images, 28, 28}, data);
    write_idx_gzip("labels.gz", {images}, labels);
  }  // (this process's pages are in the child's count: released before the fork)

  // Trains one epoch on the images with `extra` options; expects the peak RSS above the data's
  // floats (they are all resident at once: the measure sees them) and below 1.25 x them.
  void expect_peak_within_bound(const std::vector<std::string>& extra) const {
    std::vector<std::string> args{"train",     "--data",   "images.gz", "--labels",     "labels.gz", "--layers",
                                   "10:softmax", "--loss", "cce",       "--optimizer",  "adam",      "--epochs",
                                   "1",          "--batch-size", "256", "--threads",    "1",         "--output",
                                   "m.xdm",      "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto [status, peak_kib] = run_measured(args);
    ASSERT_EQ(status, 0) << read_file(path("err.txt"));
    const double floats_mib = static_cast<double>(images * pixels * sizeof(float)) / (1 << 20);
    const double peak_mib = static_cast<double>(peak_kib) / 1024.0;
    EXPECT_GT(peak_mib, floats_mib);
    EXPECT_LT(peak_mib, 1.25 * floats_mib) << "peak " << peak_mib << " MiB for " << floats_mib
                                           << " MiB of float32 data";
  }
};

TEST_F(CliMemory, TrainingHoldsTheTrainingSetOnceAsFloats) {
  if (sanitized) GTEST_SKIP() << "sanitizer build: the peak would measure ASan's shadow memory and quarantine";
  write_images_and_labels();
  // Within the bound, 1.25 x (data as float32 + model + buffers): 150 MiB here (133 MiB
  // measured: the floats, then 13 MiB of program, libraries, the model and OpenBLAS's buffer). The
  // whole set's bytes kept while the floats are made (+30 MiB at the load, more with a growing
  // buffer's spare room) or a second copy of the set (+120 MiB: 259 MiB measured before) do not fit.
  expect_peak_within_bound({});
}

TEST_F(CliMemory, ValidationSplitCopiesOnlyTheValidationRows) {
  if (sanitized) GTEST_SKIP() << "sanitizer build: the peak would measure ASan's shadow memory and quarantine";
  write_images_and_labels();
  // A shuffled, stratified split: the rows are reordered in place, the training rows viewed, and
  // only the 10 % held out copied (12 MiB). The training part copied out (+108 MiB: 251 MiB
  // measured before) does not fit.
  expect_peak_within_bound({"--validation-split", "0.1"});
}

}  // namespace
}  // namespace xdense::testing
