"""``iadsim sweep`` (parameter sweeps, crash-safe, local or Ray) and ``iadsim query`` (DuckDB)."""

from __future__ import annotations

import json
import math
import sys
import re
import time
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from iadsim.cli import (AllowPlugins, CatalogOpt, Force, PluginOpt, Quiet, Replications, Seed, SetOpt, _txt, console,
                        err, output_folder, progress_bar, say_plugins, scenario_sources)
from iadsim.errors import InputError


class Backend(str, Enum):
    local = "local"
    ray = "ray"


class Preset(str, Enum):
    standoff = "standoff"


Vary = Annotated[Optional[list[str]], typer.Option(
    "--vary", "-V", metavar="PATH=VALUES",
    help="a scenario field and its values, e.g. 'effectors\\[pantsir].vehicles=1,2,3' or "
         "'threats\\[reaper].altitude_m=3000:9000:1500' (start:stop:step); repeat for a cartesian product")]


_CATALOG_PATH = re.compile(r"^catalog\.([A-Za-z0-9_\-]+)\.([a-z0-9_]+)(\.value)?$")


def catalog_paths(vary: list[str], scenario: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """``catalog.SYSTEM.FIGURE=VALUES`` in --vary becomes the override path ``...FIGURE.value``;
    returns the rewritten specs and the (system, figure) pairs varied."""
    from iadsim.montecarlo.sweep import parse_vary

    out, pairs = [], []
    for spec in vary:
        path, values = parse_vary(spec)
        m = _CATALOG_PATH.match(path)
        if m:
            pairs.append((m.group(1), m.group(2)))
            spec = f"catalog.{m.group(1)}.{m.group(2)}.value={values}"
        out.append(spec)
    return out, pairs


def _with_nominal(overrides: dict, scenario: Path) -> dict:
    """Overrides where a varied catalog figure without a --set value starts at its catalog value."""
    if not any(v is None for figs in overrides.values() for v in figs.values()):
        return overrides
    from iadsim.catalog import load_catalog
    from iadsim.errors import InputError, Problem

    cat = load_catalog()
    out: dict = {}
    problems = []
    for sysname, figs in overrides.items():
        for key, spec in figs.items():
            if spec is None:
                if sysname not in cat or key not in cat[sysname].figures:
                    close = cat.suggest(sysname) if sysname not in cat else None
                    problems.append(Problem("--vary", f"catalog.{sysname}.{key}",
                                            f"no catalog figure {sysname}.{key}"
                                            + (f" (did you mean {close!r}?)" if close else "")))
                    continue
                spec = {"value": cat[sysname].figures[key].value, "reason": "varied by the sweep"}
            out.setdefault(sysname, {})[key] = spec
    if problems:
        raise InputError(problems)
    return out


def sweep(
    scenario: Annotated[Path, typer.Argument(help="scenario file (YAML)")],
    vary: Vary = None,
    replications: Replications = None,
    seed: Seed = None,
    seed_per_cell: Annotated[bool, typer.Option(
        "--seed-per-cell", help="a different seed in every cell (default: the same seed everywhere, "
                                "common random numbers)")] = False,
    backend: Annotated[Backend, typer.Option("--backend", help="local processes or a Ray cluster")] = Backend.local,
    workers: Annotated[int, typer.Option(
        "--workers", "-w", min=1, max=4096,
        help="local: cells at once in worker processes (1: this process, all cores); "
             "ray: CPUs of the local Ray instance (1: all)")] = 1,
    ray_address: Annotated[Optional[str], typer.Option(
        "--ray-address", help="Ray cluster: auto, HOST:PORT or ray://HOST:PORT (default: start a local one)")] = None,
    ray_timeout: Annotated[float, typer.Option(
        "--ray-timeout", min=0.1, max=600.0, help="seconds to wait for a Ray address to answer")] = 10.0,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="output folder")] = None,
    resume: Annotated[bool, typer.Option(
        "--resume", help="finish an interrupted sweep in --out (same scenario, variations, -n, seed)")] = False,
    chunk_size: Annotated[int, typer.Option("--chunk-size", min=1, max=1_000_000,
                                            help="replications per task")] = 250,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="list the cells and stop; write nothing")] = False,
    quiet: Quiet = False,
    force: Force = False,
    set_: SetOpt = None,
    preset: Annotated[Optional[Preset], typer.Option(
        "--preset", help="a ready-made sweep instead of --vary. standoff: P(loss) and P(accomplished) of the "
                         "ISR sortie against its station's stand-off from the defended centre and its altitude, "
                         "with a chart (standoff.html, PNGs)")] = None,
    threat: Annotated[Optional[str], typer.Option(
        "--threat", help="--preset standoff: the ISR threat to move (default: the scenario's only ISR threat)")] = None,
    standoff_km: Annotated[Optional[str], typer.Option(
        "--standoff-km", metavar="VALUES",
        help="--preset standoff: stand-off distances [km], e.g. 0:60:15 or 0,20,40 (default 0:60:15)")] = None,
    altitude_m: Annotated[Optional[str], typer.Option(
        "--altitude-m", metavar="VALUES",
        help="--preset standoff: altitudes [m], e.g. 3000:15000:6000 (default 3000:15000:6000)")] = None,
    bearing_deg: Annotated[Optional[float], typer.Option(
        "--bearing-deg", help="--preset standoff: direction [deg from north] in which the station stands off "
                              "from the defended centre (default: toward the threat's base, or the closest "
                              "bearing to it with room on the terrain)")] = None,
    plugin: PluginOpt = None,
    catalog: CatalogOpt = None,
    allow_plugins: AllowPlugins = False,
) -> None:
    """Parameter sweep: the cartesian product of --vary values, each cell a Monte Carlo run of the
    modified scenario. Writes a Parquet dataset partitioned by cell, a summary table and sweep.json;
    --resume finishes an interrupted sweep with exactly the rows of an uninterrupted one.

    --preset standoff: the ISR sortie's P(loss) and P(accomplished) over a grid of stand-off
    distances and altitudes (common random numbers), written as a table and a chart."""
    from iadsim.montecarlo.sweep import plan_sweep, run_sweep
    from iadsim.scenario import load_scenario
    from iadsim.scenario.overrides import parse_set

    if backend is Backend.local and ray_address is not None:
        raise InputError.single("command line", "--ray-address", "only with --backend ray")
    if preset is None:
        for opt, v in (("--threat", threat), ("--standoff-km", standoff_km), ("--altitude-m", altitude_m),
                       ("--bearing-deg", bearing_deg)):
            if v is not None:
                raise InputError.single("command line", opt, "only with --preset standoff")
    else:
        for opt, bad in (("--vary", bool(vary)), ("--resume", resume), ("--seed-per-cell", seed_per_cell),
                         ("--backend", backend is not Backend.local)):
            if bad:
                raise InputError.single("command line", opt, "not with --preset (the preset sets the cells)")
        _standoff(scenario, threat, standoff_km, altitude_m, replications, seed, out, quiet, force, set_, workers,
                  bearing_deg, dry_run, sources=scenario_sources(plugin, catalog, allow_plugins))
        return
    t0 = time.perf_counter()
    vary, catalog_varied = catalog_paths(list(vary or []), scenario)
    overrides = parse_set(set_) if set_ else {}
    for sysname, key in catalog_varied:   # a catalog figure varied: an override the cells set
        overrides.setdefault(sysname, {}).setdefault(key, None)
    ld = load_scenario(scenario, overrides=_with_nominal(overrides, scenario) or None,
                       **scenario_sources(plugin, catalog, allow_plugins))
    say_plugins(ld, quiet)
    if backend is Backend.ray and ld.plugins:   # each cell compiles its world where the plugins never ran
        raise InputError.single("command line", "--backend", "Ray workers do not load plugins; sweep a "
                                                             "scenario with plugins with --backend local")
    plan = plan_sweep(ld, vary, replications=replications, seed=seed, seed_per_cell=seed_per_cell)
    if dry_run:
        _print_cells(plan, None)
        return
    out = output_folder(out, f"{ld.scenario.name}-sweep", kind="sweep", force=True)  # checked by run_sweep
    n = plan.replications
    with progress_bar(quiet, remaining=True) as prog:
        cells_task = prog.add_task("cells", total=plan.ncells)
        reps_task = prog.add_task(f"replications ({plan.ncells} cells x {n})", total=plan.ncells * n)

        def progress(cells_done: int, reps_done: int) -> None:
            prog.update(cells_task, completed=cells_done)
            prog.update(reps_task, completed=reps_done)

        def on_start(already: int) -> None:
            if already and not quiet:
                err.print(f"resuming: {already} of {plan.ncells} cells already done")

        res = run_sweep(plan, out, resume=resume, backend=backend.value, workers=workers,
                        ray_address=ray_address, chunk_size=chunk_size, ray_connect_timeout_s=ray_timeout,
                        progress=progress, on_start=on_start, force=force)
    if quiet:
        return
    _print_cells(plan, res.summary)
    console.print(f"[green]wrote[/green] {escape(str(out))}: {plan.ncells} cells x {n} replications "
                  f"({res.cells_run} run, {res.cells_resumed} resumed) in {time.perf_counter() - t0:.1f} s; "
                  f"dataset {escape(str(out / 'dataset'))}, summary {escape(str(out / 'summary.parquet'))}")
    hint = ("SELECT cell, threat, p_accomplished, p_loss FROM missions"
            if "p_accomplished" in res.summary and res.summary["p_accomplished"].notna().any()
            else "SELECT cell, threat, p_kill FROM summary")
    console.print(f"query it: iadsim query {out} \"{hint}\"", markup=False, highlight=False)


