"""The ``iadsim`` command (typer + rich). Nothing imports this package."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
import typer.core
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from iadsim import __version__
from iadsim.errors import IadsimError, InputError


def _plain_help(cmd, ctx) -> None:
    """Help as written: boolean flags show as flags (``--quiet``, ``--kml/--no-kml``), not as
    options taking a ``<bool>`` value (typer prints a type for every option without a metavar);
    brackets in help texts are text, not rich markup (``pip install 'iadsim[ray]'``, ``[m]``).
    Applied once per command, to its parameters and to its sub-commands."""
    if getattr(cmd, "_iadsim_plain_help", False):
        return
    cmd._iadsim_plain_help = True
    if cmd.help:
        cmd.help = escape(cmd.help)
    if cmd.short_help:
        cmd.short_help = escape(cmd.short_help)
    for p in cmd.get_params(ctx):
        if getattr(p, "is_flag", False) and p.metavar is None:
            p.metavar = ""
        if getattr(p, "help", None):
            p.help = escape(p.help)
    for sub in getattr(cmd, "commands", {}).values():
        _plain_help(sub, ctx)


#: an opening bracket rich would read as markup ("[ray]", "[m]"), unless it is escaped already
_MARKUP_TAG = re.compile(r"(?<!\\)\[(?=[a-zA-Z#/@][^\[]*?\])")


def escape(text: str) -> str:
    """``text`` with its brackets escaped for rich (those already escaped are left alone)."""
    return _MARKUP_TAG.sub(r"\\[", text)


class _Group(typer.core.TyperGroup):
    """The root command: help shows flags and brackets as written (see :func:`_plain_help`)."""

    def get_params(self, ctx):
        params = super().get_params(ctx)
        _plain_help(self, ctx)
        return params

    def get_command(self, ctx, cmd_name):
        cmd = super().get_command(ctx, cmd_name)
        if cmd is not None:
            _plain_help(cmd, ctx)
        return cmd


app = typer.Typer(
    name="iadsim",
    cls=_Group,
    rich_markup_mode="rich",  # help texts are escaped (_plain_help): '[ray]' and '[m]' print as written
    help="iadsim: open, reproducible integrated-air-defence simulation on real terrain "
         "(analysis and education on public information).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
catalog_app = typer.Typer(help="Systems in the catalog, with every figure's source and confidence.",
                          no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")

# in a pipe or a log, rich would assume 80 columns; tables read better at 120
console = Console(width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 120)

DEFAULT_OUT_ROOT = Path("iadsim-out")

Replications = Annotated[Optional[int], typer.Option("-n", "--replications", min=1, max=10_000_000,
                                                     help="replications (default: the scenario's)")]
Seed = Annotated[Optional[int], typer.Option("--seed", min=0, max=2**63 - 1,
                                              help="random seed, 0 to 2**63 - 1 (default: the scenario's)")]
Workers = Annotated[int, typer.Option("--workers", "-w", min=1, max=256,
                                      help="local worker processes (1: this process, all cores)")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar or tables")]
SetOpt = Annotated[Optional[list[str]], typer.Option(
    "--set", help="override a catalog figure for this run: SYSTEM.FIGURE=VALUE or SYSTEM.FIGURE=LOW:VALUE:HIGH "
                  "(repeatable), e.g. --set pantsir_s1.pk_single_shot=0.5")]
Force = Annotated[bool, typer.Option(
    "--force", help="write into a non-empty output folder that iadsim did not write (or wrote for "
                    "another command); files with iadsim's names there are replaced")]


def progress_bar(quiet: bool, remaining: bool = False) -> Progress:
    """The progress display of every long command (on stderr; nothing when quiet)."""
    cols = [TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn()] + ([TimeRemainingColumn()] if remaining else [])
    return Progress(*cols, console=err, disable=quiet, transient=False)


def output_folder(out: Path | None, default_name: str, kind: str = "output", force: bool = False) -> Path:
    """``out``, or iadsim-out/DEFAULT_NAME; refused before any work if it cannot be written, or if
    it is a non-empty folder iadsim did not write for this ``kind`` of command (unless ``force``)."""
    from iadsim.results.io import check_out_folder

    out = out if out is not None else DEFAULT_OUT_ROOT / default_name
    check_out_folder(out, kind, force=force)
    return out
Policy = Annotated[Optional[str], typer.Option(
    "--policy", help="weapon-target assignment: urgency, greedy, exact, vlns or a registered policy "
                     "(default: the scenario's simulation.policy)")]
BackendOpt = Annotated[str, typer.Option(
    "--backend", help="local (this machine) or ray (a Ray cluster; pip install 'iadsim[ray]')")]
RayAddress = Annotated[Optional[str], typer.Option(
    "--ray-address", help="Ray cluster: auto, HOST:PORT or ray://HOST:PORT (default: start a local one)")]
JsonOut = Annotated[bool, typer.Option("--json", help="print the summary as JSON on stdout (for scripts)")]
TablesOnly = Annotated[bool, typer.Option(
    "--tables-only", help="write only the tables, summary.json, run.json and the scenario and catalog copies: "
                          "no report, KMZ/CZML, routes or coverage rasters (faster)")]
PluginOpt = Annotated[Optional[list[Path]], typer.Option(
    "--plugin", help="a Python file that registers sensor, effector or mission types, run before the scenario is "
                     "loaded (repeatable). It is code: it runs with your permissions, like any Python "
                     "module you import; name only files you trust (docs/sensors.md, docs/effectors.md)")]
CatalogOpt = Annotated[Optional[list[Path]], typer.Option(
    "--catalog", help="a folder of extra catalog entries (*.yaml) read over the bundled catalog (repeatable)")]
AllowPlugins = Annotated[bool, typer.Option(
    "--allow-plugins", help="run the Python files the scenario's plugins: field names (off by default: a "
                            "scenario from elsewhere runs no code unless you read its plugins and allow them)")]


def scenario_sources(plugins, catalogs, allow_plugins: bool = False) -> dict:
    """load_scenario's keyword arguments for --plugin, --catalog and --allow-plugins."""
    return {"plugins": list(plugins or ()), "catalog_folders": list(catalogs or ()),
            "allow_plugins": bool(allow_plugins)}


