"""Engine throughput and scaling (fast fidelity): replications per second, cost vs replications,
threats and workers, and peak memory for a million replication x threat rows.

    .venv/bin/python benchmarks/bench_engine.py [--quick]

Targets (this 2-core machine): 10,000 replications of the demo in under 60 s; cost growing no
faster than linearly in replications and threats; 1,000,000 rows with peak memory under 2 GiB.

Cold, warm-cache and hot figures are reported apart (benchcommon): ``iadsim.simulate`` of the
demo in a fresh process with an empty numba cache (cold: compilation included), in a second
fresh process that finds the cache (warm-cache), and the median of later calls in that process
(hot). The in-process figures below the first rows are hot (after a warm-up call).

First, the same-run comparison (``--same-run``: only it): the demo's hot replications per second,
fast and full fidelity (targets 5,000/s and 1,000/s), of this engine and of a baseline commit
(``--baseline``, default BASELINE_REF) run from its own extracted src/ in its own processes,
rounds interleaved, compile_world timed apart, outcomes compared byte for byte; written to
results/engine_same_run.json.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import textwrap
import time
import zlib
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


# --- the engine against a baseline engine, same run --------------------------------------------

#: the engine the same-run comparison measures against by default: main before the speed work on
#: parameter seeding and the kernels (override with --baseline REF)
BASELINE_REF = "d3d8a74"
SAME_RUN_TARGETS = {"fast": 5000.0, "full": 1000.0}   # replications/s of the demo (open issues)

SAME_RUN_CHILD = r"""
import hashlib, json, os, sys, time
t0 = time.perf_counter()
import numpy as np
import yaml
import iadsim
from iadsim.engine import compile_world
from iadsim.montecarlo import concat, run_replications
from iadsim.scenario import scenario_from_dict
import_s = time.perf_counter() - t0
spec = json.loads(sys.argv[1])
out = {"import_s": import_s, "load_average": list(os.getloadavg()), "runs": []}
for job in spec["jobs"]:
    path = iadsim.demo_scenario_path() if job["scenario"] == "demo" else job["scenario"]
    import pathlib
    path = pathlib.Path(path)
    data = yaml.safe_load(path.read_text())
    data["simulation"]["fidelity"] = job["fidelity"]
    ld = scenario_from_dict(data, source=str(path), base_dir=path.parent)
    a = time.perf_counter()
    world = compile_world(ld)
    cw_first = time.perf_counter() - a
    a = time.perf_counter()
    world = compile_world(ld)
    cw_hot = time.perf_counter() - a
    n = job["replications"]
    a = time.perf_counter()
    run_replications(world, 20, seed=job["seed"])      # first call: compile or load the numba cache
    first = time.perf_counter() - a
    hot = []
    cpu = []
    for _ in range(job["repeats"]):
        a = time.perf_counter()
        c = time.process_time()
        parts = run_replications(world, n, seed=job["seed"])
        cpu.append(time.process_time() - c)
        hot.append(time.perf_counter() - a)
    r = concat(parts)
    h = hashlib.sha256()
    for name in ("det_step", "firm_step", "eng_step", "shots", "kill_step", "killer", "leak_step", "expended"):
        h.update(np.ascontiguousarray(getattr(r, name)).tobytes())
    if r.track_stats is not None:
        h.update(np.ascontiguousarray(r.track_stats).tobytes())
    out["runs"].append({**job, "compile_world_first_s": cw_first, "compile_world_hot_s": cw_hot,
                        "first_call_s": first, "hot_s": hot, "best_hot_s": min(hot),
                        "cpu_us_per_replication": 1e6 * min(cpu) / n,
                        "replications_per_s": n / min(hot), "outcomes_sha256": h.hexdigest()})
