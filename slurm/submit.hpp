// Submitting a written batch script with sbatch and reading back the job ID.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ablate::slurm {

// The job ID in sbatch's reply ("Submitted batch job 123", possibly with " on cluster X"
// after it and other lines around it); std::nullopt when there is none.
std::optional<std::string> parse_submitted_job_id(std::string_view sbatch_output);

// Runs `sbatch_program script_path` and returns the job ID. Throws SlurmError when sbatch is
// missing, fails (its message included) or answers without a job ID.
std::string submit_batch_script(const std::string& sbatch_program, const std::string& script_path);

}  // namespace ablate::slurm
