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

from iadsim.errors import InputError, OutputError

__all__ = ["RUN_FILES", "RunMismatchWarning", "load_run", "read_run_info"]

#: files a run folder must have to be rebuilt
RUN_FILES = ("scenario.yaml", "replications.parquet", "expenditure.parquet", "summary.json")
_HEADER = re.compile(r"^# scenario used by this run \(from (.*)\)\s*$")


class RunMismatchWarning(UserWarning):
    """The recompiled World or a re-run replication does not match the stored tables."""


def read_run_info(folder: str | Path) -> dict[str, Any]:
    """``run.json`` of a run folder, or what can be recovered without it (the scenario copy's
    header names the original scenario file)."""
    folder = Path(folder)
    p = folder / "run.json"
    if p.is_file():
        return json.loads(p.read_text(encoding="utf-8"))
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
    dem = str((data.get("terrain") or {}).get("dem", ""))
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
    return scenario_from_dict(data, source=str(src), base_dir=base_dir, catalog=_catalog(folder))


def _steps(t: pd.Series | np.ndarray, dt: float) -> np.ndarray:
    v = np.asarray(t, dtype=float)
    return np.where(np.isfinite(v), np.rint(np.nan_to_num(v) / dt), -1).astype(np.int64)


def _raw_from_tables(world, reps: pd.DataFrame, exp: pd.DataFrame, events):
    from iadsim.engine import ChunkResult

    labels = list(world.threat_labels)
    units = list(world.effector_labels)
    n = int(reps["replication"].max()) + 1 if len(reps) else 0
    got = list(dict.fromkeys(reps["threat"].astype(str)))
    if sorted(got) != sorted(labels):
        raise InputError.single("replications.parquet", "threat",
                                f"threats {got} do not match the scenario's {labels}: the scenario "
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
    return ChunkResult(
        first=0, count=n,
        det_step=grid(_steps(reps["detected_at_s"], dt)),
        firm_step=grid(_steps(reps["tracked_at_s"], dt)),
        eng_step=grid(_steps(reps["first_engaged_at_s"], dt)),
        shots=grid(reps["shots"].to_numpy(dtype=np.int64), 0),
        kill_step=grid(np.where(reps["killed"].to_numpy(dtype=bool), kill, -1)),
        killer=grid(killer.to_numpy(dtype=np.int64)),
        leak_step=grid(_steps(reps["leak_time_s"], dt)),
        expended=expended, events=events, draws=draws or None)


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
            unit.append(sens.get(u, -1) if kind == "detect" else effs.get(u, -1))
    out["unit"] = unit
    return out[out["type"] >= 0]


def load_run(folder: str | Path, replication: int | None = None):
    """A :class:`~iadsim.results.Results` of the run written to ``folder``.

    ``replication``: whose timeline to show (default: the one the run recorded); another one is
    re-simulated alone, deterministically.
    """
    from iadsim.engine import compile_world, simulate_chunk
    from iadsim.results import Results

    folder = Path(folder)
    if not folder.is_dir():
        raise OutputError(f"{folder} is not a folder (expected the output folder of `iadsim run`)")
    missing = [f for f in RUN_FILES if not (folder / f).is_file()]
    if missing:
        raise OutputError(f"{folder} is not a complete run folder: missing {', '.join(missing)}")
    info = read_run_info(folder)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    ld = _scenario(folder, info)
    world = compile_world(ld)
    reps = pd.read_parquet(folder / "replications.parquet")
    exp = pd.read_parquet(folder / "expenditure.parquet")
    n = int(summary.get("replications", int(reps["replication"].max()) + 1))
    seed = int(summary.get("seed", info.get("seed", 0)))
    recorded = int(summary.get("timeline_replication", 0))
    rep = recorded if replication is None else int(replication)
    if not 0 <= rep < n:
        raise InputError.single("command line", "--replication", f"must be in 0..{n - 1}, got {rep}")

    if rep == recorded and (folder / "timeline.csv").is_file():
        events = _events_from_csv(world, folder / "timeline.csv")
    else:
        one = simulate_chunk(world, seed, rep, 1, record_rep=rep)
        events = one.events
    raw = _raw_from_tables(world, reps, exp, events)
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
                   timeline_replication=rep)
