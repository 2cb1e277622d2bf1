"""Fetch public DEM tiles for an area, cache them, and write their mosaic (``iadsim terrain fetch``).

Why iadsim downloads the tile files itself rather than through a downloader package:
dem-stitcher (3.2.0) reads remote tiles through GDAL's ``/vsicurl/`` (and pulls in boto3,
geopandas and shapely), while every DEM iadsim reads goes through :func:`open_dem`, which keeps
GDAL off the network; ``elevation`` (2.0.1) shells out to GNU make and curl. So iadsim fetches
each whole tile file from the provider's published URL pattern with the standard library's
``urllib`` over plain HTTPS, into a temporary file of its cache, checks that the file opens
through :func:`open_dem` (a GeoTIFF or SRTM .hgt of the expected place, one block reads) and
only then renames it into the cache; the mosaic is merged locally (``rasterio.merge``) from the
cached files and written atomically.

Sources (one-degree tiles named by their south-west corner):

- ``copernicus-glo30``: Copernicus DEM GLO-30 (1 arc-second), the public copy on AWS
  (``https://copernicus-dem-30m.s3.amazonaws.com/Copernicus_DSM_COG_10_N34_00_E069_00_DEM/
  Copernicus_DSM_COG_10_N34_00_E069_00_DEM.tif``); Copernicus DEM licence (free use, credit
  "produced using Copernicus WorldDEM-30, (c) DLR e.V. 2010-2014 and (c) Airbus Defence and
  Space GmbH 2014-2018 provided under COPERNICUS by the European Union and ESA").
- ``copernicus-glo90``: the same at 3 arc-seconds (``copernicus-dem-90m``, ``..._COG_30_...``).
- ``srtm``: SRTM-based 1 arc-second .hgt tiles of the AWS terrain tiles (``skadi``:
  ``https://s3.amazonaws.com/elevation-tiles-prod/skadi/N34/N34E069.hgt.gz``), gzip-compressed.

The base URL can be replaced (``--base-url`` or ``$IADSIM_DEM_BASE_URL``): a mirror, or a local
test server. Leaves out: tiles across the antimeridian, and sources that need a login (NASA
Earthdata's SRTMGL1, OpenTopography's API).
"""

from __future__ import annotations

import gzip
import math
import os
import shutil
import socket
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from iadsim.errors import IadsimError, InputError, Problem, printable
from iadsim.geo.mosaic import MAX_TILES, Tile, _check_fit, _read_header, cache_dir, check_mosaic_size

#: environment variable replacing a source's base URL (a mirror, or a test server)
BASE_URL_ENV = "IADSIM_DEM_BASE_URL"
#: bytes one downloaded tile may have (compressed and, for .hgt.gz, decompressed): a GLO-30 tile
#: is at most about 60 MB, a 1" .hgt 25.9 MB
MAX_TILE_BYTES = 200 * 1024**2
#: seconds a connection may stay silent
TIMEOUT_S = 30.0
#: mean earth radius [km] (IUGG), for the --around box
EARTH_RADIUS_KM = 6371.0088
#: the largest --radius [km]
MAX_RADIUS_KM = 500.0
WHERE = "command line"


class FetchError(IadsimError):
    """Tiles could not be downloaded (no network, the server refused, a file is not a DEM)."""


@dataclass(frozen=True)
class Source:
    name: str
    title: str
    base_url: str
    res_deg: float   # pixel size [deg]
    suffix: str      # the cached file's suffix

    def tile_name(self, lat: int, lon: int) -> str:
        ns, ew = ("N" if lat >= 0 else "S"), ("E" if lon >= 0 else "W")
        if self.name.startswith("copernicus"):
            code = "10" if self.name.endswith("30") else "30"
            return f"Copernicus_DSM_COG_{code}_{ns}{abs(lat):02d}_00_{ew}{abs(lon):03d}_00_DEM"
        return f"{ns}{abs(lat):02d}{ew}{abs(lon):03d}"

    def url(self, lat: int, lon: int, base: str | None = None) -> str:
        base = (base or self.base_url).rstrip("/")
        name = self.tile_name(lat, lon)
        if self.name.startswith("copernicus"):
            return f"{base}/{name}/{name}.tif"
        return f"{base}/{name[:3]}/{name}.hgt.gz"

    def file_name(self, lat: int, lon: int) -> str:
        return self.tile_name(lat, lon) + self.suffix


