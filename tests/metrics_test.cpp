// Tests of include/xdense/metrics.hpp against counts worked out by hand.

#include "xdense/metrics.hpp"

#include <gtest/gtest.h>

#include "xdense/error.hpp"

namespace xdense {
namespace {

TEST(ClassificationReport, CountsAndScoresMatchHandComputation) {
  // truth:     0 0 0 1 1 2
  // predicted: 0 1 0 1 2 2
  // class 0: TP 2, FP 0, FN 1 -> P 1, R 2/3, F1 0.8
  // class 1: TP 1, FP 1, FN 1 -> P 1/2, R 1/2, F1 1/2
  // class 2: TP 1, FP 1, FN 0 -> P 1/2, R 1, F1 2/3
  const ClassificationReport r = classification_report({0, 0, 0, 1, 1, 2}, {0, 1, 0, 1, 2, 2}, 3);
  EXPECT_EQ(r.samples, 6u);
  EXPECT_DOUBLE_EQ(r.accuracy, 4.0 / 6.0);
  EXPECT_EQ(r.confusion[0], (std::vector<std::size_t>{2, 1, 0}));
  EXPECT_EQ(r.confusion[1], (std::vector<std::size_t>{0, 1, 1}));
  EXPECT_EQ(r.confusion[2], (std::vector<std::size_t>{0, 0, 1}));
  EXPECT_DOUBLE_EQ(r.per_class[0].precision, 1.0);
  EXPECT_DOUBLE_EQ(r.per_class[0].recall, 2.0 / 3.0);
  EXPECT_NEAR(r.per_class[0].f1, 0.8, 1e-12);
  EXPECT_DOUBLE_EQ(r.per_class[1].f1, 0.5);
  EXPECT_NEAR(r.per_class[2].f1, 2.0 / 3.0, 1e-12);
  EXPECT_EQ(r.per_class[2].support, 1u);
  EXPECT_NEAR(r.macro_f1, (0.8 + 0.5 + 2.0 / 3.0) / 3.0, 1e-12);
}

TEST(ClassificationReport, ClassNeverPredictedHasZeroPrecisionNotNaN) {
  const ClassificationReport r = classification_report({0, 1}, {0, 0}, 2);
  EXPECT_EQ(r.per_class[1].precision, 0.0);
  EXPECT_EQ(r.per_class[1].f1, 0.0);
}

TEST(ClassificationReport, RejectsMismatchedSizesAndOutOfRangeIndices) {
  EXPECT_THROW(classification_report({0, 1}, {0}, 2), InvalidArgument);
  EXPECT_THROW(classification_report({0, 2}, {0, 1}, 2), InvalidArgument);
}

TEST(FormatReport, ShowsNamesScoresAndConfusionMatrix) {
  const ClassificationReport r = classification_report({0, 1, 1}, {0, 1, 0}, 2);
  const std::string text = format_report(r, {"cat", "dog"});
  EXPECT_NE(text.find("precision"), std::string::npos) << text;
  EXPECT_NE(text.find("cat"), std::string::npos) << text;
  EXPECT_NE(text.find("0.5000"), std::string::npos) << text;  // recall of dog
  EXPECT_NE(text.find("Confusion matrix"), std::string::npos) << text;
}

}  // namespace
}  // namespace xdense
