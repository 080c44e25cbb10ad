// Atomic replacement of a file and directory fsync, with errno-bearing errors.
#include "orchestrator/results/atomic_file.hpp"

#include "orchestrator/results/results_error.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace ablate {
namespace {

// Removes the temporary and throws, keeping the errno of the failed call.
[[noreturn]] void fail_replace(const std::string& target, const std::string& temporary, const std::string& what,
                               int error_number) {
  ::unlink(temporary.c_str());
  throw ResultsIoError(target, fmt::format("cannot update results file '{}': {} '{}' failed: {}{}. The previous "
                                           "'{}' is unchanged and the journal holds every record.",
                                           target, what, temporary, errno_text(error_number),
                                           error_number == ENOSPC || error_number == EDQUOT
                                               ? " (free some space or move the results elsewhere, then resume)"
                                               : "",
                                           target));
}

}  // namespace

std::string parent_directory(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string errno_text(int error_number) { return std::strerror(error_number); }

void fsync_directory(const std::string& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    throw ResultsIoError(directory, fmt::format("cannot open directory '{}' to fsync it: {}", directory,
                                                errno_text(errno)));
  // Some file systems (and FUSE mounts) cannot fsync a directory; that is not a
  // reason to stop a sweep, the rename itself is still atomic there.
  if (::fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP) {
    const int error_number = errno;
    ::close(fd);
    throw ResultsIoError(directory, fmt::format("cannot fsync directory '{}': {}", directory,
                                                errno_text(error_number)));
  }
  ::close(fd);
}

void replace_file_atomically(const std::string& target, const std::string& temporary, std::string_view bytes) {
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail_replace(target, temporary, "creating", errno);
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error_number = errno;
      ::close(fd);
      fail_replace(target, temporary, "writing", error_number);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int error_number = errno;
    ::close(fd);
    fail_replace(target, temporary, "fsync of", error_number);
  }
  if (::close(fd) != 0) fail_replace(target, temporary, "closing", errno);
  if (::rename(temporary.c_str(), target.c_str()) != 0) fail_replace(target, temporary, "renaming", errno);
  fsync_directory(parent_directory(target));
}

}  // namespace ablate
