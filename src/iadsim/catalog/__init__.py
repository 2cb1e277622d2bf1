"""System profiles (sensors, effectors, threats) built from public figures.

Each profile is a YAML file in ``catalog/data``; every figure carries its source,
confidence and range of disagreement (see :mod:`iadsim.catalog.models`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from iadsim.catalog.envelope import FLYOUT_FIGURES, envelope_problems
from iadsim.catalog.models import (
    CLUTTER_GROUP, COST_FIGURE_KIND, COST_FIGURES, FIRE_CONTROL_FIGURES, GUN_FIGURES, JAMMING_RADAR_FIGURES, THREAT_DECOY_FIGURES, GUN_OPTIONAL_FIGURES, THREAT_GUN_FIGURES, OPTIONAL_RADAR_FIGURES, OPTIONAL_SENSOR_FIGURES, REQUIRED_FIGURES, THREAT_SENSOR_FIGURES, Calibrated, Claim, Figure, System, figure_domain_problem,
)
from iadsim.errors import InputError, Problem

__all__ = ["Catalog", "Calibrated", "Claim", "Figure", "System", "load_catalog", "REQUIRED_FIGURES"]


def _format_loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class Catalog(Mapping[str, System]):
    """The systems known to a run, by name (``pantsir_s1``) or alias."""

    def __init__(self, systems: dict[str, System]):
        self._systems = dict(sorted(systems.items()))
        self._alias = {}
        for s in self._systems.values():
            for a in [s.name, s.display_name, *s.aliases]:
                self._alias[a.lower()] = s.name
        # a designation quoted with its reporting name ("SA-22 Greyhound") also answers to the
        # designation alone ("SA-22"), when no other system claims it
        short: dict[str, set[str]] = {}
        for s in self._systems.values():
            for a in s.aliases:
                head = a.split()[0]
                if head != a and any(ch.isdigit() for ch in head):
                    short.setdefault(head.lower(), set()).add(s.name)
        for head, owners in short.items():
            if len(owners) == 1 and head not in self._alias:
                self._alias[head] = next(iter(owners))

    def suggest(self, name: str, kinds: tuple[str, ...] | None = None) -> str | None:
        """The closest name or alias to a misspelt ``name`` (for "did you mean"), or None."""
        import difflib

        pool = {a: n for a, n in self._alias.items() if kinds is None or self._systems[n].kind in kinds}
        close = difflib.get_close_matches(name.lower(), list(pool), n=1, cutoff=0.6)
        return pool[close[0]] if close else None

    def __getitem__(self, name: str) -> System:
        key = self._alias.get(name.lower(), name)
        return self._systems[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._systems)

    def __len__(self) -> int:
        return len(self._systems)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._alias

    def of_kind(self, kind: str) -> list[System]:
        return [s for s in self._systems.values() if s.kind == kind]


#: validated catalog files by (path, modification time, size): every scenario load reads the whole
#: bundled catalog, and parsing its YAML costs far more than the rest of a load
_FILE_CACHE: dict[tuple[str, int, int], System] = {}
#: libyaml's safe loader where PyYAML has it (the same documents, ~10x faster to parse)
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_system_file(path: Path) -> System:
    """Load and validate one catalog file; errors name the file and field path. A file unchanged
    since it was last read (same modification time and size) is not parsed again: the caller gets
    its own copy of the validated entry."""
    path = Path(path)
    try:
        st = path.stat()
        key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    except OSError:
        key = None
    if key is not None and key in _FILE_CACHE:
        return _FILE_CACHE[key].model_copy(deep=True)
    system = _read_system_file(path)
    if key is not None:
        _FILE_CACHE[key] = system.model_copy(deep=True)
    return system


def _read_system_file(path: Path) -> System:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise InputError.single(path, "", f"not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InputError.single(path, "", "expected a mapping at the top level")
    try:
        system = System.model_validate(data)
    except ValidationError as exc:
        raise InputError(
            [Problem(str(path), _format_loc(e["loc"]), e["msg"]) for e in exc.errors()]
        ) from None
    problems = []
    for key, fig in system.figures.items():
        why = figure_domain_problem(key, fig)
        if why:
            problems.append(Problem(str(path), f"figures.{key}", why))
    for key, (_field, unit) in FLYOUT_FIGURES.items():
        if key in system.figures and system.figures[key].unit != unit:
            problems.append(
                Problem(str(path), f"figures.{key}.unit", f"expected {unit!r}, got {system.figures[key].unit!r}")
            )
    required = REQUIRED_FIGURES[system.kind]
    if system.sensor_type is not None:   # a sensor's figures follow its type (iadsim.sensors)
        required, why = sensor_type_figures(system)
        if why:
            problems.append(Problem(str(path), "sensor_type", why))
    for key, unit in required.items():
        if key not in system.figures:
            problems.append(Problem(str(path), f"figures.{key}", f"missing; a {system.kind} needs it [{unit}]"))
        elif system.figures[key].unit != unit:
            problems.append(
                Problem(str(path), f"figures.{key}.unit", f"expected {unit!r}, got {system.figures[key].unit!r}")
            )
    for key, unit in COST_FIGURES.items():
        if key in system.figures and system.figures[key].unit != unit:
            problems.append(Problem(str(path), f"figures.{key}.unit",
                                    f"expected {unit!r}, got {system.figures[key].unit!r}"))
        if key in system.figures and system.kind != COST_FIGURE_KIND[key]:
            problems.append(Problem(str(path), f"figures.{key}",
                                    f"a cost figure of a {COST_FIGURE_KIND[key]}, not of {'an' if system.kind[0] in 'aeiou' else 'a'} "
                                    f"{system.kind}"))
    if system.kind in ("effector", "sensor"):
        for key, unit in {**OPTIONAL_RADAR_FIGURES, **GUN_FIGURES, **GUN_OPTIONAL_FIGURES,
                          **JAMMING_RADAR_FIGURES, **FIRE_CONTROL_FIGURES}.items():
            if key in system.figures and system.figures[key].unit != unit:
                problems.append(Problem(str(path), f"figures.{key}.unit",
                                        f"expected {unit!r}, got {system.figures[key].unit!r}"))
        if "radar_wavelength_m" in system.figures:
            for key in CLUTTER_GROUP:
                if key not in system.figures:
                    problems.append(Problem(str(path), f"figures.{key}",
                                            f"missing; a radar with radar_wavelength_m needs it "
                                            f"[{OPTIONAL_RADAR_FIGURES[key]}] (clutter, MTI and multipath model)"))
        jam = [k for k in JAMMING_RADAR_FIGURES if k in system.figures]
        if jam:
            for key in (*JAMMING_RADAR_FIGURES, "radar_azimuth_beamwidth_deg"):
                if key not in system.figures:
                    problems.append(Problem(str(path), f"figures.{key}",
                                            f"missing; a radar with jamming figures ({jam[0]}) needs it "
                                            f"[{JAMMING_RADAR_FIGURES.get(key, 'deg')}] (noise jamming model)"))
    for key, unit in {**OPTIONAL_SENSOR_FIGURES, **THREAT_SENSOR_FIGURES}.items():
        if key in system.figures and system.figures[key].unit != unit:
            problems.append(Problem(str(path), f"figures.{key}.unit",
                                    f"expected {unit!r}, got {system.figures[key].unit!r}"))
    link = ("esm_sensitivity_dbm", "esm_antenna_gain_dbi", "esm_frequency_ghz")
    if any(k in system.figures for k in link):   # an ESM's link budget: all three or none
        for key in link:
            if key not in system.figures:
                problems.append(Problem(str(path), f"figures.{key}",
                                        f"missing; an ESM with a sensitivity figure needs all of {', '.join(link)} "
                                        f"[{OPTIONAL_SENSOR_FIGURES[key]}]"))
    if system.kind == "threat":
        for key, unit in THREAT_DECOY_FIGURES.items():
            if key in system.figures and system.figures[key].unit != unit:
                problems.append(Problem(str(path), f"figures.{key}.unit",
                                        f"expected {unit!r}, got {system.figures[key].unit!r}"))
        for key, unit in THREAT_GUN_FIGURES.items():
            if key in system.figures and system.figures[key].unit != unit:
                problems.append(Problem(str(path), f"figures.{key}.unit",
                                        f"expected {unit!r}, got {system.figures[key].unit!r}"))
    if not problems:
        # contradictions between envelope figures (min range above max range, an altitude the
        # flyout cannot reach)
        problems += [Problem(str(path), where, f"catalog entry {system.name!r}: {msg}")
                     for where, msg in envelope_problems(system)]
    if problems:
        raise InputError(problems)
    return system


def sensor_type_figures(system: System) -> tuple[dict[str, str], str | None]:
    """The figures a sensor's type needs, and why its ``sensor_type`` is wrong (None: it is right)."""
    import iadsim.sensors  # noqa: F401  (registers the bundled sensor types)
    from iadsim.catalog.models import SENSOR_TYPE_FIGURES

    if system.kind != "sensor":
        return REQUIRED_FIGURES[system.kind], f"only a sensor has a sensor_type; this is {system.kind!r}"
    if system.sensor_type not in SENSOR_TYPE_FIGURES:
        return {}, (f"unknown sensor type {system.sensor_type!r}; expected one of "
                    + ", ".join(repr(k) for k in SENSOR_TYPE_FIGURES)
                    + " (a type of your own is registered by its module: iadsim run --plugin FILE.py)")
    return SENSOR_TYPE_FIGURES[system.sensor_type], None


