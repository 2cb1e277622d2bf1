"""ISR: reach a station, stay on it for a time (orbit or racetrack), egress.

Accomplished when the carrier is still flying at the end of its time on station."""

from __future__ import annotations

import numpy as np

from iadsim.missions.base import MissionContext, PathBuilder, Sortie, flight, orbit_pattern, racetrack_pattern


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
