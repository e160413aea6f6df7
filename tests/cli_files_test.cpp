// End-to-end tests of the xdense tool under hostile conditions (issue 12): resumes that differ from
// the checkpoint's run, inputs and outputs that are the same file, out-of-range numbers. Each test
// checks the promises of docs/cli.md: exit 2 with one line naming the problem, nothing created or changed.

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli_support.hpp"

namespace {

namespace fs = std::filesystem;

using xdense::testing::Cli;
using xdense::testing::CommandResult;
using xdense::testing::read_file;

const std::string data_dir = XDENSE_DATA_DIR;

class CliFiles : public Cli {
 protected:
  // A small iris run checkpointed in ck/, on a copy of the data in the test folder.
  std::string iris_run(const std::string& extra) const {
    return "train --data d.csv --layers 8:relu,3:softmax --loss cce --optimizer adam --batch-size 16 --output r.xdm "
           "--quiet --checkpoint ck " + extra;
  }
  void start_checkpointed_run() {
    fs::copy_file(data_dir + "/iris.csv", path("d.csv"));
    const CommandResult run = xdense(iris_run("--epochs 3 --threads 1"));
    ASSERT_EQ(run.exit_code, 0) << run.err;
  }
};

TEST_F(CliFiles, ResumeRefusesAnotherThreadCount) {
  start_checkpointed_run();
  const std::string model = read_file(path("r.xdm"));
  expect_user_error(iris_run("--epochs 5 --threads 2 --resume ck"),
                    {"--resume ck", "--threads '1' in the checkpoint, '2' now"});
  EXPECT_EQ(read_file(path("r.xdm")), model);
  const CommandResult same = xdense(iris_run("--epochs 5 --threads 1 --resume ck"));
  EXPECT_EQ(same.exit_code, 0) << same.err;
}

TEST_F(CliFiles, ResumeRefusesOtherDataAtTheSamePath) {
  start_checkpointed_run();
  std::string text = read_file(path("d.csv"));
  text.replace(text.find("5.1,3.5"), 7, "5.2,3.5");
  std::ofstream(path("d.csv"), std::ios::binary) << text;
  expect_user_error(iris_run("--epochs 5 --threads 1 --resume ck"),
                    {"--resume ck", "the data's contents differ (same path, other data"});
}

TEST_F(CliFiles, ResumeRefusesFewerEpochsThanDoneAndNamesEachOtherDifference) {
  start_checkpointed_run();
  expect_user_error(iris_run("--epochs 2 --threads 1 --resume ck"),
                    {"--epochs 2 is fewer than the 3 epochs the checkpoint has done"});
  expect_user_error(iris_run("--epochs 5 --threads 1 --lr 0.1 --seed 9 --resume ck"),
                    {"--lr 'default' in the checkpoint, '0.1' now", "--seed '42' in the checkpoint, '9' now"});
  // The same number of epochs: nothing to train, the model is the checkpoint's.
  const CommandResult again = xdense(iris_run("--epochs 3 --threads 1 --resume ck"));
  EXPECT_EQ(again.exit_code, 0) << again.err;
}

}  // namespace

namespace {

TEST_F(CliFiles, OutOfRangeNumbersAreErrorsNotSaturatedOrEndless) {
  const std::string run = "train --data " + data_dir + "/iris.csv --layers 3:softmax --loss cce --optimizer adam ";
  expect_user_error(run + "--batch-size 16 --epochs 9223372036854775807 --output z.xdm",
                    {"--epochs: out of range, received '9223372036854775807'"});
  expect_user_error(run + "--batch-size 16 --epochs 1000001 --output z.xdm",
                    {"--epochs: expected an integer from 1 to 1000000"});
  expect_user_error(run + "--batch-size 16777217 --epochs 1 --output z.xdm",
                    {"--batch-size: expected an integer from 1 to 16777216"});
  expect_user_error(run + "--batch-size 0 --epochs 1 --output z.xdm", {"--batch-size"});
  expect_user_error("train --data " + data_dir + "/iris.csv --layers 99999999999999999999:relu,3:softmax --loss cce "
                    "--optimizer adam --batch-size 16 --epochs 1 --output z.xdm",
                    {"--layers", "99999999999999999999"});
  EXPECT_FALSE(fs::exists(path("z.xdm")));
}

}  // namespace

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool sanitized = true;  // ASan maps terabytes of shadow memory: no address-space limit fits it
#else
constexpr bool sanitized = false;
#endif

