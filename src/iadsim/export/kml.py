"""KML/KMZ for Google Earth: coverage as ground overlays, sites as placemarks.

The documents are written with a small builder (:class:`KmlDoc`) that emits the elements in the
order the OGC KML 2.2 schema requires and only OGC KML elements (no ``gx:`` extensions);
``tests/test_exports.py`` validates them against ``ogckml22.xsd`` (the schema files shipped by the
pykml package, checked with lxml) when those are installed. Everything a KMZ shows is inside it
(overlay images and the site icons), so it opens offline.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from rasterio.warp import Resampling

from iadsim.export.georaster import to_crs
from iadsim.geo.grid import LocalGrid

__all__ = ["ICON_COLOURS", "KML_NS", "KmlDoc", "Overlay", "icon_png", "kml_colour", "overlay_png",
           "write_kmz"]

KML_NS = "http://www.opengis.net/kml/2.2"


@dataclass
class Overlay:
    """One coverage layer: a local-grid array and how to colour it."""

    name: str
    folder: str
    values: np.ndarray          # [ny, nx]; NaN or 0 (for counts) is transparent
    kind: str                   # "count" or "altitude"
    vmax: float
    description: str = ""
    visible: bool = False


#: icon of each kind of placemark: (shape, fill colour)
ICON_COLOURS: dict[str, tuple[str, str]] = {
    "asset": ("star", "#ffd92f"),
    "fire unit": ("triangle", "#b2182b"),
    "radar": ("square", "#08306b"),
    "threat": ("diamond", "#d62728"),
    "missile": ("circle", "#1b9e77"),
    "launch": ("triangle", "#1b9e77"),
    "kill": ("cross", "#3b0000"),
    "miss": ("circle-open", "#8c510a"),
    "leak": ("burst", "#ff7f00"),
}


def icon_png(kind: str, size: int = 32) -> bytes:
    """A small RGBA PNG icon for a placemark kind (see :data:`ICON_COLOURS`)."""
    from PIL import Image, ImageDraw

    shape, colour = ICON_COLOURS.get(kind, ("circle", "#444444"))
    s = size * 4  # draw large, then downsample (anti-aliasing)
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    c = s / 2
    r = s * 0.42
    edge = (255, 255, 255, 255) if shape not in ("cross", "circle-open") else None
    w = max(s // 14, 2)
    if shape == "triangle":
        pts = [(c, c - r), (c + r * 0.95, c + r * 0.75), (c - r * 0.95, c + r * 0.75)]
        d.polygon(pts, fill=colour, outline=edge, width=w)
    elif shape == "square":
        d.rectangle([c - r * 0.75, c - r * 0.75, c + r * 0.75, c + r * 0.75], fill=colour, outline=edge, width=w)
    elif shape == "diamond":
        d.polygon([(c, c - r), (c + r * 0.7, c), (c, c + r), (c - r * 0.7, c)], fill=colour, outline=edge, width=w)
    elif shape in ("star", "burst"):
        n = 5 if shape == "star" else 8
        inner = 0.45 if shape == "star" else 0.55
        ang = np.linspace(-np.pi / 2, 1.5 * np.pi, 2 * n, endpoint=False)
        rad = np.where(np.arange(2 * n) % 2 == 0, r, r * inner)
        d.polygon([(c + a * np.cos(b), c + a * np.sin(b)) for a, b in zip(rad, ang)], fill=colour,
                  outline=(0, 0, 0, 255), width=w)
    elif shape == "cross":
        for sgn in (1, -1):
            d.line([(c - r, c - sgn * r), (c + r, c + sgn * r)], fill=(255, 255, 255, 255), width=3 * w)
            d.line([(c - r, c - sgn * r), (c + r, c + sgn * r)], fill=colour, width=2 * w)
    elif shape == "circle-open":
        d.ellipse([c - r, c - r, c + r, c + r], outline=colour, width=2 * w)
    else:
        d.ellipse([c - r * 0.8, c - r * 0.8, c + r * 0.8, c + r * 0.8], fill=colour, outline=edge, width=w)
    img = img.resize((size, size), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def overlay_png(values_ll: np.ndarray, kind: str, vmax: float) -> bytes:
    """RGBA PNG of a geographic (lat/lon) array: counts in a sequential colour map, 0/NaN transparent."""
    v = np.asarray(values_ll, dtype=float)
    if kind == "count":
        cmap = colormaps["viridis"].resampled(max(int(vmax), 1))
        norm = np.clip((v - 1) / max(vmax - 1, 1), 0, 1)
        rgba = cmap(np.nan_to_num(norm))
        rgba[..., 3] = np.where(np.isfinite(v) & (v >= 1), 0.55, 0.0)
    else:
        cmap = colormaps["magma_r"]
        rgba = cmap(np.clip(np.nan_to_num(v) / max(vmax, 1e-9), 0, 1))
        rgba[..., 3] = np.where(np.isfinite(v), 0.6, 0.0)
    fig = Figure(figsize=(v.shape[1] / 100, v.shape[0] / 100), dpi=100)
    fig.figimage(rgba, origin="upper")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, transparent=True)
    return buf.getvalue()


def kml_colour(hex_rgb: str, alpha: int = 255) -> str:
    """'#rrggbb' -> KML 'aabbggrr'."""
    h = hex_rgb.lstrip("#")
    return f"{alpha:02x}{h[4:6]}{h[2:4]}{h[0:2]}"


def _sub(parent: ET.Element, tag: str, text=None) -> ET.Element:
    e = ET.SubElement(parent, f"{{{KML_NS}}}{tag}")
    if text is not None:
        e.text = text if isinstance(text, str) else _num(text)
    return e


def _num(v) -> str:
    f = float(v)
    return f"{f:.7f}".rstrip("0").rstrip(".") if f != int(f) else str(int(f))


def _coord(c) -> str:
    lon, lat = float(c[0]), float(c[1])
    s = f"{lon:.7f},{lat:.7f}"
    if len(c) > 2:
        s += f",{float(c[2]):.1f}"
    return s


class KmlDoc:
    """A KML document built in schema order: features are appended to containers with
    :meth:`folder`, :meth:`point`, :meth:`line` and :meth:`ground_overlay`; shared styles are
    created on demand (:meth:`icon_style`, :meth:`line_style`) and written at the top of the
    Document; files (images) go into the KMZ under ``files/``."""

    def __init__(self, name: str, description: str | None = None):
        ET.register_namespace("", KML_NS)
        self.root = ET.Element(f"{{{KML_NS}}}kml")
        self.doc = _sub(self.root, "Document")
        self._head = [("name", name)] + ([("description", description)] if description else [])
        self._view: tuple | None = None
        self._styles: list[ET.Element] = []
        self._style_ids: dict[tuple, str] = {}
        self.files: dict[str, bytes] = {}
        self._features: list[ET.Element] = []

    # ---------- resources
    def add_file(self, name: str, data: bytes) -> str:
        href = f"files/{name}"
        self.files[href] = data
        return href

    def _style(self, key: tuple, build) -> str:
        if key not in self._style_ids:
            sid = f"s{len(self._style_ids)}"
            st = ET.Element(f"{{{KML_NS}}}Style", id=sid)
            build(st)
            self._styles.append(st)
            self._style_ids[key] = sid
        return "#" + self._style_ids[key]

    def icon_style(self, kind: str, scale: float = 1.0) -> str:
        """styleUrl of an icon style for ``kind`` (see :data:`ICON_COLOURS`); the icon goes in the KMZ."""
        href = f"files/icon-{kind.replace(' ', '-')}.png"
        if href not in self.files:
            self.files[href] = icon_png(kind)

        def build(st):
            ic = _sub(st, "IconStyle")
            _sub(ic, "scale", scale)
            _sub(_sub(ic, "Icon"), "href", href)
            lab = _sub(st, "LabelStyle")
            _sub(lab, "scale", 0.8)
        return self._style(("icon", kind, scale), build)

    def line_style(self, colour: str, alpha: int = 255, width: float = 2.0) -> str:
        def build(st):
            ls = _sub(st, "LineStyle")
            _sub(ls, "color", kml_colour(colour, alpha))
            _sub(ls, "width", width)
        return self._style(("line", colour, alpha, width), build)

    def radio_style(self) -> str:
        """styleUrl of a folder whose children are shown one at a time (a radio folder)."""
        return self._style(("radio",), lambda st: _sub(_sub(st, "ListStyle"), "listItemType", "radioFolder"))

    def look_at(self, lon: float, lat: float, range_m: float, tilt: float = 0.0, heading: float = 0.0) -> None:
        self._view = (lon, lat, range_m, tilt, heading)

    # ---------- features
    def _feature(self, parent, tag: str, name=None, *, visibility: bool | None = None, open_: bool = False,
                 description: str | None = None, begin: str | None = None, end: str | None = None,
                 when: str | None = None, style: str | None = None) -> ET.Element:
        if parent is None or parent is self:
            f = ET.Element(f"{{{KML_NS}}}{tag}")
            self._features.append(f)
        else:
            f = _sub(parent, tag)
        if name is not None:
            _sub(f, "name", str(name))
        if visibility is not None:
            _sub(f, "visibility", "1" if visibility else "0")
        if open_:
            _sub(f, "open", "1")
        if description:
            _sub(f, "description", description)
        if when is not None:
            _sub(_sub(f, "TimeStamp"), "when", when)
        elif begin is not None or end is not None:
            ts = _sub(f, "TimeSpan")
            if begin is not None:
                _sub(ts, "begin", begin)
            if end is not None:
                _sub(ts, "end", end)
        if style is not None:
            _sub(f, "styleUrl", style)
        return f

    def folder(self, parent=None, name: str = "", **kw) -> ET.Element:
        return self._feature(parent, "Folder", name, **kw)

    def point(self, parent, coord, name=None, altitude_mode: str | None = None, **kw) -> ET.Element:
        f = self._feature(parent, "Placemark", name, **kw)
        g = _sub(f, "Point")
        if altitude_mode:
            _sub(g, "altitudeMode", altitude_mode)
        _sub(g, "coordinates", _coord(coord))
        return f

    def line(self, parent, coords, name=None, altitude_mode: str | None = "absolute", tessellate: bool = False,
             **kw) -> ET.Element:
        f = self._feature(parent, "Placemark", name, **kw)
        g = _sub(f, "LineString")
        if tessellate:
            _sub(g, "tessellate", "1")
        if altitude_mode:
            _sub(g, "altitudeMode", altitude_mode)
        _sub(g, "coordinates", " ".join(_coord(c) for c in coords))
        return f

    def ground_overlay(self, parent, name: str, href: str, north: float, south: float, east: float,
                       west: float, **kw) -> ET.Element:
        f = self._feature(parent, "GroundOverlay", name, **kw)
        _sub(_sub(f, "Icon"), "href", href)
        box = _sub(f, "LatLonBox")
        for k, v in (("north", north), ("south", south), ("east", east), ("west", west)):
            _sub(box, k, f"{float(v):.8f}")
        return f

    def add_overlays(self, parent, grid: LocalGrid, overlays: list[Overlay], prefix: str = "overlay",
                     radio: bool = False) -> None:
        """``overlays`` as ground overlays (reprojected to WGS84), one folder per ``Overlay.folder``
        under ``parent``; ``radio``: each folder shows one overlay at a time."""
        folders: dict[str, ET.Element] = {}
        for i, ov in enumerate(overlays):
            ll, transform, w, h = to_crs(grid, ov.values.astype(np.float32), "EPSG:4326", Resampling.nearest)
            href = self.add_file(f"{prefix}_{i:03d}.png", overlay_png(ll, ov.kind, ov.vmax))
            west, north = transform.c, transform.f
            east, south = west + transform.a * w, north + transform.e * h
            if ov.folder not in folders:
                folders[ov.folder] = self.folder(parent, ov.folder,
                                                 style=self.radio_style() if radio else None)
            self.ground_overlay(folders[ov.folder], ov.name, href, north, south, east, west,
                                visibility=ov.visible, description=ov.description or None)

    # ---------- output
    def tostring(self) -> bytes:
        doc = self.doc
        for child in list(doc):
            doc.remove(child)
        for tag, text in self._head:
            _sub(doc, tag, text)
        if self._view is not None:
            lon, lat, rng, tilt, heading = self._view
            la = _sub(doc, "LookAt")
            for k, v in (("longitude", lon), ("latitude", lat), ("altitude", 0.0), ("heading", heading),
                         ("tilt", tilt), ("range", rng)):
                _sub(la, k, v)
        doc.extend(self._styles)
        doc.extend(self._features)
        return ET.tostring(self.root, encoding="utf-8", xml_declaration=True)

    def write_kmz(self, path: str | Path) -> Path:
        """Write ``doc.kml`` and the files into a KMZ at ``path``, atomically; the same document
        gives the same bytes (fixed timestamps, sorted entries: see :func:`write_zip`)."""
        from iadsim.results.io import write_zip

        entries = {**self.files, "doc.kml": self.tostring()}
        return write_zip(path, entries, stored=self.files)  # PNGs are compressed already


def write_kmz(path: str | Path, grid: LocalGrid, overlays: list[Overlay],
              points: list[tuple[str, str, float, float, str]], title: str) -> Path:
    """Write a KMZ: one folder per overlay group (ground overlays on the terrain) and placemarks
    (name, kind, lon, lat, description) in a folder "sites"."""
    k = KmlDoc(title)
    k.add_overlays(None, grid, overlays)
    sites = k.folder(None, "sites")
    for name, kind, lon, lat, desc in points:
        k.point(sites, (lon, lat), name, description=desc or None, style=k.icon_style(kind))
    return k.write_kmz(path)
