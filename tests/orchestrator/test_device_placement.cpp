// Tests of orchestrator/device_placement: groups, GPUs and threads, by hand.
#include <catch2/catch.hpp>

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
