// The activation shoot-out: the same network, seed and budget with each hidden
// activation, on three questions the tutorial answers in words:
//   circles  - can the network learn a non-linear boundary at all?
//   deep     - do gradients vanish through a deep stack of saturating units?
//   dying    - how many ReLU units die after training with a large learning rate,
//              and does leaky ReLU avoid it?

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <sstream>

#include "plots.hpp"
#include "tutorial.hpp"
#include "xdense/activation.hpp"
#include "xdense/atomic_file.hpp"
#include "xdense/dense.hpp"
#include "xdense/error.hpp"
#include "xdense/loss.hpp"
#include "xdense/optimizer.hpp"

namespace xdense::cli::tutorial {
namespace {

// Seed offsets: each data set and experiment draws from its own stream of the run's seed.
constexpr std::uint64_t train_stream = 201, validation_stream = 202, test_stream = 203;

// Sizes and budgets. The same for every activation within an experiment.
struct Plan {
  std::size_t train_samples, validation_samples, test_samples;
  double noise = 0.1;   // standard deviation of the circles' noise
  double factor = 0.5;  // inner radius / outer radius
  // circles: 2 -> width x depth -> 1 (sigmoid), Adam
  std::size_t width = 16, depth = 2, epochs, batch_size = 32;
  float learning_rate = 0.01f;
  // deep narrow network: 2 -> deep_width x deep_depth -> 1, Adam
  std::size_t deep_width = 16, deep_depth = 8, deep_epochs;
  float deep_learning_rate = 0.001f;
  // dying ReLU: 2 -> dying_width x 2 -> 1, Adam at each learning rate (Keras's default first)
  std::size_t dying_width = 64, dying_epochs;
  std::vector<float> dying_learning_rates = {0.001f, 0.01f, 0.1f, 1.0f};
};

Plan make_plan(bool quick) {
  Plan plan;
  plan.train_samples = quick ? 800 : 2000;
  plan.validation_samples = 400;
  plan.test_samples = 1000;
  plan.epochs = quick ? 60 : 150;
  plan.deep_epochs = quick ? 20 : 60;
  plan.dying_epochs = quick ? 20 : 60;
  return plan;
}

std::string describe_hidden(std::size_t width, std::size_t depth) {
  return std::to_string(depth) + " hidden layer" + (depth == 1 ? "" : "s") + " of " + std::to_string(width) + " units";
}

// 2 -> [width, activation] x depth -> 1 (sigmoid), binary cross-entropy.
Sequential make_network(const std::string& activation, std::size_t width, std::size_t depth,
                        std::unique_ptr<Optimizer> optimizer, std::uint64_t seed) {
  Sequential model(seed);
  for (std::size_t i = 0; i < depth; ++i) model.add(std::make_unique<Dense>(width)).add(activation);
  model.add(std::make_unique<Dense>(1)).add("sigmoid");
  model.compile(make_loss("binary_crossentropy"), std::move(optimizer));
  model.build(2);
  return model;
}

// The "kernel" (inputs, units) and "bias" (units) of a layer, found among its named parameters():
// every layer with a kernel (Dense, or a user's layer named alike) is one of the network's matrices.
struct KernelLayer {
  Parameter kernel;
  Parameter bias;  // size 0 when the layer has none
  float weight(std::size_t input, std::size_t unit) const { return kernel.value[input * kernel.shape[1] + unit]; }
  float offset(std::size_t unit) const { return bias.size ? bias.value[unit] : 0.0f; }
};

std::vector<KernelLayer> kernel_layers(const Sequential& model) {
  std::vector<KernelLayer> layers;
  for (std::size_t i = 0; i < model.layer_count(); ++i) {
    KernelLayer layer;
    for (const Parameter& p : model.layer(i).parameters()) {
      if (p.name == "kernel" && p.shape.size() == 2) layer.kernel = p;
      if (p.name == "bias") layer.bias = p;
    }
    if (layer.kernel.value) layers.push_back(std::move(layer));
  }
  return layers;
}

// Runs x through the model one layer at a time; visit(activation layer, its output) for
// every hidden activation (the output layer excluded).
void trace_hidden(Sequential& model, const Matrix& x, const std::function<void(const Activation&, ConstMatrixView)>& visit) {
  model.reserve(x.shape(0));
  ConstMatrixView a = view(x);
  for (std::size_t i = 0; i + 1 < model.layer_count(); ++i) {
    a = model.layer(i).forward(a);
    if (const Activation* activation = model.layer(i).as_activation()) visit(*activation, a);
  }
}

// Pre-sigmoid outputs z of the network for x: (samples, 1).
Matrix network_logits(Sequential& model, const Matrix& x) {
  model.reserve(x.shape(0));
  ConstMatrixView a = view(x);
  for (std::size_t i = 0; i < model.layer_count(); ++i) a = model.layer(i).forward(a);
  const Activation* output = model.layer(model.layer_count() - 1).as_activation();
  if (!output) throw StateError("network_logits: expected the network to end with an activation layer");
  return to_matrix(output->last_input());
}

// For a network whose hidden layers are all linear: folds its Dense layers into one map
// z = x . A + c and returns the largest |z_network - z_folded| over x, and the largest |z|.
std::pair<double, double> linear_collapse(Sequential& model, const Matrix& x) {
  std::vector<std::vector<double>> a = {{1.0, 0.0}, {0.0, 1.0}};  // A (2, units), starts as I
  std::vector<double> c(2, 0.0);                                     // c (units)
  for (const KernelLayer& d : kernel_layers(model)) {
    const std::size_t in = d.kernel.shape[0], out = d.kernel.shape[1];
    std::vector<std::vector<double>> next(a.size(), std::vector<double>(out, 0.0));
    std::vector<double> next_c(out, 0.0);
    for (std::size_t j = 0; j < out; ++j) {
      for (std::size_t k = 0; k < in; ++k) {
        for (std::size_t r = 0; r < a.size(); ++r) next[r][j] += a[r][k] * d.weight(k, j);  // A' = A . W
        next_c[j] += c[k] * d.weight(k, j);                                                   // c' = c . W + b
      }
      next_c[j] += d.offset(j);
    }
    a = std::move(next);
    c = std::move(next_c);
  }
  const Matrix z = network_logits(model, x);
  double worst = 0.0, largest = 0.0;
  for (std::size_t r = 0; r < x.shape(0); ++r) {
    const double folded = x(r, 0) * a[0][0] + x(r, 1) * a[1][0] + c[0];
    worst = std::max(worst, std::abs(folded - z(r, 0)));
    largest = std::max(largest, std::abs(static_cast<double>(z(r, 0))));
  }
  return {worst, largest};
}

double squared_norm(const float* values, std::size_t n) {
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) sum += static_cast<double>(values[i]) * values[i];
  return sum;
}

struct Circles {
  Labelled train, validation, test;
};

// --- circles ------------------------------------------------------------------------

constexpr double grid_limit = 1.6;
constexpr std::size_t grid_points = 121;

// Predicted P(inner) on a grid, as "x y p" rows with a blank line after each x (gnuplot's grid format).
std::string boundary_data(Sequential& model) {
  Matrix grid = Matrix::from_shape({grid_points * grid_points, 2});
  const double step = 2.0 * grid_limit / static_cast<double>(grid_points - 1);
  for (std::size_t i = 0; i < grid_points; ++i) {
    for (std::size_t j = 0; j < grid_points; ++j) {
      grid(i * grid_points + j, 0) = static_cast<float>(-grid_limit + step * static_cast<double>(i));
      grid(i * grid_points + j, 1) = static_cast<float>(-grid_limit + step * static_cast<double>(j));
    }
  }
  const Matrix p = model.predict(grid, 1024);
  std::string out = "# x1 x2 p_inner\n";
  for (std::size_t i = 0; i < grid_points; ++i) {
    for (std::size_t j = 0; j < grid_points; ++j) {
      const std::size_t r = i * grid_points + j;
      out += fixed(grid(r, 0), 4) + " " + fixed(grid(r, 1), 4) + " " + fixed(p(r, 0), 4) + "\n";
    }
    out += "\n";
  }
  return out;
}

std::string points_data(const Labelled& data, std::size_t limit) {
  std::string out = "# x1 x2 class (0 = outer circle, 1 = inner circle)\n";
  for (std::size_t r = 0; r < std::min(limit, data.x.shape(0)); ++r) {
    out += fixed(data.x(r, 0), 4) + " " + fixed(data.x(r, 1), 4) + " " + number(data.y(r, 0)) + "\n";
  }
  return out;
}

// Plot commands of one decision-boundary panel (shared by the single and overview figures).
// The test points alternate between the classes (make_circles), so class c is every
// (2 * thin)-th row from row c: `thin` 1 draws them all.
std::string boundary_plot(const std::string& activation, double point_size, int thin) {
  std::ostringstream s;
  s << "plot " << gnuplot_quote("boundary_" + file_stem(activation) + ".dat") << " using 1:2:3 with image notitle, \\\n"
    << "     'circles_test_points.dat' every " << 2 * thin << "::0 using 1:2 with points pt 7 ps " << point_size
    << " lc rgb '#08519c' title \"outer circle (class 0)\", \\\n"
    << "     '' every " << 2 * thin << "::1 using 1:2 with points pt 9 ps " << point_size
    << " lc rgb '#a50f15' title \"inner circle (class 1)\"\n";
  return s.str();
}

const char* boundary_style =
    "set size ratio -1\n"
    "set xrange [-1.6:1.6]\n"
    "set yrange [-1.6:1.6]\n"
    "set palette defined (0 '#9ecae1', 0.5 '#ffffff', 1 '#fc9272')\n"
    "set cbrange [0:1]\n";

Figure boundary_figure(const CirclesRun& run, const std::string& grid) {
  Figure fig;
  fig.name = "boundary_" + file_stem(run.activation);
  fig.caption = "Decision boundary with hidden activation " + run.activation + " (test accuracy " +
                fixed(run.test_accuracy, 3) + ")";
  fig.data.push_back({fig.name + ".dat", grid});
  std::ostringstream s;
  s << "set title " << gnuplot_quote("Hidden activation " + run.activation + ": test accuracy " +
                                     fixed(run.test_accuracy, 3))
    << " noenhanced\n"
    << boundary_style << "set xlabel \"x_1\"\nset ylabel \"x_2\"\n"
    << "set cblabel \"predicted probability of the inner circle\"\n"
    << "set key outside bottom center horizontal box opaque\n"
    << boundary_plot(run.activation, 0.6, 1);
  fig.script = s.str();
  return fig;
}

Figure boundary_overview(const std::vector<CirclesRun>& runs) {
  Figure fig;
  fig.name = "boundaries_overview";
  fig.caption = "All decision boundaries side by side (blue: outer circle predicted, red: inner)";
  std::ostringstream s;
  s << "set multiplot layout 2,4 title \"Same network, seed and budget; only the hidden activation differs\" "
       "font \",13\"\n"
    << boundary_style << "unset colorbox\nunset key\nunset xtics\nunset ytics\n"
    << "set margins 1, 1, 1, 3\n";
  for (const CirclesRun& run : runs) {
    s << "set title " << gnuplot_quote(run.activation + ": " + fixed(run.test_accuracy, 3)) << " noenhanced\n"
      << boundary_plot(run.activation, 0.3, 2);
  }
  // The eighth panel explains the colours.
  s << "set title \"\"\nunset border\nset label 1 \"Background: predicted\\nclass (blue outer,\\nred inner, white\\nundecided)\\n\\nDots: test samples\\n\\nTitles: activation\\nand test accuracy\" "
       "at graph 0.02, graph 0.9 left font \",10\"\n"
       "set xrange [0:1]\nset yrange [0:1]\nplot 2 notitle\nunset multiplot\n";
  fig.script = s.str();
  return fig;
}

Figure accuracy_figure(const std::vector<CirclesRun>& runs) {
  Figure fig;
  fig.name = "shootout_accuracy";
  fig.caption = "Test accuracy on the circles per hidden activation (chance: 0.5)";
  std::string data = "# activation train_accuracy test_accuracy\n";
  for (const CirclesRun& run : runs) {
    data += "\"" + run.activation + "\" " + number(run.train_accuracy) + " " + number(run.test_accuracy) + "\n";
  }
  fig.data.push_back({fig.name + ".dat", data});
  fig.script =
      "set title \"Two concentric circles: test accuracy per hidden activation\"\n"
      "set ylabel \"test accuracy\"\n"
      "set xlabel \"hidden activation\" offset 0,-1\n"
      "set yrange [0:1.1]\n"
      "set ytics 0.1\n"
      "set grid ytics lc rgb '#dddddd'\n"
      "set style fill solid 0.85 border -1\n"
      "set boxwidth 0.6\n"
      "set xtics rotate by 20 right noenhanced\n"
      "set key top left box opaque\n"
      "plot 'shootout_accuracy.dat' using 0:3:xtic(1) with boxes lc rgb '#1f77b4' title \"test accuracy\", \\\n"
      "     '' using ($0):3:(sprintf(\"%.3f\", $3)) with labels offset 0,0.8 notitle, \\\n"
      "     0.5 with lines dt 2 lw 2 lc rgb '#d62728' title \"chance (0.5)\"\n";
  return fig;
}

// One line per activation over x = 1..n: writes the figure's data file (a column per
// activation) and returns the plot command; `style(i)` is line i's "with ..." clause, and
// `positive_only` leaves out values <= 0 (which a log scale cannot show).
std::string per_activation_lines(Figure& fig, const std::string& x_name, const std::vector<std::string>& activations,
                                 const std::vector<std::vector<double>>& series,
                                 const std::function<std::string(std::size_t)>& style, bool positive_only) {
  std::string data = "# " + x_name;
  for (const auto& a : activations) data += " " + a;
  data += "\n";
  for (std::size_t x = 0; x < series.front().size(); ++x) {
    data += std::to_string(x + 1);
    for (const auto& values : series) data += " " + number(values[x]);
    data += "\n";
  }
  fig.data.push_back({fig.name + ".dat", data});
  std::ostringstream plot;
  plot << "plot ";
  for (std::size_t i = 0; i < activations.size(); ++i) {
    const std::string column = std::to_string(i + 2);
    plot << (i ? ", \\\n     " : "") << gnuplot_quote(fig.name + ".dat") << " using 1:"
         << (positive_only ? "($" + column + " > 0 ? $" + column + " : 1/0)" : column) << " " << style(i) << " title "
         << gnuplot_quote(activations[i]);
  }
  return plot.str() + "\n";
}

Figure validation_curves_figure(const std::vector<CirclesRun>& runs) {
  Figure fig;
  fig.name = "shootout_learning_curves";
  fig.caption = "Validation accuracy per epoch on the circles, per hidden activation";
  std::vector<std::string> names;
  std::vector<std::vector<double>> series;
  for (const CirclesRun& run : runs) {
    names.push_back(run.activation);
    series.push_back(run.validation_accuracy);
  }
  fig.script = "set title \"Circles: validation accuracy while training\"\n"
               "set xlabel \"epoch\"\nset ylabel \"validation accuracy\"\n"
               "set yrange [0.3:1.05]\nset grid lc rgb '#dddddd'\n"
               "set key outside right top box opaque noenhanced title \"hidden activation\"\n" +
               per_activation_lines(fig, "epoch", names, series, [](std::size_t) { return "with lines lw 2.5"; }, false);
  return fig;
}

CirclesRun run_circles(const std::string& activation, const Circles& data, const Plan& plan, std::uint64_t seed,
                       Plotter& plotter) {
  Sequential model = make_network(activation, plan.width, plan.depth,
                                  std::make_unique<Adam>(AdamOptions{plan.learning_rate}), seed);
  std::vector<KernelLayer> hidden = kernel_layers(model);
  hidden.pop_back();  // the output layer always learns; the question is the hidden ones
  std::vector<std::vector<float>> start;
  for (const KernelLayer& d : hidden) start.emplace_back(d.kernel.value, d.kernel.value + d.kernel.size);

  FitOptions options;
  options.epochs = plan.epochs;
  options.batch_size = plan.batch_size;
  options.seed = seed;
  options.validation_x = &data.validation.x;
  options.validation_y = &data.validation.y;
  const History history = model.fit(data.train.x, data.train.y, options);

  CirclesRun run;
  run.activation = activation;
  run.validation_accuracy = history.values("val_accuracy");
  for (std::size_t e = 0; e < run.validation_accuracy.size() && run.epochs_to_90 == 0; ++e) {
    if (run.validation_accuracy[e] >= 0.9) run.epochs_to_90 = e + 1;
  }
  run.train_accuracy = model.evaluate(data.train.x, data.train.y, 256).accuracy;
  run.test_accuracy = model.evaluate(data.test.x, data.test.y, 256).accuracy;
  double moved = 0.0, initial = 0.0;
  for (std::size_t l = 0; l < hidden.size(); ++l) {
    std::vector<float> difference(start[l].size());
    for (std::size_t i = 0; i < difference.size(); ++i) difference[i] = hidden[l].kernel.value[i] - start[l][i];
    moved += squared_norm(difference.data(), difference.size());
    initial += squared_norm(start[l].data(), start[l].size());
  }
  run.hidden_weight_change = std::sqrt(moved / initial);
  bool first = true;
  trace_hidden(model, data.test.x, [&](const Activation&, ConstMatrixView y) {
    if (!first) return;
    first = false;
    double sum = 0.0;
    for (std::size_t i = 0; i < y.size(); ++i) sum += y.data[i];
    run.mean_hidden_output = sum / static_cast<double>(y.size());
  });
  if (activation == "linear") std::tie(run.collapse_error, run.logit_scale) = linear_collapse(model, data.test.x);
  plotter.add(boundary_figure(run, boundary_data(model)));
  return run;
}

// --- deep narrow network: gradient norm per layer ----------------------------------------

// Mean local derivative f'(z) of the hidden units over the rows of x: the factor by which,
// on average, each activation scales the gradient passing back through it.
double mean_derivative(Sequential& model, const Matrix& x) {
  double sum = 0.0;
  std::size_t count = 0;
  std::vector<float> ones, slopes;
  trace_hidden(model, x, [&](const Activation& layer, ConstMatrixView y) {
    ones.assign(y.size(), 1.0f);
    slopes.resize(y.size());
    layer.derivative(layer.last_input(), y, ConstMatrixView(ones.data(), y.rows, y.cols),
                     MatrixView{slopes.data(), y.rows, y.cols});
    for (float d : slopes) sum += d;
    count += slopes.size();
  });
  return sum / static_cast<double>(count);
}

DeepRun run_deep(const std::string& activation, const Circles& data, const Plan& plan, std::uint64_t seed) {
  Sequential model = make_network(activation, plan.deep_width, plan.deep_depth,
                                  std::make_unique<Adam>(AdamOptions{plan.deep_learning_rate}), seed);
  const std::vector<KernelLayer> layers = kernel_layers(model);
  DeepRun run;
  run.activation = activation;
  run.mean_derivative = mean_derivative(model, data.train.x);
  run.gradient_norm.assign(layers.size(), 0.0);
  std::size_t batches = 0;
  FitOptions options;
  options.epochs = plan.deep_epochs;
  options.batch_size = plan.batch_size;
  options.seed = seed;
  // After each batch of epoch 1, every kernel's gradient still holds that batch's dL/dW.
  options.on_batch_end = [&](const BatchLog& log) {
    if (log.epoch != 1) return;
    ++batches;
    for (std::size_t l = 0; l < layers.size(); ++l) {
      run.gradient_norm[l] += std::sqrt(squared_norm(layers[l].kernel.gradient, layers[l].kernel.size));
    }
  };
  model.fit(data.train.x, data.train.y, options);
  for (double& norm : run.gradient_norm) norm /= static_cast<double>(batches);
  run.test_accuracy = model.evaluate(data.test.x, data.test.y, 256).accuracy;
  return run;
}

Figure gradient_figure(const std::vector<DeepRun>& runs, std::size_t hidden_layers, std::size_t width) {
  Figure fig;
  fig.name = "vanishing_gradients";
  fig.caption = "Mean gradient norm ||dL/dW|| per Dense layer during the first epoch, deep narrow network (log scale)";
  std::vector<std::string> names;
  std::vector<std::vector<double>> series;
  for (const DeepRun& run : runs) {
    names.push_back(run.activation);
    series.push_back(run.gradient_norm);
  }
  std::ostringstream s;
  s << "set title \"Gradient norm per layer in the first epoch: " << hidden_layers << " hidden layers of " << width
    << " units\"\n"
    << "set xlabel \"Dense layer (1 = next to the input, " << hidden_layers + 1 << " = output layer)\"\n"
    << "set ylabel \"mean ||dL/dW|| (log scale)\"\n"
       "set logscale y\nset format y \"10^{%L}\"\n"
       "set xtics 1\nset grid lc rgb '#dddddd'\n"
       "set key outside right top box opaque noenhanced title \"hidden activation\"\n"
       "set label 1 \"binary\\\\_step: exactly 0 below the output layer\" at graph 0.02, graph 0.04 font \",9\"\n"
    << per_activation_lines(fig, "layer", names, series,
                            [](std::size_t i) { return "with linespoints lw 2.5 pt " + std::to_string(i + 4); }, true);
  fig.script = s.str();
  return fig;
}

// --- dying ReLU --------------------------------------------------------------------------

// Counts the hidden units that are silent on every row of x.
DeadUnits count_dead_units(Sequential& model, const Matrix& x) {
  DeadUnits dead;
  trace_hidden(model, x, [&](const Activation& layer, ConstMatrixView y) {
    const ConstMatrixView z = layer.last_input();
    for (std::size_t unit = 0; unit < y.cols; ++unit) {
      bool zero = true, negative = true;
      for (std::size_t r = 0; r < y.rows && (zero || negative); ++r) {
        zero = zero && y(r, unit) == 0.0f;
        negative = negative && z(r, unit) <= 0.0f;
      }
      dead.zero_output += zero;
      dead.negative_input += negative;
    }
  });
  return dead;
}

DyingRun run_dying(const std::string& activation, float learning_rate, const Circles& data, const Plan& plan,
                   std::uint64_t seed) {
  Sequential model = make_network(activation, plan.dying_width, 2,
                                  std::make_unique<Adam>(AdamOptions{learning_rate}), seed);
  DyingRun run;
  run.activation = activation;
  run.learning_rate = learning_rate;
  run.units = 2 * plan.dying_width;
  run.before = count_dead_units(model, data.train.x);
  FitOptions options;
  options.epochs = plan.dying_epochs;
  options.batch_size = plan.batch_size;
  options.seed = seed;
  try {
    const History history = model.fit(data.train.x, data.train.y, options);
    if (!std::isfinite(history.epochs.back().loss)) run.stopped = "the loss became NaN or infinite";
  } catch (const Error& e) {
    run.stopped = e.what();  // e.g. the library stopping on a non-finite loss, weights left at their last finite values
  }
  run.test_accuracy = model.evaluate(data.test.x, data.test.y, 256).accuracy;
  run.after = count_dead_units(model, data.train.x);
  return run;
}

Figure dying_figure(const std::vector<DyingRun>& runs) {
  Figure fig;
  fig.name = "dying_relu";
  fig.caption = "Hidden units silent on every training sample after training with Adam, per learning rate";
  std::string data = "# learning_rate relu_zero_output leaky_zero_output leaky_negative_input (shares of hidden units)\n";
  for (std::size_t i = 0; i + 1 < runs.size(); i += 2) {
    const auto share = [](const DyingRun& r, std::size_t count) {
      return static_cast<double>(count) / static_cast<double>(r.units);
    };
    data += "\"lr " + number(runs[i].learning_rate) + "\" " + number(share(runs[i], runs[i].after.zero_output)) + " " +
            number(share(runs[i + 1], runs[i + 1].after.zero_output)) + " " +
            number(share(runs[i + 1], runs[i + 1].after.negative_input)) + "\n";
  }
  fig.data.push_back({fig.name + ".dat", data});
  fig.script =
      "set title \"Dying ReLU: hidden units silent on every training sample after training\"\n"
      "set ylabel \"share of hidden units\"\n"
      "set xlabel \"Adam learning rate\"\n"
      "set yrange [0:1.1]\n"
      "set grid ytics lc rgb '#dddddd'\n"
      "set style data histogram\n"
      "set style histogram clustered gap 1\n"
      "set style fill solid 0.85 border -1\n"
      "set boxwidth 0.9\n"
      "set key top left box opaque\n"
      "plot 'dying_relu.dat' using 2:xtic(1) lc rgb '#1f77b4' title \"ReLU: output 0 (dead, no gradient)\", \\\n"
      "     '' using 3 lc rgb '#ff7f0e' title \"leaky ReLU: output 0\", \\\n"
      "     '' using 4 lc rgb '#fdd0a2' title \"leaky ReLU: input <= 0 (still gets gradient 0.3)\", \\\n"
      "     '' using ($0 - 0.25):2:(sprintf(\"%.2f\", $2)) with labels offset 0,0.7 font \",9\" notitle, \\\n"
      "     '' using ($0):3:(sprintf(\"%.2f\", $3)) with labels offset 0,0.7 font \",9\" notitle, \\\n"
      "     '' using ($0 + 0.25):4:(sprintf(\"%.2f\", $4)) with labels offset 0,0.7 font \",9\" notitle\n";
  return fig;
}

// --- shootout.csv ----------------------------------------------------------------------

std::string shootout_csv(const ShootoutResult& r) {
  std::string csv = "experiment,activation,setting,metric,value\n";
  auto row = [&](const std::string& experiment, const std::string& activation, const std::string& setting,
                 const std::string& metric, double value) {
    csv += experiment + "," + activation + "," + setting + "," + metric + "," + number(value) + "\n";
  };
  for (const CirclesRun& c : r.circles) {
    row("circles", c.activation, "", "train_accuracy", c.train_accuracy);
    row("circles", c.activation, "", "test_accuracy", c.test_accuracy);
    row("circles", c.activation, "", "hidden_weight_change", c.hidden_weight_change);
    row("circles", c.activation, "", "mean_first_hidden_output", c.mean_hidden_output);
    row("circles", c.activation, "", "epochs_to_90_validation", static_cast<double>(c.epochs_to_90));
    if (c.activation == "linear") {
      row("circles", c.activation, "", "folded_single_layer_max_logit_difference", c.collapse_error);
      row("circles", c.activation, "", "max_abs_logit", c.logit_scale);
    }
  }
  for (const DeepRun& d : r.deep) {
    for (std::size_t l = 0; l < d.gradient_norm.size(); ++l) {
      row("deep", d.activation, "layer " + std::to_string(l + 1), "first_epoch_gradient_norm", d.gradient_norm[l]);
    }
    row("deep", d.activation, "", "mean_hidden_derivative_at_start", d.mean_derivative);
    row("deep", d.activation, "", "test_accuracy", d.test_accuracy);
  }
  for (const DyingRun& d : r.dying) {
    const std::string lr = "lr " + number(d.learning_rate);
    row("dying", d.activation, lr, "hidden_units", static_cast<double>(d.units));
    row("dying", d.activation, lr, "zero_output_everywhere_before", static_cast<double>(d.before.zero_output));
    row("dying", d.activation, lr, "negative_input_everywhere_before", static_cast<double>(d.before.negative_input));
    row("dying", d.activation, lr, "zero_output_everywhere_after", static_cast<double>(d.after.zero_output));
    row("dying", d.activation, lr, "negative_input_everywhere_after", static_cast<double>(d.after.negative_input));
    row("dying", d.activation, lr, "test_accuracy", d.test_accuracy);
    row("dying", d.activation, lr, "stopped_early", d.stopped.empty() ? 0.0 : 1.0);
  }
  return csv;
}

}  // namespace