def _grid(text: str | None, default: tuple[float, ...], opt: str) -> list[float]:
    from iadsim.montecarlo.sweep import expand_values

    if text is None:
        return list(default)
    try:
        vals = expand_values(text, limit=1000)
        return [float(v) for v in vals]
    except (ValueError, TypeError):
        raise InputError.single("command line", opt, f"expected numbers or start:stop:step ranges, got {text!r}") \
            from None


def _standoff(scenario: Path, threat, standoff_km, altitude_m, replications, seed, out, quiet, force, set_,
              workers, bearing_deg=None, dry_run: bool = False, sources: dict | None = None) -> None:
    """``iadsim sweep --preset standoff``: every cell validated before the folder is made."""
    from iadsim.analysis.standoff import (DEFAULT_ALTITUDE_M, DEFAULT_STANDOFF_KM, plan_cells, standoff_sweep,
                                          write_standoff)
    from iadsim.limits import check_run_size
    from iadsim.results.io import output_lock, prepare_out_dir
    from iadsim.scenario import load_scenario
    from iadsim.scenario.overrides import parse_set

    t0 = time.perf_counter()
    sk = _grid(standoff_km, DEFAULT_STANDOFF_KM, "--standoff-km")
    alt = _grid(altitude_m, DEFAULT_ALTITUDE_M, "--altitude-m")
    ld = load_scenario(scenario, overrides=parse_set(set_) or None, **(sources or {}))
    say_plugins(ld, quiet)
    plan = plan_cells(ld, sk, alt, threat, bearing_deg)
    for c in plan["cells"]:
        check_run_size(c["ld"], replications)
    if dry_run:   # the cells, and nothing written
        t = Table(title=f"{ld.scenario.name}: {len(plan['cells'])} stand-off cells of {plan['threat']}, bearing "
                        f"{plan['bearing_deg']:.0f}° ({plan['bearing_rule']})")
        for col in ("stand-off [km]", "altitude [m]", "station lat", "station lon"):
            t.add_column(col, justify="right")
        for c in plan["cells"]:
            t.add_row(f"{c['standoff_km']:g}", f"{c['altitude_m']:g}", f"{c['station_lat']:.4f}",
                      f"{c['station_lon']:.4f}")
        console.print(t)
        return
    out = output_folder(out, f"{ld.scenario.name}-standoff", kind="standoff", force=force)
    n = replications if replications is not None else ld.scenario.simulation.replications
    prepare_out_dir(out, kind="standoff", force=force)
    with output_lock(out, "iadsim sweep --preset standoff"), progress_bar(quiet, remaining=True) as prog:
        task = prog.add_task(f"stand-off cells ({len(plan['cells'])} x {n} replications)", total=len(plan["cells"]))
        res = standoff_sweep(ld, replications=n, seed=seed, plan=plan, workers=workers,
                             progress=lambda done, total: prog.update(task, completed=done))
        write_standoff(res, out, ld.scenario.name)
    if quiet:
        return
    t = Table(title=f"{ld.scenario.name}: stand-off of {res.threat} from the defended centre, bearing "
                    f"{res.bearing_deg:.0f}° ({res.bearing_rule}); {n} replications per cell, seed {res.seed}, "
                    "common random numbers")
    for col in ("stand-off [km]", "altitude [m]", "P(loss) [95% CI]", "P(accomplished) [95% CI]",
                "in an envelope [s]"):
        t.add_column(col, justify="right")
    for r in res.table.itertuples():
        t.add_row(f"{r.standoff_km:g}", f"{r.altitude_m:g}", f"{r.p_loss:.2f} [{r.p_loss_lo:.2f}, {r.p_loss_hi:.2f}]",
                  f"{r.p_accomplished:.2f} [{r.p_accomplished_lo:.2f}, {r.p_accomplished_hi:.2f}]",
                  f"{r.mean_exposure_envelope_s:.0f}")
    console.print(t)
    console.print(f"[green]wrote[/green] {escape(str(out))}: standoff.html (chart), standoff.csv, standoff.parquet, "
                  f"standoff.json, PNGs in {time.perf_counter() - t0:.1f} s")


