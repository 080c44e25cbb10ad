"""check_cluster.py: the checks of the two-node cluster test (tests/cluster/test_cluster_live.sh).

Usage:
  check_cluster.py same REFERENCE.h5 RESULTS.h5 [TOLERANCE]
      RESULTS holds exactly REFERENCE's points, all done, with the same curves (every column but
      the timings), confusion matrices and test predictions: bit for bit, or with TOLERANCE, each
      metric within TOLERANCE (data-parallel training sums gradients in another order) and at
      most TOLERANCE x 10,000 test predictions different.
  check_cluster.py hosts RESULTS.h5 HOST...
      every point's host attribute (the host of the rank that trained it) is one of HOST, and
      every HOST trained at least one point.
  check_cluster.py ranks STATE_DIR RESULTS.h5 RANKS TIMEOUT_S OUT.txt
      watches the processes of the cluster (scripts/cluster-local, state in STATE_DIR) until the
      RANKS ranks of the `ablate run` writing RESULTS.h5 have all been seen, and writes "rank
      node" lines to OUT.txt: which node's namespace each rank runs in, seen from outside (its
      network namespace) and its rank from its environment. Exit 1 if not all are seen in time.
  check_cluster.py training JOURNAL NODE MIN_EPOCHS
      exit 0 when a point is being trained on NODE (its latest start there, not done) and has
      MIN_EPOCHS epochs recorded: checkpoints of it are on the results path.
  check_cluster.py resumed JOURNAL_AT_LOSS RESULTS.h5 LOST_NODE
      JOURNAL_AT_LOSS is a copy of the journal taken once the job had died with LOST_NODE. The
      points that were running then and had finished epochs (so checkpoints on the shared path)
      went on from their checkpoints: their first epochs in RESULTS.h5 are the very ones
      recorded before the loss (same epoch times), not trained again. At least one of them must
      have been training on LOST_NODE.
Prints what it found; exit 1 if anything is off.
"""
import json
import os
import sys
import time

TIMING = {"epoch_seconds", "images_per_second"}


def read_points(path):
    import h5py  # here, not above: `training` polls a journal and must start fast

    with h5py.File(path, "r") as f:
        points = {}
        for point_id, group in f["points"].items():
            points[point_id] = {
                "status": group.attrs["status"],
                "host": group.attrs.get("host", ""),
                "curves": group["curves"][:] if "curves" in group else None,
                "confusion": group["confusion_test"][:] if "confusion_test" in group else None,
                "predictions": group["test_predictions"][:] if "test_predictions" in group else None,
            }
        index = [row.decode() for row in f["index"]["id"]]
    return points, index


def same(reference_path, results_path, tolerance="0"):
    import numpy as np

    tolerance = float(tolerance)
    reference, _ = read_points(reference_path)
    results, index = read_points(results_path)
    problems = []
    if sorted(index) != sorted(reference):
        problems.append(f"points differ: reference {sorted(reference)}, results {sorted(index)}")
    for point_id, ref in reference.items():
        got = results.get(point_id)
        if got is None:
            continue
        if got["status"] != "done":
            problems.append(f"{point_id}: {got['status']}, not done")
            continue
        if len(got["curves"]) != len(ref["curves"]):
            problems.append(f"{point_id}: {len(got['curves'])} epochs, reference {len(ref['curves'])}")
            continue
        for column in ref["curves"].dtype.names:
            if column in TIMING:
                continue
            a, b = ref["curves"][column], got["curves"][column]
            if tolerance == 0 and not np.array_equal(a, b):
                problems.append(f"{point_id}: curve column {column} differs: {a} vs {b}")
            elif tolerance > 0 and not np.all(np.abs(a.astype(float) - b.astype(float)) <= tolerance):
                problems.append(f"{point_id}: curve column {column} differs by more than {tolerance}: {a} vs {b}")
        flipped = int(np.sum(ref["predictions"] != got["predictions"]))
        if (tolerance == 0 and flipped) or flipped > tolerance * len(ref["predictions"]):
            problems.append(f"{point_id}: {flipped} test predictions differ")
        if tolerance == 0 and not np.array_equal(ref["confusion"], got["confusion"]):
            problems.append(f"{point_id}: confusion matrices differ")
    how = "bit for bit" if tolerance == 0 else f"within {tolerance}"
    print(f"{results_path}: {len(results)} points compared with {reference_path} ({how})")
    return problems


def hosts(results_path, *expected):
    points, _ = read_points(results_path)
    seen = {}
    for point_id, point in points.items():
        seen.setdefault(point["host"], []).append(point_id)
    problems = [f"points trained on {host}, not a node of the cluster: {ids}"
                for host, ids in seen.items() if host not in expected]
    problems += [f"no point was trained on {host}" for host in expected if host not in seen]
    print(f"{results_path}: points per host: " + ", ".join(f"{h} {len(ids)}" for h, ids in sorted(seen.items())))
    return problems


