#include "xdense/csv.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>  // mkdtemp
#include <unistd.h>  // rmdir

#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "xdense/error.hpp"

#ifndef XDENSE_DATA_DIR
#define XDENSE_DATA_DIR "data"
#endif

namespace xdense {
namespace {

using Names = std::vector<std::string>;

const std::string data_dir = XDENSE_DATA_DIR;

Dataset read_text(const std::string& text, const CsvOptions& options = {}) {
  std::istringstream in(text);
  return read_csv(in, "mem.csv", options);
}

/// The DataError message read_csv gives for `text`; fails the test if it does not throw.
std::string error_for(const std::string& text, const CsvOptions& options = {}) {
  try {
    read_text(text, options);
  } catch (const DataError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no DataError for:\n" << text;
  return {};
}

// --- the shipped datasets ----------------------------------------------------------

TEST(LoadCsv, BreastCancer) {
  const Dataset d = load_csv(data_dir + "/breast_cancer.csv");
  ASSERT_EQ(d.features.shape(0), 569u);
  ASSERT_EQ(d.features.shape(1), 30u);
  ASSERT_EQ(d.labels.shape(0), 569u);
  ASSERT_EQ(d.labels.shape(1), 1u);
  EXPECT_EQ(d.feature_names.size(), 30u);
  EXPECT_EQ(d.feature_names.front(), "mean_radius");
  EXPECT_EQ(d.label_name, "benign");
  EXPECT_EQ(d.class_names, (Names{"0", "1"}));
  // First data row: 17.99,10.38,...,0.1189,0
  EXPECT_FLOAT_EQ(d.features(0, 0), 17.99f);
  EXPECT_FLOAT_EQ(d.features(0, 1), 10.38f);
  EXPECT_FLOAT_EQ(d.features(0, 29), 0.1189f);
  EXPECT_EQ(d.labels(0, 0), 0.0f);
  std::size_t benign = 0;
  for (std::size_t r = 0; r < 569; ++r) {
    ASSERT_TRUE(d.labels(r, 0) == 0.0f || d.labels(r, 0) == 1.0f);
    benign += d.labels(r, 0) == 1.0f;
  }
  EXPECT_EQ(benign, 357u);  // 212 malignant, 357 benign (scikit-learn's description)
}

TEST(LoadCsv, Iris) {
  const Dataset d = load_csv(data_dir + "/iris.csv");
  ASSERT_EQ(d.features.shape(0), 150u);
  ASSERT_EQ(d.features.shape(1), 4u);
  EXPECT_EQ(d.feature_names, (Names{"sepal_length", "sepal_width", "petal_length", "petal_width"}));
  EXPECT_EQ(d.label_name, "species");
  EXPECT_EQ(d.class_names, (Names{"setosa", "versicolor", "virginica"}));
  EXPECT_FLOAT_EQ(d.features(0, 0), 5.1f);
  EXPECT_FLOAT_EQ(d.features(0, 1), 3.5f);
  EXPECT_EQ(d.labels(0, 0), 0.0f);
  EXPECT_EQ(d.labels(149, 0), 2.0f);
  std::size_t per_class[3] = {0, 0, 0};
  for (std::size_t r = 0; r < 150; ++r) ++per_class[static_cast<std::size_t>(d.labels(r, 0))];
  EXPECT_EQ(per_class[0], 50u);
  EXPECT_EQ(per_class[1], 50u);
  EXPECT_EQ(per_class[2], 50u);
}

TEST(LoadCsv, IrisWithFixedClassOrder) {
  CsvOptions options;
  options.class_names = {"virginica", "setosa", "versicolor"};
  const Dataset d = load_csv(data_dir + "/iris.csv", options);
  EXPECT_EQ(d.class_names, options.class_names);
  EXPECT_EQ(d.labels(0, 0), 1.0f);    // setosa
  EXPECT_EQ(d.labels(149, 0), 0.0f);  // virginica
}

TEST(LoadCsv, MissingFile) {
  const std::string path = data_dir + "/no_such_file.csv";
  try {
    load_csv(path);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()), path + ": cannot open file: No such file or directory");
  }
}

TEST(LoadCsv, DirectoryIsNotAFile) {
  try {
    load_csv(data_dir);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()), data_dir + ": is a directory");
  }
}

// --- label column and class mapping ------------------------------------------------------

