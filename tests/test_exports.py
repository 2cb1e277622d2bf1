"""Exports of a run: KMZ for Google Earth (OGC KML 2.2), CZML for Cesium (czml3), GeoTIFF and
GeoJSON of coverage, xarray for notebooks, `iadsim export`, and the example scenarios."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest
import rasterio

from iadsim.report.maps import coverage_count

REPO = Path(__file__).resolve().parents[1]
KML = "{http://www.opengis.net/kml/2.2}"
NS = {"k": "http://www.opengis.net/kml/2.2"}


@pytest.fixture(scope="module")
def run_dir(small_results, tmp_path_factory):
    from iadsim.export.bundle import write_outputs

    out = tmp_path_factory.mktemp("run")
    files = write_outputs(small_results, out, report=False)
    for name in ("run.json", "run.kmz", "run.czml", "coverage/line_of_sight.tif",
                 "coverage/line_of_sight.geojson", "routes.geojson"):
        assert name in files, name
    return out


def _kml_root(path: Path):
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        data = z.read("doc.kml")
    return ElementTree.fromstring(data), data, names


# ---------------------------------------------------------------- KML / KMZ

def _kml_schema():
    """lxml's XMLSchema of OGC KML 2.2, from the schema files the pykml package ships
    (ogckml22.xsd with its imports atom-author-link.xsd and xAL.xsd), or None."""
    try:
        import pykml
        from lxml import etree
    except ImportError:
        return None
    xsd = Path(pykml.__file__).parent / "schemas" / "ogckml22.xsd"
    if not xsd.is_file():
        return None
    return etree.XMLSchema(etree.parse(str(xsd)))


def _validate(data: bytes) -> None:
    schema = _kml_schema()
    if schema is None:
        pytest.skip("no KML schema validator: install lxml and pykml (pykml ships ogckml22.xsd); "
                    "the structure is still checked by the other tests")
    from lxml import etree

    doc = etree.fromstring(data)
    ok = schema.validate(doc)
    assert ok, "\n".join(f"line {e.line}: {e.message}" for e in list(schema.error_log)[:10])


def test_run_kmz_is_valid_ogc_kml(run_dir):
    _, data, _ = _kml_root(run_dir / "run.kmz")
    _validate(data)


def test_coverage_kmz_is_valid_ogc_kml(small_scenario, tmp_path):
    from iadsim.export.coverage import CoverageRequest, write_coverage

    write_coverage(small_scenario, tmp_path / "cov", CoverageRequest(altitudes_m=(500.0,), rcs_m2=(1.0,)))
    _, data, _ = _kml_root(tmp_path / "cov" / "coverage.kmz")
    _validate(data)


def test_run_kmz_contents(run_dir, small_results):
    w = small_results.world
    root, data, names = _kml_root(run_dir / "run.kmz")
    assert root.tag == f"{KML}kml"
    # nothing is fetched from the network: every referenced file is inside the KMZ
    assert not re.search(rb"<href>\s*https?:", data)
    for href in root.iter(f"{KML}href"):
        assert href.text in names, href.text
    # ids are valid xs:ID (no leading digit)
    for el in root.iter():
        if "id" in el.attrib:
            assert re.match(r"^[A-Za-z_][\w.-]*$", el.attrib["id"])
    folders = {f.findtext("k:name", namespaces=NS): f for f in root.iter(f"{KML}Folder")}
    assert "Sites" in folders and "Planned routes" in folders
    sites = {p.findtext("k:name", namespaces=NS) for p in folders["Sites"].findall("k:Placemark", NS)}
    assert set(w.effector_labels) | {a.name for a in w.scenario.assets} <= sites
    # coverage: one ground overlay per height, in a radio folder (one shown at a time)
    from iadsim.export.kml_run import LAYER_HEIGHTS_AGL_M

    cov = folders["Coverage (radars in line of sight)"]
    overlays = cov.findall("k:GroundOverlay", NS)
    assert len(overlays) == len(LAYER_HEIGHTS_AGL_M)
    assert sum(o.findtext("k:visibility", namespaces=NS) == "1" for o in overlays) == 1
    style_id = cov.findtext("k:styleUrl", namespaces=NS).lstrip("#")
    style = next(s for s in root.iter(f"{KML}Style") if s.get("id") == style_id)
    assert style.findtext("k:ListStyle/k:listItemType", namespaces=NS) == "radioFolder"
    for o in overlays:
        box = o.find("k:LatLonBox", NS)
        n, s, e, wv = (float(box.findtext(f"k:{k}", namespaces=NS)) for k in ("north", "south", "east", "west"))
        assert 9.9 < s < n < 10.5 and 19.9 < wv < e < 20.5  # the synthetic DEM near 10 N, 20 E
    # routes: 3-D lines at absolute altitudes (metres above mean sea level)
    routes = folders["Planned routes"].findall("k:Placemark/k:LineString", NS)
    assert len(routes) == len(w.scenario.threats)
    for ls in routes:
        assert ls.findtext("k:altitudeMode", namespaces=NS) == "absolute"
        coords = [c.split(",") for c in ls.findtext("k:coordinates", namespaces=NS).split()]
        assert len(coords) >= 2 and all(len(c) == 3 for c in coords)
    # playback of the recorded replication: placemarks with time spans, from the scenario epoch
    pb = next(f for name, f in folders.items() if name.startswith("Replication"))
    spans = pb.findall(".//k:TimeSpan", NS)
    assert len(spans) > 50
    begins = [s.findtext("k:begin", namespaces=NS) for s in spans]
    assert all(b is None or b.startswith("2000-01-01T") and b.endswith("Z") for b in begins)
    # kills of all replications, hidden at first
    kills = next(f for name, f in folders.items() if name.startswith("Kills, all replications"))
    assert kills.findtext("k:visibility", namespaces=NS) == "0"
    n_kills = int(small_results.replications["killed"].sum())
    assert len(kills.findall("k:Placemark", NS)) == min(n_kills, 2000)


# ---------------------------------------------------------------- missiles and playback

def test_flyouts_follow_the_timeline(small_results):
    from iadsim.report.playback import replication_playback

    w = small_results.world
    pb = replication_playback(small_results)
    ev = small_results.timeline
    launches = ev[ev["event"] == "launch"]
    assert len(pb.flyouts) == len(launches) > 0
    sx = dict(zip(w.effector_labels, range(len(w.effector_labels))))
    for fl in pb.flyouts:
        e = sx[fl.unit]
        lon, lat = w.grid.to_lonlat(w.effector_xyz[e, 0], w.effector_xyz[e, 1])
        assert fl.start[:2] == pytest.approx((float(lon), float(lat)), abs=1e-9)
        m = w.threat_labels.index(fl.threat)
        s = int(round(fl.t_launch / w.dt))
        assert fl.t_end - fl.t_launch == pytest.approx(w.tof[s, m, e] * w.dt)  # the engine's flyout time
        assert fl.position(fl.t_launch) == pytest.approx(fl.start)
        assert fl.position(fl.t_end) == pytest.approx(fl.end)
        assert fl.outcome in ("kill", "miss")
    kills = ev[ev["event"] == "kill"]
    assert sorted(kills["threat"]) == sorted(f.threat for f in pb.flyouts if f.outcome == "kill")
    for tr in pb.tracks:
        assert np.all(np.diff(tr.t) > 0)
        if tr.fate == "killed":
            assert tr.t1 == pytest.approx(float(kills.loc[kills["threat"] == tr.label, "time_s"].iloc[0]))


# ---------------------------------------------------------------- CZML

def test_czml_round_trips_through_czml3(run_dir):
    from czml3 import Document

    from iadsim.export.czml import czml_json

    text = (run_dir / "run.czml").read_text(encoding="utf-8")
    packets = json.loads(text)
    doc = Document.model_validate_json(text)  # czml3's pydantic models accept it
    assert len(doc.packets) == len(packets)
    assert czml_json(doc) == text  # and write it back byte for byte
    assert packets[0]["id"] == "document" and packets[0]["version"] == "1.0"
    assert packets[0]["clock"]["interval"].startswith("2000-01-01T00:00:00Z/")


def test_czml_contents(run_dir, small_results):
    w = small_results.world
    packets = {p["id"]: p for p in json.loads((run_dir / "run.czml").read_text(encoding="utf-8"))}
    assert "terrain" in packets and packets["terrain"]["rectangle"]["material"]["image"]["image"]["uri"] \
        .startswith("data:image/png;base64,")
    for name in w.effector_labels:
        assert f"site/{name}" in packets
        assert packets[f"envelope/{name}"]["parent"] == "envelopes"
        rings = [p for k, p in packets.items() if k.startswith(f"envelope/{name}/ring/") and "polyline" in p]
        assert len(rings) >= 2
        for p in rings:
            ring = np.array(p["polyline"]["positions"]["cartographicDegrees"]).reshape(-1, 3)
            assert np.allclose(ring[0], ring[-1])   # closed, at one altitude
            assert np.ptp(ring[:, 2]) == 0.0
    for a in w.scenario.assets:
        assert f"site/{a.name}" in packets
    covs = [p for k, p in packets.items() if k.startswith("coverage/")]
    assert len(covs) >= 3 and sum(bool(p["rectangle"].get("show")) for p in covs) == 1
    threats = [p for k, p in packets.items() if k.startswith("threat/")]
    assert threats
    for p in threats:
        pos = p["position"]
        assert pos["epoch"] == "2000-01-01T00:00:00Z" and pos["interpolationAlgorithm"] == "LINEAR"
        v = np.array(pos["cartographicDegrees"]).reshape(-1, 4)
        assert np.all(np.diff(v[:, 0]) > 0)
        assert np.all((v[:, 1] > 19.9) & (v[:, 1] < 20.5) & (v[:, 2] > 9.9) & (v[:, 2] < 10.5))
        assert "/" in p["availability"]
    missiles = [p for k, p in packets.items() if k.startswith("missile/")]
    n_launch = int((small_results.timeline["event"] == "launch").sum())
    assert len(missiles) == n_launch
    for p in missiles:
        v = np.array(p["position"]["cartographicDegrees"]).reshape(-1, 4)
        assert len(v) == 2 and v[1, 0] > v[0, 0]  # a straight flyout: launch and intercept


# ---------------------------------------------------------------- GeoTIFF and GeoJSON

def test_line_of_sight_geotiff_georeferencing(run_dir, small_results):
    from rasterio.crs import CRS

    w = small_results.world
    g = w.grid
    with rasterio.open(run_dir / "coverage" / "line_of_sight.tif") as ds:
        assert CRS.from_wkt(ds.crs.to_wkt()) == CRS.from_wkt(g.crs.to_wkt())
        assert ds.bounds.left == pytest.approx(g.xmin) and ds.bounds.right == pytest.approx(g.xmax)
        assert ds.bounds.bottom == pytest.approx(g.ymin) and ds.bounds.top == pytest.approx(g.ymax)
        assert (ds.width, ds.height) == (g.nx, g.ny)
        from iadsim.export.kml_run import LAYER_HEIGHTS_AGL_M

        assert ds.count == len(LAYER_HEIGHTS_AGL_M)
        for i, h in enumerate(LAYER_HEIGHTS_AGL_M, start=1):
            np.testing.assert_array_equal(ds.read(i), coverage_count(w.mva, w.terrain.elevation_m, h))
            assert f"{h:g} m above ground" in ds.descriptions[i - 1]
        # a fire unit's cell, found through the file's own georeferencing, is seen from 3000 m
        from rasterio.warp import transform as warp

        site = w.scenario.effectors[0].site
        (x,), (y,) = warp("EPSG:4326", ds.crs, [site.lon], [site.lat])
        r, c = ds.index(x, y)
        assert ds.read(ds.count)[r, c] >= 1
    with rasterio.open(run_dir / "coverage" / f"{w.sensor_labels[0]}.min_visible_altitude.tif") as ds:
        assert ds.bounds.left == pytest.approx(g.xmin) and ds.bounds.top == pytest.approx(g.ymax)
        assert ds.nodata is not None


def test_coverage_geojson(run_dir):
    gj = json.loads((run_dir / "coverage" / "line_of_sight.geojson").read_text())
    assert gj["type"] == "FeatureCollection" and gj["features"]
    heights = {f["properties"]["height_agl_m"] for f in gj["features"]}
    assert len(heights) >= 3
    for f in gj["features"]:
        assert f["geometry"]["type"] == "Polygon"
        ring = np.array(f["geometry"]["coordinates"][0])
        assert (ring[:, 0] > 19.9).all() and (ring[:, 0] < 20.5).all()
        assert (ring[:, 1] > 9.9).all() and (ring[:, 1] < 10.5).all()
        assert np.allclose(ring[0], ring[-1])
    routes = json.loads((run_dir / "routes.geojson").read_text())
    assert any(f["geometry"]["type"] == "LineString" for f in routes["features"])


# ---------------------------------------------------------------- xarray

def test_coverage_dataarray(small_results):
    from iadsim.export.xr import coverage_dataarray, coverage_dataset

    w = small_results.world
    da = coverage_dataarray(small_results, heights_agl_m=[50, 3000])
    assert da.dims == ("height_agl_m", "y", "x")
    assert da.shape == (2, w.grid.ny, w.grid.nx)
    np.testing.assert_array_equal(da.sel(height_agl_m=3000).values,
                                  coverage_count(w.mva, w.terrain.elevation_m, 3000))
    assert float(da.x[0]) == pytest.approx(w.grid.xmin + w.grid.res / 2)
    assert float(da.y[0]) == pytest.approx(w.grid.ymax - w.grid.res / 2)
    assert da.lon.dims == ("y", "x") and 19.9 < float(da.lon.mean()) < 20.5
    assert "crs_wkt" in da.attrs
    ds = coverage_dataset(w, heights_agl_m=[300], lonlat=False)
    assert set(ds.data_vars) == {"elevation_m", "min_visible_altitude_m", "radars_in_line_of_sight"}
    assert list(ds.radar.values) == list(w.sensor_labels)
    from iadsim.report import coverage_dataarray as again

    assert again is coverage_dataarray


# ---------------------------------------------------------------- iadsim export

def test_export_command_other_replication(run_dir, capsys):
    from czml3 import Document

    from iadsim.cli import main

    assert main(["export", str(run_dir), "--replication", "3"]) == 0
    assert (run_dir / "run.r3.kmz").is_file() and (run_dir / "run.r3.czml").is_file()
    root, _, _ = _kml_root(run_dir / "run.r3.kmz")
    names = [f.findtext("k:name", namespaces=NS) for f in root.iter(f"{KML}Folder")]
    assert "Replication 3 (time animation)" in names
    Document.model_validate_json((run_dir / "run.r3.czml").read_text(encoding="utf-8"))
    assert main(["export", str(run_dir), "--no-kml", "--czml", "--out", str(run_dir / "x")]) == 0
    assert (run_dir / "x" / "run.czml").is_file() and not (run_dir / "x" / "run.kmz").exists()
    assert "wrote" in capsys.readouterr().out


# ---------------------------------------------------------------- the example scenarios

EXAMPLES = sorted(p.parent.name for p in (REPO / "examples").glob("*/scenario.yaml"))
NEW_EXAMPLES = ("airfield-point-defence", "drone-patrol-mountains", "saturation-raid", "cruise-missile-valley")


def test_examples_are_there():
    for name in NEW_EXAMPLES:
        assert name in EXAMPLES
        readme = (REPO / "examples" / name / "README.md").read_text(encoding="utf-8")
        assert readme.startswith("# ") and "iadsim run" in readme


@pytest.mark.slow
@pytest.mark.parametrize("name", EXAMPLES)
def test_example_validates_and_runs(name, capsys):
    import time

    import iadsim
    from iadsim.cli import main

    path = REPO / "examples" / name / "scenario.yaml"
    assert main(["validate", str(path)]) == 0
    assert "ok" in capsys.readouterr().out
    t0 = time.perf_counter()
    res = iadsim.simulate(path, replications=8)
    assert time.perf_counter() - t0 < 120
    tt = res.threat_table()
    assert len(tt) == len(res.world.threat_labels) and (tt["n"] == 8).all()
    assert res.world.scenario.terrain.dem.startswith("bundled:")
    assert res.world.effector_labels and res.world.scenario.assets
