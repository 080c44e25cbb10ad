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
  check_cluster.py ranklog JOB_LOG RANKS.txt
      the "ranks by host:" line rank 0 wrote in the job's log (each rank's own hostname, from
      its hello) names the same node for every rank as RANKS.txt (seen from outside).
  check_cluster.py training JOB_LOG RANKS.txt NODE MIN_EPOCHS MAX_EPOCHS
      exit 0 when the job's log (rank 0's progress lines, written as they happen, unlike the
      journal's epoch records, which are written out in groups) shows a point being trained
      by a rank on NODE (RANKS.txt, as `ranks` writes it) that has finished MIN_EPOCHS to
      MAX_EPOCHS epochs: its checkpoint is on the results path and it has epochs left.
  check_cluster.py resumed CHECKPOINTS_AT_LOSS RESULTS.h5 LOG_AT_LOSS RANKS.txt LOST_NODE
      CHECKPOINTS_AT_LOSS is a copy of the results' checkpoint directory and LOG_AT_LOSS of the
      job's log, both taken once the job had died with LOST_NODE. Every point checkpointed then
      went on from its checkpoint: its first epochs in RESULTS.h5, timings included, are the
      ones in the checkpoint (the epochs were not trained again), and it is done. At least one
      of them was training on LOST_NODE (from the log's start lines and RANKS.txt). Reads the
      checkpoints (TorchScript archives) with torch.
Prints what it found; exit 1 if anything is off.
"""
import os
import sys
import time

TIMING = {"epoch_seconds", "images_per_second"}


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def read_points(path):
    """Point ID -> status, host, curves (structured rows), confusion_test, test_predictions; and
    the IDs in /index order. Reads both layouts of docs/results-format.md: a group per point
    (/points/<id>, format_version 3) and shared tables (/curves rows carry the point's /index
    row in `point`, format_version 4)."""
    import h5py
    import numpy as np

    with h5py.File(path, "r") as f:
        index = f["index"][:]
        ids = [text(row) for row in index["id"]]
        points = {}
        if "points" in f:
            for point_id, group in f["points"].items():
                points[point_id] = {
                    "status": text(group.attrs["status"]),
                    "host": text(group.attrs.get("host", "")),
                    "curves": group["curves"][:] if "curves" in group else None,
                    "confusion": group["confusion_test"][:] if "confusion_test" in group else None,
                    "predictions": group["test_predictions"][:] if "test_predictions" in group else None,
                }
            return points, ids
        curves = f["curves"][:]
        columns = [name for name in curves.dtype.names if name != "point"]
        for row, point_id in enumerate(ids):
            rows = curves[curves["point"] == row]
            # The latest row of each epoch: an interrupted attempt's rows may precede a rerun's.
            latest = {int(r["epoch"]): r for r in rows}
            table = np.array([tuple(latest[e][c] for c in columns) for e in sorted(latest)],
                             dtype=[(c, curves.dtype[c]) for c in columns])
            start, count = int(index["predictions_start"][row]), int(index["predictions_count"][row])
            has_result = bool(index["has_result"][row])
            points[point_id] = {
                "status": text(index["status"][row]),
                "host": text(index["host"][row]),
                "curves": table,
                "confusion": f["confusion_test"][row] if has_result else None,
                "predictions": f["test_predictions"][start:start + count] if count > 0 else None,
            }
    return points, ids


def same(reference_path, results_path, tolerance="0"):
    import numpy as np  # here, not above: `training` polls a log and must start fast

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


def training(log_path, ranks_path, node, min_epochs, max_epochs):
    import re

    try:
        with open(ranks_path) as f:
            node_of_rank = dict(line.split() for line in f if line.strip())
        with open(log_path, errors="replace") as f:
            lines = f.read().splitlines()
    except FileNotFoundError as e:
        return [f"nothing to read yet ({e.filename})"]
    rank, epochs, ended = {}, {}, set()
    for line in lines:
        if m := re.search(r"\]\s+start\s+([0-9a-f]+) .* on rank (\d+)\s*$", line):
            rank[m[1]], epochs[m[1]] = m[2], 0
            ended.discard(m[1])
        elif m := re.search(r"\]\s+epoch\s+([0-9a-f]+) (\d+)/\d+:", line):
            epochs[m[1]] = int(m[2])
        elif m := re.search(r"\]\s+(done|failed|paused|stopped early)\s+([0-9a-f]+)", line):
            ended.add(m[2])
    busy = [p for p in rank if node_of_rank.get(rank[p]) == node and p not in ended
            and int(min_epochs) <= epochs[p] <= int(max_epochs)]
    return [] if busy else [f"no point with {min_epochs} to {max_epochs} epochs is training on {node}"]


def ranklog(log_path, ranks_path):
    with open(ranks_path) as f:
        seen = dict(line.split() for line in f if line.strip())
    with open(log_path, errors="replace") as f:
        lines = [line.split(":", 1)[1] for line in f if line.startswith("ranks by host:")]
    if not lines:
        return [f"{log_path} has no 'ranks by host:' line"]
    said = {}
    for entry in lines[0].split(";"):
        host, runs = entry.split()
        for run in runs.split(","):
            first, _, last = run.partition("-")
            for rank in range(int(first), int(last or first) + 1):
                said[str(rank)] = host
    print(f"rank 0 says: {lines[0].strip()}")
    return [] if said == seen else [f"rank 0's ranks by host {said} differ from those seen from outside {seen}"]


def trainers_in_log(log_path, ranks_path):
    """Short point ID -> node of the rank that last started it, from rank 0's progress lines."""
    import re

    with open(ranks_path) as f:
        node_of_rank = dict(line.split() for line in f if line.strip())
    trained_on = {}
    with open(log_path, errors="replace") as f:
        for line in f:
            if m := re.search(r"\]\s+start\s+([0-9a-f]+) .* on rank (\d+)\s*$", line):
                trained_on[m[1]] = node_of_rank.get(m[2], "?")
    return trained_on


def resumed(checkpoints_dir, results_path, log_path, ranks_path, lost_node):
    import re

    import numpy as np
    import torch

    results, _ = read_points(results_path)
    trained_on = trainers_in_log(log_path, ranks_path)
    problems, on_lost_node = [], 0
    names = sorted(n for n in os.listdir(checkpoints_dir) if re.fullmatch(r"[0-9a-f]{16}\.pt", n))
    for name in names:
        point_id = name[: -len(".pt")]
        node = next((n for short, n in trained_on.items() if point_id.startswith(short)), "?")
        saved = torch.jit.load(os.path.join(checkpoints_dir, name)).curves.numpy()
        point = results.get(point_id)
        if point is None or point["status"] != "done":
            problems.append(f"{point_id} is {'missing' if point is None else point['status']}, not done")
            continue
        final = point["curves"]
        columns = final.dtype.names
        if saved.shape[1] != len(columns) or len(final) < len(saved):
            problems.append(f"{point_id}: checkpoint curves {saved.shape} do not fit the results' {len(final)} x {len(columns)}")
            continue
        # The checkpoint's curve table has the columns of the results' curves, in their order.
        replayed = all(np.array_equal(final[c][: len(saved)].astype(np.float64), saved[:, i])
                       for i, c in enumerate(columns))
        print(f"  {point_id}: trained on {node}, checkpoint of epoch {len(saved)}; "
              f"{'its epochs kept, timings included' if replayed else 'its epochs differ: trained again'}")
        if not replayed:
            problems.append(f"{point_id} was trained again, not resumed from its checkpoint of epoch {len(saved)}")
        on_lost_node += node == lost_node
    if not names:
        problems.append("no checkpoint was left when the node was lost")
    elif not on_lost_node:
        problems.append(f"no point checkpointed on {lost_node} was interrupted (the loss came too early or too late)")
    print(f"{results_path}: {len(names)} points checkpointed when {lost_node} was lost, {on_lost_node} of them there")
    return problems


def main(argv):
    checks = {"same": same, "hosts": hosts, "ranks": ranks, "ranklog": ranklog, "training": training,
              "resumed": resumed}
    if len(argv) < 2 or argv[1] not in checks:
        print(__doc__)
        return 2
    problems = checks[argv[1]](*argv[2:])
    for problem in problems:
        print("  problem:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
