"""A local projected grid around a scenario.

The scenario is analysed on an azimuthal equidistant projection centred on its
origin (pyproj ``+proj=aeqd``): distances and bearings from the centre are exact
and, over the ~100 km of a scenario, grid distances are within a fraction of a
percent of geodesic ones. x points east, y north, both in metres. Rasters are
stored north-up: row 0 is the northern edge, as in GeoTIFF.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from affine import Affine
from pyproj import CRS, Transformer


@dataclass(frozen=True)
class LocalGrid:
    """Cell-centred raster grid in a local aeqd projection.

    Attributes: ``lat0, lon0`` [deg] the projection centre; ``xmin, ymax`` [m] the
    north-west corner; ``res`` [m] the cell size; ``nx, ny`` the number of columns and rows.
    """

    lat0: float
    lon0: float
    xmin: float
    ymax: float
    res: float
    nx: int
    ny: int
    _fwd: Transformer = field(init=False, repr=False, compare=False)
    _inv: Transformer = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        crs = self.crs
        object.__setattr__(self, "_fwd", Transformer.from_crs("EPSG:4326", crs, always_xy=True))
        object.__setattr__(self, "_inv", Transformer.from_crs(crs, "EPSG:4326", always_xy=True))

    @property
    def crs(self) -> CRS:
        return CRS.from_proj4(
            f"+proj=aeqd +lat_0={self.lat0:.9f} +lon_0={self.lon0:.9f} +datum=WGS84 +units=m +no_defs"
        )

    @classmethod
    def around(cls, lat0: float, lon0: float, x_range: tuple[float, float],
               y_range: tuple[float, float], res: float) -> "LocalGrid":
        """A grid centred at (lat0, lon0) covering x_range, y_range [m], snapped to ``res``."""
        xmin = np.floor(x_range[0] / res) * res
        xmax = np.ceil(x_range[1] / res) * res
        ymin = np.floor(y_range[0] / res) * res
        ymax = np.ceil(y_range[1] / res) * res
        nx = max(int(round((xmax - xmin) / res)), 2)
        ny = max(int(round((ymax - ymin) / res)), 2)
        return cls(lat0, lon0, float(xmin), float(ymax), float(res), nx, ny)

    @property
    def transform(self) -> Affine:
        return Affine(self.res, 0.0, self.xmin, 0.0, -self.res, self.ymax)

    @property
    def xmax(self) -> float:
        return self.xmin + self.nx * self.res

    @property
    def ymin(self) -> float:
        return self.ymax - self.ny * self.res

    @property
    def shape(self) -> tuple[int, int]:
        return (self.ny, self.nx)

    def x_centers(self) -> np.ndarray:
        return self.xmin + (np.arange(self.nx) + 0.5) * self.res

    def y_centers(self) -> np.ndarray:
        return self.ymax - (np.arange(self.ny) + 0.5) * self.res

    def to_local(self, lat, lon) -> tuple[np.ndarray, np.ndarray]:
        """WGS84 [deg] -> local x, y [m]."""
        x, y = self._fwd.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        return np.asarray(x), np.asarray(y)

    def to_lonlat(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Local x, y [m] -> WGS84 lon, lat [deg]."""
        lon, lat = self._inv.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        return np.asarray(lon), np.asarray(lat)

    def cell_of(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Row, column [index] of the cell holding local x, y [m], clipped to the grid (NaN -> 0)."""
        x = np.nan_to_num(np.asarray(x, dtype=float), nan=self.xmin)
        y = np.nan_to_num(np.asarray(y, dtype=float), nan=self.ymax)
        col = np.clip(np.floor((x - self.xmin) / self.res), 0, self.nx - 1).astype(np.int64)
        row = np.clip(np.floor((self.ymax - y) / self.res), 0, self.ny - 1).astype(np.int64)
        return row, col

    def contains(self, x, y) -> np.ndarray:
        x = np.asarray(x)
        y = np.asarray(y)
        return (x >= self.xmin) & (x < self.xmax) & (y > self.ymin) & (y <= self.ymax)

    def lonlat_bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) [deg] of the grid's outline."""
        xs = np.concatenate([np.linspace(self.xmin, self.xmax, 50), np.full(50, self.xmax),
                             np.linspace(self.xmin, self.xmax, 50), np.full(50, self.xmin)])
        ys = np.concatenate([np.full(50, self.ymax), np.linspace(self.ymin, self.ymax, 50),
                             np.full(50, self.ymin), np.linspace(self.ymin, self.ymax, 50)])
        lon, lat = self.to_lonlat(xs, ys)
        return float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())
