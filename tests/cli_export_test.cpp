// `xdense summary` (text and --json) and `xdense export --npy` / `--onnx`: the preprocessing is
// visible, the exported files alone reproduce `predict` (read here by a reader of our own, computed
// in double loops), and export writes all of its files or none (the ONNX file's graph is run in
// ONNX Runtime by tests/onnx/onnx_runtime_test.cpp).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include "cli_support.hpp"

#include "xdense/model_file.hpp"
#include "xdense/npy.hpp"

namespace {

namespace fs = std::filesystem;

const std::string data_dir = XDENSE_DATA_DIR;

using xdense::testing::Cli;
using xdense::testing::CommandResult;
using xdense::testing::read_file;

// ---------------------------------------------------------------- independent readers

/// A float32 .npy array: shape and values.
struct Npy {
  std::vector<std::size_t> shape;
  std::vector<double> values;
};

/// Minimal .npy reader, independent of the library's: version 1.0 or 2.0 header, '<f4', C order,
/// 1-D or 2-D. Throws on anything else.
Npy read_npy(const fs::path& path) {
  const std::string bytes = read_file(path);
  auto fail = [&](const std::string& what) { return std::runtime_error(path.string() + ": " + what); };
  if (bytes.size() < 12 || bytes.compare(0, 6, "\x93NUMPY") != 0) throw fail("not a .npy file");
  const auto byte = [&](std::size_t i) { return static_cast<std::size_t>(static_cast<unsigned char>(bytes[i])); };
  const int major = bytes[6];
  std::size_t header_start = 10, header_length = byte(8) | byte(9) << 8;
  if (major == 2)
    header_start = 12, header_length |= byte(10) << 16 | byte(11) << 24;
  else if (major != 1)
    throw fail("unsupported version");
  const std::string header = bytes.substr(header_start, header_length);
  if (header.find("'descr': '<f4'") == std::string::npos) throw fail("not '<f4': " + header);
  if (header.find("'fortran_order': False") == std::string::npos) throw fail("not C order: " + header);
  const std::size_t open = header.find("'shape': (");
  if (open == std::string::npos) throw fail("no shape: " + header);
  Npy array;
  std::istringstream dims(header.substr(open + 10, header.find(')', open) - open - 10));
  std::string dim;
  while (std::getline(dims, dim, ','))
    if (dim.find_first_not_of(' ') != std::string::npos) array.shape.push_back(std::stoul(dim));
  std::size_t count = 1;
  for (std::size_t d : array.shape) count *= d;
  const std::size_t data_start = header_start + header_length;
  if (bytes.size() != data_start + 4 * count) throw fail("size does not match the shape");
  for (std::size_t i = 0; i < count; ++i) {
    std::uint32_t bits = 0;
    for (int b = 3; b >= 0; --b) bits = bits << 8 | byte(data_start + 4 * i + b);
    float value;
    std::memcpy(&value, &bits, 4);
    array.values.push_back(value);
  }
  return array;
}

/// A CSV without quoting: header names and rows of fields.
struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

Csv read_csv(const fs::path& path) {
  std::ifstream in(path);
  Csv csv;
  std::string line;
  auto split = [](const std::string& text) {
    std::vector<std::string> fields;
    std::istringstream s(text);
    std::string field;
    while (std::getline(s, field, ',')) fields.push_back(field);
    return fields;
  };
  if (std::getline(in, line)) csv.header = split(line);
  while (std::getline(in, line))
    if (!line.empty()) csv.rows.push_back(split(line));
  return csv;
}

std::size_t column_of(const Csv& csv, const std::string& name) {
  for (std::size_t c = 0; c < csv.header.size(); ++c)
    if (csv.header[c] == name) return c;
  throw std::runtime_error("no column '" + name + "'");
}

// ---------------------------------------------------------------- the model, outside xdense

using Rows = std::vector<std::vector<double>>;

/// y = x . W + b for kernel (inputs, units) and bias (units,), in double.
Rows dense(const Rows& x, const Npy& kernel, const Npy& bias) {
  const std::size_t inputs = kernel.shape.at(0), units = kernel.shape.at(1);
  Rows y;
  for (const auto& row : x) {
    EXPECT_EQ(row.size(), inputs);
    std::vector<double> out(bias.values);
    for (std::size_t j = 0; j < units; ++j)
      for (std::size_t i = 0; i < inputs; ++i) out[j] += row[i] * kernel.values[i * units + j];
    y.push_back(out);
  }
  return y;
}

/// An activation by its spec as `summary --json` gives it.
void activate(Rows& x, const std::string& spec) {
  for (auto& row : x) {
    if (spec == "softmax") {
      double top = row[0], sum = 0;
      for (double v : row) top = std::max(top, v);
      for (double& v : row) sum += v = std::exp(v - top);
      for (double& v : row) v /= sum;
      continue;
    }
    double slope = 0;
    if (spec.rfind("leaky_relu(", 0) == 0)
      slope = std::stod(spec.substr(11));
    else if (spec != "relu" && spec != "sigmoid" && spec != "tanh" && spec != "linear")
      throw std::runtime_error("activation '" + spec + "' not implemented in the test");
    for (double& v : row) {
      if (spec == "sigmoid")
        v = 1 / (1 + std::exp(-v));
      else if (spec == "tanh")
        v = std::tanh(v);
      else if (spec != "linear" && v < 0)
        v *= slope;
    }
  }
}

/// Standardize -> (Dense -> activation)... from the files `export --npy DIR` wrote, the layer
/// order and activations from `summary --json`; inputs are the CSV's columns picked by the model's
/// feature names.
Rows predict_outside(const fs::path& dir, const nlohmann::json& summary, const Csv& csv) {
  std::vector<std::size_t> columns;
  for (const auto& name : summary.at("feature_names")) columns.push_back(column_of(csv, name.get<std::string>()));
  const Npy mean = read_npy(dir / "standardize_mean.npy"), scale = read_npy(dir / "standardize_std.npy");
  Rows x;
  for (const auto& fields : csv.rows) {
    std::vector<double> row;
    for (std::size_t i = 0; i < columns.size(); ++i)
      row.push_back((std::stod(fields.at(columns[i])) - mean.values.at(i)) / scale.values.at(i));
    x.push_back(row);
  }
  std::size_t dense_index = 0;
  for (const auto& layer : summary.at("layers")) {
    if (layer.at("kind") == "Dense") {
      const std::string stem = "dense_" + std::to_string(dense_index++);
      x = dense(x, read_npy(dir / (stem + "_kernel.npy")), read_npy(dir / (stem + "_bias.npy")));
    } else {
      activate(x, layer.at("activation").get<std::string>());
    }
  }
  return x;
}

/// Checks predict's CSV (label,p_<class>...) against probabilities computed outside xdense.
void expect_same_predictions(const std::string& predictions, const Rows& outputs, const nlohmann::json& classes) {
  std::istringstream in(predictions);
  std::string line;
  std::getline(in, line);
  std::string expected_header = "label";
  for (const auto& c : classes) expected_header += ",p_" + c.get<std::string>();
  EXPECT_EQ(line, expected_header);
  std::size_t row = 0, flips = 0;
  double worst = 0;
  for (; std::getline(in, line); ++row) {
    ASSERT_LT(row, outputs.size());
    std::vector<double> p = outputs[row];
    if (p.size() == 1) p = {1 - p[0], p[0]};  // a 1-unit sigmoid prints p_<class0> = 1 - p
    std::istringstream fields(line);
    std::string label, field;
    std::getline(fields, label, ',');
    std::size_t best = 0;
    for (std::size_t k = 0; k < p.size(); ++k) {
      ASSERT_TRUE(std::getline(fields, field, ',')) << line;
      const double printed = std::stod(field);
      EXPECT_NEAR(printed, p[k], 1e-5 * std::abs(p[k]) + 1e-6) << "row " << row << " class " << k;
      worst = std::max(worst, std::abs(printed - p[k]));
      if (p[k] > p[best]) best = k;
    }
    const double runner_up = p.size() == 2 ? p[1 - best] : 0;
    if (p[best] - runner_up > 1e-4) {
      EXPECT_EQ(label, classes.at(best).get<std::string>()) << "row " << row;
    }
    flips += p[best] - runner_up <= 1e-4;
  }
  EXPECT_EQ(row, outputs.size());
  std::printf("  %zu rows, max |printed - computed| = %.3g (%zu near-ties not label-checked)\n", row, worst, flips);
}

/// The CLI fixture plus the steps these tests share.
class ExportCli : public Cli {
 protected:
  /// `summary --json` of `model`: exit 0, one line, parsed.
  nlohmann::json summary(const std::string& model) const {
    const CommandResult run = xdense("summary --json --model " + model);
    EXPECT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(xdense::testing::count_lines(run.out), 1u) << run.out;
    return nlohmann::json::parse(run.out);
  }

