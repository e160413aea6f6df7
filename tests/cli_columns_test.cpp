// End-to-end tests of how the xdense tool matches a file's columns to a model (issue 11: no silent
// wrong answers on real files): by name in any order, the label column remembered, headerless
// files refused or read with --no-header, every row kept by predict, non-finite outputs refused,
// degenerate set-ups refused with the reason.

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_support.hpp"

namespace {

namespace fs = std::filesystem;

using xdense::testing::Cli;
using xdense::testing::CommandResult;
using xdense::testing::count_lines;
using xdense::testing::read_file;

const std::string data_dir = XDENSE_DATA_DIR;
const std::string iris = data_dir + "/iris.csv";
const std::string iris_train_args =
    "--layers 8:relu,3:softmax --loss categorical_crossentropy --optimizer adam --lr 0.05 --epochs 30 "
    "--batch-size 16 --standardize --quiet";

// The rows of a CSV file split into fields (no quoting needed for these files).
std::vector<std::vector<std::string>> read_rows(const fs::path& file) { return xdense::testing::csv_rows(read_file(file)); }

// Writes the columns `order` of `rows` (and an id column first when `ids`) to `file`.
void write_columns(const fs::path& file, const std::vector<std::vector<std::string>>& rows,
                   const std::vector<std::size_t>& order, bool header = true, const std::string& id_name = "") {
  std::ofstream out(file);
  for (std::size_t r = header ? 0 : 1; r < rows.size(); ++r) {
    std::string line;
    if (!id_name.empty()) line = r == 0 ? id_name : "row" + std::to_string(r);
    for (std::size_t c : order) line += (line.empty() ? "" : ",") + rows[r][c];
    out << line << "\n";
  }
}

class CliColumns : public Cli {
 protected:
  void train_iris(const std::string& output = "iris.xdm", const std::string& extra = "") {
    const CommandResult run = xdense("train --data " + iris + " " + iris_train_args + " --output " + output + " " + extra);
    ASSERT_EQ(run.exit_code, 0) << run.err;
  }

