"""Safe loading of scenario files, with errors that name the file and field path.

Scenario files are untrusted input. Reading one is bounded in every dimension before any of
it is used: the file size (:data:`MAX_FILE_BYTES`), the number of YAML nodes
(:data:`MAX_NODES`), aliases (:data:`MAX_ALIASES`, against "billion laughs"), the size a
document has once every alias is expanded (:data:`MAX_EXPANDED_NODES`: one long route referenced
999 times is 999 routes to validate and simulate) and nesting levels (:data:`MAX_DEPTH`); only
plain data is constructed (no tags that build Python objects), and duplicate keys are refused
rather than silently dropped.

Plain scalars follow the YAML 1.2 core schema, not PyYAML's YAML 1.1 rules: ``017`` is 17 (not
octal 15), ``6:40`` is the text '6:40' (not sexagesimal 400), ``yes``/``no``/``on``/``off`` are
text (only ``true``/``false`` are booleans), ``2026-01-01`` is text (no timestamps), ``1e3`` is
the number 1000. Every failure is an
:class:`~iadsim.errors.InputError` naming the file and, where there is one, the field path.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.composer import Composer, ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, ScalarNode
from yaml.parser import Parser
from yaml.reader import Reader, ReaderError
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from iadsim.catalog import Catalog, load_catalog
from iadsim.errors import InputError, Problem, printable
from iadsim.scenario.models import Scenario

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ALIASES = 1000
#: nesting levels of mappings and lists (a scenario needs about 5)
MAX_DEPTH = 64
#: YAML nodes (scalars, lists, mappings) in one file; about 100 per threat with a long route
MAX_NODES = 250_000
#: YAML nodes once every alias is expanded (what validation and the engine will hold); also the
#: budget of values of a scenario given as a Python mapping (shared sub-objects counted each time)
MAX_EXPANDED_NODES = 1_000_000
#: problems listed in one InputError; the rest are counted
MAX_PROBLEMS = 50

# DEMs shipped inside the package, addressable as "bundled:NAME"
BUNDLED_PREFIX = "bundled:"

_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Refused(yaml.YAMLError):
    """A YAML document over one of the budgets (not a syntax error)."""

    def __init__(self, message: str, mark=None):
        super().__init__(message)
        self.message = message
        self.mark = mark


class _BudgetComposer(Composer):
    """PyYAML's composer with budgets on nodes, aliases and depth, and no duplicate keys.

    Composition builds the node graph without expanding aliases, so the budgets are enforced
    before any Python object exists."""

    def __init__(self) -> None:
        Composer.__init__(self)
        self._aliases = 0
        self._nodes = 0
        self._depth = 0
        self._duplicates: list[ComposerError] = []

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(AliasEvent):
            self._aliases += 1
            mark = self.peek_event().start_mark
            if self._aliases > MAX_ALIASES:
                raise _Refused(f"more than {MAX_ALIASES} YAML aliases (an alias bomb?)", mark)
            node = super().compose_node(parent, index)
            if not hasattr(node, "_expanded"):  # an alias inside the node it names
                raise _Refused("a YAML alias refers to a value that contains it (a recursive "
                               "structure)", mark)
            return node
        self._nodes += 1
        mark = self.peek_event().start_mark
        if self._nodes > MAX_NODES:
            raise _Refused(f"more than {MAX_NODES} YAML values; scenario files are limited to that", mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(f"nested more than {MAX_DEPTH} levels deep", mark)
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        # values behind this node with every alias expanded (aliased nodes counted each time)
        if isinstance(node, ScalarNode):
            size = 1
        elif isinstance(node, MappingNode):
            size = 1 + sum(k._expanded + v._expanded for k, v in node.value)
        else:
            size = 1 + sum(v._expanded for v in node.value)
        if size > MAX_EXPANDED_NODES:
            raise _Refused(f"this value holds more than {MAX_EXPANDED_NODES:,} YAML values once its "
                           "aliases are expanded (each alias of a long list counts as a copy)", mark)
        node._expanded = size
        return node

    def compose_mapping_node(self, anchor):  # type: ignore[override]
        node = super().compose_mapping_node(anchor)
        seen: dict[tuple[str, str], Any] = {}
        for key, _ in node.value:
            if not isinstance(key, ScalarNode) or key.tag == _MERGE_TAG:
                continue
            first = seen.setdefault((key.tag, key.value), key.start_mark)
            if first is not key.start_mark and len(self._duplicates) < 1:
                # reported after construction, so that a refused tag is named first
                self._duplicates.append(ComposerError(
                    "while reading a mapping", node.start_mark,
                    f"found the key {_short(key.value)} twice (first on line {first.line + 1}); "
                    "the first value would be lost", key.start_mark))
        return node


class _DataConstructor(SafeConstructor):
    """SafeConstructor (plain data only), with bad scalar values reported as YAML errors.

    PyYAML's own constructors raise ValueError, KeyError, ... for values such as
    ``2020-13-45`` or ``!!int abc``; those become a ConstructorError with the line."""

    def construct_object(self, node, deep=False):  # type: ignore[override]
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError) as exc:
            what = _short(node.value) if isinstance(node, ScalarNode) else "this value"
            tag = node.tag.rsplit(":", 1)[-1] if node.tag else "?"
            raise ConstructorError(None, None, f"cannot read {what} as {tag} ({_short(str(exc), 80)})",
                                   node.start_mark) from None

    def construct_yaml_int(self, node):  # type: ignore[override]
        """YAML 1.2 core integers: decimal (leading zeros allowed: 017 is 17), 0o octal, 0x hex."""
        value = self.construct_scalar(node)
        text = value.strip()
        if text[:2] in ("0o", "0O"):
            return int(text[2:], 8)
        if text[:2] in ("0x", "0X"):
            return int(text[2:], 16)
        return int(text, 10)

    def construct_yaml_float(self, node):  # type: ignore[override]
        """YAML 1.2 core floats: decimal and exponent forms, .inf, -.inf, .nan."""
        text = self.construct_scalar(node).strip()
        low = text.lower()
        if low in (".inf", "+.inf"):
            return float("inf")
        if low == "-.inf":
            return float("-inf")
        if low == ".nan":
            return float("nan")
        return float(text)


_DataConstructor.add_constructor("tag:yaml.org,2002:int", _DataConstructor.construct_yaml_int)
_DataConstructor.add_constructor("tag:yaml.org,2002:float", _DataConstructor.construct_yaml_float)


class Resolver(BaseResolver):
    """Implicit types of plain scalars by the YAML 1.2 core schema (yaml.org/spec/1.2.2, 10.3.2),
    plus the merge key ``<<``; everything else is a string."""


Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"))
Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
               r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))
Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
Resolver.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^<<$"), ["<"])


class _PyLoader(Reader, Scanner, Parser, _BudgetComposer, _DataConstructor, Resolver):
    """PyYAML's pure-Python scanner and parser, the composer with budgets (used without libyaml)."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        _BudgetComposer.__init__(self)
        _DataConstructor.__init__(self)
        Resolver.__init__(self)