  /// Exports `model`, computes its outputs on `data_file` from the exported files alone and
  /// compares them with `predict --output`.
  void reproduce_predict(const std::string& model, const std::string& data_file) const {
    const CommandResult exported = xdense("export --model " + model + " --npy w");
    ASSERT_EQ(exported.exit_code, 0) << exported.err;
    const CommandResult predict = xdense("predict --model " + model + " --data " + data_file + " --output p.csv");
    ASSERT_EQ(predict.exit_code, 0) << predict.err;
    const nlohmann::json info = summary(model);
    const Rows outputs = predict_outside(path("w"), info, read_csv(data_file));
    expect_same_predictions(read_file(path("p.csv")), outputs, info.at("classes"));
  }

  /// A small standardized iris softmax model (4 features, 3 classes) in `output`.
  void train_small_iris(const std::string& output) const {
    const CommandResult run = xdense("train --data " + data_dir +
                                     "/iris.csv --layers 4:relu,3:softmax --loss cce --optimizer adam --epochs 2 "
                                     "--batch-size 16 --standardize --quiet --output " + output);
    ASSERT_EQ(run.exit_code, 0) << run.err;
  }

  /// Every entry under the test folder, with file contents: equal snapshots, nothing changed.
  std::vector<std::string> snapshot() const {
    std::vector<std::string> entries;
    for (const auto& e : fs::recursive_directory_iterator(dir_)) {
      const std::string name = fs::relative(e.path(), dir_).string();
      entries.push_back(name + (e.is_directory() ? "/" : " = " + read_file(e.path())));
    }
    std::sort(entries.begin(), entries.end());
    return entries;
  }
};

// ---------------------------------------------------------------- predict, reproduced

TEST_F(ExportCli, ExportedFilesAloneReproducePredictOnIrisSoftmax) {
  const CommandResult train =
      xdense("train --data " + data_dir +
             "/iris.csv --layers '8:tanh,8:leaky_relu(0.2),3:softmax' --loss categorical_crossentropy "
             "--optimizer adam --lr 0.01 --epochs 60 --batch-size 16 --validation-split 0.2 --standardize "
             "--output iris.xdm --quiet");
  ASSERT_EQ(train.exit_code, 0) << train.err;
  reproduce_predict("iris.xdm", data_dir + "/iris.csv");
}

TEST_F(ExportCli, ExportedFilesAloneReproducePredictOnBreastCancerSigmoid) {
  train_cancer("m.xdm", "--quiet");
  reproduce_predict("m.xdm", data_dir + "/breast_cancer.csv");
}

// ---------------------------------------------------------------- summary

TEST_F(ExportCli, SummaryJsonHasEveryKeyAndTheStatisticsEqualTheExport) {
  train_cancer("m.xdm", "--quiet");
  const nlohmann::json json = summary("m.xdm");
  std::vector<std::string> keys;
  const auto ordered = nlohmann::ordered_json::parse(xdense("summary --json --model m.xdm").out);
  for (const auto& item : ordered.items()) keys.push_back(item.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"model", "format_version", "inputs", "outputs", "layers", "loss",
                                            "optimizer", "task", "classes", "target_names", "feature_names",
                                            "label_column", "preprocessing", "total_params", "training"}));
  EXPECT_EQ(json.at("model"), "m.xdm");
  EXPECT_EQ(json.at("format_version"), 3);
  EXPECT_EQ(json.at("inputs"), 30);
  EXPECT_EQ(json.at("outputs"), 1);
  EXPECT_EQ(json.at("total_params"), 513);
  const nlohmann::json layers = R"([
    {"name": "dense", "type": "Dense", "kind": "Dense", "inputs": 30, "units": 16, "params": 496, "non_trainable_params": 0,
     "config": {"units": 16, "use_bias": true, "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros"}},
    {"name": "re_lu", "type": "ReLU", "kind": "Activation", "inputs": 16, "units": 16, "params": 0, "non_trainable_params": 0,
     "config": {"activation": "relu"}, "activation": "relu"},
    {"name": "dense_1", "type": "Dense", "kind": "Dense", "inputs": 16, "units": 1, "params": 17, "non_trainable_params": 0,
     "config": {"units": 1, "use_bias": true, "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros"}},
    {"name": "sigmoid", "type": "Sigmoid", "kind": "Activation", "inputs": 1, "units": 1, "params": 0, "non_trainable_params": 0,
     "config": {"activation": "sigmoid"}, "activation": "sigmoid"}])"_json;
  EXPECT_EQ(json.at("layers"), layers) << json.at("layers").dump();
  EXPECT_EQ(json.at("loss"), R"({"name": "binary_crossentropy", "config": {}, "from_logits": true})"_json);
  EXPECT_EQ(json.at("optimizer"),
            R"({"name": "adam", "learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07})"_json);
  EXPECT_EQ(json.at("classes"), R"(["0", "1"])"_json);
  const Csv csv = read_csv(data_dir + "/breast_cancer.csv");
  std::vector<std::string> features(csv.header.begin(), csv.header.end() - 1);
  EXPECT_EQ(json.at("feature_names"), features);
  // "label_column" is recorded by newer trainings; older models have none.
  EXPECT_TRUE(json.at("label_column").is_null() || json.at("label_column") == "benign") << json.at("label_column");
  EXPECT_EQ(json.at("training").at("epochs"), "50");

  ASSERT_EQ(xdense("export --model m.xdm --npy w").exit_code, 0);
  const auto& standardize = json.at("preprocessing").at("standardize");
  const std::pair<const char*, const char*> stats[] = {{"mean", "w/standardize_mean.npy"},
                                                       {"std", "w/standardize_std.npy"}};
  for (const auto& [key, file] : stats) {
    const Npy exported = read_npy(path(file));
    EXPECT_EQ(exported.shape, std::vector<std::size_t>{30});
    ASSERT_EQ(standardize.at(key).size(), 30u);
    for (std::size_t i = 0; i < 30; ++i) {
      // The JSON number reads back as the very float32 of the file.
      EXPECT_EQ(static_cast<float>(standardize.at(key)[i].get<double>()), static_cast<float>(exported.values[i]))
          << key << "[" << i << "]";
    }
  }
  // Population statistics of the training part: close to those of the whole file.
  const std::size_t radius = column_of(csv, "mean_radius");
  double sum = 0;
  for (const auto& row : csv.rows) sum += std::stod(row[radius]);
  EXPECT_NEAR(standardize.at("mean")[0].get<double>(), sum / csv.rows.size(), 0.5);
}

