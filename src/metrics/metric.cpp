#include "xdense/metric.hpp"

#include <nlohmann/json.hpp>

#include "../registry.hpp"
#include "xdense/error.hpp"

namespace xdense {
namespace {

detail::Registry<MetricFactory>& metrics() {
  static detail::Registry<MetricFactory> registry("metric");
  return registry;
}

}  // namespace

Config Metric::config() const { return Config::object(); }

void Metric::check_model(std::size_t /*units*/, const Loss& /*loss*/) const {}

std::vector<double> Metric::partial_state() const { return {}; }

void Metric::merge(const std::vector<double>& /*partial*/) {
  throw StateError("metric " + quote_value(name()) +
                   " cannot be combined over several processes: it does not override Metric::partial_state() "
                   "and Metric::merge()");
}

void register_metric(const std::string& name, MetricFactory factory, const std::vector<std::string>& aliases) {
  metrics().add(name, std::move(factory), aliases);
}

std::vector<std::string> metric_names() { return metrics().names(); }

std::unique_ptr<Metric> make_metric(const std::string& name) { return make_metric(name, Config::object()); }

std::unique_ptr<Metric> make_metric(const std::string& name, const Config& config) {
  auto metric = metrics().find(name).second(config);
  if (!metric) throw InvalidArgument("make_metric: the factory of " + quote_value(name) + " returned null");
  return metric;
}

}  // namespace xdense