SOURCES: dict[str, Source] = {s.name: s for s in (
    Source("copernicus-glo30", "Copernicus DEM GLO-30 (1 arc-second)",
           "https://copernicus-dem-30m.s3.amazonaws.com", 1 / 3600, ".tif"),
    Source("copernicus-glo90", "Copernicus DEM GLO-90 (3 arc-seconds)",
           "https://copernicus-dem-90m.s3.amazonaws.com", 1 / 1200, ".tif"),
    Source("srtm", "SRTM-based 1 arc-second tiles (AWS terrain tiles, skadi)",
           "https://s3.amazonaws.com/elevation-tiles-prod/skadi", 1 / 3600, ".hgt"),
)}


def bbox_around(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float]:
    """(west, south, east, north) [deg] of the box around a spherical cap of ``radius_km``
    (spherical earth of mean radius; exact for the cap's bounding box)."""
    if not (-90.0 < lat < 90.0 and -180.0 <= lon <= 180.0):
        raise InputError.single(WHERE, "--around", f"expected LAT in (-90, 90) and LON in [-180, 180], "
                                f"got {lat:g} {lon:g}")
    if not (0.0 < radius_km <= MAX_RADIUS_KM):
        raise InputError.single(WHERE, "--radius", f"expected a radius above 0 and at most "
                                f"{MAX_RADIUS_KM:g} km, got {radius_km:g}")
    d = radius_km / EARTH_RADIUS_KM
    dlat = math.degrees(d)
    s = math.sin(d) / math.cos(math.radians(lat))
    dlon = 180.0 if abs(s) >= 1.0 or lat + dlat >= 90 or lat - dlat <= -90 else math.degrees(math.asin(s))
    return (lon - dlon, max(lat - dlat, -90.0), lon + dlon, min(lat + dlat, 90.0))


def check_bbox(bbox: tuple[float, float, float, float], field: str = "--bbox") -> tuple[float, float, float, float]:
    w, s, e, n = (float(v) for v in bbox)
    if not all(math.isfinite(v) for v in (w, s, e, n)):
        raise InputError.single(WHERE, field, "expected four finite numbers W S E N [deg]")
    if not (-90.0 <= s < n <= 90.0):
        raise InputError.single(WHERE, field, f"expected -90 <= S < N <= 90, got S {s:g}, N {n:g}")
    if not (-180.0 <= w < e <= 180.0):
        raise InputError.single(WHERE, field, f"expected -180 <= W < E <= 180 (an area across the "
                                f"antimeridian is not fetched), got W {w:g}, E {e:g}")
    return w, s, e, n


def tiles_for(bbox: tuple[float, float, float, float]) -> list[tuple[int, int]]:
    """(lat, lon) of the south-west corner of every one-degree tile the box touches, north first."""
    w, s, e, n = bbox
    lats = range(math.floor(s), max(math.ceil(n), math.floor(s) + 1))
    lons = range(math.floor(w), max(math.ceil(e), math.floor(w) + 1))
    return [(la, lo) for la in sorted(lats, reverse=True) for lo in lons]


def manual_steps(source: Source, cells: list[tuple[int, int]], cache: Path, base: str | None) -> str:
    """How to get the tiles by hand: the URLs, where to put them, how to use them."""
    urls = [source.url(la, lo, base) for la, lo in cells]
    shown = "\n".join(f"    {u}" for u in urls[:12]) + (f"\n    ... ({len(urls) - 12} more)" if len(urls) > 12 else "")
    folder = cache / "tiles" / source.name
    unzip = " and gunzip them (N34E069.hgt.gz -> N34E069.hgt)" if source.suffix == ".hgt" else ""
    return (f"To get the tiles by hand, download on a machine with network access:\n{shown}\n"
            f"  put the files in {folder}/ (keep their names{unzip}) and run the same command again "
            "(iadsim uses cached tiles without downloading them; --cache DIR chooses another folder), "
            f"or put them in any folder and set terrain.dem in the scenario to that folder (or a list "
            f"of the files): iadsim builds the mosaic itself.")


