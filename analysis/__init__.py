"""ablate's analysis: read a sweep's results file (docs/results-format.md) and write its report.

    import analysis
    table = analysis.load("results.h5")                # one row per point, every hyperparameter a column
    curve = analysis.curves("results.h5", table.id[0])  # one row per epoch
    analysis.write_report("results.h5", "report/")      # report/index.md and PNG figures

or from the shell: python -m analysis report results.h5 -o report/
"""

from analysis.fashion_mnist import kClassNames
from analysis.grouping import Comparison, Setting, SweepStructure
from analysis.report import Report, write_report
from analysis.results import ResultsFile, ResultsFormatError, curves, load
from analysis.stats import Summary, summarize, t_quantile
from analysis.tables import comparison_table

__all__ = ["Comparison", "Report", "ResultsFile", "ResultsFormatError", "Setting", "Summary", "SweepStructure",
           "comparison_table", "curves", "kClassNames", "load", "summarize", "t_quantile", "write_report"]
