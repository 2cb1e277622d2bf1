"""Measures of a sortie computed from the run's geometry: time spent inside each fire unit's
engagement envelope and inside each radar's coverage.

Pure functions on the compiled :class:`~iadsim.engine.world.World` and the kernel's outcome steps;
nothing here changes what the engine computes.

*In a fire unit's envelope* at a step is the kernel's own test (``iadsim.engine.kernel``, step 6):
the predicted intercept point exists inside the unit's flyout envelope and in its sight
(``World.pip_ok``) and lies within the unit's slant-range and altitude limits, those the
replication ran with (drawn when the run samples the envelope figures, else the catalog's). *In a radar's
coverage* is the target in the radar's line of sight, within its instrumented range and sector
(``World.snr > 0``), whether or not it is detected.
"""

from __future__ import annotations

import numba
import numpy as np

#: what the exposure measure leaves out (the report prints it with the other models' limits)
EXPOSURE_LIMITS = ("exposure time counts the steps a threat is flying and alive with its predicted intercept "
                   "point inside a fire unit's engagement envelope (the replication's envelope figures, sampled "
                   "or nominal) and in the unit's sight, or inside a radar's line of sight, range and sector; it "
                   "leaves out whether the unit was ready, had missiles or a free channel at that step")

#: the envelope figures a replication may draw, and the limit each sets (iadsim.engine.parameters.apply)
_ENVELOPE_DRAWS = (("engagement_range_min_km", 0, 1000.0), ("engagement_range_max_km", 1, 1000.0),
                   ("engagement_altitude_min_m", 2, 1.0), ("engagement_altitude_max_m", 3, 1.0))


def envelope_mask(world, e: int) -> np.ndarray:
    """[T, M] bool: each threat member inside fire unit ``e``'s engagement envelope at each step
    (the kernel's launch test on the nominal envelope)."""
    with np.errstate(invalid="ignore"):
        return (world.pip_ok[:, :, e]
                & (world.pip_r[:, :, e] >= world.range_min_m[e]) & (world.pip_r[:, :, e] <= world.range_max_m[e])
                & (world.pip_agl[:, :, e] >= world.altitude_min_m[e])
                & (world.pip_above[:, :, e] <= world.altitude_max_m[e]))


def coverage_mask(world, s: int) -> np.ndarray:
    """[T, M] bool: each threat member inside radar ``s``'s coverage (in sight, range and sector)."""
    return world.snr[:, s, :] > 0


