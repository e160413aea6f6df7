// onnx_latency_bench: inference latency of a Fashion-MNIST MLP (784-256-128-10, relu, relu, softmax,
// inputs standardized) in xdense, one thread, and the files to time the same model in ONNX Runtime
// (benchmarks/onnx_latency.js; benchmarks/onnx_latency.sh runs both and prints the table).
//
//   onnx_latency_bench --out DIR [--fashion-dir D] [--no-fashion] [--epochs N] [--repeats N]
//
// Trains the model for --epochs (default 1; latency does not depend on the weights, but a trained
// model is what gets served), then writes into DIR: fashion_mlp.onnx (export_onnx: Sub/Div, Gemm,
// Relu, Gemm, Relu, Gemm, Softmax), x_one.npy (the first test image, raw pixels, 1 x 784),
// x_test.npy (the 10,000 test images, raw) and y_test_xdense.npy (xdense's probabilities on them,
// for the runtime to compare with). Timed, each as the median over --repeats runs after warm-up:
//   single   one raw sample -> standardize -> predict(x, 1): the latency of serving one request
//   batch    10,000 raw samples -> standardize -> predict(x, 10000): one call over the whole set
// Prints "xdense,<workload>,<samples>,<median ms>,<min ms>,<us per sample>" lines.
// Without Fashion-MNIST (or with --no-fashion): 2,000 synthetic training rows and 10,000 test rows.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "xdense/dense.hpp"
#include "xdense/idx.hpp"
#include "xdense/model_file.hpp"
#include "xdense/npy.hpp"
#include "xdense/onnx.hpp"
#include "xdense/preprocessing.hpp"
#include "xdense/random.hpp"
#include "xdense/sequential.hpp"
#include "xdense/threads.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string out;
  std::string fashion_dir = "/usr/share/datasets/fashion-mnist";
  bool fashion = true;
  std::size_t epochs = 1;
  std::size_t repeats = 0;  // 0: 2000 single, 20 batch
};

[[noreturn]] void usage(const std::string& error) {
  std::fprintf(stderr,
               "onnx_latency_bench: %s\nusage: onnx_latency_bench --out DIR [--fashion-dir D] [--no-fashion] "
               "[--epochs N] [--repeats N]\n",
               error.c_str());
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(arg + ": expected a value");
      return argv[++i];
    };
    auto count = [&](const std::string& text) {
      char* end = nullptr;
      const unsigned long long n = std::strtoull(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || n > 1000000) usage(arg + ": expected a count, received '" + text + "'");
      return static_cast<std::size_t>(n);
    };
    if (arg == "--out") {
      o.out = value();
    } else if (arg == "--fashion-dir") {
      o.fashion_dir = value();
    } else if (arg == "--no-fashion") {
      o.fashion = false;
    } else if (arg == "--epochs") {
      o.epochs = count(value());
    } else if (arg == "--repeats") {
      o.repeats = count(value());
      if (o.repeats == 0) usage("--repeats: expected at least 1");
    } else {
      usage("unknown argument '" + arg + "'");
    }
  }
  if (o.out.empty()) usage("--out DIR is required");
  return o;
}

struct Data {
  xdense::Matrix x_train, y_train, x_test;
  std::string name;
};

Data load(const Options& o) {
  Data d;
  const std::string images = o.fashion_dir + "/train-images-idx3-ubyte.gz";
  if (o.fashion && std::ifstream(images).good()) {
    d.name = "fashion-mnist";
    d.x_train = xdense::load_idx_images(images);
    d.y_train = xdense::load_idx_labels(o.fashion_dir + "/train-labels-idx1-ubyte.gz");
    d.x_test = xdense::load_idx_images(o.fashion_dir + "/t10k-images-idx3-ubyte.gz");
    return d;
  }
  d.name = "synthetic";
  xdense::Rng rng(3);
  d.x_train = xdense::Matrix::from_shape({2000, 784});
  d.y_train = xdense::Matrix::from_shape({2000, 1});
  d.x_test = xdense::Matrix::from_shape({10000, 784});
  for (float& v : d.x_train) v = static_cast<float>(255 * rng.uniform());
  for (float& v : d.y_train) v = static_cast<float>(rng.below(10));
  for (float& v : d.x_test) v = static_cast<float>(255 * rng.uniform());
  return d;
}

struct Timing {
  double median_ms, min_ms;
};

template <class F>
Timing time_runs(std::size_t warmup, std::size_t repeats, F&& run) {
  for (std::size_t i = 0; i < warmup; ++i) run();
  std::vector<double> ms;
  for (std::size_t i = 0; i < repeats; ++i) {
    const auto start = Clock::now();
    run();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  const std::size_t n = ms.size();
  return {n % 2 ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]), ms.front()};
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  xdense::set_num_threads(1);
  const Data data = load(o);

  xdense::ModelInfo info;
  info.standardizer.emplace();
  info.standardizer->fit(data.x_train);
  for (int c = 0; c < 10; ++c) info.class_names.push_back(std::to_string(c));
  const std::vector<std::size_t> units{784, 256, 128, 10};
  xdense::Sequential model(/*seed=*/1);
  for (std::size_t l = 1; l < units.size(); ++l) {
    model.add(std::make_unique<xdense::Dense>(units[l], l == 1 ? units[0] : 0));
    model.add(l + 1 < units.size() ? "relu" : "softmax");
  }
  model.compile("sparse_categorical_crossentropy", "adam");
  model.build(units[0]);
  if (o.epochs > 0) {
    xdense::FitOptions fit;
    fit.epochs = o.epochs;
    fit.batch_size = 128;
    model.fit(info.standardizer->transform(data.x_train), data.y_train, fit);
  }

  const xdense::Matrix x_one = xdense::take_rows(data.x_test, {0});
  xdense::export_onnx(o.out + "/fashion_mlp.onnx", model, info);
  xdense::save_npy(o.out + "/x_one.npy", x_one.data(), {1, 784});
  xdense::save_npy(o.out + "/x_test.npy", data.x_test.data(), {data.x_test.shape(0), 784});
  const xdense::Matrix y = model.predict(info.standardizer->transform(data.x_test), data.x_test.shape(0));
  xdense::save_npy(o.out + "/y_test_xdense.npy", y.data(), {y.shape(0), y.shape(1)});

  float sink = 0;
  const Timing single = time_runs(100, o.repeats ? o.repeats : 2000, [&] {
    sink += model.predict(info.standardizer->transform(x_one), 1)(0, 0);
  });
  const std::size_t n = data.x_test.shape(0);
  const Timing batch = time_runs(2, o.repeats ? std::min<std::size_t>(o.repeats, 50) : 20, [&] {
    sink += model.predict(info.standardizer->transform(data.x_test), n)(0, 0);
  });
  std::printf("# data=%s epochs=%zu threads=1 (sink %g)\n", data.name.c_str(), o.epochs, static_cast<double>(sink));
  std::printf("xdense,single,1,%.4f,%.4f,%.2f\n", single.median_ms, single.min_ms, 1000 * single.median_ms);
  std::printf("xdense,batch,%zu,%.4f,%.4f,%.3f\n", n, batch.median_ms, batch.min_ms, 1000 * batch.median_ms / n);
  return 0;
}
