"""`iadsim report DIR` and `iadsim export DIR`: rebuild a run's report, and write Google Earth (KMZ)
and Cesium (CZML) files of any replication, from the run's output folder.

Every run already writes report.html, run.kmz and run.czml (of its recorded replication); these
commands rebuild them later (another replication, static PNGs for a paper, a newer iadsim) without
running the Monte Carlo again: the World is recompiled from the scenario copy in the folder and
the stored tables are read back (see :mod:`iadsim.report.run_folder`).
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Annotated, Optional

import typer

from iadsim.cli import console, err

RunDir = Annotated[Path, typer.Argument(help="output folder of `iadsim run` / `iadsim demo`")]
Replication = Annotated[Optional[int], typer.Option(
    "--replication", "-r", min=0, help="replication to show (default: the one the run recorded); "
                                       "re-simulated alone, deterministically")]


def _load(run_dir: Path, replication: int | None):
    from iadsim.report.run_folder import RunMismatchWarning, load_run

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RunMismatchWarning)
        res = load_run(run_dir, replication)
    for w in caught:
        err.print(f"[yellow]warning:[/yellow] {w.message}", highlight=False, soft_wrap=True)
    return res


def register(app: typer.Typer) -> None:
    @app.command()
    def report(
        run_dir: RunDir,
        png: Annotated[bool, typer.Option("--png", help="also write a PNG of every chart and map into "
                                                        "figures/ beside the report")] = False,
        replication: Replication = None,
        out: Annotated[Optional[Path], typer.Option("--out", "-o", help="report file (default: DIR/report.html)")] = None,
        title: Annotated[Optional[str], typer.Option("--title", help="report title")] = None,
    ) -> None:
        """Rebuild a run's offline HTML report from its folder (no new Monte Carlo)."""
        from iadsim.report import write_report
        from iadsim.results.io import check_out_dir_writable

        t0 = time.perf_counter()
        path = out if out is not None else run_dir / "report.html"
        check_out_dir_writable(path.parent)
        res = _load(run_dir, replication)
        p = write_report(res, path, title=title, png=png, run_folder=run_dir)
        console.print(f"[green]wrote[/green] {p}" + (f" and {p.parent / 'figures'}/*.png" if png else "")
                      + f" (timeline: replication {res.timeline_replication}) in {time.perf_counter() - t0:.1f} s")

    @app.command()
    def export(
        run_dir: RunDir,
        kml: Annotated[bool, typer.Option("--kml/--no-kml", help="write a KMZ for Google Earth")] = True,
        czml: Annotated[bool, typer.Option("--czml/--no-czml", help="write CZML for Cesium")] = True,
        replication: Replication = None,
        out: Annotated[Optional[Path], typer.Option("--out", "-o", help="folder (default: DIR)")] = None,
    ) -> None:
        """Write Google Earth (KMZ) and Cesium (CZML) files of a run, for any replication.

        Files: run.kmz / run.czml for the recorded replication, run.rN.kmz / run.rN.czml for
        replication N."""
        from iadsim.export.czml import write_run_czml
        from iadsim.export.kml_run import write_run_kmz
        from iadsim.results.io import check_out_dir_writable, prepare_out_dir

        if not (kml or czml):
            raise typer.BadParameter("nothing to write: give --kml and/or --czml")
        t0 = time.perf_counter()
        folder = out if out is not None else run_dir
        check_out_dir_writable(folder)
        res = _load(run_dir, replication)
        folder = prepare_out_dir(folder)
        import json

        recorded = json.loads((run_dir / "summary.json").read_text(encoding="utf-8")).get("timeline_replication", 0)
        stem = "run" if replication is None or replication == recorded else f"run.r{replication}"
        written = []
        if kml:
            written.append(write_run_kmz(res, folder / f"{stem}.kmz"))
        if czml:
            written.append(write_run_czml(res, folder / f"{stem}.czml"))
        for p in written:
            console.print(f"[green]wrote[/green] {p} ({p.stat().st_size / 1e6:.2f} MB)")
        console.print(f"replication {res.timeline_replication}, {time.perf_counter() - t0:.1f} s")
