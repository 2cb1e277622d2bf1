"""Fuzzing the scenario loader: more than 10,000 generated malformed scenarios per run.

Every generated input must end in :class:`InputError` (or load, for the inputs that are not
guaranteed to be malformed), never in another exception. Where the document is a mapping,
every problem names a field path, and for a targeted mutation one of the problems names the
mutated field (or the object holding it). Documents that are not mappings, and YAML text that
is refused before validation, give a single file-level problem (path "").

Budget (``max_examples``), split so the whole module runs in well under a minute:

====================================================  ========
test                                                  examples
====================================================  ========
test_one_invalid_field_is_named                          5,000
test_two_invalid_fields_are_reported                     1,500
test_unknown_key_inserted                                1,200
test_any_subtree_replaced_never_crashes                  1,500
test_top_level_not_a_mapping                               400
test_yaml_text_of_invalid_scenario                         800
test_yaml_text_mutated                                   1,000
====================================================  ========
total (hypothesis)                                      11,400
====================================================  ========

plus every required field deleted and every object-building YAML tag in five places
(parametrized, exhaustive). ``test_generated_example_count`` checks the total.

The atheris harness ``fuzz/scenario_fuzz.py`` runs the same checks for as long as you like
(``fuzz/README.md``); ``test_harness_*`` keep it working.
"""

from __future__ import annotations

import copy
import json
import math
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import REPO, small_scenario_dict
from iadsim.catalog import load_catalog
from iadsim.errors import InputError
from iadsim.scenario.loader import format_loc, load_scenario, parse_yaml_text, scenario_from_dict
from iadsim.scenario.models import Scenario

CATALOG = load_catalog()
SCHEMA = Scenario.model_json_schema()
SOURCE = "fuzz.yaml"

FUZZ = dict(deadline=None, database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                   HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])


def full_scenario_dict() -> dict:
    """The small test scenario with every field of every object set (all valid)."""
    d = small_scenario_dict()
    d["description"] = "every field set"
    d["terrain"].update({"refraction_k": 1.3333})
    d["simulation"].update({"fidelity": "fast", "track_latency_s": 4.0, "track_drop_s": 20.0,
                            "uncertainty": "nominal"})
    d["assets"][0].update({"value": 2.0})
    d["effectors"][0].update({"vehicles": 2, "missiles": 16, "reloads": 8,
                              "doctrine": {"mode": "shoot-look-shoot", "salvo_size": 1, "max_engagements": 3,
                                           "kill_assessment_s": 5.0, "min_launch_interval_s": 2.0,
                                           "fire": "free"}})
    d["effectors"][0]["site"]["height_ref"] = "agl"
    d["sensors"] = [{"name": "radar-1", "system": "buk_m2",
                     "site": {"lat": 10.25, "lon": 20.25, "height_m": 10.0, "height_ref": "msl"}}]
    d["threats"][0].update({"launch_time_s": 10.0, "speed_m_s": 50.0})
    d["threats"][0]["route"][0].update({"altitude_m": 300.0, "speed_m_s": 45.0})
    d["threats"][1].update({"count": 1, "spacing_s": 0.0, "altitude_ref": "msl", "speed_m_s": 90.0,
                            "orbit": {"lat": 10.3, "lon": 20.3, "radius_km": 4.0, "laps": 2.0}})
    return d


FULL = full_scenario_dict()


@pytest.fixture(scope="module")
def dem_dir(synthetic_dem) -> Path:
    """A folder holding dem.tif (the scenarios' relative DEM path resolves here)."""
    return synthetic_dem.parent


def test_full_scenario_is_valid(dem_dir):
    ld = scenario_from_dict(copy.deepcopy(FULL), source=SOURCE, base_dir=dem_dir, catalog=CATALOG)
    # every object of the schema appears, so every field can be mutated
    assert ld.scenario.sensors and ld.scenario.threats[1].orbit is not None


# --------------------------------------------------------------------------- the schema's leaves


def _resolve(s: dict) -> dict:
    while "$ref" in s:
        s = SCHEMA["$defs"][s["$ref"].split("/")[-1]]
    return s


def _unwrap(s: dict) -> tuple[dict, bool]:
    """(the non-null schema, nullable) of a field schema."""
    s = _resolve(s)
    if "anyOf" in s:
        opts = [_resolve(o) for o in s["anyOf"]]
        non_null = [o for o in opts if o.get("type") != "null"]
        return non_null[0], len(non_null) < len(opts)
    return s, False