def _http_only_opener() -> urllib.request.OpenerDirector:
    """An opener that speaks HTTP and HTTPS only (proxies from the environment honoured): a
    redirect to file:// or ftp:// fails instead of reading a local file or another protocol."""
    o = urllib.request.OpenerDirector()
    for h in (urllib.request.ProxyHandler(), urllib.request.HTTPHandler(), urllib.request.HTTPSHandler(),
              urllib.request.HTTPRedirectHandler(), urllib.request.HTTPDefaultErrorHandler(),
              urllib.request.HTTPErrorProcessor()):
        o.add_handler(h)
    return o


_OPENER = _http_only_opener()


def _download(url: str, dest: Path, progress: Callable[[int, int | None], None]) -> None:
    """Stream ``url`` into ``dest`` (at most MAX_TILE_BYTES)."""
    req = urllib.request.Request(url, headers={"User-Agent": "iadsim-terrain-fetch"})
    with _OPENER.open(req, timeout=TIMEOUT_S) as resp, open(dest, "wb") as fh:
        total = resp.headers.get("Content-Length")
        total = int(total) if total and total.isdigit() else None
        if total is not None and total > MAX_TILE_BYTES:
            raise FetchError(f"{printable(url)}: {total:,} bytes, more than the {MAX_TILE_BYTES:,} "
                             "a DEM tile may have")
        _copy_capped(resp, fh, f"{printable(url)}: more than the {MAX_TILE_BYTES:,} bytes a DEM tile may have",
                     lambda done: progress(done, total))


def _gunzip(src: Path, dest: Path) -> None:
    with gzip.open(src, "rb") as fin, open(dest, "wb") as fout:
        _copy_capped(fin, fout, f"{src.name} decompresses to more than {MAX_TILE_BYTES:,} bytes")


def _copy_capped(fin, fout, too_big: str, progress=lambda done: None) -> None:
    """Copy ``fin`` to ``fout`` in 1 MiB blocks; :class:`FetchError` ``too_big`` past
    ``MAX_TILE_BYTES`` (checked as the bytes arrive, not from a header)."""
    done = 0
    while True:
        block = fin.read(1 << 20)
        if not block:
            break
        done += len(block)
        if done > MAX_TILE_BYTES:
            raise FetchError(too_big)
        fout.write(block)
        progress(done)


def _verify(path: Path, lat: int, lon: int, url: str) -> None:
    """The file is a DEM iadsim reads (through open_dem), of the expected one-degree cell."""
    from rasterio.warp import transform_bounds
    from rasterio.windows import Window

    from iadsim.geo.terrain import open_dem

    try:
        with open_dem(path, field="", source=None) as ds:
            w, s, e, n = transform_bounds(ds.crs, "EPSG:4326", *ds.bounds)
            ds.read(1, window=Window(0, 0, min(ds.width, 256), min(ds.height, 256)))
    except InputError as exc:
        raise FetchError(f"{printable(url)} did not give a DEM iadsim reads: "
                         f"{'; '.join(p.message for p in exc.problems)}") from None
    except Exception as exc:  # noqa: BLE001 - a truncated or corrupt file
        raise FetchError(f"{printable(url)} did not give a readable DEM ({printable(exc)})") from None
    if not (w < lon + 1 and e > lon and s < lat + 1 and n > lat):
        raise FetchError(f"{printable(url)} covers lat {s:.3f}..{n:.3f}, lon {w:.3f}..{e:.3f}, not the "
                         f"tile at {lat}, {lon} it was asked for")


