// Compares xdense's learning-rate schedules with Keras 3's formulas step by step:
// tests/oracle/keras_schedules.json, written by tests/oracle/make_schedule_fixtures.py (Keras's
// __call__ of each schedule in numpy float32, run by hand), the rate of every step 0..300 in 19
// configs: staircase, cycle, warmup, alpha, fractional decay_steps, piecewise boundaries on steps.
//
// Each schedule is made by class name from Keras's get_config() (its "name" key included), as a
// Keras config would be read. Both sides compute in float32 in the same order of operations; they
// differ only where numpy's float32 power and cos round differently from the C library's powf and
// cosf that xdense calls (on this machine glibc's agree with float64 rounded to float32 on all but
// 6 of 4515 such calls checked; numpy's miss on up to a quarter of the steps), by an ulp of an
// intermediate result. So
// each rate must be within 4 float32 epsilons of the case's largest rate (an ulp of the cosine's
// 1 + cos(.) is relative to the rate's scale, not to a rate near 0), and the count of
// bit-identical steps is printed (5334 of 5719 here).

#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "xdense/schedule.hpp"

namespace xdense {
namespace {

using nlohmann::json;

json read_fixture() {
  const std::string path = std::string(XDENSE_DATA_DIR) + "/../tests/oracle/keras_schedules.json";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open oracle fixture " + path);
  return json::parse(in);
}

TEST(KerasSchedulesOracle, EveryStepMatchesKerasFloat32Formula) {
  const json fixture = read_fixture();
  ASSERT_EQ(fixture.at("cases").size(), 19u);
  std::size_t steps = 0, identical = 0;
  for (const json& c : fixture.at("cases")) {
    const std::string class_name = c.at("class_name").get<std::string>();
    SCOPED_TRACE(class_name + " " + c.at("config").dump());
    const auto schedule = make_schedule(class_name, c.at("config"));
    const std::size_t first = c.at("first_step").get<std::size_t>();
    const json& rates = c.at("rates");
    double peak = 0.0;
    for (const json& r : rates) peak = std::max(peak, std::abs(r.get<double>()));
    const double tolerance = 4 * FLT_EPSILON * peak;
    std::size_t case_identical = 0;
    for (std::size_t i = 0; i < rates.size(); ++i) {
      const double want = rates[i].get<double>();
      const double got = schedule->at(first + i);
      EXPECT_NEAR(got, want, tolerance) << "at step " << first + i;
      EXPECT_EQ(static_cast<double>(static_cast<float>(got)), got) << "not a float32 value at step " << first + i;
      case_identical += got == want;
    }
    std::cout << "  " << class_name << " " << c.at("config").dump() << ": " << case_identical << " of "
              << rates.size() << " steps bit-identical\n";
    steps += rates.size();
    identical += case_identical;
  }
  std::cout << "  in all " << identical << " of " << steps << " steps bit-identical to Keras's float32 formulas\n";
}

}  // namespace
}  // namespace xdense
