// orchestrator/results/pareto_front: `ablate status --pareto` on hand-made points.
#include "orchestrator/results/pareto_front.hpp"
#include "orchestrator/results/results_file.hpp"
#include "test_journal_support.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

using namespace ablate;
using namespace ablate::test;

TEST_CASE("non_dominated keeps the points no cheaper point matches, cheapest first", "[results][pareto]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  //                                score:  0.8  0.85  0.84  0.9  0.9  nan   0.7
  //                                cost:   10   20    30    40   40   5     10
  CHECK(non_dominated({0.8, 0.85, 0.84, 0.9, 0.9, nan, 0.7}, {10, 20, 30, 40, 40, 5, 10}) ==
        std::vector<size_t>{0, 1, 3});  // 2: 1 is better and cheaper; 4: equal to 3; 6: 0 at the same cost
  CHECK(non_dominated({}, {}).empty());
  CHECK(non_dominated({0.5}, {1}) == std::vector<size_t>{0});
}

TEST_CASE("status --pareto: fronts by training time and by parameter count over the points done",
          "[results][pareto][hdf5]") {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  // The third trained in a pack of 4 throughout: its time is a quarter of its pack's 30 s.
  struct Made { double val; double seconds; int64_t parameters; double pack_members; };
  const std::vector<Made> made = {{0.80, 10, 500, 1}, {0.85, 20, 400, 1}, {0.84, 30, 300, 4}, {0.90, 40, 2000, 1}};
  {
    ResultsFile results(path, test_sweep(), quiet_options());
    const auto points = test_points(5);
    results.plan(points);
    for (size_t k = 0; k < made.size(); ++k) {
      results.start_point(points[k].id, {"node01", "cpu", "2.3.0"});
      TrainResult r = test_result(static_cast<int>(k), 2);
      r.best_val_acc = made[k].val, r.train_seconds = made[k].seconds, r.parameter_count = made[k].parameters;
      for (auto& row : r.curves) row.pack_members = made[k].pack_members;
      results.finish_point(points[k].id, r);
    }
    results.start_point(points[4].id, {"node01", "cpu", "2.3.0"});
    results.fail_point(points[4].id, "diverged");
  }
  const ParetoFronts fronts = read_pareto_fronts(path);
  CHECK(fronts.candidates == 4);
  std::vector<std::string> by_time, by_size;
  for (const auto& p : fronts.by_time) by_time.push_back(p.id);
  for (const auto& p : fronts.by_size) by_size.push_back(p.id);
  CHECK(by_time == std::vector<std::string>{"p0002", "p0001", "p0003"});  // p0002: 7.5 s, p0000 (10 s) is less accurate
  CHECK(by_size == std::vector<std::string>{"p0002", "p0001", "p0003"});
  CHECK(fronts.by_size.front().parameter_count == 300);
  CHECK(fronts.by_time.front().train_seconds == 7.5);
  const std::string text = format_pareto_fronts(fronts);
  INFO(text);
  CHECK_THAT(text, Catch::Contains("over the 4 points trained to the end") &&
                       Catch::Contains("vs training time") && Catch::Contains("vs parameter count"));
}
