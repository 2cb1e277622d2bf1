"""Engine throughput and scaling (fast fidelity): replications per second, cost vs replications,
threats and workers, and peak memory for a million replication x threat rows.

    .venv/bin/python benchmarks/bench_engine.py [--quick]

Targets (this 2-core machine): 10,000 replications of the demo in under 60 s; cost growing no
faster than linearly in replications and threats; 1,000,000 rows with peak memory under 2 GiB.

Cold, warm-cache and hot figures are reported apart (benchcommon): ``iadsim.simulate`` of the
demo in a fresh process with an empty numba cache (cold: compilation included), in a second
fresh process that finds the cache (warm-cache), and the median of later calls in that process
(hot). The in-process figures below the first rows are hot (after a warm-up call).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
console = Console()


def _scenario(threat_factor: int = 1):
    import iadsim
    from iadsim.scenario import scenario_from_dict

    path = iadsim.demo_scenario_path()
    data = yaml.safe_load(path.read_text())
    if threat_factor > 1:
        extra = []
        for k in range(1, threat_factor):
            for t in data["threats"]:
                c = dict(t)
                c["name"] = f"{t['name']}-{k}"
                c["launch_time_s"] = t.get("launch_time_s", 0) + 37 * k
                extra.append(c)
        data["threats"] = data["threats"] + extra
    return scenario_from_dict(data, source=str(path), base_dir=path.parent)


def _time(fn, repeat: int = 2) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _threat_steps(world, parts) -> int:
    """Threat-steps flown (from launch to kill, arrival or the end of the run), summed over replications:
    the work a saturated defence has to do grows with it."""
    import numpy as np

    from iadsim.montecarlo import concat

    r = concat(parts)
    stop = np.where(r.kill_step >= 0, r.kill_step, np.minimum(world.end_step, world.nsteps)[None, :])
    return int(np.maximum(stop - world.first_step[None, :], 0).sum())


COLD_CHILD = """
import json, time
t0 = time.perf_counter()
import iadsim
t1 = time.perf_counter()
ld = iadsim.load_scenario(iadsim.demo_scenario_path())
sim = dict(replications={n}, seed=1)
t2 = time.perf_counter()
iadsim.simulate(ld, **sim).replications
t3 = time.perf_counter()
hot = []
for _ in range({repeats}):
    a = time.perf_counter()
    iadsim.simulate(ld, **sim).replications
    hot.append(time.perf_counter() - a)
