// xdense_bench: the workloads of issue 5, timed on synthetic data of Fashion-MNIST's shapes and,
// when installed, on Fashion-MNIST itself.
//
//   mlp_epoch      784-256-128-10 ReLU, softmax + cross-entropy, Adam, batch 128: seconds per epoch (fit)
//   mlp_bn_epoch   the same MLP with BatchNormalization and Dropout(0.2) after each hidden layer
//                  (Dense, BatchNormalization, ReLU, Dropout): seconds per epoch (workload "mlp_bn")
//   sgemm_bound    the same epoch's sgemm calls alone (same shapes, same flags): the limit for that work,
//                  on the kernels the library's large products use (the header says which: OpenBLAS's
//                  core, or xdense's AVX-512 sgemm under XDENSE_KERNELS, src/kernels/product_kernels.hpp)
//   tiny_step      2-16-1 sigmoid, binary cross-entropy, Adam, batch 32: microseconds per train_step
//   tiny_fit_step  the same net trained by fit() (shuffle, gather, accuracy metric, a callback): microseconds
//                  per step, and its ratio to train_step's in the same run (workload "fit")
//   inference_10k  predict() of 10,000 images with the MLP, one batch
//   latency_N      serving latency: the MLP's predict_into() of N = 1, 4 or 16 rows per call, and
//                  predict_1 for predict() of one row (allocating its result), microseconds per
//                  call, one thread (workload "latency"); the note names the small-row kernel that ran;
//                  read_weights times one read of as many floats as the weights, latency_1's bound
//   train_rss      peak RSS of a fresh process that loads the training set and trains one epoch
//
// Each row: median and min over repeats, samples/s, achieved GFLOP/s (sgemm FLOPs only: 2mnk per
// product), fraction of the sgemm-only bound measured in the same run, process peak RSS so far, and
// the OpenBLAS thread count. --csv prints the rows as CSV for benchmarks/compare.sh; --profile splits
// an MLP training step into its phases with timers.

#include <cblas.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "../src/kernels/product_kernels.hpp"
#include <xdense/idx.hpp>
#include <xdense/xdense.hpp>

#include "kernels/small_gemm.hpp"  // private (src/): which small-row kernel runs, for the report


namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// User + system CPU time of the whole process (all threads), in seconds. On a shared machine the
// wall time includes waiting for a core; the CPU time does not (but counts busy-waiting threads).
double cpu_seconds() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

// ------------------------------------------------------------------ options

struct Options {
  bool quick = false;
  bool fashion = true;
  bool csv = false;
  bool profile = false;
  bool rss_child = false;  // internal: the train_rss workload's fresh process
  std::string fashion_dir = "/usr/share/datasets/fashion-mnist";
  std::vector<int> threads{1, 2};
  std::vector<std::string> workloads{"mlp", "mlp_bn", "tiny", "fit", "inference", "rss", "latency"};
  int repeats = 0;          // 0: 5, or 2 with --quick
  std::size_t samples = 0;  // training samples per epoch; 0: 60,000, or 6,000 with --quick
};

const char* usage =
    "usage: xdense_bench [--quick] [--no-fashion] [--fashion-dir DIR] [--threads 1,2] [--repeats N]\n"
    "                    [--samples N] [--workloads mlp,mlp_bn,tiny,fit,inference,rss,latency] [--profile] [--csv]\n";

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');)
    if (!part.empty()) parts.push_back(part);
  return parts;
}

long parse_positive(const std::string& option, const std::string& text) {
  char* end = nullptr;
  const long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || value <= 0) {
    throw std::invalid_argument(option + ": expected a positive integer, received '" + text + "'");
  }
  return value;
}

Options parse_options(int argc, char** argv) {
  Options o;
  bool no_fashion = false;
  const std::map<std::string, bool*> switches{{"--quick", &o.quick},
                                              {"--no-fashion", &no_fashion},
                                              {"--csv", &o.csv},
                                              {"--profile", &o.profile},
                                              {"--rss-child", &o.rss_child}};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(arg + ": expected a value");
      return argv[++i];
    };
    if (const auto s = switches.find(arg); s != switches.end()) {
      *s->second = true;
    } else if (arg == "--fashion-dir") {
      o.fashion_dir = value();
    } else if (arg == "--repeats") {
      o.repeats = static_cast<int>(parse_positive(arg, value()));
    } else if (arg == "--samples") {
      o.samples = static_cast<std::size_t>(parse_positive(arg, value()));
    } else if (arg == "--workloads") {
      o.workloads = split_commas(value());
    } else if (arg == "--threads") {
      o.threads.clear();
      for (const auto& t : split_commas(value())) o.threads.push_back(static_cast<int>(parse_positive(arg, t)));
    } else if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      std::exit(0);
    } else {
      throw std::invalid_argument("unknown option '" + arg + "'\n" + usage);
    }
  }
  o.fashion = !no_fashion;
  if (o.repeats == 0) o.repeats = o.quick ? 2 : 5;
  if (o.samples == 0) o.samples = o.quick ? 6000 : 60000;
  return o;
}