_Loader: type = _PyLoader
if getattr(yaml, "__with_libyaml__", False):
    from yaml._yaml import CParser as _CParser

    class _CLoader(_BudgetComposer, _CParser, _DataConstructor, Resolver):  # type: ignore[misc]
        """libyaml's scanner and parser (fast), the Python composer with budgets."""

        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            _BudgetComposer.__init__(self)
            _DataConstructor.__init__(self)
            Resolver.__init__(self)

    _Loader = _CLoader


def _short(value: Any, limit: int = 60) -> str:
    """repr() of a value a user wrote, cut to ``limit`` characters (never fails)."""
    try:
        shown = repr(value)
    except ValueError:  # an int too long to print (sys.get_int_max_str_digits)
        shown = f"<an integer of about {int(value.bit_length() * 0.30103)} digits>"
    except Exception:  # noqa: BLE001 - a repr must never hide the real problem
        shown = f"<{type(value).__name__}>"
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


def _printable(text: str) -> str:
    """Text safe to print on any terminal: control characters (terminal escape sequences) and
    lone surrogates become backslash escapes."""
    return printable(text)


def format_loc(loc: tuple[Any, ...]) -> str:
    """('effectors', 2, 'site', 'lat') -> 'effectors[2].site.lat'.

    Keys that are not plain names (empty, with dots or spaces, not text) are quoted,
    ('', 1) -> '[""][1]', so that a path is never empty and never ambiguous."""
    out = ""
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        elif isinstance(part, str) and len(part) <= 64 and _PLAIN_KEY.match(part):
            out += ("." if out else "") + part
        elif isinstance(part, str):
            cut = part if len(part) <= 40 else part[:37] + "..."
            out += "[" + _printable(json.dumps(cut, ensure_ascii=False)) + "]"
        else:
            out += f"[{_short(part, 40)}]"
    return out