print(json.dumps({{"import_s": t1 - t0, "first_s": t3 - t2, "hot_s": hot}}))
"""


def cold_warm_hot(quick: bool) -> dict:
    """``iadsim.simulate`` of the demo (fast fidelity, result table included): the first call in
    a fresh process with an empty numba cache (cold), in a second fresh process with the cache
    filled (warm-cache), and the median of later calls there (hot)."""
    from benchcommon import fresh_process_timings, median

    n = 200 if quick else 1000
    repeats = 3
    cold, warm = fresh_process_timings(COLD_CHILD.format(n=n, repeats=repeats), runs=2)
    return {"replications": n, "cold_s": cold["first_s"], "warm_cache_s": warm["first_s"],
            "hot_s": median(warm["hot_s"]), "hot_runs_s": warm["hot_s"],
            "import_cold_s": cold["import_s"], "import_warm_s": warm["import_s"],
            "what": "iadsim.simulate(demo, replications=n).replications: world compile + "
                    "replications + result table; import timed apart"}


def bench(quick: bool) -> dict:
    import iadsim
    from iadsim.engine import compile_world
    from iadsim.montecarlo import run_replications

    out: dict = {"cold_warm_hot": cold_warm_hot(quick)}
    ld = _scenario(1)
    t0 = time.perf_counter()
    world = compile_world(ld)
    out["compile_world_s"] = time.perf_counter() - t0
    run_replications(world, 100, seed=1)  # numba warm-up (cache load), not timed
    n = 2000 if quick else 10_000
    t0 = time.perf_counter()
    res = iadsim.simulate(ld, replications=n, seed=1)
    _ = res.replications  # the result table is part of the job
    out["fast_total_s"] = time.perf_counter() - t0
    out["fast_replications"] = n
    out["fast_target_s"] = 60.0 * n / 10_000
    base = 500 if quick else 1000
    rows = []
    for f in (1, 4, 16):
        t = _time(lambda f=f: run_replications(world, base * f, seed=1))
        rows.append({"axis": "replications", "factor": f, "n": base * f, "seconds": t})
    for f in (1, 4, 16):
        w = compile_world(_scenario(f))
        run_replications(w, 50, seed=1)
        t = _time(lambda w=w: run_replications(w, base, seed=1))
        rows.append({"axis": "threats", "factor": f, "n": w.n_threats, "seconds": t,
                     "threat_steps": _threat_steps(w, run_replications(w, base, seed=1))})
    for workers in (1, 2):
        t = _time(lambda workers=workers: run_replications(world, base * 4, seed=1, workers=workers,
                                                             chunk_size=base), repeat=1)
        rows.append({"axis": "workers", "factor": workers, "n": base * 4, "seconds": t})
    out["scaling"] = rows
    out["full"] = full_fidelity(quick)
    out["saturation"] = saturation(quick)
    out["tracker_scaling"] = tracker_scaling(quick)
    out["memory"] = memory_probe(100_000 if quick else 1_000_000)
    return out


def _demo_data() -> tuple[dict, Path]:
    import iadsim

    path = iadsim.demo_scenario_path()
    return yaml.safe_load(path.read_text()), path


def full_fidelity(quick: bool) -> dict:
    """The demo at full fidelity (noisy radars, tracker in the loop); target >= 50 replications/s."""
    import iadsim
    from iadsim.scenario import scenario_from_dict

    data, path = _demo_data()
    data["simulation"]["fidelity"] = "full"
    ld = scenario_from_dict(data, source=str(path), base_dir=path.parent)
    iadsim.simulate(ld, replications=20, seed=1)  # compile / load the numba cache
    n = 200 if quick else 1000
    t0 = time.perf_counter()
    iadsim.simulate(ld, replications=n, seed=1)
    secs = time.perf_counter() - t0
    return {"replications": n, "seconds": secs, "per_s": n / secs, "target_per_s": 50.0}


def saturation(quick: bool) -> dict:
    """A raid of 100 one-way attack drones against the demo defence, full fidelity."""
    import iadsim
    from iadsim.scenario import scenario_from_dict

    data, path = _demo_data()
    data["simulation"]["fidelity"] = "full"
    data["threats"] = [{"name": "raid", "type": "shahed_136", "count": 100, "spacing_s": 6, "launch_time_s": 0,
                        "altitude_m": 300, "altitude_ref": "agl",
                        "route": [{"lat": -32.45, "lon": -70.72}, {"lat": -32.56, "lon": -70.715},
                                  {"lat": -32.64, "lon": -70.72}], "target": "airport"}]
    ld = scenario_from_dict(data, source=str(path), base_dir=path.parent)
    iadsim.simulate(ld, replications=2, seed=1)
    n = 20 if quick else 100
    t0 = time.perf_counter()
    res = iadsim.simulate(ld, replications=n, seed=1)
    secs = time.perf_counter() - t0
    df = res.replications
    return {"threats": 100, "replications": n, "seconds": secs, "per_s": n / secs,
            "mean_killed": float(df.groupby("replication").killed.sum().mean()),
            "mean_leaked": float(df.groupby("replication").leaked.sum().mean())}


def _raid(n: int) -> "object":
    """The demo defence, weapons hold, full fidelity, against n drones flying at once at constant
    density: groups of 10 (1 km apart along the route) abreast on parallel routes 500 m apart, so
    the front widens with n."""
    import copy

    from iadsim.scenario import scenario_from_dict

    data, path = _demo_data()
    d = copy.deepcopy(data)
    d["simulation"].update({"fidelity": "full", "duration_s": 900})
    for e in d["effectors"]:
        e.setdefault("doctrine", {})["fire"] = "hold"
    groups = max(n // 10, 1)
    dlon = 0.5 / (111.32 * 0.84)                      # 500 m at 33 deg S
    threats = []
    for g in range(groups):
        lon = -70.72 + (g - (groups - 1) / 2) * dlon
        threats.append({"name": f"g{g}", "type": "shahed_136", "count": n // groups, "spacing_s": 20,
                        "altitude_m": 300, "altitude_ref": "agl",
                        "route": [{"lat": -32.50, "lon": lon}, {"lat": -32.80, "lon": lon}]})
    d["threats"] = threats
    return scenario_from_dict(d, source=str(path), base_dir=path.parent)


def _lsa_per_scan(n: int, repeats: int) -> float:
    """scipy's linear_sum_assignment on the textbook GNN cost matrix [n, 2n] of one scan: n targets
    500 m apart, their measurements (P_D 0.9, 50 m noise per axis), squared Mahalanobis distances
    inside a 99% chi-square gate, the gate itself for 'no measurement'."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    rng = np.random.default_rng(n)
    side = int(np.ceil(np.sqrt(n)))
    xy = np.stack(np.meshgrid(np.arange(side), np.arange(side)), -1).reshape(-1, 2)[:n] * 500.0
    det = rng.random(n) < 0.9
    z = xy[det] + rng.normal(0.0, 50.0, (int(det.sum()), 2))
    var = 2 * 50.0 ** 2                                   # track + measurement variance per axis
    d2 = ((xy[:, None, :] - z[None, :, :]) ** 2).sum(-1) / var
    gate = 9.21
    C = np.full((n, z.shape[0] + n), np.inf)
    C[:, : z.shape[0]] = np.where(d2 <= gate, d2, np.inf)
    C[np.arange(n), z.shape[0] + np.arange(n)] = gate
    walls = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        linear_sum_assignment(C)
        walls.append(time.perf_counter() - t0)
    return float(np.median(walls))


