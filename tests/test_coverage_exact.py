"""Tests of the exact line-of-sight raster, ``min_visible_altitude(method="rays")``: the terrain is
the bilinear surface between cell centres (``Terrain.height_at``), lowered by the earth's curvature
(effective earth radius), and each ray's highest obstacle is found exactly, on every grid line it
crosses (both axes) and inside every bilinear patch it passes through (iadsim.coverage.los).

- one-cell ridges crossed at 30, 45 and 60 degrees, which the former ray trace (R3: terrain sampled
  only on the grid lines of the ray's major axis, ``r3_min_visible_altitude``) missed: the cells
  behind them against similar triangles;
- a tilted plane under a curved earth, where the raster has a closed form (the radar horizon);
- an independent reference, the bilinear surface sampled densely along each ray;
- the default sweep against it on reduced real tiles (binary agreement >= 99.5 %).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from iadsim.coverage import min_visible_altitude
from iadsim.coverage.los import r3_min_visible_altitude
from iadsim.geo import LocalGrid, Terrain, bundled_dem_path, load_terrain
from iadsim.physics.horizon import EARTH_RADIUS_M

K43 = 4.0 / 3.0
HEIGHTS_AGL = (10.0, 100.0, 1000.0)
TARGET = 0.995

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if not SHARED_DATA.is_dir() and Path("/work/shared/data").is_dir():
    SHARED_DATA = Path("/work/shared/data")


def _flat_grid(n: int, res: float) -> LocalGrid:
    return LocalGrid(0.0, 0.0, -n / 2 * res, n / 2 * res, res, n, n)


def _xy(g: LocalGrid, row: float, col: float) -> tuple[float, float]:
    """Local x, y [m] of a fractional grid position (cell centres at integers)."""
    return g.xmin + (col + 0.5) * g.res, g.ymax - (row + 0.5) * g.res


# --------------------------------------------------------------------------- one-cell ridges

N_RIDGE, RES_RIDGE, H_RIDGE, Z0_RIDGE = 81, 100.0, 100.0, 10.0


def _row_ridge_case(angle: float):
    """An east-west ridge one cell wide (row 60 at 100 m, the rest at 0 m), the antenna 10 m above
    the ground south-west of it, flat earth. The cells north of the ridge whose ray crosses it at
    ``angle`` degrees (within 2 degrees, on the east-west side of 45 degrees: there the ray's
    major axis is the columns, and R3 sampled the ridge only where the columns' lines cross it,
    between rows)."""
    g = _flat_grid(N_RIDGE, RES_RIDGE)
    ridge = 60
    z = np.zeros(g.shape, np.float32)
    z[ridge, :] = H_RIDGE
    orow, ocol = 79.3, 2.0
    rr, cc = np.mgrid[0:g.ny, 0:g.nx]
    az = np.degrees(np.arctan2(orow - rr, cc - ocol))  # angle between the ray and the ridge
    cells = (rr < ridge - 1) & (az > angle - 2.0) & (az < min(angle + 2.0, 45.0))
    # Hand geometry: along row line 60 both cells around every point are 100 m high, so the
    # bilinear surface is 100 m there; elsewhere it is a weighted mean of 100 m and 0 m, lower.
    # The ray to a cell in row r crosses row 60 at the fraction f = (orow - 60) / (orow - r) of
    # the way, where it must clear 100 m. No other point needs more: beyond the crest the terrain
    # falls, and on the near slope (rising 100 m over the last row, i.e. over the last fraction
    # 1 / (orow - r)) the slope (h - z0) / f still grows up to the crest since
    # 100 * (orow - 60) > 100 - z0. Similar triangles: the target must be at z0 + (100 - z0) / f.
    f = (orow - ridge) / (orow - rr)
    hand = np.maximum(Z0_RIDGE + (H_RIDGE - Z0_RIDGE) / f, 0.0)
    return Terrain(g, z), (orow, ocol), cells, hand


def _diagonal_ridge_case():
    """A diagonal ridge one cell wide (cells with col = row - 20 at 100 m, the rest at 0 m),
    crossed at 60.3 degrees by rays of direction (rows, cols) = (-3, 11) through the saddle
    S = (40.5, 20.5) between two ridge cells: the antenna 10 m up at A = S - 1.5 (-3, 11) =
    (45, 4), the targets at S + lam (-3, 11), lam = 0.5, 1.5, ..., 4.5 (cell centres)."""
    g = _flat_grid(N_RIDGE, RES_RIDGE)
    z = np.zeros(g.shape, np.float32)
    for r in range(20, N_RIDGE):
        z[r, r - 20] = H_RIDGE
    orow, ocol = 45.0, 4.0
    mu = 1.5
    lams = np.arange(0.5, 5.0, 1.0)
    rows = np.rint(40.5 - 3 * lams).astype(int)
    cols = np.rint(20.5 + 11 * lams).astype(int)
    # Hand geometry. In the patch of the saddle (rows 40-41, columns 20-21; corners (40, 20) and
    # (41, 21) at H = 100 m, the other two at 0) the bilinear surface is
    # H [(1 - tx)(1 - ty) + tx ty] = H (1/2 + 2 p q), p = tx - 1/2, q = ty - 1/2. Along a ray of
    # total extent (dr, dc) through S at fraction fS: p = (f - fS) dc, q = (f - fS) dr, so
    # h(f) = H/2 - c (f - fS)^2 with c = -2 H dr dc > 0 (dr dc < 0: the ray crosses the ridge, the
    # saddle is the ray's highest terrain; the neighbouring patches fall away from it). The line of
    # sight must clear g(f) = (h(f) - z0) / f at its maximum: g'(f) = 0 gives
    # f*^2 = fS^2 - (H/2 - z0) / c, and the target must be at z0 + g(f*).
    span = mu + lams
    dr, dc = -3.0 * span, 11.0 * span
    fs = mu / span
    c = -2.0 * H_RIDGE * dr * dc
    a0 = H_RIDGE / 2 - Z0_RIDGE
    f_star = np.sqrt(fs * fs - a0 / c)
    # f* stays in the saddle's patch (|f* - fS| * |dc| < 1/2): the formula applies
    assert np.all(np.abs(f_star - fs) * np.abs(dc) < 0.5)
    hand = Z0_RIDGE + (a0 - c * (f_star - fs) ** 2) / f_star
    cells = np.zeros(g.shape, bool)
    cells[rows, cols] = True
    full = np.zeros(g.shape)
    full[rows, cols] = hand
    return Terrain(g, z), (orow, ocol), cells, full


@pytest.mark.parametrize("angle", [30.0, 45.0, 60.0])
def test_one_cell_ridge_crossed_at_an_angle(angle):
    t, (orow, ocol), cells, hand = (_row_ridge_case(angle) if angle < 50 else
                                    _diagonal_ridge_case())
    x, y = _xy(t.grid, orow, ocol)
    exact = min_visible_altitude(t, x, y, Z0_RIDGE, k=np.inf, method="rays").astype(float)
    old = r3_min_visible_altitude(t, x, y, Z0_RIDGE, k=np.inf).astype(float)
    assert cells.sum() >= 5
    # the exact trace: the hand geometry, to float32 rounding
    np.testing.assert_allclose(exact[cells], hand[cells], rtol=1e-6, atol=1e-3)
    # the former trace (R3) saw the crest only between rows, so too low: it showed targets behind
    # the ridge that the ridge hides (here most of these cells, by metres to tens of metres)
    missed = old[cells] < hand[cells] - 1.0
    assert np.mean(missed) >= 0.75
    assert np.all(old[cells] <= hand[cells] + 1e-3)


def test_ridge_along_a_grid_line_crossed_square_on_was_already_caught():
    """Crossed at 90 degrees the ray's major axis is across the ridge, whose row R3 did sample: R3
    and the exact trace agree there (similar triangles as above), so the fix is specific."""
    t, (orow, ocol), _, hand = _row_ridge_case(30.0)
    x, y = _xy(t.grid, orow, ocol)
    exact = min_visible_altitude(t, x, y, Z0_RIDGE, k=np.inf, method="rays").astype(float)
    old = r3_min_visible_altitude(t, x, y, Z0_RIDGE, k=np.inf).astype(float)
    col = int(ocol)  # the antenna's column: rays due north
    np.testing.assert_allclose(exact[:58, col], hand[:58, col], rtol=1e-6, atol=1e-3)
    np.testing.assert_allclose(old[:58, col], hand[:58, col], rtol=1e-6, atol=1e-3)


# --------------------------------------------------------------------------- closed form: a plane


@pytest.mark.parametrize("mast", [0.0, 20.0])
@pytest.mark.parametrize("k", [K43, np.inf])
def test_tilted_plane_under_a_curved_earth_has_the_radar_horizon_closed_form(mast, k):
    """A tilted plane is its own bilinear interpolation. Along any ray the terrain is then linear,
    h(f) = h0 + b f, and with the curvature drop a x^2 (a = 1 / (2 k R), Doerry 2013, eq. 5) the
    line of sight must clear g(f) = (h0 + b f - a d^2 f^2 - z0) / f = -m / f + b - a d^2 f (m the
    mast, z0 = h0 + m). Its maximum is at x = f d = sqrt(m / a), the radar horizon sqrt(2 k R m)
    (Skolnik 2001, sec. 8.2): a target at ground distance d > x_h must be a (d - x_h)^2 above the
    plane, one nearer is seen down to the ground."""
    n, res = 161, 300.0
    g = _flat_grid(n, res)
    X, Y = np.meshgrid(g.x_centers(), g.y_centers())
    # slopes 1 % and 0.5 %: every cell's height is a multiple of 0.25 m, exact in float32, so the
    # stored grid is exactly planar (a grazing ray, mast 0, would see float32 rounding otherwise)
    z = (500.0 + 0.01 * X - 0.005 * Y).astype(np.float32)
    t = Terrain(g, z)
    x0, y0 = 1234.0, -987.0    # not on a cell centre
    z0 = float(t.height_at(x0, y0)) + mast
    mva = min_visible_altitude(t, x0, y0, z0, k=k, method="rays").astype(float)
    d = np.hypot(X - x0, Y - y0)
    a = 0.0 if np.isinf(k) else 1.0 / (2.0 * k * EARTH_RADIUS_M)
    x_h = np.inf if a == 0.0 else np.sqrt(mast / a)   # 18.4 km for a 20 m mast, k = 4/3
    hand = z.astype(float) + (a * np.maximum(d - x_h, 0.0) ** 2 if a > 0 else 0.0)
    np.testing.assert_allclose(mva, hand, rtol=1e-6, atol=1e-3)
    if mast > 0 and a > 0:
        assert (d > x_h).mean() > 0.3    # the horizon is inside the grid


# --------------------------------------------------------------------------- dense sampling


def _dense_mva(t: Terrain, orow: float, ocol: float, z0: float, rows, cols, k=K43,
               per_cell: int = 64):
    """Minimum visible altitude at the given cells by sampling the bilinear surface
    (Terrain.height_at) along each ray ``per_cell`` times per cell and where the ray crosses a
    grid line (where the surface has kinks): an independent, slower definition of the same line
    of sight, from below (a sampled maximum never exceeds the true one); between the kinks the
    terrain is smooth along the ray, so the samples miss its maximum only to second order."""
    g = t.grid
    a = 0.0 if np.isinf(k) else 1.0 / (2.0 * k * EARTH_RADIUS_M)
    x0, y0 = _xy(g, orow, ocol)
    out = np.empty(len(rows))
    for i, (r, c) in enumerate(zip(rows, cols)):
        dr, dc = r - orow, c - ocol
        n = max(int(per_cell * max(abs(dr), abs(dc))), 2)
        f = [np.arange(1, n) / n]
        for o, dl in ((orow, dr), (ocol, dc)):
            if dl != 0.0:
                lines = np.arange(np.ceil(min(o, o + dl)), np.floor(max(o, o + dl)) + 1)
                f.append((lines - o) / dl)
        f = np.concatenate(f)
        f = f[(f > 0.0) & (f < 1.0)]
        h = t.height_at(x0 + f * dc * g.res, y0 - f * dr * g.res)
        d2 = (dr * dr + dc * dc) * g.res ** 2
        need = np.max(z0 + (h - a * f * f * d2 - z0) / f) if f.size else -np.inf
        out[i] = max(need, t.elevation_m[r, c] - a * d2) + a * d2
    return out


@lru_cache(maxsize=None)
def _andes(res: float = 90.0, half_m: float = 9000.0, lat: float = -32.6,
           lon: float = -70.3) -> Terrain:
    g = LocalGrid.around(lat, lon, (-half_m, half_m), (-half_m, half_m), res)
    return load_terrain(bundled_dem_path("S33W071.tif"), g)


@pytest.mark.parametrize("orow,ocol,mast", [(93.0, 111.0, 10.0), (40.37, 150.81, 2.0),
                                            (-0.4, 77.2, 30.0), (199.45, 199.45, 5.0)],
                         ids=["centre", "fractional", "outer-edge", "corner"])
def test_exact_trace_equals_the_densely_sampled_bilinear_surface(orow, ocol, mast):
    t = _andes()  # 200 x 200 cells of 90 m in the central Andes
    g = t.grid
    x0, y0 = _xy(g, orow, ocol)
    z0 = float(t.height_at(x0, y0)) + mast
    exact = min_visible_altitude(t, x0, y0, z0, method="rays").astype(float)
    rng = np.random.default_rng(5)
    rows = rng.integers(0, g.ny, 1500)
    cols = rng.integers(0, g.nx, 1500)
    keep = np.hypot(rows - orow, cols - ocol) >= 0.5
    rows, cols = rows[keep], cols[keep]
    dense = _dense_mva(t, orow, ocol, z0, rows, cols)
    ex = exact[rows, cols]
    gap = ex - dense
    # never below the samples (float32 rounding aside), and hardly above them: what 64 samples per
    # cell miss inside the patches is centimetres (measured: at most 1-4 cm, 99 % under 2 cm)
    assert np.all(gap >= -2e-3 - 1e-6 * np.abs(dense))
    assert np.quantile(gap, 0.99) <= 0.03
    assert np.max(gap) <= 0.1
    z = t.elevation_m[rows, cols]
    for h in HEIGHTS_AGL:
        assert np.mean((ex <= z + h) == (dense <= z + h)) >= 0.999


def test_the_former_trace_is_never_above_the_exact_one_and_misses_real_crests():
    """R3's samples lie on the bilinear surface, so its raster is a lower bound of the exact one; on
    real terrain it misses crests between its grid lines on several per cent of the cells."""
    t = _andes()
    g = t.grid
    x0, y0 = _xy(g, 93.0, 111.0)
    z0 = float(t.elevation_m[93, 111]) + 10.0
    exact = min_visible_altitude(t, x0, y0, z0, method="rays").astype(float)
    old = r3_min_visible_altitude(t, x0, y0, z0).astype(float)
    assert np.all(old <= exact + 1e-3)
    assert np.mean(exact - old > 1.0) >= 0.01


# --------------------------------------------------------------------------- sweep vs exact


def _agreement(ref, got, elev):
    m = np.isfinite(ref)
    assert np.array_equal(m, np.isfinite(got))
    return [float(np.mean((ref[m] <= elev[m] + h) == (got[m] <= elev[m] + h)))
            for h in HEIGHTS_AGL]


def _tiles():
    out = [("andes", bundled_dem_path("S33W071.tif"), -32.6, -70.3)]
    if (SHARED_DATA / "N44W072.hgt").is_file():
        out.append(("white mts", SHARED_DATA / "N44W072.hgt", 44.27, -71.30))
    return out


@lru_cache(maxsize=None)
def _crop(path: Path, lat: float, lon: float) -> Terrain:
    """300 x 300 cells of 30 m (9 km) around (lat, lon)."""
    g = LocalGrid.around(lat, lon, (-4500.0, 4500.0), (-4500.0, 4500.0), 30.0)
    return load_terrain(path, g)


@pytest.mark.parametrize("name,path,lat,lon", _tiles(), ids=[c[0] for c in _tiles()])
def test_sweep_agrees_with_the_exact_trace_on_real_tiles(name, path, lat, lon):
    """The default sweep against the exact trace at three observers per tile (reduced crops of the
    accuracy study, docs/coverage-accuracy.md): binary visibility at 10, 100 and 1000 m above
    ground agrees on >= 99.5 % of the cells, and the sweep never claims more than the exact trace
    (its terms are samples of the same surface)."""
    t = _crop(path, lat, lon)
    g = t.grid
    k = 6_378_137.0 / (0.75 * EARTH_RADIUS_M)  # gdal_viewshed's -cc 0.75, as the study
    for (r, c), oz in (((150, 150), 10.0), ((40, 230), 2.0), ((260, 70), 50.0)):
        x, y = g.x_centers()[c], g.y_centers()[r]
        z0 = float(t.elevation_m[r, c]) + oz
        exact = min_visible_altitude(t, x, y, z0, k=k, max_range_m=4400.0, method="rays")
        fast = min_visible_altitude(t, x, y, z0, k=k, max_range_m=4400.0)
        for a, h in zip(_agreement(exact, fast, t.elevation_m), HEIGHTS_AGL):
            assert a >= TARGET, f"{name} {(r, c)} {h:.0f} m: {a:.3%} of cells agree"
        ok = np.isfinite(exact)
        assert np.all(fast[ok] <= exact[ok] + 1e-3 + 1e-6 * np.abs(exact[ok]))
