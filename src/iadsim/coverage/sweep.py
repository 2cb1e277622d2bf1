"""One-pass horizon sweep for the minimum-visible-altitude raster, O(cells), compiled with numba.

What it computes
----------------
For an antenna at fractional grid position (``orow``, ``ocol``) and altitude ``zo`` [m MSL], every
cell gets the lowest altitude [m MSL] at which a target there is in line of sight. Curvature and
refraction follow the effective-earth-radius model: terrain at ground distance ``x`` is lowered by
``a * x**2`` with ``a = 1 / (2 k R)`` (Doerry, A. W., "Earth Curvature and Atmospheric Refraction
Effects on Radar Signal Propagation", Sandia report SAND2012-10690, 2013, eq. 5; ``a = 0``: flat
earth) and a straight ray then decides visibility. The exact reference
(``min_visible_altitude(method="rays")``) takes the whole bilinear surface between cell centres.
The sweep takes it whole within ``EXACT_ZONE`` rows and columns of the antenna (``_bilin``: every
grid line of both axes and every bilinear patch's interior maximum along the ray). Beyond, it
follows the R3 algorithm of Franklin & Ray 1994 (``r3_min_visible_altitude``): the terrain is
sampled where the ray crosses the grid lines of its major axis, linear between the two cell
centres on the line, and a cell's value is set by the line where the terrain requires the highest
target: ``zo + (h - a x**2 - zo) / f`` at fraction ``f`` of the way, ``x`` metres out, terrain
``h``. Those samples lie on the bilinear surface, so the raster is never above the exact one; it
misses a crest that the ray crosses between two such lines (inside a patch, or on a grid line of
the other axis).

How: horizon propagation instead of sight lines
-----------------------------------------------
The grid is processed outward from the antenna, one line at a time, in the family of XDraw
(Franklin, W. R. & Ray, C. K., "Higher isn't necessarily better: visibility algorithms and
experiments", Proc. 6th Int. Symp. on Spatial Data Handling, Edinburgh, 1994, 751-770) and of the
reference planes of Wang, J., Robinson, G. J. & White, K., "Generating viewsheds without using
sightlines", Photogrammetric Engineering & Remote Sensing 66(1), 2000, 87-90: the ray from the
antenna to a cell crosses the previous grid line (the previous column for cells nearer the east-west
axis, the previous row otherwise) between two cells A and B that are already done, and the new
cell's horizon is built from theirs, in O(1). (Izraelevitz, D., "A fast algorithm for approximate
viewshed computation", PE&RS 69(7), 2003, 767-774, likewise builds each cell's line-of-sight
function from its neighbours'.) Two ways of doing it are offered.

``mode = SWEEP``, the default: occluder tracking
    Each cell keeps *which grid line* holds its horizon (its occluder), not how high the horizon
    is. The new cell evaluates exact R3 terms of its own ray only: at the previous line (terrain
    interpolated between A and B), at A's and B's occluding lines (a line of the other axis, from a
    parent across a diagonal, stands for the two lines of this axis around the point where the ray
    crosses it), and at the two lines next to the best of these (a one-step hill climb, since the
    occluder of a neighbouring ray is often one line off; done where A and B disagree, and on every
    fourth diagonal elsewhere); the highest wins and becomes the cell's occluder. An occluder, once
    found, is followed outward without being blurred. Within ``EXACT_ZONE`` rows and columns of the
    antenna every line is evaluated and the whole ray is traced on the bilinear surface (the exact
    raster there, as ``method="rays"``; the occluders passed on are the best R3 lines): a cell there
    spans a wide angle, and a wrong occluder chosen near the antenna would spread outward as a
    wedge. Per cell beyond the zone: 2 to 7 terms, 2 to 14 terrain reads. (Tracing the bilinear
    surface over the two major-axis cells around each cell's best line as well brings the heights
    within 1 m of the exact ones on >= 99 % of cells, but made the sweep 4-5 times slower; not
    done.)

    Properties. Every term is a sample of the bilinear surface along the cell's own ray, so the
    raster is never above the exact one; beyond the exact zone it is below it where R3 misses a
    crest between its lines or where the tracked occluders miss the true one. Measured
    (tests/test_coverage_exact.py, tests/test_coverage_sweep.py, benchmarks/bench_coverage.py
    ``--accuracy``, docs/coverage-accuracy.md): binary visibility at 10, 100 and 1000 m above
    ground agrees with the exact raster on >= 99.7 % of cells for every observer on the real SRTM
    tiles (30 m cells) and on synthetic hills (typically >= 99.95 %); the heights are within 1 m
    of R3's on ~99.8 % of the cells beyond the zone, but within 1 m of the exact ones on only
    67-100 % (R3's misses are usually metres). Within the exact zone raising the antenna never
    lowers coverage; beyond it this holds only up to the misses: a higher antenna can find an
    occluder that a lower one missed (rare cells; the difference is never more than the lower
    raster's own error).

``mode = PLANES``: XDraw / reference planes, as GDAL's ``gdal_viewshed``
    Each cell stores its horizon height (the higher of its own terrain and the height the plane
    through the antenna and A's and B's horizons reaches there); the new cell's horizon is that
    plane's height, a linear interpolation of A's and B's (Wang et al. 2000; GDAL
    ``alg/viewshed.cpp``, the default "Edge" cell mode, GDAL >= 3.1). Repeated interpolation blurs
    ridges laterally, so the heights behind ridges are often off by tens of metres; binary
    visibility agrees with the exact raster on 99.0-99.97 % of cells at the worst of 10, 100 and
    1000 m above ground, below 99.5 % for about one real-terrain observer in four (the misses are
    in the far field, not near the antenna; docs/coverage-accuracy.md). Monotone in the antenna
    height. Kept to reproduce ``gdal_viewshed -om DEM`` (tests/test_coverage_gdal.py).

Geometry of the sweep
---------------------
The antenna lies in the square of the four cell centres rows ``rN = floor(orow)``, ``rS = rN + 1``
and columns ``cW = floor(ocol)``, ``cE = cW + 1``. The grid is split into four quadrants
(rows <= rN or >= rS, columns <= cW or >= cE); each is mapped onto local coordinates
``u, v >= 0`` that grow away from the antenna (``u = 0, 1`` are the two rows around it, ``v = 0, 1``
the two columns) and swept row by row, each row from the antenna's column outward (the two rows
around the antenna together, column by column). A cell depends only on its own row's previous cell
and on the previous row, so once each quadrant has swept its own copy of the two central rows and
columns (O(rows + columns) cells) the quadrants are independent: they run in parallel on
``numba.get_num_threads()`` threads (numba ``nogil`` functions in a thread pool, largest first).
Per quadrant only two rows of state are kept: the memory is the output raster plus
O(rows + columns).

Nodata: NaN terrain never blocks a ray (a term interpolated from a NaN cell is skipped) and NaN
cells get NaN; occluders still propagate across holes.
"""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

