"""Write a flat elevation model (GeoTIFF, WGS84) for a validation case on flat ground.

The cases on flat ground (the Dnieper plain around Kyiv, the desert around Abqaiq) have no public
elevation model bundled with iadsim; over flat ground line of sight depends on the earth's curvature
and the antenna and target heights, not on the exact terrain height, so a constant height is a fair
stand-in. Each case's case.yaml lists it under `notional`.

    python validation/flat_dem.py OUT.tif --west 29.5 --south 49.8 --east 31.6 --north 51.1 --height 170
"""

from __future__ import annotations

import argparse

import numpy as np
import rasterio
from rasterio.transform import from_origin


def write_flat_dem(path: str, west: float, south: float, east: float, north: float, height_m: float,
                   step_deg: float = 0.005) -> None:
    nx = int(round((east - west) / step_deg))
    ny = int(round((north - south) / step_deg))
    data = np.full((ny, nx), int(round(height_m)), dtype=np.int16)
    profile = dict(driver="GTiff", width=nx, height=ny, count=1, dtype="int16", crs="EPSG:4326",
                   transform=from_origin(west, north, step_deg, step_deg), compress="deflate", nodata=-32768)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    for k in ("west", "south", "east", "north", "height"):
        ap.add_argument(f"--{k}", type=float, required=True)
    a = ap.parse_args()
    write_flat_dem(a.out, a.west, a.south, a.east, a.north, a.height)
