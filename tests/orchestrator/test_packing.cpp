// Tests of packed scheduling (--pack): packs hold equal pack keys and at most K
// points, every point is trained and recorded once exactly as without packs, a
// failing member fails alone, a stop in the middle of packs loses nothing, the
// early-stopping policies decide as they do without packs; --pack auto's rule,
// `ablate plan --pack` and the pack messages.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <set>
#include <sstream>

#include "core/config.hpp"
#include "core/result_codec.hpp"
#include "early_stopping_support.hpp"
#include "in_process_sweep.hpp"
#include "orchestrator/exit_codes.hpp"
#include "orchestrator/messages.hpp"
#include "orchestrator/pack_size.hpp"
#include "orchestrator/plan_command.hpp"
#include "orchestrator/run_command.hpp"
#include "orchestrator_test_support.hpp"
#include "test_search_support.hpp"

using namespace ablate;

namespace {

// 24 points in 3 shapes (hidden [64], [128], [256]) of 8: lr 0.1, 0.2, 0.5, 0.7 x seeds 0, 1.
std::string shapes_sweep_text() {
  return "name = \"shapes\"\nseeds = [0, 1]\n\n[base]\nmodel = \"mlp\"\nepochs = 3\n\n[grid]\nhidden = [[64], [256], "
         "[128]]\nlr = [0.1, 0.2, 0.5, 0.7]\n";
}

std::map<std::string, std::string> pack_keys(const sweeps::Sweep& sweep) {
  std::map<std::string, std::string> keys;
  for (const auto& p : sweep.points) keys[p.id] = pack_key(p.config);
  return keys;
}

// Every pack holds at most `k` distinct points, all of one pack key; with
// `once` (no early stopping: nothing is promoted), no point is in two packs.
void check_packs(const std::vector<std::vector<std::string>>& packs, const sweeps::Sweep& sweep, size_t k,
                 bool once = true) {
  const auto keys = pack_keys(sweep);
  std::set<std::string> seen;
  for (const auto& pack : packs) {
    INFO("a pack of " << pack.size() << " led by " << pack.front());
    CHECK(!pack.empty());
    CHECK(pack.size() <= k);
    CHECK(std::set<std::string>(pack.begin(), pack.end()).size() == pack.size());
    for (const auto& id : pack) {
      CHECK(keys.at(id) == keys.at(pack.front()));
      if (once) CHECK(seen.insert(id).second);
    }
  }
}

// The result as the ledger holds it, for comparing runs (FakeWork is deterministic).
std::map<std::string, std::string> results_by_id(const std::vector<LedgerPoint>& points) {
  std::map<std::string, std::string> out;
  for (const auto& p : points)
    out[p.planned.id] = fmt::format("{} {}", to_string(p.status),
                                    p.result ? result_to_json(*p.result, /*with_curves=*/true).dump() : "none");
  return out;
}

}  // namespace

TEST_CASE("packs hold at most K points of one pack key - every point trains once - results equal unpacked ones",
          "[orchestrator][pack]") {
  test::Scratch dir;
  const sweeps::Sweep sweep = sweeps::parse_sweep(shapes_sweep_text(), "shapes.toml");
  REQUIRE(sweep.points.size() == 24);
  test::InProcessSweep alone(dir, sweep, "alone.h5");
  REQUIRE(alone.run(2, {}).stop == StopReason::none);
  for (const auto& pack : alone.packs) CHECK(pack.size() == 1);

  for (int k : {3, 4, 8}) {
    DYNAMIC_SECTION("--pack " << k) {
      test::InProcessSweep packed(dir, sweep, "packed" + std::to_string(k) + ".h5");
      packed.pack = k;
      const ScheduleOutcome outcome = packed.run(2, {});
      CHECK(outcome.stop == StopReason::none);
      CHECK(outcome.done == 24);
      CHECK(outcome.largest_pack == k);
      // 8 points per shape: packs of k until the shape runs out.
      CHECK(outcome.packs == 3 * ((8 + k - 1) / k));
      check_packs(packed.packs, sweep, static_cast<size_t>(k));
      size_t trained = 0;
      for (const auto& pack : packed.packs) trained += pack.size();
      CHECK(trained == 24);
      CHECK(results_by_id(packed.points) == results_by_id(alone.points));
      // Each point's records, as a lone point's: one start, 3 epochs, one done.
      for (const auto& [id, n] : test::journal_counts(packed.path + ".journal", "epoch")) CHECK(n == 3);
      for (const auto& [id, n] : test::journal_counts(packed.path + ".journal", "done")) CHECK(n == 1);
      CHECK(test::journal_counts(packed.path + ".journal", "done").size() == 24);
    }
  }
}

