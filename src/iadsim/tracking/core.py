"""The compiled track core: the numba functions on plain arrays that the engine's full-fidelity
tracker (:mod:`iadsim.engine.full`) runs, scan by scan.

Tracks live in arrays with a leading track axis: state ``X [K, 6]`` (east, north, up [m], then
velocities [m/s]), covariance ``P [K, 6, 6]``, with the IMM per-model ``Xm [K, M, 6]``,
``Pm [K, M, 6, 6]`` and mode probabilities ``mu [K, M]``; a measurement is a position ``z [3]``
[m] with covariance ``R [3, 3]`` [m^2] (a converted radar measurement). The functions write in
place into caller-owned work arrays, so that a scan allocates nothing.

- motion: nearly constant velocity (continuous white-noise acceleration) and coordinated turns at
  known rates (Bar-Shalom, Li & Kirubarajan, "Estimation with Applications to Tracking and
  Navigation", Wiley 2001, sec. 6.2.2; Li & Jilkov, IEEE TAES 39(4), 2003, sec. V);
- update: Kalman filter, IMM (Blom & Bar-Shalom 1988), probabilistic data association with moment
  matching (Bar-Shalom & Tse 1975);
- assignment: the Hungarian method with shortest augmenting paths (Kuhn 1955; Jonker & Volgenant
  1987);
- initiation: two-point velocity initiation (Blackman & Popoli, "Design and Analysis of Modern
  Tracking Systems", Artech House 1999, sec. 3.3).
"""

from __future__ import annotations

import math
from collections import namedtuple

import numba
import numpy as np
from numba.core import types
from numba.extending import overload
from numba.experimental import structref

from iadsim.tracking.jpda import _jpda_kernel

TRK_FREE = 0
TRK_TENTATIVE = 1
TRK_CONFIRMED = 2

#: a cost that stands for "outside every gate"
_BIG = 1e12
#: track-measurement pairs of a scan above which the gating pre-filter runs
PREFILTER_MIN_PAIRS = 4096


#: options of the functions that allocate nothing and keep no array (the numerical helpers, and
#: the scan steps predict, confirm and initiate): compiled without reference counting. The engine
#: calls them for every gated pair, update and scan; their arrays belong to the caller for the
#: whole call. With counting, its atomic operations took more time than the arithmetic (the
#: full-fidelity demo ran 3.8x slower).
LEAF_OPTIONS = dict(cache=True, _nrt=False)


@numba.njit(**LEAF_OPTIONS)
def _add_cwna(P, k, dts, q):
    """Add the continuous white-noise acceleration process noise over dts seconds, power spectral
    density q per axis, to covariance k (Bar-Shalom, Li & Kirubarajan 2001, sec. 6.2.2)."""
    d3 = q * dts * dts * dts / 3.0
    d2 = q * dts * dts / 2.0
    d1 = q * dts
    for i in range(3):
        P[k, i, i] += d3
        P[k, i, i + 3] += d2
        P[k, i + 3, i] += d2
        P[k, i + 3, i + 3] += d1


@numba.njit(**LEAF_OPTIONS)
def _predict(X, P, k, dts, q):
    """Nearly-constant-velocity prediction of track k over dts seconds, continuous white-noise
    acceleration of power spectral density q per axis (Bar-Shalom et al. 2001, sec. 6.2.2)."""
    if dts <= 0.0:
        return
    for i in range(3):
        X[k, i] += dts * X[k, i + 3]
    # P' = F P F^T + Q with F = [[I, dt I], [0, I]]
    for i in range(3):
        for j in range(3):
            P[k, i, j] += dts * (P[k, i + 3, j] + P[k, i, j + 3]) + dts * dts * P[k, i + 3, j + 3]
            P[k, i, j + 3] += dts * P[k, i + 3, j + 3]
    for i in range(3):
        for j in range(3):
            P[k, i + 3, j] = P[k, j, i + 3]
    _add_cwna(P, k, dts, q)


@numba.njit(**LEAF_OPTIONS)
def _inv3(S, Si):
    """Inverse of a 3x3 matrix; returns the determinant (0: singular)."""
    a, b, c = S[0, 0], S[0, 1], S[0, 2]
    d, e, f = S[1, 0], S[1, 1], S[1, 2]
    g, h, i = S[2, 0], S[2, 1], S[2, 2]
    A = e * i - f * h
    B = -(d * i - f * g)
    C = d * h - e * g
    det = a * A + b * B + c * C
    if det == 0.0 or not math.isfinite(det):
        return 0.0
    inv = 1.0 / det
    Si[0, 0] = A * inv
    Si[1, 0] = B * inv
    Si[2, 0] = C * inv
    Si[0, 1] = -(b * i - c * h) * inv
    Si[1, 1] = (a * i - c * g) * inv
    Si[2, 1] = -(a * h - b * g) * inv
    Si[0, 2] = (b * f - c * e) * inv
    Si[1, 2] = -(a * f - c * d) * inv
    Si[2, 2] = (a * e - b * d) * inv
    return det


@numba.njit(**LEAF_OPTIONS)
def _mahalanobis(X, P, k, z, R, S, Si):
    """Squared Mahalanobis distance of measurement z (covariance R) from track k's position."""
    for i in range(3):
        for j in range(3):
            S[i, j] = P[k, i, j] + R[i, j]
    if _inv3(S, Si) == 0.0:
        return _BIG
    d2 = 0.0
    for i in range(3):
        vi = z[i] - X[k, i]
        for j in range(3):
            d2 += vi * Si[i, j] * (z[j] - X[k, j])
    return d2


@numba.njit(**LEAF_OPTIONS)
def _symmetrise(P, k):
    """Replace covariance k by (P + P^T) / 2, against rounding drift."""
    for i in range(6):
        for j in range(i + 1, 6):
            v = 0.5 * (P[k, i, j] + P[k, j, i])
            P[k, i, j] = v
            P[k, j, i] = v


@numba.njit(**LEAF_OPTIONS)
def _kf_update(X, P, k, z, R, S, Si, Kg, tmp):
    """Kalman update of track k with a position measurement z (covariance R): H = [I 0]."""
    for i in range(3):
        for j in range(3):
            S[i, j] = P[k, i, j] + R[i, j]
    if _inv3(S, Si) == 0.0:
        return
    # K = P H^T S^-1  (6 x 3)
    for i in range(6):
        for j in range(3):
            acc = 0.0
            for l in range(3):
                acc += P[k, i, l] * Si[l, j]
            Kg[i, j] = acc
    nu0 = z[0] - X[k, 0]
    nu1 = z[1] - X[k, 1]
    nu2 = z[2] - X[k, 2]
    for i in range(6):
        X[k, i] += Kg[i, 0] * nu0 + Kg[i, 1] * nu1 + Kg[i, 2] * nu2
    # P = P - K H P  (then symmetrised)
    for i in range(6):
        for j in range(6):
            tmp[i, j] = Kg[i, 0] * P[k, 0, j] + Kg[i, 1] * P[k, 1, j] + Kg[i, 2] * P[k, 2, j]
    for i in range(6):
        for j in range(6):
            P[k, i, j] -= tmp[i, j]
    _symmetrise(P, k)


