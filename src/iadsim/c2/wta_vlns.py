"""Fast heuristic: greedy start, then iterated large-neighbourhood local search ("vlns").

The search works on units (one entry per unit of every weapon type) and keeps every target's
expected surviving value ``s_j``, so a move is priced in O(1):

* relocate: unit of type i from target j (or from the pool) to target k:
  ``s_j (1/q_ij - 1) + s_k (q_ik - 1)``;
* swap: units of types i (on j) and k (on l) exchange targets:
  ``s_j (q_kj/q_ij - 1) + s_l (q_il/q_kl - 1)``.

Local search applies the best move of each unit until none improves; only moves that touch a
target whose ``s_j`` changed since it was last examined are re-priced ("don't-look" targets).
The outer loop is an iterated local search in the spirit of the very-large-scale neighbourhood
search of Ahuja, Kumar, Jha & Orlin (2007), *Exact and heuristic algorithms for the
weapon-target assignment problem*, Operations Research 55(6):1136-1146: each iteration
destroys part of the incumbent (all units on a few targets, or a few random relocations),
repairs it by maximum marginal return, re-optimises with the local search and keeps the
result when it is no worse. The kernels are compiled with numba (cached on disk).

Deterministic for a given seed: the iteration budget is a count (``iterations``), not a time.
``time_limit_s`` only caps it (checked between chunks of iterations), so a binding time limit
makes the result depend on the machine; ``info["stopped_by"]`` says which one ended the run.
"""

from __future__ import annotations

import time

import numba
import numpy as np

from iadsim.c2.wta import (
    WTAProblem,
    WTASolution,
    greedy_assign,
    internal_arrays,
    register_policy,
)

__all__ = ["vlns", "local_search"]

_EPS = 1e-13  # a move must improve the objective by more than _EPS * (1 + objective)


@numba.njit(cache=True)
def _seed(seed):  # pragma: no cover - numba
    np.random.seed(seed)


@numba.njit(cache=True)
def _ls(q, iq, allowed, limit, utype, utgt, s, cnt, dirty, full, touched):  # pragma: no cover - numba
    """Local search (relocate + swap) to a local optimum. ``dirty[j]``: target j changed since
    its moves were last priced; ``full``: price everything in the first round. Returns moves."""
    n = s.shape[0]
    U = utype.shape[0]
    moves = 0
    newdirty = np.zeros(n, np.bool_)
    dlist = np.empty(n, np.int64)
    first = full
    while True:
        nd = 0
        for j in range(n):
            if dirty[j]:
                dlist[nd] = j
                nd += 1
        if nd == 0 and not first:
            break
        tot = 0.0
        for j in range(n):
            tot += s[j]
        tol = _EPS * (1.0 + tot)
        newdirty[:] = False
        # ---- relocate
        for u in range(U):
            i = utype[u]
            j = utgt[u]
            gain_out = 0.0 if j < 0 else s[j] * (iq[i, j] - 1.0)
            bd = -tol
            bk = -1
            if first or (j >= 0 and dirty[j]):
                for k in range(n):
                    if k != j and allowed[i, k] and cnt[k] < limit[k]:
                        d = gain_out + s[k] * (q[i, k] - 1.0)
                        if d < bd:
                            bd = d
                            bk = k
            else:
                for t in range(nd):
                    k = dlist[t]
                    if k != j and allowed[i, k] and cnt[k] < limit[k]:
                        d = gain_out + s[k] * (q[i, k] - 1.0)
                        if d < bd:
                            bd = d
                            bk = k
            if bk >= 0:
                if j >= 0:
                    s[j] *= iq[i, j]
                    cnt[j] -= 1
                    newdirty[j] = True
                s[bk] *= q[i, bk]
                cnt[bk] += 1
                newdirty[bk] = True
                utgt[u] = bk
                moves += 1
        # ---- swap (pairs with at least one unit on a dirty target)
        for u in range(U):
            j = utgt[u]
            if j < 0 or not (first or dirty[j]):
                continue
            i = utype[u]
            bd = -tol
            bw = -1
            for w in range(U):
                l = utgt[w]
                k = utype[w]
                if l < 0 or l == j or k == i:
                    continue
                if not (allowed[k, j] and allowed[i, l]):
                    continue
                if (first or dirty[l]) and w < u:
                    continue  # already priced from w's side in this round
                d = s[j] * (iq[i, j] * q[k, j] - 1.0) + s[l] * (iq[k, l] * q[i, l] - 1.0)
                if d < bd:
                    bd = d
                    bw = w
            if bw >= 0:
                l = utgt[bw]
                k = utype[bw]
                s[j] *= iq[i, j] * q[k, j]
                s[l] *= iq[k, l] * q[i, l]
                utgt[u] = l
                utgt[bw] = j
                newdirty[j] = True
                newdirty[l] = True
                moves += 1
        first = False
        for j in range(n):
            dirty[j] = newdirty[j]
            if newdirty[j]:
                touched[j] = True
    return moves