def flying_window(world, kill_step: np.ndarray, leak_step: np.ndarray,
                  react: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Steps [start, stop) in which each member of each replication was flying and alive, [R, M] each.

    It flies from its first step until it is killed, arrives at the end of its path, or the run
    ends; a weapon whose carrier was killed before its release never flies (stop = start)."""
    R, M = kill_step.shape
    start = np.broadcast_to(world.first_step[None, :], (R, M)).astype(np.int64)
    stop = np.full((R, M), world.nsteps, np.int64)
    stop = np.where(leak_step >= 0, leak_step, stop)
    stop = np.where(kill_step >= 0, kill_step, stop)
    par = world.parent
    pk = np.where(par >= 0, kill_step[:, np.maximum(par, 0)], -1)
    unreleased = (par >= 0)[None, :] & (pk >= 0) & (pk <= start)
    stop = np.where(unreleased, start, stop)
    rx = getattr(world, "react", None)
    if rx is not None and react is not None and react[0] is not None:
        # reacting threats (iadsim.engine.react): a sortie flies its own path until it switches, the
        # branch it switched to from there; a branch not taken never flies
        rstep, rto = react
        stop = np.where(rstep >= 0, np.minimum(stop, rstep), stop)
        flown = np.zeros((R, M), bool)
        rows, roots = np.nonzero(rto >= 0)
        flown[rows, rto[rows, roots]] = True
        stop = np.where((rx.root >= 0)[None, :] & ~flown, start, stop)
        # a weapon of a sortie that abandoned its mission before the release is not released
        ps = np.where(par >= 0, rstep[:, np.maximum(par, 0)], -1)
        pb = np.where(par >= 0, rto[:, np.maximum(par, 0)], -1)
        gone = (par >= 0)[None, :] & (ps >= 0) & (ps <= start) & rx.abandons[np.maximum(pb, 0)]
        stop = np.where(gone, start, stop)
    return start, np.maximum(stop, start)


def steps_inside(mask: np.ndarray, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """[R, M] number of steps t with start <= t < stop at which ``mask[t, m]`` [T, M] holds."""
    T, M = mask.shape
    cum = np.zeros((T + 1, M), np.int32)
    np.cumsum(mask, axis=0, dtype=np.int32, out=cum[1:])
    start = np.clip(start, 0, T)
    stop = np.clip(stop, 0, T)
    cols = np.arange(M)[None, :]
    return (cum[stop, cols] - cum[start, cols]).astype(np.int64)


def envelope_limits(world, draws: dict | None, count: int) -> np.ndarray:
    """[R, E, 4] each replication's envelope limits: slant range min, max [m], altitude min (above
    ground), max (above the site) [m], as the kernel reads them (drawn figures where sampled)."""
    E = len(world.effector_labels)
    lim = np.empty((count, E, 4))
    for i, a in enumerate((world.range_min_m, world.range_max_m, world.altitude_min_m, world.altitude_max_m)):
        lim[:, :, i] = np.asarray(a, dtype=float)[None, :]
    gun = getattr(world, "effector_gun", None)
    for e, sysname in enumerate(world.effector_system):
        for key, col, scale in _ENVELOPE_DRAWS:
            v = (draws or {}).get((sysname, key))
            if v is not None:
                lim[:, e, col] = np.asarray(v, dtype=float) * scale
        if gun is not None and gun[e]:   # a gun's slant range stops at its effective range
            lim[:, e, 1] = np.minimum(lim[:, e, 1], world.range_max_m[e])
    return lim


@numba.njit(cache=True)
def _envelope_steps_per_rep(pip_ok, pip_r, pip_agl, pip_above, lim, start, stop, out, out_any):
    """Steps inside each envelope [R, M, E] and inside any [R, M], each replication with its own limits."""
    R, M = start.shape
    E = pip_ok.shape[2]
    for r in range(R):
        for m in range(M):
            for t in range(start[r, m], stop[r, m]):
                inside_any = False
                for e in range(E):
                    if (pip_ok[t, m, e] and lim[r, e, 0] <= pip_r[t, m, e] <= lim[r, e, 1]
                            and pip_agl[t, m, e] >= lim[r, e, 2] and pip_above[t, m, e] <= lim[r, e, 3]):
                        out[r, m, e] += 1
                        inside_any = True
                if inside_any:
                    out_any[r, m] += 1


def exposure_seconds(world, kill_step: np.ndarray, leak_step: np.ndarray,
                     draws: dict | None = None, react: tuple | None = None) -> dict[str, np.ndarray]:
    """Seconds each member of each replication spent alive inside each envelope and coverage.

    ``draws``: the figures each replication drew (``ChunkResult.draws``); the envelope of a
    replication that drew its envelope figures is the drawn one, as in the kernel.

    Returns ``{"envelope": [R, M, E], "coverage": [R, M, S], "any_envelope": [R, M],
    "any_coverage": [R, M]}`` [s] (the ``any_`` entries: inside at least one)."""
    start, stop = flying_window(world, kill_step, leak_step, react)
    R, M = kill_step.shape
    T = world.nsteps
    E, S = len(world.effector_labels), len(world.sensor_labels)
    env = np.zeros((R, M, E))
    cov = np.zeros((R, M, S))
    any_env = np.zeros((T, M), bool)
    any_cov = np.zeros((T, M), bool)
    lim = envelope_limits(world, draws, R)
    per_rep = R > 0 and E > 0 and bool(np.any(lim != lim[:1]))
    if per_rep:   # sampled envelope figures: each replication its own envelope
        steps = np.zeros((R, M, E), np.int64)
        steps_any = np.zeros((R, M), np.int64)
        _envelope_steps_per_rep(world.pip_ok, world.pip_r, world.pip_agl, world.pip_above, lim,
                                np.clip(start, 0, T), np.clip(stop, 0, T), steps, steps_any)
        env[:] = steps * world.dt
    for e in range(E if not per_rep else 0):
        mk = envelope_mask(world, e)
        any_env |= mk
        env[:, :, e] = steps_inside(mk, start, stop) * world.dt
    for s in range(S):
        mk = coverage_mask(world, s)
        any_cov |= mk
        cov[:, :, s] = steps_inside(mk, start, stop) * world.dt
    out = {"envelope": env, "coverage": cov,
           "any_envelope": steps_any * world.dt if per_rep else steps_inside(any_env, start, stop) * world.dt,
           "any_coverage": steps_inside(any_cov, start, stop) * world.dt}
    if getattr(world, "react", None) is not None:   # one sortie: its own path, then its branch
        from iadsim.engine.react import fold_exposure

        out = {k: fold_exposure(world, v) for k, v in out.items()}
    return out
