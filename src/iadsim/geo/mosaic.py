"""DEM mosaics: ``terrain.dem`` as a list of tiles, a glob or a folder.

iadsim opens every tile itself with :func:`iadsim.geo.terrain.open_dem` (so each tile passes the
same checks as a single DEM: a regular local GeoTIFF or SRTM .hgt, no ``/vsi*`` or URL, no VRT,
GDAL off the network, header and block sizes checked), checks that the tiles fit together (one
CRS, one resolution, one pixel grid), that the mosaic fits in memory and that it has no hole
inside the scenario's extent, and only then merges them (``rasterio.merge.merge``, in memory) and
writes the mosaic atomically as a GeoTIFF in iadsim's cache (:func:`cache_dir`). The rest of
iadsim reads that GeoTIFF like any single DEM; a run records every tile's sha256 beside the
mosaic's.

A user-supplied VRT is not a mosaic iadsim reads: a VRT can point GDAL at any file or URL; list
the tiles it names instead (``terrain.dem: [a.tif, b.tif]``, a glob or a folder).

Leaves out: reprojecting or resampling tiles (tiles in different CRSs or resolutions are refused,
not warped), filling voids, and blending overlaps (where tiles overlap, the first listed wins;
SRTM and Copernicus neighbours overlap by one identical row or column).
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from iadsim.errors import InputError, Problem, ResourceError, printable

#: file names a folder of tiles contributes (case-insensitive)
TILE_SUFFIXES = (".tif", ".tiff", ".hgt")
#: prefix of a DEM shipped with iadsim (as in ``iadsim.scenario.loader.BUNDLED_PREFIX``)
BUNDLED_PREFIX = "bundled:"
#: characters that make ``terrain.dem`` (or one of its items) a glob pattern, unless a file of
#: that very name exists ('[' alone does not: file names hold brackets more often than globs)
GLOB_CHARS = "*?"
#: tiles one mosaic may have (a 1-degree tile each: 32 x 32 degrees)
MAX_TILES = 1024
#: version of the mosaic file iadsim writes (part of the cache key)
MOSAIC_FORMAT = 1
#: environment variable naming iadsim's cache folder (default: the user cache folder)
CACHE_ENV = "IADSIM_CACHE_DIR"
#: a pixel grid offset below this fraction of a pixel counts as aligned
ALIGN_TOL_PX = 0.01


def cache_dir() -> Path:
    """iadsim's cache folder: ``$IADSIM_CACHE_DIR``, else the platform's user cache folder
    (``~/.cache/iadsim`` on Linux, platformdirs)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    try:
        from platformdirs import user_cache_dir
    except ImportError:  # pragma: no cover - platformdirs comes with the scientific stack
        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "iadsim"
    return Path(user_cache_dir("iadsim", appauthor=False))


def is_mosaic_spec(dem, base_dir: Path | None = None) -> bool:
    """True when ``terrain.dem`` names several tiles: a list, or a text with glob characters that
    is not the name of an existing file. (A folder is recognised once the path is resolved.)"""
    if isinstance(dem, (list, tuple)):
        return True
    text = str(dem)
    if not any(c in text for c in GLOB_CHARS) or text.startswith(BUNDLED_PREFIX):
        return False
    try:
        p = Path(text).expanduser()
        p = base_dir / p if base_dir is not None and not p.is_absolute() else p
        return not p.is_file()
    except (OSError, RuntimeError, ValueError):
        return False


@dataclass
class Tile:
    """One tile of a mosaic: where it is, which field named it, its header and sha256."""

    path: Path
    field: str
    sha256: str = ""
    crs: object = None
    res: tuple[float, float] = (0.0, 0.0)
    bounds: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    dtype: str = ""
    nodata: float | None = None
    north_up: bool = True


@dataclass
class Mosaic:
    """The DEM a scenario reads: ``path`` (the mosaic GeoTIFF, or the one tile) and its tiles."""

    path: Path
    tiles: list[Tile] = field(default_factory=list)

    def records(self) -> list[dict]:
        """``[{"path", "sha256"}]`` of every tile, in order (for run.json and sweep manifests)."""
        return [{"path": str(t.path), "sha256": t.sha256} for t in self.tiles]


def _shown(p) -> str:
    return printable(str(p))