def tracker_scaling(quick: bool) -> dict:
    """The engine's own tracker (the compiled full-fidelity loop) with 50, 200 and 1,000 drones in
    the air at once: wall time of one replication per radar scan, against the assignment alone."""
    import math


    from iadsim.engine import compile_world, simulate_chunk

    rows = []
    for n in ((50, 200) if quick else (50, 200, 1000)):
        world = compile_world(_raid(n))
        simulate_chunk(world, 1, 0, 1)                    # numba cache load, not timed
        best = float("inf")
        for _ in range(2):
            t0 = time.perf_counter()
            r = simulate_chunk(world, 1, 0, 1)
            best = min(best, time.perf_counter() - t0)
        steps = int(min(world.end_step.max(), world.nsteps))
        scans = int(world.scan[:steps].sum())
        rows.append({"targets": n, "steps": steps, "radar_scans": scans, "seconds": best,
                     "ms_per_scan": 1e3 * best / scans,
                     "tracks_confirmed": float(r.track_stats[0, 1]),
                     "firm_fraction": float((r.firm_step[0] >= 0).mean()),
                     "mean_position_error_m": float(r.track_stats[0, 2]),
                     "lsa_ms_per_scan": 1e3 * _lsa_per_scan(n, 5)})
    a, b = rows[0], rows[-1]
    f = math.log(b["targets"] / a["targets"])
    growth = {"tracker": math.log(b["ms_per_scan"] / a["ms_per_scan"]) / f,
              "assignment": math.log(b["lsa_ms_per_scan"] / a["lsa_ms_per_scan"]) / f}
    return {"rows": rows, "growth": growth, "met": growth["tracker"] <= growth["assignment"]}


