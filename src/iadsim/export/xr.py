"""Coverage and terrain as xarray objects, for notebooks.

>>> import iadsim
>>> from iadsim.export.xr import coverage_dataarray, coverage_dataset
>>> res = iadsim.simulate("scenario.yaml", replications=100)    # doctest: +SKIP
>>> cov = coverage_dataarray(res, heights_agl_m=[50, 300, 3000])  # doctest: +SKIP
>>> cov.sel(height_agl_m=300).plot()                             # doctest: +SKIP

Arrays are on the run's local grid: ``x`` east and ``y`` north of the grid centre [m] (cell
centres, ``y`` decreasing as in the rasters); ``lon`` and ``lat`` [deg, WGS84] are 2-D
coordinates of every cell centre, and the grid's projection is in ``attrs["crs_wkt"]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["coverage_dataarray", "coverage_dataset", "grid_coords"]

DEFAULT_HEIGHTS_AGL_M: tuple[float, ...] = (50.0, 150.0, 300.0, 1000.0, 3000.0)


def _world(obj):
    """A World from a World, a Results or anything with ``.world``."""
    return getattr(obj, "world", obj)


def grid_coords(world, lonlat: bool = True) -> dict:
    """Coordinates of the local grid: x, y [m] and (optionally) 2-D lon, lat [deg]."""
    g = world.grid
    x = g.x_centers()
    y = g.y_centers()
    coords = {"x": ("x", x, {"units": "m", "long_name": "east of the grid centre"}),
              "y": ("y", y, {"units": "m", "long_name": "north of the grid centre"})}
    if lonlat:
        xx, yy = np.meshgrid(x, y)
        lon, lat = g.to_lonlat(xx, yy)
        coords["lon"] = (("y", "x"), np.asarray(lon), {"units": "degrees_east"})
        coords["lat"] = (("y", "x"), np.asarray(lat), {"units": "degrees_north"})
    return coords


def _attrs(world) -> dict:
    g = world.grid
    return {"crs_wkt": g.crs.to_wkt(), "grid_resolution_m": float(g.res), "grid_lat0": float(g.lat0),
            "grid_lon0": float(g.lon0), "scenario": world.scenario.name}


def coverage_dataarray(obj, heights_agl_m: Sequence[float] = DEFAULT_HEIGHTS_AGL_M, *, lonlat: bool = True):
    """Radars in line of sight of a target at each height above ground: an ``xarray.DataArray``
    [height_agl_m, y, x] of counts (int16), from a World or a Results."""
    import xarray as xr

    from iadsim.report.maps import coverage_count

    w = _world(obj)
    h = [float(v) for v in heights_agl_m]
    data = np.stack([coverage_count(w.mva, w.terrain.elevation_m, v) for v in h]) if h else \
        np.zeros((0, w.grid.ny, w.grid.nx), dtype=np.int16)
    coords = grid_coords(w, lonlat)
    coords["height_agl_m"] = ("height_agl_m", np.array(h), {"units": "m", "long_name": "target height above ground"})
    return xr.DataArray(data, dims=("height_agl_m", "y", "x"), coords=coords, name="radars_in_line_of_sight",
                        attrs={**_attrs(w), "long_name": "radars with terrain-masked line of sight",
                               "units": "count", "radars": list(w.sensor_labels)})


def coverage_dataset(obj, heights_agl_m: Sequence[float] = DEFAULT_HEIGHTS_AGL_M, *, lonlat: bool = True):
    """Terrain, each radar's minimum visible altitude and the line-of-sight counts, as an
    ``xarray.Dataset`` on the local grid."""
    import xarray as xr

    w = _world(obj)
    cov = coverage_dataarray(w, heights_agl_m, lonlat=lonlat)
    mva = np.stack([np.asarray(m, dtype=np.float32) for m in w.mva]) if len(w.mva) else \
        np.zeros((0, w.grid.ny, w.grid.nx), dtype=np.float32)
    ds = xr.Dataset(
        {"elevation_m": (("y", "x"), np.asarray(w.terrain.elevation_m, dtype=np.float32),
                         {"units": "m", "long_name": "ground elevation above mean sea level"}),
         "min_visible_altitude_m": (("radar", "y", "x"), mva,
                                    {"units": "m", "long_name": "lowest altitude (MSL) a radar sees"}),
         "radars_in_line_of_sight": cov},
        coords={**grid_coords(w, lonlat), "radar": ("radar", list(w.sensor_labels))},
        attrs=_attrs(w))
    return ds