@numba.njit(cache=True)
def _recompute(values, q, utype, utgt, s, cnt):  # pragma: no cover - numba
    s[:] = values
    cnt[:] = 0
    for u in range(utype.shape[0]):
        j = utgt[u]
        if j >= 0:
            s[j] *= q[utype[u], j]
            cnt[j] += 1


@numba.njit(cache=True)
def _repair(q, p, allowed, limit, utype, utgt, s, cnt, freed, nf, dirty):  # pragma: no cover
    """Maximum marginal return over the freed units (pool) only."""
    n = s.shape[0]
    left = nf
    while left > 0:
        bg = 0.0
        bu = -1
        bk = -1
        for t in range(nf):
            u = freed[t]
            if utgt[u] >= 0:
                continue
            i = utype[u]
            for k in range(n):
                if allowed[i, k] and cnt[k] < limit[k]:
                    g = s[k] * p[i, k]
                    if g > bg:
                        bg = g
                        bu = u
                        bk = k
        if bu < 0:
            break
        utgt[bu] = bk
        s[bk] *= q[utype[bu], bk]
        cnt[bk] += 1
        dirty[bk] = True
        left -= 1


@numba.njit(cache=True)
def _lap(C):  # pragma: no cover - numba
    """Minimum-cost assignment of every row of C (nr <= nc) to a distinct column: shortest
    augmenting paths with dual potentials (Jonker & Volgenant 1987; Crouse 2016, as in
    scipy.optimize.linear_sum_assignment). Returns col4row."""
    nr, nc = C.shape
    u = np.zeros(nr)
    v = np.zeros(nc)
    col4row = np.full(nr, -1, np.int64)
    row4col = np.full(nc, -1, np.int64)
    shortest = np.empty(nc)
    path = np.full(nc, -1, np.int64)
    SR = np.zeros(nr, np.bool_)
    SC = np.zeros(nc, np.bool_)
    remaining = np.empty(nc, np.int64)
    for cur in range(nr):
        minval = 0.0
        nrem = nc
        for it in range(nc):
            remaining[it] = nc - 1 - it
        SR[:] = False
        SC[:] = False
        shortest[:] = np.inf
        sink = -1
        i = cur
        while sink == -1:
            index = -1
            lowest = np.inf
            SR[i] = True
            for it in range(nrem):
                j = remaining[it]
                r = minval + C[i, j] - u[i] - v[j]
                if r < shortest[j]:
                    path[j] = i
                    shortest[j] = r
                if shortest[j] < lowest or (shortest[j] == lowest and row4col[j] == -1):
                    lowest = shortest[j]
                    index = it
            minval = lowest
            if index < 0 or minval == np.inf:
                return col4row  # infeasible (cannot happen with finite costs)
            j = remaining[index]
            if row4col[j] == -1:
                sink = j
            else:
                i = row4col[j]
            SC[j] = True
            nrem -= 1
            remaining[index] = remaining[nrem]
        u[cur] += minval
        for i in range(nr):
            if SR[i] and i != cur:
                u[i] += minval - shortest[col4row[i]]
        for j in range(nc):
            if SC[j]:
                v[j] -= minval - shortest[j]
        j = sink
        while True:
            i = path[j]
            row4col[j] = i
            tmp = col4row[i]
            col4row[i] = j
            j = tmp
            if i == cur:
                break
    return col4row


@numba.njit(cache=True)
def _lap_repair(q, allowed, limit, utype, utgt, s, cnt, freed, nf, dirty):  # pragma: no cover
    """Reinsert the freed units optimally subject to at most one of them per target."""
    n = s.shape[0]
    C = np.zeros((nf, n + nf))
    for t in range(nf):
        i = utype[freed[t]]
        for k in range(n):
            if allowed[i, k] and cnt[k] < limit[k]:
                C[t, k] = s[k] * (q[i, k] - 1.0)
    col = _lap(C)
    for t in range(nf):
        k = col[t]
        if k >= 0 and k < n and C[t, k] < 0.0:
            u = freed[t]
            utgt[u] = k
            s[k] *= q[utype[u], k]
            cnt[k] += 1
            dirty[k] = True


