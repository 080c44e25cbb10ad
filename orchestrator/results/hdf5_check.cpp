// Error reporting for HDF5 calls: silence the default printer, capture the stack.
#include "orchestrator/results/hdf5_check.hpp"

#include <hdf5.h>

#include <fmt/format.h>

#include <mutex>

namespace ablate {
namespace {

// Collects "function: description" for each level of HDF5's error stack.
herr_t append_error_level(unsigned level, const H5E_error2_t* error, void* out) {
  auto& text = *static_cast<std::string*>(out);
  if (level > 0) text += "; ";
  text += fmt::format("{}(): {}", error->func_name ? error->func_name : "?", error->desc ? error->desc : "?");
  return 0;
}

std::string current_error_stack() {
  std::string text;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, append_error_level, &text);
  H5Eclear2(H5E_DEFAULT);
  return text.empty() ? "no HDF5 error stack" : text;
}

}  // namespace

void silence_hdf5_error_printing() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

void throw_hdf5_error(const char* call, const std::string& path, const std::string& hint,
                      const char* source_file, int source_line) {
  throw Hdf5Error(path, call,
                  fmt::format("HDF5 call {} failed on '{}' ({}:{}): {}. {}", call, path, source_file, source_line,
                              current_error_stack(), hint));
}

}  // namespace ablate
