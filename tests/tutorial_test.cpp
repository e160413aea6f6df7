// End-to-end tests of `xdense tutorial`: the quick run is made once and shared by
// every test (ctest runs each test in its own process, so the run is cached on disk,
// under a lock, and reused while the tool binary is unchanged). The tests check the
// files, the figures, the values against the library and against independent
// formulas, and what the shoot-out must show.

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli_support.hpp"

#include "xdense/activation.hpp"
#include "xdense/random.hpp"
#include "xdense/threads.hpp"

// OpenBLAS's active kernel ("SkylakeX", "Haswell", ...), when OpenBLAS is linked in (weak: null otherwise).
extern "C" char* openblas_get_corename(void) __attribute__((weak));

namespace {

namespace fs = std::filesystem;

const std::string data_dir = XDENSE_DATA_DIR;

using xdense::testing::CommandResult;
using xdense::testing::count_lines;
using xdense::testing::read_file;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Runs `[env] xdense ARGS` with stdout and stderr captured into files under `scratch`.
CommandResult xdense(const std::string& args, const fs::path& scratch, const std::string& env = "") {
  fs::create_directories(scratch);
  const fs::path out = scratch / ".stdout", err = scratch / ".stderr";
  const std::string command = env + " '" XDENSE_CLI "' " + args + " >'" + out.string() + "' 2>'" + err.string() +
                              "' </dev/null";
  const int status = std::system(command.c_str());
  CommandResult run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  run.out = read_file(out);
  run.err = read_file(err);
  fs::remove(out);
  fs::remove(err);
  return run;
}

// Identifies what the run's numbers depend on: the tool binary (a rebuilt tool invalidates the
// cached run), and OpenBLAS's kernel and thread count, which this process shares with the tool it
// starts (same machine, same environment). Each OpenBLAS kernel sums a product in its own order, so a
// run cached under OPENBLAS_CORETYPE=Haswell differs from one under SkylakeX (the "dying" rows of
// shootout.csv): without the kernel in the stamp, SameSeedGivesTheSameShootout... compared the two.
std::string run_stamp() {
  struct stat info {};
  if (::stat(XDENSE_CLI, &info) != 0) return "missing";
  const char* core = openblas_get_corename != nullptr ? openblas_get_corename() : "unknown";
  return std::to_string(info.st_size) + ":" + std::to_string(info.st_mtim.tv_sec) + "." +
         std::to_string(info.st_mtim.tv_nsec) + " blas core " + core + ", " + std::to_string(xdense::num_threads()) +
         " threads";
}

// Splits a CSV line at commas (the tutorial's CSVs quote no field that contains a comma
// except classifiers.csv's dataset, which these tests do not split).
std::vector<std::string> fields(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream s(line);
  std::string f;
  while (std::getline(s, f, ',')) out.push_back(f);
  if (!line.empty() && line.back() == ',') out.push_back("");
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream s(text);
  std::string line;
  while (std::getline(s, line)) lines.push_back(line);
  return lines;
}

// shootout.csv as (experiment, activation, setting, metric) -> value.
using ShootoutTable = std::map<std::vector<std::string>, double>;

ShootoutTable read_shootout(const fs::path& path) {
  ShootoutTable table;
  const auto lines = lines_of(read_file(path));
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const auto f = fields(lines[i]);
    if (f.size() != 5) continue;
    table[{f[0], f[1], f[2], f[3]}] = std::stod(f[4]);
  }
  return table;
}

// Every figure the quick run draws.
std::vector<std::string> expected_figures() {
  std::vector<std::string> names = {"compare_tanh_vs_sigmoid", "compare_sigmoid_vs_relu", "compare_relu_vs_leaky_relu",
                                    "softmax_example",        "curves_binary",           "curves_multiclass",
                                    "boundaries_overview",    "shootout_accuracy",       "shootout_learning_curves",
                                    "vanishing_gradients",    "dying_relu"};
  for (const char* f : {"linear", "binary_step", "sigmoid", "tanh", "relu", "leaky_relu"}) {
    names.push_back(std::string("activation_") + f);
  }
  for (const char* a : {"linear", "binary_step", "binary_step_ste", "sigmoid", "tanh", "relu", "leaky_relu"}) {
    names.push_back(std::string("boundary_") + a);
  }
  return names;
}

