"""Write everything a run produces into one folder (each file atomically).

The folder (see docs/run-folder.md):

* ``run.json``: what the run was (scenario file, DEM, seed, replications, version) and the list
  of files; ``iadsim report DIR`` and ``iadsim export DIR`` read the run back with it.
* ``scenario.yaml``, ``catalog.yaml``: copies of the scenario and of the catalog entries used.
* ``replications.parquet``, ``expenditure.parquet``, ``timeline.csv``, ``summary.json``: results.
* ``report.html``: the offline report.
* With ``tables_only`` (``--tables-only``) only run.json, the copies, the tables and summary.json.
* ``run.kmz`` (Google Earth) and ``run.czml`` (Cesium): sites, coverage per height, routes, the
  recorded replication in time, kills and leaks.
* ``routes.geojson``; ``coverage/``: per radar, minimum visible altitude (GeoTIFF);
  ``line_of_sight.tif`` (radars in line of sight, one band per height above ground) and
  ``line_of_sight.geojson`` (the covered areas as polygons), all in the run's local projection
  (GeoTIFF) or WGS84 (GeoJSON).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import yaml

from iadsim.export.geojson import scenario_geojson
from iadsim.export.geotiff import write_geotiff
from iadsim.results import Results
from iadsim.errors import OutputError
from iadsim.results.io import ensure_dir, prepare_out_dir, sha256_file, write_text, write_with


def _scenario_body(ld) -> str:
    """The scenario as it was read and validated (not the file now, which may have changed)."""
    if ld.text is not None:
        return ld.text
    return yaml.safe_dump(ld.scenario.model_dump(mode="json"), sort_keys=False)


def _scenario_text(results: Results) -> str:
    ld = results.world.loaded
    return f"# scenario used by this run (from {ld.source})\n" + _scenario_body(ld)


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def catalog_names(world) -> list[str]:
    return sorted(set(world.effector_system) | set(world.threat_type)
                  | {world.loaded.catalog[s.system].name for s in world.scenario.sensors})


def catalog_entry_sha256(system) -> str:
    """sha256 of a catalog entry's content (canonical JSON)."""
    return _sha256_text(json.dumps(system.model_dump(mode="json"), sort_keys=True, separators=(",", ":")))


def _catalog_text(results: Results) -> str:
    w = results.world
    names = catalog_names(w)
    entries = {n: w.loaded.catalog[n].model_dump(mode="json", exclude_none=True) for n in names}
    return "# catalog entries used by this run\n" + yaml.safe_dump(entries, sort_keys=False, allow_unicode=True)


#: what each file of a run folder holds (written into run.json)
FILES = {
    "run.json": "this file: what the run was and where its inputs were",
    "scenario.yaml": "copy of the scenario (the first line names the original file)",
    "catalog.yaml": "the catalog entries the run used",
    "replications.parquet": "one row per replication x threat",
    "expenditure.parquet": "one row per replication x fire unit",
    "timeline.csv": "events of the recorded replication",
    "summary.json": "statistics with 95% intervals",
    "report.html": "the offline report",
    "run.kmz": "Google Earth: sites, coverage per height, routes, the recorded replication in time, kills",
    "run.czml": "Cesium: the same, time-dynamic",
    "routes.geojson": "sites, planned routes with each threat's outcome, fire units' engagement envelopes (WGS84)",
    "coverage/<radar>.min_visible_altitude.tif": "lowest altitude each radar sees (local projection)",
    "coverage/line_of_sight.tif": "radars in line of sight, one band per height above ground",
    "coverage/line_of_sight.geojson": "areas seen by at least one radar, per height above ground",
}


