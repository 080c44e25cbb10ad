// slurm_command_driver: `ablate slurm` without the rest of ablate (no torch), for the live Slurm
// tests: `slurm_command_driver slurm SWEEP -o RESULTS ...` parses like ablate's main does.
#include <CLI/CLI.hpp>

#include <iostream>

#include "core/option_error.hpp"
#include "slurm/slurm_cli.hpp"
#include "slurm/slurm_command.hpp"
#include "slurm/slurm_error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"ablate slurm, alone (test driver)"};
  app.require_subcommand(1);
  ablate::slurm::SlurmOptions options;
  auto* command = ablate::slurm::add_slurm_subcommand(app, options);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  try {
    if (*command) return ablate::slurm::run_slurm_command(options);
  } catch (const ablate::slurm::SlurmError& error) {
    std::cerr << "ablate: " << error.what() << "\n";
  } catch (const ablate::OptionError& error) {  // --pack, in ablate run's words; main: exit 2
    std::cerr << "ablate: " << error.what() << "\n";
    return 2;
  }
  return 1;
}