def say_plugins(ld, quiet: bool = False) -> None:
    """Name the user plugins a command ran (on stderr), so that running outside code is never silent."""
    for p in getattr(ld, "plugins", None) or ():
        if not quiet:
            what = ", ".join(p.registered) if p.registered else "registered no sensor, effector or mission type"
            err.print(f"[dim]plugin {escape(str(p.path))} (sha256 {p.sha256[:12]}): {escape(what)}[/dim]",
                      highlight=False, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        console.print(f"iadsim {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="print the version and exit")] = False) -> None:
    pass


def _txt(v) -> str:
    """A table cell: '-' for missing values (None, NaN, NA)."""
    import pandas as pd

    return "-" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)


def _fmt_p(p: float, lo: float, hi: float) -> str:
    return f"{p:.3f} [{lo:.3f}, {hi:.3f}]"


def _print_summary(results, out: Path | None, elapsed: float) -> None:
    tt = results.threat_table()
    t = Table(title=f"{results.world.scenario.name}: {results.n} replications, seed {results.seed}, "
                    f"fidelity {results.world.scenario.simulation.fidelity}", title_style="bold")
    t.add_column("threat", no_wrap=True)
    t.add_column("target", no_wrap=True)
    for col in ("P(kill) [95% CI]", "P(reached target / survived) [95% CI]"):
        t.add_column(col, justify="right", no_wrap=True)
    t.add_column("P(det.)", justify="right", no_wrap=True)
    t.add_column("shots", justify="right", no_wrap=True)
    for r in tt.itertuples():
        t.add_row(_txt(r.threat), _txt(r.target), _fmt_p(r.p_kill, r.p_kill_lo, r.p_kill_hi),
                  _fmt_p(r.p_leak, r.p_leak_lo, r.p_leak_hi)
                  + (" reached" if isinstance(r.target, str) else " survived"),
                  f"{r.p_detected:.2f}", f"{r.mean_shots:.2f}")
    from iadsim.effectors import shots_label

    t.caption = ("reached: the threat reached its target; survived: a threat without a target (a drone on a "
                 "sortie) was not killed before its sortie ended; shots: mean per replication of every shot "
                 f"fired at it ({shots_label(results.world)}, counted together)")
    console.print(t)
    at = results.asset_table()
    if len(at):
        a = Table(title="defended assets")
        for col in ("asset", "attackers", "P(survive) [95% CI]", "mean leakers"):
            a.add_column(col)
        for r in at.itertuples():
            a.add_row(r.asset, str(r.attackers), _fmt_p(r.p_survive, r.lo, r.hi), f"{r.mean_leakers:.3f}")
        console.print(a)
    et = results.effector_table()
    if len(et):
        e = Table(title="shots expended per fire unit (fires: what one shot of its weapon type is)")
        moves = "mean_relocations" in et.columns   # shoot-and-scoot units (iadsim.engine.scoot)
        for col in ("fire unit", "system", "fires", "ready", "mean [95% CI]", "max") + (
                ("sites", "relocations (mean)") if moves else ()):
            e.add_column(col)
        for r in et.itertuples():
            e.add_row(r.effector, r.system, r.fires, str(r.ready), f"{r.mean_missiles:.2f} [{r.lo:.2f}, {r.hi:.2f}]",
                      str(r.max_missiles), *((str(r.sites), f"{r.mean_relocations:.2f}") if moves else ()))
        console.print(e)
        if "mean_bursts" in et.columns:   # gun-missile units: their guns' bursts (iadsim.engine.mixed)
            g = Table(title="gun bursts fired per gun-missile fire unit (beside its missiles)")
            for col in ("fire unit", "system", "bursts ready", "mean", "max"):
                g.add_column(col)
            for r in et[et.gun_bursts_ready > 0].itertuples():
                g.add_row(r.effector, r.system, str(r.gun_bursts_ready), f"{r.mean_bursts:.2f}", str(r.max_bursts))
            console.print(g)
    if results.has_radiating:   # failures, emission control or C2 links in use
        rt = Table(title="time each radar radiated per replication (until its last threat was done)")
        for col in ("radar", "mean \\[s]", "max \\[s]", "share of the run"):   # \\[: not rich markup
            rt.add_column(col)
        for r in results.radiating_table():
            rt.add_row(_txt(r["radar"]), f"{r['mean_radiating_s']:.1f}", f"{r['max_radiating_s']:.0f}",
                       f"{100 * r['share_of_run']:.0f}%")
        console.print(rt)
    if getattr(results.world, "react", None) is not None:   # threats that react (iadsim.engine.react)
        _print_reactions(results)
    if getattr(results.raw, "site_kill", None) is not None:   # threat weapons aimed at sites (SEAD)
        st = Table(title="sites put out by threat weapons (SEAD)")
        for col in ("site", "kind", "P(destroyed) [95% CI]", "mean time of the hit \\[s]"):
            st.add_column(col)
        for r in results.site_table():
            st.add_row(_txt(r["site"]), r["kind"], _fmt_p(r["p_destroyed"], r["p_destroyed_lo"], r["p_destroyed_hi"]),
                       "-" if r["mean_destroyed_at_s"] is None else f"{r['mean_destroyed_at_s']:.0f}")
        console.print(st)
    if out is not None:
        rep = f"report: {out / 'report.html'}" if (out / "report.html").is_file() else "tables only"
        console.print(f"[green]wrote[/green] {out}  ({rep})  in {elapsed:.1f} s")


def _print_reactions(results) -> None:
    """Reacting threats: per scenario threat, its sorties that took their reaction or abort path and
    those that aborted (turned away or aborted before accomplishing the mission: neither accomplished
    nor lost)."""
    df = results.replications
    if "reacted_at_s" not in df:
        return
    rt = Table(title="reacting threats: sorties that reacted, and aborted (neither accomplished nor lost)")
    for col in ("threat", "sorties", "reacted", "aborted", "P(aborted)"):
        rt.add_column(col)
    for gi, thr in enumerate(results.world.scenario.threats):
        g = df[(df["group"] == thr.name) & (df["role"] != "weapon")]
        if g.empty or (thr.reaction is None and (thr.mission is None or thr.mission.abort_if is None)):
            continue
        n = len(g)
        ab = int((g["outcome"] == "aborted").sum())
        rt.add_row(_txt(thr.name), str(n), str(int(g["reacted_at_s"].notna().sum())), str(ab), f"{ab / n:.2f}")
    console.print(rt)


def _print_answer(results) -> None:
    """The scenario's question and the answer, option by option, before the evidence."""
    from iadsim.cli.answer import print_answer

    print_answer(console, results.answer_parts())


def _run(path: Path | None, replications, seed, out: Path | None, workers: int, quiet: bool,
         loaded=None, report: bool = True, policy: str | None = None, json_out: bool = False,
         backend: str = "local", ray_address: str | None = None, force: bool = False,
         overrides: list[str] | None = None, tables_only: bool = False, plugins=None, catalogs=None,
         allow_plugins: bool = False) -> None:
    from iadsim.api import check_fidelity, check_policy, simulate
    from iadsim.export.bundle import FILES, refuse_inputs_as_outputs, write_outputs
    from iadsim.limits import check_run_size
    from iadsim.results.io import output_lock
    from iadsim.scenario import load_scenario

    t0 = time.perf_counter()
    if backend not in ("local", "ray"):
        raise InputError.single("command line", "--backend", f"expected 'local' or 'ray', got {backend!r}")
    if backend == "local" and ray_address is not None:
        raise InputError.single("command line", "--ray-address", "only with --backend ray")
    from iadsim.scenario.overrides import parse_set

    ld = loaded if loaded is not None else load_scenario(path, overrides=parse_set(overrides) or None,
                                                         **scenario_sources(plugins, catalogs, allow_plugins))
    say_plugins(ld, quiet)
    if backend == "ray" and ld.plugins:   # Ray workers unpickle the world where the plugins never ran
        raise InputError.single("command line", "--backend", "Ray workers do not load plugins; run a "
                                                             "scenario with plugins with --backend local")
    out = output_folder(out, ld.scenario.name, kind="run", force=force)
    n = replications if replications is not None else ld.scenario.simulation.replications
    check_policy(policy or ld.scenario.simulation.policy, ld.source)  # refused before the folder is made
    check_fidelity(ld)
    check_run_size(ld, replications)
    refuse_inputs_as_outputs(out, [n for n in FILES if "<" not in n], [ld.source, ld.dem_path])
    with output_lock(out, "iadsim run"), progress_bar(quiet, remaining=True) as prog:
        comp = prog.add_task("compile (terrain, coverage, envelopes)", total=5)
        say_if_compiling(ld.scenario.simulation.fidelity, quiet)
        run = prog.add_task("replications", total=n)

        opts: dict = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage.startswith("compile"):
                if not opts:
                    prog.update(comp, completed=done, description=stage)
            elif stage.startswith("option"):   # the scenario's options, each a run of its own
                if "task" not in opts:
                    opts["task"] = prog.add_task("options", total=total)
                prog.update(opts["task"], completed=done, description=stage)
            elif not opts:
                prog.update(run, completed=done)

        results = simulate(ld, replications=replications, seed=seed, workers=workers, policy=policy,
                           backend=backend, ray_address=ray_address, progress=progress)
        files = prog.add_task("write outputs", total=None)
        write_outputs(results, out, report=report, force=force, tables_only=tables_only,
                      on_file=lambda name: prog.update(files, description=f"write {name}"))
        prog.update(files, total=1, completed=1, description="outputs written")
    if json_out:
        sys.stdout.write(json.dumps({**results.summary, "output_folder": str(out)}, default=str) + "\n")
    elif not quiet:
        _print_answer(results)
        _print_summary(results, out, time.perf_counter() - t0)


#: said before numba compiles the simulation kernels (the first run after installing, unless
#: ``iadsim warmup`` ran: ``make demo`` and ``make test`` run it once after each install)
COMPILE_NOTE = "compiling the simulation kernels (once, about a minute per fidelity); later runs start at once"


def say_if_compiling(fidelity: str, quiet: bool = False) -> bool:
    """Print :data:`COMPILE_NOTE` (on stderr) when the kernel of ``fidelity`` is not in numba's
    on-disk cache yet, so the wait that follows is explained; returns whether it was printed."""
    from iadsim.engine import compiled_cache_warm

    if quiet or compiled_cache_warm(fidelity):
        return False
    err.print(f"[dim]{COMPILE_NOTE}[/dim]", highlight=False)
    return True


@app.command()
def warmup(quiet: Quiet = False) -> None:
    """Compile the simulation kernels now (both fidelities, into numba's on-disk cache) so that the
    first run starts at once; `make demo` and `make test` run this once after installing."""
    from iadsim.engine import compiled_cache_warm

    t0 = time.perf_counter()
    for fidelity in ("fast", "full"):
        cold = not compiled_cache_warm(fidelity)
        if cold and not quiet:
            err.print(f"[dim]{fidelity} fidelity: {COMPILE_NOTE}[/dim]", highlight=False)
        t = time.perf_counter()
        warm_up(fidelity)
        if not quiet:
            err.print(f"{fidelity} fidelity: {'compiled' if cold else 'already compiled'} "
                      f"({time.perf_counter() - t:.1f} s)", highlight=False)
    if not quiet:
        console.print(f"[green]ready[/green]: the simulation kernels are compiled "
                      f"({time.perf_counter() - t0:.1f} s)", highlight=False)


def warm_up(fidelity: str) -> None:
    """Run the bundled scenario for two replications at ``fidelity``, writing nothing: the kernels
    it needs (terrain, coverage, envelopes, the Monte Carlo engine) are compiled and cached."""
    import yaml

    from iadsim.api import demo_scenario_path, simulate
    from iadsim.scenario import scenario_from_dict

    path = demo_scenario_path()
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.setdefault("simulation", {})["fidelity"] = fidelity
    ld = scenario_from_dict(data, source=f"{path} (warm-up, {fidelity} fidelity)", base_dir=path.parent)
    simulate(ld, replications=2, seed=0, options=False)


@app.command()
def demo(
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="output folder")] = None,
    replications: Replications = None,
    seed: Seed = None,
    workers: Workers = 1,
    policy: Policy = None,
    quiet: Quiet = False,
    json_out: JsonOut = False,
    force: Force = False,
    set_: SetOpt = None,
    tables_only: TablesOnly = False,
) -> None:
    """Run the bundled scenario 'capital-whatif' on real SRTM terrain and write a report."""
    from iadsim.api import DEMO_NAME, demo_scenario_path

    _run(demo_scenario_path(), replications, seed, out or DEFAULT_OUT_ROOT / DEMO_NAME, workers,
         quiet or json_out, policy=policy, json_out=json_out, force=force, overrides=set_,
         tables_only=tables_only)


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="scenario file (YAML)")],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="output folder")] = None,
    replications: Replications = None,
    seed: Seed = None,
    workers: Workers = 1,
    policy: Policy = None,
    backend: BackendOpt = "local",
    ray_address: RayAddress = None,
    quiet: Quiet = False,
    json_out: JsonOut = False,
    force: Force = False,
    set_: SetOpt = None,
    tables_only: TablesOnly = False,
    plugin: PluginOpt = None,
    catalog: CatalogOpt = None,
    allow_plugins: AllowPlugins = False,
) -> None:
    """Run a scenario's Monte Carlo and write report, tables and rasters to a folder."""
    _run(scenario, replications, seed, out, workers, quiet or json_out, policy=policy, json_out=json_out,
         backend=backend, ray_address=ray_address, force=force, overrides=set_, tables_only=tables_only,
         plugins=plugin, catalogs=catalog, allow_plugins=allow_plugins)


