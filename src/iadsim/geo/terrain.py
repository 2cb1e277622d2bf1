"""Terrain: DEM loading (rasterio: GeoTIFF and SRTM .hgt only), resampling to the local grid,
sampling, and synthetic terrain for tests.

A DEM comes with a shared scenario and is untrusted: every DEM is opened by :func:`open_dem`,
which accepts only a regular local file (no ``/vsi*`` or URL paths, no FIFOs or devices), lets
GDAL try only the GeoTIFF and SRTM drivers (a VRT, a ``<GDAL_WMS>`` file or any other format
that can point at other files or URLs is refused), keeps GDAL off the network and away from
side-car files while the DEM is read, and checks the raster's size and the decompressed size of
one block against :data:`MAX_BLOCK_BYTES` before a pixel is read."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import os
import stat
from contextlib import contextmanager

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.errors import CRSError, RasterioError, RasterioIOError
from rasterio.warp import Resampling, reproject, transform_bounds
from rasterio.windows import from_bounds

from iadsim.errors import InputError, Problem, ResourceError, printable
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
#: decompressed bytes of one GeoTIFF tile or strip (GDAL inflates a whole block to read any
#: pixel of it): a 2 MB file can hold one tile that inflates to gigabytes
MAX_BLOCK_BYTES = 256 * 1024**2
#: pixels of the whole DEM (40,000 x 40,000); larger files must be cropped first
#: (gdal_translate -projwin)
MAX_DEM_PIXELS = 1_600_000_000
#: GDAL drivers a DEM may be read with: GeoTIFF and SRTM .hgt (both plain local rasters)
ALLOWED_DRIVERS = ("GTiff", "SRTMHGT")
#: GDAL settings while a DEM is open: no side-car files (.aux.xml, .ovr, .msk: a side-car can
#: be a FIFO or carry another georeferencing), no network (a /vsicurl/ name is refused even if
#: one slips through), a bounded block cache
GDAL_SAFE_OPTIONS = {
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "GDAL_PAM_ENABLED": "NO",
    "CPL_VSIL_CURL_ALLOWED_FILENAME": "/iadsim-dem-reads-use-no-network",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".iadsim-no-network",
    "GDAL_HTTP_MAX_RETRY": "0",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_CONNECTTIMEOUT": "1",
    "GDAL_CACHEMAX": 256,  # MB
}
#: plausible elevations [m]: below the deepest trench, above Everest means the file is not an
#: elevation model in metres (or its nodata value is not declared)
ELEVATION_RANGE_M = (-11_500.0, 9_000.0)


def _shown(path) -> str:
    """A path as text any terminal can print: control characters (terminal escape sequences)
    and undecodable bytes become backslash escapes."""
    return printable(str(path))


def bundled_dem_path(name: str) -> Path | None:
    """Path of a DEM shipped in ``iadsim/data`` (e.g. 'S33W071.tif'), or None.

    Only a plain file name inside that folder is accepted ('../x', 'a/b' and absolute names
    give None)."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        return None
    data = Path(str(resources.files("iadsim") / "data"))
    p = data / name
    try:
        if p.resolve().parent != data.resolve() or not p.is_file():
            return None
    except (OSError, RuntimeError, ValueError):
        return None
    return p


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
    with open_dem(path, field, source) as ds:
        w, s, e, n = transform_bounds(ds.crs, "EPSG:4326", *ds.bounds)
    # a south-up DEM (rows from south to north) has bounds with bottom above top
    return min(w, e), min(s, n), max(w, e), max(s, n)