bool wants(const Options& o, const std::string& workload) {
  return std::find(o.workloads.begin(), o.workloads.end(), workload) != o.workloads.end();
}

// ------------------------------------------------------------------ data

struct Data {
  std::string name;  // "synthetic" or "fashion"
  xdense::Matrix x_train, y_train, x_test, y_test;
};

bool readable(const std::string& path) { return std::ifstream(path).good(); }

std::optional<Data> load_fashion(const Options& o, bool with_test = true) {
  const std::string images = o.fashion_dir + "/train-images-idx3-ubyte.gz";
  if (!o.fashion || !readable(images)) return std::nullopt;
  Data d;
  d.name = "fashion";
  d.x_train = xdense::load_idx_images(images);
  d.y_train = xdense::load_idx_labels(o.fashion_dir + "/train-labels-idx1-ubyte.gz");
  if (with_test) {
    d.x_test = xdense::load_idx_images(o.fashion_dir + "/t10k-images-idx3-ubyte.gz");
    d.y_test = xdense::load_idx_labels(o.fashion_dir + "/t10k-labels-idx1-ubyte.gz");
  }
  return d;
}

void fill_uniform(xdense::Matrix& m, xdense::Rng& rng) {
  for (float& v : m) v = static_cast<float>(rng.uniform());
}

void fill_classes(xdense::Matrix& m, std::uint64_t classes, xdense::Rng& rng) {
  for (float& v : m) v = static_cast<float>(rng.below(classes));
}

// Pixels uniform in [0, 1) and random labels: the shapes (not the content) of Fashion-MNIST.
Data synthetic_fashion(std::size_t train, std::size_t test) {
  xdense::Rng rng(7);
  Data d;
  d.name = "synthetic";
  d.x_train = xdense::Matrix::from_shape({train, 784});
  d.y_train = xdense::Matrix::from_shape({train, 1});
  d.x_test = xdense::Matrix::from_shape({test, 784});
  d.y_test = xdense::Matrix::from_shape({test, 1});
  fill_uniform(d.x_train, rng);
  fill_classes(d.y_train, 10, rng);
  fill_uniform(d.x_test, rng);
  fill_classes(d.y_test, 10, rng);
  return d;
}

// First `rows` rows of a matrix, copied (a smaller epoch for --quick or --samples).
xdense::Matrix first_rows(const xdense::Matrix& m, std::size_t rows) {
  rows = std::min(rows, m.shape(0));
  return xdense::to_matrix(xdense::ConstMatrixView(m.data(), rows, m.shape(1)));
}

// ------------------------------------------------------------------ measurements

struct Stats {
  double median = 0.0;
  double min = 0.0;
};

Stats stats_of(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  const double median = n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
  return {median, values.front()};
}

double peak_rss_mb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
  }
  return 0.0;
}

struct Row {
  std::string workload;
  std::string data;
  int threads = 1;
  std::string unit;  // of median, min and cpu
  Stats time;        // wall time, in `unit`
  double cpu = 0.0;  // mean process CPU time per repetition, in `unit`
  double samples_per_second = 0.0;
  double gflops = 0.0;          // achieved, sgemm FLOPs / median time
  double bound_fraction = 0.0;  // sgemm-only time / median time (1 = at the bound); 0 = not measured
  double rss_mb = 0.0;
  std::string note;
};

// A timed row: `time`, `cpu` and `bound` (the sgemm-only time) are in units of `unit_seconds`;
// one repetition processes `samples` samples with `flops` sgemm FLOPs.
Row timed_row(std::string workload, std::string data, int threads, std::string unit, double unit_seconds, Stats time,
              double cpu, Stats bound, double samples, double flops, std::string note) {
  const double seconds = time.median * unit_seconds;
  return {std::move(workload),
          std::move(data),
          threads,
          std::move(unit),
          time,
          cpu,
          samples / seconds,
          flops / seconds / 1e9,
          bound.median / time.median,
          peak_rss_mb(),
          std::move(note)};
}

void print_rows(const std::vector<Row>& rows, bool csv) {
  if (csv) {
    std::printf("workload,data,threads,unit,median,min,cpu,samples_per_s,gflop_s,bound_fraction,peak_rss_mb,note\n");
    for (const Row& r : rows) {
      std::printf("%s,%s,%d,%s,%.6g,%.6g,%.6g,%.6g,%.4g,%.3f,%.1f,%s\n", r.workload.c_str(), r.data.c_str(), r.threads,
                  r.unit.c_str(), r.time.median, r.time.min, r.cpu, r.samples_per_second, r.gflops, r.bound_fraction,
                  r.rss_mb, r.note.c_str());
    }
    return;
  }
  std::printf("%-14s %-10s %3s %11s %11s %11s %-5s %11s %8s %6s %7s  %s\n", "workload", "data", "thr", "median", "min",
              "cpu", "unit", "samples/s", "GFLOP/s", "bound", "peakMB", "note");
  for (const Row& r : rows) {
    const std::string bound =
        r.bound_fraction > 0 ? std::to_string(static_cast<int>(r.bound_fraction * 100 + 0.5)) + "%" : "-";
    std::printf("%-14s %-10s %3d %11.4g %11.4g %11.4g %-5s %11.4g %8.3g %6s %7.1f  %s\n", r.workload.c_str(),
                r.data.c_str(), r.threads, r.time.median, r.time.min, r.cpu, r.unit.c_str(), r.samples_per_second,
                r.gflops, bound.c_str(), r.rss_mb, r.note.c_str());
  }
}

