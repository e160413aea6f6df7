// `mpirun -np N xdense train ...`: data-parallel training by the command-line tool (issue 16). Each test
// runs the built tool under mpirun (XDENSE_MPIEXEC: tests/mpi/mpi_test.cmake's prefix, ending in the
// process-count flag) and reads the files it writes. Skipped when xdense was built without MPI or no
// mpiexec was found. Every mpirun is bounded by timeout(1).

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "cli_support.hpp"
#include "xdense/checkpoint.hpp"
#include "xdense/model_file.hpp"
#include "xdense/mpi.hpp"
#include "xdense/npy.hpp"

namespace fs = std::filesystem;

namespace xdense::testing {
namespace {

#ifdef XDENSE_MPIEXEC
constexpr bool mpi_tests = true;
constexpr const char* mpiexec = XDENSE_MPIEXEC;
constexpr const char* mpi_environment = XDENSE_MPI_ENV;
#else
constexpr bool mpi_tests = false;
constexpr const char* mpiexec = "";
constexpr const char* mpi_environment = "";
#endif

const std::string data_dir = XDENSE_DATA_DIR;
const std::string tool = XDENSE_CLI;

// Largest |a - b| / max(1, |a|) over every weight of two model files of the same architecture.
double weight_difference(const fs::path& a, const fs::path& b) {
  SavedModel x = load_model(a.string()), y = load_model(b.string());
  const auto& p = x.model.parameters();
  const auto& q = y.model.parameters();
  EXPECT_EQ(p.size(), q.size());
  double worst = 0.0;
  for (std::size_t i = 0; i < std::min(p.size(), q.size()); ++i) {
    EXPECT_EQ(p[i].size, q[i].size);
    for (std::size_t j = 0; j < std::min(p[i].size, q[i].size); ++j) {
      const double u = p[i].value[j], v = q[i].value[j];
      worst = std::max(worst, std::abs(u - v) / std::max(1.0, std::abs(u)));
    }
  }
  return worst;
}

std::size_t occurrences(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// The names in a folder, sorted ("" entries for none).
std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// The process of this tool whose environment says it is MPI rank `rank` and whose command line holds
// `marker` (the test's folder): 0 when none.
pid_t find_rank_process(int rank, const std::string& marker) {
  const std::string wanted = "OMPI_COMM_WORLD_RANK=" + std::to_string(rank);
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = read_file(entry.path() / "cmdline"), environ = read_file(entry.path() / "environ");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.rfind(tool + " train", 0) != 0 || cmdline.find(marker) == std::string::npos) continue;
    std::size_t at = 0;
    for (std::size_t end; (end = environ.find('\0', at)) != std::string::npos; at = end + 1) {
      if (environ.compare(at, end - at, wanted) == 0) return static_cast<pid_t>(std::stol(name));
    }
  }
  return 0;
}

class DataParallelCli : public Cli {
 protected:
  void SetUp() override {
    if (!mpi_tests) GTEST_SKIP() << "xdense was built without MPI, or no mpiexec was found: no mpirun test";
    Cli::SetUp();
  }

