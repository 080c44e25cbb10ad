// The `ablate slurm` command line; see slurm_cli.hpp.
#include "slurm/slurm_cli.hpp"

#include "core/pack_option.hpp"

namespace ablate::slurm {

CLI::App* add_slurm_subcommand(CLI::App& app, SlurmOptions& options) {
  auto* command = app.add_subcommand(
      "slurm", "write (and with --submit, submit) an sbatch script that runs a sweep on a Slurm cluster");
  command->add_option("sweep", options.sweep_path, "sweep spec (.toml)")->required();
  command->add_option("-o,--output", options.results_path,
                      "results file; the script (RESULTS.sbatch) and the job logs go next to it")
      ->required();
  command->add_option("--nodes", options.nodes, "nodes to allocate")->capture_default_str();
  command->add_option("--gpus-per-node", options.gpus_per_node, "GPUs per node (0: CPU only)")
      ->capture_default_str();
  command->add_option("--tasks-per-node", options.tasks_per_node,
                      "MPI ranks per node (default: one per GPU, or 1 without GPUs)");
  command->add_option("--cpus-per-task", options.cpus_per_task, "CPU cores per rank (default: Slurm's)");
  command->add_option("--time", options.time_limit,
                      "time limit, e.g. 02:00:00 or 1-12:00:00 (default: the partition's)");
  command->add_option("--partition", options.partition, "Slurm partition");
  command->add_option("--account", options.account, "account to charge");
  command->add_option("--qos", options.qos, "quality of service");
  command->add_option("--job-name", options.job_name, "job name (default: ablate-<sweep file name>)");
  command->add_option("--sbatch-line", options.sbatch_lines,
                      "extra directive, e.g. '#SBATCH --mem=64G' (repeatable)")
      ->allow_extra_args(false);
  command->add_option("--signal-seconds", options.signal_seconds,
                      "Slurm sends TERM this long before the time limit; ablate then stops cleanly and the job "
                      "requeues itself")
      ->capture_default_str();
  command->add_option("--launcher", options.launcher, "how ranks start: srun (Slurm's PMI) or mpirun")
      ->check(CLI::IsMember({"srun", "mpirun"}))
      ->capture_default_str();
  command->add_option("--max-requeues", options.max_requeues,
                      "requeues of an incomplete sweep before the job gives up")
      ->capture_default_str();
  command->add_option("--ablate-binary", options.ablate_binary,
                      "the ablate the job runs, as compute nodes see it (default: this one)");
  // The same option as `ablate run --pack`; checked by resolve_batch_job with ablate run's own parser.
  command->add_option("--pack", options.pack, kPackOptionHelp)->capture_default_str();
  command->add_flag("--submit", options.submit, "submit with sbatch and print the job ID");
  command->add_option("ablate_args", options.ablate_args, "after --: more options for `ablate run`");
  command->footer(
      "Example:\n"
      "  ablate slurm sweeps/depth.toml -o /scratch/depth.h5 --nodes 2 --gpus-per-node 4 --time 02:00:00 \\\n"
      "      --partition gpu --submit -- --retry-failed\n"
      "The job survives its time limit and preemption: ablate stops cleanly on the warning signal,\n"
      "the job requeues itself, and the next run resumes from the results file.");
  return command;
}

}  // namespace ablate::slurm