// Under `ulimit -v`, OpenBLAS's threads once retried a refused 128 MiB mapping forever: every
// command hung. Each run here is bounded by `timeout`, whose exit code 124 would fail the test.
TEST_F(CliFiles, AddressSpaceLimitGivesAPromptAnswerNeverAHang) {
  if (sanitized) GTEST_SKIP() << "sanitizer build: an address-space limit cannot hold its shadow memory";
  const std::string train = "train --data " + data_dir +
                            "/iris.csv --layers 256:relu,3:softmax --loss cce --optimizer adam --batch-size 150 "
                            "--epochs 2 --output m.xdm --quiet";
  auto limited = [&](const std::string& limit, const std::string& args) {
    return xdense_in_shell("ulimit " + limit + " && timeout 60 '" XDENSE_CLI "' " + args);
  };
  // ulimit -v limits the address space; -d the data segment, which counts writable mappings too.
  for (const char* kib : {"-v 80000", "-v 150000", "-v 190000", "-d 81920", "-d 150000"}) {
    fs::remove(path("m.xdm"));
    const CommandResult version = limited(kib, "--version");
    EXPECT_EQ(version.exit_code, 0) << kib << ": " << version.err;
    const CommandResult run = limited(kib, train);
    EXPECT_TRUE(run.exit_code == 0 || run.exit_code == 1) << kib << ": exit " << run.exit_code << " " << run.err;
    if (run.exit_code == 1) {
      EXPECT_NE(run.err.find("out of memory"), std::string::npos) << run.err;
      EXPECT_FALSE(fs::exists(path("m.xdm")));
    }
  }
  const CommandResult roomy = limited("-v 1000000", train + " --threads 2");
  EXPECT_EQ(roomy.exit_code, 0) << roomy.err;
}

}  // namespace

namespace {

TEST_F(CliFiles, CheckpointFolderIsOnlyCreatedByACheckpoint) {
  std::ofstream(path("bad.csv")) << "a,b,y\n1,x,0\n";
  expect_user_error("train --data bad.csv --layers 1:sigmoid --loss bce --optimizer adam --epochs 1 --batch-size 2 "
                    "--output m.xdm --checkpoint ck",
                    {"bad.csv:2"});
  EXPECT_FALSE(fs::exists(path("ck")));
  EXPECT_FALSE(fs::exists(path("m.xdm")));
}

TEST_F(CliFiles, OrdinaryBadPathsAreUserErrorsNamingThePath) {
  fs::create_symlink("loop", path("loop"));  // a symlink loop: ELOOP
  const std::string run = "train --data " + data_dir + "/iris.csv --layers 3:softmax --loss cce --optimizer adam "
                          "--epochs 1 --batch-size 16 ";
  expect_user_error(run + "--output m.xdm --init-weights loop", {"loop"});
  expect_user_error(run + "--output m.xdm --resume loop", {"loop"});
  expect_user_error(run + "--output loop/m.xdm", {"loop/m.xdm"});
  expect_user_error(run + "--output m.xdm --checkpoint loop/ck", {"loop/ck"});
  expect_user_error(run + "--output " + std::string(5000, 'n') + ".xdm", {"nnnn"});
  expect_user_error("predict --model loop --data " + data_dir + "/iris.csv", {"loop"});
  EXPECT_FALSE(fs::exists(path("m.xdm")));
}

}  // namespace

