"""Issue #17 (part 1): a shared scenario folder (YAML + DEM) is untrusted input.

Each test plants the attack as a fixture and asserts the refusal: exit code 2 through the
command line with a message naming the file and field, no request reaching a loopback HTTP
server the test runs (a DEM that points at a URL), nothing written outside the output folder,
no code from the scenario folder running in a worker. RELIABILITY.md, "Security", lists them.
"""

from __future__ import annotations

import http.server
import math
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import rasterio
import yaml
from affine import Affine

from conftest import DEM_NORTH, DEM_RES, DEM_WEST, edited, small_scenario_dict
from iadsim.cli import main
from iadsim.errors import InputError, ResourceError
from iadsim.geo import LocalGrid
from iadsim.geo.terrain import (MAX_BLOCK_BYTES, MAX_DEM_PIXELS, dem_lonlat_bounds, load_terrain,
                                open_dem, write_dem)
from iadsim.scenario import load_scenario
from iadsim.scenario.loader import MAX_EXPANDED_NODES, parse_yaml_text, scenario_from_dict

COMMANDS = ("validate", "run", "coverage")


# --------------------------------------------------------------------------- fixtures


class _Counter(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/tiff")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_HEAD = do_GET  # noqa: N815

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture()
def http_server():
    """A loopback HTTP server on 127.0.0.1 that counts the requests it gets."""

    class Handler(_Counter):
        hits: list[str] = []

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}", Handler.hits
    finally:
        srv.shutdown()
        srv.server_close()


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` with its size and modification time [ns]."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = Path(dirpath) / f
            try:
                st = p.lstat()
            except OSError:
                continue
            out[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return out


def _refused_everywhere(folder: Path, scenario: Path, capsys, *words: str) -> None:
    """validate, run and coverage all exit with 2, name terrain.dem and ``words``, write nothing."""
    before = _tree(folder)
    for cmd in COMMANDS:
        out = folder / f"out-{cmd}"
        args = [cmd, str(scenario)] + ([] if cmd == "validate" else ["--out", str(out)])
        args += ["-n", "2", "-q"] if cmd == "run" else []
        assert main(args) == 2, cmd
        err = capsys.readouterr().err
        assert "terrain.dem" in err and "Traceback" not in err, (cmd, err)
        for w in words:
            assert w.lower() in err.lower(), (cmd, w, err)
        assert not out.exists(), cmd
    assert _tree(folder) == before  # no file outside the output folders changed either


def _scenario_with_dem(folder: Path, dem: str) -> Path:
    p = folder / "attack.yaml"
    p.write_text(yaml.safe_dump(small_scenario_dict(dem)), encoding="utf-8")
    return p


def _vrt(band: str) -> str:
    """A GDAL VRT over the small scenario's area with the given band."""
    return (f'<VRTDataset rasterXSize="134" rasterYSize="134"><SRS>EPSG:4326</SRS>'
            f'<GeoTransform>{DEM_WEST}, {DEM_RES}, 0, {DEM_NORTH}, 0, {-DEM_RES}</GeoTransform>{band}'
            '</VRTDataset>')


def _vrt_from(source: str) -> str:
    return _vrt('<VRTRasterBand dataType="Float32" band="1"><SimpleSource>'
                f'<SourceFilename relativeToVRT="0">{source}</SourceFilename><SourceBand>1</SourceBand>'
                '</SimpleSource></VRTRasterBand>')


# --------------------------------------------------------------------------- network from a DEM


def test_the_url_fixture_would_be_fetched_by_plain_gdal(small_dir, http_server):
    """The attack works against GDAL as it is (so the refusals below are the defence, not luck)."""
    url, hits = http_server
    (small_dir / "dem.tif").write_text(_vrt_from(f"/vsicurl/{url}/remote.tif"), encoding="utf-8")
    try:
        with rasterio.Env(GDAL_HTTP_TIMEOUT=2, GDAL_HTTP_MAX_RETRY=0):
            with rasterio.open(small_dir / "dem.tif") as ds:
                ds.read(1, window=((0, 1), (0, 1)))
    except Exception:  # noqa: BLE001 - the empty answer is not a raster; the request is what counts
        pass
    if not hits:
        pytest.skip("this GDAL build has no HTTP support: the attack cannot be reproduced")
    assert hits


@pytest.mark.parametrize("kind", ["vsicurl-vrt", "gdal-wms", "vsicurl-name", "url-name"])
def test_dem_pointing_at_a_url_is_refused_without_a_request(small_dir, http_server, capsys, kind):
    url, hits = http_server
    if kind == "vsicurl-vrt":  # dem.tif is a VRT whose source is a URL (the driver is chosen by content)
        (small_dir / "dem.tif").write_text(_vrt_from(f"/vsicurl/{url}/remote.tif"), encoding="utf-8")
        scn, words = small_dir / "scenario.yaml", ["VRT"]
    elif kind == "gdal-wms":
        (small_dir / "dem.tif").write_text(
            f'<GDAL_WMS><Service name="TMS"><ServerUrl>{url}/${{z}}/${{x}}/${{y}}.png</ServerUrl></Service>'
            '<DataWindow><UpperLeftX>-20037508.34</UpperLeftX><UpperLeftY>20037508.34</UpperLeftY>'
            '<LowerRightX>20037508.34</LowerRightX><LowerRightY>-20037508.34</LowerRightY>'
            '<TileLevel>18</TileLevel><TileCountX>1</TileCountX><TileCountY>1</TileCountY></DataWindow>'
            '<Projection>EPSG:3857</Projection><BlockSizeX>256</BlockSizeX><BlockSizeY>256</BlockSizeY>'
            '<BandsCount>1</BandsCount></GDAL_WMS>', encoding="utf-8")
        scn, words = small_dir / "scenario.yaml", ["not a raster file"]
    elif kind == "vsicurl-name":
        scn, words = _scenario_with_dem(small_dir, f"/vsicurl/{url}/dem.tif"), ["local file"]
    else:
        scn, words = _scenario_with_dem(small_dir, f"{url}/dem.tif"), ["local file"]
    _refused_everywhere(small_dir, scn, capsys, *words)
    assert hits == []


def test_report_of_a_shared_run_folder_with_a_url_dem_makes_no_request(small_dir, http_server, capsys):
    """`iadsim report` re-reads the run's DEM: a run folder whose DEM became a URL VRT is refused."""
    url, hits = http_server
    out = small_dir / "run"
    assert main(["run", str(small_dir / "scenario.yaml"), "-n", "2", "--out", str(out), "-q"]) == 0
    capsys.readouterr()
    (small_dir / "dem.tif").write_text(_vrt_from(f"/vsicurl/{url}/remote.tif"), encoding="utf-8")
    before = _tree(small_dir)
    assert main(["report", str(out)]) == 2
    err = capsys.readouterr().err
    # refused before GDAL reads it: the run folder's input hash no longer matches (and the VRT
    # would be refused as a DEM anyway)
    assert "terrain.dem" in err and ("VRT" in err or "differs from the one the run used" in err), err
    assert "Traceback" not in err
    assert hits == [] and _tree(small_dir) == before


# --------------------------------------------------------------------------- local files from a DEM


def test_vrt_raw_band_on_a_system_file_is_refused(small_dir, capsys):
    (small_dir / "dem.tif").write_text(_vrt(
        '<VRTRasterBand dataType="Byte" band="1" subClass="VRTRawRasterBand">'
        '<SourceFilename relativetoVRT="0">/etc/passwd</SourceFilename><ImageOffset>0</ImageOffset>'
        '<PixelOffset>1</PixelOffset><LineOffset>134</LineOffset></VRTRasterBand>'), encoding="utf-8")
    _refused_everywhere(small_dir, small_dir / "scenario.yaml", capsys, "VRT")


def _in_thread(fn, timeout_s: float = 30.0):
    """Run ``fn`` in a thread; fail (instead of hanging the suite) if it does not return in time."""
    box: dict[str, object] = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout_s)
    assert not t.is_alive(), "hung (a FIFO was opened)"
    return box


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("where", ["dem", "vrt-source"])
def test_fifo_anywhere_a_dem_points_is_refused_without_hanging(small_dir, where):
    fifo = small_dir / "pipe.tif"
    os.mkfifo(fifo)
    if where == "dem":
        scn = _scenario_with_dem(small_dir, "pipe.tif")
    else:
        (small_dir / "dem.tif").write_text(_vrt_from(str(fifo)), encoding="utf-8")
        scn = small_dir / "scenario.yaml"
    box = _in_thread(lambda: main(["validate", str(scn)]))
    assert box.get("value") == 2, box


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_side_car_fifos_next_to_the_dem_are_not_opened(small_dir):
    """GDAL looks for dem.tif.ovr, .aux.xml, .msk beside a GeoTIFF; plain GDAL blocks for ever on
    a FIFO there (holding the GIL). Run in a subprocess so that a regression fails, not hangs."""
    import subprocess

    for ext in (".tif.ovr", ".tif.aux.xml", ".tif.msk", ".aux", ".ovr"):
        os.mkfifo(small_dir / f"dem{ext}")
    src = str(Path(__import__("iadsim").__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=src + os.pathsep + os.environ.get("PYTHONPATH", ""))
    code = ("import sys; from iadsim.cli import main; "
            f"sys.exit(main(['validate', {str(small_dir / 'scenario.yaml')!r}]))")
    r = subprocess.run([sys.executable, "-c", code], env=env, cwd=str(small_dir.parent),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def test_dem_path_checks(tmp_path):
    """The DEM file itself: a FIFO, a device or a directory is named for what it is."""
    os.mkfifo(tmp_path / "f.tif")
    for p, word in [(tmp_path / "f.tif", "FIFO"), (Path("/dev/zero"), "device"), (tmp_path, "directory")]:
        with pytest.raises(InputError, match=word):
            with open_dem(p, source="s.yaml"):
                pass


# --------------------------------------------------------------------------- decompression bomb


def _sparse_tif(path: Path, width: int, height: int, block: int, res: float,
                west: float = DEM_WEST, north: float = DEM_NORTH) -> Path:
    """A GeoTIFF of the given size and square tiles whose tiles are not written (a tiny file)."""
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=1, dtype="float32",
                       crs="EPSG:4326", transform=Affine(res, 0.0, west, 0.0, -res, north),
                       nodata=-32768, tiled=True, blockxsize=block, blockysize=block, sparse_ok=True,
                       BIGTIFF="YES"):
        pass
    return path


def test_one_huge_tile_is_refused_before_any_pixel_is_read(small_dir, capsys):
    # one 16,384 x 16,384 float32 tile: 1 GiB once decompressed, in a file of a few hundred bytes
    dem = _sparse_tif(small_dir / "dem.tif", 16_384, 16_384, 16_384, 0.4 / 16_384)
    assert dem.stat().st_size < 10_000
    assert 16_384**2 * 4 > MAX_BLOCK_BYTES
    _refused_everywhere(small_dir, small_dir / "scenario.yaml", capsys, "decompresses", "MiB")
    # the same raster in 512-pixel tiles is accepted by the size checks (direction of the check)
    _sparse_tif(small_dir / "dem.tif", 16_384, 16_384, 512, 0.4 / 16_384)
    with open_dem(small_dir / "dem.tif") as ds:
        assert ds.block_shapes[0] == (512, 512)


def test_whole_dem_too_many_pixels_is_refused(tmp_path):
    side = int(math.isqrt(MAX_DEM_PIXELS)) + 512
    dem = _sparse_tif(tmp_path / "huge.tif", side, side, 512, 0.4 / side)
    with pytest.raises(ResourceError, match="gdal_translate -projwin"):
        dem_lonlat_bounds(dem, source="s.yaml")


# --------------------------------------------------------------------------- paths and names


def test_terminal_escapes_in_a_dem_path_are_not_printed_raw(small_dir, capsys):
    scn = _scenario_with_dem(small_dir, "dem\x1b]0;owned\x07\x1b[2J\x9b1m.tif")
    assert main(["validate", str(scn)]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err and "\x9b" not in err
    assert "\\x1b]0;owned\\x07" in err and "not found" in err


@pytest.mark.parametrize("name", ["../../scenario/loader.py", "../__init__.py", "/etc/passwd", "..", ""])
def test_bundled_name_cannot_leave_the_data_folder(small_dir, name):
    data = edited(small_scenario_dict(), "terrain.dem", f"bundled:{name}")
    with pytest.raises(InputError) as exc:
        scenario_from_dict(data, source="s.yaml", base_dir=small_dir)
    (p,) = exc.value.problems
    assert p.path == "terrain.dem" and "no bundled DEM" in p.message


def test_source_of_a_mapping_is_only_a_label(small_dir):
    ld = scenario_from_dict(small_scenario_dict(), source="/etc/passwd", base_dir=small_dir)
    assert ld.source == "/etc/passwd" and ld.source_path is None
    ld = load_scenario(small_dir / "scenario.yaml")
    assert ld.source_path == (small_dir / "scenario.yaml").resolve()


# --------------------------------------------------------------------------- sizes behind aliases


def test_long_route_referenced_many_times_is_refused_quickly(small_dir, capsys):
    """~1 MB: one 40,000-waypoint route and 999 more threats flying it (each alias is a copy)."""
    route = ", ".join(f"{{lat: {10.05 + i * 1e-6:.6f}, lon: 20.05}}" for i in range(40_000))
    body = yaml.safe_dump({k: v for k, v in small_scenario_dict().items() if k != "threats"})

    def write(n_aliases: int) -> Path:
        threats = [f"  - {{name: t0, type: shahed_136, altitude_m: 200, route: &r [{route}]}}"]
        threats += [f"  - {{name: t{i}, type: shahed_136, altitude_m: 200, route: *r}}"
                    for i in range(1, n_aliases + 1)]
        p = small_dir / "bomb.yaml"
        p.write_text(body + "threats:\n" + "\n".join(threats) + "\n", encoding="utf-8")
        return p

    p = write(999)
    assert 0.9e6 < p.stat().st_size < 5 * 1024**2
    t0 = time.perf_counter()
    assert main(["validate", str(p)]) == 2
    assert time.perf_counter() - t0 < 20.0
    err = capsys.readouterr().err
    assert "aliases are expanded" in err and f"{MAX_EXPANDED_NODES:,}" in err
    # direction: the same route flown by 3 threats loads (the budget counts, it does not forbid)
    ld = load_scenario(write(2))
    assert [len(t.route) for t in ld.scenario.threats] == [40_000] * 3


def test_shared_lists_in_a_mapping_are_counted(small_dir):
    route = [{"lat": 10.05, "lon": 20.05}] * 2 + [{"lat": 10.3, "lon": 20.3}] * 39_998
    data = small_scenario_dict()
    data["threats"] = [{"name": f"t{i}", "type": "shahed_136", "route": route} for i in range(999)]
    t0 = time.perf_counter()
    with pytest.raises(InputError, match="more than 1,000,000 values"):
        scenario_from_dict(data, source="api", base_dir=small_dir)
    assert time.perf_counter() - t0 < 5.0


def test_recursive_alias_is_refused():
    with pytest.raises(InputError, match="contains it"):
        parse_yaml_text("a: &a [1, *a]\n")


# --------------------------------------------------------------------------- radars x grid cells


def test_radars_times_grid_cells_are_counted(small_dir, monkeypatch, capsys):
    from iadsim.coverage.specs import build_grid
    from iadsim.limits import check_run_size

    data = small_scenario_dict()
    data["sensors"] = [{"name": f"r{i}", "system": "tor_m2", "site": {"lat": 10.2, "lon": 20.2}}
                       for i in range(3000)]
    (small_dir / "many.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    ld = load_scenario(small_dir / "many.yaml")
    g = build_grid(ld)
    need = g.nx * g.ny * 4 * 3000
    budget = need // 2
    with pytest.raises(ResourceError) as exc:
        check_run_size(ld, 1, available=budget)
    assert [p.path for p in exc.value.problems] == ["terrain.resolution_m"]
    assert "3,002 radars" in str(exc.value)
    # direction: the 2 fire units alone fit in the same memory
    check_run_size(load_scenario(small_dir / "scenario.yaml"), 1, available=budget)
    # the commands refuse it before computing anything
    monkeypatch.setenv("IADSIM_MEMORY_LIMIT", str(budget))
    for cmd in COMMANDS:
        out = small_dir / f"o-{cmd}"
        args = [cmd, str(small_dir / "many.yaml")] + ([] if cmd == "validate" else ["--out", str(out)])
        t0 = time.perf_counter()
        assert main(args + (["-n", "1", "-q"] if cmd == "run" else [])) == 2, cmd
        assert time.perf_counter() - t0 < 30
        err = capsys.readouterr().err
        assert "terrain.resolution_m" in err and "radars" in err and not out.exists(), (cmd, err)


def test_no_room_for_one_replication_is_said_plainly(small_scenario):
    from iadsim.limits import check_run_size

    size = check_run_size(small_scenario, 1, available=1 << 40)
    # room for the compiled scenario, not for one replication's rows
    avail = int((size.world_bytes + 10) / 0.8) + 1
    with pytest.raises(ResourceError) as exc:
        check_run_size(small_scenario, 10, available=avail)
    msg = str(exc.value)
    assert "at most about 0" not in msg and "even one replication" in msg


# --------------------------------------------------------------------------- out of memory


@pytest.mark.parametrize("cmd,has_n", [("run", True), ("validate", False), ("coverage", False)])
def test_out_of_memory_message_allocates_nothing_and_fits_the_command(monkeypatch, capfd, cmd, has_n):
    import iadsim.cli as cli

    def boom(*a, **k):
        raise MemoryError

    monkeypatch.setattr(cli, "app", boom)
    monkeypatch.setattr(cli.err, "print", boom)  # any rendering in the handler would fail again
    assert main([cmd, "x.yaml"]) == 2
    err = capfd.readouterr().err
    assert err.startswith("error: out of memory") and "Traceback" not in err
    assert ("-n" in err) == has_n


# --------------------------------------------------------------------------- strict values


def test_yaml_core_schema_scalars():
    # YAML 1.2.2, section 10.3.2 (core schema tag resolution): 017 is decimal 17, 0o17 octal 15,
    # 6:40 is not a number (no sexagesimal), yes/on are not booleans, no timestamps
    data = parse_yaml_text("a: 017\nb: 6:40\nc: yes\nd: 0o17\ne: 1e3\nf: 2026-01-01\ng: .inf\nh: ~\n"
                           "i: off\nj: True\nk: 0x1F\nl: 1_000\nm: -.5\n")
    assert data == {"a": 17, "b": "6:40", "c": "yes", "d": 15, "e": 1000.0, "f": "2026-01-01",
                    "g": float("inf"), "h": None, "i": "off", "j": True, "k": 31, "l": "1_000", "m": -0.5}


@pytest.mark.parametrize("path,value,word", [
    ("simulation.false_alarms", "yes", "boolean"),
    ("simulation.duration_s", "6:40", "number"),
    ("effectors[0].site.lat", True, "number"),
    ("simulation.replications", "4", "integer"),
    ("simulation.replications", 4.0, "integer"),
    ("simulation.seed", 2**63, "less than"),
    ("simulation.dt_s", 5e-324, "greater than or equal to 0.001"),
    ("simulation.dt_s", 1e-4, "greater than or equal to 0.001"),
    ("terrain.refraction_k", 1e-300, "greater than or equal to 0.5"),
    ("terrain.refraction_k", 100.0, "less than or equal to 4"),
    ("threats[0].speed_m_s", 5e-324, "greater than or equal to 1"),
    ("simulation.process_noise_m_s2", 1e-300, "greater than or equal to 0.001"),
])
def test_values_that_would_hide_a_mistake_are_refused(small_dir, capsys, path, value, word):
    p = small_dir / "strict.yaml"
    text = yaml.safe_dump(edited(small_scenario_dict(), path, value))
    if isinstance(value, str) and value in ("yes", "6:40"):  # as a user writes it: unquoted
        text = text.replace(f"'{value}'", value)
    p.write_text(text, encoding="utf-8")
    assert main(["validate", str(p)]) == 2
    err = capsys.readouterr().err
    assert path in err and word in err, err


def test_plausible_values_still_load(small_dir):
    """Direction: the bounds refuse only the implausible (4/3 earth, 1 ms steps, 017 as 17)."""
    p = small_dir / "ok.yaml"
    text = yaml.safe_dump(edited(edited(small_scenario_dict(), "terrain.refraction_k", 4.0),
                                 "simulation.dt_s", 0.001))
    p.write_text(text.replace("replications: 64", "replications: 017"), encoding="utf-8")
    ld = load_scenario(p)
    assert ld.scenario.simulation.replications == 17 and ld.scenario.terrain.refraction_k == 4.0


def test_seed_of_2_63_refused_by_the_command_line_and_the_api(small_dir, small_scenario, capsys):
    import iadsim

    out = small_dir / "o"
    args = ["run", str(small_dir / "scenario.yaml"), "--seed", str(2**63), "-n", "2", "--out", str(out)]
    assert main(args) == 2
    assert "--seed" in capsys.readouterr().err and not out.exists()
    for bad in (2**63, -1, True, 1.5):
        with pytest.raises(InputError, match="seed"):
            iadsim.simulate(small_scenario, replications=2, seed=bad)


# --------------------------------------------------------------------------- orientation and edges


def test_south_up_dem_gives_the_same_terrain(tmp_path):
    ny = nx = 120
    yy, xx = np.mgrid[0:ny, 0:nx]
    z = (100.0 + xx + 3.0 * yy).astype(np.float32)  # rises to the south
    north_up = write_dem(tmp_path / "n.tif", z, 10.0, 10.12, 0.001)
    with rasterio.open(tmp_path / "s.tif", "w", driver="GTiff", width=nx, height=ny, count=1,
                       dtype="float32", crs="EPSG:4326", transform=Affine(0.001, 0, 10.0, 0, 0.001, 10.0),
                       nodata=-32768) as ds:
        ds.write(z[::-1], 1)  # row 0 is the southern edge
    assert dem_lonlat_bounds(tmp_path / "s.tif") == pytest.approx(dem_lonlat_bounds(north_up))
    g = LocalGrid.around(10.06, 10.06, (-3000.0, 3000.0), (-3000.0, 3000.0), 200.0)
    a = load_terrain(north_up, g)
    b = load_terrain(tmp_path / "s.tif", g)
    np.testing.assert_allclose(b.elevation_m, a.elevation_m, atol=1e-3)
    assert a.elevation_m[-1].mean() > a.elevation_m[0].mean()  # south (last rows) higher, not flipped


def test_site_on_the_dem_edge_is_accepted(small_dir):
    """An asset exactly on the DEM's north edge is inside it (it was refused as "outside the DEM");
    the grid is clipped to the DEM, and the terrain there is read."""
    from iadsim.coverage.specs import build_grid

    data = edited(small_scenario_dict(), "assets[0].lat", DEM_NORTH)
    ld = scenario_from_dict(data, source="s.yaml", base_dir=small_dir)
    t = load_terrain(ld.dem_path, build_grid(ld), source="s.yaml")
    x, y = t.grid.to_local([DEM_NORTH], [20.2])
    assert np.isfinite(t.elevation_m).all() and np.isfinite(t.height_at(x, y)).all()


# --------------------------------------------------------------------------- workers


def _plant(folder: Path, marker: Path) -> None:
    code = f"open({str(marker)!r}, 'a').write('ran in %d\\n' % __import__('os').getpid())\n"
    (folder / "coverage.py").write_text(code, encoding="utf-8")
    (folder / "numpy.py").write_text(code, encoding="utf-8")
    (folder / "multiprocessing").mkdir()
    (folder / "multiprocessing" / "__init__.py").write_text(code + "raise SystemExit(3)\n", encoding="utf-8")


def test_local_workers_do_not_import_from_the_scenario_folder(small_dir, tmp_path_factory, monkeypatch):
    marker = tmp_path_factory.mktemp("marker") / "ran.txt"
    _plant(small_dir, marker)
    monkeypatch.chdir(small_dir)
    out = tmp_path_factory.mktemp("out") / "run"
    assert main(["run", "scenario.yaml", "-n", "8", "--workers", "2", "--out", str(out), "-q"]) == 0
    assert not marker.exists(), marker.read_text()


@pytest.mark.slow
def test_ray_workers_do_not_import_from_the_scenario_folder(small_dir, tmp_path_factory, monkeypatch):
    pytest.importorskip("ray")
    import ray

    if ray.is_initialized():
        pytest.skip("a Ray session of another test is running")
    marker = tmp_path_factory.mktemp("marker") / "ran.txt"
    _plant(small_dir, marker)
    monkeypatch.chdir(small_dir)
    out = tmp_path_factory.mktemp("out") / "run"
    assert main(["run", "scenario.yaml", "-n", "8", "--backend", "ray", "--workers", "2",
                 "--out", str(out), "-q"]) == 0
    assert not marker.exists(), marker.read_text()
    assert not ray.is_initialized()


def test_worker_import_path_is_clean(tmp_path):
    from iadsim.montecarlo.isolation import clean_sys_path

    assert clean_sys_path(["", "rel", str(tmp_path), sys.prefix], cwd=str(tmp_path)) == [sys.prefix]
