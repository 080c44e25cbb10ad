"""Checks a resumed point against an uninterrupted run of it (single-point sweeps).

Usage: check_resumed_point.py WHOLE.h5 AT_STOP.h5 RESUMED.h5 [RANKS]

- The epochs finished before the stop were not trained again: their rows in the
  resumed file carry the very same epoch times as when they were first recorded.
- Every metric of every epoch (times aside), the confusion matrix and the test
  predictions equal those of the uninterrupted run.
- Each file's index says what the time was measured with: 1 thread (--threads 1),
  RANKS ranks (default 1), and no pack (pack_members 1).
"""
import sys

import numpy as np

import ablate

TIMING = {"epoch_seconds", "images_per_second"}


def only_point(path):
    with ablate.ResultsFile(path) as results:  # any format version
        table = results.index()
        (point_id,) = list(table["id"])
        curves = results.curves(point_id).to_records(index=False)
        return {
            "id": point_id,
            "status": table["status"].iloc[0],
            "measured_with": (int(table["threads"].iloc[0]), int(table["ranks"].iloc[0]),
                              float(table["pack_members"].iloc[0])),
            "curves": curves if len(curves) else None,
            "confusion": results.confusion(point_id),
            "predictions": results.test_predictions(point_id),
        }


def main(whole_path, at_stop_path, resumed_path, ranks="1"):
    whole, at_stop, resumed = (only_point(p) for p in (whole_path, at_stop_path, resumed_path))
    for name, point in (("whole", whole), ("at stop", at_stop), ("resumed", resumed)):
        assert point["measured_with"] == (1, int(ranks), 1.0), (
            f"{name}: threads, ranks, pack_members {point['measured_with']}, not (1, {ranks}, 1.0)")
    assert whole["id"] == at_stop["id"] == resumed["id"], "the three files hold different points"
    assert resumed["status"] == "done", f"resumed point is {resumed['status']}"
    stopped_rows = at_stop["curves"]
    assert stopped_rows is not None and 2 <= len(stopped_rows) < len(whole["curves"]), (
        f"the stop came after {0 if stopped_rows is None else len(stopped_rows)} epochs: not in the middle")

    replayed = resumed["curves"][: len(stopped_rows)]
    for column in ("epoch_seconds", "images_per_second"):
        assert np.array_equal(replayed[column], stopped_rows[column]), (
            f"epochs 1-{len(stopped_rows)} were trained again ({column} differs): the checkpoint was not used")

    assert len(resumed["curves"]) == len(whole["curves"])
    for column in whole["curves"].dtype.names:
        if column in TIMING:
            continue
        assert np.array_equal(resumed["curves"][column], whole["curves"][column]), f"curve column {column} differs"
    assert np.array_equal(resumed["confusion"], whole["confusion"]), "confusion matrices differ"
    assert np.array_equal(resumed["predictions"], whole["predictions"]), "test predictions differ"
    print(f"point {resumed['id']}: stopped after epoch {len(stopped_rows)}, resumed from its checkpoint, "
          f"{len(whole['curves'])} epochs identical to the uninterrupted run")


if __name__ == "__main__":
    main(*sys.argv[1:5])
