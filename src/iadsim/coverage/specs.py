"""Radar and fire-unit descriptions for coverage and the engine, from a scenario and its catalog.

Both the coverage products and the engine build their radars and envelopes here, so the maps a
user sees and the run agree by construction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from iadsim.catalog import System
from iadsim.errors import InputError, Problem
from iadsim.geo.grid import LocalGrid
from iadsim.geo.terrain import Terrain, dem_lonlat_bounds
from iadsim.geo.sector import ALL_ROUND, sector_tuple
from iadsim.scenario.loader import LoadedScenario
from iadsim.scenario.models import Position

FigureGetter = Callable[[System, str, str], float]



def nominal(system: System, key: str, used_by: str) -> float:
    return system.nominal(key)


@dataclass(frozen=True)
class RadarSpec:
    """A radar at a site. Positions local [m]; ``z`` antenna altitude [m MSL]."""

    name: str
    system: str
    where: str            # field path in the scenario, e.g. "effectors[2]"
    x: float
    y: float
    z: float
    ground: float         # ground elevation at the site [m MSL]
    ref_range_m: float    # quoted detection range of the reference RCS [m]
    ref_rcs_m2: float
    ref_pd: float
    pfa: float
    scan_period_s: float
    max_elevation_deg: float | None = None
    #: nothing is detected beyond this slant range [m] (catalog radar_instrumented_range_km; default
    #: the upper end of radar_detection_range_km); the coverage rasters stop here
    instrumented_range_m: float = 0.0
    mast_m: float = 0.0                      # antenna height above its site [m]
    # clutter, MTI and multipath (None: the radar is modelled clutter-free)
    wavelength_m: float | None = None
    az_beamwidth_rad: float = 0.0
    el_beamwidth_rad: float = 0.0
    range_resolution_m: float = 0.0
    mti_improvement: float = 1.0             # [1, linear]
    min_radial_speed_m_s: float = 0.0
    #: azimuth and elevation sector (iadsim.geo.sector form); nothing is detected outside it
    sector: tuple[float, float, float, float] = ALL_ROUND
    #: the sensor type (iadsim.sensors) and its own figures (linear SI, by name)
    sensor_type: str = "radar"
    params: dict = field(default_factory=dict, compare=False)

    @property
    def range_bound_m(self) -> float:
        """Slant range [m] beyond which nothing is detected: the instrumented range."""
        return self.instrumented_range_m if self.instrumented_range_m > 0 else self.ref_range_m

    @property
    def has_clutter_model(self) -> bool:
        return self.wavelength_m is not None


@dataclass(frozen=True)
class EffectorSpec:
    """A fire unit's engagement envelope. Ranges are ground ranges [m]; altitude minimum is above
    the ground under the target, maximum above the site [m]."""

    name: str
    system: str
    where: str
    x: float
    y: float
    ground: float
    range_min_m: float
    range_max_m: float
    altitude_min_m: float
    altitude_max_m: float
    radar: int            # index of its own radar in the radar list
    #: launcher sector (iadsim.geo.sector form): no intercept point outside it is engaged
    sector: tuple[float, float, float, float] = ALL_ROUND


def _site_alt(pos: Position, ground: float) -> float:
    return ground + pos.height_m if pos.height_ref == "agl" else pos.height_m


def radar_specs(ld: LoadedScenario, grid: LocalGrid, terrain: Terrain,
                figure: FigureGetter = nominal) -> list[RadarSpec]:
    """Each fire unit's own radar (in scenario order), then the stand-alone sensors, each built by
    its sensor type (iadsim.sensors)."""
    from iadsim.sensors import Site, sensor_type_of

    s = ld.scenario
    cat = ld.catalog
    items = [(e.name, cat[e.system], e.site, f"effectors[{i}]", e.sector, e) for i, e in enumerate(s.effectors)]
    items += [(x.name, cat[x.system], x.site, f"sensors[{i}]", x.sector, x) for i, x in enumerate(s.sensors)]
    out = []
    for name, sysm, site, where, sector, entry in items:
        x, y = grid.to_local(site.lat, site.lon)
        x, y = float(x), float(y)
        ground = float(terrain.height_at(x, y))
        at = Site(name=name, where=where, x=x, y=y, ground=ground, alt=_site_alt(site, ground),
                  sector=sector_tuple(sector), entry=entry, source=str(ld.source))
        out.append(sensor_type_of(sysm).spec(sysm, at, figure))
    return out


def effector_specs(ld: LoadedScenario, radars: list[RadarSpec],
                   figure: FigureGetter = nominal) -> list[EffectorSpec]:
    out = []
    for i, e in enumerate(ld.scenario.effectors):
        sysm = ld.catalog[e.system]
        r = radars[i]
        out.append(EffectorSpec(
            name=e.name, system=sysm.name, where=f"effectors[{i}]", x=r.x, y=r.y, ground=r.ground,
            range_min_m=figure(sysm, "engagement_range_min_km", "engagement") * 1000.0,
            range_max_m=figure(sysm, "engagement_range_max_km", "engagement") * 1000.0,
            altitude_min_m=figure(sysm, "engagement_altitude_min_m", "engagement"),
            altitude_max_m=figure(sysm, "engagement_altitude_max_m", "engagement"),
            radar=i, sector=sector_tuple(e.sector),
        ))
    return out


def envelope_coordinates(spec: EffectorSpec, terrain: Terrain, x, y, alt_msl
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The coordinates an envelope is checked in, for targets at local x, y [m] and altitude [m MSL]:
    ground range from the site [m], height above the ground below the target [m], height above
    the site [m]. NaN positions give NaN."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    alt = np.asarray(alt_msl, dtype=float)
    gr = np.hypot(x - spec.x, y - spec.y)
    agl = alt - terrain.height_at(x, y)
    return gr, agl, alt - spec.ground


def _collect_points(ld: LoadedScenario) -> list[tuple[str, float, float]]:
    s = ld.scenario
    pts = [(f"assets[{i}]", a.lat, a.lon) for i, a in enumerate(s.assets)]
    pts += [(f"effectors[{i}].site", e.site.lat, e.site.lon) for i, e in enumerate(s.effectors)]
    pts += [(f"sensors[{i}].site", e.site.lat, e.site.lon) for i, e in enumerate(s.sensors)]
    pts += [(f"effectors[{e.name}].relocate.sites[{j}]", p.lat, p.lon) for e in s.effectors
            if getattr(e, "relocate", None) is not None for j, p in enumerate(e.relocate.sites)]
    for i, t in enumerate(s.threats):
        pts += [(f"threats[{i}].route[{j}]", w.lat, w.lon) for j, w in enumerate(t.route)]
        if t.orbit is not None:
            pts.append((f"threats[{i}].orbit", t.orbit.lat, t.orbit.lon))
        m = t.mission
        if m is not None:
            if m.station is not None:
                pts.append((f"threats[{i}].mission.station", m.station.lat, m.station.lon))
            if m.release is not None:
                pts.append((f"threats[{i}].mission.release", m.release.lat, m.release.lon))
            pts += [(f"threats[{i}].mission.egress[{j}]", w.lat, w.lon) for j, w in enumerate(m.egress or [])]
    return pts


def system_reach_m(sysm) -> float:
    """How far a system's products can reach [m]: its radar's instrumented range (or the longest
    quoted detection range, the documented default), and its missiles' quoted maximum range."""
    f = sysm.figures
    r = 0.0
    if "radar_instrumented_range_km" in f:
        r = f["radar_instrumented_range_km"].value * 1000.0
    elif "radar_detection_range_km" in f:
        r = f["radar_detection_range_km"].high * 1000.0
    if "engagement_range_max_km" in f:
        r = max(r, f["engagement_range_max_km"].value * 1000.0)
    for key in ("esm_detection_range_km", "eo_detection_range_km", "eo_ir_detection_range_km"):
        if key in f:   # passive and optical sensors (iadsim.sensors): the upper end of the quoted range
            r = max(r, f[key].high * 1000.0)
    return r


