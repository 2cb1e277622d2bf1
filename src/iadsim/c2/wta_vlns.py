"""Fast heuristic for large raids: "vlns", very large-scale neighbourhood search.

Following Ahuja, Kumar, Jha & Orlin (2007), *Exact and heuristic algorithms for the
weapon-target assignment problem*, Operations Research 55(6):1136-1146: a good construction,
then a local search over cyclic and path exchanges of many units found in an improvement graph,
here inside an iterated local search. The search works on units (one entry per unit of every
weapon type) and keeps each target's expected surviving value ``s_j``, so a move is priced in
O(1) with ``q = 1 - p``:

* relocate (a unit of type i from target j, or from the pool, to k):
  ``s_j (1/q_ij - 1) + s_k (q_ik - 1)``;
* swap (units of types i on j and k on l exchange targets):
  ``s_j (q_kj/q_ij - 1) + s_l (q_il/q_kl - 1)``;
* cyclic exchange (u1 to the target of u2, u2 to that of u3, ..., uK to that of u1, all
  targets distinct) and path exchange (u1 leaves its target unreplaced and the last unit enters
  a target without displacing anyone). The change is additive over the targets involved, so
  improving exchanges are found by a label-correcting search over units (one label per unit and
  length, Ahuja et al.'s heuristic), restricted to each type's ``L`` targets of highest pk and
  pruned by the gain criterion (an improving cycle has a rotation whose partial sums are all
  negative).

Algorithm:

1. construction: rounds of optimal assignment (each round places the remaining units, at most
   one per target, by an exact shortest-augmenting-path assignment solver; optimal when no
   target needs two units), then descent;
2. descent: relocate/swap local search, then exchanges, until neither improves (only moves that
   touch a target changed since it was last examined are re-priced);
3. iterated local search: perturb the current assignment (destroy all units on a few targets
   and repair by maximum marginal return; destroy a few random units likewise; move a few units
   to random candidate targets; or take one unit off a random 20-80 % of the targets and put
   them back by optimal assignment), descend, and accept the result if it is within ``accept``
   (relative) of the best found so far (record-to-record travel).

Deterministic for a given seed: the budget is counted in work units (moves priced), not
seconds, so the answer does not depend on the machine. ``time_limit_s`` only caps it (checked
between chunks of work), so a binding time limit makes the result machine-dependent;
``info["stopped_by"]`` says which one ended the run. Kernels are compiled with numba and
cached on disk.
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

__all__ = ["DEFAULT_WORK", "candidates", "descend", "local_search", "vlns"]

_EPS = 1e-13  # a move must improve the objective by more than _EPS * (1 + objective)

# default budget of vlns in work units (moves priced); about 0.5 s on a 200 x 400 x 3 raid
DEFAULT_WORK = 60_000_000


@numba.njit(cache=True)
def _seed(seed):  # pragma: no cover - numba
    np.random.seed(seed)


@numba.njit(cache=True)
def _ls(q, iq, allowed, limit, utype, utgt, s, cnt, dirty, full, touched):  # pragma: no cover - numba
    """Relocate + swap local search to a local optimum. ``dirty[j]``: target j changed since its
    moves were last priced; ``full``: price everything in the first round. Targets changed are
    also marked in ``touched``. Returns the work done (moves priced)."""
    n = s.shape[0]
    U = utype.shape[0]
    work = 0
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
                work += n
                for k in range(n):
                    if k != j and allowed[i, k] and cnt[k] < limit[k]:
                        d = gain_out + s[k] * (q[i, k] - 1.0)
                        if d < bd:
                            bd = d
                            bk = k
            else:
                work += nd
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
        # ---- swap (pairs with at least one unit on a dirty target)
        for u in range(U):
            j = utgt[u]
            if j < 0 or not (first or dirty[j]):
                continue
            i = utype[u]
            bd = -tol
            bw = -1
            work += U
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
        first = False
        for j in range(n):
            dirty[j] = newdirty[j]
            if newdirty[j]:
                touched[j] = True
    return work


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
    exchange of up to K units starting at the ``roots`` units. Returns (delta, length, is_cycle,
    end_target, work); the units are written to best_path; length 0 means none was found."""
    n = s.shape[0]
    U = utype.shape[0]
    L = cand.shape[1]
    INF = np.inf
    best = -tol
    blen = 0
    bcyc = False
    bend = -1
    work = 0
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
                work += L
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
                    work += start[g + 1] - start[g]
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
    return best, blen, bcyc, bend, work


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
    """Local search, then exchanges, until neither improves. Returns (exchanges, work)."""
    n = s.shape[0]
    U = utype.shape[0]
    start = np.zeros(n + 1, np.int64)
    order = np.empty(max(U, 1), np.int64)
    bpath = np.empty(max(K, 1), np.int64)
    nex = 0
    work = 0
    # targets changed since the exchange search last came up empty
    touched = dirty.copy()
    if full:
        touched[:] = True
    roots = np.zeros(U, np.bool_)
    work += _ls(q, iq, allowed, limit, utype, utgt, s, cnt, dirty, full, touched)
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
        if K < 2:
            break
        d, blen, bcyc, bend, w = _exchange_search(q, iq, allowed, limit, cand, utype, utgt, s,
                                                  cnt, K, start, order, bpath, _EPS * (1.0 + tot),
                                                  roots, prune)
        work += w + U
        if blen == 0:
            break
        dirty[:] = False
        _apply_exchange(q, iq, utype, utgt, s, cnt, bpath, blen, bcyc, bend, dirty)
        for j in range(n):
            if dirty[j]:
                touched[j] = True
        nex += 1
        work += _ls(q, iq, allowed, limit, utype, utgt, s, cnt, dirty, False, touched)
    _recompute(values, q, utype, utgt, s, cnt)
    return nex, work




