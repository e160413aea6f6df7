// data_parallel_bench: data-parallel training's speed (issue 16). Run it alone (one process) or under
// mpirun / srun (one rank per process, FitOptions::communicator = xdense::mpi_world()).
//
//   epoch      the Fashion-MNIST MLP of xdense_bench (784-256-128-10 ReLU, softmax + sparse categorical
//              cross-entropy, Adam, global batch 128) trained by Sequential::fit on the 60,000 training
//              images: wall seconds of one epoch after a warm-up epoch (the slowest rank's)
//   allreduce  Communicator::allreduce_sum of a float buffer the size of fit()'s per-step sum (the
//              model's parameters + 3: loss, correct count, sample count): mean microseconds per call
//              over --allreduce-repeats calls (the slowest rank's)
//
// Each rank reads only its shard_rows() of the training set from the IDX files (load_idx_images_rows;
// --whole-data: every rank loads all of it, as `xdense train` does), fit() trains the rows of each batch it holds, and rss_mb
// is the largest rank's peak memory. Rank 0 prints one line of key=value pairs (benchmarks/data_parallel.sh runs the configurations and tabulates
// them):
//
//   data_parallel ranks=2 threads=1 samples=60000 batch=128 epoch_s=0.52 allreduce_us=310 params=235146
//                 steps=469 loss=0.3712 rss_mb=160 data=fashion read=shard communicator="MPI (Open MPI v4.1.4)"
//
// The threads are OpenBLAS's per process (OPENBLAS_NUM_THREADS, or --threads). A run launched by MPI
// on an xdense built without it stops with an error instead of timing N independent processes.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <xdense/idx.hpp>
#include <xdense/mpi.hpp>
#include <xdense/xdense.hpp>

namespace {

using Clock = std::chrono::steady_clock;

// The group of processes, once made: an error on one rank ends them all (the others would wait for it).
std::shared_ptr<xdense::Communicator> world_for_errors;

struct Options {
  std::string fashion_dir = "/usr/share/datasets/fashion-mnist";
  bool fashion = true;            // false: synthetic data of Fashion-MNIST's shapes
  bool whole_data = false;        // every rank loads all the rows (else its shard_rows())
  std::size_t samples = 0;        // training rows used; 0: all (60,000)
  std::size_t epochs = 1;         // timed epochs, after the warm-up epoch
  std::size_t batch = 128;        // global batch
  std::size_t allreduce_repeats = 200;
  int threads = 0;                // OpenBLAS threads per process; 0: as the environment says
};

const char* usage =
    "usage: data_parallel_bench [--fashion-dir DIR | --no-fashion] [--samples N] [--whole-data] [--epochs N]\n"
    "                           [--batch N] [--allreduce-repeats N] [--threads N]\n"
    "  alone: one process; under mpirun -np N (or srun): N ranks, data-parallel\n";

std::size_t parse_positive(const std::string& option, const std::string& text) {
  char* end = nullptr;
  const long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || value <= 0) {
    throw std::invalid_argument(option + ": expected a positive integer, received '" + text + "'");
  }
  return static_cast<std::size_t>(value);
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(arg + ": expected a value");
      return argv[++i];
    };
    if (arg == "--fashion-dir") {
      o.fashion_dir = value();
    } else if (arg == "--no-fashion") {
      o.fashion = false;
    } else if (arg == "--whole-data") {
      o.whole_data = true;
    } else if (arg == "--samples") {
      o.samples = parse_positive(arg, value());
    } else if (arg == "--epochs") {
      o.epochs = parse_positive(arg, value());
    } else if (arg == "--batch") {
      o.batch = parse_positive(arg, value());
    } else if (arg == "--allreduce-repeats") {
      o.allreduce_repeats = parse_positive(arg, value());
    } else if (arg == "--threads") {
      o.threads = static_cast<int>(parse_positive(arg, value()));
    } else if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      std::exit(0);
    } else {
      throw std::invalid_argument("unknown option '" + arg + "'\n" + usage);
    }
  }
  return o;
}

// ------------------------------------------------------------------ data and model

struct Data {
  std::string name;       // "fashion" or "synthetic"
  std::size_t total = 0;  // rows of the whole training set
  std::size_t first = 0;  // x, y hold rows [first, first + rows of x) of it
  xdense::Matrix x, y;
};

// This rank's rows of Fashion-MNIST's training set (its first --samples rows), or of pixels uniform in
// [0, 1) with random labels when --no-fashion (the same on every rank). A missing data set is an error:
// the figures would not be comparable.
Data load_data(const Options& o, const xdense::Communicator& world) {
  Data d;
  const std::string images = o.fashion_dir + "/train-images-idx3-ubyte.gz";
  const std::string labels = o.fashion_dir + "/train-labels-idx1-ubyte.gz";
  if (o.fashion) {
    if (!std::ifstream(images).good()) {
      throw std::runtime_error(images + ": not found (install dataset-fashion-mnist, pass --fashion-dir, or --no-fashion)");
    }
    d.name = "fashion";
    d.total = xdense::idx_images_shape(images).rows;
  } else {
    d.name = "synthetic";
    d.total = 60000;
  }
  if (o.samples != 0) d.total = std::min(d.total, o.samples);
  const xdense::RowRange rows =
      o.whole_data ? xdense::RowRange{0, d.total} : xdense::shard_rows(d.total, world.rank(), world.size());
  d.first = rows.first;
  if (o.fashion) {
    d.x = xdense::load_idx_images_rows(images, rows);
    d.y = xdense::load_idx_labels_rows(labels, rows);
    return d;
  }
  xdense::Rng rng(7);
  xdense::Matrix x = xdense::Matrix::from_shape({d.total, 784});
  xdense::Matrix y = xdense::Matrix::from_shape({d.total, 1});
  for (float& v : x) v = static_cast<float>(rng.uniform());
  for (float& v : y) v = static_cast<float>(rng.below(10));
  d.x = xdense::to_matrix(xdense::ConstMatrixView(x.data() + rows.first * 784, rows.count, 784));
  d.y = xdense::to_matrix(xdense::ConstMatrixView(y.data() + rows.first, rows.count, 1));
  return d;
}

