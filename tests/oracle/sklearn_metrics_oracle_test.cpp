// Compares the metrics of issue 15 (include/xdense/metrics/*.hpp) with numbers scikit-learn (and, for
// top_k_accuracy, PyTorch as Keras's torch backend) computed: tests/oracle/sklearn_metrics.json,
// written by tests/oracle/make_metric_fixtures.py (run by hand with Debian's python3-sklearn and
// python3-torch; neither is needed here). Each case is fed in one batch and in batches of 7 rows.
//
// Tolerance: 1e-12 relative (both sides compute in double from the same float32 values; the counts
// are exact, only the order of the sums differs).

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "metrics/metric_test_support.hpp"

namespace xdense {
namespace {

using nlohmann::json;

json load_fixture() {
  const std::string path = std::string(XDENSE_DATA_DIR) + "/../tests/oracle/sklearn_metrics.json";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open oracle fixture " + path);
  return json::parse(in);
}

Matrix to_matrix(const json& m) {
  Matrix out = Matrix::from_shape({m.at("rows").get<std::size_t>(), m.at("cols").get<std::size_t>()});
  const json& values = m.at("values");
  if (values.size() != out.size()) throw std::runtime_error("oracle fixture: matrix size mismatch");
  for (std::size_t i = 0; i < out.size(); ++i) out.data()[i] = static_cast<float>(values[i].get<double>());
  return out;
}

TEST(SklearnMetricsOracle, EveryCase) {
  const json fixture = load_fixture();
  std::size_t checked = 0;
  for (const json& c : fixture.at("cases")) {
    const std::string name = c.at("metric").get<std::string>();
    const json& data = fixture.at("data").at(c.at("data").get<std::string>());
    const Matrix outputs = to_matrix(data.at("outputs"));
    const Matrix targets = to_matrix(data.at("targets"));
    const double want = c.at("expected").get<double>();
    auto metric = make_metric(name, c.at("config"));
    const std::string what = name + " " + c.at("config").dump() + " on " + c.at("data").get<std::string>();
    EXPECT_NEAR(testing::result_of(*metric, outputs, targets), want, 1e-12 * std::fabs(want)) << what;
    EXPECT_NEAR(testing::result_in_batches(*metric, outputs, targets, 7), want, 1e-12 * std::fabs(want)) << what;
    ++checked;
  }
  EXPECT_EQ(checked, 28u);
}

}  // namespace
}  // namespace xdense
