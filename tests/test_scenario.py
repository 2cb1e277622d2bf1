"""Tests of scenario loading: the example, every kind of bad input, the JSON Schema, and a
property test that random corruption of a valid scenario only ever raises InputError."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import edited, small_scenario_dict
from iadsim.catalog import load_catalog
from iadsim.engine.world import build_grid
from iadsim.errors import InputError
from iadsim.geo.grid import LocalGrid
from iadsim.geo.terrain import load_terrain
from iadsim.scenario.loader import (
    MAX_ALIASES,
    MAX_FILE_BYTES,
    json_schema,
    load_scenario,
    read_yaml,
    scenario_from_dict,
)

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "capital-whatif" / "scenario.yaml"
BUNDLED_EXAMPLE = REPO / "src" / "iadsim" / "scenarios" / "capital-whatif" / "scenario.yaml"

# one catalog for the whole module: load_catalog() reads and validates ~10 YAML files (~50 ms)
CATALOG = load_catalog()


def _write_yaml(folder: Path, data, name: str = "scenario.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _problems(exc: pytest.ExceptionInfo) -> list[tuple[str, str]]:
    return [(p.file, p.path) for p in exc.value.problems]


def _assert_single(exc: pytest.ExceptionInfo, file, path: str, *words: str) -> None:
    """Exactly one problem, in ``file`` at field ``path``, whose message holds ``words``."""
    probs = exc.value.problems
    assert [(p.file, p.path) for p in probs] == [(str(file), path)], probs
    for w in words:
        assert w.lower() in probs[0].message.lower(), probs[0].message
    # the string form a user sees names the file and the field
    text = str(exc.value)
    assert str(file) in text
    assert path in text


# --------------------------------------------------------------------------- the example


def test_example_is_the_bundled_copy():
    assert EXAMPLE.read_bytes() == BUNDLED_EXAMPLE.read_bytes()


@pytest.mark.parametrize("path", [EXAMPLE, BUNDLED_EXAMPLE], ids=["examples", "bundled"])
def test_example_loads(path):
    ld = load_scenario(path)
    s = ld.scenario
    assert s.name == "capital-whatif"
    assert ld.source == str(path)
    assert ld.dem_path.name == "S33W071.tif" and ld.dem_path.is_file()
    assert [e.name for e in s.effectors] == [
        "buk", "tor-north", "tor-west", "pantsir-city", "pantsir-airport", "pantsir-east"]
    assert {t.name for t in s.threats} == {"reaper-isr", "reaper-strike"}
    assert s.threats[0].mission.kind == "isr" and s.threats[1].mission.kind == "strike"
    assert s.threats[1].mission.weapon.target == "airport"
    assert s.question and [o.name for o in s.options][:3] == ["above-12-km", "stand-off-30-km", "without-buk"]
    assert s.simulation.uncertainty == "sample"
    assert s.terrain.refraction_k == pytest.approx(4 / 3, rel=1e-9)
    # every site and route point lies inside the bundled DEM: the grid builds
    grid = build_grid(ld)
    assert grid.nx > 100 and grid.ny > 100


def test_small_scenario_fixture_loads(small_scenario, small_dir):
    assert small_scenario.scenario.name == "small-synthetic"
    assert small_scenario.dem_path == small_dir / "dem.tif"
    build_grid(small_scenario)


# --------------------------------------------------------------------------- file-level problems


def test_malformed_yaml(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("name: [unclosed\nthreats: {\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_scenario(p)
    _assert_single(exc, p, "", "not valid YAML")


def test_tab_indentation_is_malformed_yaml(tmp_path):
    p = tmp_path / "tab.yaml"
    p.write_text("name: x\nterrain:\n\tdem: dem.tif\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_scenario(p)
    _assert_single(exc, p, "", "not valid YAML")


@pytest.mark.parametrize(
    "text", ["- a\n- b\n", "42\n", "just a string\n", "null\n"], ids=["list", "int", "str", "null"])
def test_top_level_not_a_mapping(tmp_path, text):
    p = tmp_path / "top.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_scenario(p)
    _assert_single(exc, p, "", "mapping")


@pytest.mark.parametrize("data", [[1, 2], "x", None, 3.5])
def test_scenario_from_dict_not_a_mapping(data):
    with pytest.raises(InputError) as exc:
        scenario_from_dict(data, source="in-memory", catalog=CATALOG)
    _assert_single(exc, "in-memory", "", "mapping")


@pytest.mark.parametrize("text", ["", "# only a comment\n", "\n\n   \n"], ids=["empty", "comment", "blank"])
def test_empty_file(tmp_path, text):
    p = tmp_path / "empty.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_scenario(p)
    _assert_single(exc, p, "", "mapping")


def test_missing_file(tmp_path):
    p = tmp_path / "nope.yaml"
    with pytest.raises(InputError) as exc:
        load_scenario(p)
    _assert_single(exc, p, "", "not found")


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(InputError) as exc:
        load_scenario(tmp_path)
    _assert_single(exc, tmp_path, "", "not a file")


def test_file_over_size_limit(tmp_path):
    p = tmp_path / "big.yaml"
    # a valid YAML document (a comment) just over the limit: refused before it is parsed
    p.write_bytes(b"#" + b"x" * MAX_FILE_BYTES + b"\n")
    t0 = time.perf_counter()
    with pytest.raises(InputError) as exc:
        load_scenario(p)
    assert time.perf_counter() - t0 < 1.0
    _assert_single(exc, p, "", str(MAX_FILE_BYTES))


def test_file_at_size_limit_is_read(tmp_path, small_dir):
    text = yaml.safe_dump(small_scenario_dict())
    body = text.encode()
    pad = MAX_FILE_BYTES - len(body) - 2
    p = small_dir / "padded.yaml"
    p.write_bytes(body + b"#" + b"x" * pad + b"\n")
    assert p.stat().st_size == MAX_FILE_BYTES
    assert load_scenario(p).scenario.name == "small-synthetic"


@pytest.mark.parametrize(
    "raw", [b"name: caf\xe9\n", b"\xff\xfe\x00n\x00a\x00m\x00e\x00", b"name: \x80\x81\n"],
    ids=["latin-1", "utf-16", "stray-continuation"])
def test_non_utf8_bytes(tmp_path, raw):
    p = tmp_path / "enc.yaml"
    p.write_bytes(raw)
    with pytest.raises(InputError) as exc:
        load_scenario(p)
    _assert_single(exc, p, "", "UTF-8")


def test_python_object_tag_is_refused_not_executed(tmp_path, small_dir):
    marker = tmp_path / "pwned"
    p = small_dir / "evil.yaml"
    # the tags PyYAML's unsafe loaders would execute; each would create `marker`
    p.write_text(
        yaml.safe_dump(small_scenario_dict())
        + f"title: !!python/object/apply:os.system ['touch {marker}']\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as exc:
        load_scenario(p)
    _assert_single(exc, p, "", "python/object/apply")
    assert not marker.exists()

    p2 = tmp_path / "evil2.yaml"
    p2.write_text(f"!!python/object/apply:subprocess.check_call [[touch, '{marker}']]\n",
                  encoding="utf-8")
    with pytest.raises(InputError):
        read_yaml(p2)
    p3 = tmp_path / "evil3.yaml"
    p3.write_text(f"!!python/object/new:pathlib.Path.touch [!!python/object/apply:pathlib.Path ['{marker}']]\n",
                  encoding="utf-8")
    with pytest.raises(InputError):
        read_yaml(p3)
    assert not marker.exists()


def _lol(levels: int = 9, width: int = 9, prefix: str = "_") -> tuple[str, str]:
    """The classic billion-laughs document: `levels` anchors, each `width` aliases of the last;
    returns the text and the last anchor's name."""
    out = f'{prefix}a: &a [{", ".join(["lol"] * width)}]\n'
    prev = "a"
    for n in "bcdefghijklmnopqrstuvwxyz"[: levels - 1]:
        out += f"{prefix}{n}: &{n} [{', '.join([f'*{prev}'] * width)}]\n"
        prev = n
    return out, prev


