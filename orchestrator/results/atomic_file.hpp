// Durable file primitives: replace a file atomically (write a sibling temporary,
// fsync, rename over the target, fsync the directory) and fsync a directory.
#pragma once

#include <string>
#include <string_view>

namespace ablate {

// The directory holding `path` ("." for a bare file name).
std::string parent_directory(const std::string& path);

// strerror text of an errno value, e.g. "No space left on device".
std::string errno_text(int error_number);

// Makes a new or renamed entry in `directory` durable. Throws ResultsIoError.
void fsync_directory(const std::string& directory);

// Writes `bytes` to `temporary` (same directory as `target`), fsyncs it, renames it
// over `target` and fsyncs the directory. On any failure the temporary is removed,
// `target` keeps its previous content, and ResultsIoError names the path and errno.
void replace_file_atomically(const std::string& target, const std::string& temporary, std::string_view bytes);

}  // namespace ablate
