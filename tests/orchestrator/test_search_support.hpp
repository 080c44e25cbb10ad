// Shared by the search tests (in-process and under mpirun): a TPE sweep over
// AdamW's lr, weight decay and dropout whose fake accuracy is a known function
// of them, and the invariants a search's journal must keep.
#pragma once

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sweeps/sweep.hpp"

namespace ablate::test {

// val_acc in (0.1, 0.95): best at lr 10^-2.5, weight decay 10^-3, dropout 0.2,
// rising with the epoch; the seed moves it a little.
inline double search_val_acc(const nlohmann::json& config, int epoch) {
  const double lr = std::log10(config.at("lr").get<double>()) + 2.5;
  const double wd = std::log10(config.at("weight_decay").get<double>()) + 3.0;
  const double dropout = config.at("dropout").get<double>() - 0.2;
  const double quality = 0.55 * std::exp(-lr * lr) + 0.15 * std::exp(-wd * wd / 4) + 0.1 * (1 - std::fabs(dropout));
  return 0.1 + quality * (1 - std::exp(-epoch / 2.0)) + 0.001 * config.at("seed").get<int>();
}

// A TPE (or random) search of `trials` trials over two seeds; `early_stopping`
// is appended as written ("" for none).
inline std::string search_sweep_text(int trials, const std::string& method = "tpe", int epochs = 3,
                                     const std::string& early_stopping = "") {
  return "name = \"search\"\nseeds = [0, 1]\n[base]\nmodel = \"mlp\"\nhidden = [32]\noptimizer = \"adamw\"\n"
         "epochs = " + std::to_string(epochs) + "\n[search]\nmethod = \"" + method + "\"\ntrials = " +
         std::to_string(trials) +
         "\nstartup_trials = 4\nseed = 7\n[random]\n"
         "lr = { dist = \"log_uniform\", low = 1e-4, high = 1e-1 }\n"
         "weight_decay = { dist = \"log_uniform\", low = 1e-5, high = 1e-1 }\n"
         "dropout = { dist = \"uniform\", low = 0.0, high = 0.5 }\n" + early_stopping;
}

// The search records of a journal ("r" of each), in order.
inline std::vector<nlohmann::json> search_records(const std::vector<nlohmann::json>& journal) {
  std::vector<nlohmann::json> records;
  for (const auto& record : journal)
    if (record.value("t", "") == "search") records.push_back(record.at("r"));
  return records;
}

// What broke the rules of a finished search in `journal` (empty: none): trials
// suggested in order 0..trials-1, once each, within the bounds, no configuration
// twice, each trial planned after its suggestion with one point per seed, each
// observed once at a moment when every seed had a result (its latest done,
// pause or stop record, not followed by a start), with the mean of their best_val_acc.
inline std::vector<std::string> audit_search(const std::vector<nlohmann::json>& journal, int trials, int seeds) {
  std::vector<std::string> problems;
  std::map<int, std::vector<std::string>> trial_points;  // trial -> planned IDs
  std::map<std::string, double> latest_best;             // point -> best_val_acc of its latest result, if settled
  std::set<std::string> values_seen;
  int suggested = 0;
  std::set<int> observed;
  for (const auto& record : journal) {
    const std::string type = record.value("t", "");
    if (type == "plan" && record.contains("trial")) {
      const int trial = record.at("trial").get<int>();
      if (trial >= suggested) problems.push_back("trial " + std::to_string(trial) + " planned before its suggestion");
      trial_points[trial].push_back(record.at("id").get<std::string>());
    } else if (type == "start") {
      latest_best.erase(record.at("id").get<std::string>());  // training again: no result until it ends
    } else if ((type == "done" || type == "pause" || type == "stop") && record.contains("best_val_acc")) {
      latest_best[record.at("id").get<std::string>()] = record.at("best_val_acc").get<double>();
    } else if (type == "search") {
      const nlohmann::json& r = record.at("r");
      const int trial = r.at("trial").get<int>();
      if (r.at("search") == "suggested") {
        if (trial != suggested) problems.push_back("trial " + std::to_string(trial) + " suggested out of order");
        ++suggested;
        const nlohmann::json& v = r.at("values");
        const double lr = v.at("lr").get<double>(), wd = v.at("weight_decay").get<double>(),
                     dropout = v.at("dropout").get<double>();
        if (!(lr >= 1e-4 && lr <= 1e-1 && wd >= 1e-5 && wd <= 1e-1 && dropout >= 0 && dropout <= 0.5))
          problems.push_back("trial " + std::to_string(trial) + " out of bounds: " + v.dump());
        if (!values_seen.insert(v.dump()).second)
          problems.push_back("trial " + std::to_string(trial) + " repeats " + v.dump());
      } else {
        if (!observed.insert(trial).second) problems.push_back("trial " + std::to_string(trial) + " observed twice");
        const auto& ids = trial_points[trial];
        double sum = 0;
        for (const auto& id : ids) {
          if (!latest_best.count(id)) problems.push_back("trial " + std::to_string(trial) + " observed before " + id);
          else sum += latest_best.at(id);
        }
        const double expected = ids.empty() ? 0 : sum / static_cast<double>(ids.size());
        if (r.at("objective").is_null() || std::fabs(r.at("objective").get<double>() - expected) > 1e-12)
          problems.push_back("trial " + std::to_string(trial) + " objective " + r.at("objective").dump() +
                             ", its seeds' mean " + std::to_string(expected));
      }
    }
  }
  if (suggested != trials) problems.push_back(std::to_string(suggested) + " trials suggested");
  if (static_cast<int>(observed.size()) != trials) problems.push_back(std::to_string(observed.size()) + " observed");
  for (const auto& [trial, ids] : trial_points)
    if (static_cast<int>(ids.size()) != seeds)
      problems.push_back("trial " + std::to_string(trial) + " has " + std::to_string(ids.size()) + " points");
  return problems;
}

}  // namespace ablate::test
