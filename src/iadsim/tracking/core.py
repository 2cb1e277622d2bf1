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

import numba
import numpy as np

TRK_FREE = 0
TRK_TENTATIVE = 1
TRK_CONFIRMED = 2

#: a cost that stands for "outside every gate"
_BIG = 1e12


@numba.njit(cache=True)
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


@numba.njit(cache=True)
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


@numba.njit(cache=True)
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


@numba.njit(cache=True)
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


@numba.njit(cache=True)
def _symmetrise(P, k):
    """Replace covariance k by (P + P^T) / 2, against rounding drift."""
    for i in range(6):
        for j in range(i + 1, 6):
            v = 0.5 * (P[k, i, j] + P[k, j, i])
            P[k, i, j] = v
            P[k, j, i] = v


@numba.njit(cache=True)
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


@numba.njit(cache=True)
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


@numba.njit(cache=True)
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


@numba.njit(cache=True)
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


@numba.njit(cache=True)
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


@numba.njit(cache=True)
def _det3(S):
    return (S[0, 0] * (S[1, 1] * S[2, 2] - S[1, 2] * S[2, 1])
            - S[0, 1] * (S[1, 0] * S[2, 2] - S[1, 2] * S[2, 0])
            + S[0, 2] * (S[1, 0] * S[2, 1] - S[1, 1] * S[2, 0]))


@numba.njit(cache=True)
def _gauss(X, P, k, z, R, S, Si):
    """Gaussian density N(z; H x_k, H P_k H^T + R) of a position measurement [1/m^3]."""
    d2 = _mahalanobis(X, P, k, z, R, S, Si)
    det = _det3(S)
    if d2 >= _BIG or not det > 0.0:
        return 0.0
    return math.exp(-0.5 * d2) / math.sqrt(248.05021344239853 * det)   # (2 pi)^3 = 248.05...


@numba.njit(cache=True)
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


@numba.njit(cache=True)
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


@numba.njit(cache=True)
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


@numba.njit(cache=True)
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

