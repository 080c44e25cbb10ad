// The placement rules of issue "MPI orchestrator": groups, GPUs round-robin, shared cores.
#include "orchestrator/device_placement.hpp"

#include <fmt/format.h>
#include <sched.h>

#include <algorithm>
#include <thread>

#include "orchestrator/exit_codes.hpp"

namespace ablate {

std::vector<int> group_leaders(int world_size, int ranks_per_point) {
  if (ranks_per_point < 1) throw OptionError(fmt::format("--ranks-per-point {} must be at least 1", ranks_per_point));
  if (world_size == 1) {
    if (ranks_per_point > 1)
      throw OptionError(fmt::format("--ranks-per-point {} trains each point on {} ranks: start ablate under "
                                    "mpirun with 1 + a multiple of {} ranks (e.g. mpirun -np {} ablate run ...)",
                                    ranks_per_point, ranks_per_point, ranks_per_point, 1 + ranks_per_point));
    return {0};
  }
  const int workers = world_size - 1;
  if (workers % ranks_per_point != 0)
    throw OptionError(
        fmt::format("--ranks-per-point {}: the {} worker rank{} (all ranks but rank 0) do not split "
                    "into groups of {}; start {} ranks, for example",
                    ranks_per_point, workers, workers == 1 ? "" : "s", ranks_per_point,
                    1 + ranks_per_point * std::max(1, workers / ranks_per_point)));
  std::vector<int> leaders;
  for (int rank = 1; rank < world_size; rank += ranks_per_point) leaders.push_back(rank);
  return leaders;
}

int group_of_rank(int rank, int world_size, int ranks_per_point) {
  if (world_size == 1) return 0;
  if (rank == 0) return -1;
  return (rank - 1) / ranks_per_point;
}

WorkPlacement place_worker(const std::string& device, int local_worker_index, int workers_on_node, int cores_on_node,
                           int cores_usable, int threads_option, int workers_per_gpu) {
  WorkPlacement placement;
  placement.device = device;
  placement.gpu_index = local_worker_index / std::max(1, workers_per_gpu);
  if (threads_option > 0) {
    placement.threads = threads_option;
  } else {
    const int share = cores_on_node / std::max(1, workers_on_node);
    placement.threads = std::max(1, std::min(share, std::max(1, cores_usable)));
  }
  return placement;
}

int cores_on_this_node() { return std::max(1u, std::thread::hardware_concurrency()); }

int cores_usable_by_this_process() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return cores_on_this_node();
  return std::max(1, CPU_COUNT(&set));
}

}  // namespace ablate