SWEEP = 0
PLANES = 1

_NONE = -1.0e30  # "no horizon": a slope far below any real one
_NO_LINE = -1    # occluder code: none; >= 0 a column line v; <= -2 the row line u = -code - 2
EXACT_ZONE = 64  # SWEEP evaluates every line within this many rows and columns of the antenna


_u = np.uint64   # index type: numba adds no negative-index wrap-around to unsigned indices


@numba.njit(cache=True, nogil=True)
def _quadrant(ef, out, nx, r0, sr, c0, sc, nu, nv, ou, ov, zo, res, a, rc, mode, zone, fast):
    """Sweep one quadrant in local coordinates: global row r0 + sr*u, column c0 + sc*v, the antenna
    at local (ou, ov) with 0 <= ou, ov <= 1. Writes the cells it owns (u >= 1, v >= 1). Local rows
    and columns outside the grid (only u = 0 or v = 0 can be) read the nearest edge cell, like the
    reference. ``ef``, ``out``: the flattened terrain and output rasters.

    The helpers are inner functions, which numba inlines (closure inlining) with ``ef`` captured,
    not passed: numba reference-counts arrays passed to functions, even to ones it inlines with
    ``inline="always"`` (a call to NRT_incref / NRT_decref per use), which cost 2.5-5x here.

    Most cells (SWEEP, rows u >= 2, outside the exact zone) take one of two fast loops, one per
    octant, in which the axis choice and the row's constants are fixed; the other cells (the two
    rows around the antenna, the exact zone, the first columns, PLANES) take the general loop. The
    two compute the same terms in the same order, so the result is the same (``fast = False``:
    the general loop everywhere, for the tests)."""

    def _term(j, mo, inv_m, no, dmin, mbase, mstep, nbase, nstep, nlo, dd, nb, fb, jbest):
        """The R3 term of a ray at major line ``j`` (skipped unless strictly between the antenna and
        the cell), merged into the best so far (``nb / fb``, from line ``jbest``): returns the new
        (nb, fb, jbest). The terrain sample on major line j at minor position i is at flat index
        mbase + mstep * j + nbase + nstep * max(i, nlo); every index formed here is >= 0."""
        f2 = (j - mo) * inv_m
        if f2 > 0.0 and f2 < 1.0:
            p2 = no + f2 * dmin
            i2 = int(p2)
            w2 = p2 - i2
            base = mbase + mstep * j + nbase
            h2 = ef[_u(base + nstep * (i2 if i2 > nlo else nlo))]
            if w2 > 0.0:
                h2 = h2 + w2 * (ef[_u(base + nstep * (i2 + 1))] - h2)
            num = h2 - zo - a * f2 * f2 * dd
            # compared without dividing, selected without branches (unpredictable on rough terrain)
            better = num * fb > nb * f2
            nb = num if better else nb
            fb = f2 if better else fb
            jbest = j if better else jbest
        return nb, fb, jbest

    def _parent(pc, xm, mo, inv_m, no, dmin, dmaj, mbase, mstep, nbase, nstep, nlo, dd,
                nb, fb, jbest):
        """The term(s) of a parent's occluder line ``pc`` (none for _NO_LINE): a line of this cell's
        major axis is taken as is; one of the other axis stands for the two major lines around the
        point where the ray crosses it. Returns the new (nb, fb, jbest)."""
        if pc != _NO_LINE:
            if (pc >= 0) == xm:
                nb, fb, jbest = _term(pc if xm else -pc - 2, mo, inv_m, no, dmin, mbase, mstep,
                                      nbase, nstep, nlo, dd, nb, fb, jbest)
            elif dmin != 0.0:
                fq = ((-pc - 2 if xm else pc) - no) / dmin
                if fq > 0.0 and fq < 1.0:
                    jq = int(mo + fq * dmaj)
                    nb, fb, jbest = _term(jq, mo, inv_m, no, dmin, mbase, mstep, nbase, nstep,
                                          nlo, dd, nb, fb, jbest)
                    nb, fb, jbest = _term(jq + 1, mo, inv_m, no, dmin, mbase, mstep, nbase, nstep,
                                          nlo, dd, nb, fb, jbest)
        return nb, fb, jbest

    def _tracked(ka, kb, xm, u, v, mpos, mo, inv_m, no, dmin, dmaj, mbase, mstep, nbase, nstep,
                 nlo, dd, nb, fb, jbest):
        """SWEEP's candidate terms beyond the previous line, in this order: the line(s) holding
        parent A's occluder ``ka``, then B's ``kb`` (unless the same or none), then the one-step
        hill climb around the best line. Returns the new (nb, fb, jbest). ``xm`` is a constant at
        the fast loops' call sites (folded away there)."""
        nb, fb, jbest = _parent(ka, xm, mo, inv_m, no, dmin, dmaj, mbase, mstep, nbase, nstep,
                                nlo, dd, nb, fb, jbest)
        if kb != ka:
            nb, fb, jbest = _parent(kb, xm, mo, inv_m, no, dmin, dmaj, mbase, mstep, nbase,
                                    nstep, nlo, dd, nb, fb, jbest)
        # climb where the parents disagree (the occluder is moving), elsewhere on every 4th diagonal
        # (enough to catch a drift)
        agree = kb == ka or kb == _NO_LINE
        if not (jbest < 0 or jbest == mpos - 1 or (agree and ((u + v) & 3) != 0)):
            jc = jbest
            nb, fb, jbest = _term(jc - 1, mo, inv_m, no, dmin, mbase, mstep, nbase, nstep, nlo,
                                  dd, nb, fb, jbest)
            nb, fb, jbest = _term(jc + 1, mo, inv_m, no, dmin, mbase, mstep, nbase, nstep, nlo,
                                  dd, nb, fb, jbest)
        return nb, fb, jbest

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
    # the same offsets by arithmetic, for the candidate terms: local row u is global row
    # r0 + sr * max(u, ulo) (ulo = 1 when local row 0 is off the grid: the edge row instead)
    ulo = 1 if (r0 < 0 or r0 > ny - 1) else 0
    vlo = 1 if (c0 < 0 or c0 > nx - 1) else 0
    rbase = r0 * nx
    rstep = sr * nx
    def _bilin(flo, fhi, u, v, du, dv, iu, iv, dd, best):
        """The exact maximum of (h - zo - a f^2 dd) / f over the ray's fractions f in
        (flo, fhi), 0 <= flo < fhi <= 1, on the bilinear surface (the terrain model of
        ``method="rays"``), merged into ``best`` (the same form): the ray is cut at every grid line
        of both axes; at each cut the terrain is linear between two cell centres, and inside each
        bilinear patch it is quadratic in f, (h - zo - a f^2 dd) / f = alpha / f + beta + gamma f,
        with an interior maximum at sqrt(alpha / gamma) when alpha < 0 and gamma < 0 (at f -> 0,
        flo = 0, the limit beta when alpha >= 0). Local rows and columns off the grid read the
        edge (ulo, vlo), which makes the surface there constant across, as in height_at. Every
        index formed is >= 0."""
        pu = ou + flo * du
        pv = ov + flo * dv
        su = 1 if du > 0.0 else -1
        sv = 1 if dv > 0.0 else -1
        uk = int(math.floor(pu)) + 1 if du > 0.0 else int(math.ceil(pu)) - 1
        vk = int(math.floor(pv)) + 1 if dv > 0.0 else int(math.ceil(pv)) - 1
        # lines strictly between the antenna and the cell, told by index (a product with the
        # reciprocal can put the cell's own line just below f = 1)
        fu = (uk - ou) * iu if du != 0.0 and (uk - u) * su < 0 else 2.0
        fv = (vk - ov) * iv if dv != 0.0 and (vk - v) * sv < 0 else 2.0
        fp = flo
        um1 = (u if u > 1 else 1) - 1     # patches stay between the antenna's rows and the cell's
        vm1 = (v if v > 1 else 1) - 1
        while True:
            fe = fu if fu < fv else fv
            if fe > fhi:
                fe = fhi
            if fe > fp:
                # inside (fp, fe): one patch, rows i0, i0 + 1 and columns j0, j0 + 1 (local)
                fm = 0.5 * (fp + fe)
                i0 = int(ou + fm * du)
                j0 = int(ov + fm * dv)
                i0 = i0 if i0 < um1 else um1
                j0 = j0 if j0 < vm1 else vm1
                r0_ = rbase + rstep * (i0 if i0 > ulo else ulo)
                r1_ = rbase + rstep * (i0 + 1)
                c0_ = c0 + sc * (j0 if j0 > vlo else vlo)
                c1_ = c0 + sc * (j0 + 1)
                # in float64 (as method="rays"): alpha extrapolates the patch to the antenna
                e00 = np.float64(ef[_u(r0_ + c0_)])
                e01 = np.float64(ef[_u(r0_ + c1_)])
                e10 = np.float64(ef[_u(r1_ + c0_)])
                e11 = np.float64(ef[_u(r1_ + c1_)])
                bx = e01 - e00
                by = e10 - e00
                dxy = e00 - e01 - e10 + e11
                gam = dxy * dv * du - a * dd
                if (gam < 0.0 or fp == 0.0) and math.isfinite(gam):
                    tx0 = ov - j0
                    ty0 = ou - i0
                    alp = e00 + bx * tx0 + by * ty0 + dxy * tx0 * ty0 - zo
                    if alp < 0.0:
                        if gam < 0.0:
                            fs = math.sqrt(alp / gam)
                            if fs > fp and fs < fe:
                                tx = tx0 + fs * dv
                                ty = ty0 + fs * du
                                h = e00 + bx * tx + by * ty + dxy * tx * ty
                                val = (h - zo - a * fs * fs * dd) / fs
                                if val > best:
                                    best = val
                    elif fp == 0.0:
                        val = bx * dv + by * du + dxy * (tx0 * du + ty0 * dv)
                        if val > best:
                            best = val
            if fe >= fhi:
                break
            # the cut at fe, on a grid line (a node: both lines, one sample)
            if fu <= fv:
                p = ov + fu * dv
                j0 = int(p)
                w = p - j0
                base = rbase + rstep * (uk if uk > ulo else ulo) + c0
                h = ef[_u(base + sc * (j0 if j0 > vlo else vlo))]
                if w > 0.0:
                    h1 = ef[_u(base + sc * (j0 + 1))]
                    h = h1 if w >= 1.0 else h + w * (h1 - h)
            else:
                p = ou + fv * du
                i0 = int(p)
                w = p - i0
                base = c0 + sc * (vk if vk > vlo else vlo) + rbase
                h = ef[_u(base + rstep * (i0 if i0 > ulo else ulo))]
                if w > 0.0:
                    h1 = ef[_u(base + rstep * (i0 + 1))]
                    h = h1 if w >= 1.0 else h + w * (h1 - h)
            num = h - zo - a * fe * fe * dd
            if num > best * fe:    # NaN never wins; divided only when better
                best = num / fe
            if fu <= fe:
                uk += su
                fu = (uk - ou) * iu if (uk - u) * su < 0 else 2.0
            if fv <= fe:
                vk += sv
                fv = (vk - ov) * iv if (vk - v) * sv < 0 else 2.0
            fp = fe
        return best

    rc2 = rc * rc
    res2 = res * res
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
        # cells i < gen_hi take the general loop; the others (SWEEP, rows u >= 2) the fast loops:
        # columns [gen_hi, vx) nearer the north-south axis, [max(gen_hi, vx), count) the east-west
        # one. Fast cells: outside the exact zone, v >= 3 (the previous column's fraction
        # (v - 1 - ov) / (v - ov) is > 0) and, nearer the north-south axis, a previous-row fraction
        # f_row = (u - 1 - ou) / (u - ou) > 0.
        gen_hi = count
        vx = count
        f_row = 0.0
        if mode == SWEEP and line_no >= 1 and fast:
            gen_hi = min(max(zone + 1 if u <= zone else 0, 3), count)
            vx = gen_hi
            while vx < count and not abs(vx - ov) >= abs(du):
                vx += 1
            f_row = (u - 1 - ou) * inv_du[u]
            if not f_row > 0.0:
                gen_hi = vx
        # -- general loop
        for i in range(gen_hi):
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
            dd = d2 * res2              # squared ground distance [m^2]
            e = ef[gidx]
            g = _NONE                   # best R3 term so far, as the target height it requires
            k = _NO_LINE
            # -- the previous grid line the ray crosses, and the two cells A, B around the crossing
            f = 0.0
            xm = abs(dv) >= abs(du)
            if xm:                      # nearer the east-west axis: column v - 1
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
                    rb = rowoff[u - 1]
                    ha = ef[rb + coloff[j0]]
                    hb = ef[rb + coloff[j0 + 1]]
            if f > 0.0:
                h = ha
                if w >= 1.0:
                    h = hb
                elif w > 0.0:
                    h = ha + w * (hb - ha)
                if mode == SWEEP:
                    # occluder tracking. Every term is an R3 term of this ray: the slope (as the
                    # target height it requires) to the terrain where the ray crosses one grid line
                    # of its major axis. Candidates: the previous line; the lines holding A's and
                    # B's horizons; then the two lines next to the best one (_tracked). NaN terms
                    # never win.
                    if xm:
                        mo = ov
                        no = ou
                        dmaj = dv
                        dmin = du
                        inv_m = inv_dv[v]
                        mpos = v
                        mbase = c0
                        mstep = sc
                        nbase = rbase
                        nstep = rstep
                        nlo = ulo
                    else:
                        mo = ou
                        no = ov
                        dmaj = du
                        dmin = dv
                        inv_m = inv_du[u]
                        mpos = u
                        mbase = rbase
                        mstep = rstep
                        nbase = c0
                        nstep = sc
                        nlo = vlo
                    # the best term is kept as a fraction nb / fb (compared without dividing, and
                    # selected without branches: the comparisons are unpredictable on rough terrain)
                    num = h - zo - a * f * f * dd
                    better = num > _NONE * f
                    nb = num if better else _NONE
                    fb = f if better else 1.0
                    jbest = mpos - 1 if better else -1
                    if u <= zone and v <= zone:
                        # exact zone around the antenna: all lines (R3). A wrong occluder chosen
                        # would spread outward as a wedge (one cell spans an angle 1 / distance), so
                        # the chains start from the exact occluders at the zone's edge.
                        for j in range(mpos - 2, 0, -1):
                            if not (j - mo) * inv_m > 0.0:
                                break
                            nb, fb, jbest = _term(j, mo, inv_m, no, dmin, mbase, mstep, nbase,
                                                  nstep, nlo, dd, nb, fb, jbest)
                    else:
                        ka = kst[ia, ja]
                        kb = kst[ib, jb] if w > 0.0 else _NO_LINE
                        nb, fb, jbest = _tracked(ka, kb, xm, u, v, mpos, mo, inv_m, no, dmin,
                                                 dmaj, mbase, mstep, nbase, nstep, nlo, dd,
                                                 nb, fb, jbest)
                    g = nb / fb
                    if jbest >= 0:
                        k = jbest if xm else -jbest - 2
                else:
                    # reference planes: the plane through the antenna and A's and B's horizons
                    za = zst[ia, ja]
                    zb = zst[ib, jb] if w > 0.0 else za
                    g = (za + w * (zb - za)) / f
            if mode == SWEEP and u <= zone and v <= zone and d2 >= 0.25:
                # exact zone: the whole ray, exactly (as method="rays")
                g = _bilin(0.0, 1.0, u, v, du, dv, 1.0 / du if du != 0.0 else 0.0,
                           1.0 / dv if dv != 0.0 else 0.0, dd, g)
            slot = u & 1
            kst[slot, v] = k
            if mode != SWEEP:
                zt = e - a * dd - zo
                zst[slot, v] = zt if zt > g else g
            if owned:
                need = zo + g + a * dd
                out[gidx] = need if need > e else e   # NaN ground stays NaN
        if gen_hi < count:
            # -- fast loops: the general loop's SWEEP branch with the axis fixed; every index is
            # >= 0, hence unsigned (_u)
            ru = rowoff[_u(u)]
            slot = u & 1
            # cells nearer the north-south axis: row u - 1 crossed at fraction f_row, between
            # columns j0 and j0 + 1
            inv_m = inv_du[_u(u)]
            ia = (u - 1) & 1
            rb = rowoff[_u(u - 1)]
            for v in range(gen_hi, vx):
                dv = v - ov
                d2 = du * du + dv * dv
                gidx = ru + coloff[_u(v)]
                if d2 > rc2:
                    out[_u(gidx)] = nan
                    continue
                dd = d2 * res2
                e = ef[_u(gidx)]
                p = ov + f_row * dv
                j0 = int(p)
                if j0 > v - 1:
                    j0 = v - 1
                w = p - j0
                ha = ef[_u(rb + coloff[_u(j0)])]
                hb = ef[_u(rb + coloff[_u(j0 + 1)])]
                h = ha
                if w >= 1.0:
                    h = hb
                elif w > 0.0:
                    h = ha + w * (hb - ha)
                num = h - zo - a * f_row * f_row * dd
                better = num > _NONE * f_row
                nb = num if better else _NONE
                fb = f_row if better else 1.0
                jbest = u - 1 if better else -1
                ka = kst[_u(ia), _u(j0)]
                kb = kst[_u(ia), _u(j0 + 1)] if w > 0.0 else _NO_LINE
                nb, fb, jbest = _tracked(ka, kb, False, u, v, u, ou, inv_m, ov, dv, du, rbase,
                                         rstep, c0, sc, vlo, dd, nb, fb, jbest)
                g = nb / fb
                kst[_u(slot), _u(v)] = -jbest - 2 if jbest >= 0 else _NO_LINE
                need = zo + g + a * dd
                out[_u(gidx)] = need if need > e else e
            # cells nearer the east-west axis: column v - 1 crossed between rows i0 and i0 + 1
            for v in range(max(gen_hi, vx), count):
                dv = v - ov
                d2 = du * du + dv * dv
                gidx = ru + coloff[_u(v)]
                if d2 > rc2:
                    out[_u(gidx)] = nan
                    continue
                dd = d2 * res2
                e = ef[_u(gidx)]
                inv_m = inv_dv[_u(v)]
                f = (v - 1 - ov) * inv_m
                p = ou + f * du
                i0 = int(p)
                if i0 > u - 1:
                    i0 = u - 1
                w = p - i0
                cb = coloff[_u(v - 1)]
                ha = ef[_u(rowoff[_u(i0)] + cb)]
                hb = ef[_u(rowoff[_u(i0 + 1)] + cb)]
                h = ha
                if w >= 1.0:
                    h = hb
                elif w > 0.0:
                    h = ha + w * (hb - ha)
                num = h - zo - a * f * f * dd
                better = num > _NONE * f
                nb = num if better else _NONE
                fb = f if better else 1.0
                jbest = v - 1 if better else -1
                ka = kst[_u(i0 & 1), _u(v - 1)]
                kb = kst[_u((i0 + 1) & 1), _u(v - 1)] if w > 0.0 else _NO_LINE
                nb, fb, jbest = _tracked(ka, kb, True, u, v, v, ov, inv_m, ou, du, dv, c0, sc,
                                         rbase, rstep, ulo, dd, nb, fb, jbest)
                g = nb / fb
                kst[_u(slot), _u(v)] = jbest if jbest >= 0 else _NO_LINE
                need = zo + g + a * dd
                out[_u(gidx)] = need if need > e else e
        if line_no >= 1:
            for v in range(max(count, 1), nv):
                out[rowoff[u] + coloff[v]] = nan


