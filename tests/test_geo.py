"""Tests of iadsim.geo: the local aeqd grid, DEM loading and resampling on real SRTM tiles,
DEM problems, synthetic terrain and bilinear height look-ups."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import rasterio
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from iadsim.errors import InputError
from iadsim.geo import LocalGrid, Terrain, bundled_dem_path, load_terrain, synthetic_elevation, write_dem
from iadsim.geo.terrain import dem_lonlat_bounds

from conftest import REPO, shared_path

BUNDLED_TIF = REPO / "src" / "iadsim" / "data" / "S33W071.tif"


@pytest.fixture()
def hgt() -> Path:
    """The New Hampshire SRTM tile of the shared data (fails when absent: see conftest)."""
    return shared_path("data", "N44W072.hgt")

# shared/data/PROVENANCE.md, section "S33W071.tif": SHA-256, and the tile's maximum
# (6929 m at 32.6533 S, 70.0108 W: Aconcagua, 6961 m true height, 3" sampling gives 6929 m)
S33_SHA256 = "3fdfca49112a3fff599a6cca9f9c042770bd20db49f43ba26f5ebd77c274f117"
ACONCAGUA_LAT, ACONCAGUA_LON, ACONCAGUA_TILE_MAX_M = -32.6533, -70.0108, 6929.0
# shared/data/PROVENANCE.md, section "N44W072.hgt": SHA-256, min 115 m, max 1908 m at
# 44.2708 N, 71.3033 W (Mount Washington, 1917 m true height)
N44_SHA256 = "893b68e241df5f8a8a89fe067c629b78591313f571c77ab610f65efe85b458fa"
WASHINGTON_LAT, WASHINGTON_LON, WASHINGTON_TILE_MAX_M, N44_MIN_M = 44.2708, -71.3033, 1908.0, 115.0

GEOD = Geod(ellps="WGS84")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tif() -> Path:
    """The Andes tile: the package's bundled copy (present with or without ../shared)."""
    p = bundled_dem_path("S33W071.tif")
    assert p is not None and p.is_file()
    return p


# --------------------------------------------------------------------------- LocalGrid


# PROJ's aeqd uses EPS10 = 1e-10 rad (5.7e-9 deg, 0.6 mm): a centre that close to the equator is
# put on it, and a point that close to the centre is put at it. Keep clear of those slivers
# (or exactly on them); everywhere else the round trip holds to 1e-9 deg.
_NOT_TINY = st.floats(-1.0, 1.0).filter(lambda v: v == 0.0 or abs(v) >= 1e-8)


@settings(max_examples=60, deadline=None)
@given(lat0=st.floats(-80, 80).filter(lambda v: v == 0.0 or abs(v) >= 1e-8),
       lon0=st.floats(-179, 179), dlat=_NOT_TINY, dlon=_NOT_TINY)
def test_round_trip_lonlat_local_lonlat(lat0, lon0, dlat, dlon):
    g = LocalGrid(lat0, lon0, -1000.0, 1000.0, 100.0, 20, 20)
    lat, lon = lat0 + dlat, lon0 + dlon
    x, y = g.to_local(lat, lon)
    lon2, lat2 = g.to_lonlat(x, y)
    assert abs(float(lat2) - lat) < 1e-9
    dlon_back = (float(lon2) - lon + 180.0) % 360.0 - 180.0  # lon0 + dlon may cross the antimeridian
    assert abs(dlon_back) < 1e-9


def test_round_trip_arrays():
    g = LocalGrid(-32.8, -70.6, -50e3, 50e3, 150.0, 667, 667)
    rng = np.random.default_rng(0)
    lat = -32.8 + rng.uniform(-0.5, 0.5, 2000)
    lon = -70.6 + rng.uniform(-0.5, 0.5, 2000)
    x, y = g.to_local(lat, lon)
    assert x.shape == y.shape == (2000,)
    lon2, lat2 = g.to_lonlat(x, y)
    np.testing.assert_allclose(lat2, lat, rtol=0, atol=1e-9)
    np.testing.assert_allclose(lon2, lon, rtol=0, atol=1e-9)


