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
}  // namespace

std::string checkpoint_directory(const std::string& results_path) { return results_path + ".checkpoints"; }

std::string point_checkpoint_path(const std::string& results_path, const std::string& id) {
  return checkpoint_directory(results_path) + "/" + id + ".pt";
}

void remove_point_checkpoints(const std::string& results_path, const std::string& id) {
  prune_checkpoints(results_path, [&](const std::string& point) { return point != id; });
}

void prune_checkpoints(const std::string& results_path, const std::function<bool(const std::string& id)>& keep) {
  const std::string directory = checkpoint_directory(results_path);
  DIR* listing = ::opendir(directory.c_str());
  if (!listing) return;  // no checkpoints (or none we may read): nothing to clean
  std::vector<std::string> names;
  while (const dirent* entry = ::readdir(listing)) names.emplace_back(entry->d_name);
  ::closedir(listing);

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
