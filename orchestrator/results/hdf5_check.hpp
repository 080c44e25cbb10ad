// ABLATE_H5_CHECK: every HDF5 call goes through it, so a failure becomes an
// Hdf5Error naming the call, the file, the source line and a hint.
#pragma once

#include "orchestrator/results/results_error.hpp"

#include <string>

namespace ablate {

// Turns off HDF5's habit of printing its error stack to stderr; the stack goes
// into the exception message instead. Idempotent; call before any HDF5 work.
void silence_hdf5_error_printing();

// Throws Hdf5Error for the failed `call` on `path`, with HDF5's error stack.
[[noreturn]] void throw_hdf5_error(const char* call, const std::string& path, const std::string& hint,
                                   const char* source_file, int source_line);

// HDF5 reports failure as a negative hid_t / herr_t / htri_t / ssize_t.
template <class Result>
Result check_hdf5(Result result, const char* call, const std::string& path, const std::string& hint,
                  const char* source_file, int source_line) {
  if (result < 0) throw_hdf5_error(call, path, hint, source_file, source_line);
  return result;
}

}  // namespace ablate

#define ABLATE_H5_CHECK(call, path, hint) ::ablate::check_hdf5((call), #call, (path), (hint), __FILE__, __LINE__)
