// Tests of orchestrator/device_placement: groups, GPUs and threads, by hand.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "orchestrator/device_placement.hpp"
#include "orchestrator/exit_codes.hpp"

using namespace ablate;

TEST_CASE("rank 0 schedules - every other rank leads a group of one", "[orchestrator]") {
  CHECK(group_leaders(1, 1) == std::vector<int>{0});  // local mode: rank 0 trains
  CHECK(group_leaders(2, 1) == std::vector<int>{1});
  CHECK(group_leaders(5, 1) == std::vector<int>{1, 2, 3, 4});
  CHECK(group_of_rank(0, 5, 1) == -1);
  CHECK(group_of_rank(3, 5, 1) == 2);
  CHECK(group_of_rank(0, 1, 1) == 0);
}

TEST_CASE("groups of K workers: the first rank of each leads", "[orchestrator]") {
  CHECK(group_leaders(9, 4) == std::vector<int>{1, 5});  // workers 1..8 in two groups
  CHECK(group_leaders(7, 2) == std::vector<int>{1, 3, 5});
  CHECK(group_of_rank(4, 9, 4) == 0);
  CHECK(group_of_rank(5, 9, 4) == 1);
  CHECK(group_of_rank(8, 9, 4) == 1);
  CHECK_THROWS_WITH(group_leaders(8, 2), Catch::Contains("7 worker ranks") && Catch::Contains("groups of 2"));
  CHECK_THROWS_AS(group_leaders(3, 0), OptionError);
  CHECK_THROWS_WITH(group_leaders(1, 2), Catch::Contains("mpirun -np 3"));  // no group in local mode
}

TEST_CASE("GPUs are dealt out by the worker's index on its node", "[orchestrator]") {
  // 4 workers on a node, one per GPU: 0,1,2,3 (the trainer wraps modulo the GPU count).
  for (int i = 0; i < 4; ++i) CHECK(place_worker("cuda", i, 4, 64, 64, 0, 1).gpu_index == i);
  // --workers-per-gpu 3: workers 0-2 on GPU 0, 3-5 on GPU 1, 6 on GPU 2.
  const int expected[] = {0, 0, 0, 1, 1, 1, 2};
  for (int i = 0; i < 7; ++i) CHECK(place_worker("cuda", i, 7, 64, 64, 0, 3).gpu_index == expected[i]);
  CHECK(place_worker("cuda", 2, 4, 64, 64, 0, 1).device == "cuda");
}

TEST_CASE("threads: the node's cores shared among its workers at least one never more than usable", "[orchestrator]") {
  CHECK(place_worker("cpu", 0, 1, 2, 2, 0, 1).threads == 2);     // local mode on 2 cores
  CHECK(place_worker("cpu", 0, 2, 2, 2, 0, 1).threads == 1);     // mpirun -np 3: 2 workers
  CHECK(place_worker("cpu", 1, 3, 64, 64, 0, 1).threads == 21);  // 64 / 3, rounded down
  CHECK(place_worker("cpu", 0, 4, 2, 2, 0, 1).threads == 1);     // oversubscribed: still one
  CHECK(place_worker("cpu", 0, 2, 64, 8, 0, 1).threads == 8);    // bound to 8 cores: 8, not 32
  CHECK(place_worker("cpu", 0, 4, 2, 2, 6, 1).threads == 6);     // --threads wins
}

namespace {

// One rank's place on a cluster: its node and what place_worker gives it.
struct RankPlace {
  std::string node;
  int gpu = -1;  // the GPU it trains on (-1: rank 0, which only schedules)
};

// The GPUs a job's ranks take, given the node each world rank runs on and each node's GPU
// count: the path of `ablate run` under MPI with fake counts. Its node-local numbering is
// what run_sweep gets from MPI: MPI_Comm_split_type(SHARED) groups the ranks of a node, a
// split by "is a worker" drops rank 0, both ordered by world rank; place_worker deals the
// GPUs out by that index, and the trainer takes the index modulo the node's GPU count
// (trainer/device.cpp).
std::vector<RankPlace> place_job(const std::vector<std::string>& node_of_rank, const std::map<std::string, int>& gpus,
                                 int workers_per_gpu) {
  std::map<std::string, int> workers_on;
  for (size_t rank = 1; rank < node_of_rank.size(); ++rank) ++workers_on[node_of_rank[rank]];
  std::map<std::string, int> seen;
  std::vector<RankPlace> places;
  for (size_t rank = 0; rank < node_of_rank.size(); ++rank) {
    const std::string& node = node_of_rank[rank];
    if (rank == 0) {
      places.push_back({node, -1});
      continue;
    }
    const int local_worker = seen[node]++;
    const WorkPlacement placement = place_worker("cuda", local_worker, workers_on[node], 64, 64, 0, workers_per_gpu);
    places.push_back({node, placement.gpu_index % gpus.at(node)});
  }
  return places;
}

// Workers per (node, GPU) of a job.
std::map<std::pair<std::string, int>, int> load_of(const std::vector<RankPlace>& places) {
  std::map<std::pair<std::string, int>, int> load;
  for (const auto& place : places)
    if (place.gpu >= 0) ++load[{place.node, place.gpu}];
  return load;
}

// `srun` places tasks in blocks (the first node's first), --distribution=cyclic alternates.
std::vector<std::string> block_layout(int tasks_per_node) {
  std::vector<std::string> nodes(tasks_per_node, "node1");
  nodes.insert(nodes.end(), tasks_per_node, "node2");
  return nodes;
}

}  // namespace

