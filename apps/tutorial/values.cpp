// The tutorial's tables and graphs of the activation functions: activations.csv
// (values and derivatives from the library's own layers), one figure per function,
// the three comparisons, and the softmax example.

#include <cmath>
#include <cstdio>
#include <memory>
#include <sstream>

#include "plots.hpp"
#include "tutorial.hpp"
#include "xdense/activation.hpp"
#include "xdense/builtin_activations.hpp"
#include "xdense/atomic_file.hpp"
#include "xdense/error.hpp"
#include "xdense/random.hpp"

namespace xdense::cli::tutorial {
namespace {

// The six columns of activations.csv, with their figure titles (gnuplot enhanced text).
struct FunctionInfo {
  const char* name;
  const char* spec;
  const char* title;
};

const FunctionInfo functions[] = {
    {"linear", "linear", "Linear (identity): f(x) = x"},
    {"binary_step", "binary_step", "Binary step: f(x) = 1 if x ≥ 0, else 0"},
    {"sigmoid", "sigmoid", "Sigmoid: f(x) = 1 / (1 + e^{-x})"},
    {"tanh", "tanh", "Tanh: f(x) = tanh(x)"},
    {"relu", "relu", "ReLU: f(x) = max(0, x)"},
    {"leaky_relu", "leaky_relu", "Leaky ReLU: f(x) = x if x ≥ 0, else 0.3 x"},
};

// Runs an activation LAYER forward on x and backward with dL/dy = 1, so the derivative
// column is exactly what backpropagation uses.
ActivationCurve sample(const std::string& name, const std::string& spec, const std::vector<float>& x) {
  std::unique_ptr<Activation> layer = make_activation(spec);
  Rng unused;
  layer->build(1, unused);
  layer->reserve(x.size());
  const ConstMatrixView in(x.data(), x.size(), 1);
  ActivationCurve curve;
  curve.name = name;
  curve.spec = layer->spec();
  const ConstMatrixView y = layer->forward(in);
  curve.value.assign(y.data, y.data + y.size());
  const std::vector<float> ones(x.size(), 1.0f);
  const ConstMatrixView dx = layer->backward(ConstMatrixView(ones.data(), x.size(), 1));
  curve.derivative.assign(dx.data, dx.data + dx.size());
  return curve;
}

// x with exactly two decimals, from the grid index (no float noise like -4.98999977).
std::string grid_label(std::size_t i) {
  char text[32];
  const long hundredths = static_cast<long>(i) - 500;
  std::snprintf(text, sizeof text, "%s%ld.%02ld", hundredths < 0 ? "-" : "", std::labs(hundredths) / 100,
                std::labs(hundredths) % 100);
  return text;
}

std::string float_text(float v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", static_cast<double>(v));  // 9 digits: reads back as the same float
  return text;
}

// Column `x`, then the named curves' values ("sigmoid") or derivatives ("d_sigmoid"),
// one row per grid point; `header_prefix` starts the header ("" for CSV, "# " for gnuplot).
std::string curve_table(const ValuesResult& v, const std::vector<std::string>& columns, char separator,
                        const std::string& header_prefix) {
  std::string out = header_prefix + "x";
  for (const auto& c : columns) out += separator + c;
  out += "\n";
  for (std::size_t i = 0; i < v.x.size(); ++i) {
    out += grid_label(i);
    for (const auto& c : columns) {
      const bool derivative = c.rfind("d_", 0) == 0;
      const ActivationCurve& curve = v.curve(derivative ? c.substr(2) : c);
      out += separator + float_text(derivative ? curve.derivative[i] : curve.value[i]);
    }
    out += "\n";
  }
  return out;
}

const char* const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e"};

const char* common_style =
    "set xlabel \"x\"\n"
    "set grid lc rgb '#dddddd'\n"
    "set xrange [-5:5]\n"
    "set offsets 0, 0, graph 0.08, graph 0.08\n"
    "set key top left box opaque width 1 spacing 1.2\n";

Figure function_figure(const ValuesResult& v, const FunctionInfo& f) {
  const std::string name = f.name;
  Figure fig;
  fig.name = "activation_" + name;
  fig.caption = std::string(f.title).substr(0, std::string(f.title).find(':')) +
                ": the function and its derivative, as the library computes them";
  std::vector<std::string> columns = {name, "d_" + name};
  std::ostringstream s;
  s << "set title \"" << f.title << "\"\n" << common_style << "set ylabel \"f(x), f'(x)\"\n";
  // The step's lines run along the top-left corner: its legend goes where the plot is empty.
  if (name == "binary_step") s << "set key center left\n";
  s << "plot '" << fig.name << ".dat' using 1:2 with lines lw 3 lc rgb '" << palette[0] << "' title \"f(x)\", \\\n"
    << "     '' using 1:3 with lines lw 3 dt 2 lc rgb '" << palette[1] << "' title \"f'(x), the derivative\"";
  if (name == "binary_step") {
    columns.push_back("d_binary_step_ste");
    s << ", \\\n     '' using 1:4 with lines lw 2 dt 3 lc rgb '" << palette[2]
      << "' title \"straight-through estimate, binary\\\\_step(ste)\"";
  }
  s << "\n";
  fig.script = s.str();
  fig.data.push_back({fig.name + ".dat", curve_table(v, columns, ' ', "# ")});
  return fig;
}

Figure comparison_figure(const ValuesResult& v, const FunctionInfo& a, const FunctionInfo& b) {
  const std::string first = a.name, second = b.name;
  auto label = [](const FunctionInfo& f) { return std::string(f.title).substr(0, std::string(f.title).find(':')); };
  Figure fig;
  fig.name = "compare_" + first + "_vs_" + second;
  fig.caption = label(a) + " vs " + label(b) + ": functions (solid) and derivatives (dashed)";
  std::ostringstream s;
  s << "set title \"" << label(a) << " vs " << label(b) << "\"\n" << common_style << "set ylabel \"f(x), f'(x)\"\n";
  s << "plot '" << fig.name << ".dat' using 1:2 with lines lw 3 lc rgb '" << palette[0] << "' title \"" << label(a)
    << "\", \\\n"
    << "     '' using 1:3 with lines lw 3 lc rgb '" << palette[3] << "' title \"" << label(b) << "\", \\\n"
    << "     '' using 1:4 with lines lw 2 dt 2 lc rgb '" << palette[0] << "' title \"" << label(a)
    << " derivative\", \\\n"
    << "     '' using 1:5 with lines lw 2 dt 2 lc rgb '" << palette[3] << "' title \"" << label(b)
    << " derivative\"\n";
  fig.script = s.str();
  fig.data.push_back({fig.name + ".dat", curve_table(v, {first, second, "d_" + first, "d_" + second}, ' ', "# ")});
  return fig;
}

Figure softmax_figure(const ValuesResult& v) {
  Figure fig;
  fig.name = "softmax_example";
  fig.caption = "Softmax: scores (left) become probabilities that sum to 1 (right)";
  std::string data = "# class score probability\n";
  double sum = 0.0;
  for (std::size_t i = 0; i < v.softmax_scores.size(); ++i) {
    data += "\"class " + std::to_string(i + 1) + "\" " + float_text(v.softmax_scores[i]) + " " +
            float_text(v.softmax_probabilities[i]) + "\n";
    sum += v.softmax_probabilities[i];
  }
  fig.data.push_back({fig.name + ".dat", data});
  std::ostringstream s;
  s << "set multiplot layout 1,2 title \"Softmax turns a vector of scores into probabilities\" font \",14\"\n"
       "set style fill solid 0.85 border -1\n"
       "set boxwidth 0.6\n"
       "set grid ytics lc rgb '#dddddd'\n"
       "set xrange [-0.6:"
    << v.softmax_scores.size() - 0.4
    << "]\n"
       "set xlabel \"class\"\n"
       "set title \"Scores (logits) fed to softmax\"\n"
       "set ylabel \"score\"\n"
       "set yrange [0:*]\n"
       "set offsets 0, 0, graph 0.12, 0\n"
       "plot 'softmax_example.dat' using 0:2:xtic(1) with boxes lc rgb '"
    << palette[0]
    << "' notitle, \\\n"
       "     '' using 0:2:(sprintf(\"%.2f\", $2)) with labels offset 0,1 notitle\n"
       "set title \"Probabilities (sum = "
    << fixed(sum, 3)
    << ")\"\n"
       "set ylabel \"probability\"\n"
       "set yrange [0:1]\n"
       "set offsets 0, 0, 0, 0\n"
       "plot 'softmax_example.dat' using 0:3:xtic(1) with boxes lc rgb '"
    << palette[3]
    << "' notitle, \\\n"
       "     '' using 0:3:(sprintf(\"%.3f\", $3)) with labels offset 0,1 notitle\n"
       "unset multiplot\n";
  fig.script = s.str();
  return fig;
}

std::vector<std::string> csv_columns() {
  std::vector<std::string> columns;
  for (const FunctionInfo& f : functions) {
    columns.push_back(f.name);
    columns.push_back(std::string("d_") + f.name);
  }
  return columns;
}

}  // namespace

std::vector<float> activation_grid() {
  std::vector<float> x(1001);
  // One division per point from the exact integer: no accumulated rounding.
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(static_cast<long>(i) - 500) / 100.0f;
  return x;
}

const ActivationCurve& ValuesResult::curve(const std::string& name) const {
  for (const auto& c : curves) {
    if (c.name == name) return c;
  }
  throw InvalidArgument("tutorial: no activation curve named '" + name + "'");
}

ValuesResult run_values(const Settings& settings, Plotter& plotter) {
  ValuesResult v;
  v.x = activation_grid();
  for (const FunctionInfo& f : functions) v.curves.push_back(sample(f.name, f.spec, v.x));
  v.curves.push_back(sample("binary_step_ste", "binary_step(ste)", v.x));
  write_file_atomically(settings.out_dir + "/activations.csv", curve_table(v, csv_columns(), ',', ""));

  for (const FunctionInfo& f : functions) plotter.add(function_figure(v, f));
  plotter.add(comparison_figure(v, functions[3], functions[2]));  // tanh vs sigmoid
  plotter.add(comparison_figure(v, functions[2], functions[4]));  // sigmoid vs ReLU
  plotter.add(comparison_figure(v, functions[4], functions[5]));  // ReLU vs leaky ReLU

  // The softmax example: three scores through the library's Softmax layer.
  v.softmax_scores = {2.0f, 1.0f, 0.1f};
  std::unique_ptr<Activation> softmax = make_activation("softmax");
  Rng unused;
  softmax->build(v.softmax_scores.size(), unused);
  softmax->reserve(1);
  const ConstMatrixView p = softmax->forward(ConstMatrixView(v.softmax_scores.data(), 1, v.softmax_scores.size()));
  v.softmax_probabilities.assign(p.data, p.data + p.size());
  std::string csv = "class,score,probability\n";
  for (std::size_t i = 0; i < v.softmax_scores.size(); ++i) {
    csv += std::to_string(i + 1) + "," + float_text(v.softmax_scores[i]) + "," + float_text(v.softmax_probabilities[i]) +
           "\n";
  }
  write_file_atomically(settings.out_dir + "/softmax_example.csv", csv);
  plotter.add(softmax_figure(v));
  return v;
}

}  // namespace xdense::cli::tutorial
