"""Summarises bench/early_stopping/run.sh: epochs trained, wall time and the best
configuration (chosen on validation; with early stopping, among the points that
reached the top rung, i.e. trained every epoch) of each run, and their ratios."""
import sys

import h5py
import numpy as np


def summary(path):
    with h5py.File(path, "r") as f:
        index = f["index"][()]
        names = index.dtype.names
        status = [s.decode() if isinstance(s, bytes) else s for s in index["status"]]
        epochs = int(np.sum(index["epochs_done"]))
        full = [i for i, s in enumerate(status) if s == "done"]  # trained to the last epoch
        best = max(full, key=lambda i: index["best_val_acc"][i])
        ident = index["id"][best]
        return {
            "epochs": epochs,
            "points": len(status),
            "stopped": sum(s == "stopped" for s in status),
            "best_id": ident.decode() if isinstance(ident, bytes) else ident,
            "best_val": float(index["best_val_acc"][best]),
            "best_test": float(index["test_acc_at_best_val"][best]),
            "has_epochs_trained": "epochs_trained" in names,
        }


def main():
    asha_path, full_path, walls_path = sys.argv[1:4]
    walls = dict(line.split() for line in open(walls_path))
    runs = {"asha": summary(asha_path), "full": summary(full_path)}
    for mode, s in runs.items():
        print(f"bench=early_stopping mode={mode} points={s['points']} stopped={s['stopped']} epochs={s['epochs']} "
              f"wall_s={float(walls[mode]):.1f} best_id={s['best_id']} best_val={s['best_val']:.4f} "
              f"best_test={s['best_test']:.4f}")
    a, f = runs["asha"], runs["full"]
    gap = (f["best_test"] - a["best_test"]) * 100
    print(f"bench=early_stopping ratio_epochs={f['epochs'] / a['epochs']:.2f} "
          f"ratio_wall={float(walls['full']) / float(walls['asha']):.2f} test_gap_points={gap:.2f} "
          f"same_best={int(a['best_id'] == f['best_id'])}")


if __name__ == "__main__":
    main()
