// Classifies the file at a results path by its root attributes.
#include "orchestrator/results/results_probe.hpp"

#include "orchestrator/results/hdf5_check.hpp"
#include "orchestrator/results/hdf5_read.hpp"
#include "orchestrator/results/results_layout.hpp"

#include <fmt/format.h>

#include <sys/stat.h>
#include <unistd.h>

#include <sys/file.h>
#include <fcntl.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

namespace ablate {
namespace {

// HDF5's format signature; the superblock sits at byte 0, 512, 1024, 2048, ...
constexpr char kHdf5Signature[] = "\211HDF\r\n\032\n";

bool has_hdf5_signature(const std::string& path, off_t size) {
  std::ifstream file(path, std::ios::binary);
  char bytes[8];
  for (off_t offset = 0; offset + 8 <= size; offset = offset == 0 ? 512 : offset * 2) {
    if (!file.seekg(offset) || !file.read(bytes, sizeof bytes)) return false;
    if (std::memcmp(bytes, kHdf5Signature, sizeof bytes) == 0) return true;
  }
  return false;
}

// Why HDF5 would not open the file, in the terms of someone who gave the wrong path
// (the HDF5 call and its error stack mean nothing to them).
std::string unopenable_reason(const std::string& path, const struct stat& info) {
  if (S_ISDIR(info.st_mode)) return "it is a directory";
  if (::access(path.c_str(), R_OK) != 0) return fmt::format("it cannot be read: {}", std::strerror(errno));
  if (info.st_size == 0) return "it is an empty file";
  if (!has_hdf5_signature(path, info.st_size)) return "it is not an HDF5 file";
  return "it is an HDF5 file that cannot be opened: damaged, or cut short while being copied";
}

}  // namespace

// An ablate writer updating the file in place holds HDF5's exclusive lock on it.
bool results_file_locked(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return held;
}

ResultsProbe probe_results_file_when_settled(const std::string& path, double patience_seconds) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::duration<double>(patience_seconds);
  for (;;) {
    const ResultsProbe probe = probe_results_file(path);
    const bool unsettled = (probe.kind == ResultsProbe::Kind::not_hdf5 && results_file_locked(path)) ||
                           (probe.kind == ResultsProbe::Kind::ablate && probe.journal_bytes == kJournalBytesUpdating);
    if (!unsettled || std::chrono::steady_clock::now() >= give_up) return probe;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

ResultsProbe probe_results_file(const std::string& path) {
  silence_hdf5_error_printing();
  ResultsProbe probe;
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return probe;
  const H5Reader reader(path);
  H5Id file;
  try {
    file = reader.open_file();
  } catch (const Hdf5Error&) {
    probe.kind = ResultsProbe::Kind::not_hdf5;
    probe.detail = unopenable_reason(path, info);
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
  } catch (const Hdf5Error&) {  // an HDF5 file whose metadata cannot be read
    probe.kind = ResultsProbe::Kind::not_hdf5;
    probe.detail = "it is an HDF5 file whose root attributes cannot be read: damaged, or cut short while being copied";
  }
  return probe;
}

}  // namespace ablate
