"""Static weapon-target assignment (WTA) policies: published instances and random raids.

    .venv/bin/python benchmarks/bench_wta.py [--quick] [--exact-limit S] [--exact-limit-large S]
                                       [--seeds N] [--scaling-limit S]

1. The public instances of Andersen, Pavlikov & Toffolo (2022), Annals of Operations Research,
   doi:10.1007/s10479-022-04525-6 (../shared/reference/wta): every policy's objective, its gap
   to the best known value, wall and CPU time; for "exact" also its lower bound and whether it
   proved optimality. "exact" runs with --exact-limit (default 120 s) on the 50 x 100 instances
   and is skipped on the larger ones unless --exact-limit-large is given (it proves
   wta_100x200x2 in a few minutes here; the 200 x 400 MILPs take much longer). "vlns" is also
   run with seeds 0..N-1 (--seeds, default 5) to show how much the answer depends on the seed.
2. Random raids in the style of Ahuja et al. (2007): values U[25, 100], pk U[0.60, 0.90],
   N weapons with one unit each and N targets, N = 5 .. 200 (seed N): time vs size per policy,
   "exact" with --scaling-limit (default 60 s).

3. Held-out instances: "vlns"'s defaults (ITERATION_SCALE, K, L, bf_pass, max_destroy, kinds,
   lap_period, start) were tuned on the nine published instances, so part 1 is the tuning set.
   The figures to quote come from instances it was not tuned on: generated here in the
   published instances' style (integer values U{1..100}, pk U(0, 1), m x n x mu as published;
   seeds HELD_OUT_SEED + mu, never used in tuning), with "exact" (vlns-started, capped) for
   the best solution found and a proven lower bound. The JSON says which instances were used
   for tuning and which are reported.

Targets: "vlns" within 0.5 % of the best solution found on every held-out instance in under
1 s (CPU time of the call, seed 0; wall time is shown too, it includes waiting for the CPU on a
busy machine); on the published (tuning) instances the same target against the best known
value is shown for reference; "exact" proves the 50 x 100 instances (aim: under 60 s each).
Exit code 0 when the held-out "vlns" target is met, 2 when the published instances are
missing. JSON goes to benchmarks/results/wta.json (committed).

Policies run on their work budgets (deterministic); "exact"'s time limits here are the
optional safety cap, a benchmark-only setting.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
from benchcommon import SHARED, require, write_result  # noqa: E402

import numpy as np
from rich.console import Console
from rich.table import Table

RESULTS = HERE / "results"
DATA = SHARED / "reference" / "wta"
HELD_OUT_SEED = 910_000
# wide tables: let them be wide when the output is a file or a pipe
console = Console() if sys.stdout.isatty() else Console(width=180)

# Best known objective and best lower bound per instance, as tabulated in
# ../shared/reference/wta/README.md from the authors' published logs (Andersen, Pavlikov &
# Toffolo 2022; CPLEX, single thread, 7,200 s). "optimal" there means proven by the authors.
BEST_KNOWN = {
    "wta_50x100x1": (1734.302257, 1734.30),
    "wta_50x100x2": (123.838359, 123.838),
    "wta_50x100x3": (20.589861, 20.587974),
    "wta_100x200x1": (2862.302609, 2862.234768),
    "wta_100x200x2": (116.057161, 116.045985),
    "wta_100x200x3": (14.579133, 14.549077),
    "wta_200x400x1": (4970.363244, 4970.172084),
    "wta_200x400x2": (115.447021, 115.406346),
    "wta_200x400x3": (10.577367, 10.507078),
}
POLICY_ORDER = ("greedy", "vlns", "exact")
VLNS_GAP_TARGET = 0.005
VLNS_TIME_TARGET_S = 1.0


def machine() -> dict:
    import numba
    import scipy

    info = {"platform": platform.platform(), "cpu_count": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(), "numpy": np.__version__,
            "scipy": scipy.__version__, "numba": numba.__version__}
    with contextlib.suppress(OSError, AttributeError):
        info["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
    return info


def run(prob, policy: str, **kw) -> dict:
    from iadsim.c2 import solve

    w0, c0 = time.perf_counter(), time.process_time()
    sol = solve(prob, policy, **kw)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    out = {"policy": policy, "objective": sol.objective, "wall_s": wall, "cpu_s": cpu,
           "lower_bound": sol.lower_bound, "proven_optimal": sol.proven_optimal,
           "units_assigned": int(sol.x.sum())}
    for k in ("rounds", "stop", "iterations", "lap_moves", "stopped_by"):
        if k in sol.info:
            out[k] = sol.info[k]
    return out


def warm_up() -> float:
    """Compile (or load from numba's cache) every kernel once, outside the timings."""
    from iadsim.c2 import random_instance, solve

    t0 = time.perf_counter()
    prob = random_instance(6, 8, seed=1, capacity=2)
    for p in POLICY_ORDER:
        solve(prob, p, time_limit_s=30)
    return time.perf_counter() - t0


def published(args) -> list[dict]:
    from iadsim.c2 import read_instance

    require(DATA, "the public WTA instances (shared/reference/wta)")
    names = sorted(BEST_KNOWN, key=lambda s: (int(s.split("x")[0][4:]), s))
    if args.only:
        names = [n for n in names if any(o in n for o in args.only)]
    rows = []
    for name in names:
        path = require(DATA / f"{name}.txt", f"public WTA instance {name}")
        prob = read_instance(path)
        best, best_lb = BEST_KNOWN[name]
        small = name.startswith("wta_50x100")
        for policy in POLICY_ORDER:
            kw: dict = {"seed": 0}
            if policy == "exact":
                limit = args.exact_limit if small else args.exact_limit_large
                if limit <= 0:
                    rows.append({"instance": name, "policy": policy, "skipped": True,
                                 "note": "skipped (--exact-limit-large S to run)"})
                    continue
                kw["time_limit_s"] = limit
            console.print(f"  {name} {policy} ...", end="")
            r = run(prob, policy, **kw)
            console.print(f" {r['objective']:.6f} ({r['wall_s']:.2f} s)")
            r.update(instance=name, m=prob.m, n=prob.n, mu=int(prob.capacity[0]),
                     best_known=best, best_known_lower_bound=best_lb,
                     gap=(r["objective"] - best) / best,
                     beats_best_known=bool(r["objective"] < best * (1 - 1e-9)))
            if policy == "exact":
                r["time_limit_s"] = kw["time_limit_s"]
            if policy == "vlns" and args.seeds > 1:
                seeds = [r] + [run(prob, "vlns", seed=s) for s in range(1, args.seeds)]
                gaps = [(x["objective"] - best) / best for x in seeds]
                r["seeds"] = {"n": len(seeds), "worst_gap": max(gaps),
                              "mean_gap": float(np.mean(gaps)),
                              "max_cpu_s": max(x["cpu_s"] for x in seeds),
                              "max_wall_s": max(x["wall_s"] for x in seeds)}
            rows.append(r)
    return rows


def held_out_instance(m: int, n: int, mu: int):
    """An instance in the published style that no tuning saw: values U{1..100}, pk U(0, 1)."""
    from iadsim.c2 import WTAProblem

    rng = np.random.default_rng(HELD_OUT_SEED + mu + 10 * m)
    values = rng.integers(1, 101, size=n).astype(float)
    pk = rng.uniform(0.0, 1.0, size=(m, n))
    return WTAProblem(values=values, pk=pk, capacity=np.full(m, mu),
                      name=f"heldout_{m}x{n}x{mu}")


def held_out(args) -> list[dict]:
    shapes = [(50, 100, mu) for mu in (1, 2, 3)]
    if not args.quick:
        shapes += [(100, 200, mu) for mu in (1, 2, 3)]
    rows = []
    for m, n, mu in shapes:
        prob = held_out_instance(m, n, mu)
        res = {}
        for policy in POLICY_ORDER:
            kw: dict = {"seed": 0}
            if policy == "exact":
                limit = args.exact_limit if m == 50 else args.exact_limit_large
                if limit <= 0:
                    continue
                kw["time_limit_s"] = limit
            console.print(f"  {prob.name} {policy} ...", end="")
            res[policy] = run(prob, policy, **kw)
            console.print(f" {res[policy]['objective']:.6f} ({res[policy]['wall_s']:.2f} s)")
        best = min(r["objective"] for r in res.values())
        lb = max((r["lower_bound"] for r in res.values() if r.get("lower_bound") is not None),
                 default=None)
        for policy, r in res.items():
            r.update(instance=prob.name, m=m, n=n, mu=mu, best_found=best, best_lower_bound=lb,
                     gap=(r["objective"] - best) / best,
                     gap_to_bound=None if not lb else (r["objective"] - lb) / lb)
            if policy == "exact":
                r["time_limit_s"] = kw["time_limit_s"]
            rows.append(r)
    return rows


def print_held_out(rows: list[dict]) -> None:
    t = Table(title="Held-out instances (published style, not used for tuning): gap = (objective "
                    "- best found) / best found; bound gap = (objective - proven lower bound) / "
                    "bound")
    for c in ("instance", "policy", "objective", "gap %", "bound gap %", "CPU s", "wall s",
              "proven"):
        t.add_column(c, justify="left" if c in ("instance", "policy") else "right")
    for r in rows:
        t.add_row(r["instance"], r["policy"], f"{r['objective']:.6f}", _fmt_gap(r["gap"]),
                  "" if r["gap_to_bound"] is None else _fmt_gap(r["gap_to_bound"]),
                  f"{r['cpu_s']:.3f}", f"{r['wall_s']:.3f}",
                  ("yes" if r["proven_optimal"] else "no") if r["policy"] == "exact" else "")
    console.print(t)


def scaling(args) -> list[dict]:
    from iadsim.c2 import random_instance

    sizes = (5, 10, 20, 50) if args.quick else (5, 10, 20, 50, 100, 200)
    rows = []
    for N in sizes:
        prob = random_instance(N, N, seed=N, capacity=1)
        res = {}
        for policy in POLICY_ORDER:
            kw: dict = {"seed": 0}
            if policy == "exact":
                kw["time_limit_s"] = args.scaling_limit
            console.print(f"  random {N}x{N} {policy} ...", end="")
            res[policy] = run(prob, policy, **kw)
            console.print(f" {res[policy]['objective']:.4f} ({res[policy]['wall_s']:.2f} s)")
        best = min(r["objective"] for r in res.values())
        for policy, r in res.items():
            r.update(size=N, m=N, n=N, gap_to_best_found=(r["objective"] - best) / best)
            if policy == "exact":
                r["time_limit_s"] = args.scaling_limit
            rows.append(r)
    return rows


def _fmt_gap(g: float) -> str:
    return f"{100 * g:+.3f}"


def print_published(rows: list[dict]) -> None:
    t = Table(title="WTA policies on the published instances (Andersen, Pavlikov & Toffolo 2022); "
                    "gap = (objective - best known) / best known")
    for c in ("instance", "best known", "policy", "objective", "gap %", "CPU s", "wall s",
              "lower bound", "proven", "notes"):
        t.add_column(c, justify="right" if c not in ("instance", "policy", "notes") else "left",
                     no_wrap=c != "notes")
    last = None
    for r in rows:
        inst = r["instance"].removeprefix("wta_") if r["instance"] != last else ""
        best = f"{BEST_KNOWN[r['instance']][0]:.6f}" if inst else ""
        if inst and last is not None:
            t.add_section()
        last = r["instance"]
        if r.get("skipped"):
            t.add_row(inst, best, r["policy"], "", "", "", "", "", "", r["note"])
            continue
        notes = []
        if r.get("beats_best_known"):
            notes.append("[bold green]beats best known[/bold green]")
        if "seeds" in r:
            sd = r["seeds"]
            notes.append(f"seeds 0-{sd['n'] - 1}: worst {100 * sd['worst_gap']:+.3f} %, "
                         f"max {sd['max_cpu_s']:.2f} s CPU")
        if r["policy"] == "exact":
            notes.append(f"limit {r['time_limit_s']:.0f} s, {r.get('rounds', 0)} rounds")
        lb = r.get("lower_bound")
        t.add_row(inst, best, r["policy"], f"{r['objective']:.6f}", _fmt_gap(r["gap"]),
                  f"{r['cpu_s']:.3f}", f"{r['wall_s']:.3f}", "" if lb is None else f"{lb:.6f}",
                  ("yes" if r["proven_optimal"] else "no") if r["policy"] == "exact" else "",
                  "; ".join(notes))
    console.print(t)


def print_scaling(rows: list[dict]) -> None:
    t = Table(title="Random raids (Ahuja et al. 2007 style: N weapons x 1 unit, N targets, "
                    "v ~ U[25,100], pk ~ U[0.6,0.9], seed N)")
    for c in ("N", "policy", "objective", "gap to best found %", "CPU s", "wall s", "proven"):
        t.add_column(c, justify="left" if c == "policy" else "right")
    for r in rows:
        proven = ""
        if r["policy"] == "exact":
            proven = "yes" if r["proven_optimal"] else f"no (limit {r['time_limit_s']:.0f} s)"
        t.add_row(str(r["size"]), r["policy"], f"{r['objective']:.4f}",
                  _fmt_gap(r["gap_to_best_found"]), f"{r['cpu_s']:.3f}", f"{r['wall_s']:.3f}",
                  proven)
    console.print(t)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="exact limited to 20 s, one vlns seed, random raids up to 50 x 50, "
                         "held-out instances 50 x 100 only")
    ap.add_argument("--exact-limit", type=float, default=None,
                    help="time limit of exact on the 50 x 100 instances [s] "
                         "(default 120; quick 30)")
    ap.add_argument("--exact-limit-large", type=float, default=0.0,
                    help="time limit of exact on the 100 x 200 and 200 x 400 instances [s] "
                         "(default 0: skipped)")
    ap.add_argument("--seeds", type=int, default=None,
                    help="vlns seeds per instance (default 5; quick 1)")
    ap.add_argument("--scaling-limit", type=float, default=None,
                    help="time limit of exact on the random raids [s] (default 60; quick 20)")
    ap.add_argument("--only", nargs="*",
                    help="only published instances whose name contains one of these")
    args = ap.parse_args()
    if args.exact_limit is None:
        args.exact_limit = 20.0 if args.quick else 120.0
    if args.seeds is None:
        args.seeds = 1 if args.quick else 5
    if args.scaling_limit is None:
        args.scaling_limit = 20.0 if args.quick else 60.0

    mach = machine()
    load = mach.get("load_average_at_start")
    console.print(f"[bold]iadsim WTA benchmark[/bold]  {mach['platform']}, {mach['cpu_count']} "
                  f"CPUs ({mach['processor']}), Python {mach['python']}, numpy {mach['numpy']}, "
                  f"scipy {mach['scipy']} (HiGHS), numba {mach['numba']}"
                  + (f", load average {load}" if load else ""))
    compile_s = warm_up()
    console.print(f"warm-up (numba compile or cache load, first HiGHS call): {compile_s:.1f} s")

    pub = published(args)
    if pub:
        print_published(pub)
    held = held_out(args)
    print_held_out(held)
    sca = scaling(args)
    print_scaling(sca)

    beats = [r for r in pub if r.get("beats_best_known")]
    vl = [r for r in pub if r["policy"] == "vlns"]
    vl_tuning_ok = bool(vl) and all(r["gap"] <= VLNS_GAP_TARGET and r["cpu_s"] < VLNS_TIME_TARGET_S
                                    for r in vl)
    vh = [r for r in held if r["policy"] == "vlns"]
    vl_ok = bool(vh) and all(r["gap"] <= VLNS_GAP_TARGET and r["cpu_s"] < VLNS_TIME_TARGET_S
                             for r in vh)
    ex50 = [r for r in pub if r["policy"] == "exact" and r["instance"].startswith("wta_50x100")
            and not r.get("skipped")]
    summary = {
        "vlns_target": f"gap to the best found <= {100 * VLNS_GAP_TARGET:.1f} % and < "
                       f"{VLNS_TIME_TARGET_S:.0f} s CPU on every held-out instance (seed 0)",
        "vlns_target_met": vl_ok,
        "vlns_worst_gap": max((r["gap"] for r in vh), default=None),
        "held_out_note": "best found = the best of greedy, vlns and exact, and exact starts "
                         "from vlns, so a 0 gap means exact found nothing better within its "
                         "cap; the gap to exact's proven lower bound is the upper bound on "
                         "vlns's true gap",
        "vlns_worst_gap_to_bound": max((r["gap_to_bound"] for r in vh
                                        if r["gap_to_bound"] is not None), default=None),
        "vlns_max_cpu_s": max((r["cpu_s"] for r in vh), default=None),
        "vlns_max_wall_s": max((r["wall_s"] for r in vh), default=None),
        "tuning_set": {"vlns_target_met": vl_tuning_ok,
                       "vlns_worst_gap_to_best_known": max((r["gap"] for r in vl), default=None),
                       "vlns_max_cpu_s": max((r["cpu_s"] for r in vl), default=None)},
        "exact_proved_50x100": {r["instance"]: {"proven": r["proven_optimal"],
                                                "wall_s": r["wall_s"]} for r in ex50},
        "beats_best_known": [{"instance": r["instance"], "policy": r["policy"],
                              "objective": r["objective"], "best_known": r["best_known"]}
                             for r in beats],
    }
    if vh:
        console.print(f"vlns on held-out instances: worst gap {100 * summary['vlns_worst_gap']:+.3f} %"
                      f", max {summary['vlns_max_cpu_s']:.2f} s CPU / "
                      f"{summary['vlns_max_wall_s']:.2f} s wall: "
                      + ("[green]target met[/green]" if vl_ok else "[red]target missed[/red]"))
    for r in ex50:
        console.print(f"exact {r['instance']}: "
                      + (f"proven optimal in {r['wall_s']:.1f} s" if r["proven_optimal"]
                         else f"not proven within {r['time_limit_s']:.0f} s (gap to its bound "
                              f"{100 * (1 - (r['lower_bound'] or 0) / r['objective']):.4f} %)"))
    if beats:
        for b in summary["beats_best_known"]:
            console.print(f"[bold green]{b['policy']} beats the best known value on "
                          f"{b['instance']}: {b['objective']:.6f} < {b['best_known']:.6f}"
                          "[/bold green]")
    elif pub:
        console.print("no policy beat a best known value")

    out = {"warm_up_s": compile_s,
           "tuning_instances": sorted(BEST_KNOWN),
           "reported_instances": sorted({r["instance"] for r in held}),
           "tuning_note": "vlns defaults were tuned on the published instances (the tuning "
                          "set, shown for reference against the best known values); the "
                          "held-out instances, generated in the same style with seeds never "
                          "used in tuning, carry the reported figures and the target",
           "settings": {"quick": args.quick, "exact_limit_s": args.exact_limit,
                        "exact_limit_large_s": args.exact_limit_large, "vlns_seeds": args.seeds,
                        "scaling_limit_s": args.scaling_limit, "data": str(DATA)},
           "best_known_source": "shared/reference/wta/README.md "
                                "(Andersen, Pavlikov & Toffolo 2022)",
           "published": pub, "held_out": held, "scaling": sca, "summary": summary}
    path = write_result("wta", out)
    console.print(f"wrote {path}")
    return 0 if vl_ok else 1


if __name__ == "__main__":
    sys.exit(main())
