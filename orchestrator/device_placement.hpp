// Which ranks train, and where: worker groups (--ranks-per-point), GPU index and
// LibTorch threads of each worker. Plain functions, so the rules are tested
// without MPI or GPUs.
#pragma once

#include <string>
#include <vector>

#include "orchestrator/point_work.hpp"

namespace ablate {

// The world ranks that receive points: every rank in local mode (one), else the
// leader of each group of `ranks_per_point` workers among ranks 1..size-1
// (rank 0 schedules). Throws OptionError when the workers do not split evenly.
std::vector<int> group_leaders(int world_size, int ranks_per_point);

// The group (0-based) a worker rank belongs to; -1 for rank 0 when it only schedules.
int group_of_rank(int rank, int world_size, int ranks_per_point);

// Where one worker trains. GPU: the node's GPUs are dealt out by the worker's
// index among the node's workers, `workers_per_gpu` workers per GPU (the trainer
// takes the index modulo the GPU count). Threads: `threads_option` when given, else
// the node's cores shared out among the node's workers (no oversubscription),
// never more than this process may run on, never fewer than one.
WorkPlacement place_worker(const std::string& device, int local_worker_index, int workers_on_node, int cores_on_node,
                           int cores_usable, int threads_option, int workers_per_gpu);

// Cores of this machine (std::thread::hardware_concurrency) and cores this
// process may run on (its CPU affinity, which mpirun's binding and Slurm set).
int cores_on_this_node();
int cores_usable_by_this_process();

}  // namespace ablate
