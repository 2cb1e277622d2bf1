"""Gating and global-nearest-neighbour (GNN) association.

Gating (Bar-Shalom & Fortmann 1988, validation region; Blackman & Popoli 1999): a
measurement ``j`` may be assigned to track ``t`` when the squared Mahalanobis distance of its
innovation, ``d2 = nu' S^-1 nu`` with ``S = H P_t H' + R_j``, is below the chi-square gate
``gamma``. :func:`gate_pairs` finds all gated pairs without forming the ``T x k`` matrix: the
measurements are sorted by their first coordinate and each track only looks at those within
the projection of its gate ellipsoid on that axis, ``|nu_0| <= sqrt(gamma S_00)`` (an exact
bound), so the cost is ``O((T + k) log k)`` plus the gated candidates for spread targets.

GNN (Blackman & Popoli 1999: global nearest neighbour as a 2-D assignment with
non-assignment costs): minimise the summed ``d2`` of the assigned pairs plus ``gamma`` for
each track left unassigned, each measurement going to at most one track. Written as the
rectangular assignment problem ``[T, k + T]`` (one private "no measurement" column per track
with cost ``gamma``, infinite cost outside the gate), it is solved by
``scipy.optimize.linear_sum_assignment`` (Crouse 2016, shortest augmenting path). Before
calling it, :func:`gnn_assign` removes the isolated pairs (a track whose only gated
measurement has no other gated track: assigning them is optimal) and solves the rest, the
contested tracks, as one smaller problem: the solution is the same as that of the full
problem, since the full problem is block-diagonal over the connected components of the
gating graph.

References
----------
- Blackman, S. & Popoli, R. (1999). *Design and Analysis of Modern Tracking Systems*.
  Artech House. ISBN 1-58053-006-0. Gating and GNN assignment.
- Bar-Shalom, Y. & Fortmann, T. E. (1988). *Tracking and Data Association*. Academic Press.
- Crouse, D. F. (2016). On implementing 2D rectangular assignment algorithms. *IEEE Trans.
  Aerosp. Electron. Syst.* 52(4), 1679-1696. doi:10.1109/TAES.2016.140952
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["gate_pairs", "gnn_assign", "gnn_cost_matrix"]


@numba.njit(cache=True)
def _lower_bound(a, v):  # pragma: no cover - numba
    lo, hi = 0, a.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


@numba.njit(cache=True)
def _upper_bound(a, v):  # pragma: no cover - numba
    lo, hi = 0, a.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] <= v:
            lo = mid + 1
        else:
            hi = mid
    return lo


@numba.njit(cache=True)
def _gate_kernel(zp, Ppp, z, R, gamma):  # pragma: no cover - numba
    """All (t, j) with d2 < gamma: rows, cols, d2, ln|S|. zp [T, d], Ppp [T, d, d], z [k, d]."""
    T = zp.shape[0]
    k, d = z.shape
    order = np.argsort(z[:, 0])
    z0 = np.empty(k)
    r00 = 0.0
    for s in range(k):
        z0[s] = z[order[s], 0]
        if R[s, 0, 0] > r00:
            r00 = R[s, 0, 0]
    cap = 4 * (T + k) + 16
    rows = np.empty(cap, np.int64)
    cols = np.empty(cap, np.int64)
    d2s = np.empty(cap)
    lds = np.empty(cap)
    n = 0
    L = np.empty((d, d))
    nu = np.empty(d)
    y = np.empty(d)
    for t in range(T):
        half = np.sqrt(gamma * (Ppp[t, 0, 0] + r00))
        lo = _lower_bound(z0, zp[t, 0] - half)
        hi = _upper_bound(z0, zp[t, 0] + half)
        for s in range(lo, hi):
            j = order[s]
            # Cholesky of S = Ppp[t] + R[j], then d2 = |L^-1 nu|^2 and ln|S| = 2 sum ln L_ii
            ok = True
            for a in range(d):
                for b in range(a + 1):
                    acc = Ppp[t, a, b] + R[j, a, b]
                    for c in range(b):
                        acc -= L[a, c] * L[b, c]
                    if a == b:
                        if acc <= 0.0:
                            ok = False
                            break
                        L[a, a] = np.sqrt(acc)
                    else:
                        L[a, b] = acc / L[b, b]
                if not ok:
                    break
            if not ok:
                continue
            for a in range(d):
                nu[a] = z[j, a] - zp[t, a]
            d2 = 0.0
            ld = 0.0
            for a in range(d):
                acc = nu[a]
                for c in range(a):
                    acc -= L[a, c] * y[c]
                y[a] = acc / L[a, a]
                d2 += y[a] * y[a]
                ld += 2.0 * np.log(L[a, a])
            if d2 < gamma:
                if n == cap:
                    cap *= 2
                    rows2 = np.empty(cap, np.int64)
                    cols2 = np.empty(cap, np.int64)
                    d2s2 = np.empty(cap)
                    lds2 = np.empty(cap)
                    rows2[:n] = rows[:n]
                    cols2[:n] = cols[:n]
                    d2s2[:n] = d2s[:n]
                    lds2[:n] = lds[:n]
                    rows, cols, d2s, lds = rows2, cols2, d2s2, lds2
                rows[n] = t
                cols[n] = j
                d2s[n] = d2
                lds[n] = ld
                n += 1
    return rows[:n], cols[:n], d2s[:n], lds[:n]


def gate_pairs(z_pred: np.ndarray, S_pred: np.ndarray, z: np.ndarray, R: np.ndarray,
               gamma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All track-measurement pairs inside the chi-square gate.

    Parameters
    ----------
    z_pred : predicted measurements ``H x`` of the tracks ``[T, d]`` [m]; a positions-first
        state ``[T, n]`` may be passed as is (only the first ``d`` columns are read).
    S_pred : their covariances ``H P H^T`` ``[T, d, d]`` [m^2] (without ``R``); or the state
        covariance ``[T, n, n]`` (only the leading ``d x d`` block is read).
    z : measurements ``[k, d]`` [m].
    R : measurement noise ``[k, d, d]`` [m^2].
    gamma : chi-square gate [1], > 0.

    Returns ``(rows, cols, d2, logdet)``: track index, measurement index, squared Mahalanobis
    distance ``nu^T S^-1 nu`` [1] and ``ln |S|`` [ln m^(2d)] of each gated pair, ordered by track.
    """
    if z_pred.shape[0] == 0 or z.shape[0] == 0:
        e = np.empty(0, np.int64)
        return e, e.copy(), np.empty(0), np.empty(0)
    c = np.ascontiguousarray
    return _gate_kernel(c(z_pred, dtype=float), c(S_pred, dtype=float), c(z, dtype=float),
                        c(R, dtype=float), float(gamma))


