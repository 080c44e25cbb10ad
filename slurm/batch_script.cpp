// Renders the sbatch script of a BatchJob from the embedded template; see batch_script.hpp.
#include "slurm/batch_script.hpp"

#include <fmt/format.h>

#include <map>

#include "slurm/batch_script_template.hpp"  // generated at build time: kBatchScriptTemplate
#include "slurm/script_template.hpp"
#include "slurm/shell_quote.hpp"

namespace ablate::slurm {
namespace {

void add_directive(std::string& lines, std::string_view option, std::string_view value) {
  lines += fmt::format("#SBATCH {}={}\n", option, sbatch_value(option, value));
}

std::string sbatch_directives(const BatchJob& job) {
  std::string lines;
  add_directive(lines, "--job-name", job.job_name);
  add_directive(lines, "--nodes", std::to_string(job.nodes));
  add_directive(lines, "--ntasks-per-node", std::to_string(job.tasks_per_node));
  // --gres works with both select/cons_res and cons_tres, unlike --gpus-per-node.
  if (job.gpus_per_node > 0) add_directive(lines, "--gres", fmt::format("gpu:{}", job.gpus_per_node));
  if (job.cpus_per_task > 0) add_directive(lines, "--cpus-per-task", std::to_string(job.cpus_per_task));
  if (!job.time_limit.empty()) add_directive(lines, "--time", job.time_limit);
  if (!job.partition.empty()) add_directive(lines, "--partition", job.partition);
  if (!job.account.empty()) add_directive(lines, "--account", job.account);
  if (!job.qos.empty()) add_directive(lines, "--qos", job.qos);
  add_directive(lines, "--output", job.log_pattern);
  // A requeued job keeps its ID, so every run appends to the same log.
  add_directive(lines, "--open-mode", "append");
  lines += "#SBATCH --requeue\n";
  // B: only this script gets the warning; it decides how to pass it on (see the template).
  add_directive(lines, "--signal", fmt::format("B:TERM@{}", job.signal_seconds));
  for (const auto& line : job.extra_sbatch_lines) lines += line + "\n";
  lines.pop_back();  // the template ends the placeholder's line
  return lines;
}

}  // namespace

std::string_view batch_script_template() { return kBatchScriptTemplate; }

std::string render_batch_script(const BatchJob& job) {
  const std::map<std::string, std::string> values = {
      {"sbatch_directives", sbatch_directives(job)},
      {"signal_seconds", std::to_string(job.signal_seconds)},
      {"ablate_binary", bash_quote(job.ablate_binary, "the ablate binary path")},
      {"sweep_path", bash_quote(job.sweep_path, "the sweep path")},
      {"results_path", bash_quote(job.results_path, "the results path (-o)")},
      {"ablate_args", bash_quote_words(job.ablate_args, "an argument for ablate run")},
      {"launcher", bash_quote(job.launcher, "--launcher")},
      {"cpus_per_task", std::to_string(job.cpus_per_task)},
      {"max_requeues", std::to_string(job.max_requeues)},
      {"script_path", bash_quote(job.script_path, "the script path")},
  };
  return fill_template(kBatchScriptTemplate, values, "slurm/templates/ablate.sbatch.in");
}

}  // namespace ablate::slurm