TEST_CASE("the first point of a pack is the policy's choice - the others the next ones of its shape",
          "[orchestrator][pack]") {
  test::Scratch dir;
  const sweeps::Sweep sweep = sweeps::parse_sweep(shapes_sweep_text(), "shapes.toml");
  test::InProcessSweep packed(dir, sweep, "order.h5");
  packed.pack = 4;
  REQUIRE(packed.run(1, {}).stop == StopReason::none);
  // One worker: packs in order, most expensive shape first ([256], then [128], then [64]), each in sweep order.
  ResultsFile reader(packed.path, SweepIdentity{sweep.name, sweep.source_path, sweep.spec_text},
                     ResultsFileOptions{true, 0, [](const std::string&) {}});
  std::vector<std::vector<std::string>> expected(6);
  std::vector<const sweeps::SweepPoint*> by_width[3];
  for (const auto& p : sweep.points) {
    const int width = p.config.at("hidden").at(0).get<int>();
    by_width[width == 256 ? 0 : width == 128 ? 1 : 2].push_back(&p);
  }
  for (int shape = 0; shape < 3; ++shape)
    for (size_t i = 0; i < 8; ++i) expected[static_cast<size_t>(shape * 2) + i / 4].push_back(by_width[shape][i]->id);
  CHECK(packed.packs == expected);
}

TEST_CASE("a member that fails or diverges fails alone - its pack's other points are done", "[orchestrator][pack]") {
  test::Scratch dir;
  const sweeps::Sweep sweep = sweeps::parse_sweep(shapes_sweep_text(), "shapes.toml");
  test::InProcessSweep packed(dir, sweep, "fail.h5");
  packed.pack = 8;
  FakeWork::Options options;
  options.rules.push_back({"lr", 0.5, FakeWork::Action::fail, 2, "out of memory (fake)", {}});
  options.rules.push_back({"lr", 0.7, FakeWork::Action::diverge, 1, "", {}});
  const ScheduleOutcome outcome = packed.run(2, options);
  CHECK(outcome.stop == StopReason::none);
  CHECK(outcome.failed == 12);
  CHECK(outcome.done == 12);
  CHECK(outcome.largest_pack == 8);
  for (const auto& p : packed.points) {
    const double lr = nlohmann::json::parse(p.planned.config_text).at("lr").get<double>();
    INFO("point lr=" << lr);
    if (lr == 0.5) {
      CHECK(p.status == PointStatus::failed);
      CHECK(p.error == "out of memory (fake)");
      CHECK(p.curves.size() == 1);
    } else if (lr == 0.7) {
      CHECK(p.status == PointStatus::failed);
      CHECK_THAT(p.error, Catch::Contains("diverged at epoch 1"));
    } else {
      CHECK(p.status == PointStatus::done);
      CHECK(p.curves.size() == 3);
    }
  }
  // The failures shared packs with points that finished.
  for (const auto& pack : packed.packs) CHECK(pack.size() == 8);
}

TEST_CASE("a sweep stopped in the middle of packs resumes every member from its checkpoint - nothing is lost",
          "[orchestrator][pack]") {
  test::Scratch dir;
  const sweeps::Sweep sweep = sweeps::parse_sweep(shapes_sweep_text(), "shapes.toml");
  test::InProcessSweep alone(dir, sweep, "alone.h5");
  REQUIRE(alone.run(1, {}).stop == StopReason::none);

  test::InProcessSweep packed(dir, sweep, "stopped.h5");
  packed.pack = 4;
  FakeWork::Options options;
  // Epochs slow enough that the stop (a few events in) finds each worker mid-pack.
  options.epoch_time = std::chrono::milliseconds(20);
  options.checkpoint_results_path = packed.path;
  int interrupted = 0;
  for (int stop_at : {4, 6}) {
    int polls = 0;
    const ScheduleOutcome outcome = packed.run(2, options, [&] { return ++polls >= stop_at ? 15 : 0; });
    REQUIRE(outcome.stop == StopReason::signal);
    interrupted += outcome.interrupted;
    CHECK(outcome.interrupted > 0);
  }
  CHECK(interrupted > 0);
  const ScheduleOutcome last = packed.run(2, options);
  CHECK(last.stop == StopReason::none);
  CHECK(last.done + last.failed < 24);  // some points were done before
  for (const auto& p : packed.points) {
    INFO("point " << p.planned.id);
    REQUIRE(p.status == PointStatus::done);
    REQUIRE(p.curves.size() == 3);
    for (size_t row = 0; row < 3; ++row) CHECK(p.curves[row].epoch == static_cast<int>(row) + 1);
  }
  // Epochs trained before a stop are replayed from the checkpoint, not trained
  // again: an epoch the journal holds twice carries the stamp of the attempt
  // that trained it.
  std::map<std::pair<std::string, int>, double> first_stamp;
  int replayed = 0;
  for (const auto& r : packed.journal()) {
    if (r.value("t", "") != "epoch") continue;
    const auto key = std::make_pair(r.at("id").get<std::string>(), r.at("m")[0].get<int>());
    const double stamp = r.at("m")[8].get<double>();
    if (auto [it, fresh] = first_stamp.emplace(key, stamp); !fresh) {
      ++replayed;
      CHECK(it->second == stamp);
    }
  }
  CHECK(replayed > 0);
  // The same results as an uninterrupted run, once the stamps are set aside.
  auto without_stamps = [](std::vector<LedgerPoint> points) {
    for (auto& p : points) {
      for (auto& row : p.curves) row.epoch_seconds = 0;
      if (p.result)
        for (auto& row : p.result->curves) row.epoch_seconds = 0;
    }
    return results_by_id(points);
  };
  CHECK(without_stamps(packed.points) == without_stamps(alone.points));
}

