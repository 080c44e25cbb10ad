// Runs a program and captures its output, without a shell; see process.hpp.
#include "slurm/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

extern char** environ;

namespace ablate::slurm {
namespace {

[[noreturn]] void throw_errno(const char* call) {
  throw std::system_error(errno, std::generic_category(), std::string(call) + " (" __FILE__ ")");
}

// Closes both ends of a pipe however the function leaves.
struct Pipe {
  int fds[2] = {-1, -1};
  Pipe() {
    if (pipe2(fds, O_CLOEXEC) != 0) throw_errno("pipe2");
  }
  ~Pipe() {
    for (int fd : fds)
      if (fd >= 0) close(fd);
  }
  void close_end(int end) {
    if (fds[end] >= 0) close(fds[end]);
    fds[end] = -1;
  }
};

void check_spawn(int result, const char* call) {
  if (result != 0) {
    errno = result;
    throw_errno(call);
  }
}

}  // namespace

ProcessResult run_process(const std::vector<std::string>& argv) {
  ProcessResult result;
  Pipe out;
  Pipe err;

  posix_spawn_file_actions_t actions;
  check_spawn(posix_spawn_file_actions_init(&actions), "posix_spawn_file_actions_init");
  check_spawn(posix_spawn_file_actions_adddup2(&actions, out.fds[1], STDOUT_FILENO), "adddup2");
  check_spawn(posix_spawn_file_actions_adddup2(&actions, err.fds[1], STDERR_FILENO), "adddup2");
  check_spawn(posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0), "addopen");

  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    result.start_errno = spawned;
    return result;
  }
  out.close_end(1);
  err.close_end(1);

  // Read both pipes together, so a child that fills one while we block on the other cannot stall.
  pollfd fds[2] = {{out.fds[0], POLLIN, 0}, {err.fds[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.output, &result.errors};
  int open_pipes = 2;
  char buffer[4096];
  while (open_pipes > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      throw_errno("poll");
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t got = read(fds[i].fd, buffer, sizeof buffer);
      if (got > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        fds[i].fd = -1;  // end of file (or an error: nothing more will come)
        --open_pipes;
      }
    }
  }

  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw_errno("waitpid");
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace ablate::slurm
