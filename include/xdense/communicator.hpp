#pragma once
/// \file
/// Communicator: what data-parallel training needs from a group of processes that each run the
/// same program (MPI ranks). Sequential::fit() takes one in FitOptions::communicator; every process
/// then trains the same model on its part of each batch, and one sum over the processes per step
/// (allreduce) makes every process take the same update.
///
///   auto world = xdense::mpi_world();          // xdense/mpi.hpp: MPI_COMM_WORLD
///   xdense::FitOptions options;
///   options.communicator = world;              // the same call on every rank
///   model.fit(x, y, options);                  // x, y: the whole data on every rank, or each
///                                              // rank's rows (FitOptions::total_samples)
///
/// The single-process communicator (one process, every collective a no-op) is what a program gets
/// without MPI: fit() with it is fit() without one.

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace xdense {

/// A fixed group of processes. Every collective must be called by every process of the group, in the
/// same order, with the same counts: a process that skips one makes the others wait. Errors of the
/// transport end the program (MPI's default): a collective never returns a partial result.
class Communicator {
 public:
  virtual ~Communicator() = default;

  /// This process's index, 0 .. size() - 1 (0 is the one that writes files and prints).
  virtual std::size_t rank() const = 0;
  /// Number of processes.
  virtual std::size_t size() const = 0;
  /// What it runs on: "single process", "MPI (Open MPI v4.1.4)".
  virtual std::string name() const = 0;

  /// Replaces `values[0 .. count)` with their element-wise sums over every process. Every process
  /// receives the same bits; for a given group size and count the order of the additions is the same
  /// from call to call, so a run is reproducible.
  virtual void allreduce_sum(float* values, std::size_t count) = 0;
  virtual void allreduce_sum(double* values, std::size_t count) = 0;
  /// Element-wise maximum over every process, in place.
  virtual void allreduce_max(double* values, std::size_t count) = 0;
  /// Copies `bytes` bytes at `data` from process `root` to every other process.
  virtual void broadcast(void* data, std::size_t bytes, std::size_t root = 0) = 0;
  /// Every process's `values` (of any length, 0 too), in rank order, on every process.
  virtual std::vector<std::vector<double>> allgather(const std::vector<double>& values) = 0;
  /// Returns once every process has called it.
  virtual void barrier() = 0;
  /// Ends every process of the group with exit status `code` (a process that cannot go on: the others
  /// would wait for it forever). Write the message first. Does not return.
  [[noreturn]] virtual void abort(int code) = 0;
};

/// One process: rank 0 of 1; sums and broadcasts leave the values as they are.
class SingleProcessCommunicator final : public Communicator {
 public:
  std::size_t rank() const override { return 0; }
  std::size_t size() const override { return 1; }
  std::string name() const override { return "single process"; }
  void allreduce_sum(float*, std::size_t) override {}
  void allreduce_sum(double*, std::size_t) override {}
  void allreduce_max(double*, std::size_t) override {}
  void broadcast(void*, std::size_t, std::size_t) override {}
  std::vector<std::vector<double>> allgather(const std::vector<double>& values) override { return {values}; }
  void barrier() override {}
  [[noreturn]] void abort(int code) override;
};

/// Rows [first, first + count) of a data set.
struct RowRange {
  std::size_t first = 0;
  std::size_t count = 0;
};

/// The rows process `rank` of `ranks` owns of `samples` rows: contiguous blocks in rank order, the
/// first samples % ranks blocks one row longer (10 rows, 3 ranks: [0, 4), [4, 7), [7, 10)). What
/// fit() and evaluate() use when every process holds the whole data, and what a reader of a part
/// of a file (load_npy_rows, load_idx_images_rows, load_idx_labels_rows) should load. InvalidArgument when ranks is 0 or rank >= ranks.
RowRange shard_rows(std::size_t samples, std::size_t rank, std::size_t ranks);

/// Copies `text` from `root` to every process (its length first): every process returns root's text.
std::string broadcast_string(Communicator& communicator, const std::string& text, std::size_t root = 0);

}  // namespace xdense
