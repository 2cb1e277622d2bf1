"""`iadsim validation run|list`: hold the model against public historical outcomes."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from iadsim.cli import Force, Quiet, console, err, output_folder, progress_bar

validation_app = typer.Typer(help="The validation suite: public historical cases, observed vs simulated.",
                             no_args_is_help=True)

Suite = Annotated[Optional[Path], typer.Option("--suite", help="folder of cases (default: the project's validation/)")]


def register(app: typer.Typer) -> None:
    app.add_typer(validation_app, name="validation")


@validation_app.command("list")
def list_cases(suite: Suite = None) -> None:
    """The cases of the suite, with their measure, band and status."""
    from iadsim.validation import load_suite

    t = Table(title="validation cases")
    for c in ("case", "measure", "band", "expect", "variants", "known failure"):
        t.add_column(c)
    for lc in load_suite(suite):
        c = lc.case
        t.add_row(c.name, c.measure, f"{c.band.low:.2f}–{c.band.high:.2f}", c.expect, str(len(c.variants) or 1),
                  c.known_failure or "")
    console.print(t)


@validation_app.command("run")
def run(
    cases: Annotated[Optional[list[str]], typer.Argument(help="case names (default: every case)")] = None,
    suite: Suite = None,
    quick: Annotated[bool, typer.Option("--quick", help="the reduced form CI runs (fewer replications per case)")] = False,
    n: Annotated[Optional[int], typer.Option("-n", "--replications", min=10, max=100_000,
                                             help="replications per variant (default: each case's own)")] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", min=0, max=2**63 - 1)] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="output folder for validation.html and .json")] = None,
    quiet: Quiet = False,
    force: Force = False,
) -> None:
    """Run the cases, print observed vs simulated against each band, write validation.html.

    Exit code 1 when a case that is not marked as a known failure misses its band."""
    from iadsim.results.io import output_lock, prepare_out_dir, write_text
    from iadsim.validation import failed, load_suite, run_suite, to_dict
    from iadsim.validation.page import write_page

    loaded = load_suite(suite, cases or None)
    out = output_folder(out, "validation", kind="validation", force=force)
    t0 = time.perf_counter()
    with output_lock(out, "iadsim validation run"), progress_bar(quiet) as prog:
        total = sum(max(len(lc.case.variants), 1) for lc in loaded)
        task = prog.add_task("validation", total=total)
        results = run_suite(loaded, quick=quick, replications=n, seed=seed,
                            progress=lambda s: prog.update(task, description=s, advance=1))
        prepare_out_dir(out, kind="validation", force=force)
        write_text(out / "validation.json", json.dumps(to_dict(results), indent=2, default=float))
        page = write_page(results, out / "validation.html")
    if not quiet:
        t = Table(title=f"validation: {len(results)} case(s)")
        for c in ("case", "variant", "observed", "simulated (95% CI)", "band", "in band", "result"):
            t.add_column(c, justify="left" if c in ("case", "variant", "result") else "right")
        for r in results:
            for i, v in enumerate(r.variants):
                style = {"pass": "green", "FAIL": "bold red", "known failure": "yellow",
                         "unexpected pass": "magenta"}[r.status]
                t.add_row(r.name if i == 0 else "", v.label,
                          f"{v.observed:.3f}" if v.observed is not None else "–",
                          f"{v.simulated:.3f} ({v.ci_low:.3f}–{v.ci_high:.3f})",
                          f"{r.band[0]:.2f}–{r.band[1]:.2f}", "yes" if v.inside else "no",
                          f"[{style}]{r.status}[/{style}]" if i == 0 else "")
        console.print(t)
        for r in results:
            if r.known_failure:
                console.print(f"[yellow]{r.name}[/yellow]: known failure: {r.known_failure}", soft_wrap=True)
        console.print(f"[green]wrote[/green] {page} and validation.json in {time.perf_counter() - t0:.1f} s")
    bad = failed(results)
    if bad:
        err.print(f"[bold red]validation failed:[/bold red] {', '.join(r.name for r in bad)} missed the band")
        raise typer.Exit(1)


@validation_app.command("calibrate")
def calibrate_cmd(
    cases: Annotated[Optional[list[str]], typer.Argument(help="case names (default: every case)")] = None,
    figure: Annotated[Optional[list[str]], typer.Option("--figure", "-f",
                                                        help="SYSTEM.KEY of a figure to calibrate (repeat)")] = None,
    suite: Suite = None,
    population: Annotated[int, typer.Option("--population", min=5, max=100_000,
                                            help="ABC-SMC particles per generation")] = 50,
    generations: Annotated[int, typer.Option("--generations", min=1, max=100, help="ABC-SMC generations")] = 4,
    reps: Annotated[int, typer.Option("--reps", min=1, max=100_000,
                                      help="replications per variant at each parameter value")] = 20,
    seed: Annotated[int, typer.Option("--seed", min=0, max=2**63 - 1)] = 1,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="output folder for calibration.json and .png")] = None,
    write_catalog: Annotated[bool, typer.Option(
        "--write-catalog", help="merge the posteriors of figures that at least two cases constrain (known "
                                "failures do not count) into the calibrated catalog, for people to review and commit")] = False,
    catalog_file: Annotated[Optional[Path], typer.Option(
        "--catalog-file", help="calibrated catalog to write (default: iadsim/catalog/calibrated.yaml)")] = None,
    quiet: Quiet = False,
) -> None:
    """Calibrate disputed catalog figures against the cases' observed counts (ABC-SMC, pyabc).

    Priors: the catalog ranges (triangular, mode at nominal). Data: each variant's observed
    fraction. Writes calibration.json (priors, posteriors, cases, seed, settings) and
    calibration.png (prior vs posterior per figure)."""
    from iadsim.analysis.calibration import calibrate, parse_figures, plot, write_calibrated
    from iadsim.errors import InputError
    from iadsim.results.io import prepare_out_dir, write_text
    from iadsim.validation import load_suite

    if not figure:
        raise InputError.single("--figure", "", "name at least one figure to calibrate (SYSTEM.KEY), "
                                "e.g. --figure nasams_aim_120.pk_single_shot")
    figs = parse_figures(figure)
    loaded = load_suite(suite, cases or None)
    out = output_folder(out, "calibration")
    t0 = time.perf_counter()
    with progress_bar(quiet) as prog:
        task = prog.add_task("calibration", total=None)
        res = calibrate(loaded, figs, population=population, generations=generations, reps=reps, seed=seed,
                        progress=lambda s: prog.update(task, description=s))
    prepare_out_dir(out)
    write_text(out / "calibration.json", json.dumps(res.to_dict(), indent=2, default=float))
    png = plot(res, out / "calibration.png")
    written = write_calibrated(res, catalog_file) if write_catalog and res.catalog_ready else []
    if not quiet:
        t = Table(title=f"calibration against {', '.join(res.cases)} (seed {res.seed})")
        for c in ("figure", "prior (low / mode / high)", "posterior median", "posterior 5–95 %", "constrained by"):
            t.add_column(c, justify="left" if c in ("figure", "constrained by") else "right", overflow="fold")
        for name in res.figures:
            p, s = res.priors[name], res.summary[name]
            t.add_row(name, f"{p['low']:.4g} / {p['mode']:.4g} / {p['high']:.4g}", f"{s['median']:.4g}",
                      f"{s['q05']:.4g} – {s['q95']:.4g}", ", ".join(res.constrained_by[name]) or "none")
        console.print(t)
        tr = res.trajectory
        console.print("distance (epsilon) by generation: " + ", ".join(f"{g['epsilon']:.4f}" for g in tr))
        for n in res.notes:
            console.print(f"[yellow]note[/yellow]: {n}", soft_wrap=True)
        for c, why in res.skipped.items():
            console.print(f"[dim]left out {c}: {why}[/dim]", soft_wrap=True)
        if write_catalog:
            console.print(f"calibrated catalog: wrote {', '.join(written)}" if written else
                          "calibrated catalog: nothing written (no figure is constrained by two or more cases that "
                          "are not known failures)")
        console.print(f"[green]wrote[/green] {out / 'calibration.json'} and {png.name} in "
                      f"{time.perf_counter() - t0:.1f} s")
