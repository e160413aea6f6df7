#include "plots.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "xdense/atomic_file.hpp"

namespace xdense::cli::tutorial {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t max_parallel_renders = 2;

// Prepended to every script. `outfile` can be set from outside (gnuplot -e) so the
// tutorial renders to a temporary name and renames it: no half-written PNG is ever seen.
std::string script_header(const std::string& name) {
  return "# Written by `xdense tutorial`. Re-render with: gnuplot " + name + ".gp\n"
         "if (!exists(\"outfile\")) outfile = " + gnuplot_quote(name + ".png") + "\n"
         "set encoding utf8\n"
         "set terminal pngcairo size 800,600 enhanced font \"DejaVu Sans,11\"\n"
         "set output outfile\n";
}

std::string first_line_of(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  // gnuplot prints the failing command, a caret, then the message: the last non-empty line says most.
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t^") != std::string::npos) last = line;
  }
  return last;
}

}  // namespace

std::string find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return "";
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0 && !fs::is_directory(candidate)) return candidate;
  }
  return "";
}

std::string gnuplot_quote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    quoted += c;
    if (c == '\'') quoted += '\'';
  }
  return quoted + "'";
}

Plotter::Plotter(std::string dir) : dir_(std::move(dir)), gnuplot_(find_on_path("gnuplot")) {}

Plotter::~Plotter() {
  // Do not leave children behind if the run stops early (an exception unwinds past finish()).
  queued_.clear();
  while (!running_.empty() && reap(true)) {
  }
}

void Plotter::add(const Figure& figure) {
  for (const auto& [file, contents] : figure.data) write_file_atomically(dir_ + "/" + file, contents);
  write_file_atomically(dir_ + "/" + figure.name + ".gp", script_header(figure.name) + figure.script);
  figures_.push_back(figure);
  if (!can_render()) return;
  queued_.push_back(figure.name);
  pump(false);
}

void Plotter::pump(bool block) {
  for (;;) {
    while (!running_.empty() && reap(false)) {
    }
    while (!queued_.empty() && running_.size() < max_parallel_renders) {
      start(queued_.front());
      queued_.pop_front();
    }
    if (!block || (running_.empty() && queued_.empty())) return;
    if (!reap(true)) return;  // no child left to wait for
  }
}

void Plotter::start(const std::string& name) {
  const std::string part = name + ".png.part";
  const std::string outfile = "outfile=" + gnuplot_quote(part);
  const std::string script = name + ".gp";
  const std::string log = "." + name + ".log";
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    failures_.push_back(name + ".png: cannot start gnuplot: " + std::strerror(errno));
    return;
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    if (::chdir(dir_.c_str()) != 0) ::_exit(126);
    const int null_fd = ::open("/dev/null", O_RDWR);
    const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (null_fd >= 0) {
      ::dup2(null_fd, STDIN_FILENO);
      ::dup2(null_fd, STDOUT_FILENO);
    }
    if (log_fd >= 0) ::dup2(log_fd, STDERR_FILENO);
    char* const argv[] = {const_cast<char*>("gnuplot"), const_cast<char*>("-e"), const_cast<char*>(outfile.c_str()),
                          const_cast<char*>(script.c_str()), nullptr};
    ::execv(gnuplot_.c_str(), argv);
    ::_exit(127);
  }
  running_.push_back({pid, name});
}

bool Plotter::reap(bool block) {
  int status = 0;
  pid_t pid;
  do {
    pid = ::waitpid(-1, &status, block ? 0 : WNOHANG);
  } while (pid < 0 && errno == EINTR);
  if (pid == 0) return false;  // nothing finished yet
  if (pid < 0) {               // no children left: forget the jobs rather than wait forever
    running_.clear();
    return false;
  }
  for (auto it = running_.begin(); it != running_.end(); ++it) {
    if (it->pid != pid) continue;
    const std::string name = it->name;
    running_.erase(it);
    const std::string base = dir_ + "/" + name;
    const std::string log = dir_ + "/." + name + ".log";
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && fs::exists(base + ".png.part") &&
                    fs::file_size(base + ".png.part") > 0;
    if (ok) {
      fs::rename(base + ".png.part", base + ".png");
    } else {
      std::string why = first_line_of(log);
      if (why.empty()) why = "gnuplot exited with status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
      failures_.push_back(name + ".png: " + why);
      std::error_code ignored;
      fs::remove(base + ".png.part", ignored);
    }
    std::error_code ignored;
    fs::remove(log, ignored);
    return true;
  }
  return true;  // some other child of this process
}

std::vector<std::string> Plotter::finish() {
  pump(true);
  return failures_;
}

}  // namespace xdense::cli::tutorial
