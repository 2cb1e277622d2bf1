"""The on-disk layout of a sweep, crash-safe cell files, the summary table and DuckDB views.

A sweep folder ``DIR`` holds::

    DIR/sweep.json                              what was swept (written first, never changed)
    DIR/dataset/cell=00000/part-0.parquet       replication table of cell 0 (+ parameter columns)
    DIR/dataset/cell=00001/part-0.parquet       ...
    DIR/summary.parquet                         per cell x threat: P(kill), P(leak) with Wilson CIs,
                                                and the mission measures of the threat's scenario threat
    DIR/missions.parquet                        per cell x scenario threat with a mission: P(mission
                                                accomplished), P(loss), P(survived the sortie), ...

The dataset is Hive-partitioned by ``cell``: the cell id is in the folder name, not in the files.
Every file is written under a temporary name, fsync'ed and renamed into place (then the folder
is fsync'ed), so a cell is complete if and only if its ``part-0.parquet`` exists.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from iadsim.errors import IadsimError, OutputError

SWEEP_JSON = "sweep.json"
DATASET_DIR = "dataset"
SUMMARY_FILE = "summary.parquet"
MISSIONS_FILE = "missions.parquet"
PART_FILE = "part-0.parquet"
LOCK_FILE = ".iadsim-sweep.lock"
TMP_SUFFIX = ".tmp"
META_KEY = b"iadsim"

_UMASK = os.umask(0)
os.umask(_UMASK)


class QueryError(IadsimError):
    """A DuckDB query over a sweep failed (bad SQL, unknown column, ...)."""


# ---------------------------------------------------------------- layout

def cell_dir_name(cell: int, width: int) -> str:
    return f"cell={cell:0{width}d}"


def cell_file(out: Path, cell: int, width: int) -> Path:
    return Path(out) / DATASET_DIR / cell_dir_name(cell, width) / PART_FILE


def glob_escape(path: str | Path) -> str:
    """``path`` with DuckDB's glob characters (``*``, ``?``, ``[``) made literal (``[*]``, ...):
    DuckDB expands them in every file name it reads, so a folder named ``runs*`` would otherwise
    read the files of every ``runs...`` folder beside it."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in str(path))


def dataset_glob(out: Path) -> str:
    """The DuckDB pattern of a sweep's cell files; ``out`` itself is matched literally."""
    return glob_escape(Path(out) / DATASET_DIR) + "/cell=*/part-*.parquet"


def sql_path(path: str | Path) -> str:
    """A file path as a DuckDB string literal that names exactly that file."""
    return "'" + glob_escape(path).replace("'", "''") + "'"


# ---------------------------------------------------------------- durable writes

def _fsync_path(path: Path, directory: bool = False) -> None:
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        if directory:  # some platforms cannot open folders; the rename is still atomic
            return
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not directory:
            raise
    finally:
        os.close(fd)


def durable_write(path: str | Path, writer: Callable[[Path], None]) -> Path:
    """Write ``path`` crash-safely: temporary name beside it, fsync, rename, fsync the folder."""
    path = Path(path)
    created = not path.parent.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    if created:
        _fsync_path(path.parent.parent, directory=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
    os.close(fd)
    try:
        writer(Path(tmp))
        _fsync_path(Path(tmp))
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
        _fsync_path(path.parent, directory=True)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def write_json(path: Path, obj: Any) -> Path:
    text = json.dumps(obj, indent=1, allow_nan=False, default=_json_default) + "\n"
    return durable_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"not JSON serialisable: {type(o)}")


def remove_stale_temps(out: Path) -> int:
    """Delete temporary files a killed run left behind (ours only: hidden, ``.tmp`` suffix)."""
    out = Path(out)
    n = 0
    candidates = list(out.glob(f".*{TMP_SUFFIX}"))
    ds = out / DATASET_DIR
    if ds.is_dir():
        candidates += list(ds.glob(f"cell=*/.{PART_FILE}.*{TMP_SUFFIX}"))
    for p in candidates:
        if p.name.startswith((f".{PART_FILE}.", f".{SWEEP_JSON}.", f".{SUMMARY_FILE}.", f".{MISSIONS_FILE}.")):
            try:
                p.unlink()
                n += 1
            except FileNotFoundError:
                pass
    return n


# ---------------------------------------------------------------- cell tables