def test_billion_laughs_refused_quickly(small_dir):
    # 9 levels of 9: 9**9 ~ 3.9e8 "lol"s if expanded; only 72 aliases, within the alias budget,
    # so the expanded-size budget must refuse it while the YAML is composed, without expanding it
    lol, last = _lol(9, 9)
    body = yaml.safe_dump(small_scenario_dict()).replace(
        "title: test scenario on synthetic hills", f"title: *{last}")
    assert f"title: *{last}" in body
    p = small_dir / "lol.yaml"
    p.write_text(lol + body, encoding="utf-8")
    t0 = time.perf_counter()
    with pytest.raises(InputError) as exc:
        load_scenario(p)
    assert time.perf_counter() - t0 < 2.0
    assert "aliases are expanded" in str(exc.value)
    assert all(pr.file == str(p) for pr in exc.value.problems)


def test_alias_bomb_over_budget_refused_quickly(tmp_path):
    # 25 levels of 50: 50**25 elements if expanded, 24 * 50 = 1200 > MAX_ALIASES aliases
    lol, _ = _lol(25, 50)
    p = tmp_path / "bomb.yaml"
    p.write_text(lol, encoding="utf-8")
    t0 = time.perf_counter()
    with pytest.raises(InputError) as exc:
        load_scenario(p)
    assert time.perf_counter() - t0 < 2.0
    # refused by the expanded-size budget (line 4) before the alias count (line 21) is reached
    assert 24 * 50 > MAX_ALIASES
    _assert_single(exc, p, "", "alias")


