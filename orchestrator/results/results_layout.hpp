// Renders a LedgerState as the documented HDF5 layout (docs/results-format.md),
// in memory, so the file on disk is only ever replaced whole.
#pragma once

#include "orchestrator/results/ledger_state.hpp"

#include <cstdint>
#include <string>

namespace ablate {

inline constexpr const char* kResultsFormat = "ablate-results";
// 3: early stopping (statuses paused and stopped, epochs_trained, until, rungs).
inline constexpr int64_t kResultsFormatVersion = 3;

// The bytes of a complete HDF5 file. `path` names the file in error messages;
// `journal_bytes` is the journal length the file reflects (root attribute, used
// at open to tell a stale file from a current one).
std::string render_results_image(const LedgerState& state, const std::string& path, uint64_t journal_bytes);

}  // namespace ablate
