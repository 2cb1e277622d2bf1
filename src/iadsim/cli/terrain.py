"""``iadsim terrain fetch``: public DEM tiles for any place, cached, and their mosaic."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn, TransferSpeedColumn

from iadsim.cli import Quiet, console, err
from iadsim.errors import InputError

terrain_app = typer.Typer(help="Terrain for any place: fetch public DEM tiles and write their mosaic.",
                          no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(terrain_app, name="terrain")


@terrain_app.command("fetch")
def fetch(
    out: Annotated[Path, typer.Option("--out", "-o", help="the mosaic to write (GeoTIFF, cut to the area)")],
    bbox: Annotated[Optional[tuple[float, float, float, float]], typer.Option(
        "--bbox", metavar="W S E N", help="the area: west, south, east, north \\[deg]")] = None,
    around: Annotated[Optional[tuple[float, float]], typer.Option(
        "--around", metavar="LAT LON", help="the area's centre \\[deg] (with --radius)")] = None,
    radius_km: Annotated[Optional[float], typer.Option(
        "--radius", metavar="KM", help="the area's radius around --around \\[km]")] = None,
    source: Annotated[str, typer.Option(
        "--source", help="copernicus-glo30 (1 arc-second, default), copernicus-glo90 (3 arc-seconds) or "
                         "srtm (SRTM-based 1 arc-second .hgt)")] = "copernicus-glo30",
    cache: Annotated[Optional[Path], typer.Option(
        "--cache", help="tile cache folder (default: $IADSIM_CACHE_DIR or the user cache folder)")] = None,
    base_url: Annotated[Optional[str], typer.Option(
        "--base-url", help="replace the source's base URL (a mirror; default: $IADSIM_DEM_BASE_URL or the "
                           "provider's)")] = None,
    force: Annotated[bool, typer.Option("--force", help="replace the mosaic file if it exists")] = False,
    quiet: Quiet = False,
) -> None:
    """Download the public DEM tiles of an area (or reuse cached ones) and write their mosaic.

    Use it with terrain.dem: mosaic.tif; offline, the message says how to get the tiles by hand."""
    from iadsim.geo.fetch import SOURCES, bbox_around, fetch_mosaic

    if (bbox is None) == (around is None):
        raise InputError.single("command line", "--bbox", "give the area either as --bbox W S E N or as "
                                "--around LAT LON --radius KM")
    if around is not None and radius_km is None:
        raise InputError.single("command line", "--radius", "--around needs --radius KM")
    if bbox is not None and radius_km is not None:
        raise InputError.single("command line", "--radius", "--radius goes with --around, not with --bbox")
    if around is not None:
        area, field = bbox_around(around[0], around[1], radius_km), "--radius"
    else:
        area, field = bbox, "--bbox"
    cols = [TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
            TimeElapsedColumn()]
    tasks: dict[str, int] = {}
    with Progress(*cols, console=err, disable=quiet, transient=False) as prog:
        def on_tile(name: str, done: int, total: int | None) -> None:
            if name not in tasks:
                tasks[name] = prog.add_task(name, total=total)
            if done < 0:  # finished (or found in the cache)
                t = prog.tasks[tasks[name]]
                prog.update(tasks[name], total=t.total or t.completed or 1,
                            completed=t.total or t.completed or 1,
                            description=name if t.completed else f"{name} (cached)")
            else:
                prog.update(tasks[name], completed=done, total=total)

        res = fetch_mosaic(area, out, source=source, cache=cache, base_url=base_url, field=field,
                           force=force, on_tile=on_tile)
    if not quiet:
        w, s, e, n = res.bbox
        console.print(f"[green]wrote[/green] {res.path}: {res.shape[1]:,} x {res.shape[0]:,} pixels, "
                      f"lat {s:.4f}..{n:.4f}, lon {w:.4f}..{e:.4f}, elevations {res.min_m:,.0f} to "
                      f"{res.max_m:,.0f} m, {SOURCES[source].title}, {len(res.tiles)} tile(s)"
                      + (f"; {res.nodata_fraction:.1%} of pixels have no data" if res.nodata_fraction else ""),
                      soft_wrap=True, highlight=False)