def _expected(err: dict[str, Any]) -> str:
    msg = err["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):  # pydantic's wrapping of our own messages
        msg = msg.removeprefix(prefix)
    if err["type"] == "extra_forbidden":
        return "unknown field (check the spelling; `iadsim schema` lists the fields)"
    if err["type"] == "missing":
        return "required field is missing"
    if "input" in err and not isinstance(err["input"], (dict, list)):
        return f"{msg} (got {_short(err['input'])})"
    return msg


def _yaml_message(exc: yaml.YAMLError) -> str:
    """A YAML error as one line with its line and column (not PyYAML's multi-line form)."""
    if isinstance(exc, _Refused):
        mark = exc.mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        return f"refused: {exc.message}{where}"
    if isinstance(exc, ReaderError):
        ch = exc.character
        code = ch if isinstance(ch, int) else (ord(ch) if isinstance(ch, str) and len(ch) == 1 else -1)
        return (f"not valid YAML: unacceptable character #x{code:04x} ({exc.reason}) "
                f"at position {exc.position}")
    if isinstance(exc, yaml.MarkedYAMLError):
        if exc.problem and "nesting depth" in exc.problem:  # libyaml's own limit (1000 levels)
            return f"refused: nested too deeply ({exc.problem})"
        parts = [p for p in (exc.context, exc.problem) if p]
        mark = exc.problem_mark or exc.context_mark
        text = "; ".join(parts) or type(exc).__name__
        if mark is not None:
            text += f" (line {mark.line + 1}, column {mark.column + 1})"
        return "not valid YAML: " + text
    return f"not valid YAML: {exc}"


def parse_yaml_text(text: str, source: str | Path = "<yaml>") -> Any:
    """Parse YAML text safely (node, alias and depth budgets; plain data only; no duplicate keys).

    Raises :class:`InputError` (field path "") for text that is not acceptable YAML."""
    loader = None
    try:
        loader = _Loader(text)  # (the pure-Python reader checks the characters here)
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
        if loader._duplicates:
            raise loader._duplicates[0]
        return data
    except yaml.YAMLError as exc:
        raise InputError.single(source, "", _yaml_message(exc)) from None
    except RecursionError:
        raise InputError.single(source, "", "refused: YAML nested too deeply") from None
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError) as exc:
        # belt and braces: the constructor converts these already
        raise InputError.single(source, "", f"not valid YAML: {_short(str(exc), 120)}") from None
    finally:
        if loader is not None:
            loader.dispose()


def read_yaml(path: Path) -> Any:
    """Read a YAML file safely: size limit (read no more than it), UTF-8, :func:`parse_yaml_text`."""
    return parse_yaml_text(*_read_text(path))


