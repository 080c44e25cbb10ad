// BatchJob (a fully resolved `ablate slurm` job) and the sbatch script that runs it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ablate::slurm {

// How the batch script starts the MPI job inside the allocation.
inline constexpr std::string_view kLauncherSrun = "srun";      // Slurm's PMI (the usual choice)
inline constexpr std::string_view kLauncherMpirun = "mpirun";  // an MPI built with Slurm support

// Everything a job script needs, already validated and with absolute paths (see
// resolve_batch_job in slurm_command.hpp). Empty strings and zero counts mean "not asked for":
// Slurm's own default applies.
struct BatchJob {
  std::string job_name;
  int nodes = 1;
  int tasks_per_node = 1;  // MPI ranks per node
  int gpus_per_node = 0;
  int cpus_per_task = 0;
  std::string time_limit;  // as the user wrote it, e.g. "02:00:00"
  std::string partition;
  std::string account;
  std::string qos;
  std::vector<std::string> extra_sbatch_lines;  // each a complete "#SBATCH ..." line
  int signal_seconds = 120;                     // TERM this long before the time limit
  std::string launcher = std::string(kLauncherSrun);
  int max_requeues = 20;
  std::string ablate_binary;
  std::string sweep_path;
  std::string results_path;
  std::vector<std::string> ablate_args;  // appended to `ablate run SWEEP -o RESULTS`
  std::string script_path;               // where the script will live (named in its messages)
  std::string log_pattern;               // Slurm's --output: %j the job ID, a literal % written %%
};

// The script template, embedded at build time from slurm/templates/ablate.sbatch.in.
std::string_view batch_script_template();

// The script for `job`: #SBATCH directives (quoted for sbatch) and bash (every user string
// single-quoted). Throws SlurmError when a value cannot be written safely, naming its option.
std::string render_batch_script(const BatchJob& job);

}  // namespace ablate::slurm