namespace {

TEST_F(CliFiles, InputsAndOutputsThatAreTheSameFileAreRefusedBeforeAnyWork) {
  fs::copy_file(data_dir + "/iris.csv", path("d.csv"));
  const std::string original = read_file(path("d.csv"));
  const std::string train = "train --data d.csv --layers 3:softmax --loss cce --optimizer adam --epochs 1 "
                            "--batch-size 16 ";
  expect_user_error(train + "--output d.csv", {"--output is the same file as --data"});
  expect_user_error(train + "--output m.xdm --history m.xdm", {"--output and --history are the same file"});
  fs::create_directory(path("sub"));
  expect_user_error(train + "--output m.xdm --history ./sub/../d.csv", {"--history is the same file as --data"});
  fs::create_symlink("d.csv", path("link.csv"));
  expect_user_error(train + "--output link.csv", {"--output is the same file as --data"});
  EXPECT_EQ(read_file(path("d.csv")), original);
  EXPECT_TRUE(fs::is_symlink(path("link.csv")));
  EXPECT_FALSE(fs::exists(path("m.xdm")));

  ASSERT_EQ(xdense(train + "--output m.xdm --quiet").exit_code, 0);
  const std::string model = read_file(path("m.xdm"));
  expect_user_error("predict --model m.xdm --data d.csv --output m.xdm", {"--output is the same file as --model"});
  expect_user_error("predict --model m.xdm --data d.csv --output d.csv", {"--output is the same file as --data"});
  EXPECT_EQ(read_file(path("m.xdm")), model);
  EXPECT_EQ(read_file(path("d.csv")), original);
}

TEST_F(CliFiles, SpecialFilesAsOutputsAreWrittenNotReplaced) {
  fs::copy_file(data_dir + "/iris.csv", path("d.csv"));
  ASSERT_EQ(xdense("train --data d.csv --layers 3:softmax --loss cce --optimizer adam --epochs 1 --batch-size 16 "
                   "--output m.xdm --quiet")
                .exit_code,
            0);
  // "-" is standard output.
  const CommandResult dash = xdense("predict --model m.xdm --data d.csv --output -");
  ASSERT_EQ(dash.exit_code, 0) << dash.err;
  EXPECT_EQ(dash.out.rfind("label,p_setosa", 0), 0u);
  // A FIFO gets the predictions and stays a FIFO (the reader is bounded by timeout).
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0600), 0);
  const CommandResult fifo =
      xdense_in_shell("(timeout 30 cat fifo > fifo.out &) && timeout 30 '" XDENSE_CLI "' predict --model m.xdm "
                      "--data d.csv --output fifo && sleep 0.2");
  EXPECT_EQ(fifo.exit_code, 0) << fifo.err;
  EXPECT_TRUE(fs::is_fifo(path("fifo")));
  EXPECT_EQ(xdense_in_shell("head -c 14 fifo.out").out, "label,p_setosa");
  // A model file needs a regular file: atomic replacement is its promise.
  expect_user_error("train --data d.csv --layers 3:softmax --loss cce --optimizer adam --epochs 1 --batch-size 16 "
                    "--output fifo",
                    {"fifo", "is a FIFO"});
  EXPECT_TRUE(fs::is_fifo(path("fifo")));
  // A symlinked output: the link is followed and kept, its target replaced.
  fs::create_directory(path("real"));
  fs::create_symlink("real/p.csv", path("p.csv"));
  ASSERT_EQ(xdense("predict --model m.xdm --data d.csv --output p.csv").exit_code, 0);
  EXPECT_TRUE(fs::is_symlink(path("p.csv")));
  EXPECT_EQ(read_file(path("real/p.csv")).rfind("label,p_setosa", 0), 0u);
}