MULTI_VALUE_OPTIONS = ("--alt", "--rcs")


def _expand_multi(argv: list[str]) -> list[str]:
    """Let `--alt 100 500 3000` mean `--alt 100 --alt 500 --alt 3000` (and commas: `--alt 100,500`)."""
    out: list[str] = []
    current = None
    for a in argv:
        if a in MULTI_VALUE_OPTIONS:
            current = a
            continue
        if current is not None and not a.startswith("-"):
            for v in a.split(","):
                if v:
                    out += [current, v]
            continue
        if current is not None and a.startswith("-") and _is_number(a):
            out += [current, a]  # a negative number: let validation reject it clearly
            continue
        current = None
        out.append(a)
    return out


def _is_number(a: str) -> bool:
    try:
        float(a)
        return True
    except ValueError:
        return False


@app.command()
def coverage(
    scenario: Annotated[Path, typer.Argument(help="scenario file (YAML)")],
    alt: Annotated[Optional[list[float]], typer.Option(
        "--alt", help="target altitudes [m] (several: --alt 100 500 3000); above sea level unless --agl")] = None,
    agl: Annotated[bool, typer.Option("--agl", help="altitudes are above ground level")] = False,
    rcs: Annotated[Optional[list[float]], typer.Option("--rcs", help="target radar cross sections [m2] (several)")] = None,
    pd: Annotated[float, typer.Option("--pd", help="detection probability threshold [1]")] = 0.5,
    method: Annotated[Optional[str], typer.Option(
        "--method", help="line of sight: sweep (fast, agrees with exact ray tracing), rays (exact, slow), "
                         "planes (GDAL's reference-plane algorithm, matches gdal_viewshed); default: the "
                         "scenario's terrain.line_of_sight (sweep)")] = None,
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="output folder (default: iadsim-out/NAME-coverage)")] = None,
    extent: Annotated[str, typer.Option(
        "--extent", help="grid: 'scenario' (sites, routes and the margin, as a run) or 'reach' (out to every "
                         "radar's instrumented range and every missile's range, within the DEM)")] = "scenario",
    target_speed: Annotated[float, typer.Option(
        "--target-speed", help="engagement maps: speed [m/s] of a level target flying straight at each fire "
                               "unit; a cell is where it is when the unit decides to fire (default 0: a "
                               "hovering or slow target). The maps use the run's envelope: flyout table, "
                               "intercept point, time and speed limits, slant range, altitude, sector")] = 0.0,
    quiet: Quiet = False,
    force: Force = False,
    plugin: PluginOpt = None,
    catalog: CatalogOpt = None,
    allow_plugins: AllowPlugins = False,
) -> None:
    """Coverage maps: terrain-masked line of sight, detection, engagement and layered coverage
    (GeoTIFF, PNG over hillshade, KMZ for Google Earth, GeoJSON polygons). Engagement maps show
    where each fire unit engages as a run decides (its flyout envelope, checked at the predicted
    intercept point), against a hovering target unless --target-speed is given."""
    from iadsim.export.coverage import CoverageRequest, write_coverage
    from iadsim.results.io import output_lock
    from iadsim.scenario import load_scenario

    req = CoverageRequest(altitudes_m=tuple(alt) if alt else (100.0, 500.0, 3000.0), agl=agl,
                          rcs_m2=tuple(rcs) if rcs else (0.1, 1.0), pd=pd, method=method, extent=extent,
                          target_speed_m_s=target_speed)
    try:
        req.check()
    except ValueError as exc:
        raise InputError.single("command line", "", str(exc)) from None
    ld = load_scenario(scenario, **scenario_sources(plugin, catalog, allow_plugins))
    say_plugins(ld, quiet)
    # not NAME/coverage: that is where `iadsim run` puts its rasters
    out = output_folder(out, f"{ld.scenario.name}-coverage", kind="coverage", force=force)
    t0 = time.perf_counter()
    with output_lock(out, "iadsim coverage"), progress_bar(quiet) as prog:
        task = prog.add_task("coverage", total=1)

        def progress(stage: str, done: int, total: int) -> None:
            prog.update(task, description=stage, completed=done, total=total)

        res = write_coverage(ld, out, req, progress=progress, force=force)
    if quiet:
        return
    t = Table(title=f"coverage of {ld.scenario.name} (Pd >= {req.pd:g}, altitudes "
                    f"{'above ground' if req.agl else 'above sea level'})")
    for col in ("product", "RCS (m²)", "altitude (m)", "area covered (km²)", "by 2 or more (km²)"):
        t.add_column(col, justify="right" if col != "product" else "left")
    for row in res.summary["layered"]:
        t.add_row(row["product"], f"{row['rcs_m2']:g}" if "rcs_m2" in row else "-", f"{row['altitude_m']:g}",
                  f"{row['area_km2_any']:.0f}",
                  f"{row['area_km2_two_or_more']:.0f}" if "area_km2_two_or_more" in row else "-")
    console.print(t)
    for w in res.warnings:
        console.print(f"[yellow]clipped:[/yellow] {_txt(w)}", soft_wrap=True, highlight=False)
    console.print(f"[green]wrote[/green] {len(res.files)} files to {out} in {time.perf_counter() - t0:.1f} s "
                  f"(Google Earth: {out / 'coverage.kmz'})")


