// probe_results_file: what lies at a results path (nothing, something that is not
// HDF5, someone else's HDF5 file, or an ablate results file) without changing it.
#pragma once

#include "orchestrator/results/results_error.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

namespace ablate {

struct ResultsProbe {
  enum class Kind { missing, not_hdf5, foreign, ablate } kind = Kind::missing;
  std::string detail;        // why not_hdf5 / foreign, in the user's terms ("it is not an HDF5 file")
  std::string ledger_id;     // ablate only
  int64_t journal_bytes = -1;
  int64_t format_version = 0;
};

ResultsProbe probe_results_file(const std::string& path);

// The same for a reader of a file a sweep may be updating: while the writer holds
// the file (HDF5's lock) or has marked it mid-update (journal_bytes = -1), tries
// again for up to `patience_seconds`, then returns what it sees.
ResultsProbe probe_results_file_when_settled(const std::string& path, double patience_seconds = 5);

// Whether a writer holds the file locked (it is updating it in place).
bool results_file_locked(const std::string& path);

// Runs `read` (which opens the file itself); when it fails with an Hdf5Error while a
// writer holds the file, runs it again, for up to `patience_seconds`.
template <class Read>
auto read_when_unlocked(const std::string& path, Read read, double patience_seconds = 5) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::duration<double>(patience_seconds);
  for (;;) {
    try {
      return read();
    } catch (const Hdf5Error&) {
      if (!results_file_locked(path) || std::chrono::steady_clock::now() >= give_up) throw;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace ablate