def build_grid(ld: LoadedScenario, extent: str = "scenario") -> LocalGrid:
    """The local analysis grid, inside the DEM: all sites, routes and orbits plus the margin
    (``extent='scenario'``, what a run uses), or also every radar's and fire unit's reach
    (``extent='reach'``, for coverage maps that are not cut off by the grid)."""
    s = ld.scenario
    pts = _collect_points(ld)
    west, south, east, north = dem_lonlat_bounds(ld.dem_path, source=ld.source)
    problems = [
        Problem(ld.source, f"{p}", f"({lat:.4f}, {lon:.4f}) lies outside the DEM "
                f"{ld.dem_path.name} (lat {south:.3f}..{north:.3f}, lon {west:.3f}..{east:.3f})")
        for p, lat, lon in pts
        if not (south <= lat <= north and west <= lon <= east)  # a point on the edge is inside
    ]
    if problems:
        raise InputError(problems)
    anchor = [(lat, lon) for p, lat, lon in pts if not p.startswith("threats")] or \
             [(lat, lon) for _, lat, lon in pts]
    lat0 = float(np.mean([a[0] for a in anchor]))
    lon0 = float(np.mean([a[1] for a in anchor]))
    probe = LocalGrid(lat0, lon0, 0.0, 0.0, 1.0, 1, 1)
    x, y = probe.to_local([p[1] for p in pts], [p[2] for p in pts])
    x = list(x)
    y = list(y)
    for t in s.threats:
        if t.orbit is not None:
            ox, oy = probe.to_local(t.orbit.lat, t.orbit.lon)
            r = t.orbit.radius_km * 1000.0
            x += [float(ox) - r, float(ox) + r]
            y += [float(oy) - r, float(oy) + r]
        st = t.mission.station if t.mission is not None else None
        if st is not None:   # the station pattern's extent (a racetrack's half-length plus its turns)
            ox, oy = probe.to_local(st.lat, st.lon)
            r = st.radius_km * 1000.0 * 2 + (st.length_km * 500.0 if st.pattern == "racetrack" else 0.0)
            x += [float(ox) - r, float(ox) + r]
            y += [float(oy) - r, float(oy) + r]
    if extent == "reach":
        for u in [*s.effectors, *s.sensors]:
            r = system_reach_m(ld.catalog[u.system])
            ux, uy = probe.to_local(u.site.lat, u.site.lon)
            x += [float(ux) - r, float(ux) + r]
            y += [float(uy) - r, float(uy) + r]
    margin = s.terrain.margin_km * 1000.0
    # the DEM outline in local coordinates, shrunk by one cell, bounds the grid
    lons = np.concatenate([np.linspace(west, east, 64), np.full(64, east), np.linspace(west, east, 64),
                           np.full(64, west)])
    lats = np.concatenate([np.full(64, north), np.linspace(south, north, 64), np.full(64, south),
                           np.linspace(south, north, 64)])
    dx, dy = probe.to_local(lats, lons)
    res = s.terrain.resolution_m
    # the largest axis-aligned box inside the outline (conservative: inner extremes)
    bx0 = max(dx[192:].max(), dx[:64].min(), dx[128:192].min())
    bx1 = min(dx[64:128].min(), dx[:64].max(), dx[128:192].max())
    by0 = max(dy[128:192].max(), dy[64:128].min(), dy[192:].min())
    by1 = min(dy[:64].min(), dy[64:128].max(), dy[192:].max())
    bx0, bx1, by0, by1 = bx0 + res, bx1 - res, by0 + res, by1 - res
    xr = (max(min(x) - margin, bx0), min(max(x) + margin, bx1))
    yr = (max(min(y) - margin, by0), min(max(y) + margin, by1))
    grid = LocalGrid.around(lat0, lon0, xr, yr, res)
    # snapping may step outside; shrink by a cell where it does
    if grid.xmin < bx0 or grid.xmax > bx1 or grid.ymin < by0 or grid.ymax > by1:
        grid = LocalGrid.around(lat0, lon0, (xr[0] + res, xr[1] - res), (yr[0] + res, yr[1] - res), res)
    return grid
