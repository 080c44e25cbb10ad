// Slurm time limits (--time): parsing, so a bad limit is refused before the job waits in a queue.
#pragma once

#include <optional>
#include <string_view>

namespace ablate::slurm {

// Seconds in a Slurm time limit: "M", "M:S", "H:M:S", "D-H", "D-H:M" or "D-H:M:S" (every
// field a non-negative integer, as sbatch accepts them). std::nullopt for no limit: "0",
// "UNLIMITED", "INFINITE" (any case). Throws SlurmError naming --time and the accepted forms.
std::optional<long long> parse_time_limit(std::string_view text);

}  // namespace ablate::slurm