// ------------------------------------------------------------------ models and their sgemm work

const std::vector<std::size_t> mlp_units{784, 256, 128, 10};
const std::vector<std::size_t> tiny_units{2, 16, 1};

xdense::Sequential make_model(const std::vector<std::size_t>& units, const std::string& hidden,
                              const std::string& output, const std::string& loss) {
  xdense::Sequential model(/*seed=*/1);
  for (std::size_t l = 1; l < units.size(); ++l) {
    model.add(std::make_unique<xdense::Dense>(units[l], l == 1 ? units[0] : 0));
    model.add(l + 1 < units.size() ? hidden : output);
  }
  model.compile(loss, "adam");
  model.build(units[0]);
  return model;
}

xdense::Sequential make_mlp() { return make_model(mlp_units, "relu", "softmax", "sparse_categorical_crossentropy"); }

// The MLP with Dense, BatchNormalization, ReLU, Dropout(0.2) for each hidden layer (the layers made by
// kind and config, as a model file or the CLI makes them).
xdense::Sequential make_mlp_bn() {
  xdense::Sequential model(/*seed=*/1);
  for (std::size_t l = 1; l < mlp_units.size(); ++l) {
    model.add(std::make_unique<xdense::Dense>(mlp_units[l], l == 1 ? mlp_units[0] : 0));
    if (l + 1 == mlp_units.size()) break;
    model.add(xdense::make_layer("BatchNormalization", xdense::Config::object()));
    model.add("relu");
    model.add(xdense::make_layer("Dropout", xdense::Config{{"rate", 0.2}}));
  }
  model.add("softmax");
  model.compile("sparse_categorical_crossentropy", "adam");
  model.build(mlp_units[0]);
  return model;
}
xdense::Sequential make_tiny() { return make_model(tiny_units, "sigmoid", "sigmoid", "binary_crossentropy"); }

// FLOPs of the matrix products of one training step on `rows` samples, as Dense does them:
// forward x.W, dW = x^T.dy, and dx = dy.W^T for every layer but the first.
double train_flops(const std::vector<std::size_t>& units, std::size_t rows) {
  double flops = 0.0;
  for (std::size_t l = 1; l < units.size(); ++l) {
    flops += 2.0 * static_cast<double>(rows * units[l - 1] * units[l]) * (l == 1 ? 2 : 3);
  }
  return flops;
}

double inference_flops(const std::vector<std::size_t>& units, std::size_t rows) {
  double flops = 0.0;
  for (std::size_t l = 1; l < units.size(); ++l) flops += 2.0 * static_cast<double>(rows * units[l - 1] * units[l]);
  return flops;
}

// The sgemm calls of training steps (or forward passes only), on buffers of the model's shapes,
// with the transpose flags Dense uses. Nothing else: the time it takes bounds the real step.
class SgemmWork {
 public:
  SgemmWork(std::vector<std::size_t> units, std::size_t batch) : units_(std::move(units)), batch_(batch) {
    xdense::Rng rng(3);
    for (std::size_t l = 0; l < units_.size(); ++l) {
      activations_.emplace_back(batch * units_[l]);
      gradients_.emplace_back(batch * units_[l]);
      for (float& v : activations_.back()) v = static_cast<float>(rng.uniform());
      for (float& v : gradients_.back()) v = static_cast<float>(rng.uniform(-1e-3, 1e-3));
    }
    for (std::size_t l = 1; l < units_.size(); ++l) {
      kernels_.emplace_back(units_[l - 1] * units_[l]);
      kernel_gradients_.emplace_back(units_[l - 1] * units_[l]);
      for (float& v : kernels_.back()) v = static_cast<float>(rng.uniform(-0.1, 0.1));
    }
  }

