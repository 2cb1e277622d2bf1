"""Point-mass missile flyout: boost, sustain and coast along the line of sight, with drag and gravity.

Model (``model="iadsim-clos-pointmass"``)
-----------------------------------------
The interceptor flies a straight line from the launcher to the intercept point, the path a
command-to-line-of-sight (CLOS) missile flies to a fixed point and the first-order description of
any guided flyout (Zarchan 2012, ch. 1; Fleeman 2006, ch. 6 "flight performance"). Along that line
of elevation ``gamma`` the speed obeys the point-mass equation

``dv/dt = T(t)/m(t) - 0.5 rho(h) v^2 (Cd A)/m(t) - g sin(gamma)``,  ``ds/dt = v``,

with ``h = h_site + s sin(gamma)``. The guidance holds the missile on the line (its lateral force
cancels ``g cos(gamma)``; the induced drag of that lift is left out). Thrust comes from burning
propellant at a constant rate with specific impulse ``Isp``: a boost phase burns the fraction
``f_b`` of the launch mass in ``t_b``, a sustain phase the fraction ``f_s`` in ``t_s``, then the
missile coasts. Thrust per unit launch mass is ``Isp g0 f / t_burn``, so with neither drag nor
gravity the speed at burn-out is the rocket equation's ``Isp g0 ln(m0 / m1)`` (Tsiolkovsky 1903;
Sutton & Biblarz, "Rocket Propulsion Elements", 8th ed., Wiley 2010, eq. 4-6). Drag uses a
constant ballistic parameter ``Cd A / m0`` [m^2/kg] (Cd independent of Mach: the transonic drag
rise is left out) and the ISA/US Standard Atmosphere 1976 density. The equations are integrated
with the classical fourth-order Runge-Kutta method, each burn phase in whole steps.

A point is *reachable* when the missile gets there within the guidance time limit with at least
the minimum useful speed (below it the missile can no longer manoeuvre onto the target).

All functions are vectorised over many intercept points (numpy); the engine reads precomputed
tables (:func:`envelope_table`) through :func:`table_lookup`.

References
----------
- Zarchan, P. (2012). *Tactical and Strategic Missile Guidance*, 6th ed., AIAA.
- Fleeman, E. L. (2006). *Tactical Missile Design*, 2nd ed., AIAA Education Series.
- Sutton, G. P. & Biblarz, O. (2010). *Rocket Propulsion Elements*, 8th ed., Wiley.
- NOAA/NASA/USAF (1976). *U.S. Standard Atmosphere, 1976*, NOAA-S/T 76-1562 (identical to the
  ICAO/ISO 2533 standard atmosphere below 32 km).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
from numpy.typing import ArrayLike

__all__ = ["G0", "RHO0", "Interceptor", "FlyoutResult", "EnvelopeTable", "isa_density",
           "flyout", "envelope_table", "constant_speed_table", "table_lookup", "table_lookup_nb",
           "vertical_reach_m"]

#: standard gravity [m/s^2] (US Standard Atmosphere 1976)
G0 = 9.80665
#: ISA sea-level density [kg/m^3] (US Standard Atmosphere 1976; ISO 2533:1975)
RHO0 = 1.225
#: a time of flight standing for "never gets there" [s]
UNREACHED_S = 1.0e6


def isa_density(h_m: ArrayLike) -> np.ndarray:
    """Air density of the US Standard Atmosphere 1976 / ISA [kg/m^3] at geometric altitude h [m MSL].

    Troposphere (h < 11 km): ``rho = rho0 (1 - h/44,329 m)^4.255876``; lower stratosphere, isothermal
    and so exponential: ``rho = 0.297076 rho0 exp((10,999 m - h)/6,341.4 m)``, used above 11 km
    (U.S. Standard Atmosphere 1976, layers 1-2, closed forms with T0 = 288.15 K, lapse 6.5 K/km, in
    geopotential altitude H = r0 h / (r0 + h), r0 = 6,356,766 m).
    The exponential form is continued above 20 km (slightly under-estimating density there).
    Below sea level the troposphere formula is continued."""
    z = np.asarray(h_m, dtype=float)
    h = 6356766.0 * z / (6356766.0 + z)     # geopotential altitude (the standard's formulas use it)
    tropo = RHO0 * np.power(np.maximum(1.0 - h / 44329.0, 1e-9), 4.255876)
    strato = RHO0 * 0.297076 * np.exp((10999.0 - h) / 6341.4)
    out = np.where(h < 11000.0, tropo, strato)
    return out[()] if out.ndim == 0 else out


@dataclass(frozen=True)
class Interceptor:
    """Flyout parameters of one interceptor (catalog figures ``flyout_*``).

    isp_s: specific impulse [s]; boost_time_s / sustain_time_s: burn times [s];
    boost_fraction / sustain_fraction: propellant burnt in each phase as a fraction of launch mass [1];
    ballistic_m2_kg: drag coefficient x reference area / launch mass [m^2/kg];
    min_speed_m_s: lowest speed at intercept at which the missile can still manoeuvre [m/s];
    max_time_s: guidance time limit [s]."""

    isp_s: float
    boost_time_s: float
    boost_fraction: float
    sustain_time_s: float
    sustain_fraction: float
    ballistic_m2_kg: float
    min_speed_m_s: float
    max_time_s: float

    def __post_init__(self):
        if not (0 <= self.boost_fraction and 0 <= self.sustain_fraction
                and self.boost_fraction + self.sustain_fraction < 1):
            raise ValueError("propellant fractions must be >= 0 and sum to less than 1, got "
                             f"{self.boost_fraction} + {self.sustain_fraction}")
        if self.boost_time_s <= 0 or self.sustain_time_s < 0 or self.isp_s <= 0 or self.max_time_s <= 0:
            raise ValueError("burn times, isp and max time must be positive")

    @property
    def delta_v_vacuum_m_s(self) -> float:
        """Ideal speed gain of both burns, no drag, no gravity [m/s] (Tsiolkovsky; Sutton & Biblarz
        2010 eq. 4-6): ``Isp g0 ln(1 / (1 - f_b - f_s))``."""
        return self.isp_s * G0 * math.log(1.0 / (1.0 - self.boost_fraction - self.sustain_fraction))


@dataclass
class FlyoutResult:
    """Per intercept point: time of flight [s] (inf where never reached), speed there [m/s]
    (0 where never reached), and whether the point is reachable (within the guidance time, at
    least the minimum useful speed)."""

    tof_s: np.ndarray
    speed_m_s: np.ndarray
    reachable: np.ndarray


def _phases(ic: Interceptor, t_end: float, dt: float):
    """(duration, thrust per launch mass [m/s^2 x launch mass], mass flow per launch mass [1/s])."""
    out = []
    t = 0.0
    for dur, frac in ((ic.boost_time_s, ic.boost_fraction), (ic.sustain_time_s, ic.sustain_fraction)):
        if dur > 0 and t < t_end:
            d = min(dur, t_end - t)
            rate = frac / dur
            out.append((d, ic.isp_s * G0 * rate, rate))
            t += d
    if t < t_end:
        out.append((t_end - t, 0.0, 0.0))
    return [(d, f, r, max(int(math.ceil(d / dt - 1e-9)), 1)) for d, f, r in out]


def _integrate(ic: Interceptor, n: int, acc, t_end: float, dt: float, v_floor: float | None = None):
    """RK4 on (s, v) of ``n`` paths with time-dependent mass, over the motor's phases
    (:func:`_phases`); ``acc(s, v, thrust, mass)`` is the acceleration along the path [m/s^2];
    ``v_floor`` (if given) bounds the speed from below. Yields (t, s, v) at the start and after
    each step, arrays [n]. A fixed step keeps every path on one time grid (the flyout tables are
    read by time), which an adaptive solver would not."""
    s = np.zeros(n)
    v = np.zeros(n)
    mu = 1.0          # mass / launch mass
    t = 0.0
    yield t, s, v
    for dur, thrust, rate, nstep in _phases(ic, t_end, dt):
        h = dur / nstep
        for _ in range(nstep):
            m1 = mu
            m2 = mu - rate * h / 2
            m3 = mu - rate * h
            k1s, k1v = v, acc(s, v, thrust, m1)
            k2s, k2v = v + h / 2 * k1v, acc(s + h / 2 * k1s, v + h / 2 * k1v, thrust, m2)
            k3s, k3v = v + h / 2 * k2v, acc(s + h / 2 * k2s, v + h / 2 * k2v, thrust, m2)
            k4s, k4v = v + h * k3v, acc(s + h * k3s, v + h * k3v, thrust, m3)
            s = s + h / 6 * (k1s + 2 * k2s + 2 * k3s + k4s)
            v = v + h / 6 * (k1v + 2 * k2v + 2 * k3v + k4v)
            if v_floor is not None:
                v = np.maximum(v, v_floor)
            mu = m3
            t += h
            yield t, s, v


def _rays(ic: Interceptor, sin_g: np.ndarray, site_alt_m, t_end: float, dt: float,
          drag: bool = True, gravity: bool = True):
    """Integrate the speed along rays of elevation sines ``sin_g`` [N]; yields (t, s, v) after each
    step, arrays [N] (:func:`_integrate`)."""
    n = sin_g.shape[0]
    gs = G0 * sin_g if gravity else np.zeros(n)
    beta = ic.ballistic_m2_kg if drag else 0.0
    alt0 = np.asarray(site_alt_m, dtype=float)

    def acc(s_, v_, thrust, mu_):
        a = thrust / mu_ - gs
        if beta > 0:
            a = a - 0.5 * isa_density(alt0 + s_ * sin_g) * v_ * v_ * beta / mu_
        return a

    yield from _integrate(ic, n, acc, t_end, dt)


def flyout(ic: Interceptor, ground_range_m: ArrayLike, height_m: ArrayLike, site_alt_m: float = 0.0,
           dt_s: float = 0.05, drag: bool = True, gravity: bool = True,
           t_end_s: float | None = None) -> FlyoutResult:
    """Time of flight and end speed of the interceptor to intercept points.

    Parameters
    ----------
    ic : the interceptor's flyout parameters
    ground_range_m : ground range from the launcher to each intercept point [m]
    height_m : height of each point above the launcher [m]
    site_alt_m : launcher altitude [m MSL] (sets the air density along the path)
    dt_s : integration step [s]
    drag, gravity : switch the terms off (for checks against closed forms)
    t_end_s : integrate up to this time [s] (default: the guidance time limit)

    Returns
    -------
    :class:`FlyoutResult` broadcast over the point arrays. Crossing times within a step are
    linearly interpolated. A missile whose speed falls to 0 never arrives."""
    gr, hh = np.broadcast_arrays(np.asarray(ground_range_m, float), np.asarray(height_m, float))
    shape = gr.shape
    gr = gr.ravel()
    hh = hh.ravel()
    R = np.hypot(gr, hh)
    sin_g = np.where(R > 0, hh / np.where(R > 0, R, 1.0), 0.0)
    tof = np.full(R.shape, np.inf)
    spd = np.zeros(R.shape)
    done = R <= 0
    tof[done] = 0.0
    t_prev = 0.0
    s_prev = np.zeros_like(R)
    v_prev = np.zeros_like(R)
    t_end = ic.max_time_s if t_end_s is None else t_end_s
    for t, s, v in _rays(ic, sin_g, site_alt_m, t_end, dt_s, drag, gravity):
        if t == 0.0:
            continue
        cross = ~done & (s >= R)
        if cross.any():
            ds = s[cross] - s_prev[cross]
            frac = np.where(ds > 0, (R[cross] - s_prev[cross]) / np.where(ds > 0, ds, 1.0), 1.0)
            tof[cross] = t_prev + frac * (t - t_prev)
            spd[cross] = v_prev[cross] + frac * (v[cross] - v_prev[cross])
            done |= cross
        done |= (v <= 0) & (t > ic.boost_time_s)
        if done.all():
            break
        t_prev, s_prev, v_prev = t, s, v
    ok = np.isfinite(tof) & (tof <= ic.max_time_s + 1e-9) & (spd >= ic.min_speed_m_s)
    return FlyoutResult(tof.reshape(shape), spd.reshape(shape), ok.reshape(shape))


def vertical_reach_m(ic: Interceptor, range_cap_m: float, site_alt_m: float = 0.0) -> float:
    """Highest height above the launcher [m] the interceptor reaches (minimum useful speed, guidance
    time) on rays of elevation 30-90 degrees no longer than ``range_cap_m``: the flyout's altitude
    limit, found by bisection on each ray."""
    best = 0.0
    angles = np.radians([30.0, 45.0, 60.0, 75.0, 90.0])
    lo = np.zeros(angles.size)
    hi = np.full(angles.size, float(range_cap_m))
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        r = flyout(ic, mid * np.cos(angles), mid * np.sin(angles), site_alt_m, dt_s=0.1)
        lo = np.where(r.reachable, mid, lo)
        hi = np.where(r.reachable, hi, mid)
    best = float(np.max(lo * np.sin(angles)))
    return best


@dataclass
class EnvelopeTable:
    """Flyout over a grid of intercept points: ground range ``gr_m`` [NR] x height above the site
    ``h_m`` [NH] (uniform steps from 0) -> time of flight [s] (``UNREACHED_S`` where never
    reached) and speed there [m/s]; ``feasible`` applies the time limit and minimum speed."""

    gr_m: np.ndarray
    h_m: np.ndarray
    tof_s: np.ndarray       # [NR, NH]
    speed_m_s: np.ndarray   # [NR, NH]
    max_time_s: float
    min_speed_m_s: float

    @property
    def feasible(self) -> np.ndarray:
        return (self.tof_s <= self.max_time_s) & (self.speed_m_s >= self.min_speed_m_s)


def envelope_table(ic: Interceptor, range_top_m: float, height_top_m: float, site_alt_m: float = 0.0,
                   nr: int = 161, nh: int = 101, n_rays: int = 181, dt_s: float = 0.1) -> EnvelopeTable:
    """Tabulate the flyout on an [nr x nh] grid up to ``range_top_m`` x ``height_top_m``.

    ``n_rays`` elevation rays from 0 to 90 degrees are integrated once (to 1.5 x the guidance time,
    so the time limit falls inside the table) and each grid node interpolated between its two
    neighbouring rays, linearly in elevation and in path length."""
    gr = np.linspace(0.0, range_top_m, nr)
    hh = np.linspace(0.0, height_top_m, nh)
    G, H = np.meshgrid(gr, hh, indexing="ij")
    R = np.hypot(G, H)
    gam = np.arctan2(H, G)
    angles = np.linspace(0.0, np.pi / 2, n_rays)
    x = gam / (np.pi / 2) * (n_rays - 1)
    tof, spd = _tables_from_rays(_rays(ic, np.sin(angles), site_alt_m, 1.5 * ic.max_time_s, dt_s), R, x)
    return EnvelopeTable(gr, hh, tof, spd, ic.max_time_s, ic.min_speed_m_s)


def _tables_from_rays(rays, length: np.ndarray, x: np.ndarray, unreached: np.ndarray | None = None):
    """Time of flight [s] and speed [m/s] at the nodes of a table from integrated rays: ``rays``
    yields (t, s, v) per step (arrays over the rays, as :func:`_rays`); ``length`` [nr, nh] the
    path length to each node along its ray [m]; ``x`` [nr, nh] each node's fractional ray index
    (interpolated linearly between the two rays beside it); ``unreached`` [nr, nh] nodes no path
    serves. A ray serves path lengths while its speed is positive; UNREACHED_S beyond."""
    traj_s, traj_v, times = [], [], []
    for t, s, v in rays:
        times.append(t)
        traj_s.append(s[None].copy())
        traj_v.append(v[None].copy())
    S = np.concatenate(traj_s)   # [nt, n_rays]
    V = np.concatenate(traj_v)
    T = np.asarray(times)
    n_rays = S.shape[1]
    nr, nh = length.shape
    tof_ray = np.full((n_rays,) + length.shape, UNREACHED_S)
    spd_ray = np.zeros((n_rays,) + length.shape)
    for j in range(n_rays):
        # path length is increasing while the speed is positive
        pos = V[1:, j] > 0
        last = int(np.argmin(pos)) if not pos.all() else len(pos)
        sj = S[: last + 1, j]
        reach = length <= sj[-1]
        tof_ray[j] = np.where(reach, np.interp(length, sj, T[: last + 1]), UNREACHED_S)
        spd_ray[j] = np.where(reach, np.interp(length, sj, V[: last + 1, j]), 0.0)
    j0 = np.clip(np.floor(x).astype(int), 0, n_rays - 2)
    w = x - j0
    ii = np.arange(nr)[:, None]
    kk = np.arange(nh)[None, :]
    t0 = tof_ray[j0, ii, kk]
    t1 = tof_ray[j0 + 1, ii, kk]
    out = (t0 >= UNREACHED_S) | (t1 >= UNREACHED_S)
    if unreached is not None:
        out = out | unreached
    tof = np.where(out, UNREACHED_S, (1 - w) * t0 + w * t1)
    spd = np.where(tof >= UNREACHED_S, 0.0, (1 - w) * spd_ray[j0, ii, kk] + w * spd_ray[j0 + 1, ii, kk])
    return tof, spd


def constant_speed_table(speed_m_s: float, range_top_m: float, height_top_m: float,
                         nr: int = 161, nh: int = 101) -> EnvelopeTable:
    """The table of a projectile at constant mean speed (systems without flyout figures, e.g.
    guns): time of flight = slant range / speed, speed constant, no time or speed limit."""
    gr = np.linspace(0.0, range_top_m, nr)
    hh = np.linspace(0.0, height_top_m, nh)
    R = np.hypot(gr[:, None], hh[None, :])
    return EnvelopeTable(gr, hh, R / speed_m_s, np.full(R.shape, float(speed_m_s)), np.inf, 0.0)


def table_lookup(tof_s: np.ndarray, speed_m_s: np.ndarray, dr: float, dh: float,
                 gr_m: ArrayLike, h_m: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Bilinear look-up of a table's time of flight [s] and end speed [m/s] at ground range gr [m] and
    height above site h [m] (heights below the site read the site's level; points off the table
    give ``UNREACHED_S`` and 0). numpy version of :func:`table_lookup_nb`."""
    gr = np.asarray(gr_m, float)
    h = np.maximum(np.asarray(h_m, float), 0.0)
    nr, nh = tof_s.shape
    x = gr / dr
    y = h / dh
    inside = np.isfinite(x) & np.isfinite(y) & (x <= nr - 1) & (y <= nh - 1) & (x >= 0)
    xs = np.where(inside, x, 0.0)
    ys = np.where(inside, y, 0.0)
    i0 = np.clip(np.floor(xs).astype(np.int64), 0, nr - 2)
    k0 = np.clip(np.floor(ys).astype(np.int64), 0, nh - 2)
    wx = xs - i0
    wy = ys - k0
    out = []
    for tab in (tof_s, speed_m_s):
        v = ((1 - wx) * (1 - wy) * tab[i0, k0] + wx * (1 - wy) * tab[i0 + 1, k0]
             + (1 - wx) * wy * tab[i0, k0 + 1] + wx * wy * tab[i0 + 1, k0 + 1])
        out.append(v)
    tof = np.where(inside, out[0], UNREACHED_S)
    tof = np.where(tof >= 0.5 * UNREACHED_S, UNREACHED_S, tof)
    spd = np.where(tof >= UNREACHED_S, 0.0, out[1])
    return tof, spd