def _read_text(path: Path) -> tuple[str, str]:
    """(text, name for messages) of a YAML file: size limit (read no more than it), UTF-8."""
    path = Path(path)
    name = _printable(str(path))  # the file as named in messages (printable on any terminal)
    try:
        if not path.exists():
            raise InputError.single(name, "", "file not found")
        if not path.is_file():
            raise InputError.single(name, "", "not a file")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError.single(name, "", f"file is {size} bytes; scenario files are limited to "
                                    f"{MAX_FILE_BYTES} bytes")
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)  # never more, even if the file grows meanwhile
    except OSError as exc:
        raise InputError.single(name, "", f"cannot read: {_printable(str(exc.strerror or exc))}") from None
    except ValueError as exc:  # e.g. an embedded NUL in the path
        raise InputError.single(name, "", f"not a usable file path ({_printable(str(exc))})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise InputError.single(name, "", f"file is more than {MAX_FILE_BYTES} bytes; scenario files "
                                f"are limited to {MAX_FILE_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError.single(name, "", f"not UTF-8 text: {exc}") from None
    return text, name


def _loc(data: Any, err: dict[str, Any]) -> tuple[Any, ...]:
    """The error's location; for a key that is not valid text (a lone surrogate, which pydantic
    reports at the mapping holding it), the key itself is added."""
    loc = tuple(err["loc"])
    bad = err.get("input")
    if err["type"] == "string_unicode" and isinstance(bad, str):
        node = data
        try:
            for part in loc:
                node = node[part]
        except (KeyError, IndexError, TypeError):
            return loc
        if isinstance(node, dict) and bad in node:
            return loc + (bad,)
    return loc


def _check_value_count(data: Any, source: str, limit: int = MAX_EXPANDED_NODES) -> None:
    """Refuse data holding more than ``limit`` values, a shared sub-object counted every time it
    is referenced (what validation will build). Stops counting at the limit: O(limit) at most."""
    count = 0
    stack = [data]
    while stack:
        item = stack.pop()
        count += 1
        if count > limit:
            raise InputError.single(source, "", f"refused: the scenario holds more than {limit:,} "
                                    "values (a list referenced many times counts once per reference)")
        if isinstance(item, dict):
            if len(stack) + 2 * len(item) > limit:
                count = limit  # fails on the next value
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            if len(stack) + len(item) > limit:
                count = limit
            stack.extend(item)


def parse_scenario(data: Any, source: str = "<scenario>") -> Scenario:
    """Validate a mapping as a scenario; raise InputError listing every problem.

    Values are strict: a number is not taken from text ('4'), a boolean is not a number
    (``lat: true``), a float is not an integer (``replications: 4.0``)."""
    if not isinstance(data, dict):
        raise InputError.single(source, "", "expected a mapping (key: value) at the top level")
    _check_value_count(data, source)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        problems = [Problem(source, format_loc(_loc(data, e)), _expected(e)) for e in errors[:MAX_PROBLEMS]]
        if len(errors) > MAX_PROBLEMS:
            problems.append(Problem(source, format_loc(errors[MAX_PROBLEMS]["loc"]),
                                    f"... and {len(errors) - MAX_PROBLEMS} more problems "
                                    f"(the first {MAX_PROBLEMS} are listed)"))
        raise InputError(problems) from None
    except RecursionError:
        raise InputError.single(source, "", "nested too deeply") from None


def check_references(scn: Scenario, catalog: Catalog, source: str) -> None:
    """Check names that point elsewhere: catalog systems and asset targets."""
    problems: list[Problem] = []

    def need(system: str, kinds: tuple[str, ...], path: str) -> None:
        if system not in catalog:
            names = ", ".join(s.name for s in catalog.values() if s.kind in kinds)
            close = catalog.suggest(system, kinds) if hasattr(catalog, "suggest") else None
            hint = f" (did you mean {close!r}?)" if close else ""
            problems.append(Problem(source, path, f"unknown catalog system {_short(system)}{hint}; expected one of: {names}"))
        elif catalog[system].kind not in kinds:
            problems.append(
                Problem(source, path, f"{_short(system)} is a {catalog[system].kind}; expected a {' or '.join(kinds)}")
            )

    for i, e in enumerate(scn.effectors):
        need(e.system, ("effector",), f"effectors[{i}].system")
        if e.doctrine.mode == "salvo" and e.system in catalog and catalog[e.system].kind == "effector":
            from iadsim.catalog.envelope import is_gun
            from iadsim.effectors.base import nominal_magazine

            gun = is_gun(catalog[e.system])
            per_vehicle = nominal_magazine(catalog[e.system])   # shots per vehicle of its weapon type
            ready = e.missiles if e.missiles is not None else int(per_vehicle * e.vehicles)
            if e.doctrine.salvo_size > ready:
                what = "bursts (gun unit)" if gun else "missiles"
                problems.append(
                    Problem(source, f"effectors[{i}].doctrine.salvo_size",
                            f"salvo of {e.doctrine.salvo_size} is larger than the {ready} ready {what}")
                )
    units = {e.name: i for i, e in enumerate(scn.effectors)}
    for i, s in enumerate(scn.sensors):
        need(s.system, ("sensor", "effector"), f"sensors[{i}].system")
        if s.name in units:  # radars of both lists write coverage/<name>.* files and events by name
            problems.append(Problem(source, f"sensors[{i}].name",
                                    f"name {_short(s.name)} is also the name of effectors[{units[s.name]}]; "
                                    "sensors and effectors need different names"))
        if s.light == "night" and s.system in catalog and "eo_ir_detection_range_km" not in catalog[s.system].figures \
                and catalog[s.system].sensor_type == "eo":   # an optical sensor sees at night only through its IR channel
            problems.append(Problem(source, f"sensors[{i}].light",
                                    f"{_short(s.system)} has no infrared channel (eo_ir_detection_range_km); it "
                                    "cannot detect at night: use light: day or a sensor with an IR channel"))
    assets = {a.name for a in scn.assets}
    from iadsim.missions.sead import site_positions, site_range_problems, target_problem

    sites = site_positions(scn)
    for i, t in enumerate(scn.threats):
        need(t.type, ("threat",), f"threats[{i}].type")
        w = t.mission.weapon if t.mission is not None else None
        if w is not None:
            where = f"threats[{i}].mission.weapon"
            need(w.type, ("threat",), f"{where}.type")
            bad = target_problem(w.target, t.mission.kind, assets, sites)
            if bad is not None:
                problems.append(Problem(source, f"{where}.target", bad))
            if w.type in catalog and t.type in catalog:
                wsys, carrier = catalog[w.type], catalog[t.type]
                if "weapon_range_km" not in wsys.figures:
                    problems.append(Problem(source, f"{where}.type", f"{wsys.name} is not a weapon a threat releases "
                                                                     "(it has no weapon_range_km figure)"))
                carried = {c.weapon: c.count for c in carrier.carries}
                if wsys.name not in carried:
                    have = ", ".join(carried) or "nothing"
                    problems.append(Problem(source, f"{where}.type", f"{carrier.name} does not carry {wsys.name}; "
                                                                     f"the catalog says it carries {have}"))
                rel = t.mission.release
                tgt_asset = next((a for a in scn.assets if a.name == w.target), None)
                if tgt_asset is None and w.target in sites and "weapon_range_km" in wsys.figures:
                    problems.extend(site_range_problems(i, t, wsys, sites[w.target], source))
                if rel is not None and tgt_asset is not None and "weapon_range_km" in wsys.figures:
                    from pyproj import Geod

                    _, _, d_m = Geod(ellps="WGS84").inv(rel.lon, rel.lat, tgt_asset.lon, tgt_asset.lat)
                    reach = wsys.figures["weapon_range_km"].value
                    if d_m > reach * 1000.0:
                        problems.append(Problem(source, f"threats[{i}].mission.release",
                                                f"the target {w.target!r} is {d_m / 1000:.1f} km from the release "
                                                f"point, beyond the {reach:g} km range of {wsys.name}"))
                passive = {x.name: x.system for x in scn.sensors if x.system in catalog
                           and (catalog[x.system].sensor_type or "radar") != "radar"}
                if w.target in passive and "arm_terminal_phase_s" in wsys.figures:   # (iadsim.sensors)
                    problems.append(Problem(source, f"{where}.target",
                                            f"{wsys.name} homes on radar emissions; {w.target!r} is a "
                                            f"{catalog[passive[w.target]].sensor_type} sensor that emits nothing"))
                if wsys.name in carried and w.count > carried[wsys.name]:
                    problems.append(Problem(source, f"{where}.count", f"{carrier.name} carries at most "
                                                                      f"{carried[wsys.name]} {wsys.name}, not {w.count}"))
        problems.extend(_ew_problems(i, t, scn, catalog, source, need))
        if t.target is not None and t.target not in assets and t.target not in sites:
            import difflib

            close = difflib.get_close_matches(t.target, sorted(assets) + sorted(sites), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(
                Problem(source, f"threats[{i}].target",
                        f"unknown asset or site {_short(t.target)}{hint}; expected one of: "
                        f"{', '.join(sorted(assets) + sorted(sites)) or '(no assets defined)'}")
            )
    from iadsim.scenario.defstate import defstate_problems

    problems += defstate_problems(scn, source)   # emission-control cues and C2 links name real units
    if scn.options:
        from iadsim.montecarlo.sweep import resolve_path

        dump = scn.model_dump(mode="json", exclude_none=True)
        for i, opt in enumerate(scn.options):
            for path in opt.set:
                try:
                    resolve_path(dump, path)
                except ValueError as exc:
                    problems.append(Problem(source, f"options[{i}].set[{path!r}]", str(exc)))
    if problems:
        raise InputError(problems)


def _ew_problems(i: int, t, scn: Scenario, catalog: Catalog, source: str, need) -> list[Problem]:
    """A threat's jammer (a catalog jammer, aimed at radars that exist and have jamming figures) and
    decoy (a radar signature) checked against the scenario and catalog."""
    out: list[Problem] = []
    if t.jammer is not None:
        need(t.jammer.system, ("jammer",), f"threats[{i}].jammer.system")
        if t.jammer.targets != "all":
            radars = {e.name: e.system for e in scn.effectors} | {r.name: r.system for r in scn.sensors}
            for j, name in enumerate(t.jammer.targets):
                where = f"threats[{i}].jammer.targets[{j}]"
                if name not in radars:
                    import difflib

                    close = difflib.get_close_matches(name, sorted(radars), n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    out.append(Problem(source, where, f"unknown radar {_short(name)}{hint}; expected the name of a "
                                       f"fire unit or sensor: {', '.join(sorted(radars)) or '(no radars defined)'}"))
                elif radars[name] in catalog and "radar_peak_power_kw" not in catalog[radars[name]].figures:
                    out.append(Problem(source, where, f"radar {_short(name)} ({catalog[radars[name]].name}) has no "
                                       "jamming figures (radar_peak_power_kw, ...) in the catalog, so it cannot be "
                                       "jammed; aim the jammer at other radars or add the figures"))
    if t.decoy is not None and t.decoy.rcs_m2 is None and t.type in catalog:
        sysm = catalog[t.type]
        if sysm.kind == "threat" and not sysm.figures.get("rcs_m2"):
            out.append(Problem(source, f"threats[{i}].decoy.rcs_m2", f"a decoy needs a radar signature: "
                               f"{sysm.name} has no rcs_m2 figure; give decoy.rcs_m2 [m2]"))
    return out


def _without_disabled(scn: Scenario) -> Scenario:
    """The scenario without the fire units and radars marked ``enabled: false``."""
    if all(e.enabled for e in scn.effectors) and all(r.enabled for r in scn.sensors):
        return scn
    return scn.model_copy(update={"effectors": [e for e in scn.effectors if e.enabled],
                                  "sensors": [r for r in scn.sensors if r.enabled]})


def resolve_dem(scn: Scenario, base_dir: Path | None, source: str) -> Path:
    """The DEM path: 'bundled:NAME' from the package, else relative to the scenario file; for
    several tiles (a list, a glob, a folder), the mosaic iadsim built of them
    (:mod:`iadsim.geo.mosaic`)."""
    return resolve_dem_tiles(scn, base_dir, source)[0]


def resolve_dem_tiles(scn: Scenario, base_dir: Path | None, source: str) -> tuple[Path, list[dict]]:
    """The DEM path (as :func:`resolve_dem`) and, for a mosaic, every tile's path and sha256
    (``[]`` for a single DEM file)."""
    from iadsim.geo.mosaic import build_mosaic, is_mosaic_spec

    dem = scn.terrain.dem
    if not is_mosaic_spec(dem, base_dir):
        folder = _dem_folder(dem, base_dir)
        if folder is None:
            return _resolve_single_dem(scn, base_dir, source), []
    mosaic = build_mosaic(dem, base_dir, source, extent=scenario_extent_lonlat(scn))
    return mosaic.path, mosaic.records()


def scenario_extent_lonlat(scn: Scenario) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) [deg]: the scenario's sites, routes and orbits plus
    ``terrain.margin_km`` (about the analysis grid, which adds at most a cell)."""
    from types import SimpleNamespace

    import numpy as np

    from iadsim.coverage.specs import _collect_points

    pts = _collect_points(SimpleNamespace(scenario=scn))
    if not pts:
        return None
    lats = np.array([p[1] for p in pts], dtype=float)
    lons = np.array([p[2] for p in pts], dtype=float)
    pad_km = scn.terrain.margin_km + scn.terrain.resolution_m / 1000.0
    for t in scn.threats:
        if t.orbit is not None:
            pad_km = max(pad_km, scn.terrain.margin_km + t.orbit.radius_km)
        st = t.mission.station if t.mission is not None else None
        if st is not None:
            pad_km = max(pad_km, scn.terrain.margin_km + 2 * st.radius_km + st.length_km / 2)
    dlat = pad_km / 111.0
    coslat = max(np.cos(np.radians(min(max(abs(lats.min()), abs(lats.max())) + dlat, 89.0))), 1e-3)
    dlon = pad_km / (111.0 * coslat)
    return (float(lons.min() - dlon), float(lats.min() - dlat), float(lons.max() + dlon),
            float(lats.max() + dlat))


def _dem_folder(dem: str, base_dir: Path | None) -> Path | None:
    """``dem`` as a folder of tiles, or None when it is not a folder."""
    if dem.startswith(BUNDLED_PREFIX) or dem.lower().startswith("/vsi") or "://" in dem:
        return None
    try:
        path = Path(dem).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        return path if path.is_dir() else None
    except (OSError, RuntimeError, ValueError):
        return None


def _resolve_single_dem(scn: Scenario, base_dir: Path | None, source: str) -> Path:
    from iadsim.geo.terrain import bundled_dem_path

    from iadsim.geo.terrain import check_dem_file

    dem = scn.terrain.dem
    where = (source, "terrain.dem")
    try:
        if dem.startswith(BUNDLED_PREFIX):
            path = bundled_dem_path(dem[len(BUNDLED_PREFIX):])
            if path is None:
                raise InputError.single(*where, f"no bundled DEM named {_short(dem[len(BUNDLED_PREFIX):])} "
                                        "(expected a file name in iadsim's data folder, e.g. "
                                        "bundled:S33W071.tif)")
            return path
        if dem.lower().startswith("/vsi") or "://" in dem:
            raise InputError.single(*where, f"{_printable(dem)}: a DEM must be a local file; GDAL "
                                    "virtual file systems (/vsi...) and URLs are not read")
        path = Path(dem).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
    except (OSError, RuntimeError, ValueError) as exc:
        raise InputError.single(*where, f"not a usable file path ({_printable(str(exc))})") from None
    return check_dem_file(path, where)


class LoadedScenario:
    """A validated scenario with where it came from (for relative paths and messages).

    ``source`` is a label for messages (a file name, or any text a Python caller passed);
    ``source_path`` is the scenario file that was actually read, or None when the scenario came
    from a mapping (:func:`scenario_from_dict`): copy ``source_path``, never ``source``."""

    def __init__(self, scenario: Scenario, source: str, base_dir: Path | None, catalog: Catalog,
                 dem_path: Path, text: str | None = None, source_path: Path | None = None):
        self.scenario = scenario
        self.source = source
        self.base_dir = base_dir
        self.catalog = catalog
        self.dem_path = dem_path
        #: the file's text exactly as read and validated (None when built from a dict); a run
        #: copies this, not the file, which may have changed since
        self.text = text
        #: the file actually read (None when built from a mapping): a run copies this, never ``source``
        self.source_path = source_path
        #: the tiles of a mosaic DEM (``terrain.dem`` a list, glob or folder), each
        #: ``{"path", "sha256"}``; ``[]`` when the DEM is one file
        self.dem_tiles: list[dict] = []
        #: the user plugins loaded for it (iadsim.plugins.Plugin), in order
        self.plugins: list = []
        self.validated_sha256 = self.content_sha256()

    def content_sha256(self) -> str:
        """sha256 of the validated scenario's content; differs from ``validated_sha256`` when the
        model was changed after loading (and so was never validated)."""
        import hashlib

        return hashlib.sha256(self.scenario.model_dump_json().encode("utf-8")).hexdigest()

    def __repr__(self) -> str:
        return f"LoadedScenario({self.scenario.name!r}, source={self.source!r})"


def load_scenario(path: str | Path, catalog: Catalog | None = None,
                  overrides: dict[str, dict[str, Any]] | None = None, *, plugins=(), allow_plugins: bool = False,
                  catalog_folders=()) -> LoadedScenario:
    """Load, validate and cross-check a scenario file.

    ``overrides``: catalog figures to override, as from :func:`iadsim.scenario.overrides.parse_set`
    (``--set SYSTEM.FIGURE=VALUE``); they win over the file's own ``catalog:`` section.
    ``plugins``: Python files to run first (``--plugin``; :mod:`iadsim.plugins`); the scenario's own
    ``plugins:`` are run only if ``allow_plugins`` (or already loaded), else they are an input error.
    ``catalog_folders``: folders of extra catalog entries (``--catalog``), read with the scenario's own
    ``catalog_folders:`` over ``catalog`` (default: the bundled catalog).
    Raises :class:`iadsim.errors.InputError` naming the file and field path of every problem.
    """
    from iadsim.plugins import prepare

    path = Path(path)
    text, name = _read_text(path)
    data = parse_yaml_text(text, name)
    used, catalog = prepare(data, name, path.resolve().parent, catalog, plugins, allow_plugins, catalog_folders)
    ld = scenario_from_dict(data, source=name, base_dir=path.resolve().parent, catalog=catalog, overrides=overrides)
    ld.text = text
    ld.source_path = path.resolve()
    ld.plugins = used
    return ld


def _raw_reference_problems(data: Any, catalog: Catalog, source: str) -> list[Problem]:
    """Unknown catalog systems and assets in a scenario mapping that failed schema validation, so
    that one pass reports every problem (best effort: only where the raw values are names)."""
    if not isinstance(data, dict):
        return []
    out: list[Problem] = []

    def items(key):
        v = data.get(key)
        return [(i, it) for i, it in enumerate(v) if isinstance(it, dict)] if isinstance(v, list) else []

    def need(name: Any, kinds: tuple[str, ...], path: str) -> None:
        if not isinstance(name, str):
            return
        if name not in catalog:
            close = catalog.suggest(name, kinds) if hasattr(catalog, "suggest") else None
            hint = f" (did you mean {close!r}?)" if close else ""
            out.append(Problem(source, path, f"unknown catalog system {_short(name)}{hint}; "
                                             "`iadsim catalog list` lists them"))
        elif catalog[name].kind not in kinds:
            out.append(Problem(source, path, f"{_short(name)} is a {catalog[name].kind}; expected a {' or '.join(kinds)}"))

    for i, e in items("effectors"):
        need(e.get("system"), ("effector",), f"effectors[{i}].system")
    for i, r in items("sensors"):
        need(r.get("system"), ("sensor", "effector"), f"sensors[{i}].system")
    assets = [a.get("name") for _, a in items("assets")]
    radars = {x.get("name") for _, x in items("effectors")} | {x.get("name") for _, x in items("sensors")}
    for i, t in items("threats"):
        need(t.get("type"), ("threat",), f"threats[{i}].type")
        jam = t.get("jammer")
        if isinstance(jam, dict):
            need(jam.get("system"), ("jammer",), f"threats[{i}].jammer.system")
            if isinstance(jam.get("targets"), list):
                for j, name in enumerate(jam["targets"]):
                    if isinstance(name, str) and name not in radars:
                        out.append(Problem(source, f"threats[{i}].jammer.targets[{j}]", f"unknown radar {_short(name)}; "
                                           "expected the name of a fire unit or sensor"))
        tgt = t.get("target")
        if isinstance(tgt, str) and tgt not in assets and tgt not in radars:
            import difflib

            close = difflib.get_close_matches(tgt, [a for a in assets if isinstance(a, str)], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            out.append(Problem(source, f"threats[{i}].target", f"unknown asset {_short(tgt)}{hint}"))
    return out


def _not_unicode(scn: Scenario, source: str, limit: int = 20) -> list[Problem]:
    """Text the validated scenario holds that is not valid Unicode (a lone surrogate, which a
    mapping given to the Python API can carry): no file could hold it and the scenario cannot be
    hashed. Only walked when serialising fails, iteratively (the validated model is bounded)."""
    try:
        scn.model_dump_json()
        return []
    except Exception:  # noqa: BLE001 - pydantic's serialisation error or UnicodeEncodeError
        pass

    def bad(text: Any) -> bool:
        if not isinstance(text, str):
            return False
        try:
            text.encode("utf-8")
            return False
        except UnicodeEncodeError:
            return True

    out: list[Problem] = []
    stack: list[tuple[tuple[Any, ...], Any]] = [((), scn.model_dump())]
    while stack and len(out) < limit:
        loc, v = stack.pop()
        if bad(v):
            out.append(Problem(source, format_loc(loc), "text that is not valid Unicode (a lone surrogate "
                               f"code point): {_printable(_short(v, 40))}"))
        elif isinstance(v, dict):
            stack.extend((loc + (k,), x) for k, x in reversed(list(v.items())))
        elif isinstance(v, (list, tuple)):
            stack.extend((loc + (i,), x) for i, x in reversed(list(enumerate(v))))
    return out or [Problem(source, "", "the scenario holds text that is not valid Unicode")]


def scenario_from_dict(data: Any, source: str = "<scenario>", base_dir: Path | None = None,
                       catalog: Catalog | None = None,
                       overrides: dict[str, dict[str, Any]] | None = None) -> LoadedScenario:
    """Validate a scenario given as a mapping. ``source`` only labels messages: the result's
    ``source_path`` is None (no file was read)."""
    from iadsim.scenario.overrides import apply_overrides, merge

    source = _printable(str(source))
    data = merge(data, overrides)
    try:
        scn = parse_scenario(data, source)
    except InputError as exc:
        # one pass: the schema's problems and the names that point nowhere, together
        if len(exc.problems) < MAX_PROBLEMS:
            try:
                extra = _raw_reference_problems(data, catalog if catalog is not None else load_catalog(), source)
            except Exception:  # noqa: BLE001 - best effort; the schema's problems stand alone
                extra = []
            seen = {(p.path, p.message) for p in exc.problems}
            assets_bad = any(q.path.startswith("assets") for q in exc.problems)
            extra = [p for p in extra if (p.path, p.message) not in seen
                     and not any(q.path == p.path for q in exc.problems)
                     and not (assets_bad and p.path.endswith(".target"))]
            if extra:
                raise InputError(exc.problems + extra) from None
        raise
    bad_text = _not_unicode(scn, source)
    if bad_text:
        raise InputError(bad_text)
    catalog = catalog if catalog is not None else load_catalog()
    if scn.catalog:
        section = {k: {f: (v.model_dump(exclude_none=True) if hasattr(v, "model_dump") else v)
                       for f, v in figs.items()}
                   for k, figs in scn.catalog.items()}
        catalog = apply_overrides(catalog, section, source)
    check_references(scn, catalog, source)
    all_units = ([e.model_dump(mode="json", exclude_none=True) for e in scn.effectors],
                 [r.model_dump(mode="json", exclude_none=True) for r in scn.sensors])
    scn = _without_disabled(scn)
    dem_path, dem_tiles = resolve_dem_tiles(scn, base_dir, source)
    ld = LoadedScenario(scn, source, base_dir, catalog, dem_path)
    ld.dem_tiles = dem_tiles
    ld.all_units = all_units
    return ld


def json_schema() -> str:
    from iadsim.missions.registry import add_to_schema

    schema = add_to_schema(Scenario.model_json_schema())   # the registered mission kinds and their fields
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "iadsim scenario"
    return json.dumps(schema, indent=2)
