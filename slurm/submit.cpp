// Submits a batch script with sbatch; see submit.hpp.
#include "slurm/submit.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "slurm/process.hpp"
#include "slurm/shell_quote.hpp"
#include "slurm/slurm_error.hpp"

namespace ablate::slurm {
namespace {

std::string trimmed(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return "";
  const size_t end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

}  // namespace

std::optional<std::string> parse_submitted_job_id(std::string_view sbatch_output) {
  constexpr std::string_view kPrefix = "Submitted batch job ";
  size_t position = 0;
  while ((position = sbatch_output.find(kPrefix, position)) != std::string_view::npos) {
    const bool line_start = position == 0 || sbatch_output[position - 1] == '\n';
    position += kPrefix.size();
    size_t end = position;
    while (end < sbatch_output.size() && sbatch_output[end] >= '0' && sbatch_output[end] <= '9') ++end;
    const bool word_end = end == sbatch_output.size() || sbatch_output[end] == ' ' ||
                          sbatch_output[end] == '\n' || sbatch_output[end] == '\r';
    if (line_start && end > position && word_end) return std::string(sbatch_output.substr(position, end - position));
  }
  return std::nullopt;
}

std::string submit_batch_script(const std::string& sbatch_program, const std::string& script_path) {
  const ProcessResult result = run_process({sbatch_program, script_path});
  const std::string by_hand = fmt::format("sbatch {}", bash_quote(script_path, "the script path"));
  if (result.start_errno == ENOENT) {
    throw SlurmError(fmt::format(
        "cannot submit: '{}' is not on PATH (is this a Slurm login node?). The script is written; "
        "submit it where Slurm is installed: {}",
        sbatch_program, by_hand));
  }
  if (result.start_errno != 0) {
    throw SlurmError(fmt::format("cannot run '{}': {}; the script is written, submit it by hand: {}",
                                 sbatch_program, std::strerror(result.start_errno), by_hand));
  }
  if (result.exit_code != 0) {
    throw SlurmError(fmt::format("sbatch refused the job (exit code {}): {}\nfix the options above and run again",
                                 result.exit_code, trimmed(result.errors + "\n" + result.output)));
  }
  const auto job_id = parse_submitted_job_id(result.output);
  if (!job_id) {
    throw SlurmError(fmt::format(
        "sbatch succeeded but printed no 'Submitted batch job N' line (it printed: '{}'); check squeue "
        "before submitting again",
        trimmed(result.output + result.errors)));
  }
  return *job_id;
}

}  // namespace ablate::slurm
