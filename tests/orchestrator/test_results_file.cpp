// Tests of the results ledger (orchestrator/results): the HDF5 layout read back
// with the raw C API, resume, rebuild, refusals, summary, speed, external readers.
#include "orchestrator/results/results_file.hpp"
#include "orchestrator/results/results_summary.hpp"
#include "orchestrator/results/journal.hpp"
#include "test_journal_support.hpp"

#include <ablate/version.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <regex>
#include <thread>

using namespace ablate;
using namespace ablate::test;

namespace {

// Three points: p0000 done (3 epochs), p0001 failed after 2 epochs, p0002 pending.
void write_three_points(const std::string& path) {
  ResultsFile results(path, test_sweep(), quiet_options());
  const auto points = test_points(3);
  results.plan(points);
  run_point(results, points[0], 0, 3);
  results.start_point(points[1].id, {"node02", "cuda:1", "2.3.0"});
  results.record_epoch(points[1].id, test_epoch(1, 1));
  results.record_epoch(points[1].id, test_epoch(1, 2));
  results.fail_point(points[1].id, "CUDA out of memory\nat train.cpp:88");
  results.close();
}

std::vector<std::string> journal_types(const std::string& journal_path) {
  std::vector<std::string> types;
  std::stringstream lines(read_text(journal_path));
  std::string line;
  while (std::getline(lines, line)) {
    auto record = decode_journal_line(line);
    REQUIRE(record);
    types.push_back((*record)["t"].get<std::string>() + ":" + record->value("id", ""));
  }
  return types;
}

}  // namespace