TEST_F(CliFiles, AFailingHistoryLeavesNoModelAndNoTemporaries) {
  // A full device (like /dev/full, made here) as --history: its write fails at the end, and the
  // model, written in the same commit, must not appear.
  if (::mknod(path("full").c_str(), S_IFCHR | 0666, makedev(1, 7)) != 0) {
    GTEST_SKIP() << "cannot make a device node here (not root, or a nodev mount)";
  }
  fs::copy_file(data_dir + "/iris.csv", path("d.csv"));
  const CommandResult run = xdense("train --data d.csv --layers 3:softmax --loss cce --optimizer adam --epochs 1 "
                                   "--batch-size 16 --output m.xdm --history full");
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_NE(run.err.find("No space left on device"), std::string::npos) << run.err;
  EXPECT_FALSE(fs::exists(path("m.xdm")));
  expect_only_files({"d.csv", "full"});
}

TEST_F(CliFiles, AnUnwritableOutputFailsBeforeTraining) {
  // Permissions do not bind root: the run is made as nobody (setpriv), in folders nobody can read.
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch to the user nobody";
  if (xdense_in_shell("command -v setpriv").exit_code != 0) GTEST_SKIP() << "setpriv is not installed";
  fs::copy_file(data_dir + "/iris.csv", path("d.csv"));
  fs::create_directory(path("ro"));
  fs::permissions(dir_, fs::perms::all);
  fs::permissions(path("ro"), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(path("d.csv"), fs::perms::all);
  const CommandResult run = xdense_in_shell(
      "setpriv --reuid=65534 --regid=65534 --clear-groups timeout 60 '" XDENSE_CLI
      "' train --data d.csv --layers 3:softmax --loss cce --optimizer adam --epochs 1000000 --batch-size 1 "
      "--output ro/m.xdm");
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_NE(run.err.find("ro/m.xdm"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("Permission denied"), std::string::npos) << run.err;
  EXPECT_EQ(run.out, "");  // not one epoch trained
  EXPECT_TRUE(fs::is_empty(path("ro")));
}

}  // namespace

namespace {

TEST_F(CliFiles, SeedBeyond64BitsIsAnErrorNotSaturated) {
  expect_user_error("train --data " + data_dir + "/iris.csv --layers 3:softmax --loss cce --optimizer adam "
                    "--epochs 1 --batch-size 16 --output m.xdm --seed 99999999999999999999999999",
                    {"--seed", "from 0 to 2^64 - 1", "'99999999999999999999999999'"});
  expect_user_error("train --data " + data_dir + "/iris.csv --layers 3:softmax --loss cce --optimizer adam "
                    "--epochs 99999999999999999999999 --batch-size 16 --output m.xdm",
                    {"--epochs: out of range, received '99999999999999999999999'"});
  EXPECT_FALSE(fs::exists(path("m.xdm")));
}

// SIGTERM and SIGINT in the middle of a run: the temporaries of the reserved outputs (and of a
// checkpoint being written) are removed, and the exit status is the signal's (143, 130).
TEST_F(CliFiles, SignalsLeaveNoTemporaries) {
  fs::copy_file(data_dir + "/iris.csv", path("d.csv"));
  for (const auto& [signal, status] : {std::pair<std::string, int>{"TERM", 143}, {"INT", 130}}) {
    const CommandResult run = xdense_in_shell(
        "timeout --preserve-status -s " + signal + " 2 '" XDENSE_CLI "' train --data d.csv --layers 64:relu,3:softmax "
        "--loss cce --optimizer adam --epochs 1000000 --batch-size 1 --output m.xdm --history h.csv --checkpoint ck "
        "--quiet");
    EXPECT_EQ(run.exit_code, status) << signal << ": " << run.err;
    for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
      EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos) << entry.path();
    }
    EXPECT_FALSE(fs::exists(path("m.xdm")));
    EXPECT_FALSE(fs::exists(path("h.csv")));
  }
}

