// The typed errors of the results ledger; every message names the file and what to do.
#pragma once

#include <stdexcept>
#include <string>

namespace ablate {

// Base of every error the results ledger throws; path() is the file concerned.
class ResultsError : public std::runtime_error {
 public:
  ResultsError(std::string path, const std::string& message)
      : std::runtime_error(message), path_(std::move(path)) {}
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A system call on a ledger file failed (open, write, fsync, rename): the message
// carries the path and the errno text. The previous results file is left intact.
class ResultsIoError : public ResultsError {
 public:
  using ResultsError::ResultsError;
};

// The path exists but cannot be used as this sweep's ledger: not an ablate file,
// a different sweep, a journal of another ledger, or another process writing it.
class ResultsRefusedError : public ResultsError {
 public:
  using ResultsError::ResultsError;
};

// The caller broke the ledger's rules (unknown point ID, finishing a point that
// is not running, malformed metrics). A bug in the caller, not in the data.
class ResultsUsageError : public ResultsError {
 public:
  using ResultsError::ResultsError;
};

// An HDF5 call failed; call() is the call as written in the source.
class Hdf5Error : public ResultsError {
 public:
  Hdf5Error(std::string path, std::string call, const std::string& message)
      : ResultsError(std::move(path), message), call_(std::move(call)) {}
  const std::string& call() const { return call_; }

 private:
  std::string call_;
};

}  // namespace ablate