TEST_CASE("results file round trip: root, point attributes, curves, confusion, index", "[hdf5][results]") {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  write_three_points(path);
  const auto points = test_points(3);

  RawFile file(path);
  hid_t root = H5Gopen2(file.id, "/", H5P_DEFAULT);
  CHECK(raw_string_attr(root, "format") == "ablate-results");
  CHECK(raw_int_attr(root, "format_version") == 4);
  CHECK(raw_int_attr(root, "journal_bytes") == static_cast<int64_t>(std::filesystem::file_size(path + ".journal")));
  CHECK(raw_attr_type(root, "format_version").first == H5T_INTEGER);
  CHECK(raw_string_attr(root, "ablate_version") == kVersion);
  CHECK(raw_string_attr(root, "git_commit") == kGitCommit);
  CHECK(raw_string_attr(root, "sweep_name") == "lr_sweep");
  CHECK(raw_string_attr(root, "sweep_path") == "sweeps/lr_sweep.toml");
  CHECK(raw_string_attr(root, "sweep_spec") == test_sweep().spec_text);
  CHECK(std::regex_match(raw_string_attr(root, "created"), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
  H5Gclose(root);

  SECTION("a done point has every column, its curve, both confusion matrices and per-class accuracy") {
    auto text = [&](const char* column) { return raw_index_string(file.id, "p0000", column); };
    auto integer = [&](const char* column) {
      return raw_index_value<int64_t>(file.id, "p0000", column, H5T_NATIVE_INT64);
    };
    auto number = [&](const char* column) {
      return raw_index_value<double>(file.id, "p0000", column, H5T_NATIVE_DOUBLE);
    };
    CHECK(text("config_json") == points[0].config_text);
    CHECK(text("case") == "even");
    CHECK(integer("seed") == 0);
    CHECK(text("status") == "done");
    CHECK(text("error") == "");
    CHECK(integer("attempts") == 1);
    CHECK(text("host") == "node01");
    CHECK(text("device") == "cuda:0");  // the trainer's report wins over the planned device
    CHECK(text("torch_version") == "2.3.0");
    CHECK(integer("threads") == 2);
    CHECK(integer("ranks") == 1);
    CHECK(number("pack_members") == 3);  // the mean of its epochs' 4, 1 and 4
    CHECK(!text("started").empty());
    CHECK(!text("finished").empty());
    CHECK(integer("has_result") == 1);
    CHECK(number("train_seconds") == 12.5);
    CHECK(integer("parameter_count") == 1000);
    CHECK(integer("best_epoch") == 3);
    CHECK(number("best_val_acc") == test_epoch(0, 3).val_acc);
    CHECK(number("final_test_acc") == test_epoch(0, 3).test_acc);
    CHECK(number("test_acc_at_best_val") == test_epoch(0, 3).test_acc);
    CHECK_FALSE(raw_link_exists(file.id, "/points"));  // format 4: tables only

    const auto curves = raw_curves(file.id, "p0000");
    REQUIRE(curves.size() == 3);
    for (int e = 1; e <= 3; ++e) CHECK(same_epoch(curves[e - 1], test_epoch(0, e)));

    const auto cells = raw_point_array<int64_t>(file.id, "p0000", "/confusion_test", H5T_NATIVE_INT64, 100);
    CHECK(cells[0 * 10 + 0] == 900);  // row = true class 0, column = predicted 0
    CHECK(cells[3 * 10 + 3] == 903);
    CHECK(cells[2 * 10 + 3] == (2 + 3) % 4);
    CHECK(cells == test_result(0, 3).confusion_test);
    CHECK(raw_point_array<int64_t>(file.id, "p0000", "/confusion_val", H5T_NATIVE_INT64, 100) ==
          test_result(0, 3).confusion_val);
    const auto acc = raw_point_array<double>(file.id, "p0000", "/per_class_acc", H5T_NATIVE_DOUBLE, 10);
    CHECK(acc[0] == 0.8);
    CHECK(acc[9] == 0.8 + 0.09);

    hid_t predictions = H5Dopen2(file.id, "/test_predictions", H5P_DEFAULT);
    REQUIRE(predictions >= 0);
    hid_t stored_type = H5Dget_type(predictions);
    CHECK(H5Tget_class(stored_type) == H5T_INTEGER);
    CHECK(H5Tget_size(stored_type) == 1);  // int8: one byte per test image
    H5Tclose(stored_type);
    H5Dclose(predictions);
    const auto predicted = raw_predictions(file.id, "p0000");
    CHECK(predicted == test_result(0, 3).test_predictions);
    CHECK(predicted[3] == 1);  // (3 * 7 + 0) % 10
  }

  SECTION("a failed point keeps its error and the curve it reached, and has no result") {
    CHECK(raw_index_string(file.id, "p0001", "status") == "failed");
    CHECK(raw_index_string(file.id, "p0001", "error") == "CUDA out of memory\nat train.cpp:88");
    CHECK(raw_index_string(file.id, "p0001", "device") == "cuda:1");
    CHECK(std::isnan(raw_index_value<double>(file.id, "p0001", "best_val_acc", H5T_NATIVE_DOUBLE)));
    CHECK(raw_index_value<int64_t>(file.id, "p0001", "has_result", H5T_NATIVE_INT64) == 0);
    const auto curves = raw_curves(file.id, "p0001");
    REQUIRE(curves.size() == 2);
    CHECK(same_epoch(curves[1], test_epoch(1, 2)));
    // no result: the fill values
    CHECK(raw_point_array<int64_t>(file.id, "p0001", "/confusion_test", H5T_NATIVE_INT64, 100) ==
          std::vector<int64_t>(100, 0));
    CHECK(std::isnan(raw_point_array<double>(file.id, "p0001", "/per_class_acc", H5T_NATIVE_DOUBLE, 10)[0]));
    CHECK(raw_predictions(file.id, "p0001").empty());
  }

  SECTION("a point never started has its row in /index and nothing else") {
    CHECK(raw_point_status(file.id, "p0002") == "pending");
    CHECK(raw_index_value<int64_t>(file.id, "p0002", "attempts", H5T_NATIVE_INT64) == 0);
    CHECK(raw_curves(file.id, "p0002").empty());
  }

  SECTION("the index has a row per point, the swept keys as typed hp.* columns, NaN for points not done") {
    hid_t index = H5Dopen2(file.id, "/index", H5P_DEFAULT);
    REQUIRE(index >= 0);
    const std::vector<std::string> expected_columns = {
        "id",           "case",           "status",         "seed",          "config_json",   "trial",
        "suggested_by", "hp.activation",
        "hp.batchnorm", "hp.hidden",      "hp.lr",          "hp.seed",       "best_val_acc",  "final_test_acc",
        "test_acc_at_best_val", "train_seconds", "parameter_count", "best_epoch", "epochs_trained", "epochs_done",
        "error",        "attempts",       "host",           "device",        "torch_version", "threads",
        "ranks",        "pack_members",   "started",        "finished",      "until",         "has_result",
        "predictions_start", "predictions_count"};
    CHECK(raw_member_names(index) == expected_columns);  // hp.epochs is 3 everywhere: not swept
    CHECK(raw_string_column(index, "id") == std::vector<std::string>{"p0000", "p0001", "p0002"});
    CHECK(raw_string_column(index, "case") == std::vector<std::string>{"even", "odd", "even"});
    CHECK(raw_string_column(index, "status") == std::vector<std::string>{"done", "failed", "pending"});
    CHECK(raw_column<int32_t>(index, "seed", H5T_NATIVE_INT32) == std::vector<int32_t>{0, 1, 2});
    CHECK(raw_string_column(index, "config_json") ==
          std::vector<std::string>{points[0].config_text, points[1].config_text, points[2].config_text});
    CHECK(raw_member_class(index, "hp.lr") == H5T_FLOAT);
    CHECK(raw_column<double>(index, "hp.lr", H5T_NATIVE_DOUBLE) == std::vector<double>{0.1, 0.1 / 2, 0.1 / 3});
    CHECK(raw_member_class(index, "hp.batchnorm") == H5T_INTEGER);
    CHECK(raw_column<int8_t>(index, "hp.batchnorm", H5T_NATIVE_INT8) == std::vector<int8_t>{0, 1, 0});
    CHECK(raw_member_class(index, "hp.hidden") == H5T_STRING);  // lists as JSON text
    CHECK(raw_string_column(index, "hp.hidden") == std::vector<std::string>{"[256,256]", "[128]", "[128]"});
    CHECK(raw_string_column(index, "hp.activation") == std::vector<std::string>{"relu", "tanh", "relu"});
    const auto best = raw_column<double>(index, "best_val_acc", H5T_NATIVE_DOUBLE);
    CHECK(best[0] == test_epoch(0, 3).val_acc);
    CHECK(std::isnan(best[1]));
    CHECK(std::isnan(best[2]));
    CHECK(raw_column<int64_t>(index, "parameter_count", H5T_NATIVE_INT64) == std::vector<int64_t>{1000, 0, 0});
    CHECK(raw_column<int32_t>(index, "best_epoch", H5T_NATIVE_INT32) == std::vector<int32_t>{3, 0, 0});
    CHECK(raw_column<int32_t>(index, "epochs_done", H5T_NATIVE_INT32) == std::vector<int32_t>{3, 2, 0});
    H5Dclose(index);
  }
}

TEST_CASE("a key one config lacks is a text hp.* column, empty where missing, and a default value counts like any other",
          "[hdf5][results]") {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  {
    ResultsFile results(path, test_sweep(), quiet_options());
    // p0 has l1 at its default, p1 another l1, p2 was written before l1 existed; lr is the same everywhere.
    results.plan({{"p0", R"({"l1":0.0,"lr":0.1})", "", 0, -1, ""},
                  {"p1", R"({"l1":0.5,"lr":0.1})", "", 0, -1, ""},
                  {"p2", R"({"lr":0.1})", "", 0, -1, ""}});
  }
  RawFile file(path);
  hid_t index = H5Dopen2(file.id, "/index", H5P_DEFAULT);
  REQUIRE(index >= 0);
  const auto names = raw_member_names(index);
  CHECK(std::count(names.begin(), names.end(), "hp.l1") == 1);
  CHECK(std::count(names.begin(), names.end(), "hp.lr") == 0);  // not swept
  CHECK(raw_member_class(index, "hp.l1") == H5T_STRING);         // not every point has it
  CHECK(raw_string_column(index, "hp.l1") == std::vector<std::string>{"0.0", "0.5", ""});
  H5Dclose(index);
}

TEST_CASE("the journal records each event once and carries curves on done only when they differ",
          "[hdf5][results]") {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  write_three_points(path);
  CHECK(journal_types(path + ".journal") ==
        std::vector<std::string>{"ledger:", "plan:p0000", "plan:p0001", "plan:p0002", "start:p0000", "epoch:p0000",
                                 "epoch:p0000", "epoch:p0000", "done:p0000", "start:p0001", "epoch:p0001",
                                 "epoch:p0001", "fail:p0001"});
  CHECK(read_text(path + ".journal").find("\"curves\"") == std::string::npos);

  // A worker whose epoch reports were lost: the final result's curves are the truth.
  {
    ResultsFile results(path, test_sweep(), quiet_options());
    results.start_point("p0002", {"node03", "cpu", "2.3.0"});
    results.finish_point("p0002", test_result(2, 3));
  }
  RawFile file(path);
  const auto curves = raw_curves(file.id, "p0002");
  REQUIRE(curves.size() == 3);
  CHECK(same_epoch(curves[2], test_epoch(2, 3)));
}

TEST_CASE("reopening resumes: done stays done, running becomes pending, restarted curves are not duplicated",
          "[hdf5][results]") {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  const auto points = test_points(3);
  {
    ResultsFile results(path, test_sweep(), quiet_options());
    results.plan(points);
    run_point(results, points[0], 0, 3);
    results.start_point(points[1].id, {"node01", "cpu", "2.3.0"});
    results.record_epoch(points[1].id, test_epoch(1, 1));
    results.record_epoch(points[1].id, test_epoch(1, 2));
    // the process "stops" with p0001 running (close() keeps statuses as they are)
  }
  {
    RawFile file(path);
    CHECK(raw_point_status(file.id, "p0001") == "running");
  }

  std::vector<std::string> warnings;
  ResultsFile results(path, test_sweep(), quiet_options(&warnings));
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("1 point(s)") != std::string::npos);
  CHECK(results.status("p0000") == PointStatus::done);
  CHECK(results.status("p0001") == PointStatus::pending);
  CHECK(results.status("p0002") == PointStatus::pending);
  CHECK(results.ids_with(PointStatus::pending) == std::vector<std::string>{"p0001", "p0002"});
  CHECK(results.ids_with(PointStatus::done) == std::vector<std::string>{"p0000"});
  {
    RawFile file(path);  // rebuilt at open: it shows what the ledger now says
    CHECK(raw_point_status(file.id, "p0001") == "pending");
    CHECK(raw_curves(file.id, "p0001").size() == 2);  // partial curve kept until the restart
  }

  results.plan(points);  // idempotent: nothing changes for known IDs
  CHECK(results.status("p0000") == PointStatus::done);
  CHECK(results.attempts("p0000") == 1);

  // The restart reports different numbers (point k = 7) so a leftover row would show.
  results.start_point("p0001", {"node02", "cpu", "2.3.0"});
  CHECK(results.attempts("p0001") == 2);
  results.record_epoch("p0001", test_epoch(7, 1));
  results.finish_point("p0001", test_result(7, 1));
  results.close();

  RawFile file(path);
  const auto curves = raw_curves(file.id, "p0001");
  REQUIRE(curves.size() == 1);
  CHECK(same_epoch(curves[0], test_epoch(7, 1)));
  CHECK(raw_index_value<int64_t>(file.id, "p0001", "attempts", H5T_NATIVE_INT64) == 2);
  CHECK(raw_index_string(file.id, "p0001", "host") == "node02");
  CHECK(raw_curves(file.id, "p0000").size() == 3);
  // The first attempt's two rows are still in /curves, marked as no longer counting.
  hid_t curve_table = H5Dopen2(file.id, "/curves", H5P_DEFAULT);
  const auto owners = raw_column<int32_t>(curve_table, "point", H5T_NATIVE_INT32);
  H5Dclose(curve_table);
  CHECK(std::count(owners.begin(), owners.end(), 1) == 1);
}

TEST_CASE("a point restarted after an interrupted run replays as its second attempt, without a warning",
          "[hdf5][results]") {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  const auto points = test_points(2);
  {
    ResultsFile results(path, test_sweep(), quiet_options());
    results.plan(points);
    results.start_point("p0001", {"node01", "cpu", "2.3.0"});
    results.record_epoch("p0001", test_epoch(1, 1));
  }  // the run stops with p0001 running
  {
    std::vector<std::string> warnings;
    ResultsFile results(path, test_sweep(), quiet_options(&warnings));
    REQUIRE(warnings.size() == 1);  // "... were running when the previous run stopped"
    results.start_point("p0001", {"node02", "cpu", "2.3.0"});  // journaled after the first start, no end between
    results.record_epoch("p0001", test_epoch(7, 1));
    results.finish_point("p0001", test_result(7, 1));
  }
  // The journal now holds two starts of p0001 in a row: the open between them turned it
  // pending without a record. Replaying it must take the second as a new attempt.
  std::vector<std::string> warnings;
  ResultsFile results(path, test_sweep(), quiet_options(&warnings));
  CHECK(warnings.empty());
  CHECK(results.status("p0001") == PointStatus::done);
  CHECK(results.attempts("p0001") == 2);
  CHECK(results.point("p0001").run.host == "node02");
  REQUIRE(results.point("p0001").curves.size() == 1);
  CHECK(same_epoch(results.point("p0001").curves[0], test_epoch(7, 1)));
}

TEST_CASE("the .h5 follows the journal at most once per flush interval, and on close", "[hdf5][results]") {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  auto epochs_in_file = [&] {
    RawFile file(path);
    hid_t index = H5Dopen2(file.id, "/index", H5P_DEFAULT);
    const auto epochs = raw_column<int32_t>(index, "epochs_done", H5T_NATIVE_INT32);
    H5Dclose(index);
    return epochs.at(0);
  };
  ResultsFile results(path, test_sweep(), quiet_options(nullptr, /*interval=*/1.0));
  results.plan(test_points(2));  // written at once: the planned points appear
  results.start_point("p0000", {"n", "cpu", "t"});
  results.record_epoch("p0000", test_epoch(0, 1));
  CHECK(epochs_in_file() == 0);  // within the interval: journal only
  results.flush_if_due();
  CHECK(epochs_in_file() == 0);
  ::usleep(1'050'000);
  results.flush_if_due();
  CHECK(epochs_in_file() == 1);
  results.record_epoch("p0000", test_epoch(0, 2));
  CHECK(epochs_in_file() == 1);
  results.close();
  CHECK(epochs_in_file() == 2);
}

TEST_CASE("reset_failed turns failed points into pending ones, durably", "[hdf5][results]") {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  write_three_points(path);
  {
    ResultsFile results(path, test_sweep(), quiet_options());
    CHECK(results.status("p0001") == PointStatus::failed);
    results.reset_failed();
    CHECK(results.status("p0001") == PointStatus::pending);
    CHECK(results.ids_with(PointStatus::failed).empty());
  }
  ResultsFile results(path, test_sweep(), quiet_options());
  CHECK(results.status("p0001") == PointStatus::pending);
  CHECK(results.attempts("p0001") == 1);
  results.close();
  RawFile file(path);
  CHECK(raw_point_status(file.id, "p0001") == "pending");
  CHECK(raw_index_string(file.id, "p0001", "error") == "");
}

TEST_CASE("a diverged run's NaN and infinite metrics survive the journal", "[hdf5][results]") {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  EpochMetrics diverged = test_epoch(0, 1);
  diverged.train_loss = std::nan("");
  diverged.val_loss = HUGE_VAL;
  diverged.test_loss = -HUGE_VAL;
  {
    ResultsFile results(path, test_sweep(), quiet_options());
    results.plan(test_points(1));
    results.start_point("p0000", {"n", "cpu", "t"});
    results.record_epoch("p0000", diverged);
    results.fail_point("p0000", "loss is NaN");
  }
  std::filesystem::remove(path);  // force the rebuild from the journal alone
  { ResultsFile results(path, test_sweep(), quiet_options()); }
  RawFile file(path);
  const auto curves = raw_curves(file.id, "p0000");
  REQUIRE(curves.size() == 1);
  CHECK(std::isnan(curves[0].train_loss));
  CHECK(curves[0].val_loss == HUGE_VAL);
  CHECK(curves[0].test_loss == -HUGE_VAL);
  CHECK(curves[0].val_acc == diverged.val_acc);
}

TEST_CASE("a deleted or damaged .h5 is rebuilt from the journal", "[hdf5][results]") {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  write_three_points(path);

  std::string expected_p0002 = "pending", expected_warning = "rebuilding it from its journal";
  SECTION("deleted") { std::filesystem::remove(path); }
  SECTION("overwritten with garbage") {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << "this is not HDF5";
  }
  SECTION("an older version of the file (stale: behind its journal)") {
    const std::string old_copy = dir.file("old.h5");
    std::filesystem::copy_file(path, old_copy);
    {
      ResultsFile results(path, test_sweep(), quiet_options());
      results.start_point("p0002", {"n", "cpu", "t"});
      results.finish_point("p0002", test_result(2, 3));
    }
    std::filesystem::copy_file(old_copy, path, std::filesystem::copy_options::overwrite_existing);
    expected_p0002 = "done";
    expected_warning = "";  // a stale file is the normal state after a crash: rebuilt silently
  }

  std::vector<std::string> warnings;
  ResultsFile results(path, test_sweep(), quiet_options(&warnings));
  results.close();
  if (expected_warning.empty()) {
    CHECK(warnings.empty());
  } else {
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find(expected_warning) != std::string::npos);
  }
  RawFile file(path);
  CHECK(raw_point_status(file.id, "p0000") == "done");
  CHECK(raw_point_status(file.id, "p0001") == "failed");
  CHECK(raw_point_status(file.id, "p0002") == expected_p0002);
  CHECK(raw_curves(file.id, "p0000").size() == 3);
  hid_t index = H5Dopen2(file.id, "/index", H5P_DEFAULT);
  CHECK(raw_rows(index) == 3);
  H5Dclose(index);
  // The result came back from the journal alone, test predictions included,
  // and what its time was measured with (0: a start that did not say).
  CHECK(raw_predictions(file.id, "p0000") == test_result(0, 3).test_predictions);
  CHECK(raw_index_value<int64_t>(file.id, "p0000", "threads", H5T_NATIVE_INT64) == 2);
  CHECK(raw_index_value<int64_t>(file.id, "p0000", "ranks", H5T_NATIVE_INT64) == 1);
  CHECK(raw_index_value<int64_t>(file.id, "p0001", "threads", H5T_NATIVE_INT64) == 0);
}

