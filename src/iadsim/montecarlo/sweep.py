"""Parameter sweeps: the cartesian product of scenario variations, each cell a Monte Carlo run.

>>> plan = plan_sweep(load_scenario("scenario.yaml"),  # doctest: +SKIP
...                   ["effectors[pantsir].vehicles=1,2,3", "threats[reaper].altitude_m=3000:9000:1500"],
...                   replications=500, seed=1)
>>> res = run_sweep(plan, "out/sweep")                 # doctest: +SKIP

A variation is ``PATH=VALUES``. ``PATH`` addresses a scenario field as in the scenario file:
list items by name (``effectors[pantsir-city]``) or by index (``effectors[0]``), fields with
dots (``effectors[0].doctrine.salvo_size``). ``VALUES`` is a comma list (``1,2,3``;
``tor_m2,pantsir_s1``; ``null`` for an unset optional field) and/or ranges
``start:stop:step`` (stop included when it lands on the grid: ``3000:9000:1500`` is
3000, 4500, 6000, 7500, 9000). Values are converted to the field's type by validating the
modified scenario, so a wrong value is reported with its field path.

Seeds: by default every cell uses the same seed, so replication *i* of every cell draws the
same random numbers (common random numbers): differences between cells are then due to the
parameters, not to sampling noise, and comparisons between cells are much sharper than with
independent seeds. ``seed_per_cell=True`` gives each cell its own seed, derived from the sweep
seed and the cell number (``SeedSequence([seed, cell])``), for independent samples.

Crash safety: ``sweep.json`` is written first; each cell is written as one Parquet file under a
temporary name, fsync'ed and renamed (see :mod:`iadsim.montecarlo.dataset`). ``resume=True``
checks that ``sweep.json`` describes the same sweep (scenario content, terrain, variations,
replications, seed, iadsim version) and runs only the cells whose file is missing: the result
is row for row the dataset an uninterrupted run writes.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from iadsim import __version__
from iadsim.engine import World, compile_world
from iadsim.errors import IadsimError, InputError, OutputError, Problem
from iadsim.montecarlo import DEFAULT_CHUNK, concat, run_replications
from iadsim.montecarlo import dataset as ds
from iadsim.results.io import check_out_dir_writable, prepare_out_dir
from iadsim.scenario.loader import LoadedScenario, format_loc, scenario_from_dict

FORMAT = "iadsim-sweep/1"
MAX_CELLS = 100_000
VARY_SOURCE = "--vary"

#: fields a sweep must not vary, and what to use instead
FORBIDDEN = {
    ("simulation", "replications"): "set the replications with -n/--replications",
    ("simulation", "seed"): "set the seed with --seed (or --seed-per-cell)",
    ("schema_version",): "the schema version is not a parameter",
}
#: (list, field) -> the field meant, for common slips
HINTS = {("effectors", "count"): "vehicles", ("threats", "vehicles"): "count",
         ("effectors", "altitude_m"): "site.height_m"}

_NULLS = {"null", "none", "~"}


# ---------------------------------------------------------------- paths

_TOKEN = re.compile(r"(?P<dot>\.)?(?P<field>[A-Za-z_][A-Za-z0-9_]*)|\[(?P<item>[^\]]*)\]")


def parse_path(path: str) -> list[tuple[str, Any]]:
    """'effectors[sam-1].doctrine.salvo_size' -> [('field','effectors'), ('name','sam-1'), ...].

    Items: ``[3]`` is an index, ``[name]`` (or ``['name']``) a name.
    """
    segs: list[tuple[str, Any]] = []
    pos = 0
    if not path:
        raise ValueError("empty path")
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if m is None:
            raise ValueError(f"unexpected {path[pos:]!r} at character {pos + 1} "
                             f"(expected .field or [item])")
        if m.group("field") is not None:
            if bool(m.group("dot")) == (not segs):  # a dot before every field but the first
                raise ValueError(f"unexpected {path[pos:]!r} at character {pos + 1}")
            segs.append(("field", m.group("field")))
        else:
            if not segs:
                raise ValueError("a path starts with a field name, e.g. effectors[0].vehicles")
            inner = m.group("item").strip()
            if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
                segs.append(("name", inner[1:-1]))
            elif re.fullmatch(r"\d+", inner):
                segs.append(("index", int(inner)))
            elif inner:
                segs.append(("name", inner))
            else:
                raise ValueError("empty [] (put an item's name or index inside)")
        pos = m.end()
    return segs


def resolve_path(dump: dict[str, Any], path: str) -> tuple[tuple[Any, ...], Any]:
    """The field location (('effectors', 1, 'vehicles')) of ``path`` in a scenario dump and
    its current value; ValueError naming what does not exist."""
    segs = parse_path(path)
    node: Any = dump
    loc: list[Any] = []
    for kind, key in segs:
        where = format_loc(tuple(loc)) or "the scenario"
        if kind == "field":
            if node is None:
                raise ValueError(f"{where} is not set in the scenario, so it has no field {key!r}")
            if isinstance(node, list):
                raise ValueError(f"{where} is a list: pick an item by name or index, "
                                 f"e.g. {where}[0].{key}")
            if not isinstance(node, dict):
                raise ValueError(f"{where} is a value, not a group of fields: it has no field {key!r}")
            if key not in node:
                raise ValueError(_unknown_field(key, node, loc))
            node = node[key]
        else:
            if node is None:
                raise ValueError(f"{where} is not set in the scenario")
            if not isinstance(node, list):
                raise ValueError(f"{where} is not a list; [...] picks list items")
            if kind == "index":
                if not 0 <= key < len(node):
                    raise ValueError(f"{where} has {len(node)} item(s); index {key} is out of range"
                                     + (f" (0..{len(node) - 1})" if node else ""))
                idx = key
            else:
                names = [it.get("name") if isinstance(it, dict) else None for it in node]
                if key not in names:
                    listed = ", ".join(str(n) for n in names if n is not None) or "(none)"
                    raise ValueError(f"no item named {key!r} in {where}; names: {listed}")
                idx = names.index(key)
            key = idx
            node = node[idx]
        loc.append(key)
    full = tuple(loc)
    if full in FORBIDDEN:
        raise ValueError(f"{format_loc(full)} cannot be varied: {FORBIDDEN[full]}")
    if isinstance(node, dict):
        raise ValueError(f"{format_loc(full)} is a group of fields; name one: {', '.join(node)}")
    if isinstance(node, list):
        raise ValueError(f"{format_loc(full)} is a list; name an item's field, "
                         f"e.g. {format_loc(full)}[0].<field>")
    return full, node


def _unknown_field(key: str, node: dict, loc: list[Any]) -> str:
    import difflib

    where = format_loc(tuple(loc)) or "the scenario"
    parent = next((p for p in reversed(loc) if isinstance(p, str)), None)
    hint = HINTS.get((parent, key)) if loc and isinstance(loc[-1], int) else None
    if hint is None:
        close = difflib.get_close_matches(key, list(node), n=1)
        hint = close[0] if close else None
    msg = f"{where} has no field {key!r}"
    if hint:
        msg += f" (did you mean {hint!r}?)"
    return msg + f"; fields: {', '.join(node)}"


def get_at(data: Any, loc: tuple[Any, ...]) -> Any:
    for k in loc:
        data = data[k]
    return data


def set_at(data: Any, loc: tuple[Any, ...], value: Any) -> None:
    node = get_at(data, loc[:-1])
    node[loc[-1]] = value


# ---------------------------------------------------------------- values

def _number(text: str) -> Decimal | None:
    try:
        d = Decimal(text.strip())
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def _is_int_literal(text: str) -> bool:
    return re.fullmatch(r"\s*[+-]?\d[\d_]*\s*", text) is not None


def expand_values(text: str, limit: int = MAX_CELLS) -> list[Any]:
    """'1,2,5' / '3000:9000:1500' / 'a,b' / 'null' -> raw values (validated later)."""
    if not text.strip():
        raise ValueError("no values after '='")
    out: list[Any] = []
    for tok in text.split(","):
        t = tok.strip()
        if not t:
            raise ValueError(f"empty value in {text!r} (two commas, or a comma at the end?)")
        parts = t.split(":")
        nums = [_number(p) for p in parts]
        numeric = [n is not None for n in nums]
        if len(parts) > 1 and (all(numeric) or (len(parts) == 3 and any(numeric))):
            if len(parts) != 3 or any(n is None for n in nums):
                raise ValueError(f"malformed range {t!r}: expected start:stop:step with three numbers")
            out += _expand_range(t, parts, nums, limit - len(out))
        elif t.lower() in _NULLS:
            out.append(None)
        else:
            out.append(t)
        if len(out) > limit:
            raise ValueError(f"more than {limit:,} values")
    return out


def _expand_range(text: str, parts: list[str], nums: list[Decimal | None], limit: int) -> list[Any]:
    start, stop, step = nums  # type: ignore[misc]
    assert start is not None and stop is not None and step is not None
    if step == 0:
        raise ValueError(f"range {text!r}: the step is zero")
    q = (stop - start) / step
    if q < 0:
        direction = "above" if step > 0 else "below"
        raise ValueError(f"empty range {text!r}: the start is {direction} the stop "
                         f"for a step of {step}")
    count = int(q.to_integral_value(rounding="ROUND_FLOOR")) + 1
    if count > limit:
        raise ValueError(f"range {text!r} has {count:,} values, more than the limit of {MAX_CELLS:,}")
    ints = all(_is_int_literal(p) for p in parts)
    return [int(start + k * step) if ints else float(start + k * step) for k in range(count)]


def _scalar_candidates(value: Any) -> list[Any]:
    """A command-line value as YAML 1.2 reads it ('4' -> 4, 'true' -> True), then as the text."""
    if not isinstance(value, str):
        return [value]
    from iadsim.scenario.loader import parse_yaml_text

    try:
        parsed = parse_yaml_text(value, VARY_SOURCE)
    except InputError:
        return [value]
    if parsed is None or isinstance(parsed, (dict, list)) or parsed == value:
        return [value]
    return [parsed, value]


def _typed(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else value


# ---------------------------------------------------------------- plan

@dataclass(frozen=True)
class Variation:
    spec: str                  # as given: 'effectors[pantsir].vehicles=1,2,3'
    path: str                  # 'effectors[pantsir].vehicles' (the column name)
    loc: tuple[Any, ...]       # ('effectors', 1, 'vehicles')
    values: tuple[Any, ...]    # typed values, in order

    @property
    def field(self) -> str:
        return format_loc(self.loc)


@dataclass(frozen=True)
class Cell:
    index: int
    values: dict[str, Any]     # path -> value
    seed: int

    def label(self) -> str:
        return ", ".join(f"{k}={_typed(v)}" for k, v in self.values.items())


@dataclass
class SweepPlan:
    """A validated sweep: the base scenario, the variations and every cell."""

    loaded: LoadedScenario
    base: dict[str, Any]                 # full dump of the validated scenario
    variations: list[Variation]
    replications: int
    seed: int
    seed_per_cell: bool
    cells: list[Cell]
    scenario_sha256: str
    dem_sha256: str
    column_types: dict[str, pa.DataType] = field(default_factory=dict)
    #: sha256 of every DEM a cell reads (the base one, and those of --vary terrain.dem), by path
    dem_hashes: dict[str, str] = field(default_factory=dict)
    #: sha256 of every catalog entry a cell uses, by system name
    catalog_hashes: dict[str, str] = field(default_factory=dict)

    @property
    def ncells(self) -> int:
        return len(self.cells)

    @property
    def width(self) -> int:
        return max(5, len(str(max(self.ncells - 1, 0))))

    def cell_data(self, cell: Cell) -> dict[str, Any]:
        data = copy.deepcopy(self.base)
        for v in self.variations:
            set_at(data, v.loc, cell.values[v.path])
        return data

    def cell_source(self, cell: Cell) -> str:
        return f"{self.loaded.source} [sweep cell {cell.index}: {cell.label()}]"

    def cell_scenario(self, cell: Cell) -> LoadedScenario:
        return scenario_from_dict(self.cell_data(cell), source=self.cell_source(cell),
                                  base_dir=self.loaded.base_dir, catalog=self.loaded.catalog)

    def fingerprint(self) -> dict[str, Any]:
        """What must match for --resume."""
        return {
            "format": FORMAT,
            "iadsim_version": __version__,
            "scenario_sha256": self.scenario_sha256,
            "dem_sha256": self.dem_sha256,
            "dems": dict(sorted(self.dem_hashes.items())),
            "catalog": dict(sorted(self.catalog_hashes.items())),
            "variations": [{"path": v.path, "values": list(v.values)} for v in self.variations],
            "replications": self.replications,
            "seed": self.seed,
            "seed_policy": "per-cell" if self.seed_per_cell else "common",
        }

    @property
    def sweep_id(self) -> str:
        return hashlib.sha256(json.dumps(self.fingerprint(), sort_keys=True).encode()).hexdigest()[:16]

    def manifest(self) -> dict[str, Any]:
        fp = self.fingerprint()
        return {
            "format": FORMAT,
            "sweep_id": self.sweep_id,
            "iadsim_version": __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "scenario": {"name": self.loaded.scenario.name, "source": self.loaded.source,
                         "sha256": self.scenario_sha256, "dem": str(self.loaded.dem_path),
                         "dem_sha256": self.dem_sha256, "dems": dict(sorted(self.dem_hashes.items())),
                         "catalog": dict(sorted(self.catalog_hashes.items()))},
            "variations": [{"path": v.path, "field": v.field, "spec": v.spec, "values": list(v.values),
                            "type": str(self.column_types[v.path])} for v in self.variations],
            "replications": self.replications,
            "seed": self.seed,
            "seed_policy": fp["seed_policy"],
            "cells": [{"cell": c.index, "seed": c.seed, "values": c.values} for c in self.cells],
            "layout": {"dataset": f"{ds.DATASET_DIR}/cell={{cell:0{self.width}d}}/{ds.PART_FILE}",
                       "partitioning": "hive (cell)", "summary": ds.SUMMARY_FILE,
                       "missions": ds.MISSIONS_FILE},
        }


def _sha256_json(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError as exc:
        raise InputError.single(path, "", f"cannot read: {exc.strerror or exc}") from None
    return h.hexdigest()


def cell_seed(seed: int, cell: int) -> int:
    """The seed of a cell under --seed-per-cell: a 63-bit hash of (sweep seed, cell number)."""
    return int(np.random.SeedSequence([seed, cell]).generate_state(1, np.uint64)[0] >> np.uint64(1))


def parse_vary(spec: str) -> tuple[str, str]:
    if "=" not in spec:
        raise InputError.single(VARY_SOURCE, spec, "expected PATH=VALUES, e.g. effectors[0].vehicles=1,2,3")
    path, _, values = spec.partition("=")
    path = path.strip()
    if not path:
        raise InputError.single(VARY_SOURCE, spec, "no field path before '='")
    return path, values


def plan_sweep(scenario: LoadedScenario | str | Path, vary: list[str], replications: int | None = None,
               seed: int | None = None, seed_per_cell: bool = False, max_cells: int = MAX_CELLS,
               validate_cells: bool = True) -> SweepPlan:
    """Parse and validate the variations, expand the cells; raise InputError naming any problem."""
    from iadsim.scenario import load_scenario

    from iadsim.api import revalidated

    ld = scenario if isinstance(scenario, LoadedScenario) else load_scenario(scenario)
    ld = revalidated(ld)
    sim = ld.scenario.simulation
    n = int(replications if replications is not None else sim.replications)
    seed = int(seed if seed is not None else sim.seed)
    if n < 1:
        raise InputError.single("command line", "replications", "must be at least 1")
    if not 0 <= seed < 2**63:
        raise InputError.single("command line", "seed", "must be in 0 .. 2**63-1")
    if not vary:
        raise InputError.single(VARY_SOURCE, "", "give at least one --vary PATH=VALUES")
    base = ld.scenario.model_dump(mode="json")

    variations: list[Variation] = []
    problems: list[Problem] = []
    seen: dict[tuple, str] = {}
    for spec in vary:
        path, text = parse_vary(spec)
        try:
            loc, _ = resolve_path(base, path)
        except ValueError as exc:
            problems.append(Problem(VARY_SOURCE, path, str(exc)))
            continue
        if loc in seen:
            problems.append(Problem(VARY_SOURCE, path, f"the same field as --vary {seen[loc]} "
                                                         f"({format_loc(loc)}); vary each field once"))
            continue
        seen[loc] = path
        try:
            raw = expand_values(text, limit=max_cells)
        except ValueError as exc:
            problems.append(Problem(VARY_SOURCE, path, str(exc)))
            continue
        typed: list[Any] = []
        for value in raw:
            scn, shown = None, None
            # a command-line value is a YAML 1.2 scalar ('4' the integer 4, 'true' a boolean:
            # scenario values are strict), or the text itself if only that fits (a name '017')
            for candidate in _scalar_candidates(value):
                data = copy.deepcopy(base)
                set_at(data, loc, candidate)
                try:
                    scn = scenario_from_dict(data, source=ld.source, base_dir=ld.base_dir, catalog=ld.catalog)
                    break
                except InputError as exc:
                    shown = shown or exc  # the problems of the value as YAML reads it
            if scn is None:
                assert shown is not None
                problems += [Problem(VARY_SOURCE, path if p.path == format_loc(loc) else p.path,
                                     f"value {_typed(value)}: {p.message}") for p in shown.problems]
                continue
            dumped = scn.scenario.model_dump(mode="json")
            if getattr(scn, "all_units", None):   # units left out (enabled: false) are still in the file
                dumped["effectors"], dumped["sensors"] = scn.all_units
            typed.append(get_at(dumped, loc))
        dups = sorted({_typed(v) for v in typed if typed.count(v) > 1})
        if dups:
            problems.append(Problem(VARY_SOURCE, path, f"value(s) given twice: {', '.join(dups)}"))
        variations.append(Variation(spec=spec, path=path, loc=loc, values=tuple(typed)))
    if problems:
        raise InputError(problems)

    total = math.prod(len(v.values) for v in variations)
    if total > max_cells:
        sizes = " x ".join(str(len(v.values)) for v in variations)
        raise InputError.single(VARY_SOURCE, "", f"the sweep has {sizes} = {total:,} cells, more than the "
                                                 f"limit of {max_cells:,}; use fewer values")
    cells = [Cell(index=i, values={v.path: x for v, x in zip(variations, combo)},
                  seed=cell_seed(seed, i) if seed_per_cell else seed)
             for i, combo in enumerate(itertools.product(*(v.values for v in variations)))]
    plan = SweepPlan(loaded=ld, base=base, variations=variations, replications=n, seed=seed,
                     seed_per_cell=seed_per_cell, cells=cells, scenario_sha256=_sha256_json(base),
                     dem_sha256=_sha256_file(ld.dem_path),
                     column_types={v.path: ds.arrow_type_of(list(v.values)) for v in variations})
    from iadsim.limits import check_run_size

    # every cell holds the base scenario's arrays at most once plus its replications' rows
    check_run_size(ld, n)
    if validate_cells:
        _validate_cells(plan)
    _hash_inputs(plan)
    return plan


def _systems(scn) -> set[str]:
    return {e.system for e in scn.effectors} | {x.system for x in scn.sensors} | {t.type for t in scn.threats}


def _hash_inputs(plan: SweepPlan) -> None:
    """sha256 of every DEM and catalog entry the cells read (each DEM read once)."""
    from iadsim.scenario.loader import resolve_dem

    dems = {str(plan.loaded.dem_path)}
    systems = _systems(plan.loaded.scenario)
    dem_varied = any(v.loc == ("terrain", "dem") for v in plan.variations)
    catalog_varied = any(v.loc[-1] in ("system", "type") for v in plan.variations)
    if dem_varied or catalog_varied:
        for cell in plan.cells:
            data = plan.cell_data(cell)
            if dem_varied:
                from iadsim.scenario.models import Scenario

                scn = Scenario.model_validate(data)
                dems.add(str(resolve_dem(scn, plan.loaded.base_dir, plan.cell_source(cell))))
            if catalog_varied:
                systems |= {x["system"] for x in data.get("effectors", []) + data.get("sensors", [])}
                systems |= {t["type"] for t in data.get("threats", [])}
    from iadsim.export.bundle import catalog_entry_sha256

    plan.dem_hashes = {d: _sha256_file(Path(d)) for d in sorted(dems)}
    for t in getattr(plan.loaded, "dem_tiles", None) or []:  # a mosaic's tiles, each by path
        plan.dem_hashes[str(t["path"])] = t["sha256"]
    plan.catalog_hashes = {name: catalog_entry_sha256(plan.loaded.catalog[name])
                           for name in sorted(systems) if name in plan.loaded.catalog}


def _validate_cells(plan: SweepPlan, max_reported: int = 10) -> None:
    """Every cell is checked before any runs: cross-field checks (e.g. a salvo larger than the
    ready missiles), its policy, its fidelity and its size (a tiny simulation.dt_s), so that a
    bad cell never stops a sweep after earlier cells have run."""
    from iadsim.api import check_fidelity, check_policy
    from iadsim.limits import available_memory_bytes, check_run_size

    problems: list[Problem] = []
    bad = 0
    available = available_memory_bytes()
    for cell in plan.cells:
        try:
            if len(plan.variations) > 1 or not plan.variations:
                ld = plan.cell_scenario(cell)  # combinations of values checked one by one already
                scn, source = ld.scenario, ld.source
            else:
                from iadsim.scenario.models import Scenario

                ld = None
                scn, source = Scenario.model_validate(plan.cell_data(cell)), plan.cell_source(cell)
            check_policy(scn.simulation.policy, source)
            if ld is not None:
                check_fidelity(ld)
            elif scn.simulation.fidelity == "full" and not (scn.effectors or scn.sensors):
                check_fidelity(plan.cell_scenario(cell))
            check_run_size(scn, plan.replications, source=source, available=available)
        except InputError as exc:
            bad += 1
            if bad <= max_reported:
                problems += exc.problems
    if problems:
        if bad > max_reported:
            problems.append(Problem(VARY_SOURCE, "", f"... {bad - max_reported} more invalid cell(s)"))
        raise InputError(problems)


# ---------------------------------------------------------------- running

@dataclass
class SweepResult:
    out: Path
    plan: SweepPlan
    cells_run: int
    cells_resumed: int
    seconds: float
    summary: pd.DataFrame

    @property
    def missions(self) -> pd.DataFrame:
        """Per cell x scenario threat with a mission: the mission measures (missions.parquet)."""
        return pd.read_parquet(self.out / ds.MISSIONS_FILE)

    @property
    def dataset(self) -> Path:
        return self.out / ds.DATASET_DIR

    def replications(self) -> pd.DataFrame:
        return ds.read_replications(self.out)

    def __repr__(self) -> str:
        return (f"SweepResult({str(self.out)!r}, cells={self.plan.ncells}, run={self.cells_run}, "
                f"resumed={self.cells_resumed}, replications={self.plan.replications})")


#: progress(cells_done, replications_done); totals are plan.ncells and plan.ncells * plan.replications
Progress = Callable[[int, int], None]


def _meta(plan: SweepPlan, cell: Cell) -> dict[str, Any]:
    return {"sweep_id": plan.sweep_id, "cell": cell.index, "seed": cell.seed, "values": cell.values,
            "replications": plan.replications, "iadsim_version": __version__,
            "scenario": plan.loaded.scenario.name}


def _cell_table(world: World, cell: Cell, plan_info: tuple, raw) -> pa.Table:
    from iadsim.results import Results

    n, types, meta = plan_info
    reps = Results(world=world, seed=cell.seed, n=n, raw=raw, version=__version__).replications
    return ds.cell_table(reps, cell.values, types, meta)


def compute_cell(ld: LoadedScenario, cell: Cell, n: int, chunk_size: int, types: dict[str, pa.DataType],
                 meta: dict[str, Any], on_chunk: Callable[[int], None] | None = None) -> pa.Table:
    """Compile one cell's scenario and run its replications here; its Arrow table."""
    world = compile_world(ld)
    parts = run_replications(world, n, cell.seed, workers=1, chunk_size=chunk_size, record_rep=-1,
                             on_chunk=on_chunk)
    return _cell_table(world, cell, (n, types, meta), concat(parts))