def arrow_type_of(values: list[Any]) -> pa.DataType:
    """One Arrow type for a parameter's values (strings if they do not share a type)."""
    try:
        t = pa.array(values).type
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return pa.string()
    return pa.string() if pa.types.is_null(t) else t


def param_scalar(value: Any, typ: pa.DataType) -> pa.Scalar:
    if pa.types.is_string(typ) and value is not None and not isinstance(value, str):
        value = json.dumps(value)
    return pa.scalar(value, type=typ)


def cell_table(replications: pd.DataFrame, values: dict[str, Any], types: dict[str, pa.DataType],
               meta: dict[str, Any]) -> pa.Table:
    """The Arrow table of one cell: one column per varied parameter, then the replication table."""
    table = pa.Table.from_pandas(replications, preserve_index=False)
    # a column that is all None in this cell (no kills, no targets) must keep its string type,
    # so that every cell file has the same schema
    for i, f in enumerate(table.schema):
        if pa.types.is_null(f.type):
            table = table.set_column(i, pa.field(f.name, pa.string()), table.column(i).cast(pa.string()))
    rows = table.num_rows
    for k, (name, value) in enumerate(values.items()):
        if name in table.column_names or name == "cell":
            raise ValueError(f"parameter column {name!r} clashes with a replication column")
        typ = types[name]
        table = table.add_column(k, pa.field(name, typ), pa.repeat(param_scalar(value, typ), rows))
    return table.replace_schema_metadata({META_KEY: json.dumps(meta, default=_json_default).encode()})


def write_cell(out: Path, cell: int, width: int, table: pa.Table) -> Path:
    return durable_write(cell_file(out, cell, width), lambda tmp: pq.write_table(table, tmp))


def file_meta(path: Path) -> tuple[int, dict[str, Any]]:
    """(rows, iadsim metadata) of a cell file, from its footer."""
    md = pq.read_metadata(path)
    kv = md.metadata or {}
    try:
        meta = json.loads(kv.get(META_KEY, b"{}"))
    except ValueError:
        meta = {}
    return md.num_rows, meta


def scan_cells(out: Path, ncells: int, width: int, sweep_id: str) -> set[int]:
    """Cells whose final file exists; refuse files that do not belong to this sweep."""
    ds = Path(out) / DATASET_DIR
    done: set[int] = set()
    if not ds.is_dir():
        return done
    problems: list[str] = []
    for d in sorted(ds.iterdir()):
        if d.name.startswith("."):
            continue
        name = d.name
        if not (d.is_dir() and name.startswith("cell=") and name[5:].isdigit()):
            problems.append(f"{d}: not a cell folder of a sweep")
            continue
        cell = int(name[5:])
        if cell >= ncells or name != cell_dir_name(cell, width):
            problems.append(f"{d}: no such cell in this sweep (it has {ncells} cells)")
            continue
        f = d / PART_FILE
        if not f.exists():
            continue  # folder made, file not yet renamed into place: the cell is not done
        try:
            rows, meta = file_meta(f)
        except (OSError, pa.ArrowException) as exc:
            problems.append(f"{f}: unreadable ({exc})")
            continue
        if meta.get("sweep_id") != sweep_id or meta.get("cell") != cell:
            problems.append(f"{f}: written by another sweep")
            continue
        if rows <= 0 or rows % int(meta.get("replications", 0) or 1):
            problems.append(f"{f}: has {rows} rows, not a whole number of replications")
            continue
        done.add(cell)
    if problems:
        shown = "\n  ".join(problems[:10]) + (f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else "")
        raise OutputError(f"{ds} holds files that are not part of this sweep; nothing was changed:\n  {shown}")
    return done


# ---------------------------------------------------------------- summary

def _read_parquet_sql(out: Path) -> str:
    """The cell files as a DuckDB table with a ``cell`` column. The cell number is taken from the
    file's own folder name only: DuckDB's hive partitioning would also turn any ``key=value``
    folder above the sweep (``/data/seed=3/sweep``) into a column, overriding the file's own."""
    glob = dataset_glob(out).replace("'", "''")
    return (f"(SELECT * EXCLUDE (filename), CAST(regexp_extract(filename, "
            f"'[/\\\\]cell=([0-9]+)[/\\\\][^/\\\\]*$', 1) AS INTEGER) AS cell "
            f"FROM read_parquet('{glob}', hive_partitioning = false, filename = true, "
            f"file_row_number = true, union_by_name = true))")