@app.command()
def validate(scenario: Annotated[Path, typer.Argument(help="scenario file (YAML)")],
             plugin: PluginOpt = None, catalog: CatalogOpt = None, allow_plugins: AllowPlugins = False) -> None:
    """Check a scenario file; report every problem with its field path (exit code 2 if any).

    The same checks ``iadsim run`` makes before it starts: the file, the policy, the fidelity,
    whether the run's results fit in memory (at the scenario's simulation.replications), and
    the terrain."""
    from iadsim.api import check_fidelity, check_policy
    from iadsim.engine.world import build_grid
    from iadsim.geo.terrain import load_terrain
    from iadsim.limits import check_run_size
    from iadsim.scenario import load_scenario

    ld = load_scenario(scenario, **scenario_sources(plugin, catalog, allow_plugins))
    say_plugins(ld)
    check_policy(ld.scenario.simulation.policy, ld.source)
    check_fidelity(ld)
    size = check_run_size(ld)
    grid = build_grid(ld)
    load_terrain(ld.dem_path, grid, source=ld.source,
                 rasters=len(ld.scenario.effectors) + len(ld.scenario.sensors))
    s = ld.scenario
    console.print(f"[green]ok[/green] {escape(str(scenario))}: scenario {escape(repr(s.name))}: "
                  f"{len(s.effectors)} fire units, {len(s.sensors)} sensors, {sum(t.count for t in s.threats)} "
                  f"threats, {len(s.assets)} assets; grid {grid.nx} x {grid.ny} cells of {grid.res:g} m; "
                  f"{s.simulation.replications:,} replications need about {_mib(size)} of memory",
                  highlight=False, soft_wrap=True)


