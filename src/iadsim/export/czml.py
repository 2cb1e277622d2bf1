"""CZML of a run for Cesium: the terrain as a hillshade image, coverage per height, sites and
fire-unit envelopes, planned routes, and one replication in time: threats and missiles moving,
kills and leaks appearing.

Built from czml3's pydantic classes, so a document that is written is valid against czml3's
models by construction (``czml3.Document.model_validate_json`` reads it back).

Packets (ids), for viewers that toggle layers (``web/viewer.html`` does):

* ``document``: clock over the recorded replication, from :data:`~iadsim.report.playback.SCENARIO_EPOCH`.
* ``terrain``: rectangle with the hillshade (a PNG data URI).
* ``coverage`` and ``coverage/<H>m``: rectangles, radars in line of sight at H m above ground
  (only the 300 m one shown at first).
* ``sites`` and ``site/<name>``: assets, fire units and radars.
* ``envelopes`` and ``envelope/<unit>``: each fire unit's engagement envelope as the run decides
  it against a hovering target (:mod:`iadsim.coverage.envelope`): the outline in the vertical plane
  revolved, as rings at :data:`ENVELOPE_LEVELS` heights above the site (``envelope/<unit>/ring/<k>``,
  the range engaged at that height, clipped to the launcher's sector) and translucent extruded
  bands between them (``envelope/<unit>/band/<k>``).
* ``routes`` and ``route/<threat>``: planned paths (altitudes above mean sea level).
* ``threats`` and ``threat/<label>``; ``missiles`` and ``missile/<k>``; ``events`` and
  ``event/<k>``: the replication.
* ``kills`` and ``kill/<k>``: kill positions across all replications (at most 1,000).
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
from czml3 import CZML_VERSION, Document, Packet
from czml3.enums import ClockRanges, ClockSteps, HorizontalOrigins, InterpolationAlgorithms, LabelStyles, \
    VerticalOrigins
from czml3.properties import (
    Billboard,
    Clock,
    Color,
    ImageMaterial,
    Label,
    Material,
    Path as CzPath,
    Point,
    Polyline,
    PolylineMaterial,
    Polygon,
    PolylineOutlineMaterial,
    Position,
    PositionList,
    PositionListOfLists,
    Rectangle,
    RectangleCoordinates,
    SolidColorMaterial,
    Uri,
)
from czml3.types import Cartesian2Value, TimeInterval

from iadsim.coverage.envelope import (
    ENGAGEMENT_LEAVES_OUT, ENGAGEMENT_TARGET, envelope_rings, ring_outline_xy, unit_envelope_of_world,
)
from iadsim.export.kml import icon_png, overlay_png
from iadsim.report.playback import SCENARIO_EPOCH, iso_time, replication_playback
from iadsim.results.io import write_text

__all__ = ["czml_json", "run_czml", "write_run_czml"]

MAX_KILLS = 1000
#: slices of each fire unit's envelope drawn (rings at evenly spaced heights above the site)
ENVELOPE_LEVELS = 8
ROUTE_COLOURS = ("#d62728", "#e377c2", "#ff7f0e", "#9467bd", "#8c564b", "#17becf", "#bcbd22",
                 "#1f77b4")


def _rgba(hex_rgb: str, alpha: int = 255) -> Color:
    h = hex_rgb.lstrip("#")
    return Color(rgba=[int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), alpha])


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _interval(t0: float, t1: float) -> TimeInterval:
    return TimeInterval(start=iso_time(t0), end=iso_time(max(t1, t0 + 1e-3)))


def _lonlat_image(world, rgb_or_values, kind: str | None, vmax: float = 1.0):
    """A local-grid image reprojected to lon/lat: (PNG bytes, [west, south, east, north])."""
    from rasterio.warp import Resampling

    from iadsim.export.georaster import to_crs

    if kind is None:  # an RGB image [ny, nx, 3] in 0..1
        chans = []
        for c in range(3):
            ll, transform, w, h = to_crs(world.grid, rgb_or_values[..., c], "EPSG:4326", Resampling.bilinear)
            chans.append(ll)
        from PIL import Image

        arr = np.dstack(chans)
        alpha = np.isfinite(arr[..., 0])
        img = np.dstack([np.nan_to_num(arr) * 255, alpha * 255]).clip(0, 255).astype(np.uint8)
        buf = io.BytesIO()
        Image.fromarray(img, "RGBA").quantize(colors=255, method=Image.Quantize.FASTOCTREE).save(
            buf, format="PNG", optimize=True)
        png = buf.getvalue()
    else:
        ll, transform, w, h = to_crs(world.grid, rgb_or_values.astype(np.float32), "EPSG:4326",
                                     Resampling.nearest)
        png = overlay_png(ll, kind, vmax)
    west, north = transform.c, transform.f
    east, south = west + transform.a * w, north + transform.e * h
    return png, [float(west), float(south), float(east), float(north)]


def _lonlat_alt(world, xy: np.ndarray, alt: float) -> list[float]:
    """Local [2, n] points [m] at altitude ``alt`` [m MSL] as CZML cartographic degrees."""
    lon, lat = world.grid.to_lonlat(xy[0], xy[1])
    out: list[float] = []
    for lo, la in zip(np.atleast_1d(lon), np.atleast_1d(lat)):
        out += [round(float(lo), 7), round(float(la), 7), round(float(alt), 1)]
    return out


def _envelope_packets(world, env, rings) -> list[Packet]:
    """A fire unit's envelope as the engine has it (:func:`iadsim.coverage.envelope.envelope_rings`):
    ``envelope/<unit>`` with, per slice, ``envelope/<unit>/ring/<k>`` (the outline at that height
    above the site, clipped to the launcher's sector) and between slices
    ``envelope/<unit>/band/<k>`` (a translucent extruded polygon from one slice's height to the
    next, the smaller of the two outlines, holed by the larger minimum range)."""
    pid = f"envelope/{env.name}"
    desc = (f"{env.name} ({env.system}): where it engages a hovering target, as the run decides "
            f"({ENGAGEMENT_TARGET}). Slices (height above the site: ground range engaged): "
            + "; ".join(f"{r.height_m:,.0f} m: {r.inner_m / 1000:.2f}-{r.outer_m / 1000:.2f} km" for r in rings)
            + f". Leaves out: {ENGAGEMENT_LEAVES_OUT}.")
    out = [Packet(id=pid, name=f"{env.name}: engagement envelope", parent="envelopes", description=desc)]
    line = PolylineMaterial(solidColor=SolidColorMaterial(color=_rgba("#b2182b", 200)))
    for k, r in enumerate(rings):
        outer, hole = ring_outline_xy(env, r.inner_m, r.outer_m)
        alt = env.ground + r.height_m
        out.append(Packet(
            id=f"{pid}/ring/{k}", parent=pid, name=f"{env.name}: {r.height_m:,.0f} m above the site",
            polyline=Polyline(positions=PositionList(cartographicDegrees=_lonlat_alt(world, outer, alt)),
                              width=1.5, material=line)))
        if hole is not None:
            out.append(Packet(
                id=f"{pid}/ring/{k}/inner", parent=pid, name=f"{env.name}: {r.height_m:,.0f} m, minimum range",
                polyline=Polyline(positions=PositionList(cartographicDegrees=_lonlat_alt(world, hole, alt)),
                                  width=1.0, material=line)))
    for k, (a, b) in enumerate(zip(rings[:-1], rings[1:])):
        outer, hole = ring_outline_xy(env, max(a.inner_m, b.inner_m), min(a.outer_m, b.outer_m))
        out.append(Packet(
            id=f"{pid}/band/{k}", parent=pid,
            name=f"{env.name}: {a.height_m:,.0f}-{b.height_m:,.0f} m above the site",
            polygon=Polygon(
                positions=PositionList(cartographicDegrees=_lonlat_alt(world, outer[:, :-1], env.ground + a.height_m)),
                holes=None if hole is None else PositionListOfLists(
                    cartographicDegrees=[_lonlat_alt(world, hole[:, :-1], env.ground + a.height_m)]),
                height=env.ground + a.height_m, extrudedHeight=env.ground + b.height_m, fill=True, outline=False,
                material=Material(solidColor=SolidColorMaterial(color=_rgba("#b2182b", 25))))))
    return out


def _folder(pid: str, name: str) -> Packet:
    return Packet(id=pid, name=name)


def run_czml(results, heights_agl_m=None) -> Document:
    """The run's CZML document (see the module docstring)."""
    from iadsim.export.kml_run import LAYER_HEIGHTS_AGL_M, coverage_overlays
    from iadsim.report.maps import _terrain_rgb

    w = results.world
    s = w.scenario
    heights = LAYER_HEIGHTS_AGL_M if heights_agl_m is None else heights_agl_m
    pb = replication_playback(results)
    t_end = max(pb.t_end + 30.0, 60.0)
    epoch = iso_time(0)
    packets: list[Packet] = [Packet(
        id="document", name=f"iadsim run: {s.title or s.name}", version=CZML_VERSION,
        clock=Clock(interval=_interval(0.0, t_end), currentTime=epoch, multiplier=10.0,
                    range=ClockRanges.LOOP_STOP, step=ClockSteps.SYSTEM_CLOCK_MULTIPLIER))]

    # terrain and coverage images
    png, wsen = _lonlat_image(w, _terrain_rgb(w.terrain), None)
    packets.append(Packet(id="terrain", name="terrain (hillshade of the DEM)", rectangle=Rectangle(
        coordinates=RectangleCoordinates(wsenDegrees=wsen),
        material=Material(image=ImageMaterial(image=Uri(uri=_data_uri(png)))))))
    packets.append(_folder("coverage", "coverage: radars in line of sight"))
    for ov, h in zip(coverage_overlays(w, heights), heights):
        png, wsen = _lonlat_image(w, ov.values, ov.kind, ov.vmax)
        packets.append(Packet(
            id=f"coverage/{h:g}m", name=f"coverage {h:g} m above ground", parent="coverage",
            description=ov.description, rectangle=Rectangle(
                show=ov.visible, coordinates=RectangleCoordinates(wsenDegrees=wsen),
                material=Material(image=ImageMaterial(image=Uri(uri=_data_uri(png)), transparent=True)))))

    # sites and envelopes
    packets.append(_folder("sites", "sites"))
    icons = {k: _data_uri(icon_png(k)) for k in ("asset", "fire unit", "radar", "kill", "leak")}

    def site(pid, name, lon, lat, alt, kind, desc):
        packets.append(Packet(
            id=pid, name=name, parent="sites", description=desc,
            position=Position(cartographicDegrees=[float(lon), float(lat), float(alt)]),
            billboard=Billboard(image=icons[kind], verticalOrigin=VerticalOrigins.CENTER),
            label=Label(text=name, font="12px sans-serif", style=LabelStyles.FILL_AND_OUTLINE,
                        outlineWidth=2.0, fillColor=_rgba("#ffffff"), outlineColor=_rgba("#000000"),
                        pixelOffset=Cartesian2Value(values=[12.0, -12.0]), horizontalOrigin=HorizontalOrigins.LEFT)))

    for a in s.assets:
        ax, ay = w.grid.to_local(a.lat, a.lon)
        site(f"site/{a.name}", a.name, a.lon, a.lat, float(w.terrain.height_at(ax, ay)), "asset",
             f"defended asset, value {a.value:g}")
    sx = np.asarray(w.sensor_xyz, dtype=float).reshape(-1, 3)
    lon, lat = w.grid.to_lonlat(sx[:, 0], sx[:, 1])
    lon, lat = np.atleast_1d(lon), np.atleast_1d(lat)
    packets.append(_folder("envelopes", "engagement envelopes (as the run decides, hovering target)"))
    from iadsim.effectors import shot_names
    from iadsim.sensors import sensor_display_name

    shots = shot_names(w)   # missiles, bursts, ... as each unit's weapon type names its shots
    for i, name in enumerate(w.effector_labels):
        env = unit_envelope_of_world(w, i)
        rings = envelope_rings(env, ENVELOPE_LEVELS)
        site(f"site/{name}", name, lon[i], lat[i], env.ground, "fire unit",
             f"fire unit: {w.effector_system[i]}, {int(w.ready[i])} ready {shots[i]}, maximum engagement "
             f"range {env.range_max_m / 1000:g} km (slant)")
        packets += _envelope_packets(w, env, rings)
    for i in range(len(w.effector_labels), len(w.sensor_labels)):
        site(f"site/{w.sensor_labels[i]}", w.sensor_labels[i], lon[i], lat[i], sx[i, 2], "radar",
             f"{_lower_first(sensor_display_name(w.loaded.catalog[w.sensor_system[i]]))}: {w.sensor_system[i]}")

    # planned routes
    packets.append(_folder("routes", "planned routes"))
    for i, (thr, route) in enumerate(zip(s.threats, w.route_lonlat)):
        if len(route) < 2:
            continue
        flat = [round(float(v), 7) for v in np.asarray(route, dtype=float).ravel()]
        packets.append(Packet(
            id=f"route/{thr.name}", name=f"planned route: {thr.name}", parent="routes",
            polyline=Polyline(positions=PositionList(cartographicDegrees=flat), width=2.0,
                              material=PolylineMaterial(polylineOutline=PolylineOutlineMaterial(
                                  color=_rgba(ROUTE_COLOURS[i % len(ROUTE_COLOURS)], 170),
                                  outlineColor=_rgba("#ffffff", 120), outlineWidth=1.0)))))

    # the replication
    packets.append(_folder("threats", f"threats, replication {pb.replication}"))
    for j, tr in enumerate(pb.tracks):
        col = ROUTE_COLOURS[j % len(ROUTE_COLOURS)]
        samples: list[float] = []
        for t, lo, la, al in zip(tr.t, tr.lon, tr.lat, tr.alt):
            samples += [float(t), round(float(lo), 7), round(float(la), 7), round(float(al), 1)]
        if len(tr.t) == 1:
            samples += [float(tr.t[0]) + 1.0] + samples[1:4]
        packets.append(Packet(
            id=f"threat/{tr.label}", name=tr.label, parent="threats",
            description=f"{tr.type}; {tr.fate}" + (f" by {tr.killed_by}" if tr.killed_by else ""),
            availability=_interval(tr.t0, tr.t1),
            position=Position(epoch=epoch, cartographicDegrees=samples,
                              interpolationAlgorithm=InterpolationAlgorithms.LINEAR, interpolationDegree=1),
            point=Point(pixelSize=9.0, color=_rgba(col), outlineColor=_rgba("#ffffff"), outlineWidth=1.5),
            label=Label(text=tr.label, font="11px sans-serif", style=LabelStyles.FILL_AND_OUTLINE,
                        outlineWidth=2.0, fillColor=_rgba(col), outlineColor=_rgba("#000000"),
                        pixelOffset=Cartesian2Value(values=[10.0, 0.0]), horizontalOrigin=HorizontalOrigins.LEFT),
            path=CzPath(leadTime=0.0, trailTime=300.0, width=2.0, resolution=5.0,
                        material=PolylineMaterial(solidColor=SolidColorMaterial(color=_rgba(col, 200))))))
    packets.append(_folder("missiles", f"missiles, replication {pb.replication}"))
    for k, fl in enumerate(pb.flyouts):
        t1 = fl.t_end if fl.t_end > fl.t_launch else fl.t_launch + 1.0
        packets.append(Packet(
            id=f"missile/{k}", name=f"{fl.missiles} × {fl.system} from {fl.unit} at {fl.threat}",
            parent="missiles", description=f"launched {fl.t_launch:,.0f} s, {fl.outcome} at {fl.t_end:,.0f} s",
            availability=_interval(fl.t_launch, t1),
            position=Position(epoch=epoch, cartographicDegrees=[
                float(fl.t_launch), *map(float, fl.start), float(t1), *map(float, fl.end)],
                interpolationAlgorithm=InterpolationAlgorithms.LINEAR, interpolationDegree=1),
            point=Point(pixelSize=6.0, color=_rgba("#1b9e77"), outlineColor=_rgba("#ffffff"), outlineWidth=1.0),
            path=CzPath(leadTime=0.0, trailTime=60.0, width=1.5,
                        material=PolylineMaterial(solidColor=SolidColorMaterial(color=_rgba("#66c2a5", 220))))))
    packets.append(_folder("events", f"kills and leaks, replication {pb.replication}"))
    k = 0
    for fl in pb.flyouts:
        if fl.outcome == "kill":
            packets.append(Packet(
                id=f"event/{k}", name=f"kill {fl.threat}", parent="events",
                description=f"killed by {fl.unit} at {fl.t_end:,.0f} s",
                availability=_interval(fl.t_end, t_end),
                position=Position(cartographicDegrees=[float(v) for v in fl.end]),
                billboard=Billboard(image=icons["kill"], scale=0.8)))
            k += 1
    for tr in pb.tracks:
        if tr.fate == "leaked":
            packets.append(Packet(
                id=f"event/{k}", name=f"leak {tr.label}", parent="events",
                description=f"reached its target at {tr.t1:,.0f} s", availability=_interval(tr.t1, t_end),
                position=Position(cartographicDegrees=[float(tr.lon[-1]), float(tr.lat[-1]), float(tr.alt[-1])]),
                billboard=Billboard(image=icons["leak"], scale=0.9)))
            k += 1

    # kills across all replications
    df = results.replications
    kills = df[df["killed"] & np.isfinite(df["kill_lat"])]
    packets.append(_folder("kills", f"kill positions, all {results.n:,} replications"))
    if len(kills) > MAX_KILLS:
        kills = kills.iloc[np.unique(np.linspace(0, len(kills) - 1, MAX_KILLS).round().astype(int))]
    for i, r in enumerate(kills.itertuples(index=False)):
        packets.append(Packet(
            id=f"kill/{i}", parent="kills", name=f"{r.threat}, replication {r.replication}",
            description=f"killed by {r.killed_by} at {r.kill_time_s:,.0f} s",
            position=Position(cartographicDegrees=[float(r.kill_lon), float(r.kill_lat), float(r.kill_alt_m)]),
            point=Point(pixelSize=4.0, color=_rgba("#3b0000", 160))))
    return Document(packets=packets)


def czml_json(doc: Document) -> str:
    """The document as compact JSON that czml3 reads back.

    czml3 writes an image material's URI as a bare string, which its own ``ImageMaterial`` model
    does not accept when reading; CZML also allows the object form ``{"uri": ...}`` (Cesium reads
    both), which round-trips, so image materials are written that way.
    """
    packets = doc.to_dict()

    def fix(node):
        if isinstance(node, dict):
            mat = node.get("material")
            if isinstance(mat, dict) and isinstance(mat.get("image"), dict) \
                    and isinstance(mat["image"].get("image"), str):
                mat["image"]["image"] = {"uri": mat["image"]["image"]}
            for v in node.values():
                fix(v)
        elif isinstance(node, list):
            for v in node:
                fix(v)

    fix(packets)
    return json.dumps(packets, separators=(",", ":"), allow_nan=False)


def write_run_czml(results, path: str | Path, heights_agl_m=None) -> Path:
    """Write the run's CZML (compact JSON) to ``path``, atomically."""
    return write_text(path, czml_json(run_czml(results, heights_agl_m)))


# SCENARIO_EPOCH is re-exported for viewers written in Python
__all__ += ["SCENARIO_EPOCH"]


def _lower_first(text: str) -> str:
    """A display name in the lower case of CZML descriptions ("Radar" -> "radar"; "ESM receiver" kept)."""
    return text[:1].lower() + text[1:] if len(text) > 1 and text[1].islower() else text