  // `mpiexec <flags> -n ranks <extra> xdense ARGS` in the test's folder, at most 120 s. The created
  // time of the model files is fixed (SOURCE_DATE_EPOCH) so that two runs can be compared byte by byte.
  std::string mpirun_line(int ranks, const std::string& args, const std::string& extra = "") const {
    return std::string("env SOURCE_DATE_EPOCH=1700000000 ") + mpi_environment + " timeout -k 10 120 " + mpiexec + " " +
           std::to_string(ranks) + " " + extra + " '" + tool + "' " + args;
  }
  CommandResult mpirun(int ranks, const std::string& args, const std::string& extra = "") const {
    return xdense_in_shell(mpirun_line(ranks, args, extra));
  }
  // Starts `line` in the test's folder without waiting: run.out, run.err, and run.rc (its exit status) once it ends.
  void start(const std::string& line) const {
    const std::string command = "cd '" + dir_.string() + "' && (" + line + " >run.out 2>run.err </dev/null; echo $? >run.rc) &";
    ASSERT_EQ(std::system(command.c_str()), 0);
  }
  // Waits at most 60 s for the run start() began to end: its exit status, or -1.
  int wait_for_end() const {
    for (int i = 0; i < 1200 && !fs::exists(path("run.rc")); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // run.rc written
    const std::string rc = read_file(path("run.rc"));
    return rc.empty() ? -1 : std::stoi(rc);
  }
  // Waits at most 60 s for `file` to exist.
  bool wait_for(const fs::path& file) const {
    for (int i = 0; i < 1200 && !fs::exists(file); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return fs::exists(file);
  }
  CommandResult single(const std::string& args) const { return xdense_in_shell("env SOURCE_DATE_EPOCH=1700000000 '" + tool + "' " + args); }

  static std::string iris(const std::string& output, const std::string& extra = "", int epochs = 6) {
    return "train --data " + data_dir + "/iris.csv --layers 16:relu,3:softmax --loss sparse_categorical_crossentropy "
           "--optimizer adam --batch-size 16 --standardize --validation-split 0.2 --threads 1 --epochs " +
           std::to_string(epochs) + " --output " + output + " " + extra;
  }
  std::string cancer(const std::string& output, long epochs, const std::string& extra = "") const {
    return "train --data " + data_dir + "/breast_cancer.csv --label-column benign --layers 16:relu,1:sigmoid "
           "--loss binary_crossentropy --optimizer adam --batch-size 8 --standardize --threads 1 --epochs " +
           std::to_string(epochs) + " --output " + path(output).string() + " " + extra;
  }
};

// The tolerance of "the same model to float rounding": the gradients of N processes are summed in
// another order than one process's. Measured (relative to the weight when above 1 in magnitude,
// absolute below): iris, 6 epochs of Adam, 1 vs 2 and 1 vs 3 processes 2.98e-08; 101 rows of
// breast_cancer, 4 epochs of SGD, 1 vs 3 processes 5.96e-08: the last bits of a float.
constexpr double same_model_tolerance = 1e-6;

TEST_F(DataParallelCli, OneTwoAndThreeProcessesTrainTheSameModel) {
  const CommandResult one = single(iris("one.xdm", "--test " + data_dir + "/iris.csv"));
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const CommandResult two = mpirun(2, iris("two.xdm", "--test " + data_dir + "/iris.csv"));
  ASSERT_EQ(two.exit_code, 0) << two.err;
  const CommandResult three = mpirun(3, iris("three.xdm", "--test " + data_dir + "/iris.csv"));
  ASSERT_EQ(three.exit_code, 0) << three.err;
  const double d2 = weight_difference(path("one.xdm"), path("two.xdm"));
  const double d3 = weight_difference(path("one.xdm"), path("three.xdm"));
  std::printf("largest relative weight difference: 1 vs 2 processes %.3g, 1 vs 3 processes %.3g\n", d2, d3);
  EXPECT_LE(d2, same_model_tolerance);
  EXPECT_LE(d3, same_model_tolerance);
  // Said once, by rank 0; one process says nothing of it.
  EXPECT_EQ(occurrences(two.out, "data-parallel on 2 processes (MPI"), 1u) << two.out;
  EXPECT_EQ(occurrences(three.out, "data-parallel on 3 processes (MPI"), 1u) << three.out;
  EXPECT_EQ(one.out.find("data-parallel"), std::string::npos);
  // mpirun with one process: as without mpirun, byte for byte, and nothing said of it.
  const CommandResult alone = mpirun(1, iris("alone.xdm", "--test " + data_dir + "/iris.csv"));
  ASSERT_EQ(alone.exit_code, 0) << alone.err;
  EXPECT_EQ(alone.out.find("data-parallel"), std::string::npos);
  EXPECT_EQ(read_file(path("alone.xdm")), read_file(path("one.xdm")));
  EXPECT_EQ(occurrences(three.out, "Saved model to"), 1u);
  // The --test evaluation, split over the processes and combined: the same numbers.
  const auto test_line = [](const std::string& out) { return out.substr(out.find("Test: ")).substr(0, out.substr(out.find("Test: ")).find('\n')); };
  ASSERT_NE(two.out.find("Test: "), std::string::npos) << two.out;
  EXPECT_EQ(test_line(two.out), test_line(one.out));
  EXPECT_EQ(test_line(three.out), test_line(one.out));
}

TEST_F(DataParallelCli, UnevenShardsTrainTheSameModel) {
  // 101 rows, batches of 10 on 3 processes: shards of 4, 3, 3 rows and a last batch of 1.
  std::ifstream in(data_dir + "/breast_cancer.csv");
  std::ofstream out(path("part.csv"));
  std::string line;
  for (int i = 0; i <= 101 && std::getline(in, line); ++i) out << line << "\n";
  out.close();
  const std::string args = "train --data part.csv --label-column benign --layers 8:relu,1:sigmoid --loss binary_crossentropy "
                           "--optimizer sgd --lr 0.05 --epochs 4 --batch-size 10 --standardize --class-weight balanced "
                           "--threads 1 --output ";
  ASSERT_EQ(single(args + "one.xdm").exit_code, 0);
  const CommandResult three = mpirun(3, args + "three.xdm");
  ASSERT_EQ(three.exit_code, 0) << three.err;
  const double d = weight_difference(path("one.xdm"), path("three.xdm"));
  std::printf("101 rows, batch 10: largest relative weight difference, 1 vs 3 processes %.3g\n", d);
  EXPECT_LE(d, same_model_tolerance);
}

TEST_F(DataParallelCli, SameProcessesAndSeedGiveIdenticalFilesAlsoOverTcp) {
  const CommandResult a = mpirun(2, iris("a.xdm", "--history a.csv"));
  ASSERT_EQ(a.exit_code, 0) << a.err;
  // The multi-node path on one machine: TCP on loopback instead of shared memory.
  const CommandResult b = mpirun(2, iris("b.xdm"), "--mca btl tcp,self");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(read_file(path("a.xdm")), read_file(path("b.xdm")));
  EXPECT_FALSE(read_file(path("a.csv")).empty());
}

// NPY features and labels: each process reads only its share (by offset). 101 samples sorted by class
// (0, 1, 2) on 3 processes: shares of 34, 34 and 33 rows, none with every class. The same model as one
// process reading all, with the same class names and sample count.
TEST_F(DataParallelCli, ProcessesReadingTheirShareOfNpyTrainTheSameModel) {
  constexpr std::size_t n = 101, features = 4;
  std::vector<float> x(n * features), y(n);
  for (std::size_t i = 0; i < n; ++i) {
    y[i] = static_cast<float>(i * 3 / n);
    for (std::size_t j = 0; j < features; ++j) x[i * features + j] = static_cast<float>(std::sin(0.37 * i + j) + y[i] * (j + 1));
  }
  save_npy(path("x.npy").string(), x.data(), {n, features});
  save_npy(path("y.npy").string(), y.data(), {n});
  const std::string args = "train --data x.npy --labels y.npy --layers 8:relu,3:softmax --loss sparse_categorical_crossentropy "
                           "--optimizer adam --epochs 4 --batch-size 10 --standardize --threads 1 --output ";
  // The test data by shares too, evaluated together.
  const CommandResult one_run = single(args + "one.xdm --test x.npy --test-labels y.npy");
  ASSERT_EQ(one_run.exit_code, 0) << one_run.err;
  const CommandResult three = mpirun(3, args + "three.xdm --test x.npy --test-labels y.npy");
  ASSERT_EQ(three.exit_code, 0) << three.err;
  EXPECT_NE(three.out.find("Training on 101 samples, 4 features, 3 classes"), std::string::npos) << three.out;
  const auto test_line = [](const std::string& out) {
    const auto at = out.find("Test: ");
    return at == std::string::npos ? std::string("none") : out.substr(at, out.find('\n', at) - at);
  };
  EXPECT_EQ(test_line(three.out), test_line(one_run.out));
  EXPECT_NE(test_line(three.out).find("101 samples"), std::string::npos) << three.out;
  const double d = weight_difference(path("one.xdm"), path("three.xdm"));
  std::printf("NPY shares, 101 rows on 3 processes: largest relative weight difference to one process %.3g\n", d);
  EXPECT_LE(d, same_model_tolerance);
  const SavedModel one = load_model(path("one.xdm").string()), parallel = load_model(path("three.xdm").string());
  EXPECT_EQ(parallel.info.class_names, one.info.class_names);
  const auto samples = std::find(parallel.info.metadata.begin(), parallel.info.metadata.end(),
                                 std::pair<std::string, std::string>("training_samples", "101"));
  EXPECT_NE(samples, parallel.info.metadata.end());
  // The statistics of every share together: those of the whole data.
  ASSERT_TRUE(parallel.info.standardizer && one.info.standardizer);
  for (std::size_t j = 0; j < features; ++j) {
    EXPECT_NEAR(parallel.info.standardizer->mean()(j), one.info.standardizer->mean()(j), 1e-5);
    EXPECT_NEAR(parallel.info.standardizer->scale()(j), one.info.standardizer->scale()(j), 1e-5);
  }

  // A NaN in the last row: only the process whose share holds it reads it, and says so by rank.
  x[(n - 1) * features] = std::nanf("");
  save_npy(path("x.npy").string(), x.data(), {n, features});
  const CommandResult bad = mpirun(3, args + "bad.xdm");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(occurrences(bad.err, "xdense: error: rank 2: x.npy"), 1u) << bad.err;
  EXPECT_EQ(occurrences(bad.err, "xdense: error"), 1u) << bad.err;
}

// Rank 1 runs in a folder of its own (an MPMD launch, as on another node): whatever it does there,
// it must write nothing, while rank 0 writes every output.
TEST_F(DataParallelCli, OnlyRankZeroWritesFiles) {
  for (const char* dir : {"r0", "r1"}) {
    fs::create_directory(path(dir));
    fs::copy_file(data_dir + "/iris.csv", path(dir) / "iris.csv");
  }
  const std::string args = "train --data iris.csv --layers 8:relu,3:softmax --loss sparse_categorical_crossentropy "
                           "--optimizer adam --epochs 4 --batch-size 16 --standardize --validation-split 0.2 "
                           "--early-stopping 2 --restore-best-weights --save-best best.xdm --reduce-lr-on-plateau "
                           "factor=0.5,patience=1 --output m.xdm --history h.csv --checkpoint ck --threads 1";
  const CommandResult run = mpirun(1, args, "--wdir r0 '" + tool + "' " + args + " : -n 1 --wdir r1");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(names_in(path("r1")), std::vector<std::string>({"iris.csv"}));
  EXPECT_EQ(names_in(path("r0")), std::vector<std::string>({"best.xdm", "ck", "h.csv", "iris.csv", "m.xdm"}));
  EXPECT_EQ(names_in(path("r0") / "ck"), std::vector<std::string>({"checkpoint.xdc"}));
}

// A file that rank 1 cannot read (a bad copy on one node): every process stops after loading, the
// error is said once, naming the rank, and nothing is written.
TEST_F(DataParallelCli, BadFileOnOneRankEndsEveryProcessAfterLoading) {
  for (const char* dir : {"r0", "r1"}) fs::create_directory(path(dir));
  fs::copy_file(data_dir + "/iris.csv", path("r0") / "iris.csv");
  std::ofstream(path("r1") / "iris.csv") << "sepal_length,sepal_width,petal_length,petal_width,species\n5.1,3.5,1.4\n";
  const std::string args = "train --data iris.csv --layers 8:relu,3:softmax --loss sparse_categorical_crossentropy "
                           "--optimizer adam --epochs 2 --batch-size 16 --output m.xdm --history h.csv --checkpoint ck";
  const auto start = std::chrono::steady_clock::now();
  const CommandResult run = mpirun(1, args, "--wdir r0 '" + tool + "' " + args + " : -n 1 --wdir r1");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_LT(seconds, 60.0);
  EXPECT_EQ(occurrences(run.err, "xdense: error: rank 1: iris.csv"), 1u) << run.err;
  EXPECT_EQ(occurrences(run.err, "xdense: error"), 1u) << run.err;
  EXPECT_EQ(names_in(path("r0")), std::vector<std::string>({"iris.csv"}));
  EXPECT_EQ(names_in(path("r1")), std::vector<std::string>({"iris.csv"}));
}

// An output only rank 0 checks (the others do not touch output paths): agreed, said once, exit 2.
TEST_F(DataParallelCli, OutputRankZeroCannotWriteEndsEveryProcess) {
  const CommandResult run = mpirun(3, iris("missing/m.xdm"));
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_EQ(occurrences(run.err, "xdense: error: missing/m.xdm"), 1u) << run.err;
  EXPECT_EQ(occurrences(run.err, "xdense: error"), 1u) << run.err;
  const CommandResult typo = mpirun(2, iris("m.xdm", "", 0));
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_EQ(occurrences(typo.err, "xdense: error: --epochs"), 1u) << typo.err;
  expect_only_files({});
}

TEST_F(DataParallelCli, ResumeNeedsTheSameNumberOfProcesses) {
  ASSERT_EQ(mpirun(2, iris("m.xdm", "--checkpoint ck", 2)).exit_code, 0);
  const CommandResult three = mpirun(3, iris("m.xdm", "--resume ck", 3));
  EXPECT_EQ(three.exit_code, 2);
  EXPECT_EQ(occurrences(three.err, "the checkpoint was made by 2 processes, this run has 3"), 1u) << three.err;
  const CommandResult one = single(iris("m.xdm", "--resume ck", 3));
  EXPECT_EQ(one.exit_code, 2);
  EXPECT_NE(one.err.find("the checkpoint was made by 2 processes, this run has 1"), std::string::npos) << one.err;
  const CommandResult two = mpirun(2, iris("m.xdm", "--resume ck", 3));
  EXPECT_EQ(two.exit_code, 0) << two.err;
}

// An error of rank 0 alone while training (its checkpoint folder replaced by a file): it says so,
// naming its rank, and ends the job at once; its model file's temporary is removed.
TEST_F(DataParallelCli, ErrorOfOneRankWhileTrainingEndsTheJob) {
  start(mpirun_line(2, cancer("m.xdm", 5000, "--checkpoint ck --quiet")));
  ASSERT_TRUE(wait_for(path("ck") / "checkpoint.xdc")) << "no checkpoint after 60 s: " << read_file(path("run.err"));
  // Moved aside (rank 0 may be writing in it), then a file put in its place before rank 0 makes it again.
  bool blocked = false;
  for (int i = 0; i < 20 && !blocked; ++i) {
    fs::rename(path("ck"), path("old" + std::to_string(i)));
    const int fd = ::open(path("ck").c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    blocked = fd >= 0;
    if (blocked) ::close(fd);
  }
  ASSERT_TRUE(blocked);
  const auto failed = std::chrono::steady_clock::now();
  const int rc = wait_for_end();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - failed).count();
  ASSERT_NE(rc, -1) << "mpirun still running 60 s after rank 0 failed";
  std::printf("mpirun ended %.2f s after rank 0's checkpoint failed, exit status %d\n", seconds, rc);
  EXPECT_EQ(rc, 2);
  EXPECT_LT(seconds, 20.0);
  const std::string err = read_file(path("run.err"));
  // "ck: cannot create the checkpoint folder", or, when a checkpoint was being written as the folder
  // moved, "ck/checkpoint.xdc: cannot find temporary file ...": rank 0's error, said once.
  EXPECT_EQ(occurrences(err, "xdense: error: rank 0: ck"), 1u) << err;
  EXPECT_EQ(occurrences(err, "xdense: error"), 1u) << err;
  for (const std::string& name : names_in(dir_)) {
    EXPECT_TRUE(name == "ck" || name.rfind("old", 0) == 0 || name.rfind("run.", 0) == 0) << name;
  }
}

// SIGKILL of rank 1 while training: mpirun ends the job within seconds, the model file of the run
// before and the last checkpoint are intact, no temporary file is left; resumed with 2 processes,
// the run gives the model an uninterrupted 2-process run gives, byte for byte.
TEST_F(DataParallelCli, KilledRankEndsTheJobAndTheRunResumesIdentically) {
  ASSERT_EQ(mpirun(2, cancer("m.xdm", 1)).exit_code, 0);
  const std::string before = read_file(path("m.xdm"));
  // The most epochs the tool accepts, a checkpoint after each: killed after the first, it cannot
  // have finished, however fast the machine (mpirun's timeout ends it if the test fails first).
  start(mpirun_line(2, cancer("m.xdm", 1000000, "--checkpoint " + path("ck").string() + " --quiet")));
  const fs::path checkpoint = path("ck") / "checkpoint.xdc";
  ASSERT_TRUE(wait_for(checkpoint)) << "no checkpoint after 60 s: " << read_file(path("run.err"));
  const pid_t rank1 = find_rank_process(1, dir_.string());
  ASSERT_NE(rank1, 0) << "rank 1 not found";
  ASSERT_EQ(::kill(rank1, SIGKILL), 0);
  const auto killed = std::chrono::steady_clock::now();
  const int rc = wait_for_end();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  ASSERT_NE(rc, -1) << "mpirun still running 60 s after rank 1 was killed";
  std::printf("mpirun ended %.2f s after rank 1 was killed, exit status %d\n", seconds, rc);
  EXPECT_NE(rc, 0);
  EXPECT_LT(seconds, 20.0);
  EXPECT_EQ(read_file(path("m.xdm")), before);
  const Checkpoint saved = load_checkpoint(checkpoint.string());  // complete, or this throws
  const std::size_t done = saved.state.epochs_done;
  ASSERT_GE(done, 1u);
  ASSERT_LT(done, 1000000u);
  EXPECT_EQ(names_in(path("ck")), std::vector<std::string>({"checkpoint.xdc"}));
  for (const std::string& name : names_in(dir_)) EXPECT_EQ(name.find(".tmp-"), std::string::npos) << name;

  const long epochs = static_cast<long>(done) + 2;
  const CommandResult resumed = mpirun(2, cancer("resumed.xdm", epochs, "--resume " + path("ck").string()));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const CommandResult straight = mpirun(2, cancer("straight.xdm", epochs));
  ASSERT_EQ(straight.exit_code, 0) << straight.err;
  EXPECT_EQ(read_file(path("resumed.xdm")), read_file(path("straight.xdm")));
}

// A build without MPI started by mpirun (its environment says so): each process would train alone
// and write the same files, so it is refused, said once by the process its launcher calls rank 0.
// The launcher's environment is set by hand: only in a build without MPI (one with MPI would try to
// join that job).
TEST_F(Cli, LaunchedByMpiWithoutMpiIsRefusedOnce) {
  if (mpi_available()) GTEST_SKIP() << "xdense was built with MPI: mpirun runs it data-parallel";
  const std::string train = "train --data " + data_dir + "/iris.csv --layers 8:relu,3:softmax --loss "
                            "sparse_categorical_crossentropy --optimizer adam --epochs 1 --batch-size 16 --output m.xdm";
  const CommandResult rank0 = xdense_in_shell("env OMPI_COMM_WORLD_SIZE=2 OMPI_COMM_WORLD_RANK=0 '" + tool + "' " + train);
  EXPECT_EQ(rank0.exit_code, 2);
  EXPECT_EQ(count_lines(rank0.err), 1u) << rank0.err;
  EXPECT_NE(rank0.err.find("xdense: error: launched by mpirun or srun, but this xdense was built without MPI"),
            std::string::npos) << rank0.err;
  const CommandResult rank1 = xdense_in_shell("env OMPI_COMM_WORLD_SIZE=2 OMPI_COMM_WORLD_RANK=1 '" + tool + "' " + train);
  EXPECT_EQ(rank1.exit_code, 2);
  EXPECT_EQ(rank1.err, "");
  expect_only_files({});
}

}  // namespace
}  // namespace xdense::testing
