// Naming and clean-up of the per-point checkpoint files.
//
// Plain POSIX calls rather than std::filesystem operations: this file is linked
// into the torch-linked `ablate`, and libtorch.so exports its own copy of
// std::filesystem (an older libstdc++fs) whose remove_all crashes when it wins
// symbol resolution over the system libstdc++.
#include "orchestrator/checkpoint_files.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

namespace ablate {

namespace {
// "<id>.pt", "<id>.pt.rank1", "<id>.pt.tmp" -> "<id>"; "" for files that are not checkpoints.
std::string point_of(const std::string& file_name) {
  const auto dot = file_name.find(".pt");
  return dot == std::string::npos || dot == 0 ? "" : file_name.substr(0, dot);
}

// The names in `directory` ("." and ".." included); none when it cannot be read.
std::vector<std::string> entries_of(const std::string& directory) {
  std::vector<std::string> names;
  DIR* listing = ::opendir(directory.c_str());
  if (!listing) return names;
  while (const dirent* entry = ::readdir(listing)) names.emplace_back(entry->d_name);
  ::closedir(listing);
  return names;
}

}  // namespace

std::string checkpoint_directory(const std::string& results_path) { return results_path + ".checkpoints"; }

std::string point_checkpoint_path(const std::string& results_path, const std::string& id) {
  return checkpoint_directory(results_path) + "/" + id + ".pt";
}

void remove_point_checkpoints(const std::string& results_path, const std::string& id) {
  // The directory stays, even empty: a worker that has just started a point made
  // it already and writes its first checkpoint into it any moment now.
  const std::string directory = checkpoint_directory(results_path);
  for (const auto& name : entries_of(directory))
    if (point_of(name) == id) ::unlink((directory + "/" + name).c_str());
}

void prune_checkpoints(const std::string& results_path, const std::function<bool(const std::string& id)>& keep) {
  const std::string directory = checkpoint_directory(results_path);
  const std::vector<std::string> names = entries_of(directory);
  if (names.empty()) return;  // no checkpoints (or none we may read): nothing to clean

  bool left_anything = false;
  for (const auto& name : names) {
    if (name == "." || name == "..") continue;
    const std::string point = point_of(name);
    if (!point.empty() && !keep(point) && ::unlink((directory + "/" + name).c_str()) == 0) continue;
    left_anything = true;
  }
  if (!left_anything) ::rmdir(directory.c_str());
}

}  // namespace ablate