@numba.njit(cache=True)
def _isolated(rows, cols, n_rows, n_cols):  # pragma: no cover - numba
    """Split gated pairs: isolated (row and column each in exactly one pair) vs contested."""
    rc = np.zeros(n_rows, np.int64)
    cc = np.zeros(n_cols, np.int64)
    for p in range(rows.shape[0]):
        rc[rows[p]] += 1
        cc[cols[p]] += 1
    iso = np.empty(rows.shape[0], np.bool_)
    for p in range(rows.shape[0]):
        iso[p] = rc[rows[p]] == 1 and cc[cols[p]] == 1
    return iso


def gnn_cost_matrix(n_tracks: int, n_meas: int, rows: np.ndarray, cols: np.ndarray,
                    d2: np.ndarray, gamma: float) -> np.ndarray:
    """The full GNN cost matrix ``[T, k + T]`` of the gated pairs (Blackman & Popoli 1999).

    Entry ``[t, j]`` is ``d2`` inside the gate and ``inf`` outside; column ``k + t`` is track
    ``t``'s "no measurement" option with cost ``gamma`` (``inf`` for the other tracks).
    ``linear_sum_assignment`` on it gives the same assignment as :func:`gnn_assign` (up to
    ties); the benchmark times it as the reference cost of the assignment.
    """
    C = np.full((n_tracks, n_meas + n_tracks), np.inf)
    C[rows, cols] = d2
    C[np.arange(n_tracks), n_meas + np.arange(n_tracks)] = gamma
    return C


def gnn_assign(n_tracks: int, n_meas: int, rows: np.ndarray, cols: np.ndarray, d2: np.ndarray,
               gamma: float) -> np.ndarray:
    """Global-nearest-neighbour assignment of gated pairs (Blackman & Popoli 1999).

    Parameters
    ----------
    n_tracks, n_meas : numbers of tracks and measurements.
    rows, cols, d2 : the gated pairs (track, measurement, squared Mahalanobis distance [1]).
    gamma : the gate, also the cost of leaving a track unassigned [1].

    Returns the indices of the chosen pairs (into ``rows``, ``cols``, ``d2``): each track and
    each measurement at most once, minimising ``sum d2 + gamma * (unassigned tracks)``.
    """
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    cols = np.ascontiguousarray(cols, dtype=np.int64)
    npairs = rows.shape[0]
    if npairs == 0:
        return np.empty(0, np.int64)
    iso = _isolated(rows, cols, int(n_tracks), int(n_meas))
    if iso.all():
        return np.arange(npairs)
    con = np.flatnonzero(~iso)
    rc, cc = rows[con], cols[con]
    ur, ir = np.unique(rc, return_inverse=True)
    uc, ic = np.unique(cc, return_inverse=True)
    a, b = ur.shape[0], uc.shape[0]
    C = np.full((a, b + a), np.inf)
    C[ir, ic] = d2[con]
    C[np.arange(a), b + np.arange(a)] = gamma
    pair = np.empty((a, b), np.int64)
    pair[ir, ic] = con
    from scipy.optimize import linear_sum_assignment  # SciPy is imported where needed

    ri, ci = linear_sum_assignment(C)
    hit = ci < b
    return np.concatenate([np.flatnonzero(iso), pair[ri[hit], ci[hit]]])