def cells_frame(manifest: dict[str, Any]) -> pd.DataFrame:
    """One row per cell: cell, seed, one column per varied parameter."""
    paths = [v["path"] for v in manifest["variations"]]
    as_text = {v["path"] for v in manifest["variations"] if v.get("type") == "string"}

    def value(path: str, x: Any) -> Any:  # as in the dataset's parameter columns
        return json.dumps(x) if path in as_text and x is not None and not isinstance(x, str) else x

    rows = [{"cell": c["cell"], **{p: value(p, c["values"][p]) for p in paths}, "seed": c["seed"]}
            for c in manifest["cells"]]
    df = pd.DataFrame(rows, columns=["cell", *paths, "seed"])
    df["cell"] = df["cell"].astype("int32")
    df["seed"] = df["seed"].astype("int64")
    return df


#: the mission measures of a scenario threat, as in :meth:`iadsim.results.Results.mission_table`
#: (plus P(survived the sortie)'s interval and the counts); summary.parquet repeats the main ones
#: (SUMMARY_MISSION_COLUMNS) on the rows of that threat's sorties
MISSION_COLUMNS = ["mission", "sorties", "accomplished_means",
                   "accomplished", "p_accomplished", "p_accomplished_lo", "p_accomplished_hi",
                   "losses", "p_loss", "p_loss_lo", "p_loss_hi",
                   "survived", "p_survived", "p_survived_lo", "p_survived_hi",
                   "mean_time_on_station_s", "losses_per_station_hour", "losses_per_station_hour_lo",
                   "losses_per_station_hour_hi",
                   "mean_exposure_envelope_s", "mean_exposure_envelope_s_lo", "mean_exposure_envelope_s_hi",
                   "mean_exposure_coverage_s", "mean_exposure_coverage_s_lo", "mean_exposure_coverage_s_hi",
                   "weapon_reached_target", "p_weapon_reached_target", "p_weapon_reached_target_lo",
                   "p_weapon_reached_target_hi", "weapons_released_per_sortie"]

#: the mission measures summary.parquet carries on a sortie's row (the rest are in missions.parquet)
SUMMARY_MISSION_COLUMNS = ["sorties", "p_accomplished", "p_accomplished_lo", "p_accomplished_hi",
                           "p_loss", "p_loss_lo", "p_loss_hi", "p_survived", "p_survived_lo", "p_survived_hi",
                           "p_weapon_reached_target", "p_weapon_reached_target_lo", "p_weapon_reached_target_hi",
                           "mean_time_on_station_s", "mean_exposure_envelope_s", "mean_exposure_coverage_s"]

#: replication columns the mission measures need (a dataset written before missions had none)
_MISSION_INPUTS = {"role", "mission", "carrier", "outcome", "accomplished", "time_on_station_s",
                   "exposure_envelope_s", "exposure_coverage_s"}


def _columns(con, source: str) -> set[str]:
    return {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}


