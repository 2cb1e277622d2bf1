"""One-way attack (fly the route, dive onto the target asset) and plain transit (fly the route and
an optional orbit): the behaviour of threats without a mission."""

from __future__ import annotations

import numpy as np

from iadsim.engine.trajectory import TERMINAL_DIVE_M, orbit_points
from iadsim.missions.base import MissionContext, Sortie, flight
from iadsim.missions.registry import MissionKind, register


def plan(thr, ctx: MissionContext) -> Sortie:
    f = flight(thr, ctx)
    cruise, alt_default, agl, xy, alt = f.cruise, f.alt_default, f.agl, f.xy, f.alt
    b = f.fly_route()
    if thr.orbit is not None:
        ox, oy = ctx.to_local(thr.orbit.lat, thr.orbit.lon)
        pts = orbit_points(float(ox), float(oy), thr.orbit.radius_km * 1000.0, b.xy[-1], thr.orbit.laps)
        last_speed = thr.route[-1].speed_m_s or cruise
        b.add_many(pts, b.alt[-1], agl, last_speed)
    target = site = -1
    if thr.target is not None:
        goal, target, site = ctx.target_xy(thr.target)
        last = b.xy[-1]
        seg_speed = b.speed[-1] if b.speed else cruise
        d = float(np.hypot(*(goal - last)))
        if d > TERMINAL_DIVE_M:
            b.add(goal + (last - goal) * (TERMINAL_DIVE_M / d), b.alt[-1], b.agl[-1], seg_speed)
        # impact at the asset's ground point: 0 m above ground, or the ground height in MSL so that the
        # dive descends linearly from the cruise altitude to the ground
        b.add(goal, 0.0 if b.agl[-1] else float(ctx.ground_at(goal[0], goal[1])), b.agl[-1], seg_speed)
    kind = "one-way" if thr.target is not None else "transit"
    return Sortie(path=b.build(), kind=kind, target=target, site=site)


@register
class OneWay(MissionKind):
    """One-way attack: the route (and an orbit), then the dive onto ``threats[].target``. A threat
    without a mission flies this plan too (a 'transit' sortie when it has no target)."""

    kind = "one-way"
    accomplished = "the target reached"
    accomplished_by = "arrival"
    needs_target = True
    model_text = (f"one-way: the route (and orbit), level flight to {TERMINAL_DIVE_M / 1000:g} km from the target, "
                  "then a straight dive to its ground point. Leaves out terminal manoeuvres, wind and turn "
                  "performance")

    def plan(self, thr, ctx: MissionContext) -> Sortie:
        return plan(thr, ctx)