TEST_CASE("refusals: a foreign file, a results file without journal, another sweep, a locked ledger",
          "[hdf5][results]") {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");

  SECTION("an HDF5 file that is not an ablate results file is never touched") {
    hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(f >= 0);
    H5Fclose(f);
    const auto before = read_text(path);
    try {
      ResultsFile results(path, test_sweep(), quiet_options());
      FAIL("opened a foreign HDF5 file");
    } catch (const ResultsRefusedError& e) {
      CHECK(std::string(e.what()).find("is not an ablate results file") != std::string::npos);
      CHECK(std::string(e.what()).find(path) != std::string::npos);
    }
    CHECK(read_text(path) == before);
    CHECK_FALSE(file_exists(path + ".journal"));
  }

  SECTION("a text file is refused the same way") {
    std::ofstream(path) << "notes\n";
    CHECK_THROWS_AS(ResultsFile(path, test_sweep(), quiet_options()), ResultsRefusedError);
    CHECK(read_text(path) == "notes\n");
  }

  SECTION("a results file whose journal is gone cannot be resumed") {
    write_three_points(path);
    std::filesystem::remove(path + ".journal");
    try {
      ResultsFile results(path, test_sweep(), quiet_options());
      FAIL("resumed without a journal");
    } catch (const ResultsRefusedError& e) {
      CHECK(std::string(e.what()).find("has no journal") != std::string::npos);
    }
  }

  SECTION("a different sweep, or an edited spec, is refused unless allowed") {
    write_three_points(path);
    SweepIdentity other{"wd_sweep", "sweeps/wd.toml", "name = \"wd_sweep\"\n"};
    try {
      ResultsFile results(path, other, quiet_options());
      FAIL("opened by another sweep");
    } catch (const ResultsRefusedError& e) {
      CHECK(std::string(e.what()).find("belongs to sweep 'lr_sweep'") != std::string::npos);
      CHECK(std::string(e.what()).find("--allow-different-sweep") != std::string::npos);
    }
    try {
      ResultsFile results(path, test_sweep("name = \"lr_sweep\"\n[grid]\nlr = [0.5]\n"), quiet_options());
      FAIL("opened with an edited spec");
    } catch (const ResultsRefusedError& e) {
      CHECK(std::string(e.what()).find("differs from the spec recorded") != std::string::npos);
    }

    ResultsFile::Options allow = quiet_options();
    allow.allow_different_sweep = true;
    {
      ResultsFile results(path, other, allow);
      PlannedPoint changed = test_point(0);
      changed.config_text = R"({"lr":0.5})";  // same ID, other text: the old point is kept
      results.plan({changed, test_point(5)});
      CHECK(results.status("p0000") == PointStatus::done);
      CHECK(results.status("p0005") == PointStatus::pending);
    }
    // Once added, the other sweep is known and reopens without the option.
    ResultsFile results(path, other, quiet_options());
    results.close();
    RawFile file(path);
    CHECK(raw_index_string(file.id, "p0000", "config_json") == test_point(0).config_text);
    hid_t root = H5Gopen2(file.id, "/", H5P_DEFAULT);
    CHECK(raw_string_attr(root, "sweep_name") == "lr_sweep");  // the creator
    CHECK(raw_string_attr(root, "sweep_history").find("wd_sweep") != std::string::npos);
    H5Gclose(root);
  }

  SECTION("a second writer is locked out") {
    ResultsFile first(path, test_sweep(), quiet_options());
    try {
      ResultsFile second(path, test_sweep(), quiet_options());
      FAIL("two writers");
    } catch (const ResultsRefusedError& e) {
      CHECK(std::string(e.what()).find("locked by another ablate process") != std::string::npos);
    }
  }

  SECTION("a results file and a journal of different ledgers") {
    const std::string other = dir.file("other.h5");
    write_three_points(path);
    write_three_points(other);
    std::filesystem::copy_file(other, path, std::filesystem::copy_options::overwrite_existing);
    try {
      ResultsFile results(path, test_sweep(), quiet_options());
      FAIL("mixed ledgers");
    } catch (const ResultsRefusedError& e) {
      CHECK(std::string(e.what()).find("belong to different runs") != std::string::npos);
    }
  }
}