TEST_F(ExportCli, SummaryTextShowsTheStatisticsAndTheDataContract) {
  train_cancer("m.xdm", "--quiet");
  const CommandResult run = xdense("summary --model m.xdm");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string& text = run.out;
  ASSERT_EQ(xdense("export --model m.xdm --npy w").exit_code, 0);
  const Npy mean = read_npy(path("w/standardize_mean.npy")), scale = read_npy(path("w/standardize_std.npy"));
  for (const std::string s :
       {"Features (30, matched by name when predicting): mean_radius, mean_texture,", "Preprocessing: standardize",
        "mean", "std", "... and 10 more features", "xdense summary --json", "export --npy"}) {
    EXPECT_NE(text.find(s), std::string::npos) << s << "\n" << text;
  }
  // The first 20 features' rows: index, name, mean and std as %.6g; the 21st is not listed.
  const nlohmann::json json = summary("m.xdm");
  const auto& names = json.at("feature_names");
  int width = 7;  // "feature"
  for (std::size_t i = 0; i < 20; ++i) width = std::max(width, static_cast<int>(names[i].get<std::string>().size()));
  for (std::size_t i = 0; i < 20; ++i) {
    char row[200];
    std::snprintf(row, sizeof row, "%5zu  %-*s %14.6g %14.6g\n", i, width, names[i].get<std::string>().c_str(),
                  mean.values[i], scale.values[i]);
    EXPECT_NE(text.find(row), std::string::npos) << row << "\n" << text;
  }
  EXPECT_EQ(text.find(names[20].get<std::string>()), std::string::npos) << text;  // only the first 20 listed
  if (!json.at("label_column").is_null()) {
    EXPECT_NE(text.find("Label column: benign\n"), std::string::npos) << text;
  }
  // The label column, from the metadata key "label_column" (set here in case training does not record it).
  xdense::SavedModel saved = xdense::load_model(path("m.xdm").string());
  saved.info.metadata.erase(std::remove_if(saved.info.metadata.begin(), saved.info.metadata.end(),
                                           [](const auto& entry) { return entry.first == "label_column"; }),
                            saved.info.metadata.end());
  saved.info.metadata.emplace_back("label_column", "benign");
  xdense::save_model(path("labelled.xdm").string(), saved.model, saved.info);
  EXPECT_NE(xdense("summary --model labelled.xdm").out.find("\nLabel column: benign\n"), std::string::npos);
  EXPECT_EQ(summary("labelled.xdm").at("label_column"), "benign");

  // No standardizer: said so, and export writes no statistics.
  ASSERT_EQ(xdense("train --data " + data_dir +
                   "/iris.csv --layers 4:relu,3:softmax --loss cce --optimizer sgd --epochs 2 --batch-size 16 "
                   "--output plain.xdm --quiet")
                .exit_code,
            0);
  const CommandResult plain = xdense("summary --model plain.xdm");
  EXPECT_NE(plain.out.find("Preprocessing: none\n"), std::string::npos) << plain.out;
  EXPECT_NE(plain.out.find("Optimizer: sgd (learning_rate=0.01, momentum=0, nesterov=false)"), std::string::npos)
      << plain.out;
  EXPECT_TRUE(summary("plain.xdm").at("preprocessing").is_null());
  const CommandResult exported = xdense("export --model plain.xdm --npy p");
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_EQ(exported.out.find("standardize"), std::string::npos) << exported.out;
  EXPECT_TRUE(fs::exists(path("p/dense_1_bias.npy")));
  EXPECT_FALSE(fs::exists(path("p/standardize_mean.npy")));
  EXPECT_FALSE(fs::exists(path("p/standardize_std.npy")));
}