@numba.njit(cache=True)
def _ils(values, p, q, iq, allowed, limit, cand, ncand, K, prune, utype, utgt, best_tgt,
         max_iter, work_budget, max_destroy, kinds_w, accept):  # pragma: no cover - numba
    """Iterated local search from the current assignment ``utgt`` (best so far: ``best_tgt``)
    for up to max_iter iterations or work_budget work units.
    Returns (iterations, work, accepted, improved)."""
    n = values.shape[0]
    U = utype.shape[0]
    s = np.empty(n)
    cnt = np.zeros(n, np.int64)
    _recompute(values, q, utype, best_tgt, s, cnt)
    bestv = 0.0
    for j in range(n):
        bestv += s[j]
    _recompute(values, q, utype, utgt, s, cnt)
    dirty = np.zeros(n, np.bool_)
    t_tgt = utgt.copy()
    t_s = s.copy()
    t_cnt = cnt.copy()
    freed = np.empty(U, np.int64)
    on = np.empty(U, np.int64)
    picked = np.zeros(n, np.bool_)
    accepted = 0
    improved = 0
    work = 0
    wsum = 0.0
    for t in range(4):
        wsum += kinds_w[t]
    it = 0
    if U == 0 or n == 0 or wsum <= 0.0:
        return it, work, accepted, improved
    while it < max_iter and work < work_budget:
        it += 1
        t_tgt[:] = utgt
        t_s[:] = s
        t_cnt[:] = cnt
        dirty[:] = False
        nf = 0
        rr = np.random.random() * wsum
        kind = 0
        while kind < 3 and rr >= kinds_w[kind]:
            rr -= kinds_w[kind]
            kind += 1
        if kind == 0:
            # destroy all units on r random targets (r in 1..max_destroy), repair greedily
            r = 1 + np.random.randint(0, max_destroy)
            for _ in range(r):
                j = np.random.randint(0, n)
                for u in range(U):
                    if t_tgt[u] == j:
                        t_s[j] *= iq[utype[u], j]
                        t_cnt[j] -= 1
                        t_tgt[u] = -1
                        freed[nf] = u
                        nf += 1
                dirty[j] = True
            work += U * r
        elif kind == 1:
            # destroy r random units (r in 2..max_destroy+1), repair greedily
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
        elif kind == 2:
            # kick: r random units (r in 1..max_destroy) each to a random candidate target
            r = 1 + np.random.randint(0, max_destroy)
            for _ in range(r):
                u = np.random.randint(0, U)
                i = utype[u]
                if ncand[i] == 0:
                    continue
                k = cand[i, np.random.randint(0, ncand[i])]
                j = t_tgt[u]
                if k == j or t_cnt[k] >= limit[k]:
                    continue
                if j >= 0:
                    t_s[j] *= iq[i, j]
                    t_cnt[j] -= 1
                    dirty[j] = True
                t_s[k] *= q[i, k]
                t_cnt[k] += 1
                t_tgt[u] = k
                dirty[k] = True
        else:
            # one random unit off each target with probability frac; optimal reinsertion
            frac = 0.2 + 0.6 * np.random.random()
            for u in range(U):
                on[u] = u
            for t in range(U - 1, 0, -1):
                r = np.random.randint(0, t + 1)
                tmp = on[t]
                on[t] = on[r]
                on[r] = tmp
            picked[:] = False
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
                work += nf * (n + nf) * 4
                nf = 0
        if nf > 0:
            _repair(q, p, allowed, limit, utype, t_tgt, t_s, t_cnt, freed, nf, dirty)
            work += nf * nf * n
        _nex, w = _descend(values, q, iq, allowed, limit, cand, utype, t_tgt, t_s, t_cnt, dirty,
                           False, K, prune)
        work += w
        val = 0.0
        for j in range(n):
            val += t_s[j]
        if val < bestv * (1.0 - 1e-12):
            improved += 1
            bestv = val
            best_tgt[:] = t_tgt
        if val <= bestv * (1.0 + accept) + 1e-300:
            accepted += 1
            utgt[:] = t_tgt
            s[:] = t_s  # t_s was recomputed from scratch by _descend
            cnt[:] = t_cnt
    return it, work, accepted, improved