def run_inputs(results: Results) -> dict:
    """Content hashes (sha256) of everything the run read: the scenario as read at load time,
    each catalog entry used, the DEM; and of the copies written beside the results. ``iadsim
    report`` and ``iadsim export`` check them before rebuilding anything."""
    ld = results.world.loaded
    src = Path(ld.source)
    dem = Path(ld.dem_path)
    try:
        dem_sha = sha256_file(dem)
    except OSError as exc:
        raise OutputError(f"cannot read the run's DEM {dem} to record its hash: {exc.strerror or exc}") from None
    dem_info = {"path": str(dem.resolve()), "sha256": dem_sha}
    if getattr(ld, "dem_tiles", None):  # a mosaic: the file above is iadsim's, built of these tiles
        dem_info["tiles"] = [dict(t) for t in ld.dem_tiles]
    out = {
        "scenario": {"path": str(src.resolve()) if src.is_file() else None,
                     "sha256": _sha256_text(_scenario_body(ld))},
        "dem": dem_info,
        "catalog": {n: catalog_entry_sha256(ld.catalog[n]) for n in catalog_names(results.world)},
        "copies": {"scenario.yaml": _sha256_text(_scenario_text(results)),
                   "catalog.yaml": _sha256_text(_catalog_text(results))},
    }
    if getattr(ld, "plugins", None):   # user code the run ran (iadsim.plugins): which files, which content
        out["plugins"] = [{"path": str(p.path), "sha256": p.sha256} for p in ld.plugins]
    return out


def run_info(results: Results, tables_only: bool = False) -> dict:
    """The content of run.json (no timestamps: a run's folder is reproducible). ``tables_only``:
    the folder holds only :data:`TABLES_ONLY_FILES` (``files`` lists those)."""
    from iadsim.report.playback import SCENARIO_EPOCH, iso_time

    ld = results.world.loaded
    s = ld.scenario
    src = Path(ld.source)
    return {
        "format": "iadsim-run",
        "format_version": 1,
        "iadsim_version": results.version,
        "scenario": s.name,
        "scenario_source": str(src.resolve()) if src.is_file() else None,
        "dem": s.terrain.dem,
        "dem_path": str(Path(ld.dem_path).resolve()),
        "replications": results.n,
        "seed": results.seed,
        "timeline_replication": results.timeline_replication,
        "fidelity": s.simulation.fidelity,
        "uncertainty": s.simulation.uncertainty,
        "scenario_epoch": iso_time(0, SCENARIO_EPOCH),
        "coverage_heights_agl_m": list(_layer_heights()),
        "inputs": run_inputs(results),
        "tables_only": bool(tables_only),
        "files": {k: v for k, v in FILES.items() if k in TABLES_ONLY_FILES} if tables_only else FILES,
    }


def _layer_heights():
    from iadsim.export.kml_run import LAYER_HEIGHTS_AGL_M

    return LAYER_HEIGHTS_AGL_M


def write_line_of_sight(results: Results, cov: Path, put) -> None:
    """coverage/line_of_sight.tif (one band per height) and coverage/line_of_sight.geojson."""
    from iadsim.export.georaster import mask_polygons
    from iadsim.report.maps import coverage_count

    w = results.world
    bands, desc, feats = [], [], []
    for h in _layer_heights():
        c = coverage_count(w.mva, w.terrain.elevation_m, h)
        bands.append(c.astype(np.float32))
        desc.append(f"radars in line of sight of a target {h:g} m above ground")
        feats += mask_polygons(w.grid, c >= 1, {"product": "line of sight", "height_agl_m": h,
                                                "radars_at_least": 1})
    p = write_geotiff(cov / "line_of_sight.tif", w.grid, bands, desc, units="count")
    put(f"coverage/{p.name}", p)
    gj = {"type": "FeatureCollection", "name": f"{w.scenario.name}: radar line of sight", "features": feats}
    put("coverage/line_of_sight.geojson", write_text(cov / "line_of_sight.geojson", json.dumps(gj)))


def _f(v):
    """A JSON number (None for NaN/None)."""
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return round(f, 6) if np.isfinite(f) else None


#: what the ``_lo`` / ``_hi`` properties of routes.geojson are
INTERVAL_MEANING = ("_lo, _hi: 95% Wilson score interval over the threat's members x replications "
                    "(as the report's tables)")


def _with_interval(props: dict, key: str, k: int, n: int) -> None:
    """``props[key]`` = k / n, with ``key_lo`` and ``key_hi``: its 95% Wilson interval."""
    from iadsim.results.stats import wilson_interval

    lo, hi = wilson_interval(k, n)
    props[key] = _f(k / n) if n else None
    props[f"{key}_lo"], props[f"{key}_hi"] = _f(lo), _f(hi)


