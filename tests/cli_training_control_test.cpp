// End-to-end tests of train's training-control flags (apps/training_control.hpp): early stopping,
// --save-best, --reduce-lr-on-plateau, --lr-schedule, --class-weight, --threshold, --metrics, the
// history and model record they leave, and a checkpointed run with all of them resumed
// bit-identically.

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_support.hpp"
#include "xdense/model_file.hpp"

namespace {

namespace fs = std::filesystem;

using xdense::testing::Cli;
using xdense::testing::CommandResult;
using xdense::testing::count_lines;
using xdense::testing::csv_rows;
using xdense::testing::read_file;

const std::string data_dir = XDENSE_DATA_DIR;

// Breast cancer, binary: a sigmoid model with validation.
const std::string cancer = "train --data " + data_dir +
                           "/breast_cancer.csv --label-column benign --layers 16:relu,1:sigmoid "
                           "--loss binary_crossentropy --optimizer adam --batch-size 32 --standardize --seed 3 ";
// Iris, three classes.
const std::string iris = "train --data " + data_dir +
                         "/iris.csv --layers 8:relu,3:softmax --loss categorical_crossentropy --optimizer adam "
                         "--batch-size 16 --standardize ";

// The index of column `name` in a CSV's header row.
std::size_t column_index(const std::vector<std::vector<std::string>>& rows, const std::string& name) {
  if (rows.empty()) return std::string::npos;
  const auto at = std::find(rows[0].begin(), rows[0].end(), name);
  return at == rows[0].end() ? std::string::npos : static_cast<std::size_t>(at - rows[0].begin());
}

// The cells of column `name` (header excluded; none when there is no such column).
std::vector<std::string> column(const std::string& csv, const std::string& name) {
  const std::vector<std::vector<std::string>> rows = csv_rows(csv);
  const std::size_t index = column_index(rows, name);
  std::vector<std::string> cells;
  for (std::size_t r = 1; index != std::string::npos && r < rows.size(); ++r) cells.push_back(rows[r].at(index));
  return cells;
}

// The CSV's rows without column `name` (the seconds an epoch took differ between runs).
std::vector<std::vector<std::string>> rows_without(const std::string& csv, const std::string& name) {
  std::vector<std::vector<std::string>> rows = csv_rows(csv);
  const std::size_t index = column_index(rows, name);
  for (auto& row : rows) {
    if (index < row.size()) row.erase(row.begin() + static_cast<std::ptrdiff_t>(index));
  }
  return rows;
}

std::string metadata(const xdense::ModelInfo& info, const std::string& key) {
  for (const auto& [k, v] : info.metadata) {
    if (k == key) return v;
  }
  return "";
}

// ---- mistakes refused before any work: exit 2, one line naming the flag, nothing written

TEST_F(Cli, TrainingControlMistakesAreRefusedBeforeAnyWork) {
  const std::string run = cancer + "--epochs 3 --output m.xdm ";
  expect_user_error(run + "--restore-best-weights", {"--restore-best-weights applies to --early-stopping"});
  expect_user_error(run + "--min-delta 0.1", {"--min-delta applies to --early-stopping"});
  expect_user_error(run + "--early-stopping 2",
                    {"--early-stopping watches val_loss (the default --monitor)", "--validation-split"});
  expect_user_error(run + "--save-best b.xdm --monitor val_auc", {"--save-best watches val_auc", "--validation-split"});
  expect_user_error(run + "--monitor loss", {"--monitor applies to --early-stopping, --reduce-lr-on-plateau or --save-best"});
  expect_user_error(run + "--early-stopping -1", {"--early-stopping: expected a patience from 0"});
  expect_user_error(run + "--early-stopping 2 --min-delta -0.5 --monitor loss", {"--min-delta: expected a finite number >= 0"});
  expect_user_error(run + "--validation-split 0.2 --early-stopping 2 --monitor val_acc",
                    {"--monitor: this run does not log 'val_acc'", "val_accuracy"});
  expect_user_error(run + "--reduce-lr-on-plateau factor=2 --monitor loss", {"--reduce-lr-on-plateau: ", "factor"});
  expect_user_error(run + "--reduce-lr-on-plateau factor=0.5,patiense=3 --monitor loss",
                    {"--reduce-lr-on-plateau: unknown key 'patiense'", "patience"});
  expect_user_error(run + "--reduce-lr-on-plateau patience=1.5 --monitor loss", {"patience: expected an integer"});
  expect_user_error(run + "--reduce-lr-on-plateau factor=0.5 --monitor loss --lr-schedule exponential:decay_steps=10,decay_rate=0.5",
                    {"--lr-schedule and --reduce-lr-on-plateau cannot be used together"});
  expect_user_error(run + "--lr-schedule nonsense:x=1", {"--lr-schedule"});
  expect_user_error(run + "--class-weight 0:1,2:5", {"--class-weight: the data has no class '2'", "0, 1"});
  expect_user_error(run + "--class-weight 0:-1", {"--class-weight: the weight of class '0'", ">= 0"});
  expect_user_error(run + "--class-weight heavy", {"--class-weight: expected balanced or CLASS:WEIGHT"});
  expect_user_error(run + "--threshold 1.5", {"--threshold: expected a number in (0, 1)"});
  expect_user_error(run + "--metrics accuracy,aucc", {"--metrics: ", "aucc"});
  expect_user_error(run + "--metrics auc,auc", {"--metrics: 'auc' is given twice"});
  expect_user_error(run + "--save-best m.xdm --validation-split 0.2", {"--save-best", "--output"});
  expect_user_error(run + "--save-best no_such_folder/b.xdm --validation-split 0.2", {"no_such_folder"});
  expect_user_error(iris + "--epochs 2 --output m.xdm --metrics auc", {"--metrics: "});
  expect_user_error(iris + "--epochs 2 --output m.xdm --threshold 0.3", {"--threshold applies to"});
  const std::string regression = "train --data " + data_dir +
                                 "/breast_cancer.csv --label-column benign --layers 4:relu,1 --loss mse --optimizer adam "
                                 "--batch-size 32 --epochs 1 --output m.xdm ";
  expect_user_error(regression + "--class-weight balanced", {"--class-weight applies to classification"});
  expect_only_files({});
}

// ---- each flag doing its job

TEST_F(Cli, EarlyStoppingStopsRecordsWhereAndRestoresTheBestWeights) {
  const CommandResult run = xdense(cancer +
                                   "--epochs 300 --validation-split 0.2 --early-stopping 3 --restore-best-weights "
                                   "--lr 0.01 --output m.xdm --history h.csv");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const xdense::SavedModel saved = xdense::load_model(path("m.xdm").string());
  const std::string stopped = metadata(saved.info, "stopped_epoch"), best = metadata(saved.info, "best_epoch");
  ASSERT_FALSE(stopped.empty()) << "did not stop within 300 epochs";
  EXPECT_EQ(metadata(saved.info, "epochs"), stopped);
  // Patience 3: stopped 3 epochs after the best.
  EXPECT_EQ(std::stoul(stopped), std::stoul(best) + 3);
  EXPECT_EQ(metadata(saved.info, "restored_weights_of_epoch"), best);
  EXPECT_EQ(metadata(saved.info, "monitor"), "val_loss");
  EXPECT_NE(run.out.find("Epoch " + stopped + ": early stopping: val_loss has not improved for 3 epochs; the best was "),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("Restored the weights of epoch " + best), std::string::npos) << run.out;
  // The history has the epochs trained; the best val_loss is the one recorded.
  const std::vector<std::string> val_loss = column(read_file(path("h.csv")), "val_loss");
  ASSERT_EQ(val_loss.size(), std::stoul(stopped));
  double lowest = 1e300;
  std::size_t lowest_epoch = 0;
  for (std::size_t i = 0; i < val_loss.size(); ++i) {
    if (std::stod(val_loss[i]) < lowest) lowest = std::stod(val_loss[i]), lowest_epoch = i + 1;
  }
  EXPECT_EQ(lowest_epoch, std::stoul(best));

  // Evaluated on the same validation rows... the model holds the best epoch's weights: its
  // recorded best val_loss, not the last epoch's.
  EXPECT_EQ(metadata(saved.info, "best_val_loss"), val_loss[std::stoul(best) - 1]);
}

TEST_F(Cli, SaveBestWritesTheBestEpochsModel) {
  const CommandResult run = xdense(cancer + "--epochs 8 --validation-split 0.2 --save-best best.xdm --monitor val_auc "
                                            "--metrics accuracy,auc --output m.xdm --history h.csv --quiet");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_TRUE(fs::exists(path("best.xdm")));
  const xdense::SavedModel best = xdense::load_model(path("best.xdm").string());
  EXPECT_EQ(best.info.class_names, (std::vector<std::string>{"0", "1"}));
  EXPECT_TRUE(best.info.standardizer.has_value());
  const std::string history = read_file(path("h.csv"));
  EXPECT_NE(history.find("val_auc"), std::string::npos) << history;
  const CommandResult evaluate = xdense("evaluate --json --model best.xdm --data " + data_dir + "/breast_cancer.csv");
  EXPECT_EQ(evaluate.exit_code, 0) << evaluate.err;
}

TEST_F(Cli, HistoryAndRecordCarryTheMetricsAndTheLearningRate) {
  const CommandResult run = xdense(cancer + "--epochs 6 --validation-split 0.2 --metrics accuracy,auc,precision "
                                            "--reduce-lr-on-plateau factor=0.5,patience=1 --monitor loss --lr 0.05 "
                                            "--output m.xdm --history h.csv");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string history = read_file(path("h.csv"));
  const std::string header = history.substr(0, history.find('\n'));
  for (const char* column_name : {"loss", "accuracy", "auc", "precision", "val_loss", "val_auc", "val_precision", "lr"}) {
    EXPECT_FALSE(column(history, column_name).empty()) << column_name << " in " << header;
  }
  EXPECT_EQ(count_lines(history), 7u);
  const std::vector<std::string> lr = column(history, "lr");
  EXPECT_EQ(lr.front(), "0.05");
  const xdense::SavedModel saved = xdense::load_model(path("m.xdm").string());
  EXPECT_EQ(metadata(saved.info, "lr"), lr.back());
  EXPECT_EQ(metadata(saved.info, "val_auc"), column(history, "val_auc").back());
  EXPECT_EQ(metadata(saved.info, "precision"), column(history, "precision").back());
  // The progress line shows the metrics and the rate.
  for (const char* part : {" - auc: ", " - val_precision: ", " - lr: "}) {
    EXPECT_NE(run.out.find(part), std::string::npos) << part << " in " << run.out;
  }
}

TEST_F(Cli, LearningRateScheduleFollowsTheStepCount) {
  // 569 * 0.8 = 455 training rows: 15 steps of 32 per epoch; the rate halves every 15 steps.
  const CommandResult run = xdense(cancer + "--epochs 3 --validation-split 0.2 --lr 0.01 --lr-schedule "
                                            "exponential:decay_steps=15,decay_rate=0.5 --output m.xdm --history h.csv --quiet");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(column(read_file(path("h.csv")), "lr"), (std::vector<std::string>{"0.005", "0.0025", "0.00125"}));
}

TEST_F(Cli, ClassWeightsChangeTheTrainingAndNameTheDataClasses) {
  const std::string run = iris + "--epochs 5 --seed 4 --quiet ";
  ASSERT_EQ(xdense(run + "--output plain.xdm").exit_code, 0);
  const CommandResult weighted = xdense(run + "--class-weight setosa:1,virginica:4 --output weighted.xdm");
  ASSERT_EQ(weighted.exit_code, 0) << weighted.err;
  ASSERT_EQ(xdense(run + "--class-weight balanced --output balanced.xdm").exit_code, 0);
  const auto weights = [&](const std::string& file) { return xdense::load_model(path(file).string()).model.get_weights(); };
  EXPECT_NE(weights("plain.xdm"), weights("weighted.xdm"));
  // iris is balanced (50 of each class): balanced weights are all 1, the same training.
  EXPECT_EQ(weights("plain.xdm"), weights("balanced.xdm"));
}

TEST_F(Cli, ThresholdIsStoredForPredictAndEvaluate) {
  const CommandResult run = xdense(cancer + "--epochs 2 --metrics accuracy,precision,recall --threshold 0.3 --output m.xdm --quiet");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const xdense::SavedModel saved = xdense::load_model(path("m.xdm").string());
  EXPECT_EQ(metadata(saved.info, "threshold"), "0.3");
  // Every metric taken at a threshold has this one, accuracy included.
  ASSERT_EQ(saved.model.metrics().size(), 3u);
  for (const auto& metric : saved.model.metrics()) {
    EXPECT_EQ(metric->config().value("threshold", 0.5), 0.3) << metric->name();
  }
  // predict labels a sample positive from p > 0.3, not 0.5.
  const CommandResult predict = xdense("predict --model m.xdm --data " + data_dir + "/breast_cancer.csv");
  ASSERT_EQ(predict.exit_code, 0) << predict.err;
  const std::vector<std::string> labels = column(predict.out, "label"), p1 = column(predict.out, "p_1");
  ASSERT_EQ(labels.size(), 569u);
  std::size_t between = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const double p = std::stod(p1[i]);
    EXPECT_EQ(labels[i], p > 0.3 ? "1" : "0") << "row " << i << ": p_1 " << p1[i];
    between += p > 0.3 && p <= 0.5;
  }
  EXPECT_GT(between, 0u) << "no probability between the thresholds: the test shows nothing";
}

