"""KML/KMZ for Google Earth: coverage as ground overlays, sites as placemarks.

The documents are written with a small builder (:class:`KmlDoc`) that emits the elements in the
order the OGC KML 2.2 schema requires and only OGC KML elements (no ``gx:`` extensions);
``tests/test_exports.py`` validates them against ``ogckml22.xsd`` (the schema files shipped by the
pykml package, checked with lxml) when those are installed. Everything a KMZ shows is inside it
(overlay images and the site icons), so it opens offline.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from rasterio.warp import Resampling

from iadsim.export.georaster import to_crs
from iadsim.geo.grid import LocalGrid
from iadsim.results.io import write_with

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