def _walk(node: Any, schema: dict, path: tuple) -> list[tuple[tuple, dict, bool, str]]:
    """(path, schema, nullable, kind) of every node of ``node``: kind object, array or leaf."""
    s, nullable = _unwrap(schema)
    out = []
    if isinstance(node, dict):
        out.append((path, s, nullable, "object"))
        for k, v in node.items():
            out += _walk(v, s["properties"][k], path + (k,))
    elif isinstance(node, list):
        out.append((path, s, nullable, "array"))
        for i, v in enumerate(node):
            out += _walk(v, s["items"], path + (i,))
    else:
        out.append((path, s, nullable, "leaf"))
    return out


NODES = _walk(FULL, SCHEMA, ())
LEAVES = [n for n in NODES if n[3] == "leaf"]
OBJECTS = [n for n in NODES if n[3] == "object"]
FIELDS = [n for n in NODES if n[0]]  # everything but the document itself
REQUIRED = [(p + (k,)) for p, s, _, kind in OBJECTS for k in s.get("required", []) if kind == "object"]


def _get(d: Any, path: tuple) -> Any:
    for p in path:
        d = d[p]
    return d


def _set(d: Any, path: tuple, value: Any) -> None:
    _get(d, path[:-1])[path[-1]] = value


def _delete(d: Any, path: tuple) -> None:
    del _get(d, path[:-1])[path[-1]]


# --------------------------------------------------------------------------- values


def _floatable(s: str) -> bool:
    try:
        float(s)
    except (ValueError, OverflowError):
        return False
    return True


NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
# text with odd unicode (combining marks, right-to-left, emoji, zero-width), the default alphabet
# of hypothesis (every category but surrogates), and the lone surrogates YAML cannot carry
ODD = st.sampled_from(["", " ", "\u200b", "\u202e", "e\u0301", "\U0001F680", "\ufeff", "名前", "\x00", "\t",
                       "\n", "\udc80", "\ud800x", "..", "../../etc/passwd", "~", "$ref", "__proto__",
                       "a" * 65, "x" * 5000])
TEXT = st.one_of(st.text(max_size=30), ODD)
NOT_NUMBER_TEXT = TEXT.filter(lambda s: not _floatable(s))
HUGE = st.sampled_from([10**30, -(10**30), 10**400, -(10**400), 2**63, 2**64, 1e308, -1e308, 1.7976931348623157e308])
NONFINITE = st.sampled_from([math.nan, math.inf, -math.inf])
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
                    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(TEXT, kids, max_size=3),
                    max_leaves=8)


def _deep(depth: int, kind: str) -> Any:
    v: Any = 1
    for _ in range(depth):
        v = [v] if kind == "list" else {"a": v}
    return v


DEEP = st.builds(_deep, st.integers(10, 3000), st.sampled_from(["list", "dict"]))
CONTAINER = st.one_of(st.lists(st.integers(), max_size=3), st.dictionaries(TEXT, st.integers(), max_size=2), DEEP)


def _out_of_range(s: dict) -> st.SearchStrategy:
    """Numbers just and far outside a number's or integer's bounds."""
    opts = []
    integer = s.get("type") == "integer"
    for key, side in (("minimum", -1), ("exclusiveMinimum", -1), ("maximum", 1), ("exclusiveMaximum", 1)):
        if key not in s:
            continue
        b = s[key]
        inclusive = key in ("minimum", "maximum")
        if integer:
            opts.append(st.integers(max_value=b - 1) if side < 0 else st.integers(min_value=b + 1))
            if not inclusive:
                opts.append(st.just(b))
        else:
            edge = math.nextafter(b, -math.inf if side < 0 else math.inf) if inclusive else b
            opts.append(st.just(edge))
            opts.append(st.floats(max_value=edge, allow_nan=False, allow_infinity=False) if side < 0
                        else st.floats(min_value=edge, allow_nan=False, allow_infinity=False))
    return st.one_of(opts) if opts else st.nothing()


def _unknown_catalog_name() -> st.SearchStrategy:
    return TEXT.filter(lambda s: s not in CATALOG)