TEST(ReadCsv, LabelIsLastColumnByDefault) {
  const Dataset d = read_text("a,b,y\n1,2,0\n3,4,1\n");
  EXPECT_EQ(d.feature_names, (Names{"a", "b"}));
  EXPECT_EQ(d.label_name, "y");
  EXPECT_EQ(d.features(1, 0), 3.0f);
  EXPECT_EQ(d.features(1, 1), 4.0f);
  EXPECT_EQ(d.labels(1, 0), 1.0f);
}

TEST(ReadCsv, LabelColumnByName) {
  CsvOptions options;
  options.label_column = "y";
  const Dataset d = read_text("a,y,b\n1,cat,2\n3,dog,4\n", options);
  EXPECT_EQ(d.feature_names, (Names{"a", "b"}));
  EXPECT_EQ(d.label_name, "y");
  EXPECT_EQ(d.features(0, 1), 2.0f);
  EXPECT_EQ(d.class_names, (Names{"cat", "dog"}));
  EXPECT_EQ(d.labels(1, 0), 1.0f);
}

TEST(ReadCsv, LabelColumnByIndex) {
  CsvOptions options;
  options.label_column = "0";
  const Dataset d = read_text("y,a,b\n1,10,20\n0,30,40\n", options);
  EXPECT_EQ(d.feature_names, (Names{"a", "b"}));
  EXPECT_EQ(d.label_name, "y");
  EXPECT_EQ(d.features(0, 0), 10.0f);
  EXPECT_EQ(d.labels(0, 0), 1.0f);
  EXPECT_EQ(d.labels(1, 0), 0.0f);
}

TEST(ReadCsv, HeaderNameWinsOverIndex) {
  CsvOptions options;
  options.label_column = "1";
  const Dataset d = read_text("a,b,1\n5,6,x\n", options);
  EXPECT_EQ(d.label_name, "1");
  EXPECT_EQ(d.feature_names, (Names{"a", "b"}));
}

TEST(ReadCsv, IntegerLabelsSortNumerically) {
  // Lexicographic order would give "-1" < "10" < "2"; numeric order is -1 < 2 < 10.
  const Dataset d = read_text("a,y\n1,10\n2,2\n3,-1\n4,2\n");
  EXPECT_EQ(d.class_names, (Names{"-1", "2", "10"}));
  EXPECT_EQ(d.labels(0, 0), 2.0f);
  EXPECT_EQ(d.labels(1, 0), 1.0f);
  EXPECT_EQ(d.labels(2, 0), 0.0f);
  EXPECT_EQ(d.labels(3, 0), 1.0f);
}

TEST(ReadCsv, MixedLabelsSortAsStrings) {
  const Dataset d = read_text("a,y\n1,b\n2,10\n3,2\n");
  EXPECT_EQ(d.class_names, (Names{"10", "2", "b"}));
  EXPECT_EQ(d.labels(0, 0), 2.0f);
  EXPECT_EQ(d.labels(1, 0), 0.0f);
  EXPECT_EQ(d.labels(2, 0), 1.0f);
}

TEST(ReadCsv, FixedClassNames) {
  CsvOptions options;
  options.class_names = {"1", "0"};
  const Dataset d = read_text("a,y\n1,0\n2,1\n", options);
  EXPECT_EQ(d.class_names, (Names{"1", "0"}));
  EXPECT_EQ(d.labels(0, 0), 1.0f);
  EXPECT_EQ(d.labels(1, 0), 0.0f);
}

TEST(ReadCsv, FixedClassNamesMayIncludeClassesAbsentFromTheFile) {
  CsvOptions options;
  options.class_names = {"setosa", "versicolor", "virginica"};
  const Dataset d = read_text("a,species\n1,virginica\n", options);
  EXPECT_EQ(d.class_names.size(), 3u);
  EXPECT_EQ(d.labels(0, 0), 2.0f);
}

TEST(ReadCsv, DuplicateFixedClassNameIsInvalidArgument) {
  CsvOptions options;
  options.class_names = {"a", "b", "a"};
  EXPECT_THROW(read_text("x,y\n1,a\n", options), InvalidArgument);
}

// --- tolerated formatting ------------------------------------------------------------

