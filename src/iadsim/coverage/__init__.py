"""Terrain-masked coverage: minimum-visible-altitude rasters and what is built on them."""

from iadsim.coverage.los import line_of_sight_reference, min_visible_altitude, visible_at

__all__ = ["line_of_sight_reference", "min_visible_altitude", "visible_at"]