def fetch_tile(source: Source, lat: int, lon: int, folder: Path, base: str | None,
               progress: Callable[[int, int | None], None] = lambda d, t: None) -> Path:
    """The cached tile (downloaded, verified and renamed into ``folder`` if not there yet)."""
    dest = folder / source.file_name(lat, lon)
    url = source.url(lat, lon, base)
    if dest.is_file():
        try:
            _verify(dest, lat, lon, url)
            return dest
        except FetchError:
            pass  # a damaged cache entry is downloaded again
    if not url.lower().startswith(("http://", "https://")):
        raise InputError.single(WHERE, "--base-url", f"expected an http:// or https:// URL, got {printable(url)}")
    folder.mkdir(parents=True, exist_ok=True)
    tmpdir = Path(tempfile.mkdtemp(prefix=".fetch-", dir=folder))
    try:
        # the temporary file keeps the tile's own name: GDAL reads an .hgt only under its name
        raw = tmpdir / (dest.name + (".gz" if url.endswith(".gz") else ""))
        _download(url, raw, progress)
        tmp = tmpdir / dest.name
        if raw != tmp:
            _gunzip(raw, tmp)
        _verify(tmp, lat, lon, url)
        os.replace(tmp, dest)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return dest


@dataclass
class FetchResult:
    path: Path
    tiles: list[Path]
    shape: tuple[int, int]
    bbox: tuple[float, float, float, float]  # the mosaic's bounds (the box grown to whole pixels)
    min_m: float
    max_m: float
    nodata_fraction: float


def fetch_mosaic(bbox: tuple[float, float, float, float], out: Path, source: str = "copernicus-glo30",
                 cache: Path | None = None, base_url: str | None = None, field: str = "--bbox",
                 force: bool = False, available: int | None = None,
                 on_tile: Callable[[str, int, int | None], None] = lambda name, d, t: None) -> FetchResult:
    """Download (or reuse) every tile of ``bbox`` and write their mosaic, cut to ``bbox``, to ``out``.

    Checks every argument, the output and the mosaic's size (``field`` names the option that set
    the extent) before a byte is downloaded or written. Raises InputError (bad arguments, too
    large), FetchError (network, server, file), OutputError (cannot write)."""
    from iadsim.errors import OutputError

    if source not in SOURCES:
        raise InputError.single(WHERE, "--source", f"expected one of {', '.join(SOURCES)}, got {printable(source)!r}")
    src = SOURCES[source]
    base = base_url or os.environ.get(BASE_URL_ENV) or None
    if base is not None and not base.lower().startswith(("http://", "https://")):
        raise InputError.single(WHERE, "--base-url" if base_url else BASE_URL_ENV,
                                f"expected an http:// or https:// URL, got {printable(base)}")
    w, s, e, n = check_bbox(bbox, field)
    out = Path(out)
    if out.suffix.lower() not in (".tif", ".tiff"):
        raise InputError.single(WHERE, "-o", f"{printable(out)}: the mosaic is a GeoTIFF; name it *.tif")
    if out.exists() and not force:
        raise OutputError(f"{out} exists; choose another name or pass --force to replace it. Nothing was changed.")
    if out.exists() and not out.is_file():
        raise OutputError(f"{out} is not a file. Nothing was changed.")
    if not out.parent.is_dir():
        raise OutputError(f"the folder {out.parent} does not exist. Nothing was changed.")
    cells = tiles_for((w, s, e, n))
    if len(cells) > MAX_TILES:
        raise InputError.single(WHERE, field, f"the area touches {len(cells):,} one-degree tiles, more "
                                f"than the {MAX_TILES:,} iadsim fetches at once; fetch a smaller area")
    rows = math.ceil((n - s) / src.res_deg) + 1
    cols = math.ceil((e - w) / src.res_deg) + 1
    try:  # the downloaded tiles are merged in memory: refuse an area too large before downloading
        check_mosaic_size(rows, cols, 4, (WHERE, field), available)
    except InputError as exc:
        raise type(exc)([Problem(p.file, p.path, p.message + f" (or --source copernicus-glo90)"
                                 if src.res_deg < 1 / 1200 else p.message) for p in exc.problems]) from None
    cache = Path(cache) if cache is not None else cache_dir()
    folder = cache / "tiles" / src.name
    # folders made for a fetch that fails are removed again (when still empty): nothing written
    made = [d for d in (cache, cache / "tiles", folder) if not d.exists()]
    try:
        paths = _fetch_all(src, cells, folder, cache, base, out, on_tile)
    except BaseException:
        for d in reversed(made):
            try:
                d.rmdir()
            except OSError:
                pass
        raise
    return _write_mosaic(paths, (w, s, e, n), out)


