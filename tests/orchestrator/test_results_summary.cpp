// orchestrator/results/results_summary and results_probe: `ablate status --json`, statuses
// beyond the four every file has, and refusals in the user's terms.
#include "orchestrator/results/results_file.hpp"
#include "orchestrator/results/results_summary.hpp"
#include "test_journal_support.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

using namespace ablate;
using namespace ablate::test;

TEST_CASE("status --json: counts, the best points with typed hyperparameters, every point", "[results][hdf5]") {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  {
    ResultsFile results(path, test_sweep(), quiet_options());
    const auto points = test_points(6);
    results.plan(points);
    for (int k : {0, 2, 4, 5}) run_point(results, points[k], k, 2);  // val_acc 0.6 + 0.001 k
    results.start_point("p0001", {"n", "cpu", "t"});
    results.fail_point("p0001", "worker 3 lost\n(details)");
  }
  const nlohmann::json json = results_summary_json(read_results_summary(path, /*top=*/2, /*failed_shown=*/10));
  INFO(json.dump(2));
  CHECK(json["sweep"]["name"] == "lr_sweep");
  CHECK(json["total"] == 6);
  CHECK(json["counts"] == nlohmann::json({{"done", 4}, {"failed", 1}, {"pending", 1}, {"running", 0}}));

  REQUIRE(json["best"].size() == 2);
  const auto& best = json["best"][0];
  CHECK(best["rank"] == 1);
  CHECK(best["id"] == "p0005");
  CHECK(best["best_val_acc"].get<double>() == Approx(0.605));
  CHECK(best["epochs_done"] == 2);
  // Swept keys as JSON values: a float, an integer list (stored as JSON text), a string, a bool as 0/1.
  CHECK(best["hyperparameters"]["lr"].get<double>() == Approx(0.1 / 6));
  CHECK(best["hyperparameters"]["hidden"] == nlohmann::json::array({128}));
  CHECK(best["hyperparameters"]["activation"] == "tanh");
  CHECK(best["hyperparameters"]["batchnorm"] == 1);
  CHECK(best["hyperparameters"].count("epochs") == 0);  // the same in every point: not swept
  CHECK(json["best"][1]["id"] == "p0004");

  REQUIRE(json["failed"].size() == 1);
  CHECK(json["failed"][0] == nlohmann::json({{"id", "p0001"}, {"error", "worker 3 lost\n(details)"}}));

  REQUIRE(json["points"].size() == 6);
  const std::vector<std::string> statuses = {"done", "failed", "done", "pending", "done", "done"};
  for (size_t i = 0; i < 6; ++i) {
    CHECK(json["points"][i]["id"] == fmt::format("p{:04d}", i));
    CHECK(json["points"][i]["status"] == statuses[i]);
  }
  CHECK(json["points"][3]["best_val_acc"].is_null());  // never started: NaN in /index, null here
  CHECK(json["points"][3]["epochs_done"] == 0);
  CHECK(json["points"][2]["test_acc_at_best_val"].get<double>() == Approx(0.65));
}

TEST_CASE("statuses beyond the four every file has are counted and printed as they are spelt", "[results]") {
  ResultsSummary summary;
  summary.path = "study.h5";
  summary.sweep_name = "study";
  summary.total = 7;
  summary.counts = {{"done", 2}, {"running", 0}, {"pending", 1}, {"failed", 1}, {"stopped", 2}, {"paused", 1}};
  summary.points = {{"a", "", "stopped", 3, 0.8, 0.79},
                    {"b", "", "paused", 2, std::numeric_limits<double>::quiet_NaN(), 0.5}};
  const std::string text = format_results_summary(summary);
  INFO(text);
  CHECK(text.find("points: 7 total: 2 done, 0 running, 1 pending, 1 failed, 1 paused, 2 stopped\n") !=
        std::string::npos);
  const nlohmann::json json = results_summary_json(summary);
  CHECK(json["counts"]["stopped"] == 2);
  CHECK(json["counts"]["paused"] == 1);
  CHECK(json["points"][0]["status"] == "stopped");
  CHECK(json["points"][1]["best_val_acc"].is_null());
  CHECK(json["sweep"]["updated"].is_null());

  CHECK(status_has_result("done"));
  CHECK(status_has_result("stopped"));
  for (const char* status : {"pending", "running", "paused", "failed", "someday"}) CHECK_FALSE(status_has_result(status));
}

TEST_CASE("a results path that is not HDF5 is refused in the user's terms", "[results][hdf5]") {
  ScratchDir dir;
  const auto refusal = [](const std::string& path) {
    try {
      read_results_summary(path);
    } catch (const ResultsRefusedError& e) {
      return std::string(e.what());
    }
    FAIL("not refused: " << path);
    return std::string();
  };
  const std::string notes = dir.file("notes.h5");
  std::ofstream(notes) << "my thesis notes\n";
  const std::string empty = dir.file("empty.h5");
  std::ofstream{empty};
  const std::string folder = dir.file("folder.h5");
  std::filesystem::create_directory(folder);
  // An HDF5 signature and then nothing: a file cut short while being copied.
  const std::string cut = dir.file("cut.h5");
  std::ofstream(cut, std::ios::binary) << std::string("\x89HDF\r\n\x1a\n", 8) << std::string(40, '\0');

  const std::string kGive = ". Give the .h5 file that `ablate run -o` wrote";
  CHECK(refusal(notes) == "'" + notes + "' is not an ablate results file: it is not an HDF5 file" + kGive);
  CHECK(refusal(empty) == "'" + empty + "' is not an ablate results file: it is an empty file" + kGive);
  CHECK(refusal(folder) == "'" + folder + "' is not an ablate results file: it is a directory" + kGive);
  CHECK(refusal(cut) == "'" + cut + "' is not an ablate results file: it is an HDF5 file that cannot be opened: "
                                    "damaged, or cut short while being copied" + kGive);
  CHECK(refusal(dir.file("missing.h5")) == "results file '" + dir.file("missing.h5") + "' does not exist");
}
