"""Coverage products (detection, engagement, layered) and the `iadsim coverage` command."""

from __future__ import annotations

import json
import zipfile
from xml.etree import ElementTree

import numpy as np
import pytest
import rasterio

from iadsim.cli import main
from iadsim.coverage.products import (
    detection_mask, engagement_mask, layered_count, lowest_detected_altitude, radar_detection_range_m,
    target_altitude,
)
from iadsim.coverage.envelope import UnitEnvelope
from iadsim.coverage.specs import RadarSpec
from iadsim.physics.flyout import constant_speed_table
from iadsim.geo import LocalGrid, Terrain
from iadsim.coverage import min_visible_altitude


def _flat(n=201, res=200.0, z=100.0) -> Terrain:
    g = LocalGrid(0.0, 0.0, -n / 2 * res, n / 2 * res, res, n, n)
    return Terrain(g, np.full((n, n), z, dtype=np.float32))


RADAR = RadarSpec(name="r", system="test", where="effectors[0]", x=0.0, y=0.0, z=105.0, ground=100.0,
                  ref_range_m=10_000.0, ref_rcs_m2=1.0, ref_pd=0.9, pfa=1e-6, scan_period_s=1.0)


def test_detection_range_is_the_reference_range_for_the_reference_target():
    assert radar_detection_range_m(RADAR, 1.0, 0.9) == pytest.approx(10_000.0)
    # R^4 law: 1/16 of the RCS, half the range (Skolnik 2001, eq. 2.1)
    assert radar_detection_range_m(RADAR, 1 / 16, 0.9) == pytest.approx(5_000.0)


def test_detection_mask_is_a_disc_of_the_detection_range_on_flat_earth():
    t = _flat()
    mva = min_visible_altitude(t, 0.0, 0.0, RADAR.z, k=np.inf)
    alt = target_altitude(t, 1000.0, agl=False)
    m = detection_mask(RADAR, mva, t, alt, 1.0, 0.9)
    x, y = np.meshgrid(t.grid.x_centers(), t.grid.y_centers())
    slant = np.sqrt(x**2 + y**2 + (1000.0 - RADAR.z) ** 2)
    assert np.array_equal(m, slant <= 10_000.0)


def test_elevation_limit_cuts_the_cone_above_the_radar():
    t = _flat()
    mva = min_visible_altitude(t, 0.0, 0.0, RADAR.z, k=np.inf)
    r = RadarSpec(**{**RADAR.__dict__, "max_elevation_deg": 45.0})
    alt = target_altitude(t, 2000.0, agl=False)
    m = detection_mask(r, mva, t, alt, 1.0, 0.9)
    x, y = np.meshgrid(t.grid.x_centers(), t.grid.y_centers())
    d = np.hypot(x, y)
    # above 45 degrees (closer than the height difference) nothing is seen
    assert not m[d < (2000.0 - RADAR.z) - 1].any()
    assert m[(d > 2000.0) & (d < 9000.0)].all()


def _box_envelope(**kw) -> UnitEnvelope:
    """A fire unit whose projectile flies at a constant 1,000 m/s with no time or speed limit: the
    envelope is the slant-range x altitude box alone."""
    tab = constant_speed_table(1000.0, 12_000.0, 8_000.0)
    args = dict(name="e", system="test", x=0.0, y=0.0, ground=100.0, tof_s=tab.tof_s, speed_m_s=tab.speed_m_s,
                dr_m=float(tab.gr_m[1]), dh_m=float(tab.h_m[1]), max_time_s=np.inf, min_speed_m_s=0.0,
                max_target_speed_m_s=np.inf, mean_speed_m_s=1000.0, range_min_m=1_000.0, range_max_m=8_000.0,
                altitude_min_m=20.0, altitude_max_m=5_000.0)
    return UnitEnvelope(**{**args, **kw})


def test_engagement_mask_is_a_slant_range_annulus_inside_the_altitude_limits():
    t = _flat()
    mva = min_visible_altitude(t, 0.0, 0.0, RADAR.z, k=np.inf)
    x, y = np.meshgrid(t.grid.x_centers(), t.grid.y_centers())
    d = np.hypot(x, y)
    env = _box_envelope()
    m = engagement_mask(env, mva, t, target_altitude(t, 500.0, agl=True))
    slant = np.hypot(d, 500.0)   # the engine checks the slant range at the intercept point
    assert np.array_equal(m, (slant >= 1_000.0) & (slant <= 8_000.0))
    assert not engagement_mask(env, mva, t, target_altitude(t, 10.0, agl=True)).any()   # below the minimum
    assert not engagement_mask(env, mva, t, target_altitude(t, 6000.0, agl=True)).any()  # above the maximum
    # a launcher sector 90 degrees wide facing east: nothing engaged west of the site
    east = _box_envelope(sector=(np.pi / 2, np.pi / 4, -np.pi / 2, np.pi / 2))
    me = engagement_mask(east, mva, t, target_altitude(t, 500.0, agl=True))
    assert me.any() and not me[x < 0].any() and (me <= m).all()
    # a target flying at the unit is engaged from farther out (the launch point moves out by the flyout time)
    fast = engagement_mask(env, mva, t, target_altitude(t, 500.0, agl=True), target_speed_m_s=300.0, dt_s=1.0)
    assert d[fast].max() > d[m].max() + 1000.0


