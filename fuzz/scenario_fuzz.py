#!/usr/bin/env python3
"""Coverage-guided fuzzing of the scenario loader with atheris (libFuzzer for Python).

The first byte of an input picks what the rest means:

- ``0`` (mod 3): UTF-8 YAML text, read like a scenario file (size, node, alias and depth
  budgets; safe tags; duplicate keys) and validated;
- ``1``: a recipe of edits applied to a valid scenario (set a field to a generated value,
  delete a field, add a key), validated as a dict;
- ``2``: a generated document (any JSON-like tree) validated as a scenario.

The property checked on every input: loading ends in success or in ``InputError`` whose
problems name the file and a field path (an empty path only for text refused as YAML or a
document that is not a mapping). Anything else (another exception, an empty path for a
mapping, a problem without a message) is a crash that atheris reports with the input that
caused it. See fuzz/README.md for how to run it.

Without atheris the module still imports; ``TestOneInput`` then serves the unit tests
(tests/test_fuzz.py) and replays of saved crash inputs: ``python fuzz/scenario_fuzz.py FILE...``.
"""

from __future__ import annotations

import copy
import math
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

try:
    import atheris
except ImportError:  # replay and unit-test mode
    atheris = None


def _imports():
    from iadsim.catalog import load_catalog
    from iadsim.errors import InputError
    from iadsim.scenario import loader

    return load_catalog, InputError, loader


if atheris is not None and __name__ == "__main__":  # fuzzing: coverage of iadsim and PyYAML
    with atheris.instrument_imports(include=["iadsim", "yaml"]):
        load_catalog, InputError, loader = _imports()
else:  # imported by the tests, or replaying inputs
    load_catalog, InputError, loader = _imports()

CATALOG = load_catalog()
SOURCE = "fuzz.yaml"
# The DEM a scenario names must exist for it to load. Any file will do: the loader checks that
# it exists and is a file; reading it as a raster comes later (geo.terrain), outside this target.
# The valid documents name fuzz/README.md.
DEM_DIR = Path(os.environ.get("IADSIM_FUZZ_DIR", HERE))

BASE = {
    "schema_version": 1, "name": "fuzz", "title": "t", "description": "d",
    "terrain": {"dem": "README.md", "resolution_m": 400, "margin_km": 3, "refraction_k": 1.3},
    "simulation": {"duration_s": 900, "dt_s": 1.0, "replications": 64, "seed": 7, "fidelity": "fast",
                   "track_latency_s": 4.0, "track_drop_s": 20.0, "uncertainty": "nominal"},
    "assets": [{"name": "base", "lat": 10.2, "lon": 20.2, "radius_m": 500, "value": 1.0}],
    "effectors": [
        {"name": "sam-1", "system": "tor_m2", "site": {"lat": 10.21, "lon": 20.19, "height_m": 0, "height_ref": "agl"},
         "vehicles": 1, "missiles": 8, "reloads": 0,
         "doctrine": {"mode": "salvo", "salvo_size": 2, "max_engagements": 3, "kill_assessment_s": 5.0,
                      "min_launch_interval_s": 2.0, "fire": "free"}},
    ],
    "sensors": [{"name": "r", "system": "buk_m2", "site": {"lat": 10.25, "lon": 20.25}}],
    "threats": [
        {"name": "owa", "type": "shahed_136", "count": 3, "spacing_s": 15, "altitude_m": 200,
         "altitude_ref": "agl", "speed_m_s": 50, "launch_time_s": 0,
         "route": [{"lat": 10.36, "lon": 20.05, "altitude_m": 100, "speed_m_s": 40}, {"lat": 10.30, "lon": 20.12}],
         "target": "base"},
        {"name": "drone", "type": "mq_9_reaper", "route": [{"lat": 10.05, "lon": 20.05}],
         "orbit": {"lat": 10.2, "lon": 20.2, "radius_km": 5, "laps": 2}},
    ],
}

_KEYS = ["name", "lat", "lon", "system", "type", "route", "orbit", "target", "dem", "count", "threats",
         "effectors", "doctrine", "salvo_size", "mode", "site", "height_m", "", "<<", "a.b", "\u00e9"]
_STRINGS = ["", "x", "tor_m2", "shahed_136", "base", "bundled:", "bundled:S33W071.tif", "..", "/", "~x/y",
            "\x00", "\udc80", "\ud800", "a" * 65, "1e5", "nan", "inf", "salvo", "agl", "fast"]