TEST_F(ExportCli, UnnamedFeaturesAreListedByIndex) {
  // NPY data has no column names: 25 features, rows listed by index.
  std::vector<float> x(60 * 25), y(60);
  for (std::size_t r = 0; r < 60; ++r) {
    for (std::size_t c = 0; c < 25; ++c) x[r * 25 + c] = static_cast<float>((r * 7 + c * 3) % 11) + 10.0f * c;
    y[r] = static_cast<float>(r % 2);
  }
  xdense::save_npy(path("x.npy").string(), x.data(), {60, 25});
  xdense::save_npy(path("y.npy").string(), y.data(), {60});
  const CommandResult train = xdense(
      "train --data x.npy --labels y.npy --layers 4:relu,1:sigmoid --loss bce --optimizer adam --epochs 2 "
      "--batch-size 8 --standardize --output n.xdm --quiet");
  ASSERT_EQ(train.exit_code, 0) << train.err;
  const CommandResult text = xdense("summary --model n.xdm");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  const nlohmann::json json = summary("n.xdm");
  EXPECT_EQ(json.at("feature_names"), nlohmann::json::array());
  const auto& mean = json.at("preprocessing").at("standardize").at("mean");
  const auto& scale = json.at("preprocessing").at("standardize").at("std");
  ASSERT_EQ(mean.size(), 25u);
  EXPECT_NEAR(mean[24].get<double>(), 245.0, 1.0);
  for (const std::string s : {"Features: 25 unnamed columns", "... and 5 more features"}) {
    EXPECT_NE(text.out.find(s), std::string::npos) << s << "\n" << text.out;
  }
  char row[100];
  std::snprintf(row, sizeof row, "\n  %7d %14.6g %14.6g\n", 19, mean[19].get<double>(), scale[19].get<double>());
  EXPECT_NE(text.out.find(row), std::string::npos) << row << "\n" << text.out;
}