@numba.njit(cache=True)
def _lap_construct(values, q, allowed, limit, utype, utgt):  # pragma: no cover - numba
    """Rounds of optimal assignment: each round places the pool units, at most one per target,
    to minimise the surviving value given the earlier rounds."""
    n = values.shape[0]
    U = utype.shape[0]
    s = np.empty(n)
    cnt = np.zeros(n, np.int64)
    _recompute(values, q, utype, utgt, s, cnt)
    freed = np.empty(U, np.int64)
    dirty = np.zeros(n, np.bool_)
    while True:
        nf = 0
        for u in range(U):
            if utgt[u] < 0:
                freed[nf] = u
                nf += 1
        if nf == 0:
            break
        before = nf
        _lap_repair(q, allowed, limit, utype, utgt, s, cnt, freed[:nf].copy(), nf, dirty)
        nf = 0
        for u in range(U):
            if utgt[u] < 0:
                nf += 1
        if nf == before:
            break


@numba.njit(cache=True)
def _ils(values, p, q, iq, allowed, limit, cand, K, prune, utype, utgt, n_iter, max_destroy,
         kinds_w, max_lap):  # pragma: no cover
    """n_iter perturb/repair/local-search iterations from (and into) the incumbent ``utgt``."""
    n = values.shape[0]
    U = utype.shape[0]
    s = np.empty(n)
    cnt = np.zeros(n, np.int64)
    _recompute(values, q, utype, utgt, s, cnt)
    dirty = np.zeros(n, np.bool_)
    cur = 0.0
    for j in range(n):
        cur += s[j]
    t_tgt = utgt.copy()
    t_s = s.copy()
    t_cnt = cnt.copy()
    freed = np.empty(U, np.int64)
    on = np.empty(U, np.int64)
    accepted = 0
    improved = 0
    wsum = 0.0
    for t in range(5):
        wsum += kinds_w[t]
    if U == 0 or n == 0:
        return cur, accepted, improved
    for it in range(n_iter):
        t_tgt[:] = utgt
        t_s[:] = s
        t_cnt[:] = cnt
        dirty[:] = False
        nf = 0
        rr = np.random.random() * wsum
        kind = 0
        while kind < 4 and rr >= kinds_w[kind]:
            rr -= kinds_w[kind]
            kind += 1
        if kind == 4:
            # big LAP: one random unit off each target with probability frac
            frac = 0.2 + 0.6 * np.random.random()
            for u in range(U):
                on[u] = u
            for t in range(U - 1, 0, -1):
                r = np.random.randint(0, t + 1)
                tmp = on[t]
                on[t] = on[r]
                on[r] = tmp
            picked = np.zeros(n, np.bool_)
            for t in range(U):
                u = on[t]
                j = t_tgt[u]
                if j < 0 or picked[j]:
                    continue
                picked[j] = True
                if np.random.random() >= frac:
                    continue
                t_s[j] *= iq[utype[u], j]
                t_cnt[j] -= 1
                t_tgt[u] = -1
                freed[nf] = u
                nf += 1
                dirty[j] = True
            if nf > 0:
                _lap_repair(q, allowed, limit, utype, t_tgt, t_s, t_cnt, freed, nf, dirty)
                nf = 0
        elif kind == 3:
            # LAP: one random unit off each of r random targets, optimal reinsertion
            r = 2 + np.random.randint(0, max_lap)
            for _ in range(r):
                j = np.random.randint(0, n)
                non = 0
                for u in range(U):
                    if t_tgt[u] == j:
                        on[non] = u
                        non += 1
                if non == 0:
                    continue
                u = on[np.random.randint(0, non)]
                t_s[j] *= iq[utype[u], j]
                t_cnt[j] -= 1
                t_tgt[u] = -1
                freed[nf] = u
                nf += 1
                dirty[j] = True
            if nf > 0:
                _lap_repair(q, allowed, limit, utype, t_tgt, t_s, t_cnt, freed, nf, dirty)
                nf = 0
        elif kind == 0:
            # destroy: all units on r random targets (r in 1..max_destroy)
            r = 1 + np.random.randint(0, max_destroy)
            for _ in range(r):
                j = np.random.randint(0, n)
                non = 0
                for u in range(U):
                    if t_tgt[u] == j:
                        on[non] = u
                        non += 1
                for t in range(non):
                    u = on[t]
                    t_s[j] *= iq[utype[u], j]
                    t_cnt[j] -= 1
                    t_tgt[u] = -1
                    freed[nf] = u
                    nf += 1
                dirty[j] = True
        elif kind == 1:
            # destroy: r random units (r in 2..max_destroy+1)
            r = 2 + np.random.randint(0, max_destroy)
            for _ in range(r):
                u = np.random.randint(0, U)
                j = t_tgt[u]
                if j < 0:
                    continue
                t_s[j] *= iq[utype[u], j]
                t_cnt[j] -= 1
                t_tgt[u] = -1
                freed[nf] = u
                nf += 1
                dirty[j] = True
        else:
            # kick: r random relocations of units to random allowed targets
            r = 1 + np.random.randint(0, max_destroy)
            for _ in range(r):
                u = np.random.randint(0, U)
                i = utype[u]
                k = np.random.randint(0, n)
                j = t_tgt[u]
                if k == j or not allowed[i, k] or t_cnt[k] >= limit[k]:
                    continue
                if j >= 0:
                    t_s[j] *= iq[i, j]
                    t_cnt[j] -= 1
                    dirty[j] = True
                t_s[k] *= q[i, k]
                t_cnt[k] += 1
                t_tgt[u] = k
                dirty[k] = True
        if nf > 0:
            _repair(q, p, allowed, limit, utype, t_tgt, t_s, t_cnt, freed, nf, dirty)
        if K > 0:
            _descend(values, q, iq, allowed, limit, cand, utype, t_tgt, t_s, t_cnt, dirty, False, K, prune)
        else:
            _ls(q, iq, allowed, limit, utype, t_tgt, t_s, t_cnt, dirty, False, dirty.copy())
        val = 0.0
        for j in range(n):
            val += t_s[j]
        if val <= cur * (1.0 + 1e-12):
            if val < cur * (1.0 - 1e-12):
                improved += 1
            accepted += 1
            utgt[:] = t_tgt
            # recompute from scratch now and then so multiplicative updates cannot drift
            _recompute(values, q, utype, utgt, s, cnt)
            cur = 0.0
            for j in range(n):
                cur += s[j]
    return cur, accepted, improved


