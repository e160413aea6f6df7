// Data for the tutorial's experiments: the generated circles of the shoot-out, and
// the classifiers' tasks (Fashion-MNIST when installed, else the shipped CSVs).

#include <cmath>
#include <cstring>
#include <filesystem>
#include <numeric>

#include "tutorial.hpp"
#include "xdense/csv.hpp"
#include "xdense/error.hpp"
#include "xdense/idx.hpp"
#include "xdense/preprocessing.hpp"
#include "xdense/random.hpp"

namespace xdense::cli::tutorial {
namespace {

const char* const fashion_files[] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                     "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};

const std::vector<std::string> fashion_classes = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                  "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

// Seed offsets keep each use of the run's seed independent of the others.
constexpr std::uint64_t subset_stream = 101;
constexpr std::uint64_t split_stream = 102;

// Rows of `data` whose class is in `keep` (relabelled to its position there), in a random
// order from `seed`, at most `limit` of them (0: all).
Labelled select(const Labelled& data, const std::vector<std::size_t>& keep, std::size_t limit, std::uint64_t seed) {
  std::vector<std::size_t> rows;
  std::vector<float> labels;
  std::vector<int> relabel(256, -1);
  for (std::size_t k = 0; k < keep.size(); ++k) relabel[keep[k]] = static_cast<int>(k);
  for (std::size_t r = 0; r < data.y.shape(0); ++r) {
    if (relabel[static_cast<std::size_t>(data.y(r, 0))] >= 0) rows.push_back(r);
  }
  Rng rng(seed);
  rng.shuffle(rows);
  if (limit != 0 && rows.size() > limit) rows.resize(limit);
  Labelled out;
  out.x = take_rows(data.x, rows);
  out.y = Matrix::from_shape({rows.size(), 1});
  for (std::size_t i = 0; i < rows.size(); ++i) {
    out.y(i, 0) = static_cast<float>(relabel[static_cast<std::size_t>(data.y(rows[i], 0))]);
  }
  return out;
}

// The first `first` rows and the rest.
std::pair<Labelled, Labelled> cut(const Labelled& data, std::size_t first) {
  std::vector<std::size_t> head(first), tail(data.x.shape(0) - first);
  std::iota(head.begin(), head.end(), std::size_t{0});
  std::iota(tail.begin(), tail.end(), first);
  return {{take_rows(data.x, head), take_rows(data.y, head)}, {take_rows(data.x, tail), take_rows(data.y, tail)}};
}

std::vector<std::size_t> all_classes(std::size_t n) {
  std::vector<std::size_t> classes(n);
  std::iota(classes.begin(), classes.end(), std::size_t{0});
  return classes;
}

}  // namespace

Labelled make_circles(std::size_t samples, double noise, double factor, std::uint64_t seed) {
  Rng rng(seed);
  Labelled data{Matrix::from_shape({samples, 2}), Matrix::from_shape({samples, 1})};
  constexpr double two_pi = 6.283185307179586476925;
  for (std::size_t i = 0; i < samples; ++i) {
    const std::size_t label = i % 2;  // alternate: every prefix is balanced
    const double radius = label == 0 ? 1.0 : factor;
    const double angle = rng.uniform(0.0, two_pi);
    const double dx = noise * rng.normal();
    const double dy = noise * rng.normal();
    data.x(i, 0) = static_cast<float>(radius * std::cos(angle) + dx);
    data.x(i, 1) = static_cast<float>(radius * std::sin(angle) + dy);
    data.y(i, 0) = static_cast<float>(label);
  }
  return data;
}

TaskLoader::TaskLoader(const Settings& settings) : settings_(settings) {
  fashion_ = !settings.fashion_dir.empty();
  for (const char* file : fashion_files) {
    fashion_ = fashion_ && std::filesystem::is_regular_file(settings.fashion_dir + "/" + file);
  }
}

void TaskLoader::load_fashion() {
  if (loaded_) return;
  const std::string& dir = settings_.fashion_dir;
  fashion_train_ = {load_idx_images(dir + "/" + fashion_files[0]), load_idx_labels(dir + "/" + fashion_files[1])};
  fashion_test_ = {load_idx_images(dir + "/" + fashion_files[2]), load_idx_labels(dir + "/" + fashion_files[3])};
  loaded_ = true;
}

Task TaskLoader::csv_task(const std::string& file, const std::string& dataset) {
  const std::string path = settings_.data_dir + "/" + file;
  const Dataset data = load_csv(path);
  // Stratified 80/20 train/test, then 10% of the training part for validation.
  const Split outer = train_test_split(data.features, data.labels, 0.2, settings_.seed + split_stream, true);
  const Split inner = train_test_split(outer.x_train, outer.y_train, 0.1, settings_.seed + split_stream + 1, true);
  Standardizer scaler;
  Task task;
  task.dataset = dataset;
  task.source = path;
  task.class_names = data.class_names;
  task.train = {scaler.fit_transform(inner.x_train), inner.y_train};
  task.validation = {scaler.transform(inner.x_test), inner.y_test};
  task.test = {scaler.transform(outer.x_test), outer.y_test};
  task.preparation = "stratified 80/20 train/test split, 10% of the training part held out for validation, "
                     "features standardised with the training part's mean and standard deviation";
  return task;
}

Task TaskLoader::binary() {
  if (!fashion_) return csv_task("breast_cancer.csv", "breast cancer (Wisconsin), malignant vs benign");
  load_fashion();
  const std::vector<std::size_t> pair = {0, 6};
  const std::size_t limit = settings_.quick ? 3000 : 0;
  const Labelled pool = select(fashion_train_, pair, limit, settings_.seed + subset_stream);
  const std::size_t train_rows = pool.x.shape(0) - pool.x.shape(0) / 10;
  Task task;
  task.dataset = "Fashion-MNIST, T-shirt/top vs shirt";
  task.source = settings_.fashion_dir;
  task.class_names = {fashion_classes[0], fashion_classes[6]};
  std::tie(task.train, task.validation) = cut(pool, train_rows);
  task.test = select(fashion_test_, pair, 0, settings_.seed + subset_stream);
  task.preparation = std::string(settings_.quick ? "a random 3,000 of the 12,000 training images of the two classes"
                                                 : "the 12,000 training images of the two classes") +
                     ", 10% of them held out for validation; all 2,000 test images of the two classes; "
                     "pixels scaled to [0, 1]";
  return task;
}

Task TaskLoader::multiclass() {
  if (!fashion_) return csv_task("iris.csv", "iris, 3 species");
  load_fashion();
  const std::size_t limit = settings_.quick ? 10000 : 0;
  const Labelled pool = select(fashion_train_, all_classes(10), limit, settings_.seed + subset_stream + 1);
  const std::size_t train_rows = pool.x.shape(0) - pool.x.shape(0) / 10;
  Task task;
  task.dataset = "Fashion-MNIST, 10 classes";
  task.source = settings_.fashion_dir;
  task.class_names = fashion_classes;
  std::tie(task.train, task.validation) = cut(pool, train_rows);
  task.test = fashion_test_;
  task.preparation = std::string(settings_.quick ? "a random 10,000 of the 60,000 training images"
                                                 : "all 60,000 training images") +
                     ", 10% of them held out for validation; the 10,000 test images; pixels scaled to [0, 1]";
  return task;
}

}  // namespace xdense::cli::tutorial
