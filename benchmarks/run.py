"""iadsim benchmarks: one command, a table on the terminal, JSON on disk.

    make bench                    # or: .venv/bin/python benchmarks/run.py [--quick] [--only demo engine ...]

Suites: demo (`iadsim demo`, 1,000 replications, < 60 s), engine (throughput, scaling, memory),
coverage (minimum-visible-altitude raster vs gdal_viewshed), tracking (vs Stone Soup), wta (the
public weapon-target assignment instances).

Timings include interpreter start, imports and setup (the whole `iadsim demo` command), as a
user experiences them; every suite reports cold (compile included), warm-cache and hot figures
apart. Results go to benchmarks/results/<name>.json with the machine, versions, command and
date; these files are committed, and `benchmarks/readme_table.py` prints the README's table from
them. A suite whose data are missing fails (non-zero exit).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
console = Console()


def machine() -> dict:
    import numba
    import numpy

    return {"python": platform.python_version(), "platform": platform.platform(),
            "cpu_count": os.cpu_count(), "processor": platform.processor() or platform.machine(),
            "numpy": numpy.__version__, "numba": numba.__version__}


def bench_demo(replications: int, repeats: int) -> dict:
    """Wall time of the full `iadsim demo` command (1,000 replications by default); target < 60 s."""
    exe = Path(sys.executable).with_name("iadsim")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "iadsim"]
    walls = []
    with tempfile.TemporaryDirectory() as tmp:
        # the first run starts with an empty numba cache (cold: compilation included); the later
        # runs are fresh processes that find it filled (warm-cache); report both
        env = dict(os.environ, NUMBA_CACHE_DIR=str(Path(tmp) / "numba-cache"))
        for i in range(repeats + 1):
            out = Path(tmp) / f"run{i}"
            t0 = time.perf_counter()
            subprocess.run(cmd + ["demo", "-n", str(replications), "--out", str(out), "--quiet"],
                           check=True, env=env)
            walls.append(time.perf_counter() - t0)
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    # in-process breakdown
    import iadsim
    from iadsim.engine import compile_world
    from iadsim.montecarlo import run_replications

    ld = iadsim.load_scenario(iadsim.demo_scenario_path())
    t0 = time.perf_counter()
    world = compile_world(ld)
    t_compile = time.perf_counter() - t0
    t0 = time.perf_counter()
    run_replications(world, replications, seed=1)
    t_run = time.perf_counter() - t0
    return {"name": "demo", "command_run": " ".join(["iadsim", "demo", "-n", str(replications)]),
            "replications": replications, "first_run_s": walls[0], "runs_s": walls[1:],
            "cold_s": walls[0], "warm_cache_s": min(walls[1:]),
            "timing": "cold: first `iadsim demo` process with an empty NUMBA_CACHE_DIR; warm-cache: "
                      "best later process; replications_s: hot, in-process after compile_world",
            "best_s": min(walls[1:]), "target_s": 60.0, "met": min(walls[1:]) < 60.0,
            "compile_world_s": t_compile, "replications_s": t_run,
            "replications_per_s": replications / t_run, "output_bytes": size}


SUITES = ("demo", "engine", "coverage", "tracking", "wta", "validation")


def run_suite(name: str, quick: bool) -> int:
    """Run benchmarks/<name>.py in its own process (it prints its table and writes its JSON)."""
    # scripts are named bench_<suite>.py: a benchmarks/bench_coverage.py would shadow the coverage package
    # (numba imports it) when Python puts this folder first on sys.path
    script = HERE / f"bench_{name}.py"
    console.rule(f"[bold]{name}")
    if not script.exists():
        console.print(f"{script} is missing")
        return 2
    cmd = [sys.executable, str(script)] + (["--quick"] if quick else [])
    return subprocess.run(cmd).returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller problems and one repeat")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--only", nargs="*", choices=SUITES, help="run only these suites (default: all)")
    args = ap.parse_args()
    chosen = args.only or list(SUITES)
    codes = {}
    for name in chosen:
        codes[name] = (demo_main(args) if name == "demo" else validation_main(args) if name == "validation"
                       else run_suite(name, args.quick))
    console.rule("[bold]summary")
    for name, code in codes.items():
        console.print(f"{name:10s} {'ok' if code == 0 else 'target missed or failed (exit ' + str(code) + ')'}"
                      f"   results: {RESULTS / (name + '.json')}")
    return 0 if all(c == 0 for c in codes.values()) else 1


def validation_main(args) -> int:
    """The validation suite in full (each case's own replications; --quick: the CI form), its table
    and page in benchmarks/results/validation/, a summary in results/validation.json. Fails when a
    case that is not a known failure misses its band."""
    exe = Path(sys.executable).with_name("iadsim")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "iadsim"]
    out = RESULTS / "validation"
    t0 = time.perf_counter()
    code = subprocess.run(cmd + ["validation", "run", "-o", str(out), "--force"]
                          + (["--quick"] if args.quick else [])).returncode
    wall = time.perf_counter() - t0
    data = json.loads((out / "validation.json").read_text()) if (out / "validation.json").exists() else {}
    from benchcommon import write_result

    res = {"name": "validation", "command_run": "iadsim validation run" + (" --quick" if args.quick else ""),
           "wall_s": wall, "counts": data.get("counts"), "quick": args.quick,
           "cases": [{"name": c["name"], "status": c["status"],
                      "simulated": [v["simulated"] for v in c["variants"]], "band": c["band"]}
                     for c in data.get("cases", [])]}
    console.print(f"wrote {write_result('validation', res)}")
    return code


def demo_main(args) -> int:
    reps = 200 if args.quick else 1000
    RESULTS.mkdir(exist_ok=True)
    res = bench_demo(reps, 1 if args.quick else args.repeats)
    res["machine"] = machine()
    res["date"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    t = Table(title=f"iadsim benchmarks ({res['machine']['cpu_count']} cores, Python {res['machine']['python']})")
    for c in ("benchmark", "measure", "value", "target", "met"):
        t.add_column(c)
    t.add_row("demo", f"`{res['command_run']}` wall, cold (empty numba cache)", f"{res['first_run_s']:.1f} s", "", "")
    t.add_row("demo", f"`{res['command_run']}` wall, warm-cache, best of {len(res['runs_s'])}", f"{res['best_s']:.1f} s",
              "< 60 s", "yes" if res["met"] else "NO")
    t.add_row("demo", "compile world (terrain, coverage, envelopes)", f"{res['compile_world_s']:.2f} s", "", "")
    t.add_row("demo", f"{reps} replications in the kernel", f"{res['replications_s']:.2f} s "
              f"({res['replications_per_s']:.0f}/s)", "", "")
    t.add_row("demo", "outputs written", f"{res['output_bytes'] / 1e6:.1f} MB", "", "")
    console.print(t)
    from benchcommon import write_result

    res.pop("machine")
    res.pop("date")
    res["quick"] = args.quick
    path = write_result("demo", res)
    console.print(f"wrote {path}")
    return 0 if res["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
