// Shared by the early-stopping tests (in-process and under mpirun): the fixture
// sweep, its prescribed curves and what successive halving must make of them.
#pragma once

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sweeps/sweep.hpp"

namespace ablate::test {

// A curve whose ranking changes from epoch to epoch, so a rung's top is not
// simply the final top: val_acc(lr, e) in (0.3, 0.9), rising with e.
inline double wiggly_val_acc(const nlohmann::json& config, int epoch) {
  const double lr = config.at("lr").get<double>();
  const double noise = std::sin(lr * 997.0 + epoch * 1.3) * 0.5 + 0.5;  // in [0, 1]
  return 0.3 + 0.3 * (1 - std::exp(-epoch / 3.0)) + 0.3 * noise;
}

// `points` configurations (lr 0.01, 0.02, ...), one seed, `epochs` epochs, min_epochs 1.
inline std::string es_sweep_text(const std::string& method, int points = 27, int epochs = 9, int eta = 3) {
  std::string lrs;
  for (int i = 1; i <= points; ++i) lrs += (i > 1 ? ", " : "") + std::to_string(i / 100.0);
  return "name = \"es\"\nseeds = [0]\n[base]\nepochs = " + std::to_string(epochs) +
         "\nhidden = [64]\n[grid]\nlr = [" + lrs + "]\n[early_stopping]\nmethod = \"" + method +
         "\"\nmin_epochs = 1\nreduction_factor = " + std::to_string(eta) + "\n";
}

// What synchronous successive halving must do, from the full curves alone:
// the epoch each point ends at (its rung, or the budget for the survivors).
inline std::map<std::string, int> brute_force_halving(const std::vector<sweeps::SweepPoint>& bracket,
                                                      const std::vector<int>& rungs, int eta) {
  std::map<std::string, int> ends;
  std::vector<const sweeps::SweepPoint*> alive;
  for (const auto& p : bracket) alive.push_back(&p);
  for (size_t r = 0; r + 1 < rungs.size(); ++r) {
    std::stable_sort(alive.begin(), alive.end(), [&](const auto* a, const auto* b) {
      return wiggly_val_acc(a->config, rungs[r]) > wiggly_val_acc(b->config, rungs[r]);
    });
    const size_t keep = std::max<size_t>(1, alive.size() / static_cast<size_t>(eta));
    for (size_t i = keep; i < alive.size(); ++i) ends[alive[i]->id] = rungs[r];
    alive.resize(keep);
  }
  for (const auto* p : alive) ends[p->id] = rungs.back();
  return ends;
}

// Replays an ASHA sweep's journal records and returns what broke its rules
// (empty: none): a promotion "top" of a point outside the top floor(n/eta) of
// the n points at its rung by then, or a new point started while a paused point
// could have been promoted that way. Counts the promotions of each kind.
struct AshaAudit {
  std::vector<std::string> problems;
  int top_promotions = 0, idle_promotions = 0;
};

inline AshaAudit audit_asha(const std::vector<nlohmann::json>& journal, int eta) {
  AshaAudit audit;
  std::map<std::string, std::map<int, double>> marks;  // id -> rung -> value
  std::map<std::string, std::string> status;
  auto top_of = [&](int rung) {
    std::vector<std::pair<double, std::string>> reached;
    for (const auto& [id, m] : marks)
      if (m.count(rung)) reached.push_back({m.at(rung), id});
    std::stable_sort(reached.begin(), reached.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    std::vector<std::string> top;
    for (size_t i = 0; i < reached.size() / static_cast<size_t>(eta); ++i) top.push_back(reached[i].second);
    return top;
  };
  auto in_top = [&](const std::string& id, int rung) {
    const auto top = top_of(rung);
    return std::find(top.begin(), top.end(), id) != top.end();
  };
  for (const auto& record : journal) {
    const std::string type = record.value("t", "");
    const std::string id = record.value("id", "");
    if (type == "start") {
      if (!marks.count(id) && status[id] != "promoted")
        for (const auto& [other, m] : marks)
          if (status[other] == "paused" && in_top(other, m.rbegin()->first))
            audit.problems.push_back("new point " + id + " started while " + other + " was promotable");
      status[id] = "running";
    } else if (type == "pause") {
      marks[id][record.at("epoch").get<int>()] = record.at("value").get<double>();
      status[id] = "paused";
    } else if (type == "promote") {
      const int rung = marks.at(id).rbegin()->first;
      if (record.at("reason") == "top") {
        ++audit.top_promotions;
        if (!in_top(id, rung))
          audit.problems.push_back("promoted " + id + " from rung " + std::to_string(rung) + " outside its top");
      } else {
        ++audit.idle_promotions;
      }
      status[id] = "promoted";
    } else if (type == "stop" || type == "done") {
      status[id] = type;
    }
  }
  return audit;
}

}  // namespace ablate::test
