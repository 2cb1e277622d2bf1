"""Terrain: DEM loading (rasterio: GeoTIFF, SRTM .hgt, anything GDAL reads), resampling to the
local grid, sampling, and synthetic terrain for tests."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.errors import CRSError, RasterioError, RasterioIOError
from rasterio.warp import Resampling, reproject, transform_bounds
from rasterio.windows import from_bounds

from iadsim.errors import InputError, Problem, ResourceError
from iadsim.geo.grid import LocalGrid

try:  # GDAL errors surfaced by rasterio while reading (a truncated or corrupt file)
    from rasterio._err import CPLE_BaseError
except ImportError:  # pragma: no cover
    CPLE_BaseError = RasterioError

#: cells of the local analysis grid (5,000 x 5,000): each radar's line-of-sight raster is one
#: float32 copy, and computing it costs cells x radius
MAX_GRID_CELLS = 25_000_000
#: float32 grid-sized rasters a run holds at once (terrain, one per radar, temporaries); the
#: grid must fit this many times in the available memory
GRID_COPIES = 16
#: DEM pixels read to cover the grid (20,000 x 20,000); a finer or larger DEM must be
#: resampled first (gdal_translate -tr / gdalwarp)
MAX_SOURCE_PIXELS = 400_000_000
#: plausible elevations [m]: below the deepest trench, above Everest means the file is not an
#: elevation model in metres (or its nodata value is not declared)
ELEVATION_RANGE_M = (-11_500.0, 9_000.0)


def _shown(path) -> str:
    """A path as text any terminal can print (undecodable bytes become backslash escapes)."""
    return str(path).encode("utf-8", "backslashreplace").decode("utf-8")


def bundled_dem_path(name: str) -> Path | None:
    """Path of a DEM shipped in ``iadsim/data`` (e.g. 'S33W071.tif'), or None."""
    p = Path(str(resources.files("iadsim") / "data" / name))
    return p if p.is_file() else None


@dataclass
class Terrain:
    """Ground elevation [m above mean sea level] on a :class:`LocalGrid` (north-up rows)."""

    grid: LocalGrid
    elevation_m: np.ndarray  # float32 [ny, nx]
    source: str = "synthetic"

    def height_at(self, x, y) -> np.ndarray:
        """Ground elevation [m] at local x, y [m], bilinear between cell centres (clamped to the
        grid's edge outside it; NaN where x or y is NaN)."""
        g = self.grid
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        bad = ~(np.isfinite(x) & np.isfinite(y))
        fx = np.clip(np.nan_to_num((x - g.xmin) / g.res - 0.5), 0, g.nx - 1.000001)
        fy = np.clip(np.nan_to_num((g.ymax - y) / g.res - 0.5), 0, g.ny - 1.000001)
        c0 = np.floor(fx).astype(np.int64)
        r0 = np.floor(fy).astype(np.int64)
        tx = fx - c0
        ty = fy - r0
        e = self.elevation_m
        h = ((1 - ty) * ((1 - tx) * e[r0, c0] + tx * e[r0, c0 + 1])
             + ty * ((1 - tx) * e[r0 + 1, c0] + tx * e[r0 + 1, c0 + 1]))
        return np.where(bad, np.nan, h) if bad.any() else h


def dem_lonlat_bounds(path: Path, field: str = "terrain.dem",
                      source: str | None = None) -> tuple[float, float, float, float]:
    """(west, south, east, north) [deg] of a DEM file."""
    with _open(path, field, source) as ds:
        return transform_bounds(ds.crs, "EPSG:4326", *ds.bounds)


def _open(path: Path, field: str, source: str | None = None):
    """Open a DEM; errors name the scenario file and field (``source``, ``field``) and the DEM."""
    where = (source, field) if source else (_shown(path), "")
    try:
        ds = rasterio.open(path)
    except RasterioIOError:
        raise InputError.single(*where, f"{_shown(path)} is not a raster file GDAL can read "
                                "(expected a GeoTIFF, an SRTM .hgt or another GDAL raster)") from None
    if ds.crs is None:
        ds.close()
        raise InputError.single(*where, f"{_shown(path)} has no coordinate reference system")
    if ds.count < 1:
        ds.close()
        raise InputError.single(*where, f"{_shown(path)} has no raster band")
    return ds


def check_grid_size(grid: LocalGrid, field: str = "terrain.resolution_m", source: str | None = None,
                    available: int | None = None) -> None:
    """Refuse, before anything is allocated, an analysis grid too large for the limits or memory.

    Raises :class:`ResourceError` naming ``terrain.resolution_m`` and ``terrain.margin_km``."""
    from iadsim.limits import MEMORY_FRACTION, available_memory_bytes

    cells = grid.nx * grid.ny
    need = cells * 4 * GRID_COPIES
    avail = available_memory_bytes() if available is None else available
    limit = min(MAX_GRID_CELLS, int(avail * MEMORY_FRACTION) // (4 * GRID_COPIES))
    if cells <= limit:
        return
    res_fit = grid.res * float(np.sqrt(cells / max(limit, 1))) * 1.01
    why = (f"more than the {MAX_GRID_CELLS:,} cells iadsim allows" if cells > MAX_GRID_CELLS else
           f"about {need / 1024**3:.1f} GiB for the terrain and line-of-sight rasters, "
           f"{avail / 1024**3:.1f} GiB of memory is available")
    raise ResourceError(Problem(source or "terrain", field if source else "", (
        f"the analysis grid would be {grid.nx:,} x {grid.ny:,} cells of {grid.res:g} m "
        f"({cells:,} cells), {why}: use a coarser terrain.resolution_m (at least about "
        f"{np.ceil(res_fit):g} m) or a smaller terrain.margin_km")))


def _check_source_window(ds, grid: LocalGrid, path: Path, where: tuple[str, str]) -> None:
    """Refuse a DEM whose pixels covering the grid are too many to read (a very fine or huge DEM)."""
    try:
        b = transform_bounds(grid.crs, ds.crs, grid.xmin, grid.ymin, grid.xmax, grid.ymax)
        win = from_bounds(*b, transform=ds.transform)
        w = min(max(float(win.width), 0.0), float(ds.width))
        h = min(max(float(win.height), 0.0), float(ds.height))
    except Exception:  # noqa: BLE001 - odd CRS or transform: reproject reports those itself
        return
    if not (np.isfinite(w) and np.isfinite(h)):
        return
    if w * h > MAX_SOURCE_PIXELS:
        raise ResourceError(Problem(*where, (
            f"{_shown(path)}: covering the analysis area means reading {w:,.0f} x {h:,.0f} DEM pixels, more than "
            f"the {MAX_SOURCE_PIXELS:,} iadsim reads; resample the DEM to a coarser resolution first "
            "(e.g. gdalwarp -tr) or reduce terrain.margin_km")))


def load_terrain(path: str | Path, grid: LocalGrid, field: str = "terrain.dem",
                 source: str | None = None) -> Terrain:
    """Read a DEM and resample it (bilinear) onto ``grid``.

    Raises InputError when the file is not a georeferenced raster, or when the grid
    reaches outside the DEM or into nodata holes; ResourceError (a kind of InputError), before
    reading anything, when the grid or the DEM window it needs is too large.
    """
    path = Path(path)
    check_grid_size(grid, source=source)
    where = (source, field) if source else (_shown(path), "")
    with _open(path, field, source) as ds:
        _check_source_window(ds, grid, path, where)
        dst = np.full(grid.shape, np.nan, dtype=np.float32)
        src_nodata = ds.nodata
        try:
            reproject(
                source=rasterio.band(ds, 1),
                destination=dst,
                src_nodata=src_nodata,
                dst_transform=grid.transform,
                dst_crs=grid.crs.to_wkt(),
                dst_nodata=np.nan,
                resampling=Resampling.bilinear,
            )
        except (RasterioError, CRSError, CPLE_BaseError, ValueError) as exc:
            raise InputError.single(*where, f"{_shown(path)}: cannot read this DEM (is the file truncated or "
                                    f"corrupt?): {exc}") from None
    holes = ~np.isfinite(dst)
    if holes.any():
        frac = holes.mean()
        raise InputError.single(
            source or _shown(path), field if source else "",
            f"{_shown(path)}: the analysis area is not fully covered by this DEM ({frac:.1%} of cells outside it or nodata); "
            "move sites and routes inside the DEM or reduce terrain.margin_km",
        )
    lo, hi = float(dst.min()), float(dst.max())
    if lo < ELEVATION_RANGE_M[0] or hi > ELEVATION_RANGE_M[1]:
        raise InputError.single(*where, (
            f"{_shown(path)}: elevations from {lo:g} to {hi:g} m in the analysis area; expected "
            f"{ELEVATION_RANGE_M[0]:g} to {ELEVATION_RANGE_M[1]:g} m. Is this an elevation model in "
            "metres, and is its nodata value declared?"))
    return Terrain(grid=grid, elevation_m=dst, source=str(path))


def synthetic_elevation(shape: tuple[int, int], res_m: float, seed: int = 0,
                        base_m: float = 500.0, relief_m: float = 1500.0,
                        n_hills: int = 40) -> np.ndarray:
    """Reproducible hilly terrain [m]: a sum of Gaussian hills of random size and height."""
    rng = np.random.default_rng(seed)
    ny, nx = shape
    yy, xx = np.mgrid[0:ny, 0:nx].astype(np.float32)
    z = np.full(shape, base_m, dtype=np.float32)
    with np.errstate(under="ignore"):
        _add_hills(z, xx, yy, rng, n_hills, relief_m, nx, ny)
    return z


def _add_hills(z, xx, yy, rng, n_hills, relief_m, nx, ny) -> None:
    for _ in range(n_hills):
        cx, cy = rng.uniform(0, nx), rng.uniform(0, ny)
        sigma = rng.uniform(0.03, 0.15) * max(nx, ny)
        h = rng.uniform(0.1, 1.0) * relief_m
        z += h * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma**2)).astype(np.float32)


def write_dem(path: str | Path, elevation_m: np.ndarray, west: float, north: float,
              res_deg: float, nodata: float | None = -32768.0) -> Path:
    """Write an elevation array as a WGS84 GeoTIFF with its north-west corner at (west, north) [deg]."""
    path = Path(path)
    ny, nx = elevation_m.shape
    with rasterio.open(
        path, "w", driver="GTiff", width=nx, height=ny, count=1, dtype="float32",
        crs=CRS.from_epsg(4326), transform=Affine(res_deg, 0.0, west, 0.0, -res_deg, north), nodata=nodata,
    ) as ds:
        ds.write(elevation_m.astype(np.float32), 1)
    return path
