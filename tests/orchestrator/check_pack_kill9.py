"""check_pack_kill9.py REFERENCE.h5 RESULTS.h5 [--tolerance 0.02]

The checks of pack_kill9.sh, from the results file and its journal:
  - every point of the reference is done in RESULTS, with one done record each;
  - every epoch recorded more than once (replayed from a member's checkpoint
    after a kill) carries the epoch time of the attempt that trained it (and
    every other number of that row), and at least one was replayed;
  - every epoch says how many members trained together in it (pack_members,
    1 to 4), and some epochs were shared;
  - every point's curve has the reference's epochs, and its accuracies are
    within --tolerance of the reference's (an unpacked, uninterrupted run: the
    packed model follows each member's own curve, to rounding).
Prints one line, check=pack_kill9 ... ok=1, and exits 0 only when ok.
"""
import argparse
import json
import sys

import numpy as np

import ablate

ACCURACIES = ("train_acc", "val_acc", "test_acc")


def records(journal):
    out = []
    with open(journal, encoding="utf-8") as lines:
        for line in lines:
            try:
                out.append(json.loads(line.split(" ", 1)[1]))
            except (IndexError, ValueError):
                continue  # a line torn by a kill
    return out


def points(path):
    with ablate.ResultsFile(path) as results:
        table = results.index()
        return {pid: {"status": status, "curves": results.curves(pid).to_records(index=False)}
                for pid, status in zip(table["id"], table["status"])}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("reference")
    parser.add_argument("results")
    parser.add_argument("--tolerance", type=float, default=0.02)
    args = parser.parse_args()
    problems = []

    done, first_row = {}, {}
    replayed, shared = 0, 0
    for r in records(args.results + ".journal"):
        pid = r.get("id")
        if r.get("t") == "done":
            done[pid] = done.get(pid, 0) + 1
        elif r.get("t") == "epoch":
            key, row = (pid, r["m"][0]), r["m"]
            members = row[12]
            if not 1 <= members <= 4:
                problems.append(f"point {pid}: epoch {key[1]} says {members} members trained together (--pack 4)")
            shared += members > 1
            if key in first_row:
                replayed += 1
                if first_row[key][8] != row[8]:
                    problems.append(f"point {pid}: epoch {key[1]} recorded again with another epoch time "
                                    f"({row[8]} vs {first_row[key][8]}): it was trained again, not replayed")
                elif first_row[key] != row:
                    problems.append(f"point {pid}: epoch {key[1]} replayed with other numbers: {row} vs "
                                    f"{first_row[key]}")
            else:
                first_row[key] = row
    if replayed == 0:
        problems.append("no epoch was replayed: no member resumed from its checkpoint")
    if shared == 0:
        problems.append("no epoch was shared by two or more members: nothing trained as a pack")

    ref, got = points(args.reference), points(args.results)
    if set(ref) != set(got):
        problems.append(f"the points differ from the reference run's ({len(got)} vs {len(ref)})")
    for pid in sorted(set(ref) & set(got)):
        a, b = ref[pid], got[pid]
        if b["status"] != "done":
            problems.append(f"point {pid} ended {b['status']}")
            continue
        if done.get(pid, 0) != 1:
            problems.append(f"point {pid} has {done.get(pid, 0)} done records")
        if list(a["curves"]["epoch"]) != list(b["curves"]["epoch"]):
            problems.append(f"point {pid}: epochs {list(b['curves']['epoch'])}, the reference "
                            f"{list(a['curves']['epoch'])}")
            continue
        for name in ACCURACIES:
            gap = float(np.max(np.abs(a["curves"][name] - b["curves"][name])))
            if not gap <= args.tolerance:
                problems.append(f"point {pid}: {name} differs from the unpacked run by {gap:.4f}")
    for problem in problems:
        print("packing kill -9:", problem, file=sys.stderr)
    print(f"check=pack_kill9 points={len(got)} done={sum(p['status'] == 'done' for p in got.values())} "
          f"replayed_epochs={replayed} shared_epochs={shared} problems={len(problems)} ok={int(not problems)}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