def _units(problem: WTAProblem, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit arrays (type, target or -1) for assignment x; unused capacity becomes pool units."""
    used = x.sum(axis=1)
    reps = np.concatenate([x, (problem.capacity - used)[:, None]], axis=1)  # [m, n + 1]
    utype = np.repeat(np.repeat(np.arange(problem.m), problem.n + 1), reps.ravel())
    tg = np.tile(np.append(np.arange(problem.n), -1), problem.m)
    utgt = np.repeat(tg, reps.ravel())
    return utype.astype(np.int64), utgt.astype(np.int64)


def _to_x(problem: WTAProblem, utype: np.ndarray, utgt: np.ndarray) -> np.ndarray:
    x = np.zeros((problem.m, problem.n), np.int64)
    on = utgt >= 0
    np.add.at(x, (utype[on], utgt[on]), 1)
    return x


def candidates(p: np.ndarray, allowed: np.ndarray, L: int) -> np.ndarray:
    """[m, L] for each type its L allowed targets of highest pk, best first (-1 padded)."""
    m, n = p.shape
    L = max(1, min(L, n))
    key = np.where(allowed, p, -1.0)
    idx = np.argsort(-key, axis=1, kind="stable")[:, :L]
    ok = np.take_along_axis(key, idx, axis=1) > 0
    return np.ascontiguousarray(np.where(ok, idx, -1).astype(np.int64))


class _Search:
    """The arrays the kernels share for one problem."""

    def __init__(self, problem: WTAProblem, K: int, L: int, prune: bool):
        self.problem = problem
        self.values, self.p, self.allowed, _cap, self.limit = internal_arrays(problem)
        self.q = 1.0 - self.p
        self.iq = 1.0 / self.q
        self.cand = candidates(self.p, self.allowed, L) if problem.n else np.zeros((problem.m, 1), np.int64) - 1
        self.ncand = (self.cand >= 0).sum(axis=1).astype(np.int64)
        self.K, self.prune = int(K), bool(prune)

    def descend(self, utype, utgt) -> tuple[float, int]:
        """Descend from utgt in place; returns (objective, work)."""
        n = self.problem.n
        s = np.empty(n)
        cnt = np.zeros(n, np.int64)
        _recompute(self.values, self.q, utype, utgt, s, cnt)
        if utype.size == 0 or n == 0:
            return float(s.sum()), 0
        _nex, work = _descend(self.values, self.q, self.iq, self.allowed, self.limit, self.cand,
                              utype, utgt, s, cnt, np.ones(n, np.bool_), True, self.K, self.prune)
        return float(s.sum()), int(work)


def descend(problem: WTAProblem, x, *, K: int = 5, L: int = 20) -> np.ndarray:
    """Local search plus cyclic/path exchanges from assignment x to a local optimum (x is kept)."""
    srch = _Search(problem, K, L, True)
    utype, utgt = _units(problem, np.asarray(x, np.int64))
    srch.descend(utype, utgt)
    return _to_x(problem, utype, utgt)


def local_search(problem: WTAProblem, x) -> np.ndarray:
    """Relocate/swap local search from assignment x to a local optimum (x is kept)."""
    return descend(problem, x, K=0)


def lap_construct(problem: WTAProblem) -> np.ndarray:
    """Rounds of optimal assignment (at most one new unit per target per round)."""
    values, p, allowed, _cap, limit = internal_arrays(problem)
    utype, utgt = _units(problem, np.zeros((problem.m, problem.n), np.int64))
    if utype.size and problem.n:
        _lap_construct(values, 1.0 - p, allowed, limit, utype, utgt)
    return _to_x(problem, utype, utgt)


def vlns(problem: WTAProblem, *, time_limit_s: float | None = None, seed: int = 0,
         effort: float = 1.0, K: int = 5, L: int = 20, prune: bool = True, accept: float = 0.0,
         max_destroy: int = 4, kinds: tuple[float, float, float, float] = (1.0, 1.0, 2.0, 0.05),
         start: str = "lap") -> WTASolution:
    """Construction, descent, then iterated very-large-neighbourhood search.

    effort       budget as a multiple of DEFAULT_WORK work units (deterministic)
    K, L         longest exchange (units) and candidate targets per weapon type
    accept       record-to-record threshold (0: accept only non-worsening)
    kinds        weights of the perturbations: destroy targets, destroy units, kick, big LAP
    start        "lap" (rounds of optimal assignment), "greedy" or "best" (both, keep better)
    """
    t0 = time.perf_counter()
    if start not in ("lap", "greedy", "best"):
        raise ValueError(f"start must be 'lap', 'greedy' or 'best', got {start!r}")
    srch = _Search(problem, K, L, prune)
    info: dict = {"stopped_by": "budget", "start": start}
    starts = []
    if start in ("lap", "best"):
        starts.append(("lap", lap_construct(problem)))
    if start in ("greedy", "best"):
        starts.append(("greedy", greedy_assign(problem)))
    best = None
    work = 0
    for label, x0 in starts:
        utype, utgt = _units(problem, x0)
        val, w = srch.descend(utype, utgt)
        work += w
        info[f"{label}_descent"] = val
        if best is None or val < best[0]:
            best = (val, utype, utgt)
    _val, utype, utgt = best
    budget = int(effort * DEFAULT_WORK)
    it = acc = imp = 0
    if utype.size and problem.n:
        _seed(int(seed) % (2**32))
        best_tgt = utgt.copy()
        chunk = max(DEFAULT_WORK // 20, 1)
        kw = np.asarray(kinds, np.float64)
        while work < budget:
            if time_limit_s is not None and time.perf_counter() - t0 >= time_limit_s:
                info["stopped_by"] = "time"
                break
            a, w, b, c = _ils(srch.values, srch.p, srch.q, srch.iq, srch.allowed, srch.limit,
                              srch.cand, srch.ncand, srch.K, srch.prune, utype, utgt, best_tgt,
                              2**62, min(chunk, budget - work), max_destroy, kw, accept)
            it += a
            work += w
            acc += b
            imp += c
            if a == 0:
                break
        utgt = best_tgt
    info.update(iterations=it, work=work, accepted=acc, improvements=imp)
    x = _to_x(problem, utype, utgt)
    return WTASolution.from_x(problem, x, policy="vlns", time_s=time.perf_counter() - t0,
                              info=info)


register_policy("vlns", vlns)
