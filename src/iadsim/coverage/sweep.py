"""One-pass horizon sweep for the minimum-visible-altitude raster, O(cells), compiled with numba.

What it computes
----------------
For an antenna at fractional grid position (``orow``, ``ocol``) and altitude ``zo`` [m MSL], every
cell gets the lowest altitude [m MSL] at which a target there is in line of sight. Curvature and
refraction follow the effective-earth-radius model: terrain at ground distance ``x`` is lowered by
``a * x**2`` with ``a = 1 / (2 k R)`` (Doerry, "Earth Curvature and Atmospheric Refraction Effects
on Radar Signal Propagation", Sandia SAND2012-10690, 2013, eq. 5; ``a = 0`` is a flat earth) and a
straight ray then decides visibility. The terrain model is that of the exact reference
(:func:`iadsim.coverage.los._mva_kernel`, the "R3" algorithm of Franklin & Ray 1994): heights are
linear between cell centres along grid lines, and a ray's horizon is the steepest slope
``(h(x) - a x**2 - zo) / x`` over the grid lines it crosses between the antenna and the cell.

How: horizon propagation instead of sight lines
-----------------------------------------------
The grid is processed outward from the antenna, one line at a time, in the family of XDraw
(Franklin, W. R. & Ray, C. K., "Higher isn't necessarily better: visibility algorithms and
experiments", 6th Int. Symp. on Spatial Data Handling, 1994, 751-770) and of the reference planes of
Wang, J., Robinson, G. J. & White, K., "Generating viewsheds without using sightlines",
Photogrammetric Engineering & Remote Sensing 66(1), 2000, 87-90: the ray from the antenna to a cell
crosses the previous grid line (the previous column for cells nearer the east-west axis, the previous
row otherwise) between two cells A and B that are already done, and the new cell's horizon is built
from theirs. Each cell therefore costs O(1) and the raster O(cells); nothing is ray-cast per cell.

Two ways of building the horizon from A and B are offered:

``mode = SWEEP`` (the default, "occluder tracking")
    Each cell remembers *which grid line* holds its horizon (the occluder), not only how high it is.
    The new cell's horizon is the largest of three exact R3 terms of its own ray: the terrain where
    it crosses the previous line (interpolated between A and B), and the terrain where it crosses
    the occluding lines of A and of B. Every term is a sample the exact algorithm also takes, so the
    horizon is never higher than the exact one, and an occluder, once found, is followed outward
    without being blurred. (Tracking the occluding point rather than interpolating horizon heights
    is the idea of Izraelevitz, D., "A fast algorithm for approximate viewshed computation",
    Photogrammetric Engineering & Remote Sensing 69(7), 2003, 767-774.) Against the exact ray
    trace it agrees on > 99.9 % of cells for binary visibility at 1 to 1000 m above ground on the
    real SRTM tile and synthetic hills (tests/test_coverage_sweep.py).

``mode = PLANES`` (XDraw / reference planes, as GDAL's ``gdal_viewshed``)
    Each cell stores its horizon height (the higher of its own terrain and the height the plane
    through the antenna, A's and B's horizons reaches there), and the new cell's horizon is that
    plane's height: a linear interpolation of A's and B's horizons (Wang et al. 2000; GDAL
    ``alg/viewshed.cpp``, "Edge" cell mode, GDAL >= 3.1). Repeated interpolation blurs ridges
    laterally by about ``sqrt(distance / cell)`` cells, so the heights behind ridges are often off
    by tens of metres; binary visibility still agrees with the exact trace on ~99.5-99.9 % of cells.
    It is kept to reproduce ``gdal_viewshed -om DEM`` (tests/test_coverage_gdal.py).

Geometry of the sweep
---------------------
The antenna lies in the square of the four cell centres rows ``rN = floor(orow)``, ``rS = rN + 1``
and columns ``cW = floor(ocol)``, ``cE = cW + 1``. The grid is split into four quadrants
(rows <= rN or >= rS, columns <= cW or >= cE); each is mapped onto local coordinates
``u, v >= 0`` that grow away from the antenna (``u = 0, 1`` are the two rows around it, ``v = 0, 1``
the two columns) and swept row by row, each row from the antenna's column outward. A cell depends
only on its own row's previous cell and on the previous row, so after each quadrant has swept its
own copy of the two central rows and columns (O(rows + columns) cells) the four quadrants are
independent and run in parallel. Per quadrant only two rows of state are kept: the memory is the
output raster plus O(columns).

Nodata: NaN terrain never blocks a ray (a terrain sample interpolated from a NaN cell is skipped)
and NaN cells get NaN; horizons still propagate through holes.
"""

from __future__ import annotations

import math

import numba
import numpy as np

SWEEP = 0
PLANES = 1

_NONE = -1.0e30  # "no horizon": a slope far below any real one
_NO_LINE = -1    # occluder code: none; >= 0 a column line v; <= -2 the row line u = -code - 2