@contextmanager
def _locked(out: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    fd = os.open(out / ds.LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o666 & ~ds._UMASK)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise OutputError(f"another iadsim sweep is writing to {out}; wait for it or use another --out") from None
        yield
    finally:
        os.close(fd)


def _differences(old: dict[str, Any], plan: SweepPlan) -> list[str]:
    new = plan.manifest()
    diffs: list[str] = []
    if old.get("format") != FORMAT:
        diffs.append(f"folder format {old.get('format')!r}, this iadsim writes {FORMAT!r}")
    if old.get("iadsim_version") != __version__:
        diffs.append(f"written by iadsim {old.get('iadsim_version')}, this is {__version__} "
                     "(results could differ between versions)")
    o, s = old.get("scenario", {}), new["scenario"]
    if o.get("sha256") != s["sha256"]:
        diffs.append(f"scenario content differs: {o.get('name')!r} (sha256 {str(o.get('sha256'))[:12]}) "
                     f"in the folder, {s['name']!r} (sha256 {s['sha256'][:12]}) now")
    if o.get("dem_sha256") != s["dem_sha256"]:
        diffs.append(f"terrain (DEM) content differs: sha256 {str(o.get('dem_sha256'))[:12]} in the folder, "
                     f"{s['dem_sha256'][:12]} now ({s['dem']})")
    od, nd = o.get("dems") or {}, s["dems"]
    for path in sorted(set(od) | set(nd)):
        if path == s["dem"] and o.get("dem_sha256") != s["dem_sha256"]:
            continue  # said above
        if od.get(path) != nd.get(path):
            was = str(od.get(path))[:12] if path in od else "not used"
            now = str(nd.get(path))[:12] if path in nd else "not used"
            diffs.append(f"the DEM {path} changed since the sweep started: sha256 {was} in the folder, {now} now")
    oc, nc = o.get("catalog") or {}, s["catalog"]
    changed = [n for n in sorted(set(oc) | set(nc)) if oc.get(n) != nc.get(n)]
    if changed:
        diffs.append(f"catalog entries differ: {', '.join(changed)}")
    ov = [(v.get("path"), v.get("values")) for v in old.get("variations", [])]
    nv = [(v["path"], v["values"]) for v in new["variations"]]
    if ov != nv:
        fmt = lambda vs: "; ".join(f"{p}={','.join(_typed(x) for x in (xs or []))}" for p, xs in vs)  # noqa: E731
        diffs.append(f"variations differ: {fmt(ov) or '(none)'} in the folder, {fmt(nv)} now")
    for key, label in (("replications", "replications"), ("seed", "seed"), ("seed_policy", "seed policy")):
        if old.get(key) != new[key]:
            diffs.append(f"{label} differs: {old.get(key)} in the folder, {new[key]} now")
    if not diffs and [c.get("cell") for c in old.get("cells", [])] != [c.index for c in plan.cells]:
        diffs.append("the cell list differs")
    return diffs


def prepare_sweep_dir(plan: SweepPlan, out: Path, resume: bool, force: bool = False) -> bool:
    """Check ``out`` before anything is written; return True if an existing sweep is resumed.

    A non-empty folder that holds no sweep is refused unless ``force``."""
    from iadsim.results.io import check_out_folder

    check_out_dir_writable(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"output folder {out} exists and is not a folder")
    old = ds.read_manifest(out)
    if old is None:
        if (out / ds.DATASET_DIR).exists() or (out / ds.SUMMARY_FILE).exists():
            raise OutputError(f"{out} holds a dataset but no {ds.SWEEP_JSON}: not a sweep folder that can be "
                              "resumed; choose another --out (nothing was changed)")
        check_out_folder(out, "sweep", force=force)
        return False
    if not resume:
        raise OutputError(f"{out} already holds a sweep ({ds.SWEEP_JSON}); add --resume to finish it, or choose "
                          "another --out (nothing was changed)")
    diffs = _differences(old, plan)
    if diffs:
        raise OutputError(f"cannot resume: {out / ds.SWEEP_JSON} describes another sweep (nothing was changed):\n  "
                          + "\n  ".join(diffs))
    return True


def run_sweep(plan: SweepPlan, out: str | Path, resume: bool = False, backend: str = "local",
              workers: int = 1, ray_address: str | None = None, chunk_size: int = DEFAULT_CHUNK,
              ray_connect_timeout_s: float | None = None, progress: Progress | None = None,
              on_start: Callable[[int], None] | None = None, force: bool = False) -> SweepResult:
    """Run (or, with ``resume``, finish) a sweep into the folder ``out``.

    ``backend="local"``: ``workers == 1`` runs cells one after another in this process (the
    kernel uses every core); ``workers > 1`` runs that many cells at once in worker processes.
    ``backend="ray"``: chunks of replications run as Ray tasks (see :func:`run_replications`
    for ``ray_address``; ``workers`` is the CPU count of a local Ray instance).
    ``on_start(cells_already_done)`` is called once the folder has been checked. ``out`` must be
    new, empty or a sweep folder (``force``: any folder).
    """
    from iadsim.montecarlo import BACKENDS

    if backend not in BACKENDS:
        raise InputError.single("command line", "backend", f"expected one of {', '.join(BACKENDS)}; got {backend!r}")
    if chunk_size < 1:
        raise ValueError("chunk_size must be >= 1")
    t0 = time.perf_counter()
    out = Path(out)
    resumed = prepare_sweep_dir(plan, out, resume, force)
    with ExitStack() as stack:
        if backend == "ray":  # connect before anything is written
            from iadsim.montecarlo import ray_backend

            timeout = ray_backend.DEFAULT_CONNECT_TIMEOUT_S if ray_connect_timeout_s is None else ray_connect_timeout_s
            stack.enter_context(ray_backend.session(ray_address, num_cpus=workers if workers > 1 else None,
                                                    connect_timeout_s=timeout))
        created = not out.exists()
        prepare_out_dir(out, kind="sweep")
        stack.enter_context(_locked(out))
        # again, now that no other sweep can write here
        resumed = prepare_sweep_dir(plan, out, resume, force=force or created)
        summary, ran, resumed_cells = _execute(plan, out, resumed, backend, workers, chunk_size,
                                               progress, on_start)
    return SweepResult(out=out, plan=plan, cells_run=ran, cells_resumed=resumed_cells,
                       seconds=time.perf_counter() - t0, summary=summary)


def _execute(plan: SweepPlan, out: Path, resumed: bool, backend: str, workers: int, chunk_size: int,
             progress: Progress | None, on_start: Callable[[int], None] | None
             ) -> tuple[pd.DataFrame, int, int]:
    if not resumed:
        ds.write_json(out / ds.SWEEP_JSON, plan.manifest())
    ds.remove_stale_temps(out)
    done = ds.scan_cells(out, plan.ncells, plan.width, plan.sweep_id)
    pending = [c for c in plan.cells if c.index not in done]
    n = plan.replications
    state = {"cells": len(done), "reps": len(done) * n}
    if on_start:
        on_start(len(done))
    if progress:
        progress(state["cells"], state["reps"])

    def chunk_done(count: int) -> None:
        state["reps"] += count
        if progress:
            progress(state["cells"], state["reps"])

    def cell_done(cell: Cell, table: pa.Table) -> None:
        ds.write_cell(out, cell.index, plan.width, table)
        state["cells"] += 1
        if progress:
            progress(state["cells"], state["reps"])

    if pending:
        if backend == "ray":
            _run_ray(plan, pending, chunk_size, chunk_done, cell_done)
        elif workers > 1 and len(pending) > 1:
            _run_pool(plan, pending, chunk_size, min(workers, len(pending)), chunk_done, cell_done)
        else:
            for cell in pending:
                meta = _meta(plan, cell)
                table = compute_cell(plan.cell_scenario(cell), cell, n, chunk_size,
                                     plan.column_types, meta, on_chunk=chunk_done)
                cell_done(cell, table)
    manifest = ds.read_manifest(out) or plan.manifest()
    missions = ds.summarize_missions(out, manifest)
    summary = ds.summarize(out, manifest, missions=missions[["cell", "threat", *ds.MISSION_COLUMNS]])
    ds.write_summary(out, summary)
    ds.write_summary(out, missions, name=ds.MISSIONS_FILE)
    return summary, len(pending), len(done)


# ---------------------------------------------------------------- local worker processes

_POOL: dict[str, Any] = {}


def _pool_init(catalog, queue, plugins=()) -> None:
    import numba

    from iadsim.plugins import load_in_worker

    numba.set_num_threads(1)
    load_in_worker(plugins)   # the user's sensor and effector types: each cell compiles its world
    _POOL["catalog"] = catalog
    _POOL["queue"] = queue


def _pool_cell(job: dict[str, Any]) -> tuple[str, Any]:
    cell: Cell = job["cell"]
    queue = _POOL["queue"]
    try:
        ld = scenario_from_dict(job["data"], source=job["source"], base_dir=job["base_dir"],
                                catalog=_POOL["catalog"])
        table = compute_cell(ld, cell, job["n"], job["chunk_size"], job["types"], job["meta"],
                             on_chunk=lambda c: queue.put((cell.index, c)))
    except InputError as exc:  # InputError does not survive pickling as it is
        return "input_error", exc.problems
    except IadsimError as exc:
        return "error", (type(exc).__name__, str(exc))
    return "ok", table


def _run_pool(plan: SweepPlan, pending: list[Cell], chunk_size: int, workers: int,
              chunk_done: Callable[[int], None], cell_done: Callable[[Cell, pa.Table], None]) -> None:
    from iadsim.montecarlo.isolation import isolated_spawn_context

    # workers start from a private empty folder, the caller's folder off their import path
    with isolated_spawn_context() as ctx:
        _run_pool_in(ctx, plan, pending, chunk_size, workers, chunk_done, cell_done)


def _run_pool_in(ctx: Any, plan: SweepPlan, pending: list[Cell], chunk_size: int, workers: int,
                 chunk_done: Callable[[int], None], cell_done: Callable[[Cell, pa.Table], None]) -> None:
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from queue import Empty

    queue = ctx.Queue()
    reported: dict[int, int] = {}
    finished: set[int] = set()

    def drain() -> None:
        while True:
            try:
                idx, count = queue.get_nowait()
            except Empty:
                return
            if idx not in finished:
                reported[idx] = reported.get(idx, 0) + count
                chunk_done(count)

    def job(cell: Cell) -> dict[str, Any]:
        return {"cell": cell, "data": plan.cell_data(cell), "source": plan.cell_source(cell),
                "base_dir": plan.loaded.base_dir, "n": plan.replications, "chunk_size": chunk_size,
                "types": plan.column_types, "meta": _meta(plan, cell)}

    todo = iter(pending)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_pool_init,
                               initargs=(plan.loaded.catalog, queue, getattr(plan.loaded, "plugins", [])))
    try:
        inflight: dict[Any, Cell] = {}
        while True:
            while len(inflight) < 2 * workers:
                cell = next(todo, None)
                if cell is None:
                    break
                inflight[pool.submit(_pool_cell, job(cell))] = cell
            if not inflight:
                break
            done, _ = wait(list(inflight), timeout=0.2, return_when=FIRST_COMPLETED)
            drain()
            for f in done:
                cell = inflight.pop(f)
                status, payload = f.result()
                if status == "input_error":
                    raise InputError(payload)
                if status == "error":
                    raise OutputError(f"sweep cell {cell.index}: {payload[1]}")
                finished.add(cell.index)
                rest = plan.replications - reported.pop(cell.index, 0)
                if rest:
                    chunk_done(rest)
                cell_done(cell, payload)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    else:
        pool.shutdown(wait=True)
    finally:
        queue.close()


# ---------------------------------------------------------------- Ray

def _run_ray(plan: SweepPlan, pending: list[Cell], chunk_size: int, chunk_done: Callable[[int], None],
             cell_done: Callable[[Cell, pa.Table], None]) -> None:
    """Cells on Ray; the session is open (run_sweep opened it)."""
    from iadsim.montecarlo import ray_backend

    def compile_cell(cell: Cell) -> tuple[World, int]:
        return compile_world(plan.cell_scenario(cell)), cell.seed

    def on_cell(cell: Cell, world: World, raw) -> None:
        cell_done(cell, _cell_table(world, cell, (plan.replications, plan.column_types, _meta(plan, cell)), raw))

    ray_backend.run_cells_ray(pending, compile_cell, plan.replications, chunk_size,
                              on_chunk=lambda cell, count: chunk_done(count), on_cell=on_cell)