def _sniff(path: Path) -> str:
    """What a refused DEM file looks like (for the message): the first bytes, never more."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(512).lstrip()
    except OSError:
        return ""
    if head.startswith(b"<VRTDataset"):
        return (" It is a GDAL VRT: iadsim does not read VRTs (a VRT can point at any file or URL); "
                "make a GeoTIFF of it with gdal_translate -of GTiff.")
    if head.startswith(b"<"):
        return (" It is an XML file (a GDAL WMS/WCS description or similar), not a raster: iadsim "
                "reads no DEM from the network; download the tiles and make a GeoTIFF.")
    return ""


def check_dem_file(path: str | Path, where: tuple[str, str]) -> Path:
    """The DEM as an absolute path to a regular local file, or InputError naming ``where``.

    Refuses GDAL virtual file systems and URLs (``/vsicurl/``, ``/vsizip/``, ``http://``, ...),
    FIFOs, devices, sockets and directories (a FIFO would hang the read)."""
    text = str(path)
    low = text.lower()
    if low.startswith("/vsi") or "://" in text or low.startswith(("http:", "https:", "ftp:")):
        raise InputError.single(*where, f"{_shown(text)}: a DEM must be a local file; GDAL virtual "
                                "file systems (/vsi...) and URLs are not read")
    try:
        p = Path(os.path.abspath(text))
        st = os.stat(p)  # follows symbolic links: the file GDAL would open
    except FileNotFoundError:
        raise InputError.single(*where, f"DEM file not found: {_shown(text)}") from None
    except (OSError, ValueError) as exc:
        raise InputError.single(*where, f"{_shown(text)}: not a usable file path "
                                f"({_shown(getattr(exc, 'strerror', None) or exc)})") from None
    if not stat.S_ISREG(st.st_mode):
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else
                "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else
                "a socket" if stat.S_ISSOCK(st.st_mode) else
                "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file")
        raise InputError.single(*where, f"{_shown(text)} is {kind}, not a file; a DEM must be a "
                                "regular file (a GeoTIFF or an SRTM .hgt)")
    if str(p).startswith("/vsi"):  # a relative name that became /vsi... (cannot exist on disk)
        raise InputError.single(*where, f"{_shown(text)}: a DEM must be a local file")
    return p


def _check_dataset(ds, path: Path, where: tuple[str, str]) -> None:
    """Refuse, from the header alone, a DEM that is not elevation-like or too large to read."""
    if ds.driver not in ALLOWED_DRIVERS:  # belt and braces: the open allowed only these
        raise InputError.single(*where, f"{_shown(path)} is a {ds.driver} raster; iadsim reads only "
                                "GeoTIFF and SRTM .hgt DEMs")
    if ds.crs is None:
        raise InputError.single(*where, f"{_shown(path)} has no coordinate reference system")
    if ds.count < 1:
        raise InputError.single(*where, f"{_shown(path)} has no raster band")
    dtype = np.dtype(ds.dtypes[0])
    if dtype.kind not in "iuf":
        raise InputError.single(*where, f"{_shown(path)}: band 1 holds {dtype.name} values; a DEM "
                                "holds real numbers (elevations)")
    if ds.width * ds.height > MAX_DEM_PIXELS:
        raise ResourceError(Problem(*where, (
            f"{_shown(path)} is {ds.width:,} x {ds.height:,} pixels, more than the "
            f"{MAX_DEM_PIXELS:,} iadsim opens; crop it to the analysis area or resample it "
            "first (gdal_translate -projwin, gdalwarp -tr)")))
    bh, bw = ds.block_shapes[0]
    per_pixel = dtype.itemsize * (ds.count if str(getattr(ds, "interleaving", "") or "").lower()
                                  .endswith("pixel") else 1)
    block = int(bh) * int(bw) * per_pixel
    if block > MAX_BLOCK_BYTES:
        raise ResourceError(Problem(*where, (
            f"{_shown(path)}: one {'strip' if bw == ds.width else 'tile'} of {bw:,} x {bh:,} pixels "
            f"decompresses to {block / 1024**2:,.0f} MiB, more than the "
            f"{MAX_BLOCK_BYTES // 1024**2} MiB iadsim reads at once; rewrite it tiled "
            "(gdal_translate -co TILED=YES)")))


@contextmanager
def open_dem(path: str | Path, field: str = "terrain.dem", source: str | None = None):
    """Open a DEM for reading: the one way iadsim opens a DEM (see the module docstring).

    Yields the rasterio dataset with the safe GDAL settings active for the whole block (reads
    included). Errors name the scenario file and field (``source``, ``field``) and the DEM."""
    where = (source, field) if source else (_shown(path), "")
    p = check_dem_file(path, where)
    with rasterio.Env(**GDAL_SAFE_OPTIONS):
        ds = None
        for driver in ALLOWED_DRIVERS:  # rasterio.open takes one driver: GDAL tries no other
            try:
                ds = rasterio.open(str(p), driver=driver)
                break
            except RasterioIOError:
                continue
        if ds is None:
            raise InputError.single(*where, f"{_shown(path)} is not a raster file iadsim reads "
                                    "(expected a GeoTIFF or an SRTM .hgt; convert other rasters "
                                    f"with gdal_translate -of GTiff).{_sniff(p)}")
        with ds:
            _check_dataset(ds, p, where)
            yield ds


def check_grid_size(grid: LocalGrid, field: str = "terrain.resolution_m", source: str | None = None,
                    available: int | None = None, rasters: int = 0) -> None:
    """Refuse, before anything is allocated, an analysis grid too large for the limits or memory.

    ``rasters``: line-of-sight rasters held besides the terrain (one per fire unit and radar).
    Raises :class:`ResourceError` naming ``terrain.resolution_m`` and ``terrain.margin_km``."""
    from iadsim.limits import MEMORY_FRACTION, available_memory_bytes

    cells = grid.nx * grid.ny
    copies = GRID_COPIES + max(int(rasters), 0)
    need = cells * 4 * copies
    avail = available_memory_bytes() if available is None else available
    limit = min(MAX_GRID_CELLS, int(avail * MEMORY_FRACTION) // (4 * copies))
    if cells <= limit:
        return
    res_fit = grid.res * float(np.sqrt(cells / max(limit, 1))) * 1.01
    why = (f"more than the {MAX_GRID_CELLS:,} cells iadsim allows" if cells > MAX_GRID_CELLS else
           f"about {need / 1024**3:.1f} GiB for the terrain and the line-of-sight rasters"
           + (f" of {rasters:,} radars and fire units" if rasters else "")
           + f", {avail / 1024**3:.1f} GiB of memory is available")
    raise ResourceError(Problem(source or "terrain", field if source else "", (
        f"the analysis grid would be {grid.nx:,} x {grid.ny:,} cells of {grid.res:g} m "
        f"({cells:,} cells), {why}: use a coarser terrain.resolution_m (at least about "
        f"{np.ceil(res_fit):g} m) or a smaller terrain.margin_km"
        + (" or fewer radars" if rasters else ""))))


def _check_source_window(ds, grid: LocalGrid, path: Path, where: tuple[str, str]) -> None:
    """Refuse a DEM whose pixels covering the grid are too many to read (a very fine or huge DEM)."""
    try:
        b = transform_bounds(grid.crs, ds.crs, grid.xmin, grid.ymin, grid.xmax, grid.ymax)
        win = from_bounds(*b, transform=ds.transform)
        w = min(abs(float(win.width)), float(ds.width))    # abs: south-up DEMs give a negative
        h = min(abs(float(win.height)), float(ds.height))  # height
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
                 source: str | None = None, rasters: int = 0) -> Terrain:
    """Read a DEM and resample it (bilinear) onto ``grid``.

    Raises InputError when the file is not a georeferenced raster, or when the grid
    reaches outside the DEM or into nodata holes; ResourceError (a kind of InputError), before
    reading anything, when the grid (with ``rasters`` line-of-sight rasters of its size, one per
    fire unit and radar) or the DEM window it needs is too large.
    """
    path = Path(path)
    check_grid_size(grid, source=source, rasters=rasters)
    where = (source, field) if source else (_shown(path), "")
    with open_dem(path, field, source) as ds:
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
        raise InputError.single(*where, f"{_shown(path)}: {_holes_message(holes, grid)}")
    lo, hi = float(dst.min()), float(dst.max())
    if lo < ELEVATION_RANGE_M[0] or hi > ELEVATION_RANGE_M[1]:
        raise InputError.single(*where, (
            f"{_shown(path)}: elevations from {lo:g} to {hi:g} m in the analysis area; expected "
            f"{ELEVATION_RANGE_M[0]:g} to {ELEVATION_RANGE_M[1]:g} m. Is this an elevation model in "
            "metres, and is its nodata value declared?"))
    return Terrain(grid=grid, elevation_m=dst, source=str(path))


def _holes_message(holes: np.ndarray, grid: LocalGrid) -> str:
    """Why cells of the grid got no elevation: outside the DEM at which edges, or nodata inside."""
    frac = holes.mean()
    sides = [name for name, edge in (("north", holes[0]), ("south", holes[-1]), ("west", holes[:, 0]),
                                     ("east", holes[:, -1])) if edge.any()]
    inner = holes[1:-1, 1:-1]
    if sides and not inner.any():
        return (f"the analysis grid's outermost cells on its {', '.join(sides)} side(s) lie beyond the "
                f"DEM's edge ({frac:.1%} of cells): the grid covers sites and routes plus "
                f"terrain.margin_km, rounded out to whole {grid.res:g} m cells, and the DEM must cover "
                "all of it; use a DEM that reaches further or reduce terrain.margin_km")
    if sides:
        return (f"the analysis area is not fully covered by this DEM ({frac:.1%} of cells outside it "
                f"or nodata, reaching the grid's {', '.join(sides)} edge); move sites and routes "
                "inside the DEM or reduce terrain.margin_km")
    return (f"{frac:.1%} of the analysis grid's cells fall on nodata holes inside this DEM (voids "
            "such as SRTM's); fill them first (gdal_fillnodata) or use a void-filled DEM")


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