TEST(ReadCsv, CrlfBomSpacesAndBlankTrailingLines) {
  const Dataset d = read_text("\xEF\xBB\xBF" "a , b ,label\r\n 1.5 ,\t-2e1 , x \r\n3,+4,y\r\n\r\n  \n\n");
  EXPECT_EQ(d.feature_names, (Names{"a", "b"}));
  EXPECT_EQ(d.label_name, "label");
  ASSERT_EQ(d.features.shape(0), 2u);
  EXPECT_EQ(d.features(0, 0), 1.5f);
  EXPECT_EQ(d.features(0, 1), -20.0f);
  EXPECT_EQ(d.features(1, 1), 4.0f);
  EXPECT_EQ(d.class_names, (Names{"x", "y"}));
}

TEST(ReadCsv, NoFinalNewline) {
  const Dataset d = read_text("a,y\n1,0\n2,1");
  EXPECT_EQ(d.features.shape(0), 2u);
}

TEST(ReadCsv, QuotedFields) {
  const Dataset d = read_text(
      "\"width, cm\",\"a \"\"b\"\"\",class\n"
      "\"1.25\", 2 ,\"New York, NY\"\n"
      " \"3\" ,4,\"say \"\"hi\"\"\"\n");
  EXPECT_EQ(d.feature_names, (Names{"width, cm", "a \"b\""}));
  EXPECT_EQ(d.features(0, 0), 1.25f);
  EXPECT_EQ(d.features(1, 0), 3.0f);
  EXPECT_EQ(d.class_names, (Names{"New York, NY", "say \"hi\""}));
}

TEST(ReadCsv, FloatParsingAcceptsWhatStrtodAccepts) {
  const Dataset d = read_text("a,b,c,d,y\n1.,-.5,1E3,1e-400,0\n");
  EXPECT_EQ(d.features(0, 0), 1.0f);
  EXPECT_EQ(d.features(0, 1), -0.5f);
  EXPECT_EQ(d.features(0, 2), 1000.0f);
  EXPECT_EQ(d.features(0, 3), 0.0f);  // underflow reads as zero
}

// --- errors: every message names the source, the line and, for a field, its column ----------

TEST(ReadCsvErrors, EmptyFile) {
  EXPECT_EQ(error_for(""), "mem.csv: empty file (expected a header row)");
  EXPECT_EQ(error_for("\n\r\n  \n"), "mem.csv: empty file (expected a header row)");
}

TEST(ReadCsvErrors, HeaderOnly) {
  EXPECT_EQ(error_for("a,b,c\n"), "mem.csv: header only, no data rows");
  EXPECT_EQ(error_for("a,b,c\r\n\r\n"), "mem.csv: header only, no data rows");
}

TEST(ReadCsvErrors, WrongFieldCount) {
  EXPECT_EQ(error_for("a,b,c\n1,2,3\n\n4,5\n"), "mem.csv:4: expected 3 fields, found 2");
  EXPECT_EQ(error_for("a,b,c\n1,2,3,\n"), "mem.csv:2: expected 3 fields, found 4");
}

TEST(ReadCsvErrors, NotANumber) {
  EXPECT_EQ(error_for("sepal_length,sepal_width,species\n1,2,a\n3,abc,b\n"),
            "mem.csv:3, column 'sepal_width': 'abc' is not a number");
  EXPECT_EQ(error_for("a,b,y\n1,2 3,0\n"), "mem.csv:2, column 'b': '2 3' is not a number");
  EXPECT_EQ(error_for("a,b,y\n1,0x10,0\n"), "mem.csv:2, column 'b': '0x10' is not a number");
  EXPECT_EQ(error_for("a,b,y\n1,1e5x,0\n"), "mem.csv:2, column 'b': '1e5x' is not a number");
}

TEST(ReadCsvErrors, MissingValue) {
  EXPECT_EQ(error_for("a,b,y\n1,,0\n"), "mem.csv:2, column 'b': missing value (empty field)");
  EXPECT_EQ(error_for("a,b,y\n1,2,\n"), "mem.csv:2, column 'y': missing label (empty field)");
}

TEST(ReadCsvErrors, NanAndInf) {
  for (const char* bad : {"nan", "NaN", "inf", "-Infinity"}) {
    EXPECT_EQ(error_for(std::string("a,b,y\n1,2,0\n3,") + bad + ",1\n"),
              "mem.csv:3, column 'b': NaN/Inf is not allowed")
        << bad;
  }
}

