"""Checks a TPE sweep that was killed (kill -9) and resumed: the journal of every
round is a prefix of the final one as far as the search goes (what was suggested
or observed before a kill stands), trials 0..T-1 are suggested once each with no
configuration twice, each is observed once after its seeds, every point is done
exactly once, and the trial count ends at T.
Usage: check_search.py RESULTS.journal TRIALS SEEDS [JOURNAL.roundN ...]"""

import json
import sys


def records(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split(" ", 1)
            if len(parts) == 2:
                try:
                    out.append(json.loads(parts[1]))
                except json.JSONDecodeError:
                    pass  # a torn last line of a killed round
    return out


def main():
    final, trials, seeds = records(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    problems = []
    search = [r["r"] for r in final if r.get("t") == "search"]
    for path in sys.argv[4:]:
        earlier = [r["r"] for r in records(path) if r.get("t") == "search"]
        if search[:len(earlier)] != earlier:
            problems.append(f"{path}: its search records are not a prefix of the final journal's")
    suggested = [r for r in search if r["search"] == "suggested"]
    observed = [r for r in search if r["search"] == "observed"]
    if [r["trial"] for r in suggested] != list(range(trials)):
        problems.append(f"suggested trials {[r['trial'] for r in suggested]}, expected 0..{trials - 1} once each")
    values = [json.dumps(r["values"], sort_keys=True) for r in suggested]
    if len(set(values)) != len(values):
        problems.append("a configuration was suggested twice")
    if sorted(r["trial"] for r in observed) != list(range(trials)):
        problems.append(f"observed trials {sorted(r['trial'] for r in observed)}: each must be observed once")
    plans = {}
    for r in final:
        if r.get("t") == "plan" and "trial" in r:
            plans.setdefault(r["trial"], []).append(r["id"])
    done = {}
    for r in final:
        if r.get("t") == "done":
            done[r["id"]] = done.get(r["id"], 0) + 1
    for trial in range(trials):
        ids = plans.get(trial, [])
        if len(ids) != seeds:
            problems.append(f"trial {trial} has {len(ids)} points, expected {seeds}")
        for point in ids:
            if done.get(point) != 1:
                problems.append(f"point {point} of trial {trial} has {done.get(point, 0)} done records")
    kills = len(sys.argv) - 4
    print(f"check_search: {trials} trials x {seeds} seeds, {len(search)} search records, {kills} killed rounds: "
          + ("ok" if not problems else f"{len(problems)} problems"))
    for p in problems:
        print("  " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