  nlohmann::json evaluate_json(const std::string& args) {
    const CommandResult run = xdense("evaluate --json " + args);
    EXPECT_EQ(run.exit_code, 0) << args << "\n" << run.err;
    return run.exit_code == 0 ? nlohmann::json::parse(run.out) : nlohmann::json();
  }
};

TEST_F(CliColumns, ReorderedColumnsWithAnExtraIdColumnGiveTheSameResults) {
  train_iris();
  const auto rows = read_rows(iris);
  // species first, features in another order, plus an id column: matched by name.
  write_columns(path("reordered.csv"), rows, {4, 3, 0, 2, 1}, true, "id");
  const nlohmann::json original = evaluate_json("--model iris.xdm --data " + iris);
  const CommandResult run = xdense("evaluate --json --model iris.xdm --data reordered.csv");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const nlohmann::json reordered = nlohmann::json::parse(run.out);
  EXPECT_GT(original.at("accuracy").get<double>(), 0.9);
  EXPECT_EQ(reordered.at("accuracy"), original.at("accuracy"));
  EXPECT_EQ(reordered.at("loss"), original.at("loss"));
  EXPECT_EQ(reordered.at("samples").get<int>(), 150);
  EXPECT_NE(run.err.find("note: reordered.csv: ignoring column the model does not use: id"), std::string::npos)
      << run.err;

  // predict gives the same probabilities whatever the column order.
  ASSERT_EQ(xdense("predict --model iris.xdm --data " + iris + " --output a.csv").exit_code, 0);
  ASSERT_EQ(xdense("predict --model iris.xdm --data reordered.csv --output b.csv").exit_code, 0);
  EXPECT_EQ(read_file(path("a.csv")), read_file(path("b.csv")));
}

TEST_F(CliColumns, AFileMissingAFeatureIsRefusedNamingIt) {
  train_iris();
  const auto rows = read_rows(iris);
  // petal_width missing but the label kept: positional reading would have used the label as a feature.
  write_columns(path("missing.csv"), rows, {0, 1, 2, 4});
  expect_user_error("evaluate --model iris.xdm --data missing.csv",
                    {"missing.csv", "missing feature column petal_width"});
  expect_user_error("predict --model iris.xdm --data missing.csv --output p.csv", {"missing feature column petal_width"});
  EXPECT_FALSE(fs::exists(path("p.csv")));
}

TEST_F(CliColumns, TheModelsLabelColumnIsUsedByNameAndIsOptionalForPredict) {
  // Label in the middle: the model remembers it, evaluate does not take "the last column".
  const auto rows = read_rows(iris);
  write_columns(path("mid.csv"), rows, {0, 1, 4, 2, 3});
  ASSERT_EQ(xdense("train --data mid.csv --label-column species " + iris_train_args + " --output m.xdm").exit_code, 0);
  const CommandResult summary = xdense("summary --model m.xdm");
  EXPECT_NE(summary.out.find("label_column: species"), std::string::npos) << summary.out;
  EXPECT_GT(evaluate_json("--model m.xdm --data mid.csv").at("accuracy").get<double>(), 0.9);
  EXPECT_GT(evaluate_json("--model m.xdm --data " + iris).at("accuracy").get<double>(), 0.9);

  write_columns(path("features.csv"), rows, {3, 2, 1, 0});
  const CommandResult predict = xdense("predict --model m.xdm --data features.csv");
  ASSERT_EQ(predict.exit_code, 0) << predict.err;
  EXPECT_EQ(count_lines(predict.out), 151u);
  expect_user_error("evaluate --model m.xdm --data features.csv", {"features.csv", "unknown label column 'species'"});
}

TEST_F(CliColumns, HeaderlessCsvIsRefusedWithAHintOrReadWithNoHeader) {
  const auto rows = read_rows(iris);
  write_columns(path("headerless.csv"), rows, {0, 1, 2, 3, 4}, /*header=*/false);
  expect_user_error("train --data headerless.csv " + iris_train_args + " --output h.xdm",
                    {"headerless.csv:1", "the first row", "--no-header"});
  EXPECT_FALSE(fs::exists(path("h.xdm")));

  ASSERT_EQ(xdense("train --data headerless.csv --no-header " + iris_train_args + " --output h.xdm").exit_code, 0);
  const CommandResult summary = xdense("summary --model h.xdm");
  EXPECT_NE(summary.out.find("training_samples: 150"), std::string::npos) << summary.out;  // no row lost
  const CommandResult predict = xdense("predict --model h.xdm --data headerless.csv --no-header");
  ASSERT_EQ(predict.exit_code, 0) << predict.err;
  EXPECT_EQ(count_lines(predict.out), 151u);
  EXPECT_GT(evaluate_json("--model h.xdm --data headerless.csv --no-header").at("accuracy").get<double>(), 0.9);
  // The same model on a file with a header: told how to give it, not matched by accident.
  expect_user_error("predict --model h.xdm --data " + iris, {"without a header row", "--no-header"});
  // And a named model given --no-header.
  train_iris();
  expect_user_error("predict --model iris.xdm --data headerless.csv --no-header",
                    {"--no-header", "matches columns by name"});
  expect_user_error("predict --model iris.xdm --data headerless.csv", {"headerless.csv:1", "--no-header"});
}

TEST_F(CliColumns, PredictKeepsEveryRowInOrderAndCopiesTheIdColumn) {
  const auto rows = read_rows(iris);
  write_columns(path("with_id.csv"), rows, {0, 1, 2, 3, 4}, true, "flower");
  ASSERT_EQ(xdense("train --data with_id.csv --drop-columns flower --classes setosa,virginica "
                   "--layers 4:relu,1:sigmoid --loss binary_crossentropy --optimizer adam --lr 0.05 --epochs 20 "
                   "--batch-size 16 --standardize --quiet --output pair.xdm")
                .exit_code,
            0);
  const CommandResult run = xdense("predict --model pair.xdm --data with_id.csv --id-column flower --output p.csv");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("note: 50 of 150 samples have a true class outside the model's classes (setosa, virginica); "
                         "predicted anyway"),
            std::string::npos)
      << run.err;
  const auto predictions = read_rows(path("p.csv"));
  ASSERT_EQ(predictions.size(), 151u);  // every input row, versicolor included
  EXPECT_EQ(predictions[0], (std::vector<std::string>{"flower", "label", "p_setosa", "p_virginica"}));
  for (std::size_t r = 1; r < predictions.size(); ++r) EXPECT_EQ(predictions[r][0], "row" + std::to_string(r));
  EXPECT_EQ(predictions[1][1], "setosa");
  EXPECT_EQ(predictions[150][1], "virginica");
  // evaluate still scores only the model's classes.
  const CommandResult evaluate = xdense("evaluate --model pair.xdm --data with_id.csv --json");
  ASSERT_EQ(evaluate.exit_code, 0) << evaluate.err;
  EXPECT_EQ(nlohmann::json::parse(evaluate.out).at("samples").get<int>(), 100);
  expect_user_error("predict --model pair.xdm --data with_id.csv --id-column nope", {"unknown id column 'nope'"});
}

