"""`iadsim sensitivity`: which disputed figures drive an outcome."""

import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from iadsim.cli import (AllowPlugins, CatalogOpt, Force, PluginOpt, Quiet, SetOpt, console, output_folder, progress_bar,
                        say_if_compiling, say_plugins, scenario_sources)


def register(app: typer.Typer) -> None:
    @app.command()
    def sensitivity(
        scenario: Annotated[Path, typer.Argument(help="scenario file (YAML)")],
        method: Annotated[str, typer.Option("--method", help="sobol (variance-based) or morris (screening)")] = "sobol",
        outcome: Annotated[Optional[str], typer.Option(
            "--outcome", help="pkill:THREAT, leak:THREAT, survive:ASSET or missiles:UNIT "
                              "(default: pkill of the first threat)")] = None,
        n: Annotated[int, typer.Option("-n", "--samples", min=2, max=100_000,
                                       help="base samples (sobol: rounded up to a power of two; morris: trajectories)")] = 32,
        reps: Annotated[int, typer.Option("--reps", min=1, max=100_000,
                                          help="replications per design point")] = 20,
        seed: Annotated[Optional[int], typer.Option("--seed", min=0, max=2**63 - 1)] = None,
        out: Annotated[Optional[Path], typer.Option(
            "--out", "-o", help="output folder (default: iadsim-out/NAME/sensitivity, read by `iadsim report`)")] = None,
        quiet: Quiet = False,
        force: Force = False,
        set_: SetOpt = None,
        plugin: PluginOpt = None,
        catalog: CatalogOpt = None,
        allow_plugins: AllowPlugins = False,
    ) -> None:
        """Sensitivity of an outcome to the catalog figures public sources disagree on (SALib), with a
        tornado plot."""
        from iadsim.analysis import sensitivity as run_sensitivity
        from iadsim.analysis.output import write_sensitivity
        from iadsim.results.io import output_lock
        from iadsim.scenario import load_scenario

        from iadsim.scenario.overrides import parse_set

        ld = load_scenario(scenario, overrides=parse_set(set_) or None,
                           **scenario_sources(plugin, catalog, allow_plugins))
        say_plugins(ld, quiet)
        out = output_folder(out, f"{ld.scenario.name}/sensitivity", kind="sensitivity", force=force)
        t0 = time.perf_counter()
        say_if_compiling(ld.scenario.simulation.fidelity, quiet)
        with progress_bar(quiet) as prog:
            task = prog.add_task("sensitivity", total=1)
            res = run_sensitivity(ld, method=method, outcome=outcome, n=n, reps=reps, seed=seed,
                                  progress=lambda s, d, t: prog.update(task, description=s, completed=d, total=t))
        with output_lock(out, "iadsim sensitivity"):
            files = write_sensitivity(res, out, force=force)
        if quiet:
            return
        t = Table(title=f"{res.outcome}: {res.method} over {len(res.factors)} disputed figures "
                        f"({res.n_points} points x {res.reps} replications); nominal {res.baseline:.3f}")
        cols = ["factor", *[c for c in res.indices.columns if c != "factor"]]
        for c in cols:
            t.add_column(c, justify="left" if c == "factor" else "right")
        for row in res.indices.head(15).itertuples(index=False):
            t.add_row(*(str(v) if isinstance(v, str) else f"{v:.3f}" for v in row))
        console.print(t)
        tt = Table(title="tornado: outcome with one figure at its low / high end, the others nominal")
        for c in ("factor", "low", "high", "outcome at low (±95%)", "outcome at high (±95%)"):
            tt.add_column(c, justify="left" if c == "factor" else "right")
        for r in res.tornado.head(10).itertuples():
            tt.add_row(r.factor, f"{r.low_value:.4g}", f"{r.high_value:.4g}",
                       f"{r.outcome_at_low:.3f} ± {r.outcome_at_low_ci:.3f}",
                       f"{r.outcome_at_high:.3f} ± {r.outcome_at_high_ci:.3f}")
        console.print(tt)
        for w in res.meta.get("warnings", []):
            console.print(f"[yellow]warning:[/yellow] {w}")
        console.print(f"[green]wrote[/green] {len(files)} files to {out} in {time.perf_counter() - t0:.1f} s")
