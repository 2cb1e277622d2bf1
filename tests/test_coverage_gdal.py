"""The minimum-visible-altitude raster against GDAL's ``gdal_viewshed`` (GDAL >= 3.1) on the same
projected DEM: the bundled SRTM tile (central Andes) resampled with rasterio onto the local
azimuthal-equidistant grid of :class:`iadsim.geo.LocalGrid` and written as a GeoTIFF.

Conventions mapped (GDAL ``apps/gdal_viewshed.cpp`` and ``alg/viewshed.cpp``, 3.6):

- observer: ``-ox -oy`` in CRS units; GDAL takes the cell that contains the point and puts the eye
  ``-oz`` metres above that cell's DEM value. Here the antenna is at that cell's centre, at
  DEM + oz (:meth:`Terrain.height_at` is the DEM value at a centre).
- curvature: GDAL lowers terrain by ``cc * d**2 / (2 a)``, ``a`` the CRS ellipsoid's semi-major
  axis (6 378 137 m for WGS 84); iadsim by ``d**2 / (2 k R)`` with R = 6 371 km. The same drop:
  ``k = a / (cc R)``; ``-cc 0.75`` is the 4/3 earth (k = 1.3348 with R).
- range: GDAL drops cells with ``d**2 > md**2`` (centre to centre); iadsim makes cells with
  ``d > max_range_m`` NaN. Compared: cells strictly inside the range.
- binary output (``-om NORMAL``): visible (255) when the target ``-tz`` metres above the ground
  clears the horizon; iadsim: visible when ``ground + tz >= raster``.
- ``-om DEM``: the altitude [m] of the sight line over the horizon at each cell, clamped at 0;
  it is below the ground where the ground is visible. iadsim's raster is that or the ground,
  whichever is higher: compared with ``max(gdal, DEM)``.
- ``-om GROUND``: ``max(0, sight line - ground)``; compared with ``raster - DEM``.

GDAL's algorithm is XDraw with the reference planes of Wang, Robinson & White (2000): its binary
visibility mostly agrees with the exact ray trace (99.0-99.97 % of cells at the worst of 10, 100 and
1000 m; docs/coverage-accuracy.md), its heights behind ridges do not (they are blurred by repeated
interpolation). iadsim's ``method="planes"`` is the same algorithm and reproduces GDAL's
heights; the default ``method="sweep"`` follows the exact ray trace instead (see
tests/test_coverage_sweep.py), so its heights agree with GDAL's binary output but not with its
``-om DEM`` heights: that requirement is marked as an expected failure below, with the evidence.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import rasterio

from iadsim.coverage import min_visible_altitude
from iadsim.geo import LocalGrid, bundled_dem_path, load_terrain
from iadsim.physics.horizon import EARTH_RADIUS_M

GDAL_VIEWSHED = shutil.which("gdal_viewshed")
pytestmark = pytest.mark.skipif(GDAL_VIEWSHED is None,
                                reason="gdal_viewshed not installed: apt-get install gdal-bin")

A_WGS84 = 6_378_137.0  # semi-major axis GDAL reads from the aeqd/WGS 84 CRS
CC = 0.75              # GDAL curvature coefficient of the 4/3 earth
K_GDAL = A_WGS84 / (CC * EARTH_RADIUS_M)
RES = 30.0
HALF = 15_000.0        # a 1000 x 1000 grid of 30 m cells
MAX_RANGE = 12_000.0
OBSERVERS = [((480, 530), 10.0), ((300, 700), 30.0), ((650, 420), 5.0)]  # (row, col), -oz [m]
TZ = (10.0, 100.0)
AGREE_BINARY = 0.98
AGREE_HEIGHT = 0.98


def _gdal_version() -> tuple[int, int]:
    out = subprocess.run([GDAL_VIEWSHED, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"GDAL (\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


@pytest.fixture(scope="module")
def dem(tmp_path_factory):
    if _gdal_version() < (3, 1):
        pytest.skip("gdal_viewshed >= 3.1 needed (output modes -om DEM / GROUND)")
    grid = LocalGrid.around(-32.6, -70.3, (-HALF, HALF), (-HALF, HALF), RES)
    terrain = load_terrain(bundled_dem_path("S33W071.tif"), grid)
    path = tmp_path_factory.mktemp("gdal") / "dem_aeqd.tif"
    with rasterio.open(path, "w", driver="GTiff", width=grid.nx, height=grid.ny, count=1,
                       dtype="float32", crs=grid.crs, transform=grid.transform) as ds:
        ds.write(terrain.elevation_m, 1)
    return terrain, path


def _viewshed(path: Path, grid: LocalGrid, rc, oz: float, *args: str) -> np.ndarray:
    """Run gdal_viewshed for the observer at the centre of cell rc; its (range-clipped) output
    placed on the full grid, NaN elsewhere."""
    r, c = rc
    x, y = grid.x_centers()[c], grid.y_centers()[r]
    out = path.with_name(f"vs_{r}_{c}_{oz:g}_{'_'.join(args).replace('-', '')}.tif")
    subprocess.run([GDAL_VIEWSHED, "-q", "-ox", repr(float(x)), "-oy", repr(float(y)),
                    "-oz", repr(oz), "-cc", repr(CC), "-md", repr(MAX_RANGE), *args,
                    str(path), str(out)], check=True, capture_output=True)
    with rasterio.open(out) as ds:
        arr = ds.read(1).astype(float)
        tr = ds.transform
    full = np.full(grid.shape, np.nan)
    c0 = int(round((tr.c - grid.xmin) / grid.res))
    r0 = int(round((grid.ymax - tr.f) / grid.res))
    full[r0:r0 + arr.shape[0], c0:c0 + arr.shape[1]] = arr
    return full


_CASES: dict = {}


def _case(terrain, path, rc, oz):
    """GDAL's rasters and ours for one observer: dict of arrays plus the in-range mask (cached)."""
    key = (str(path), rc, oz)
    if key in _CASES:
        return _CASES[key]
    g = terrain.grid
    r, c = rc
    x, y = g.x_centers()[c], g.y_centers()[r]
    alt = float(terrain.elevation_m[r, c]) + oz  # GDAL: the DEM value of the observer's cell + oz
    res = {m: min_visible_altitude(terrain, x, y, alt, k=K_GDAL, max_range_m=MAX_RANGE, method=m)
           for m in ("sweep", "rays", "planes")}
    res["gdal_dem"] = _viewshed(path, g, rc, oz, "-om", "DEM")
    res["gdal_ground"] = _viewshed(path, g, rc, oz, "-om", "GROUND")
    for tz in TZ:
        res[f"gdal_tz{tz:g}"] = _viewshed(path, g, rc, oz, "-tz", repr(tz)) == 255
    X, Y = np.meshgrid(g.x_centers(), g.y_centers())
    d = np.hypot(X - x, Y - y)
    res["mask"] = (d < MAX_RANGE - 1e-6 * MAX_RANGE) & np.isfinite(res["gdal_dem"])
    _CASES[key] = res
    return res