TEST_F(CliColumns, FeatureColumnsAndPandasIndexColumn) {
  // pandas' to_csv writes its index as a first column without a name.
  const auto rows = read_rows(iris);
  {
    std::ofstream out(path("pandas.csv"));
    for (std::size_t r = 0; r < rows.size(); ++r) {
      out << (r == 0 ? "" : std::to_string(r - 1));
      for (const auto& field : rows[r]) out << "," << field;
      out << "\n";
    }
  }
  expect_user_error("train --data pandas.csv " + iris_train_args + " --output x.xdm",
                    {"pandas.csv", "'Unnamed: 0'", "--drop-columns"});
  const CommandResult dropped =
      xdense("train --data pandas.csv --drop-columns 'Unnamed: 0' " + iris_train_args + " --output d.xdm");
  ASSERT_EQ(dropped.exit_code, 0) << dropped.err;
  EXPECT_NE(xdense("summary --model d.xdm").out.find("Inputs: 4 features"), std::string::npos);
  ASSERT_EQ(xdense("train --data pandas.csv --feature-columns petal_length,petal_width " + iris_train_args +
                   " --output f.xdm")
                .exit_code,
            0);
  const CommandResult summary = xdense("summary --model f.xdm");
  EXPECT_NE(summary.out.find("Inputs: 2 features"), std::string::npos) << summary.out;
  // A model of two features predicts on the full file, ignoring the rest with a note.
  const CommandResult predict = xdense("predict --model f.xdm --data " + iris + " --output p.csv");
  ASSERT_EQ(predict.exit_code, 0) << predict.err;
  EXPECT_NE(predict.err.find("ignoring columns the model does not use: sepal_length, sepal_width"), std::string::npos)
      << predict.err;
  expect_user_error("train --data " + iris + " --feature-columns petal_length,petal_size " + iris_train_args +
                        " --output g.xdm",
                    {"missing feature column petal_size"});
  expect_user_error("train --data " + iris + " --drop-columns sepal " + iris_train_args + " --output g.xdm",
                    {"unknown column to drop 'sepal'"});
  expect_user_error("train --data " + iris + " --feature-columns petal_length,species " + iris_train_args +
                        " --output g.xdm",
                    {"'species' is the label column"});
}

TEST_F(CliColumns, NonFiniteOutputsAreRefusedNamingTheRowAndNothingIsWritten) {
  train_iris();
  {
    std::ofstream out(path("huge.csv"));
    out << "sepal_length,sepal_width,petal_length,petal_width,species\n"
        << "5.1,3.5,1.4,0.2,setosa\n"
        << "3.4028235e38,-3.4028235e38,3e38,3e38,setosa\n";
  }
  expect_user_error("predict --model iris.xdm --data huge.csv --output p.csv",
                    {"huge.csv:3 (sample 2)", "not finite", "nothing was written"});
  EXPECT_FALSE(fs::exists(path("p.csv")));
  const CommandResult evaluate = xdense("evaluate --model iris.xdm --data huge.csv --json");
  EXPECT_EQ(evaluate.exit_code, 2) << evaluate.out;
  EXPECT_EQ(evaluate.out, "");
  EXPECT_NE(evaluate.err.find("huge.csv:3"), std::string::npos) << evaluate.err;
}

