"""Rasters of the local grid written in another CRS (the DEM's), RGBA overlays for Google Earth,
and polygons of covered areas (GeoJSON)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio import features
from rasterio.warp import Resampling, calculate_default_transform, reproject, transform_geom

from iadsim.geo.grid import LocalGrid
from iadsim.results.io import write_with

NODATA = -9999.0


def to_crs(grid: LocalGrid, band: np.ndarray, dst_crs: str, resampling: Resampling,
           ) -> tuple[np.ndarray, Any, int, int]:
    """Reproject a local-grid band to ``dst_crs``; returns (array, transform, width, height).
    Cells without a value are NaN."""
    west, south, east, north = grid.xmin, grid.ymin, grid.xmax, grid.ymax
    transform, width, height = calculate_default_transform(
        grid.crs.to_wkt(), dst_crs, grid.nx, grid.ny, left=west, bottom=south, right=east, top=north)
    dst = np.full((height, width), np.nan, dtype=np.float32)
    reproject(source=np.asarray(band, dtype=np.float32), destination=dst, src_transform=grid.transform,
              src_crs=grid.crs.to_wkt(), src_nodata=np.nan, dst_transform=transform, dst_crs=dst_crs,
              dst_nodata=np.nan, resampling=resampling)
    return dst, transform, width, height


def write_geotiff_crs(path: str | Path, grid: LocalGrid, bands: list[np.ndarray], descriptions: list[str],
                      dst_crs: str, units: str = "m", continuous: bool = True) -> Path:
    """Write bands of the local grid reprojected to ``dst_crs`` (bilinear for continuous values,
    nearest for masks and counts), float32 with nodata, deflate-compressed, atomically."""
    res = Resampling.bilinear if continuous else Resampling.nearest
    out = [to_crs(grid, b, dst_crs, res) for b in bands]
    _, transform, width, height = out[0]

    def write(tmp: Path) -> None:
        with rasterio.open(tmp, "w", driver="GTiff", width=width, height=height, count=len(out),
                           dtype="float32", crs=dst_crs, transform=transform, nodata=NODATA,
                           compress="deflate", predictor=2, tiled=True, blockxsize=256, blockysize=256) as ds:
            for i, (arr, *_rest) in enumerate(out, start=1):
                ds.write(np.where(np.isfinite(arr), arr, NODATA).astype(np.float32), i)
                ds.set_band_description(i, descriptions[i - 1])
                ds.set_band_unit(i, units)

    return write_with(path, write)


def mask_polygons(grid: LocalGrid, mask: np.ndarray, properties: dict[str, Any]) -> list[dict[str, Any]]:
    """GeoJSON features (WGS84) of the areas where ``mask`` is true."""
    m = np.asarray(mask, dtype=np.uint8)
    feats = []
    for geom, value in features.shapes(m, mask=m.astype(bool), transform=grid.transform, connectivity=4):
        if value != 1:
            continue
        g = transform_geom(grid.crs.to_wkt(), "EPSG:4326", geom, precision=6)
        feats.append({"type": "Feature", "geometry": g, "properties": dict(properties)})
    return feats
