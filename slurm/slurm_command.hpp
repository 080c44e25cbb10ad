// `ablate slurm`: writes the sbatch script of a sweep next to its results file, and submits it.
#pragma once

#include <string>

#include "slurm/batch_script.hpp"
#include "slurm/slurm_options.hpp"

namespace ablate::slurm {

// Checks every option and resolves paths and defaults, before anything is written: absolute
// paths, the job name, ranks per node, the ablate binary, --pack (ahead of the arguments after
// --). Throws SlurmError naming the option and the fix, or OptionError for a --pack that ablate
// run would refuse (in ablate run's words). Touches the file system only to look (the sweep exists, the results directory
// exists, the binary is executable).
BatchJob resolve_batch_job(const SlurmOptions& options);

struct SlurmJobFiles {
  std::string script_path;  // RESULTS.sbatch, written
  std::string log_path;     // RESULTS.slurm-%j.out, Slurm's output file pattern
  std::string job_id;       // "" unless submitted
};

// resolve_batch_job, render the script, write it (replacing an earlier one whole), and with
// options.submit run sbatch. Throws SlurmError.
SlurmJobFiles write_slurm_job(const SlurmOptions& options);

// The command: write_slurm_job, then print the job ID (with --submit) or the script path on
// stdout, and a human hint on stderr. Returns the exit code (0); errors are thrown.
int run_slurm_command(const SlurmOptions& options);

}  // namespace ablate::slurm
