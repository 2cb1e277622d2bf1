"""Read a run's output folder back into :class:`iadsim.results.Results` (for ``iadsim report DIR``
and ``iadsim export DIR``).

A run folder (written by :func:`iadsim.export.bundle.write_outputs`) holds ``scenario.yaml`` (a
copy of the scenario), ``catalog.yaml`` (the catalog entries used), ``replications.parquet``,
``expenditure.parquet``, ``timeline.csv``, ``summary.json`` and ``run.json`` (where the scenario
and its DEM were; runs written before run.json existed are read from the copy's header).

The World is compiled again from the scenario copy (compilation is deterministic) and the
per-replication tables are turned back into the engine's raw outcome arrays, so every table,
statistic and chart is computed by the same code as for a fresh run. The timeline of another
replication than the recorded one is obtained by re-running that replication alone: each
replication draws only from its own random stream, so the result is the same as in the original
run; it is checked against the stored table.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from iadsim.errors import InputError, OutputError, Problem

__all__ = ["RUN_FILES", "RunFolderError", "RunMismatchWarning", "check_inputs", "input_files", "load_run",
           "read_run_info", "read_summary"]

#: files a run folder must have to be rebuilt
RUN_FILES = ("run.json", "scenario.yaml", "replications.parquet", "expenditure.parquet", "summary.json")
#: run.json format versions this iadsim reads
RUN_FORMAT_VERSIONS = (1,)
#: columns of the stored tables that a rebuild reads
REPLICATION_COLUMNS = ("replication", "threat", "detected_at_s", "tracked_at_s", "first_engaged_at_s", "shots",
                       "killed", "kill_time_s", "killed_by", "leak_time_s")
EXPENDITURE_COLUMNS = ("replication", "effector", "missiles")
_HEADER = re.compile(r"^# scenario used by this run \(from (.*)\)\s*$")
#: the largest JSON file of a run folder read back (run.json and summary.json are a few kB to MB)
MAX_JSON_BYTES = 64 * 1024 * 1024
#: the largest timeline.csv read back (the events of one replication: kB to a few MB)
MAX_TIMELINE_BYTES = 512 * 1024 * 1024


class RunMismatchWarning(UserWarning):
    """The recompiled World or a re-run replication does not match the stored tables."""


class RunFolderError(InputError, OutputError):
    """A run folder that cannot be rebuilt (missing, damaged, foreign or changed files); each
    problem names the file. Exit code 2."""


def _bad(file: str | Path, message: str, path: str = "") -> RunFolderError:
    return RunFolderError(Problem(str(file), path, message))


def _read_json(p: Path, what: str) -> dict[str, Any]:
    """A JSON object from a run folder, or RunFolderError naming the file and what is wrong."""
    try:
        if not p.is_file():
            raise _bad(p, f"missing or not a file (every run folder has {p.name})")
        if p.stat().st_size > MAX_JSON_BYTES:
            raise _bad(p, f"larger than {MAX_JSON_BYTES} bytes: not a {what} written by iadsim")
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise _bad(p, f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise _bad(p, f"not UTF-8 text: not a {what} written by iadsim") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise _bad(p, f"not valid JSON ({exc}); the file is truncated or damaged: run again to "
                      "write it anew") from None
    if not isinstance(data, dict):
        raise _bad(p, f"not a {what} (expected a JSON object, found {type(data).__name__})")
    return data


def read_summary(folder: str | Path) -> dict[str, Any]:
    """summary.json of a run folder, checked: replications, seed and timeline_replication."""
    p = Path(folder) / "summary.json"
    data = _read_json(p, "run summary")
    for key, lo in (("replications", 1), ("seed", 0), ("timeline_replication", 0)):
        v = data.get(key)
        if not isinstance(v, int) or isinstance(v, bool) or v < lo:
            raise _bad(p, f"expected an integer >= {lo}, found {v!r}: not a summary written by iadsim",
                       path=key)
    if data["timeline_replication"] >= data["replications"]:
        raise _bad(p, "larger than the number of replications", path="timeline_replication")
    return data


def read_run_info(folder: str | Path) -> dict[str, Any]:
    """``run.json`` of a run folder, checked (format and version); RunFolderError otherwise.
    A folder without run.json gives what the scenario copy's header tells."""
    folder = Path(folder)
    p = folder / "run.json"
    if p.exists():
        info = _read_json(p, "run description")
        if info.get("format") != "iadsim-run":
            raise _bad(p, f"expected 'iadsim-run', found {info.get('format')!r}: not an iadsim run folder",
                       path="format")
        if info.get("format_version") not in RUN_FORMAT_VERSIONS:
            raise _bad(p, f"version {info.get('format_version')!r}; this iadsim reads version(s) "
                          f"{', '.join(map(str, RUN_FORMAT_VERSIONS))} (written by another iadsim version?)",
                       path="format_version")
        return info
    info: dict[str, Any] = {}
    s = folder / "scenario.yaml"
    if s.is_file():
        first = s.read_text(encoding="utf-8").splitlines()[:1]
        m = _HEADER.match(first[0]) if first else None
        if m:
            info["scenario_source"] = m.group(1)
    return info