// ---------------------------------------------------------------- export: all or nothing

TEST_F(ExportCli, ExportPrintsWhatItWroteAndAcceptsAnExistingFolder) {
  train_cancer("m.xdm", "--quiet");
  const CommandResult run = xdense("export --model m.xdm --npy w/");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out,
            "Wrote w/dense_0_kernel.npy (30, 16)\n"
            "Wrote w/dense_0_bias.npy (16,)\n"
            "Wrote w/dense_1_kernel.npy (16, 1)\n"
            "Wrote w/dense_1_bias.npy (1,)\n"
            "Wrote w/standardize_mean.npy (30,)\n"
            "Wrote w/standardize_std.npy (30,)\n"
            "Exported 2 layers' parameters and the standardizer's mean and std to w\n");
  expect_only_files({"m.xdm", "w"});
  fs::create_directory(path("plain"));  // the folder gets the mode a plain mkdir gives
  EXPECT_EQ(fs::status(path("w")).permissions(), fs::status(path("plain")).permissions());
  fs::remove(path("plain"));
  EXPECT_EQ(read_npy(path("w/dense_0_kernel.npy")).shape, (std::vector<std::size_t>{30, 16}));

  // Into an existing folder: the files are replaced, other files are kept.
  std::ofstream(path("w/notes.txt")) << "mine";
  std::ofstream(path("w/dense_0_bias.npy")) << "stale";
  const std::string kernel = read_file(path("w/dense_0_kernel.npy"));
  ASSERT_EQ(xdense("export --model m.xdm --npy w").exit_code, 0);
  EXPECT_EQ(read_file(path("w/notes.txt")), "mine");
  EXPECT_EQ(read_npy(path("w/dense_0_bias.npy")).shape, std::vector<std::size_t>{16});
  EXPECT_EQ(read_file(path("w/dense_0_kernel.npy")), kernel);
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(path("w"))) files += e.is_regular_file();
  EXPECT_EQ(files, 7u);
  expect_only_files({"m.xdm", "w"});
}