TEST(ReadCsvErrors, OutOfFloatRange) {
  EXPECT_EQ(error_for("a,y\n1e39,0\n"), "mem.csv:2, column 'a': '1e39' is out of range for a float");
  EXPECT_EQ(error_for("a,y\n-1e400,0\n"), "mem.csv:2, column 'a': '-1e400' is out of range for a float");
  // FLT_MAX plus half an ulp (2^128 - 2^103) rounds to infinity.
  EXPECT_EQ(error_for("a,y\n3.4028235677973366e38,0\n"),
            "mem.csv:2, column 'a': '3.4028235677973366e38' is out of range for a float");
}

TEST(ReadCsv, FloatMaxAsNumpyPrintsItIsAccepted) {
  // numpy prints float32's largest value as 3.4028235e38, a little above FLT_MAX: it rounds to FLT_MAX.
  const Dataset d = read_text("a,b,y\n3.4028235e38,-3.4028235e38,0\n3.4028234663852886e38,1,1\n");
  EXPECT_EQ(d.features(0, 0), std::numeric_limits<float>::max());
  EXPECT_EQ(d.features(0, 1), -std::numeric_limits<float>::max());
  EXPECT_EQ(d.features(1, 0), std::numeric_limits<float>::max());
}

TEST(ReadCsvErrors, UnknownLabelColumn) {
  CsvOptions options;
  options.label_column = "foo";
  EXPECT_EQ(error_for("a,b,c\n1,2,3\n", options), "mem.csv: unknown label column 'foo' (columns: a, b, c)");
  options.label_column = "3";
  EXPECT_EQ(error_for("a,b,c\n1,2,3\n", options),
            "mem.csv: label column index 3 is out of range (3 columns: a, b, c)");
  options.label_column = "99999999999999999999999";
  EXPECT_NE(error_for("a,b,c\n1,2,3\n", options).find("out of range"), std::string::npos);
}

TEST(ReadCsvErrors, UnknownClass) {
  CsvOptions options;
  options.class_names = {"setosa", "versicolor", "virginica"};
  EXPECT_EQ(error_for("a,species\n1,setosa\n2,dog\n", options),
            "mem.csv:3, column 'species': unknown class 'dog' (expected one of: setosa, versicolor, virginica)");
}

TEST(ReadCsvErrors, BadHeader) {
  EXPECT_EQ(error_for("a,b,a\n1,2,3\n"), "mem.csv:1: duplicate column name 'a' (fields 1 and 3)");
  // An empty name is pandas' index column (or a mistake): named as pandas names it, and only used if asked.
  EXPECT_EQ(error_for("a,,y\n1,2,3\n"),
            "mem.csv: column 2 has no name ('Unnamed: 1', a pandas index column?): leave it out with "
            "--drop-columns 'Unnamed: 1' (CsvOptions::drop_columns) or name it in the header");
  EXPECT_EQ(error_for("label\n1\n"),
            "mem.csv: only one column 'label'; need at least one feature column and a label column");
}

TEST(ReadCsvErrors, MalformedQuotes) {
  EXPECT_EQ(error_for("a,y\n\"1,0\n"), "mem.csv:2: unterminated quoted field 1 (quoted fields cannot span lines)");
  EXPECT_EQ(error_for("a,y\n\"1\"x,0\n"), "mem.csv:2: unexpected text after the closing quote of field 1");
}

TEST(ReadCsvErrors, MessagesAreOneLine) {
  const std::string message = error_for("a,b,y\r\n1,abc,0\r\n");
  EXPECT_EQ(message, "mem.csv:2, column 'b': 'abc' is not a number");
  EXPECT_EQ(message.find('\n'), std::string::npos);
  EXPECT_EQ(message.find('\r'), std::string::npos);
}

TEST(ReadCsvErrors, LongFieldIsShortenedInTheMessage) {
  const std::string message = error_for("a,y\n" + std::string(500, 'z') + ",0\n");
  EXPECT_LT(message.size(), 120u);
  EXPECT_NE(message.find("...' is not a number"), std::string::npos);
}

}  // namespace
}  // namespace xdense

