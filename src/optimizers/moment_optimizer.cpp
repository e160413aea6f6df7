#include "xdense/optimizers/moment_optimizer.hpp"

#include <nlohmann/json.hpp>

#include "optimizer_support.hpp"

namespace xdense {

MomentOptimizer::MomentOptimizer(MomentOptions options, const std::string& who) : options_(options) {
  detail::check_learning_rate(who, options.learning_rate);
  detail::check_unit_interval(who, "beta_1", options.beta_1);
  detail::check_unit_interval(who, "beta_2", options.beta_2);
  detail::check_epsilon(who, options.epsilon);
}

Config MomentOptimizer::config() const {
  Config config = Optimizer::config();
  config["beta_1"] = options_.beta_1;
  config["beta_2"] = options_.beta_2;
  config["epsilon"] = options_.epsilon;
  return config;
}

namespace detail {

MomentOptions read_moment_options(ConfigReader& in) {
  MomentOptions options;
  options.learning_rate = in.real("learning_rate", options.learning_rate);
  options.beta_1 = in.real("beta_1", options.beta_1);
  options.beta_2 = in.real("beta_2", options.beta_2);
  options.epsilon = in.real("epsilon", options.epsilon);
  return options;
}

}  // namespace detail
}  // namespace xdense