def test_centre_is_origin_and_axes():
    g = LocalGrid(44.27, -71.30, -1000.0, 1000.0, 100.0, 20, 20)
    x, y = g.to_local(44.27, -71.30)
    assert abs(float(x)) < 1e-6 and abs(float(y)) < 1e-6
    xn, yn = g.to_local(44.37, -71.30)  # north: +y
    xe, ye = g.to_local(44.27, -71.20)  # east: +x
    assert abs(float(xn)) < 1e-6 and float(yn) > 11_000
    assert float(xe) > 7_000 and abs(float(ye)) < 100  # (a meridian-convergence offset only)


@pytest.mark.parametrize("lat0,lon0", [(0.0, 0.0), (-32.65, -70.01), (44.27, -71.30), (69.0, 20.0)])
def test_aeqd_distance_from_centre_is_geodesic(lat0, lon0):
    g = LocalGrid(lat0, lon0, 0.0, 0.0, 1.0, 1, 1)
    rng = np.random.default_rng(1)
    n = 500
    az = rng.uniform(0, 360, n)
    dist = rng.uniform(100.0, 150e3, n)  # a scenario's scale: up to 150 km from the centre
    lon, lat, _ = GEOD.fwd(np.full(n, lon0), np.full(n, lat0), az, dist)
    x, y = g.to_local(lat, lon)
    np.testing.assert_allclose(np.hypot(x, y), dist, rtol=1e-4)  # 0.01 %
    # the bearing from the centre is preserved too (aeqd: true azimuths from the centre)
    bearing = np.degrees(np.arctan2(x, y)) % 360.0
    d_az = (bearing - az + 180.0) % 360.0 - 180.0
    assert np.abs(d_az).max() < 1e-6


def test_around_snaps_to_resolution():
    g = LocalGrid.around(10.0, 20.0, (-1234.0, 987.0), (-555.0, 2345.0), 100.0)
    assert (g.xmin, g.ymax, g.res) == (-1300.0, 2400.0, 100.0)
    assert (g.nx, g.ny) == (23, 30)
    assert g.xmax == pytest.approx(1000.0) and g.ymin == pytest.approx(-600.0)
    assert g.shape == (30, 23)
    np.testing.assert_allclose(g.x_centers()[[0, -1]], [-1250.0, 950.0])
    np.testing.assert_allclose(g.y_centers()[[0, -1]], [2350.0, -550.0])  # north-up
    tiny = LocalGrid.around(10.0, 20.0, (0.0, 1.0), (0.0, 1.0), 100.0)
    assert tiny.nx >= 2 and tiny.ny >= 2


def test_transform_matches_centres():
    g = LocalGrid(10.0, 20.0, -500.0, 300.0, 50.0, 20, 16)
    c, r = 7, 11
    x, y = g.transform @ (c + 0.5, r + 0.5)
    assert (x, y) == pytest.approx((g.x_centers()[c], g.y_centers()[r]))


def test_cell_of_and_contains_at_edges():
    g = LocalGrid(10.0, 20.0, -1000.0, 1000.0, 100.0, 20, 20)  # x in [-1000, 1000), y in (-1000, 1000]
    eps = 1e-6
    # corners and edges: west and north edges are inside, east and south edges are not
    assert g.contains(g.xmin, g.ymax)
    assert not g.contains(g.xmax, 0.0)
    assert g.contains(g.xmax - eps, 0.0)
    assert not g.contains(0.0, g.ymin)
    assert g.contains(0.0, g.ymin + eps)
    assert not g.contains(g.xmin - eps, 0.0)
    assert not g.contains(0.0, g.ymax + eps)
    # cell_of agrees with contains: every point inside maps to the cell whose bounds hold it
    assert tuple(map(int, g.cell_of(g.xmin, g.ymax))) == (0, 0)
    assert tuple(map(int, g.cell_of(g.xmax - eps, g.ymin + eps))) == (19, 19)
    assert tuple(map(int, g.cell_of(-900.0, 900.0))) == (1, 1)  # on a cell corner: east/south cell
    assert tuple(map(int, g.cell_of(-900.0 - eps, 900.0 + eps))) == (0, 0)
    # outside points are clipped to the nearest edge cell
    assert tuple(map(int, g.cell_of(5000.0, -5000.0))) == (19, 19)
    assert tuple(map(int, g.cell_of(-5000.0, 5000.0))) == (0, 0)
    assert tuple(map(int, g.cell_of(g.xmax, g.ymin))) == (19, 19)