def _catalog(folder: Path):
    """The bundled catalog with the run's own entries (catalog.yaml) put back over it."""
    from iadsim.catalog import Catalog, System, load_catalog

    cat = load_catalog()
    p = folder / "catalog.yaml"
    if not p.is_file():
        return cat
    try:
        entries = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        systems = {n: cat[n] for n in cat}
        for name, entry in entries.items():
            # the copy is written without null fields: a claim without a number has no `value`
            for fig in (entry.get("figures") or {}).values():
                for claim in fig.get("claims") or []:
                    claim.setdefault("value", None)
            systems[name] = System.model_validate(entry)
        return Catalog(systems)
    except Exception as exc:  # noqa: BLE001 - an unreadable copy falls back to the bundled catalog
        warnings.warn(f"{p}: not usable ({exc}); using the bundled catalog", RunMismatchWarning,
                      stacklevel=3)
        return cat


def _scenario(folder: Path, info: dict[str, Any]):
    """Load the scenario copy, pointing its DEM at the file the run used."""
    from iadsim.scenario.loader import BUNDLED_PREFIX, read_yaml, scenario_from_dict

    src = folder / "scenario.yaml"
    data = read_yaml(src)
    if not isinstance(data, dict):
        raise InputError.single(src, "", "not a scenario (expected a mapping)")
    raw_dem = (data.get("terrain") or {}).get("dem", "")
    tiles = ((info.get("inputs") or {}).get("dem") or {}).get("tiles") or []
    if tiles and isinstance(tiles, list):  # a mosaic: rebuilt from the tiles the run recorded
        paths = [t.get("path") if isinstance(t, dict) else None for t in tiles]
        missing = [str(p) for p in paths if not isinstance(p, str) or not Path(p).is_file()]
        if missing:
            raise InputError.single(
                src, "terrain.dem",
                f"{len(missing)} of the run's {len(paths)} DEM tiles were not found ({', '.join(missing[:5])}"
                f"{', ...' if len(missing) > 5 else ''}); restore them, or edit terrain.dem in the copy")
        data.setdefault("terrain", {})["dem"] = paths
        raw_dem = ""
    elif isinstance(raw_dem, list) and len(raw_dem) == 1:  # a list of one tile is that tile
        raw_dem = raw_dem[0]
    dem = str(raw_dem)
    orig = info.get("scenario_source")
    base_dir = folder
    if dem and not dem.startswith(BUNDLED_PREFIX) and not Path(dem).expanduser().is_absolute():
        candidates = []
        if info.get("dem_path"):
            candidates.append(Path(info["dem_path"]))
        if orig:
            candidates.append(Path(orig).expanduser().parent / dem)
        candidates.append(folder / dem)
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise InputError.single(
                src, "terrain.dem",
                f"the run's DEM {dem!r} was not found (looked at: {', '.join(map(str, candidates))}); "
                f"put it beside {src} or edit terrain.dem in the copy")
        data.setdefault("terrain", {})["dem"] = str(found.resolve())
    from iadsim.plugins import run_plugins

    used = run_plugins(info, folder / "run.json")   # the user plugins the run ran, loaded again
    ld = scenario_from_dict(data, source=str(src), base_dir=base_dir, catalog=_catalog(folder))
    ld.plugins = used
    check_dem(ld.dem_path, info, getattr(ld, "dem_tiles", None))
    return ld


def _sha(p: Path) -> str:
    from iadsim.results.io import sha256_file

    try:
        return sha256_file(p)
    except OSError as exc:
        raise _bad(p, f"cannot read: {exc.strerror or exc}") from None