def _mib(size) -> str:
    return f"{size.total_bytes / 2**20:,.0f} MiB"


#: the ``title`` of the JSON Schema iadsim writes (how ``schema -o`` knows a file it may replace)
SCHEMA_TITLE = "iadsim scenario"


def _is_iadsim_schema(path: Path) -> bool:
    """Whether ``path`` holds a JSON Schema of scenario files that iadsim wrote."""
    try:
        if path.stat().st_size > 64 * 2**20:
            return False
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("title") == SCHEMA_TITLE and "$schema" in data


@app.command()
def schema(out: Annotated[Optional[Path], typer.Option("--out", "-o", help="write to this file")] = None,
           force: Annotated[bool, typer.Option(
               "--force", help="replace an existing file that is not a scenario schema iadsim wrote")] = False,
           ) -> None:
    """Print the JSON Schema of scenario files (for editor completion), or write it to a file.

    An existing file is replaced only if it is a schema iadsim wrote (or with --force); the file
    is written atomically (complete or not at all)."""
    from iadsim.errors import OutputError
    from iadsim.results.io import check_out_dir_writable, write_text
    from iadsim.scenario import json_schema

    text = json_schema()
    if out is None:
        sys.stdout.write(text + "\n")
        return
    if out.is_dir():
        raise OutputError(f"{out} is a folder; give a file name, e.g. {out / 'scenario.schema.json'}. "
                          "Nothing was changed.")
    if not out.parent.is_dir():
        raise OutputError(f"folder {out.parent} does not exist; create it or choose another path. "
                          "Nothing was changed.")
    if out.exists() and not force and not _is_iadsim_schema(out):
        raise OutputError(f"{out} exists and is not a scenario schema iadsim wrote; choose another path, or "
                          "add --force to replace it. Nothing was changed.")
    check_out_dir_writable(out.parent)
    write_text(out, text + "\n")
    console.print(f"[green]wrote[/green] {escape(str(out))} ({out.stat().st_size:,} bytes)", highlight=False)


