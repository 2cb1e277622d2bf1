"""KML/KMZ for Google Earth (simplekml): coverage as ground overlays, sites as placemarks."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import simplekml
from matplotlib import colormaps
from matplotlib.figure import Figure
from rasterio.warp import Resampling

from iadsim.export.georaster import to_crs
from iadsim.geo.grid import LocalGrid
from iadsim.results.io import write_with


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


def write_kmz(path: str | Path, grid: LocalGrid, overlays: list[Overlay],
              points: list[tuple[str, str, float, float, str]], title: str) -> Path:
    """Write a KMZ: one folder per overlay group (ground overlays on the terrain) and placemarks
    (name, kind, lon, lat, description)."""
    path = Path(path)
    kml = simplekml.Kml(name=title)
    work = path.parent / f".{path.stem}-images"
    work.mkdir(exist_ok=True)
    folders: dict[str, simplekml.Folder] = {}
    try:
        for i, ov in enumerate(overlays):
            ll, transform, w, h = to_crs(grid, ov.values.astype(np.float32), "EPSG:4326",
                                         Resampling.nearest)
            img = work / f"overlay_{i:03d}.png"
            img.write_bytes(overlay_png(ll, ov.kind, ov.vmax))
            west, north = transform.c, transform.f
            east, south = west + transform.a * w, north + transform.e * h
            folder = folders.setdefault(ov.folder, kml.newfolder(name=ov.folder))
            g = folder.newgroundoverlay(name=ov.name, description=ov.description)
            g.icon.href = str(img)
            g.latlonbox.north, g.latlonbox.south = float(north), float(south)
            g.latlonbox.east, g.latlonbox.west = float(east), float(west)
            g.visibility = 1 if ov.visible else 0
        sites = kml.newfolder(name="sites")
        for name, kind, lon, lat, desc in points:
            p = sites.newpoint(name=name, coords=[(float(lon), float(lat))], description=desc)
            p.style.iconstyle.icon.href = {
                "asset": "http://maps.google.com/mapfiles/kml/shapes/star.png",
                "fire unit": "http://maps.google.com/mapfiles/kml/shapes/triangle.png",
            }.get(kind, "http://maps.google.com/mapfiles/kml/shapes/target.png")
        write_with(path, lambda tmp: kml.savekmz(str(tmp), format=False))
    finally:
        for f in work.glob("*.png"):
            f.unlink()
        work.rmdir()
    return path