def run_geojson(results: Results, envelope_heights_agl_m=None) -> dict:
    """routes.geojson: the scenario's sites and planned routes (:func:`scenario_geojson`) with each
    threat's outcome across the replications and each fire unit's engagement envelope.

    Route properties (per scenario threat, over its members and the replications): ``p_kill``;
    ``p_reached_target`` (a threat with a target) or ``p_survived`` (no target: it was not killed
    before its sortie ended); ``outcome_meaning``; and the mission measures (``mission``,
    ``p_mission_accomplished``, ``p_loss``, ``mean_time_on_station_s``, ``p_weapon_reached_target``).
    Each probability ``P`` comes with ``P_lo`` and ``P_hi``, its 95% Wilson interval (``interval``
    says so in the file).
    Envelope features (``kind: engagement_envelope``), Polygons in WGS84: where each fire unit can
    engage a hovering target ``height_agl_m`` above the ground (the run's flyout envelope and limits,
    line of sight of its own radar; :func:`iadsim.report.maps.engagement_envelope`), at
    :data:`iadsim.report.maps.MAP_HEIGHT_AGL_M` and the heights the threats fly at unless
    ``envelope_heights_agl_m`` is given."""
    from iadsim.export.georaster import mask_polygons
    from iadsim.report.maps import MAP_HEIGHT_AGL_M, engagement_envelope, threat_heights_agl

    w = results.world
    gj = scenario_geojson(results)
    df = results.replications
    try:
        missions = {r["threat"]: r for r in results.mission_table().to_dict("records")}
    except Exception:  # noqa: BLE001 - a run folder without mission columns
        missions = {}
    main = df[df["role"] != "weapon"] if "role" in df.columns else df
    for feat in gj["features"]:
        p = feat["properties"]
        if p.get("kind") != "route":
            continue
        g = main[main["group"] == p["name"]]
        if g.empty:
            continue
        p["replications"] = int(results.n)
        _with_interval(p, "p_kill", int(g["killed"].sum()), len(g))
        if p.get("target"):
            _with_interval(p, "p_reached_target", int(g["leaked"].sum()), len(g))
            p["outcome_meaning"] = "p_reached_target: reached its target without being killed"
        else:
            _with_interval(p, "p_survived", int(g["leaked"].sum()), len(g))
            p["outcome_meaning"] = "p_survived: no target; not killed before its sortie ended"
        p["interval"] = INTERVAL_MEANING
        m = missions.get(p["name"])
        if m:
            p["mission"] = m.get("mission")
            p["mission_accomplished_means"] = m.get("accomplished_means")
            for key, col in (("p_mission_accomplished", "p_accomplished"), ("p_loss", "p_loss"),
                             ("p_weapon_reached_target", "p_weapon_reached_target")):
                if _f(m.get(col)) is not None:
                    p[key] = _f(m.get(col))
                    p[f"{key}_lo"], p[f"{key}_hi"] = _f(m.get(f"{col}_lo")), _f(m.get(f"{col}_hi"))
            if m.get("mean_time_on_station_s") is not None:
                p["mean_time_on_station_s"] = _f(m.get("mean_time_on_station_s"))
    if envelope_heights_agl_m is None:
        envelope_heights_agl_m = sorted({MAP_HEIGHT_AGL_M, *threat_heights_agl(w)})
    for h in envelope_heights_agl_m:
        for e, name in enumerate(w.effector_labels):
            mask = engagement_envelope(w, e, float(h))
            gj["features"] += mask_polygons(w.grid, mask, {
                "kind": "engagement_envelope", "name": name, "system": w.effector_system[e],
                "height_agl_m": float(h),
                "meaning": f"where {name} can engage a hovering target {float(h):g} m above the ground as "
                           "the run decides (flyout envelope, slant-range and altitude limits, launcher "
                           "sector), in line of sight of its own radar"})
    return gj


def refuse_inputs_as_outputs(out: Path, names, inputs) -> None:
    """OutputError if a file about to be written in ``out`` is one of the ``inputs``."""
    ins = set()
    for p in inputs:
        try:
            ins.add(Path(p).resolve())
        except (OSError, RuntimeError):
            pass
    for name in names:
        try:
            target = (Path(out) / name).resolve()
        except (OSError, RuntimeError):
            continue
        if target in ins:
            raise OutputError(f"{Path(out) / name} is an input of this run ({target}); it would be "
                              "overwritten: choose another output folder. Nothing was changed.")


