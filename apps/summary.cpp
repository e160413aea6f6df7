// `xdense summary`: architecture, loss, optimizer, classes, preprocessing and
// how the model was trained.

#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "model_support.hpp"
#include "xdense/optimizer.hpp"
#include "xdense/preprocessing.hpp"

namespace xdense::cli {

int run_summary(const SummaryOptions& o) {
  SavedModel saved = load_model(o.model);
  Sequential& model = saved.model;
  std::cout << model.summary();
  std::printf("Inputs: %zu features\n", model.input_units());
  std::printf("Loss: %s%s\n", model.loss()->name().c_str(), model.loss_from_logits() ? " (computed from logits)" : "");
  if (const auto* sgd = dynamic_cast<const SGD*>(model.optimizer())) {
    std::printf("Optimizer: sgd (learning_rate=%g, momentum=%g, nesterov=%s)\n", sgd->options().learning_rate,
                sgd->options().momentum, sgd->options().nesterov ? "true" : "false");
  } else if (const auto* adam = dynamic_cast<const Adam*>(model.optimizer())) {
    std::printf("Optimizer: adam (learning_rate=%g, beta1=%g, beta2=%g, epsilon=%g)\n", adam->options().learning_rate,
                adam->options().beta1, adam->options().beta2, adam->options().epsilon);
  } else {
    std::printf("Optimizer: %s\n", model.optimizer()->name().c_str());
  }
  const auto& names = saved.info.class_names;
  std::printf("Classes (%zu):", names.size());
  for (std::size_t i = 0; i < names.size(); ++i) std::printf("%s %s", i ? "," : "", names[i].c_str());
  std::printf("\n");
  if (saved.info.standardizer) {
    std::printf("Preprocessing: standardize (per-feature mean and standard deviation of the training data, %zu features)\n",
                saved.info.standardizer->mean().size());
  } else {
    std::printf("Preprocessing: none\n");
  }
  if (!saved.info.metadata.empty()) {
    std::printf("Training:\n");
    for (const auto& entry : saved.info.metadata) std::printf("  %s: %s\n", entry.first.c_str(), entry.second.c_str());
  }
  return exit_ok;
}

}  // namespace xdense::cli
