"""analysis/ablate/report.py and `python -m ablate report`: the report of real sweeps, figures included."""

import re
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np

import ablate
from ablate.fashion_mnist import kClassNames

kRepo = Path(__file__).resolve().parents[2]

kPngMagic = b"\x89PNG\r\n\x1a\n"
kMinFigureBytes = 10_000  # an empty 1-inch PNG is ~1 KB; every real figure here is tens of KB


def read_report(report_dir):
    return (report_dir / "index.md").read_text(encoding="utf-8")


def section(text, heading):
    """The text of a '## heading' section, up to the next '## '."""
    start = text.index(f"## {heading}")
    end = text.find("\n## ", start + 3)
    return text[start:] if end < 0 else text[start:end]


def linked_figures(text):
    return re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", text)


def assert_figures_written(report_dir, expected_at_least):
    figures = linked_figures(read_report(report_dir))
    assert len(figures) >= expected_at_least
    assert sorted(figures) == sorted(p.name for p in report_dir.glob("*.png")), "every PNG linked, every link a PNG"
    for name in figures:
        data = (report_dir / name).read_bytes()
        assert data.startswith(kPngMagic) and len(data) > kMinFigureBytes, name


def test_cases_report(cases_h5, report_of):
    report_dir = report_of(cases_h5)
    text = read_report(report_dir)
    assert text.startswith("# Sweep `tiny_cases`: report")
    assert "- Points: 10 (8 done, 2 failed)" in text
    # The failed points: both listed with their error.
    failed = section(text, "Points that did not finish")
    table = ablate.load(cases_h5)
    for point_id in table.loc[table["status"] == "failed", "id"]:
        line = next(line for line in failed.splitlines() if f"`{point_id}`" in line)
        assert "| diverge |" in line and "| failed |" in line and "diverged at epoch" in line
    assert sum("`" in line for line in failed.splitlines() if line.startswith("| `")) == 2
    # Three comparisons, each with a table of its settings and a curve figure.
    comparisons = section(text, "Comparisons")
    assert re.findall(r"^### \d+\. (.+)$", comparisons, re.M) == [
        "regularization (dropout, l2)", "architecture (hidden)", "sweep cases"]
    assert "| diverge | l2=1, lr=100, normalize=none | 0/2 (2 failed) | — |" in comparisons
    assert len(re.findall(r"curves-.*\.png", comparisons)) == 3
    # The regularization view: final train, final test and the gap of each setting.
    gap = section(text, "Generalisation gap under regularisation")
    assert "| mlp32 | 2/2 |" in gap and "| dropout | 2/2 |" in gap and "| l2 | 2/2 |" in gap
    assert len(linked_figures(gap)) == 1
    assert_figures_written(report_dir, expected_at_least=6)


def test_best_setting_and_confused_pairs_of_the_best_model(cases_h5, report_of):
    text = read_report(report_of(cases_h5))
    with h5py.File(cases_h5, "r") as f:
        index = f["index"][:]
        done = index[index["status"] == b"done"]
        cases = sorted({c for c in done["case"]})
        means = {c.decode(): done[done["case"] == c]["best_val_acc"].mean() for c in cases}
        best_case = max(means, key=means.get)
        rows = done[done["case"] == best_case.encode()]
        best_row = rows[np.argmax(rows["best_val_acc"])]
        # Format 4: the point's /index row is its row of every per-point table.
        position = int(np.flatnonzero(index["id"] == best_row["id"]).item())
        confusion = f["confusion_test"][position]
    best = section(text, "Best settings, chosen on validation")
    assert f"The best setting is **{best_case}**" in best
    assert re.search(r"^\| 1 \| " + re.escape(best_case) + r" \| 2/2 \|", best, re.M)
    errors = section(text, "Errors of the best model")
    assert f"point `{best_row['id'].decode()}` (seed {best_row['seed']}" in errors
    # The top pair and its rates in both directions, recomputed from the raw confusion matrix.
    per_class = confusion.sum(axis=1)
    pairs = [(a, b) for a in range(10) for b in range(a + 1, 10)]
    a, b = max(pairs, key=lambda p: (confusion[p[0], p[1]] + confusion[p[1], p[0]], -p[0], -p[1]))
    expected = (f"| {kClassNames[a]} ↔ {kClassNames[b]} | {confusion[a, b] + confusion[b, a]} | "
                f"{100 * confusion[a, b] / per_class[a]:.1f} % ({confusion[a, b]}) | "
                f"{100 * confusion[b, a] / per_class[b]:.1f} % ({confusion[b, a]}) |")
    assert expected in errors
    # ablate stores every done point's test predictions: with the true labels they rebuild the
    # confusion matrix exactly, and the strips show the misclassified images themselves.
    from ablate.fashion_mnist import load_test_set
    with h5py.File(cases_h5, "r") as f:
        start, count = int(best_row["predictions_start"]), int(best_row["predictions_count"])
        predictions = f["test_predictions"][start:start + count]
    assert predictions.dtype == np.int8 and predictions.shape == (10000,)
    rebuilt = np.zeros((10, 10), dtype=np.int64)
    np.add.at(rebuilt, (load_test_set().labels, predictions), 1)
    assert np.array_equal(rebuilt, confusion)
    assert "Test images the best model got wrong" in errors and "Examples of class A" not in errors
    assert "confusion.png" in errors and "confused-pairs.png" in errors