#: the files ``write_outputs(..., tables_only=True)`` writes
TABLES_ONLY_FILES = ("run.json", "scenario.yaml", "catalog.yaml", "replications.parquet", "expenditure.parquet",
                     "timeline.csv", "summary.json")


def write_outputs(results: Results, out: str | Path, report: bool = True,
                  on_file: Callable[[str], None] | None = None, exports: bool = True,
                  force: bool = False, tables_only: bool = False) -> dict[str, Path]:
    """Write the run's outputs into ``out``; returns name -> path of every file written.

    ``report``: write report.html; ``exports``: write run.kmz and run.czml; ``tables_only``: write
    only :data:`TABLES_ONLY_FILES` (no report, KMZ/CZML, routes.geojson or coverage rasters: the
    slow part of writing a run; ``iadsim report DIR`` and ``iadsim export DIR`` add them later from
    the folder). ``out`` must be new,
    empty or an iadsim run folder, unless ``force`` (see :func:`iadsim.results.io.check_out_folder`);
    a file of the run's inputs (scenario, DEM) is never overwritten."""
    from iadsim.report import write_report

    ld = results.world.loaded
    w = results.world
    names = [n for n in FILES if "<" not in n] + [f"coverage/{s}.min_visible_altitude.tif" for s in w.sensor_labels]
    refuse_inputs_as_outputs(Path(out), names, [ld.source, ld.dem_path,
                                                 *(t["path"] for t in getattr(ld, "dem_tiles", []) or [])])
    if (Path(out) / "coverage").is_symlink():  # checked again at every write (results.io._record)
        raise OutputError(f"{Path(out) / 'coverage'} is a symbolic link; iadsim writes only into real "
                          "folders: remove the link, or choose another output folder. Nothing was changed.")
    # summary.json is written last, the mark of a complete folder: a rerun removes the old one first
    # a tables-only rerun removes the files of an earlier run it does not write again (report, exports,
    # rasters: they would describe the earlier run), but only those iadsim wrote
    stale = tuple(n for n in names if n not in TABLES_ONLY_FILES) if tables_only else ()
    out = prepare_out_dir(out, invalidate=("summary.json", *stale), kind="run", force=force)
    done: dict[str, Path] = {}
    note = on_file or (lambda name: None)

    def put(name: str, path: Path) -> None:
        done[name] = path
        note(name)

    put("run.json", write_text(out / "run.json", json.dumps(run_info(results, tables_only), indent=2)))
    put("replications.parquet", results.write_parquet(out / "replications.parquet"))
    put("expenditure.parquet", write_with(out / "expenditure.parquet",
                                          lambda p: results.expenditure.to_parquet(p, index=False)))
    put("timeline.csv", write_with(out / "timeline.csv", lambda p: results.timeline.to_csv(p, index=False)))
    put("scenario.yaml", write_text(out / "scenario.yaml", _scenario_text(results)))
    put("catalog.yaml", write_text(out / "catalog.yaml", _catalog_text(results)))
    if tables_only:
        put("summary.json", results.write_summary(out / "summary.json"))
        return done
    put("routes.geojson", write_text(out / "routes.geojson", json.dumps(run_geojson(results))))
    cov = ensure_dir(out / "coverage")
    for name, mva in zip(w.sensor_labels, w.mva):
        agl = mva - w.terrain.elevation_m
        p = write_geotiff(cov / f"{name}.min_visible_altitude.tif", w.grid, [mva, agl],
                          ["minimum visible altitude above mean sea level [m]",
                           "minimum visible height above ground [m]"])
        put(f"coverage/{p.name}", p)
    write_line_of_sight(results, cov, put)
    if exports:
        from iadsim.export.czml import write_run_czml
        from iadsim.export.kml_run import write_run_kmz

        put("run.kmz", write_run_kmz(results, out / "run.kmz"))
        put("run.czml", write_run_czml(results, out / "run.czml"))
    if report:
        put("report.html", write_report(results, out / "report.html"))
    put("summary.json", results.write_summary(out / "summary.json"))
    return done
