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

}  // namespace ablate

// HDF5 reports failure as a negative hid_t / herr_t / htri_t / ssize_t.
// `hint` is evaluated only when the call fails: writers build it with fmt::format
// in place, and a results file has hundreds of thousands of successful calls.
#define ABLATE_H5_CHECK(call, path, hint)                                                   \
  ([&] {                                                                                   \
    auto ablate_h5_result_ = (call);                                                       \
    if (ablate_h5_result_ < 0) ::ablate::throw_hdf5_error(#call, (path), (hint), __FILE__, __LINE__); \
    return ablate_h5_result_;                                                              \
  }())
