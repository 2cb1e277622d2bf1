"""Tests of the one-pass horizon sweep (iadsim.coverage.sweep; ``min_visible_altitude(method=
"sweep")``, the default) against the exact ray trace (``method="rays"``, exact on the bilinear
terrain surface) and against its own terrain model, the R3 raster (Franklin & Ray 1994: terrain
sampled on the grid lines of each ray's major axis, ``r3_min_visible_altitude``), on synthetic hills
and on the bundled real SRTM tile, plus nodata, edge and argument handling.

Accuracy target (the project's issue): binary visibility at 10, 100 and 1000 m above ground agrees
with the exact raster on at least 99.5 % of the cells. Within EXACT_ZONE of the antenna the sweep
traces the bilinear surface exactly; beyond, every term it evaluates is a term of R3, whose samples
lie on the bilinear surface. So the sweep's raster is never above the exact one, and beyond the
zone never above R3's (each can only miss an occluder)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iadsim.coverage import min_visible_altitude, visible_at
from iadsim.coverage.los import r3_min_visible_altitude
from iadsim.coverage.sweep import EXACT_ZONE, PLANES, SWEEP, sweep_min_visible_altitude
from iadsim.geo import LocalGrid, Terrain, bundled_dem_path, load_terrain, synthetic_elevation
from iadsim.physics.horizon import EARTH_RADIUS_M

K43 = 4.0 / 3.0
HEIGHTS_AGL = (10.0, 100.0, 1000.0)
TARGET = 0.995  # binary agreement with the exact raster, each height


def _agreement(ref: np.ndarray, got: np.ndarray, elev: np.ndarray, heights=HEIGHTS_AGL):
    """Per height above ground: fraction of in-range cells where both rasters say the same
    (visible iff the raster <= ground + height)."""
    m = np.isfinite(ref)
    assert np.array_equal(m, np.isfinite(got))
    out = []
    for h in heights:
        with np.errstate(invalid="ignore"):
            out.append(float(np.mean((ref[m] <= elev[m] + h) == (got[m] <= elev[m] + h))))
    return out


@lru_cache(maxsize=None)
def _hills(seed: int, n: int = 300, res: float = 100.0) -> Terrain:
    z = synthetic_elevation((n, n), res_m=res, seed=seed, base_m=300.0, relief_m=1500.0, n_hills=60)
    g = LocalGrid(45.0, 7.0, -n / 2 * res, n / 2 * res, res, n, n)
    return Terrain(g, z)


@lru_cache(maxsize=None)
def _andes(res: float = 30.0, half_m: float = 7500.0, lat: float = -32.6,
           lon: float = -70.3) -> Terrain:
    """The bundled SRTM tile (central Andes), resampled onto a local aeqd grid."""
    g = LocalGrid.around(lat, lon, (-half_m, half_m), (-half_m, half_m), res)
    return load_terrain(bundled_dem_path("S33W071.tif"), g)


def _antenna(t: Terrain, fr: float, fc: float, mast: float):
    g = t.grid
    x = g.xmin + fc * (g.xmax - g.xmin)
    y = g.ymax - fr * (g.ymax - g.ymin)
    return x, y, float(t.height_at(x, y)) + mast


def _both(t: Terrain, x, y, z, k=K43, max_range_m=np.inf):
    fast = min_visible_altitude(t, x, y, z, k=k, max_range_m=max_range_m)
    exact = min_visible_altitude(t, x, y, z, k=k, max_range_m=max_range_m, method="rays")
    return fast, exact


def _zone(t: Terrain, x, y):
    """Cells within EXACT_ZONE rows and columns of the antenna (the sweep's exact zone)."""
    g = t.grid
    rr, cc = np.mgrid[0:g.ny, 0:g.nx]
    ocol = (x - g.xmin) / g.res - 0.5
    orow = (g.ymax - y) / g.res - 0.5
    return (np.abs(rr - orow) < EXACT_ZONE) & (np.abs(cc - ocol) < EXACT_ZONE)


def _r3(t: Terrain, x, y, z, k=K43, max_range_m=np.inf):
    """The sweep's terrain model: R3, terrain on the major-axis grid lines of each ray."""
    return r3_min_visible_altitude(t, x, y, z, k=k, max_range_m=max_range_m)


# ------------------------------------------------------------------ accuracy vs the exact raster

HILL_CASES = [(1, 0.5, 0.5, 10.0, K43), (2, 0.3, 0.7, 30.0, K43), (3, 0.8, 0.15, 300.0, np.inf),
              (4, 0.05, 0.95, 2.0, 1.0), (5, 0.61, 0.42, 100.0, 4.0)]


@pytest.mark.parametrize("seed,fr,fc,mast,k", HILL_CASES, ids=[f"hills{c[0]}" for c in HILL_CASES])
def test_sweep_agrees_with_exact_on_synthetic_hills(seed, fr, fc, mast, k):
    t = _hills(seed)
    x, y, z = _antenna(t, fr, fc, mast)
    fast, exact = _both(t, x, y, z, k=k)
    for a, h in zip(_agreement(exact, fast, t.elevation_m), HEIGHTS_AGL):
        assert a >= TARGET, f"{h:.0f} m above ground: {a:.3%} of cells agree"
    # never above the exact raster (float32 rounding aside)
    assert np.all(fast <= exact + 1e-3 + 1e-6 * np.abs(exact))
    # and the heights themselves: beyond the exact zone within 1 m of its terrain model there (R3)
    # almost everywhere, and of the exact ones on most cells (R3 misses crests between its grid
    # lines, a few metres behind a smooth hill: 93-99.9 % of cells within 1 m here)
    r3 = _r3(t, x, y, z, k=k)
    far = ~_zone(t, x, y)
    assert np.mean(np.abs(fast[far].astype(float) - r3[far]) <= 1.0) >= 0.99
    assert np.mean(np.abs(fast.astype(float) - exact) <= 1.0) >= 0.9


ANDES_CASES = [(0.5, 0.5, 15.0, K43), (0.2, 0.75, 2.0, K43), (0.9, 0.1, 100.0, np.inf),
               (0.37, 0.58, 30.0, 1.0), (0.0, 0.999, 10.0, K43)]


@pytest.mark.parametrize("fr,fc,mast,k", ANDES_CASES,
                         ids=[f"andes{i}" for i in range(len(ANDES_CASES))])
def test_sweep_agrees_with_exact_on_the_real_tile(fr, fc, mast, k):
    t = _andes()  # 500 x 500 cells of 30 m in the central Andes (relief ~3 km)
    x, y, z = _antenna(t, fr, fc, mast)
    fast, exact = _both(t, x, y, z, k=k)
    for a, h in zip(_agreement(exact, fast, t.elevation_m), HEIGHTS_AGL):
        assert a >= TARGET, f"{h:.0f} m above ground: {a:.3%} of cells agree"
    assert np.all(fast <= exact + 1e-3 + 1e-6 * np.abs(exact))
    r3 = _r3(t, x, y, z, k=k)
    far = ~_zone(t, x, y)
    assert np.mean(np.abs(fast[far].astype(float) - r3[far]) <= 1.0) >= 0.98


def test_sweep_on_a_coarser_wider_real_grid_with_range_limit():
    t = _andes(res=90.0, half_m=27_000.0, lat=-32.5, lon=-70.5)  # 600 x 600 cells, 54 km
    x, y, z = _antenna(t, 0.45, 0.55, 20.0)
    fast, exact = _both(t, x, y, z, max_range_m=25_000.0)
    assert np.array_equal(np.isnan(fast), np.isnan(exact))
    for a, h in zip(_agreement(exact, fast, t.elevation_m), HEIGHTS_AGL):
        assert a >= TARGET, f"{h:.0f} m above ground: {a:.3%} of cells agree"


def test_exact_zone_around_the_antenna_matches_the_ray_trace():
    t = _andes()
    g = t.grid
    x, y, z = _antenna(t, 0.43, 0.61, 5.0)
    fast, exact = _both(t, x, y, z)
    ocol = (x - g.xmin) / g.res - 0.5
    orow = (g.ymax - y) / g.res - 0.5
    rr, cc = np.mgrid[0:g.ny, 0:g.nx]
    near = (np.abs(rr - orow) < EXACT_ZONE - 1) & (np.abs(cc - ocol) < EXACT_ZONE - 1)
    np.testing.assert_allclose(fast[near], exact[near], rtol=1e-6, atol=1e-3)


def test_planes_mode_is_close_but_less_accurate():
    """The reference planes (XDraw, Wang et al. 2000, as in gdal_viewshed) blur ridges: binary
    visibility still mostly agrees, the heights behind ridges do not."""
    t = _andes()
    x, y, z = _antenna(t, 0.5, 0.5, 15.0)
    exact = min_visible_altitude(t, x, y, z, method="rays")
    planes = min_visible_altitude(t, x, y, z, method="planes")
    fast = min_visible_altitude(t, x, y, z)
    assert min(_agreement(exact, planes, t.elevation_m)) >= 0.98
    err_planes = np.abs(planes.astype(float) - exact)
    err_sweep = np.abs(fast.astype(float) - exact)
    assert np.mean(err_sweep <= 1.0) > np.mean(err_planes <= 1.0)
    assert np.median(err_sweep) <= np.median(err_planes)


def test_the_sweeps_terrain_model_hardly_changes_binary_visibility():
    """The sweep evaluates the terrain only where each ray crosses the grid lines of its major axis
    (R3, Franklin & Ray 1994, as GDAL's reference planes do between their two cells); the exact
    trace takes the whole bilinear surface. R3 misses crests crossed between its lines, so its
    heights are never above the exact ones and differ by more than 1 m on a few per cent of the
    cells of rough terrain; binary visibility hardly changes, and GDAL's algorithm departs from
    both by about as much (docs/coverage-accuracy.md)."""
    t = _andes(res=90.0, half_m=9000.0)  # 200 x 200 cells of 90 m
    r, c = 93, 111
    g = t.grid
    x, y = g.x_centers()[c], g.y_centers()[r]
    z0 = float(t.elevation_m[r, c]) + 10.0
    exact = min_visible_altitude(t, x, y, z0, method="rays").astype(float)
    planes = min_visible_altitude(t, x, y, z0, method="planes").astype(float)
    r3 = _r3(t, x, y, z0).astype(float)
    z = t.elevation_m
    assert np.all(r3 <= exact + 1e-3)
    assert np.median(exact - r3) <= 0.5
    assert np.mean(exact - r3 > 1.0) > 0.005      # R3's misses are real ...
    for h in HEIGHTS_AGL:
        assert np.mean((r3 <= z + h) == (exact <= z + h)) >= 0.997  # ... but rarely matter
        d_r3 = np.mean((planes <= z + h) != (r3 <= z + h))
        d_exact = np.mean((planes <= z + h) != (exact <= z + h))
        assert abs(d_r3 - d_exact) <= 0.003


def test_no_raster_between_the_exact_trace_and_gdal_planes_meets_both_targets():
    """The issue's two accuracy targets pull apart (docs/coverage-accuracy.md). (A): binary
    visibility at 10, 100 and 1000 m agrees with the exact trace on >= 99.5 % of cells. (B): the
    heights are within 1 m of ``gdal_viewshed -om DEM`` on >= 98 % of cells; ``method="planes"``
    stands in for GDAL here (it reproduces GDAL's heights, tests/test_coverage_gdal.py). On this
    real-terrain observer GDAL's algorithm itself misses (A), and no member of the family
    "GDAL's heights, kept within T metres of the exact ones" meets both: a small T fixes (A) but
    moves most shadowed heights, a large T keeps (B) and (A)'s misses."""
    t = _andes()
    x, y, z = _antenna(t, 0.9, 0.1, 100.0)
    exact = min_visible_altitude(t, x, y, z, method="rays").astype(float)
    planes = min_visible_altitude(t, x, y, z, method="planes").astype(float)
    assert min(_agreement(exact, planes, t.elevation_m)) < TARGET  # 98.9 % at 1000 m
    m = np.isfinite(exact)
    for cap in (0.0, 5.0, 10.0, 20.0, 50.0, 100.0, np.inf):
        mix = np.clip(planes, exact - cap, exact + cap)
        meets_a = min(_agreement(exact, mix, t.elevation_m)) >= TARGET
        meets_b = np.mean(np.abs(mix[m] - planes[m]) <= 1.0) >= 0.98
        assert not (meets_a and meets_b), f"cap {cap} m meets both"


# ------------------------------------------------------------------ invariants (hypothesis)

N_SMALL = 60  # rows; 55 columns: every cell within EXACT_ZONE of any antenna position


@lru_cache(maxsize=None)
def _rough(seed: int) -> Terrain:
    res = 200.0
    z = synthetic_elevation((N_SMALL, N_SMALL - 5), res_m=res, seed=seed, base_m=100.0,
                            relief_m=1200.0, n_hills=25)
    g = LocalGrid(10.0, 20.0, -N_SMALL / 2 * res, N_SMALL / 2 * res, res, N_SMALL - 5, N_SMALL)
    return Terrain(g, z)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 3), fx=st.floats(0.0, 0.9999), fy=st.floats(0.0, 0.9999),
       mast=st.floats(0.0, 1500.0), k=st.sampled_from([0.5, 1.0, K43, np.inf]),
       max_range=st.sampled_from([np.inf, 3000.0, 7777.0]))