TEST_CASE("successive halving with packs makes exactly the decisions it makes without", "[orchestrator][pack]") {
  test::Scratch dir;
  const sweeps::Sweep sweep = sweeps::parse_sweep(test::es_sweep_text("successive_halving"), "es.toml");
  const auto expected = test::brute_force_halving(sweep.points, {1, 3, 9}, 3);
  for (int workers : {1, 2}) {
    DYNAMIC_SECTION(workers << " workers") {
      test::InProcessSweep packed(dir, sweep, "sh" + std::to_string(workers) + ".h5");
      packed.pack = 4;
      FakeWork::Options options;
      options.val_acc = test::wiggly_val_acc;
      options.epoch_time = std::chrono::milliseconds(1);
      REQUIRE(packed.run(workers, options).stop == StopReason::none);
      check_packs(packed.packs, sweep, 4, /*once=*/false);
      size_t largest = 0;
      for (const auto& pack : packed.packs) largest = std::max(largest, pack.size());
      CHECK(largest == 4);
      int epochs = 0;
      for (const auto& [id, end] : expected) {
        const LedgerPoint& p = packed.point(id);
        INFO("point " << id << " expected to end at epoch " << end);
        CHECK(p.status == (end == 9 ? PointStatus::done : PointStatus::stopped));
        CHECK(static_cast<int>(p.curves.size()) == end);
        epochs += static_cast<int>(p.curves.size());
      }
      CHECK(epochs == 27 + 18 + 18);
    }
  }
}

TEST_CASE("ASHA with packs keeps its promotion rule - a paused member leaves its pack, promotions join packs",
          "[orchestrator][pack]") {
  test::Scratch dir;
  const sweeps::Sweep sweep = sweeps::parse_sweep(test::es_sweep_text("asha"), "es.toml");
  test::InProcessSweep packed(dir, sweep, "asha.h5");
  packed.pack = 4;
  FakeWork::Options options;
  options.val_acc = test::wiggly_val_acc;
  options.epoch_time = std::chrono::milliseconds(1);
  REQUIRE(packed.run(3, options).stop == StopReason::none);
  const test::AshaAudit audit = test::audit_asha(packed.journal(), 3);
  for (const auto& problem : audit.problems) FAIL_CHECK(problem);
  // At least the synchronous share (9 from rung 1, 3 from rung 3); with packs some
  // may come as idle promotions, which the audit checks as well.
  CHECK(audit.top_promotions + audit.idle_promotions >= 9 + 3);
  check_packs(packed.packs, sweep, 4, /*once=*/false);
  // Promoted points trained in packs of more than one.
  std::map<std::string, int> times_packed;
  bool promotion_packed = false;
  for (const auto& pack : packed.packs)
    for (const auto& id : pack)
      if (++times_packed[id] > 1 && pack.size() > 1) promotion_packed = true;
  CHECK(promotion_packed);
  for (const auto& p : packed.points) CHECK((p.status == PointStatus::done || p.status == PointStatus::stopped));
}

