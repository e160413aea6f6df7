#pragma once
// Figures through gnuplot (Debian's gnuplot-nox), driven from C++: each figure's
// data and script are saved beside its PNG so a user can restyle and re-render it
// with `gnuplot NAME.gp`. Rendering runs in the background, two at a time, while
// the tutorial keeps training: adding a figure never waits for gnuplot.

#include <sys/types.h>

#include <deque>
#include <string>
#include <utility>
#include <vector>

namespace xdense::cli::tutorial {

/// One figure: data files and a gnuplot script that renders NAME.png from them.
struct Figure {
  std::string name;     ///< file stem: NAME.png, NAME.gp
  std::string caption;  ///< one line for the report
  /// gnuplot commands after the standard header (which sets the 800x600 pngcairo
  /// terminal and the output file); data files are referred to by their bare names.
  std::string script;
  std::vector<std::pair<std::string, std::string>> data;  ///< file name -> contents
};

/// Saves figures into one folder and renders them with gnuplot when it is installed.
class Plotter {
 public:
  /// Figures go to `dir` (which must exist); gnuplot is looked up on PATH.
  explicit Plotter(std::string dir);
  ~Plotter();
  Plotter(const Plotter&) = delete;
  Plotter& operator=(const Plotter&) = delete;

  /// True when a gnuplot executable was found.
  bool can_render() const { return !gnuplot_.empty(); }

  /// Writes the figure's data and script (atomically) and starts rendering its PNG.
  void add(const Figure& figure);

  /// Collects finished renders and starts queued ones, without waiting: call it now and then.
  void poll() { pump(false); }

  /// Waits for every render; returns one message per figure that failed.
  std::vector<std::string> finish();

  const std::vector<Figure>& figures() const { return figures_; }
  const std::string& dir() const { return dir_; }

 private:
  struct Job {
    pid_t pid;
    std::string name;
  };
  void start(const std::string& name);
  /// Collects one finished render; waits for one when `block`. False when none was collected.
  bool reap(bool block);
  /// Collects finished renders and starts queued ones; with `block`, until none is left.
  void pump(bool block);

  std::string dir_;
  std::string gnuplot_;
  std::vector<Figure> figures_;
  std::vector<Job> running_;
  std::deque<std::string> queued_;
  std::vector<std::string> failures_;
};

/// Full path of `program` found on PATH, or "" when it is not there.
std::string find_on_path(const std::string& program);

/// Quotes a string for a gnuplot script: 'it''s'.
std::string gnuplot_quote(const std::string& text);

}  // namespace xdense::cli::tutorial