def check_dem(dem: Path, info: dict[str, Any], tiles: list[dict] | None = None) -> None:
    """RunFolderError if the DEM differs from the one the run used (its sha256 in run.json); for
    a mosaic, naming the first tile (of ``tiles``, the ones read now) whose sha256 differs."""
    rec = (info.get("inputs") or {}).get("dem") or {}
    want = rec.get("sha256")
    if want is None:
        return
    for old, new in zip(rec.get("tiles") or [], tiles or []):
        if isinstance(old, dict) and old.get("sha256") != new.get("sha256"):
            raise _bad(new.get("path"), f"this DEM tile differs from the one the run used (sha256 "
                       f"{str(old.get('sha256'))[:16]}... in run.json, {str(new.get('sha256'))[:16]}... now): "
                       "the run cannot be rebuilt on other terrain; restore the tile, or run the "
                       "scenario again", path="terrain.dem")
    have = _sha(Path(dem))
    if have != want:
        raise _bad(dem, f"the DEM differs from the one the run used (sha256 {want[:16]}... in run.json, "
                        f"{have[:16]}... now): the run cannot be rebuilt on other terrain; restore the "
                        "file, or run the scenario again", path="terrain.dem")


def check_inputs(folder: str | Path, info: dict[str, Any]) -> None:
    """RunFolderError naming the first copy in the run folder (scenario.yaml, catalog.yaml) whose
    content differs from what the run wrote (sha256 in run.json)."""
    folder = Path(folder)
    inputs = info.get("inputs")
    if not isinstance(inputs, dict):
        warnings.warn(f"{folder / 'run.json'} records no input hashes (written by an older iadsim): "
                      "changes to the copies or the DEM since the run cannot be detected",
                      RunMismatchWarning, stacklevel=3)
        return
    for name, want in sorted((inputs.get("copies") or {}).items()):
        p = folder / name
        if not isinstance(want, str) or "/" in name or name.startswith("."):
            raise _bad(folder / "run.json", f"unexpected entry {name!r}", path="inputs.copies")
        if not p.is_file():
            raise _bad(p, "missing: the run wrote it and rebuilding needs it")
        have = _sha(p)
        if have != want:
            raise _bad(p, f"changed since the run wrote it (sha256 {want[:16]}... in run.json, "
                          f"{have[:16]}... now); reports are rebuilt from this copy: restore it, or run "
                          "the scenario again")


def input_files(folder: str | Path, info: dict[str, Any] | None = None) -> list[Path]:
    """The files a rebuild of this run folder reads (an output must never replace one)."""
    folder = Path(folder)
    files = [folder / n for n in (*RUN_FILES, "catalog.yaml", "timeline.csv")]
    dem = ((info or {}).get("inputs") or {}).get("dem") or {}
    for p in (dem.get("path"), (info or {}).get("dem_path"),
              *(t.get("path") for t in (dem.get("tiles") or []) if isinstance(t, dict))):
        if isinstance(p, str):
            files.append(Path(p))
    return files


def _steps(t: pd.Series | np.ndarray, dt: float) -> np.ndarray:
    v = np.asarray(t, dtype=float)
    return np.where(np.isfinite(v), np.rint(np.nan_to_num(v) / dt), -1).astype(np.int64)


