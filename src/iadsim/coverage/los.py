"""Minimum visible altitude: for every cell, the lowest altitude a target must fly at to be in
line of sight of an antenna, over terrain, with earth curvature and refraction.

Curvature and refraction use the effective-earth-radius model (Doerry, "Earth Curvature and
Atmospheric Refraction Effects on Radar Signal Propagation", Sandia SAND2012-10690, 2013, eq. 5;
Skolnik, Introduction to Radar Systems, 3rd ed., 2001, sec. 8.2): at ground distance d the earth
falls d^2 / (2 k R) below the observer's tangent plane, k = 4/3 for the standard atmosphere.
Terrain is lowered by that drop; a straight ray then decides visibility.

Three algorithms compute the raster (``min_visible_altitude(..., method=...)``). The terrain is the
bilinear surface between cell centres, the surface of :meth:`Terrain.height_at` (clamped to the
edge cells' values beyond the outer cell centres).

- ``"rays"``: the exact reference. For every cell the ray from the antenna to its centre is cut at
  every grid line it crosses, of both axes, into segments that each lie in one bilinear patch; on
  a grid line the surface is linear between two cell centres, inside a patch it is quadratic
  along the ray, so the highest target the terrain requires is found exactly: at the cuts, and at
  each patch's interior maximum of (h - a x^2 - z0) / f (closed form, see ``_rays_kernel``).
  O(cells x radius), compiled with numba and run in parallel over rows. (It used to sample the
  terrain only on the grid lines of each ray's major axis, the R3 algorithm of Franklin & Ray
  1994, and so missed a one-cell ridge crossed at an angle between two such lines, issue #11; R3
  remains as :func:`r3_min_visible_altitude`, the sweep's terrain model beyond its exact zone.)
- ``"sweep"`` (default): one pass over the grid, O(cells), a horizon-propagation sweep of the
  XDraw family (Franklin & Ray 1994; Wang, Robinson & White 2000) that tracks each cell's occluding
  grid line; see :mod:`iadsim.coverage.sweep`. Within 64 rows and columns of the antenna
  (``EXACT_ZONE``) it is the exact raster; beyond, its terms are R3 terms, so it is never higher
  than the exact raster and misses crests crossed between the grid lines of a ray's major axis:
  binary visibility at 10, 100 and 1000 m above ground agrees with the exact raster on >= 99.7 %
  of cells for every observer of the accuracy study (typically >= 99.95 %; tests/
  test_coverage_exact.py, docs/coverage-accuracy.md), while its heights are within 1 m of the exact
  ones on 67-100 % of cells (R3's misses are usually metres). Beyond the exact zone "a higher
  antenna never sees less" holds only up to the sweep's misses.
- ``"planes"``: XDraw with the reference planes of Wang et al. 2000, the algorithm of GDAL's
  ``gdal_viewshed``; it reproduces ``gdal_viewshed -om DEM`` but blurs ridges (heights behind them
  are often tens of metres off, and binary visibility misses the exact raster's 99.5 % target for
  about one real-terrain observer in four), so it is there for comparison only. Why no raster meets
  both the exact-trace and the GDAL-heights targets: docs/coverage-accuracy.md.

One raster serves every altitude and the engine's line-of-sight look-ups (one interpolated read per
check).

Nodata: NaN terrain cells get NaN and never block a line of sight (a terrain sample interpolated
from a NaN cell is skipped); the rest of the raster is computed from the known terrain.
"""

from __future__ import annotations

import numba
import numpy as np

from iadsim.coverage.sweep import PLANES, SWEEP, sweep_min_visible_altitude
from iadsim.geo.terrain import Terrain
from iadsim.physics.horizon import EARTH_RADIUS_M

METHODS = ("sweep", "rays", "planes")


@numba.njit(cache=True, inline="always")
def _lerp(h0, h1, w):
    """Linear interpolation from h0 (w = 0) to h1 (w = 1); an end with weight 0 is not read, so a
    sample exactly on a cell centre next to a NaN cell is still a sample (as in the sweep)."""
    if w <= 0.0:
        return h0
    if w >= 1.0:
        return h1
    return h0 + w * (h1 - h0)


