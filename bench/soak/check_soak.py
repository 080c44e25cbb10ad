"""check_soak.py: the checks of bench/soak/soak.sh.

  check_soak.py snapshot RESULTS.h5 DONE_LIST   appends the IDs done in RESULTS.h5 (if readable) to DONE_LIST
  check_soak.py verify REFERENCE.h5 RESULTS.h5 DONE_LIST --kills N --rounds R
"""
import argparse
import json
import os
import subprocess
import sys

import h5py
import numpy as np

import ablate

TIMING = {"epoch_seconds", "images_per_second"}


def done_ids(path):
    with h5py.File(path, "r") as f:
        index = f["index"][:]
    ids = [i.decode() if isinstance(i, bytes) else i for i in index["id"]]
    status = [s.decode() if isinstance(s, bytes) else s for s in index["status"]]
    return {i for i, s in zip(ids, status) if s == "done"}


def snapshot(results, done_list):
    if not os.path.exists(results):
        return
    try:
        with h5py.File(results, "r") as f:
            if int(f.attrs.get("journal_bytes", 0)) == -1:
                raise OSError("marked mid-update")
        ids = done_ids(results)
    except OSError as error:
        # Killed in the middle of an update in place: the next open rebuilds it from the journal.
        print(f"soak: {results} left mid-update by the kill ({error}); the resume rebuilds it", file=sys.stderr)
        return
    with open(done_list, "a", encoding="utf-8") as out:
        out.writelines(f"{i}\n" for i in sorted(ids))


def done_records(journal):
    counts = {}
    with open(journal, encoding="utf-8") as lines:
        for line in lines:
            try:
                record = json.loads(line.split(" ", 1)[1])
            except (IndexError, ValueError):
                continue  # a line torn by a kill
            if record.get("t") == "done":
                counts[record["id"]] = counts.get(record["id"], 0) + 1
    return counts


def point_data(results, table, point_id):
    row = table[table["id"] == point_id].iloc[0]
    curves = results.curves(point_id).to_records(index=False)
    return row["status"], curves, results.confusion(point_id), row["final_test_acc"]


def verify(args):
    problems = []
    with ablate.ResultsFile(args.reference) as ref, ablate.ResultsFile(args.results) as got:  # any format
        ref_table, got_table = ref.index(), got.index()
        ref_ids, got_ids = set(ref_table["id"]), set(got_table["id"])
        if ref_ids != got_ids:
            problems.append(f"points differ: {len(ref_ids ^ got_ids)} IDs in one file only")
        got_status = dict(zip(got_table["id"], got_table["status"]))
        not_done = sorted(i for i in got_ids if got_status[i] != "done")
        if not_done:
            problems.append(f"{len(not_done)} points not done: {not_done[:5]}")
        differing = []
        for point_id in sorted(ref_ids & got_ids):
            if point_id in not_done:
                continue
            _, ref_curves, ref_confusion, ref_acc = point_data(ref, ref_table, point_id)
            _, got_curves, got_confusion, got_acc = point_data(got, got_table, point_id)
            same = len(ref_curves) == len(got_curves) and all(
                np.array_equal(ref_curves[c], got_curves[c]) for c in ref_curves.dtype.names if c not in TIMING)
            same = same and np.array_equal(ref_confusion, got_confusion) and ref_acc == got_acc
            if not same:
                differing.append(point_id)
        if differing:
            problems.append(f"{len(differing)} points differ from the uninterrupted run: {differing[:5]}")
        points = len(ref_ids)

    counts = done_records(args.results + ".journal")
    repeated = sorted(i for i, n in counts.items() if n != 1)
    if repeated:
        problems.append(f"{len(repeated)} points have more than one done record: {repeated[:5]}")
    ever_done = set()
    if os.path.exists(args.done_list):
        with open(args.done_list, encoding="utf-8") as lines:
            ever_done = {line.strip() for line in lines if line.strip()}
    lost = sorted(ever_done - done_ids(args.results))
    if lost:
        problems.append(f"{len(lost)} points were done before a kill and are not now: {lost[:5]}")
    dump = subprocess.run(["h5dump", "-H", args.results], capture_output=True, text=True)
    if dump.returncode != 0:
        problems.append(f"h5dump cannot read the file: {dump.stderr.strip()[:200]}")
    leftovers = os.path.exists(args.results + ".checkpoints")
    if leftovers:
        problems.append(f"checkpoints left behind: {os.listdir(args.results + '.checkpoints')}")

    for problem in problems:
        print(f"soak: {problem}", file=sys.stderr)
    ok = int(not problems)
    print(f"bench=soak kills={args.kills} rounds={args.rounds} points={points} done_before_kills={len(ever_done)} "
          f"points_lost={len(lost)} repeated_done={len(repeated)} differing={len(problems) and len(differing)} "
          f"h5dump_ok={int(dump.returncode == 0)} ok={ok}")
    sys.exit(0 if ok else 1)


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    snap = sub.add_parser("snapshot")
    snap.add_argument("results")
    snap.add_argument("done_list")
    ver = sub.add_parser("verify")
    ver.add_argument("reference")
    ver.add_argument("results")
    ver.add_argument("done_list")
    ver.add_argument("--kills", type=int, required=True)
    ver.add_argument("--rounds", type=int, required=True)
    args = parser.parse_args()
    if args.command == "snapshot":
        snapshot(args.results, args.done_list)
    else:
        verify(args)


if __name__ == "__main__":
    main()
