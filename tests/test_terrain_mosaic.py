"""terrain.dem as a mosaic: a list of tiles, a glob or a folder (iadsim.geo.mosaic).

The tiles are cut from tests/data/S33W071_sanfelipe.tif (a crop of the bundled SRTM tile; see
tests/data/PROVENANCE.md), so a mosaic of them must reproduce the crop pixel for pixel."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
import yaml
from rasterio.warp import calculate_default_transform, reproject, Resampling
from rasterio.windows import Window

from iadsim.cli import main
from iadsim.errors import InputError, ResourceError
from iadsim.geo import mosaic as mosaic_mod
from iadsim.results.io import sha256_file

DATA = Path(__file__).parent / "data"
TILE = DATA / "S33W071_sanfelipe.tif"  # 120 x 120 px, 32.70-32.80 S, 70.70-70.80 W


def _cut(dst: Path, row: int, col: int, h: int, w: int, src: Path = TILE) -> Path:
    with rasterio.open(src) as ds:
        win = Window(col, row, w, h)
        prof = ds.profile | {"width": w, "height": h, "transform": ds.window_transform(win)}
        a = ds.read(1, window=win)
    with rasterio.open(dst, "w", **prof) as out:
        out.write(a, 1)
    return dst


def _quadrants(folder: Path) -> list[Path]:
    """The crop cut into four 60 x 60 tiles: a_nw, b_ne, c_sw, d_se."""
    folder.mkdir(parents=True, exist_ok=True)
    return [_cut(folder / f"{n}.tif", r, c, 60, 60)
            for n, r, c in (("a_nw", 0, 0), ("b_ne", 0, 60), ("c_sw", 60, 0), ("d_se", 60, 60))]


def _scenario(dem, quadrant: str = "all") -> dict:
    """A small scenario on the crop; ``quadrant='nw'`` keeps every point in the north-west tile."""
    if quadrant == "nw":
        asset, site, route = (-32.72, -70.78), (-32.715, -70.775), [(-32.705, -70.79), (-32.71, -70.785)]
        margin = 0.3
    else:
        asset, site, route = (-32.75, -70.75), (-32.745, -70.74), [(-32.71, -70.79), (-32.73, -70.77)]
        margin = 1.0
    return {
        "schema_version": 1, "name": "mosaic-test", "title": "mosaic test",
        "terrain": {"dem": dem, "resolution_m": 150, "margin_km": margin},
        "simulation": {"duration_s": 300, "dt_s": 1.0, "replications": 4, "seed": 3},
        "assets": [{"name": "base", "lat": asset[0], "lon": asset[1], "radius_m": 300}],
        "effectors": [{"name": "sam", "system": "tor_m2", "site": {"lat": site[0], "lon": site[1]}}],
        "threats": [{"name": "owa", "type": "shahed_136", "altitude_m": 150, "altitude_ref": "agl",
                     "route": [{"lat": a, "lon": b} for a, b in route], "target": "base"}],
    }


def _write(folder: Path, data: dict, name: str = "scenario.yaml") -> Path:
    p = folder / name
    p.write_text(yaml.safe_dump(data), encoding="utf-8")
    return p


@pytest.fixture()
def cache(tmp_path, monkeypatch) -> Path:
    c = tmp_path / "cache"
    monkeypatch.setenv(mosaic_mod.CACHE_ENV, str(c))
    return c


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def _terrain(path: Path):
    from iadsim.engine.world import build_grid
    from iadsim.geo.terrain import load_terrain
    from iadsim.scenario import load_scenario

    ld = load_scenario(path)
    return ld, load_terrain(ld.dem_path, build_grid(ld), source=ld.source)


def test_list_glob_and_folder_reproduce_the_single_tile(tmp_path, cache):
    tiles = _quadrants(tmp_path / "tiles")
    single = _terrain(_write(tmp_path, _scenario(str(TILE)), "single.yaml"))[1]
    for name, dem in (("list", [f"tiles/{p.name}" for p in tiles]), ("glob", "tiles/*.tif"),
                      ("folder", "tiles")):
        ld, terr = _terrain(_write(tmp_path, _scenario(dem), f"{name}.yaml"))
        assert ld.dem_path.parent == cache / "mosaics", name
        assert [t["path"] for t in ld.dem_tiles] == [str(p) for p in tiles], name
        assert [t["sha256"] for t in ld.dem_tiles] == [sha256_file(p) for p in tiles]
        # the same pixels, so the same resampled terrain as the one tile they were cut from
        assert terr.elevation_m.shape == single.elevation_m.shape
        np.testing.assert_array_equal(terr.elevation_m, single.elevation_m)
    assert len(list((cache / "mosaics").glob("*.tif"))) == 1  # one cache entry: same tiles, same key


def test_mosaic_bytes_depend_only_on_the_tiles(tmp_path, cache, monkeypatch):
    """Same tiles -> the same mosaic file, byte for byte (its sha256 goes into run.json)."""
    from iadsim.scenario import load_scenario

    _quadrants(tmp_path / "tiles")
    scn = _write(tmp_path, _scenario("tiles"))
    first = load_scenario(scn).dem_path
    sha = sha256_file(first)
    first.unlink()
    monkeypatch.setenv(mosaic_mod.CACHE_ENV, str(tmp_path / "cache2"))
    second = load_scenario(scn).dem_path
    assert second != first and sha256_file(second) == sha


def test_one_tile_through_a_glob_is_that_tile(tmp_path, cache):
    from iadsim.scenario import load_scenario

    (tmp_path / "one").mkdir()
    t = _cut(tmp_path / "one" / "x.tif", 0, 0, 120, 120)
    ld = load_scenario(_write(tmp_path, _scenario("one/*.tif")))
    assert ld.dem_path == t and not cache.exists()  # nothing to merge, nothing written


def test_mixed_crs_is_refused_naming_the_tile(tmp_path, cache, capsys):
    tiles = _quadrants(tmp_path / "tiles")
    utm = tmp_path / "tiles" / "b_ne.tif"
    with rasterio.open(tiles[1]) as ds:
        tr, w, h = calculate_default_transform(ds.crs, "EPSG:32719", ds.width, ds.height, *ds.bounds)
        prof = ds.profile | {"crs": "EPSG:32719", "transform": tr, "width": w, "height": h}
        a = np.full((h, w), -32767, dtype=np.int16)
        reproject(rasterio.band(ds, 1), a, dst_transform=tr, dst_crs="EPSG:32719",
                  resampling=Resampling.nearest, dst_nodata=-32767)
    with rasterio.open(utm, "w", **prof) as out:
        out.write(a, 1)
    scn = _write(tmp_path, _scenario([f"tiles/{p.name}" for p in tiles]))
    before = _files(tmp_path)
    assert main(["validate", str(scn)]) == 2
    err = capsys.readouterr().err
    assert "terrain.dem[1]" in err and "b_ne.tif" in err and "CRS" in err and "Traceback" not in err
    assert _files(tmp_path) == before  # no cache entry, nothing else


def test_mixed_resolution_and_misaligned_tiles_are_refused(tmp_path, cache):
    from iadsim.scenario import load_scenario

    tiles = _quadrants(tmp_path / "tiles")
    with rasterio.open(tiles[3]) as ds:  # d_se at half the resolution
        prof = ds.profile | {"width": 30, "height": 30, "transform": ds.transform * ds.transform.scale(2)}
        a = ds.read(1)[::2, ::2]
    with rasterio.open(tiles[3], "w", **prof) as out:
        out.write(a, 1)
    with pytest.raises(InputError) as ei:
        load_scenario(_write(tmp_path, _scenario("tiles")))
    p = ei.value.problems[0]
    assert p.path == "terrain.dem" and "d_se.tif" in p.message and "resolution" in p.message
    _cut(tiles[3], 60, 60, 60, 60)  # put it back, then shift b_ne by a third of a pixel
    with rasterio.open(tiles[1]) as ds:
        prof = ds.profile | {"transform": ds.transform * ds.transform.translation(1 / 3, 0)}
        a = ds.read(1)
    with rasterio.open(tiles[1], "w", **prof) as out:
        out.write(a, 1)
    with pytest.raises(InputError) as ei:
        load_scenario(_write(tmp_path, _scenario("tiles")))
    assert "b_ne.tif" in str(ei.value) and "pixel grid" in str(ei.value)
    assert not cache.exists()


def test_a_gap_inside_the_analysis_area_is_refused(tmp_path, cache, capsys):
    tiles = _quadrants(tmp_path / "tiles")
    tiles[0].unlink()  # no north-west tile: the scenario's route lies there
    scn = _write(tmp_path, _scenario("tiles"))
    before = _files(tmp_path)
    assert main(["validate", str(scn)]) == 2
    err = capsys.readouterr().err
    assert "terrain.dem" in err and "gap" in err and "b_ne.tif" in err and "Traceback" not in err
    assert _files(tmp_path) == before


def test_a_gap_outside_the_analysis_area_is_allowed(tmp_path, cache, capsys):
    tiles = _quadrants(tmp_path / "tiles")
    tiles[3].unlink()  # no south-east tile; every point is in the north-west one
    scn = _write(tmp_path, _scenario("tiles", quadrant="nw"))
    assert main(["validate", str(scn)]) == 0, capsys.readouterr().err


def test_nodata_voids_of_a_tile_inside_the_area_name_the_tile(tmp_path, cache):
    from iadsim.scenario import load_scenario

    tiles = _quadrants(tmp_path / "tiles")
    with rasterio.open(tiles[0], "r+") as ds:
        a = ds.read(1)
        a[20:40, 20:40] = ds.nodata
        ds.write(a, 1)
    with pytest.raises(InputError) as ei:
        load_scenario(_write(tmp_path, _scenario("tiles")))
    p = ei.value.problems[0]
    assert p.path == "terrain.dem" and "a_nw.tif" in p.message and "voids" in p.message


def test_a_vrt_among_the_tiles_is_refused(tmp_path, cache, capsys):
    tiles = _quadrants(tmp_path / "tiles")
    vrt = tmp_path / "tiles" / "all.vrt"
    vrt.write_text(f'<VRTDataset rasterXSize="1" rasterYSize="1"><VRTRasterBand dataType="Int16" band="1">'
                   f'<SimpleSource><SourceFilename>{tiles[0]}</SourceFilename></SimpleSource>'
                   f'</VRTRasterBand></VRTDataset>', encoding="utf-8")
    scn = _write(tmp_path, _scenario(["tiles/a_nw.tif", "tiles/all.vrt"]))
    assert main(["validate", str(scn)]) == 2
    err = capsys.readouterr().err
    assert "terrain.dem[1]" in err and "VRT" in err
    assert not cache.exists()


@pytest.mark.parametrize("dem, words", [
    ("tiles/*.nothing", ["no file matches"]),
    (["tiles/a_nw.tif", "https://example.org/x.tif"], ["terrain.dem[1]", "local file"]),
    (["tiles/a_nw.tif", "/vsicurl/http://127.0.0.1:9/x.tif"], ["terrain.dem[1]", "local file"]),
    ([], ["terrain.dem"]),
])
def test_bad_tile_lists(tmp_path, cache, capsys, dem, words):
    _quadrants(tmp_path / "tiles")
    assert main(["validate", str(_write(tmp_path, _scenario(dem)))]) == 2
    err = capsys.readouterr().err
    assert all(w in err for w in words), err


def test_a_mosaic_larger_than_memory_is_refused_before_merging(tmp_path, cache, monkeypatch, capsys):
    import iadsim.limits

    _quadrants(tmp_path / "tiles")
    monkeypatch.setattr(iadsim.limits, "available_memory_bytes", lambda: 50_000)
    assert main(["validate", str(_write(tmp_path, _scenario("tiles")))]) == 2
    err = capsys.readouterr().err
    assert "terrain.dem" in err and "memory" in err and "Traceback" not in err
    assert not cache.exists()
    with pytest.raises(ResourceError):  # the pixel limit holds whatever the memory
        mosaic_mod.check_mosaic_size(50_000, 50_000, 2, ("s.yaml", "terrain.dem"), available=2**50)
    mosaic_mod.check_mosaic_size(1000, 1000, 2, ("s.yaml", "terrain.dem"), available=2**30)


def test_schema_accepts_a_list_of_tiles():
    from iadsim.scenario.loader import json_schema

    dem = json.loads(json_schema())["$defs"]["Terrain"]["properties"]["dem"]
    kinds = {k.get("type") for k in dem["anyOf"]}
    assert kinds == {"string", "array"}


@pytest.mark.slow
def test_run_records_every_tile_and_report_checks_them(tmp_path, cache, capsys):
    tiles = _quadrants(tmp_path / "tiles")
    scn = _write(tmp_path, _scenario("tiles"))
    out = tmp_path / "run"
    assert main(["run", str(scn), "-n", "2", "-q", "--tables-only", "-o", str(out)]) == 0, capsys.readouterr().err
    info = json.loads((out / "run.json").read_text())
    rec = info["inputs"]["dem"]
    assert [t["path"] for t in rec["tiles"]] == [str(p) for p in tiles]
    assert [t["sha256"] for t in rec["tiles"]] == [sha256_file(p) for p in tiles]
    assert rec["sha256"] == sha256_file(rec["path"])
    assert main(["report", str(out)]) == 0, capsys.readouterr().err
    with rasterio.open(tiles[2], "r+") as ds:  # change one tile: the report refuses, naming it
        a = ds.read(1)
        ds.write(a + 1, 1)
    capsys.readouterr()
    assert main(["report", str(out)]) == 2
    err = capsys.readouterr().err
    assert "c_sw.tif" in err and "differs" in err


def test_a_sweep_over_the_dem_hashes_the_mosaic_and_its_tiles(tmp_path, cache):
    from iadsim.montecarlo.sweep import plan_sweep

    tiles = _quadrants(tmp_path / "tiles")
    (tmp_path / "one.tif").write_bytes(TILE.read_bytes())
    plan = plan_sweep(_write(tmp_path, _scenario("tiles")), ["terrain.dem=tiles,one.tif"], replications=2)
    mosaic = plan.loaded.dem_path
    assert plan.dem_sha256 == sha256_file(mosaic)
    assert plan.dem_hashes[str(mosaic)] == sha256_file(mosaic)
    assert plan.dem_hashes[str(tmp_path / "one.tif")] == sha256_file(TILE)
    for t in tiles:
        assert plan.dem_hashes[str(t)] == sha256_file(t)
    assert plan.manifest()["scenario"]["dems"] == dict(sorted(plan.dem_hashes.items()))


@pytest.mark.parametrize("name", ["dem[1].tif", "what?.tif", "a*b.tif"])
def test_a_file_whose_name_looks_like_a_glob_is_that_file(tmp_path, cache, name):
    from iadsim.scenario import load_scenario

    (tmp_path / name).write_bytes(TILE.read_bytes())
    (tmp_path / "other.tif").write_bytes(TILE.read_bytes())  # what the glob would also match
    ld = load_scenario(_write(tmp_path, _scenario(name)))
    assert ld.dem_path == tmp_path / name and ld.dem_tiles == [] and not cache.exists()


def test_the_models_of_a_run_on_a_mosaic_say_what_it_leaves_out(tmp_path, cache):
    from iadsim.engine.world import _terrain_model
    from iadsim.scenario import load_scenario

    _quadrants(tmp_path / "tiles")
    ld = load_scenario(_write(tmp_path, _scenario("tiles")))
    m = _terrain_model({}, ld)
    assert "mosaic of 4 DEM tiles" in m["terrain"] and "not filled" in m["terrain"]
    single = load_scenario(_write(tmp_path, _scenario(str(TILE)), "single.yaml"))
    assert _terrain_model({}, single) == {}  # a single DEM: the models of a run are unchanged


def test_a_south_up_tile_is_refused_in_a_mosaic(tmp_path, cache):
    from iadsim.scenario import load_scenario

    tiles = _quadrants(tmp_path / "tiles")
    with rasterio.open(tiles[2]) as ds:  # c_sw written rows south to north
        t = ds.transform
        prof = ds.profile | {"transform": rasterio.Affine(t.a, 0, t.c, 0, -t.e, t.f + t.e * ds.height)}
        a = ds.read(1)[::-1]
    with rasterio.open(tiles[2], "w", **prof) as out:
        out.write(a, 1)
    with pytest.raises(InputError) as ei:
        load_scenario(_write(tmp_path, _scenario("tiles")))
    assert "c_sw.tif" in str(ei.value) and "north-up" in str(ei.value)