def test_lowest_detected_altitude_on_flat_earth_and_behind_a_wall():
    t = _flat()
    mva = min_visible_altitude(t, 0.0, 0.0, RADAR.z, k=np.inf)
    low = lowest_detected_altitude([RADAR], [mva], t, 1.0, 0.9)
    x, y = np.meshgrid(t.grid.x_centers(), t.grid.y_centers())
    d = np.hypot(x, y)
    # close in: detected down to the ground; beyond the detection range: never
    assert np.allclose(low[d < 9_000.0], 100.0)
    assert np.isnan(low[d > 10_000.0]).all()
    # a 300 m wall at x = 2 km: behind it the lowest altitude is set by similar triangles
    z = t.elevation_m.copy()
    wall = (np.abs(x - 2000.0) < 100.0)
    z[wall] = 400.0
    t2 = Terrain(t.grid, z)
    mva2 = min_visible_altitude(t2, 0.0, 0.0, RADAR.z, k=np.inf)
    low2 = lowest_detected_altitude([RADAR], [mva2], t2, 1.0, 0.9)
    row = t.grid.ny // 2
    xs = t.grid.x_centers()
    j = np.argmin(np.abs(xs - 6000.0))
    # wall face nearest the radar at x = 1.9 km (cell edge); sight line from 105 m over 400 m
    expected = RADAR.z + (400.0 - RADAR.z) * xs[j] / 1900.0
    assert low2[row, j] == pytest.approx(expected, rel=0.06)


def test_layered_count():
    a = np.array([[True, False], [True, True]])
    b = np.array([[True, False], [False, True]])
    assert layered_count([a, b]).tolist() == [[2, 0], [1, 2]]
    with pytest.raises(ValueError):
        layered_count([])


def test_coverage_command_writes_georeferenced_products(small_dir, tmp_path, capsys):
    out = tmp_path / "cov"
    rc = main(["coverage", str(small_dir / "scenario.yaml"), "--alt", "100", "1000", "--agl", "--rcs", "0.1",
               "1", "--out", str(out)])
    assert rc == 0
    names = {p.name for p in out.iterdir()}
    for n in ("sam-1.min_visible_altitude.tif", "sam-1.detection.tif", "sam-2.engagement.tif",
              "layered.detection.tif", "layered.engagement.tif", "lowest_detected_altitude.tif",
              "coverage.kmz", "coverage.geojson", "coverage.json", "png"):
        assert n in names, n
    with rasterio.open(small_dir / "dem.tif") as dem, rasterio.open(out / "layered.detection.tif") as ds:
        assert ds.crs == dem.crs  # written in the DEM's CRS
        assert ds.count == 4 and ds.nodata is not None
        b = ds.bounds
        assert dem.bounds.left <= b.left and b.right <= dem.bounds.right
        assert dem.bounds.bottom <= b.bottom and b.top <= dem.bounds.top
        counts = ds.read(1, masked=True)
        assert counts.max() <= 2 and counts.max() >= 1
        assert "RCS 0.1 m2" in ds.descriptions[0]
    with rasterio.open(out / "sam-1.min_visible_altitude.tif") as ds:
        msl, agl = ds.read(1, masked=True), ds.read(2, masked=True)
        assert (agl.compressed() >= -1.0).all()  # never below ground (bilinear resampling slack)
        assert float((msl - agl).mean()) > 0
    with zipfile.ZipFile(out / "coverage.kmz") as z:
        kml = z.read("doc.kml")
        root = ElementTree.fromstring(kml)
        ns = {"k": "http://www.opengis.net/kml/2.2"}
        overlays = root.findall(".//k:GroundOverlay", ns)
        assert len(overlays) == 2 * 2 + 2 + 2  # detection (rcs x alt), engagement (alt), lowest (rcs)
        for o in overlays:
            href = o.find("k:Icon/k:href", ns).text
            assert href in z.namelist() and z.read(href)[:8] == b"\x89PNG\r\n\x1a\n"
            box = o.find("k:LatLonBox", ns)
            assert float(box.find("k:north", ns).text) > float(box.find("k:south", ns).text)
    gj = json.loads((out / "coverage.geojson").read_text())
    assert gj["features"], "some area must be covered"
    for f in gj["features"]:
        ring = np.array(f["geometry"]["coordinates"][0])
        assert (ring[:, 0] > 19.9).all() and (ring[:, 0] < 20.5).all()  # lon of the synthetic DEM
        assert (ring[:, 1] > 9.9).all() and (ring[:, 1] < 10.5).all()
    assert "detection" in capsys.readouterr().out


@pytest.mark.parametrize("args, msg", [(["--alt", "-5"], "--alt"), (["--rcs", "0"], "--rcs"),
                                       (["--pd", "1.5"], "--pd"), (["--target-speed", "-1"], "--target-speed")])
def test_coverage_bad_arguments(small_dir, tmp_path, capsys, args, msg):
    out = tmp_path / "never"
    assert main(["coverage", str(small_dir / "scenario.yaml"), *args, "--out", str(out)]) == 2
    assert msg in capsys.readouterr().err
    assert not out.exists()


def test_coverage_method_option(small_dir, tmp_path):
    out = tmp_path / "planes"
    assert main(["coverage", str(small_dir / "scenario.yaml"), "--alt", "500", "--agl", "--rcs", "1",
                 "--method", "planes", "--out", str(out), "-q"]) == 0
    assert json.loads((out / "coverage.json").read_text())["method"] == "planes"
    assert main(["coverage", str(small_dir / "scenario.yaml"), "--method", "magic",
                 "--out", str(tmp_path / "no")]) == 2
    assert not (tmp_path / "no").exists()