TEST_F(CliColumns, DegenerateSetUpsAreRefusedOrWarnedWithTheReason) {
  expect_user_error("train --data " + iris + " --classes setosa " + iris_train_args + " --output x.xdm",
                    {"only one class (setosa)", "at least 2"});
  std::ofstream(path("one_class.csv")) << "a,b,y\n1,2,0\n3,4,0\n5,6,0\n";
  expect_user_error("train --data one_class.csv --layers 1:sigmoid --loss bce --optimizer adam --epochs 1 "
                    "--batch-size 2 --output x.xdm",
                    {"one_class.csv", "only one class (0)"});
  expect_user_error("train --data " + iris +
                        " --layers 4:softmax --loss cce --optimizer adam --epochs 1 --batch-size 8 --output x.xdm",
                    {"3 classes (setosa, versicolor, virginica)", "4 units", "use an output layer of 3 units"});
  EXPECT_FALSE(fs::exists(path("x.xdm")));
  const CommandResult split = xdense("train --data " + iris + " --validation-split 0.99 --layers 8:relu,3:softmax "
                                     "--loss cce --optimizer adam --epochs 1 --batch-size 16 --output s.xdm");
  EXPECT_EQ(split.exit_code, 0) << split.err;
  EXPECT_NE(split.err.find("warning: --validation-split 0.99 leaves 3 of 150 samples for training"), std::string::npos)
      << split.err;
}

TEST_F(CliColumns, QuietStillPrintsTheTestResult) {
  const CommandResult run =
      xdense("train --data " + iris + " --test " + iris + " " + iris_train_args + " --output q.xdm");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(count_lines(run.out), 1u) << run.out;
  EXPECT_EQ(run.out.rfind("Test: loss ", 0), 0u) << run.out;
}

TEST_F(CliColumns, TestFileColumnsAreMatchedByNameToo) {
  const auto rows = read_rows(iris);
  write_columns(path("test.csv"), rows, {3, 4, 1, 0, 2});
  const CommandResult run = xdense("train --data " + iris + " --test test.csv " + iris_train_args + " --output t.xdm");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  double accuracy = 0;
  ASSERT_EQ(std::sscanf(run.out.c_str(), "Test: loss %*f - accuracy %lf", &accuracy), 1) << run.out;
  EXPECT_GT(accuracy, 0.9);
}

TEST_F(CliColumns, TextEncodingsAndLineEndings) {
  std::ofstream(path("utf16.csv"), std::ios::binary) << std::string("\xFF\xFE" "a\0,\0y\0\n\0", 10);
  expect_user_error("train --data utf16.csv --layers 1:sigmoid --loss bce --optimizer adam --epochs 1 --batch-size 2 "
                    "--output x.xdm",
                    {"utf16.csv", "UTF-16 text is not supported; convert the file to UTF-8"});
  // Old Mac line endings (CR only) are line endings, not one long header.
  std::ofstream(path("cr.csv"), std::ios::binary) << "a,b,y\r1,2,0\r3,4,1\r5,6,0\r7,8,1\r";
  const CommandResult run = xdense("train --data cr.csv --layers 1:sigmoid --loss bce --optimizer adam --epochs 1 "
                                   "--batch-size 2 --output cr.xdm --quiet");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(xdense("summary --model cr.xdm").out.find("training_samples: 4"), std::string::npos);
}

TEST_F(CliColumns, OutputsFolderMustExistForEveryCommand) {
  train_iris();
  expect_user_error("predict --model iris.xdm --data " + iris + " --output missing/p.csv",
                    {"missing/p.csv", "folder 'missing' does not exist"});
  expect_user_error("export --model iris.xdm --npy missing/w", {"folder 'missing' does not exist"});
  expect_user_error("train --data " + iris + " " + iris_train_args + " --output missing/m.xdm",
                    {"folder 'missing' does not exist"});
  expect_user_error("train --data " + iris + " " + iris_train_args + " --output c.xdm --checkpoint missing/ck",
                    {"missing/ck", "folder 'missing' does not exist"});
  EXPECT_FALSE(fs::exists(path("missing")));
}

}  // namespace
