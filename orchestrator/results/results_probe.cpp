// Classifies the file at a results path by its root attributes.
#include "orchestrator/results/results_probe.hpp"

#include "orchestrator/results/hdf5_check.hpp"
#include "orchestrator/results/hdf5_read.hpp"
#include "orchestrator/results/results_layout.hpp"

#include <sys/stat.h>

namespace ablate {

ResultsProbe probe_results_file(const std::string& path) {
  silence_hdf5_error_printing();
  ResultsProbe probe;
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return probe;
  const H5Reader reader(path);
  H5Id file;
  try {
    file = reader.open_file();
  } catch (const Hdf5Error& e) {
    probe.kind = ResultsProbe::Kind::not_hdf5;
    probe.detail = e.what();
    return probe;
  }
  try {
    H5Id root(ABLATE_H5_CHECK(H5Gopen2(file, "/", H5P_DEFAULT), path, "Opening the root group"), H5Gclose);
    if (!reader.has_attr(root, "format") || reader.attr_string(root, "format") != kResultsFormat) {
      probe.kind = ResultsProbe::Kind::foreign;
      probe.detail = "it has no root attribute format = \"ablate-results\"";
      return probe;
    }
    probe.kind = ResultsProbe::Kind::ablate;
    probe.format_version = reader.attr_int64(root, "format_version");
    if (reader.has_attr(root, "ledger_id")) probe.ledger_id = reader.attr_string(root, "ledger_id");
    if (reader.has_attr(root, "journal_bytes")) probe.journal_bytes = reader.attr_int64(root, "journal_bytes");
  } catch (const Hdf5Error& e) {  // an HDF5 file whose metadata cannot be read
    probe.kind = ResultsProbe::Kind::not_hdf5;
    probe.detail = e.what();
  }
  return probe;
}

}  // namespace ablate