@numba.njit(cache=True)
def table_lookup_nb(tof_s, speed_m_s, dr, dh, gr, h):
    """Scalar compiled twin of :func:`table_lookup`: (time of flight [s], end speed [m/s])."""
    nr = tof_s.shape[0]
    nh = tof_s.shape[1]
    if h < 0.0:
        h = 0.0
    x = gr / dr
    y = h / dh
    if not (x >= 0.0 and x <= nr - 1 and y <= nh - 1):
        return UNREACHED_S, 0.0
    i0 = int(math.floor(x))
    k0 = int(math.floor(y))
    if i0 > nr - 2:
        i0 = nr - 2
    if k0 > nh - 2:
        k0 = nh - 2
    wx = x - i0
    wy = y - k0
    a = ((1 - wx) * (1 - wy) * tof_s[i0, k0] + wx * (1 - wy) * tof_s[i0 + 1, k0]
         + (1 - wx) * wy * tof_s[i0, k0 + 1] + wx * wy * tof_s[i0 + 1, k0 + 1])
    if a >= 0.5 * UNREACHED_S:
        return UNREACHED_S, 0.0
    b = ((1 - wx) * (1 - wy) * speed_m_s[i0, k0] + wx * (1 - wy) * speed_m_s[i0 + 1, k0]
         + (1 - wx) * wy * speed_m_s[i0, k0 + 1] + wx * wy * speed_m_s[i0 + 1, k0 + 1])
    return a, b