TEST_F(CliFiles, StaleTemporariesOfAKilledRunAreRemovedByTheNextWrite) {
  fs::copy_file(data_dir + "/iris.csv", path("d.csv"));
  std::ofstream(path("m.xdm.tmp-Ab12Cd")) << "left by SIGKILL";
  std::ofstream(path("m.xdm.keep")) << "not ours";
  const auto old = fs::file_time_type::clock::now() - std::chrono::minutes(5);
  fs::last_write_time(path("m.xdm.tmp-Ab12Cd"), old);
  ASSERT_EQ(xdense("train --data d.csv --layers 3:softmax --loss cce --optimizer adam --epochs 1 --batch-size 16 "
                   "--output m.xdm --quiet")
                .exit_code,
            0);
  expect_only_files({"d.csv", "m.xdm", "m.xdm.keep"});
}

}  // namespace

namespace {

TEST_F(CliFiles, ReviewFindingsStayFixed) {
  fs::copy_file(data_dir + "/iris.csv", path("d.csv"));
  const std::string train = "train --data d.csv --layers 3:softmax --loss cce --optimizer adam --batch-size 16 ";
  // Outputs that are the checkpoint or an --init-weights file.
  ASSERT_EQ(xdense(train + "--epochs 1 --output m.xdm --checkpoint ck --quiet").exit_code, 0);
  const std::string checkpoint = read_file(path("ck/checkpoint.xdc"));
  expect_user_error(train + "--epochs 2 --output m2.xdm --checkpoint ck --history ck/checkpoint.xdc",
                    {"--history and --checkpoint are the same file"});
  EXPECT_EQ(read_file(path("ck/checkpoint.xdc")), checkpoint);
  ASSERT_EQ(xdense("export --model m.xdm --npy w").exit_code, 0);
  expect_user_error(train + "--epochs 1 --init-weights w --output w/dense_0_kernel.npy",
                    {"--output is the same file as --init-weights"});
  // Resuming into the same checkpoint folder stays allowed.
  EXPECT_EQ(xdense(train + "--epochs 2 --output m.xdm --checkpoint ck --resume ck --quiet").exit_code, 0);
  // predict's standard output appended to its own input.
  const std::string data = read_file(path("d.csv"));
  const CommandResult append = xdense_in_shell("'" XDENSE_CLI "' predict --model m.xdm --data d.csv >> d.csv");
  EXPECT_EQ(append.exit_code, 2) << append.err;
  EXPECT_EQ(read_file(path("d.csv")), data);
  // A checkpoint file that cannot be replaced fails before training, not after epoch 1.
  fs::create_directories(path("ck2/checkpoint.xdc"));
  expect_user_error(train + "--epochs 1 --output m3.xdm --checkpoint ck2", {"ck2/checkpoint.xdc", "is a directory"});
  // Decimal numbers only: 010 is ten (not octal eight), 0x10 is refused.
  ASSERT_EQ(xdense(train + "--epochs 010 --output m4.xdm --history h.csv --quiet").exit_code, 0);
  EXPECT_EQ(xdense::testing::count_lines(read_file(path("h.csv"))), 11u);
  expect_user_error(train + "--epochs 0x10 --output m4.xdm", {"--epochs: expected a decimal integer"});
  // train's outputs are files: "-" is refused rather than creating a file named "-".
  expect_user_error(train + "--epochs 1 --output -", {"--output -"});
  EXPECT_FALSE(fs::exists(path("-")));
  // A failed write to standard output is an error, not a silent loss.
  if (::mknod(path("full").c_str(), S_IFCHR | 0666, makedev(1, 7)) == 0) {
    const CommandResult full = xdense_in_shell("'" XDENSE_CLI "' predict --model m.xdm --data d.csv > full");
    EXPECT_EQ(full.exit_code, 2) << full.err;
    EXPECT_NE(full.err.find("standard output"), std::string::npos) << full.err;
  }
  // A label column asked for by name must exist, even for predict.
  expect_user_error("predict --model m.xdm --data d.csv --label-column nope", {"unknown label column 'nope'"});
  // A second export into a folder holding another model's files is refused, not mixed.
  ASSERT_EQ(xdense("train --data d.csv --layers 4:relu,3:softmax --loss cce --optimizer adam --batch-size 16 "
                   "--epochs 1 --standardize --output deep.xdm --quiet")
                .exit_code,
            0);
  ASSERT_EQ(xdense("export --model deep.xdm --npy w2").exit_code, 0);
  expect_user_error("export --model m.xdm --npy w2", {"w2: holds .npy files this model does not write"});
}

TEST_F(CliFiles, AHeaderOfNumbersIsReadWithHeader) {
  std::ofstream(path("n.csv")) << "400,410,420,430,class\n1,2,3,4,a\n5,6,7,8,b\n1,2,3,5,a\n5,6,7,9,b\n";
  const std::string train = "train --data n.csv --layers 1:sigmoid --loss bce --optimizer adam --epochs 1 "
                            "--batch-size 2 --output n.xdm --quiet";
  expect_user_error(train, {"n.csv:1", "--header"});
  ASSERT_EQ(xdense(train + " --header").exit_code, 0);
  const CommandResult predict = xdense("predict --model n.xdm --data n.csv --header");
  ASSERT_EQ(predict.exit_code, 0) << predict.err;
  EXPECT_EQ(xdense::testing::count_lines(predict.out), 5u);
}

}  // namespace