def test_grid_report_has_the_lr_by_normalization_view(grid_h5, report_of):
    report_dir = report_of(grid_h5)
    view = section(read_report(report_dir), "Accuracy vs learning rate, per input normalisation")
    with h5py.File(grid_h5, "r") as f:
        index = f["index"][:]
    header = next(line for line in view.splitlines() if line.startswith("| normalize \\ lr"))
    assert header == "| normalize \\ lr | 0.01 | 0.1 |"
    for mode in ("none", "standard"):
        line = next(line for line in view.splitlines() if line.startswith(f"| {mode} |"))
        for column, lr in enumerate((0.01, 0.1), start=1):
            rows = index[(index["hp.normalize"] == mode.encode()) & (index["hp.lr"] == lr)]
            mean = 100 * rows["test_acc_at_best_val"].mean()
            assert line.split(" | ")[column].startswith(f"{mean:.2f} ± "), (mode, lr, line)
    assert len(linked_figures(view)) == 1
    assert_figures_written(report_dir, expected_at_least=6)  # 4 comparisons, lr view, confusion, strips


def test_one_seed_report_shows_no_spread(augment_h5, report_of):
    report_dir = report_of(augment_h5)
    text = read_report(report_dir)
    assert "- Points: 3 (3 done)" in text and "seeds per setting: 1" in text
    tables = [line for line in text.splitlines() if line.startswith("| ") and "1/1" in line]
    assert len(tables) >= 6 and not any("±" in line or " [" in line for line in tables)
    view = section(text, "Accuracy vs training time under augmentation")
    assert "| shift1 | 1/1 |" in view and len(linked_figures(view)) == 1
    assert_figures_written(report_dir, expected_at_least=4)


def test_search_report_names_the_setting_chosen_on_validation(search_h5, report_of):
    text = read_report(report_of(search_h5))
    with h5py.File(search_h5, "r") as f:
        index = f["index"][:]
    settings = {(r["hp.lr"], r["hp.dropout"]) for r in index}
    means = {s: index[(index["hp.lr"] == s[0]) & (index["hp.dropout"] == s[1])]["best_val_acc"].mean()
             for s in settings}
    lr, dropout = max(means, key=means.get)
    rows = index[(index["hp.lr"] == lr) & (index["hp.dropout"] == dropout)]
    search = section(text, "Hyperparameter search")
    assert f"**lr={lr:.4g}, dropout={dropout:.4g}**" in search
    assert f"test {100 * rows['test_acc_at_best_val'].mean():.2f} ± " in search
    assert len(linked_figures(search)) == 1
    assert "No two settings differ in a single factor" in section(text, "Comparisons")


def test_interrupted_sweep_lists_its_unfinished_points(interrupted_h5, report_of):
    table = ablate.load(interrupted_h5)
    unfinished = table[table["status"] != "done"]
    assert len(unfinished) >= 2  # "slow" was killed while it trained, "later" never started
    assert set(unfinished["status"]) <= {"pending", "running"}
    text = read_report(report_of(interrupted_h5))
    listed = section(text, "Points that did not finish")
    for _, row in unfinished.iterrows():
        assert re.search(rf"^\| `{row['id']}` \| {row['case']} \| 0 \| {row['status']} \|", listed, re.M)
    assert f"{len(unfinished)} of 3 points are not done (nor stopped early with a result)" in listed


def test_missing_data_set_leaves_out_the_strips_only(cases_h5, tmp_path):
    out = tmp_path / "report"
    command = [sys.executable, "-m", "ablate", "report", str(cases_h5), "-o", str(out), "--data",
               str(tmp_path / "no-such-dir")]
    process = subprocess.run(command, capture_output=True, text=True, cwd=kRepo)
    assert process.returncode == 0, process.stderr
    assert "No image strips" in process.stderr and "no-such-dir" in process.stderr
    text = read_report(out)
    assert "> No image strips: --data" in text and "confused-pairs.png" not in text
    assert "confusion.png" in text


