// `xdense evaluate`: loss, accuracy, per-class precision/recall/F1 and the confusion matrix of a
// saved classifier on labelled data; loss, mse, mae, rmse and r2 of a regressor, in the targets'
// units.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "model_support.hpp"
#include "xdense/error.hpp"
#include "xdense/metrics.hpp"

namespace xdense::cli {
namespace {

// A regressor: --json has exactly loss, mse, mae, rmse, r2 and samples; the text adds each target's
// scores when there are several.
int evaluate_regressor(const EvaluateOptions& o, SavedModel& saved, const LoadedData& data) {
  const RegressionReport r =
      evaluate_regression(saved.model, data.x, data.y, saved.info.target_standardizer, data, o.data, 256);
  if (o.json) {
    nlohmann::ordered_json out;
    out["loss"] = r.loss;
    out["mse"] = r.all.mse;
    out["mae"] = r.all.mae;
    out["rmse"] = r.all.rmse;
    out["r2"] = r.all.r2;
    out["samples"] = r.samples;
    std::cout << out.dump() << "\n";
    return exit_ok;
  }
  std::vector<std::string> names = saved.info.target_names.empty() ? data.target_names : saved.info.target_names;
  std::printf("Model %s on %s: %zu samples, %s\n", o.model.c_str(), o.data.c_str(), r.samples,
              regression_text(data.y.shape(1), names).c_str());
  std::printf("loss: %.6g (%s%s)\nmse: %.6g\nmae: %.6g\nrmse: %.6g\nr2: %.6f\n", r.loss,
              saved.model.loss()->name().c_str(),
              saved.info.target_standardizer ? ", on the standardized targets the model was trained on" : "",
              r.all.mse, r.all.mae, r.all.rmse, r.all.r2);
  if (saved.info.target_standardizer) std::printf("(mse, mae, rmse and r2 in the targets' units)\n");
  if (r.per_target.empty()) return exit_ok;
  for (std::size_t c = names.size(); c < r.per_target.size(); ++c) names.push_back(std::to_string(c));
  std::size_t width = 6;
  for (const std::string& name : names) width = std::max(width, name.size());
  std::printf("\n%-*s %14s %14s %14s %10s\n", static_cast<int>(width), "target", "mse", "mae", "rmse", "r2");
  for (std::size_t c = 0; c < r.per_target.size(); ++c) {
    const RegressionScores& t = r.per_target[c];
    std::printf("%-*s %14.6g %14.6g %14.6g %10.6f\n", static_cast<int>(width), names[c].c_str(), t.mse, t.mae, t.rmse,
                t.r2);
  }
  return exit_ok;
}

}  // namespace

int run_evaluate(const EvaluateOptions& o) {
  SavedModel saved = load_model(o.model);
  LoadedData data = load_data_for_model(saved, data_request(o));
  if (data.regression) return evaluate_regressor(o, saved, data);
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
  const ClassificationReport report =
      classification_report(truth, predicted_classes(outputs, trained_threshold(saved.info)), classes);
  // A classifier compiled without accuracy (one trained with mse by an earlier xdense: a regression
  // loss takes no accuracy metric now) is scored from its predicted classes, as the report is.
  const double accuracy = std::isnan(e.accuracy) ? report.accuracy : e.accuracy;

  if (o.json) {
    nlohmann::ordered_json out;
    out["model"] = o.model;
    out["data"] = o.data;
    out["samples"] = e.samples;
    out["loss"] = e.loss;
    out["accuracy"] = accuracy;
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
              e.loss, accuracy);
  std::cout << format_report(report, saved.info.class_names);
  return exit_ok;
}

}  // namespace xdense::cli