def _quadrants(ny: int, nx: int, orow: float, ocol: float) -> list[tuple]:
    """The four quadrants' local frames (r0, sr, c0, sc, nu, nv, ou, ov), largest first; empty
    ones (an antenna on the grid's outer half-cell) left out."""
    rn = int(math.floor(orow))
    cw = int(math.floor(ocol))
    north = (rn + 1, -1, rn + 2, (rn + 1) - orow)   # u = rS - r
    south = (rn, 1, ny - rn, orow - rn)              # u = r - rN
    east = (cw, 1, nx - cw, ocol - cw)               # v = c - cW
    west = (cw + 1, -1, cw + 2, (cw + 1) - ocol)     # v = cE - c
    out = []
    for r0, sr, nu, ou in (north, south):
        for c0, sc, nv, ov in (east, west):
            if nu >= 2 and nv >= 2:
                out.append((r0, sr, c0, sc, nu, nv, ou, ov))
    out.sort(key=lambda q: -(q[4] - 1) * (q[5] - 1))
    return out


_POOL: ThreadPoolExecutor | None = None
_POOL_KEY: tuple[int, int] = (0, 0)  # (process id, workers) the pool was made for
_POOL_LOCK = threading.Lock()


def _pool(workers: int) -> ThreadPoolExecutor:
    """A thread pool of ``workers`` threads, made again in a forked child (its threads are gone)."""
    global _POOL, _POOL_KEY
    key = (os.getpid(), workers)
    with _POOL_LOCK:
        if _POOL is None or _POOL_KEY != key:
            if _POOL is not None and _POOL_KEY[0] == key[0]:
                _POOL.shutdown(wait=False)
            _POOL = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="iadsim-sweep")
            _POOL_KEY = key
        return _POOL


