// `ablate report`: hands the results file to the ablate Python package
// (python -m ablate report), found in the first Python that imports it.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace ablate {

// No Python here imports the ablate package; the message says how to install it.
class ReportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ReportOptions {
  std::string results_path, out_dir, data_dir;
};

// The Pythons `ablate report` tries, in order: $ABLATE_PYTHON alone when it is set,
// else the .venv this ablate was built beside (when it exists), then python3 on the PATH.
std::vector<std::string> report_python_candidates();

// The first candidate that imports the package, or "" when none does.
std::string find_report_python(const std::vector<std::string>& candidates);

// Where the package's sources are for `pip install`: the copy installed next to
// this executable (PREFIX/share/ablate/analysis), else the source tree's analysis/.
std::string analysis_package_dir();

// Replaces this process with `PYTHON -m ablate report ...` (its exit code is ablate's);
// throws ReportError, naming the Pythons tried and the pip command, when none has the package.
int run_report_command(const ReportOptions& options);

}  // namespace ablate
