// probe_results_file: what lies at a results path (nothing, something that is not
// HDF5, someone else's HDF5 file, or an ablate results file) without changing it.
#pragma once

#include <cstdint>
#include <string>

namespace ablate {

struct ResultsProbe {
  enum class Kind { missing, not_hdf5, foreign, ablate } kind = Kind::missing;
  std::string detail;        // why not_hdf5 / foreign, in the user's terms ("it is not an HDF5 file")
  std::string ledger_id;     // ablate only
  int64_t journal_bytes = -1;
  int64_t format_version = 0;
};

ResultsProbe probe_results_file(const std::string& path);

}  // namespace ablate