std::string file_stem(const std::string& activation) {
  std::string stem;
  for (char ch : activation) {
    if (ch == '(') stem += '_';
    else if (ch != ')') stem += ch;
  }
  return stem;
}

const std::vector<std::string>& shootout_activations() {
  static const std::vector<std::string> names = {"linear", "binary_step", "binary_step(ste)", "sigmoid",
                                                 "tanh",   "relu",        "leaky_relu"};
  return names;
}

const CirclesRun& ShootoutResult::circles_run(const std::string& activation) const {
  for (const auto& run : circles) {
    if (run.activation == activation) return run;
  }
  throw InvalidArgument("tutorial: no circles run for '" + activation + "'");
}

const DeepRun& ShootoutResult::deep_run(const std::string& activation) const {
  for (const auto& run : deep) {
    if (run.activation == activation) return run;
  }
  throw InvalidArgument("tutorial: no deep run for '" + activation + "'");
}

ShootoutResult run_shootout(const Settings& settings, Plotter& plotter, ProgressLine& progress) {
  const Plan plan = make_plan(settings.quick);
  const std::uint64_t seed = settings.seed;
  const Circles data{make_circles(plan.train_samples, plan.noise, plan.factor, seed + train_stream),
                     make_circles(plan.validation_samples, plan.noise, plan.factor, seed + validation_stream),
                     make_circles(plan.test_samples, plan.noise, plan.factor, seed + test_stream)};
  ShootoutResult result;
  const std::string circles = "Two concentric circles (radii 1 and " + number(plan.factor) + ", noise " +
                              number(plan.noise) + "; " + std::to_string(plan.train_samples) + " training, " +
                              std::to_string(plan.validation_samples) + " validation, " +
                              std::to_string(plan.test_samples) + " test samples)";
  result.circles_setup = circles + "; network 2 -> " + describe_hidden(plan.width, plan.depth) +
                         " -> 1 sigmoid; Adam (lr " + number(plan.learning_rate) + "), " +
                         std::to_string(plan.epochs) + " epochs, batch size " + std::to_string(plan.batch_size) +
                         ", seed " + std::to_string(seed);
  result.deep_setup = "The same circles; network 2 -> " + describe_hidden(plan.deep_width, plan.deep_depth) +
                      " -> 1 sigmoid, Glorot-uniform weights; Adam (lr " + number(plan.deep_learning_rate) + "), " +
                      std::to_string(plan.deep_epochs) + " epochs, batch size " + std::to_string(plan.batch_size);
  std::string rates;
  for (float lr : plan.dying_learning_rates) rates += (rates.empty() ? "" : ", ") + number(lr);
  result.dying_setup = "The same circles; network 2 -> " + describe_hidden(plan.dying_width, 2) +
                       " -> 1 sigmoid; Adam at learning rates " + rates + ", " +
                       std::to_string(plan.dying_epochs) + " epochs, batch size " + std::to_string(plan.batch_size);
  result.deep_hidden_layers = plan.deep_depth;

  // The test points drawn over every decision boundary, written once before the figures that use them.
  write_file_atomically(plotter.dir() + "/circles_test_points.dat", points_data(data.test, 400));

  const auto& activations = shootout_activations();
  progress.begin("Shoot-out 1/3: " + std::to_string(activations.size()) + " hidden activations on the circles");
  for (const auto& activation : activations) {
    progress.detail(activation);
    result.circles.push_back(run_circles(activation, data, plan, seed, plotter));
    plotter.poll();
  }
  std::string outcome;
  for (const auto& run : result.circles) outcome += (outcome.empty() ? "" : ", ") + run.activation + " " + fixed(run.test_accuracy, 2);
  progress.end("test accuracy " + outcome);
  plotter.add(boundary_overview(result.circles));
  plotter.add(accuracy_figure(result.circles));
  plotter.add(validation_curves_figure(result.circles));

  progress.begin("Shoot-out 2/3: gradient norms in a deep narrow network (" + std::to_string(plan.deep_depth) +
                 " hidden layers)");
  for (const auto& activation : activations) {
    progress.detail(activation);
    result.deep.push_back(run_deep(activation, data, plan, seed));
    plotter.poll();
  }
  progress.end("done");
  plotter.add(gradient_figure(result.deep, plan.deep_depth, plan.deep_width));

  progress.begin("Shoot-out 3/3: dying ReLU vs leaky ReLU at large learning rates");
  for (float lr : plan.dying_learning_rates) {
    for (const char* activation : {"relu", "leaky_relu"}) {
      progress.detail(std::string(activation) + ", lr " + number(lr));
      result.dying.push_back(run_dying(activation, lr, data, plan, seed));
      plotter.poll();
    }
  }
  const DyingRun& relu = result.dying[result.dying.size() - 2];
  const DyingRun& leaky = result.dying.back();
  progress.end("at lr " + number(relu.learning_rate) + ": " + std::to_string(relu.after.zero_output) + "/" +
               std::to_string(relu.units) + " ReLU units dead, " + std::to_string(leaky.after.zero_output) + "/" +
               std::to_string(leaky.units) + " leaky ReLU units");
  plotter.add(dying_figure(result.dying));

  write_file_atomically(settings.out_dir + "/shootout.csv", shootout_csv(result));
  return result;
}

}  // namespace xdense::cli::tutorial
