// Runs a program to completion and captures what it prints (used to call sbatch).
#pragma once

#include <string>
#include <vector>

namespace ablate::slurm {

struct ProcessResult {
  int start_errno = 0;  // non-zero: the program could not be started (ENOENT: not on PATH)
  int exit_code = 0;    // its exit status, or 128 + the signal that ended it
  std::string output;   // stdout
  std::string errors;   // stderr
};

// Runs argv[0] (looked up on PATH when it has no '/') with argv[1..], no shell in between, and
// waits for it. Throws std::system_error only for failures of this process (pipes, poll).
ProcessResult run_process(const std::vector<std::string>& argv);

}  // namespace ablate::slurm