def _raw_from_tables(world, reps: pd.DataFrame, exp: pd.DataFrame, events):
    from iadsim.engine import ChunkResult

    labels = list(world.threat_labels)
    units = list(world.effector_labels)
    n = int(reps["replication"].max()) + 1 if len(reps) else 0
    got = list(dict.fromkeys(reps["threat"].astype(str)))
    react = getattr(world, "react", None)
    rows_of = [lab for j, lab in enumerate(labels) if react is None or react.root[j] < 0]   # one row per sortie
    if sorted(got) != sorted(rows_of):
        raise InputError.single("replications.parquet", "threat",
                                f"threats {got} do not match the scenario's {rows_of}: the scenario "
                                "copy or the catalog no longer describes this run")
    idx = {t: i for i, t in enumerate(labels)}
    r = reps["replication"].to_numpy(dtype=np.int64)
    m = reps["threat"].astype(str).map(idx).to_numpy(dtype=np.int64)
    M = len(labels)

    def grid(values, fill=-1) -> np.ndarray:
        out = np.full((n, M), fill, dtype=np.int64)
        out[r, m] = values
        return out

    dt = world.dt
    uidx = {u: i for i, u in enumerate(units)}
    killer = reps["killed_by"].map(lambda u: uidx.get(u, -1) if isinstance(u, str) else -1)
    E = len(units)
    expended = np.zeros((n, E), dtype=np.int64)
    if E:
        eu = exp["effector"].astype(str).map(uidx)
        if eu.isna().any():
            raise InputError.single("expenditure.parquet", "effector",
                                    f"fire units {sorted(set(exp['effector']) - set(units))} are not "
                                    "in the scenario copy")
        expended[exp["replication"].to_numpy(dtype=np.int64), eu.to_numpy(dtype=np.int64)] = \
            exp["missiles"].to_numpy(dtype=np.int64)
    kill = _steps(reps["kill_time_s"], dt)
    # figures drawn per replication (uncertainty "sample"): columns figure.<system>.<key>
    draws = {}
    first_rows = reps.drop_duplicates("replication").sort_values("replication")
    for col in reps.columns:
        if col.startswith("figure."):
            system, _, key = col[len("figure."):].partition(".")
            draws[(system, key)] = first_rows[col].to_numpy()
    kill_step = grid(np.where(reps["killed"].to_numpy(dtype=bool), kill, -1))
    killer_step = grid(killer.to_numpy(dtype=np.int64))
    leak_step = grid(_steps(reps["leak_time_s"], dt))
    react_step = react_to = None
    if react is not None and "reacted_to" in reps:
        # reacting sorties (iadsim.engine.react): the outcome after the switch is the branch's
        react_step = grid(_steps(reps["reacted_at_s"], dt))
        react_to = grid(reps["reacted_to"].map(lambda u: idx.get(u, -1) if isinstance(u, str) else -1)
                        .to_numpy(dtype=np.int64))
        rr, mm = np.nonzero(react_to >= 0)
        bb = react_to[rr, mm]
        for a in (kill_step, killer_step, leak_step):
            a[rr, bb] = a[rr, mm]
            a[rr, mm] = -1
    return ChunkResult(
        first=0, count=n,
        det_step=grid(_steps(reps["detected_at_s"], dt)),
        firm_step=grid(_steps(reps["tracked_at_s"], dt)),
        eng_step=grid(_steps(reps["first_engaged_at_s"], dt)),
        shots=grid(reps["shots"].to_numpy(dtype=np.int64), 0),
        kill_step=kill_step,
        killer=killer_step,
        leak_step=leak_step,
        expended=expended, events=events, draws=draws or None,
        ident_step=grid(_steps(reps["identified_at_s"], dt)) if "identified_at_s" in reps else None,
        react_step=react_step, react_to=react_to)


def _events_from_csv(world, path: Path) -> np.ndarray:
    from iadsim.engine import EVENT_DTYPE, EVENT_NAMES

    ev = pd.read_csv(path)
    out = np.zeros(len(ev), EVENT_DTYPE)
    if not len(ev):
        return out
    kinds = {k: i for i, k in enumerate(EVENT_NAMES)}
    sens = {s: i for i, s in enumerate(world.sensor_labels)}
    effs = {s: i for i, s in enumerate(world.effector_labels)}
    thr = {s: i for i, s in enumerate(world.threat_labels)}
    out["step"] = np.rint(ev["time_s"].to_numpy(dtype=float) / world.dt).astype(np.int64)
    out["type"] = ev["event"].map(kinds).fillna(-1).to_numpy(dtype=np.int64)
    out["threat"] = ev["threat"].map(thr).fillna(0).to_numpy(dtype=np.int64)
    out["n"] = ev["missiles"].fillna(0).to_numpy(dtype=np.int64)
    unit = []
    for kind, u in zip(ev["event"], ev["unit"]):
        if not isinstance(u, str):
            unit.append(-1)
        else:
            unit.append(sens.get(u, -1) if kind in ("detect", "radiate", "silent", "fail", "repair", "site_hit")
                        else effs.get(u, -1))
    out["unit"] = unit
    return out[out["type"] >= 0]