TEST_F(ExportCli, ExportFailuresLeaveEverythingAsItWas) {
  train_cancer("m.xdm", "--quiet");
  // The folder is created, its parent must exist.
  auto before = snapshot();
  expect_user_error("export --model m.xdm --npy missing/w", {"missing/w: folder 'missing' does not exist"});
  EXPECT_EQ(snapshot(), before);

  // DIR is a regular file.
  std::ofstream(path("file")) << "keep";
  before = snapshot();
  expect_user_error("export --model m.xdm --npy file", {"file", "not a folder"});
  EXPECT_EQ(snapshot(), before);

  // A destination that cannot be replaced (a folder named like one of the files): found after
  // every file was written, before any was moved in; the temporary folder is removed.
  fs::create_directories(path("w/standardize_std.npy"));
  std::ofstream(path("w/dense_0_kernel.npy")) << "old";
  before = snapshot();
  expect_user_error("export --model m.xdm --npy w", {"w/standardize_std.npy", "is a folder"});
  EXPECT_EQ(snapshot(), before);

  // A missing model: nothing is created.
  expect_user_error("export --model nope.xdm --npy v", {"nope.xdm"});
  EXPECT_EQ(snapshot(), before);
}

// ---------------------------------------------------------------- export --onnx

/// An ONNX ModelProto starts with field 1 (ir_version, varint): byte 0x08, then the version.
void expect_onnx_bytes(const std::string& bytes) {
  ASSERT_GT(bytes.size(), 100u);
  EXPECT_EQ(bytes[0], '\x08');
  EXPECT_EQ(bytes[1], '\x07') << "IR version 7";
  EXPECT_NE(bytes.find("xdense"), std::string::npos) << "producer_name";
  EXPECT_NE(bytes.find("petal_length"), std::string::npos) << "feature names in the metadata";
}

