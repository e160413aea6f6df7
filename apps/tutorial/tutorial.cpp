// `xdense tutorial`: reproduces the activation-function tutorial in a folder —
// values and graphs of every function, the softmax example, the two classifiers,
// the activation shoot-out — and writes REPORT.md, which tests the tutorial's
// claims against this run's numbers.

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <set>

#include "blas_threads.hpp"
#include "commands.hpp"
#include "data_files.hpp"
#include "plots.hpp"
#include "model_support.hpp"
#include "tutorial.hpp"
#include "xdense/atomic_file.hpp"
#include "xdense/error.hpp"

namespace xdense::cli {
namespace {

namespace fs = std::filesystem;
using namespace tutorial;

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

const std::vector<std::string> part_names = {"values", "classifiers", "shootout"};

std::set<std::string> parse_parts(const std::string& only) {
  if (only.empty()) return {part_names.begin(), part_names.end()};
  std::set<std::string> parts;
  for (const std::string& part : split_list(only, "--only")) {
    if (std::find(part_names.begin(), part_names.end(), part) == part_names.end()) {
      throw InvalidArgument("tutorial: unknown part '" + part + "' in --only (expected values, classifiers or shootout)");
    }
    parts.insert(part);
  }
  return parts;
}

// The output folder and its figures/ subfolder, created if missing (not their parent).
void prepare_output(const std::string& out_dir, const std::string& figures_dir) {
  std::error_code error;
  if (fs::exists(out_dir, error) && !fs::is_directory(out_dir, error)) {
    throw InvalidArgument("tutorial: --out '" + out_dir + "' is a file; expected a folder (created if missing)");
  }
  // Like every output: the folder itself (and its figures/) is created, its parent must exist.
  check_output_folder(out_dir);
  fs::create_directory(out_dir, error);
  fs::create_directory(figures_dir, error);
  if (error) throw DataError("tutorial: cannot create folder '" + figures_dir + "': " + error.message());
  if (::access(out_dir.c_str(), W_OK) != 0) throw DataError("tutorial: folder '" + out_dir + "' is not writable");
}

void print_gnuplot_help(const std::string& figures_dir) {
  std::printf(
      "\nNote: gnuplot was not found, so the PNG figures were not drawn. Their data and gnuplot\n"
      "scripts are saved in %s. To draw them, install gnuplot and render the scripts:\n"
      "  apt-get install gnuplot-nox\n"
      "  cd '%s' && for script in *.gp; do gnuplot \"$script\"; done\n",
      figures_dir.c_str(), figures_dir.c_str());
}

}  // namespace

namespace tutorial {

ProgressLine::ProgressLine(std::size_t steps, bool interactive) : steps_(steps), interactive_(interactive) {}

void ProgressLine::begin(const std::string& what) {
  ++current_;
  started_ = now_seconds();
  std::printf("[%zu/%zu] %s\n", current_, steps_, what.c_str());
  std::fflush(stdout);
}

void ProgressLine::detail(const std::string& text) {
  if (!interactive_) return;
  std::printf("\r\033[K      %s", text.c_str());
  std::fflush(stdout);
  detail_shown_ = true;
}

void ProgressLine::end(const std::string& outcome) {
  if (detail_shown_) std::printf("\r\033[K");
  detail_shown_ = false;
  std::printf("      %s (%.1fs)\n", outcome.c_str(), now_seconds() - started_);
  std::fflush(stdout);
}

}  // namespace tutorial

int run_tutorial(const TutorialOptions& options) {
  const double start = now_seconds();
  const std::set<std::string> parts = parse_parts(options.only);
  Settings settings;
  settings.out_dir = options.out_dir;
  settings.figures_dir = options.out_dir + "/figures";
  settings.quick = options.quick;
  settings.seed = options.seed;
  settings.data_dir = options.data_dir;
  settings.fashion_dir = options.fashion_dir;
  prepare_output(settings.out_dir, settings.figures_dir);

  // The networks here are small: one BLAS thread is faster than two fighting over tiny products.
  set_blas_threads(1);
  Plotter plotter(settings.figures_dir);
  const std::size_t steps = parts.count("values") + 2 * parts.count("classifiers") + 3 * parts.count("shootout") + 1;
  ProgressLine progress(steps, ::isatty(STDOUT_FILENO) != 0);
  std::printf("xdense tutorial: %s run, seed %llu, writing to %s\n", settings.quick ? "quick" : "full",
              static_cast<unsigned long long>(settings.seed), settings.out_dir.c_str());
  if (!plotter.can_render()) std::printf("gnuplot not found: figures are saved as data + scripts, not drawn\n");

  std::optional<ValuesResult> values;
  std::optional<std::vector<ClassifierResult>> classifiers;
  std::optional<ShootoutResult> shootout;
  if (parts.count("values")) {
    progress.begin("Activation functions: values, derivatives, graphs and the softmax example");
    values = run_values(settings, plotter);
    progress.end("activations.csv (" + std::to_string(values->x.size()) + " rows), softmax_example.csv");
  }
  if (parts.count("classifiers")) classifiers = run_classifiers(settings, plotter, progress);
  if (parts.count("shootout")) shootout = run_shootout(settings, plotter, progress);

  progress.begin(plotter.can_render() ? "Drawing the figures with gnuplot and writing REPORT.md" : "Writing REPORT.md");
  const std::vector<std::string> failures = plotter.finish();
  RunResults results;
  results.settings = settings;
  results.values = values ? &*values : nullptr;
  results.classifiers = classifiers ? &*classifiers : nullptr;
  results.shootout = shootout ? &*shootout : nullptr;
  results.seconds = now_seconds() - start;
  write_file_atomically(settings.out_dir + "/REPORT.md", make_report(results, plotter));
  progress.end(std::to_string(plotter.figures().size()) + " figures" +
               (plotter.can_render() ? ", " + std::to_string(plotter.figures().size() - failures.size()) + " drawn" : ""));

  for (const std::string& failure : failures) std::fprintf(stderr, "xdense: warning: figure not drawn: %s\n", failure.c_str());
  if (!plotter.can_render()) print_gnuplot_help(settings.figures_dir);
  std::printf("Done in %.1fs. Open %s/REPORT.md\n", now_seconds() - start, settings.out_dir.c_str());
  return exit_ok;
}

}  // namespace xdense::cli
