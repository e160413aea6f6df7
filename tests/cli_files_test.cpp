// End-to-end tests of the xdense tool under hostile conditions (issue 12): resumes that differ from
// the checkpoint's run, inputs and outputs that are the same file, out-of-range numbers. Each test
// checks the README's promises: exit 2 with one line naming the problem, nothing created or changed.

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
