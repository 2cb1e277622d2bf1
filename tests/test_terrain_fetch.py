"""``iadsim terrain fetch`` end to end against a loopback HTTP server (no real network).

The server hands out tests/data/S33W071_sanfelipe.tif (a crop of the bundled SRTM tile, see
tests/data/PROVENANCE.md) in place of the provider's tile, under the provider's URL pattern."""

from __future__ import annotations

import gzip
import http.server
import io
import math
import os
import re
import socket
import threading
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import rasterio
from rasterio.windows import from_bounds

from conftest import shared_path
from iadsim.cli import main
from iadsim.geo import fetch as fetch_mod
from iadsim.geo.mosaic import CACHE_ENV

DATA = Path(__file__).parent / "data"
TILE = DATA / "S33W071_sanfelipe.tif"  # 32.70-32.80 S, 70.70-70.80 W
GLO30_S33W071 = "/Copernicus_DSM_COG_10_S33_00_W071_00_DEM/Copernicus_DSM_COG_10_S33_00_W071_00_DEM.tif"
INSIDE = ["-70.78", "-32.78", "-70.72", "-32.72"]  # W S E N, inside the crop


class DemServer:
    """A loopback HTTP server: ``files`` maps a URL path to bytes (or a function of the path
    returning bytes or None); everything else is 404. ``hits`` lists the paths asked for."""

    def __init__(self, files: dict[str, bytes] | Callable[[str], bytes | None]):
        self.files = files
        self.hits: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                outer.hits.append(self.path)
                body = outer.files(self.path) if callable(outer.files) else outer.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}"
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)

    def __enter__(self) -> "DemServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.srv.shutdown()
        self.srv.server_close()


def tile_over_cell(path: str) -> bytes | None:
    """For a GLO-30 tile URL path, the bundled crop's heights laid over that one-degree cell
    (120 x 120 pixels of 30 arc-seconds): test terrain for any place (not that place's heights)."""
    m = re.fullmatch(r"/(Copernicus_DSM_COG_10_([NS])(\d\d)_00_([EW])(\d\d\d)_00_DEM)/\1\.tif", path)
    if m is None:
        return None
    lat = int(m[3]) * (1 if m[2] == "N" else -1)
    lon = int(m[5]) * (1 if m[4] == "E" else -1)
    with rasterio.open(TILE) as ds:
        a = ds.read(1)
    buf = io.BytesIO()
    from rasterio.io import MemoryFile
    from rasterio.transform import from_origin

    with MemoryFile() as mem:
        with mem.open(driver="GTiff", width=120, height=120, count=1, dtype="int16", crs="EPSG:4326",
                      transform=from_origin(lon, lat + 1, 1 / 120, 1 / 120), nodata=-32767) as out:
            out.write(a, 1)
        buf.write(mem.read())
    return buf.getvalue()


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


@pytest.fixture()
def cache(tmp_path, monkeypatch) -> Path:
    c = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(c))
    monkeypatch.delenv(fetch_mod.BASE_URL_ENV, raising=False)
    return c


def _crop(path: Path, bounds) -> np.ndarray:
    with rasterio.open(path) as ds:
        return ds.read(1, window=from_bounds(*bounds, transform=ds.transform).round_offsets().round_lengths())


def test_fetch_writes_the_mosaic_of_the_served_tile_and_caches_it(tmp_path, cache, capsys):
    out = tmp_path / "dem.tif"
    with DemServer({GLO30_S33W071: TILE.read_bytes()}) as srv:
        assert main(["terrain", "fetch", "--bbox", *INSIDE, "-o", str(out), "--base-url", srv.url]) == 0, \
            capsys.readouterr().err
        assert srv.hits == [GLO30_S33W071]
        with rasterio.open(out) as ds:
            got = ds.read(1)
            assert ds.crs.to_epsg() == 4326
            w, s, e, n = ds.bounds
        # cut to the box (to a pixel), and the very pixels of the served tile
        assert abs(w + 70.78) < 1 / 1200 and abs(n + 32.72) < 1 / 1200 and abs(e + 70.72) < 1 / 1200
        np.testing.assert_array_equal(got, _crop(TILE, (w, s, e, n)))
        cached = cache / "tiles" / "copernicus-glo30" / (GLO30_S33W071.rsplit("/", 1)[1])
        assert cached.read_bytes() == TILE.read_bytes()
        assert not [p for p in cached.parent.iterdir() if p.name.startswith(".")]  # no temporary left
        # again: the cached tile is used, nothing is downloaded; the same bytes come out
        first = out.read_bytes()
        assert main(["terrain", "fetch", "--bbox", *INSIDE, "-o", str(out), "--force", "-q",
                     "--base-url", srv.url]) == 0
        assert srv.hits == [GLO30_S33W071] and out.read_bytes() == first


