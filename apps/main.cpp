// The xdense command-line tool. Parsing (CLI11) lives here; each subcommand's
// work is in its own file. Every error ends in one line on stderr and exit 2.

#include <exception>
#include <iostream>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "xdense/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"xdense " XDENSE_VERSION " - train and use dense neural networks"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "xdense " XDENSE_VERSION);

  xdense::cli::DemoOptions demo;
  CLI::App* demo_command = app.add_subcommand(
      "demo", "Train the two demo classifiers (sigmoid: breast cancer; softmax: iris) on the shipped data\n"
              "  example: xdense demo --data-dir data");
  demo_command->add_option("--data-dir", demo.data_dir, "Folder holding breast_cancer.csv and iris.csv")
      ->capture_default_str();
  demo_command->add_option("--seed", demo.seed, "Seed for weights, shuffling and the split")->capture_default_str();
  demo_command->add_flag("--quiet", demo.quiet, "Print only the results, not per-epoch progress");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    if (demo_command->parsed()) return xdense::cli::run_demo(demo);
  } catch (const xdense::Error& e) {
    std::cerr << "xdense: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "xdense: internal error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