def test_deep_nesting_refused(tmp_path):
    p = tmp_path / "deep.yaml"
    p.write_text("name: " + "[" * 20000 + "]" * 20000 + "\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_scenario(p)
    _assert_single(exc, p, "", "deep")


# --------------------------------------------------------------------------- field-level problems

BASE = small_scenario_dict()


def _load(data, base_dir: Path) -> None:
    scenario_from_dict(data, source="scn.yaml", base_dir=base_dir, catalog=CATALOG)


FIELD_CASES = [
    # (id, dotted path to edit, new value (... = delete), expected problem path, message words)
    ("unknown-top", "colour", "red", "colour", ["unknown field"]),
    ("unknown-nested", "effectors[0].site.altitude", 12.0, "effectors[0].site.altitude", ["unknown field"]),
    ("unknown-doctrine", "effectors[1].doctrine.salvo", 2, "effectors[1].doctrine.salvo", ["unknown field"]),
    ("unknown-waypoint", "threats[0].route[1].alt", 100, "threats[0].route[1].alt", ["unknown field"]),
    ("missing-name", "name", ..., "name", ["required"]),
    ("missing-terrain", "terrain", ..., "terrain", ["required"]),
    ("missing-dem", "terrain.dem", ..., "terrain.dem", ["required"]),
    ("missing-threats", "threats", ..., "threats", ["required"]),
    ("missing-effector-site", "effectors[0].site", ..., "effectors[0].site", ["required"]),
    ("missing-site-lat", "effectors[1].site.lat", ..., "effectors[1].site.lat", ["required"]),
    ("missing-threat-type", "threats[1].type", ..., "threats[1].type", ["required"]),
    ("missing-waypoint-lon", "threats[0].route[0].lon", ..., "threats[0].route[0].lon", ["required"]),
    ("lat-91", "effectors[1].site.lat", 91.0, "effectors[1].site.lat", ["90", "91"]),
    ("lat-minus-90.5", "effectors[1].site.lat", -90.5, "effectors[1].site.lat", ["-90"]),
    ("lon-181", "assets[0].lon", 181, "assets[0].lon", ["180"]),
    ("lat-string", "effectors[1].site.lat", "north", "effectors[1].site.lat", ["number"]),
    ("speed-negative", "threats[0].speed_m_s", -50.0, "threats[0].speed_m_s", ["greater than or equal to 1"]),
    ("speed-zero", "threats[0].speed_m_s", 0, "threats[0].speed_m_s", ["greater than or equal to 1"]),
    ("waypoint-speed-zero", "threats[0].route[1].speed_m_s", 0.0, "threats[0].route[1].speed_m_s",
     ["greater than or equal to 1"]),
    ("waypoint-speed-negative", "threats[0].route[1].speed_m_s", -1, "threats[0].route[1].speed_m_s",
     ["greater than or equal to 1"]),
    ("route-empty", "threats[0].route", [], "threats[0]", ["route", "orbit"]),
    ("route-one-waypoint", "threats[0].route", [{"lat": 10.3, "lon": 20.1}], "threats[0]",
     ["route", "orbit"]),
    ("route-missing", "threats[1].route", ..., "threats[1]", ["route", "orbit"]),
    ("orbit-without-route", [("threats[1].orbit", {"lat": 10.2, "lon": 20.2, "radius_km": 5}),
                             ("threats[1].route", [])], None, "threats[1]", ["orbit needs a route"]),
    ("unknown-system", "effectors[0].system", "s_400", "effectors[0].system",
     ["unknown catalog system", "s_400", "tor_m2"]),
    ("unknown-type", "threats[0].type", "lancet", "threats[0].type",
     ["unknown catalog system", "lancet", "shahed_136"]),
    ("threat-as-effector", "effectors[0].system", "shahed_136", "effectors[0].system",
     ["is a threat", "effector"]),
    ("effector-as-threat", "threats[0].type", "pantsir_s1", "threats[0].type",
     ["is a effector", "threat"]),
    ("threat-as-sensor", "sensors", [{"name": "r", "system": "mq_9_reaper", "site": {"lat": 10.2, "lon": 20.2}}],
     "sensors[0].system", ["is a threat"]),
    ("unknown-target", "threats[0].target", "hq", "threats[0].target", ["unknown asset", "hq", "base"]),
    ("dup-effectors", "effectors[1].name", "sam-1", "effectors", ["sam-1", "twice"]),
    ("dup-threats", "threats[1].name", "owa", "threats", ["owa", "twice"]),
    ("dup-assets", "assets", [{"name": "a", "lat": 10.2, "lon": 20.2}, {"name": "a", "lat": 10.1, "lon": 20.1}],
     "assets", ["twice"]),
    ("nan-radius", "assets[0].radius_m", float("nan"), "assets[0].radius_m", ["finite"]),
    ("nan-lat", "effectors[0].site.lat", float("nan"), "effectors[0].site.lat", ["finite"]),
    ("inf-duration", "simulation.duration_s", float("inf"), "simulation.duration_s", ["finite"]),
    ("minus-inf-height", "effectors[0].site.height_m", float("-inf"), "effectors[0].site.height_m",
     ["finite"]),
    ("inf-waypoint-alt", "threats[1].route[0].altitude_m", math.inf, "threats[1].route[0].altitude_m",
     ["finite"]),
    ("huge-float", "threats[0].altitude_m", 1e308, "threats[0].altitude_m", ["less than"]),
    ("huge-int-float-field", "threats[0].altitude_m", 10**400, "threats[0].altitude_m", ["number"]),
    ("huge-int-lat", "effectors[1].site.lat", 10**400, "effectors[1].site.lat", ["number"]),
    ("huge-int-count", "threats[0].count", 10**30, "threats[0].count", ["less than"]),
    ("huge-seed", "simulation.seed", 2**64, "simulation.seed", ["less than"]),
    ("huge-replications", "simulation.replications", 10**12, "simulation.replications", ["less than"]),
    ("huge-int-name", "name", 10**400, "name", ["string"]),
    ("salvo-over-magazine", "effectors[1].doctrine.salvo_size", 13, "effectors[1].doctrine.salvo_size",
     ["salvo of 13", "12 ready"]),  # pantsir_s1: 12 ready missiles per vehicle in the catalog
    ("salvo-over-schema", "effectors[1].doctrine.salvo_size", 17, "effectors[1].doctrine.salvo_size",
     ["16"]),
    ("schema-version", "schema_version", 2, "schema_version", ["1"]),
    ("bad-name", "effectors[0].name", "sam 1!", "effectors[0].name", ["pattern"]),
    ("bad-height-ref", "effectors[0].site.height_ref", "sea", "effectors[0].site.height_ref", ["agl"]),
    ("bad-doctrine-mode", "effectors[1].doctrine.mode", "fire-at-will", "effectors[1].doctrine.mode",
     ["salvo"]),
    ("dem-not-string", "terrain.dem", 5, "terrain.dem", ["string"]),
    ("dem-missing-file", "terrain.dem", "no-such-dem.tif", "terrain.dem", ["not found", "no-such-dem.tif"]),
    ("dem-bundled-unknown", "terrain.dem", "bundled:N00E000.tif", "terrain.dem", ["no bundled DEM"]),
    ("dem-bundled-traversal", "terrain.dem", "bundled:../scenarios", "terrain.dem", ["no bundled DEM"]),
]


@pytest.mark.parametrize("path,value,where,words", [c[1:] for c in FIELD_CASES],
                         ids=[c[0] for c in FIELD_CASES])
def test_bad_field(small_dir, path, value, where, words):
    edits = path if isinstance(path, list) else [(path, value)]  # a list: several edits in turn
    data = BASE
    for p, v in edits:
        data = edited(data, p, v)
    with pytest.raises(InputError) as exc:
        _load(data, small_dir)
    _assert_single(exc, "scn.yaml", where, *words)


def test_salvo_larger_than_explicit_magazine(small_dir):
    data = edited(edited(BASE, "effectors[1].missiles", 1), "effectors[1].doctrine.salvo_size", 2)
    with pytest.raises(InputError) as exc:
        _load(data, small_dir)
    _assert_single(exc, "scn.yaml", "effectors[1].doctrine.salvo_size", "salvo of 2", "1 ready")


def test_salvo_equal_to_magazine_is_fine(small_dir):
    data = edited(edited(BASE, "effectors[1].missiles", 2), "effectors[1].doctrine.salvo_size", 2)
    ld = scenario_from_dict(data, source="scn.yaml", base_dir=small_dir, catalog=CATALOG)
    eff = ld.scenario.effectors[1]
    assert eff.missiles == 2 and eff.doctrine.salvo_size == 2  # accepted unchanged


def test_all_problems_reported_at_once(small_dir):
    data = edited(edited(edited(BASE, "effectors[1].site.lat", 95), "threats[0].speed_m_s", -1),
                  "colour", "red")
    with pytest.raises(InputError) as exc:
        _load(data, small_dir)
    assert sorted(p for _, p in _problems(exc)) == [
        "colour", "effectors[1].site.lat", "threats[0].speed_m_s"]


def test_catalog_problems_reported_together(small_dir):
    data = edited(edited(BASE, "effectors[0].system", "nope"), "threats[0].target", "nowhere")
    with pytest.raises(InputError) as exc:
        _load(data, small_dir)
    assert sorted(p for _, p in _problems(exc)) == ["effectors[0].system", "threats[0].target"]


@pytest.mark.parametrize(
    "snippet,where",
    [("lat: .nan", "effectors[1].site.lat"), ("lat: .inf", "effectors[1].site.lat"),
     ("lat: -.inf", "effectors[1].site.lat"), ("lat: 1.0e+400", "effectors[1].site.lat")],
    ids=["nan", "inf", "-inf", "overflow-to-inf"])
def test_nan_inf_from_yaml_text(small_dir, snippet, where):
    text = yaml.safe_dump(small_scenario_dict(), default_flow_style=None)
    text = text.replace("lat: 10.19", snippet, 1)  # effectors[1].site.lat
    assert snippet in text
    p = small_dir / "nan.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_scenario(p)
    _assert_single(exc, p, where, "finite")


def test_field_errors_name_the_file(small_dir):
    p = _write_yaml(small_dir, edited(BASE, "threats[0].route[1].speed_m_s", 0), "speed.yaml")
    with pytest.raises(InputError) as exc:
        load_scenario(p)
    _assert_single(exc, p, "threats[0].route[1].speed_m_s", "greater than or equal to 1")


# --------------------------------------------------------------------------- DEM problems


def test_dem_is_a_directory(small_dir):
    (small_dir / "dems").mkdir()
    with pytest.raises(InputError) as exc:
        _load(edited(BASE, "terrain.dem", "dems"), small_dir)
    _assert_single(exc, "scn.yaml", "terrain.dem", "not a file")


@pytest.mark.parametrize("content", [b"this is not a raster\n", b"", b"II*\x00garbage"],
                         ids=["text", "empty", "truncated-tiff"])
def test_dem_not_a_raster(small_dir, content):
    (small_dir / "fake.tif").write_bytes(content)
    p = _write_yaml(small_dir, edited(BASE, "terrain.dem", "fake.tif"))
    ld = load_scenario(p)  # the loader checks the file exists; opening it comes with the grid
    with pytest.raises(InputError) as exc:
        build_grid(ld)
    _assert_single(exc, p, "terrain.dem", "not a raster", "fake.tif")
    grid = LocalGrid.around(10.2, 20.2, (-2000.0, 2000.0), (-2000.0, 2000.0), 400.0)
    with pytest.raises(InputError) as exc:
        load_terrain(small_dir / "fake.tif", grid, source=str(p))
    _assert_single(exc, p, "terrain.dem", "not a raster")


@pytest.mark.parametrize(
    "path,value,where",
    [("effectors[0].site.lon", 21.5, "effectors[0].site"),
     ("effectors[1].site.lat", 9.5, "effectors[1].site"),
     ("assets[0].lat", 10.5, "assets[0]"),
     ("threats[1].route[1].lon", 19.9, "threats[1].route[1]")])
def test_point_outside_dem(small_dir, path, value, where):
    p = _write_yaml(small_dir, edited(BASE, path, value), "outside.yaml")
    ld = load_scenario(p)
    with pytest.raises(InputError) as exc:
        build_grid(ld)
    _assert_single(exc, p, where, "outside the DEM", "dem.tif")


def test_sensor_and_orbit_outside_dem(small_dir):
    data = edited(BASE, "sensors", [{"name": "far", "system": "tor_m2", "site": {"lat": 11.0, "lon": 20.2}}])
    data = edited(data, "threats[1].orbit", {"lat": 10.2, "lon": 25.0, "radius_km": 3})
    ld = scenario_from_dict(data, source="scn.yaml", base_dir=small_dir, catalog=CATALOG)
    with pytest.raises(InputError) as exc:
        build_grid(ld)
    assert sorted(_problems(exc)) == [("scn.yaml", "sensors[0].site"), ("scn.yaml", "threats[1].orbit")]


# --------------------------------------------------------------------------- odd DEM paths


def test_dem_path_too_long(small_dir):
    with pytest.raises(InputError) as exc:
        _load(edited(BASE, "terrain.dem", "d" * 300 + ".tif"), small_dir)
    _assert_single(exc, "scn.yaml", "terrain.dem")


def test_bundled_dem_name_too_long(small_dir):
    with pytest.raises(InputError) as exc:
        _load(edited(BASE, "terrain.dem", "bundled:" + "d" * 300), small_dir)
    _assert_single(exc, "scn.yaml", "terrain.dem")


def test_dem_path_unknown_home(small_dir):
    with pytest.raises(InputError) as exc:
        _load(edited(BASE, "terrain.dem", "~no_such_user_iadsim/dem.tif"), small_dir)
    _assert_single(exc, "scn.yaml", "terrain.dem")


def test_scenario_file_name_too_long(tmp_path):
    p = tmp_path / ("s" * 300 + ".yaml")
    with pytest.raises(InputError) as exc:
        load_scenario(p)
    _assert_single(exc, p, "")


# --------------------------------------------------------------------------- JSON Schema


def _check_against_schema(value, schema: dict, root: dict, where: str = "") -> list[str]:
    """A small validator for the JSON Schema subset pydantic emits (used when jsonschema is absent):
    $ref, anyOf, type, const/enum, properties/required/additionalProperties, items, bounds."""
    errs: list[str] = []
    if "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        return _check_against_schema(value, root["$defs"][name], root, where)
    if "anyOf" in schema:
        options = [_check_against_schema(value, s, root, where) for s in schema["anyOf"]]
        return [] if any(not o for o in options) else [f"{where}: matches no anyOf branch"]
    types = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None),
             "integer": int, "number": (int, float)}
    t = schema.get("type")
    if t is not None:
        if not isinstance(value, types[t]) or (t in ("integer", "number") and isinstance(value, bool)):
            return [f"{where}: expected {t}, got {type(value).__name__}"]
    if "const" in schema and value != schema["const"]:
        errs.append(f"{where}: expected {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errs.append(f"{where}: not one of {schema['enum']}")
    for key, ok in (("minimum", lambda v, b: v >= b), ("maximum", lambda v, b: v <= b),
                    ("exclusiveMinimum", lambda v, b: v > b), ("exclusiveMaximum", lambda v, b: v < b)):
        if key in schema and isinstance(value, (int, float)) and not ok(value, schema[key]):
            errs.append(f"{where}: violates {key} {schema[key]}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for k in schema.get("required", []):
            if k not in value:
                errs.append(f"{where}.{k}: required")
        for k, v in value.items():
            if k in props:
                errs += _check_against_schema(v, props[k], root, f"{where}.{k}")
            elif schema.get("additionalProperties") is False:
                errs.append(f"{where}.{k}: not allowed")
    if isinstance(value, list) and "items" in schema:
        if len(value) < schema.get("minItems", 0):
            errs.append(f"{where}: fewer than {schema['minItems']} items")
        for i, v in enumerate(value):
            errs += _check_against_schema(v, schema["items"], root, f"{where}[{i}]")
    return errs


def test_json_schema_structure():
    schema = json.loads(json_schema())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    props = schema["properties"]
    for key in ("effectors", "threats", "assets", "sensors", "terrain", "simulation", "name"):
        assert key in props
    assert props["effectors"]["type"] == "array"
    assert props["effectors"]["items"] == {"$ref": "#/$defs/Effector"}
    assert props["threats"]["items"] == {"$ref": "#/$defs/Threat"}
    assert set(schema["required"]) == {"name", "terrain", "threats"}
    defs = schema["$defs"]
    for name in ("Effector", "Threat", "Position", "Waypoint", "Doctrine", "Terrain"):
        assert defs[name]["additionalProperties"] is False
    # unit-bearing fields carry their bounds into the schema
    assert defs["Position"]["properties"]["lat"]["minimum"] == -90
    assert defs["Position"]["properties"]["lat"]["maximum"] == 90
    assert set(defs["Effector"]["required"]) == {"name", "system", "site"}


def test_json_schema_validates_examples():
    schema = json.loads(json_schema())
    example = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert _check_against_schema(example, schema, schema) == []
    assert _check_against_schema(small_scenario_dict(), schema, schema) == []
    # and the mini validator does see mistakes
    bad = edited(small_scenario_dict(), "effectors[0].site.altitude", 3)
    bad = edited(bad, "threats[0].count", 0)
    errs = _check_against_schema(bad, schema, schema)
    assert len(errs) == 2 and any("altitude" in e for e in errs) and any("count" in e for e in errs)


def test_json_schema_with_jsonschema_package():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(json_schema())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")), schema)


# --------------------------------------------------------------------------- property test


def _leaves(node, prefix: str = "") -> list[str]:
    """Dotted/indexed paths (conftest.edited syntax) of every scalar leaf."""
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _leaves(v, f"{prefix}.{k}" if prefix else k)]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _leaves(v, f"{prefix}[{i}]")]
    return [prefix]


