// MpiError and ABLATE_MPI_CHECK: every MPI call is checked, and a failure names
// the call, the source line, the rank and the host.
#pragma once

#include <stdexcept>
#include <string>

namespace ablate {

class MpiError : public std::runtime_error {
 public:
  MpiError(std::string call, int code, const std::string& message)
      : std::runtime_error(message), call_(std::move(call)), code_(code) {}
  const std::string& call() const { return call_; }  // the call as written in the source
  int code() const { return code_; }                 // MPI's error code

 private:
  std::string call_;
  int code_;
};

// Throws MpiError unless code is MPI_SUCCESS. Use through ABLATE_MPI_CHECK.
void check_mpi(int code, const char* call, const char* file, int line);

// This machine's name, for messages ("?" when it cannot be read).
std::string host_name();

}  // namespace ablate

#define ABLATE_MPI_CHECK(call) ::ablate::check_mpi((call), #call, __FILE__, __LINE__)