def _expand_one(item: str, base_dir: Path | None, field_: str, source: str) -> list[Path]:
    """Paths named by one item of ``terrain.dem``: a file, a glob or a folder."""
    from iadsim.geo.terrain import bundled_dem_path

    if not isinstance(item, str) or not item:
        raise InputError.single(source, field_, "expected a DEM file, a glob or a folder (text)")
    if item.startswith(BUNDLED_PREFIX):
        p = bundled_dem_path(item[len(BUNDLED_PREFIX):])
        if p is None:
            raise InputError.single(source, field_, f"no bundled DEM named {_shown(item[len(BUNDLED_PREFIX):])}")
        return [p]
    low = item.lower()
    if low.startswith("/vsi") or "://" in item:
        raise InputError.single(source, field_, f"{_shown(item)}: a DEM tile must be a local file; GDAL "
                                "virtual file systems (/vsi...) and URLs are not read")
    try:
        p = Path(item).expanduser()
        if not p.is_absolute() and base_dir is not None:
            p = base_dir / p
    except (OSError, RuntimeError, ValueError) as exc:
        raise InputError.single(source, field_, f"not a usable path ({_shown(exc)})") from None
    if any(c in item for c in GLOB_CHARS) and not p.is_file():
        found = sorted(Path(m) for m in glob.glob(str(p)) if os.path.isfile(m))
        if not found:
            raise InputError.single(source, field_, f"no DEM tile found: no file matches the glob {_shown(item)} "
                                    f"(looked in {_shown(p.parent)})")
        return found
    if p.is_dir():
        found = sorted(c for c in p.iterdir() if c.suffix.lower() in TILE_SUFFIXES and c.is_file())
        if not found:
            raise InputError.single(source, field_, f"{_shown(item)} is a folder, not a file, and holds "
                                    f"no DEM tile ({', '.join(TILE_SUFFIXES)} files)")
        return found
    return [p]


def expand_tiles(dem, base_dir: Path | None, source: str) -> list[tuple[Path, str]]:
    """The tiles ``terrain.dem`` names, each with the field that named it, in order, once each."""
    items = list(dem) if isinstance(dem, (list, tuple)) else [dem]
    out: list[tuple[Path, str]] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        field_ = f"terrain.dem[{i}]" if isinstance(dem, (list, tuple)) else "terrain.dem"
        for p in _expand_one(item, base_dir, field_, source):
            key = os.path.realpath(p)
            if key in seen:
                continue
            seen.add(key)
            out.append((p, field_))
            if len(out) > MAX_TILES:
                raise ResourceError(Problem(source, "terrain.dem", (
                    f"more than {MAX_TILES} DEM tiles; crop the area (iadsim terrain fetch --bbox) "
                    "or use a coarser DEM")))
    return out


def _read_header(path: Path, field_: str, source: str) -> Tile:
    from iadsim.geo.terrain import open_dem
    from iadsim.results.io import sha256_file

    with open_dem(path, field_, source) as ds:
        t = Tile(path=path, field=field_, crs=ds.crs, res=(abs(ds.res[0]), abs(ds.res[1])),
                 bounds=tuple(ds.bounds), dtype=str(ds.dtypes[0]), nodata=ds.nodata,
                 north_up=ds.transform.b == 0 and ds.transform.d == 0 and ds.transform.e < 0)
    try:
        t.sha256 = sha256_file(path)
    except OSError as exc:
        raise InputError.single(source, field_, f"{_shown(path)}: cannot read ({exc.strerror or exc})") from None
    return t


def _check_fit(tiles: list[Tile], source: str) -> None:
    """Every tile in the first tile's CRS, resolution and pixel grid."""
    first = tiles[0]
    for t in tiles:
        if not t.north_up:
            raise InputError.single(source, t.field, f"{_shown(t.path)} is a rotated or south-up raster; "
                                    "the tiles of a mosaic must be north-up (rewrite it with gdalwarp)")
    for t in tiles[1:]:
        where = (source, t.field)
        if t.crs != first.crs:
            raise InputError.single(*where, (
                f"{_shown(t.path)} is in {t.crs.to_string() or 'another CRS'}, {_shown(first.path.name)} "
                f"in {first.crs.to_string() or 'another CRS'}: all tiles of a mosaic must share one "
                "CRS (reproject with gdalwarp -t_srs, or fetch them from one source)"))
        if not np.allclose(t.res, first.res, rtol=1e-6, atol=0.0):
            raise InputError.single(*where, (
                f"{_shown(t.path)} has pixels of {t.res[0]:.6g} x {t.res[1]:.6g}, {_shown(first.path.name)} "
                f"of {first.res[0]:.6g} x {first.res[1]:.6g} (CRS units): all tiles of a mosaic must share "
                "one resolution (resample with gdalwarp -tr, or fetch them from one source)"))
        ox = (t.bounds[0] - first.bounds[0]) / first.res[0]
        oy = (t.bounds[3] - first.bounds[3]) / first.res[1]
        if abs(ox - round(ox)) > ALIGN_TOL_PX or abs(oy - round(oy)) > ALIGN_TOL_PX:
            raise InputError.single(*where, (
                f"{_shown(t.path)} is not on the pixel grid of {_shown(first.path.name)} (offset by "
                f"{ox - round(ox):+.3f}, {oy - round(oy):+.3f} pixels): the tiles of a mosaic must share "
                "one pixel grid"))