def _fetch_all(src: Source, cells, folder: Path, cache: Path, base: str | None, out: Path, on_tile) -> list[Path]:
    from iadsim.errors import OutputError

    paths: list[Path] = []
    for la, lo in cells:
        name = src.file_name(la, lo)
        url = src.url(la, lo, base)
        try:
            paths.append(fetch_tile(src, la, lo, folder, base, lambda d, t, _n=name: on_tile(_n, d, t)))
        except urllib.error.HTTPError as exc:
            hint = (" The provider has no tile there (open sea, or a tile the provider withholds)."
                    if exc.code == 404 else "")
            raise FetchError(f"{printable(url)}: the server answered {exc.code} {printable(exc.reason)}.{hint} "
                             f"Nothing was written to {out}.\n" + manual_steps(src, cells, cache, base)) from None
        except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise FetchError(f"cannot download {printable(url)} ({printable(reason)}): no network, or the "
                             f"server cannot be reached. Nothing was written to {out}.\n"
                             + manual_steps(src, cells, cache, base)) from None
        except OSError as exc:
            raise OutputError(f"cannot write the tile cache {folder}: {exc.strerror or exc}. Nothing was "
                              f"written to {out}.") from None
        on_tile(name, -1, None)  # this tile is done
    return paths


def _write_mosaic(paths: list[Path], bbox, out: Path) -> FetchResult:
    import rasterio
    from contextlib import ExitStack

    from rasterio.merge import merge
    from rasterio.warp import transform_bounds

    from iadsim.geo.mosaic import _out_kind, write_geotiff
    from iadsim.geo.terrain import open_dem

    tiles: list[Tile] = [_read_header(p, f"tile {p.name}", WHERE) for p in paths]
    if len(tiles) > 1:
        _check_fit(tiles, WHERE)
    dtype, nodata = _out_kind(tiles)
    with ExitStack() as stack:
        dss = [stack.enter_context(open_dem(t.path, "", None)) for t in tiles]
        # the box grown out to the tiles' pixel grid: the mosaic holds the tiles' own pixels
        # (no resampling), covering at least the box
        tr = dss[0].transform
        rx, ry = tr.a, -tr.e
        w, s, e, n = (transform_bounds("EPSG:4326", dss[0].crs, *bbox) if dss[0].crs.to_epsg() != 4326
                      else bbox)
        w = tr.c + math.floor((w - tr.c) / rx + 1e-9) * rx
        e = tr.c + math.ceil((e - tr.c) / rx - 1e-9) * rx
        n = tr.f - math.floor((tr.f - n) / ry + 1e-9) * ry
        s = tr.f - math.ceil((tr.f - s) / ry - 1e-9) * ry
        with rasterio.Env(GDAL_PAM_ENABLED="NO"):
            arr, transform = merge(dss, bounds=(w, s, e, n), indexes=[1], dtype=dtype, nodata=nodata, method="first")
        crs = dss[0].crs
    arr = arr[0]
    holes = ~np.isfinite(arr) if np.isnan(nodata) else (arr == nodata) | ~np.isfinite(arr)
    valid = arr[~holes]
    write_geotiff(out, arr, transform, crs, nodata)
    return FetchResult(path=out, tiles=paths, shape=arr.shape, bbox=(w, s, e, n),
                       min_m=float(valid.min()) if valid.size else float("nan"),
                       max_m=float(valid.max()) if valid.size else float("nan"),
                       nodata_fraction=float(holes.mean()))