namespace xdense {
namespace {

TEST(CsvUnlabelled, EveryColumnIsAFeature) {
  std::istringstream in("a,b\n1,2\n3,4\n");
  CsvOptions options;
  options.unlabelled = true;
  const Dataset d = read_csv(in, "u.csv", options);
  ASSERT_EQ(d.features.shape(0), 2u);
  ASSERT_EQ(d.features.shape(1), 2u);
  EXPECT_EQ(d.features(1, 1), 4.0f);
  EXPECT_EQ(d.labels.shape(0), 0u);
  EXPECT_EQ(d.feature_names, (std::vector<std::string>{"a", "b"}));
  std::istringstream single("x\n5\n");
  EXPECT_EQ(read_csv(single, "s.csv", options).features(0, 0), 5.0f);
}

}  // namespace
}  // namespace xdense

// --- issue 11: headers, encodings, line endings, column roles and schemas -------------------------

namespace xdense {
namespace {

TEST(CsvHeaderDetection, NumericFirstRowIsRefusedNotSilentlyDropped) {
  const std::string message = error_for("5.1,3.5,0\n4.9,3.0,1\n");
  EXPECT_NE(message.find("mem.csv:1: the first row ('5.1,3.5,0') holds numbers"), std::string::npos) << message;
  EXPECT_NE(message.find("--no-header"), std::string::npos) << message;
  // A string label does not make a data row a header.
  EXPECT_NE(error_for("5.1,3.5,setosa\n4.9,3.0,virginica\n").find("holds numbers"), std::string::npos);
  EXPECT_NE(error_for("\n7,cat\n").find("mem.csv:2: the first row"), std::string::npos);
}

TEST(CsvHeaderDetection, NamesThatAreNumbersAreAHeaderWhenTheyAreColumnIndices) {
  // pandas writes 0, 1, 2, ... for unnamed columns; pixel files use label,0,1,...
  EXPECT_EQ(read_text("0,1,2\n5,6,1\n").feature_names, (Names{"0", "1"}));
  EXPECT_EQ(read_text("label,1,2,3\n0,5,6,7\n", [] {
              CsvOptions o;
              o.label_column = "label";
              return o;
            }()).feature_names,
            (Names{"1", "2", "3"}));
  EXPECT_EQ(read_text("x,y\n1,2\n").feature_names, (Names{"x"}));
}

TEST(CsvHeaderDetection, AbsentHeaderReadsEveryRowWithIndexNames) {
  CsvOptions options;
  options.header = CsvHeader::absent;
  const Dataset d = read_text("5.1,3.5,0\n4.9,3.0,1\n", options);
  ASSERT_EQ(d.features.shape(0), 2u);  // no row lost
  EXPECT_EQ(d.feature_names, (Names{"0", "1"}));
  EXPECT_EQ(d.label_name, "2");
  EXPECT_EQ(d.features(0, 0), 5.1f);
  EXPECT_EQ(d.labels(1, 0), 1.0f);
  EXPECT_EQ(d.lines, (std::vector<std::size_t>{1, 2}));
  options.label_column = "0";
  const Dataset first = read_text("0,3.5,7\n1,3.0,8\n", options);
  EXPECT_EQ(first.feature_names, (Names{"1", "2"}));
  EXPECT_EQ(first.features(1, 1), 8.0f);
}

TEST(CsvHeaderDetection, PresentHeaderMayBeNumeric) {
  CsvOptions options;
  options.header = CsvHeader::present;
  const Dataset d = read_text("1,2,3\n4,5,0\n", options);
  EXPECT_EQ(d.feature_names, (Names{"1", "2"}));
  EXPECT_EQ(d.features.shape(0), 1u);
}

TEST(CsvEncoding, CrOnlyLineEndingsAreLineEndings) {
  const Dataset d = read_text("a,b,y\r1,2,0\r3,4,1\r");
  ASSERT_EQ(d.features.shape(0), 2u);
  EXPECT_EQ(d.features(1, 1), 4.0f);
  EXPECT_EQ(d.lines, (std::vector<std::size_t>{2, 3}));
  EXPECT_EQ(error_for("a,b,y\r1,2,0\r3,x,1\r"), "mem.csv:3, column 'b': 'x' is not a number");
  const Dataset mixed = read_text("a,b,y\r\n1,2,0\n3,4,1\r5,6,0\r\n");
  EXPECT_EQ(mixed.features.shape(0), 3u);
}

TEST(CsvEncoding, Utf16AndNulBytesAreRefusedClearly) {
  const std::string le = std::string("\xFF\xFE", 2) + std::string("a\0,\0y\0\n\0", 8);
  EXPECT_EQ(error_for(le), "mem.csv: UTF-16 text is not supported; convert the file to UTF-8 (e.g. iconv -f UTF-16 -t UTF-8)");
  const std::string be = std::string("\xFE\xFF", 2) + std::string("\0a\0,\0y\0\n", 8);
  EXPECT_NE(error_for(be).find("UTF-16 text is not supported"), std::string::npos);
  const std::string no_bom = std::string("a\0,\0y\0\n\0", 8);
  EXPECT_EQ(error_for(no_bom), "mem.csv:1: NUL byte: not a text file (UTF-16 text is not supported, convert it to UTF-8)");
  EXPECT_EQ(error_for(std::string("a,y\n1,0\n2\0,1\n", 13)),
            "mem.csv:3: NUL byte: not a text file (UTF-16 text is not supported, convert it to UTF-8)");
}

TEST(CsvMessages, HugeLabelsAndClassListsAreCut) {
  CsvOptions options;
  options.class_names = {"a", "b"};
  const std::string message = error_for("x,y\n1," + std::string(2 << 20, 'L') + "\n", options);
  EXPECT_LT(message.size(), 200u) << message.substr(0, 300);
  std::vector<std::string> many;
  for (int i = 0; i < 30; ++i) many.push_back("c" + std::to_string(i));
  EXPECT_EQ(name_list(many), "c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, ... (30 in all)");
  EXPECT_EQ(quote_value(std::string("a\tb\nc")), "'a?b?c'");
}

TEST(CsvColumns, FeatureAndDropColumnsChooseTheFeatures) {
  CsvOptions options;
  options.label_column = "y";
  options.drop_columns = {"id"};
  const Dataset dropped = read_text("id,a,y,b\n7,1,0,2\n8,3,1,4\n", options);
  EXPECT_EQ(dropped.feature_names, (Names{"a", "b"}));
  EXPECT_TRUE(dropped.ignored_columns.empty());
  EXPECT_EQ(dropped.features(1, 1), 4.0f);

  CsvOptions chosen;
  chosen.label_column = "y";
  chosen.feature_columns = {"b", "a"};
  const Dataset picked = read_text("id,a,y,b\n7,1,0,2\n8,3,1,4\n", chosen);
  EXPECT_EQ(picked.feature_names, (Names{"b", "a"}));
  EXPECT_EQ(picked.ignored_columns, (Names{"id"}));
  EXPECT_EQ(picked.features(0, 0), 2.0f);
  EXPECT_EQ(picked.features(0, 1), 1.0f);

  chosen.feature_columns = {"a", "nope", "zz"};
  EXPECT_EQ(error_for("id,a,y,b\n7,1,0,2\n", chosen),
            "mem.csv: missing feature columns nope, zz (the file has: id, a, y, b)");
  chosen.feature_columns = {"a", "y"};
  EXPECT_EQ(error_for("id,a,y,b\n7,1,0,2\n", chosen),
            "mem.csv: column 'y' is the label column, it cannot also be a feature");
  options.drop_columns = {"idd"};
  EXPECT_EQ(error_for("id,a,y,b\n7,1,0,2\n", options), "mem.csv: unknown column to drop 'idd' (columns: id, a, y, b)");
}

TEST(CsvColumns, PandasIndexColumnIsDroppedByItsPandasName) {
  CsvOptions options;
  options.drop_columns = {"Unnamed: 0"};
  const Dataset d = read_text(",a,b,y\n0,1,2,0\n1,3,4,1\n", options);
  EXPECT_EQ(d.feature_names, (Names{"a", "b"}));
}

TEST(CsvColumns, IdColumnIsCopiedNotAFeature) {
  CsvOptions options;
  options.id_column = "name";
  options.label_optional = true;
  options.label_column = "y";
  const Dataset d = read_text("name,a,b\nann,1,2\n\"bob, jr\",3,4\n", options);
  EXPECT_EQ(d.feature_names, (Names{"a", "b"}));
  EXPECT_EQ(d.ids, (Names{"ann", "bob, jr"}));
  EXPECT_EQ(d.labels.shape(0), 0u);  // no label column: fine when optional
}

TEST(CsvSchema, ColumnsMatchByNameInAnyOrderAndClassesKeepTheirIndices) {
  CsvOptions options;
  options.label_column = "species";
  const Dataset train = read_text("sl,sw,species\n1,2,setosa\n3,4,versicolor\n5,6,virginica\n", options);
  const DatasetSchema schema = train.schema();
  EXPECT_EQ(schema.feature_names, (Names{"sl", "sw"}));
  EXPECT_EQ(schema.label_name, "species");

  // Reordered columns, an extra id column, and a file holding only one class.
  std::istringstream other("id,species,sw,sl\n9,virginica,60,50\n");
  const Dataset test = read_csv(other, "test.csv", schema);
  EXPECT_EQ(test.feature_names, (Names{"sl", "sw"}));
  EXPECT_EQ(test.features(0, 0), 50.0f);
  EXPECT_EQ(test.features(0, 1), 60.0f);
  EXPECT_EQ(test.class_names, schema.class_names);
  EXPECT_EQ(test.labels(0, 0), 2.0f);  // virginica is class 2 of the training data, not class 0 of this file
  EXPECT_EQ(test.ignored_columns, (Names{"id"}));

  std::istringstream missing("species,sw\nsetosa,1\n");
  try {
    read_csv(missing, "test.csv", schema);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()), "test.csv: missing feature column sl (the file has: species, sw)");
  }
  std::istringstream unknown("sl,sw,species\n1,2,dog\n");
  EXPECT_THROW(read_csv(unknown, "test.csv", schema), DataError);
  std::istringstream no_label("sl,sw\n1,2\n");
  EXPECT_THROW(read_csv(no_label, "test.csv", schema), DataError);
  CsvOptions optional;
  optional.label_optional = true;
  std::istringstream no_label_ok("sw,sl\n1,2\n");
  const Dataset unlabelled = read_csv(no_label_ok, "new.csv", schema, optional);
  EXPECT_EQ(unlabelled.labels.shape(0), 0u);
  EXPECT_EQ(unlabelled.features(0, 0), 2.0f);
}

