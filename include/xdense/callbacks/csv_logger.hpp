#pragma once
/// \file
/// CSVLogger: writes each epoch's log to a CSV file (Keras 3's keras.callbacks.CSVLogger), and
/// history_csv(), the CSV form of a whole History (the xdense tool's --history file).
///
///   options.callbacks = {std::make_shared<xdense::CSVLogger>("training.csv")};
///   ...
///   std::string csv = xdense::history_csv(model.fit(x, y, options));

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "xdense/callback.hpp"

namespace xdense {

struct History;

/// Settings of CSVLogger (Keras's).
struct CSVLoggerOptions {
  /// Between fields.
  char separator = ',';
  /// Continue an existing file (a resumed run) instead of replacing it; its header must be the
  /// one this run writes.
  bool append = false;
};

/// Keras's CSVLogger. The columns are "epoch" (Keras's 0-based epoch index: the first epoch is 0)
/// and the epoch log's keys in their order (EpochLog::keys(): loss, metrics, val_loss, validation
/// metrics, lr; Keras sorts them by name), fixed at the first epoch. A value is written as the
/// shortest text that reads back as the same double (as Python's repr: 0.6931471805599453),
/// "nan"/"inf"/"-inf" when not finite, "NA" when an epoch lacks a column (as Keras).
///
/// Where Keras appends a line to an open file, CSVLogger rewrites the whole file atomically
/// (atomic_file.hpp) at each epoch end: the file always holds complete lines, and a crash leaves
/// the last complete version. With append, the file's lines at on_train_begin come first; a
/// non-empty file whose header differs from this run's is refused (DataError naming the file and
/// both headers, at the first epoch end, before anything is written). The path must be a regular
/// file or a new one (checked at on_train_begin: DataError naming it).
class CSVLogger final : public Callback {
 public:
  /// InvalidArgument for an empty filename or a separator that is a quote, a line break or a
  /// character of a number.
  explicit CSVLogger(std::string filename, CSVLoggerOptions options = {});

  std::string name() const override { return "CSVLogger"; }
  /// {"filename", "separator", "append"}.
  Config config() const override;

  void on_train_begin(Sequential& model) override;
  void on_epoch_end(Sequential& model, const EpochLog& log) override;

  /// {"rows": the epoch lines the file holds}, so that a resumed run rewrites the file an
  /// uninterrupted one would.
  Config state() const override;
  /// Takes what state() returned: the next on_train_begin keeps the file's header and its first
  /// `rows` epoch lines (dropping lines of epochs logged after the checkpoint), whatever `append`
  /// says; DataError there when the file holds fewer. InvalidArgument for another state.
  void restore_state(const Config& state) override;

  const std::string& filename() const { return filename_; }
  const CSVLoggerOptions& options() const { return options_; }

 private:
  std::string filename_;
  CSVLoggerOptions options_;
  std::string previous_;                      // the file's lines kept with append (header included), "" otherwise
  std::vector<std::string> keys_;             // columns after "epoch"; empty before the first epoch
  std::string lines_;                         // header (unless previous_ has it) and this run's rows
  std::size_t rows_ = 0;                      // epoch lines in the file (previous_'s and this run's)
  std::optional<std::size_t> restored_rows_;  // set by restore_state() until on_train_begin
};

/// The CSV form of a history, one line per epoch: epoch (1-based, as EpochLog::epoch), loss, the
/// compiled metrics (in the epochs' order), val_loss, val_<metric> for each metric, lr, seconds.
/// Numbers as printf "%.6g"; a value not computed (NaN: no validation data) is an empty field.
/// The columns come from the metrics of the first epoch (only "epoch,loss,val_loss,lr,seconds"
/// for an empty history).
std::string history_csv(const History& history, char separator = ',');

}  // namespace xdense