TEST_CASE("the median rule with packs judges every member on its own", "[orchestrator][pack]") {
  test::Scratch dir;
  const sweeps::Sweep sweep = sweeps::parse_sweep(test::es_sweep_text("median", 12, 6), "median.toml");
  test::InProcessSweep packed(dir, sweep, "median.h5");
  packed.pack = 3;
  FakeWork::Options options;
  options.val_acc = test::wiggly_val_acc;
  REQUIRE(packed.run(2, options).stop == StopReason::none);
  check_packs(packed.packs, sweep, 3, /*once=*/false);
  int stops = 0;
  for (const auto& p : packed.points) {
    CHECK((p.status == PointStatus::done || p.status == PointStatus::stopped));
    if (p.status == PointStatus::stopped) ++stops;
  }
  CHECK(stops > 0);
}

TEST_CASE("a TPE search with packs suggests each trial once and observes it once - with and without ASHA",
          "[orchestrator][pack][search]") {
  test::Scratch dir;
  constexpr int kTrials = 12;
  for (const std::string early_stopping : {"", "[early_stopping]\nmethod = \"asha\"\nmin_epochs = 1\n"}) {
    DYNAMIC_SECTION((early_stopping.empty() ? "full budget" : "asha")) {
      const sweeps::Sweep sweep =
          sweeps::parse_sweep(test::search_sweep_text(kTrials, "tpe", 3, early_stopping), "search.toml");
      test::InProcessSweep packed(dir, sweep, early_stopping.empty() ? "tpe.h5" : "tpe_asha.h5");
      packed.pack = 4;
      FakeWork::Options options;
      options.val_acc = test::search_val_acc;
      options.checkpoint_results_path = packed.path;
      REQUIRE(packed.run(2, options).stop == StopReason::none);
      REQUIRE(packed.points.size() == kTrials * 2);
      for (const auto& p : packed.points) CHECK((p.status == PointStatus::done || p.status == PointStatus::stopped));
      const auto problems = test::audit_search(packed.journal(), kTrials, 2);
      for (const auto& problem : problems) FAIL_CHECK(problem);
      // Every search point has one shape: packs fill up to 4 (a trial's two seeds, and more).
      size_t largest = 0;
      for (const auto& pack : packed.packs) largest = std::max(largest, pack.size());
      CHECK(largest > 2);
      CHECK(largest <= 4);
    }
  }
}

TEST_CASE("the rule of --pack auto picks K from the device and the model size", "[orchestrator][pack]") {
  const auto config = [](const std::string& overrides) {
    nlohmann::json config = config_to_json(TrainConfig{});
    config.update(nlohmann::json::parse(overrides));
    return config;
  };
  // On the CPU: the linear model (7,840 MACs per image) 8, a 2x256 MLP (268k) 4, a 2x2048 MLP (5.8M) 1,
  // a CNN [32, 64] (4.2M, its grouped convolutions slower than lone ones) 1, a ResNet 1.
  CHECK(auto_pack_size(config(R"({"model":"linear","hidden":[]})"), "cpu") == 8);
  CHECK(auto_pack_size(config(R"({"model":"mlp","hidden":[256,256]})"), "cpu") == 4);
  CHECK(auto_pack_size(config(R"({"model":"mlp","hidden":[2048,2048]})"), "cpu") == 1);
  CHECK(auto_pack_size(config(R"({"model":"cnn","channels":[32,64],"fc_width":128})"), "cpu") == 1);
  CHECK(auto_pack_size(config(R"({"model":"cnn","channels":[8],"fc_width":16})"), "cpu") == 1);
  CHECK(auto_pack_size(config(R"({"model":"resnet","resnet_width":16,"resnet_blocks":[2,2,2]})"), "cpu") == 1);
  // On CUDA the memory rule: small models reach the cap of 32; a 2x4096 MLP at batch 128
  // (20,037,642 parameters x 16 bytes = 320.6 MB, plus 3 x 8,202 stored values x 128
  // images x 8 bytes = 25.2 MB) leaves room for 12 in 4 GiB (4,295 MB / 345.8 MB = 12.4).
  CHECK(auto_pack_size(config(R"({"model":"mlp","hidden":[256,256]})"), "cuda:0") == kMaxAutoPack);
  CHECK(auto_pack_size(config(R"({"model":"mlp","hidden":[4096,4096]})"), "cuda:1") == 12);
  CHECK(auto_pack_size(config(R"({"model":"resnet","resnet_width":64,"resnet_blocks":[2,2,2]})"), "cuda:0") < 32);
  CHECK(pack_size_for(5, config(R"({"model":"linear","hidden":[]})"), "cpu") == 5);

  CHECK(parse_pack_option("auto") == kPackAuto);
  CHECK(parse_pack_option("16") == 16);
  for (const char* bad : {"0", "-1", "x", "4x", "", "257"})
    CHECK_THROWS_WITH(parse_pack_option(bad), Catch::Contains("--pack") && Catch::Contains("auto"));
}