def test_cell_of_centres_and_vectorised():
    g = LocalGrid(10.0, 20.0, -1000.0, 1000.0, 100.0, 20, 20)
    X, Y = np.meshgrid(g.x_centers(), g.y_centers())
    r, c = g.cell_of(X, Y)
    R, C = np.mgrid[0:20, 0:20]
    np.testing.assert_array_equal(r, R)
    np.testing.assert_array_equal(c, C)
    assert g.contains(X, Y).all()


def test_nan_handling():
    g = LocalGrid(10.0, 20.0, -1000.0, 1000.0, 100.0, 20, 20)
    x = np.array([np.nan, 50.0, np.nan, 50.0])
    y = np.array([50.0, np.nan, np.nan, 50.0])
    np.testing.assert_array_equal(g.contains(x, y), [False, False, False, True])
    r, c = g.cell_of(x, y)  # documented: NaN -> 0, never an exception or a wild index
    np.testing.assert_array_equal(c, [0, 10, 0, 10])
    np.testing.assert_array_equal(r, [9, 0, 0, 9])
    assert ((r >= 0) & (r < g.ny) & (c >= 0) & (c < g.nx)).all()


def test_cell_of_clips_infinite_and_huge_values():
    g = LocalGrid(10.0, 20.0, -1000.0, 1000.0, 100.0, 20, 20)
    with np.errstate(invalid="ignore"):
        r, c = g.cell_of(np.array([np.inf, 1e30, -np.inf]), np.array([-np.inf, -1e30, np.inf]))
    np.testing.assert_array_equal(c, [19, 19, 0])
    np.testing.assert_array_equal(r, [19, 19, 0])


def test_lonlat_bounds_contain_the_grid():
    g = LocalGrid.around(-32.8, -70.6, (-20e3, 20e3), (-10e3, 10e3), 150.0)
    west, south, east, north = g.lonlat_bounds()
    assert west < -70.6 < east and south < -32.8 < north
    lon, lat = g.to_lonlat([g.xmin, g.xmax, g.xmin, g.xmax], [g.ymin, g.ymin, g.ymax, g.ymax])
    assert (lon >= west - 1e-12).all() and (lon <= east + 1e-12).all()
    assert (lat >= south - 1e-12).all() and (lat <= north + 1e-12).all()


# --------------------------------------------------------------------------- real terrain


def test_bundled_tile_sha256_matches_provenance():
    assert _sha256(BUNDLED_TIF) == S33_SHA256  # PROVENANCE.md, S33W071.tif, SHA-256
    assert _sha256(_tif()) == S33_SHA256  # the copy the installed package resolves


def test_provenance_hashes_and_shared_copies(hgt):
    text = shared_path("data", "PROVENANCE.md").read_text(encoding="utf-8")
    assert S33_SHA256 in text and N44_SHA256 in text
    assert _sha256(shared_path("data", "S33W071.tif")) == S33_SHA256
    assert _sha256(hgt) == N44_SHA256


def test_bundled_tile_header():
    # PROVENANCE.md: 1201 x 1201, Int16, EPSG:4326, pixel edge origin (-71.000417, -31.999583), 3"
    with rasterio.open(_tif()) as ds:
        assert (ds.width, ds.height, ds.count) == (1201, 1201, 1)
        assert ds.dtypes[0] == "int16"
        assert ds.crs.to_epsg() == 4326
        assert ds.transform.a == pytest.approx(1 / 1200) and ds.transform.e == pytest.approx(-1 / 1200)
        assert (ds.transform.c, ds.transform.f) == pytest.approx((-71.000417, -31.999583), abs=1e-6)
    west, south, east, north = dem_lonlat_bounds(_tif())
    assert (west, south, east, north) == pytest.approx((-71.0004, -33.0004, -69.9996, -31.9996), abs=1e-3)


def _aconcagua_grid(res: float = 90.0) -> LocalGrid:
    # the summit is ~1 km west of the tile's east edge (70 W): keep the grid inside the tile
    return LocalGrid.around(ACONCAGUA_LAT, ACONCAGUA_LON, (-4000.0, 600.0), (-3000.0, 3000.0), res)


