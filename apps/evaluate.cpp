// `xdense evaluate`: loss, accuracy, per-class precision/recall/F1 and the
// confusion matrix of a saved model on labelled data.

#include <cmath>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "model_support.hpp"
#include "xdense/error.hpp"
#include "xdense/metrics.hpp"

namespace xdense::cli {

int run_evaluate(const EvaluateOptions& o) {
  SavedModel saved = load_model(o.model);
  LoadedData data = load_data_for_model(saved, data_request(o));
  Sequential& model = saved.model;
  const Matrix outputs = model.predict(data.x, 256);
  check_outputs_finite(outputs, data, o.data);
  const Evaluation e = model.evaluate(data.x, targets_for(model, data.y), 256);
  if (!std::isfinite(e.loss)) {
    throw DataError(o.data + ": the loss overflows float32 although every output is finite (the model's logits " +
                    "are too large for these inputs)");
  }
  std::vector<std::size_t> truth(data.y.shape(0));
  for (std::size_t r = 0; r < truth.size(); ++r) truth[r] = static_cast<std::size_t>(data.y(r, 0));
  const std::size_t classes = std::max<std::size_t>(saved.info.class_names.size(), model.output_units() == 1 ? 2 : model.output_units());
  const ClassificationReport report = classification_report(truth, predicted_classes(outputs), classes);

  if (o.json) {
    nlohmann::ordered_json out;
    out["model"] = o.model;
    out["data"] = o.data;
    out["samples"] = e.samples;
    out["loss"] = e.loss;
    out["accuracy"] = e.accuracy;
    out["macro_f1"] = report.macro_f1;
    out["classes"] = saved.info.class_names;
    nlohmann::ordered_json per_class = nlohmann::ordered_json::array();
    for (std::size_t c = 0; c < report.per_class.size(); ++c) {
      const ClassScores& s = report.per_class[c];
      per_class.push_back({{"class", c < saved.info.class_names.size() ? saved.info.class_names[c] : std::to_string(c)},
                           {"precision", s.precision},
                           {"recall", s.recall},
                           {"f1", s.f1},
                           {"support", s.support}});
    }
    out["per_class"] = per_class;
    out["confusion_matrix"] = report.confusion;
    std::cout << out.dump() << "\n";
    return exit_ok;
  }
  std::printf("Model %s on %s: %zu samples\nloss: %.6f\naccuracy: %.6f\n\n", o.model.c_str(), o.data.c_str(), e.samples,
              e.loss, e.accuracy);
  std::cout << format_report(report, saved.info.class_names);
  return exit_ok;
}

}  // namespace xdense::cli
