#include "xdense/callback.hpp"

#include <nlohmann/json.hpp>

#include "xdense/error.hpp"

namespace xdense {

Config Callback::config() const { return Config::object(); }

Config Callback::state() const { return nullptr; }

void Callback::restore_state(const Config& state) {
  if (!state.is_null()) {
    throw InvalidArgument(name() + ": keeps no state, but a state was given to restore: " + state.dump().substr(0, 80));
  }
}

}  // namespace xdense
