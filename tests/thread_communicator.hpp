#pragma once
// A Communicator whose "processes" are threads of the test: run_ranks(N, body) runs body(communicator)
// on N threads at once, each with its own rank, and returns what each threw. The collectives are
// real (every thread waits for the others, as MPI ranks do), so a test can check the collective logic
// of a library function — that every rank makes the same calls, gets the same result and throws
// alike — without MPI. Sums add the ranks' values in rank order. A collective that not every rank
// reaches within 30 s throws std::runtime_error("... hang") on the waiting ranks instead of waiting
// forever.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "xdense/communicator.hpp"

namespace xdense::testing {

// What the threads of one group share: each collective is an exchange of every rank's values.
class ThreadGroup {
 public:
  explicit ThreadGroup(std::size_t size) : size_(size), slots_(size) {}

  std::size_t size() const { return size_; }

  // Every rank's `values`, in rank order, once every rank has called it.
  std::vector<std::vector<double>> exchange(std::size_t rank, std::vector<double> values) {
    std::unique_lock<std::mutex> lock(mutex_);
    slots_[rank] = std::move(values);
    const std::size_t generation = generation_;
    if (++arrived_ == size_) {
      published_ = slots_;
      arrived_ = 0;
      ++generation_;
      changed_.notify_all();
    } else if (!changed_.wait_for(lock, std::chrono::seconds(30), [&] { return generation_ != generation; })) {
      throw std::runtime_error("rank " + std::to_string(rank) + ": a collective that the other ranks did not reach (a hang)");
    }
    return published_;  // replaced only once every rank, this one too, has reached the next exchange
  }

 private:
  std::size_t size_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t arrived_ = 0;
  std::size_t generation_ = 0;
  std::vector<std::vector<double>> slots_;
  std::vector<std::vector<double>> published_;
};

class ThreadCommunicator final : public Communicator {
 public:
  ThreadCommunicator(ThreadGroup& group, std::size_t rank) : group_(group), rank_(rank) {}

  std::size_t rank() const override { return rank_; }
  std::size_t size() const override { return group_.size(); }
  std::string name() const override { return "test threads"; }

  void allreduce_sum(float* values, std::size_t count) override {
    const auto all = group_.exchange(rank_, std::vector<double>(values, values + count));
    for (std::size_t i = 0; i < count; ++i) {
      float sum = 0.0f;
      for (const auto& rank_values : all) sum += static_cast<float>(rank_values.at(i));
      values[i] = sum;
    }
  }
  void allreduce_sum(double* values, std::size_t count) override {
    const auto all = group_.exchange(rank_, std::vector<double>(values, values + count));
    for (std::size_t i = 0; i < count; ++i) {
      double sum = 0.0;
      for (const auto& rank_values : all) sum += rank_values.at(i);
      values[i] = sum;
    }
  }
  void allreduce_max(double* values, std::size_t count) override {
    const auto all = group_.exchange(rank_, std::vector<double>(values, values + count));
    for (std::size_t i = 0; i < count; ++i) {
      double max = all[0].at(i);
      for (const auto& rank_values : all) max = rank_values.at(i) > max ? rank_values.at(i) : max;
      values[i] = max;
    }
  }
  void broadcast(void* data, std::size_t bytes, std::size_t root) override {
    std::vector<double> mine;
    if (rank_ == root) {
      const auto* p = static_cast<const unsigned char*>(data);
      mine.assign(p, p + bytes);  // one byte a value
    }
    const auto all = group_.exchange(rank_, std::move(mine));
    auto* p = static_cast<unsigned char*>(data);
    for (std::size_t i = 0; i < bytes; ++i) p[i] = static_cast<unsigned char>(all.at(root).at(i));
  }
  std::vector<std::vector<double>> allgather(const std::vector<double>& values) override {
    return group_.exchange(rank_, values);
  }
  void barrier() override { group_.exchange(rank_, {}); }
  [[noreturn]] void abort(int /*code*/) override { std::abort(); }

 private:
  ThreadGroup& group_;
  std::size_t rank_;
};

// Runs body(communicator, rank) on `ranks` threads of one group; what each rank threw (null if nothing).
inline std::vector<std::exception_ptr> run_ranks(std::size_t ranks,
                                                 const std::function<void(Communicator&, std::size_t)>& body) {
  ThreadGroup group(ranks);
  std::vector<std::exception_ptr> errors(ranks);
  std::vector<std::thread> threads;
  for (std::size_t rank = 0; rank < ranks; ++rank) {
    threads.emplace_back([&, rank] {
      ThreadCommunicator communicator(group, rank);
      try {
        body(communicator, rank);
      } catch (...) {
        errors[rank] = std::current_exception();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  return errors;
}

}  // namespace xdense::testing
