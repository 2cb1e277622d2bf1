"""Geography: WGS84 <-> local projected grid (pyproj), DEM loading and resampling (rasterio)."""

from iadsim.geo.grid import LocalGrid
from iadsim.geo.terrain import Terrain, bundled_dem_path, load_terrain, synthetic_elevation, write_dem

__all__ = ["LocalGrid", "Terrain", "bundled_dem_path", "load_terrain", "synthetic_elevation", "write_dem"]