TEST(CsvSchema, LoadCsvColumnsReadsTheHeaderOnly) {
  const std::vector<std::string> names = load_csv_columns(data_dir + "/iris.csv");
  EXPECT_EQ(names.back(), "species");
  EXPECT_EQ(load_csv_columns(data_dir + "/iris.csv", CsvHeader::absent).front(), "0");
}

// --- limits (issue 12) ----------------------------------------------------------------------------

/// "c0,c1,...": a header of `columns` distinct names.
std::string wide_header(std::size_t columns) {
  std::string header;
  for (std::size_t i = 0; i < columns; ++i) header += (i > 0 ? ",c" : "c") + std::to_string(i);
  return header;
}

/// A file in a fresh temporary folder, removed with it.
class TempCsv {
 public:
  explicit TempCsv(const std::string& content) {
    std::string pattern = ::testing::TempDir() + "xdense_csv_XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    std::ofstream(path(), std::ios::binary) << content;
  }
  ~TempCsv() {
    std::remove(path().c_str());
    ::rmdir(dir_.c_str());
  }
  std::string path() const { return dir_ + "/data.csv"; }

 private:
  std::string dir_;
};

// --- regression targets --------------------------------------------------------------

TEST(CsvTargets, TargetColumnsAreReadAsValuesInTheirOrder) {
  CsvOptions options;
  options.target_columns = {"rent", "price"};
  const Dataset d = read_text("rooms,price,age,rent\n3,250000.5,10,-900.25\n4,1e5,2,1200\n", options);
  EXPECT_EQ(d.feature_names, (Names{"rooms", "age"}));
  EXPECT_EQ(d.target_names, (Names{"rent", "price"}));
  EXPECT_TRUE(d.class_names.empty());
  EXPECT_TRUE(d.label_name.empty());
  ASSERT_EQ(d.labels.shape(0), 2u);
  ASSERT_EQ(d.labels.shape(1), 2u);
  EXPECT_EQ(d.labels(0, 0), -900.25f);
  EXPECT_EQ(d.labels(0, 1), 250000.5f);
  EXPECT_EQ(d.labels(1, 0), 1200.0f);
  EXPECT_EQ(d.labels(1, 1), 100000.0f);
  // By 0-based index too.
  options.target_columns = {"1"};
  EXPECT_EQ(read_text("a,b\n1,2.5\n", options).labels(0, 0), 2.5f);
}