TEST_CASE("ablate run --pack: packs with FakeWork, auto's K in the start lines, refused with --ranks-per-point",
          "[orchestrator][pack]") {
  test::Scratch dir;
  const std::string spec = dir.write("shapes.toml", shapes_sweep_text());
  RunOptions options;
  options.spec_path = spec;
  options.results_path = dir.file("run.h5");
  options.progress = ProgressStyle::lines;
  options.flush_interval_seconds = 0;
  options.pack = kPackAuto;
  test::TestCommunicator local;
  FakeWork work;
  std::ostringstream out;
  RunSummary summary;
  CHECK(run_sweep(options, local, work, out, &summary) == kExitOk);
  INFO(out.str());
  // On the CPU rule ("fake" is no GPU): hidden [64] is 784 x 64 + 64 x 10 = 50,816 MACs per image,
  // at most 100k: 8 per pack; [128] (101,632) and [256] (203,264) are at most 1M: 4 per pack.
  CHECK_THAT(out.str(), Catch::Contains("packs: --pack auto (fake): 8 points per pack for 8 points, 4 points per pack "
                                        "for 16 points; 24 points to run in 3 shapes"));
  CHECK(summary.done == 24);
  CHECK(summary.largest_pack == 8);
  CHECK(summary.packs == 1 + 2 + 2);

  options.results_path = dir.file("fixed.h5");
  options.pack = 3;
  out.str("");
  CHECK(run_sweep(options, local, work, out, &summary) == kExitOk);
  CHECK_THAT(out.str(), Catch::Contains("packs: up to 3 points of one shape per worker (--pack 3); 24 points to run in "
                                        "3 shapes"));
  CHECK(summary.packs == 9);

  options.ranks_per_point = 2;
  CHECK_THROWS_WITH(validate_run_options(options),
                    Catch::Contains("--pack 3 with --ranks-per-point 2") && Catch::Contains("--ranks-per-point 1"));
  options.ranks_per_point = 1;
  options.pack = 0 - 5;
  CHECK_THROWS_WITH(validate_run_options(options), Catch::Contains("--pack -5"));
}

TEST_CASE("ablate plan --pack shows how the points fall into packs", "[orchestrator][pack]") {
  test::Scratch dir;
  const std::string spec = dir.write("shapes.toml", shapes_sweep_text());
  std::ostringstream out;
  CHECK(run_plan_command(spec, {}, out, 3) == kExitOk);
  INFO(out.str());
  CHECK_THAT(out.str(), Catch::Contains("packs (--pack 3): 24 points in 3 shapes (equal shape keys) -> 9 packs"));
  CHECK_THAT(out.str(), Catch::Contains("hidden=[256]") && Catch::Contains("8 points  -> 2 packs of 3 + 1 pack of 2"));
  std::ostringstream plain;
  CHECK(run_plan_command(spec, {}, plain) == kExitOk);
  CHECK(plain.str().find("packs (") == std::string::npos);
  std::ostringstream automatic;
  CHECK(run_plan_command(spec, {}, automatic, kPackAuto, "cuda") == kExitOk);
  CHECK_THAT(automatic.str(), Catch::Contains("packs (--pack auto, sized for cuda): 24 points in 3 shapes (equal shape "
                                              "keys) -> 3 packs"));
  CHECK_THROWS_AS(run_plan_command(spec, {}, out, 3, "tpu"), OptionError);
}

TEST_CASE("a pack and a point's verdict travel in one message each", "[orchestrator][pack]") {
  const std::vector<WorkItem> pack = {{"aaaa", R"({"lr":0.1})", 3, false},
                                      {"bbbb", "{\"text\":\"two\\nlines\"}", 0, true},
                                      {"cccc", "", 0, false}};
  const std::vector<WorkItem> back = decode_assignment(encode_assignment(pack));
  REQUIRE(back.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(back[i].id == pack[i].id);
    CHECK(back[i].config_text == pack[i].config_text);
    CHECK(back[i].until == pack[i].until);
    CHECK(back[i].verdict_each_epoch == pack[i].verdict_each_epoch);
  }
  const auto [id, verdict] = decode_point_verdict(encode_point_verdict("bbbb", EpochVerdict::pause));
  CHECK(id == "bbbb");
  CHECK(verdict == EpochVerdict::pause);
  CHECK_THROWS_WITH(decode_assignment("aaaa 0 0 99\n{}"), Catch::Contains("99 bytes of config"));
  CHECK_THROWS_AS(decode_point_verdict("bbbb"), MessageError);
}