def invalid_value(path: tuple, s: dict, nullable: bool, kind: str) -> st.SearchStrategy:
    """Values that make the field at ``path`` (schema ``s``) invalid, whatever else is valid."""
    last = path[-1]
    nulls = [] if nullable else [st.none()]
    if kind == "object":
        return st.one_of(*nulls, TEXT, st.integers(), st.floats(), st.lists(st.integers(), max_size=2), DEEP)
    if kind == "array":
        empty = [st.just([])] if s.get("minItems", 0) > 0 or last == "route" else []
        return st.one_of(*nulls, *empty, TEXT, st.integers(), st.dictionaries(TEXT, st.integers(), max_size=2),
                         st.lists(st.one_of(st.integers(), TEXT), min_size=1, max_size=3), DEEP)
    t = s.get("type")
    if "const" in s:
        return st.one_of(st.integers().filter(lambda v: v != s["const"]), TEXT.filter(lambda v: v != s["const"]),
                         *nulls, CONTAINER)
    if "enum" in s:
        return st.one_of(TEXT.filter(lambda v: v not in s["enum"]), st.integers(), st.floats(), *nulls, CONTAINER)
    if t == "number":
        return st.one_of(_out_of_range(s), NONFINITE, NOT_NUMBER_TEXT, HUGE.filter(lambda v: _exceeds(v, s)),
                         *nulls, CONTAINER)
    if t == "integer":
        return st.one_of(_out_of_range(s), NONFINITE, NOT_NUMBER_TEXT, st.sampled_from([0.5, 2.5, -1.25, 1e-9]),
                         HUGE.filter(lambda v: _exceeds(v, s)), *nulls, CONTAINER)
    if t == "string":
        wrong_type = [st.integers(), st.floats(), *nulls, CONTAINER]
        if last in ("system", "type"):
            kinds = ("effector",) if last == "system" and path[0] == "effectors" else \
                ("threat",) if last == "type" else ("sensor", "effector")
            wrong_kind = [s.name for s in CATALOG.values() if s.kind not in kinds]
            return st.one_of(_unknown_catalog_name(), st.sampled_from(wrong_kind), *wrong_type)
        if last == "target":
            return st.one_of(TEXT.filter(lambda v: v not in {a["name"] for a in FULL["assets"]}), *wrong_type)
        if last == "dem":
            # not ".": the DEM's own folder is a valid folder of tiles when it holds only dem.tif
            return st.one_of(st.sampled_from(["", "..", "missing.tif", "/nonexistent/dem.tif", "bundled:",
                                              "bundled:nope.tif", "bundled:../scenarios", "dem.tif\x00.png",
                                              "~no_such_user_iadsim/dem.tif", "d" * 300 + ".tif",
                                              "\udc80.tif", "\ud800.tif"]),
                             TEXT.map(lambda v: "no-such-dir/" + v), *wrong_type)
        if "pattern" in s:
            return st.one_of(TEXT.filter(lambda v: not NAME_RE.fullmatch(v) or len(v) > s.get("maxLength", 1e9)),
                             *wrong_type)
        return st.one_of(*wrong_type)
    raise AssertionError(f"no invalid values for {path}: {s}")


def _exceeds(v, s: dict) -> bool:
    lo = s.get("minimum", s.get("exclusiveMinimum", -math.inf))
    hi = s.get("maximum", s.get("exclusiveMaximum", math.inf))
    try:
        return not (lo <= float(v) <= hi) or math.isinf(float(v))
    except OverflowError:
        return True


@st.composite
def invalid_edit(draw) -> tuple[tuple, Any]:
    path, s, nullable, kind = draw(st.sampled_from(FIELDS))
    return path, draw(invalid_value(path, s, nullable, kind))


# --------------------------------------------------------------------------- checks


def _related(a: str, b: str) -> bool:
    """``a`` and ``b`` name the same field, or one holds the other."""
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    return long_.startswith(short) and long_[len(short)] in ".["


def check_names_fields(exc: InputError, source: str = SOURCE, mutated: list[str] | None = None) -> None:
    """Every problem is in ``source``, names a field and says something; one names a mutated field."""
    assert exc.problems
    for p in exc.problems:
        assert p.file == source
        assert isinstance(p.path, str) and p.path, exc.problems
        assert isinstance(p.message, str) and p.message.strip()
        str(p)  # printable
    if mutated:
        assert any(_related(p.path, m) for p in exc.problems for m in mutated), (mutated, exc.problems)