LEAVES = _leaves(small_scenario_dict())

# Strings include a leading "~" (home lookups) and odd unicode, which must end in InputError too.
_text = st.text(max_size=40)
RANDOM_VALUE = st.one_of(
    st.none(),
    _text,
    st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=True),
    st.just(float("nan")),
    st.lists(st.one_of(st.integers(), _text, st.none()), max_size=3),
    st.dictionaries(_text, st.one_of(st.integers(), _text, st.floats()), max_size=3),
    st.integers(min_value=2**63 - 10, max_value=10**400) | st.integers(max_value=-(2**63) + 10),
    st.booleans(),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_mutation_loads_or_raises_input_error(small_dir, data):
    n = data.draw(st.integers(1, 3), label="mutations")
    scn = small_scenario_dict()
    for _ in range(n):  # only leaves are replaced, so every leaf path stays valid
        path = data.draw(st.sampled_from(LEAVES), label="leaf")
        scn = edited(scn, path, data.draw(RANDOM_VALUE, label="value"))
    try:
        ld = scenario_from_dict(scn, source="scn.yaml", base_dir=small_dir, catalog=CATALOG)
    except InputError as exc:
        event("InputError")
        assert exc.problems
        for p in exc.problems:
            assert p.file == "scn.yaml"
            assert isinstance(p.path, str) and isinstance(p.message, str) and p.message
    else:
        event("loaded")
        assert ld.scenario.name


def test_text_that_is_not_unicode_is_refused_with_its_field(tmp_path, capsys):
    """A mapping given to the Python API can hold a lone surrogate ("\\udc80"); no field can hold it
    and nothing could write it back: a clear error naming the field, not a crash when the scenario
    is hashed. A file with such an escape: exit 2, nothing written."""
    from iadsim.cli import main

    d = small_scenario_dict()
    d["title"] = "would the drone \udc80 survive?"   # a field whose type lets the text through
    with pytest.raises(InputError) as e:
        from iadsim.scenario.loader import scenario_from_dict

        scenario_from_dict(d, "s.yaml", base_dir=tmp_path)
    assert e.value.problems[0].path == "title" and "lone surrogate" in e.value.problems[0].message
    p = tmp_path / "s.yaml"
    text = yaml.safe_dump({k: v for k, v in d.items() if k != "title"}, allow_unicode=True)
    p.write_text(text + 'title: "would the drone \\udc80 survive?"\n', encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(p), "-n", "2", "-o", str(out), "--quiet"]) == 2
    # from a file, the YAML reader already refuses the escape
    assert "Unicode" in capsys.readouterr().err and not out.exists()
