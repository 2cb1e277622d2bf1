"""The engine's engagement envelope of a fire unit, as one function the maps and exports share.

:func:`engageable` answers "would this fire unit engage a target here" exactly as a run decides it
(``iadsim.engine.world`` builds ``pip_ok`` / ``act_ok`` with the same calls, and the kernels
``iadsim.engine.kernel._run_one`` / ``iadsim.engine.full`` then apply the slant-range and altitude
limits):

1. the predicted intercept point (PIP) of a constant-velocity target, from the unit's flyout table
   with the compiled helper the engine calls (:func:`iadsim.physics.flyout.predicted_intercepts`:
   fixed-point iteration on the time of flight);
2. the flyout envelope: the iteration converged, the time of flight is within the guidance time
   limit, the missile arrives at least at its minimum useful speed, and the target is no faster
   than the system's ``target_speed_max_m_s``;
3. at the PIP: slant range within ``range_min_m``..``range_max_m`` (a gun's maximum is its effective
   range), height above the ground below it at least ``altitude_min_m``, height above the site at
   most ``altitude_max_m``, and the PIP inside the launcher's sector (azimuth and elevation);
4. the same range and altitude limits where the target really is when the missile arrives: the
   engine takes that position a whole number of time steps after launch, ``ceil(tof / dt)``; with
   ``dt_s`` given this is checked too (for a hovering target it is the PIP itself);
4a. the fire-control radar (``iadsim.catalog.firecontrol``, where the system has its figures): the target
   within its tracking range and elevation limits (not in the cone of silence overhead) now and at
   intercept;
5. optionally (``visible``), terrain-masked line of sight from the unit's radar to the target now
   and where it is at intercept, as the engine's ``visible_at`` on the radar's raster.

The limits are compared in float32, as the engine stores the PIP's coordinates. The tables are the
engine's: :func:`unit_envelopes` builds them from the catalog as ``iadsim.engine.world`` does (a
gun fire unit's shell table, :func:`iadsim.catalog.envelope.gun_table`; otherwise the flyout at the
launcher's altitude, :func:`iadsim.catalog.envelope.system_table`), and :func:`unit_envelope_of_world`
reads them back from a compiled world.

Coverage maps and 3-D exports ask about a *level target flying straight at the fire unit* at a
stated speed (default 0 m/s: a hovering or slow target, whose PIP is where it is). A map cell is
where the target is when the unit decides to fire. :func:`envelope_profile` gives the envelope's
outline in the vertical plane (innermost and outermost ground range engaged at each height above
the site, ground level with the site), which the CZML and KML exports revolve into rings.

What this leaves out is :data:`ENGAGEMENT_LEAVES_OUT` (quoted in ``coverage.json`` and the CZML).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from iadsim.catalog.envelope import gun_table, is_gun
from iadsim.catalog.firecontrol import NO_FIRE_CONTROL, fire_control_limits, in_fire_control
from iadsim.coverage.specs import EffectorSpec
from iadsim.geo.sector import ALL_ROUND, in_sector
from iadsim.physics.flyout import predicted_intercepts

__all__ = ["UnitEnvelope", "unit_envelopes", "unit_envelope_of_world", "intercept", "engageable",
           "engageable_at", "envelope_profile", "envelope_rings", "ring_outline_xy", "Ring",
           "ENGAGEMENT_TARGET", "ENGAGEMENT_LEAVES_OUT"]

#: what the coverage products and the 3-D exports assume about the target (their metadata quote it)
ENGAGEMENT_TARGET = ("a level target flying straight at the fire unit at the stated speed (0 m/s: hovering "
                     "or slow, its intercept point is where it is); a cell is where the target is when the "
                     "unit decides to fire; the engine's flyout table, predicted intercept point, guidance "
                     "time, minimum missile speed, maximum target speed, slant-range and altitude limits "
                     "and launcher sector")
#: what the engagement maps and 3-D envelopes leave out (quoted in their metadata)
ENGAGEMENT_LEAVES_OUT = ("nominal catalog figures only (a run that samples its figures moves the limits per "
                         "replication); the run's detection, tracking, reaction time, fire channels and magazine "
                         "(the maps show where a unit can engage, not whether it gets the chance); the kill "
                         "probability (zero where the missile is no faster than the target); targets that turn, "
                         "climb or dive; the 3-D envelopes assume ground level with the launcher and leave out "
                         "terrain line of sight (the coverage layers show it)")


@dataclass(frozen=True)
class UnitEnvelope:
    """Everything the engine decides a fire unit's engagements with. Site in local coordinates [m],
    ``ground`` its altitude [m MSL] (heights "above the site" are above it)."""

    name: str
    system: str
    x: float
    y: float
    ground: float
    tof_s: np.ndarray              # [NR, NH] flyout table: time of flight [s] over ground range x height
    speed_m_s: np.ndarray          # [NR, NH] missile (or shell) speed there [m/s]
    dr_m: float                    # table steps in ground range and height [m]
    dh_m: float
    max_time_s: float              # guidance time limit [s]
    min_speed_m_s: float           # minimum useful end speed [m/s]
    max_target_speed_m_s: float    # fastest target engaged [m/s] (inf: no limit)
    mean_speed_m_s: float          # the PIP iteration's starting speed [m/s]
    range_min_m: float             # slant-range limits at the PIP [m]
    range_max_m: float
    altitude_min_m: float          # height above the ground below the PIP [m]
    altitude_max_m: float          # height above the site [m]
    sector: tuple[float, float, float, float] = ALL_ROUND
    gun: bool = False
    #: fire-control radar: tracking range [m], lowest and highest elevation [rad] from the site
    #: (iadsim.catalog.firecontrol; NO_FIRE_CONTROL: the system has no such figures)
    fire_control: tuple[float, float, float] = NO_FIRE_CONTROL
    #: a gun-missile unit's guns (iadsim.engine.mixed): their envelope; the unit engages where either
    #: weapon does (the union). None: one weapon
    second: "UnitEnvelope | None" = None


def unit_envelopes(ld, effs: Sequence[EffectorSpec]) -> list[UnitEnvelope]:
    """The fire units' envelopes of a loaded scenario from the catalog (nominal figures), built as
    ``iadsim.engine.world.compile_world`` builds them."""
    cat = ld.catalog
    out = []
    for eff, spec in zip(ld.scenario.effectors, effs):
        sysm = cat[eff.system]
        gun = is_gun(sysm)
        from iadsim.effectors.base import nominal_engagement   # (the unit's weapon type, iadsim.effectors)

        tab, vm, rmax = nominal_engagement(ld, sysm, spec)
        vt = sysm.nominal("target_speed_max_m_s") if "target_speed_max_m_s" in sysm.figures else np.inf
        out.append(UnitEnvelope(
            name=spec.name, system=spec.system, x=spec.x, y=spec.y, ground=spec.ground,
            tof_s=tab.tof_s, speed_m_s=tab.speed_m_s, dr_m=float(tab.gr_m[1]), dh_m=float(tab.h_m[1]),
            max_time_s=float(tab.max_time_s), min_speed_m_s=float(tab.min_speed_m_s),
            max_target_speed_m_s=float(vt), mean_speed_m_s=float(vm), range_min_m=float(spec.range_min_m),
            range_max_m=float(rmax), altitude_min_m=float(spec.altitude_min_m),
            altitude_max_m=float(spec.altitude_max_m), sector=tuple(spec.sector), gun=gun,
            fire_control=fire_control_limits(sysm), second=_guns_of(sysm, spec)))
    return out


def _guns_of(sysm, spec: EffectorSpec) -> "UnitEnvelope | None":
    """The gun envelope of a gun-missile unit (iadsim.engine.mixed builds the engine's the same way:
    the shell table, the gun's effective slant range, no minimum range), or None."""
    from iadsim.engine.mixed import is_gun_missile

    if not is_gun_missile(sysm):
        return None
    tab = gun_table(sysm)
    return UnitEnvelope(
        name=spec.name, system=sysm.name, x=spec.x, y=spec.y, ground=spec.ground, tof_s=tab.tof_s,
        speed_m_s=tab.speed_m_s, dr_m=float(tab.gr_m[1]), dh_m=float(tab.h_m[1]), max_time_s=float(tab.max_time_s),
        min_speed_m_s=float(tab.min_speed_m_s), max_target_speed_m_s=float(np.inf),
        mean_speed_m_s=float(sysm.nominal("gun_muzzle_velocity_m_s")), range_min_m=0.0,
        range_max_m=float(min(spec.range_max_m, sysm.nominal("gun_effective_range_km") * 1000.0)),
        altitude_min_m=float(spec.altitude_min_m), altitude_max_m=float(spec.altitude_max_m),
        sector=tuple(spec.sector), gun=True, fire_control=fire_control_limits(sysm))


def unit_envelope_of_world(world, e: int) -> UnitEnvelope:
    """Fire unit ``e``'s envelope as a compiled world holds it (its tables and ``flyout_par`` row)."""
    from iadsim.engine.kernel import (
        FP_DH, FP_DR, FP_FCR_R, FP_GUN, FP_SEC_AZ, FP_TMAX, FP_VMEAN, FP_VMIN, FP_VTMAX,
    )

    fp = np.asarray(world.flyout_par[e], dtype=float)
    x, y, g = (float(v) for v in np.asarray(world.effector_xyz, dtype=float)[e])
    second = None
    side = getattr(world, "second_weapon", None)
    if side is not None and side.gun_of[e] >= 0:
        from iadsim.coverage.specs import EffectorSpec

        spec = EffectorSpec(world.effector_labels[e], world.effector_system[e], "", x, y, g,
                            float(world.range_min_m[e]), float(world.range_max_m[e]), float(world.altitude_min_m[e]),
                            float(world.altitude_max_m[e]), int(world.effector_sensor[e]),
                            tuple(float(v) for v in fp[FP_SEC_AZ:FP_SEC_AZ + 4]))
        second = _guns_of(world.loaded.catalog[world.effector_system[e]], spec)
    return UnitEnvelope(
        name=world.effector_labels[e], system=world.effector_system[e], x=x, y=y, ground=g,
        tof_s=world.tab_tof[e], speed_m_s=world.tab_spd[e], dr_m=float(fp[FP_DR]), dh_m=float(fp[FP_DH]),
        max_time_s=float(fp[FP_TMAX]), min_speed_m_s=float(fp[FP_VMIN]),
        max_target_speed_m_s=float(fp[FP_VTMAX]), mean_speed_m_s=float(fp[FP_VMEAN]),
        range_min_m=float(world.range_min_m[e]), range_max_m=float(world.range_max_m[e]),
        altitude_min_m=float(world.altitude_min_m[e]), altitude_max_m=float(world.altitude_max_m[e]),
        sector=tuple(float(v) for v in fp[FP_SEC_AZ:FP_SEC_AZ + 4]), gun=bool(fp[FP_GUN] > 0),
        fire_control=tuple(float(v) for v in fp[FP_FCR_R:FP_FCR_R + 3]), second=second)


def intercept(env: UnitEnvelope, rel, vel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predicted intercept of targets at offsets ``rel`` [..., 3] from the site (east, north, up [m])
    moving at ``vel`` [..., 3] [m/s]: (time of flight [s], NaN outside the flyout envelope; missile
    speed at the PIP [m/s]; inside the flyout envelope [bool])."""
    rel = np.asarray(rel, dtype=float)
    vel = np.broadcast_to(np.asarray(vel, dtype=float), rel.shape)
    shape = rel.shape[:-1]
    r2 = np.ascontiguousarray(rel.reshape(-1, 3))
    v2 = np.ascontiguousarray(vel.reshape(-1, 3))
    n = r2.shape[0]
    tau = np.empty(n)
    spd = np.empty(n)
    conv = np.empty(n, dtype=bool)
    predicted_intercepts(r2, v2, env.tof_s, env.speed_m_s, env.dr_m, env.dh_m, env.mean_speed_m_s, tau, spd, conv)
    speed_t = np.linalg.norm(np.nan_to_num(v2), axis=-1)
    with np.errstate(invalid="ignore"):
        ok = conv & (tau <= env.max_time_s) & (spd >= env.min_speed_m_s) & (speed_t <= env.max_target_speed_m_s)
    tau = np.where(ok, tau, np.nan)
    return tau.reshape(shape), spd.reshape(shape), ok.reshape(shape)


def _limits(env: UnitEnvelope, p: np.ndarray, ground_at) -> np.ndarray:
    """The slant-range x altitude limits at offsets ``p`` [..., 3], in float32 like the engine."""
    gr = np.hypot(p[..., 0], p[..., 1])
    above = p[..., 2]
    if ground_at is None:
        agl = above
    else:
        agl = (env.ground + above) - ground_at(env.x + p[..., 0], env.y + p[..., 1])
    with np.errstate(invalid="ignore"):
        r = np.nan_to_num(np.hypot(gr, above), nan=np.inf).astype(np.float32)
        agl = np.nan_to_num(agl, nan=-np.inf).astype(np.float32)
        above = np.nan_to_num(above, nan=np.inf).astype(np.float32)
        return ((env.range_min_m <= r) & (r <= env.range_max_m) & (agl >= env.altitude_min_m)
                & (above <= env.altitude_max_m))


def engageable(env: UnitEnvelope, rel, vel=(0.0, 0.0, 0.0), *,
               ground_at: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
               dt_s: float | None = None,
               visible: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None,
               where: np.ndarray | None = None) -> np.ndarray:
    """Whether the fire unit engages targets at offsets ``rel`` [..., 3] from its site (east, north,
    up [m]) moving at constant velocity ``vel`` [..., 3] [m/s], as a run decides (module docstring).

    ground_at : ground altitude [m MSL] at local x, y [m] (e.g. ``Terrain.height_at``), for the
        minimum height above ground; default: level with the site.
    dt_s : the run's time step [s]; the engine checks the target's position ``ceil(tof / dt)``
        steps after launch as well as the PIP. None: the PIP only (the same for a hovering target).
    visible : line of sight at local x, y [m] and altitude [m MSL] [bool], checked at the target
        now and at intercept (e.g. ``lambda x, y, z: visible_at(mva, terrain, x, y, z)``).
    where : only these targets are considered (the others are not engaged) [bool, ``rel``'s shape
        without its last axis].

    Targets that cannot reach the range limit within the guidance time (``|p| - |v| t_max`` beyond
    the maximum range, the engine's full-fidelity short cut) are not engaged without solving for
    their intercept point. Returns a bool array of ``rel``'s shape without its last axis."""
    rel = np.asarray(rel, dtype=float)
    vel = np.broadcast_to(np.asarray(vel, dtype=float), rel.shape)
    shape = rel.shape[:-1]
    r2 = rel.reshape(-1, 3)
    v2 = vel.reshape(-1, 3)
    idx = (np.arange(r2.shape[0]) if where is None
           else np.flatnonzero(np.broadcast_to(np.asarray(where, dtype=bool), shape)))
    rs, vs = r2[idx], v2[idx]
    with np.errstate(invalid="ignore"):
        # |PIP| >= |p| - |v| tau and tau <= t_max: a necessary condition (with float32 slack)
        reach = np.sqrt(np.einsum("ij,ij->i", rs, rs)) - np.sqrt(np.einsum("ij,ij->i", vs, vs)) * env.max_time_s
        idx = idx[~(reach > env.range_max_m * (1.0 + 1e-6) + 1.0)]
    out = np.zeros(r2.shape[0], dtype=bool)
    if idx.size:
        out[idx] = _engageable_points(env, r2[idx], v2[idx], ground_at, dt_s, visible)
    out = out.reshape(shape)
    if env.second is not None:   # a gun-missile unit engages where either weapon does
        out |= engageable(env.second, rel, vel, ground_at=ground_at, dt_s=dt_s, visible=visible, where=where)
    return out


def _engageable_points(env: UnitEnvelope, rel: np.ndarray, vel: np.ndarray, ground_at, dt_s, visible) -> np.ndarray:
    """:func:`engageable` on [N, 3] points."""
    tau, _spd, ok = intercept(env, rel, vel)
    pip = rel + vel * tau[..., None]
    ok = ok & np.isfinite(pip[..., 0]) & _limits(env, pip, ground_at)
    if env.sector != ALL_ROUND:
        ok &= in_sector(pip[..., 0], pip[..., 1], pip[..., 2], env.sector)
    if dt_s is not None:
        n = np.maximum(np.where(np.isfinite(tau), np.ceil(tau / dt_s - 1e-9), 1), 1)
        act = rel + vel * (n * dt_s)[..., None]
        ok &= _limits(env, act, ground_at)
    else:
        act = pip
    if env.fire_control != NO_FIRE_CONTROL:   # the fire-control radar holds it now and at intercept
        ok &= in_fire_control(rel[..., 0], rel[..., 1], rel[..., 2], env.fire_control)
        ok &= in_fire_control(act[..., 0], act[..., 1], act[..., 2], env.fire_control)
    if visible is not None:
        ok &= visible(env.x + rel[..., 0], env.y + rel[..., 1], env.ground + rel[..., 2])
        ok &= visible(env.x + act[..., 0], env.y + act[..., 1], env.ground + act[..., 2])
    return ok


def _inbound(env: UnitEnvelope, gr, h, speed_m_s: float):
    """Offsets and velocities of level targets at ground range ``gr`` and height ``h`` above the
    site on the sector's centre azimuth, flying straight at the unit at ``speed_m_s``."""
    gr, h = np.broadcast_arrays(np.asarray(gr, dtype=float), np.asarray(h, dtype=float))
    az = env.sector[0]
    ux, uy = math.sin(az), math.cos(az)
    rel = np.stack([gr * ux, gr * uy, h], axis=-1)
    vel = np.zeros_like(rel)
    if speed_m_s:
        vel[..., 0] = -speed_m_s * ux
        vel[..., 1] = -speed_m_s * uy
    return rel, vel


def engageable_at(env: UnitEnvelope, ground_range_m, height_m, speed_m_s: float = 0.0,
                  dt_s: float | None = None) -> np.ndarray:
    """:func:`engageable` for level targets at ground range [m] and height above the site [m] (ground
    level with the site) on the sector's centre azimuth, flying straight at the unit at
    ``speed_m_s`` [m/s] (0: hovering)."""
    rel, vel = _inbound(env, ground_range_m, height_m, speed_m_s)
    return engageable(env, rel, vel, dt_s=dt_s)


def envelope_profile(env: UnitEnvelope, heights_m, speed_m_s: float = 0.0, dt_s: float | None = None,
                     tol_m: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The envelope's outline in the vertical plane: at each height above the site [m], the
    innermost and outermost ground range [m] of :func:`engageable_at` (NaN where nothing is engaged).

    Ground ranges are sampled every quarter table step (at most 25 m), then the two edges are
    bisected to ``tol_m``. Where the engaged ranges at one height are not one interval, the
    profile gives its outer bounds."""
    h = np.atleast_1d(np.asarray(heights_m, dtype=float))
    top = env.range_max_m + speed_m_s * min(env.max_time_s, 600.0) + env.dr_m
    step = min(env.dr_m / 4.0, 25.0)
    gr = np.arange(0.0, top + step, step)
    ok = engageable_at(env, gr[None, :], h[:, None], speed_m_s, dt_s)
    inner = np.full(h.shape, np.nan)
    outer = np.full(h.shape, np.nan)
    any_ = ok.any(axis=1)
    if not any_.any():
        return inner, outer
    rows = np.flatnonzero(any_)
    first = np.argmax(ok[rows], axis=1)
    last = ok.shape[1] - 1 - np.argmax(ok[rows, ::-1], axis=1)
    hr = h[rows]

    def bisect(lo, hi, inside_hi: bool):
        # lo / hi ground ranges with the edge between them; inside_hi: hi is engaged
        for _ in range(int(math.ceil(math.log2(max(step / tol_m, 2.0)))) + 1):
            mid = 0.5 * (lo + hi)
            m = engageable_at(env, mid, hr, speed_m_s, dt_s)
            if inside_hi:
                hi = np.where(m, mid, hi)
                lo = np.where(m, lo, mid)
            else:
                lo = np.where(m, mid, lo)
                hi = np.where(m, hi, mid)
        return hi if inside_hi else lo

    a = gr[first]
    edge = first > 0
    inner[rows] = np.where(edge, bisect(gr[np.maximum(first - 1, 0)], a, True), a)
    b = gr[last]
    edge = last < len(gr) - 1
    outer[rows] = np.where(edge, bisect(b, gr[np.minimum(last + 1, len(gr) - 1)], False), b)
    return inner, outer


@dataclass(frozen=True)
class Ring:
    """One horizontal slice of an envelope: height above the site [m] and the innermost and outermost
    ground range engaged there [m]."""

    height_m: float
    inner_m: float
    outer_m: float


def envelope_rings(env: UnitEnvelope, n_levels: int = 8, speed_m_s: float = 0.0,
                   n_probe: int = 121) -> list[Ring]:
    """``n_levels`` slices of the envelope (:func:`envelope_profile`) at evenly spaced heights above
    the site, from the lowest to the highest height at which anything is engaged (both found on
    ``n_probe`` heights from 0 to the altitude limit). Empty if nothing is engaged."""
    top = min(env.altitude_max_m, env.dh_m * (env.tof_s.shape[1] - 1))
    probe = np.linspace(max(env.altitude_min_m, 0.0), max(top, 0.0), n_probe)
    _inner, outer = envelope_profile(env, probe, speed_m_s)
    hit = np.isfinite(outer)
    if not hit.any():
        return []
    lo, hi = float(probe[hit].min()), float(probe[hit].max())
    levels = np.linspace(lo, hi, n_levels) if hi > lo else np.array([lo])
    inner, outer = envelope_profile(env, levels, speed_m_s)
    return [Ring(float(h), float(a), float(b)) for h, a, b in zip(levels, inner, outer) if np.isfinite(b)]


def ring_outline_xy(env: UnitEnvelope, inner_m: float, outer_m: float, n: int = 96
                    ) -> tuple[np.ndarray, np.ndarray | None]:
    """A slice's outline in local coordinates [m], clipped to the launcher's azimuth sector:
    (``[x, y]`` of the closed outer boundary, ``[x, y]`` of the closed inner hole or None). All
    round: the circle of ``outer_m`` and a hole of ``inner_m`` (if > 0). In a sector: the arc of
    ``outer_m`` and back along the arc of ``inner_m`` (or through the site), no hole."""
    az0, half = env.sector[0], env.sector[1]
    inner = inner_m if np.isfinite(inner_m) else 0.0
    if half >= math.pi:
        a = np.linspace(0.0, 2.0 * math.pi, n + 1)
        outer = np.array([env.x + outer_m * np.sin(a), env.y + outer_m * np.cos(a)])
        hole = np.array([env.x + inner * np.sin(a), env.y + inner * np.cos(a)]) if inner > 0 else None
        return outer, hole
    k = max(int(math.ceil(n * half / math.pi)), 2)
    a = np.linspace(az0 - half, az0 + half, k + 1)
    xs = list(env.x + outer_m * np.sin(a))
    ys = list(env.y + outer_m * np.cos(a))
    if inner > 0:
        xs += list(env.x + inner * np.sin(a[::-1]))
        ys += list(env.y + inner * np.cos(a[::-1]))
    else:
        xs.append(env.x)
        ys.append(env.y)
    xs.append(xs[0])
    ys.append(ys[0])
    return np.array([xs, ys]), None