print(json.dumps(out))
"""


def _baseline_tree(ref: str) -> Path:
    """The baseline's src/ extracted (git archive) into a folder kept between runs, so its numba
    cache stays warm there; keyed by the full commit hash."""
    import tarfile
    import tempfile

    sha = subprocess.run(["git", "-C", str(HERE.parent), "rev-parse", ref], capture_output=True, text=True,
                         check=True).stdout.strip()
    root = Path(tempfile.gettempdir()) / f"iadsim-baseline-{sha[:12]}"
    if not (root / "src" / "iadsim").is_dir():
        tmp = root.with_name(root.name + f".part{os.getpid()}")
        tmp.mkdir(parents=True, exist_ok=True)
        data = subprocess.run(["git", "-C", str(HERE.parent), "archive", sha, "src"], capture_output=True,
                              check=True).stdout
        import io

        with tarfile.open(fileobj=io.BytesIO(data)) as tf:
            tf.extractall(tmp, filter="data")
        try:
            tmp.rename(root)
        except OSError:                       # another run extracted it meanwhile
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    return root


def _same_run_child(src: Path, jobs: list[dict], cache_dir: str) -> dict:
    import json

    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir, PYTHONPATH=str(src))
    p = subprocess.run([sys.executable, "-c", SAME_RUN_CHILD, json.dumps({"jobs": jobs})], capture_output=True,
                       text=True, env=env, timeout=1800, cwd=str(src.parent))
    if p.returncode != 0:
        raise RuntimeError(f"same-run child ({src}) failed ({p.returncode}):\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def same_run(quick: bool, baseline: str = BASELINE_REF, cold: bool = True) -> dict:
    """The demo's hot replications per second, fast and full fidelity, of this engine and of the
    baseline engine (``baseline``: a git commit, its src/ run in its own process with its own
    PYTHONPATH), in the same run: rounds alternate baseline, this engine, baseline, ... Each process
    times compile_world apart (first and second call), the first run_replications call (cold:
    with an empty numba cache, in the first round when ``cold``; warm-cache otherwise) and then
    the best of ``repeats`` hot run_replications calls (kernel, parameter draws and chunking;
    compile_world and the result table excluded). The saturation-raid example is timed beside."""
    import shutil
    import tempfile

    base_src = _baseline_tree(baseline) / "src"
    this_src = HERE.parent / "src"
    reps = {"fast": 1000 if quick else 4000, "full": 300 if quick else 1000}
    jobs = [{"scenario": "demo", "fidelity": f, "replications": reps[f], "repeats": 3, "seed": 1}
            for f in ("fast", "full")]
    sat = str(HERE.parent / "examples" / "saturation-raid" / "scenario.yaml")
    jobs += [{"scenario": sat, "fidelity": "fast", "replications": 500 if quick else 2000, "repeats": 2, "seed": 1},
             {"scenario": sat, "fidelity": "full", "replications": 50 if quick else 200, "repeats": 2, "seed": 1}]
    rounds = 2 if quick else 4
    caches = {side: tempfile.mkdtemp(prefix=f"iadsim-same-run-{side}-") for side in ("baseline", "this")}
    if not cold:   # keep a warm cache per tree between benchmark runs
        caches = {"baseline": str(base_src.parent / ".numba-cache"),
                  "this": str(Path(tempfile.gettempdir()) / f"iadsim-same-run-cache-{zlib.crc32(str(HERE).encode()):08x}")}
    seen: dict[str, list[dict]] = {"baseline": [], "this": []}
    try:
        for _ in range(rounds):
            for side, src in (("baseline", base_src), ("this", this_src)):
                console.print(f"same run: {side} engine, round {len(seen[side]) + 1} of {rounds}")
                seen[side].append(_same_run_child(src, jobs, caches[side]))
    finally:
        if cold:
            for c in caches.values():
                shutil.rmtree(c, ignore_errors=True)

    def summary(side: str) -> list[dict]:
        out = []
        for j, job in enumerate(jobs):
            runs = [rnd["runs"][j] for rnd in seen[side]]
            best = min(r["best_hot_s"] for r in runs)
            out.append({"scenario": "capital-whatif (demo)" if job["scenario"] == "demo" else "saturation-raid",
                        "fidelity": job["fidelity"], "replications": job["replications"],
                        "hot_replications_per_s": job["replications"] / best,
                        "hot_replications_per_s_each_round": [r["replications_per_s"] for r in runs],
                        "cpu_us_per_replication": min(r["cpu_us_per_replication"] for r in runs),
                        "first_call_s": {"cold" if cold else "warm_cache": runs[0]["first_call_s"],
                                         "warm_cache": min(r["first_call_s"] for r in runs[1:])},
                        "compile_world_s": {"first_in_process": min(r["compile_world_first_s"] for r in runs),
                                            "hot": min(r["compile_world_hot_s"] for r in runs)},
                        "outcomes_sha256": sorted({r["outcomes_sha256"] for r in runs})})
        return out

    base, this = summary("baseline"), summary("this")
    rows = []
    for b, a in zip(base, this):
        rows.append({"scenario": a["scenario"], "fidelity": a["fidelity"],
                     "baseline_per_s": round(b["hot_replications_per_s"], 1),
                     "this_per_s": round(a["hot_replications_per_s"], 1),
                     "speedup": round(a["hot_replications_per_s"] / b["hot_replications_per_s"], 2),
                     "baseline_cpu_us_per_replication": round(b["cpu_us_per_replication"], 1),
                     "this_cpu_us_per_replication": round(a["cpu_us_per_replication"], 1),
                     "cpu_ratio": round(b["cpu_us_per_replication"] / a["cpu_us_per_replication"], 2),
                     "same_numbers": a["outcomes_sha256"] == b["outcomes_sha256"]})
    demo = {r["fidelity"]: r for r in rows if r["scenario"].startswith("capital-whatif")}
    targets = {f: {"target_per_s": t, "this_per_s": demo[f]["this_per_s"], "met": demo[f]["this_per_s"] >= t}
               for f, t in SAME_RUN_TARGETS.items()}
    return {"name": "engine_same_run",
            "what": "hot replications per second of iadsim's engine (run_replications: parameter draws, kernel, "
                    "chunking; compile_world and the result table timed apart), this engine against the baseline "
                    "commit, in one run on one machine, rounds interleaved, best round",
            "cpu": "cpu_us_per_replication: process CPU time (all threads) of the best hot call per replication, "
                   "less sensitive than wall time to other work on the machine; cpu_ratio = baseline / this",
            "timing": f"each process: compile_world twice (first, hot), one warm-up call of 20 replications "
                      f"(first call: {'cold in round 1 (empty NUMBA_CACHE_DIR), warm-cache after' if cold else 'warm-cache'}), "
                      f"then the best of the job's repeats; {rounds} rounds per engine, alternating",
            "baseline": {"ref": baseline, "commit": subprocess.run(["git", "-C", str(HERE.parent), "rev-parse", baseline],
                                                                   capture_output=True, text=True).stdout.strip()},
            "comparison": rows, "targets": targets, "met": all(t["met"] for t in targets.values()),
            "load_average_per_process": {s: [r["load_average"] for r in seen[s]] for s in seen},
            "baseline_engine": base, "this_engine": this, "quick": quick,
            "note": "2-core machine shared with other work; load not controlled: see the load averages"}


def print_same_run(r: dict) -> None:
    t = Table(title=f"iadsim engine against {r['baseline']['ref']}, same run (hot replications/s)")
    for c in ("scenario", "fidelity", "baseline", "this engine", "speedup", "CPU us/rep", "same numbers", "target",
              "met"):
        t.add_column(c)
    for row in r["comparison"]:
        tg = r["targets"].get(row["fidelity"]) if row["scenario"].startswith("capital-whatif") else None
        t.add_row(row["scenario"].split(" ")[0], row["fidelity"], f"{row['baseline_per_s']:.0f}",
                  f"{row['this_per_s']:.0f}", f"{row['speedup']:.2f}x",
                  f"{row['baseline_cpu_us_per_replication']:.0f} -> {row['this_cpu_us_per_replication']:.0f}",
                  "yes" if row["same_numbers"] else "NO",
                  f">= {tg['target_per_s']:.0f}" if tg else "", ("yes" if tg["met"] else "NO") if tg else "")
    Console(width=max(console.width, 132)).print(t)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--same-run", action="store_true",
                    help="only the comparison with the baseline engine (results/engine_same_run.json)")
    ap.add_argument("--baseline", default=BASELINE_REF, help="git commit of the baseline engine")
    ap.add_argument("--no-cold", action="store_true", help="same run: keep a warm numba cache (no cold figures)")
    args = ap.parse_args()
    from benchcommon import write_result

    sr = same_run(args.quick, args.baseline, cold=not args.no_cold)
    print_same_run(sr)
    console.print(f"wrote {write_result('engine_same_run', sr)}")
    if args.same_run:
        return 0 if sr["met"] else 1
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