def _load(data: Any, dem_dir: Path) -> Any:
    return scenario_from_dict(data, source=SOURCE, base_dir=dem_dir, catalog=CATALOG)


# --------------------------------------------------------------------------- dicts


@settings(max_examples=5000, **FUZZ)
@given(edit=invalid_edit())
def test_one_invalid_field_is_named(dem_dir, edit):
    path, value = edit
    data = copy.deepcopy(FULL)
    _set(data, path, value)
    with pytest.raises(InputError) as exc:
        _load(data, dem_dir)
    check_names_fields(exc.value, mutated=[format_loc(path)])


@settings(max_examples=1500, **FUZZ)
@given(a=invalid_edit(), b=invalid_edit())
def test_two_invalid_fields_are_reported(dem_dir, a, b):
    data = copy.deepcopy(FULL)
    done = []
    for path, value in (a, b):
        try:
            _set(data, path, value)
        except (KeyError, IndexError, TypeError):  # the first edit replaced a parent of the second
            continue
        done.append(format_loc(path))
    with pytest.raises(InputError) as exc:
        _load(data, dem_dir)
    check_names_fields(exc.value, mutated=done)


@pytest.mark.parametrize("path", REQUIRED, ids=[format_loc(p) for p in REQUIRED])
def test_required_field_deleted(dem_dir, path):
    data = copy.deepcopy(FULL)
    _delete(data, path)
    with pytest.raises(InputError) as exc:
        _load(data, dem_dir)
    check_names_fields(exc.value, mutated=[format_loc(path)])
    assert any(p.path == format_loc(path) and "required" in p.message for p in exc.value.problems)


@settings(max_examples=1200, **FUZZ)
@given(obj=st.sampled_from(OBJECTS), key=st.one_of(TEXT, st.integers(), st.booleans(), st.none(), st.floats()),
       value=JSON)
def test_unknown_key_inserted(dem_dir, obj, key, value):
    path, s, _, _ = obj
    assume(key not in s.get("properties", {}))
    data = copy.deepcopy(FULL)
    _get(data, path)[key] = value
    with pytest.raises(InputError) as exc:
        _load(data, dem_dir)
    # pydantic names a key that is not text by its int value (True -> 1) or its str() (None -> "None")
    shown = (key if isinstance(key, str) else int(key) if isinstance(key, int) and -(2**63) <= key < 2**63
             else str(key))
    check_names_fields(exc.value, mutated=[format_loc(path + (shown,))])


@settings(max_examples=1500, **FUZZ)
@given(node=st.sampled_from(NODES), value=st.one_of(JSON, DEEP, HUGE, NONFINITE, ODD))
def test_any_subtree_replaced_never_crashes(dem_dir, node, value):
    """Any node replaced by any value (not always invalid): loads, or InputError naming fields."""
    path = node[0]
    data = copy.deepcopy(FULL)
    if path:
        _set(data, path, value)
    else:
        data = value
    try:
        _load(data, dem_dir)
    except InputError as exc:
        if isinstance(data, dict):
            check_names_fields(exc)
        else:
            assert [(p.file, p.path) for p in exc.problems] == [(SOURCE, "")]


@settings(max_examples=400, **FUZZ)
@given(data=st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), TEXT, HUGE,
                      st.lists(JSON, max_size=4), DEEP.filter(lambda v: isinstance(v, list))))
def test_top_level_not_a_mapping(dem_dir, data):
    with pytest.raises(InputError) as exc:
        _load(data, dem_dir)
    (p,) = exc.value.problems
    assert (p.file, p.path) == (SOURCE, "") and "mapping" in p.message


def test_huge_document_reports_a_bounded_number_of_problems(dem_dir):
    from iadsim.scenario.loader import MAX_PROBLEMS

    data = copy.deepcopy(FULL)
    data["threats"] = [1] * 100_000
    with pytest.raises(InputError) as exc:
        _load(data, dem_dir)
    assert len(exc.value.problems) == MAX_PROBLEMS + 1
    assert "100000" in exc.value.problems[-1].message.replace(",", "") or "more" in exc.value.problems[-1].message
    check_names_fields(exc.value)


