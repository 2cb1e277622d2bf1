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

from iadsim.cli import PluginOpt, console, err, escape

RunDir = Annotated[Path, typer.Argument(help="output folder of `iadsim run` / `iadsim demo`")]
Replication = Annotated[Optional[int], typer.Option(
    "--replication", "-r", min=0, help="replication to show (default: the one the run recorded); "
                                       "re-simulated alone, deterministically")]


def _plugins(paths) -> None:
    """Load the user plugins a run used (``--plugin``: the run's world is compiled again)."""
    from iadsim.plugins import load_plugins

    load_plugins(paths)


def _load(run_dir: Path, replication: int | None):
    from iadsim.report.run_folder import RunMismatchWarning, load_run

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RunMismatchWarning)
        res = load_run(run_dir, replication)
    for w in caught:
        err.print(f"[yellow]warning:[/yellow] {w.message}", highlight=False, soft_wrap=True)
    return res


def _run_info(run_dir: Path) -> dict:
    """run.json of a run folder, after the checks that need no computation (a folder, complete,
    an iadsim run description of a version this iadsim reads, a readable summary)."""
    from iadsim.report.run_folder import RUN_FILES, load_run, read_run_info, read_summary

    if not run_dir.is_dir() or any(not (run_dir / f).is_file() for f in RUN_FILES):
        load_run(run_dir)  # raises the error that says what is wrong
    info = read_run_info(run_dir)
    read_summary(run_dir)
    return info


def _refuse_inputs(targets: list[Path], run_dir: Path, info: dict) -> None:
    from iadsim.errors import OutputError
    from iadsim.report.run_folder import input_files

    ins = set()
    for p in input_files(run_dir, info):
        try:
            ins.add(p.resolve())
        except (OSError, RuntimeError):
            pass
    for t in targets:
        if t.resolve() in ins:
            raise OutputError(f"{t} is a file the run folder {run_dir} is rebuilt from; writing there would "
                              "destroy it: choose another output path. Nothing was changed.")


def _refuse_foreign(targets: list[Path], force: bool) -> None:
    """Refuse to replace files iadsim did not write (unless --force)."""
    from iadsim.errors import OutputError
    from iadsim.results.io import written_by_iadsim

    for t in targets:
        if t.is_dir():
            raise OutputError(f"{t} is a folder; give a file name. Nothing was changed.")
        if not force and t.exists() and not written_by_iadsim(t):
            raise OutputError(f"{t} exists and was not written by iadsim; choose another path, or add --force "
                              "to replace it. Nothing was changed.")


def _lock(run_dir: Path, out_dir: Path):
    """The lock of the run folder while it is read and written (and of the output folder when it is
    an iadsim folder elsewhere)."""
    from contextlib import ExitStack

    from iadsim.results.io import MANIFEST, output_lock

    stack = ExitStack()
    stack.enter_context(output_lock(run_dir, "iadsim command"))
    if out_dir.resolve() != run_dir.resolve() and (out_dir / MANIFEST).is_file():
        stack.enter_context(output_lock(out_dir, "iadsim command"))
    return stack


Force = Annotated[bool, typer.Option(
    "--force", help="replace files at the output path that iadsim did not write (or write into such a folder)")]


def register(app: typer.Typer) -> None:
    @app.command()
    def report(
        run_dir: RunDir,
        png: Annotated[bool, typer.Option("--png", help="also write a PNG of every chart and map into "
                                                        "figures/ beside the report")] = False,
        replication: Replication = None,
        out: Annotated[Optional[Path], typer.Option("--out", "-o", help="report file (default: DIR/report.html)")] = None,
        title: Annotated[Optional[str], typer.Option("--title", help="report title")] = None,
        force: Force = False,
        plugin: PluginOpt = None,
    ) -> None:
        """Rebuild a run's offline HTML report from its folder (no new Monte Carlo)."""
        from iadsim.report import write_report
        from iadsim.results.io import check_out_dir_writable

        t0 = time.perf_counter()
        _plugins(plugin)
        path = out if out is not None else run_dir / "report.html"
        if path.is_dir():  # a folder: report.html inside it
            path = path / "report.html"
        info = _run_info(run_dir)
        check_out_dir_writable(path.parent)
        figs = path.parent / "figures"
        targets = [path] + (sorted(figs.glob("*.png")) if png and figs.is_dir() else [])
        _refuse_inputs(targets, run_dir, info)
        _refuse_foreign(targets, force)
        with _lock(run_dir, path.parent):
            res = _load(run_dir, replication)
            p = write_report(res, path, title=title, png=png, run_folder=run_dir)
        console.print(f"[green]wrote[/green] {escape(str(p))} ({file_size(p)})"
                      + (f" and {escape(str(p.parent / 'figures'))}/*.png" if png else "")
                      + f" (timeline: replication {res.timeline_replication}) in {time.perf_counter() - t0:.1f} s",
                      soft_wrap=True, highlight=False)

    @app.command()
    def export(
        run_dir: RunDir,
        kml: Annotated[bool, typer.Option("--kml/--no-kml", help="write a KMZ for Google Earth")] = True,
        czml: Annotated[bool, typer.Option("--czml/--no-czml", help="write CZML for Cesium")] = True,
        replication: Replication = None,
        out: Annotated[Optional[Path], typer.Option("--out", "-o", help="folder (default: DIR)")] = None,
        force: Force = False,
        plugin: PluginOpt = None,
    ) -> None:
        """Write Google Earth (KMZ) and Cesium (CZML) files of a run, for any replication.

        Files: run.kmz / run.czml for the recorded replication, run.rN.kmz / run.rN.czml for
        replication N."""
        from iadsim.export.czml import write_run_czml
        from iadsim.export.kml_run import write_run_kmz
        from iadsim.report.run_folder import read_summary
        from iadsim.results.io import check_out_folder, prepare_out_dir

        if not (kml or czml):
            raise typer.BadParameter("nothing to write: give --kml and/or --czml")
        t0 = time.perf_counter()
        _plugins(plugin)
        folder = out if out is not None else run_dir
        info = _run_info(run_dir)
        own = folder.exists() and folder.resolve() == run_dir.resolve()
        if not own:
            check_out_folder(folder, "export", force=force)
        recorded = read_summary(run_dir)["timeline_replication"]
        stem = "run" if replication is None or replication == recorded else f"run.r{replication}"
        targets = [folder / f"{stem}.{ext}" for ext, on in (("kmz", kml), ("czml", czml)) if on]
        _refuse_inputs(targets, run_dir, info)
        if own:
            _refuse_foreign(targets, force)
        with _lock(run_dir, folder):
            res = _load(run_dir, replication)
            folder = prepare_out_dir(folder, kind="run" if own else "export")
            written = []
            if kml:
                written.append(write_run_kmz(res, folder / f"{stem}.kmz"))
            if czml:
                written.append(write_run_czml(res, folder / f"{stem}.czml"))
        for p in written:
            console.print(f"[green]wrote[/green] {escape(str(p))} ({file_size(p)})", soft_wrap=True, highlight=False)
        console.print(f"{len(written)} file(s) of replication {res.timeline_replication} in {escape(str(folder))}, "
                      f"{time.perf_counter() - t0:.1f} s", soft_wrap=True, highlight=False)


def file_size(path: Path) -> str:
    """A file's size for people: bytes, kB or MB (powers of 1000, as `ls -h --si`)."""
    n = path.stat().st_size
    if n < 1000:
        return f"{n} bytes"
    return f"{n / 1e3:.1f} kB" if n < 1e6 else f"{n / 1e6:.2f} MB"
