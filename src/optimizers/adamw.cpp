#include "xdense/optimizers/adamw.hpp"

#include <memory>

#include <nlohmann/json.hpp>

#include "optimizer_support.hpp"
#include "xdense/error.hpp"

namespace xdense {

AdamW::AdamW(AdamOptions options, float weight_decay) : Adam(options, "AdamW") {
  BaseOptimizerOptions base;
  base.weight_decay = weight_decay;
  set_base_options(base);
}

void AdamW::check_base_options(const BaseOptimizerOptions& options) const {
  if (!options.weight_decay) {
    throw InvalidArgument("adamw: weight_decay must be a number >= 0 (adam is AdamW without decay), received "
                          "weight_decay=null");
  }
}

namespace {

std::unique_ptr<Optimizer> adamw_from_config(const Config& config) {
  ConfigReader in(config, "AdamW");
  const AdamOptions options = detail::read_adam_options(in);
  const bool decay_given = in.has("weight_decay");
  BaseOptimizerOptions base = read_base_options(in);
  in.finish();
  if (!decay_given) base.weight_decay = AdamW::default_weight_decay;
  auto optimizer = std::make_unique<AdamW>(options);
  optimizer->set_base_options(base);
  return optimizer;
}

const bool registered = (register_optimizer("adamw", adamw_from_config), true);

}  // namespace
}  // namespace xdense