def test_sweep_never_above_exact_and_never_below_ground(seed, fx, fy, mast, k, max_range):
    t = _rough(seed)
    g = t.grid
    x = g.xmin + fx * (g.xmax - g.xmin)
    y = g.ymax - fy * (g.ymax - g.ymin)
    z = float(t.height_at(x, y)) + mast
    fast, exact = _both(t, x, y, z, k=k, max_range_m=max_range)
    assert fast.dtype == np.float32 and fast.shape == g.shape
    X, Y = np.meshgrid(g.x_centers(), g.y_centers())
    d = np.hypot(X - x, Y - y)
    clear = np.abs(d - max_range) > 1e-6 * max(1.0, max_range if np.isfinite(max_range) else 1.0)
    assert np.array_equal(np.isnan(fast)[clear], np.isnan(exact)[clear])
    ok = np.isfinite(fast) & np.isfinite(exact)
    assert np.all(fast[ok] <= exact[ok] + 1e-3 + 1e-6 * np.abs(exact[ok]))
    assert np.all(fast[ok] >= t.elevation_m[ok])
    # the grid is within the exact zone: the sweep is the exact raster here
    np.testing.assert_allclose(fast[ok], exact[ok], rtol=1e-6, atol=1e-3)


def test_raising_the_antenna_beyond_the_exact_zone():
    """Beyond EXACT_ZONE cells the sweep follows occluders and may miss one, so raising the antenna
    is not guaranteed to lower every cell. What is guaranteed: the raster never exceeds the exact
    one, so any such departure is an occluder missed, bounded by the sweep's own error."""
    t = _andes()
    x, y, z = _antenna(t, 0.5, 0.5, 10.0)
    lo, lo_exact = _both(t, x, y, z)
    hi, hi_exact = _both(t, x, y, z + 25.0)
    assert np.all(hi_exact <= lo_exact)
    worse = hi > lo
    assert np.mean(worse) < 0.001  # 3 cells of 250 000 here
    # wherever the sweep at the higher antenna is above the sweep at the lower one, the lower one
    # has missed an occluder by at least that much
    assert np.all((lo_exact - lo)[worse] >= (hi - lo)[worse] - 1e-3)