def process_rank(pid):
    """The MPI rank of an ablate process, from the environment its launcher gave it."""
    with open(f"/proc/{pid}/environ", "rb") as f:
        env = dict(item.split(b"=", 1) for item in f.read().split(b"\0") if b"=" in item)
    for name in (b"OMPI_COMM_WORLD_RANK", b"PMIX_RANK", b"SLURM_PROCID"):  # mpirun, srun
        if name in env:
            return int(env[name])
    return None


def ranks(state_dir, results_path, expected, timeout_s, out_path):
    expected, deadline = int(expected), time.monotonic() + float(timeout_s)
    namespaces = {}
    for node in ("ablate-node1", "ablate-node2"):
        with open(os.path.join(state_dir, "ns", node + ".net")) as f:
            namespaces[f.read().strip()] = node
    needle = os.path.abspath(results_path).encode()
    found = {}
    while len(found) < expected and time.monotonic() < deadline:
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                node = namespaces.get(os.readlink(f"/proc/{pid}/ns/net"))
                if node is None:
                    continue
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
                if not argv or os.path.basename(argv[0]) != b"ablate" or needle not in argv:
                    continue
                rank = process_rank(pid)
                if rank is not None:
                    found[rank] = node
            except (OSError, ValueError):
                continue  # gone meanwhile
        time.sleep(0.05)
    with open(out_path, "w") as out:
        for rank in sorted(found):
            out.write(f"{rank} {found[rank]}\n")
    print(f"ranks seen: " + ", ".join(f"{rank} on {node}" for rank, node in sorted(found.items())))
    if len(found) < expected:
        return [f"saw {len(found)} of {expected} ranks within {timeout_s} s"]
    return []


def journal_records(path):
    with open(path, encoding="utf-8") as journal:
        for line in journal:
            try:
                yield json.loads(line.split(" ", 1)[1])
            except (IndexError, ValueError):
                continue  # the torn last line of a killed writer


def training_state(journal_path):
    """Per point: the host of its latest start, the epoch rows since, and whether it is done."""
    host, rows, done = {}, {}, set()
    for record in journal_records(journal_path):
        kind, point_id = record.get("t"), record.get("id")
        if kind == "start":
            host[point_id], rows[point_id] = record["host"], []  # a restart trains its epochs anew
        elif kind == "epoch" and point_id in rows:
            rows[point_id].append(record["m"])
        elif kind == "done":
            done.add(point_id)
    return host, rows, done


def training(journal_path, node, min_epochs):
    try:
        host, rows, done = training_state(journal_path)
    except FileNotFoundError:
        return ["no journal yet"]
    busy = [p for p in rows if host[p] == node and p not in done and len(rows[p]) >= int(min_epochs)]
    return [] if busy else [f"no point with {min_epochs} epochs is training on {node}"]


def resumed(journal_path, results_path, lost_node):
    host, rows, done = training_state(journal_path)
    interrupted = {p: r for p, r in rows.items() if p not in done and r}
    results, _ = read_points(results_path)
    problems = []
    for point_id, recorded in sorted(interrupted.items()):
        if results[point_id]["status"] != "done":
            problems.append(f"{point_id} is {results[point_id]['status']}, not done")
            continue
        final = results[point_id]["curves"]
        # A journal epoch row lists the curve's columns in the order of the HDF5 table's.
        recorded = [dict(zip(final.dtype.names, row)) for row in recorded]
        kept = [int(row["epoch"]) for row in recorded
                if row["epoch"] <= len(final) and final[row["epoch"] - 1]["epoch_seconds"] == row["epoch_seconds"]]
        print(f"  {point_id}: on {host[point_id]} when the node was lost, {len(recorded)} epochs recorded;"
              f" epochs kept from before the loss: {kept}")
        if kept != [int(row["epoch"]) for row in recorded]:
            problems.append(f"{point_id} was trained again from epoch {len(kept) + 1}, not resumed from its checkpoint")
    if not any(host[p] == lost_node for p in interrupted):
        problems.append(f"no point was training on {lost_node} with a finished epoch when it was lost "
                        f"(interrupted: {sorted(interrupted)}): the loss came too early or too late")
    print(f"{results_path}: {len(interrupted)} points interrupted by the loss of {lost_node} went on from their checkpoints")
    return problems


def main(argv):
    checks = {"same": same, "hosts": hosts, "ranks": ranks, "training": training, "resumed": resumed}
    if len(argv) < 2 or argv[1] not in checks:
        print(__doc__)
        return 2
    problems = checks[argv[1]](*argv[2:])
    for problem in problems:
        print("  problem:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
