// SlurmOptions: what `ablate slurm` is asked to do, as parsed from the command line.
#pragma once

#include <string>
#include <vector>

namespace ablate::slurm {

// Defaults here are the command line's defaults (slurm_cli.cpp shows them in --help).
struct SlurmOptions {
  std::string sweep_path;    // SWEEP.toml (positional)
  std::string results_path;  // -o RESULTS.h5; the script and the log go next to it
  int nodes = 1;
  int gpus_per_node = 0;
  int tasks_per_node = 0;  // MPI ranks per node; 0: one per GPU, or 1 without GPUs
  int cpus_per_task = 0;   // 0: Slurm's default
  std::string time_limit;  // --time; "" = the partition's default limit
  std::string partition;
  std::string account;
  std::string qos;
  std::string job_name;                   // "" = "ablate-" + the sweep file's stem
  std::vector<std::string> sbatch_lines;  // "#SBATCH --mem=64G" (or "--mem=64G"), one per line
  int signal_seconds = 120;               // TERM this long before the time limit
  std::string launcher = "srun";          // "srun" or "mpirun"
  int max_requeues = 20;                  // requeues of an incomplete sweep before giving up
  std::string pack = "1";                 // --pack K | auto, passed on to `ablate run` (core/pack_option.hpp)
  std::vector<std::string> ablate_args;   // after `--`: more arguments for `ablate run`
  std::string ablate_binary;              // "" = this executable (/proc/self/exe)
  bool submit = false;                    // run sbatch and print the job ID

  // Not on the command line: the program run to submit (tests substitute a fake).
  std::string sbatch_program = "sbatch";
};

}  // namespace ablate::slurm