  // C (m,n) = op(A) op(B) + beta C, beta 0 or 1, on the kernels the library's large products use
  // (XDENSE_KERNELS, src/kernels/product_kernels.hpp): xdense's AVX-512 sgemm or cblas_sgemm.
  static void sgemm(bool trans_a, bool trans_b, int m, int n, int k, const float* a, const float* b, float beta,
                    float* c) {
    if (xdense::kernels::large_product(trans_a, trans_b, m, n, k, a, b, nullptr, beta == 1.0f, c)) return;
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k,
                1.0f, a, trans_a ? m : k, b, trans_b ? k : n, beta, c, n);
  }

  void step(std::size_t rows, bool backward) {
    const int m = static_cast<int>(rows);
    for (std::size_t l = 1; l < units_.size(); ++l) {  // y = x . W (beta 1: the bias is already in y)
      const int in = static_cast<int>(units_[l - 1]), out = static_cast<int>(units_[l]);
      sgemm(false, false, m, out, in, activations_[l - 1].data(), kernels_[l - 1].data(), 1.0f,
            activations_[l].data());
    }
    if (!backward) return;
    for (std::size_t l = units_.size() - 1; l >= 1; --l) {
      const int in = static_cast<int>(units_[l - 1]), out = static_cast<int>(units_[l]);
      // dW = x^T . dy : (in, rows) . (rows, out)
      sgemm(true, false, in, out, m, activations_[l - 1].data(), gradients_[l].data(), 0.0f,
            kernel_gradients_[l - 1].data());
      // dx = dy . W^T : (rows, out) . (out, in), skipped for the first layer
      if (l > 1) sgemm(false, true, m, in, out, gradients_[l].data(), kernels_[l - 1].data(), 0.0f,
                       gradients_[l - 1].data());
    }
  }

  // One epoch of `samples` samples in batches of batch_ (the last one smaller), in seconds.
  double epoch(std::size_t samples, bool backward) {
    const auto start = Clock::now();
    for (std::size_t first = 0; first < samples; first += batch_) step(std::min(batch_, samples - first), backward);
    return seconds_since(start);
  }

 private:
  std::vector<std::size_t> units_;
  std::size_t batch_;
  std::vector<std::vector<float>> activations_, gradients_, kernels_, kernel_gradients_;
};

// ------------------------------------------------------------------ workloads

constexpr std::size_t mlp_batch = 128;

// `with_bn`: the mlp_bn_epoch workload (make_mlp_bn) instead of mlp_epoch; the same sgemm bound.
std::vector<Row> mlp_epoch(const Data& data, int threads, const Options& o, bool with_bn = false) {
  xdense::set_num_threads(threads);
  const std::size_t samples = data.x_train.shape(0);
  // The bound first, repeated as often as the real epochs.
  SgemmWork work(mlp_units, mlp_batch);
  work.epoch(samples / 4, true);  // warm-up
  std::vector<double> bound_times;
  double cpu = cpu_seconds();
  for (int r = 0; r < o.repeats; ++r) bound_times.push_back(work.epoch(samples, true));
  const double bound_cpu = (cpu_seconds() - cpu) / o.repeats;
  const Stats bound = stats_of(bound_times);

  xdense::Sequential model = with_bn ? make_mlp_bn() : make_mlp();
  xdense::FitOptions fit;
  fit.epochs = static_cast<std::size_t>(o.repeats);
  fit.batch_size = mlp_batch;
  fit.seed = 1;
  cpu = cpu_seconds();
  const xdense::History history = model.fit(data.x_train, data.y_train, fit);
  const double epoch_cpu = (cpu_seconds() - cpu) / o.repeats;
  std::vector<double> epoch_times;
  for (const auto& e : history.epochs) epoch_times.push_back(e.seconds);
  const Stats epoch = stats_of(epoch_times);
  const double flops = train_flops(mlp_units, mlp_batch) * static_cast<double>(samples) / mlp_batch;

  std::string note = std::to_string(samples) + " samples";
  if (data.name == "fashion") {
    const xdense::Evaluation test = model.evaluate(data.x_test, data.y_test, 1000);
    char text[96];
    std::snprintf(text, sizeof text, "; test accuracy %.4f after %d epochs", test.accuracy, o.repeats);
    note += text;
  }
  const double samples_epoch = static_cast<double>(samples);
  return {timed_row("sgemm_bound", data.name, threads, "s", 1.0, bound, bound_cpu, bound, samples_epoch, flops,
                    "the epoch's sgemm calls alone"),
          timed_row(with_bn ? "mlp_bn_epoch" : "mlp_epoch", data.name, threads, "s", 1.0, epoch, epoch_cpu, bound,
                    samples_epoch, flops, note)};
}

std::vector<Row> inference(const Data& data, int threads, const Options& o) {
  xdense::set_num_threads(threads);
  const std::size_t samples = data.x_test.shape(0);
  SgemmWork work(mlp_units, samples);
  work.epoch(samples, false);
  std::vector<double> bound_times, times;
  xdense::Sequential model = make_mlp();
  model.predict(data.x_test, samples);  // warm-up: buffers sized for the whole set
  const int repeats = std::max(o.repeats, 5);
  double cpu = 0.0;
  for (int r = 0; r < repeats; ++r) {
    bound_times.push_back(work.epoch(samples, false));
    const double cpu_start = cpu_seconds();
    const auto start = Clock::now();
    const xdense::Matrix p = model.predict(data.x_test, samples);
    times.push_back(seconds_since(start));
    cpu += (cpu_seconds() - cpu_start) / repeats;
  }
  const Stats t = stats_of(times), bound = stats_of(bound_times);
  const double flops = inference_flops(mlp_units, samples);
  const std::string name = samples == 10000 ? "inference_10k" : "inference";
  return {timed_row(name, data.name, threads, "s", 1.0, t, cpu, bound, static_cast<double>(samples), flops,
                    std::to_string(samples) + " images, one predict() batch")};
}

