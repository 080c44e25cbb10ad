"""check_early_stopping.py REFERENCE.h5 RESULTS.h5 [JOURNAL_SNAPSHOT ...] --same-outcome 0|1

The checks of early_stopping_kill9.sh, from the results file and its journal:
  - every decision (pause, promote, stop) in a snapshot taken after a kill is in the
    final journal, in the same order: nothing decided was decided again differently;
  - no record of a point follows its stop, and its pauses come at ever later epochs;
  - no point has more epochs than the `until` of its last attempt (or its budget);
  - every epoch recorded more than once (replayed from a checkpoint after a
    promotion or a kill) carries the epoch time of the attempt that trained it;
  - at least one promotion resumed from a checkpoint (replayed rows exist);
  - with --same-outcome 1 (successive halving: a pure function of the sweep),
    statuses, epochs trained and curves (times aside) equal the uninterrupted run's.
Prints one line, check=early_stopping ... ok=1, and exits 0 only when ok.
"""
import argparse
import json
import sys

import numpy as np

import ablate

DECISIONS = {"pause", "promote", "stop"}
TIMING = {"epoch_seconds", "images_per_second"}


def records(journal):
    out = []
    with open(journal, encoding="utf-8") as lines:
        for line in lines:
            try:
                out.append(json.loads(line.split(" ", 1)[1]))
            except (IndexError, ValueError):
                continue  # a line torn by a kill
    return out


def decisions(recs):
    return [json.dumps(r, sort_keys=True) for r in recs if r.get("t") in DECISIONS]


def points(path):
    with ablate.ResultsFile(path) as results:  # any format version
        table = results.index()
        return {pid: {"status": status, "epochs_trained": int(trained),
                      "curves": results.curves(pid).to_records(index=False)}
                for pid, status, trained in zip(table["id"], table["status"], table["epochs_trained"])}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("reference")
    parser.add_argument("results")
    parser.add_argument("snapshots", nargs="*")
    parser.add_argument("--same-outcome", type=int, default=0)
    args = parser.parse_args()
    problems = []
    final = records(args.results + ".journal")
    final_decisions = decisions(final)
    for snapshot in args.snapshots:
        before = decisions(records(snapshot))
        if final_decisions[: len(before)] != before:
            problems.append(f"{snapshot}: its decisions are not a prefix of the final journal's")

    stopped, last_pause, until, first_time = set(), {}, {}, {}
    replayed = 0
    for r in final:
        pid = r.get("id")
        if not pid:
            continue
        if pid in stopped:
            problems.append(f"point {pid}: a '{r['t']}' record after its stop")
        if r["t"] == "stop":
            stopped.add(pid)
        elif r["t"] == "pause":
            if r["epoch"] <= last_pause.get(pid, 0):
                problems.append(f"point {pid}: paused at epoch {r['epoch']} after a pause at {last_pause[pid]}")
            last_pause[pid] = r["epoch"]
        elif r["t"] == "start":
            until[pid] = r.get("until", 0)
        elif r["t"] == "epoch":
            epoch, seconds = r["m"][0], r["m"][8]
            if until.get(pid, 0) and epoch > until[pid]:
                problems.append(f"point {pid}: epoch {epoch} trained past its until {until[pid]}")
            key = (pid, epoch)
            if key in first_time:
                replayed += 1
                if first_time[key] != seconds:
                    problems.append(f"point {pid}: epoch {epoch} recorded again with another epoch time "
                                    f"({seconds} vs {first_time[key]}): it was trained again, not replayed")
            else:
                first_time[key] = seconds
    if replayed == 0:
        problems.append("no epoch was replayed: no promotion resumed from a checkpoint")

    got = points(args.results)
    for pid, p in got.items():
        if p["status"] not in ("done", "stopped"):
            problems.append(f"point {pid} ended {p['status']}")
    if args.same_outcome:
        ref = points(args.reference)
        if set(ref) != set(got):
            problems.append("the points differ from the reference run's")
        for pid in set(ref) & set(got):
            a, b = ref[pid], got[pid]
            if (a["status"], a["epochs_trained"]) != (b["status"], b["epochs_trained"]):
                problems.append(f"point {pid}: {b['status']} after {b['epochs_trained']} epochs, the "
                                f"uninterrupted run {a['status']} after {a['epochs_trained']}")
                continue
            for name in a["curves"].dtype.names:
                if name not in TIMING and not np.array_equal(a["curves"][name], b["curves"][name]):
                    problems.append(f"point {pid}: curve column {name} differs from the uninterrupted run")
    for problem in problems:
        print("early stopping kill -9:", problem, file=sys.stderr)
    print(f"check=early_stopping points={len(got)} stopped={sum(p['status'] == 'stopped' for p in got.values())} "
          f"replayed_epochs={replayed} snapshots={len(args.snapshots)} problems={len(problems)} "
          f"ok={int(not problems)}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
