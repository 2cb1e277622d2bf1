"""Exports for GIS tools: GeoTIFF rasters and GeoJSON features (KML and CZML come next)."""

from iadsim.export.geojson import scenario_geojson
from iadsim.export.geotiff import write_geotiff

__all__ = ["scenario_geojson", "write_geotiff"]
