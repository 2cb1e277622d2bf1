"""GeoJSON (RFC 7946, WGS84 lon/lat) of a scenario's sites, assets, routes and kill points."""

from __future__ import annotations

from typing import Any

import numpy as np


def _point(lon: float, lat: float, alt: float | None = None) -> dict[str, Any]:
    c = [round(float(lon), 7), round(float(lat), 7)]
    if alt is not None and np.isfinite(alt):
        c.append(round(float(alt), 1))
    return {"type": "Point", "coordinates": c}


def scenario_geojson(results) -> dict[str, Any]:
    """A FeatureCollection: assets, fire units, radars, planned routes."""
    w = results.world
    s = w.scenario
    feats: list[dict[str, Any]] = []
    for a in s.assets:
        feats.append({"type": "Feature", "geometry": _point(a.lon, a.lat),
                      "properties": {"kind": "asset", "name": a.name, "value": a.value, "radius_m": a.radius_m}})
    for i, e in enumerate(s.effectors):
        feats.append({"type": "Feature", "geometry": _point(e.site.lon, e.site.lat, w.sensor_xyz[i, 2]),
                      "properties": {"kind": "fire_unit", "name": e.name, "system": w.effector_system[i],
                                     "vehicles": e.vehicles, "ready_missiles": int(w.ready[i])}})
    for i, sn in enumerate(s.sensors):
        j = len(s.effectors) + i
        feats.append({"type": "Feature", "geometry": _point(sn.site.lon, sn.site.lat, w.sensor_xyz[j, 2]),
                      "properties": {"kind": "radar", "name": sn.name, "system": sn.system}})
    from iadsim.engine.scoot import candidate_sites

    for c in candidate_sites(w):   # shoot-and-scoot: the sites a relocating fire unit may move to
        feats.append({"type": "Feature", "geometry": _point(c["lon"], c["lat"]),
                      "properties": {"kind": "relocation_site", "name": c["name"], "unit": c["unit"],
                                     "site": c["site"]}})
    for t, route in zip(s.threats, w.route_lonlat):
        coords = [[round(float(x), 7), round(float(y), 7), round(float(z), 1)] for x, y, z in route]
        feats.append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": coords},
                      "properties": {"kind": "route", "name": t.name, "type": t.type, "count": t.count,
                                     "target": t.target}})
    return {"type": "FeatureCollection", "name": s.name, "features": feats}