namespace {

// Non-regular inputs are refused at once (never waited on or read forever), naming the path.
TEST_F(CliFiles, NonRegularInputsAreRefusedPromptly) {
  fs::copy_file(data_dir + "/iris.csv", path("d.csv"));
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0600), 0);
  const std::string train = "train --layers 3:softmax --loss cce --optimizer adam --batch-size 16 --epochs 1 ";
  const std::string fashion = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
  std::vector<std::string> cases = {
      train + "--data fifo --output m.xdm",
      "train --data d.csv --model-config fifo --loss cce --optimizer adam --batch-size 16 --epochs 1 --output m.xdm",
      "predict --model fifo --data d.csv",
      "predict --model m0.xdm --data fifo",
      "summary --model fifo",
  };
  if (fs::exists(fashion)) cases.push_back(train + "--data " + fashion + " --labels fifo --output m.xdm");
  ASSERT_EQ(xdense(train + "--data d.csv --output m0.xdm --quiet").exit_code, 0);
  for (const std::string& args : cases) {
    const CommandResult run = xdense_in_shell("timeout 20 '" XDENSE_CLI "' " + args);
    EXPECT_EQ(run.exit_code, 2) << args << "\n" << run.err;
    EXPECT_NE(run.err.find("fifo: is a FIFO (named pipe); xdense reads regular files only"), std::string::npos)
        << args << "\n" << run.err;
  }
  // A checkpoint that is a FIFO, and a 1 TB sparse file given as a model: refused from their
  // first bytes and sizes, not read whole.
  fs::create_directory(path("ck"));
  ASSERT_EQ(::mkfifo(path("ck/checkpoint.xdc").c_str(), 0600), 0);
  const CommandResult resume = xdense_in_shell("timeout 20 '" XDENSE_CLI "' " + train +
                                               "--data d.csv --output m.xdm --resume ck");
  EXPECT_EQ(resume.exit_code, 2) << resume.err;
  {
    std::ofstream(path("huge.xdm")) << "XDENSEM";
  }
  std::error_code error;
  fs::resize_file(path("huge.xdm"), std::uintmax_t{1} << 40, error);
  if (!error) {
    const CommandResult huge = xdense_in_shell("timeout 20 '" XDENSE_CLI "' summary --model huge.xdm");
    EXPECT_EQ(huge.exit_code, 2) << huge.err;
  }
  EXPECT_FALSE(fs::exists(path("m.xdm")));
}

}  // namespace