def _mission_frame(con, source: str) -> pd.DataFrame:
    """Per cell x scenario threat (``group``) with a mission: the mission measures, computed as
    :meth:`iadsim.results.Results.mission_table` does. A sortie is a replication x member that is not
    a released weapon; a strike's weapon reached its target in a sortie when at least one weapon of
    that replication x carrier did. Empty for a dataset without mission columns."""
    from scipy import stats

    from iadsim.results.stats import poisson_rate_interval, wilson_interval

    if not _MISSION_INPUTS <= _columns(con, source):
        return pd.DataFrame(columns=["cell", "threat", *MISSION_COLUMNS])
    sql = f"""
        WITH reps AS (SELECT * FROM {source}),
        sorties AS (
            SELECT cell, "group", any_value(mission) AS mission, count(*) AS sorties,
                   CAST(sum(CASE WHEN coalesce(CAST(accomplished AS DOUBLE), 0) <> 0 THEN 1 ELSE 0 END)
                        AS BIGINT) AS accomplished,
                   CAST(sum(CAST(killed AS BIGINT)) AS BIGINT) AS losses,
                   CAST(count_if(outcome = 'survived the sortie') AS BIGINT) AS survived,
                   avg(time_on_station_s) AS mean_time_on_station_s,
                   sum(time_on_station_s) AS station_s,
                   avg(exposure_envelope_s) AS env_mean, stddev_samp(exposure_envelope_s) AS env_sd,
                   avg(exposure_coverage_s) AS cov_mean, stddev_samp(exposure_coverage_s) AS cov_sd,
                   min(file_row_number) AS first_row
            FROM reps WHERE role IS DISTINCT FROM 'weapon'
            GROUP BY cell, "group"),
        hits AS (
            SELECT cell, "group", CAST(count(*) AS BIGINT) AS weapon_reached_target FROM (
                SELECT DISTINCT cell, "group", replication, carrier FROM reps
                WHERE role = 'weapon' AND outcome = 'reached its target')
            GROUP BY cell, "group"),
        released AS (
            SELECT cell, "group", CAST(count_if(outcome IS DISTINCT FROM 'not released') AS BIGINT) AS released
            FROM reps WHERE role = 'weapon' GROUP BY cell, "group")
        SELECT s.*, coalesce(h.weapon_reached_target, 0) AS weapon_reached_target,
               coalesce(r.released, 0) AS released
        FROM sorties s LEFT JOIN hits h USING (cell, "group") LEFT JOIN released r USING (cell, "group")
        WHERE s.mission IS NOT NULL AND s.mission <> 'transit'
        ORDER BY s.cell, s.first_row
    """
    agg = con.execute(sql).fetch_df()
    if agg.empty:
        return pd.DataFrame(columns=["cell", "threat", *MISSION_COLUMNS])
    n = agg["sorties"].to_numpy(dtype=float)
    from iadsim.missions.registry import MISSION_KINDS, accomplished_by

    rule = agg["mission"].map(accomplished_by)   # the registered kind's rule: station | release | arrival
    isr = (rule == "station").to_numpy(dtype=bool)
    strike = (rule == "release").to_numpy(dtype=bool)
    df = pd.DataFrame({"cell": agg["cell"].astype("int32"), "threat": agg["group"],
                       "mission": agg["mission"], "sorties": agg["sorties"].astype("int64"),
                       "accomplished_means": agg["mission"].map(MISSION_KINDS)})  # as in the mission table
    for name, col in (("accomplished", "accomplished"), ("loss", "losses"), ("survived", "survived")):
        k = agg[col].to_numpy(dtype=float)
        lo, hi = wilson_interval(k, n)
        df[col] = agg[col].astype("int64")
        df[f"p_{name}"], df[f"p_{name}_lo"], df[f"p_{name}_hi"] = k / n, lo, hi
    hours = agg["station_s"].to_numpy(dtype=float) / 3600.0
    df["mean_time_on_station_s"] = np.where(isr, agg["mean_time_on_station_s"].to_numpy(dtype=float), np.nan)
    rate = np.full(len(df), np.nan)
    rlo, rhi = rate.copy(), rate.copy()
    for i in np.flatnonzero(isr & (hours > 0)):
        rate[i] = agg["losses"].iloc[i] / hours[i]
        rlo[i], rhi[i] = poisson_rate_interval(int(agg["losses"].iloc[i]), float(hours[i]))
    df["losses_per_station_hour"], df["losses_per_station_hour_lo"], df["losses_per_station_hour_hi"] = rate, rlo, rhi
    # mean exposure and its Student-t interval (iadsim.results.stats.mean_interval)
    t = np.where(n >= 2, stats.t.ppf(0.975, np.maximum(n - 1, 1)), 0.0)
    for what, key in (("envelope", "env"), ("coverage", "cov")):
        m = agg[f"{key}_mean"].to_numpy(dtype=float)
        half = t * np.nan_to_num(agg[f"{key}_sd"].to_numpy(dtype=float)) / np.sqrt(n)
        df[f"mean_exposure_{what}_s"] = m
        # cut at zero like mean_interval(support=(0, inf)): a time is never negative
        df[f"mean_exposure_{what}_s_lo"], df[f"mean_exposure_{what}_s_hi"] = np.maximum(m - half, 0.0), m + half
    k = agg["weapon_reached_target"].to_numpy(dtype=float)
    lo, hi = wilson_interval(k, n)
    df["weapon_reached_target"] = pd.array(np.where(strike, k, np.nan), dtype="Int64")
    df["p_weapon_reached_target"] = np.where(strike, k / n, np.nan)
    df["p_weapon_reached_target_lo"] = np.where(strike, lo, np.nan)
    df["p_weapon_reached_target_hi"] = np.where(strike, hi, np.nan)
    df["weapons_released_per_sortie"] = np.where(strike, agg["released"].to_numpy(dtype=float) / n, np.nan)
    return df[["cell", "threat", *MISSION_COLUMNS]]