def test_aconcagua_maximum_survives_resampling():
    g = _aconcagua_grid()
    t = load_terrain(_tif(), g)
    assert t.elevation_m.shape == g.shape and t.elevation_m.dtype == np.float32
    assert np.isfinite(t.elevation_m).all()
    peak = float(t.elevation_m.max())
    # bilinear resampling onto a 90 m grid can only lower a peak, and by less than ~100 m
    assert ACONCAGUA_TILE_MAX_M - 100.0 <= peak <= ACONCAGUA_TILE_MAX_M + 0.5
    # and the peak is where PROVENANCE puts it (within a couple of cells)
    r, c = np.unravel_index(np.argmax(t.elevation_m), g.shape)
    lon, lat = g.to_lonlat(g.x_centers()[c], g.y_centers()[r])
    _, _, off = GEOD.inv(ACONCAGUA_LON, ACONCAGUA_LAT, float(lon), float(lat))
    assert off < 250.0


def test_tile_maximum_is_aconcagua():
    with rasterio.open(_tif()) as ds:
        a = ds.read(1)
        assert int(a.max()) == ACONCAGUA_TILE_MAX_M
        lon, lat = ds.xy(*np.unravel_index(np.argmax(a), a.shape))
        assert (lat, lon) == pytest.approx((ACONCAGUA_LAT, ACONCAGUA_LON), abs=1e-3)
        assert int(next(ds.sample([(ACONCAGUA_LON, ACONCAGUA_LAT)]))[0]) == ACONCAGUA_TILE_MAX_M


def test_resampled_values_match_direct_samples():
    g = _aconcagua_grid()
    t = load_terrain(_tif(), g)
    rng = np.random.default_rng(2)
    rows, cols = rng.integers(0, g.ny, 200), rng.integers(0, g.nx, 200)
    lon, lat = g.to_lonlat(g.x_centers()[cols], g.y_centers()[rows])
    with rasterio.open(_tif()) as ds:
        a = ds.read(1).astype(float)
        nearest = np.array([v[0] for v in ds.sample(zip(lon, lat))], dtype=float)
        # bilinear by hand between the four pixel centres around each point
        fc, fr = ~ds.transform @ (lon, lat)
        fc, fr = fc - 0.5, fr - 0.5
    c0, r0 = np.floor(fc).astype(int), np.floor(fr).astype(int)
    tx, ty = fc - c0, fr - r0
    bil = ((1 - ty) * ((1 - tx) * a[r0, c0] + tx * a[r0, c0 + 1])
           + ty * ((1 - tx) * a[r0 + 1, c0] + tx * a[r0 + 1, c0 + 1]))
    got = t.elevation_m[rows, cols].astype(float)
    # GDAL's bilinear widens its kernel when the target grid is coarser (90 m vs ~78 m E-W pixels),
    # so it is close to, not equal to, the 2 x 2 interpolation; in 3000-7000 m alpine relief
    assert np.abs(got - bil).max() < 25.0
    assert np.median(np.abs(got - bil)) < 3.0
    # each value lies within the range of the 3 x 3 source pixels around the nearest one
    ri, ci = np.rint(fr).astype(int), np.rint(fc).astype(int)
    for k in range(len(got)):
        block = a[ri[k] - 1: ri[k] + 2, ci[k] - 1: ci[k] + 2]
        assert block.min() - 1.0 <= got[k] <= block.max() + 1.0
        assert abs(got[k] - nearest[k]) <= (block.max() - block.min()) + 1.0


def test_hgt_opens_with_srtmhgt_driver(hgt):
    with rasterio.open(hgt) as ds:
        assert ds.driver == "SRTMHGT"
        assert (ds.width, ds.height) == (1201, 1201)
        a = ds.read(1)
        assert int(a.min()) == N44_MIN_M and int(a.max()) == WASHINGTON_TILE_MAX_M  # PROVENANCE.md
        assert int(next(ds.sample([(WASHINGTON_LON, WASHINGTON_LAT)]))[0]) == WASHINGTON_TILE_MAX_M
    west, south, east, north = dem_lonlat_bounds(hgt)
    assert (west, south, east, north) == pytest.approx((-72.0004, 43.9996, -70.9996, 45.0004), abs=1e-3)


