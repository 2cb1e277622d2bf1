"""GeoTIFF writing (rasterio), georeferenced in the scenario's local projection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio

from iadsim.geo.grid import LocalGrid
from iadsim.results.io import write_with

NODATA = -9999.0


def write_geotiff(path: str | Path, grid: LocalGrid, bands: list[np.ndarray],
                  descriptions: list[str] | None = None, units: str = "m") -> Path:
    """Write float32 bands [ny, nx] (NaN -> nodata) as a deflate-compressed GeoTIFF, atomically."""

    def write(tmp: Path) -> None:
        with rasterio.open(
            tmp, "w", driver="GTiff", width=grid.nx, height=grid.ny, count=len(bands), dtype="float32",
            crs=grid.crs.to_wkt(), transform=grid.transform, nodata=NODATA, compress="deflate",
            predictor=2, tiled=True, blockxsize=256, blockysize=256,
        ) as ds:
            for i, band in enumerate(bands, start=1):
                ds.write(np.where(np.isfinite(band), band, NODATA).astype(np.float32), i)
                if descriptions:
                    ds.set_band_description(i, descriptions[i - 1])
                ds.set_band_unit(i, units)

    return write_with(path, write)