@numba.njit(cache=True)
def _quadrant(ef, out, nx, r0, sr, c0, sc, nu, nv, ou, ov, zo, res, a, rc, mode):
    """Sweep one quadrant in local coordinates: global row r0 + sr*u, column c0 + sc*v, the antenna
    at local (ou, ov) with 0 <= ou, ov <= 1. Writes the cells it owns (u >= 1, v >= 1). Local rows
    and columns outside the grid (only u = 0 or v = 0 can be) read the nearest edge cell, like the
    reference. ``ef``, ``out``: the flattened terrain and output rasters.

    Everything is written out in this one function on purpose: numba reference-counts arrays passed
    to helper functions (an atomic increment and decrement per call), which cost 5x here."""
    ny = ef.size // nx
    # flat offsets of local rows / columns (clamped to the grid), one spare entry each
    rowoff = np.empty(nu + 1, np.int64)
    inv_du = np.zeros(nu + 1)
    for u in range(nu + 1):
        r = r0 + sr * u
        r = 0 if r < 0 else (ny - 1 if r > ny - 1 else r)
        rowoff[u] = r * nx
        if u - ou > 0.0:
            inv_du[u] = 1.0 / (u - ou)
    coloff = np.empty(nv + 1, np.int64)
    inv_dv = np.zeros(nv + 1)
    for v in range(nv + 1):
        c = c0 + sc * v
        coloff[v] = 0 if c < 0 else (nx - 1 if c > nx - 1 else c)
        if v - ov > 0.0:
            inv_dv[v] = 1.0 / (v - ov)
    rc2 = rc * rc
    nan = np.float32(np.nan)
    # state of two rows (slot = row & 1): occluder line codes (SWEEP) or horizon heights relative
    # to the antenna (PLANES)
    kst = np.full((2, nv + 1), _NO_LINE, np.int64)
    zst = np.full((2, nv + 1), _NONE)

    # "lines" of the sweep: line 0 is the pair of rows u = 0, 1 around the antenna, taken column by
    # column (each cell there depends on both rows of the previous column); line L >= 1 is row L + 1
    for line_no in range(nu - 1):
        if line_no == 0:
            count = 2 * nv
        else:
            u = line_no + 1
            du = u - ou
            if du * du > rc2:
                for v in range(1, nv):
                    out[rowoff[u] + coloff[v]] = nan
                continue
            v_end = int(ov + math.sqrt(rc2 - du * du))
            count = min(v_end + 1, nv)
        for i in range(count):
            if line_no == 0:
                u = i & 1
                v = i >> 1
            else:
                v = i
            du = u - ou
            dv = v - ov
            d2 = du * du + dv * dv
            owned = u >= 1 and v >= 1
            gidx = rowoff[u] + coloff[v]
            if d2 > rc2:
                if owned:
                    out[gidx] = nan
                continue
            d = math.sqrt(d2) * res
            e = ef[gidx]
            s = _NONE
            k = _NO_LINE
            # -- the previous grid line the ray crosses, and the two cells A, B around the crossing
            f = 0.0
            if abs(dv) >= abs(du):      # nearer the east-west axis: column v - 1
                if dv > 0.0:
                    f = (v - 1 - ov) * inv_dv[v]
                if f > 0.0:
                    p = ou + f * du
                    i0 = int(p)
                    lim = u - 1 if u >= 1 else 0
                    if i0 > lim:
                        i0 = lim
                    w = p - i0
                    ia = i0 & 1
                    ib = (i0 + 1) & 1
                    ja = v - 1
                    jb = v - 1
                    line = v - 1
                    cb = coloff[v - 1]
                    ha = ef[rowoff[i0] + cb]
                    hb = ef[rowoff[i0 + 1] + cb]
            else:                       # nearer the north-south axis: row u - 1
                if du > 0.0:
                    f = (u - 1 - ou) * inv_du[u]
                if f > 0.0:
                    p = ov + f * dv
                    j0 = int(p)
                    lim = v - 1 if v >= 1 else 0
                    if j0 > lim:
                        j0 = lim
                    w = p - j0
                    ia = (u - 1) & 1
                    ib = ia
                    ja = j0
                    jb = j0 + 1
                    line = -(u - 1) - 2
                    rb = rowoff[u - 1]
                    ha = ef[rb + coloff[j0]]
                    hb = ef[rb + coloff[j0 + 1]]
            if f > 0.0:
                h = ha
                if w >= 1.0:
                    h = hb
                elif w > 0.0:
                    h = ha + w * (hb - ha)
                x = f * d
                t = (h - zo) / x - a * x
                if mode == SWEEP:
                    # occluder tracking: this line's term, then the terms of this ray at the lines
                    # that hold A's and B's horizons; NaN terms (nodata) never win
                    if t > s:
                        s = t
                        k = line
                    ka = kst[ia, ja]
                    kb = kst[ib, jb] if w > 0.0 else _NO_LINE
                    for cand in range(2):
                        code = ka if cand == 0 else kb
                        if cand == 1 and kb == ka:
                            break
                        t2 = _NONE
                        if code >= 0:               # column line v = code
                            if dv > 0.0:
                                f2 = (code - ov) * inv_dv[v]
                                if f2 > 0.0 and f2 < 1.0:
                                    p2 = ou + f2 * du
                                    i2 = int(p2)
                                    w2 = p2 - i2
                                    c2 = coloff[code]
                                    h2 = ef[rowoff[i2] + c2]
                                    if w2 > 0.0:
                                        h2 = h2 + w2 * (ef[rowoff[i2 + 1] + c2] - h2)
                                    x2 = f2 * d
                                    t2 = (h2 - zo) / x2 - a * x2
                        elif code <= -2:            # row line u = -code - 2
                            if du > 0.0:
                                kk = -code - 2
                                f2 = (kk - ou) * inv_du[u]
                                if f2 > 0.0 and f2 < 1.0:
                                    p2 = ov + f2 * dv
                                    j2 = int(p2)
                                    w2 = p2 - j2
                                    r2 = rowoff[kk]
                                    h2 = ef[r2 + coloff[j2]]
                                    if w2 > 0.0:
                                        h2 = h2 + w2 * (ef[r2 + coloff[j2 + 1]] - h2)
                                    x2 = f2 * d
                                    t2 = (h2 - zo) / x2 - a * x2
                        if t2 > s:
                            s = t2
                            k = code
                else:
                    # reference planes: the plane through the antenna and A's and B's horizons
                    za = zst[ia, ja]
                    zb = zst[ib, jb] if w > 0.0 else za
                    s = (za + w * (zb - za)) / x
            slot = u & 1
            kst[slot, v] = k
            if mode != SWEEP:
                zc = s * d
                zt = e - a * d * d - zo
                zst[slot, v] = zt if zt > zc else zc
            if owned:
                need = zo + s * d + a * d * d
                out[gidx] = need if need > e else e   # NaN ground stays NaN
        if line_no >= 1:
            for v in range(max(count, 1), nv):
                out[rowoff[u] + coloff[v]] = nan


