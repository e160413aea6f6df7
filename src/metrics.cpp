#include "xdense/metrics.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "xdense/error.hpp"

namespace xdense {

ClassificationReport classification_report(const std::vector<std::size_t>& truth,
                                           const std::vector<std::size_t>& predicted, std::size_t classes) {
  if (truth.size() != predicted.size()) {
    throw InvalidArgument("classification_report: " + std::to_string(truth.size()) + " true labels but " +
                          std::to_string(predicted.size()) + " predictions");
  }
  if (classes == 0) throw InvalidArgument("classification_report: expected at least 1 class, received 0");
  ClassificationReport report;
  report.samples = truth.size();
  report.confusion.assign(classes, std::vector<std::size_t>(classes, 0));
  std::size_t correct = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    if (truth[i] >= classes || predicted[i] >= classes) {
      throw InvalidArgument("classification_report: class index " + std::to_string(std::max(truth[i], predicted[i])) +
                            " at sample " + std::to_string(i) + " is out of range for " + std::to_string(classes) +
                            " classes");
    }
    ++report.confusion[truth[i]][predicted[i]];
    correct += truth[i] == predicted[i];
  }
  report.accuracy = truth.empty() ? 0.0 : static_cast<double>(correct) / static_cast<double>(truth.size());
  double f1_sum = 0.0;
  for (std::size_t c = 0; c < classes; ++c) {
    std::size_t predicted_as_c = 0;
    for (std::size_t t = 0; t < classes; ++t) predicted_as_c += report.confusion[t][c];
    ClassScores s;
    const std::size_t tp = report.confusion[c][c];
    for (std::size_t p = 0; p < classes; ++p) s.support += report.confusion[c][p];
    s.precision = predicted_as_c ? static_cast<double>(tp) / static_cast<double>(predicted_as_c) : 0.0;
    s.recall = s.support ? static_cast<double>(tp) / static_cast<double>(s.support) : 0.0;
    s.f1 = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0.0;
    f1_sum += s.f1;
    report.per_class.push_back(s);
  }
  report.macro_f1 = f1_sum / static_cast<double>(classes);
  return report;
}

std::string format_report(const ClassificationReport& report, const std::vector<std::string>& class_names) {
  const std::size_t classes = report.per_class.size();
  std::vector<std::string> names(classes);
  std::size_t width = 5;
  for (std::size_t c = 0; c < classes; ++c) {
    names[c] = c < class_names.size() ? class_names[c] : std::to_string(c);
    width = std::max(width, names[c].size());
  }
  std::ostringstream out;
  char line[256];
  out << std::string(width, ' ') << "  precision     recall   f1-score    support\n";
  for (std::size_t c = 0; c < classes; ++c) {
    const ClassScores& s = report.per_class[c];
    std::snprintf(line, sizeof line, "  %9.4f  %9.4f  %9.4f  %9zu\n", s.precision, s.recall, s.f1, s.support);
    out << std::string(width - names[c].size(), ' ') << names[c] << line;
  }
  std::snprintf(line, sizeof line, "  %31.4f  %9zu\n", report.macro_f1, report.samples);
  out << "\n" << std::string(width - 5, ' ') << "macro" << line;
  out << "\nConfusion matrix (rows: true class, columns: predicted class)\n";
  std::size_t cell = 5;
  for (const auto& row : report.confusion)
    for (std::size_t v : row) cell = std::max(cell, std::to_string(v).size());
  for (const auto& n : names) cell = std::max(cell, std::min<std::size_t>(n.size(), 12));
  out << std::string(width, ' ');
  for (const auto& n : names) out << " " << std::string(cell - std::min(cell, n.size()), ' ') << n.substr(0, cell);
  out << "\n";
  for (std::size_t t = 0; t < classes; ++t) {
    out << std::string(width - names[t].size(), ' ') << names[t];
    for (std::size_t v : report.confusion[t]) {
      const std::string text = std::to_string(v);
      out << " " << std::string(cell - text.size(), ' ') << text;
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace xdense