def memory_probe(rows: int) -> dict:
    """Peak RSS of a fresh process that runs the demo for ``rows`` replication x threat rows and
    writes replications.parquet (the child's own getrusage, so earlier children of this benchmark,
    such as a worker pool, do not count)."""
    code = textwrap.dedent(f"""
        import resource, sys, time, iadsim, pathlib, tempfile
        ld = iadsim.load_scenario(iadsim.demo_scenario_path())
        reps = -(-{rows} // 7)
        t0 = time.perf_counter()
        res = iadsim.simulate(ld, replications=reps, seed=1, chunk_size=5000)
        with tempfile.TemporaryDirectory() as d:
            res.write_parquet(pathlib.Path(d) / "r.parquet")
        print(reps, time.perf_counter() - t0, len(res.replications),
              resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    reps, secs, nrows, peak_kib = p.stdout.split()
    peak = int(peak_kib) / 1024
    return {"rows": int(nrows), "replications": int(reps), "seconds": float(secs),
            "peak_rss_mib": peak, "limit_mib": 2048, "met": peak < 2048,
            "note": "peak resident set size of the child process (its own ru_maxrss); includes Python, "
                    "numba, pyarrow"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    r = bench(args.quick)
    r["quick"] = args.quick
    t = Table(title="iadsim engine (fast fidelity), demo scenario")
    for c in ("measure", "value", "target", "met"):
        t.add_column(c)
    c = r["cold_warm_hot"]
    for key, label in (("cold_s", "cold: fresh process, empty numba cache"),
                       ("warm_cache_s", "warm-cache: fresh process"),
                       ("hot_s", "hot: median of later calls")):
        t.add_row(f"simulate demo, {c['replications']} replications, {label}", f"{c[key]:.2f} s", "", "")
    ok = r["fast_total_s"] < r["fast_target_s"]
    t.add_row(f"{r['fast_replications']} replications incl. result table", f"{r['fast_total_s']:.2f} s "
              f"({r['fast_replications'] / r['fast_total_s']:.0f}/s)", f"< {r['fast_target_s']:.0f} s",
              "yes" if ok else "NO")
    t.add_row("compile world (terrain, coverage, envelopes)", f"{r['compile_world_s']:.2f} s", "", "")
    for row in r["scaling"]:
        b = next(x for x in r["scaling"] if x["axis"] == row["axis"] and x["factor"] == 1)
        ratio = row["seconds"] / b["seconds"]
        lin = row["factor"] if row["axis"] != "workers" else 1
        if row["axis"] == "threats":
            # more threats also fly longer (the defence saturates): compare with the work to do
            lin = row["threat_steps"] / b["threat_steps"]
        t.add_row(f"{row['axis']} x{row['factor']} (n={row['n']})", f"{row['seconds']:.3f} s  ({ratio:.2f}x)",
                  (f"<= {lin:.1f}x" + (" (threat-steps)" if row["axis"] == "threats" else ""))
                  if row["axis"] != "workers" else "", "" if row["axis"] == "workers" else
                  ("yes" if ratio <= lin * 1.15 else "NO"))
    f = r["full"]
    t.add_row(f"full fidelity: {f['replications']} replications", f"{f['seconds']:.2f} s ({f['per_s']:.0f}/s)",
              ">= 50/s", "yes" if f["per_s"] >= 50 else "NO")
    sat = r["saturation"]
    t.add_row(f"saturation: 100 Shahed-class drones, full fidelity, {sat['replications']} replications",
              f"{sat['seconds']:.2f} s ({sat['per_s']:.1f}/s); killed {sat['mean_killed']:.1f}, "
              f"leaked {sat['mean_leaked']:.1f} per raid", "finishes", "yes")
    ts = r["tracker_scaling"]
    for row in ts["rows"]:
        t.add_row(f"engine tracker, {row['targets']} drones in the air, weapons hold (1 replication)",
                  f"{row['seconds']:.2f} s, {row['ms_per_scan']:.3f} ms per radar scan "
                  f"(assignment alone {row['lsa_ms_per_scan']:.3f} ms); "
                  f"{row['firm_fraction']:.0%} tracked, error {row['mean_position_error_m']:.0f} m", "", "")
    t.add_row("engine tracker cost per scan, growth with targets",
              f"n^{ts['growth']['tracker']:.2f} (assignment alone n^{ts['growth']['assignment']:.2f})",
              "no faster than the assignment", "yes" if ts["met"] else "NO")
    m = r["memory"]
    t.add_row(f"{m['rows']:,} rows: run + Parquet, peak RSS", f"{m['peak_rss_mib']:.0f} MiB ({m['seconds']:.1f} s)",
              "< 2048 MiB", "yes" if m["met"] else "NO")
    console.print(t)
    from benchcommon import write_result

    path = write_result("engine", r)
    console.print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
