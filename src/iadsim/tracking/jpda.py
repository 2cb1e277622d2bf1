"""Joint probabilistic data association (JPDA): association probabilities and the combined update.

The association probability of measurement ``j`` to track ``t`` is the sum of the
probabilities of the feasible joint events (each measurement to at most one track, each
track at most one measurement) in which ``t`` takes ``j`` (Fortmann, Bar-Shalom & Scheffe
1983; Bar-Shalom & Fortmann 1988). In the parametric form with a Poisson clutter of spatial
density ``lambda`` [1/m^d], an event's weight is::

    prod_{(t, j) assigned} P_D N(nu_tj; 0, S_tj) / lambda  *  prod_{t missed} (1 - P_D P_G)

:func:`jpda_weights` splits the gating graph into clusters (connected components) and
enumerates each cluster's events exactly (depth-first, in numba). A cluster with more events
than ``max_events`` falls back to Fitzgerald's "cheap JPDA" approximation.

The track core (:func:`iadsim.tracking.core.pda_update`) then replaces each track's Gaussian
mixture (the prediction with weight ``beta_0`` and one Kalman update per gated measurement with
weight ``beta_j``) by the Gaussian of the same mean and covariance. With a common ``R`` this is
exactly the PDA update ``x + W sum_j beta_j nu_j``, ``P = beta_0 P^- + (1 - beta_0) P^c + W (sum
beta_j nu_j nu_j' - nu nu') W'`` of Bar-Shalom & Tse (1975); the moment-matching form also
covers measurements with different ``R`` (several radars in one scan).

References
----------
- Fortmann, T. E., Bar-Shalom, Y. & Scheffe, M. (1983). Sonar tracking of multiple targets
  using joint probabilistic data association. *IEEE J. Oceanic Eng.* OE-8(3), 173-184.
  doi:10.1109/JOE.1983.1145560
- Bar-Shalom, Y. & Fortmann, T. E. (1988). *Tracking and Data Association*. Academic Press.
- Bar-Shalom, Y. & Tse, E. (1975). Tracking in a cluttered environment with probabilistic
  data association. *Automatica* 11(5), 451-460. doi:10.1016/0005-1098(75)90021-7
- Fitzgerald, R. J. (1990). Development of practical PDA logic for multitarget tracking by
  microprocessor. In Bar-Shalom, Y. (ed.), *Multitarget-Multisensor Tracking: Advanced
  Applications*, Artech House, 1-23.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["jpda_weights"]


@numba.njit(cache=True)
def _find(parent, a):  # pragma: no cover - numba
    while parent[a] != a:
        parent[a] = parent[parent[a]]
        a = parent[a]
    return a


@numba.njit(cache=True)
def _jpda_kernel(n_tracks, n_meas, rows, cols, lr, miss_w, max_events):  # pragma: no cover
    npairs = rows.shape[0]
    beta = np.zeros(npairs)
    beta0 = np.ones(n_tracks)
    if npairs == 0:
        return beta, beta0, 0
    # clusters: union-find over tracks (0..T-1) and measurements (T..T+k-1)
    parent = np.arange(n_tracks + n_meas)
    for p in range(npairs):
        a = _find(parent, rows[p])
        b = _find(parent, n_tracks + cols[p])
        if a != b:
            parent[a] = b
    # pairs grouped by track
    order = np.argsort(rows, kind="mergesort")
    cnt = np.zeros(n_tracks, np.int64)
    for p in range(npairs):
        cnt[rows[p]] += 1
    start = np.zeros(n_tracks + 1, np.int64)
    for t in range(n_tracks):
        start[t + 1] = start[t] + cnt[t]
    # tracks with pairs, grouped by cluster root
    trk = np.empty(n_tracks, np.int64)
    root = np.empty(n_tracks, np.int64)
    m = 0
    for t in range(n_tracks):
        if cnt[t] > 0:
            trk[m] = t
            root[m] = _find(parent, t)
            m += 1
    trk = trk[:m]
    root = root[:m]
    by = np.argsort(root, kind="mergesort")
    used = np.zeros(n_meas, np.bool_)
    n_cheap = 0
    i0 = 0
    while i0 < m:
        i1 = i0
        while i1 < m and root[by[i1]] == root[by[i0]]:
            i1 += 1
        nt = i1 - i0
        ct = np.empty(nt, np.int64)
        events = 1.0
        for a in range(nt):
            ct[a] = trk[by[i0 + a]]
            events *= cnt[ct[a]] + 1.0
        b0 = np.zeros(nt)
        if events <= max_events:
            # exact enumeration: cur[a] = 0 miss, c >= 1 the c-th gated pair of track ct[a]
            cur = np.full(nt, -1, np.int64)
            wst = np.empty(nt + 1)
            wst[0] = 1.0
            total = 0.0
            lvl = 0
            while lvl >= 0:
                t = ct[lvl]
                if cur[lvl] >= 1:
                    used[cols[order[start[t] + cur[lvl] - 1]]] = False
                cur[lvl] += 1
                while 1 <= cur[lvl] <= cnt[t] and used[cols[order[start[t] + cur[lvl] - 1]]]:
                    cur[lvl] += 1
                if cur[lvl] > cnt[t]:
                    cur[lvl] = -1
                    lvl -= 1
                    continue
                if cur[lvl] == 0:
                    w = wst[lvl] * miss_w
                else:
                    p = order[start[t] + cur[lvl] - 1]
                    w = wst[lvl] * lr[p]
                    used[cols[p]] = True
                if lvl == nt - 1:
                    total += w
                    for a in range(nt):
                        if cur[a] == 0:
                            b0[a] += w
                        else:
                            beta[order[start[ct[a]] + cur[a] - 1]] += w
                else:
                    wst[lvl + 1] = w
                    lvl += 1
            for a in range(nt):
                t = ct[a]
                beta0[t] = b0[a] / total
                for c in range(cnt[t]):
                    beta[order[start[t] + c]] /= total
        else:
            # cheap JPDA (Fitzgerald 1990): beta_tj = G_tj / (S_t + T_j - G_tj + B), B = miss weight
            n_cheap += 1
            colsum = np.zeros(n_meas)
            for a in range(nt):
                t = ct[a]
                for c in range(cnt[t]):
                    p = order[start[t] + c]
                    colsum[cols[p]] += lr[p]
            for a in range(nt):
                t = ct[a]
                rs = 0.0
                for c in range(cnt[t]):
                    rs += lr[order[start[t] + c]]
                s = 0.0
                for c in range(cnt[t]):
                    p = order[start[t] + c]
                    beta[p] = lr[p] / (rs + colsum[cols[p]] - lr[p] + miss_w)
                    s += beta[p]
                beta0[t] = 1.0 - s
        i0 = i1
    return beta, beta0, n_cheap


def jpda_weights(n_tracks: int, n_meas: int, rows: np.ndarray, cols: np.ndarray,
                 likelihood_ratio: np.ndarray, miss_weight: float,
                 max_events: float = 1e5) -> tuple[np.ndarray, np.ndarray]:
    """JPDA marginal association probabilities of the gated pairs.

    Parameters
    ----------
    n_tracks, n_meas : numbers of tracks and measurements.
    rows, cols : the gated pairs (track index, measurement index).
    likelihood_ratio : ``P_D N(nu; 0, S) / lambda`` of each pair [1].
    miss_weight : ``1 - P_D P_G`` [1].
    max_events : clusters with more joint events use the cheap-JPDA approximation.

    Returns ``(beta, beta0)``: the probability of each pair [1] and of "no measurement" for
    each track [1]; for every track ``beta0[t] + sum(beta[rows == t]) = 1``.
    """
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    cols = np.ascontiguousarray(cols, dtype=np.int64)
    lr = np.ascontiguousarray(likelihood_ratio, dtype=float)
    beta, beta0, _ = _jpda_kernel(int(n_tracks), int(n_meas), rows, cols, lr, float(miss_weight),
                                  float(max_events))
    return beta, beta0
