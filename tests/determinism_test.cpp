// Same seed, same machine, same thread count: the same bits, under every OpenBLAS kernel the CPU
// can run, and with xdense's own AVX-512 products (XDENSE_KERNELS=avx512) where it has AVX-512. Each kernel (OPENBLAS_CORETYPE=Haswell, Zen, SkylakeX, Cooperlake, or the one OpenBLAS
// picks itself) sums a product in its own order, so two kernels give two results; what must hold
// is that each gives one. Every run is a child process with OPENBLAS_CORETYPE set for that child
// only (the environment's own OPENBLAS_* settings are otherwise left alone), made twice: the second
// time with another heap layout (glibc's mmap threshold raised, so large buffers come from the heap
// at other alignments, and the training data at another offset), so results that depended on where
// a buffer lies would differ. The kernels the CPU lacks, or that OpenBLAS did not run, are listed
// as skipped with the reason.
//
// Children: this program run as `determinism_test --train-child OFFSET` (a small MLP through
// Sequential::fit and predict, printing the kernel and a hash of the weights and predictions), and
// `xdense tutorial --quick --only shootout` (the run whose "dying ReLU" rows were seen to differ).

#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "xdense/dense.hpp"
#include "xdense/random.hpp"
#include "xdense/sequential.hpp"
#include "xdense/threads.hpp"
#include "../src/kernels/product_kernels.hpp"

extern "C" char* openblas_get_corename(void) __attribute__((weak));
extern char** environ;

namespace {

namespace fs = std::filesystem;

std::string active_core() { return openblas_get_corename != nullptr ? openblas_get_corename() : "unknown"; }

// FNV-1a 64 of `bytes`, continuing from `hash`.
std::uint64_t fnv(const void* bytes, std::size_t size, std::uint64_t hash = 1469598103934665603ull) {
  const auto* p = static_cast<const unsigned char*>(bytes);
  for (std::size_t i = 0; i < size; ++i) hash = (hash ^ p[i]) * 1099511628211ull;
  return hash;
}

// The child: a 32-64-32-4 softmax MLP, 3 epochs of 640 rows (batch 32 and a last batch of 0:
// 20 steps; then the validation of 64 rows), one thread. The data sits at `offset` floats past an
// allocation's start. Prints "core NAME" and "bits HASH" (weights, then predictions of all rows).
int train_child(std::size_t offset) {
  xdense::set_num_threads(1);
  const std::size_t rows = 704, features = 32, classes = 4;
  xdense::Rng rng(5);
  std::vector<float> padding(offset + 1, 0.0f);  // shifts later heap blocks too
  xdense::Matrix x = xdense::Matrix::from_shape({rows, features});
  xdense::Matrix y = xdense::Matrix::from_shape({rows, classes});
  std::vector<float> storage(offset + rows * features);
  float* shifted = storage.data() + offset;
  for (std::size_t i = 0; i < rows * features; ++i) shifted[i] = static_cast<float>(rng.uniform(-1.0, 1.0));
  std::copy(shifted, shifted + rows * features, x.data());
  y.fill(0.0f);
  for (std::size_t r = 0; r < rows; ++r) {
    const float score = x(r, 0) * x(r, 1) + x(r, 2) - 0.5f * x(r, 3);
    y(r, score < -0.3f ? 0 : score < 0.0f ? 1 : score < 0.3f ? 2 : 3) = 1.0f;
  }
  xdense::Sequential model(11);
  model.add(std::make_unique<xdense::Dense>(64)).add("relu");
  model.add(std::make_unique<xdense::Dense>(32)).add("tanh");
  model.add(std::make_unique<xdense::Dense>(classes)).add("softmax");
  model.compile("categorical_crossentropy", "adam");
  xdense::FitOptions options;
  options.epochs = 3;
  options.validation_split = 64.0 / rows;
  model.fit(x, y, options);
  std::uint64_t hash = fnv("", 0);
  for (const auto& weights : model.get_weights()) hash = fnv(weights.data(), weights.size() * sizeof(float), hash);
  const xdense::Matrix predicted = model.predict(x, 100);
  hash = fnv(predicted.data(), predicted.size() * sizeof(float), hash);
  std::printf("core %s\nbits %016llx\nlarge products: %s\n", active_core().c_str(), static_cast<unsigned long long>(hash),
              xdense::kernels::large_product_kernels().c_str());
  std::fprintf(stderr, "padding of %zu floats\n", padding.size());
  return 0;
}

// The CPU's feature flags (/proc/cpuinfo); empty when unreadable.
std::set<std::string> cpu_flags() {
  std::ifstream in("/proc/cpuinfo");
  std::set<std::string> flags;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    for (std::string w; words >> w;) flags.insert(w);
    break;
  }
  return flags;
}

