// The command line's messages (issue 11): CLI11's parse errors reworded to name the option and
// quote what the user gave (cut to 60 characters), the optimizer and activation errors that reach
// the user, and the live progress bar's layout (apps/progress.cpp, compiled into this test), which
// must fit the terminal's width: on a real terminal stdout is a tty, which these runs never have.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli_support.hpp"
#include "progress.hpp"

namespace xdense::cli {
namespace {

using xdense::testing::Cli;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// ---- parse errors ----------------------------------------------------------------------------

class CliMessages : public Cli {
 protected:
  // A train command complete but for `extra`; its data is never read when parsing fails.
  static std::string train(const std::string& extra) {
    return "train --data " + std::string(XDENSE_DATA_DIR) +
           "/iris.csv --layers 3:softmax --loss cce --optimizer adam --batch-size 8 --output out.xdm " + extra;
  }
};

TEST_F(CliMessages, RepeatedOptionSaysHowManyTimesAndToGiveItOnce) {
  expect_user_error(train("--epochs 3 --epochs 4"), {"--epochs given 2 times; give it once"});
  expect_user_error(train("--epochs=3 --epochs 4 --epochs=5"), {"--epochs given 3 times; give it once"});
  expect_user_error(train("--epochs 3 --lr 0.1 --lr 0.2"), {"--lr given 2 times; give it once"});
  expect_user_error(train("--epochs 3 --batch-size 4"), {"--batch-size given 2 times; give it once"});
  const auto run = xdense(train("--epochs 3 --epochs 4"));
  EXPECT_FALSE(contains(run.err, "At Most")) << run.err;
  EXPECT_TRUE(contains(run.err, "see xdense train --help")) << run.err;
}

TEST_F(CliMessages, MissingRequiredOptionNamesItWithItsHelp) {
  expect_user_error(train(""), {"--epochs is required: Passes over the training data (at most 1,000,000), e.g. --epochs 20"});
  expect_user_error("summary", {"--model is required: Model file written by train"});
  expect_user_error("", {"expected a command: ", "train", "evaluate", "tutorial"});
}

TEST_F(CliMessages, UnknownOptionSuggestsTheNearestOne) {
  // Reported before the missing --epochs it probably causes.
  expect_user_error(train("--epoch 3"), {"unknown option '--epoch' for xdense train (did you mean --epochs?)"});
  expect_user_error(train("--epochs 3 --learning-rate 0.1"), {"unknown option '--learning-rate' for xdense train"});
  expect_user_error(train("--epochs 3 stray"), {"unexpected argument 'stray'"});
  expect_user_error("summary --model m.xdm --jsn", {"unknown option '--jsn' for xdense summary (did you mean --json?)"});
}

TEST_F(CliMessages, BadNumbersNameTheOptionTheKindAndTheValue) {
  expect_user_error(train("--epochs abc"), {"--epochs: expected an integer, received 'abc'; e.g. --epochs 20"});
  expect_user_error(train("--epochs 2.5"), {"--epochs: expected an integer, received '2.5'"});
  expect_user_error(train("--epochs 3 --lr x"), {"--lr: expected a number, received 'x'; e.g. --lr 0.005"});
  expect_user_error(train("--epochs 3 --validation-split half"), {"--validation-split: expected a number", "'half'"});
  expect_user_error(train("--epochs 3 --threads x"), {"--threads: expected an integer from 1 to 1024, received 'x'"});
  expect_user_error(train("--epochs 3 --threads 0"), {"--threads", "received '0'"});
  expect_user_error(train("--epochs 3 --lr"), {"--lr: missing its value (a number, e.g. --lr 0.005)"});
  expect_user_error("evaluate --data d.csv --model", {"--model: missing its value (e.g. --model cancer.xdm)"});
  expect_user_error(train("--layers 2:relu --model-config m.json --epochs 3"),
                    {"--layers given 2 times"});  // the train() command gives --layers already
}

TEST_F(CliMessages, LongOrMultiLineValuesAreCutAndStayOnOneLine) {
  const std::string long_value(200, 'x');
  const auto run = xdense(train("--epochs 3 --lr " + long_value));
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(xdense::testing::count_lines(run.err), 1u) << run.err;
  EXPECT_TRUE(contains(run.err, "'" + std::string(57, 'x') + "...'")) << run.err;
  EXPECT_FALSE(contains(run.err, std::string(58, 'x'))) << run.err;
  EXPECT_LT(run.err.size(), 200u) << run.err;
  // A value holding a line break (the shell gets it inside single quotes).
  expect_user_error(train("--epochs 'a\nb'"), {"received 'a\\nb'"});
  // The validators' own messages are cut too.
  expect_user_error(train("--epochs 3 --seed " + long_value), {"--seed", "'" + std::string(57, 'x') + "...'"});
}

// ---- errors of the library that reach the user ----------------------------------------------

TEST_F(CliMessages, AdamEpsilonZeroIsBlamedOnEpsilon) {
  for (const char* value : {"0", "-1e-7"}) {
    const auto run = xdense(train("--epochs 1 --quiet --epsilon " + std::string(value)));
    EXPECT_EQ(run.exit_code, 2) << run.err;
    EXPECT_TRUE(contains(run.err, "Adam: epsilon must be finite and > 0, received epsilon=")) << run.err;
    EXPECT_FALSE(contains(run.err, "learning rate")) << run.err;
    EXPECT_FALSE(std::filesystem::exists(path("out.xdm")));
  }
}

TEST_F(CliMessages, EmptyActivationBracketsAreRefused) {
  const std::string data = "--data " + std::string(XDENSE_DATA_DIR) + "/iris.csv";
  const std::string rest = " --loss cce --optimizer adam --epochs 1 --batch-size 8 --output out.xdm --quiet";
  expect_user_error("train " + data + " --layers '8:leaky_relu(),3:softmax'" + rest,
                    {"'8:leaky_relu()'", "empty brackets; write leaky_relu or leaky_relu(0.3)"});
  expect_user_error("train " + data + " --layers '8:leaky_relu(0.1,),3:softmax'" + rest, {"argument 2 is empty"});
  expect_user_error("train " + data + " --layers '8:leaky_relu(nan),3:softmax'" + rest,
                    {"expected a finite number, received 'nan'"});
  EXPECT_FALSE(std::filesystem::exists(path("out.xdm")));
}

// ---- the progress bar ------------------------------------------------------------------------

// Everything written to `out` (a tmpfile()), which is then closed.
std::string read_and_close(std::FILE* out) {
  std::rewind(out);
  std::string text;
  for (int c; (c = std::fgetc(out)) != EOF;) text += static_cast<char>(c);
  std::fclose(out);
  return text;
}

BarLine running(std::size_t batch, std::size_t batches) {
  BarLine line;
  line.batch = batch;
  line.batches = batches;
  line.step_seconds = batch > 1 ? 0.035 : NAN;
  line.loss = 0.6931;
  line.accuracy = 0.5123;
  return line;
}

TEST(ProgressBar, RedrawnLinesNeverReachTheLastColumn) {
  // Every width from 1 to 200, long epochs, huge losses and times, the closing line too when
  // its metrics fit: at most width - 1 characters.
  for (std::size_t width = 1; width <= 200; ++width) {
    for (std::size_t batches : {1u, 9u, 1875u, 12345678u}) {
      for (std::size_t batch : {std::size_t{1}, std::size_t{2}, batches / 2 + 1, batches}) {
        BarLine line = running(batch, batches);
        if (batch == 2) line.loss = 1.5e30, line.step_seconds = 4000.0;
        const std::string text = format_bar(line, width);
        ASSERT_LE(text.size(), width - 1) << "width " << width << ": '" << text << "'";
        ASSERT_EQ(text.find('\n'), std::string::npos);
      }
    }
  }
  BarLine closing = running(1875, 1875);
  closing.epoch_seconds = 65.6;
  closing.val_loss = 0.7;
  closing.val_accuracy = 0.5;
  for (std::size_t width = 90; width <= 200; ++width) EXPECT_LE(format_bar(closing, width).size(), width - 1);
}

TEST(ProgressBar, At80ColumnsTheBarShrinksBeforeAnythingIsDropped) {
  // The case: an 80-column terminal. Before, this line took 96 columns and every
  // redraw left a wrapped line behind.
  const std::string text = format_bar(running(938, 1875), 80);
  EXPECT_LE(text.size(), 79u) << text;
  for (const char* part : {" 938/1875 [", "=>", "] - ETA: 33s - 35ms/step - loss: 0.6931 - accuracy: 0.5123"}) {
    EXPECT_TRUE(contains(text, part)) << part << " in '" << text << "'";
  }
  // Wide enough, the full 30-character bar.
  EXPECT_TRUE(contains(format_bar(running(938, 1875), 200), "[" + std::string(15, '=') + ">" + std::string(14, '.') + "]"));
}

TEST(ProgressBar, NarrowTerminalsDropTimePerStepThenEtaThenTheBar) {
  const BarLine line = running(938, 1875);
  const std::string full = format_bar(line, 1000);
  std::vector<std::string> seen;
  std::string previous;
  for (std::size_t width = 100; width >= 10; --width) {
    const std::string text = format_bar(line, width);
    if (text != previous) seen.push_back(text);
    previous = text;
  }
  // The stages, widest first: each part disappears for good once dropped, in this order.
  const auto first_without = [&](const std::string& part) {
    for (std::size_t i = 0; i < seen.size(); ++i)
      if (!contains(seen[i], part)) return i;
    return seen.size();
  };
  const std::size_t step = first_without("/step"), eta = first_without("ETA"), bar = first_without("["),
                    accuracy = first_without("accuracy"), loss = first_without("loss");
  EXPECT_LT(step, eta);
  EXPECT_LT(eta, bar);
  EXPECT_LT(bar, accuracy);
  EXPECT_LT(accuracy, loss);
  EXPECT_LT(loss, seen.size());
  for (std::size_t i = first_without("ETA"); i < seen.size(); ++i) EXPECT_FALSE(contains(seen[i], "ETA")) << seen[i];
  // Just before the bar goes it is 10 characters long.
  EXPECT_TRUE(contains(seen[bar - 1], "[" + std::string(5, '=') + ">" + std::string(4, '.') + "]")) << seen[bar - 1];
  EXPECT_EQ(format_bar(line, 8), " 938/18");  // nothing else fits: the counter, cut
}

TEST(ProgressBar, NoEtaNorTimePerStepBeforeAStepWasTimed) {
  // Before: "1/1875 [...] - ETA: 0ms - 0us/step" (the first batch's time is not measured).
  const std::string first = format_bar(running(1, 1875), 200);
  EXPECT_FALSE(contains(first, "ETA")) << first;
  EXPECT_FALSE(contains(first, "/step")) << first;
  EXPECT_TRUE(contains(first, "   1/1875 [>")) << first;
  EXPECT_TRUE(contains(first, "] - loss: 0.6931")) << first;
  EXPECT_TRUE(contains(format_bar(running(2, 1875), 200), "ETA: 1m06s - 35ms/step")) << format_bar(running(2, 1875), 200);
}

TEST(ProgressBar, ClosingLineShowsTheEpochTimeAndKeepsEveryMetric) {
  BarLine line = running(1875, 1875);
  line.epoch_seconds = 65.6;
  line.val_loss = 0.25;
  line.val_accuracy = 0.875;
  EXPECT_EQ(format_bar(line, 200), "1875/1875 [" + std::string(30, '=') +
                                       "] - 1m06s 35ms/step - loss: 0.6931 - accuracy: 0.5123 - val_loss: 0.2500 - "
                                       "val_accuracy: 0.8750");
  // Narrower: the bar and the timing go while that makes the line fit.
  EXPECT_EQ(format_bar(line, 90), "1875/1875 - loss: 0.6931 - accuracy: 0.5123 - val_loss: 0.2500 - val_accuracy: 0.8750");
  // Too narrow for the metrics: the line is never redrawn, so it may wrap, keeping them all and the time.
  EXPECT_EQ(format_bar(line, 80), "1875/1875 - 1m06s 35ms/step - loss: 0.6931 - accuracy: 0.5123 - val_loss: 0.2500 - "
                                  "val_accuracy: 0.8750");
}

TEST(ProgressBar, ClosingLineShowsEveryCompiledMetricAndTheLearningRate) {
  BarLine line = running(10, 10);
  line.epoch_seconds = 1.0;
  line.metrics = {{"auc", 0.93125}, {"precision", NAN}};  // a metric not defined this epoch is left out
  line.val_loss = 0.25;
  line.val_accuracy = 0.875;
  line.val_metrics = {{"auc", 0.5}};
  line.learning_rate = 0.00025;
  EXPECT_EQ(format_bar(line, 200), "10/10 [" + std::string(30, '=') +
                                       "] - 1.0s 100ms/step - loss: 0.6931 - accuracy: 0.5123 - auc: 0.9313 - "
                                       "val_loss: 0.2500 - val_accuracy: 0.8750 - val_auc: 0.5000 - lr: 0.00025");

  // Not a terminal: one line per epoch, the same values; accuracy once though the log lists it too.
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  Progress progress(3, /*interactive=*/false, out);
  progress.show_learning_rate(true);
  EpochLog log;
  log.epoch = 2;
  log.loss = 0.5;
  log.accuracy = 0.75;
  log.metrics = {{"accuracy", 0.75}, {"f1", 0.625}};
  log.val_loss = 0.375;
  log.val_accuracy = 1.0;
  log.val_metrics = {{"accuracy", 1.0}, {"f1", 1.0}};
  log.learning_rate = 0.001;
  log.seconds = 0.5;
  progress.on_epoch_end(log);
  const std::string text = read_and_close(out);
  EXPECT_TRUE(contains(text, "Epoch 2/3 - ")) << text;
  EXPECT_TRUE(contains(text, " - loss: 0.5000 - accuracy: 0.7500 - f1: 0.6250 - val_loss: 0.3750 - val_accuracy: 1.0000 - "
                             "val_f1: 1.0000 - lr: 0.001\n"))
      << text;
}

TEST(ProgressBar, ProgressDrawsEveryLineWithinTheWidthItWasGiven) {
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  Progress progress(2, /*interactive=*/true, out, /*width=*/60);
  for (std::size_t epoch = 1; epoch <= 2; ++epoch) {
    for (std::size_t batch = 1; batch <= 3; ++batch) {
      BatchLog log;
      log.epoch = epoch;
      log.batch = batch;
      log.batches = 3;
      log.mean_loss = 123456.789;
      log.mean_accuracy = 0.5;
      progress.on_batch_end(log);
    }
    EpochLog log;
    log.epoch = epoch;
    log.loss = 1.0;
    log.accuracy = 0.5;
    log.val_loss = NAN;
    log.val_accuracy = NAN;
    log.seconds = 0.5;
    progress.on_epoch_end(log);
  }
  const std::string text = read_and_close(out);
  // Split at '\r' and '\n'; drop the erase-to-end-of-line sequence.
  std::size_t drawn = 0;
  std::string segment;
  for (char c : text + "\n") {
    if (c == '\r' || c == '\n') {
      if (segment.size() > 3 && segment.compare(segment.size() - 3, 3, "\033[K") == 0) segment.resize(segment.size() - 3);
      EXPECT_LE(segment.size(), 59u) << "'" << segment << "'";
      drawn += !segment.empty();
      segment.clear();
    } else {
      segment += c;
    }
  }
  EXPECT_GE(drawn, 6u) << text;  // "Epoch i/2", the first batch's bar and the closing line, twice
  EXPECT_TRUE(contains(text, "Epoch 2/2\n")) << text;
  EXPECT_TRUE(contains(text, "3/3 [")) << text;
}

TEST(ProgressBar, TerminalWidthFallsBackToColumnsThenTo80) {
  std::FILE* out = std::tmpfile();  // not a terminal
  ASSERT_NE(out, nullptr);
  const char* saved = std::getenv("COLUMNS");
  const std::string restore = saved ? saved : "";
  ::setenv("COLUMNS", "132", 1);
  EXPECT_EQ(terminal_width(out), 132u);
  for (const char* bad : {"", "abc", "0", "-5", "80x"}) {
    ::setenv("COLUMNS", bad, 1);
    EXPECT_EQ(terminal_width(out), 80u) << "COLUMNS='" << bad << "'";
  }
  ::unsetenv("COLUMNS");
  EXPECT_EQ(terminal_width(out), 80u);
  if (saved) ::setenv("COLUMNS", restore.c_str(), 1);
  std::fclose(out);
}

}  // namespace
}  // namespace xdense::cli