TEST_F(ExportCli, OnnxWritesTheOnnxFileAndSaysWhatItHolds) {
  train_small_iris("m.xdm");
  const CommandResult run = xdense("export --model m.xdm --onnx m.onnx");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out,
            "Wrote m.onnx: ONNX model, input \"input\" float32 [N, 4] (raw features), output \"output\" float32 "
            "[N, 3] (class probabilities)\n");
  EXPECT_EQ(run.err, "");
  expect_only_files({"m.xdm", "m.onnx"});
  expect_onnx_bytes(read_file(path("m.onnx")));

  // An existing file is replaced (atomically), the same model gives the same bytes.
  const std::string first = read_file(path("m.onnx"));
  std::ofstream(path("m.onnx")) << "old";
  ASSERT_EQ(xdense("export --model m.xdm --onnx m.onnx").exit_code, 0);
  EXPECT_EQ(read_file(path("m.onnx")), first);
  expect_only_files({"m.xdm", "m.onnx"});
}

TEST_F(ExportCli, OnnxWritesBothOutputsTogether) {
  train_small_iris("m.xdm");
  const CommandResult run = xdense("export --model m.xdm --onnx m.onnx --npy w");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  expect_only_files({"m.xdm", "m.onnx", "w"});
  EXPECT_TRUE(fs::exists(path("w/dense_0_kernel.npy")));
  EXPECT_TRUE(fs::exists(path("w/standardize_mean.npy")));
  EXPECT_EQ(run.out.rfind("Wrote m.onnx: ONNX model", 0), 0u) << run.out;
  EXPECT_NE(run.out.find("Exported 2 layers' parameters and the standardizer's mean and std to w\n"),
            std::string::npos)
      << run.out;
}

TEST_F(ExportCli, OnnxRefusalsLeaveEverythingAsItWas) {
  train_small_iris("m.xdm");
  auto before = snapshot();
  expect_user_error("export --model m.xdm", {"nothing to write", "--onnx", "--npy"});
  EXPECT_EQ(snapshot(), before);

  // The model file itself.
  expect_user_error("export --model m.xdm --onnx m.xdm", {"m.xdm", "--onnx is the same file as --model"});
  EXPECT_EQ(snapshot(), before);
  fs::create_symlink("m.xdm", path("link.onnx"));
  before = snapshot();
  expect_user_error("export --model m.xdm --onnx link.onnx", {"link.onnx", "same file as --model"});
  EXPECT_EQ(snapshot(), before);

  // A missing folder, a folder in the way, a missing model.
  expect_user_error("export --model m.xdm --onnx missing/m.onnx", {"missing/m.onnx", "folder 'missing' does not exist"});
  EXPECT_EQ(snapshot(), before);
  fs::create_directory(path("taken.onnx"));
  before = snapshot();
  expect_user_error("export --model m.xdm --onnx taken.onnx", {"taken.onnx", "is a directory"});
  EXPECT_EQ(snapshot(), before);
  expect_user_error("export --model nope.xdm --onnx m.onnx", {"nope.xdm"});
  EXPECT_EQ(snapshot(), before);

  // The --npy part fails after the ONNX bytes are ready: neither output appears.
  std::ofstream(path("file")) << "keep";
  before = snapshot();
  expect_user_error("export --model m.xdm --onnx m.onnx --npy file", {"file", "not a folder"});
  EXPECT_EQ(snapshot(), before);
  fs::create_directories(path("w/standardize_std.npy"));
  before = snapshot();
  expect_user_error("export --model m.xdm --onnx m.onnx --npy w", {"w/standardize_std.npy", "is a folder"});
  EXPECT_EQ(snapshot(), before);
}

}  // namespace
