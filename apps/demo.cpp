// `xdense demo`: the tutorial's two classifiers on the shipped data —
// a sigmoid binary classifier (breast cancer) and a softmax multi-class
// classifier (iris) — trained, evaluated on a held-out part, and reported.

#include <cstdio>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "xdense/xdense.hpp"

namespace xdense::cli {
namespace {

struct DemoResult {
  Evaluation test;
  EpochLog last_epoch;
};

DemoResult train_and_report(const std::string& title, const Dataset& data, Sequential& model,
                            std::size_t epochs, std::size_t batch_size, std::uint64_t seed, bool quiet) {
  // Stratified shuffled split: iris is sorted by species, so a plain tail split would be wrong.
  Split split = train_test_split(data.features, data.labels, 0.2, seed, /*stratify=*/true);
  Standardizer scaler;
  split.x_train = scaler.fit_transform(split.x_train);  // statistics from the training part only
  split.x_test = scaler.transform(split.x_test);

  std::cout << "\n== " << title << " ==\n"
            << data.features.shape(0) << " samples, " << data.features.shape(1) << " features, "
            << data.class_names.size() << " classes; training on " << split.x_train.shape(0)
            << ", testing on " << split.x_test.shape(0) << " (stratified 80/20 split, features standardised)\n";
  model.build(split.x_train.shape(1));
  std::cout << model.summary();

  FitOptions options;
  options.epochs = epochs;
  options.batch_size = batch_size;
  options.validation_split = 0.1;
  options.seed = seed;
  if (!quiet) {
    options.on_epoch_end = [epochs](const EpochLog& log) {
      if (log.epoch == 1 || log.epoch % 10 == 0 || log.epoch == epochs) {
        std::printf("Epoch %3zu/%zu  loss %.4f  accuracy %.4f  val_loss %.4f  val_accuracy %.4f\n", log.epoch,
                    epochs, log.loss, log.accuracy, log.val_loss, log.val_accuracy);
      }
    };
  }
  DemoResult result;
  result.last_epoch = model.fit(split.x_train, split.y_train, options).epochs.back();
  result.test = model.evaluate(split.x_test, split.y_test);
  std::printf("Test: loss %.4f, accuracy %.4f on %zu held-out samples\n", result.test.loss, result.test.accuracy,
              result.test.samples);
  return result;
}

}  // namespace

int run_demo(const DemoOptions& options) {
  const std::string dir = options.data_dir;

  const Dataset cancer = load_csv(dir + "/breast_cancer.csv");
  Sequential binary(options.seed);
  binary.add(std::make_unique<Dense>(16)).add("relu");
  binary.add(std::make_unique<Dense>(1)).add("sigmoid");
  binary.compile("binary_crossentropy", "adam");
  const DemoResult b = train_and_report("Binary classifier (sigmoid output): breast cancer, malignant vs benign",
                                        cancer, binary, 40, 32, options.seed, options.quiet);

  const Dataset iris = load_csv(dir + "/iris.csv");
  Sequential multi(options.seed);
  multi.add(std::make_unique<Dense>(16)).add("relu");
  multi.add(std::make_unique<Dense>(3)).add("softmax");
  multi.compile(std::make_unique<CategoricalCrossEntropy>(), std::make_unique<Adam>(AdamOptions{0.01f}));
  const DemoResult m = train_and_report("Multi-class classifier (softmax output): iris, 3 species", iris, multi,
                                        100, 16, options.seed, options.quiet);

  std::printf("\nSummary: breast cancer test accuracy %.4f, iris test accuracy %.4f\n", b.test.accuracy,
              m.test.accuracy);
  return 0;
}

}  // namespace xdense::cli
