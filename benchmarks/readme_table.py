"""Print the README's benchmark table (markdown) from the committed benchmarks/results/*.json.

    python benchmarks/readme_table.py            # all suites found
    python benchmarks/readme_table.py --check    # exit 1 if a suite's JSON is missing

Every number comes from a result file (nothing typed by hand); each row says which figure it
is: cold (first call, fresh process, empty numba cache), warm-cache (fresh process) or hot
(steady state). A suite whose JSON is absent is listed as "not run". The machine, date and
command of each file are printed under the table.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
SUITES = ("demo", "engine", "coverage", "tracking", "wta")


def _load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _s(x: float | None) -> str:
    if x is None:
        return "n/a"
    if x >= 10:
        return f"{x:.0f} s"
    if x >= 1:
        return f"{x:.1f} s"
    return f"{1e3 * x:.0f} ms" if x >= 0.01 else f"{1e3 * x:.1f} ms"


def _quick(r: dict) -> str:
    q = r.get("quick")
    if q is None:
        q = (r.get("settings") or {}).get("quick")
    return " (quick form)" if q else ""


def rows_demo(r: dict) -> list[tuple]:
    cmd = r.get("command_run", "iadsim demo")
    return [("demo", f"`{cmd}` ({r['replications']:,} replications, all outputs), whole "
                     f"command{_quick(r)}",
             f"cold {_s(r.get('cold_s', r['first_run_s']))} (empty numba cache) / warm-cache "
             f"{_s(r.get('warm_cache_s', r['best_s']))}; kernel alone (hot) "
             f"{_s(r['replications_s'])}", f"< {r['target_s']:.0f} s warm-cache")]


def rows_engine(r: dict) -> list[tuple]:
    out = []
    c = r.get("cold_warm_hot")
    if c:
        out.append(("engine", f"`simulate` demo, {c['replications']:,} replications + table"
                              f"{_quick(r)}",
                    f"cold {_s(c['cold_s'])} / warm-cache {_s(c['warm_cache_s'])} / hot "
                    f"{_s(c['hot_s'])}", ""))
    n = r["fast_replications"]
    out.append(("engine", f"{n:,} replications of the demo, fast fidelity (hot)",
                f"{_s(r['fast_total_s'])} ({n / r['fast_total_s']:,.0f}/s)",
                f"< {r['fast_target_s']:.0f} s"))
    f = r.get("full")
    if f:
        out.append(("engine", "full fidelity (noisy radars + tracker in the loop, hot)",
                    f"{f['per_s']:,.0f} replications/s", f">= {f['target_per_s']:.0f}/s"))
    m = r.get("memory")
    if m:
        out.append(("engine", f"{m['rows']:,} replication x threat rows, run + Parquet",
                    f"peak RSS {m['peak_rss_mib']:,.0f} MiB", f"< {m['limit_mib']:,} MiB"))
    ts = r.get("tracker_scaling")
    if ts:
        per = " / ".join(f"{x['ms_per_scan']:.3f}" for x in ts["rows"])
        tg = " / ".join(str(x["targets"]) for x in ts["rows"])
        out.append(("engine", f"engine tracker, {tg} drones in the air (hot)",
                    f"{per} ms per radar scan, n^{ts['growth']['tracker']:.2f} (assignment "
                    f"alone n^{ts['growth']['assignment']:.2f})", "no faster than the assignment"))
    return out


def rows_coverage(r: dict) -> list[tuple]:
    out = []
    n = r["settings"]["n"]
    for name in ("real", "synthetic"):
        d = r["dems"].get(name)
        if not d:
            continue
        parts = [f"iadsim sweep {_s(d['sweep']['best_s'])} ({_s(d['sweep_1thread']['best_s'])} "
                 "on 1 thread), in-process, hot"]
        if "iadsim_process" in d:
            parts.append(f"whole process {_s(d['iadsim_process']['best_s'])} vs "
                         f"`gdal_viewshed` process {_s(d['gdal_normal']['best_s'])}")
        elif "gdal_normal" in d:
            parts.append(f"`gdal_viewshed` process {_s(d['gdal_normal']['best_s'])}")
        else:
            parts.append("GDAL not installed: no comparison")
        if "gdal_api" in d:
            parts.append(f"GDAL compute only {_s(d['gdal_api']['best_s'])}")
        out.append(("coverage", f"one radar, {n}^2 {name} DEM, 50 km{_quick(r)}",
                    "; ".join(parts), "faster than GDAL's binary, like for like"))
    return out


def rows_tracking(r: dict) -> list[tuple]:
    sd = r["side_by_side"]
    t = sd.get("timings")
    out = []
    if t:
        i, s = t["iadsim"], t["stonesoup"]
        out.append(("tracking", f"{sd['targets']} targets x {sd['scans']} scans vs Stone Soup "
                                f"(kd-tree GNN){_quick(r)}",
                    f"iadsim cold {_s(i['cold_s'])} / warm-cache {_s(i['warm_cache_s'])} / hot "
                    f"{_s(i['hot_s'])}; Stone Soup cold {_s(s['cold_s'])} / warm-cache "
                    f"{_s(s['warm_cache_s'])} / hot {_s(s['hot_s'])} (hot ratio "
                    f"x{sd['speedup']:,.0f}); OSPA {sd['ospa_iadsim_m']:.2f} m vs "
                    f"{sd['ospa_stonesoup_m']:.2f} m", "x100 hot, OSPA <= +5%"))
        e = sd.get("engine")
        if e and "engine" in t:
            te = t["engine"]
            big = r["scaling"][-1]
            out.append(("tracking", f"the engine's tracker (tracking/core.py), same detections vs Stone Soup"
                                    f"{_quick(r)}",
                        f"cold {_s(te['cold_s'])} / warm-cache {_s(te['warm_cache_s'])} / hot "
                        f"{_s(te['hot_s'])} (warm-cache ratio x{e['speedup_warm_cache']:,.0f}, hot "
                        f"x{e['speedup_hot']:,.0f}); OSPA {e['ospa_engine_m']:.2f} m vs "
                        f"{e['ospa_stonesoup_m']:.2f} m; {big['engine_ms_per_scan']:.1f} ms/scan at "
                        f"{big['targets']:,} targets (stand-alone package {big['iadsim_ms_per_scan']:.1f})",
                        "x20 incl. warm-cache load, OSPA no worse, <= 2x package per scan"))
    else:
        out.append(("tracking", f"{sd['targets']} targets x {sd['scans']} scans vs Stone Soup",
                    f"{_s(sd['iadsim_s'])} vs {_s(sd['stonesoup_s'])}", "x100"))
    return out


def rows_wta(r: dict) -> list[tuple]:
    out = []
    s = r["summary"]
    if s.get("vlns_worst_gap") is not None and "reported_instances" in r:
        k = len(r["reported_instances"])
        bound = s.get("vlns_worst_gap_to_bound")
        out.append(("wta", f"`vlns` on {k} held-out instances (not used for tuning){_quick(r)}",
                    f"<= {100 * s['vlns_worst_gap']:.2f}% from the best found by any policy "
                    "(exact starts from vlns)"
                    + (f" (<= {100 * bound:.2f}% from a proven bound)" if bound is not None
                       else "") + f", <= {s['vlns_max_cpu_s']:.2f} s CPU each", "<= 0.5%, < 1 s"))
    tun = s.get("tuning_set")
    if tun and tun.get("vlns_worst_gap_to_best_known") is not None:
        out.append(("wta", "`vlns` on the published instances (its tuning set)",
                    f"<= {100 * tun['vlns_worst_gap_to_best_known']:.2f}% from the best known, "
                    f"<= {tun['vlns_max_cpu_s']:.2f} s CPU each", "(tuning set)"))
    ex = s.get("exact_proved_50x100") or {}
    if ex:
        proven = sum(v["proven"] for v in ex.values())
        walls = [v["wall_s"] for v in ex.values()]
        out.append(("wta", "`exact` (outer approximation, HiGHS), 50x100 instances",
                    f"proves {proven} of {len(ex)} ({_s(min(walls))}-{_s(max(walls))})",
                    "proves 50x100"))
    return out


ROWS = {"demo": rows_demo, "engine": rows_engine, "coverage": rows_coverage,
        "tracking": rows_tracking, "wta": rows_wta}


def table() -> tuple[str, list[str]]:
    lines = ["| suite | measure | result | target |", "| --- | --- | --- | --- |"]
    notes, missing = [], []
    for name in SUITES:
        r = _load(name)
        if r is None:
            lines.append(f"| {name} | not run | `benchmarks/results/{name}.json` missing | |")
            missing.append(name)
            continue
        for suite, measure, result, target in ROWS[name](r):
            lines.append(f"| {suite} | {measure} | {result} | {target} |")
        m = r.get("machine") or {}
        notes.append(f"- {name}: {m.get('cpu_count', '?')} cores, {m.get('platform', '?')}, "
                     f"Python {m.get('python', '?')}, numba {m.get('numba', '?')}"
                     + (f", Stone Soup {m['stonesoup']}" if m.get("stonesoup") else "")
                     + (f"; load average {m['load_average_at_start'][0]:.1f} at start"
                        if m.get("load_average_at_start") else "")
                     + f"; {r.get('date', '?')}; `{r.get('command', '?')}`")
    return "\n".join(lines) + "\n\nMeasured with:\n" + "\n".join(notes), missing


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when a suite's JSON is missing")
    args = ap.parse_args()
    text, missing = table()
    print(text)
    return 1 if (args.check and missing) else 0


if __name__ == "__main__":
    sys.exit(main())