@numba.njit(**LEAF_OPTIONS)
def transition(F, dts, w):
    """6x6 transition matrix over dts seconds: nearly constant velocity (w = 0) or a coordinated turn
    at the known rate w [rad/s] in the horizontal plane, constant velocity vertically
    (Li & Jilkov, "Survey of maneuvering target tracking. Part I", IEEE TAES 39(4), 2003, sec. V)."""
    for i in range(6):
        for j in range(6):
            F[i, j] = 0.0
        F[i, i] = 1.0
    F[2, 5] = dts
    if w == 0.0:
        F[0, 3] = dts
        F[1, 4] = dts
    else:
        sw = math.sin(w * dts)
        cw = math.cos(w * dts)
        F[0, 3] = sw / w
        F[0, 4] = -(1.0 - cw) / w
        F[1, 3] = (1.0 - cw) / w
        F[1, 4] = sw / w
        F[3, 3] = cw
        F[3, 4] = -sw
        F[4, 3] = sw
        F[4, 4] = cw


@numba.njit(**LEAF_OPTIONS)
def _predict_F(X, P, k, F, dts, q, xt, tmp):
    """x = F x, P = F P F^T + Q for state k, Q the continuous white-noise acceleration noise of the
    constant-velocity model (the usual approximation for the coordinated-turn models too)."""
    for i in range(6):
        acc = 0.0
        for j in range(6):
            acc += F[i, j] * X[k, j]
        xt[i] = acc
    for i in range(6):
        X[k, i] = xt[i]
    for i in range(6):
        for j in range(6):
            acc = 0.0
            for l in range(6):
                acc += F[i, l] * P[k, l, j]
            tmp[i, j] = acc
    for i in range(6):
        for j in range(i, 6):
            acc = 0.0
            for l in range(6):
                acc += tmp[i, l] * F[j, l]
            P[k, i, j] = acc
            P[k, j, i] = acc
    _add_cwna(P, k, dts, q)


@numba.njit(**LEAF_OPTIONS)
def imm_combine(Xm, Pm, mu, k, X, Pc):
    """Combined IMM estimate of track k: x = sum_j mu_j x_j, P = sum_j mu_j (P_j + dx_j dx_j^T)
    (Blom & Bar-Shalom 1988; Bar-Shalom, Li & Kirubarajan 2001, sec. 11.6.6)."""
    nm = Xm.shape[1]
    for a in range(6):
        acc = 0.0
        for j in range(nm):
            acc += mu[k, j] * Xm[k, j, a]
        X[k, a] = acc
    for a in range(6):
        for b in range(a, 6):
            acc = 0.0
            for j in range(nm):
                acc += mu[k, j] * (Pm[k, j, a, b] + (Xm[k, j, a] - X[k, a]) * (Xm[k, j, b] - X[k, b]))
            Pc[k, a, b] = acc
            Pc[k, b, a] = acc


@numba.njit(**LEAF_OPTIONS)
def imm_predict(Xm, Pm, mu, k, Pi, omegas, dts, q, X, Pc, F, xt, tmp, x0, P0, cbar):
    """IMM cycle up to the prediction for track k: mixing with the Markov matrix Pi, then each model
    (turn rates omegas; 0 = constant velocity) predicted over dts seconds; mu[k] becomes the
    predicted mode probabilities and X[k], Pc[k] the combined prediction."""
    nm = omegas.shape[0]
    for j in range(nm):
        c = 0.0
        for i in range(nm):
            c += Pi[i, j] * mu[k, i]
        cbar[j] = max(c, 1e-300)
    for j in range(nm):
        for a in range(6):
            acc = 0.0
            for i in range(nm):
                acc += Pi[i, j] * mu[k, i] / cbar[j] * Xm[k, i, a]
            x0[j, a] = acc
        for a in range(6):
            for b in range(a, 6):
                acc = 0.0
                for i in range(nm):
                    w = Pi[i, j] * mu[k, i] / cbar[j]
                    acc += w * (Pm[k, i, a, b] + (Xm[k, i, a] - x0[j, a]) * (Xm[k, i, b] - x0[j, b]))
                P0[j, a, b] = acc
                P0[j, b, a] = acc
    for j in range(nm):
        for a in range(6):
            Xm[k, j, a] = x0[j, a]
            for b in range(6):
                Pm[k, j, a, b] = P0[j, a, b]
        mu[k, j] = cbar[j]
        transition(F, dts, omegas[j])
        _predict_F(Xm[k], Pm[k], j, F, dts, q, xt, tmp)
    imm_combine(Xm, Pm, mu, k, X, Pc)


@numba.njit(**LEAF_OPTIONS)
def _det3(S):
    return (S[0, 0] * (S[1, 1] * S[2, 2] - S[1, 2] * S[2, 1])
            - S[0, 1] * (S[1, 0] * S[2, 2] - S[1, 2] * S[2, 0])
            + S[0, 2] * (S[1, 0] * S[2, 1] - S[1, 1] * S[2, 0]))


@numba.njit(**LEAF_OPTIONS)
def _gauss(X, P, k, z, R, S, Si):
    """Gaussian density N(z; H x_k, H P_k H^T + R) of a position measurement [1/m^3]."""
    d2 = _mahalanobis(X, P, k, z, R, S, Si)
    det = _det3(S)
    if d2 >= _BIG or not det > 0.0:
        return 0.0
    return math.exp(-0.5 * d2) / math.sqrt(248.05021344239853 * det)   # (2 pi)^3 = 248.05...


@numba.njit(**LEAF_OPTIONS)
def pda_update(X, P, k, beta0, npair, pm, pb, zm, Rm, S, Si, Kg, tmp, xs, Ps, dm, Cm):
    """Probabilistic data association update of state k (Bar-Shalom & Tse 1975): the mixture of the
    prediction (weight beta0) and one Kalman update per gated measurement zm[pm[n]] (weight pb[n])
    replaced by the Gaussian of the same mean and covariance (moment matching, which also covers
    measurements of different covariance R from several radars)."""
    for a in range(6):
        dm[a] = 0.0
        for b in range(6):
            Cm[a, b] = beta0 * P[k, a, b]
    for n in range(npair):
        w = pb[n]
        for a in range(6):
            xs[0, a] = X[k, a]
            for b in range(6):
                Ps[0, a, b] = P[k, a, b]
        _kf_update(xs, Ps, 0, zm[pm[n]], Rm[pm[n]], S, Si, Kg, tmp)
        for a in range(6):
            da = xs[0, a] - X[k, a]
            dm[a] += w * da
            for b in range(6):
                Cm[a, b] += w * (Ps[0, a, b] + da * (xs[0, b] - X[k, b]))
    for a in range(6):
        for b in range(6):
            P[k, a, b] = Cm[a, b] - dm[a] * dm[b]
    for a in range(6):
        X[k, a] += dm[a]
    _symmetrise(P, k)