def _out_kind(tiles: list[Tile]) -> tuple[str, float]:
    """dtype and nodata of the mosaic: the tiles' own when they all agree, else float32 / NaN."""
    dtypes = {t.dtype for t in tiles}
    nodatas = {t.nodata for t in tiles}
    if len(dtypes) == 1 and len(nodatas) == 1 and tiles[0].nodata is not None \
            and np.isfinite(tiles[0].nodata):
        return tiles[0].dtype, float(tiles[0].nodata)
    return "float32", float("nan")


def mosaic_shape(tiles: list[Tile]) -> tuple[int, int]:
    """(rows, columns) of the mosaic covering every tile."""
    w = min(t.bounds[0] for t in tiles)
    s = min(t.bounds[1] for t in tiles)
    e = max(t.bounds[2] for t in tiles)
    n = max(t.bounds[3] for t in tiles)
    rx, ry = tiles[0].res
    return int(round((n - s) / ry)), int(round((e - w) / rx))


def check_mosaic_size(rows: int, cols: int, itemsize: int, where: tuple[str, str],
                      available: int | None = None) -> None:
    """ResourceError naming ``where`` when a mosaic of ``rows`` x ``cols`` pixels exceeds the DEM
    pixel limit or, held in memory while it is merged, the memory available."""
    from iadsim.geo.terrain import MAX_DEM_PIXELS
    from iadsim.limits import MEMORY_FRACTION, available_memory_bytes

    pixels = int(rows) * int(cols)
    if pixels > MAX_DEM_PIXELS:
        raise ResourceError(Problem(*where, (
            f"the mosaic would be {cols:,} x {rows:,} pixels, more than the {MAX_DEM_PIXELS:,} "
            "iadsim reads; cover a smaller area or use a coarser DEM")))
    need = pixels * (itemsize + 1) * 2  # the merged array, its mask, and the copy written
    avail = available_memory_bytes() if available is None else available
    if need > avail * MEMORY_FRACTION:
        raise ResourceError(Problem(*where, (
            f"the mosaic of {cols:,} x {rows:,} pixels needs about {need / 1024**3:.1f} GiB of memory "
            f"to build, {avail / 1024**3:.1f} GiB is available; cover a smaller area or use a "
            "coarser DEM")))


def _check_gaps(arr: np.ndarray, transform, crs, nodata: float, tiles: list[Tile],
                extent: tuple[float, float, float, float] | None, source: str) -> None:
    """InputError naming ``terrain.dem`` and the tiles around a nodata hole inside ``extent``."""
    from rasterio.warp import transform as warp_points, transform_bounds
    from rasterio.windows import from_bounds

    if extent is None:
        return
    try:
        b = transform_bounds("EPSG:4326", crs, *extent)
        win = from_bounds(*b, transform=transform).round_offsets().round_lengths()
    except Exception:  # noqa: BLE001 - an extent the CRS cannot hold: build_grid reports it
        return
    r0, c0 = max(int(win.row_off), 0), max(int(win.col_off), 0)
    r1 = min(int(win.row_off + win.height), arr.shape[0])
    c1 = min(int(win.col_off + win.width), arr.shape[1])
    if r1 <= r0 or c1 <= c0:
        return
    sub = arr[r0:r1, c0:c1]
    holes = ~np.isfinite(sub) if np.isnan(nodata) else (sub == nodata) | ~np.isfinite(sub)
    if not holes.any():
        return
    rr, cc = np.nonzero(holes)
    k = len(rr) // 2
    x, y = transform * (c0 + cc[k] + 0.5, r0 + rr[k] + 0.5)
    lon, lat = (v[0] for v in warp_points(crs, "EPSG:4326", [x], [y]))
    inside = [t for t in tiles if t.bounds[0] <= x <= t.bounds[2] and t.bounds[1] <= y <= t.bounds[3]]
    if inside:
        what = (f"voids (nodata) inside the tile {_shown(inside[0].path)} reach into the analysis "
                f"area near ({lat:.4f}, {lon:.4f}); fill them first (gdal_fillnodata) or use a "
                "void-filled tile")
        field_ = inside[0].field
    else:
        near = sorted(tiles, key=lambda t: (max(t.bounds[0] - x, 0, x - t.bounds[2]) ** 2
                                            + max(t.bounds[1] - y, 0, y - t.bounds[3]) ** 2))[:2]
        what = (f"the tiles leave a gap in the analysis area near ({lat:.4f}, {lon:.4f}), next to "
                f"{' and '.join(_shown(t.path.name) for t in near)}: no tile covers it; add the "
                "tile that covers it (iadsim terrain fetch --bbox fetches every tile of an area)")
        field_ = "terrain.dem"
    raise InputError.single(source, field_, f"{what} ({holes.mean():.1%} of the area's pixels)")


