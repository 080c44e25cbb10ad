// `ablate report`: find a Python with the ablate package, then become `python -m ablate report`.
#include "orchestrator/report_command.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

extern char** environ;

namespace ablate {
namespace {

// Set by CMake: the project's .venv Python and analysis/ at build time.
#ifndef ABLATE_SOURCE_VENV_PYTHON
#define ABLATE_SOURCE_VENV_PYTHON ""
#endif
#ifndef ABLATE_SOURCE_ANALYSIS_DIR
#define ABLATE_SOURCE_ANALYSIS_DIR ""
#endif

// Whether `python -c "import ablate.report"` succeeds, its output discarded.
bool imports_package(const std::string& python) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  const char* argv[] = {python.c_str(), "-c", "import ablate.report", nullptr};
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, python.c_str(), &actions, nullptr, const_cast<char* const*>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return false;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::filesystem::path executable_dir() {
  std::error_code error;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? std::filesystem::path() : self.parent_path();
}

}  // namespace

std::vector<std::string> report_python_candidates() {
  if (const char* chosen = std::getenv("ABLATE_PYTHON"); chosen && *chosen) return {chosen};
  std::vector<std::string> candidates;
  const std::string venv = ABLATE_SOURCE_VENV_PYTHON;
  if (!venv.empty() && ::access(venv.c_str(), X_OK) == 0) candidates.push_back(venv);
  candidates.emplace_back("python3");
  return candidates;
}

std::string find_report_python(const std::vector<std::string>& candidates) {
  for (const auto& python : candidates)
    if (imports_package(python)) return python;
  return "";
}

std::string analysis_package_dir() {
  const auto installed = executable_dir() / ".." / "share" / "ablate" / "analysis";
  std::error_code error;
  if (std::filesystem::exists(installed / "pyproject.toml", error))
    return std::filesystem::weakly_canonical(installed, error).string();
  return ABLATE_SOURCE_ANALYSIS_DIR;
}

int run_report_command(const ReportOptions& options) {
  const auto candidates = report_python_candidates();
  const std::string python = find_report_python(candidates);
  if (python.empty()) {
    const bool chosen = std::getenv("ABLATE_PYTHON") && *std::getenv("ABLATE_PYTHON");
    const std::string install = fmt::format("{} -m pip install '{}'", chosen ? candidates.front() : "python3",
                                            analysis_package_dir());
    const std::string who =
        chosen ? fmt::format("$ABLATE_PYTHON ({}) does not import it", candidates.front())
               : fmt::format("none of the Pythons tried ({}) imports it", fmt::join(candidates, ", "));
    throw ReportError(fmt::format(
        "the report needs the ablate Python package, and {}. Install it (pip brings numpy, h5py, pandas and "
        "matplotlib along):\n  {}\n{}",
        who, install,
        chosen ? "or unset ABLATE_PYTHON to let ablate look for one"
               : "or set ABLATE_PYTHON to a Python that has it (a virtual environment's bin/python)"));
  }
  std::vector<std::string> args = {python, "-m", "ablate", "report", options.results_path, "-o", options.out_dir};
  if (!options.data_dir.empty()) args.insert(args.end(), {"--data", options.data_dir});
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  ::execvp(python.c_str(), argv.data());
  throw ReportError(fmt::format("could not run {}: {}", python, std::strerror(errno)));
}

}  // namespace ablate
