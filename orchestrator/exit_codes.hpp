// The exit codes of `ablate` and OptionError, the one error that maps to "usage".
#pragma once

#include "core/option_error.hpp"  // OptionError, the one error that maps to kExitUsage

namespace ablate {

inline constexpr int kExitOk = 0;          // finished: every point done (or `train` trained)
inline constexpr int kExitError = 1;       // bad input (spec, data, results file) or an error
inline constexpr int kExitUsage = 2;       // bad command line
inline constexpr int kExitFailures = 3;    // finished, but some points (or the training) failed
inline constexpr int kExitIncomplete = 4;  // stopped early (signal, stall, failures): rerun to resume

}  // namespace ablate
