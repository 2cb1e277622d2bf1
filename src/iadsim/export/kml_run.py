"""A run for Google Earth: one KMZ with the sites, coverage per altitude, the planned routes in
3-D, the recorded replication as a time-animated playback, and kills and leaks across all
replications.

Layout of the document (folders, in Google Earth's Places panel):

* **Sites**: assets (stars), fire units (triangles), stand-alone radars (squares), with their
  outcome statistics in the balloons.
* **Engagement envelopes**: each fire unit's envelope as the run decides it against a hovering
  target (:mod:`iadsim.coverage.envelope`): rings at :data:`ENVELOPE_LEVELS` heights above the
  site (``altitudeMode`` absolute), each the outline of the ground range engaged at that height,
  clipped to the launcher's sector (the minimum range as a second ring where it bites).
* **Coverage (radars in line of sight)**: one ground overlay per height above ground; a radio
  folder, so one height is shown at a time.
* **Planned routes**: 3-D lines (``altitudeMode`` absolute, metres above mean sea level).
* **Replication N (time animation)**: threats and missiles as placemarks with a ``TimeSpan``
  each, sampled along their flight; launches, kills, misses and leaks as events. Google Earth's
  time slider plays it back; scenario time 0 is shown as :data:`~iadsim.report.playback.SCENARIO_EPOCH`.
* **Kills, all replications** and **Leaks, all replications** (hidden at first).

Only OGC KML 2.2 elements are used (no ``gx:`` extensions), so the document validates against
``ogckml22.xsd``; icons and overlay images are inside the KMZ: it opens offline.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from iadsim.export.kml import KmlDoc, Overlay
from iadsim.report.playback import Playback, iso_time, replication_playback
from iadsim.sensors.base import sensor_display_name

__all__ = ["LAYER_HEIGHTS_AGL_M", "ENVELOPE_LEVELS", "coverage_overlays", "run_kml", "write_run_kmz"]

#: heights above ground [m] of the coverage layers (KMZ, CZML, GeoTIFF, GeoJSON, report map)
LAYER_HEIGHTS_AGL_M: tuple[float, ...] = (50.0, 150.0, 300.0, 1000.0, 3000.0)
MAX_AGGREGATE_POINTS = 2000
#: rings drawn per fire unit's envelope (evenly spaced heights above the site)
ENVELOPE_LEVELS = 6
ROUTE_COLOURS = ("#d62728", "#e377c2", "#ff7f0e", "#9467bd", "#8c564b", "#17becf", "#bcbd22",
                 "#1f77b4")


def coverage_overlays(world, heights_agl_m=LAYER_HEIGHTS_AGL_M, visible_m: float | None = 300.0
                      ) -> list[Overlay]:
    """Ground overlays of the number of radars in line of sight at each height above ground."""
    from iadsim.report.maps import coverage_count

    n = len(world.mva)
    out = []
    for h in heights_agl_m:
        c = coverage_count(world.mva, world.terrain.elevation_m, h).astype(np.float32)
        out.append(Overlay(f"{h:g} m above ground", "Coverage (radars in line of sight)", c, "count",
                           max(n, 1), description=f"Number of radars with terrain-masked line of sight "
                           f"(4/3-earth refraction) to a target {h:g} m above the ground below it.",
                           visible=visible_m is not None and float(h) == float(visible_m)))
    return out


def _pct(v: float) -> str:
    return "–" if v is None or not np.isfinite(v) else f"{100 * v:.1f}%"



def _sites(k: KmlDoc, results) -> None:
    w = results.world
    s = w.scenario
    folder = k.folder(None, "Sites", open_=True)
    at = results.asset_table().set_index("asset") if s.assets else None
    for a in s.assets:
        r = at.loc[a.name]
        desc = (f"Defended asset (value {a.value:g}, radius {a.radius_m:g} m). {int(r['attackers'])} "
                f"attacker(s); no threat reached it in {_pct(r['p_survive'])} of {results.n:,} "
                f"replications (95% CI {_pct(r['lo'])} – {_pct(r['hi'])}).")
        k.point(folder, (a.lon, a.lat), a.name, description=desc, style=k.icon_style("asset"))
    et = results.effector_table().set_index("effector") if w.effector_labels else None
    sx = np.asarray(w.sensor_xyz, dtype=float).reshape(-1, 3)
    lon, lat = w.grid.to_lonlat(sx[:, 0], sx[:, 1])
    lon, lat = np.atleast_1d(lon), np.atleast_1d(lat)
    for i, name in enumerate(w.effector_labels):
        r = et.loc[name]
        shots = r["fires"]   # missiles, bursts, ... as the unit's weapon type names its shots
        desc = (f"Fire unit: {w.effector_system[i]}, {int(w.ready[i])} ready {shots}. {shots.capitalize()} fired per "
                f"replication: {r['mean_missiles']:.2f} on average (95% CI {max(r['lo'], 0):.2f} – "
                f"{r['hi']:.2f}), at most {int(r['max_missiles'])}.")
        if "mean_relocations" in r and r["sites"] > 1:
            desc += f" Relocations per replication: {r['mean_relocations']:.2f} on average ({int(r['sites'])} sites)."
        k.point(folder, (lon[i], lat[i]), name, description=desc, style=k.icon_style("fire unit"))
    for i in range(len(w.effector_labels), len(w.sensor_labels)):
        k.point(folder, (lon[i], lat[i]), w.sensor_labels[i], style=k.icon_style("radar"),
                description=f"{sensor_display_name(w.loaded.catalog[w.sensor_system[i]])}: {w.sensor_system[i]}")
    from iadsim.engine.scoot import candidate_sites

    for c in candidate_sites(w):   # shoot-and-scoot: the sites a relocating fire unit may move to
        k.point(folder, (c["lon"], c["lat"]), c["name"], style=k.icon_style("fire unit", 0.6),
                description=f"Relocation site {c['site']} of fire unit {c['unit']} (shoot-and-scoot).")


def _envelopes(k: KmlDoc, results, n_levels: int = ENVELOPE_LEVELS) -> None:
    from iadsim.coverage.envelope import envelope_rings, ring_outline_xy, unit_envelope_of_world

    w = results.world
    if not len(w.effector_labels):
        return
    folder = k.folder(None, "Engagement envelopes",
                      description="Where each fire unit engages a hovering target, as the run decides (flyout "
                                  "table, guidance time, minimum missile speed, slant-range and altitude limits, "
                                  "launcher sector): rings at heights above the site, altitudes above mean sea "
                                  "level. Terrain line of sight is not drawn here.")
    style = k.line_style("#b2182b", 220, 2)
    for e, name in enumerate(w.effector_labels):
        env = unit_envelope_of_world(w, e)
        f = k.folder(folder, f"{name} ({w.effector_system[e]})")
        for r in envelope_rings(env, n_levels):
            outer, hole = ring_outline_xy(env, r.inner_m, r.outer_m)
            alt = env.ground + r.height_m
            for xy, what, rng in ((outer, "maximum", r.outer_m), (hole, "minimum", r.inner_m)):
                if xy is None:
                    continue
                lon, lat = w.grid.to_lonlat(xy[0], xy[1])
                k.line(f, [(float(a), float(b), alt) for a, b in zip(np.atleast_1d(lon), np.atleast_1d(lat))],
                       f"{r.height_m:,.0f} m above the site: {what} range {rng / 1000:.2f} km", style=style)


def _routes(k: KmlDoc, results) -> None:
    w = results.world
    folder = k.folder(None, "Planned routes")
    for i, (thr, route) in enumerate(zip(w.scenario.threats, w.route_lonlat)):
        if len(route) < 2:
            continue
        name = thr.name if thr.count == 1 else f"{thr.name} (×{thr.count})"
        k.line(folder, route, name,
               description=f"{thr.type}; planned path, altitudes above mean sea level"
                           f"{'; target ' + thr.target if thr.target else ''}.",
               style=k.line_style(ROUTE_COLOURS[i % len(ROUTE_COLOURS)], width=3))


def _playback(k: KmlDoc, pb: Playback, trail_every: int = 10) -> None:
    folder = k.folder(None, f"Replication {pb.replication} (time animation)",
                      description=f"Play back with Google Earth's time slider. Scenario time 0 is shown "
                                  f"as {iso_time(0)}.")
    thr_f = k.folder(folder, "Threats")
    icon = k.icon_style("threat", 0.8)
    for j, tr in enumerate(pb.tracks):
        col = ROUTE_COLOURS[j % len(ROUTE_COLOURS)]
        f = k.folder(thr_f, f"{tr.label} ({tr.type}, {tr.fate})")
        n = len(tr.t)
        for i in range(n):
            t1 = tr.t[i + 1] if i + 1 < n else tr.t[i] + 1.0
            k.point(f, (tr.lon[i], tr.lat[i], tr.alt[i]), tr.label if i == 0 else None,
                    altitude_mode="absolute", begin=iso_time(tr.t[i]), end=iso_time(t1), style=icon)
        # the path flown so far: segments that appear as the threat passes them
        idx = list(range(0, n, trail_every))
        if idx[-1] != n - 1:
            idx.append(n - 1)
        trail = k.line_style(col, 200, 2)
        for a, b in zip(idx[:-1], idx[1:]):
            k.line(f, [(tr.lon[i], tr.lat[i], tr.alt[i]) for i in range(a, b + 1)], begin=iso_time(tr.t[b]),
                   style=trail)
    mis_f = k.folder(folder, "Missiles")
    icon = k.icon_style("missile", 0.6)
    line = k.line_style("#1b9e77", 220, 2)
    for fl in pb.flyouts:
        f = k.folder(mis_f, f"{fl.unit} → {fl.threat} at {fl.t_launch:,.0f} s ({fl.outcome})")
        k.line(f, [fl.start, fl.end],
               description=f"{fl.missiles} × {fl.system} from {fl.unit} at {fl.threat}: launched "
                           f"{fl.t_launch:,.0f} s, {fl.outcome} at {fl.t_end:,.0f} s",
               begin=iso_time(fl.t_launch), end=iso_time(fl.t_end + 10.0), style=line)
        ts = np.linspace(fl.t_launch, fl.t_end, min(max(int(np.ceil(fl.t_end - fl.t_launch)), 1), 30) + 1)
        for i in range(len(ts) - 1):
            k.point(f, fl.position(ts[i]), altitude_mode="absolute", begin=iso_time(ts[i]),
                    end=iso_time(ts[i + 1]), style=icon)
    ev_f = k.folder(folder, "Events")
    for fl in pb.flyouts:
        k.point(ev_f, fl.start, f"launch {fl.unit}", altitude_mode="absolute",
                description=f"{fl.missiles} missile(s) at {fl.threat}, t = {fl.t_launch:,.0f} s",
                begin=iso_time(fl.t_launch), end=iso_time(fl.t_launch + 15.0), style=k.icon_style("launch"))
        if fl.outcome in ("kill", "miss"):
            k.point(ev_f, fl.end, f"{fl.outcome} {fl.threat}", altitude_mode="absolute",
                    description=f"{fl.outcome} by {fl.unit} at t = {fl.t_end:,.0f} s, {fl.end[2]:,.0f} m "
                                "above mean sea level",
                    begin=iso_time(fl.t_end), end=iso_time(fl.t_end + 20.0) if fl.outcome == "miss" else None,
                    style=k.icon_style(fl.outcome))
    for tr in pb.tracks:
        if tr.fate == "leaked":
            k.point(ev_f, (tr.lon[-1], tr.lat[-1], tr.alt[-1]), f"leak {tr.label}", altitude_mode="absolute",
                    description=f"{tr.label} reached its target at t = {tr.t1:,.0f} s",
                    begin=iso_time(tr.t1), style=k.icon_style("leak"))


def _aggregate(k: KmlDoc, results, max_points: int = MAX_AGGREGATE_POINTS) -> None:
    w = results.world
    df = results.replications
    kills = df[df["killed"] & np.isfinite(df["kill_lat"])]
    note = None
    if len(kills) > max_points:
        note = f"{max_points:,} of {len(kills):,} kills, evenly subsampled."
        kills = kills.iloc[np.unique(np.linspace(0, len(kills) - 1, max_points).round().astype(int))]
    f = k.folder(None, f"Kills, all replications ({int(df['killed'].sum()):,})", visibility=False,
                 description=note)
    icon = k.icon_style("kill", 0.6)
    for r in kills.itertuples(index=False):
        k.point(f, (r.kill_lon, r.kill_lat, r.kill_alt_m), altitude_mode="absolute", visibility=False,
                description=f"replication {r.replication}: {r.threat} killed by {r.killed_by} at "
                            f"t = {r.kill_time_s:,.0f} s", style=icon)
    leaks = df[df["leaked"]].groupby("threat", sort=False).size()
    g = k.folder(None, f"Leaks, all replications ({int(leaks.sum()):,})", visibility=False)
    labels = list(w.threat_labels)
    for thr, count in leaks.items():
        m = labels.index(thr)
        pos = w.pos[: int(min(w.end_step[m], w.nsteps - 1)) + 1, m]
        ok = np.flatnonzero(np.isfinite(pos[:, 0]))
        if not len(ok):
            continue
        x, y, z = pos[ok[-1]]
        lon, lat = w.grid.to_lonlat(x, y)
        k.point(g, (lon, lat, z), f"{thr}: {count:,}", altitude_mode="absolute", visibility=False,
                description=f"{thr} reached its target in {count:,} of {results.n:,} replications "
                            f"({_pct(count / results.n)}).", style=k.icon_style("leak"))


def run_kml(results, heights_agl_m=LAYER_HEIGHTS_AGL_M) -> KmlDoc:
    """The run's KML document (see the module docstring)."""
    w = results.world
    s = w.scenario
    k = KmlDoc(f"iadsim run: {s.title or s.name}",
               description=f"Scenario {s.name}, {results.n:,} replications, seed {results.seed}, fidelity "
                           f"{s.simulation.fidelity}, iadsim {results.version}. Altitudes are above mean sea "
                           f"level. Scenario time 0 is shown as {iso_time(0)} (notional).")
    k.look_at(float(w.grid.lon0), float(w.grid.lat0), float(max(w.grid.nx, w.grid.ny) * w.grid.res * 1.3),
              tilt=30.0)
    _sites(k, results)
    _envelopes(k, results)
    k.add_overlays(None, w.grid, coverage_overlays(w, heights_agl_m), prefix="coverage", radio=True)
    _routes(k, results)
    _playback(k, replication_playback(results))
    _aggregate(k, results)
    return k


def write_run_kmz(results, path: str | Path, heights_agl_m=LAYER_HEIGHTS_AGL_M) -> Path:
    """Write the run's KMZ (see the module docstring) to ``path``, atomically."""
    return run_kml(results, heights_agl_m).write_kmz(path)