// An OPENBLAS_CORETYPE value with the CPU features its kernels use (OpenBLAS 0.3's x86-64 cores
// of this generation: a forced core the CPU lacks dies of an illegal instruction).
struct Core {
  const char* name;
  std::vector<const char*> needs;
};

const std::vector<Core>& named_cores() {
  static const std::vector<Core> cores = {
      {"Haswell", {"avx2", "fma"}},
      {"Zen", {"avx2", "fma"}},
      {"SkylakeX", {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"}},
      {"Cooperlake", {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx512_bf16"}},
  };
  return cores;
}

// A child process started with `args` and extra `env` entries, stdout to `out`; stderr to `err`.
struct Child {
  pid_t pid = -1;
  fs::path out, err;
};

Child start(const std::vector<std::string>& args, const std::vector<std::string>& env, const fs::path& out,
            const fs::path& err) {
  std::vector<std::string> environment;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    bool replaced = false;
    for (const auto& extra : env) replaced |= entry.rfind(extra.substr(0, extra.find('=') + 1), 0) == 0;
    if (!replaced) environment.push_back(entry);
  }
  environment.insert(environment.end(), env.begin(), env.end());
  std::vector<char*> argv, envp;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  for (const auto& e : environment) envp.push_back(const_cast<char*>(e.c_str()));
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::FILE* o = std::freopen(out.c_str(), "w", stdout);
    std::FILE* e = std::freopen(err.c_str(), "w", stderr);
    if (o == nullptr || e == nullptr) ::_exit(126);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  return {pid, out, err};
}

// Waits at most `seconds` for the child, killing it after that: its exit code, or -1.
int finish(const Child& child, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  int status = 0;
  while (::waitpid(child.pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(child.pid, SIGKILL);
      ::waitpid(child.pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The name of the configuration with xdense's own AVX-512 products (not an OpenBLAS core).
constexpr const char* own_avx512 = "XDENSE_KERNELS=avx512";

// The environment's own kernel (no OPENBLAS_CORETYPE change: "" here), then each named core the
// CPU can run and that is not the environment's own, then xdense's AVX-512 products; the others in
// `skipped`, with the reason.
std::vector<std::string> cores_to_test(std::string& skipped) {
  const std::set<std::string> flags = cpu_flags();
  std::vector<std::string> cores{""};
  const std::string own = active_core();
  for (const Core& core : named_cores()) {
    std::string missing;
    for (const char* flag : core.needs) {
      if (flags.count(flag) == 0) missing += std::string(missing.empty() ? "" : ", ") + flag;
    }
    if (flags.empty()) {
      skipped += std::string(core.name) + " (no /proc/cpuinfo to tell what the CPU has); ";
    } else if (!missing.empty()) {
      skipped += std::string(core.name) + " (the CPU lacks " + missing + "); ";
    } else if (strcasecmp(core.name, own.c_str()) == 0) {
      skipped += std::string(core.name) + " (the environment's own kernel, tested as such); ";
    } else {
      cores.push_back(core.name);
    }
  }
  // xdense's own AVX-512 products (XDENSE_KERNELS=avx512) under the environment's OpenBLAS core.
  if (flags.count("avx512f") != 0) {
    cores.push_back(own_avx512);
  } else {
    skipped += std::string(own_avx512) + " (the CPU lacks avx512f); ";
  }
  return cores;
}

// Environment of run `round` (0 or 1) under `core`: the second round with another heap layout.
std::vector<std::string> child_environment(const std::string& core, int round) {
  std::vector<std::string> env;
  if (core == own_avx512) {
    env.push_back(core);
  } else if (!core.empty()) {
    env.push_back("OPENBLAS_CORETYPE=" + core);
  }
  if (round == 1) env.push_back("GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432");
  return env;
}

class Determinism : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) / ("xdense_determinism_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs `args(run folder)` twice under each core (the two runs of a core at once), expecting
  // identical `result(run folder)` and, for the named cores, that OpenBLAS ran that core.
  template <typename Args, typename Result>
  void expect_same_bits_per_core(Args args, Result result, int seconds) {
    std::string skipped;
    const std::vector<std::string> cores = cores_to_test(skipped);
    std::string tested;
    for (const std::string& core : cores) {
      const std::string label = core.empty() ? "environment's own (" + active_core() + ")" : core;
      Child runs[2];
      for (int round = 0; round < 2; ++round) {
        const fs::path run = dir_ / ((core.empty() ? std::string("own") : core) + "_" + std::to_string(round));
        fs::create_directories(run);
        runs[round] = start(args(run, round), child_environment(core, round), run / "stdout", run / "stderr");
      }
      std::string bits[2];
      for (int round = 0; round < 2; ++round) {
        const int code = finish(runs[round], seconds);
        ASSERT_EQ(code, 0) << label << " run " << round << " failed or took over " << seconds
                           << " s: " << read_file(runs[round].err);
        bits[round] = result(runs[round].out.parent_path());
      }
      ASSERT_FALSE(bits[0].empty()) << label;
      EXPECT_EQ(bits[0], bits[1]) << "two runs under the OpenBLAS kernel " << label << " differ";
      tested += label + "; ";
    }
    std::printf("tested kernels: %s\nskipped kernels: %s\n", tested.c_str(), skipped.empty() ? "none" : skipped.c_str());
    ::testing::Test::RecordProperty("skipped_kernels", skipped);
  }

  fs::path dir_;
};

TEST_F(Determinism, SameSeedFitGivesTheSameBitsUnderEveryOpenBlasKernel) {
  std::set<std::string> distinct;
  expect_same_bits_per_core(
      [](const fs::path&, int round) {
        return std::vector<std::string>{"/proc/self/exe", "--train-child", round == 0 ? "0" : "5"};
      },
      [&](const fs::path& run) {
        const std::string out = read_file(run / "stdout");
        distinct.insert(out.substr(out.find("bits ")));
        return out;  // the core the child ran is part of what must agree
      },
      120);
  // The child reports the kernel it ran: a named core OpenBLAS did not run would show here.
  for (const auto& entry : fs::directory_iterator(dir_)) {
    const std::string name = entry.path().filename().string();
    const std::string core = name.substr(0, name.rfind('_'));
    if (core == own_avx512) {
      EXPECT_NE(read_file(entry.path() / "stdout").find("large products: xdense AVX-512"), std::string::npos)
          << "asked for XDENSE_KERNELS=avx512, the child ran: " << read_file(entry.path() / "stdout");
    }
    if (core == "own" || core == own_avx512) continue;
    EXPECT_EQ(read_file(entry.path() / "stdout").rfind("core " + core + "\n", 0), 0u)
        << "asked for OPENBLAS_CORETYPE=" << core << ", OpenBLAS ran: " << read_file(entry.path() / "stdout");
  }
  std::printf("distinct results over the kernels: %zu\n", distinct.size());
}

#ifdef XDENSE_CLI
TEST_F(Determinism, SameSeedTutorialShootoutGivesTheSameBitsUnderEveryOpenBlasKernel) {
  expect_same_bits_per_core(
      [](const fs::path& run, int) {
        return std::vector<std::string>{XDENSE_CLI, "tutorial", "--quick",         "--only",
                                        "shootout", "--threads", "1", "--out", (run / "out").string()};
      },
      [](const fs::path& run) { return read_file(run / "out" / "shootout.csv"); }, 240);
}
#endif

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--train-child") == 0) return train_child(std::strtoul(argv[2], nullptr, 10));
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