def mosaic_cache_path(tiles: list[Tile], dtype: str, nodata: float) -> Path:
    key = hashlib.sha256(json.dumps({
        "format": MOSAIC_FORMAT, "tiles": [t.sha256 for t in tiles], "dtype": dtype,
        "nodata": None if np.isnan(nodata) else nodata}, sort_keys=True).encode()).hexdigest()
    return cache_dir() / "mosaics" / f"mosaic-{key[:32]}.tif"


def write_geotiff(path: Path, arr: np.ndarray, transform, crs, nodata: float, tags: dict | None = None) -> Path:
    """Write a one-band GeoTIFF atomically (tiled 256 x 256, DEFLATE; same array, same bytes)."""
    import rasterio

    from iadsim.results.io import atomic_path, ensure_dir

    ensure_dir(path.parent)
    with atomic_path(path) as tmp:
        with rasterio.Env(GDAL_PAM_ENABLED="NO"), rasterio.open(
                tmp, "w", driver="GTiff", width=arr.shape[1], height=arr.shape[0], count=1,
                dtype=arr.dtype, crs=crs, transform=transform, nodata=nodata, tiled=True,
                blockxsize=256, blockysize=256, compress="deflate") as ds:
            ds.write(arr, 1)
            if tags:
                ds.update_tags(**tags)
    return path


def build_mosaic(dem, base_dir: Path | None, source: str,
                 extent: tuple[float, float, float, float] | None = None,
                 available: int | None = None) -> Mosaic:
    """Check the tiles ``dem`` names and return the DEM to read (see the module docstring).

    One tile: that tile, nothing written. Several: the cached mosaic GeoTIFF (written only after
    every check passed; reused when the same tiles were merged before). ``extent``: (west, south,
    east, north) [deg], the scenario's area, which must fall on no hole of the mosaic."""
    import rasterio
    from rasterio.errors import RasterioError
    from rasterio.merge import merge

    from iadsim.geo.terrain import CPLE_BaseError, open_dem

    named = expand_tiles(dem, base_dir, source)
    tiles = [_read_header(p, f, source) for p, f in named]
    if len(tiles) == 1:
        return Mosaic(path=tiles[0].path, tiles=tiles)
    _check_fit(tiles, source)
    dtype, nodata = _out_kind(tiles)
    rows, cols = mosaic_shape(tiles)
    check_mosaic_size(rows, cols, np.dtype(dtype).itemsize, (source, "terrain.dem"), available)
    path = mosaic_cache_path(tiles, dtype, nodata)
    arr = None
    if path.is_file():  # merged before: the cache key is the tiles' sha256
        try:
            with open_dem(path, "terrain.dem", source) as ds:
                arr, transform, crs = ds.read(1), ds.transform, ds.crs
        except (InputError, RasterioError, CPLE_BaseError, OSError):
            arr = None  # a damaged cache entry is rebuilt
    cached = arr is not None
    if not cached:
        with ExitStack() as stack:
            dss = [stack.enter_context(open_dem(t.path, t.field, source)) for t in tiles]
            with rasterio.Env(GDAL_PAM_ENABLED="NO"):
                merged, transform = merge(dss, indexes=[1], dtype=dtype, nodata=nodata, method="first")
            crs = dss[0].crs
        arr = merged[0]
    _check_gaps(arr, transform, crs, nodata, tiles, extent, source)
    if not cached:
        write_geotiff(path, arr, transform, crs, nodata)
    return Mosaic(path=path, tiles=tiles)
