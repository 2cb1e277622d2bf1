"""Threat evaluation: how urgent a threat is, from its kinematic state, the defended assets and values.

For each defended asset a (centre ``a``, radius ``r_a`` [m], value ``w_a``) the threat's
straight-line motion (horizontal position ``p``, velocity ``v``) gives its closest point of
approach (CPA) to the asset::

    t_cpa = max(0, -(p - a) . v / |v|^2)        time to the CPA [s] (0 when it is moving away)
    d_cpa = |p - a + v t_cpa|                   distance at the CPA [m]

its time to go (the speed ``|v|`` floored at 1 m/s)::

    ttg = max(t_cpa - sqrt(r_a^2 - d_cpa^2) / |v|, 0)     if the path enters the footprint
    ttg = (|p - a| - r_a) / |v|                            otherwise (were it to turn now)

and its urgency against that asset (value ``V`` of the threat's type)::

    u_a = V w_a c / max(ttg, dt),   c = 1 / (1 + (max(d_cpa - r_a, 0) / s)^2)     [1/s]

A threat whose predicted path crosses the asset's footprint counts fully; one passing wide of it
counts less with its miss distance, half at ``s`` (``simulation.cpa_scale_m``) outside the
footprint; the less time to go, the more urgent. The threat's urgency is the largest ``u_a``
over the assets. These are the threat-evaluation parameters of the literature: closest point of
approach, time to it and to the asset, and the values of threat and asset (Roux & van Vuuren,
"Threat evaluation and weapon assignment decision support: a review of the state of the art",
ORiON 23(2), 2007, 151-187).

The same compiled functions rank the true states in the fast fidelity (:func:`urgency_grid`, for
every time step and threat) and the tracks' estimated states in the full fidelity
(:func:`urgency`, called from the kernel).
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["closest_approach", "urgency", "urgency_grid", "evaluate"]


@numba.njit(cache=True)
def closest_approach(px, py, vx, vy, ax, ay):
    """Distance [m] and time [s] of the closest point of approach of a point at (px, py) moving
    at (vx, vy) [m/s] to the point (ax, ay); the time is 0 when it is moving away."""
    dx = px - ax
    dy = py - ay
    vv = vx * vx + vy * vy
    t = 0.0
    if vv > 0.0:
        t = -(dx * vx + dy * vy) / vv
        if t < 0.0:
            t = 0.0
    return math.hypot(dx + vx * t, dy + vy * t), t


@numba.njit(cache=True)
def urgency(px, py, vx, vy, value, assets, scale, dt):
    """Urgency [1/s] of a threat of the given value at (px, py) moving at (vx, vy) [m/s], against
    the most threatened asset of ``assets`` [A, 4] (x, y, radius [m], value); returns (urgency,
    asset index, distance at the CPA [m], time to the CPA [s]). No assets: (0, -1, inf, inf)."""
    best = 0.0
    best_a = -1
    best_d = np.inf
    best_t = np.inf
    spd = math.sqrt(vx * vx + vy * vy)
    if spd < 1.0:
        spd = 1.0
    for a in range(assets.shape[0]):
        r = assets[a, 2]
        d, t = closest_approach(px, py, vx, vy, assets[a, 0], assets[a, 1])
        if d <= r:
            ttg = t - math.sqrt(r * r - d * d) / spd
            if ttg < 0.0:
                ttg = 0.0
            c = 1.0
        else:
            ttg = (math.hypot(px - assets[a, 0], py - assets[a, 1]) - r) / spd
            if ttg < 0.0:
                ttg = 0.0
            miss = (d - r) / scale
            c = 1.0 / (1.0 + miss * miss)
        u = value * assets[a, 3] * c / max(ttg, dt)
        if u > best or best_a < 0:
            best = u
            best_a = a
            best_d = d
            best_t = t
    return best, best_a, best_d, best_t


@numba.njit(cache=True)
def urgency_grid(pos, vel, values, assets, scale, dt, out_u, out_a, out_d, out_t):
    """:func:`urgency` of every threat m at every step t from pos, vel [T, M, 3] (NaN: not flying,
    urgency 0) and values [M], into out_* [T, M]."""
    T, M = pos.shape[0], pos.shape[1]
    for t in range(T):
        for m in range(M):
            if not (math.isfinite(pos[t, m, 0]) and math.isfinite(vel[t, m, 0])):
                out_u[t, m] = 0.0
                out_a[t, m] = -1
                out_d[t, m] = np.inf
                out_t[t, m] = np.inf
                continue
            u, a, d, tc = urgency(pos[t, m, 0], pos[t, m, 1], vel[t, m, 0], vel[t, m, 1], values[m],
                                  assets, scale, dt)
            out_u[t, m] = u
            out_a[t, m] = a
            out_d[t, m] = d
            out_t[t, m] = tc


def evaluate(pos: np.ndarray, vel: np.ndarray, values: np.ndarray, assets: np.ndarray, scale: float,
             dt: float) -> dict[str, np.ndarray]:
    """Threat evaluation of every threat at every step: arrays [T, M] ``urgency`` [1/s],
    ``asset`` (index of the most threatened asset, -1 none), ``cpa_m`` and ``time_to_cpa_s``."""
    if not scale > 0:
        raise ValueError(f"cpa scale must be > 0 [m], got {scale!r}")
    T, M = pos.shape[:2]
    out = {"urgency": np.zeros((T, M)), "asset": np.full((T, M), -1, np.int64),
           "cpa_m": np.full((T, M), np.inf), "time_to_cpa_s": np.full((T, M), np.inf)}
    urgency_grid(np.ascontiguousarray(pos, dtype=np.float64), np.ascontiguousarray(vel, dtype=np.float64),
                 np.ascontiguousarray(values, dtype=np.float64),
                 np.ascontiguousarray(assets, dtype=np.float64).reshape(-1, 4), float(scale), float(dt),
                 out["urgency"], out["asset"], out["cpa_m"], out["time_to_cpa_s"])
    return out