@numba.njit(cache=True, parallel=True)
def _sweep_kernel(elev, out, orow, ocol, zo, res, a, rc, mode):
    ny, nx = elev.shape
    ef = elev.reshape(ny * nx)
    of = out.reshape(ny * nx)
    rn = int(math.floor(orow))
    cw = int(math.floor(ocol))
    # quadrant q: bit 0 = west (else east), bit 1 = south (else north)
    work = np.zeros(4)
    for q in range(4):
        nu = rn + 2 if q < 2 else ny - rn
        nv = cw + 2 if q % 2 == 1 else nx - cw
        work[q] = max(nu - 1, 0) * max(nv - 1, 0)
    # largest with smallest, then the middle two: balanced on 2 threads with static scheduling
    order = np.argsort(-work)
    qorder = np.array([order[0], order[3], order[1], order[2]])
    for i in numba.prange(4):
        q = qorder[i]
        if q < 2:   # north: u = rS - r
            r0 = rn + 1
            sr = -1
            nu = rn + 2
            ou = (rn + 1) - orow
        else:       # south: u = r - rN
            r0 = rn
            sr = 1
            nu = ny - rn
            ou = orow - rn
        if q % 2 == 1:  # west: v = cE - c
            c0 = cw + 1
            sc = -1
            nv = cw + 2
            ov = (cw + 1) - ocol
        else:           # east: v = c - cW
            c0 = cw
            sc = 1
            nv = nx - cw
            ov = ocol - cw
        if nu >= 2 and nv >= 2:
            _quadrant(ef, of, nx, r0, sr, c0, sc, nu, nv, ou, ov, zo, res, a, rc, mode)


def sweep_min_visible_altitude(elev: np.ndarray, res: float, orow: float, ocol: float,
                               zo: float, inv_2re: float, max_range_m: float = np.inf,
                               mode: int = SWEEP, out: np.ndarray | None = None) -> np.ndarray:
    """Minimum visible altitude [m MSL], float32 [ny, nx], by the one-pass sweep.

    ``elev`` [m] float32 [ny, nx] (row 0 north, cell-centred, NaN = nodata), ``res`` [m] cell size,
    (``orow``, ``ocol``) the antenna's fractional row and column (cell centres at integers),
    ``zo`` [m MSL] its altitude, ``inv_2re`` = 1 / (2 k R) [1/m] (0: flat earth), ``max_range_m``
    [m] (cells further are NaN), ``mode`` SWEEP or PLANES (see the module docstring).
    """
    elev = np.ascontiguousarray(elev, dtype=np.float32)
    if out is None:
        out = np.empty(elev.shape, dtype=np.float32)
    rc = float(max_range_m) / float(res)
    _sweep_kernel(elev, out, float(orow), float(ocol), float(zo), float(res), float(inv_2re),
                  min(rc, 1e9), int(mode))
    return out