def test_int_too_long_to_print_is_reported(dem_dir):
    # Python refuses to print integers of more than 4300 digits; the message must not crash
    data = copy.deepcopy(FULL)
    data["simulation"]["seed"] = 10**5000
    data["threats"][0]["altitude_m"] = -(10**5000)
    with pytest.raises(InputError) as exc:
        _load(data, dem_dir)
    check_names_fields(exc.value, mutated=["simulation.seed", "threats[0].altitude_m"])
    assert "digits" in str(exc.value)


def test_odd_keys_give_quoted_paths(dem_dir):
    data = copy.deepcopy(FULL)
    data[""] = 1
    data["a.b"] = 2
    data["effectors"][0]["site"][None] = 3
    with pytest.raises(InputError) as exc:
        _load(data, dem_dir)
    paths = sorted(p.path for p in exc.value.problems)
    assert paths == ['[""]', '["a.b"]', "effectors[0].site.None"], paths


# --------------------------------------------------------------------------- YAML text


@pytest.fixture(scope="module")
def yaml_dir(dem_dir, tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("fuzz-yaml")
    (d / "dem.tif").write_bytes((dem_dir / "dem.tif").read_bytes())
    return d


def _check_file(path: Path, text: str | None) -> None:
    """load_scenario(path) loads or raises InputError; the oracle is parse_yaml_text(text):
    YAML refused -> one file-level problem; not a mapping -> one file-level 'mapping' problem;
    a mapping -> every problem names a field."""
    try:
        load_scenario(path)
    except InputError as exc:
        probs = exc.problems
        assert probs and all(p.file == str(path) and p.message for p in probs)
        if text is None or all(p.path for p in probs):
            return
        try:
            doc = parse_yaml_text(text, path)
        except InputError:
            assert [p.path for p in probs] == [""], probs
            return
        if isinstance(doc, dict):
            check_names_fields(exc, source=str(path))
        else:
            assert [p.path for p in probs] == [""] and "mapping" in probs[0].message


def _depth(v: Any) -> int:
    """Nesting depth of a document (iterative)."""
    deepest, stack = 0, [(v, 0)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        if isinstance(node, dict):
            stack += [(x, d + 1) for x in node.values()]
        elif isinstance(node, list):
            stack += [(x, d + 1) for x in node]
    return deepest


def _no_surrogates(v: Any) -> bool:
    return "\\ud" not in json.dumps(v, ensure_ascii=True, default=str).lower()


# the valid scenario as YAML text, block and flow style (libyaml's emitter where there is one)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
FULL_TEXT = {flow: yaml.dump(FULL, Dumper=_DUMPER, sort_keys=False, default_flow_style=flow)
             for flow in (False, True)}


@settings(max_examples=800, **FUZZ)
@given(edit=invalid_edit(), flow=st.booleans())
def test_yaml_text_of_invalid_scenario(yaml_dir, edit, flow):
    path, value = edit
    # PyYAML's emitter cannot write thousands of levels and YAML text cannot carry lone
    # surrogates: the dict tests cover those
    assume(_depth(value) < 200 and _no_surrogates(value))
    data = copy.deepcopy(FULL)
    _set(data, path, value)
    text = yaml.dump(data, Dumper=_DUMPER, allow_unicode=True, sort_keys=False, default_flow_style=flow,
                     width=1 << 20)
    p = yaml_dir / "scenario.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_scenario(p)
    probs = exc.value.problems
    if not all(q.path for q in probs):
        # only text refused as YAML (e.g. nested more than MAX_DEPTH) gives a file-level problem
        with pytest.raises(InputError):
            parse_yaml_text(text)
        assert [(q.file, q.path) for q in probs] == [(str(p), "")], probs
        return
    check_names_fields(exc.value, source=str(p), mutated=[format_loc(path)])


SNIPPETS = [
    "!!python/object/apply:os.system ['touch {marker}']", "!!python/object/new:os.system ['touch {marker}']",
    "!!python/name:os.system", "!!python/module:os", "!!binary aGVsbG8=", "!!binary '!!!'", "!!set {a, b}",
    "!!omap [a: 1]", "!!timestamp 2020-99-99", "2020-13-45", "2001-12-14t21:59:43.10+99:00", "!!int abc",
    "!!float x", "!!bool maybe", "!!str [1]", "&a [*a, *a]", "*undefined", "&x 1", "<<: *x", "<<: 1",
    "? [a]\n: b", "? {a: 1}\n: b", "[" * 80 + "]" * 80, "{" * 70 + "}" * 70, "'unterminated", '"\\ud800"',
    '"\\x00"', "\ufeff", "\x00", "\x07", "\t", "|\n  block", ">-\n  folded", "--- ", "...", "%YAML 1.1",
    "%TAG ! tag:example.com,2000:", "!local 1", "0x1F", "0o17", "1e400", "-.inf", ".nan", "~", "null",
    "yes", "No", "1_000", "1:20", "9" * 5000, "é" * 100, "\U0001F680", "- - - x", "a: b: c",
    "name: dup\nname: dup",
]


@st.composite
def mutated_text(draw) -> str:
    lines = FULL_TEXT[draw(st.booleans())].splitlines()
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["delete", "insert", "replace", "snippet", "duplicate", "indent"]))
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        if not lines:
            lines = [""]
        line = lines[i]
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, line)
        elif op == "indent":
            lines[i] = draw(st.sampled_from(["  ", " ", "\t", ""])) + line.lstrip()
        else:
            j = draw(st.integers(0, len(line)))
            piece = (draw(st.sampled_from(SNIPPETS)) if op == "snippet"
                     else draw(st.text(alphabet=":-[]{}&*!|>'\"%@`#,? \t\n0123456789abcé", max_size=6)))
            if op == "replace" and ":" in line:
                lines[i] = line[: line.index(":") + 1] + " " + piece
            else:
                lines[i] = line[:j] + piece + line[j:]
    return "\n".join(lines) + "\n"


