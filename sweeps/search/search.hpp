// Search: suggests configurations and observes their outcomes. Grid, cases and
// [random] sweeps are static searches (their suggestions are the planned list);
// a [search] sweep suggests random draws or TPE's picks (sweeps/search/tpe.cpp).
//
// How the scheduler uses it (rank 0, one Search per sweep):
//   auto search = make_search(sweep);
//   for (const SearchRecord& r : journaled_search_records) search->replay(r);  // resume
//   // whenever a worker is free and no planned point is left:
//   if (auto s = search->suggest()) {
//     journal(to_json(search->history().back()));  // before planning the points
//     plan(search->points_for(*s));                 // one point per seed, carrying trial and suggested_by
//   }
//   // when the last seed of trial t has its final result (or its last rung under early stopping):
//   search->observe(t, mean best validation accuracy over its seeds);  // std::nullopt: failed
//   journal(to_json(search->history().back()));
// On resume, after replaying: a suggested trial whose points are missing from the
// ledger (killed between the two writes) is planned again with
// points_for(Suggestion{r.trial, r.suggested_by, r.values}); a trial whose seeds
// all finished but has no observation is observed now, in trial order (that
// order is then journaled like any other).
// A trial that is suggested but not observed is pending: TPE counts it as a bad
// outcome (a "constant liar"), so N idle workers asking at once get N different
// configurations. Suggestions are a pure function of the seed and the history
// (the order of suggestions and observations): replaying the journal restores the
// search exactly, and a resumed sweep suggests what an uninterrupted one would
// after the same history. Higher objectives are better.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <vector>

#include "sweeps/sweep.hpp"

namespace ablate::sweeps {

// A history that does not fit this search (a trial observed twice, a journal from
// another spec); the message names the trial and what is wrong.
class SearchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One configuration to run: the values of the searched keys (for a static search,
// the keys the sweep varies), numbered from 0 in the order suggested.
struct Suggestion {
  int trial = 0;
  std::string suggested_by;  // "plan" (a static search), "random", "tpe"
  nlohmann::json values;     // key -> value
};

// The journal form of the history: plain numbers and strings. `to_json` gives
//   {"search":"suggested","trial":3,"suggested_by":"tpe","values":{"lr":0.0012,...}}
//   {"search":"observed","trial":3,"objective":0.8731}   (objective null: failed)
struct SearchRecord {
  enum class Kind { kSuggested, kObserved };
  Kind kind = Kind::kSuggested;
  int trial = 0;
  std::string suggested_by;         // kSuggested
  nlohmann::json values;            // kSuggested
  std::optional<double> objective;  // kObserved; empty: the trial failed
};

nlohmann::json to_json(const SearchRecord& record);
// Throws SearchError naming the field when `json` is not a record to_json wrote.
SearchRecord search_record_from_json(const nlohmann::json& json);

class Search {
 public:
  explicit Search(int trials) : trials_(trials) {}
  virtual ~Search() = default;

  // The next configuration, or nullopt once all trials are suggested. Never a
  // repeat of an earlier trial; values that make an invalid config together are
  // proposed again (SpecError only if that keeps happening).
  std::optional<Suggestion> suggest();
  // The outcome of a suggested trial: higher is better; nullopt (or NaN) for a
  // failed trial, which the model ranks below every outcome. Throws SearchError
  // for a trial not suggested or already observed.
  void observe(int trial, std::optional<double> objective);
  // Applies one journaled record, in journal order, without re-deciding: the
  // suggestion's values are taken as recorded. Throws SearchError if it does not
  // fit (a suggestion out of order, a method other than this search's).
  void replay(const SearchRecord& record);

  // The points of a suggestion, one per seed of the sweep, canonical like every
  // other point, carrying `trial` and `suggested_by` (a static search's are the
  // planned points, unchanged). Throws SpecError if the merged config is invalid.
  virtual std::vector<SweepPoint> points_for(const Suggestion& suggestion) const = 0;

  const std::vector<SearchRecord>& history() const { return history_; }
  int trials() const { return trials_; }
  int suggested() const { return static_cast<int>(trials_seen_.size()); }
  int observed() const { return observed_; }
  bool done() const { return observed_ == trials_; }  // every trial suggested and observed

 protected:
  // What the history says about one trial, as the variants read it.
  struct Trial {
    nlohmann::json values;
    bool observed = false;
    std::optional<double> objective;  // observed and not failed
  };
  const std::vector<Trial>& trials_so_far() const { return trials_seen_; }
  const std::unordered_set<std::string>& values_seen() const { return values_seen_; }  // every trial's values.dump()

  virtual std::string method() const = 0;
  // The values for `trial`, a pure function of trials_so_far(). `attempt` > 0
  // asks again, differently, because attempt - 1 repeated an earlier trial.
  virtual nlohmann::json propose(int trial, int attempt) const = 0;
  // Called when kMaxAttempts proposals were all repeats or invalid: a configuration
  // whose values.dump() is not `taken`, in a nearly exhausted small discrete
  // space; one that is taken means none is left. The default throws SearchError.
  virtual nlohmann::json unused_configuration(const std::function<bool(const std::string&)>& taken) const;

 private:
  static constexpr int kMaxAttempts = 64;
  void check_observable(int trial) const;

  int trials_;
  int observed_ = 0;
  std::vector<Trial> trials_seen_;               // index = trial
  std::unordered_set<std::string> values_seen_;  // values.dump() of every trial, to refuse repeats
  std::vector<SearchRecord> history_;
};

// The search a sweep asks for: [search] method, else the static search over its
// planned points.
std::unique_ptr<Search> make_search(const Sweep& sweep);

// What Search::points_for does for a [search] sweep: plan.fixed, then the
// suggestion's values, canonicalised, one point per seed.
std::vector<SweepPoint> search_points(const SearchPlan& plan, const std::vector<int>& seeds,
                                      const Suggestion& suggestion);

}  // namespace ablate::sweeps