_NUMBERS = [0, -1, 1, 2**63, 2**64, 10**400, 1e308, -1e308, 0.5, math.nan, math.inf, -math.inf, 90.0000001,
            -500.0000001, 5e-324]


class Bytes:
    """Reads choices from the input bytes, one after the other (0 when they run out), so that a
    small change of the input is a small change of the document (what coverage guidance needs)."""

    def __init__(self, data: bytes):
        self.data = data
        self.i = 0

    def byte(self) -> int:
        if self.i >= len(self.data):
            return 0
        self.i += 1
        return self.data[self.i - 1]

    def int(self, n: int) -> int:
        return self.byte() % n if n > 0 else 0

    def pick(self, seq):
        return seq[self.int(len(seq))]

    def text(self) -> str:
        n = self.int(12)
        raw = bytes(self.byte() for _ in range(n))
        return raw.decode("utf-8", errors="surrogateescape")

    def value(self, depth: int = 0):
        kind = self.int(9)
        if kind == 0:
            return None
        if kind == 1:
            return bool(self.int(2))
        if kind == 2:
            return self.pick(_NUMBERS)
        if kind == 3:
            return (self.byte() - 128) * (10 ** self.int(6))
        if kind == 4:
            return self.pick(_STRINGS)
        if kind == 5:
            return self.text()
        if kind == 6 and depth < 6:
            return [self.value(depth + 1) for _ in range(self.int(4))]
        if kind == 7 and depth < 6:
            return {self.pick(_KEYS) if self.int(2) else self.text(): self.value(depth + 1)
                    for _ in range(self.int(4))}
        if kind == 8:
            v = 1
            for _ in range(self.byte() * 8):
                v = [v]
            return v
        return self.text()


def _paths(node, max_depth: int = 8) -> list[tuple]:
    """Paths of the nodes of a document, down to ``max_depth`` (iterative: documents may be deep)."""
    out, stack = [], [((), node)]
    while stack:
        prefix, n = stack.pop()
        out.append(prefix)
        if len(prefix) >= max_depth:
            continue
        if isinstance(n, dict):
            stack += [(prefix + (k,), v) for k, v in n.items()]
        elif isinstance(n, list):
            stack += [(prefix + (i,), v) for i, v in enumerate(n)]
    return sorted(out, key=repr)


def _edit(b: Bytes) -> dict:
    doc = copy.deepcopy(BASE)
    for _ in range(1 + b.int(4)):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = b.pick(paths)
        parent = doc
        for p in path[:-1]:
            parent = parent[p]
        op = b.int(3)
        if op == 0:
            parent[path[-1]] = b.value()
        elif op == 1:
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[b.pick(_KEYS) if b.int(2) else b.text()] = b.value()
    return doc


def check(document) -> None:
    """Load ``document``; only success or a well-formed InputError may come out."""
    try:
        loader.scenario_from_dict(document, source=SOURCE, base_dir=DEM_DIR, catalog=CATALOG)
    except InputError as exc:
        assert exc.problems, "InputError without problems"
        for p in exc.problems:
            assert p.file == SOURCE, p
            assert p.message and isinstance(p.message, str), p
            str(p).encode("utf-8", "backslashreplace")
            if isinstance(document, dict):
                assert p.path, f"a problem of a mapping without a field path: {p}"
            else:
                assert p.path == "" and "mapping" in p.message, p


def TestOneInput(data: bytes) -> None:  # noqa: N802 - atheris' name
    if not data:
        return
    mode, rest = data[0] % 3, data[1:]
    if mode == 0:
        try:
            text = rest.decode("utf-8")
        except UnicodeDecodeError:
            return
        try:
            doc = loader.parse_yaml_text(text, SOURCE)
        except InputError as exc:
            assert [p.path for p in exc.problems] == [""], exc.problems
            assert exc.problems[0].message
            return
        check(doc)
    elif mode == 1:
        check(_edit(Bytes(rest)))
    else:
        check(Bytes(rest).value())


def main() -> None:
    if atheris is None or (len(sys.argv) > 1 and all(Path(a).is_file() for a in sys.argv[1:])):
        for name in sys.argv[1:]:  # replay saved inputs
            TestOneInput(Path(name).read_bytes())
            print(f"ok {name}")
        return
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