def _read_table(p: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    import pyarrow as pa

    try:
        df = pd.read_parquet(p)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise _bad(p, f"cannot be read as Parquet ({str(exc).splitlines()[0][:200]}); the file is "
                      "truncated or damaged: run the scenario again") from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise _bad(p, f"lacks the column(s) {', '.join(missing)}: not a table written by this iadsim")
    return df


def load_run(folder: str | Path, replication: int | None = None):
    """A :class:`~iadsim.results.Results` of the run written to ``folder``.

    ``replication``: whose timeline to show (default: the one the run recorded); another one is
    re-simulated alone, deterministically. A folder that is missing, damaged, foreign or changed
    since the run (scenario or catalog copy, DEM) raises :class:`RunFolderError` (exit code 2)
    naming the file.
    """
    from iadsim.engine import compile_world, simulate_chunk
    from iadsim.results import Results

    folder = Path(folder)
    if not folder.exists():
        raise _bad(folder, "not a folder: it does not exist (expected the output folder of `iadsim run`)")
    if not folder.is_dir():
        raise _bad(folder, "not a folder but a file (expected the output folder of `iadsim run`)")
    missing = [f for f in RUN_FILES if not (folder / f).is_file()]
    if missing:
        empty = not any(True for _ in folder.iterdir())
        raise _bad(folder, ("empty: " if empty else "not a complete run folder: ")
                   + f"missing {', '.join(missing)} (expected the output folder of `iadsim run`)")
    info = read_run_info(folder)
    summary = read_summary(folder)
    check_inputs(folder, info)
    reps = _read_table(folder / "replications.parquet", REPLICATION_COLUMNS)
    exp = _read_table(folder / "expenditure.parquet", EXPENDITURE_COLUMNS)
    n = summary["replications"]
    stored = sorted(set(reps["replication"].tolist())) if len(reps) else []
    if stored != list(range(n)):
        raise _bad(folder / "replications.parquet", f"holds {len(stored)} replications, summary.json says "
                   f"{n}: the files are from different runs, or damaged", path="replication")
    ld = _scenario(folder, info)
    world = compile_world(ld)
    seed = summary["seed"]
    recorded = summary["timeline_replication"]
    rep = recorded if replication is None else replication
    if not 0 <= rep < n:
        raise InputError.single("command line", "--replication", f"must be in 0..{n - 1}, got {rep}")

    if rep == recorded and (folder / "timeline.csv").is_file():
        if (folder / "timeline.csv").stat().st_size > MAX_TIMELINE_BYTES:
            raise _bad(folder / "timeline.csv", f"larger than {MAX_TIMELINE_BYTES} bytes: not the timeline of "
                       "one replication written by iadsim")
        try:
            events = _events_from_csv(world, folder / "timeline.csv")
        except (ValueError, KeyError, OSError, pd.errors.ParserError) as exc:
            raise _bad(folder / "timeline.csv", f"cannot be read ({type(exc).__name__}: {str(exc)[:160]}); "
                       "damaged or not written by iadsim") from None
    else:
        one = simulate_chunk(world, seed, rep, 1, record_rep=rep)
        events = one.events
    try:
        raw = _raw_from_tables(world, reps, exp, events)
    except (ValueError, TypeError, IndexError) as exc:
        raise _bad(folder / "replications.parquet", f"values this iadsim cannot use ({type(exc).__name__}: "
                   f"{str(exc)[:160]}): damaged, or not written by this iadsim") from None
    if rep != recorded or not (folder / "timeline.csv").is_file():
        # the re-run replication must reproduce the stored outcomes
        same = all(np.array_equal(getattr(one, k)[0], getattr(raw, k)[rep])
                   for k in ("det_step", "kill_step", "leak_step", "shots", "killer"))
        if not same:
            warnings.warn(f"replication {rep} re-run does not reproduce the stored outcomes: the "
                          "scenario, catalog, DEM or iadsim version differ from the run's",
                          RunMismatchWarning, stacklevel=2)
    return Results(world=world, seed=seed, n=n, raw=raw,
                   version=str(summary.get("iadsim_version", info.get("iadsim_version", "?"))),
                   timeline_replication=rep, saved_radiating=_saved_radiating(folder, summary, world))


def _saved_radiating(folder: Path, summary: dict[str, Any], world) -> list[dict[str, Any]] | None:
    """summary.json's ``radiating`` table (a run with a defence state), checked: one row per radar
    of the scenario, in its order, with finite non-negative times; None when the run had none."""
    rows = summary.get("radiating")
    if rows is None:
        return None
    p = folder / "summary.json"
    names = list(world.sensor_labels)
    if not isinstance(rows, list) or [r.get("radar") if isinstance(r, dict) else None for r in rows] != names:
        raise _bad(p, f"expected one row per radar of the scenario ({names}), found {str(rows)[:160]}: "
                   "the summary is from another run, or damaged", path="radiating")
    keys = ("mean_radiating_s", "max_radiating_s", "share_of_run")
    out = []
    for i, r in enumerate(rows):
        for k in keys:
            v = r.get(k)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v < 0:
                raise _bad(p, f"expected a finite number >= 0, found {v!r}: not a summary written by iadsim",
                           path=f"radiating[{i}].{k}")
        out.append({"radar": r["radar"], **{k: float(r[k]) for k in keys}})
    return out
