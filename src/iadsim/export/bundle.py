"""Write everything a run produces into one folder (each file atomically)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import yaml

from iadsim.export.geojson import scenario_geojson
from iadsim.export.geotiff import write_geotiff
from iadsim.results import Results
from iadsim.results.io import prepare_out_dir, write_text, write_with


def _scenario_text(results: Results) -> str:
    ld = results.world.loaded
    src = Path(ld.source)
    header = f"# scenario used by this run (from {ld.source})\n"
    if src.is_file():
        return header + src.read_text(encoding="utf-8")
    return header + yaml.safe_dump(ld.scenario.model_dump(mode="json"), sort_keys=False)


def _catalog_text(results: Results) -> str:
    w = results.world
    names = sorted(set(w.effector_system) | set(w.threat_type)
                   | {w.loaded.catalog[s.system].name for s in w.scenario.sensors})
    entries = {n: w.loaded.catalog[n].model_dump(mode="json", exclude_none=True) for n in names}
    return "# catalog entries used by this run\n" + yaml.safe_dump(entries, sort_keys=False, allow_unicode=True)


def write_outputs(results: Results, out: str | Path, report: bool = True,
                  on_file: Callable[[str], None] | None = None) -> dict[str, Path]:
    """Write the run's outputs into ``out``; returns name -> path of every file written."""
    from iadsim.report import write_report

    out = prepare_out_dir(out)
    done: dict[str, Path] = {}
    note = on_file or (lambda name: None)

    def put(name: str, path: Path) -> None:
        done[name] = path
        note(name)

    put("replications.parquet", results.write_parquet(out / "replications.parquet"))
    put("expenditure.parquet", write_with(out / "expenditure.parquet",
                                          lambda p: results.expenditure.to_parquet(p, index=False)))
    put("timeline.csv", write_with(out / "timeline.csv", lambda p: results.timeline.to_csv(p, index=False)))
    put("scenario.yaml", write_text(out / "scenario.yaml", _scenario_text(results)))
    put("catalog.yaml", write_text(out / "catalog.yaml", _catalog_text(results)))
    put("routes.geojson", write_text(out / "routes.geojson", json.dumps(scenario_geojson(results))))
    cov = out / "coverage"
    cov.mkdir(exist_ok=True)
    w = results.world
    for name, mva in zip(w.sensor_labels, w.mva):
        agl = mva - w.terrain.elevation_m
        p = write_geotiff(cov / f"{name}.min_visible_altitude.tif", w.grid, [mva, agl],
                          ["minimum visible altitude above mean sea level [m]",
                           "minimum visible height above ground [m]"])
        put(f"coverage/{p.name}", p)
    if report:
        put("report.html", write_report(results, out / "report.html"))
    put("summary.json", results.write_summary(out / "summary.json"))
    return done