// Microseconds per call of the MLP's predict on `rows` rows, one thread: predict_into() into a
// buffer (latency_<rows>), and for one row also predict() (predict_1, which allocates its result).
// Sum of `n` floats (a multiple of 64) in four 16-float vector accumulators: a read of the buffer
// at the core's bandwidth (compiled for AVX-512, AVX2 and the baseline; the loader picks one by CPU).
using Floats16 = float __attribute__((vector_size(64)));
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
float read_all(const float* p, std::size_t n) {
  Floats16 acc[4] = {};
  for (std::size_t i = 0; i + 64 <= n; i += 64) {
    for (int k = 0; k < 4; ++k) {
      Floats16 v;
      std::memcpy(&v, p + i + 16 * k, sizeof v);
      acc[k] += v;
    }
  }
  const Floats16 sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
  float total = 0.0f;
  for (int k = 0; k < 16; ++k) total += sum[k];
  return total;
}

std::vector<Row> latency(const Options& o) {
  xdense::set_num_threads(1);
  xdense::Sequential model = make_mlp();
  xdense::Rng rng(4);
  xdense::Matrix x = xdense::Matrix::from_shape({16, mlp_units.front()});
  for (float& v : x) v = static_cast<float>(rng.uniform());
  xdense::Matrix out = xdense::Matrix::from_shape({16, mlp_units.back()});
  const int repeats = std::max(o.repeats, 5);
  const std::string note = std::string("kernel ") + xdense::kernels::isa_name(xdense::kernels::small_gemm_isa()) +
                           ", OpenBLAS core " + openblas_get_corename();
  std::vector<Row> rows;
  // One repetition: `calls` calls of `call`, timed together; Stats over the repetitions.
  auto time_calls = [&](const std::function<void()>& call, int calls) {
    for (int c = 0; c < calls / 4; ++c) call();  // warm-up: buffers sized, weights in cache
    std::vector<double> per_call;
    double cpu = 0.0;
    for (int r = 0; r < repeats; ++r) {
      const double cpu_start = cpu_seconds();
      const auto start = Clock::now();
      for (int c = 0; c < calls; ++c) call();
      per_call.push_back(seconds_since(start) * 1e6 / calls);
      cpu += (cpu_seconds() - cpu_start) * 1e6 / calls / repeats;
    }
    return std::make_pair(stats_of(per_call), cpu);
  };
  const int base_calls = o.quick ? 200 : 2000;
  // The floor of a one-row predict: reading the model's weights once (as many floats, from the
  // caches they sit in after the warm-up), the latency_1 row's bound.
  std::size_t weights = 0;
  for (std::size_t l = 1; l < mlp_units.size(); ++l) weights += (mlp_units[l - 1] + 1) * mlp_units[l];
  const std::size_t read_floats = (weights + 63) / 64 * 64;
  std::vector<float> copy(read_floats, 1.0f);
  volatile float sink = 0.0f;
  const auto [read, read_cpu] = time_calls([&] { sink = sink + read_all(copy.data(), read_floats); }, base_calls);
  (void)read_cpu;
  rows.push_back(timed_row("read_weights", "synthetic", 1, "us", 1e-6, read, read_cpu, read, 1.0,
                           static_cast<double>(weights),
                           "one read of as many floats as the MLP's weights (" +
                               std::to_string(weights * sizeof(float) / 1000) +
                               " kB): latency_1's floor; GFLOP/s column = Gfloat/s"));
  for (std::size_t n : {std::size_t{1}, std::size_t{4}, std::size_t{16}}) {
    const xdense::ConstMatrixView xs(x.data(), n, mlp_units.front());
    const xdense::MatrixView outs{out.data(), n, mlp_units.back()};
    // Library calls: the compiler cannot drop them, results unused or not.
    const auto [t, cpu] = time_calls([&] { model.predict_into(xs, outs, 16); },
                                     static_cast<int>(static_cast<std::size_t>(base_calls) / n));
    rows.push_back(timed_row("latency_" + std::to_string(n), "synthetic", 1, "us", 1e-6, t, cpu, n == 1 ? read : Stats{},
                             static_cast<double>(n), inference_flops(mlp_units, n),
                             "predict_into(), " + std::to_string(n) + " row(s) per call; " + note));
  }
  const xdense::Matrix one = first_rows(x, 1);
  const auto [t, cpu] = time_calls([&] { model.predict(one); }, base_calls);
  rows.push_back(timed_row("predict_1", "synthetic", 1, "us", 1e-6, t, cpu, Stats{}, 1.0,
                           inference_flops(mlp_units, 1), "predict() of one row, result allocated; " + note));
  return rows;
}

