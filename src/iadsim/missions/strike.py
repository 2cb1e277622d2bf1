"""Strike: fly the route, then toward the target until it is within the weapon's release range,
release the weapons, egress.

Accomplished when the weapons are released (the carrier is still flying at its release point);
whether they reach the target is measured apart: each weapon is a new object in flight that the
defence may detect and engage."""

from __future__ import annotations

import numpy as np

from iadsim.errors import InputError, Problem
from iadsim.missions.base import MissionContext, Sortie, WeaponRelease, flight
from iadsim.missions.isr import _egress
from iadsim.missions.registry import MissionKind, register

#: release when the target is this fraction of the weapon's range away (a margin inside the range)
RELEASE_FRACTION = 0.9


def _first_within(p0: np.ndarray, p1: np.ndarray, target: np.ndarray, radius: float) -> np.ndarray | None:
    """The first point of segment p0 -> p1 within ``radius`` of ``target`` (None if none)."""
    d = p1 - p0
    f = p0 - target
    if np.hypot(*f) <= radius:
        return p0
    a = float(d @ d)
    if a == 0.0:
        return None
    bq = 2.0 * float(f @ d)
    c = float(f @ f) - radius ** 2
    disc = bq * bq - 4 * a * c
    if disc < 0:
        return None
    s = (-bq - np.sqrt(disc)) / (2 * a)
    return p0 + s * d if 0.0 <= s <= 1.0 else None


def plan(thr, ctx: MissionContext, where: str = "") -> Sortie:
    m = thr.mission
    w = m.weapon
    wsys = ctx.system_of(w.type)
    f = flight(thr, ctx)
    cruise, agl, xy, alt, speed, b = f.cruise, f.agl, f.xy, f.alt, f.speed, f.builder
    reach = ctx.figure(wsys, "weapon_range_km", f"{thr.name} weapon release") * 1000.0
    wspeed = ctx.figure(wsys, "cruise_speed_m_s", f"{thr.name} weapon flight")
    goal, tgt, site = ctx.target_xy(w.target)
    b.add(xy[0], alt[0], agl, cruise)
    release = None
    flown = 1
    radius = RELEASE_FRACTION * reach
    if m.release is not None:   # an explicit release point after the route (checked to be in range)
        for j in range(1, len(xy)):
            b.add(xy[j], alt[j], agl, speed[j - 1])
        rx, ry = ctx.to_local(m.release.lat, m.release.lon)
        b.add(np.array([float(rx), float(ry)]), m.release.altitude_m if m.release.altitude_m is not None else alt[-1],
              agl, m.release.speed_m_s or cruise)
        release, flown = b.last, len(xy)
    for j in range(1, len(xy) + 1):
        if release is not None:
            break
        flown = j
        p0 = b.xy[-1]
        p1 = xy[j] if j < len(xy) else goal      # after the route: straight toward the target
        hit = _first_within(p0, p1, goal, radius)
        if hit is not None:
            b.add(hit, alt[min(j, len(alt) - 1)], agl, speed[j - 1] if j < len(xy) else cruise)
            release = b.last
            break
        b.add(p1, alt[j] if j < len(xy) else alt[-1], agl, speed[j - 1] if j < len(xy) else cruise)
    if release is None:  # cannot happen: the last leg runs to the target itself
        raise InputError([Problem("<scenario>", f"threats[{thr.name}].mission.weapon",
                                  "the route never comes within the weapon's range of its target")])
    rel_xy = np.asarray(b.xy[release])
    rel_alt = b.alt[release] + (float(ctx.ground_at(*rel_xy)) if agl else 0.0)
    gx, gy = goal
    _egress(thr, ctx, b, xy[:flown], alt[:flown], agl, cruise)   # back over the route points flown
    return Sortie(path=b.build(), kind="strike", marks={"release": release},
                  release=WeaponRelease(weapon_type=wsys.name, count=w.count, interval_s=w.interval_s, target=tgt,
                                        release_xy=rel_xy, release_alt_msl=float(rel_alt),
                                        target_xyz=np.array([gx, gy, float(ctx.ground_at(gx, gy))]),
                                        speed_m_s=float(wspeed), site=site))


@register
class Strike(MissionKind):
    """Strike: the route toward the target, the release, the egress."""

    kind = "strike"
    accomplished = "the weapons released"
    accomplished_by = "release"
    returns = True
    releases = True
    model_text = ("strike: the route toward the target until it is within 90% of the weapon's catalog range (or "
                  "to mission.release), the release of the weapons interval_s apart, each flying straight from the "
                  "release point to the target at the weapon's mean speed (raised over the terrain), then the egress "
                  "back over the route flown. Leaves out the weapon's launch envelope beyond its range (altitude, "
                  "speed, aspect), its guidance and accuracy, wind and the carrier's turn performance")

    def plan(self, thr, ctx: MissionContext) -> Sortie:
        return plan(thr, ctx)