def _run(dem, rc, oz):
    terrain, path = dem
    return terrain, _case(terrain, path, rc, oz)


def _height_agreement(terrain, res, method):
    """Fractions of in-range cells within 1 m of GDAL's DEM and GROUND modes."""
    m = res["mask"]
    z = terrain.elevation_m.astype(float)
    ours = res[method].astype(float)
    dem_mode = np.abs(ours[m] - np.maximum(res["gdal_dem"][m], z[m])) <= 1.0
    ground_mode = np.abs((ours[m] - z[m]) - res["gdal_ground"][m]) <= 1.0
    return float(np.mean(dem_mode)), float(np.mean(ground_mode))


@pytest.mark.parametrize("rc,oz", OBSERVERS, ids=[f"obs{i}" for i in range(len(OBSERVERS))])
def test_binary_visibility_agrees_with_gdal(dem, rc, oz):
    terrain, res = _run(dem, rc, oz)
    m = res["mask"]
    assert m.sum() > 400_000  # the whole range disc is compared
    assert np.isfinite(res["sweep"][m]).all()
    z = terrain.elevation_m
    for tz in TZ:
        gdal = res[f"gdal_tz{tz:g}"][m]
        for method in ("sweep", "rays"):
            ours = res[method][m] <= z[m] + tz
            agree = np.mean(ours == gdal)
            assert agree >= AGREE_BINARY, f"{method}, target {tz} m: {agree:.2%} agree with GDAL"


@pytest.mark.parametrize("rc,oz", OBSERVERS, ids=[f"obs{i}" for i in range(len(OBSERVERS))])
def test_planes_method_reproduces_gdal_heights(dem, rc, oz):
    """Same algorithm, same conventions: GDAL's -om DEM and -om GROUND to within 1 m."""
    terrain, res = _run(dem, rc, oz)
    dem_mode, ground_mode = _height_agreement(terrain, res, "planes")
    assert dem_mode >= AGREE_HEIGHT, f"-om DEM: {dem_mode:.2%} of cells within 1 m"
    assert ground_mode >= AGREE_HEIGHT, f"-om GROUND: {ground_mode:.2%} of cells within 1 m"


@pytest.mark.parametrize("rc,oz", OBSERVERS, ids=[f"obs{i}" for i in range(len(OBSERVERS))])
def test_gdal_heights_depart_from_the_exact_ray_trace(dem, rc, oz):
    """Why the default raster cannot match GDAL's heights: GDAL's -om DEM is more than 1 m away from
    the exact ray trace (on the bilinear surface) on most shadowed cells, while the sweep is within
    1 m of it on most of them (the sweep is exact within its exact zone; beyond it, it can miss a
    crest between grid lines by a few metres: docs/coverage-accuracy.md)."""
    terrain, res = _run(dem, rc, oz)
    m = res["mask"]
    exact = res["rays"].astype(float)[m]
    gdal_mva = np.maximum(res["gdal_dem"][m], terrain.elevation_m[m])
    sweep = res["sweep"].astype(float)[m]
    gdal_within = np.mean(np.abs(gdal_mva - exact) <= 1.0)
    sweep_within = np.mean(np.abs(sweep - exact) <= 1.0)
    assert sweep_within >= 0.8 and sweep_within > gdal_within + 0.2
    assert gdal_within < 0.6
    assert np.median(np.abs(sweep - exact)) <= np.median(np.abs(gdal_mva - exact))
    # the exact raster itself agrees with GDAL no better than the sweep does
    assert _height_agreement(terrain, res, "rays")[0] < AGREE_HEIGHT


@pytest.mark.xfail(strict=True, reason="requirement not met by design: the default sweep follows "
                   "the exact ray trace; GDAL's reference planes blur ridges, so its -om DEM "
                   "heights are more than 1 m away on most shadowed cells (see the test above), "
                   "and no raster meets both this and the exact-trace target: "
                   "docs/coverage-accuracy.md")
@pytest.mark.parametrize("rc,oz", OBSERVERS[:1], ids=["obs0"])
def test_default_heights_within_1m_of_gdal_dem_mode(dem, rc, oz):
    terrain, res = _run(dem, rc, oz)
    dem_mode, ground_mode = _height_agreement(terrain, res, "sweep")
    assert dem_mode >= AGREE_HEIGHT and ground_mode >= AGREE_HEIGHT