std::vector<Row> tiny_step(const Options& o) {
  xdense::set_num_threads(1);
  constexpr std::size_t batch = 32;
  const std::size_t steps = o.quick ? 2000 : 20000;
  xdense::Rng rng(5);
  xdense::Matrix x = xdense::Matrix::from_shape({batch, 2});
  xdense::Matrix y = xdense::Matrix::from_shape({batch, 1});
  for (float& v : x) v = static_cast<float>(rng.normal());
  fill_classes(y, 2, rng);

  SgemmWork work(tiny_units, batch);
  xdense::Sequential model = make_tiny();
  model.reserve(batch);
  for (std::size_t s = 0; s < steps / 4; ++s) {  // warm-up
    model.train_step(xdense::view(x), xdense::view(y));
    work.step(batch, true);
  }
  std::vector<double> times, bound_times;
  const int repeats = std::max(o.repeats, 5);
  double cpu = 0.0;
  for (int r = 0; r < repeats; ++r) {
    const double cpu_start = cpu_seconds();
    auto start = Clock::now();
    for (std::size_t s = 0; s < steps; ++s) model.train_step(xdense::view(x), xdense::view(y));
    times.push_back(seconds_since(start) / static_cast<double>(steps) * 1e6);
    cpu += (cpu_seconds() - cpu_start) / static_cast<double>(steps) * 1e6 / repeats;
    start = Clock::now();
    for (std::size_t s = 0; s < steps; ++s) work.step(batch, true);
    bound_times.push_back(seconds_since(start) / static_cast<double>(steps) * 1e6);
  }
  const Stats t = stats_of(times), bound = stats_of(bound_times);
  const double flops = train_flops(tiny_units, batch);
  char note[96];
  std::snprintf(note, sizeof note, "train_step on one batch of %zu; sgemm calls alone %.3g us", batch, bound.median);
  return {timed_row("tiny_step", "synthetic", 1, "us", 1e-6, t, cpu, bound, batch, flops, note)};
}

// fit()'s cost per step beside train_step's, on the tiny net: rounds alternate one fit() epoch of
// `steps` batches (shuffled, rows gathered, accuracy, one callback) and `steps` train_step calls on
// one fixed batch, so both see the same machine load. The row's bound is train_step's time: its
// "bound" column is train_step / fit, the note the overhead ratio fit / train_step.
std::vector<Row> tiny_fit_step(const Options& o) {
  xdense::set_num_threads(1);
  constexpr std::size_t batch = 32;
  const std::size_t steps = o.quick ? 2000 : 20000;
  xdense::Rng rng(5);
  xdense::Matrix x = xdense::Matrix::from_shape({batch * steps, 2});
  xdense::Matrix y = xdense::Matrix::from_shape({batch * steps, 1});
  for (float& v : x) v = static_cast<float>(rng.normal());
  fill_classes(y, 2, rng);
  const xdense::ConstMatrixView xb{x.data(), batch, 2}, yb{y.data(), batch, 1};

  xdense::Sequential fitted = make_tiny(), stepped = make_tiny();
  fitted.compile("binary_crossentropy", "adam", {"accuracy"});
  // A callback that does nothing: fit()'s cost of calling one on every batch.
  struct Idle : xdense::Callback {
    std::string name() const override { return "Idle"; }
  };
  xdense::FitOptions fit;
  fit.batch_size = batch;
  fit.callbacks.push_back(std::make_shared<Idle>());
  stepped.reserve(batch);
  fitted.fit(x, y, fit);  // warm-up
  for (std::size_t s = 0; s < steps; ++s) stepped.train_step(xb, yb);
  std::vector<double> fit_times, step_times;
  const int repeats = std::max(o.repeats, 5);
  double cpu = 0.0;
  for (int r = 0; r < repeats; ++r) {
    const double cpu_start = cpu_seconds();
    auto start = Clock::now();
    fitted.fit(x, y, fit);
    fit_times.push_back(seconds_since(start) / static_cast<double>(steps) * 1e6);
    cpu += (cpu_seconds() - cpu_start) / static_cast<double>(steps) * 1e6 / repeats;
    start = Clock::now();
    for (std::size_t s = 0; s < steps; ++s) stepped.train_step(xb, yb);
    step_times.push_back(seconds_since(start) / static_cast<double>(steps) * 1e6);
  }
  const Stats t = stats_of(fit_times), bound = stats_of(step_times);
  char note[128];
  std::snprintf(note, sizeof note, "fit() per step / train_step per step (%.3g us) = %.3f", bound.median,
                t.median / bound.median);
  return {timed_row("tiny_fit_step", "synthetic", 1, "us", 1e-6, t, cpu, bound, batch,
                    train_flops(tiny_units, batch), note)};
}