def test_mount_washington_elevation(hgt):
    g = LocalGrid.around(WASHINGTON_LAT, WASHINGTON_LON, (-4000.0, 4000.0), (-4000.0, 4000.0), 90.0)
    t = load_terrain(hgt, g)
    x, y = g.to_local(WASHINGTON_LAT, WASHINGTON_LON)
    summit = float(t.height_at(x, y))
    # PROVENANCE.md: tile max 1908 m here; Mount Washington's true height is 1917 m
    assert 1850.0 <= summit <= WASHINGTON_TILE_MAX_M + 0.5
    assert WASHINGTON_TILE_MAX_M - 60.0 <= float(t.elevation_m.max()) <= WASHINGTON_TILE_MAX_M + 0.5
    # the surrounding valleys (Pinkham Notch ~600 m) are far below
    assert float(t.elevation_m.min()) < 1000.0


# --------------------------------------------------------------------------- DEM problems


def test_grid_outside_dem_raises():
    # 32.01 S is 1 km inside the tile's north edge (32 S): a +-3 km grid pokes out of it
    g = LocalGrid.around(-32.01, -70.5, (-3000.0, 3000.0), (-3000.0, 3000.0), 90.0)
    with pytest.raises(InputError) as exc:
        load_terrain(_tif(), g)
    (p,) = exc.value.problems
    assert p.file == str(_tif()) and p.path == ""
    assert "not fully covered" in p.message
    with pytest.raises(InputError) as exc:
        load_terrain(_tif(), g, source="scn.yaml")
    (p,) = exc.value.problems
    assert (p.file, p.path) == ("scn.yaml", "terrain.dem")


def test_grid_entirely_off_the_dem_raises():
    g = LocalGrid.around(10.0, 20.0, (-3000.0, 3000.0), (-3000.0, 3000.0), 90.0)
    with pytest.raises(InputError, match="100.0%"):
        load_terrain(_tif(), g)


@pytest.mark.parametrize("hole", [np.s_[40:60, 40:60], np.s_[50, 50]], ids=["block", "one-pixel"])
def test_nodata_hole_raises(tmp_path, hole):
    z = np.full((100, 100), 500.0, dtype=np.float32)
    z[hole] = -32768.0
    dem = write_dem(tmp_path / "hole.tif", z, 20.0, 10.3, 0.003, nodata=-32768.0)
    g = LocalGrid.around(10.15, 20.15, (-3000.0, 3000.0), (-3000.0, 3000.0), 200.0)
    with pytest.raises(InputError) as exc:
        load_terrain(dem, g, source="scn.yaml")
    (p,) = exc.value.problems
    assert (p.file, p.path) == ("scn.yaml", "terrain.dem")
    assert "nodata" in p.message
    # the same DEM away from the hole loads, and exactly (a constant surface)
    g2 = LocalGrid.around(10.05, 20.05, (-2000.0, 2000.0), (-2000.0, 2000.0), 200.0)
    t = load_terrain(dem, g2)
    np.testing.assert_allclose(t.elevation_m, 500.0)


def test_nan_hole_raises(tmp_path):
    z = np.full((100, 100), 500.0, dtype=np.float32)
    z[45:55, 45:55] = np.nan
    dem = write_dem(tmp_path / "nan.tif", z, 20.0, 10.3, 0.003, nodata=None)
    g = LocalGrid.around(10.15, 20.15, (-3000.0, 3000.0), (-3000.0, 3000.0), 200.0)
    with pytest.raises(InputError):
        load_terrain(dem, g)


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_not_a_raster_and_no_crs(tmp_path):
    junk = tmp_path / "junk.tif"
    junk.write_text("not a raster", encoding="utf-8")
    g = LocalGrid.around(10.15, 20.15, (-3000.0, 3000.0), (-3000.0, 3000.0), 200.0)
    with pytest.raises(InputError, match="not a raster"):
        load_terrain(junk, g)
    with pytest.raises(InputError, match="not a raster"):
        dem_lonlat_bounds(junk)
    nocrs = tmp_path / "nocrs.tif"
    with rasterio.open(nocrs, "w", driver="GTiff", width=4, height=4, count=1, dtype="float32") as ds:
        ds.write(np.zeros((1, 4, 4), dtype=np.float32))
    with pytest.raises(InputError, match="coordinate reference system"):
        load_terrain(nocrs, g)


def test_write_dem_round_trip(tmp_path):
    z = synthetic_elevation((60, 80), res_m=330.0, seed=4)
    dem = write_dem(tmp_path / "z.tif", z, 20.0, 10.4, 0.003)
    with rasterio.open(dem) as ds:
        assert ds.crs.to_epsg() == 4326 and ds.nodata == -32768.0
        assert (ds.transform.c, ds.transform.f, ds.transform.a) == pytest.approx((20.0, 10.4, 0.003))
        np.testing.assert_array_equal(ds.read(1), z)


