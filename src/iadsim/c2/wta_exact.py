"""Exact WTA by outer approximation (cutting planes) with HiGHS through ``scipy.optimize.milp``.

With ``a_ij = -ln(1 - p_ij)`` and ``y_j = sum_i a_ij x_ij`` the objective is
``sum_j v_j exp(-y_j)``, convex in ``y``. Each tangent of ``exp(-y)`` at a point ``t`` gives a
valid linear under-estimator, so the MILP ::

    min  sum_j z_j
    s.t. sum_j x_ij <= mu_i                                  (capacity)
         sum_i x_ij <= limit_j                               (optional per-target limit)
         y_j  = sum_i a_ij x_ij
         z_j >= v_j e^{-t} (1 + t - y_j)   for every cut point t of target j
         x_ij in {0, .., mu_i} (only allowed pairs), y, z >= 0

is a relaxation of the WTA problem: its dual bound is a lower bound. Each MILP solution ``x``
is evaluated exactly (an upper bound), polished by local search, and tangents at its ``y_j``
are added where ``z_j`` under-estimates ``v_j exp(-y_j)``; the loop ends when
``(UB - LB) / UB <= rel_gap`` (proven optimal within ``rel_gap``) or when its work budget is
spent (``max_rounds`` MILP solves, each of at most ``node_limit`` branch-and-bound nodes; HiGHS
runs single-threaded with a fixed random seed, so the answer is a function of the problem and
the budget, not of the machine's load). An optional ``time_limit_s`` is a safety cap only, off
by default; result paths never set it. This is
the outer-approximation (OA) scheme of Andersen, Pavlikov & Toffolo (2022) with the cuts added
between MILP solves instead of lazily inside one branch-and-bound (HiGHS through scipy has no
lazy-constraint callback). It starts from tangents at a grid of ``y`` values and at the
``y`` of the heuristic ("vlns") incumbent, which also gives the first upper bound and the
objective cut-off passed to HiGHS.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from iadsim.c2.wta import (
    PK_CLIP,
    WTAProblem,
    WTASolution,
    check_assignment,
    greedy_assign,
    objective,
    register_policy,
)
from iadsim.c2.wta_vlns import descend, vlns

__all__ = ["exact"]

_GRID = (0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.5, 8.0, 10.0)


@contextlib.contextmanager
def _quiet_fd1(enabled: bool):
    """Silence the C-level stdout (file descriptor 1) for the duration: HiGHS as bundled with
    some scipy versions prints a stray debug line ("HighsMipSolverData::
    transformNewIntegerFeasibleSolution tmpSolver.run();", HiGHS issue #2783) whatever its
    output options. Process-wide while active, so it is optional (``quiet_highs``)."""
    if not enabled:
        yield
        return
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError, AttributeError):
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _milp(c, integrality, bounds, cons, time_limit, rel_gap, cutoff, node_limit):
    opts = {"mip_rel_gap": rel_gap, "presolve": True,
            "mip_abs_gap": 0.0, "threads": 1, "random_seed": 0, "output_flag": False}
    if time_limit is not None:
        opts["time_limit"] = max(time_limit, 0.01)
    if node_limit is not None:
        opts["node_limit"] = int(node_limit)
    if cutoff is not None and np.isfinite(cutoff):
        opts["objective_bound"] = float(cutoff)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # HiGHS options passed through verbatim
        return milp(c, integrality=integrality, bounds=bounds, constraints=cons, options=opts)


def exact(problem: WTAProblem, *, time_limit_s: float | None = None, seed: int = 0,
          rel_gap: float = 1e-6, warm_start: str = "vlns", max_rounds: int = 500,
          node_limit: int | None = None, vlns_iterations: int | None = None,
          quiet_highs: bool = True, verbose: bool = False) -> WTASolution:
    """Outer approximation with HiGHS; ``proven_optimal`` when ``(UB - LB)/UB <= rel_gap``.

    The work budget: ``max_rounds`` MILP solves, each stopped after ``node_limit``
    branch-and-bound nodes (None: no node limit, run until proven; can take long beyond
    ~100 x 200). When the budget is spent the best assignment and the best lower bound (None if
    no MILP finished a bound) are returned. No clock is read unless:
    time_limit_s  an optional wall-clock safety cap (None, the default: off); also stops a MILP
                  in progress (HiGHS's own limit) and gives the "vlns" warm start 20 % of it
    warm_start    "vlns" (``vlns_iterations`` iterations, None: its default) or "greedy"
    quiet_highs   silence HiGHS's stray stdout line during each MILP (see _quiet_fd1)
    verbose       print one line per round
    """
    capped = time_limit_s is not None
    t0 = time.perf_counter() if capped else 0.0  # no clock unless capped
    deadline = t0 + float(time_limit_s) if capped else np.inf
    m, n = problem.m, problem.n
    v = problem.values
    allowed = problem.allowed & (v[None, :] > 0)
    ii, jj = np.nonzero(allowed)
    P = ii.size
    info: dict = {"rounds": 0, "cuts": 0}

    # incumbent
    if warm_start == "vlns":
        x_best = vlns(problem, seed=seed, iterations=vlns_iterations,
                      time_limit_s=None if time_limit_s is None else 0.2 * time_limit_s).x
    elif warm_start == "greedy":
        x_best = greedy_assign(problem)
    else:
        raise ValueError(f"warm_start must be 'vlns' or 'greedy', got {warm_start!r}")
    ub = objective(problem, x_best)
    lb = -np.inf  # no bound yet
    info["warm_start_objective"] = ub
    if P == 0 or ub <= 0:
        return WTASolution.from_x(problem, x_best, policy="exact", lower_bound=ub,
                                  proven_optimal=True, info=info)

    a = -np.log1p(-np.minimum(problem.pk[ii, jj], PK_CLIP))
    limit = problem.target_limits()
    cap = problem.capacity
    # variables: x (P), y (n), z (n)
    nv = P + 2 * n
    c = np.zeros(nv)
    c[P + n:] = 1.0
    integrality = np.zeros(nv)
    integrality[:P] = 1
    ub_x = np.minimum(cap[ii], limit[jj]).astype(float)
    ymax = np.zeros(n)
    np.add.at(ymax, jj, a * ub_x)
    bounds = Bounds(np.zeros(nv), np.concatenate([ub_x, ymax, v]))
    rows = []
    # capacity: sum_j x_ij <= mu_i
    A_cap = sp.csr_matrix((np.ones(P), (ii, np.arange(P))), shape=(m, nv))
    rows.append(LinearConstraint(A_cap, -np.inf, cap.astype(float)))
    # y_j - sum_i a_ij x_ij = 0
    A_y = sp.csr_matrix((np.concatenate([-a, np.ones(n)]),
                         (np.concatenate([jj, np.arange(n)]),
                          np.concatenate([np.arange(P), P + np.arange(n)]))), shape=(n, nv))
    rows.append(LinearConstraint(A_y, 0.0, 0.0))
    if problem.max_per_target is not None:
        A_l = sp.csr_matrix((np.ones(P), (jj, np.arange(P))), shape=(n, nv))
        rows.append(LinearConstraint(A_l, -np.inf, limit.astype(float)))

    # cut points per target (sets of rounded y to avoid duplicates)
    points: list[set[float]] = [set() for _ in range(n)]
    cut_j: list[int] = []
    cut_t: list[float] = []

    def add_cut(j: int, t: float) -> bool:
        t = float(min(max(t, 0.0), ymax[j]))
        key = round(t, 12)
        if key in points[j]:
            return False
        points[j].add(key)
        cut_j.append(j)
        cut_t.append(t)
        return True

    def y_of(x: np.ndarray) -> np.ndarray:
        y = np.zeros(n)
        np.add.at(y, jj, a * x[ii, jj])
        return y

    for j in range(n):
        for t in _GRID:
            add_cut(j, t)
    y_inc = y_of(x_best)
    for j in range(n):
        add_cut(j, y_inc[j])

    def cut_constraint() -> LinearConstraint:
        cj = np.asarray(cut_j)
        ct = np.asarray(cut_t)
        e = v[cj] * np.exp(-ct)
        k = cj.size
        A = sp.csr_matrix((np.concatenate([np.ones(k), e]),
                           (np.concatenate([np.arange(k), np.arange(k)]),
                            np.concatenate([P + n + cj, P + cj]))), shape=(k, nv))
        return LinearConstraint(A, e * (1.0 + ct), np.inf)

    proven = False
    status = "rounds"
    for rnd in range(max_rounds):
        left = None
        if capped:
            left = deadline - time.perf_counter()
            if left <= 0:
                status = "time"
                break
        info["rounds"] = rnd + 1
        with _quiet_fd1(quiet_highs):
            res = _milp(c, integrality, bounds, rows + [cut_constraint()],
                        left, rel_gap / 4, ub * (1 + 1e-9) + 1e-12, node_limit)
        if res.status == 2:
            # nothing below the cut-off: the relaxation cannot beat the incumbent (numerically
            # possible only when the incumbent is already optimal)
            lb = max(lb, ub)
            proven = True
            status = "cutoff"
            break
        if res.mip_dual_bound is not None and np.isfinite(res.mip_dual_bound):
            lb = max(lb, float(res.mip_dual_bound))
        if res.x is None:
            break
        x = np.zeros((m, n), np.int64)
        x[ii, jj] = np.maximum(np.rint(res.x[:P]), 0).astype(np.int64)
        if check_assignment(problem, x):
            x = greedy_assign(problem)  # rounding broke a constraint (tolerances): ignore it
        f = objective(problem, x)
        if f < ub:
            ub, x_best = f, x
        xp = descend(problem, x)
        fp = objective(problem, xp)
        if fp < ub:
            ub, x_best = fp, xp
        if verbose:
            print(f"round {rnd + 1}: milp {res.fun:.6f} lb {lb:.6f} x {f:.6f} ls {fp:.6f} "
                  f"ub {ub:.6f} cuts {len(cut_j)}")
        if ub - lb <= rel_gap * ub:
            proven = True
            status = "gap"
            break
        # tangents at the MILP point where z under-estimates, and at the polished point
        z = res.x[P + n:]
        y = y_of(x)
        new = 0
        true = v * np.exp(-y)
        for j in np.nonzero(true - z > 1e-9 * max(ub, 1e-12) / n)[0]:
            new += add_cut(int(j), y[j])
        yp = y_of(xp)
        for j in range(n):
            new += add_cut(j, yp[j])
        y_inc = y_of(x_best)
        for j in range(n):
            new += add_cut(j, y_inc[j])
        if new == 0:
            # MILP solution is exact at its cut points, so its value is f(x) >= ub: the MILP
            # optimum (within its own gap) is attained; lb is from its dual bound
            status = "no new cuts"
            if res.status == 0:
                lb = max(lb, min(ub, float(res.fun) * (1 - rel_gap / 4)))
                proven = ub - lb <= rel_gap * ub
            break
    info.update(cuts=len(cut_j), stop=status, upper_bound=ub)
    lower = None if not np.isfinite(lb) else float(min(max(lb, 0.0), ub))
    return WTASolution.from_x(problem, x_best, policy="exact", lower_bound=lower,
                              proven_optimal=proven, info=info)


register_policy("exact", exact)
