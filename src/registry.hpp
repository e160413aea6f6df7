#pragma once
// One registry per component family (layers, optimizers, losses): kind name -> factory, with
// aliases, built on first use (so registration from static initialisers in any translation unit
// works in any order) and guarded by a mutex (a user may register from several threads).

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "xdense/error.hpp"

namespace xdense::detail {

template <typename Factory>
class Registry {
 public:
  /// `family` names the kind of component in messages: "layer", "optimizer", "loss".
  explicit Registry(std::string family) : family_(std::move(family)) {}

  /// Adds `name` with `aliases`; replaces an entry of the same name. Names are compared exactly.
  void add(const std::string& name, Factory factory, const std::vector<std::string>& aliases) {
    if (name.empty() || name.find_first_of("(), \t\n") != std::string::npos) {
      throw InvalidArgument("register_" + family_ + ": expected a name without spaces, commas or parentheses, "
                            "received " + quote_value(name));
    }
    if (!factory) throw InvalidArgument("register_" + family_ + ": empty factory for " + quote_value(name));
    std::lock_guard<std::mutex> lock(mutex_);
    factories_[name] = std::move(factory);
    aliases_[name] = name;
    for (const auto& alias : aliases) aliases_[alias] = name;
  }

  /// The factory registered as `name` (or an alias of it), with its canonical name; throws
  /// InvalidArgument naming the known kinds otherwise.
  std::pair<std::string, Factory> find(const std::string& name) const {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      const auto alias = aliases_.find(name);
      if (alias != aliases_.end()) return {alias->second, factories_.at(alias->second)};
    }
    throw InvalidArgument("unknown " + family_ + " " + quote_value(name) + " (expected one of: " +
                          name_list(names()) + ")");
  }

  /// Canonical names, sorted.
  std::vector<std::string> names() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> list;
    for (const auto& entry : factories_) list.push_back(entry.first);
    return list;
  }

  /// Aliases of canonical `name` (not including it), sorted.
  std::vector<std::string> aliases_of(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> list;
    for (const auto& [alias, target] : aliases_) {
      if (target == name && alias != name) list.push_back(alias);
    }
    return list;
  }

 private:
  std::string family_;
  mutable std::mutex mutex_;
  std::map<std::string, Factory> factories_;
  std::map<std::string, std::string> aliases_;
};

}  // namespace xdense::detail