# --------------------------------------------------------------------------- synthetic terrain


def test_synthetic_elevation_reproducible():
    a = synthetic_elevation((50, 70), res_m=100.0, seed=11)
    b = synthetic_elevation((50, 70), res_m=100.0, seed=11)
    c = synthetic_elevation((50, 70), res_m=100.0, seed=12)
    assert a.shape == (50, 70) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 100.0
    assert a.min() >= 500.0  # base_m: hills only add height
    flat = synthetic_elevation((10, 10), res_m=100.0, seed=1, base_m=42.0, n_hills=0)
    np.testing.assert_array_equal(flat, 42.0)


def test_synthetic_dem_fixture_loads(synthetic_dem):
    g = LocalGrid.around(10.2, 20.2, (-10e3, 10e3), (-10e3, 10e3), 400.0)
    t = load_terrain(synthetic_dem, g)
    # conftest: base 300 m plus hills of up to 900 m each
    assert t.elevation_m.min() >= 300.0 - 1e-3 and t.elevation_m.max() > 400.0


# --------------------------------------------------------------------------- Terrain.height_at


_RAMP_GRID = LocalGrid(10.0, 20.0, -500.0, 400.0, 100.0, 10, 8)


def _ramp_terrain() -> Terrain:
    """Rough terrain: independent uniform heights of 0-3000 m in 100 m cells."""
    rng = np.random.default_rng(5)
    return Terrain(_RAMP_GRID, rng.uniform(0.0, 3000.0, _RAMP_GRID.shape).astype(np.float32))


def test_height_at_exact_at_cell_centres():
    t = _ramp_terrain()
    X, Y = np.meshgrid(t.grid.x_centers(), t.grid.y_centers())
    # exact in the interior; the last row and column are clipped by 1e-6 of a cell
    np.testing.assert_allclose(t.height_at(X, Y), t.elevation_m, rtol=0, atol=0.01)
    np.testing.assert_array_equal(t.height_at(X[:-1, :-1], Y[:-1, :-1]), t.elevation_m[:-1, :-1])


@settings(max_examples=100, deadline=None)
@given(r=st.integers(0, 6), c=st.integers(0, 8), tx=st.floats(0, 1), ty=st.floats(0, 1))
def test_height_at_bilinear_between_centres(r, c, tx, ty):
    t = _ramp_terrain()
    e = t.elevation_m.astype(float)
    g = t.grid
    x = g.x_centers()[c] + tx * g.res
    y = g.y_centers()[r] - ty * g.res  # rows go south
    want = ((1 - ty) * ((1 - tx) * e[r, c] + tx * e[r, c + 1])
            + ty * ((1 - tx) * e[r + 1, c] + tx * e[r + 1, c + 1]))
    assert float(t.height_at(x, y)) == pytest.approx(want, abs=0.02)


def test_height_at_on_a_plane_is_exact_everywhere():
    g = LocalGrid(10.0, 20.0, -500.0, 400.0, 100.0, 10, 8)
    X, Y = np.meshgrid(g.x_centers(), g.y_centers())
    t = Terrain(g, (1000.0 + 0.3 * X - 0.2 * Y).astype(np.float32))
    rng = np.random.default_rng(6)
    # inside the hull of the cell centres bilinear reproduces a plane
    x = rng.uniform(g.x_centers()[0], g.x_centers()[-1], 500)
    y = rng.uniform(g.y_centers()[-1], g.y_centers()[0], 500)
    np.testing.assert_allclose(t.height_at(x, y), 1000.0 + 0.3 * x - 0.2 * y, atol=1e-3)
    # outside the centres' hull it holds the edge value (no extrapolation)
    assert float(t.height_at(g.xmin, 0.0)) == pytest.approx(float(t.height_at(g.x_centers()[0], 0.0)))
    assert float(t.height_at(1e6, -1e6)) == pytest.approx(float(t.elevation_m[-1, -1]), abs=0.01)


def test_height_at_nan_is_not_an_index_error():
    t = _ramp_terrain()
    try:
        with np.errstate(invalid="ignore"):
            v = t.height_at(np.array([np.nan, 0.0]), np.array([0.0, np.nan]))
    except ValueError:
        return
    assert np.isnan(v).all()