class TutorialQuickRun : public ::testing::Test {
 protected:
  // Runs `xdense tutorial --quick` once per tool binary, OpenBLAS kernel and thread count
  // (run_stamp): concurrent test processes wait on a lock, and later ones reuse the finished run.
  static void SetUpTestSuite() {
    // One folder per tool binary, so test runs of different build trees never share a run.
    root_ = fs::path(::testing::TempDir()) /
            ("xdense_tutorial_test_" + std::to_string(std::hash<std::string>{}(XDENSE_CLI)));
    fs::create_directories(root_);
    const int lock = ::open((root_ / ".lock").c_str(), O_CREAT | O_RDWR, 0644);
    ASSERT_GE(lock, 0);
    ::flock(lock, LOCK_EX);
    const fs::path stamp_file = root_ / "complete";
    const std::string stamp = run_stamp();
    if (read_file(stamp_file) != stamp) {
      fs::remove(stamp_file);
      fs::remove_all(out());
      const CommandResult run = xdense("tutorial --quick --out '" + out().string() + "' --data-dir '" + data_dir + "'",
                                       root_);
      std::ofstream(root_ / "exit_code") << run.exit_code;
      std::ofstream(root_ / "stdout") << run.out;
      std::ofstream(root_ / "stderr") << run.err;
      std::ofstream(stamp_file) << stamp;
    }
    ::flock(lock, LOCK_UN);
    ::close(lock);
    run_.exit_code = std::stoi(read_file(root_ / "exit_code"));
    run_.out = read_file(root_ / "stdout");
    run_.err = read_file(root_ / "stderr");
  }

  static fs::path out() { return root_ / "quick"; }
  static fs::path figures() { return out() / "figures"; }

  // A scratch folder of this test's own.
  static fs::path scratch() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const fs::path dir = root_ / (std::string("scratch_") + info->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
  }

  static fs::path root_;
  static CommandResult run_;
};

fs::path TutorialQuickRun::root_;
CommandResult TutorialQuickRun::run_;

TEST_F(TutorialQuickRun, ExitsZeroAndShowsWhichExperimentIsRunning) {
  EXPECT_EQ(run_.exit_code, 0) << run_.err;
  EXPECT_EQ(run_.err, "");
  for (const char* step : {"[1/7] Activation functions", "[2/7] Binary classifier", "[3/7] Multi-class classifier",
                           "[4/7] Shoot-out 1/3", "[5/7] Shoot-out 2/3", "[6/7] Shoot-out 3/3", "[7/7] Drawing"}) {
    EXPECT_TRUE(contains(run_.out, step)) << "missing progress line '" << step << "' in:\n" << run_.out;
  }
  EXPECT_TRUE(contains(run_.out, "REPORT.md"));
}

TEST_F(TutorialQuickRun, WritesEveryFile) {
  for (const char* file : {"activations.csv", "softmax_example.csv", "classifiers.csv", "shootout.csv", "REPORT.md"}) {
    EXPECT_TRUE(fs::is_regular_file(out() / file)) << file;
  }
  for (const std::string& name : expected_figures()) {
    EXPECT_TRUE(fs::is_regular_file(figures() / (name + ".png"))) << name;
    const std::string script = read_file(figures() / (name + ".gp"));
    EXPECT_TRUE(contains(script, "pngcairo size 800,600")) << name;
    EXPECT_TRUE(contains(script, "set title")) << name;
  }
  // Nothing half-written is left behind.
  for (const auto& entry : fs::recursive_directory_iterator(out())) {
    const std::string file = entry.path().filename().string();
    EXPECT_FALSE(contains(file, ".tmp-") || contains(file, ".part") || contains(file, ".log")) << file;
  }
}

TEST_F(TutorialQuickRun, EachPngIsAnImageWithPlottedContent) {
  // An 800x600 pngcairo image with only axes and a title is about 8 KB; a blank one about 3 KB.
  constexpr std::uintmax_t plotted_floor = 15000;
  std::set<std::string> distinct;
  std::size_t pngs = 0;
  for (const auto& entry : fs::directory_iterator(figures())) {
    if (entry.path().extension() != ".png") continue;
    ++pngs;
    const std::string bytes = read_file(entry.path());
    const std::string name = entry.path().filename().string();
    ASSERT_GT(bytes.size(), 24u) << name;
    EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << name;
    EXPECT_EQ(bytes.substr(12, 4), "IHDR") << name;
    auto be32 = [&](std::size_t at) {
      return (static_cast<unsigned>(static_cast<unsigned char>(bytes[at])) << 24) |
             (static_cast<unsigned>(static_cast<unsigned char>(bytes[at + 1])) << 16) |
             (static_cast<unsigned>(static_cast<unsigned char>(bytes[at + 2])) << 8) |
             static_cast<unsigned>(static_cast<unsigned char>(bytes[at + 3]));
    };
    EXPECT_EQ(be32(16), 800u) << name;
    EXPECT_EQ(be32(20), 600u) << name;
    EXPECT_GT(bytes.size(), plotted_floor) << name;
    EXPECT_TRUE(contains(bytes, "IEND")) << name;
    distinct.insert(bytes);
  }
  EXPECT_EQ(pngs, expected_figures().size());
  EXPECT_EQ(distinct.size(), pngs) << "two figures are the same image";
}