@catalog_app.command("list")
def catalog_list(json_out: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False) -> None:
    """List the systems in the catalog."""
    from iadsim.catalog import load_catalog

    cat = load_catalog()
    if json_out:
        sys.stdout.write(json.dumps([{"name": s.name, "display_name": s.display_name, "kind": s.kind,
                                      "category": s.category, "aliases": s.aliases} for s in cat.values()],
                                    indent=2) + "\n")
        return
    t = Table(title="iadsim catalog")
    for col in ("name", "system", "kind", "category", "figures", "estimates"):
        t.add_column(col)
    for s in cat.values():
        est = sum(f.is_estimate for f in s.figures.values())
        t.add_row(s.name, s.display_name, s.kind, s.category, str(len(s.figures)), str(est))
    console.print(t)


@catalog_app.command("show")
def catalog_show(name: Annotated[str, typer.Argument(help="system name or alias")],
                 json_out: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
                 plot: Annotated[Path | None, typer.Option(
                     "--plot", help="write a PNG of the effector's flyout envelope to this path")] = None) -> None:
    """Show one system: every figure with its value, range, confidence and source."""
    from iadsim.catalog import load_catalog

    cat = load_catalog()
    if name not in cat:
        close = cat.suggest(name)
        hint = f" (did you mean {close!r}?)" if close else ""
        raise InputError.single("catalog", "name", f"unknown system {name!r}{hint}; expected one of: {', '.join(cat)}")
    s = cat[name]
    if plot is not None:
        if s.kind != "effector":
            raise InputError.single("command line", "--plot", f"{s.name!r} is a {s.kind}; only effectors "
                                    "have an engagement envelope")
        if plot.suffix.lower() != ".png":
            raise InputError.single("command line", "--plot", f"expected a .png path, got {str(plot)!r}")
        if not plot.parent.is_dir():
            raise InputError.single("command line", "--plot", f"folder {str(plot.parent)!r} does not exist")
        from iadsim.report.envelope_plot import plot_envelope

        out = plot_envelope(s, plot)
        console.print(f"wrote {out}")
    if json_out:
        sys.stdout.write(json.dumps(s.model_dump(mode="json"), indent=2) + "\n")
        return
    console.print(f"[bold]{s.display_name}[/bold] ({s.name}) — {s.kind}, {s.category}")
    if s.aliases:
        console.print("aliases: " + ", ".join(s.aliases))
    if s.description:
        console.print(s.description)
    t = Table(show_lines=True)
    t.add_column("figure", no_wrap=True)
    t.add_column("value", no_wrap=True)
    t.add_column("range", no_wrap=True)
    calibrated = any(f.calibrated is not None for f in s.figures.values())
    if calibrated:
        t.add_column("calibrated (posterior)", no_wrap=True)
    t.add_column("confidence", no_wrap=True)
    t.add_column("kind of source", overflow="fold", max_width=12)
    t.add_column("source", overflow="fold", ratio=1, min_width=12)
    t.add_column("claims", justify="right")
    for key, f in s.figures.items():
        conf = f"[yellow]{f.confidence}[/yellow]" if f.is_estimate else f.confidence
        if f.stated_confidence:
            conf += f"\n[dim](file: {f.stated_confidence})[/dim]"
        unit = "" if f.unit == "1" else f" {f.unit}"
        rng = f"{f.low:g} – {f.high:g}{unit}" if f.low != f.high else "-"
        cal = []
        if calibrated:
            c = f.calibrated
            cal = [f"{c.value:.4g}{unit} ({c.low:.4g} – {c.high:.4g})\n[dim]{', '.join(c.cases)}[/dim]" if c else "-"]
        t.add_row(key, f"{f.value:g}{unit}", rng, *cal, conf, f.source_kind or "", f.source, str(len(f.claims)))
    console.print(t)
    console.print("[dim]confidence: the catalog's grade, capped by the kind of source "
                  "(official/manufacturer: high; specialist and general press: medium; state media, "
                  "user-generated and unclassified pages: low; no source: estimate); see "
                  "iadsim.catalog.provenance[/dim]")
    if calibrated:
        console.print("[dim]calibrated: posterior median (5–95 % range) against the validation cases named, "
                      "from catalog/calibrated.yaml (iadsim validation calibrate --write-catalog); the prior is "
                      "the value and range beside it; simulation.uncertainty: sample-calibrated draws from it[/dim]")
    if s.not_found:
        console.print("[dim]not found in public sources: " + ", ".join(s.not_found) + "[/dim]")


