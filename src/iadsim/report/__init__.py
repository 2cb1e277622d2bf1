"""The offline HTML report: maps (matplotlib), charts (plotly) and tables in one file; reading a
run's folder back; one replication as playback data for the KML and CZML exports.

>>> from iadsim.report import write_report, load_run
>>> write_report(results, "out/report.html")         # doctest: +SKIP
>>> write_report(load_run("out"), "out/report.html", png=True)  # doctest: +SKIP

Names are imported on first use, so ``import iadsim.report.playback`` (used by the exports) does
not load plotly and jinja2.
"""

from __future__ import annotations

import importlib

_NAMES = {
    "render_report": "iadsim.report.html",
    "write_report": "iadsim.report.html",
    "write_report_pngs": "iadsim.report.html",
    "report_figures": "iadsim.report.html",
    "coverage_count": "iadsim.report.maps",
    "coverage_map_png": "iadsim.report.maps",
    "coverage_multiples_png": "iadsim.report.maps",
    "layered_map_pngs": "iadsim.report.maps",
    "load_run": "iadsim.report.run_folder",
    "replication_playback": "iadsim.report.playback",
    "coverage_dataarray": "iadsim.export.xr",
    "coverage_dataset": "iadsim.export.xr",
}

__all__ = sorted(_NAMES)


def __getattr__(name: str):
    if name in _NAMES:
        value = getattr(importlib.import_module(_NAMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'iadsim.report' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_NAMES))