# --------------------------------------------------------------------------- geometry corner cases


@pytest.mark.parametrize("fr,fc", [(0.0, 0.0), (0.9999, 0.9999), (0.0, 0.5), (0.5, 0.9999),
                                   (0.004, 0.996), (0.5, 0.5)])
def test_antenna_at_edges_and_corners(fr, fc):
    t = _hills(7, n=150)
    x, y, z = _antenna(t, fr, fc, 25.0)
    fast, exact = _both(t, x, y, z)
    assert np.isfinite(fast).all()
    assert min(_agreement(exact, fast, t.elevation_m)) >= TARGET


def test_flat_earth_on_flat_ground_sees_everything_and_curvature_hides_far_cells():
    n, res = 201, 500.0
    g = LocalGrid(0.0, 0.0, -n / 2 * res, n / 2 * res, res, n, n)
    t = Terrain(g, np.full((n, n), 100.0, dtype=np.float32))
    flat = min_visible_altitude(t, 0.0, 0.0, 120.0, k=np.inf)
    np.testing.assert_allclose(flat, 100.0, atol=1e-3)
    curved, exact = _both(t, 0.0, 0.0, 120.0, k=K43)
    np.testing.assert_allclose(curved, exact, atol=0.05)
    # 20 m mast: radar horizon sqrt(2 k R h) = 18.4 km; at 50 km a target needs
    # (50 - 18.4)^2 / (2 k R) above the ground
    d_h = np.sqrt(2 * K43 * EARTH_RADIUS_M * 20.0)
    i = n // 2 + 100  # 50 km east
    need = (50_000.0 - d_h) ** 2 / (2 * K43 * EARTH_RADIUS_M)
    assert curved[n // 2, i] - 100.0 == pytest.approx(need, abs=1.0)


def test_single_wall_shadow_in_every_direction():
    n, res = 121, 100.0
    g = LocalGrid(0.0, 0.0, -n / 2 * res, n / 2 * res, res, n, n)
    z = np.zeros((n, n), dtype=np.float32)
    yy, xx = np.mgrid[0:n, 0:n]
    ring = np.abs(np.hypot(yy - n // 2, xx - n // 2) - 20) < 1.0  # a circular wall 2 km out
    z[ring] = 200.0
    t = Terrain(g, z)
    fast, exact = _both(t, 0.0, 0.0, 10.0, k=np.inf)
    heights = (1.0, 10.0, 100.0, 300.0)
    assert min(_agreement(exact, fast, z, heights=heights)) >= 0.999
    assert np.mean(np.abs(fast.astype(float) - exact) <= 1.0) >= 0.99
    # the rasterised ring's staircase corners are one-cell crests crossed at an angle between the
    # grid lines of the rays' major axes: R3 misses them (99.7 % here), the sweep's exact zone,
    # which covers this grid, does not
    r3 = _r3(t, 0.0, 0.0, 10.0, k=np.inf)
    assert min(_agreement(exact, r3, z, heights=heights)) < 0.999


# --------------------------------------------------------------------------- nodata


def _with_holes(t: Terrain) -> Terrain:
    z = t.elevation_m.copy()
    z[40:60, 100:130] = np.nan    # a block
    z[200, :] = np.nan            # a line across the grid
    z[::37, ::41] = np.nan        # scattered cells
    return Terrain(t.grid, z)


@pytest.mark.parametrize("method", ["sweep", "rays", "planes"])
def test_nan_terrain_stays_nan_and_does_not_block(method):
    t = _with_holes(_hills(2))
    x, y, z = _antenna(t, 0.5, 0.5, 30.0)
    mva = min_visible_altitude(t, x, y, z, method=method)
    holes = np.isnan(t.elevation_m)
    assert np.isnan(mva[holes]).all()
    assert np.isfinite(mva[~holes]).all()
    assert np.all(mva[~holes] >= t.elevation_m[~holes])


def test_nan_holes_sweep_agrees_with_exact():
    t = _with_holes(_hills(2))
    x, y, z = _antenna(t, 0.5, 0.5, 30.0)
    fast, exact = _both(t, x, y, z)
    assert np.array_equal(np.isnan(fast), np.isnan(exact))
    assert min(_agreement(exact, fast, t.elevation_m)) >= TARGET
    ok = np.isfinite(exact)
    assert np.all(fast[ok] <= exact[ok] + 1e-3 + 1e-6 * np.abs(exact[ok]))


def test_a_wall_made_of_nodata_does_not_cast_a_shadow():
    n, res = 101, 100.0
    g = LocalGrid(0.0, 0.0, -n / 2 * res, n / 2 * res, res, n, n)
    z = np.zeros((n, n), dtype=np.float32)
    z[:, 70:73] = 500.0                       # a wall east of the antenna...
    walled = min_visible_altitude(Terrain(g, z), 0.0, 0.0, 10.0, k=np.inf)
    assert (walled[:, 80:] > 1.0).all()       # ...hides the ground behind it
    z[:, 70:73] = np.nan                      # the same wall as a nodata hole
    holed = min_visible_altitude(Terrain(g, z), 0.0, 0.0, 10.0, k=np.inf)
    assert np.isnan(holed[:, 70:73]).all()
    np.testing.assert_allclose(holed[:, 80:], 0.0, atol=1e-3)   # ground visible behind the hole
    # and the rest of the raster does not change
    np.testing.assert_allclose(holed[:, :69], walled[:, :69], atol=1e-3)


# --------------------------------------------------------------------------- arguments


def _square(n: int = 21, res: float = 100.0) -> Terrain:
    g = LocalGrid(0.0, 0.0, -n / 2 * res, n / 2 * res, res, n, n)
    return Terrain(g, np.zeros((n, n), dtype=np.float32))


@pytest.mark.parametrize("kwargs,match", [
    ({"k": 0.0}, "k "), ({"k": -1.0}, "k "), ({"k": np.nan}, "k "),
    ({"max_range_m": 0.0}, "max_range_m"), ({"max_range_m": -5.0}, "max_range_m"),
    ({"max_range_m": np.nan}, "max_range_m"), ({"method": "xdraw"}, "method")])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        min_visible_altitude(_square(), 0.0, 0.0, 10.0, **kwargs)


@pytest.mark.parametrize("method", ["sweep", "rays", "planes"])
def test_antenna_outside_the_grid_raises(method):
    with pytest.raises(ValueError, match="outside"):
        min_visible_altitude(_square(), 5000.0, 0.0, 10.0, method=method)


def test_antenna_altitude_must_be_finite():
    with pytest.raises(ValueError, match="finite"):
        min_visible_altitude(_square(), 0.0, 0.0, np.nan)


def test_low_level_entry_point_and_modes():
    t = _hills(1, n=80)
    g = t.grid
    out = sweep_min_visible_altitude(t.elevation_m, g.res, 40.0, 40.0, 800.0, 0.0, np.inf, SWEEP)
    ref = min_visible_altitude(t, g.x_centers()[40], g.y_centers()[40], 800.0, k=np.inf)
    np.testing.assert_array_equal(out, ref)
    planes = sweep_min_visible_altitude(t.elevation_m, g.res, 40.0, 40.0, 800.0, 0.0, np.inf,
                                        PLANES)
    assert planes.shape == out.shape and np.all(planes >= t.elevation_m)
    # visible_at works on the sweep's raster as on the exact one
    X, Y = np.meshgrid(g.x_centers(), g.y_centers())
    assert not visible_at(out, t, X, Y, t.elevation_m - 1.0).any()


# --------------------------------------------------------------------------- fast loops


def _fast_cases():
    """(elevation, orow, ocol, zo, inv_2re, max_range_m, zone): real and synthetic terrain, the
    antenna at cell centres, fractional positions, edges and corners, with nodata holes, a flat
    earth, a range limit and several exact-zone widths."""
    rng = np.random.default_rng(11)
    andes = _andes().elevation_m
    hills = _hills(2).elevation_m
    holes = hills.copy()
    holes[rng.random(holes.shape) < 0.05] = np.nan
    inv43 = 1.0 / (2.0 * K43 * EARTH_RADIUS_M)
    cases = []
    for z in (andes, hills, holes):
        ny, nx = z.shape
        for orow, ocol in ((ny // 2, nx // 2), (ny / 3 + 0.37, nx / 2 - 0.81), (-0.5, nx / 4),
                           (ny - 0.5, nx - 0.5), (0.0, nx - 1.0), (ny * 0.7, 0.2)):
            ground = z[int(min(max(round(orow), 0), ny - 1)), int(min(max(round(ocol), 0), nx - 1))]
            zo = float(np.nan_to_num(ground, nan=500.0)) + 15.0
            for inv_2re, max_range, zone in ((inv43, np.inf, EXACT_ZONE), (0.0, 120.0 * 30.0, 5),
                                             (inv43, np.inf, 0)):
                cases.append((z, float(orow), float(ocol), zo, inv_2re, max_range, zone))
    return cases


def test_fast_loops_give_the_general_loops_raster_bit_for_bit():
    """The sweep's fast per-octant loops (every SWEEP cell of rows u >= 2 outside the exact zone)
    are a specialisation of the general loop: the same terms in the same order, so the same raster
    to the bit."""
    for z, orow, ocol, zo, inv_2re, max_range, zone in _fast_cases():
        res = 30.0 if z.shape == _andes().elevation_m.shape else 100.0
        args = (z, res, orow, ocol, zo, inv_2re, max_range, SWEEP)
        fast = sweep_min_visible_altitude(*args, zone=zone)
        slow = sweep_min_visible_altitude(*args, zone=zone, fast=False)
        np.testing.assert_array_equal(fast, slow)