#: out-of-memory advice per command, encoded once here: printing it must not allocate (the
#: handler runs with no memory left; a formatted or rich-rendered message raised a second
#: MemoryError with a traceback)
_OOM_ADVICE = {
    "run": "use fewer replications (-n or simulation.replications), a larger simulation.dt_s or a "
           "coarser terrain.resolution_m",
    "sweep": "use fewer replications (-n or simulation.replications), fewer sweep cells, a larger "
             "simulation.dt_s or a coarser terrain.resolution_m",
    "sensitivity": "use fewer samples (-n), a larger simulation.dt_s or a coarser terrain.resolution_m",
    "report": "the run's results do not fit in memory; open it on a machine with more memory",
    "export": "the run's results do not fit in memory; export on a machine with more memory",
}
_OOM_ADVICE["demo"] = _OOM_ADVICE["run"]
_OOM_DEFAULT = ("use a coarser terrain.resolution_m, a smaller terrain.margin_km, fewer radars or a "
                "larger simulation.dt_s")
_OOM_BYTES = {k: f"error: out of memory; {v}\n".encode() for k, v in _OOM_ADVICE.items()}
_OOM_BYTES[""] = f"error: out of memory; {_OOM_DEFAULT}\n".encode()


def _command_of(args: list[str]) -> str:
    return next((a for a in args if not a.startswith("-")), "")