def builtin_dir() -> Path:
    return Path(str(resources.files("iadsim.catalog") / "data"))


def calibrated_file() -> Path:
    """The calibrated ranges shipped with iadsim (``catalog/calibrated.yaml``)."""
    return Path(str(resources.files("iadsim.catalog") / "calibrated.yaml"))


def attach_calibrated(systems: dict[str, System], path: Path) -> None:
    """Attach the calibrated ranges of ``path`` to the figures they belong to (in place)."""
    if not path.is_file():
        return
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise InputError.single(path, "", f"not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("systems") or {}, dict):
        raise InputError.single(path, "systems", "expected a mapping of system -> figure -> calibrated range")
    problems = []
    for sysname, figs in (data.get("systems") or {}).items():
        if sysname not in systems:
            problems.append(Problem(str(path), f"systems.{sysname}", "no such system in the catalog"))
            continue
        for key, entry in (figs or {}).items():
            where = f"systems.{sysname}.{key}"
            fig = systems[sysname].figures.get(key)
            if fig is None:
                problems.append(Problem(str(path), where, f"{sysname!r} has no figure {key!r}"))
                continue
            try:
                cal = Calibrated.model_validate(entry)
            except ValidationError as exc:
                problems.extend(Problem(str(path), f"{where}.{_format_loc(e['loc'])}".rstrip("."), e["msg"])
                                for e in exc.errors())
                continue
            why = figure_domain_problem(key, Figure(value=cal.value, low=cal.low, high=cal.high, unit=fig.unit,
                                                    source="calibrated", confidence="estimate"))
            if why:
                problems.append(Problem(str(path), where, why))
                continue
            fig.calibrated = cal
    if problems:
        raise InputError(problems)


def load_catalog(*extra_dirs: str | Path, calibrated: str | Path | None = None) -> Catalog:
    """Load the bundled catalog, then any extra folders of ``*.yaml`` entries (which override);
    the calibrated ranges (``calibrated``, default the bundled ``calibrated.yaml``) are attached
    to their figures."""
    systems: dict[str, System] = {}
    for folder in (builtin_dir(), *map(Path, extra_dirs)):
        for path in sorted(Path(folder).glob("*.yaml")):
            s = load_system_file(path)
            systems[s.name] = s
    attach_calibrated(systems, Path(calibrated) if calibrated is not None else calibrated_file())
    return Catalog(systems)