def test_cli_errors_name_the_file(tmp_path):
    missing = tmp_path / "missing.h5"
    process = subprocess.run([sys.executable, "-m", "ablate", "report", str(missing), "-o", str(tmp_path / "r")],
                             capture_output=True, text=True, cwd=kRepo)
    assert process.returncode == 1
    assert f"ablate: {missing}: no such results file" in process.stderr


def predictions_matching(confusion, labels):
    """Per-image predictions that reproduce a confusion matrix: within each true class, in test-set order,
    the first confusion[t, 0] images are predicted 0, the next confusion[t, 1] are predicted 1, ..."""
    predictions = np.empty_like(labels)
    for true_class in range(10):
        images = np.flatnonzero(labels == true_class)
        predictions[images] = np.repeat(np.arange(10), confusion[true_class])
    return predictions.astype(np.int8)


def report_with_predictions(cases_h5, tmp_path, make_predictions):
    """Report of a copy of a real file whose done points' test_predictions (int8 [10000], test-set order)
    are replaced by make_predictions(confusion_test), or removed when make_predictions is None (a file
    written by a trainer that does not store them)."""
    copy = tmp_path / "with_predictions.h5"
    copy.write_bytes(cases_h5.read_bytes())
    # Format 4: /test_predictions holds every point's block end to end, each located by its /index columns
    # predictions_start and predictions_count; rewritten here with the done points' blocks replaced (or gone).
    with h5py.File(copy, "r+") as f:
        index = f["index"][:]
        old = f["test_predictions"][:]
        blocks, start = [], 0
        for row, point in enumerate(index):
            if point["status"] == b"done":
                block = (np.zeros(0, dtype=np.int8) if make_predictions is None
                         else np.asarray(make_predictions(f["confusion_test"][row]), dtype=np.int8))
            else:
                block = old[point["predictions_start"]:point["predictions_start"] + point["predictions_count"]]
            index["predictions_start"][row] = start if len(block) else 0
            index["predictions_count"][row] = len(block)
            blocks.append(block)
            start += len(block)
        del f["test_predictions"]
        f.create_dataset("test_predictions", data=np.concatenate(blocks).astype(np.int8), maxshape=(None,),
                         chunks=True)
        f["index"][...] = index
    out = tmp_path / "report"
    process = subprocess.run([sys.executable, "-m", "ablate", "report", str(copy), "-o", str(out)],
                             capture_output=True, text=True, cwd=kRepo)
    assert process.returncode == 0, process.stderr
    return out, process.stderr


def test_stored_test_predictions_give_strips_of_misclassified_images(cases_h5, tmp_path):
    from ablate.fashion_mnist import load_test_set
    labels = load_test_set().labels
    out, _ = report_with_predictions(cases_h5, tmp_path, lambda confusion: predictions_matching(confusion, labels))
    errors = section(read_report(out), "Errors of the best model")
    assert "Test images the best model got wrong" in errors and "Examples of class A" not in errors
    assert_figures_written(out, expected_at_least=6)


def test_without_stored_predictions_the_strips_are_labelled_class_examples(cases_h5, tmp_path):
    out, _ = report_with_predictions(cases_h5, tmp_path, None)
    errors = section(read_report(out), "Errors of the best model")
    assert "Examples of class A and class B from the test set" in errors
    assert "Test images the best model got wrong" not in errors


def test_predictions_that_contradict_the_confusion_matrix_are_ignored(cases_h5, tmp_path):
    out, stderr = report_with_predictions(cases_h5, tmp_path, lambda confusion: np.zeros(10000, dtype=np.int8))
    errors = section(read_report(out), "Errors of the best model")
    assert "do not reproduce its confusion_test" in errors and "Examples of class A and class B" in errors
    assert "do not reproduce its confusion_test" in stderr


def test_ranking_tests_each_setting_against_rank_one(cases_h5, report_of):
    from scipy import stats as scipy_stats
    ranking = section(read_report(report_of(cases_h5)), "Best settings, chosen on validation")
    rows = [line for line in ranking.splitlines() if re.match(r"^\| \d+ \|", line)]
    table = ablate.load(cases_h5)
    done = table[table["status"] == "done"]
    first = done.loc[done["case"] == rows[0].split(" | ")[1], "test_acc_at_best_val"].to_numpy()
    assert rows[0].endswith("| — |") and len(first) == 2
    for row in rows[1:]:
        values = done.loc[done["case"] == row.split(" | ")[1], "test_acc_at_best_val"].to_numpy()
        reference = scipy_stats.ttest_ind(values, first, equal_var=False)
        difference = f"{100 * (values.mean() - first.mean()):+.2f}".replace("-", "−")
        p = reference.pvalue
        cell = f"{difference} (p = {p:.2g})" if p >= 0.001 else f"{difference} (p < 0.001)"
        assert row.endswith(f"| {cell}{' *' if p < 0.05 else ''} |"), row
    assert "Welch's t-test" in ranking