@numba.njit(cache=True, inline="always")
def _line_sample(elev, k, pos, n_other, along_rows):
    """Terrain on grid line ``k`` (a column when ``along_rows``, else a row) at fractional position
    ``pos`` along it: linear between the two cell centres around it, clamped to the grid's edge
    (as Terrain.height_at)."""
    i0 = int(np.floor(pos))
    w = pos - i0
    if i0 < 0:
        i0, w = 0, 0.0
    if i0 >= n_other - 1:
        i0, w = n_other - 2, 1.0
    if along_rows:
        return _lerp(elev[i0, k], elev[i0 + 1, k], w)
    return _lerp(elev[k, i0], elev[k, i0 + 1], w)


@numba.njit(cache=True, inline="always")
def _patch_axis(o, dlt, fm, n):
    """The bilinear patch holding the point at fraction ``fm`` along one axis (origin ``o``, step
    ``dlt`` [cells]): its first index ``i0`` and the local coordinate's origin and step ``t0``,
    ``dt`` (t = t0 + f * dt in [0, 1]). Outside the outer cell centres the surface is constant
    across the axis (height_at clamps): there ``t`` is fixed at 0 or 1 and ``dt = 0``."""
    p = o + fm * dlt
    if p < 0.0:
        return 0, 0.0, 0.0
    if p > n - 1:
        return n - 2, 1.0, 0.0
    i0 = int(np.floor(p))
    if i0 > n - 2:
        i0 = n - 2
    return i0, o - i0, dlt


@numba.njit(cache=True, parallel=True)
def _rays_kernel(elev, res, orow, ocol, obs_alt, inv_2re, max_range_m, out):
    """For every cell, the exact minimum visible altitude over the bilinear terrain surface (the
    surface of Terrain.height_at) lowered by ``inv_2re * x**2``: the ray from the antenna to the
    cell centre is cut at every grid line it crosses, of both axes, into segments that each lie in
    one bilinear patch; the highest target the terrain requires is the maximum of
    g(f) = (h(f) - a x(f)^2 - z0) / f over f in (0, 1), found exactly per segment:

    - at the segment's ends, on grid lines, where the surface is linear between two cell centres;
    - inside it: along a straight line a bilinear patch is quadratic in f, so
      g(f) = alpha / f + beta + gamma * f, whose only interior maximum is at f* = sqrt(alpha /
      gamma) when alpha < 0 and gamma < 0 (g is concave there; otherwise g is monotone or convex
      and the ends hold its maximum).

    In the antenna's own patch the limit f -> 0 is taken when alpha >= 0 (an antenna on the
    ground: the ground's slope along the ray). NaN terrain never blocks: a grid-line sample reading
    a NaN cell is skipped and so is the inside of a patch with a NaN corner; NaN cells give NaN."""
    ny, nx = elev.shape
    for r in numba.prange(ny):
        for c in range(nx):
            dr = r - orow
            dc = c - ocol
            d = np.sqrt(dr * dr + dc * dc) * res
            if d > max_range_m:
                out[r, c] = np.nan
                continue
            if d < 0.5 * res:
                out[r, c] = elev[r, c]
                continue
            dd = d * d * inv_2re       # curvature drop at the cell [m]; a f^2 d^2 = dd f^2
            need = -1e30
            # next row / column line crossed, and the fraction of the way at which it is
            rstep = 1 if dr > 0 else -1
            cstep = 1 if dc > 0 else -1
            rk = int(np.floor(orow)) + 1 if dr > 0 else int(np.ceil(orow)) - 1
            ck = int(np.floor(ocol)) + 1 if dc > 0 else int(np.ceil(ocol)) - 1
            fr = (rk - orow) / dr if dr != 0.0 and (rk - r) * rstep < 0 else 2.0
            fc = (ck - ocol) / dc if dc != 0.0 and (ck - c) * cstep < 0 else 2.0
            fp = 0.0
            while True:
                fe = fr if fr < fc else fc
                if fe > 1.0:
                    fe = 1.0
                # -- inside the segment (fp, fe): one bilinear patch
                fm = 0.5 * (fp + fe)
                i0, ty0, dty = _patch_axis(orow, dr, fm, ny)
                j0, tx0, dtx = _patch_axis(ocol, dc, fm, nx)
                # in float64: the patch's polynomial is extrapolated to the antenna (alpha), which
                # float32 differences of the corners would spoil by decimetres far out
                e00 = np.float64(elev[i0, j0])
                e01 = np.float64(elev[i0, j0 + 1])
                e10 = np.float64(elev[i0 + 1, j0])
                e11 = np.float64(elev[i0 + 1, j0 + 1])
                bx = e01 - e00
                by = e10 - e00
                dxy = e00 - e01 - e10 + e11
                gam = dxy * dtx * dty - dd
                if np.isfinite(gam) and (gam < 0.0 or fp == 0.0):
                    alp = e00 + bx * tx0 + by * ty0 + dxy * tx0 * ty0 - obs_alt
                    if alp < 0.0:
                        if gam < 0.0:
                            fs = np.sqrt(alp / gam)
                            if fs > fp and fs < fe:
                                tx = tx0 + fs * dtx
                                ty = ty0 + fs * dty
                                h = e00 + bx * tx + by * ty + dxy * tx * ty
                                req = obs_alt + (h - dd * fs * fs - obs_alt) / fs
                                if req > need:
                                    need = req
                    elif fp == 0.0:
                        # the antenna on (or below) the surface: the limit f -> 0, its slope
                        beta = bx * dtx + by * dty + dxy * (tx0 * dty + ty0 * dtx)
                        req = obs_alt + beta
                        if req > need:
                            need = req
                if fe >= 1.0:
                    break
                # -- the segment's far end, on a grid line (a node: both lines, one sample)
                if fr <= fc:
                    h = _line_sample(elev, rk, ocol + fr * dc, nx, False)
                else:
                    h = _line_sample(elev, ck, orow + fc * dr, ny, True)
                req = obs_alt + (h - dd * fe * fe - obs_alt) / fe
                if req > need:   # NaN samples never win
                    need = req
                if fr <= fe:
                    rk += rstep
                    fr = (rk - orow) / dr if (rk - r) * rstep < 0 else 2.0
                if fc <= fe:
                    ck += cstep
                    fc = (ck - ocol) / dc if (ck - c) * cstep < 0 else 2.0
                fp = fe
            ground_eff = elev[r, c] - dd
            t_eff = need if need > ground_eff else ground_eff
            out[r, c] = t_eff + dd


