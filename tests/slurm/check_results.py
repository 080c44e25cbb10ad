"""check_results.py: does an ablate results file hold every point of a sweep, each done exactly once?

Usage: check_results.py RESULTS.h5 EXPECTED_POINTS
Reads the HDF5 /index (docs/results-format.md) and the journal next to it: every row of /index
is "done", IDs are unique, there are EXPECTED_POINTS of them, and the journal holds exactly one
"done" record per point (a point trained twice would have two). Prints what it found; exit 1 if
anything is off.
"""
import collections
import json
import sys

import h5py


def main(results_path, expected_points):
    problems = []
    with h5py.File(results_path, "r") as results:
        if results.attrs.get("format") != "ablate-results":
            problems.append(f"{results_path} is not an ablate results file")
        index = results["index"][:]
        ids = [row.decode() for row in index["id"]]
        statuses = [row.decode() for row in index["status"]]
    not_done = [(point, status) for point, status in zip(ids, statuses) if status != "done"]
    if not_done:
        problems.append(f"points not done: {not_done}")
    if len(set(ids)) != len(ids):
        problems.append(f"duplicate IDs in /index: {ids}")
    if len(ids) != expected_points:
        problems.append(f"{len(ids)} points in /index, expected {expected_points}")

    done_records = collections.Counter()
    with open(results_path + ".journal", encoding="utf-8") as journal:
        for line in journal:
            record = json.loads(line.split(" ", 1)[1])
            if record.get("t") == "done":
                done_records[record["id"]] += 1
    twice = {point: count for point, count in done_records.items() if count != 1}
    if twice:
        problems.append(f"points done more than once in the journal: {twice}")
    if set(done_records) != set(ids):
        problems.append(f"journal done records {sorted(done_records)} differ from /index {sorted(ids)}")

    print(f"{results_path}: {len(ids)} points, {sum(s == 'done' for s in statuses)} done, "
          f"{sum(done_records.values())} done records")
    for problem in problems:
        print("  problem:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
