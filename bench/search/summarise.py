"""Summarises bench/search/run.sh: per run, the trial chosen on validation, its test accuracy,
and how many trials the running best took to get within 0.2 points of the best validation
accuracy any run found (a common target; "never" when it did not get there)."""
import os
import statistics
import sys

import h5py


def trials_of(path):
    """(trial, best_val_acc, test_acc_at_best_val) of the done points, in trial order."""
    with h5py.File(path, "r") as f:
        index = f["index"][()]
    return sorted((int(t), float(v), float(a)) for t, v, a, s in
                  zip(index["trial"], index["best_val_acc"], index["test_acc_at_best_val"], index["status"])
                  if (s.decode() if isinstance(s, bytes) else s) == "done")


def run_summary(rows, target):
    _, val, test = max(rows, key=lambda r: r[1])
    best_so_far, within = -1.0, None
    for t, v, _ in rows:
        best_so_far = max(best_so_far, v)
        if within is None and best_so_far >= target - 0.002:
            within = t + 1  # trials are numbered from 0
    return {"trials": len(rows), "best_val": val, "test": test, "within": within}


def main():
    runs = {path: trials_of(path) for path in sys.argv[1:]}
    target = max(v for rows in runs.values() for _, v, _ in rows)
    print(f"bench=search target_best_val={target:.4f} (the best any run found; within 0.2 points: >= {target - 0.002:.4f})")
    by_method = {}
    for path, rows in runs.items():
        method, seed = os.path.basename(path)[:-3].split("-")
        s = run_summary(rows, target)
        by_method.setdefault(method, []).append(s)
        print(f"bench=search method={method} search_seed={seed} trials={s['trials']} best_val={s['best_val']:.4f} "
              f"test_at_best={s['test']:.4f} trials_to_within_0.2={s['within'] or 'never'}")
    for method, runs in sorted(by_method.items()):
        print(f"bench=search method={method} runs={len(runs)} "
              f"mean_best_val={statistics.mean(r['best_val'] for r in runs):.4f} "
              f"mean_test_at_best={statistics.mean(r['test'] for r in runs):.4f} "
              f"reached_within_0.2={sum(r['within'] is not None for r in runs)}/{len(runs)}")


if __name__ == "__main__":
    main()
