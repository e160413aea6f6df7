// Tests of include/xdense/callbacks/csv_logger.hpp: the file after each epoch (columns, exact
// numbers, NaN, a missing value), append (continuing, refusing another header), the separator, a
// real fit() whose file reads back as its history, and history_csv().

#include "xdense/callbacks/csv_logger.hpp"

#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "callback_test_support.hpp"
#include "error_messages.hpp"
#include "xdense/error.hpp"
#include "xdense/metric.hpp"

namespace xdense {
namespace {

using testing::contains;
using testing::epoch_log;
using testing::message_of;
using testing::nan_value;

class CSVLoggerTest : public testing::TempFolderTest {};

EpochLog full_log(std::size_t epoch, double loss, double mae, double val_loss, double val_mae, double lr) {
  EpochLog log = epoch_log(epoch, loss, val_loss, {{"mae", mae}}, {{"mae", val_mae}});
  log.learning_rate = lr;
  return log;
}

TEST_F(CSVLoggerTest, WritesTheWholeFileAfterEachEpoch) {
  const std::string file = path("log.csv");
  CSVLogger logger(file);
  EXPECT_EQ(logger.name(), "CSVLogger");
  EXPECT_EQ(logger.config(), (Config{{"filename", file}, {"separator", ","}, {"append", false}}));
  Sequential model = testing::small_model();
  logger.on_train_begin(model);
  EXPECT_FALSE(std::ifstream(file).good());  // nothing before the first epoch
  logger.on_epoch_end(model, full_log(1, 0.5, 0.25, 0.75, 0.125, 0.001));
  const std::string header = "epoch,loss,mae,val_loss,val_mae,lr\n";
  EXPECT_EQ(read(file), header + "0,0.5,0.25,0.75,0.125,0.001\n");
  // Numbers as the shortest text that reads back exactly; NaN as "nan".
  logger.on_epoch_end(model, full_log(2, 1.0 / 3.0, 0.1 + 0.2, nan_value, 1e-300, static_cast<double>(0.001f)));
  EXPECT_EQ(read(file), header +
                            "0,0.5,0.25,0.75,0.125,0.001\n1,0.3333333333333333,0.30000000000000004,nan,1e-300,"
                            "0.0010000000474974513\n");
  // A column an epoch lacks is "NA" (Keras's mark).
  logger.on_epoch_end(model, epoch_log(3, 2.0, 4.0));
  EXPECT_TRUE(contains(read(file), "\n2,2,NA,4,NA,NA\n"));
  logger.on_train_end(model);
}

TEST_F(CSVLoggerTest, ReplacesAnExistingFileUnlessAppending) {
  const std::string file = path("log.csv");
  write(file, "old contents\n");
  Sequential model = testing::small_model();
  CSVLogger logger(file);
  logger.on_train_begin(model);
  logger.on_epoch_end(model, epoch_log(1, 2.0, 3.0));
  EXPECT_EQ(read(file), "epoch,loss,val_loss\n0,2,3\n");

  // append continues the file: its lines first, no second header, epochs numbered as fit() counts.
  CSVLoggerOptions options;
  options.append = true;
  CSVLogger more(file, options);
  more.on_train_begin(model);
  more.on_epoch_end(model, epoch_log(2, 1.5, 2.5));
  more.on_epoch_end(model, epoch_log(3, 1.25, 2.25));
  EXPECT_EQ(read(file), "epoch,loss,val_loss\n0,2,3\n1,1.5,2.5\n2,1.25,2.25\n");

  // A file with other columns is refused, untouched.
  CSVLogger other(file, options);
  other.on_train_begin(model);
  const std::string before = read(file);
  const std::string message = message_of<DataError>([&] { other.on_epoch_end(model, epoch_log(4, 1.0)); });
  EXPECT_TRUE(contains(message, file +
                                    ": CSVLogger with append continues a file with the same columns, but its header is "
                                    "'epoch,loss,val_loss' and this run logs 'epoch,loss'"));
  EXPECT_EQ(read(file), before);

  // append to a missing or empty file starts it with the header.
  for (const bool exists : {false, true}) {
    const std::string fresh = path(exists ? "empty.csv" : "new.csv");
    if (exists) write(fresh, "");
    CSVLogger start(fresh, options);
    start.on_train_begin(model);
    start.on_epoch_end(model, epoch_log(1, 2.0));
    EXPECT_EQ(read(fresh), "epoch,loss\n0,2\n");
  }
}

TEST_F(CSVLoggerTest, SeparatorAndErrors) {
  const std::string file = path("log.tsv");
  CSVLoggerOptions options;
  options.separator = '\t';
  CSVLogger logger(file, options);
  Sequential model = testing::small_model();
  logger.on_train_begin(model);
  logger.on_epoch_end(model, epoch_log(1, 2.0, 3.0));
  EXPECT_EQ(read(file), "epoch\tloss\tval_loss\n0\t2\t3\n");

  for (const char bad : {'"', '\n', '.', '-', '5', 'e'}) {
    options.separator = bad;
    EXPECT_TRUE(
        contains(message_of<InvalidArgument>([&] { CSVLogger(file, options); }), "CSVLogger: the separator cannot be"))
        << bad;
  }
  EXPECT_TRUE(contains(message_of<InvalidArgument>([] { CSVLogger(""); }), "CSVLogger: expected a file name"));
  CSVLogger missing_folder(path("no/log.csv"));
  EXPECT_TRUE(contains(message_of<DataError>([&] { missing_folder.on_train_begin(model); }), "no/log.csv"));
}

TEST_F(CSVLoggerTest, AResumedRunRewritesTheFileAnUninterruptedOneWould) {
  const std::string file = path("log.csv");
  Sequential model = testing::small_model();
  CSVLogger first(file);
  first.on_train_begin(model);
  for (std::size_t e = 1; e <= 4; ++e) {
    first.on_epoch_end(model, epoch_log(e, 1.0 / static_cast<double>(e)));
    // The checkpoint is taken after epoch 2; epochs 3 and 4 are logged, then the run dies.
    if (e == 2) {
      EXPECT_EQ(first.state(), (Config{{"rows", 2}}));
    }
  }
  const std::string whole = read(file);
  const Config state = Config::from_cbor(Config::to_cbor(Config{{"rows", 2}}));
  CSVLogger resumed(file);  // append false: the restored state decides
  resumed.restore_state(state);
  resumed.on_train_begin(model);
  for (std::size_t e = 3; e <= 4; ++e) resumed.on_epoch_end(model, epoch_log(e, 1.0 / static_cast<double>(e)));
  EXPECT_EQ(read(file), whole);
  EXPECT_EQ(resumed.state(), (Config{{"rows", 4}}));

  // A file shorter than the state says is refused.
  CSVLogger too_many(file);
  too_many.restore_state({{"rows", 5}});
  EXPECT_TRUE(contains(message_of<DataError>([&] { too_many.on_train_begin(model); }),
                       file + ": CSVLogger resumes a run that had logged 5 epochs to this file, but it holds 4"));
  CSVLogger bad(file);
  EXPECT_TRUE(contains(message_of<InvalidArgument>([&] {
                         bad.restore_state({{"rows", "2"}});
                       }),
                       "CSVLogger state: \"rows\": expected an integer >= 0"));
  // Not restored, append false: a new file.
  CSVLogger fresh(file);
  fresh.on_train_begin(model);
  fresh.on_epoch_end(model, epoch_log(1, 1.0));
  EXPECT_EQ(read(file), "epoch,loss\n0,1\n");
}

// The file of a real fit() reads back as its history, value for value.
TEST_F(CSVLoggerTest, AFitsFileReadsBackAsItsHistory) {
  const testing::Data data = testing::regression_data();
  Sequential model = testing::small_model(0.05f);
  model.add_metric(make_metric("mae"));
  const std::string file = path("fit.csv");
  FitOptions fit;
  fit.epochs = 3;
  fit.batch_size = 16;
  fit.validation_split = 0.25;
  fit.callbacks = {std::make_shared<CSVLogger>(file)};
  const History history = model.fit(data.x, data.y, fit);
  std::istringstream lines(read(file));
  std::string line;
  std::getline(lines, line);
  const std::vector<std::string> keys = history.epochs[0].keys();
  std::string header = "epoch";
  for (const std::string& key : keys) header += "," + key;
  EXPECT_EQ(line, header);
  EXPECT_EQ(line, "epoch,loss,mae,val_loss,val_mae,lr");
  for (const EpochLog& e : history.epochs) {
    ASSERT_TRUE(std::getline(lines, line));
    std::istringstream fields(line);
    std::string field;
    std::getline(fields, field, ',');
    EXPECT_EQ(field, std::to_string(e.epoch - 1));
    for (const std::string& key : keys) {
      std::getline(fields, field, ',');
      EXPECT_EQ(std::strtod(field.c_str(), nullptr), e.value(key)) << key << " epoch " << e.epoch;
    }
  }
  EXPECT_FALSE(std::getline(lines, line));
}

TEST(HistoryCsv, ColumnsAndFormat) {
  History history;
  EpochLog first = epoch_log(1, 0.6931471805599453, 0.5, {{"accuracy", 0.5}, {"auc", 2.0 / 3.0}},
                             {{"accuracy", 0.75}, {"auc", 0.8}});
  first.learning_rate = static_cast<double>(0.001f);
  first.seconds = 0.0123456789;
  EpochLog second = epoch_log(2, 0.25, nan_value, {{"accuracy", 1.0}, {"auc", 1.0}});
  second.learning_rate = 0.0005;
  second.seconds = 12.5;
  history.epochs = {first, second};
  EXPECT_EQ(history_csv(history),
            "epoch,loss,accuracy,auc,val_loss,val_accuracy,val_auc,lr,seconds\n"
            "1,0.693147,0.5,0.666667,0.5,0.75,0.8,0.001,0.0123457\n"
            "2,0.25,1,1,,,,0.0005,12.5\n");
  EXPECT_EQ(history_csv(history, ';').substr(0, 20), "epoch;loss;accuracy;");
  EXPECT_EQ(history_csv(History{}), "epoch,loss,val_loss,lr,seconds\n");
  // No metrics, no learning rate known.
  History plain;
  plain.epochs = {epoch_log(1, 2.0)};
  EXPECT_EQ(history_csv(plain), "epoch,loss,val_loss,lr,seconds\n1,2,,,0\n");
}

}  // namespace
}  // namespace xdense