@numba.njit(cache=True)
def predicted_intercept_nb(px, py, pz, vx, vy, vz, tof_s, speed_m_s, dr, dh, mean_speed_m_s):
    """Predicted intercept point of a constant-velocity target with the tabulated flyout.

    The target is at (px, py, pz) [m] relative to the launcher (z: height above it) moving at
    (vx, vy, vz) [m/s]. Fixed-point iteration on the time of flight: start from the constant-speed
    collision triangle with the mean speed (:func:`iadsim.physics.kinematics.intercept_time_s`),
    then ``tau <- tof(p + v tau)`` until it changes by less than 0.01 s (at most 20 times). The map
    contracts when the target is slower than the missile along the line of sight, so a receding
    target's PIP moves out by the flyout time; a target the missile cannot catch does not converge.

    Returns (time of flight [s], missile speed at the PIP [m/s], converged and reachable)."""
    s = mean_speed_m_s
    qa = vx * vx + vy * vy + vz * vz - s * s
    qb = px * vx + py * vy + pz * vz
    qc = px * px + py * py + pz * pz
    disc = qb * qb - qa * qc
    tau = math.sqrt(qc) / s
    if disc >= 0.0:
        root = math.sqrt(disc)
        if qc == 0.0:
            tau = 0.0
        elif qb <= 0.0 and root - qb > 0.0:
            tau = qc / (root - qb)
        elif qb > 0.0 and qa < 0.0:
            tau = (qb + root) / (-qa)
    spd = 0.0
    for _ in range(20):
        gx = px + vx * tau
        gy = py + vy * tau
        gz = pz + vz * tau
        tof, spd = table_lookup_nb(tof_s, speed_m_s, dr, dh, math.hypot(gx, gy), gz)
        if tof >= UNREACHED_S:
            return math.nan, 0.0, False
        if abs(tof - tau) < 0.01:
            return tof, spd, True
        tau = tof
    return tau, spd, False


@numba.njit(cache=True)
def predicted_intercepts(rel, vel, tof_s, speed_m_s, dr, dh, mean_speed_m_s, tau, spd, ok):
    """:func:`predicted_intercept_nb` over N targets: rel, vel [N, 3] (NaN rows: not flying);
    fills tau [N] (NaN where none), spd [N], ok [N]."""
    for i in range(rel.shape[0]):
        if not (math.isfinite(rel[i, 0]) and math.isfinite(vel[i, 0])):
            tau[i] = math.nan
            spd[i] = 0.0
            ok[i] = False
            continue
        a, b, c = predicted_intercept_nb(rel[i, 0], rel[i, 1], rel[i, 2], vel[i, 0], vel[i, 1], vel[i, 2],
                                         tof_s, speed_m_s, dr, dh, mean_speed_m_s)
        tau[i] = a
        spd[i] = b
        ok[i] = c
