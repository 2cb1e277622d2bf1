"""SQL (DuckDB) over a run folder: ``iadsim query DIR 'SQL'`` where DIR is what ``iadsim run`` or
``iadsim demo`` wrote (a sweep folder is read by :mod:`iadsim.montecarlo.dataset`).

Views, named after the run's tables (docs/run-folder.md):

* ``replications``: replications.parquet, one row per replication x threat;
* ``expenditure``: expenditure.parquet, one row per replication x fire unit;
* ``timeline``: timeline.csv, the events of the recorded replication;
* ``summary`` (per threat, as the report's table), ``assets``, ``effectors``, ``missions``: the
  statistics of summary.json, with their 95% intervals.

Nothing is written: the views read the files in place.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from iadsim.errors import OutputError

#: view -> file of a run folder
RUN_TABLES = {"replications": "replications.parquet", "expenditure": "expenditure.parquet",
              "timeline": "timeline.csv"}
#: view -> list in summary.json
SUMMARY_TABLES = {"summary": "threats", "assets": "assets", "effectors": "effectors", "missions": "missions"}


def _sql_path(path: Path) -> str:
    from iadsim.montecarlo.dataset import sql_path

    return sql_path(path)


def run_info(folder: str | Path) -> dict | None:
    """run.json of ``folder`` when it is an iadsim run folder; None when it has no run.json."""
    p = Path(folder) / "run.json"
    if not p.is_file():
        return None
    try:
        info = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise OutputError(f"{p} is unreadable ({exc}); not a run folder this version can use") from None
    if not isinstance(info, dict) or info.get("format") != "iadsim-run":
        raise OutputError(f"{p} is not an iadsim run description (its format is not 'iadsim-run')")
    return info


def not_a_results_folder(folder: str | Path) -> OutputError:
    """The error for a folder that is neither a run folder nor a sweep folder."""
    from iadsim.results.io import read_manifest

    folder = Path(folder)
    if not folder.exists():
        return OutputError(f"{folder} does not exist; give the folder `iadsim run`, `iadsim demo` or "
                           "`iadsim sweep` wrote (e.g. iadsim-out/NAME)")
    if not folder.is_dir():
        return OutputError(f"{folder} is not a folder; give the folder `iadsim run`, `iadsim demo` or "
                           "`iadsim sweep` wrote (e.g. iadsim-out/NAME)")
    m = read_manifest(folder)
    kind = f" (it holds the outputs of an iadsim {m[0]})" if m is not None and m[0] not in ("run", "sweep") else ""
    return OutputError(f"{folder} is not an iadsim run folder and not a sweep folder{kind}: it has no run.json "
                       "or sweep.json. Give the folder `iadsim run`, `iadsim demo` or `iadsim sweep` wrote "
                       "(e.g. iadsim-out/NAME)")


def connect_run(folder: str | Path):
    """A DuckDB connection with the views of a run folder (see the module's docstring)."""
    import duckdb

    folder = Path(folder)
    if run_info(folder) is None:
        raise not_a_results_folder(folder)
    if not (folder / "summary.json").is_file():
        raise OutputError(f"the run in {folder} has not finished (or failed): summary.json, written last, "
                          "is missing; run it again")
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise OutputError(f"{folder / 'summary.json'} is unreadable ({exc}); run it again") from None
    con = duckdb.connect()
    for view, name in RUN_TABLES.items():
        p = folder / name
        if not p.is_file():
            continue
        read = (f"read_parquet({_sql_path(p)})" if p.suffix == ".parquet"
                else f"read_csv({_sql_path(p)}, header = true, auto_detect = true)")
        con.execute(f"CREATE VIEW {view} AS SELECT * FROM {read}")
    for view, key in SUMMARY_TABLES.items():
        rows = summary.get(key) if isinstance(summary, dict) else None
        if isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows):
            con.register(view, pd.DataFrame(rows))
    return con


def views(con) -> list[str]:
    """The views (and registered tables) of a connection, sorted."""
    rows = con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    return sorted({r[0] for r in rows})


def query_run(folder: str | Path, sql: str) -> pd.DataFrame | None:
    """Run SQL over a run folder; a DataFrame, or None for a statement without a result."""
    from iadsim.montecarlo.dataset import run_sql

    con = connect_run(folder)

    def hint(msg: str) -> str:
        if "does not exist" in msg:
            msg += f"\n(the views of a run folder: {', '.join(views(con))})"
        return msg

    return run_sql(con, sql, hint)
