"""The offline HTML report: maps (matplotlib), charts (plotly) and tables in one file.

>>> from iadsim.report import write_report
>>> write_report(results, "out/report.html")  # doctest: +SKIP
"""

from iadsim.report.html import render_report, write_report
from iadsim.report.maps import coverage_count, coverage_map_png, coverage_multiples_png

__all__ = ["coverage_count", "coverage_map_png", "coverage_multiples_png", "render_report",
           "write_report"]
