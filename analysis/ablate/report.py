"""`python -m ablate report`: one results file in, a Markdown report with PNG figures out."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field

import numpy as np

from ablate import early_stopping, figures, pareto, search_trials
from ablate.fashion_mnist import DataError, TestSet, kClassNames, load_test_set
from ablate.grouping import Comparison, SweepStructure, describe
from ablate.results import ResultsFile, kResultStatuses
from ablate.stats import kConfidence, kSignificance
from ablate.tables import (comparison_markdown, difference_test, format_summary, format_test, markdown_table,
                           seconds_digits, seed_counts, setting_summary)
from ablate.views import (best_point, confused_pairs, kReportedMetric, kSelectionMetric, lr_normalization_panels,
                            lr_normalization_pivot, random_search_keys, ranking)

kReportName = "index.md"
kRankingRows = 15          # settings listed in "best on validation"
kConfusedPairs = 5         # pairs in the table
kPairStrips = 3            # pairs with image strips
kStripImages = 8           # images per strip
kErrorChars = 300          # of a failure's message in the table
kTrainEvalImages = 10_000  # the clean train accuracy's subset (trainer/train_eval_subset.hpp)
_kDifferenceNote = (
    "The last column tests each setting against the comparison's first setting (the spec's first, usually its "
    "baseline) on the test accuracy at the best-validation epoch: the difference of the means over seeds in "
    "percentage points and the two-sided p-value of Welch's t-test (unequal variances, Welch–Satterthwaite "
    f"degrees of freedom); * marks p < {kSignificance:g}, a difference the seeds show to be real at the "
    f"{kSignificance:.0%} level. p — means it cannot be tested (one seed, or no spread on either side). The "
    "p-values are not corrected for the number of tests: among twenty differences that are not real, about "
    "one is marked by chance; with three seeds a test detects only differences several times the seed-to-seed "
    "spread.")


@dataclass
class Report:
    """What a report run produced, for callers and tests."""
    index_path: str
    figures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # things left out, with the reason


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "figure"


def _error_summary(text) -> str:
    if not isinstance(text, str):
        return ""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    line = lines[-1] if lines else ""  # the last line of a captured stderr says what went wrong
    return line if len(line) <= kErrorChars else line[:kErrorChars] + "…"


def _pct(summary) -> str:
    return format_summary(summary, 100.0)


class _Writer:
    def __init__(self, results: ResultsFile, out_dir: str, data_dir: str | None):
        self.results = results
        self.out_dir = out_dir
        self.data_dir = data_dir
        self.info = results.sweep_info()
        self.table = results.index()
        self.early_stopping = early_stopping.settings(self.info.get("sweep_spec", ""))
        # With early stopping, settings are compared (and the best chosen) only over points that trained
        # every epoch: a stopped point's numbers come from fewer epochs. The early-stopping section shows the rest.
        self.structure = SweepStructure(self.table[self.table["status"] != "stopped"] if self.early_stopping
                                        else self.table)
        done_ids = self.table.loc[self.table["status"].isin(kResultStatuses), "id"]
        self.curves = {point_id: results.curves(point_id) for point_id in done_ids}
        self.lines: list[str] = []
        self.report = Report(os.path.join(out_dir, kReportName))
        self.figure_number = 0

    # --- helpers -----------------------------------------------------------------------------------
    def add(self, *lines: str):
        self.lines.extend(lines)

    def figure_path(self, name: str) -> tuple[str, str]:
        self.figure_number += 1
        file_name = f"{self.figure_number:02d}-{_slug(name)}.png"
        return os.path.join(self.out_dir, file_name), file_name

    def embed(self, file_name: str, path: str, caption: str):
        self.report.figures.append(path)
        self.add(f"![{file_name[3:-4]}]({file_name})", "", f"*{caption}*", "")

    def labelled(self, comparison: Comparison) -> list:
        """(label, setting) pairs for a figure: case names, or the values of the keys the comparison varies."""
        if self.structure.has_cases:
            return [(s.label, s) for s in comparison.settings]
        return [(describe({k: s.value(k) for k in comparison.keys}), s) for s in comparison.settings]

    def note(self, text: str):
        self.report.notes.append(text)
        self.add(f"> {text}", "")

    # --- sections ----------------------------------------------------------------------------------
    def header(self):
        info = self.info
        name = info.get("sweep_name", "?")
        self.add(f"# Sweep `{name}`: report", "")
        description = _spec_description(info.get("sweep_spec", ""))
        if description:
            self.add(f"> {description}", "")
        counts = self.table["status"].value_counts()
        known = ("done", "stopped", "failed", "running", "paused", "pending")
        status_text = ", ".join(f"{int(counts[s])} {s}" for s in
                                [s for s in known if s in counts] + sorted(set(counts.index) - set(known)))
        self.add(f"- Results file: `{self.results.path}` (written {info.get('updated', '?')}, sweep created "
                 f"{info.get('created', '?')}; ablate {info.get('ablate_version', '?')}, commit "
                 f"{info.get('git_commit', '?')})",
                 f"- Points: {len(self.table)} ({status_text}); settings (configs without the seed): "
                 f"{len(self.structure.settings)}; seeds per setting: "
                 f"{', '.join(str(n) for n in sorted({len(s.points) for s in self.structure.settings}))}",
                 f"- Swept keys: {', '.join(self.structure.swept_keys) or '(none)'}",
                 "",
                 f"Numbers are over seeds: mean ± sample standard deviation [{kConfidence:.0%} confidence interval of "
                 "the mean, Student t with n − 1 degrees of freedom]; a setting with one finished seed shows its "
                 "value alone. Only points with a result (done, or stopped early) enter the statistics. Accuracies are in %. "
                 + self.train_accuracy_text() +
                 " *Test acc at best-val epoch* is the test accuracy of the epoch "
                 "with the highest validation accuracy: the number to report, since the epoch is chosen without "
                 "looking at the test set.", "")
        timing = self.timing_text()
        if timing:
            self.add(timing, "")
        if self.clean_train_points() < self.result_points():
            self.note(self.train_accuracy_fallback())

    def timing_text(self) -> str:
        """What the times were measured with, from the file: devices, LibTorch threads and ranks per point (files
        before journal version 5 do not say), and which points shared a pack (their time is their share)."""
        with_result = self.table[self.table["status"].isin(kResultStatuses)]
        if not len(with_result):
            return ""

        def values(column: str) -> str:
            known = sorted({v for v in with_result[column] if v not in ("", 0)}) if column in with_result else []
            return ", ".join(str(v) for v in known)

        parts = [f"device {values('device') or 'not recorded'}"]
        if values("threads"):
            parts.append(f"LibTorch threads per rank {values('threads')}")
            parts.append(f"ranks per point {values('ranks')}")
        text = ("Times are wall time per point, evaluation included (" + "; ".join(parts) + "); other work on the "
                "machine at the time is not recorded.")
        packed = with_result[with_result["pack_members"] > 1]
        if len(packed):
            text += (f" {len(packed)} of {len(with_result)} points trained in packs (`--pack`; "
                     f"{packed['pack_members'].mean():.1f} points per epoch on average): a packed point's time is its "
                     "share of its pack's wall time, `train_seconds / pack_members`.")
        return text

    def result_points(self) -> int:
        return int(self.table["status"].isin(kResultStatuses).sum())

    def clean_train_points(self) -> int:
        """Points with a result whose last epoch has the clean train accuracy (curve column train_eval_acc)."""
        with_result = self.table[self.table["status"].isin(kResultStatuses)]
        return int(np.isfinite(with_result["final_train_eval_acc"].astype(float)).sum())

    def train_accuracy_text(self) -> str:
        running = ("the *running train accuracy* is the mean over the last epoch's training batches (dropout and "
                   "augmentation active, weights still moving)")
        if self.result_points() and self.clean_train_points() == 0:
            return ("*Train accuracy* is the running one: the mean over the last epoch's training batches (dropout "
                    "and augmentation active, weights still moving); the *train − test gap* is that minus the final "
                    "test accuracy, in percentage points.")
        return (f"The *clean train accuracy* is the trained model's after the last epoch, in eval mode (no dropout, "
                f"no augmentation) on a fixed, seeded subset of up to {kTrainEvalImages:,} training images; {running}. "
                "The *train − test gap* is the clean train accuracy minus the final test accuracy, in percentage "
                "points.")

    def train_accuracy_fallback(self) -> str:
        clean, total = self.clean_train_points(), self.result_points()
        which = "None" if clean == 0 else f"Only {clean} of {total}"
        return (f"{which} of the points with a result have the clean train accuracy (curve column "
                "`train_eval_acc`, written by ablate since journal version 4): the train − test gap of "
                f"{'every point' if clean == 0 else 'the others'} uses the running train accuracy instead, which "
                "dropout and augmentation pull down, so that gap understates the real one for regularised settings.")

    def unfinished(self):
        rows = self.table[~self.table["status"].isin(kResultStatuses)]
        self.add("## Points that did not finish", "")
        if rows.empty:
            self.add("Every point has a result.", "")
            return
        self.add(f"{len(rows)} of {len(self.table)} points are not done (nor stopped early with a result); they are left out of every statistic.", "")
        labels = {i: s.label for s in self.structure.settings for i in s.points["id"]}
        body = []
        for _, row in rows.iterrows():
            body.append([f"`{row['id']}`", labels.get(row["id"], row["case"]), int(row["seed"]), row["status"],
                         int(row.get("attempts", 0) or 0), int(row["epochs_done"]),
                         _error_summary(row.get("error", "")) or "—"])
        self.add(markdown_table(["point", "setting", "seed", "status", "attempts", "epochs done", "error"], body), "")

    def best_on_validation(self):
        self.add("## Best settings, chosen on validation", "")
        ranked = ranking(self.structure)
        if ranked.empty:
            self.add("No finished point with a validation accuracy: nothing to rank.", "")
            return
        best = ranked.iloc[0]["setting"]
        val, test = setting_summary(best, kSelectionMetric), setting_summary(best, kReportedMetric)
        # Only what sets the best apart from most settings: the rest is in the comparisons.
        values = describe(self.structure.notable({k: best.value(k) for k in self.structure.swept_keys}))
        self.add(f"Ranked by mean best validation accuracy over seeds. The best setting is **{best.label}**"
                 + (f" ({values})" if values and values != best.label else "") + ": "
                 f"validation {_pct(val)} %, reported on test (epoch chosen on validation) **{_pct(test)} %** "
                 f"over {val.n} seed{'s' if val.n != 1 else ''}.", "")
        body = []
        for rank, row in ranked.head(kRankingRows).iterrows():
            setting = row["setting"]
            versus = "—" if setting is best else format_test(difference_test(setting, best, kReportedMetric))
            body.append([rank + 1, setting.label, row["seeds"], _pct(setting_summary(setting, kSelectionMetric)),
                         _pct(setting_summary(setting, kReportedMetric)),
                         _pct(setting_summary(setting, "final_test_acc")), versus])
        self.add(markdown_table(["rank", "setting", "seeds done", "best val acc (%)", "test acc at best-val epoch (%)",
                                 "final test acc (%)", "Δ test at best-val vs rank 1 (pp), Welch p"], body), "")
        self.add("The last column: each setting's test accuracy at its best-validation epoch minus rank 1's, and "
                 f"the p-value of Welch's t-test over their seeds (* for p < {kSignificance:g}: a difference the "
                 "seeds show to be real; see the note under *Comparisons*).", "")
        if len(ranked) > kRankingRows:
            self.add(f"({len(ranked) - kRankingRows} more settings in the comparisons below.)", "")

    def search(self):
        keys = random_search_keys(self.info, self.structure)
        ranked = ranking(self.structure)
        if not keys or ranked.empty:
            return
        best = ranked.iloc[0]["setting"]
        self.add("## Hyperparameter search", "")
        self.add(f"The spec draws {', '.join(k.key for k in keys)} at random. Each sample is trained over its seeds; "
                 f"the sample with the best mean validation accuracy is chosen and its test accuracy reported: "
                 f"**{describe({k.key: best.value(k.key) for k in keys})}**, validation "
                 f"{_pct(setting_summary(best, kSelectionMetric))} %, test "
                 f"{_pct(setting_summary(best, kReportedMetric))} %.", "")
        path, name = self.figure_path("search-sensitivity")
        if figures.search_sensitivity(self.structure.settings, keys, best, path):
            self.embed(name, path, "Validation accuracy of every sample against each searched hyperparameter; the "
                                   "star is the sample chosen on validation.")

    def search_trials_section(self):
        """A [search] sweep's trials in suggestion order: objective per trial and the running best."""
        by_method = search_trials.objectives_by_method(self.table)
        if not by_method:
            return
        if len(by_method) > 1:  # several searches in one file (--allow-different-sweep): side by side
            self.add("## Search trials", "")
            for method, rows in by_method.items():
                known = rows.dropna(subset=["objective"])
                if not known.empty:
                    self.add(f"- {method}: {len(rows)} trials; best trial {int(known['objective'].idxmax())}, mean best "
                             f"validation accuracy {100 * known['objective'].max():.2f} %.")
            self.add("")
            path, name = self.figure_path("search-trials")
            if search_trials.trials_figure(by_method, f"{self.info.get('sweep_name', 'search')}: trials", path):
                self.embed(name, path, "Each search method's trials and its best so far, side by side.")
            return
        objectives = next(iter(by_method.values()))
        known = objectives.dropna(subset=["objective"])
        methods = ", ".join(sorted(set(objectives["suggested_by"])))
        self.add("## Search trials", "")
        text = f"{len(objectives)} trials suggested ({methods}), {len(known)} with every seed's result."
        if not known.empty:
            best = int(known["objective"].idxmax())
            text += f" Best: trial {best}, mean best validation accuracy {100 * known.loc[best, 'objective']:.2f} %."
        self.add(text, "")
        path, name = self.figure_path("search-trials")
        if search_trials.trials_figure(objectives, f"{self.info.get('sweep_name', 'search')}: trials", path):
            self.embed(name, path, "Each trial's mean best validation accuracy over its seeds, in the order the "
                                   "search suggested them, and the best so far.")

    def early_stopping_section(self):
        es = self.early_stopping
        if not es:
            return
        finished = self.table[self.table["status"].isin(kResultStatuses)]
        if finished.empty:
            return
        budget = int(max(int(c.iloc[-1]["epoch"]) for c in self.curves.values() if not c.empty)
                     if self.curves else 0)
        budget = max(budget, int(self.table["epochs_done"].max()))
        rungs = early_stopping.rung_epochs(es, budget)
        trained, full = early_stopping.compute(self.table, budget)
        self.add("## Early stopping", "")
        self.add(f"Method **{es.get('method', '?')}** on `{es['metric']}` "
                 f"({'higher' if es['maximize'] else 'lower'} is better), reduction factor {es['reduction_factor']}, "
                 f"rungs at epochs {', '.join(map(str, rungs))}. The points with a result trained **{trained} "
                 f"epochs** of the {full} a sweep without early stopping trains: "
                 f"{full / trained:.1f}x less compute ({100 * (1 - trained / full):.0f} % saved).", "")
        self.add(markdown_table(["rung (epoch)", "points that trained to it", "ended there", "went on"],
                                early_stopping.rung_table(finished, rungs)), "")
        top = finished[finished["status"] == "done"]
        if not top.empty:
            best = top.loc[top[kSelectionMetric].idxmax()]
            self.add(f"Best point on validation among the {len(top)} that reached the top rung: `{best['id']}` "
                     f"(validation {100 * best[kSelectionMetric]:.2f} %, test at that epoch "
                     f"**{100 * best[kReportedMetric]:.2f} %**). Stopped points are left out of the rankings and "
                     f"comparisons of this report: their numbers come from fewer epochs.", "")
        path, name = self.figure_path("early-stopping-curves")
        statuses = dict(zip(self.table["id"], self.table["status"]))
        if early_stopping.curves_figure(self.curves, statuses, es["metric"], rungs,
                                        f"{es['metric']} of every point ({es.get('method', '')})", path):
            self.embed(name, path, "Every point's curve: those that trained every epoch in colour, the ones early "
                                   "stopping stopped in grey, ending at their rung (dotted lines).")

    def pareto_fronts(self):
        path, name = self.figure_path("pareto-fronts")
        if not pareto.figure(self.table, "Validation accuracy against cost", path):
            return
        self.add("## Accuracy against cost", "")
        self.add("The points no other point beats on both best validation accuracy and cost (points trained to the "
                 "end; `ablate status --pareto` lists the same):", "")
        for cost, label in pareto.kCosts:
            edge = pareto.front(self.table, cost)
            body = [[f"`{row['id']}`", row["case"] or "", f"{100 * row['best_val_acc']:.2f}",
                     f"{row[cost]:.1f}" if cost == "point_seconds" else f"{int(row[cost])}"]
                    for _, row in edge.iterrows()]
            self.add(f"Against {label}:", "", markdown_table(["point", "case", "best val acc (%)", label], body), "")
        self.embed(name, path, "Every point trained to the end (grey) and the Pareto fronts (red) against training "
                               "time and parameter count.")

    def comparisons(self):
        self.add("## Comparisons", "")
        comparisons = self.structure.comparisons
        if len(self.structure.settings) < 2:
            self.add("The sweep has one setting (its seeds aside): nothing to compare.", "")
            return
        if not comparisons:
            self.add("No two settings differ in a single factor, so there is nothing to compare side by side "
                     "(see the ranking above).", "")
            return
        self.add("Each comparison holds settings that differ in one factor (a key, or a family of keys that "
                 "studies vary together, such as the regularisers) and agree on every other swept key; a "
                 "*sweep cases* comparison lines up the named cases of the spec.", "")
        self.add(_kDifferenceNote, "")
        for number, comparison in enumerate(comparisons, 1):
            self.add(f"### {number}. {comparison.title}", "")
            if comparison.fixed:
                self.add(f"Other swept keys: {describe(comparison.fixed)}.", "")
            self.add(comparison_markdown(comparison, self.structure.has_cases), "")
            if len(comparison.settings) > figures.kMaxCurveSettings:
                self.add(f"({len(comparison.settings)} settings: too many for one curve figure; the smaller "
                         "comparisons show their curves.)", "")
                continue
            path, name = self.figure_path(f"curves-{comparison.title}")
            if figures.learning_curves(self.labelled(comparison), self.curves, comparison.title, path):
                self.embed(name, path, f"Learning curves, {comparison.title}: train (dashed) and validation (solid) "
                                       "accuracy and loss per epoch, mean over seeds with a ±1 std band.")
            else:
                self.add("(No finished point: no curves.)", "")

    def generalization(self):
        groups = self.structure.comparisons_of("regularization")
        if not groups:
            return
        self.add("## Generalisation gap under regularisation", "")
        self.add("How far the final train accuracy is above the final test accuracy, per regulariser; on the right "
                 "the gap between train and validation accuracy as training goes on. The gap uses the clean train "
                 "accuracy (eval mode, fixed training subset) where the file has it; the running one is shown "
                 "beside it.", "")
        for comparison in groups:
            body = [[label, seed_counts(s), _pct(setting_summary(s, "final_train_eval_acc")),
                     _pct(setting_summary(s, "final_train_acc")), _pct(setting_summary(s, "final_test_acc")),
                     _pct(setting_summary(s, "train_test_gap"))]
                    for label, s in self.labelled(comparison)]
            self.add(f"**{comparison.title}**", "",
                     markdown_table(["setting", "seeds done", "clean train acc (%)", "running train acc (%)",
                                     "final test acc (%)", "train − test gap (pp)"], body), "")
            path, name = self.figure_path(f"gap-{comparison.title}")
            if figures.generalization_gap(self.labelled(comparison), self.curves, comparison.title, path):
                self.embed(name, path, f"Generalisation gap, {comparison.title}.")

    def learning_rate_by_normalization(self):
        panels = lr_normalization_panels(self.structure)
        if not panels:
            return
        self.add("## Accuracy vs learning rate, per input normalisation", "")
        self.add("Test accuracy at the best-validation epoch; rows are the `normalize` mode, columns the learning "
                 "rate. A cell with no finished seed shows — (its failures are listed above); an empty cell is not "
                 "in the sweep.", "")
        for panel in panels:
            title = "accuracy vs learning rate" + (f" at {describe(panel.notable)}" if panel.notable else "")
            if panel.fixed:
                self.add(f"**{title}** (other swept keys: {describe(panel.fixed)})", "")
            pivot = lr_normalization_pivot(panel)
            body = [[mode] + [_pct(cell) if cell is not None else "" for cell in pivot.loc[mode]]
                    for mode in pivot.index]
            self.add(markdown_table(["normalize \\ lr"] + [f"{lr:g}" for lr in pivot.columns], body), "")
            path, name = self.figure_path(title)
            if figures.accuracy_vs_lr(panel.settings, kReportedMetric, title, path):
                self.embed(name, path, "Test accuracy against learning rate, one line per normalisation mode "
                                       "(× at chance level: every seed failed).")

    def augmentation(self):
        groups = self.structure.comparisons_of("augmentation")
        if not groups:
            return
        self.add("## Accuracy vs training time under augmentation", "")
        for comparison in groups:
            body = []
            for label, setting in self.labelled(comparison):
                seconds = setting_summary(setting, "point_seconds")
                body.append([label, seed_counts(setting), _pct(setting_summary(setting, kReportedMetric)),
                             format_summary(seconds, 1.0, digits=seconds_digits(seconds.mean))])
            self.add(f"**{comparison.title}**", "",
                     markdown_table(["setting", "seeds done", "test acc at best-val epoch (%)", "train time (s)"],
                                    body),
                     "")
            path, name = self.figure_path(f"time-{comparison.title}")
            if figures.accuracy_vs_time(self.labelled(comparison), kReportedMetric, comparison.title, path):
                self.embed(name, path, f"Accuracy against training time, {comparison.title}.")

    def errors_of_best_model(self):
        self.add("## Errors of the best model", "")
        ranked = ranking(self.structure)
        if ranked.empty:
            self.add("No finished point with a validation accuracy: no best model.", "")
            return
        setting = ranked.iloc[0]["setting"]
        point = best_point(setting)
        confusion = self.results.confusion(point["id"])
        if confusion is None:
            self.note(f"Point {point['id']} has no confusion_test dataset; no error analysis.")
            return
        total = int(confusion.sum())
        accuracy = np.trace(confusion) / total if total else float("nan")
        self.add(f"The best setting on validation, **{setting.label}**, and within it the seed with the highest "
                 f"validation accuracy: point `{point['id']}` (seed {int(point['seed'])}, test accuracy after the last "
                 f"epoch {100 * accuracy:.2f} % on {total} images).", "")
        path, name = self.figure_path("confusion")
        figures.confusion_heatmap(confusion, f"Test confusion of {setting.label}, seed {int(point['seed'])}", path)
        self.embed(name, path, "Confusion matrix on the test set after the last epoch; each row is a true class, "
                               "cells are % of that class.")
        pairs = confused_pairs(confusion, kConfusedPairs)
        if not pairs:
            self.add("No test image is misclassified.", "")
            return
        body = [[f"{kClassNames[p.a]} ↔ {kClassNames[p.b]}", p.total,
                 f"{100 * p.a_as_b_rate:.1f} % ({p.a_as_b})", f"{100 * p.b_as_a_rate:.1f} % ({p.b_as_a})"]
                for p in pairs]
        self.add("The most confused class pairs (A ↔ B), with the rate in each direction as a share of the true "
                 "class's test images:", "",
                 markdown_table(["pair A ↔ B", "images confused", "A predicted as B", "B predicted as A"], body), "")
        self.strips(point["id"], confusion, pairs[:kPairStrips])

    def strips(self, point_id: str, confusion: np.ndarray, pairs):
        try:
            test_set = load_test_set(self.data_dir)
        except (DataError, OSError) as error:
            self.note(f"No image strips: {error}")
            return
        predictions = self.results.test_predictions(point_id)
        if predictions is not None and predictions.shape != test_set.labels.shape:
            self.note(f"The stored test_predictions of {point_id} have shape {predictions.shape}, the test set in "
                      f"{test_set.dir} has {test_set.labels.shape[0]} images: not the same data; showing class "
                      "examples instead.")
            predictions = None
        if predictions is not None and not _agrees(predictions, test_set.labels, confusion):
            self.note(f"The stored test_predictions of {point_id} do not reproduce its confusion_test; they are "
                      "ignored (showing class examples instead).")
            predictions = None
        rows = []
        shown_of_class: dict[int, int] = {}  # a class in two pairs shows different examples each time
        for number, pair in enumerate(pairs, 1):
            prefix = f"{number}. {kClassNames[pair.a]} ↔ {kClassNames[pair.b]}: "
            for true, predicted in ((pair.a, pair.b), (pair.b, pair.a)):
                if predictions is not None:
                    images = _pick(test_set, true, predictions, predicted)
                    count = int(np.sum((test_set.labels == true) & (predictions == predicted)))
                    shown = f"{len(images)} of {count}" if count > len(images) else f"all {count}"
                    caption = f"true {kClassNames[true]}, predicted {kClassNames[predicted]} ({shown})"
                else:
                    skip = shown_of_class.get(true, 0)
                    images = _pick(test_set, true, skip=skip)
                    shown_of_class[true] = skip + len(images)
                    caption = f"examples of class {kClassNames[true]}"
                rows.append((prefix + caption, images))
        path, name = self.figure_path("confused-pairs")
        if predictions is not None:
            title = "Misclassified test images of the most confused pairs"
            caption = ("Test images the best model got wrong, for each of the most confused pairs in both "
                       "directions (the first in test-set order).")
        else:
            title = "Examples of the classes in the most confused pairs (not necessarily misclassified)"
            caption = ("Examples of class A and class B from the test set (in test-set order) "
                       "for each of the most confused pairs. The results file stores no per-image predictions "
                       "(`test_predictions`), so these are not necessarily the misclassified images.")
        figures.image_strips(rows, kStripImages, title, path)
        self.embed(name, path, caption)

    def write(self) -> Report:
        self.header()
        self.unfinished()
        self.early_stopping_section()
        self.best_on_validation()
        self.search()
        self.search_trials_section()
        self.pareto_fronts()
        self.comparisons()
        self.generalization()
        self.learning_rate_by_normalization()
        self.augmentation()
        self.errors_of_best_model()
        with open(self.report.index_path, "w", encoding="utf-8") as out:
            out.write("\n".join(self.lines).rstrip() + "\n")
        return self.report