// ---- resume: bit-identical with everything active

// The model file's bytes but its creation time, and the weights, compared between two files.
void expect_same_models(const fs::path& a, const fs::path& b) {
  xdense::SavedModel x = xdense::load_model(a.string()), y = xdense::load_model(b.string());
  EXPECT_EQ(x.model.get_weights(), y.model.get_weights());
  auto without_created = [](std::vector<std::pair<std::string, std::string>> metadata) {
    std::vector<std::pair<std::string, std::string>> kept;
    for (auto& entry : metadata) {
      if (entry.first != "created") kept.push_back(entry);
    }
    return kept;
  };
  EXPECT_EQ(without_created(x.info.metadata), without_created(y.info.metadata));
  EXPECT_EQ(x.model.optimizer()->config(), y.model.optimizer()->config());
}

TEST_F(Cli, ARunWithEveryControlResumesBitIdentically) {
  const std::string run = cancer +
                          "--validation-split 0.2 --lr 0.02 --early-stopping 4 --restore-best-weights "
                          "--reduce-lr-on-plateau factor=0.5,patience=1 --class-weight balanced "
                          "--metrics accuracy,auc --threshold 0.4 --monitor val_loss --save-best best.xdm --threads 1 --quiet ";
  constexpr int epochs = 60;
  const CommandResult straight = xdense(run + "--epochs " + std::to_string(epochs) + " --output straight.xdm --history straight.csv");
  ASSERT_EQ(straight.exit_code, 0) << straight.err;
  fs::rename(path("best.xdm"), path("straight_best.xdm"));
  const xdense::SavedModel reference = xdense::load_model(path("straight.xdm").string());
  const std::size_t stopped = std::stoul("0" + metadata(reference.info, "stopped_epoch"));
  ASSERT_GT(stopped, 4u) << "early stopping must stop the run, after a few epochs";
  ASSERT_LT(column(read_file(path("straight.csv")), "lr").back(), column(read_file(path("straight.csv")), "lr").front())
      << "the plateau must lower the rate";

  // Interrupted before the stop, and after it: each resumed with the full --epochs.
  for (const std::size_t first : {std::size_t{3}, stopped - 1, stopped + 2}) {
    SCOPED_TRACE("first part: " + std::to_string(first) + " epochs");
    fs::remove_all(path("ck"));
    fs::remove(path("best.xdm"));
    const CommandResult part = xdense(run + "--epochs " + std::to_string(first) + " --output part.xdm --checkpoint ck");
    ASSERT_EQ(part.exit_code, 0) << part.err;
    const CommandResult resumed = xdense(run + "--epochs " + std::to_string(epochs) +
                                         " --output resumed.xdm --history resumed.csv --checkpoint ck --resume ck");
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    expect_same_models(path("straight.xdm"), path("resumed.xdm"));
    expect_same_models(path("straight_best.xdm"), path("best.xdm"));
    EXPECT_EQ(rows_without(read_file(path("straight.csv")), "seconds"), rows_without(read_file(path("resumed.csv")), "seconds"));
  }
  // A resumed run must repeat the training-control flags.
  std::string other = run;
  other.replace(other.find("--early-stopping 4"), 18, "--early-stopping 5");
  expect_user_error(other + "--epochs 60 --output o.xdm --resume ck", {"--early-stopping '4' in the checkpoint, '5' now"});
}

}  // namespace