TEST(CsvTargets, ATargetThatIsNotANumberIsRefusedNamingLineAndColumn) {
  CsvOptions options;
  options.target_columns = {"species"};
  EXPECT_EQ(error_for("x,species\n1,setosa\n", options),
            "mem.csv:2, column 'species' holds text ('setosa'): a regression target must be a number");
  options.target_note = "--loss mse is a regression loss and needs numbers";
  EXPECT_EQ(error_for("x,species\n1,2\n1,setosa\n", options),
            "mem.csv:3, column 'species' holds text ('setosa'): --loss mse is a regression loss and needs numbers");
  options.target_columns = {"y"};
  EXPECT_EQ(error_for("x,y\n1,nan\n", options), "mem.csv:2, column 'y': NaN/Inf is not allowed");
  EXPECT_EQ(error_for("x,y\n1,-inf\n", options), "mem.csv:2, column 'y': NaN/Inf is not allowed");
  EXPECT_EQ(error_for("x,y\n1,\n", options), "mem.csv:2, column 'y': missing target (empty field)");
  EXPECT_EQ(error_for("x,y\n1,1e39\n", options), "mem.csv:2, column 'y': '1e39' is out of range for a float");
}

TEST(CsvTargets, MissingAndMisusedTargetColumns) {
  CsvOptions options;
  options.target_columns = {"price", "rent"};
  EXPECT_EQ(error_for("a,price\n1,2\n", options), "mem.csv: missing target column rent (the file has: a, price)");
  options.id_column = "price";
  try {
    read_text("a,price,rent\n1,2,3\n", options);
    ADD_FAILURE() << "no error";
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(std::string(e.what()), "mem.csv: column 'price' cannot be both a target and the id");
  }
  options.id_column.clear();
  options.feature_columns = {"a", "rent"};
  EXPECT_EQ(error_for("a,price,rent\n1,2,3\n", options),
            "mem.csv: column 'rent' is a target column, it cannot also be a feature");
  // For predicting: a file without the targets is unlabelled.
  options.feature_columns.clear();
  options.label_optional = true;
  const Dataset unlabelled = read_text("a,b\n1,2\n", options);
  EXPECT_EQ(unlabelled.labels.shape(0), 0u);
  EXPECT_EQ(unlabelled.features.shape(1), 2u);
  EXPECT_EQ(error_for("a,price\n1,2\n", options), "mem.csv: missing target column rent (the file has: a, price)");
}