def _units(problem: WTAProblem, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit arrays (type, target or -1) for assignment x; unused capacity becomes pool units."""
    utype, utgt = [], []
    for i in range(problem.m):
        row = x[i]
        for j in np.nonzero(row)[0]:
            utype += [i] * int(row[j])
            utgt += [int(j)] * int(row[j])
        free = int(problem.capacity[i] - row.sum())
        utype += [i] * free
        utgt += [-1] * free
    return np.array(utype, np.int64), np.array(utgt, np.int64)


def _to_x(problem: WTAProblem, utype: np.ndarray, utgt: np.ndarray) -> np.ndarray:
    x = np.zeros((problem.m, problem.n), np.int64)
    on = utgt >= 0
    np.add.at(x, (utype[on], utgt[on]), 1)
    return x


def local_search(problem: WTAProblem, x: np.ndarray) -> np.ndarray:
    """Relocate/swap local search from assignment x to a local optimum (x is not modified)."""
    values, p, allowed, _cap, limit = internal_arrays(problem)
    q = 1.0 - p
    iq = 1.0 / q
    utype, utgt = _units(problem, np.asarray(x, np.int64))
    s = np.empty(problem.n)
    cnt = np.zeros(problem.n, np.int64)
    _recompute(values, q, utype, utgt, s, cnt)
    dirty = np.ones(problem.n, np.bool_)
    if utype.size and problem.n:
        _ls(q, iq, allowed, limit, utype, utgt, s, cnt, dirty, True, dirty.copy())
    return _to_x(problem, utype, utgt)


def default_iterations(problem: WTAProblem) -> int:
    """Iteration budget of vlns: more for small instances, about 1 s on a 200 x 400 x 3 raid."""
    return 3000


def vlns(problem: WTAProblem, *, time_limit_s: float | None = None, seed: int = 0,
         iterations: int | None = None, max_destroy: int = 4, K: int = 5,
         L: int = 30, prune: bool = False, kinds=(1, 1, 1, 0, 0), max_lap: int = 20,
         start: str = "lap") -> WTASolution:
    """Greedy maximum marginal return, local search, then iterated destroy/repair/local search.

    Deterministic for a given ``seed`` unless ``time_limit_s`` cuts the iteration budget short.
    """
    t0 = time.perf_counter()
    values, p, allowed, _cap, limit = internal_arrays(problem)
    q = 1.0 - p
    iq = 1.0 / q
    x = greedy_assign(problem)
    utype, utgt = _units(problem, x)
    if start == "lap":
        utgt[:] = -1
        _lap_construct(values, q, allowed, limit, utype, utgt)
        x = _to_x(problem, utype, utgt)
    n = problem.n
    info: dict = {"stopped_by": "iterations"}
    if utype.size == 0 or n == 0:
        return WTASolution.from_x(problem, x, policy="vlns", time_s=time.perf_counter() - t0,
                                  info=info | {"iterations": 0})
    s = np.empty(n)
    cnt = np.zeros(n, np.int64)
    _recompute(values, q, utype, utgt, s, cnt)
    cand = candidates(problem, p, allowed, L)
    _ls(q, iq, allowed, limit, utype, utgt, s, cnt, np.ones(n, np.bool_), True, np.ones(n, np.bool_))
    info["local_search_start"] = float(s.sum())
    if K > 0:
        _descend(values, q, iq, allowed, limit, cand, utype, utgt, s, cnt, np.ones(n, np.bool_),
                 True, K, prune)
    info["vlns_start"] = float(s.sum())
    budget = default_iterations(problem) if iterations is None else int(iterations)
    _seed(int(seed) % (2**32))
    done = acc = imp = 0
    chunk = 100
    while done < budget:
        if time_limit_s is not None and time.perf_counter() - t0 >= time_limit_s:
            info["stopped_by"] = "time"
            break
        k = min(chunk, budget - done)
        _val, a, b = _ils(values, p, q, iq, allowed, limit, cand, K, prune, utype, utgt, k, max_destroy,
                             np.asarray(kinds, np.float64), max_lap)
        done += k
        acc += a
        imp += b
    info.update(iterations=done, accepted=acc, improvements=imp)
    x = _to_x(problem, utype, utgt)
    return WTASolution.from_x(problem, x, policy="vlns", time_s=time.perf_counter() - t0, info=info)


register_policy("vlns", vlns)


# ---------------------------------------------------------------------------------------------
# very large-scale neighbourhood: cyclic and path exchanges (Ahuja et al. 2007)

@numba.njit(cache=True)
def _bucket(utgt, n, start, order):  # pragma: no cover - numba
    """Counting sort of units by target: units on j are order[start[j]:start[j+1]]."""
    start[:] = 0
    for u in range(utgt.shape[0]):
        if utgt[u] >= 0:
            start[utgt[u] + 1] += 1
    for j in range(n):
        start[j + 1] += start[j]
    fill = start[:n].copy()
    for u in range(utgt.shape[0]):
        j = utgt[u]
        if j >= 0:
            order[fill[j]] = u
            fill[j] += 1


@numba.njit(cache=True)
def _exchange_search(q, iq, allowed, limit, cand, utype, utgt, s, cnt, K, start, order,
                     best_path, tol, roots, prune_paths):  # pragma: no cover - numba
    """Heuristic label-correcting search for an improving subset-disjoint cyclic or path
    exchange of up to K units. Returns (delta, length, is_cycle, end_target); the units are
    written to best_path. delta >= 0 means none was found."""
    n = s.shape[0]
    U = utype.shape[0]
    L = cand.shape[1]
    INF = np.inf
    best = -tol
    blen = 0
    bcyc = False
    bend = -1
    # two label sets: mode 0 = cycle (first target gets the last unit), 1 = path (it loses one)
    cost = np.full((2, K, U), INF)
    path = np.empty((2, K, U, K), np.int64)
    for u in range(U):
        if not roots[u]:
            continue
        j = utgt[u]
        if j >= 0:
            cost[0, 0, u] = 0.0
            cost[1, 0, u] = s[j] * (iq[utype[u], j] - 1.0)
        else:
            cost[1, 0, u] = 0.0
        path[0, 0, u, 0] = u
        path[1, 0, u, 0] = u
    for lev in range(K):
        for mode in range(2):
            for u in range(U):
                cu = cost[mode, lev, u]
                if cu == INF:
                    continue
                i = utype[u]
                first = path[mode, lev, u, 0]
                jf = utgt[first]
                if lev > 0:
                    # gain criterion: every improving cycle has a rotation whose partial sums
                    # are all negative; paths (heuristically) must gain along their arcs
                    if mode == 0 and cu >= 0.0:
                        continue
                    if mode == 1 and prune_paths:
                        hole = 0.0 if jf < 0 else s[jf] * (iq[utype[first], jf] - 1.0)
                        if cu - hole >= 0.0:
                            continue
                for c in range(L):
                    g = cand[i, c]
                    if g < 0:
                        break
                    # g must not already be on the path
                    clash = False
                    for t in range(lev + 1):
                        if utgt[path[mode, lev, u, t]] == g:
                            clash = True
                            break
                    if clash:
                        continue
                    if mode == 1 and cnt[g] < limit[g]:
                        d = cu + s[g] * (q[i, g] - 1.0)
                        if d < best:
                            best = d
                            blen = lev + 1
                            bcyc = False
                            bend = g
                            for t in range(lev + 1):
                                best_path[t] = path[mode, lev, u, t]
                    if lev + 1 >= K:
                        continue
                    sg = s[g]
                    for r in range(start[g], start[g + 1]):
                        w = order[r]
                        k = utype[w]
                        if k == i:
                            continue
                        d = cu + sg * (q[i, g] * iq[k, g] - 1.0)
                        if mode == 0 and jf >= 0 and allowed[k, jf]:
                            # close the cycle: w enters the first target, displacing `first`
                            dc = d + s[jf] * (q[k, jf] * iq[utype[first], jf] - 1.0)
                            if dc < best:
                                best = dc
                                blen = lev + 2
                                bcyc = True
                                bend = -1
                                for t in range(lev + 1):
                                    best_path[t] = path[mode, lev, u, t]
                                best_path[lev + 1] = w
                        if d < cost[mode, lev + 1, w]:
                            cost[mode, lev + 1, w] = d
                            for t in range(lev + 1):
                                path[mode, lev + 1, w, t] = path[mode, lev, u, t]
                            path[mode, lev + 1, w, lev + 1] = w
    return best, blen, bcyc, bend


@numba.njit(cache=True)
def _apply_exchange(q, iq, utype, utgt, s, cnt, bpath, blen, bcyc, bend, dirty):  # pragma: no cover
    """Apply: unit bpath[t] moves to the old target of bpath[t+1]; the last one moves to the
    first's old target (cycle) or to bend (path)."""
    old = np.empty(blen, np.int64)
    for t in range(blen):
        old[t] = utgt[bpath[t]]
    for t in range(blen):
        u = bpath[t]
        j = old[t]
        if j >= 0:
            s[j] *= iq[utype[u], j]
            cnt[j] -= 1
            dirty[j] = True
    for t in range(blen):
        u = bpath[t]
        if t + 1 < blen:
            g = old[t + 1]
        elif bcyc:
            g = old[0]
        else:
            g = bend
        utgt[u] = g
        s[g] *= q[utype[u], g]
        cnt[g] += 1
        dirty[g] = True


@numba.njit(cache=True)
def _descend(values, q, iq, allowed, limit, cand, utype, utgt, s, cnt, dirty, full, K, prune):  # pragma: no cover
    """Local search, then exchanges, until neither improves. Returns the number of exchanges."""
    n = s.shape[0]
    U = utype.shape[0]
    start = np.zeros(n + 1, np.int64)
    order = np.empty(max(U, 1), np.int64)
    bpath = np.empty(K, np.int64)
    nex = 0
    # targets changed since the exchange search last came up empty
    touched = dirty.copy()
    if full:
        touched[:] = True
    roots = np.zeros(U, np.bool_)
    _ls(q, iq, allowed, limit, utype, utgt, s, cnt, dirty, full, touched)
    while True:
        tot = 0.0
        for j in range(n):
            tot += s[j]
        _bucket(utgt, n, start, order)
        nr = 0
        for u in range(U):
            roots[u] = utgt[u] < 0 or touched[utgt[u]]
            nr += roots[u]
        if nr == 0:
            break
        d, blen, bcyc, bend = _exchange_search(q, iq, allowed, limit, cand, utype, utgt, s, cnt,
                                               K, start, order, bpath, _EPS * (1.0 + tot), roots, prune)
        if blen == 0:
            break
        dirty[:] = False
        _apply_exchange(q, iq, utype, utgt, s, cnt, bpath, blen, bcyc, bend, dirty)
        for j in range(n):
            if dirty[j]:
                touched[j] = True
        nex += 1
        _ls(q, iq, allowed, limit, utype, utgt, s, cnt, dirty, False, touched)
    _recompute(values, q, utype, utgt, s, cnt)
    return nex


def candidates(problem: WTAProblem, p: np.ndarray, allowed: np.ndarray, L: int) -> np.ndarray:
    """[m, L] for each type its L allowed targets of highest pk (-1 padded)."""
    m, n = p.shape
    L = max(1, min(L, n))
    key = np.where(allowed, p, -1.0)
    idx = np.argsort(-key, axis=1, kind="stable")[:, :L]
    ok = np.take_along_axis(key, idx, axis=1) > 0
    return np.ascontiguousarray(np.where(ok, idx, -1).astype(np.int64))


# ---------------------------------------------------------------------------------------------
# simulated annealing over relocate / swap moves to candidate targets

@numba.njit(cache=True)
def _anneal(values, q, iq, allowed, limit, cand, ncand, utype, utgt, n_moves, t0, t1):  # pragma: no cover
    n = values.shape[0]
    U = utype.shape[0]
    s = np.empty(n)
    cnt = np.zeros(n, np.int64)
    _recompute(values, q, utype, utgt, s, cnt)
    maxc = 1
    for j in range(n):
        maxc = max(maxc, cnt[j])
    cap = min(U, max(maxc, 1) + U) if U < 4096 else U
    tl = np.full((n, cap), -1, np.int64)
    pos = np.full(U, -1, np.int64)
    for u in range(U):
        j = utgt[u]
        if j >= 0:
            pos[u] = cnt[j] - 1  # placeholder, fixed below
    fill = np.zeros(n, np.int64)
    for u in range(U):
        j = utgt[u]
        if j >= 0:
            tl[j, fill[j]] = u
            pos[u] = fill[j]
            fill[j] += 1
    best = utgt.copy()
    cur = 0.0
    for j in range(n):
        cur += s[j]
    bestv = cur
    lr = np.log(t1 / t0) / max(n_moves, 1)
    T = t0
    for it in range(n_moves):
        if (it & 1023) == 0:
            T = t0 * np.exp(lr * it)
        u = np.random.randint(0, U)
        i = utype[u]
        nc = ncand[i]
        if nc == 0:
            continue
        k = cand[i, np.random.randint(0, nc)]
        j = utgt[u]
        if k == j:
            continue
        if np.random.random() < 0.5 and cnt[k] < limit[k]:
            # relocate u: j -> k
            d = s[k] * (q[i, k] - 1.0)
            if j >= 0:
                d += s[j] * (iq[i, j] - 1.0)
            if d < 0.0 or np.random.random() < np.exp(-d / T):
                if j >= 0:
                    s[j] *= iq[i, j]
                    cnt[j] -= 1
                    last = tl[j, cnt[j]]
                    tl[j, pos[u]] = last
                    pos[last] = pos[u]
                s[k] *= q[i, k]
                tl[k, cnt[k]] = u
                pos[u] = cnt[k]
                cnt[k] += 1
                utgt[u] = k
                cur += d
        else:
            if cnt[k] == 0 or j < 0:
                continue
            w = tl[k, np.random.randint(0, cnt[k])]
            kk = utype[w]
            if kk == i or not allowed[kk, j]:
                continue
            d = s[j] * (iq[i, j] * q[kk, j] - 1.0) + s[k] * (iq[kk, k] * q[i, k] - 1.0)
            if d < 0.0 or np.random.random() < np.exp(-d / T):
                s[j] *= iq[i, j] * q[kk, j]
                s[k] *= iq[kk, k] * q[i, k]
                pu = pos[u]
                pw = pos[w]
                tl[j, pu] = w
                tl[k, pw] = u
                pos[u] = pw
                pos[w] = pu
                utgt[u] = k
                utgt[w] = j
                cur += d
        if cur < bestv - 1e-12 * (1.0 + bestv):
            # recompute exactly before trusting the running sum
            tot = 0.0
            for jj in range(n):
                tot += s[jj]
            cur = tot
            if cur < bestv:
                bestv = cur
                best[:] = utgt
    utgt[:] = best
    return bestv