@numba.njit(**LEAF_OPTIONS)
def hungarian(C, n, m, row_to_col, u, v, p, way, minv, used):
    """Minimum-cost assignment of n rows to distinct columns of C[:n, :m] (n <= m), shortest
    augmenting paths with potentials (Kuhn 1955; Jonker & Volgenant 1987), O(n^2 m).
    Work arrays of length >= m + 1; fills row_to_col[:n]."""
    for j in range(m + 1):
        v[j] = 0.0
        p[j] = 0
        way[j] = 0
    for i in range(n + 1):
        u[i] = 0.0
    for i in range(1, n + 1):
        p[0] = i
        j0 = 0
        for j in range(m + 1):
            minv[j] = np.inf
            used[j] = False
        while True:
            used[j0] = True
            i0 = p[j0]
            delta = np.inf
            j1 = 0
            for j in range(1, m + 1):
                if not used[j]:
                    cur = C[i0 - 1, j - 1] - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j] = cur
                        way[j] = j0
                    if minv[j] < delta:
                        delta = minv[j]
                        j1 = j
            for j in range(m + 1):
                if used[j]:
                    u[p[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while True:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
            if j0 == 0:
                break
    for j in range(1, m + 1):
        if p[j] > 0:
            row_to_col[p[j] - 1] = j - 1


@numba.njit(**LEAF_OPTIONS)
def _two_point(X, Pc, k, z, R, z0, R0, dts, vinit, use_imm, Xm, Pm, mu):
    """Two-point initiation of track k: position z, velocity from its first point z0 [m/s], dts
    seconds before; with the IMM every model starts from this estimate."""
    for a in range(3):
        X[k, a] = z[a]
        X[k, a + 3] = (z[a] - z0[k, a]) / dts
        for b in range(3):
            Pc[k, a, b] = R[a, b]
            Pc[k, a, b + 3] = R[a, b] / dts
            Pc[k, a + 3, b] = R[a, b] / dts
            Pc[k, a + 3, b + 3] = (R[a, b] + R0[k, a, b]) / (dts * dts)
    vinit[k] = True
    if use_imm:
        _imm_set(Xm, Pm, mu, k, X, Pc)


@numba.njit(**LEAF_OPTIONS)
def _imm_set(Xm, Pm, mu, k, X, Pc):
    """Every model of track k starts from its current estimate, with equal mode probabilities."""
    nm = Xm.shape[1]
    for j in range(nm):
        mu[k, j] = 1.0 / nm
        for a in range(6):
            Xm[k, j, a] = X[k, a]
            for b in range(6):
                Pm[k, j, a, b] = Pc[k, a, b]


@numba.njit(cache=True)
def _imm_update(Xm, Pm, mu, k, z, R, S, Si, Kg, tmp, ll, X, Pc):
    """IMM update of track k with one measurement: model-matched Kalman updates, mode probabilities
    mu_j proportional to c_j N(nu_j; 0, S_j), then the combined estimate."""
    nm = Xm.shape[1]
    best = -np.inf
    for j in range(nm):
        d2 = _mahalanobis(Xm[k], Pm[k], j, z, R, S, Si)
        det = _det3(S)
        if d2 >= _BIG or not det > 0.0:
            ll[j] = -np.inf
        else:
            ll[j] = -0.5 * d2 - 0.5 * math.log(det)
            if ll[j] > best:
                best = ll[j]
        _kf_update(Xm[k], Pm[k], j, z, R, S, Si, Kg, tmp)
    if math.isfinite(best):
        tot = 0.0
        for j in range(nm):
            mu[k, j] *= math.exp(ll[j] - best)
            tot += mu[k, j]
        if tot > 0.0:
            for j in range(nm):
                mu[k, j] /= tot
        else:
            for j in range(nm):
                mu[k, j] = 1.0 / nm
    imm_combine(Xm, Pm, mu, k, X, Pc)


# --------------------------------------------------------------------------- the scan
#
# A scan of one radar runs: predict_tracks (the caller then marks the tentative tracks the radar
# covers as looked at), associate_update, confirm_tracks, initiate_tracks. The caller keeps its own
# book-keeping (events, statistics) from what these functions return.

#: the tracker's configuration (typed, named fields; built by :func:`tracker_config`)
TrackerConfig = namedtuple("TrackerConfig", (
    "dt",              # step length [s]
    "q",               # power spectral density of the white-noise acceleration per axis [m^2/s^3]
    "gamma",           # association gate (chi-square, 3 degrees of freedom) [1]
    "gamma_init",      # initiation gate: a measurement inside no track's gate starts a track [1]
    "vmax",            # largest target speed (two-point initiation gate, initial velocity std) [m/s]
    "conf_m",          # M of M-of-N confirmation
    "conf_n",          # N of M-of-N confirmation
    "use_imm",         # IMM (constant velocity and coordinated turns) instead of one Kalman filter
    "use_jpda",        # JPDA instead of global nearest neighbour
    "jpda_max_events", # joint events above which a JPDA cluster uses the cheap approximation
    "omegas",          # [M] turn rates of the IMM models [rad/s] (0: constant velocity)
    "Pi",              # [M, M] Markov matrix of the IMM
))

#: the track table (arrays over K track slots; built by :func:`track_table`)
_TRACK_TABLE_FIELDS = (
    "X", "P", "st", "tpred", "hist", "nlook", "nhit", "last_upd", "lab", "conf_at", "z0", "R0", "t0",
    "vinit", "looked", "hitnow", "Xm", "Pm", "mu",
    "pic",   # the picture a track belongs to (0: the central one; the engine's C2 pictures)
)

#: work arrays of one scan (built by :func:`scan_work`)
_SCAN_WORK_FIELDS = (
    "cand", "cols", "row_to_col", "hu", "hv", "hp", "hway", "hminv", "hused", "rowdeg", "coldeg", "rowcol",
    "near", "S", "Si", "Kg", "tmp", "F", "xt", "x0m", "P0m", "cbar", "ll", "pm", "pb", "xs", "Ps", "dm",
    "Cm", "upd", "upd_lab", "born",
    # gating pre-filter: per column its radius [m], the narrow columns sorted by east coordinate
    "radius", "xsort", "csort", "wide",
    # clusters of the assignment: union-find parents over rows then columns, members, local indices
    "uf", "crow", "ccol", "lidx",
)


# The table and the work arrays are compiled structures (numba structrefs) rather than tuples: a
# structure passes as one reference where a tuple of arrays counts a reference for each of its
# arrays every time it is bound (each scan function it enters), which dominated a small scan.
@structref.register
class TrackTableType(types.StructRef):
    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


@structref.register
class ScanWorkType(types.StructRef):
    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


class TrackTable(structref.StructRefProxy):
    """The track table (fields: _TRACK_TABLE_FIELDS); from Python each field reads as its array."""


class ScanWork(structref.StructRefProxy):
    """Work arrays of one scan (fields: _SCAN_WORK_FIELDS)."""


@numba.njit(cache=True)
def _table_arrays(tb):
    return (tb.X, tb.P, tb.st, tb.tpred, tb.hist, tb.nlook, tb.nhit, tb.last_upd, tb.lab,
            tb.conf_at, tb.z0, tb.R0, tb.t0, tb.vinit, tb.looked, tb.hitnow, tb.Xm, tb.Pm, tb.mu,
            tb.pic)


@numba.njit(cache=True)
def _work_arrays(wk):
    return (wk.cand, wk.cols, wk.row_to_col, wk.hu, wk.hv, wk.hp, wk.hway, wk.hminv, wk.hused,
            wk.rowdeg, wk.coldeg, wk.rowcol, wk.near, wk.S, wk.Si, wk.Kg, wk.tmp, wk.F, wk.xt,
            wk.x0m, wk.P0m, wk.cbar, wk.ll, wk.pm, wk.pb, wk.xs, wk.Ps, wk.dm, wk.Cm, wk.upd,
            wk.upd_lab, wk.born, wk.radius, wk.xsort, wk.csort, wk.wide, wk.uf, wk.crow, wk.ccol,
            wk.lidx)


# jit-code constructors (the structure's local is not named after a field, as numba's generated
# constructor's ``st`` would be)
@overload(TrackTable)
def _tracktable_new(X, P, st, tpred, hist, nlook, nhit, last_upd, lab, conf_at, z0, R0, t0, vinit, looked, hitnow,
                    Xm, Pm, mu, pic):
    typ = TrackTableType(list(zip(_TRACK_TABLE_FIELDS, (
        X, P, st, tpred, hist, nlook, nhit, last_upd, lab, conf_at, z0, R0, t0, vinit, looked, hitnow,
        Xm, Pm, mu, pic,
    ))))

    def impl(X, P, st, tpred, hist, nlook, nhit, last_upd, lab, conf_at, z0, R0, t0, vinit, looked, hitnow,
             Xm, Pm, mu, pic):
        obj = structref.new(typ)
        obj.X = X
        obj.P = P
        obj.st = st
        obj.tpred = tpred
        obj.hist = hist
        obj.nlook = nlook
        obj.nhit = nhit
        obj.last_upd = last_upd
        obj.lab = lab
        obj.conf_at = conf_at
        obj.z0 = z0
        obj.R0 = R0
        obj.t0 = t0
        obj.vinit = vinit
        obj.looked = looked
        obj.hitnow = hitnow
        obj.Xm = Xm
        obj.Pm = Pm
        obj.mu = mu
        obj.pic = pic
        return obj
    return impl


@overload(ScanWork)
def _scanwork_new(cand, cols, row_to_col, hu, hv, hp, hway, hminv, hused, rowdeg, coldeg, rowcol, near, S, Si, Kg,
                  tmp, F, xt, x0m, P0m, cbar, ll, pm, pb, xs, Ps, dm, Cm, upd, upd_lab, born, radius,
                  xsort, csort, wide, uf, crow, ccol, lidx):
    typ = ScanWorkType(list(zip(_SCAN_WORK_FIELDS, (
        cand, cols, row_to_col, hu, hv, hp, hway, hminv, hused, rowdeg, coldeg, rowcol, near, S, Si, Kg,
        tmp, F, xt, x0m, P0m, cbar, ll, pm, pb, xs, Ps, dm, Cm, upd, upd_lab, born, radius, xsort,
        csort, wide, uf, crow, ccol, lidx,
    ))))

    def impl(cand, cols, row_to_col, hu, hv, hp, hway, hminv, hused, rowdeg, coldeg, rowcol, near, S, Si, Kg,
             tmp, F, xt, x0m, P0m, cbar, ll, pm, pb, xs, Ps, dm, Cm, upd, upd_lab, born, radius,
             xsort, csort, wide, uf, crow, ccol, lidx):
        obj = structref.new(typ)
        obj.cand = cand
        obj.cols = cols
        obj.row_to_col = row_to_col
        obj.hu = hu
        obj.hv = hv
        obj.hp = hp
        obj.hway = hway
        obj.hminv = hminv
        obj.hused = hused
        obj.rowdeg = rowdeg
        obj.coldeg = coldeg
        obj.rowcol = rowcol
        obj.near = near
        obj.S = S
        obj.Si = Si
        obj.Kg = Kg
        obj.tmp = tmp
        obj.F = F
        obj.xt = xt
        obj.x0m = x0m
        obj.P0m = P0m
        obj.cbar = cbar
        obj.ll = ll
        obj.pm = pm
        obj.pb = pb
        obj.xs = xs
        obj.Ps = Ps
        obj.dm = dm
        obj.Cm = Cm
        obj.upd = upd
        obj.upd_lab = upd_lab
        obj.born = born
        obj.radius = radius
        obj.xsort = xsort
        obj.csort = csort
        obj.wide = wide
        obj.uf = uf
        obj.crow = crow
        obj.ccol = ccol
        obj.lidx = lidx
        return obj
    return impl


def _field(j, arrays):
    def get(self):
        got = self.__dict__.get("_arrays")
        if got is None:   # the arrays are set once, at construction: fetched once
            got = self.__dict__["_arrays"] = arrays(self)
        return got[j]
    return property(get)


def _proxy_fields(cls, typ, fields, arrays):
    """Python access to a structure's fields (one compiled call returns all its arrays)."""
    structref.define_boxing(typ, cls)
    for j, name in enumerate(fields):
        setattr(cls, name, _field(j, arrays))


_proxy_fields(TrackTable, TrackTableType, _TRACK_TABLE_FIELDS, _table_arrays)
_proxy_fields(ScanWork, ScanWorkType, _SCAN_WORK_FIELDS, _work_arrays)

#: gated pairs for JPDA (track column, measurement, likelihood ratio); grown by associate_update
Pairs = namedtuple("Pairs", ("row", "col", "lr"))


@numba.njit(cache=True)
def tracker_config(dt, q, gamma, gamma_init, vmax, conf_m, conf_n, use_imm, use_jpda, jpda_max_events,
                   omega, p_switch):
    """The configuration; with the IMM three models: constant velocity and coordinated turns of
    +/- omega [rad/s], leaving a model with probability p_switch per step."""
    nmod = 3 if use_imm else 1
    omegas = np.zeros(nmod, np.float64)
    Pi = np.ones((nmod, nmod), np.float64)
    if use_imm:
        omegas[1] = omega
        omegas[2] = -omega
        for i in range(nmod):
            for j in range(nmod):
                Pi[i, j] = 1.0 - p_switch if i == j else p_switch / (nmod - 1)
    return TrackerConfig(float(dt), float(q), float(gamma), float(gamma_init), float(vmax), int(conf_m),
                         int(conf_n), bool(use_imm), bool(use_jpda), float(jpda_max_events), omegas, Pi)


@numba.njit(cache=True)
def track_table(K, nmod, use_imm):
    """An empty table of K track slots (all free)."""
    KI = K if use_imm else 1
    return TrackTable(np.zeros((K, 6), np.float64), np.zeros((K, 6, 6), np.float64), np.zeros(K, np.int64),
                      np.zeros(K, np.int64), np.zeros(K, np.int64), np.zeros(K, np.int64),
                      np.zeros(K, np.int64), np.zeros(K, np.int64), np.full(K, -1, np.int64),
                      np.zeros(K, np.int64), np.zeros((K, 3), np.float64), np.zeros((K, 3, 3), np.float64),
                      np.zeros(K, np.int64), np.zeros(K, np.bool_), np.zeros(K, np.bool_),
                      np.zeros(K, np.bool_), np.zeros((KI, nmod, 6), np.float64),
                      np.zeros((KI, nmod, 6, 6), np.float64), np.zeros((KI, nmod), np.float64),
                      np.zeros(K, np.int64))


@numba.njit(cache=True)
def scan_work(K, NZ, nmod):
    """Work arrays for scans of at most NZ measurements on K track slots."""
    ncol_max = K + NZ
    return ScanWork(np.zeros(K, np.int64), np.zeros(K, np.int64),
                    np.full(NZ, -1, np.int64), np.zeros(ncol_max + 1, np.float64),
                    np.zeros(ncol_max + 1, np.float64), np.zeros(ncol_max + 1, np.int64),
                    np.zeros(ncol_max + 1, np.int64), np.zeros(ncol_max + 1, np.float64),
                    np.zeros(ncol_max + 1, np.bool_), np.zeros(NZ, np.int64), np.zeros(K, np.int64),
                    np.zeros(NZ, np.int64), np.zeros(NZ, np.float64), np.zeros((3, 3), np.float64),
                    np.zeros((3, 3), np.float64), np.zeros((6, 3), np.float64), np.zeros((6, 6), np.float64),
                    np.zeros((6, 6), np.float64), np.zeros(6, np.float64), np.zeros((nmod, 6), np.float64),
                    np.zeros((nmod, 6, 6), np.float64), np.zeros(nmod, np.float64), np.zeros(nmod, np.float64),
                    np.empty(NZ, np.int64), np.empty(NZ, np.float64), np.zeros((1, 6), np.float64),
                    np.zeros((1, 6, 6), np.float64), np.zeros(6, np.float64), np.zeros((6, 6), np.float64),
                    np.empty(K, np.int64), np.empty(K, np.int64), np.empty(NZ, np.int64),
                    np.zeros(K, np.float64), np.zeros(K, np.float64), np.zeros(K, np.int64), np.zeros(K, np.int64),
                    np.zeros(ncol_max, np.int64), np.zeros(NZ, np.int64), np.zeros(K, np.int64),
                    np.zeros(ncol_max, np.int64))


@numba.njit(cache=True)
def scan_pairs(NZ):
    """Initial storage of JPDA's gated pairs."""
    pcap = 4 * NZ + 16
    return Pairs(np.empty(pcap, np.int64), np.empty(pcap, np.int64), np.empty(pcap, np.float64))


@numba.njit(cache=True, inline="always")
def predict_tracks(cfg, tb, wk, t, pic):
    """Predict every live track of picture ``pic`` to step t (the tracks of other pictures are
    left alone: a scan feeds one picture); fills wk.cols[:nk] with these slots (in slot order)
    and clears their looked / hit flags. Returns nk."""
    if not cfg.use_imm:
        return predict_slots(tb.X, tb.P, tb.st, tb.pic, tb.tpred, wk.cols, tb.looked, tb.hitnow, cfg.dt, cfg.q, t,
                             pic)
    cols = wk.cols
    tpred = tb.tpred
    nk = live_slots(tb.st, tb.pic, cols, tb.looked, tb.hitnow, pic)
    for c in range(nk):
        k = cols[c]
        dts = (t - tpred[k]) * cfg.dt
        if dts > 0.0:
            imm_predict(tb.Xm, tb.Pm, tb.mu, k, cfg.Pi, cfg.omegas, dts, cfg.q, tb.X, tb.P, wk.F, wk.xt, wk.tmp,
                        wk.x0m, wk.P0m, wk.cbar)
        tpred[k] = t
    return nk


@numba.njit(**LEAF_OPTIONS)
def live_slots(st, tpic, cols, looked, hitnow, pic):
    """The live tracks of picture ``pic`` into cols[:nk] (slot order), their looked / hit flags
    cleared. Returns nk."""
    nk = 0
    for k in range(st.shape[0]):
        if st[k] == TRK_FREE or tpic[k] != pic:
            continue
        cols[nk] = k
        nk += 1
        looked[k] = False
        hitnow[k] = False
    return nk


@numba.njit(**LEAF_OPTIONS)
def predict_slots(X, P, st, tpic, tpred, cols, looked, hitnow, dt, q, t, pic):
    """:func:`predict_tracks` with the Kalman filter, on the table's arrays (the engine reads
    them once per replication and calls this for every scan)."""
    nk = live_slots(st, tpic, cols, looked, hitnow, pic)
    for c in range(nk):
        k = cols[c]
        dts = (t - tpred[k]) * dt
        if dts > 0.0:
            _predict(X, P, k, dts, q)
        tpred[k] = t
    return nk


@numba.njit(cache=True, inline="always")
def _mark_updated(X, P, vinit, z0, R0, last_upd, lab, hitnow, nhit, k, t, label):
    """Book-keeping after measurements updated track k at step t (``label``: the threat behind the
    measurement that weighed most, -1 a false alarm). A track without a velocity yet was updated by
    a second radar in its first step: its fused position becomes its first point. (The table's
    arrays are passed, read once by the caller: a structure's field read counts a reference.)"""
    if not vinit[k]:
        for a in range(3):
            z0[k, a] = X[k, a]
            for b in range(3):
                R0[k, a, b] = P[k, a, b]
    last_upd[k] = t
    if label >= 0:
        lab[k] = label
    hitnow[k] = True
    nhit[k] += 1


@numba.njit(**LEAF_OPTIONS)
def _gaussian_lr(d2, S):
    """N(nu; 0, S) from the squared Mahalanobis distance d2 and S [1/m^3]."""
    det = _det3(S)
    return math.exp(-0.5 * d2) / math.sqrt(248.05021344239853 * det) if det > 0.0 else 0.0


@numba.njit(cache=True, inline="always")
def _prefilter(tb, wk, nk, Rm, nz, gamma_init):
    """Gating pre-filter: a pair can pass the trace test of :func:`associate_update`
    (|z - x|^2 <= gamma_init (tr P + tr R)) only if |z_east - x_east| <= r_c =
    sqrt(gamma_init (tr P_c + max_i tr R_i)). The columns whose radius is at most twice the median
    ("narrow") are sorted by east coordinate, so a measurement's candidates are a window of them;
    the few wide ones (new tracks) are tried against every measurement. Returns (narrow, wide)."""
    trr = 0.0
    for i in range(nz):
        v = Rm[i, 0, 0] + Rm[i, 1, 1] + Rm[i, 2, 2]
        if v > trr:
            trr = v
    rad = wk.radius
    cols = wk.cols
    P = tb.P
    X = tb.X
    csort = wk.csort
    xsort = wk.xsort
    wide = wk.wide
    for c in range(nk):
        k = cols[c]
        rad[c] = math.sqrt(gamma_init * (P[k, 0, 0] + P[k, 1, 1] + P[k, 2, 2] + trr)) * (1.0 + 1e-9)
    med = np.median(rad[:nk]) if nk > 0 else 0.0
    nn = 0
    nw = 0
    for c in range(nk):
        if rad[c] <= 2.0 * med:
            csort[nn] = c
            xsort[nn] = X[cols[c], 0]
            nn += 1
        else:
            wide[nw] = c
            nw += 1
    order = np.argsort(xsort[:nn], kind="mergesort")
    cs = csort[:nn][order]
    xs = xsort[:nn][order]
    csort[:nn] = cs
    xsort[:nn] = xs
    return nn, nw


@numba.njit(cache=True, inline="always")
def _candidates(xsort, csort, radius, wide, cand, zx, nn, nw, rmax):
    """The columns that may gate a measurement at east coordinate zx, in ascending column order,
    into cand (the work arrays xsort, csort, radius, wide of :func:`_prefilter`, passed by the
    caller, which reads them once per scan: a structure's field read counts a reference)."""
    lo = np.searchsorted(xsort[:nn], zx - rmax)
    nc = 0
    p = lo
    while p < nn and xsort[p] <= zx + rmax:
        c = csort[p]
        if abs(xsort[p] - zx) <= radius[c]:
            cand[nc] = c
            nc += 1
        p += 1
    for w in range(nw):
        cand[nc] = wide[w]
        nc += 1
    # insertion sort (few candidates): the pairs keep the order of an unfiltered sweep
    for a in range(1, nc):
        v = cand[a]
        b = a - 1
        while b >= 0 and cand[b] > v:
            cand[b + 1] = cand[b]
            b -= 1
        cand[b + 1] = v
    return nc


@numba.njit(cache=True)
def _find(uf, a):
    while uf[a] != a:
        uf[a] = uf[uf[a]]
        a = uf[a]
    return a


@numba.njit(cache=True, inline="always")
def _assign_clusters(wk, nk, nz, prow, pcol, pd2, npairs, gamma):
    """Global nearest neighbour: the optimal assignment of measurements to tracks (a measurement
    left unassigned costs the gate), solved cluster by cluster (the connected components of the
    gated pairs; a measurement alone with one track needs no solver): wk.row_to_col[i] becomes the
    column of measurement i, or nk + i (unassigned)."""
    row_to_col = wk.row_to_col
    uf = wk.uf
    for i in range(nz):
        row_to_col[i] = nk + i
    rowdeg = wk.rowdeg
    coldeg = wk.coldeg
    rowcol = wk.rowcol
    trivial = True
    for i in range(nz):
        if rowdeg[i] > 1:
            trivial = False
    for c in range(nk):
        if coldeg[c] > 1:
            trivial = False
    if trivial:
        for i in range(nz):
            if rowcol[i] >= 0:
                row_to_col[i] = rowcol[i]
        return
    # union-find over rows (0 .. nz-1) and columns (nz .. nz+nk-1)
    for a in range(nz + nk):
        uf[a] = a
    for p in range(npairs):
        ra = _find(uf, pcol[p])
        rb = _find(uf, nz + prow[p])
        if ra != rb:
            if ra < rb:
                uf[rb] = ra
            else:
                uf[ra] = rb
    for a in range(nz + nk):
        uf[a] = _find(uf, a)
    # the pairs of each cluster, by root; rows and columns of a cluster keep their global order
    pord = np.argsort(uf[pcol[:npairs]], kind="mergesort")
    lidx = wk.lidx
    crow = wk.crow
    ccol = wk.ccol
    g0 = 0
    while g0 < npairs:
        root = uf[pcol[pord[g0]]]
        g1 = g0
        while g1 < npairs and uf[pcol[pord[g1]]] == root:
            g1 += 1
        # members: rows and columns whose root is this one (scan the pairs only)
        nr = 0
        ncl = 0
        for q in range(g0, g1):
            p = pord[q]
            i = pcol[p]
            c = prow[p]
            if lidx[i] != -1 - root:
                lidx[i] = -1 - root
                crow[nr] = i
                nr += 1
            if lidx[nz + c] != -1 - root:
                lidx[nz + c] = -1 - root
                ccol[ncl] = c
                ncl += 1
        if nr == 1 and ncl == 1:
            row_to_col[crow[0]] = ccol[0]
        else:
            rows = np.sort(crow[:nr])
            cls = np.sort(ccol[:ncl])
            for a in range(nr):
                lidx[rows[a]] = a
            for a in range(ncl):
                lidx[nz + cls[a]] = a
            m = ncl + nr
            Cc = np.full((nr, m), _BIG, np.float64)
            for a in range(nr):
                Cc[a, ncl + a] = gamma
            for q in range(g0, g1):
                p = pord[q]
                Cc[lidx[pcol[p]], lidx[nz + prow[p]]] = pd2[p]
            r2c = np.full(nr, -1, np.int64)
            hungarian(Cc, nr, m, r2c, wk.hu, wk.hv, wk.hp, wk.hway, wk.hminv, wk.hused)
            for a in range(nr):
                if 0 <= r2c[a] < ncl and Cc[a, r2c[a]] < _BIG:
                    row_to_col[rows[a]] = cls[r2c[a]]
        for q in range(g0, g1):
            p = pord[q]
            lidx[pcol[p]] = 0
            lidx[nz + prow[p]] = 0
        g0 = g1


@numba.njit(cache=True, inline="always")
def associate_update(cfg, tb, wk, pairs, t, nk, zm, Rm, zlab, lamz, nz, pd, miss_w):
    """Gate the measurements zm[:nz] (covariances Rm, truth labels zlab, clutter densities lamz
    [1/m^3] for JPDA) against the predicted tracks wk.cols[:nk], associate (GNN: optimal assignment
    where a measurement left unassigned costs the gate; JPDA) and update. wk.near[i] becomes the
    smallest squared Mahalanobis distance of measurement i to a track (for initiation).
    wk.upd[:nupd] lists the updated tracks in the order they were updated.
    Returns (nupd, pairs) (pairs: the storage of the gated pairs, grown if needed)."""
    if nz == 0:
        return 0, pairs
    dt = cfg.dt
    gamma = cfg.gamma
    gamma_init = cfg.gamma_init
    vmax = cfg.vmax
    use_imm = cfg.use_imm
    use_jpda = cfg.use_jpda
    X = tb.X
    Pc = tb.P
    cols = wk.cols
    rowdeg = wk.rowdeg
    coldeg = wk.coldeg
    rowcol = wk.rowcol
    near = wk.near
    Sx = wk.S
    Si = wk.Si
    prow = pairs.row
    pcol = pairs.col
    plr = pairs.lr
    pcap = prow.shape[0]
    st = tb.st
    vinit = tb.vinit
    z0 = tb.z0
    R0 = tb.R0
    t0 = tb.t0
    cand = wk.cand
    xsort = wk.xsort
    csort = wk.csort
    radius = wk.radius
    wide = wk.wide
    nupd = 0
    # the pre-filter pays off on large scans only; a small one sweeps every track
    use_pf = nk * nz > PREFILTER_MIN_PAIRS
    nn = 0
    nw = 0
    rmax = 0.0
    if use_pf:
        nn, nw = _prefilter(tb, wk, nk, Rm, nz, gamma_init)
        for p in range(nn):
            if radius[csort[p]] > rmax:
                rmax = radius[csort[p]]
    else:
        for c in range(nk):
            cand[c] = c
    # gate: cost = squared Mahalanobis distance (a measurement left unassigned costs the gate)
    npairs = 0
    for c in range(nk):
        coldeg[c] = 0
    for i in range(nz):
        rowdeg[i] = 0
        rowcol[i] = -1
        near[i] = _BIG
        ncand = _candidates(xsort, csort, radius, wide, cand, zm[i, 0], nn, nw, rmax) if use_pf else nk
        zi = zm[i]     # views made once per measurement, not per pair
        Ri = Rm[i]
        for q in range(ncand):
            c = cand[q]
            k = cols[c]
            tr = 0.0
            d2n = 0.0
            for j in range(3):
                tr += Pc[k, j, j] + Rm[i, j, j]
                d2n += (zm[i, j] - X[k, j]) ** 2
            if d2n > gamma_init * tr:   # outside the gates for certain (lambda_max <= trace)
                continue
            if st[k] == TRK_TENTATIVE and not vinit[k]:
                # a track with one point yet: the target can have moved at most vmax
                # since (maximum-speed gate of two-point initiation)
                d0 = 0.0
                tr0 = 0.0
                for j in range(3):
                    d0 += (zm[i, j] - z0[k, j]) ** 2
                    tr0 += Rm[i, j, j] + R0[k, j, j]
                lim = vmax * (t - t0[k]) * dt + 3.0 * math.sqrt(tr0)
                if d0 > lim * lim:
                    continue
            d2 = _mahalanobis(X, Pc, k, zi, Ri, Sx, Si)
            if d2 < near[i]:
                near[i] = d2
            if d2 <= gamma:
                rowdeg[i] += 1
                coldeg[c] += 1
                rowcol[i] = c
                if npairs == pcap:
                    pcap *= 2
                    prow2 = np.empty(pcap, np.int64)
                    pcol2 = np.empty(pcap, np.int64)
                    plr2 = np.empty(pcap, np.float64)
                    prow2[:npairs] = prow[:npairs]
                    pcol2[:npairs] = pcol[:npairs]
                    plr2[:npairs] = plr[:npairs]
                    prow = prow2
                    pcol = pcol2
                    plr = plr2
                prow[npairs] = c
                pcol[npairs] = i
                # JPDA: the likelihood ratio of the pair; GNN: its cost
                plr[npairs] = pd * _gaussian_lr(d2, Sx) / lamz[i] if use_jpda else d2
                npairs += 1
    pairs = Pairs(prow, pcol, plr)
    if use_jpda:
        if npairs > 0:
            nupd = _jpda_update(cfg, tb, wk, t, nk, nz, prow, pcol, plr, npairs, zm, Rm, zlab, lamz, pd, miss_w)
        return nupd, pairs
    _assign_clusters(wk, nk, nz, prow, pcol, plr, npairs, gamma)
    row_to_col = wk.row_to_col
    last_upd = tb.last_upd
    lab = tb.lab
    hitnow = tb.hitnow
    nhit = tb.nhit
    Kg = wk.Kg
    tmp = wk.tmp
    upd = wk.upd
    upd_lab = wk.upd_lab
    for i in range(nz):
        c = row_to_col[i]
        if c < 0 or c >= nk:
            continue
        k = cols[c]
        if st[k] == TRK_TENTATIVE and not vinit[k] and t > t0[k]:
            _two_point(X, Pc, k, zm[i], Rm[i], z0, R0, (t - t0[k]) * dt, vinit, use_imm, tb.Xm,
                       tb.Pm, tb.mu)
        else:
            if use_imm:
                _imm_update(tb.Xm, tb.Pm, tb.mu, k, zm[i], Rm[i], Sx, Si, Kg, tmp, wk.ll, X, Pc)
            else:
                _kf_update(X, Pc, k, zm[i], Rm[i], Sx, Si, Kg, tmp)
        _mark_updated(X, Pc, vinit, z0, R0, last_upd, lab, hitnow, nhit, k, t, zlab[i])
        upd[nupd] = k
        upd_lab[nupd] = i
        nupd += 1
    return nupd, pairs


@numba.njit(cache=True, inline="always")
def _jpda_update(cfg, tb, wk, t, nk, nz, prow, pcol, plr, npairs, zm, Rm, zlab, lamz, pd, miss_w):
    """JPDA weights of the gated pairs, then each track's mixture update (IMM-PDA with the IMM)."""
    X = tb.X
    Pc = tb.P
    nmod = tb.mu.shape[1]
    nupd = 0
    beta, beta0, _ncheap = _jpda_kernel(nk, nz, prow[:npairs], pcol[:npairs], plr[:npairs], miss_w,
                                        cfg.jpda_max_events)
    pord = np.argsort(prow[:npairs], kind="mergesort")
    g0 = 0
    while g0 < npairs:
        c = prow[pord[g0]]
        g1 = g0
        ibest = -1
        bbest = -1.0
        while g1 < npairs and prow[pord[g1]] == c:
            n = g1 - g0
            wk.pm[n] = pcol[pord[g1]]
            wk.pb[n] = beta[pord[g1]]
            if wk.pb[n] > bbest:
                bbest = wk.pb[n]
                ibest = wk.pm[n]
            g1 += 1
        npair = g1 - g0
        k = wk.cols[c]
        if tb.st[k] == TRK_TENTATIVE and not tb.vinit[k] and t > tb.t0[k]:
            _two_point(X, Pc, k, zm[ibest], Rm[ibest], tb.z0, tb.R0, (t - tb.t0[k]) * cfg.dt, tb.vinit,
                       cfg.use_imm, tb.Xm, tb.Pm, tb.mu)
        else:
            if cfg.use_imm:
                # IMM-PDA: model likelihoods (1 - Pd Pg) + Pd / lambda sum_j N_j
                for jm in range(nmod):
                    lj = miss_w
                    for n in range(npair):
                        i = wk.pm[n]
                        lj += pd / lamz[i] * _gauss(tb.Xm[k], tb.Pm[k], jm, zm[i], Rm[i], wk.S, wk.Si)
                    wk.ll[jm] = lj
                    pda_update(tb.Xm[k], tb.Pm[k], jm, beta0[c], npair, wk.pm, wk.pb, zm, Rm, wk.S, wk.Si,
                               wk.Kg, wk.tmp, wk.xs, wk.Ps, wk.dm, wk.Cm)
                tot = 0.0
                for jm in range(nmod):
                    tot += tb.mu[k, jm] * wk.ll[jm]
                if tot > 0.0 and math.isfinite(tot):
                    for jm in range(nmod):
                        tb.mu[k, jm] = tb.mu[k, jm] * wk.ll[jm] / tot
                imm_combine(tb.Xm, tb.Pm, tb.mu, k, X, Pc)
            else:
                pda_update(X, Pc, k, beta0[c], npair, wk.pm, wk.pb, zm, Rm, wk.S, wk.Si, wk.Kg, wk.tmp,
                           wk.xs, wk.Ps, wk.dm, wk.Cm)
        _mark_updated(X, Pc, tb.vinit, tb.z0, tb.R0, tb.last_upd, tb.lab, tb.hitnow, tb.nhit, k, t, zlab[ibest])
        wk.upd[nupd] = k
        wk.upd_lab[nupd] = ibest
        nupd += 1
        g0 = g1
    return nupd


@numba.njit(cache=True, inline="always")
def confirm_tracks(cfg, tb, wk, t, nk, confirmed):
    """M-of-N on the looks of the tentative tracks wk.cols[:nk] (a look: the scan's radar covered
    the track, or hit it): confirmed[:n] gets the tracks confirmed now (state, step of
    confirmation set), in column order; a track that can no longer be confirmed is freed.
    Returns n."""
    return confirm_slots(tb.st, tb.looked, tb.hitnow, tb.hist, tb.nlook, tb.conf_at, wk.cols, nk, cfg.conf_m,
                         cfg.conf_n, t, confirmed)


@numba.njit(**LEAF_OPTIONS)
def confirm_slots(st, looked, hitnow, hist, nlook, conf_at, cols, nk, conf_m, conf_n, t, confirmed):
    """:func:`confirm_tracks` on the table's arrays (the engine reads them once per replication)."""
    nmask = (1 << conf_n) - 1
    nc = 0
    for c in range(nk):
        k = cols[c]
        if st[k] != TRK_TENTATIVE:
            continue
        if not (looked[k] or hitnow[k]):
            continue
        hist[k] = ((hist[k] << 1) | (1 if hitnow[k] else 0)) & nmask
        nlook[k] += 1
        hits = 0
        h = hist[k]
        while h:
            hits += h & 1
            h >>= 1
        if hits >= conf_m:
            st[k] = TRK_CONFIRMED
            conf_at[k] = t
            confirmed[nc] = k
            nc += 1
        elif nlook[k] >= conf_n:
            st[k] = TRK_FREE
    return nc


@numba.njit(cache=True, inline="always")
def initiate_tracks(cfg, tb, wk, t, zm, Rm, zlab, nz, pic):
    """Measurements in no track's initiation gate (wider than the association gate: a measurement
    of a tracked target that fell just outside its gate, or lost the assignment to a closer one,
    starts nothing) start tentative tracks of picture ``pic`` in the first free slots (with M = 1
    confirmed at once).
    wk.born[:n] gets the new tracks in measurement order. Returns (n, measurements lost to a full
    table)."""
    st = tb.st
    near = wk.near
    gamma_init = cfg.gamma_init
    K = st.shape[0]
    nb = 0
    lost = 0
    vmax = cfg.vmax
    k_from = 0
    if nz == 0:
        return nb, lost
    X = tb.X
    P = tb.P
    z0 = tb.z0
    R0 = tb.R0
    born = wk.born
    for i in range(nz):
        if near[i] <= gamma_init:
            continue
        # the first free slot (slots before the last one taken in this scan are in use)
        k = -1
        for kk in range(k_from, K):
            if st[kk] == TRK_FREE:
                k = kk
                break
        if k < 0:
            k_from = K
            lost += 1
            continue
        st[k] = TRK_TENTATIVE
        for a in range(3):
            X[k, a] = zm[i, a]
            X[k, a + 3] = 0.0
            z0[k, a] = zm[i, a]
            for b in range(6):
                P[k, a, b] = 0.0
                P[k, a + 3, b] = 0.0
        for a in range(3):
            for b in range(3):
                P[k, a, b] = Rm[i, a, b]
                R0[k, a, b] = Rm[i, a, b]
            P[k, a + 3, a + 3] = vmax * vmax
        if cfg.use_imm:
            _imm_set(tb.Xm, tb.Pm, tb.mu, k, X, P)
        tb.tpred[k] = t
        tb.t0[k] = t
        tb.vinit[k] = False
        tb.hist[k] = 1
        tb.nlook[k] = 1
        tb.nhit[k] = 1
        tb.last_upd[k] = t
        tb.lab[k] = zlab[i]
        tb.pic[k] = pic
        if cfg.conf_m <= 1:
            st[k] = TRK_CONFIRMED
            tb.conf_at[k] = t
        born[nb] = k
        nb += 1
        k_from = k + 1
    return nb, lost


@numba.njit(cache=True)
def new_tracker(dt, q, gamma, gamma_init, vmax, conf_m, conf_n, use_imm, use_jpda, jpda_max_events, omega,
                p_switch, K, NZ):
    """Configuration, empty track table of K slots, work arrays and pair storage for scans of at
    most NZ measurements, in one call (one compiled entry point for Python callers)."""
    cfg = tracker_config(dt, q, gamma, gamma_init, vmax, conf_m, conf_n, use_imm, use_jpda, jpda_max_events,
                         omega, p_switch)
    nmod = cfg.omegas.shape[0]
    return cfg, track_table(K, nmod, use_imm), scan_work(K, NZ, nmod), scan_pairs(NZ)


@numba.njit(cache=True)
def scan_step(cfg, tb, wk, pairs, t, zm, Rm, zlab, lamz, nz, pd, miss_w, looks, all_looked, confirmed, pic):
    """One radar's scan at step t feeding picture ``pic``, as the engine runs it: predict, mark the
    looks (the tentative tracks in slots ``looks``, or all of them when ``all_looked``), associate
    and update, M-of-N, initiate. Returns (pairs, tracks confirmed now (in ``confirmed``), tracks born (in wk.born),
    measurements lost to a full table)."""
    nk = predict_tracks(cfg, tb, wk, t, pic)
    for c in range(nk):
        k = wk.cols[c]
        if tb.st[k] == TRK_TENTATIVE and all_looked:
            tb.looked[k] = True
    if not all_looked:
        for j in range(looks.shape[0]):
            k = looks[j]
            if tb.st[k] == TRK_TENTATIVE:
                tb.looked[k] = True
    _nupd, pairs = associate_update(cfg, tb, wk, pairs, t, nk, zm, Rm, zlab, lamz, nz, pd, miss_w)
    nconf = confirm_tracks(cfg, tb, wk, t, nk, confirmed)
    nb, lost = initiate_tracks(cfg, tb, wk, t, zm, Rm, zlab, nz, pic)
    return pairs, nconf, nb, lost


#: columns of a capture row (:func:`capture_scan`)
CAPTURE_COLS = 16
CAP_SCAN = 1
CAP_MEAS = 2
CAP_LOOK = 3
CAP_TRACK = 4
CAP_DROP = 5


@numba.njit(cache=True)
def _capture_rows(buf, need):
    """First free row of buf for need rows, -1 (and buf[0, 1] = 1) when they do not fit."""
    n = int(buf[0, 0])
    if n == 0:
        n = 1
    if n + need > buf.shape[0]:
        buf[0, 1] = 1.0
        return -1
    return n


@numba.njit(cache=True)
def capture_scan(buf, t, s, nz, pd, miss_w, zm, Rm, zlab, lamz, looked, cols, nk, pic):
    """Append what one scan fed the tracker to buf [N, CAPTURE_COLS] (a debugging record; buf[0, 0]
    holds the rows used, buf[0, 1] = 1 once something did not fit): a scan row
    (CAP_SCAN, step, radar, nz, Pd, 1 - Pd Pg, picture), nz measurement rows (CAP_MEAS, z[3], R[9], label,
    clutter density) and a row per tentative track the radar looked at (CAP_LOOK, slot)."""
    nl = 0
    for c in range(nk):
        if looked[cols[c]]:
            nl += 1
    n = _capture_rows(buf, 1 + nz + nl)
    if n < 0:
        return
    buf[n, 0] = CAP_SCAN
    buf[n, 1] = t
    buf[n, 2] = s
    buf[n, 3] = nz
    buf[n, 4] = pd
    buf[n, 5] = miss_w
    buf[n, 6] = pic
    n += 1
    for i in range(nz):
        buf[n, 0] = CAP_MEAS
        for a in range(3):
            buf[n, 1 + a] = zm[i, a]
            for b in range(3):
                buf[n, 4 + 3 * a + b] = Rm[i, a, b]
        buf[n, 13] = zlab[i]
        buf[n, 14] = lamz[i]
        n += 1
    for c in range(nk):
        if looked[cols[c]]:
            buf[n, 0] = CAP_LOOK
            buf[n, 1] = cols[c]
            n += 1
    buf[0, 0] = n


@numba.njit(cache=True)
def capture_tracks(buf, tb):
    """Append the live tracks after a scan: (CAP_TRACK, slot, state, step of confirmation, label,
    X[6], number of hits)."""
    K = tb.st.shape[0]
    nl = 0
    for k in range(K):
        if tb.st[k] != TRK_FREE:
            nl += 1
    n = _capture_rows(buf, nl)
    if n < 0:
        return
    for k in range(K):
        if tb.st[k] == TRK_FREE:
            continue
        buf[n, 0] = CAP_TRACK
        buf[n, 1] = k
        buf[n, 2] = tb.st[k]
        buf[n, 3] = tb.conf_at[k]
        buf[n, 4] = tb.lab[k]
        for a in range(6):
            buf[n, 5 + a] = tb.X[k, a]
        buf[n, 11] = tb.nhit[k]
        n += 1
    buf[0, 0] = n


@numba.njit(cache=True)
def capture_drop(buf, t, k):
    """Append the deletion of track k at step t: (CAP_DROP, step, slot)."""
    n = _capture_rows(buf, 1)
    if n < 0:
        return
    buf[n, 0] = CAP_DROP
    buf[n, 1] = t
    buf[n, 2] = k
    buf[0, 0] = n + 1


# --------------------------------------------------------------------------- Python callers
# In a fresh process every compiled function that Python calls loads its own cache index and
# library; building a structure and fetching its arrays for Python in the same call saves one.


def seed_fields(proxy, arrays):
    """Give a structure's Python proxy its arrays (returned by the call that built it), so that
    reading its fields from Python needs no compiled call of its own. Returns the proxy."""
    proxy.__dict__["_arrays"] = arrays
    return proxy


@numba.njit(cache=True)
def new_tracker_fields(dt, q, gamma, gamma_init, vmax, conf_m, conf_n, use_imm, use_jpda, jpda_max_events,
                       omega, p_switch, K, NZ):
    """:func:`new_tracker` and the track table's arrays (for :func:`seed_fields`), in one call."""
    cfg, tb, wk, pairs = new_tracker(dt, q, gamma, gamma_init, vmax, conf_m, conf_n, use_imm, use_jpda,
                                     jpda_max_events, omega, p_switch, K, NZ)
    return cfg, tb, wk, pairs, _table_arrays(tb)


@numba.njit(cache=True)
def new_tables_fields(K, NZ, nmod, use_imm):
    """An empty track table of K slots, work arrays and pair storage for scans of at most NZ
    measurements, and the arrays of the table and of the work arrays (for :func:`seed_fields`),
    in one call."""
    tb = track_table(K, nmod, use_imm)
    wk = scan_work(K, NZ, nmod)
    return tb, wk, scan_pairs(NZ), _table_arrays(tb), _work_arrays(wk)