def summarize_missions(out: Path, manifest: dict[str, Any]) -> pd.DataFrame:
    """Per cell x scenario threat with a mission (ISR, strike, one-way attack): the cell's parameters,
    then the mission measures of :meth:`iadsim.results.Results.mission_table` for the same rows:
    sorties, P(mission accomplished), P(loss) and P(survived the sortie) with 95% Wilson intervals,
    mean time on station (ISR), losses per hour on station (ISR), mean exposure times with 95%
    intervals and, for strikes, P(a weapon reached its target). Released weapons are not sorties:
    they count only in the strike's P(a weapon reached its target)."""
    import duckdb

    con = duckdb.connect()
    try:
        agg = _mission_frame(con, _read_parquet_sql(out))
    finally:
        con.close()
    cells = cells_frame(manifest)
    agg["cell"] = agg["cell"].astype("int32")
    return cells.merge(agg, on="cell", how="inner").reset_index(drop=True)


def summarize(out: Path, manifest: dict[str, Any], missions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per cell x threat: n, kills, P(kill), P(leak) with 95% Wilson intervals, P(detected), means;
    the threat's ``role`` and ``mission``, and on the rows of a sortie (not a released weapon) of a
    scenario threat with a mission, that threat's main mission measures (``SUMMARY_MISSION_COLUMNS``
    of :func:`summarize_missions`)."""
    import duckdb

    from iadsim.results.stats import wilson_interval

    source = _read_parquet_sql(out)
    con = duckdb.connect()
    try:
        has = _columns(con, source)
        extra = "".join(f", any_value({c}) AS {c}" for c in ("role", "mission") if c in has)
        sql = f"""
            SELECT cell, threat, any_value("group") AS "group", any_value(type) AS type,
                   any_value(target) AS target{extra}, count(*) AS n,
                   CAST(sum(CAST(killed AS BIGINT)) AS BIGINT) AS kills,
                   CAST(sum(CAST(leaked AS BIGINT)) AS BIGINT) AS leaks,
                   count(detected_at_s) AS detected,
                   avg(detected_at_s) AS mean_detect_time_s, avg(shots) AS mean_shots,
                   min(file_row_number) AS first_row
            FROM {source}
            GROUP BY cell, threat ORDER BY cell, first_row
        """
        agg = con.execute(sql).fetch_df()
        if missions is None:
            missions = _mission_frame(con, source)
    finally:
        con.close()
    agg = agg.drop(columns=["first_row"])
    for c in ("role", "mission"):
        if c not in agg:
            agg[c] = None
    n = agg["n"].to_numpy(dtype=float)
    kills = agg["kills"].to_numpy(dtype=float)
    leaks = agg["leaks"].to_numpy(dtype=float)
    klo, khi = wilson_interval(kills, n)
    llo, lhi = wilson_interval(leaks, n)
    agg = agg.assign(p_kill=kills / n, p_kill_lo=klo, p_kill_hi=khi,
                     p_leak=leaks / n, p_leak_lo=llo, p_leak_hi=lhi,
                     p_detected=agg["detected"].to_numpy(dtype=float) / n)
    agg["cell"] = agg["cell"].astype("int32")
    # the mission measures of each row's scenario threat, on the rows of its sorties
    m = missions[["cell", "threat", *SUMMARY_MISSION_COLUMNS]].rename(columns={"threat": "group"})
    m = m.assign(cell=m["cell"].astype("int32"), _sortie=True)
    agg["_sortie"] = (agg["role"] != "weapon").to_numpy()
    agg = agg.merge(m, on=["cell", "group", "_sortie"], how="left").drop(columns=["_sortie"])
    cells = cells_frame(manifest)
    df = cells.merge(agg, on="cell", how="inner")
    cols = [*cells.columns, "threat", "group", "type", "target", "role", "mission", "n",
            "kills", "p_kill", "p_kill_lo", "p_kill_hi", "leaks", "p_leak", "p_leak_lo", "p_leak_hi",
            "detected", "p_detected", "mean_detect_time_s", "mean_shots", *SUMMARY_MISSION_COLUMNS]
    return df[cols].reset_index(drop=True)


def write_summary(out: Path, summary: pd.DataFrame, name: str = SUMMARY_FILE) -> Path:
    """Write a summary table (``summary.parquet``, or ``missions.parquet`` with ``name``) atomically."""
    table = pa.Table.from_pandas(summary, preserve_index=False)
    for i, f in enumerate(table.schema):
        if pa.types.is_null(f.type):
            table = table.set_column(i, pa.field(f.name, pa.string()), table.column(i).cast(pa.string()))
    table = table.replace_schema_metadata({})
    return durable_write(Path(out) / name, lambda tmp: pq.write_table(table, tmp))


# ---------------------------------------------------------------- reading and DuckDB

def read_manifest(out: Path) -> dict[str, Any] | None:
    p = Path(out) / SWEEP_JSON
    if not p.exists():
        return None
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise OutputError(f"{p} is unreadable ({exc}); not a sweep folder this version can use") from None
    if not isinstance(data, dict) or not str(data.get("format", "")).startswith("iadsim-sweep/"):
        raise OutputError(f"{p} is not an iadsim sweep description")
    return data


def connect(out: str | Path):
    """A DuckDB connection with views ``replications`` (the dataset, with its ``cell`` column),
    ``summary`` (summary.parquet, once the sweep has finished), ``missions`` (missions.parquet, the
    mission measures per cell x scenario threat, written by this version at the end of a sweep) and
    ``cells`` (from sweep.json)."""
    import duckdb

    out = Path(out)
    manifest = read_manifest(out)
    if manifest is None:  # a run folder (iadsim run / demo), or neither
        from iadsim.results.query import connect_run

        return connect_run(out)
    con = duckdb.connect()
    if any((out / DATASET_DIR).glob("cell=*/part-*.parquet")):
        con.execute(f"CREATE VIEW replications AS SELECT cell, * EXCLUDE (cell, file_row_number) "
                    f"FROM {_read_parquet_sql(out)}")
    if (out / SUMMARY_FILE).exists():
        con.execute(f"CREATE VIEW summary AS SELECT * FROM read_parquet({sql_path(out / SUMMARY_FILE)})")
    if (out / MISSIONS_FILE).exists():
        con.execute(f"CREATE VIEW missions AS SELECT * FROM read_parquet({sql_path(out / MISSIONS_FILE)})")
    con.register("cells", cells_frame(manifest))
    return con


def query(out: str | Path, sql: str) -> pd.DataFrame | None:
    """Run SQL over a sweep folder (or a run folder: :func:`iadsim.results.query.query_run`); a
    DataFrame, or None for a statement without a result."""
    if read_manifest(out) is None:
        from iadsim.results.query import query_run

        return query_run(out, sql)
    con = connect(out)

    def hint(msg: str) -> str:
        if "replications" in msg and "does not exist" in msg and "replications" not in _views(con):
            msg += "\n(no cell has finished yet: the replications view is empty)"
        if "summary" in msg and "does not exist" in msg and not (Path(out) / SUMMARY_FILE).exists():
            msg += f"\n(the sweep has not finished: {SUMMARY_FILE} is written at the end)"
        if "missions" in msg and "does not exist" in msg and not (Path(out) / MISSIONS_FILE).exists():
            msg += (f"\n(no {MISSIONS_FILE} in this folder: it is written at the end of a sweep by iadsim "
                    "versions with mission measures; older sweep folders have summary and replications only)")
        return msg

    return run_sql(con, sql, hint)


def run_sql(con, sql: str, hint=lambda msg: msg) -> pd.DataFrame | None:
    """Run ``sql`` on the DuckDB connection ``con`` and close it: a DataFrame, or None for a
    statement without a result. A DuckDB error becomes a :class:`QueryError`, its message extended
    by ``hint`` (what the folder lacks)."""
    import duckdb

    try:
        try:
            cur = con.execute(sql)
            if cur.description is None:
                return None
            return cur.fetch_df()
        except duckdb.Error as exc:
            raise QueryError(f"SQL: {hint(str(exc).strip())}") from None
    finally:
        con.close()


def _views(con) -> set[str]:
    try:
        return {r[0] for r in con.execute("SELECT view_name FROM duckdb_views()").fetchall()}
    except Exception:  # pragma: no cover
        return set()


def read_replications(out: str | Path) -> pd.DataFrame:
    """The whole dataset as one DataFrame (cell, parameters, replication columns), sorted."""
    df = query(out, "SELECT * FROM replications ORDER BY cell, replication, threat")
    assert df is not None
    return df
