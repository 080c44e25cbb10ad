// Where per-point checkpoints live and when they go: RESULTS.h5.checkpoints/<id>.pt,
// beside the results file, so they travel with it and every rank on a shared
// file system finds them. The trainer writes them; rank 0 deletes them once the
// point's result (or failure) is durable in the ledger.
#pragma once

#include <functional>
#include <string>

namespace ablate {

std::string checkpoint_directory(const std::string& results_path);
std::string point_checkpoint_path(const std::string& results_path, const std::string& id);

// Removes the point's checkpoint files: <id>.pt, the per-rank <id>.pt.rank<r> of
// a data-parallel group, and a temporary left by a kill mid-write. The directory
// stays (other workers write into it while the sweep runs). Never throws.
void remove_point_checkpoints(const std::string& results_path, const std::string& id);

// Removes the checkpoints of every point `keep` says no to (a point finished
// before a crash could delete them), then the directory when it is empty.
// Never throws.
void prune_checkpoints(const std::string& results_path, const std::function<bool(const std::string& id)>& keep);

}  // namespace ablate
