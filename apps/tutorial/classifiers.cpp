// The tutorial's two classifiers, trained through the library: a binary classifier
// with a sigmoid output and a multi-class classifier with a softmax output, each
// with learning curves and test metrics.

#include <algorithm>
#include <cmath>
#include <memory>
#include <sstream>

#include "plots.hpp"
#include "tutorial.hpp"
#include "xdense/builtin_activations.hpp"
#include "xdense/atomic_file.hpp"
#include "xdense/dense.hpp"
#include "xdense/loss.hpp"
#include "xdense/optimizer.hpp"

namespace xdense::cli::tutorial {
namespace {

// Network and budget of one classifier.
struct Plan {
  std::vector<std::size_t> hidden;  // relu layers
  std::size_t epochs;
  std::size_t batch_size;
  float learning_rate;  // Adam
};

Plan binary_plan(bool fashion, bool quick) {
  if (!fashion) return {{16}, 40, 32, 1e-3f};
  return quick ? Plan{{64}, 8, 64, 1e-3f} : Plan{{128}, 30, 64, 1e-3f};
}

Plan multiclass_plan(bool fashion, bool quick) {
  if (!fashion) return {{16}, 100, 16, 1e-2f};
  // Full run: the 256-128-100 MLP that Fashion-MNIST's README lists at 0.8833.
  return quick ? Plan{{128}, 8, 64, 1e-3f} : Plan{{256, 128, 100}, 25, 128, 1e-3f};
}

std::size_t majority_count(const Matrix& y, std::size_t classes) {
  std::vector<std::size_t> counts(classes, 0);
  for (std::size_t r = 0; r < y.shape(0); ++r) ++counts[static_cast<std::size_t>(y(r, 0))];
  return *std::max_element(counts.begin(), counts.end());
}

Figure learning_curve_figure(const ClassifierResult& c) {
  Figure fig;
  fig.name = "curves_" + c.key;
  fig.caption = c.title + ": loss and accuracy per epoch, training and validation";
  std::string data = "# epoch loss val_loss accuracy val_accuracy\n";
  for (const EpochLog& e : c.history.epochs) {
    data += std::to_string(e.epoch) + " " + number(e.loss) + " " + number(e.val_loss) + " " + number(e.accuracy) +
            " " + number(e.val_accuracy) + "\n";
  }
  fig.data.push_back({fig.name + ".dat", data});
  const std::string file = gnuplot_quote(fig.name + ".dat");
  std::ostringstream s;
  s << "set multiplot layout 2,1 title " << gnuplot_quote(c.title + ": " + c.task.dataset) << " noenhanced font \",13\"\n"
    << "set grid lc rgb '#dddddd'\n"
       "set xlabel \"epoch\"\n"
       "set xrange [1:*]\n"
       "set style line 1 lw 2.5 pt 7 ps 0.7 lc rgb '#1f77b4'\n"
       "set style line 2 lw 2.5 pt 5 ps 0.7 lc rgb '#ff7f0e'\n"
       "set title \"Loss (cross-entropy)\"\n"
       "set ylabel \"loss\"\n"
       "set key top right box opaque\n"
    << "plot " << file << " using 1:2 with linespoints ls 1 title \"training\", \\\n"
    << "     '' using 1:3 with linespoints ls 2 title \"validation\"\n"
    << "set title \"Accuracy\"\n"
       "set ylabel \"accuracy\"\n"
       "set key bottom right box opaque\n"
    << "plot " << file << " using 1:4 with linespoints ls 1 title \"training\", \\\n"
    << "     '' using 1:5 with linespoints ls 2 title \"validation\"\n"
    << "unset multiplot\n";
  fig.script = s.str();
  return fig;
}

ClassifierResult train_classifier(const std::string& key, const std::string& title, Task task, const Plan& plan,
                                  const Settings& settings, Plotter& plotter, ProgressLine& progress) {
  const std::size_t classes = task.class_names.size();
  const bool binary = classes == 2;
  const std::size_t outputs = binary ? 1 : classes;
  Sequential model(settings.seed);
  std::ostringstream architecture;
  architecture << task.train.x.shape(1);
  for (std::size_t units : plan.hidden) {
    model.add(std::make_unique<Dense>(units)).add("relu");
    architecture << "-" << units << "(relu)";
  }
  model.add(std::make_unique<Dense>(outputs)).add(binary ? "sigmoid" : "softmax");
  architecture << "-" << outputs << (binary ? "(sigmoid)" : "(softmax)");
  model.compile(binary ? make_loss("binary_crossentropy") : make_loss("categorical_crossentropy"),
                std::make_unique<Adam>(AdamOptions{plan.learning_rate}));

  FitOptions options;
  options.epochs = plan.epochs;
  options.batch_size = plan.batch_size;
  options.seed = settings.seed;
  options.validation_x = &task.validation.x;
  options.validation_y = &task.validation.y;
  options.on_epoch_end = [&](const EpochLog& e) {
    plotter.poll();
    progress.detail("epoch " + std::to_string(e.epoch) + "/" + std::to_string(plan.epochs) + "  loss " +
                    fixed(e.loss, 4) + "  val_accuracy " + fixed(e.val_accuracy, 4));
  };

  ClassifierResult result;
  result.key = key;
  result.title = title;
  result.architecture = architecture.str();
  result.training = "Adam (lr " + number(plan.learning_rate) + "), " + std::to_string(plan.epochs) +
                    " epochs, batch size " + std::to_string(plan.batch_size) + ", seed " + std::to_string(settings.seed);
  result.history = model.fit(task.train.x, task.train.y, options);
  result.test = model.evaluate(task.test.x, task.test.y, 256);

  const Matrix probabilities = model.predict(task.test.x, 256);
  std::vector<std::size_t> truth(task.test.y.shape(0)), predicted(truth.size());
  result.output_min = 1.0;
  result.output_max = 0.0;
  for (std::size_t r = 0; r < truth.size(); ++r) {
    truth[r] = static_cast<std::size_t>(task.test.y(r, 0));
    double sum = 0.0;
    std::size_t best = 0;
    for (std::size_t c = 0; c < outputs; ++c) {
      const double p = probabilities(r, c);
      result.output_min = std::min(result.output_min, p);
      result.output_max = std::max(result.output_max, p);
      sum += p;
      if (p > probabilities(r, best)) best = c;
    }
    predicted[r] = binary ? static_cast<std::size_t>(probabilities(r, 0) > 0.5f) : best;
    if (!binary) result.max_sum_error = std::max(result.max_sum_error, std::abs(sum - 1.0));
  }
  result.report = classification_report(truth, predicted, classes);
  result.majority_baseline =
      static_cast<double>(majority_count(task.test.y, classes)) / static_cast<double>(truth.size());

  // The matrices are no longer needed; keep the description for the report.
  task.train = task.validation = {};
  task.test.x = Matrix::from_shape({0, 0});
  result.task = std::move(task);
  result.figure = "curves_" + key;
  return result;
}

std::string classifiers_csv(const std::vector<ClassifierResult>& results) {
  std::string csv = "classifier,dataset,architecture,epochs,test_samples,test_loss,test_accuracy,macro_f1,"
                    "majority_baseline\n";
  for (const auto& c : results) {
    csv += c.key + ",\"" + c.task.dataset + "\"," + c.architecture + "," + std::to_string(c.history.epochs.size()) +
           "," + std::to_string(c.test.samples) + "," + number(c.test.loss) + "," + number(c.test.accuracy) + "," +
           number(c.report.macro_f1) + "," + number(c.majority_baseline) + "\n";
  }
  return csv;
}

}  // namespace

std::vector<ClassifierResult> run_classifiers(const Settings& settings, Plotter& plotter, ProgressLine& progress) {
  struct Job {
    const char* key;
    const char* title;
    const char* fashion_data;
    const char* csv_data;
    Task (TaskLoader::*load)();
    Plan (*plan)(bool fashion, bool quick);
  };
  const Job jobs[] = {
      {"binary", "Binary classifier (sigmoid output)", "Fashion-MNIST T-shirt/top vs shirt", "breast cancer",
       &TaskLoader::binary, binary_plan},
      {"multiclass", "Multi-class classifier (softmax output)", "Fashion-MNIST, 10 classes", "iris, 3 species",
       &TaskLoader::multiclass, multiclass_plan},
  };
  TaskLoader loader(settings);
  std::vector<ClassifierResult> results;
  for (const Job& job : jobs) {
    progress.begin(std::string(job.title) + ": " + (loader.fashion() ? job.fashion_data : job.csv_data));
    results.push_back(train_classifier(job.key, job.title, (loader.*job.load)(),
                                       job.plan(loader.fashion(), settings.quick), settings, plotter, progress));
    progress.end("test accuracy " + fixed(results.back().test.accuracy, 4));
    plotter.add(learning_curve_figure(results.back()));
  }
  write_file_atomically(settings.out_dir + "/classifiers.csv", classifiers_csv(results));
  return results;
}

}  // namespace xdense::cli::tutorial