@settings(max_examples=1000, **FUZZ)
@given(text=mutated_text(), encoding=st.sampled_from(["utf-8"] * 8 + ["utf-16", "latin-1"]))
def test_yaml_text_mutated(yaml_dir, text, encoding):
    marker = yaml_dir / "pwned"
    text = text.replace("{marker}", str(marker))
    p = yaml_dir / "mutated.yaml"
    try:
        p.write_bytes(text.encode(encoding, errors="surrogatepass"))
    except UnicodeEncodeError:
        assume(False)
    _check_file(p, text if encoding == "utf-8" else None)
    assert not marker.exists()


@pytest.mark.parametrize("tag", ["python/object/apply:os.system", "python/object/new:os.system",
                                 "python/object:os.system", "python/name:os.system", "python/module:os",
                                 "python/tuple", "python/str", "python/bytes", "python/complex"])
@pytest.mark.parametrize("where", ["title", "name", "terrain.dem", "threats[0].type", "effectors[0].site.lat"])
def test_yaml_tags_never_construct_objects(yaml_dir, tag, where):
    marker = yaml_dir / "pwned-tag"
    data = copy.deepcopy(FULL)
    parts = where.replace("]", "").replace("[", ".").split(".")
    path = tuple(int(x) if x.isdigit() else x for x in parts)
    _set(data, path, "@@TAG@@")
    text = yaml.safe_dump(data, sort_keys=False).replace("'@@TAG@@'", f"!!{tag} ['touch {marker}']") \
        .replace("@@TAG@@", f"!!{tag} ['touch {marker}']")
    p = yaml_dir / "tag.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_scenario(p)
    (prob,) = exc.value.problems
    assert prob.path == "" and "constructor" in prob.message and tag.split(":")[0] in prob.message
    assert not marker.exists()


# --------------------------------------------------------------------------- YAML the loader refuses


@pytest.mark.parametrize("value", ["2020-99-99", "2001-12-14t21:59:43.10+99:00"])
def test_timestamp_lookalikes_are_text(yaml_dir, value):
    """These made PyYAML's timestamp constructor fail (YAML 1.1 resolves them as timestamps); under
    the YAML 1.2 core schema the loader uses they are plain text."""
    p = yaml_dir / "values.yaml"
    p.write_text(FULL_TEXT[False].replace("title: test scenario on synthetic hills", f"title: {value}"),
                 encoding="utf-8")
    assert load_scenario(p).scenario.title == value


@pytest.mark.parametrize("value", ["!!timestamp soon", "!!timestamp 2020-99-99", "!!bool maybe",
                                   "!!int abc", "!!int 0o9", "!!float x", "!!int " + "9" * 5000])