// The library's activation layer, forward and backward with dL/dy = 1, on the given inputs.
std::pair<std::vector<float>, std::vector<float>> layer_values(const std::string& spec, const std::vector<float>& x) {
  std::unique_ptr<xdense::Activation> layer = xdense::make_activation(spec);
  xdense::Rng rng;
  layer->build(1, rng);
  layer->reserve(x.size());
  const xdense::ConstMatrixView y = layer->forward({x.data(), x.size(), 1});
  std::vector<float> values(y.data, y.data + y.size());
  const std::vector<float> ones(x.size(), 1.0f);
  const xdense::ConstMatrixView dx = layer->backward({ones.data(), x.size(), 1});
  return {values, std::vector<float>(dx.data, dx.data + dx.size())};
}

// Independent formulas in long double (README's table): value and derivative.
std::pair<long double, long double> formula(const std::string& name, long double x) {
  if (name == "linear") return {x, 1.0L};
  if (name == "binary_step") return {x >= 0 ? 1.0L : 0.0L, 0.0L};
  if (name == "sigmoid") {
    const long double s = 1.0L / (1.0L + std::exp(-x));
    return {s, s * (1.0L - s)};
  }
  if (name == "tanh") {
    const long double t = std::tanh(x);
    return {t, 1.0L - t * t};
  }
  if (name == "relu") return {x > 0 ? x : 0.0L, x > 0 ? 1.0L : 0.0L};
  if (name == "leaky_relu") return {x >= 0 ? x : 0.3L * x, x > 0 ? 1.0L : 0.3L};
  ADD_FAILURE() << "no formula for " << name;
  return {0, 0};
}

TEST_F(TutorialQuickRun, ActivationsCsvAgreesWithTheLayersAndWithFormulas) {
  const auto lines = lines_of(read_file(out() / "activations.csv"));
  ASSERT_EQ(lines.size(), 1002u) << "header + 1001 rows";
  const std::vector<std::string> names = {"linear", "binary_step", "sigmoid", "tanh", "relu", "leaky_relu"};
  std::vector<std::string> header = {"x"};
  for (const auto& n : names) {
    header.push_back(n);
    header.push_back("d_" + n);
  }
  ASSERT_EQ(fields(lines[0]), header);

  std::vector<float> x(1001);
  std::vector<std::vector<float>> csv(names.size() * 2, std::vector<float>(1001));
  for (std::size_t i = 0; i < 1001; ++i) {
    const auto f = fields(lines[i + 1]);
    ASSERT_EQ(f.size(), header.size()) << "row " << i;
    // x_i = i/100 - 5, written with two decimals and exact to float rounding.
    char expected_x[16];
    std::snprintf(expected_x, sizeof expected_x, "%.2f", static_cast<double>(static_cast<long>(i) - 500) / 100.0);
    EXPECT_EQ(f[0], std::string(expected_x) == "-0.00" ? "0.00" : expected_x) << "row " << i;
    x[i] = std::strtof(f[0].c_str(), nullptr);
    for (std::size_t c = 0; c < csv.size(); ++c) csv[c][i] = std::strtof(f[c + 1].c_str(), nullptr);
  }
  for (std::size_t n = 0; n < names.size(); ++n) {
    const auto [values, derivatives] = layer_values(names[n], x);
    for (std::size_t i = 0; i < x.size(); ++i) {
      // The CSV holds the layers' own floats (9 significant digits read back exactly).
      ASSERT_EQ(csv[2 * n][i], values[i]) << names[n] << " at x = " << x[i];
      ASSERT_EQ(csv[2 * n + 1][i], derivatives[i]) << "d_" << names[n] << " at x = " << x[i];
      const auto [f, df] = formula(names[n], static_cast<long double>(x[i]));
      ASSERT_NEAR(static_cast<double>(csv[2 * n][i]), static_cast<double>(f), 1e-6 + 1e-6 * std::fabs(static_cast<double>(f)))
          << names[n] << " at x = " << x[i];
      ASSERT_NEAR(static_cast<double>(csv[2 * n + 1][i]), static_cast<double>(df), 2e-6)
          << "d_" << names[n] << " at x = " << x[i];
    }
  }
}

