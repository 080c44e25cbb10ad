// SlurmError: `ablate slurm` input it cannot turn into a safe job, or sbatch refusing the job.
#pragma once

#include <stdexcept>

namespace ablate::slurm {

// The message names the option or file at fault and what to do instead.
class SlurmError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace ablate::slurm
