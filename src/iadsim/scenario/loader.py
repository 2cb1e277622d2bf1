"""Safe loading of scenario files, with errors that name the file and field path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from iadsim.catalog import Catalog, load_catalog
from iadsim.errors import InputError, Problem
from iadsim.scenario.models import Scenario

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ALIASES = 1000

# DEMs shipped inside the package, addressable as "bundled:NAME"
BUNDLED_PREFIX = "bundled:"


class _SafeLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader (no object construction) with an alias budget against alias bombs."""

    def __init__(self, stream):
        super().__init__(stream)
        self._aliases = 0

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise yaml.YAMLError(f"more than {MAX_ALIASES} YAML aliases (alias bomb?)")
        return super().compose_node(parent, index)


def format_loc(loc: tuple[Any, ...]) -> str:
    """('effectors', 2, 'site', 'lat') -> 'effectors[2].site.lat'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _expected(err: dict[str, Any]) -> str:
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        return "unknown field (check the spelling; `iadsim schema` lists the fields)"
    if err["type"] == "missing":
        return "required field is missing"
    if "input" in err and not isinstance(err["input"], (dict, list)):
        shown = repr(err["input"])
        if len(shown) > 60:
            shown = shown[:57] + "..."
        return f"{msg} (got {shown})"
    return msg


def read_yaml(path: Path) -> Any:
    """Read a YAML file safely: size limit, no object tags, alias budget."""
    try:
        if not path.exists():
            raise InputError.single(path, "", "file not found")
        if not path.is_file():
            raise InputError.single(path, "", "not a file")
        size = path.stat().st_size
    except OSError as exc:
        raise InputError.single(path, "", f"cannot read: {exc.strerror or exc}") from None
    if size > MAX_FILE_BYTES:
        raise InputError.single(path, "", f"file is {size} bytes; scenario files are limited to {MAX_FILE_BYTES}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError.single(path, "", f"not UTF-8 text: {exc}") from None
    except OSError as exc:
        raise InputError.single(path, "", f"cannot read: {exc.strerror or exc}") from None
    try:
        return yaml.load(text, Loader=_SafeLoader)  # noqa: S506 - _SafeLoader derives from SafeLoader
    except yaml.YAMLError as exc:
        raise InputError.single(path, "", f"not valid YAML: {exc}") from None
    except RecursionError:
        raise InputError.single(path, "", "YAML nested too deeply") from None


def parse_scenario(data: Any, source: str = "<scenario>") -> Scenario:
    """Validate a mapping as a scenario; raise InputError listing every problem."""
    if not isinstance(data, dict):
        raise InputError.single(source, "", "expected a mapping (key: value) at the top level")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise InputError(
            [Problem(source, format_loc(e["loc"]), _expected(e)) for e in exc.errors()]
        ) from None
    except RecursionError:
        raise InputError.single(source, "", "nested too deeply") from None


def check_references(scn: Scenario, catalog: Catalog, source: str) -> None:
    """Check names that point elsewhere: catalog systems and asset targets."""
    problems: list[Problem] = []

    def need(system: str, kinds: tuple[str, ...], path: str) -> None:
        if system not in catalog:
            names = ", ".join(s.name for s in catalog.values() if s.kind in kinds)
            problems.append(Problem(source, path, f"unknown catalog system {system!r}; expected one of: {names}"))
        elif catalog[system].kind not in kinds:
            problems.append(
                Problem(source, path, f"{system!r} is a {catalog[system].kind}; expected a {' or '.join(kinds)}")
            )

    for i, e in enumerate(scn.effectors):
        need(e.system, ("effector",), f"effectors[{i}].system")
        if e.doctrine.mode == "salvo" and e.system in catalog and catalog[e.system].kind == "effector":
            ready = e.missiles if e.missiles is not None else int(
                catalog[e.system].nominal("ready_missiles_per_vehicle") * e.vehicles
            )
            if e.doctrine.salvo_size > ready:
                problems.append(
                    Problem(source, f"effectors[{i}].doctrine.salvo_size",
                            f"salvo of {e.doctrine.salvo_size} is larger than the {ready} ready missiles")
                )
    for i, s in enumerate(scn.sensors):
        need(s.system, ("sensor", "effector"), f"sensors[{i}].system")
    assets = {a.name for a in scn.assets}
    for i, t in enumerate(scn.threats):
        need(t.type, ("threat",), f"threats[{i}].type")
        if t.target is not None and t.target not in assets:
            problems.append(
                Problem(source, f"threats[{i}].target",
                        f"unknown asset {t.target!r}; expected one of: {', '.join(sorted(assets)) or '(no assets defined)'}")
            )
    if problems:
        raise InputError(problems)


def resolve_dem(scn: Scenario, base_dir: Path | None, source: str) -> Path:
    """The DEM path: 'bundled:NAME' from the package, else relative to the scenario file."""
    from iadsim.geo.terrain import bundled_dem_path

    dem = scn.terrain.dem
    try:
        if dem.startswith(BUNDLED_PREFIX):
            path = bundled_dem_path(dem[len(BUNDLED_PREFIX):])
            if path is None:
                raise InputError.single(source, "terrain.dem",
                                        f"no bundled DEM named {dem[len(BUNDLED_PREFIX):]!r}")
            return path
        path = Path(dem).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if not path.exists():
            raise InputError.single(source, "terrain.dem", f"DEM file not found: {path}")
        if not path.is_file():
            raise InputError.single(source, "terrain.dem", f"DEM is not a file: {path}")
    except (OSError, RuntimeError, ValueError) as exc:
        raise InputError.single(source, "terrain.dem", f"not a usable file path ({exc})") from None
    return path


class LoadedScenario:
    """A validated scenario with where it came from (for relative paths and messages)."""

    def __init__(self, scenario: Scenario, source: str, base_dir: Path | None, catalog: Catalog,
                 dem_path: Path):
        self.scenario = scenario
        self.source = source
        self.base_dir = base_dir
        self.catalog = catalog
        self.dem_path = dem_path

    def __repr__(self) -> str:
        return f"LoadedScenario({self.scenario.name!r}, source={self.source!r})"


def load_scenario(path: str | Path, catalog: Catalog | None = None) -> LoadedScenario:
    """Load, validate and cross-check a scenario file.

    Raises :class:`iadsim.errors.InputError` naming the file and field path of every problem.
    """
    path = Path(path)
    data = read_yaml(path)
    return scenario_from_dict(data, source=str(path), base_dir=path.resolve().parent, catalog=catalog)


def scenario_from_dict(data: Any, source: str = "<scenario>", base_dir: Path | None = None,
                       catalog: Catalog | None = None) -> LoadedScenario:
    scn = parse_scenario(data, source)
    catalog = catalog if catalog is not None else load_catalog()
    check_references(scn, catalog, source)
    dem_path = resolve_dem(scn, base_dir, source)
    return LoadedScenario(scn, source, base_dir, catalog, dem_path)


def json_schema() -> str:
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "iadsim scenario"
    return json.dumps(schema, indent=2)
