"""ISR: reach a station, stay on it for a time (orbit or racetrack), egress.

Accomplished when the carrier is still flying at the end of its time on station."""

from __future__ import annotations

import numpy as np

from iadsim.missions.base import MissionContext, PathBuilder, Sortie, flight, orbit_pattern, racetrack_pattern
from iadsim.missions.registry import MissionKind, register


def plan(thr, ctx: MissionContext) -> Sortie:
    m = thr.mission
    f = flight(thr, ctx)
    cruise, alt_default, agl, xy, alt = f.cruise, f.alt_default, f.agl, f.xy, f.alt
    b = f.fly_route()
    st = m.station
    cx, cy = (float(v) for v in ctx.to_local(st.lat, st.lon))
    length = m.time_on_station_s * cruise
    r = st.radius_km * 1000.0
    if st.pattern == "orbit":
        pts = orbit_pattern(cx, cy, r, b.xy[-1], length)
    else:
        pts = racetrack_pattern(cx, cy, r, st.length_km * 1000.0, st.heading_deg, b.xy[-1], length)
    station_alt = alt_default
    b.add(pts[0], station_alt, agl, cruise)     # transit from the route's end to the station
    start = b.last
    b.add_many(pts[1:], station_alt, agl, cruise)
    end = b.last
    _egress(thr, ctx, b, xy, alt, agl, cruise)
    return Sortie(path=b.build(), kind="isr", marks={"station_start": start, "station_end": end})


def _egress(thr, ctx, b: PathBuilder, route_xy, route_alt, agl: bool, cruise: float) -> None:
    """Egress waypoints, or back along the route to its first point (the base)."""
    m = thr.mission
    if m.egress:
        for w in m.egress:
            x, y = ctx.to_local(w.lat, w.lon)
            b.add(np.array([float(x), float(y)]), w.altitude_m if w.altitude_m is not None else b.alt[-1], agl,
                  w.speed_m_s if w.speed_m_s is not None else cruise)
    else:
        for p, a in zip(reversed(route_xy), reversed(route_alt)):
            b.add(p, a, agl, cruise)


@register
class Isr(MissionKind):
    """ISR: the route to the station, the time on station, the egress."""

    kind = "isr"
    accomplished = "the whole time on station flown"
    accomplished_by = "station"
    returns = True
    model_text = ("isr: the route, then the station at the threat's default altitude, flown as drawn (a clockwise "
                  "orbit or racetrack) for time_on_station_s at cruise speed, then the egress (its waypoints, or "
                  "back along the route). Leaves out wind, turn performance (bank, turn radius), fuel and re-tasking")

    def check(self, mission) -> None:
        if mission.station is None:
            raise ValueError("an ISR mission needs a station (lat, lon, pattern)")
        if mission.time_on_station_s is None or not mission.time_on_station_s > 0:
            raise ValueError(f"an ISR mission needs time_on_station_s > 0 [s], got {mission.time_on_station_s!r}")

    def plan(self, thr, ctx: MissionContext) -> Sortie:
        return plan(thr, ctx)