// Runs this program again as a fresh process training one epoch; the child reports its own peak RSS
// (VmHWM of its new address space) on a pipe. Not wait4()'s ru_maxrss: that keeps the high-water mark
// from before exec(), i.e. this parent's, data sets included.
std::vector<Row> train_rss(const Options& o, const std::string& data_name) {
  std::vector<std::string> args{"/proc/self/exe", "--rss-child", "--samples", std::to_string(o.samples)};
  if (data_name == "fashion") {
    args.insert(args.end(), {"--fashion-dir", o.fashion_dir});
  } else {
    args.push_back("--no-fashion");
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  int report[2];
  if (pipe(report) != 0) throw std::runtime_error("train_rss: pipe failed");
  const auto start = Clock::now();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("train_rss: fork failed");
  if (pid == 0) {
    dup2(report[1], STDOUT_FILENO);
    close(report[0]);
    close(report[1]);
    execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  close(report[1]);
  char text[64] = {};
  const ssize_t length = read(report[0], text, sizeof text - 1);
  close(report[0]);
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || length <= 0) {
    throw std::runtime_error("train_rss: the child process failed");
  }
  const double seconds = seconds_since(start);
  const double rss = std::strtod(text, nullptr);
  const double dataset_mb = static_cast<double>(o.samples) * 785 * sizeof(float) / (1024.0 * 1024.0);
  char note[128];
  std::snprintf(note, sizeof note, "fresh process: load + 1 epoch at 1 thread; float32 training set %.0f MB",
                dataset_mb);
  return {{"train_rss", data_name, 1, "MB", {rss, rss}, 0.0, o.samples / seconds, 0.0, 0.0, rss, note}};
}

// The child of train_rss: load (or make) the training set, train one epoch, exit.
int rss_child(const Options& o) {
  xdense::set_num_threads(1);
  std::optional<Data> data = load_fashion(o, /*with_test=*/false);
  xdense::Matrix x, y;
  if (data) {
    x = std::move(data->x_train);
    y = std::move(data->y_train);
    if (o.samples < x.shape(0)) {
      x = first_rows(x, o.samples);
      y = first_rows(y, o.samples);
    }
  } else {
    Data synthetic = synthetic_fashion(o.samples, 0);
    x = std::move(synthetic.x_train);
    y = std::move(synthetic.y_train);
  }
  xdense::Sequential model = make_mlp();
  xdense::FitOptions fit;
  fit.batch_size = mlp_batch;
  model.fit(x, y, fit);
  std::printf("%.1f\n", peak_rss_mb());
  return 0;
}

// ------------------------------------------------------------------ profile of a training step

// Replays Sequential::train_step through the public Layer API with a timer around each phase.
void profile_mlp(const Data& data, int threads, const Options& o) {
  xdense::set_num_threads(threads);
  xdense::Sequential model = make_mlp();
  model.reserve(mlp_batch);
  xdense::CategoricalCrossEntropy loss(/*sparse_only=*/true);
  xdense::Adam adam;
  const std::vector<xdense::Parameter>& parameters = model.parameters();
  const std::size_t layers = model.layer_count();
  const std::size_t samples = data.x_train.shape(0), features = data.x_train.shape(1);

  std::vector<std::string> names{"shuffle + gather batch"};
  for (std::size_t i = 0; i < layers; ++i) names.push_back("forward  " + model.layer_name(i));
  names.push_back("loss value (from logits)");
  names.push_back("loss gradient (from logits)");
  for (std::size_t i = layers - 1; i-- > 0;) names.push_back("backward " + model.layer_name(i));
  names.push_back("Adam step");
  std::vector<double> seconds(names.size(), 0.0);

  std::vector<float> xb(mlp_batch * features), yb(mlp_batch), gradient(mlp_batch * 10);
  std::vector<std::size_t> order(samples);
  std::iota(order.begin(), order.end(), std::size_t{0});
  xdense::Rng rng(1);
  const int epochs = std::max(1, o.repeats / 2);
  double total = 0.0;
  for (int e = 0; e < epochs; ++e) {
    const auto epoch_start = Clock::now();
    auto t = Clock::now();
    rng.shuffle(order);
    seconds[0] += seconds_since(t);
    for (std::size_t first = 0; first < samples; first += mlp_batch) {
      const std::size_t rows = std::min(mlp_batch, samples - first);
      std::size_t phase = 0;
      auto lap = [&]() {
        const auto now = Clock::now();
        seconds[phase++] += std::chrono::duration<double>(now - t).count();
        t = now;
      };
      t = Clock::now();
      for (std::size_t r = 0; r < rows; ++r) {
        std::memcpy(xb.data() + r * features, data.x_train.data() + order[first + r] * features,
                    features * sizeof(float));
        yb[r] = data.y_train(order[first + r], 0);
      }
      lap();
      xdense::ConstMatrixView a(xb.data(), rows, features);
      for (std::size_t i = 0; i < layers; ++i) {
        a = model.layer(i).forward(a);
        lap();
      }
      const auto& output = dynamic_cast<const xdense::Activation&>(model.layer(layers - 1));
      const xdense::ConstMatrixView logits = output.last_input(), targets(yb.data(), rows, 1);
      loss.value_from_logits(logits, targets);
      lap();
      loss.gradient_from_logits(logits, targets, xdense::MatrixView{gradient.data(), rows, 10});
      lap();
      xdense::ConstMatrixView g(gradient.data(), rows, 10);
      for (std::size_t i = layers - 1; i-- > 0;) {
        g = model.layer(i).backward(g, i > 0);
        lap();
      }
      adam.step(parameters);
      lap();
    }
    total += seconds_since(epoch_start);
  }
  SgemmWork work(mlp_units, mlp_batch);
  work.epoch(samples / 4, true);
  double sgemm = 0.0;
  for (int e = 0; e < epochs; ++e) sgemm += work.epoch(samples, true);

  std::printf("\nprofile: MLP training step phases, %s data, %d thread(s), %d epoch(s) of %zu samples, per epoch\n",
              data.name.c_str(), threads, epochs, samples);
  std::printf("  %-30s %10s %7s\n", "phase", "ms/epoch", "share");
  for (std::size_t i = 0; i < names.size(); ++i) {
    std::printf("  %-30s %10.1f %6.1f%%\n", names[i].c_str(), seconds[i] / epochs * 1e3, 100.0 * seconds[i] / total);
  }
  std::printf("  %-30s %10.1f %6.1f%%\n", "total (timed phases + timers)", total / epochs * 1e3, 100.0);
  std::printf("  %-30s %10.1f %6.1f%%  (the same sgemm calls alone, measured after)\n", "of which sgemm (bound)",
              sgemm / epochs * 1e3, 100.0 * sgemm / total);
  std::printf("  %-30s %10.1f %6.1f%%\n", "everything but sgemm", (total - sgemm) / epochs * 1e3,
              100.0 * (total - sgemm) / total);
}

// ------------------------------------------------------------------ main

// Synthetic data always; Fashion-MNIST too when installed (its first o.samples training rows).
std::vector<Data> data_sets(const Options& o) {
  std::vector<Data> sets;
  sets.push_back(synthetic_fashion(o.samples, o.quick ? 1000 : 10000));
  if (std::optional<Data> fashion = load_fashion(o)) {
    if (o.samples < fashion->x_train.shape(0)) {
      fashion->x_train = first_rows(fashion->x_train, o.samples);
      fashion->y_train = first_rows(fashion->y_train, o.samples);
    }
    sets.push_back(std::move(*fashion));
  } else if (!o.csv) {
    std::printf("Fashion-MNIST: not used (%s; install dataset-fashion-mnist or pass --fashion-dir)\n",
                o.fashion ? ("not found in " + o.fashion_dir).c_str() : "--no-fashion");
  }
  return sets;
}

int run(const Options& o) {
  if (o.rss_child) return rss_child(o);

  // The data sets are made or loaded only for the workloads that read them in this process.
  const bool need_data = wants(o, "mlp") || wants(o, "mlp_bn") || wants(o, "inference") || o.profile;
  const std::vector<Data> sets = need_data ? data_sets(o) : std::vector<Data>{};
  if (!o.csv) {
    std::printf("xdense_bench: OpenBLAS %s, core %s; %u hardware threads; %d repeats%s\n", openblas_get_config(),
                openblas_get_corename(), std::max(1u, std::thread::hardware_concurrency()), o.repeats,
                o.quick ? " (quick)" : "");
    for (int threads : o.threads) {
      xdense::set_num_threads(threads);
      std::printf("xdense_bench: large products at %d thread%s: %s (XDENSE_KERNELS=openblas|auto|avx512)\n", threads,
                  threads == 1 ? "" : "s", xdense::kernels::large_product_kernels().c_str());
    }
  }
  std::vector<Row> rows;
  auto add = [&](std::vector<Row> more) { rows.insert(rows.end(), more.begin(), more.end()); };
  for (const Data& data : sets) {
    for (int threads : o.threads) {
      if (wants(o, "mlp")) add(mlp_epoch(data, threads, o));
      if (wants(o, "mlp_bn")) add(mlp_epoch(data, threads, o, /*with_bn=*/true));
      if (wants(o, "inference")) add(inference(data, threads, o));
    }
  }
  if (wants(o, "tiny")) add(tiny_step(o));
  if (wants(o, "fit")) add(tiny_fit_step(o));
  if (wants(o, "latency")) add(latency(o));
  const bool fashion_installed = o.fashion && readable(o.fashion_dir + "/train-images-idx3-ubyte.gz");
  if (wants(o, "rss")) add(train_rss(o, fashion_installed ? "fashion" : "synthetic"));
  print_rows(rows, o.csv);
  if (o.profile) {
    for (int threads : o.threads) profile_mlp(sets.back(), threads, o);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse_options(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "xdense_bench: %s\n", e.what());
    return 1;
  }
}