def test_values_pyyaml_cannot_construct(yaml_dir, value):
    """PyYAML's own constructors raise ValueError, KeyError, AttributeError for these (a traceback
    before the loader caught them); now one file-level problem with the line."""
    p = yaml_dir / "values.yaml"
    p.write_text(FULL_TEXT[False].replace("title: test scenario on synthetic hills", f"title: {value}"),
                 encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_scenario(p)
    (prob,) = exc.value.problems
    assert prob.path == "" and "cannot read" in prob.message and "(line 3, column 8)" in prob.message, prob


def test_duplicate_keys_are_refused_merge_keys_are_not(yaml_dir):
    p = yaml_dir / "dup.yaml"
    p.write_text(FULL_TEXT[False] + "threats: []\n", encoding="utf-8")  # a second threats: block
    with pytest.raises(InputError) as exc:
        load_scenario(p)
    (prob,) = exc.value.problems
    assert "'threats' twice" in prob.message and "first on line" in prob.message
    assert parse_yaml_text("base: &b {lat: 1, lon: 2}\nsite: {<<: *b, lat: 3}\n") == {
        "base": {"lat": 1, "lon": 2}, "site": {"lat": 3, "lon": 2}}


def test_too_many_values_are_refused_quickly(yaml_dir):
    import time

    from iadsim.scenario.loader import MAX_FILE_BYTES, MAX_NODES

    p = yaml_dir / "many.yaml"
    p.write_text("threats: [" + "1," * (MAX_FILE_BYTES // 2 - 20) + "1]\n", encoding="utf-8")
    t0 = time.perf_counter()
    with pytest.raises(InputError) as exc:
        load_scenario(p)
    assert time.perf_counter() - t0 < 15  # was ~70 s of parsing and ~2.5 million problems
    (prob,) = exc.value.problems
    assert f"more than {MAX_NODES}" in prob.message


@pytest.mark.parametrize("text", [
    None, "a: 1\na: 2\n", "x: " + "[" * 100 + "]" * 100, "a: 2020-99-99\n", "a: &a [*a]\n", "\x00",
    "a: !!python/object/apply:os.system [true]\n", "_a: &a [1, 1]\n" + "".join(f"_{i}: [*a, *a]\n" for i in range(600)),
    "name: [unclosed\n", "",
], ids=["valid", "duplicate", "deep", "timestamp", "recursive", "nul", "tag", "aliases", "syntax", "empty"])
def test_pure_python_yaml_behaves_like_libyaml(monkeypatch, text):
    """Without libyaml the loader falls back to PyYAML's Python parser: same outcomes."""
    import iadsim.scenario.loader as loader

    text = FULL_TEXT[False] if text is None else text

    def outcome():
        try:
            return ("ok", loader.parse_yaml_text(text, "t.yaml") is not None)
        except InputError as exc:
            (p,) = exc.problems
            return ("error", p.path, p.message.split(":")[0], p.message.split("(")[0][:25])

    fast = outcome()
    monkeypatch.setattr(loader, "_Loader", loader._PyLoader)
    slow = outcome()
    # (the two readers word a refused character differently: compare up to the message's start)
    assert fast[:3] == slow[:3] if text == "\x00" else fast == slow


# --------------------------------------------------------------------------- the atheris harness

sys.path.insert(0, str(REPO / "fuzz"))


def test_harness_runs_its_corpus_without_atheris():
    import scenario_fuzz

    corpus = sorted((REPO / "fuzz" / "corpus").iterdir())
    assert len(corpus) >= 5
    for seed in corpus:
        scenario_fuzz.TestOneInput(seed.read_bytes())


def test_harness_on_random_bytes():
    import random

    import scenario_fuzz

    rng = random.Random(20261125)
    for n in range(300):
        mode = bytes([n % 3])
        scenario_fuzz.TestOneInput(mode + rng.randbytes(rng.randint(0, 400)))


def test_generated_example_count():
    """The hypothesis tests above generate at least 10,000 inputs per run, as promised."""
    tests = [v for k, v in globals().items() if k.startswith("test_") and hasattr(v, "hypothesis")]
    total = sum(t._hypothesis_internal_use_settings.max_examples for t in tests)
    assert len(tests) == 7 and total >= 10_000, (len(tests), total)