TEST_F(TutorialQuickRun, SoftmaxExampleSumsToOne) {
  const auto lines = lines_of(read_file(out() / "softmax_example.csv"));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "class,score,probability");
  const long double scores[] = {2.0L, 1.0L, 0.1L};
  long double total = 0;
  for (long double s : scores) total += std::exp(s);
  double sum = 0.0;
  for (std::size_t i = 0; i < 3; ++i) {
    const auto f = fields(lines[i + 1]);
    ASSERT_EQ(f.size(), 3u);
    EXPECT_NEAR(std::stod(f[1]), static_cast<double>(scores[i]), 1e-6);
    EXPECT_NEAR(std::stod(f[2]), static_cast<double>(std::exp(scores[i]) / total), 1e-6);
    sum += std::stod(f[2]);
  }
  EXPECT_NEAR(sum, 1.0, 1e-6);
}

TEST_F(TutorialQuickRun, ClassifiersBeatTheMajorityBaseline) {
  const auto lines = lines_of(read_file(out() / "classifiers.csv"));
  ASSERT_EQ(lines.size(), 3u);
  for (std::size_t i = 1; i < 3; ++i) {
    const auto f = fields(lines[i]);
    const double accuracy = std::stod(f[f.size() - 3]), baseline = std::stod(f.back());
    EXPECT_GT(accuracy, baseline + 0.2) << lines[i];
  }
  EXPECT_EQ(lines[1].rfind("binary,", 0), 0u);
  EXPECT_EQ(lines[2].rfind("multiclass,", 0), 0u);
}

TEST_F(TutorialQuickRun, ShootoutShowsWhatMustHold) {
  const ShootoutTable t = read_shootout(out() / "shootout.csv");
  auto circles = [&](const std::string& activation, const std::string& metric) {
    const auto it = t.find({"circles", activation, "", metric});
    EXPECT_NE(it, t.end()) << activation << " " << metric;
    return it == t.end() ? std::nan("") : it->second;
  };
  // A network with linear hidden layers cannot separate the circles: near chance (0.5).
  EXPECT_LT(circles("linear", "test_accuracy"), 0.65);
  EXPECT_GT(circles("linear", "test_accuracy"), 0.35);
  // Non-linear hidden layers do.
  EXPECT_GT(circles("relu", "test_accuracy"), 0.9);
  EXPECT_GT(circles("tanh", "test_accuracy"), 0.9);
  // A binary step does not learn by plain backprop: near chance, hidden weights never move.
  EXPECT_LT(circles("binary_step", "test_accuracy"), 0.65);
  EXPECT_EQ(circles("binary_step", "hidden_weight_change"), 0.0);
  EXPECT_GT(circles("binary_step(ste)", "hidden_weight_change"), 0.0);
  // The linear stack is one linear map.
  EXPECT_LT(circles("linear", "folded_single_layer_max_logit_difference"), 1e-4);

  // Deep narrow network: a gradient norm for each of the 9 Dense layers, per activation;
  // sigmoid's vanishes towards the input, ReLU's does not.
  auto gradient = [&](const std::string& activation, int layer) {
    const auto it = t.find({"deep", activation, "layer " + std::to_string(layer), "first_epoch_gradient_norm"});
    EXPECT_NE(it, t.end()) << activation << " layer " << layer;
    return it == t.end() ? std::nan("") : it->second;
  };
  for (const char* a : {"linear", "binary_step", "binary_step(ste)", "sigmoid", "tanh", "relu", "leaky_relu"}) {
    for (int layer = 1; layer <= 9; ++layer) EXPECT_GE(gradient(a, layer), 0.0);
  }
  EXPECT_LT(gradient("sigmoid", 1) / gradient("sigmoid", 9), 1e-2);
  EXPECT_GT(gradient("relu", 1) / gradient("relu", 9), 1e-2);
  EXPECT_EQ(gradient("binary_step", 1), 0.0);

  // Dying ReLU: at the largest learning rate many ReLU units output 0 everywhere, no leaky ReLU unit does.
  const auto relu_dead = t.find({"dying", "relu", "lr 1", "zero_output_everywhere_after"});
  const auto leaky_dead = t.find({"dying", "leaky_relu", "lr 1", "zero_output_everywhere_after"});
  ASSERT_NE(relu_dead, t.end());
  ASSERT_NE(leaky_dead, t.end());
  EXPECT_GT(relu_dead->second, 0.0);
  EXPECT_EQ(leaky_dead->second, 0.0);
}