@numba.njit(cache=True, parallel=True)
def _r3_kernel(elev, res, orow, ocol, obs_alt, inv_2re, max_range_m, out):
    """For every cell, trace the ray from the antenna to the cell centre and sample the terrain
    where the ray crosses each grid line of the major axis, interpolating linearly between the
    two cell centres on that line (the R3 algorithm of Franklin & Ray 1994: exact for terrain
    that is linear between cell centres along the grid lines of the ray's major axis, which is the
    terrain model of the sweep beyond its exact zone; it misses a crest crossed between two such
    lines). Not a public method: :func:`r3_min_visible_altitude`, for the sweep's tests and the
    accuracy study.
    NaN samples are skipped (nodata does not block) and NaN cells give NaN."""
    ny, nx = elev.shape
    for r in numba.prange(ny):
        for c in range(nx):
            dr = r - orow
            dc = c - ocol
            d = np.sqrt(dr * dr + dc * dc) * res
            if d > max_range_m:
                out[r, c] = np.nan
                continue
            if d < 0.5 * res:
                out[r, c] = elev[r, c]
                continue
            need = -1e30
            if abs(dc) >= abs(dr):
                # step over columns strictly between the antenna and the cell
                step = 1 if dc > 0 else -1
                k0 = int(np.floor(ocol)) + 1 if dc > 0 else int(np.ceil(ocol)) - 1
                kk = k0
                while (kk - c) * step < 0:
                    f = (kk - ocol) / dc
                    if f > 0.0:
                        rr = orow + f * dr
                        i0 = int(np.floor(rr))
                        w = rr - i0
                        if i0 < 0:
                            i0, w = 0, 0.0
                        if i0 >= ny - 1:
                            i0, w = ny - 2, 1.0
                        h = _lerp(elev[i0, kk], elev[i0 + 1, kk], w)
                        x = f * d
                        req = obs_alt + (h - x * x * inv_2re - obs_alt) / f
                        if req > need:
                            need = req
                    kk += step
            else:
                step = 1 if dr > 0 else -1
                k0 = int(np.floor(orow)) + 1 if dr > 0 else int(np.ceil(orow)) - 1
                kk = k0
                while (kk - r) * step < 0:
                    f = (kk - orow) / dr
                    if f > 0.0:
                        cc = ocol + f * dc
                        j0 = int(np.floor(cc))
                        w = cc - j0
                        if j0 < 0:
                            j0, w = 0, 0.0
                        if j0 >= nx - 1:
                            j0, w = nx - 2, 1.0
                        h = _lerp(elev[kk, j0], elev[kk, j0 + 1], w)
                        x = f * d
                        req = obs_alt + (h - x * x * inv_2re - obs_alt) / f
                        if req > need:
                            need = req
                    kk += step
            ground_eff = elev[r, c] - d * d * inv_2re
            t_eff = need if need > ground_eff else ground_eff
            out[r, c] = t_eff + d * d * inv_2re