MAX_TABLE_CELLS = 30
MAX_TABLE_GROUPS = 6


def _print_cells(plan, summary) -> None:
    """Cells with their parameters and, after a run, per scenario threat: P(mission accomplished)
    and P(loss) where it has a mission (the single run's mission words), else P(kill)."""
    t = Table(title=f"{plan.loaded.scenario.name}: {plan.ncells} cells x {plan.replications} replications, "
                    f"seed {plan.seed}{' per cell' if plan.seed_per_cell else ' (common random numbers)'}")
    t.add_column("cell", justify="right")
    for v in plan.variations:
        t.add_column(escape(v.path), justify="right")
    columns: list[tuple[str, str]] = []   # (group, summary column)
    values = None
    if summary is not None and len(summary):
        groups = list(dict.fromkeys(summary["group"]))[:MAX_TABLE_GROUPS]
        sorties = summary[summary["role"] != "weapon"] if "role" in summary else summary
        has_mission = ({g for g, p in zip(sorties["group"], sorties["p_accomplished"]) if p == p}
                       if "p_accomplished" in sorties else set())
        for g in groups:
            if g in has_mission:
                columns += [(g, "p_accomplished"), (g, "p_loss")]
                t.add_column(escape(f"P(mission accomplished) {g}"), justify="right")
                t.add_column(escape(f"P(loss) {g}"), justify="right")
            else:
                columns.append((g, "p_kill"))
                t.add_column(escape(f"P(kill) {g}"), justify="right")
        # mission measures are the scenario threat's (the same on each of its sorties); P(kill) the
        # mean over its members, as before
        values = {col: sorties.groupby(["cell", "group"], sort=False)[col].mean()
                  for col in {c for _, c in columns} - {"p_kill"}}
        values["p_kill"] = summary.groupby(["cell", "group"], sort=False)["p_kill"].mean()
    for cell in plan.cells[:MAX_TABLE_CELLS]:
        row = [str(cell.index)] + [escape(_txt(cell.values[v.path])) for v in plan.variations]
        if values is not None:
            row += [f"{values[c].get((cell.index, g), math.nan):.3f}" for g, c in columns]
        t.add_row(*row)
    console.print(t)
    if plan.ncells > MAX_TABLE_CELLS:
        console.print(f"... and {plan.ncells - MAX_TABLE_CELLS} more cells")


class OutputFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


def query(
    folder: Annotated[Path, typer.Argument(
        help="sweep folder (with sweep.json and dataset/) or run folder (of iadsim run or demo)")],
    sql: Annotated[str, typer.Argument(
        help="SQL over the folder's views: a sweep's replications, summary, missions and cells; "
             "a run folder's replications, expenditure, timeline, summary, assets, effectors and missions")],
    csv_out: Annotated[bool, typer.Option("--csv", help="write CSV to standard output")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="write JSON (a list of rows) to standard output")] = False,
    max_rows: Annotated[int, typer.Option("--max-rows", min=1, help="rows shown in the table")] = 200,
) -> None:
    """Run DuckDB SQL over a sweep folder or a run folder.

    A sweep folder: views `replications` (one row per cell x replication x threat, with the cell's
    parameters), `summary` (P(kill), P(leak) and the mission measures per cell x threat), `missions`
    (P(mission accomplished), P(loss), P(survived the sortie), P(a weapon reached its target) per cell
    x scenario threat with a mission) and `cells`. A run folder (iadsim run, iadsim demo): views
    `replications`, `expenditure`, `timeline`, and `summary`, `assets`, `effectors`, `missions` (the
    run's statistics with their 95% intervals)."""
    from iadsim.montecarlo.dataset import query as run_query

    if csv_out and json_out:
        raise InputError.single("command line", "", "--csv and --json exclude each other")
    df = run_query(folder, sql)
    if df is None:
        if not (csv_out or json_out):
            console.print("ok")
        return
    if csv_out:
        df.to_csv(sys.stdout, index=False)
        return
    if json_out:
        sys.stdout.write(json.dumps(json.loads(df.to_json(orient="records", date_format="iso")), indent=1) + "\n")
        return
    t = Table(title=f"{len(df)} row(s)" + (f", first {max_rows} shown" if len(df) > max_rows else ""))
    for c in df.columns:
        t.add_column(escape(str(c)), justify="right" if df[c].dtype.kind in "iuf" else "left")
    for row in df.head(max_rows).itertuples(index=False):
        t.add_row(*(_cell(v) for v in row))
    console.print(t)


def _cell(v) -> str:
    if isinstance(v, float) and math.isfinite(v):
        return f"{v:.6g}"
    return escape(_txt(v))


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep)
    app.command("query")(query)
