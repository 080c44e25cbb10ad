// OptionError: a command-line option with a value that cannot work.
#pragma once

#include <stdexcept>

namespace ablate {

// The message names the option and what is allowed. `main` turns it into kExitUsage
// (orchestrator/exit_codes.hpp). In core/ so that slurm/ can refuse an option of
// `ablate run` it passes on in exactly the words `ablate run` would use.
class OptionError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

}  // namespace ablate