TEST(CsvTargets, ASchemaWithTargetsReadsThemByName) {
  CsvOptions options;
  options.target_columns = {"y"};
  const Dataset train = read_text("a,b,y\n1,2,3.5\n", options);
  std::istringstream in("y,b,extra,a\n-1.5,20,x,10\n");
  const Dataset other = read_csv(in, "other.csv", train.schema());
  EXPECT_EQ(other.feature_names, (Names{"a", "b"}));
  EXPECT_EQ(other.target_names, (Names{"y"}));
  EXPECT_EQ(other.features(0, 0), 10.0f);
  EXPECT_EQ(other.labels(0, 0), -1.5f);
  EXPECT_EQ(other.ignored_columns, (Names{"extra"}));
}

TEST(CsvLimits, AMillionColumnsAreReadAndOneMoreIsRefusedAtOnce) {
  EXPECT_EQ(load_csv_columns(TempCsv(wide_header(1'000'000) + "\n").path()).size(), 1'000'000u);
  const TempCsv wider(wide_header(1'000'001) + "\n" + std::string(1'000'000, ',') + "1\n");
  try {
    load_csv(wider.path());
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()), wider.path() + ":1: more than 1000000 columns (the limit)");
  }
  std::istringstream in("a,b\n" + std::string(1'000'000, ',') + "\n");
  try {
    read_csv(in, "wide.csv");
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()), "wide.csv:2: more than 1000000 columns (the limit)");
  }
}

TEST(CsvLimits, ALineOver64MiBIsRefusedNamingIt) {
  const std::size_t limit = std::size_t{64} << 20;
  const TempCsv at_limit("a,b\n1," + std::string(limit - 2, '1') + "\n");
  EXPECT_EQ(load_csv(at_limit.path()).features.shape(0), 1u);
  const TempCsv over("a,b\r\n1,2\r\n1," + std::string(limit - 1, '1') + "\r\n3,4\r\n");
  try {
    load_csv(over.path());
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()), over.path() + ":3: line longer than the limit of 64 MiB (not a text file?)");
  }
}

}  // namespace
}  // namespace xdense