TEST_CASE("two nodes of four GPUs: one worker per GPU, rank 0's node leaves one idle", "[orchestrator]") {
  const std::map<std::string, int> gpus{{"node1", 4}, {"node2", 4}};
  // ablate slurm --nodes 2 --gpus-per-node 4: one task per GPU, 8 ranks in blocks.
  const auto places = place_job(block_layout(4), gpus, 1);
  const std::vector<int> expected{-1, 0, 1, 2, 0, 1, 2, 3};  // rank 0 schedules on node1
  for (size_t rank = 0; rank < places.size(); ++rank) CHECK(places[rank].gpu == expected[rank]);
  const auto load = load_of(places);
  CHECK(load.size() == 7);  // node1's GPU 3 idle, every other GPU busy
  for (const auto& [gpu, workers] : load) CHECK(workers == 1);
  CHECK(load.count({"node1", 3}) == 0);
}

TEST_CASE("two nodes of four GPUs: a fifth task per node fills rank 0's node, wraps on the other", "[orchestrator]") {
  const std::map<std::string, int> gpus{{"node1", 4}, {"node2", 4}};
  const auto places = place_job(block_layout(5), gpus, 1);  // --tasks-per-node 5
  const std::vector<int> expected{-1, 0, 1, 2, 3, 0, 1, 2, 3, 0};
  for (size_t rank = 0; rank < places.size(); ++rank) CHECK(places[rank].gpu == expected[rank]);
  CHECK(load_of(places)[{"node2", 0}] == 2);  // five workers on four GPUs: GPU 0 takes two
  CHECK(load_of(places)[{"node1", 0}] == 1);
}

TEST_CASE("two nodes of four GPUs: --workers-per-gpu 2 puts two workers on each GPU", "[orchestrator]") {
  const std::map<std::string, int> gpus{{"node1", 4}, {"node2", 4}};
  // 1 + 8 workers per node would leave rank 0's node one short: 9 tasks on node1, 8 on node2.
  std::vector<std::string> nodes(9, "node1");
  nodes.insert(nodes.end(), 8, "node2");
  const auto load = load_of(place_job(nodes, gpus, 2));
  CHECK(load.size() == 8);
  for (const auto& [gpu, workers] : load) CHECK(workers == 2);
}

TEST_CASE("two nodes of four GPUs: the node-local order follows world ranks whatever the layout", "[orchestrator]") {
  const std::map<std::string, int> gpus{{"node1", 4}, {"node2", 4}};
  // --distribution=cyclic, 9 ranks: even ranks on node1, odd on node2.
  std::vector<std::string> cyclic;
  for (int rank = 0; rank < 9; ++rank) cyclic.push_back(rank % 2 == 0 ? "node1" : "node2");
  const auto places = place_job(cyclic, gpus, 1);
  const std::vector<int> expected{-1, 0, 0, 1, 1, 2, 2, 3, 3};
  for (size_t rank = 0; rank < places.size(); ++rank) CHECK(places[rank].gpu == expected[rank]);
  for (const auto& [gpu, workers] : load_of(places)) CHECK(workers == 1);
  // --ranks-per-point 2: groups (1,2), (3,4), (5,6), (7,8), each across both nodes, each
  // member on a GPU of its own node.
  CHECK(group_leaders(9, 2) == std::vector<int>{1, 3, 5, 7});
  for (int leader : group_leaders(9, 2)) {
    CHECK(group_of_rank(leader + 1, 9, 2) == group_of_rank(leader, 9, 2));
    CHECK(places[leader].node != places[leader + 1].node);
  }
}

TEST_CASE("nodes with different GPU counts: each worker wraps on its own node's count", "[orchestrator]") {
  const std::map<std::string, int> gpus{{"node1", 4}, {"node2", 2}};
  const auto places = place_job(block_layout(4), gpus, 1);
  const std::vector<int> expected{-1, 0, 1, 2, 0, 1, 0, 1};
  for (size_t rank = 0; rank < places.size(); ++rank) CHECK(places[rank].gpu == expected[rank]);
}
