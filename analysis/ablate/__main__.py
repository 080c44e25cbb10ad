"""Command line: python -m ablate report RESULTS.h5 -o DIR [--data DIR]
              python -m ablate tensorboard RESULTS.h5 --logdir DIR [--follow] [--poll S] [--timeout S]"""

from __future__ import annotations

import argparse
import sys

from ablate.fashion_mnist import DataError
from ablate.results import ResultsFormatError


def _report(args) -> int:
    from ablate.report import write_report
    written = write_report(args.results, args.out, args.data)
    print(f"ablate: wrote {written.index_path} and {len(written.figures)} figures")
    for note in written.notes:
        print(f"ablate: note: {note}", file=sys.stderr)
    return 0


def _tensorboard(args) -> int:
    from ablate.tensorboard_export import export_tensorboard
    progress = (lambda text: print(f"ablate: {text}", flush=True)) if args.follow else None
    summary = export_tensorboard(args.results, args.logdir, follow=args.follow, poll_seconds=args.poll,
                                 timeout_seconds=args.timeout, progress=progress)
    state = "every point finished" if summary.finished else "some points unfinished"
    print(f"ablate: wrote {summary.runs} runs ({summary.scalars} scalars) to {args.logdir} ({state}); "
          f"view them with: tensorboard --logdir {args.logdir}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ablate", description="Analyse an ablate results file.")
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser("report", help="write DIR/index.md and PNG figures from a results file")
    report.add_argument("results", help="the .h5 file written by `ablate run -o`")
    report.add_argument("-o", "--out", required=True, help="directory for index.md and the figures (created)")
    report.add_argument("--data", default=None,
                        help="Fashion-MNIST directory for the image strips "
                             "(else $ABLATE_DATA, then the Debian package)")
    report.set_defaults(run=_report)
    board = commands.add_parser(
        "tensorboard", help="write TensorBoard event files: one run per point, its curves, the HParams view",
        description="One run per point (LOGDIR/<point id>): its curve columns as scalars per epoch, its swept "
                    "hyperparameters and case for the HParams dashboard, best_val_acc and test_acc_at_best_val "
                    "as metrics. Event files of an earlier export into the same LOGDIR are replaced. "
                    "Then: tensorboard --logdir LOGDIR")
    board.add_argument("results", help="the .h5 file written by `ablate run -o` (may be a running sweep's)")
    board.add_argument("--logdir", required=True, help="TensorBoard log directory (created)")
    board.add_argument("--follow", action="store_true",
                       help="keep polling the file and write new epochs until every point is done, stopped or "
                            "failed (or --timeout)")
    board.add_argument("--poll", type=float, default=5.0, help="seconds between polls with --follow (default 5)")
    board.add_argument("--timeout", type=float, default=None,
                       help="with --follow, stop after this many seconds even if points are unfinished")
    board.set_defaults(run=_tensorboard)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (FileNotFoundError, ResultsFormatError, DataError, ImportError) as error:
        print(f"ablate: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