def _print_out_of_memory(command: str) -> None:
    """Write the preformatted out-of-memory message straight to stderr (no allocation)."""
    msg = _OOM_BYTES.get(command, _OOM_BYTES[""])
    try:
        sys.stderr.flush()
    except Exception:  # noqa: BLE001 - nothing may stop the message
        pass
    try:
        os.write(2, msg)
    except OSError:
        pass


def main(argv: list[str] | None = None) -> int:
    """Entry point: user mistakes print a clear message and exit with code 2, no traceback.

    Usage errors (unknown command, missing argument) are click's, also exit code 2.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    command = _command_of(args)
    try:
        app(args=_expand_multi(args))
    except IadsimError as exc:
        if isinstance(exc, InputError):
            err.print(f"[bold red]error:[/bold red] {len(exc.problems)} problem(s):")
            for p in exc.problems:
                err.print(f"  {p}", markup=False, highlight=False, soft_wrap=True)
        else:
            from rich.markup import escape

            err.print(f"[bold red]error:[/bold red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("interrupted; finished files are complete, nothing half-written was kept")
        return 130
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if code == 130:  # typer turns Ctrl-C into exit code 130
            err.print("interrupted; finished files are complete, nothing half-written was kept")
        return code
    except MemoryError:
        _print_out_of_memory(command)
        return 2
    return 0


def _entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    _entry()


def _register_subcommands() -> None:
    """Commands that live in their own modules (``iadsim/cli/<name>.py``, each with ``register(app)``)."""
    import importlib

    for name in SUBCOMMAND_MODULES:
        importlib.import_module(f"iadsim.cli.{name}").register(app)


#: modules of iadsim.cli that add commands to the app
SUBCOMMAND_MODULES: tuple[str, ...] = ("analysis", "sweep", "outputs", "validation", "terrain")
_register_subcommands()
