"""A run for Google Earth: one KMZ with the sites, coverage per altitude, the planned routes in
3-D, the recorded replication as a time-animated playback, and kills and leaks across all
replications.

Layout of the document (folders, in Google Earth's Places panel):

* **Sites**: assets (stars), fire units (triangles), stand-alone radars (squares), with their
  outcome statistics in the balloons.
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

import shutil
import tempfile
from pathlib import Path

import numpy as np
import simplekml
from markupsafe import escape

from iadsim.export.kml import Overlay, add_ground_overlays, write_icons
from iadsim.report.playback import Playback, iso_time, replication_playback
from iadsim.results.io import write_with

__all__ = ["LAYER_HEIGHTS_AGL_M", "coverage_overlays", "run_kml", "write_run_kmz"]

#: heights above ground [m] of the coverage layers (KMZ, CZML, GeoTIFF, GeoJSON, report map)
LAYER_HEIGHTS_AGL_M: tuple[float, ...] = (50.0, 150.0, 300.0, 1000.0, 3000.0)
MAX_AGGREGATE_POINTS = 2000
ROUTE_COLOURS = ("#d62728", "#e377c2", "#ff7f0e", "#9467bd", "#8c564b", "#17becf", "#bcbd22",
                 "#1f77b4")


def _kml_colour(hex_rgb: str, alpha: int = 255) -> str:
    """'#rrggbb' -> KML 'aabbggrr'."""
    h = hex_rgb.lstrip("#")
    return f"{alpha:02x}{h[4:6]}{h[2:4]}{h[0:2]}"


class _Styles:
    """Shared styles (one <Style> each in the document, referenced by styleUrl)."""

    def __init__(self, hrefs: dict[str, str]):
        self.hrefs = hrefs
        self._cache: dict[tuple, simplekml.Style] = {}

    def icon(self, kind: str, scale: float = 1.0) -> simplekml.Style:
        key = ("icon", kind, scale)
        if key not in self._cache:
            st = simplekml.Style()
            st.iconstyle.icon.href = self.hrefs[kind]
            st.iconstyle.scale = scale
            self._cache[key] = st
        return self._cache[key]

    def line(self, colour: str, alpha: int = 255, width: float = 2) -> simplekml.Style:
        key = ("line", colour, alpha, width)
        if key not in self._cache:
            st = simplekml.Style()
            st.linestyle.color = _kml_colour(colour, alpha)
            st.linestyle.width = width
            self._cache[key] = st
        return self._cache[key]


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


def _sites(kml, doc, results, icons) -> None:
    w = results.world
    s = w.scenario
    folder = doc.newfolder(name="Sites")
    at = results.asset_table().set_index("asset") if s.assets else None
    for a in s.assets:
        r = at.loc[a.name]
        desc = (f"Defended asset (value {a.value:g}, radius {a.radius_m:g} m).<br/>"
                f"{int(r['attackers'])} attacker(s); no threat reached it in {_pct(r['p_survive'])} of "
                f"{results.n:,} replications (95% CI {_pct(r['lo'])} – {_pct(r['hi'])}).")
        p = folder.newpoint(name=a.name, coords=[(a.lon, a.lat)], description=desc)
        p.style = icons.icon("asset")
    et = results.effector_table().set_index("effector") if w.effector_labels else None
    lon, lat = w.grid.to_lonlat(w.sensor_xyz[:, 0], w.sensor_xyz[:, 1]) if len(w.sensor_labels) else ([], [])
    lon, lat = np.atleast_1d(lon), np.atleast_1d(lat)
    for i, name in enumerate(w.effector_labels):
        r = et.loc[name]
        desc = (f"Fire unit: {escape(w.effector_system[i])}, {int(w.ready[i])} ready missiles.<br/>"
                f"Missiles fired per replication: {r['mean_missiles']:.2f} on average "
                f"(95% CI {max(r['lo'], 0):.2f} – {r['hi']:.2f}), at most {int(r['max_missiles'])}.")
        p = folder.newpoint(name=name, coords=[(float(lon[i]), float(lat[i]), float(w.effector_xyz[i, 2]))],
                            description=desc)
        p.style = icons.icon("fire unit")
    for i in range(len(w.effector_labels), len(w.sensor_labels)):
        p = folder.newpoint(name=w.sensor_labels[i], coords=[(float(lon[i]), float(lat[i]))],
                            description=f"Radar: {escape(w.sensor_system[i])}")
        p.style = icons.icon("radar")


def _routes(doc, results, icons) -> None:
    w = results.world
    folder = doc.newfolder(name="Planned routes")
    for i, (thr, route) in enumerate(zip(w.scenario.threats, w.route_lonlat)):
        if len(route) < 2:
            continue
        col = ROUTE_COLOURS[i % len(ROUTE_COLOURS)]
        ls = folder.newlinestring(name=thr.name if thr.count == 1 else f"{thr.name} (×{thr.count})",
                                  coords=[(float(a), float(b), float(c)) for a, b, c in route],
                                  description=f"{escape(thr.type)}; planned path, altitudes above mean sea "
                                              f"level{'; target ' + escape(thr.target) if thr.target else ''}.")
        ls.altitudemode = simplekml.AltitudeMode.absolute
        ls.tessellate = 0
        ls.style = icons.line(col, width=3)


def _playback(doc, pb: Playback, icons, stride_trail: int = 10) -> None:
    folder = doc.newfolder(name=f"Replication {pb.replication} (time animation)")
    folder.description = ("Play back with Google Earth's time slider. Scenario time 0 is shown as "
                          f"{iso_time(0)}.")
    thr_f = folder.newfolder(name="Threats")
    colour = {}
    for k, tr in enumerate(pb.tracks):
        col = ROUTE_COLOURS[k % len(ROUTE_COLOURS)]
        colour[tr.label] = col
        f = thr_f.newfolder(name=f"{tr.label} ({tr.type}, {tr.fate})")
        n = len(tr.t)
        for j in range(n):
            t0 = tr.t[j]
            t1 = tr.t[j + 1] if j + 1 < n else tr.t[j] + 1.0
            p = f.newpoint(name=tr.label if j == 0 else None,
                           coords=[(float(tr.lon[j]), float(tr.lat[j]), float(tr.alt[j]))])
            p.altitudemode = simplekml.AltitudeMode.absolute
            p.timespan.begin, p.timespan.end = iso_time(t0), iso_time(t1)
            p.style = icons.icon("threat", 0.8)
        # the path flown so far: segments that appear as the threat passes them
        idx = list(range(0, n, stride_trail))
        if idx[-1] != n - 1:
            idx.append(n - 1)
        for a, b in zip(idx[:-1], idx[1:]):
            seg = f.newlinestring(coords=[(float(tr.lon[j]), float(tr.lat[j]), float(tr.alt[j]))
                                          for j in range(a, b + 1)])
            seg.altitudemode = simplekml.AltitudeMode.absolute
            seg.timespan.begin = iso_time(tr.t[b])
            seg.style = icons.line(col, 200, width=2)
    mis_f = folder.newfolder(name="Missiles")
    for k, fl in enumerate(pb.flyouts):
        f = mis_f.newfolder(name=f"{fl.unit} → {fl.threat} at {fl.t_launch:,.0f} s ({fl.outcome})")
        line = f.newlinestring(name=None, coords=[fl.start, fl.end],
                               description=f"{fl.missiles} × {escape(fl.system)} from {escape(fl.unit)} at "
                                           f"{escape(fl.threat)}: launched {fl.t_launch:,.0f} s, "
                                           f"{fl.outcome} at {fl.t_end:,.0f} s")
        line.altitudemode = simplekml.AltitudeMode.absolute
        line.timespan.begin, line.timespan.end = iso_time(fl.t_launch), iso_time(fl.t_end + 10.0)
        line.style = icons.line("#1b9e77", 220, width=2)
        steps = max(int(np.ceil(fl.t_end - fl.t_launch)), 1)
        ts = np.linspace(fl.t_launch, fl.t_end, min(steps, 30) + 1)
        for j in range(len(ts) - 1):
            p = f.newpoint(coords=[fl.position(ts[j])])
            p.altitudemode = simplekml.AltitudeMode.absolute
            p.timespan.begin, p.timespan.end = iso_time(ts[j]), iso_time(ts[j + 1])
            p.style = icons.icon("missile", 0.6)
    ev_f = folder.newfolder(name="Events")
    for fl in pb.flyouts:
        p = ev_f.newpoint(name=f"launch {fl.unit}", coords=[fl.start],
                          description=f"{fl.missiles} missile(s) at {escape(fl.threat)}, t = {fl.t_launch:,.0f} s")
        p.altitudemode = simplekml.AltitudeMode.absolute
        p.timespan.begin, p.timespan.end = iso_time(fl.t_launch), iso_time(fl.t_launch + 15.0)
        p.style = icons.icon("launch")
        if fl.outcome in ("kill", "miss"):
            q = ev_f.newpoint(name=f"{fl.outcome} {fl.threat}", coords=[fl.end],
                              description=f"{fl.outcome} by {escape(fl.unit)} at t = {fl.t_end:,.0f} s, "
                                          f"{fl.end[2]:,.0f} m above mean sea level")
            q.altitudemode = simplekml.AltitudeMode.absolute
            q.timespan.begin = iso_time(fl.t_end)
            if fl.outcome == "miss":
                q.timespan.end = iso_time(fl.t_end + 20.0)
            q.style = icons.icon(fl.outcome)
    for tr in pb.tracks:
        if tr.fate == "leaked":
            q = ev_f.newpoint(name=f"leak {tr.label}", coords=[(float(tr.lon[-1]), float(tr.lat[-1]),
                                                                float(tr.alt[-1]))],
                              description=f"{escape(tr.label)} reached its target at t = {tr.t1:,.0f} s")
            q.altitudemode = simplekml.AltitudeMode.absolute
            q.timespan.begin = iso_time(tr.t1)
            q.style = icons.icon("leak")


def _aggregate(doc, results, icons, max_points: int = MAX_AGGREGATE_POINTS) -> None:
    w = results.world
    df = results.replications
    k = df[df["killed"] & np.isfinite(df["kill_lat"])]
    f = doc.newfolder(name=f"Kills, all replications ({len(k):,})")
    f.visibility = 0
    if len(k) > max_points:
        f.description = f"{max_points:,} of {len(k):,} kills, evenly subsampled."
        k = k.iloc[np.unique(np.linspace(0, len(k) - 1, max_points).round().astype(int))]
    for r in k.itertuples(index=False):
        p = f.newpoint(coords=[(float(r.kill_lon), float(r.kill_lat), float(r.kill_alt_m))],
                       description=f"replication {r.replication}: {escape(r.threat)} killed by "
                                   f"{escape(r.killed_by)} at t = {r.kill_time_s:,.0f} s")
        p.altitudemode = simplekml.AltitudeMode.absolute
        p.visibility = 0
        p.style = icons.icon("kill", 0.6)
    leaks = df[df["leaked"]].groupby("threat").size()
    g = doc.newfolder(name=f"Leaks, all replications ({int(leaks.sum()):,})")
    g.visibility = 0
    labels = list(w.threat_labels)
    for thr, count in leaks.items():
        m = labels.index(thr)
        s = int(min(w.end_step[m], w.nsteps - 1))
        pos = w.pos[:s + 1, m]
        ok = np.flatnonzero(np.isfinite(pos[:, 0]))
        if not len(ok):
            continue
        x, y, z = pos[ok[-1]]
        lon, lat = w.grid.to_lonlat(x, y)
        p = g.newpoint(name=f"{thr}: {count:,}", coords=[(float(lon), float(lat), float(z))],
                       description=f"{escape(thr)} reached its target in {count:,} of {results.n:,} "
                                   f"replications ({_pct(count / results.n)}).")
        p.altitudemode = simplekml.AltitudeMode.absolute
        p.visibility = 0
        p.style = icons.icon("leak")


def run_kml(results, work: Path, heights_agl_m=LAYER_HEIGHTS_AGL_M) -> simplekml.Kml:
    """The run's KML document (images written to ``work``, to be packed by ``savekmz``)."""
    w = results.world
    s = w.scenario
    kml = simplekml.Kml(name=f"iadsim: {s.name}")
    doc = kml.document
    doc.name = f"iadsim run: {s.title or s.name}"
    doc.description = (f"Scenario {s.name}, {results.n:,} replications, seed {results.seed}, fidelity "
                       f"{s.simulation.fidelity}, iadsim {results.version}. Altitudes are above mean sea "
                       f"level. Scenario time 0 is shown as {iso_time(0)} (notional).")
    doc.lookat.latitude, doc.lookat.longitude = float(w.grid.lat0), float(w.grid.lon0)
    doc.lookat.range = float(max(w.grid.nx, w.grid.ny) * w.grid.res * 1.4)
    doc.lookat.tilt = 35.0
    doc.lookat.heading = 0.0
    icons = _Styles(write_icons(kml, work, ["asset", "fire unit", "radar", "threat", "missile", "launch",
                                            "kill", "miss", "leak"]))
    _sites(kml, doc, results, icons)
    add_ground_overlays(kml, doc, w.grid, coverage_overlays(w, heights_agl_m), work, prefix="coverage",
                        radio=True)
    _routes(doc, results, icons)
    _playback(doc, replication_playback(results), icons)
    _aggregate(doc, results, icons)
    return kml


def write_run_kmz(results, path: str | Path, heights_agl_m=LAYER_HEIGHTS_AGL_M) -> Path:
    """Write the run's KMZ (see the module docstring) to ``path``, atomically."""
    path = Path(path)
    work = Path(tempfile.mkdtemp(prefix=".kmz-", dir=path.parent))
    try:
        kml = run_kml(results, work, heights_agl_m)
        write_with(path, lambda tmp: kml.savekmz(str(tmp), format=False))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return path