TEST_F(TutorialQuickRun, ReportEmbedsEveryFigureAndJudgesEveryClaim) {
  const std::string report = read_file(out() / "REPORT.md");
  for (const std::string& name : expected_figures()) {
    EXPECT_TRUE(contains(report, "(figures/" + name + ".png)")) << name;
  }
  const std::size_t claims_at = report.find("## 6. The tutorial's claims, tested");
  ASSERT_NE(claims_at, std::string::npos);
  std::size_t verdicts = 0;
  for (const auto& line : lines_of(report.substr(claims_at))) {
    if (line.rfind("**supported.**", 0) == 0 || line.rfind("**nuanced.**", 0) == 0 ||
        line.rfind("**contradicted.**", 0) == 0) {
      ++verdicts;
    }
  }
  EXPECT_EQ(verdicts, 8u);
  EXPECT_FALSE(contains(report, "not tested"));
  // What ShootoutShowsWhatMustHold pins down reads as such in the verdict table.
  auto verdict_row = [&](const std::string& number) {
    for (const auto& line : lines_of(report)) {
      if (line.rfind("| " + number + " | [", 0) == 0) return line;
    }
    return std::string();
  };
  EXPECT_FALSE(contains(verdict_row("1"), "**contradicted**")) << verdict_row("1");
  EXPECT_TRUE(contains(verdict_row("2"), "**supported**")) << verdict_row("2");
}

TEST_F(TutorialQuickRun, SameSeedGivesTheSameShootoutAndAnotherSeedDoesNot) {
  const fs::path dir = scratch();
  const CommandResult again = xdense("tutorial --quick --only shootout --out '" + (dir / "same").string() + "'", dir);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(read_file(dir / "same" / "shootout.csv"), read_file(out() / "shootout.csv"));
  const CommandResult other =
      xdense("tutorial --quick --only shootout --seed 7 --out '" + (dir / "other").string() + "'", dir);
  ASSERT_EQ(other.exit_code, 0) << other.err;
  EXPECT_NE(read_file(dir / "other" / "shootout.csv"), read_file(out() / "shootout.csv"));
}

TEST_F(TutorialQuickRun, WithoutGnuplotEverythingElseIsWrittenAndTheFixIsExplained) {
  const fs::path dir = scratch();
  const CommandResult run = xdense("tutorial --quick --only values --out '" + (dir / "out").string() + "'", dir,
                                   "PATH=/nonexistent");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(contains(run.out, "apt-get install gnuplot-nox")) << run.out;
  EXPECT_TRUE(contains(run.out, "gnuplot \"$script\"")) << run.out;
  EXPECT_TRUE(fs::is_regular_file(dir / "out" / "activations.csv"));
  EXPECT_TRUE(fs::is_regular_file(dir / "out" / "figures" / "activation_sigmoid.gp"));
  EXPECT_TRUE(fs::is_regular_file(dir / "out" / "figures" / "activation_sigmoid.dat"));
  EXPECT_FALSE(fs::exists(dir / "out" / "figures" / "activation_sigmoid.png"));
  EXPECT_TRUE(contains(read_file(dir / "out" / "REPORT.md"), "gnuplot-nox"));
}

TEST_F(TutorialQuickRun, FallsBackToTheShippedCsvsWithoutFashionMnist) {
  const fs::path dir = scratch();
  const CommandResult run = xdense("tutorial --quick --only classifiers --fashion-mnist-dir '" + (dir / "none").string() +
                                       "' --data-dir '" + data_dir + "' --out '" + (dir / "out").string() + "'",
                                   dir);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string csv = read_file(dir / "out" / "classifiers.csv");
  EXPECT_TRUE(contains(csv, "breast cancer")) << csv;
  EXPECT_TRUE(contains(csv, "iris")) << csv;
  const auto lines = lines_of(csv);
  ASSERT_EQ(lines.size(), 3u);
  for (std::size_t i = 1; i < 3; ++i) {
    const auto f = fields(lines[i]);
    EXPECT_GT(std::stod(f[f.size() - 3]), 0.85) << lines[i];
  }
}

TEST_F(TutorialQuickRun, BadArgumentsAreOneLineErrors) {
  const fs::path dir = scratch();
  std::ofstream(dir / "a_file") << "not a folder";
  for (const std::string& args : {"tutorial --quick --out '" + (dir / "a_file").string() + "'",
                                  "tutorial --quick --only nothing --out '" + (dir / "x").string() + "'"}) {
    const CommandResult run = xdense(args, dir);
    EXPECT_EQ(run.exit_code, 2) << args;
    EXPECT_EQ(count_lines(run.err), 1u) << run.err;
    EXPECT_EQ(run.out, "") << args;
  }
}

}  // namespace