def min_visible_altitude(terrain: Terrain, x_m: float, y_m: float, antenna_alt_msl_m: float,
                         k: float = 4.0 / 3.0, max_range_m: float = np.inf,
                         method: str = "sweep") -> np.ndarray:
    """Minimum visible altitude raster [m above MSL] for an antenna at local (x_m, y_m) [m]
    and altitude ``antenna_alt_msl_m`` [m MSL], with effective earth radius factor ``k`` [1]
    (``k=inf``: flat earth). Cells beyond ``max_range_m`` [m] (ground distance from the antenna to
    the cell centre) are NaN. Shape and rows as the terrain grid, float32; a target at a cell is
    visible when its altitude >= the value there; the antenna's own cell holds its ground.

    ``method``: ``"sweep"`` (default, one O(cells) pass), ``"rays"`` (the exact ray trace over the
    bilinear terrain, the reference) or ``"planes"`` (GDAL's reference-plane algorithm); see the
    module docstring. The antenna is assumed at or above the terrain at its own position (below
    it nothing would be seen; the exact trace then takes the ground's slope there as its first
    obstacle).
    NaN (nodata) terrain cells are NaN in the result and do not block lines of sight.

    Raises ValueError when the antenna lies outside the grid, its altitude is not finite,
    ``k <= 0`` (or NaN), ``max_range_m <= 0`` (or NaN) or ``method`` is unknown.
    """
    g = terrain.grid
    if not g.contains(x_m, y_m):
        raise ValueError(f"antenna at ({x_m:.0f}, {y_m:.0f}) m lies outside the terrain grid")
    if not np.isfinite(antenna_alt_msl_m):
        raise ValueError(f"antenna altitude must be finite, got {antenna_alt_msl_m!r}")
    if not k > 0:
        raise ValueError(
            f"k (effective-earth-radius factor) must be > 0 (inf for a flat earth), got {k!r}")
    if not max_range_m > 0:
        raise ValueError(f"max_range_m must be > 0 (inf for no limit), got {max_range_m!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    ocol = (x_m - g.xmin) / g.res - 0.5
    orow = (g.ymax - y_m) / g.res - 0.5
    inv_2re = 0.0 if np.isinf(k) else 1.0 / (2.0 * k * EARTH_RADIUS_M)
    elev = np.ascontiguousarray(terrain.elevation_m, dtype=np.float32)  # no copy when already so
    out = np.empty(g.shape, dtype=np.float32)
    if method == "rays":
        _rays_kernel(elev, float(g.res), float(orow), float(ocol), float(antenna_alt_msl_m),
                    float(inv_2re), float(max_range_m), out)
    else:
        sweep_min_visible_altitude(elev, float(g.res), float(orow), float(ocol),
                                   float(antenna_alt_msl_m), float(inv_2re), float(max_range_m),
                                   SWEEP if method == "sweep" else PLANES, out)
    return out


def r3_min_visible_altitude(terrain: Terrain, x_m: float, y_m: float, antenna_alt_msl_m: float,
                            k: float = 4.0 / 3.0, max_range_m: float = np.inf) -> np.ndarray:
    """The R3 raster (Franklin & Ray 1994): terrain sampled only where each ray crosses the grid
    lines of its major axis, linear between cell centres along them. Not exact on the bilinear
    surface (a crest crossed between two such lines is missed, as ``method="rays"`` did before it
    became exact): it is the terrain model of the sweep, which equals it within EXACT_ZONE rows and
    columns of the antenna; for the sweep's tests and the accuracy study. Arguments as
    :func:`min_visible_altitude` (unchecked here beyond the grid)."""
    g = terrain.grid
    if not g.contains(x_m, y_m):
        raise ValueError(f"antenna at ({x_m:.0f}, {y_m:.0f}) m lies outside the terrain grid")
    inv_2re = 0.0 if np.isinf(k) else 1.0 / (2.0 * k * EARTH_RADIUS_M)
    out = np.empty(g.shape, dtype=np.float32)
    _r3_kernel(np.ascontiguousarray(terrain.elevation_m, dtype=np.float32), float(g.res),
               float((g.ymax - y_m) / g.res - 0.5), float((x_m - g.xmin) / g.res - 0.5),
               float(antenna_alt_msl_m), float(inv_2re), float(max_range_m), out)
    return out


def visible_at(mva: np.ndarray, terrain: Terrain, x_m, y_m, alt_msl_m) -> np.ndarray:
    """Line of sight [bool] for targets at local x, y [m] and altitude [m MSL].

    The raster is interpolated bilinearly between cell centres, like the terrain
    (:meth:`Terrain.height_at`): since the raster is never below the ground at a centre, the
    interpolated raster is never below the interpolated ground, so nothing below ground is ever
    visible. Cells with no value (beyond range) make their neighbourhood not visible.
    """
    g = terrain.grid
    x = np.asarray(x_m, dtype=float)
    y = np.asarray(y_m, dtype=float)
    fx = np.clip(np.nan_to_num((x - g.xmin) / g.res - 0.5, nan=0.0), 0, g.nx - 1.000001)
    fy = np.clip(np.nan_to_num((g.ymax - y) / g.res - 0.5, nan=0.0), 0, g.ny - 1.000001)
    c0 = fx.astype(np.int64)
    r0 = fy.astype(np.int64)
    tx = fx - c0
    ty = fy - r0
    v = ((1 - ty) * ((1 - tx) * mva[r0, c0] + tx * mva[r0, c0 + 1])
         + ty * ((1 - tx) * mva[r0 + 1, c0] + tx * mva[r0 + 1, c0 + 1]))
    inside = g.contains(x, y)
    with np.errstate(invalid="ignore"):
        return inside & np.isfinite(v) & (np.asarray(alt_msl_m) >= v)


def line_of_sight_reference(terrain: Terrain, x0: float, y0: float, z0_msl: float,
                            x1: float, y1: float, z1_msl: float, k: float = 4.0 / 3.0,
                            samples_per_cell: int = 4) -> bool:
    """Slow, direct line-of-sight test between two points (bilinear terrain, dense sampling),
    the reference the raster is tested against."""
    d = float(np.hypot(x1 - x0, y1 - y0))
    if d == 0.0:
        return z1_msl >= float(terrain.height_at(x1, y1))
    inv_2re = 0.0 if np.isinf(k) else 1.0 / (2.0 * k * EARTH_RADIUS_M)
    n = max(int(d / terrain.grid.res * samples_per_cell), 2)
    f = np.arange(1, n) / n
    x = f * d
    h = terrain.height_at(x0 + f * (x1 - x0), y0 + f * (y1 - y0)) - x * x * inv_2re
    z1_eff = z1_msl - d * d * inv_2re
    ray = z0_msl + f * (z1_eff - z0_msl)
    return bool(np.all(ray >= h)) and z1_msl >= float(terrain.height_at(x1, y1)) - 1e-6