def test_the_base_url_comes_from_the_environment_too(tmp_path, cache, monkeypatch):
    with DemServer({GLO30_S33W071: TILE.read_bytes()}) as srv:
        monkeypatch.setenv(fetch_mod.BASE_URL_ENV, srv.url)
        assert main(["terrain", "fetch", "--around", "-32.75", "-70.75", "--radius", "2",
                     "-o", str(tmp_path / "a.tif"), "-q"]) == 0
        assert srv.hits == [GLO30_S33W071]


def test_srtm_hgt_gz_tiles(tmp_path, cache):
    hgt = shared_path("data", "N44W072.hgt")  # SRTM-3 tile, 44-45 N, 72-71 W
    body = gzip.compress(hgt.read_bytes())
    out = tmp_path / "nh.tif"
    with DemServer({"/N44/N44W072.hgt.gz": body}) as srv:
        assert main(["terrain", "fetch", "--source", "srtm", "--bbox", "-71.35", "44.22", "-71.25", "44.32",
                     "-o", str(out), "--base-url", srv.url, "-q"]) == 0
    with rasterio.open(out) as ds:
        a = ds.read(1)
    # Mount Washington, 1917 m (the tile's provenance: 1908 m at 3" sampling)
    assert 1850 <= a.max() <= 1917
    assert (cache / "tiles" / "srtm" / "N44W072.hgt").stat().st_size == 1201 * 1201 * 2


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_no_network_says_how_to_get_the_tiles_by_hand(tmp_path, cache, capsys):
    out = tmp_path / "kabul.tif"
    base = f"http://127.0.0.1:{_closed_port()}"
    before = _files(tmp_path)
    assert main(["terrain", "fetch", "--around", "34.53", "69.17", "--radius", "40", "-o", str(out),
                 "--base-url", base]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "by hand" in err
    for name in ("N34_00_E068_00", "N34_00_E069_00"):  # both tiles of the area, as full URLs
        assert f"{base}/Copernicus_DSM_COG_10_{name}_DEM/Copernicus_DSM_COG_10_{name}_DEM.tif" in err
    assert str(cache / "tiles" / "copernicus-glo30") in err and "terrain.dem" in err
    assert _files(tmp_path) == before  # no mosaic, no cache folder


@pytest.mark.parametrize("body, words", [
    (None, ["404", "no tile there"]),
    (b"<html>not a tile</html>", ["did not give a DEM"]),
    (b'<VRTDataset rasterXSize="1" rasterYSize="1"></VRTDataset>', ["did not give a DEM", "VRT"]),
    ("wrong-place", ["not the tile"]),
])
def test_a_bad_answer_writes_nothing(tmp_path, cache, capsys, body, words):
    if body == "wrong-place":
        body = tile_over_cell(GLO30_S33W071.replace("S33", "N10").replace("W071", "E020"))
    files = {} if body is None else {GLO30_S33W071: body}
    before = _files(tmp_path)
    with DemServer(files) as srv:
        assert main(["terrain", "fetch", "--bbox", *INSIDE, "-o", str(tmp_path / "x.tif"),
                     "--base-url", srv.url]) == 2
    err = capsys.readouterr().err
    assert all(w in err for w in words) and "Traceback" not in err, err
    assert _files(tmp_path) == before


def test_an_area_larger_than_memory_is_refused_before_any_download(tmp_path, cache, capsys, monkeypatch):
    import iadsim.limits

    with DemServer(tile_over_cell) as srv:
        assert main(["terrain", "fetch", "--bbox", "60", "20", "85", "40", "-o", str(tmp_path / "x.tif"),
                     "--base-url", srv.url]) == 2
        err = capsys.readouterr().err
        assert "--bbox" in err and "pixels" in err and "glo90" in err
        monkeypatch.setattr(iadsim.limits, "available_memory_bytes", lambda: 512 * 1024**2)
        assert main(["terrain", "fetch", "--around", "34.53", "69.17", "--radius", "200", "-o",
                     str(tmp_path / "x.tif"), "--base-url", srv.url]) == 2
        err = capsys.readouterr().err
        assert "--radius" in err and "memory" in err
        assert srv.hits == []
    assert _files(tmp_path) == []


@pytest.mark.parametrize("args, words", [
    (["--bbox", *INSIDE, "--around", "1", "2", "--radius", "3"], ["--bbox", "either"]),
    (["--around", "1", "2"], ["--radius"]),
    (["--bbox", "-70.7", "-32.8", "-70.8", "-32.7"], ["W < E"]),
    (["--bbox", "170", "10", "190", "11"], ["antimeridian"]),
    (["--around", "95", "2", "--radius", "3"], ["--around"]),
    (["--around", "10", "2", "--radius", "0"], ["--radius"]),
    (["--bbox", *INSIDE, "--source", "nasa"], ["--source", "copernicus-glo30"]),
    (["--bbox", *INSIDE, "--base-url", "ftp://x"], ["--base-url", "http"]),
])
def test_bad_arguments(tmp_path, cache, capsys, args, words):
    assert main(["terrain", "fetch", *args, "-o", str(tmp_path / "x.tif")]) == 2
    err = capsys.readouterr().err
    assert all(w in err for w in words) and "Traceback" not in err, err
    assert _files(tmp_path) == []


def test_an_existing_output_is_kept_without_force(tmp_path, cache, capsys):
    out = tmp_path / "dem.tif"
    out.write_bytes(b"mine")
    assert main(["terrain", "fetch", "--bbox", *INSIDE, "-o", str(out), "--base-url", "http://127.0.0.1:9"]) == 2
    assert "--force" in capsys.readouterr().err and out.read_bytes() == b"mine"


def test_the_around_box_holds_the_circle_and_grows_with_the_radius():
    """The bounding box of a spherical cap (J. P. Matuschek 2010, "Finding Points Within a Distance
    of a Latitude/Longitude Using Bounding Coordinates", eqs. for lat +- r/R and
    dlon = asin(sin(r/R) / cos(lat))): every point of the circle lies inside, touching each side."""
    from pyproj import Geod

    r_earth = fetch_mod.EARTH_RADIUS_KM
    geod = Geod(a=r_earth * 1000, b=r_earth * 1000)  # the same sphere
    prev = None
    for radius in (5.0, 40.0, 200.0):
        w, s, e, n = fetch_mod.bbox_around(34.53, 69.17, radius)
        az = np.linspace(0, 360, 3601)
        lon, lat, _ = geod.fwd(np.full(az.size, 69.17), np.full(az.size, 34.53), az, np.full(az.size, radius * 1000))
        assert lat.max() <= n + 1e-9 and lat.min() >= s - 1e-9 and lon.max() <= e + 1e-9 and lon.min() >= w - 1e-9
        assert math.isclose(lat.max(), n, abs_tol=1e-6) and math.isclose(lon.max(), e, abs_tol=1e-4)
        if prev is not None:
            assert w < prev[0] and s < prev[1] and e > prev[2] and n > prev[3]
        prev = (w, s, e, n)


def test_tiles_for_a_box():
    assert fetch_mod.tiles_for((68.7, 34.1, 69.6, 34.9)) == [(34, 68), (34, 69)]
    assert fetch_mod.tiles_for((-70.78, -32.78, -70.72, -32.72)) == [(-33, -71)]
    assert fetch_mod.tiles_for((9.5, -0.5, 10.5, 0.5)) == [(0, 9), (0, 10), (-1, 9), (-1, 10)]
    src = fetch_mod.SOURCES["copernicus-glo30"]
    assert src.url(34, 69) == ("https://copernicus-dem-30m.s3.amazonaws.com/Copernicus_DSM_COG_10_N34_00_E069_00_DEM/"
                               "Copernicus_DSM_COG_10_N34_00_E069_00_DEM.tif")
    assert fetch_mod.SOURCES["srtm"].url(-33, -71) == \
        "https://s3.amazonaws.com/elevation-tiles-prod/skadi/S33/S33W071.hgt.gz"
    assert os.fspath(fetch_mod.SOURCES["srtm"].file_name(44, -72)) == "N44W072.hgt"


def test_a_redirect_to_a_local_file_is_not_followed(tmp_path, cache, capsys):
    """The downloader speaks HTTP(S) only: a server redirecting to file:///etc/passwd gets nothing."""

    class Redirect(DemServer):
        def __init__(self):
            super().__init__({})
            handler = self.srv.RequestHandlerClass

            def do_get(h):
                self.hits.append(h.path)
                h.send_response(302)
                h.send_header("Location", "file:///etc/passwd")
                h.end_headers()

            handler.do_GET = do_get

    with Redirect() as srv:
        assert main(["terrain", "fetch", "--bbox", *INSIDE, "-o", str(tmp_path / "x.tif"),
                     "--base-url", srv.url]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "by hand" in err and "root:" not in err
    assert _files(tmp_path) == []
