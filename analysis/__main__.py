"""Command line: python -m analysis report RESULTS.h5 -o DIR [--data DIR]."""

from __future__ import annotations

import argparse
import sys

from analysis.fashion_mnist import DataError
from analysis.report import write_report
from analysis.results import ResultsFormatError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis", description="Analyse an ablate results file.")
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser("report", help="write DIR/index.md and PNG figures from a results file")
    report.add_argument("results", help="the .h5 file written by `ablate run -o`")
    report.add_argument("-o", "--out", required=True, help="directory for index.md and the figures (created)")
    report.add_argument("--data", default=None,
                        help="Fashion-MNIST directory for the image strips "
                             "(else $ABLATE_DATA, then the Debian package)")
    args = parser.parse_args(argv)
    try:
        written = write_report(args.results, args.out, args.data)
    except (FileNotFoundError, ResultsFormatError, DataError) as error:
        print(f"analysis: {error}", file=sys.stderr)
        return 1
    print(f"analysis: wrote {written.index_path} and {len(written.figures)} figures")
    for note in written.notes:
        print(f"analysis: note: {note}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