def sweep_min_visible_altitude(elev: np.ndarray, res: float, orow: float, ocol: float,
                               zo: float, inv_2re: float, max_range_m: float = np.inf,
                               mode: int = SWEEP, out: np.ndarray | None = None,
                               zone: int = EXACT_ZONE, fast: bool = True) -> np.ndarray:
    """Minimum visible altitude [m MSL], float32 [ny, nx], by the one-pass sweep (the engine of
    ``min_visible_altitude(method="sweep" | "planes")``, which checks the arguments).

    ``elev`` [m] float32 [ny, nx] (row 0 north, cell-centred, NaN = nodata), ``res`` [m] cell size,
    (``orow``, ``ocol``) the antenna's fractional row and column (cell centres at integers, inside
    [-0.5, n - 0.5]), ``zo`` [m MSL] its altitude, ``inv_2re`` = 1 / (2 k R) [1/m] (0: flat earth),
    ``max_range_m`` [m] (cells further are NaN), ``mode`` SWEEP or PLANES (see the module
    docstring), ``out`` an optional float32 [ny, nx] C-contiguous array to fill, ``zone`` the exact
    zone's half-width [cells] (SWEEP), ``fast`` False to take the general loop for every cell (the
    same result, slower: for the tests).
    """
    elev = np.ascontiguousarray(elev, dtype=np.float32)
    ny, nx = elev.shape
    if not (-0.5 <= orow <= ny - 0.5 and -0.5 <= ocol <= nx - 0.5):
        raise ValueError(f"antenna at row {orow}, column {ocol} lies outside the {ny} x {nx} grid")
    if out is None:
        out = np.empty(elev.shape, dtype=np.float32)
    elif out.shape != elev.shape or out.dtype != np.float32 or not out.flags.c_contiguous:
        raise ValueError("out must be a C-contiguous float32 array shaped like elev")
    rc = min(float(max_range_m) / float(res), 1e9)
    ef = elev.reshape(-1)
    of = out.reshape(-1)
    quads = _quadrants(ny, nx, float(orow), float(ocol))
    args = (float(zo), float(res), float(inv_2re), rc, int(mode), int(zone), bool(fast))
    # the quadrants are independent: run them on numba.get_num_threads() threads (numba releases
    # the GIL), largest first, each thread taking the next one when done
    workers = min(len(quads), numba.get_num_threads())
    if workers <= 1 or elev.size < 40_000:
        for q in quads:
            _quadrant(ef, of, nx, *q, *args)
    else:
        futures = [_pool(workers).submit(_quadrant, ef, of, nx, *q, *args) for q in quads]
        for fut in futures:
            fut.result()
    return out