TEST_CASE("an unwritable or missing directory is named in the error", "[hdf5][results]") {
  ScratchDir dir;
  SECTION("missing") {
    const std::string path = dir.file("no/such/dir/results.h5");
    try {
      ResultsFile results(path, test_sweep(), quiet_options());
      FAIL("opened in a missing directory");
    } catch (const ResultsIoError& e) {
      CHECK(std::string(e.what()).find(dir.file("no/such/dir")) != std::string::npos);
      CHECK(std::string(e.what()).find("No such file or directory") != std::string::npos);
    }
  }
  SECTION("read-only (checked as an unprivileged user when the tests run as root)") {
    const std::string locked = dir.file("locked");
    std::filesystem::create_directory(locked);
    REQUIRE(::chmod(locked.c_str(), 0555) == 0);
    REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
    int message_pipe[2];
    REQUIRE(::pipe(message_pipe) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      ::close(message_pipe[0]);
      if (::geteuid() == 0 && ::setuid(65534) != 0) ::_exit(2);  // root ignores permissions; nobody does not
      std::string message = "opened";
      try {
        ResultsFile results(locked + "/results.h5", test_sweep(), quiet_options());
      } catch (const ResultsIoError& e) {
        message = e.what();
      } catch (...) {
        message = "wrong exception type";
      }
      (void)!::write(message_pipe[1], message.data(), message.size());
      ::_exit(0);
    }
    ::close(message_pipe[1]);
    std::string message;
    char buffer[512];
    for (ssize_t n; (n = ::read(message_pipe[0], buffer, sizeof buffer)) > 0;) message.append(buffer, n);
    ::close(message_pipe[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    INFO(message);
    CHECK(message.find("cannot write in directory '" + locked + "'") != std::string::npos);
    CHECK(message.find("Permission denied") != std::string::npos);
    CHECK_FALSE(file_exists(locked + "/results.h5.journal"));
  }
}

TEST_CASE("misuse is reported, not recorded", "[hdf5][results]") {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  ResultsFile results(path, test_sweep(), quiet_options());
  results.plan(test_points(2));
  CHECK_THROWS_AS(results.status("nope"), ResultsUsageError);
  CHECK_THROWS_WITH(results.finish_point("p0000", test_result(0, 1)),
                    Catch::Contains("cannot finish point 'p0000': it is pending"));
  CHECK_THROWS_WITH(results.record_epoch("p0000", test_epoch(0, 1)), Catch::Contains("it is pending"));
  results.start_point("p0000", {"n", "cpu", "t"});
  CHECK_THROWS_WITH(results.start_point("p0000", {"n", "cpu", "t"}), Catch::Contains("it is running"));
  TrainResult short_result = test_result(0, 1);
  short_result.confusion_test.resize(99);
  CHECK_THROWS_WITH(results.finish_point("p0000", short_result),
                    Catch::Contains("confusion_test has 99 values, expected 100"));
  results.finish_point("p0000", test_result(0, 1));
  CHECK_THROWS_WITH(results.finish_point("p0000", test_result(0, 1)), Catch::Contains("it is done"));
  CHECK_THROWS_WITH(results.plan({{"bad", "[1,2]", "c", 0, -1, ""}}), Catch::Contains("not a JSON object"));
  results.close();
  // None of the refused calls reached the journal.
  CHECK(journal_types(path + ".journal") == std::vector<std::string>{"ledger:", "plan:p0000", "plan:p0001",
                                                                     "start:p0000", "done:p0000"});
}

TEST_CASE("the summary reads counts, the best points and the failures from the .h5", "[hdf5][results]") {
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
  const ResultsSummary summary = read_results_summary(path, /*top=*/3);
  CHECK(summary.sweep_name == "lr_sweep");
  CHECK(summary.total == 6);
  CHECK(summary.counts.at("done") == 4);
  CHECK(summary.counts.at("failed") == 1);
  CHECK(summary.counts.at("pending") == 1);
  CHECK(summary.counts.at("running") == 0);
  REQUIRE(summary.best.size() == 3);
  CHECK(summary.best[0].id == "p0005");
  CHECK(summary.best[1].id == "p0004");
  CHECK(summary.best[2].id == "p0002");
  CHECK(summary.best[0].best_val_acc == Approx(0.605));
  CHECK(summary.best[0].epochs_done == 2);
  REQUIRE(summary.failed.size() == 1);
  CHECK(summary.failed[0].error == "worker 3 lost\n(details)");

  const std::string text = format_results_summary(summary);
  INFO(text);
  CHECK(text.find("points: 6 total: 4 done, 0 running, 1 pending, 1 failed") != std::string::npos);
  CHECK(text.find("p0005") < text.find("p0004"));
  CHECK(text.find("lr=0.016666666666666666") != std::string::npos);  // p0005's swept lr, 0.1 / 6
  CHECK(text.find("hidden=[128]") != std::string::npos);
  CHECK(text.find("worker 3 lost\n") != std::string::npos);
  CHECK(text.find("(details)") == std::string::npos);  // first line of the error only

  std::ofstream(dir.file("notes.h5")) << "x";
  CHECK_THROWS_AS(read_results_summary(dir.file("notes.h5")), ResultsRefusedError);

  // A file that claims the format but lacks its content: the HDF5 failure names the call,
  // the file, the source line and what was being read.
  const std::string hollow = dir.file("hollow.h5");
  hid_t f = H5Fcreate(hollow.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t string_type = H5Tcopy(H5T_C_S1);
  H5Tset_size(string_type, H5T_VARIABLE);
  const char* format = "ablate-results";
  hid_t attr = H5Acreate2(f, "format", string_type, space, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(attr, string_type, &format);
  H5Aclose(attr);
  const int64_t version = 1;
  attr = H5Acreate2(f, "format_version", H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(attr, H5T_NATIVE_INT64, &version);
  H5Aclose(attr);
  H5Tclose(string_type);
  H5Sclose(space);
  H5Fclose(f);
  try {
    read_results_summary(hollow);
    FAIL("read a hollow file");
  } catch (const Hdf5Error& e) {
    const std::string message = e.what();
    INFO(message);
    CHECK(e.call().find("H5Aopen") == 0);
    CHECK(message.find("HDF5 call H5Aopen(") == 0);
    CHECK(message.find("'" + hollow + "'") != std::string::npos);
    CHECK(message.find("hdf5_read.cpp:") != std::string::npos);
    CHECK(message.find("attribute 'sweep_name'") != std::string::npos);
    CHECK(message.find("can't locate attribute") != std::string::npos);  // from HDF5's own error stack
  }
}

TEST_CASE("2,000 tiny points take a few seconds at most", "[hdf5][results]") {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  const auto points = test_points(2000);
  const auto begin = std::chrono::steady_clock::now();
  {
    ResultsFile results(path, test_sweep(), quiet_options());
    results.plan(points);
    for (int k = 0; k < 2000; ++k) run_point(results, points[k], k, 2);
    const auto flush_begin = std::chrono::steady_clock::now();
    results.flush();
    const double flush_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - flush_begin).count();
    WARN(fmt::format("one full rewrite of the .h5 with 2000 done points: {:.3f} s, {} bytes", flush_seconds,
                     std::filesystem::file_size(path)));
    CHECK(flush_seconds < 3);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  WARN(fmt::format("2000 points, 2 epochs each, journal + .h5 writes: {:.2f} s", seconds));
  // Typically 1.3-2 s here, of which ~0.4 s are the 2,000 fdatasyncs of done records;
  // a disk shared with other writers can stretch those, hence the margin.
  CHECK(seconds < 10);
  RawFile file(path);
  hid_t index = H5Dopen2(file.id, "/index", H5P_DEFAULT);
  CHECK(raw_rows(index) == 2000);
  const auto status = raw_string_column(index, "status");
  CHECK(std::count(status.begin(), status.end(), "done") == 2000);
  H5Dclose(index);
  CHECK(same_epoch(raw_curves(file.id, "p1999")[1], test_epoch(1999, 2)));
}

TEST_CASE("h5dump and h5py/pandas read the file", "[hdf5][results]") {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  write_three_points(path);

  if (std::system("command -v h5dump > /dev/null 2>&1") != 0) {
    WARN("h5dump not found (apt install hdf5-tools): skipping the h5dump check");
  } else {
    const std::string out = dir.file("dump.txt");
    REQUIRE(std::system(("h5dump -H '" + path + "' > '" + out + "' 2>&1").c_str()) == 0);
    const std::string dump = read_text(out);
    CHECK(dump.find("DATASET \"index\"") != std::string::npos);
    CHECK(dump.find("DATASET \"curves\"") != std::string::npos);
    CHECK(dump.find("H5T_STD_I64LE \"parameter_count\"") != std::string::npos);
  }

  const char* source = std::getenv("ABLATE_SOURCE_DIR");
  const std::string python = std::string(source ? source : ".") + "/.venv/bin/python";
  if (!file_exists(python) ||
      std::system((python + " -c 'import h5py, pandas' > /dev/null 2>&1").c_str()) != 0) {
    WARN("no " + python + " with h5py and pandas: skipping the Python reader check");
    return;
  }
  const std::string script = dir.file("read.py");
  std::ofstream(script) << R"(import sys, math, json, h5py, pandas
f = h5py.File(sys.argv[1], "r")
df = pandas.DataFrame(f["index"][:])
assert list(df["id"]) == [b"p0000", b"p0001", b"p0002"], df["id"]
assert list(df["status"]) == [b"done", b"failed", b"pending"]
assert abs(df["hp.lr"][1] - 0.05) < 1e-15 and math.isnan(df["best_val_acc"][2])
assert f.attrs["format"] == "ablate-results" and f.attrs["format_version"] == 4
assert json.loads(df["config_json"][2])["lr"] == 0.1 / 3 and df["hp.hidden"][0] == b"[256,256]"
assert f["confusion_test"].shape == (3,) and f["confusion_test"][0].shape == (10, 10)
assert f["confusion_test"][:][0, 3, 3] == 903 and (f["confusion_test"][1] == 0).all()
curves = f["curves"][:]
assert list(curves[curves["point"] == 0]["epoch"]) == [1, 2, 3]
assert df["has_result"][0] == 1 and df["has_result"][1] == 0
print("ok")
)";
  const std::string out = dir.file("py.txt");
  const int rc = std::system((python + " '" + script + "' '" + path + "' > '" + out + "' 2>&1").c_str());
  INFO(read_text(out));
  CHECK(rc == 0);
}

namespace {

// Which file `path` names now: another inode after a rename over it.
ino_t inode_of(const std::string& path) {
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return info.st_ino;
}

}  // namespace

TEST_CASE("the last write waits for a reader that lets go soon, and replaces the file if it stays",
          "[hdf5][results]") {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  ResultsFile::Options options = quiet_options(nullptr, /*interval=*/0);
  options.reader_patience_seconds = 2;  // the most the close waits
  ResultsFile results(path, test_sweep(), options);
  const auto points = test_points(2);
  results.plan(points);
  run_point(results, points[0], 0, 1);
  const auto before = inode_of(path);
  // A reader's shared lock, as HDF5 takes it (flock), on a descriptor of its own.
  const int reader = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(reader >= 0);
  REQUIRE(::flock(reader, LOCK_SH) == 0);
  results.start_point("p0001", {"n", "cpu", "t"});  // held back: the reader holds the file

  SECTION("a reader that lets go within the patience: the close updates the file in place") {
    std::thread let_go([reader] {
      ::usleep(150'000);
      ::close(reader);
    });
    results.close();
    let_go.join();
    CHECK(inode_of(path) == before);
  }
  SECTION("a reader that stays past the patience: the close replaces the file whole") {
    const auto begin = std::chrono::steady_clock::now();
    results.close();
    CHECK(std::chrono::steady_clock::now() - begin >= std::chrono::milliseconds(1900));
    CHECK(inode_of(path) != before);
    ::close(reader);
  }
  RawFile fresh(path);
  CHECK(raw_point_status(fresh.id, "p0001") == "running");
  CHECK(raw_point_status(fresh.id, "p0000") == "done");
}

TEST_CASE("a reader holding the .h5 open: updates wait for it, then a new file replaces it", "[hdf5][results]") {
  ScratchDir dir;
  const std::string path = dir.file("results.h5");
  ResultsFile::Options options = quiet_options(nullptr, /*interval=*/0);
  options.reader_patience_seconds = 0.3;
  ResultsFile results(path, test_sweep(), options);
  const auto points = test_points(2);
  results.plan(points);
  run_point(results, points[0], 0, 1);
  const auto updated_in_place = inode_of(path);
  {
    RawFile reader(path);  // holds HDF5's lock on the file while open
    CHECK(raw_point_status(reader.id, "p0001") == "pending");
    results.start_point("p0001", {"n", "cpu", "t"});  // the update waits for the reader
    CHECK(inode_of(path) == updated_in_place);
    ::usleep(350'000);
    results.record_epoch("p0001", test_epoch(1, 1));  // past the patience: a new file is renamed over it
    CHECK(inode_of(path) != updated_in_place);
    CHECK(raw_point_status(reader.id, "p0001") == "pending");  // the reader keeps the version it opened
  }
  RawFile fresh(path);
  CHECK(raw_point_status(fresh.id, "p0001") == "running");
  CHECK(raw_curves(fresh.id, "p0001").size() == 1);
  CHECK(raw_point_status(fresh.id, "p0000") == "done");
}
