// Declares `ablate slurm` and its options on a CLI11 app (each option once, with default and help).
#pragma once

#include <CLI/CLI.hpp>

#include "slurm/slurm_options.hpp"

namespace ablate::slurm {

// Adds the `slurm` subcommand to `app`, filling `options` when it is parsed; returns it so
// main can test `if (*command)`.
CLI::App* add_slurm_subcommand(CLI::App& app, SlurmOptions& options);

}  // namespace ablate::slurm
