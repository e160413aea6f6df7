#pragma once
// What the callbacks watching one value of the epoch log share (EarlyStopping, ModelCheckpoint,
// ReduceLROnPlateau), as Keras's MonitorCallback: the direction of the monitored value, reading it
// from the log, and their state's JSON (exact numbers, counters). Not part of the API.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "xdense/atomic_file.hpp"
#include "xdense/config.hpp"

namespace xdense {

class Sequential;
struct EpochLog;

namespace detail {

/// True when the monitored value is to be maximised: mode "max", or mode "auto" and a name that
/// rises as the model improves (callbacks.md, "mode"); false for "min". InvalidArgument "<who>: ..."
/// for any other mode.
bool monitor_maximizes(const std::string& mode, const std::string& monitor, const std::string& who);

/// InvalidArgument "<who>: monitor '<key>' is not a value fit() logs for this model (it logs ...)"
/// unless `monitor` is "loss", "val_loss", "lr", "learning_rate", a compiled metric's name, or
/// "val_" + one: a typo fails before the first epoch.
void check_monitor(const Sequential& model, const std::string& monitor, const std::string& who);

/// The log's value of `monitor`; nullopt when the log does not have it (validation values without
/// validation data), which `who` reports once on stderr (the first time: `warned` is then set), as
/// Keras warns, saying what it does then (`instead`: "those epochs are not counted").
std::optional<double> monitored_value(const EpochLog& log, const std::string& monitor, const std::string& who,
                                      const std::string& instead, bool& warned);

/// A double as JSON that reads back bit for bit: a number when finite (nlohmann writes the shortest
/// text that reads back as the same double), else "nan", "inf" or "-inf".
Config exact_number(double value);

/// Reads a callback's state: each getter checks the key's type and names the callback, the key and
/// what was received in an InvalidArgument; finish() refuses keys no getter read.
class StateReader {
 public:
  /// InvalidArgument unless `state` is an object.
  StateReader(const Config& state, std::string who);
  StateReader(Config&& state, std::string who) = delete;

  std::size_t count(const std::string& key);
  /// What exact_number() wrote.
  double number(const std::string& key);
  /// null -> nullopt, else as number().
  std::optional<double> optional_number(const std::string& key);
  bool boolean(const std::string& key);
  std::string text(const std::string& key);
  /// Arrays of floats (weights), each number exactly a float; null -> none.
  std::vector<std::vector<float>> float_arrays(const std::string& key);
  /// InvalidArgument unless the state's "monitor" is `monitor`: a state of a callback watching
  /// another value would be meaningless.
  void expect_monitor(const std::string& monitor);
  void finish() const;

 private:
  const Config& value(const std::string& key);
  [[noreturn]] void fail(const std::string& key, const std::string& expected) const;

  const Config& state_;
  std::string who_;
  std::vector<std::string> read_;
};

/// Writing options for a callback's file that must be replaced atomically (require_regular):
/// `what` names it in messages ("a model file").
WriteOptions regular_file(const std::string& what);

/// Weights (Sequential::get_weights()) as JSON arrays of numbers, exact.
Config float_arrays_json(const std::vector<std::vector<float>>& arrays);

}  // namespace detail
}  // namespace xdense
