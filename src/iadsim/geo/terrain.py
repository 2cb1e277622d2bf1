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
from rasterio.errors import RasterioIOError
from rasterio.warp import Resampling, reproject, transform_bounds

from iadsim.errors import InputError
from iadsim.geo.grid import LocalGrid


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
    where = (source, field) if source else (str(path), "")
    try:
        ds = rasterio.open(path)
    except RasterioIOError:
        raise InputError.single(*where, f"{path} is not a raster file GDAL can read "
                                "(expected a GeoTIFF, an SRTM .hgt or another GDAL raster)") from None
    if ds.crs is None:
        ds.close()
        raise InputError.single(*where, f"{path} has no coordinate reference system")
    if ds.count < 1:
        ds.close()
        raise InputError.single(*where, f"{path} has no raster band")
    return ds


def load_terrain(path: str | Path, grid: LocalGrid, field: str = "terrain.dem",
                 source: str | None = None) -> Terrain:
    """Read a DEM and resample it (bilinear) onto ``grid``.

    Raises InputError when the file is not a georeferenced raster, or when the grid
    reaches outside the DEM or into nodata holes.
    """
    path = Path(path)
    dst = np.full(grid.shape, np.nan, dtype=np.float32)
    with _open(path, field, source) as ds:
        src_nodata = ds.nodata
        reproject(
            source=rasterio.band(ds, 1),
            destination=dst,
            src_nodata=src_nodata,
            dst_transform=grid.transform,
            dst_crs=grid.crs.to_wkt(),
            dst_nodata=np.nan,
            resampling=Resampling.bilinear,
        )
    holes = ~np.isfinite(dst)
    if holes.any():
        frac = holes.mean()
        raise InputError.single(
            source or path, field if source else "",
            f"{path}: the analysis area is not fully covered by this DEM ({frac:.1%} of cells outside it or nodata); "
            "move sites and routes inside the DEM or reduce terrain.margin_km",
        )
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