def _pick(test_set: TestSet, true_class: int, predictions=None, predicted_class: int | None = None,
          skip: int = 0) -> np.ndarray:
    """Up to kStripImages test images of true_class (predicted as predicted_class, when predictions are given),
    in test-set order after the first `skip`."""
    mask = test_set.labels == true_class
    if predictions is not None:
        mask &= predictions == predicted_class
    return test_set.images[np.flatnonzero(mask)[skip:skip + kStripImages]]


def _agrees(predictions: np.ndarray, labels: np.ndarray, confusion: np.ndarray) -> bool:
    """Whether per-image predictions give exactly the stored confusion matrix (same run, same test set)."""
    if predictions.min(initial=0) < 0 or predictions.max(initial=0) >= confusion.shape[1]:
        return False
    counts = np.zeros_like(confusion)
    np.add.at(counts, (labels, predictions), 1)
    return bool(np.array_equal(counts, confusion))


def _spec_description(spec_text: str) -> str:
    try:
        return str(tomllib.loads(spec_text).get("description", ""))
    except tomllib.TOMLDecodeError:
        return ""


def write_report(results_path: str, out_dir: str, data_dir: str | None = None) -> Report:
    """Writes out_dir/index.md and its PNG figures; returns what was written. data_dir: Fashion-MNIST for the
    image strips (else $ABLATE_DATA, then the Debian package's directory)."""
    os.makedirs(out_dir, exist_ok=True)
    with ResultsFile(results_path) as results:
        return _Writer(results, out_dir, data_dir).write()