def _without_clean_train(source: Path, target: Path) -> Path:
    """A copy of a results file as an ablate before the clean train accuracy wrote it: every `curves` table
    without its train_eval_loss and train_eval_acc columns (whatever the layout keeps them in)."""
    import shutil
    shutil.copyfile(source, target)
    with h5py.File(target, "r+") as f:
        tables = []
        f.visititems(lambda name, item: tables.append(name)
                     if isinstance(item, h5py.Dataset) and name.split("/")[-1] == "curves" else None)
        assert tables, f"{source} has no curves table"
        for name in tables:
            data = f[name][:]
            kept = [n for n in data.dtype.names if not n.startswith("train_eval_")]
            assert len(kept) == len(data.dtype.names) - 2, data.dtype.names
            stripped = np.empty(data.shape, dtype=[(n, data.dtype[n]) for n in kept])
            for n in kept:
                stripped[n] = data[n]
            del f[name]
            f.create_dataset(name, data=stripped, maxshape=(None,), chunks=True)
    return target


def _gap_rows(text):
    gap = section(text, "Generalisation gap under regularisation")
    return {line.split(" | ")[0][2:]: line.split(" | ") for line in gap.splitlines()
            if line.startswith("| ") and " | 2/2 | " in line}


def test_the_gap_uses_the_clean_train_accuracy(cases_h5, report_of):
    text = read_report(report_of(cases_h5))
    assert "The *clean train accuracy* is the trained model's after the last epoch, in eval mode" in text
    assert "have the clean train accuracy" not in text  # no fallback note
    table = ablate.load(cases_h5)
    done = table[table["status"] == "done"]
    rows = _gap_rows(text)
    assert set(rows) == {"mlp32", "dropout", "l2"}
    for case, cells in rows.items():
        seeds = done[done["case"] == case]
        clean = np.array([ablate.curves(cases_h5, i).iloc[-1]["train_eval_acc"] for i in seeds["id"]])
        running = np.array([ablate.curves(cases_h5, i).iloc[-1]["train_acc"] for i in seeds["id"]])
        gap = clean - seeds["final_test_acc"].to_numpy()
        # setting, seeds, clean train, running train, test, gap: each "mean ± std [ci]"
        assert cells[2].startswith(f"{100 * clean.mean():.2f} ± "), cells
        assert cells[3].startswith(f"{100 * running.mean():.2f} ± "), cells
        assert cells[5].startswith(f"{100 * gap.mean():.2f} ± "), cells
    # Dropout 0.3 makes the running accuracy (dropout on) lower than the clean one (dropout off).
    dropout = done[done["case"] == "dropout"]
    assert (dropout["final_train_eval_acc"] > dropout["final_train_acc"]).all()


def test_a_file_without_the_clean_train_accuracy_falls_back_to_the_running_one(cases_h5, tmp_path):
    old = _without_clean_train(cases_h5, tmp_path / "before_clean_train.h5")
    table = ablate.load(old)
    done = table[table["status"] == "done"]
    assert done["final_train_eval_acc"].isna().all()
    np.testing.assert_allclose(done["train_test_gap"], done["final_train_acc"] - done["final_test_acc"], atol=1e-12)
    assert "train_eval_acc" not in ablate.curves(old, done["id"].iloc[0]).columns
    report = ablate.write_report(old, tmp_path / "report")
    assert any(note.startswith("None of the points with a result have the clean train accuracy")
               for note in report.notes), report.notes
    text = read_report(tmp_path / "report")
    assert "*Train accuracy* is the running one" in text and "The *clean train accuracy*" not in text
    for case, cells in _gap_rows(text).items():
        seeds = done[done["case"] == case]
        assert cells[2] == "—"  # no clean train accuracy to show
        assert cells[3].startswith(f"{100 * seeds['final_train_acc'].mean():.2f} ± "), cells
        assert cells[5].startswith(f"{100 * seeds['train_test_gap'].mean():.2f} ± "), cells


def test_the_header_says_what_the_times_were_measured_with(cases_h5, packed_grid_h5, report_of):
    alone = read_report(report_of(cases_h5)).split("\n## ", 1)[0]
    assert "Times are wall time per point, evaluation included (device cpu; LibTorch threads per rank 1; " \
           "ranks per point 1)" in alone
    assert "trained in packs" not in alone
    packed = read_report(report_of(packed_grid_h5)).split("\n## ", 1)[0]
    table = ablate.load(packed_grid_h5)
    shared = table[(table["status"] == "done") & (table["pack_members"] > 1)]
    assert len(shared) > 0
    assert f"{len(shared)} of {int((table['status'] == 'done').sum())} points trained in packs" in packed
    assert "share of its pack's wall time" in packed
