"""ablate's Python side: read a sweep's results file (docs/results-format.md), write its report, export it to
TensorBoard.

    import ablate
    table = ablate.load("results.h5")                # one row per point, every hyperparameter a column
    curve = ablate.curves("results.h5", table.id[0])  # one row per epoch
    ablate.write_report("results.h5", "report/")      # report/index.md and PNG figures

or from the shell: python -m ablate report results.h5 -o report/
                   python -m ablate tensorboard results.h5 --logdir runs/ [--follow]
"""

from ablate.fashion_mnist import kClassNames
from ablate.grouping import Comparison, Setting, SweepStructure
from ablate.report import Report, write_report
from ablate.results import (ResultsFile, ResultsFormatError, curves, has_result, kResultStatuses,
                            kUnfinishedStatuses, load)
from ablate.stats import Summary, summarize, t_quantile
from ablate.tables import comparison_table

__version__ = "0.1.0"

__all__ = ["Comparison", "Report", "ResultsFile", "ResultsFormatError", "Setting", "Summary", "SweepStructure",
           "comparison_table", "curves", "has_result", "kClassNames", "kResultStatuses", "kUnfinishedStatuses",
           "load", "summarize", "t_quantile", "write_report"]