// xdense_bench's mlp_epoch model.
xdense::Sequential make_mlp() {
  const std::vector<std::size_t> units{784, 256, 128, 10};
  xdense::Sequential model(/*seed=*/1);
  for (std::size_t l = 1; l < units.size(); ++l) {
    model.add(std::make_unique<xdense::Dense>(units[l], l == 1 ? units[0] : 0));
    model.add(l + 1 < units.size() ? "relu" : "softmax");
  }
  model.compile("sparse_categorical_crossentropy", "adam");
  model.build(units[0]);
  return model;
}

double peak_rss_mb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
  }
  return 0.0;
}

// The largest of every rank's value (what the job waits for).
double slowest(xdense::Communicator& world, double value) {
  world.allreduce_max(&value, 1);
  return value;
}

// ------------------------------------------------------------------ measurements

// Seconds of the fastest timed epoch (each epoch: its slowest rank), after one warm-up epoch.
struct EpochResult {
  double seconds = 0.0;
  double loss = 0.0;  // training loss of the last epoch
};

EpochResult time_epochs(xdense::Sequential& model, const Data& data, const Options& o,
                        const std::shared_ptr<xdense::Communicator>& world) {
  xdense::FitOptions fit;
  fit.epochs = 1 + o.epochs;
  fit.batch_size = o.batch;
  fit.seed = 1;
  fit.communicator = world;
  if (data.x.shape(0) != data.total) {  // this rank's rows only
    fit.total_samples = data.total;
    fit.first_sample = data.first;
  }
  const xdense::History history = model.fit(data.x, data.y, fit);
  EpochResult result;
  result.seconds = std::numeric_limits<double>::infinity();
  for (std::size_t e = 1; e < history.epochs.size(); ++e) {
    result.seconds = std::min(result.seconds, slowest(*world, history.epochs[e].seconds));
  }
  result.loss = history.epochs.back().loss;
  return result;
}

// Mean microseconds of one allreduce_sum of `count` floats.
double time_allreduce(xdense::Communicator& world, std::size_t count, std::size_t repeats) {
  std::vector<float> buffer(count, 1.0f / static_cast<float>(world.size()));
  for (int i = 0; i < 10; ++i) world.allreduce_sum(buffer.data(), buffer.size());  // warm-up
  world.barrier();
  const auto start = Clock::now();
  for (std::size_t i = 0; i < repeats; ++i) world.allreduce_sum(buffer.data(), buffer.size());
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return slowest(world, seconds / static_cast<double>(repeats) * 1e6);
}

int run(const Options& o) {
  std::shared_ptr<xdense::Communicator> world;
  if (xdense::launched_by_mpi()) {
    if (!xdense::mpi_available()) {
      throw std::runtime_error(
          "launched by MPI, but this xdense was built without MPI: the ranks would not train together "
          "(install libopenmpi-dev and reconfigure)");
    }
    world = xdense::mpi_world();
  } else {
    world = std::make_shared<xdense::SingleProcessCommunicator>();
  }
  world_for_errors = world;
  if (o.threads != 0) xdense::set_num_threads(o.threads);

  const Data data = load_data(o, *world);
  xdense::Sequential model = make_mlp();
  const std::size_t params = model.parameter_count();
  const std::size_t samples = data.total;

  const EpochResult epoch = time_epochs(model, data, o, world);
  const double allreduce_us = time_allreduce(*world, params + 3, o.allreduce_repeats);
  const double rss_mb = slowest(*world, peak_rss_mb());

  if (world->rank() == 0) {
    std::printf(
        "data_parallel ranks=%zu threads=%d samples=%zu batch=%zu epoch_s=%.4f allreduce_us=%.1f params=%zu "
        "steps=%zu loss=%.4f rss_mb=%.0f data=%s read=%s communicator=\"%s\"\n",
        world->size(), xdense::num_threads(), samples, o.batch, epoch.seconds, allreduce_us, params,
        (samples + o.batch - 1) / o.batch, epoch.loss, rss_mb, data.name.c_str(), o.whole_data ? "whole" : "shard",
        world->name().c_str());
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse_options(argc, argv));
  } catch (const std::exception& e) {
    if (world_for_errors && world_for_errors->size() > 1) {
      std::fprintf(stderr, "data_parallel_bench: rank %zu: %s\n", world_for_errors->rank(), e.what());
      world_for_errors->abort(1);
    }
    std::fprintf(stderr, "data_parallel_bench: %s\n", e.what());
    return 1;
  }
}
