"""User plugins: Python files that register sensor or effector types (or any other registry) before a
scenario is loaded, and folders of extra catalog entries.

A plugin is an ordinary Python file (``acoustic.py`` in docs/sensors.md, ``laser_effector.py`` in
docs/effectors.md). Loading it **runs it**, with the user's permissions, exactly as ``import`` would:
iadsim loads only the files the user names (``--plugin PATH`` on the command line, or
``load_plugin(path)`` in Python), and a scenario's own ``plugins:`` list only when the user asks for it
(``--allow-plugins``, ``load_scenario(..., allow_plugins=True)``): a scenario received from someone
else never runs code by being validated or run.

Each file is run once per process as module ``iadsim_plugin_<stem>`` (loading the same file again is a
no-op; a file whose content changed since is run again). Every problem (a missing file, not a ``.py``
file, a syntax error, an exception while it runs) is an :class:`iadsim.errors.InputError` naming the
file and what went wrong.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from iadsim.errors import InputError, Problem, printable

#: what a run's report says about plugins (iadsim.engine.world's assumption texts)
MODEL_TEXT = ("user plugins: the run used code from outside iadsim ({files}); its models are the plugins' "
              "own, described by their own texts where they register one; iadsim checked neither their "
              "physics nor their figures")

#: the largest plugin file read [bytes]
MAX_PLUGIN_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Plugin:
    """A loaded plugin: its file, the sha256 of its content, its module name and what it registered
    (``"sensor type 'acoustic'"``, ``"effector type 'laser'"``)."""

    path: Path
    sha256: str
    module: str
    registered: tuple[str, ...] = field(default_factory=tuple)


#: the plugins loaded in this process, by resolved path
LOADED: dict[Path, Plugin] = {}


def _registries() -> dict[str, set]:
    from iadsim.effectors import REGISTRY
    from iadsim.missions.registry import MISSIONS
    from iadsim.sensors import SENSOR_TYPES

    return {"sensor type": {(k, id(v.__class__)) for k, v in SENSOR_TYPES.items()},
            "effector type": {(k, id(v)) for k, v in REGISTRY.items()},
            "mission kind": {(k, id(v.__class__)) for k, v in MISSIONS.items()}}


def _module_name(path: Path) -> str:
    stem = re.sub(r"\W", "_", path.stem) or "plugin"
    return f"iadsim_plugin_{stem}"


def load_plugin(path: str | Path, source: str = "command line", field_path: str = "--plugin") -> Plugin:
    """Run the Python file ``path`` (once per process and content) and return what it registered.

    ``source`` and ``field_path`` say where the path was named (the command line's ``--plugin``, or a
    scenario file's ``plugins[0]``); every problem is an InputError naming the plugin file."""
    name = printable(str(path))
    where = f"{field_path} {name}" if source == "command line" else field_path
    try:
        p = Path(path).expanduser()
        if not p.exists():
            raise InputError.single(source, where, f"plugin file not found: {name}")
        if not p.is_file():
            raise InputError.single(source, where, f"plugin {name} is not a file (expected a Python file, *.py)")
        if p.suffix != ".py":
            raise InputError.single(source, where, f"plugin {name} is not a Python file (expected a name ending "
                                                   "in .py)")
        resolved = p.resolve()
        with resolved.open("rb") as fh:
            raw = fh.read(MAX_PLUGIN_BYTES + 1)
    except OSError as exc:
        raise InputError.single(source, where, f"cannot read plugin {name}: "
                                               f"{printable(exc.strerror or exc)}") from None
    except ValueError as exc:   # an embedded NUL in the path
        raise InputError.single(source, where, f"not a usable file path ({printable(exc)})") from None
    if len(raw) > MAX_PLUGIN_BYTES:
        raise InputError.single(source, where, f"plugin {name} is more than {MAX_PLUGIN_BYTES} bytes")
    digest = hashlib.sha256(raw).hexdigest()
    done = LOADED.get(resolved)
    if done is not None and done.sha256 == digest:
        return done
    try:
        code = compile(raw, str(resolved), "exec")
    except SyntaxError as exc:
        raise InputError(Problem(name, f"line {exc.lineno}" if exc.lineno else "",
                                 f"plugin is not valid Python: {printable(exc.msg)} (named by {source}: "
                                 f"{where})")) from None
    except ValueError as exc:   # NUL bytes in the source
        raise InputError.single(name, "", f"plugin is not valid Python: {printable(exc)}") from None
    modname = _module_name(resolved)
    spec = importlib.util.spec_from_file_location(modname, resolved)
    module = importlib.util.module_from_spec(spec)
    before = _registries()
    old = sys.modules.get(modname)
    sys.modules[modname] = module   # as import does: the module can refer to itself while it runs
    try:
        exec(code, module.__dict__)   # noqa: S102 - a plugin the user named: running it is the point
    except (Exception, SystemExit) as exc:   # noqa: BLE001 - any failure of user code is an input problem
        if old is not None:
            sys.modules[modname] = old
        else:
            sys.modules.pop(modname, None)
        line = _plugin_line(exc, str(resolved))
        raise InputError(Problem(name, f"line {line}" if line else "",
                                 f"plugin raised {type(exc).__name__} while it was loaded: "
                                 f"{printable(exc) or '(no message)'} (named by {source}: {where})")) from None
    after = _registries()
    registered = tuple(f"{kind} {key!r}" for kind in after for key, _ in sorted(after[kind] - before[kind]))
    plugin = Plugin(resolved, digest, modname, registered)
    LOADED[resolved] = plugin
    return plugin


def _plugin_line(exc: BaseException, filename: str) -> int | None:
    """The last line of the plugin file in the exception's traceback (None if it is not there)."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == filename:
            line = frame.lineno
    return line


def load_plugins(paths, source: str = "command line", field_path: str = "--plugin") -> list[Plugin]:
    """:func:`load_plugin` of each path, in order."""
    return [load_plugin(p, source, field_path) for p in paths or ()]


def check_catalog_folders(folders, source: str = "command line", field_path: str = "--catalog") -> list[Path]:
    """Folders of extra catalog entries (``*.yaml``), checked: each must be an existing folder."""
    out = []
    for i, f in enumerate(folders or ()):
        name = printable(str(f))
        where = f"{field_path} {name}" if source == "command line" else f"{field_path}[{i}]"
        try:
            p = Path(f).expanduser()
            ok, isdir = p.exists(), p.is_dir()
        except (OSError, ValueError) as exc:
            raise InputError.single(source, where, f"not a usable folder path ({printable(exc)})") from None
        if not ok:
            raise InputError.single(source, where, f"catalog folder not found: {name}")
        if not isdir:
            raise InputError.single(source, where, f"{name} is not a folder (expected a folder of catalog "
                                                   "entries, *.yaml)")
        out.append(p)
    return out


def plugins_model_text(plugins) -> str | None:
    """The report's line on the plugins a run used (None: none)."""
    plugins = list(plugins or ())
    if not plugins:
        return None
    files = ", ".join(f"{p.path.name} sha256 {p.sha256[:12]}" for p in plugins)
    return MODEL_TEXT.format(files=files)


def _str_list(data, key: str) -> list[str]:
    """The scenario mapping's list of strings ``key`` ([] when absent or not a list of strings: the
    schema then reports it)."""
    v = data.get(key) if isinstance(data, dict) else None
    return [x for x in v if isinstance(x, str)] if isinstance(v, list) else []


def _relative(base_dir: Path | None, name: str) -> Path:
    p = Path(name).expanduser()
    return p if p.is_absolute() or base_dir is None else base_dir / p


def not_allowed_message(name: str) -> str:
    return (f"names Python code ({name}), which iadsim runs only when asked: read the file, then pass "
            "--allow-plugins to run the scenario's plugins, or --plugin FILE (Python: "
            "load_scenario(..., allow_plugins=True))")


def prepare(data, source: str, base_dir: Path | None, catalog=None, plugins=(), allow_plugins: bool = False,
            catalog_folders=()):
    """Before a scenario mapping is validated: load the plugins named on the command line
    (``plugins``), then the scenario's own ``plugins:`` (relative to ``base_dir``) if
    ``allow_plugins`` (or if each was already loaded, e.g. named with ``--plugin``), and read the
    extra catalog folders (``catalog_folders`` from the command line, then the scenario's
    ``catalog_folders:``) over ``catalog`` (default: the bundled catalog).

    Returns (the plugins loaded, in order; the catalog to validate against, or ``catalog`` unchanged
    when no folder is named)."""
    out = load_plugins(plugins)
    problems = []
    for i, name in enumerate(_str_list(data, "plugins")):
        where = f"plugins[{i}]"
        path = _relative(base_dir, name)
        if allow_plugins:
            out.append(load_plugin(path, source, where))
            continue
        try:
            done = LOADED.get(path.resolve())
            same = done is not None and hashlib.sha256(path.read_bytes()).hexdigest() == done.sha256
        except (OSError, ValueError):
            same = False
        if same:
            out.append(done)
        else:
            problems.append(Problem(source, where, not_allowed_message(printable(name))))
    if problems:
        raise InputError(problems)
    folders = check_catalog_folders(catalog_folders)
    folders += check_catalog_folders([_relative(base_dir, f) for f in _str_list(data, "catalog_folders")],
                                     source, "catalog_folders")
    if folders:
        catalog = with_folders(catalog, folders)
    unique = {p.path: p for p in out}
    return list(unique.values()), catalog


def with_folders(catalog, folders):
    """``catalog`` (default: the bundled one) with the entries of ``folders`` read over it."""
    from iadsim.catalog import Catalog, attach_calibrated, calibrated_file, load_catalog, load_system_file

    if catalog is None:
        return load_catalog(*folders)
    systems = {name: catalog[name] for name in catalog}
    extra = {}
    for folder in folders:
        for path in sorted(Path(folder).glob("*.yaml")):
            s = load_system_file(path)
            extra[s.name] = s
    attach_calibrated(extra, calibrated_file())
    return Catalog({**systems, **extra})


def run_plugins(info: dict, source) -> list[Plugin]:
    """The plugins a run folder's run.json records (``inputs.plugins``), each loaded in this process
    with the same content; otherwise an InputError saying which file to name with ``--plugin``."""
    recorded = (info.get("inputs") or {}).get("plugins") or [] if isinstance(info, dict) else []
    by_sha = {p.sha256: p for p in LOADED.values()}
    out, problems = [], []
    for i, r in enumerate(recorded if isinstance(recorded, list) else []):
        if not isinstance(r, dict):
            continue
        p = by_sha.get(r.get("sha256"))
        if p is not None:
            out.append(p)
            continue
        name = printable(str(r.get("path")))
        loaded = [q for q in LOADED.values() if str(q.path) == r.get("path")]
        why = (f"{name} is loaded, but its content changed since the run (sha256 {loaded[0].sha256[:12]}, "
               f"the run's {str(r.get('sha256'))[:12]})" if loaded else
               f"the run used plugin {name} (sha256 {str(r.get('sha256'))[:12]}); name it with --plugin "
               f"{name} (Python: iadsim.plugins.load_plugin) to rebuild from this run")
        problems.append(Problem(str(source), f"inputs.plugins[{i}]", why))
    if problems:
        raise InputError(problems)
    return out


def load_in_worker(plugins) -> None:
    """In a worker process: load the plugins the parent loaded (iadsim.plugins.Plugin or paths)."""
    for p in plugins or ():
        got = load_plugin(getattr(p, "path", p), "worker process", "plugins")
        want = getattr(p, "sha256", None)
        if want is not None and got.sha256 != want:   # the file changed after the parent loaded it
            raise InputError.single(printable(str(got.path)), "", f"plugin changed while the run was going "
                                    f"(sha256 {want[:12]} when loaded, {got.sha256[:12]} in a worker)")
