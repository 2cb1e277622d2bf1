"""Fast heuristic for large raids: "vlns", very large-scale neighbourhood search.

In the spirit of Ahuja, Kumar, Jha & Orlin (2007), *Exact and heuristic algorithms for the
weapon-target assignment problem*, Operations Research 55(6):1136-1146: a construction by
assignment problems, then local search over cyclic and path exchanges of many units found in
an improvement graph, inside an iterated local search. The search works on units (one entry per
unit of every weapon type) and keeps each target's expected surviving value ``s_j``, so with
``q = 1 - p`` a move is priced in O(1):

* relocate (a unit of type i from target j, or from the pool, to k):
  ``s_j (1/q_ij - 1) + s_k (q_ik - 1)``;
* swap (units of types i on j and k on l exchange targets):
  ``s_j (q_kj/q_ij - 1) + s_l (q_il/q_kl - 1)``;
* cyclic exchange (u1 takes the place of u2, u2 that of u3, ..., uK that of u1) and path
  exchange (u1 leaves its target unreplaced, ..., the last unit enters a target without
  displacing anyone). With distinct targets the change is additive over the arcs
  ``s_g (q_{in,g}/q_{out,g} - 1)``, so improving exchanges are negative cycles of the
  improvement graph over units (arcs only to each type's ``L`` targets of highest pk). Short
  ones (up to ``K`` units) are found by Ahuja et al.'s label-correcting search (one label per
  unit and length, pruned by the gain criterion: an improving cycle has a rotation whose partial
  sums are all negative); long ones by a Bellman-Ford negative-cycle search (``bf_pass`` rounds)
  with an extra "hole" node for paths. Cycles that reuse a target are evaluated exactly.

Algorithm:

1. construction: rounds of the linear assignment problem (each round places the remaining
   units, at most one per target, exactly; this alone is optimal when no target needs two
   units), then descent;
2. descent: relocate/swap local search, short exchanges, long exchanges, until none improves
   (relocate/swap and short exchanges re-price only moves touching targets changed since they
   were last examined);
3. iterated local search: perturb (destroy the units on a few targets, or a few random units,
   and repair by maximum marginal return; or move a few units to random candidate targets),
   descend, keep the result if it is within ``accept`` (relative) of the best so far; every
   ``lap_period`` iterations an assignment move takes one unit off each of a random 70-100 % of
   the targets (a random unit, or the one of highest or lowest pk) and puts them back by the
   assignment problem, then descends.

Deterministic for a given seed: the budget is a number of iterations (default from the number
of units: 400 iterations, about 0.7 s of CPU, for the 600 units of the 200 x 400 x 3 published
instance), and the random draws come from an explicit SplitMix64 stream seeded from
``numpy.random.SeedSequence(seed)`` and passed into the compiled search (never numba's global
generator, which other code in the process could reseed or advance). No clock is read unless
an optional ``time_limit_s`` safety cap is given; it only cuts the run short (checked every few
iterations), which makes the result depend on the machine, so result paths never set it;
``info["stopped_by"]`` says which ended the run. Kernels are compiled with numba and
cached on disk (the first call in a fresh environment compiles for a few seconds).
"""

from __future__ import annotations

import time

import numba
import numpy as np
from scipy.optimize import linear_sum_assignment

from iadsim.c2.wta import (
    WTAProblem,
    WTASolution,
    greedy_assign,
    internal_arrays,
    register_policy,
)
from iadsim.engine.rng import GOLDEN, mix64, unit_float

__all__ = ["candidates", "default_iterations", "descend", "local_search", "vlns"]

_EPS = 1e-13  # a move must improve the objective by more than _EPS * (1 + objective)

# default iterations of vlns: ITERATION_SCALE / units, clipped to [300, 3000]
ITERATION_SCALE = 240_000


# The search's own random stream, state in a uint64[1]: SplitMix64 advanced in place, with the
# same finaliser the engine's counter-based draws use (iadsim.engine.rng).


def rng_state(seed: int) -> np.ndarray:
    """The search stream's state (uint64[1]) for ``seed``, from ``numpy.random.SeedSequence``."""
    return np.random.SeedSequence(int(seed)).generate_state(1, np.uint64)


@numba.njit(cache=True)
def _random(st):  # pragma: no cover - numba
    """A uniform draw in [0, 1) from the stream ``st`` (advanced in place)."""
    st[0] += GOLDEN
    return unit_float(mix64(st[0]))


@numba.njit(cache=True)
def _randint(st, lo, hi):  # pragma: no cover - numba
    """A uniform integer in [lo, hi) from the stream ``st``."""
    k = lo + np.int64(_random(st) * (hi - lo))
    return k if k < hi else hi - 1


@numba.njit(cache=True)
def _ls(q, iq, allowed, limit, utype, utgt, s, cnt, dirty, full, touched):  # pragma: no cover
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
        work += 3 * n
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
                lw = utgt[w]
                k = utype[w]
                if lw < 0 or lw == j or k == i:
                    continue
                if not (allowed[k, j] and allowed[i, lw]):
                    continue
                if (first or dirty[lw]) and w < u:
                    continue  # already priced from w's side in this round
                d = s[j] * (iq[i, j] * q[k, j] - 1.0) + s[lw] * (iq[k, lw] * q[i, lw] - 1.0)
                if d < bd:
                    bd = d
                    bw = w
            if bw >= 0:
                lw = utgt[bw]
                k = utype[bw]
                s[j] *= iq[i, j] * q[k, j]
                s[lw] *= iq[k, lw] * q[i, lw]
                utgt[u] = lw
                utgt[bw] = j
                newdirty[j] = True
                newdirty[lw] = True
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
def _exchange_search(q, iq, allowed, limit, cand, utype, utgt, s, cnt, K, Kp, start, order,
                     best_path, tol, roots, prune_paths, beam):  # pragma: no cover - numba
    """Heuristic label-correcting search for an improving subset-disjoint cyclic or path
    exchange of up to K units starting at the ``roots`` units. Returns (delta, length, is_cycle,
    end_target, work); the units are written to best_path; length 0 means none was found."""
    U = utype.shape[0]
    L = cand.shape[1]
    INF = np.inf
    best = -tol
    blen = 0
    bcyc = False
    bend = -1
    work = 2 * K * U * (K + 1)
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
    act = np.empty(U, np.int64)
    key = np.empty(U)
    for lev in range(K):
        for mode in range(2):
            if mode == 1 and lev >= Kp:
                continue
            na = 0
            for u in range(U):
                cu = cost[mode, lev, u]
                if cu == INF:
                    continue
                if lev > 0:
                    # gain criterion: every improving cycle has a rotation whose partial sums
                    # are all negative; paths (heuristically) must gain along their arcs
                    if mode == 0 and cu >= 0.0:
                        continue
                    if mode == 1 and prune_paths:
                        first = path[mode, lev, u, 0]
                        jf = utgt[first]
                        hole = 0.0 if jf < 0 else s[jf] * (iq[utype[first], jf] - 1.0)
                        if cu - hole >= 0.0:
                            continue
                        key[na] = cu - hole
                    else:
                        key[na] = cu
                else:
                    key[na] = cu
                act[na] = u
                na += 1
            if beam > 0 and na > beam:
                # beam: expand only the most promising labels of this level
                keep = np.argsort(key[:na])[:beam]
                sel = act[keep].copy()
                na = beam
                act[:na] = sel
                work += na * 8
            for a in range(na):
                u = act[a]
                cu = cost[mode, lev, u]
                i = utype[u]
                first = path[mode, lev, u, 0]
                jf = utgt[first]
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
def _bf_exchange(q, iq, allowed, limit, cand, utype, utgt, s, cnt, start, order, bpath, tol,
                 max_pass):  # pragma: no cover - numba
    """Bellman-Ford search for a negative cycle of any length in the improvement graph: nodes
    are the units plus a hole node H; arc u -> w (u takes w's place) costs the change at w's
    target, H -> u makes u's place a hole (path start), u -> H puts u on its best target with
    room (path end). A cycle found in the predecessor graph is evaluated exactly (targets may
    repeat) and returned if it improves. Returns (length, is_cycle, end_target, work)."""
    U = utype.shape[0]
    n = s.shape[0]
    L = cand.shape[1]
    H = U
    dist = np.zeros(U + 1)
    par = np.full(U + 1, -1, np.int64)
    enter_c = np.zeros(U)
    enter_g = np.full(U, -1, np.int64)
    hole_c = np.zeros(U)
    work = 0
    for u in range(U):
        i = utype[u]
        j = utgt[u]
        hole_c[u] = 0.0 if j < 0 else s[j] * (iq[i, j] - 1.0)
        for c in range(L):
            g = cand[i, c]
            if g < 0:
                break
            if g != j and cnt[g] < limit[g]:
                d = s[g] * (q[i, g] - 1.0)
                if d < enter_c[u]:
                    enter_c[u] = d
                    enter_g[u] = g
    mark = np.full(U + 1, -1, np.int64)
    cyc = np.empty(U + 1, np.int64)
    factor = np.ones(n)
    act = np.ones(U + 1, np.bool_)
    nxt = np.zeros(U + 1, np.bool_)
    for ps in range(max_pass):
        changed = False
        nxt[:] = False
        for u in range(U):
            if not act[u]:
                continue
            du = dist[u]
            i = utype[u]
            j = utgt[u]
            for c in range(L):
                g = cand[i, c]
                if g < 0:
                    break
                if g == j:
                    continue
                qig = q[i, g]
                sg = s[g]
                for r in range(start[g], start[g + 1]):
                    w = order[r]
                    k = utype[w]
                    if k == i:
                        continue
                    nd = du + sg * (qig * iq[k, g] - 1.0)
                    if nd < dist[w] - tol:
                        dist[w] = nd
                        par[w] = u
                        changed = True
                        nxt[w] = True
            work += L * 2
            if enter_g[u] >= 0 and du + enter_c[u] < dist[H] - tol:
                dist[H] = du + enter_c[u]
                par[H] = u
                changed = True
                nxt[H] = True
        if act[H] or nxt[H]:
            work += U
            for u in range(U):
                if utgt[u] >= 0 and dist[H] + hole_c[u] < dist[u] - tol:
                    dist[u] = dist[H] + hole_c[u]
                    par[u] = H
                    changed = True
                    nxt[u] = True
        act[:] = nxt
        if not changed:
            return 0, False, -1, work
        # a cycle in the predecessor graph?
        for v0 in range(U + 1):
            v = v0
            while v >= 0 and mark[v] < ps * (U + 2):
                mark[v] = ps * (U + 2) + v0 + 1  # unique stamp of this walk
                v = par[v]
            if v < 0 or mark[v] != ps * (U + 2) + v0 + 1:
                continue
            # v is on a cycle: collect it (predecessor order), then reverse to arc order
            m = 0
            x = v
            while True:
                cyc[m] = x
                m += 1
                x = par[x]
                if x == v or m > U:
                    break
            for a in range(m // 2):
                tmp = cyc[a]
                cyc[a] = cyc[m - 1 - a]
                cyc[m - 1 - a] = tmp
            # rotate so that the hole node, if any, comes last
            h = -1
            for a in range(m):
                if cyc[a] == H:
                    h = a
            is_cycle = h < 0
            blen = 0
            if is_cycle:
                for a in range(m):
                    bpath[blen] = cyc[a]
                    blen += 1
                end = -1
            else:
                for a in range(1, m):
                    bpath[blen] = cyc[(h + a) % m]
                    blen += 1
                end = enter_g[bpath[blen - 1]]
            if blen == 0 or blen > bpath.shape[0]:
                continue
            # exact change (targets may repeat)
            for a in range(blen):
                u = bpath[a]
                j = utgt[u]
                if j >= 0:
                    factor[j] *= iq[utype[u], j]
                if a + 1 < blen:
                    g = utgt[bpath[a + 1]]
                elif is_cycle:
                    g = utgt[bpath[0]]
                else:
                    g = end
                factor[g] *= q[utype[u], g]
            delta = 0.0
            for a in range(blen):
                j = utgt[bpath[a]]
                if j >= 0 and factor[j] != 1.0:
                    delta += s[j] * (factor[j] - 1.0)
                    factor[j] = 1.0
            if not is_cycle and factor[end] != 1.0:
                delta += s[end] * (factor[end] - 1.0)
                factor[end] = 1.0
            if delta < -tol:
                return blen, is_cycle, end, work
    return 0, False, -1, work


@numba.njit(cache=True)
def _descend(values, q, iq, allowed, limit, cand, utype, utgt, s, cnt, dirty, full, K, Kp, prune,
             beam, bf, bf_pass):  # pragma: no cover
    """Local search, then exchanges, until neither improves. Returns (exchanges, work)."""
    n = s.shape[0]
    U = utype.shape[0]
    start = np.zeros(n + 1, np.int64)
    order = np.empty(max(U, 1), np.int64)
    bpath = np.empty(max(K, 1), np.int64)
    bfpath = np.empty(U + 1, np.int64)
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
        blen = 0
        if nr > 0 and K >= 2:
            _d, blen, bcyc, bend, w = _exchange_search(q, iq, allowed, limit, cand, utype, utgt, s,
                                                      cnt, K, Kp, start, order, bpath,
                                                      _EPS * (1.0 + tot), roots, prune, beam)
            work += w + 2 * (U + n)
        if blen == 0 and bf:
            bf = False  # at most once per call unless it finds something
            blen, bcyc, bend, w = _bf_exchange(q, iq, allowed, limit, cand, utype, utgt, s, cnt,
                                               start, order, bfpath, _EPS * (1.0 + tot), bf_pass)
            work += w
            if blen > 0:
                dirty[:] = False
                _apply_exchange(q, iq, utype, utgt, s, cnt, bfpath, blen, bcyc, bend, dirty)
                for j in range(n):
                    if dirty[j]:
                        touched[j] = True
                nex += 1
                work += _ls(q, iq, allowed, limit, utype, utgt, s, cnt, dirty, False, touched)
                bf = True
                continue
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
def _ils(values, p, q, iq, allowed, limit, cand, ncand, K, Kp, prune, beam, bf_gate, bf_pass,
         utype, utgt, best_tgt, max_iter, work_budget, max_destroy, kinds_w,
         accept, st):  # pragma: no cover - numba
    """Iterated local search from the current assignment ``utgt`` (best so far: ``best_tgt``)
    for up to max_iter iterations or work_budget work units, drawing from the stream ``st``.
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
    accepted = 0
    improved = 0
    work = 0
    wsum = 0.0
    for t in range(3):
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
        rr = _random(st) * wsum
        kind = 0
        while kind < 2 and rr >= kinds_w[kind]:
            rr -= kinds_w[kind]
            kind += 1
        if kind == 0:
            # destroy all units on r random targets (r in 1..max_destroy), repair greedily
            r = 1 + _randint(st, 0, max_destroy)
            for _ in range(r):
                j = _randint(st, 0, n)
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
            r = 2 + _randint(st, 0, max_destroy)
            for _ in range(r):
                u = _randint(st, 0, U)
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
            # kick: r random units (r in 1..max_destroy) each to a random candidate target
            r = 1 + _randint(st, 0, max_destroy)
            for _ in range(r):
                u = _randint(st, 0, U)
                i = utype[u]
                if ncand[i] == 0:
                    continue
                k = cand[i, _randint(st, 0, ncand[i])]
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
        if nf > 0:
            _repair(q, p, allowed, limit, utype, t_tgt, t_s, t_cnt, freed, nf, dirty)
            work += nf * nf * n
        _nex, w = _descend(values, q, iq, allowed, limit, cand, utype, t_tgt, t_s, t_cnt, dirty,
                           False, K, Kp, prune, beam, False, bf_pass)
        work += w
        val = 0.0
        for j in range(n):
            val += t_s[j]
        if bf_gate > 0.0 and val < bestv * (1.0 + bf_gate):
            # promising: also look for long exchanges (Bellman-Ford)
            dirty[:] = False
            _nex, w = _descend(values, q, iq, allowed, limit, cand, utype, t_tgt, t_s, t_cnt,
                               dirty, False, K, Kp, prune, beam, True, bf_pass)
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
    reps = np.concatenate([x, (problem.capacity - used)[:, None]], axis=1).ravel()  # [m*(n+1)]
    utype = np.repeat(np.repeat(np.arange(problem.m), problem.n + 1), reps)
    utgt = np.repeat(np.tile(np.append(np.arange(problem.n), -1), problem.m), reps)
    return utype.astype(np.int64), utgt.astype(np.int64)


def _to_x(problem: WTAProblem, utype: np.ndarray, utgt: np.ndarray) -> np.ndarray:
    x = np.zeros((problem.m, problem.n), np.int64)
    on = utgt >= 0
    np.add.at(x, (utype[on], utgt[on]), 1)
    return x


def candidates(p: np.ndarray, allowed: np.ndarray, L: int) -> np.ndarray:
    """[m, L] for each type its L allowed targets of highest pk, best first (-1 padded)."""
    n = p.shape[1]
    L = max(1, min(L, n))
    key = np.where(allowed, p, -1.0)
    idx = np.argsort(-key, axis=1, kind="stable")[:, :L]
    ok = np.take_along_axis(key, idx, axis=1) > 0
    return np.ascontiguousarray(np.where(ok, idx, -1).astype(np.int64))


class _Search:
    """The arrays the kernels share for one problem, and the assignment-based moves."""

    def __init__(self, problem: WTAProblem, K: int = 3, L: int = 20, prune: bool = True,
                 Kp: int | None = None, beam: int = 0, bf: bool = True, bf_pass: int = 10):
        self.problem = problem
        self.n = problem.n
        self.values, self.p, self.allowed, _cap, self.limit = internal_arrays(problem)
        self.q = 1.0 - self.p
        self.iq = 1.0 / self.q
        if self.n:
            self.cand = candidates(self.p, self.allowed, L)
        else:
            self.cand = np.full((problem.m, 1), -1, np.int64)
        self.ncand = (self.cand >= 0).sum(axis=1).astype(np.int64)
        self.K, self.prune = int(K), bool(prune)
        self.Kp = self.K if Kp is None else int(min(Kp, K))
        self.beam = int(beam)
        self.bf = bool(bf)
        self.bf_pass = int(bf_pass)

    def state(self, utype, utgt):
        s = np.empty(self.n)
        cnt = np.zeros(self.n, np.int64)
        _recompute(self.values, self.q, utype, utgt, s, cnt)
        return s, cnt

    def descend(self, utype, utgt, dirty=None, bf=None) -> tuple[float, int]:
        """Descend from utgt in place (everything, or moves touching ``dirty`` targets);
        returns (objective, work)."""
        s, cnt = self.state(utype, utgt)
        if utype.size == 0 or self.n == 0:
            return float(s.sum()), 0
        full = dirty is None
        d = np.ones(self.n, np.bool_) if full else dirty.copy()
        _nex, work = _descend(self.values, self.q, self.iq, self.allowed, self.limit, self.cand,
                              utype, utgt, s, cnt, d, full, self.K, self.Kp, self.prune,
                              self.beam, self.bf if bf is None else bf, self.bf_pass)
        return float(s.sum()), int(work)

    def insert(self, utype, utgt, s, cnt, rows: np.ndarray) -> int:
        """Put the pool units ``rows`` back, at most one per target, minimising the surviving
        value (a linear assignment problem, solved exactly); units that cannot gain stay in
        the pool. Updates utgt, s, cnt; returns the number placed."""
        if rows.size == 0:
            return 0
        C = s[None, :] * (self.q[utype[rows]] - 1.0)               # [R, n], <= 0
        C[~self.allowed[utype[rows]]] = 0.0
        C[:, cnt >= self.limit] = 0.0
        r, c = linear_sum_assignment(C)
        ok = C[r, c] < 0.0
        utgt[rows[r[ok]]] = c[ok]
        _recompute(self.values, self.q, utype, utgt, s, cnt)
        return int(ok.sum())

    def construct(self, utype, utgt) -> None:
        """Rounds of optimal insertion of the pool units."""
        s, cnt = self.state(utype, utgt)
        while True:
            rows = np.nonzero(utgt < 0)[0]
            if rows.size == 0 or self.insert(utype, utgt, s, cnt, rows) == 0:
                break

    def lap_move(self, utype, utgt, rng: np.random.Generator, frac: float, rule: int):
        """One unit off each target (with probability frac; the rule picks a random unit, or
        the one of highest or lowest pk), optimal reinsertion, greedy repair, descent.
        Returns (new utgt, objective)."""
        t = utgt.copy()
        on = np.nonzero(t >= 0)[0]
        if on.size == 0:
            return t, float(self.values.sum())
        pk = self.p[utype[on], t[on]]
        key = rng.random(on.size) if rule == 0 else (-pk if rule == 1 else pk)
        order = np.lexsort((key, t[on]))            # by target, then key
        first = np.ones(order.size, bool)
        first[1:] = t[on][order][1:] != t[on][order][:-1]
        pick = on[order[first]]
        pick = pick[rng.random(pick.size) < frac]
        dirty = np.zeros(self.n, np.bool_)
        dirty[t[pick]] = True
        t[pick] = -1
        s, cnt = self.state(utype, t)
        self.insert(utype, t, s, cnt, pick)
        left = pick[t[pick] < 0]
        dirty[t[pick[t[pick] >= 0]]] = True
        if left.size:
            _repair(self.q, self.p, self.allowed, self.limit, utype, t, s, cnt, left, left.size,
                    dirty)
        val, _w = self.descend(utype, t, dirty)
        return t, val


def descend(problem: WTAProblem, x, *, K: int = 3, L: int = 20, long: bool = True) -> np.ndarray:
    """Relocate/swap local search plus short (up to K units) and, if ``long``, long exchanges
    from assignment x to a local optimum. Returns the new assignment (x is not modified)."""
    srch = _Search(problem, K, L, bf=long)
    utype, utgt = _units(problem, np.asarray(x, np.int64))
    srch.descend(utype, utgt)
    return _to_x(problem, utype, utgt)


def local_search(problem: WTAProblem, x) -> np.ndarray:
    """Relocate/swap local search from assignment x to a local optimum (x is not modified)."""
    return descend(problem, x, K=0, long=False)


def lap_construct(problem: WTAProblem) -> np.ndarray:
    """Rounds of optimal assignment (at most one new unit per target per round)."""
    srch = _Search(problem)
    utype, utgt = _units(problem, np.zeros((problem.m, problem.n), np.int64))
    if utype.size and problem.n:
        srch.construct(utype, utgt)
    return _to_x(problem, utype, utgt)


def default_iterations(problem: WTAProblem) -> int:
    """Default iterations of the iterated local search: ITERATION_SCALE / units in [300, 3000]
    (400, about 0.7 s of CPU, for the 600 units of the 200 x 400 x 3 instance; an iteration
    costs roughly in proportion to the units)."""
    units = int(problem.capacity.sum())
    return int(np.clip(ITERATION_SCALE // max(units, 1), 300, 3000))


def vlns(problem: WTAProblem, *, time_limit_s: float | None = None, seed: int = 0,
         iterations: int | None = None, K: int = 3, L: int = 20, bf_pass: int = 10,
         accept: float = 0.0, max_destroy: int = 4,
         kinds: tuple[float, float, float] = (1.0, 1.0, 2.0), lap_period: int = 100,
         lap_lo: float = 0.7, start: str = "lap") -> WTASolution:
    """Assignment-problem construction, descent, then iterated very-large-neighbourhood search.

    iterations  iterated-local-search budget (default: default_iterations(problem))
    K, L        longest short exchange (units); candidate targets per weapon type
    bf_pass     rounds of the Bellman-Ford search for long exchanges (0: none)
    accept      record-to-record threshold (0: keep only non-worsening assignments)
    max_destroy perturbation size (targets, units or kicks: 1..max_destroy)
    kinds       weights of the perturbations: destroy targets, destroy units, kick
    lap_period  an assignment move after every lap_period iterations (0: never), taking one
                unit off a random lap_lo..100 % of the targets and reinserting optimally
    start       "lap" (rounds of assignment), "greedy" or "best" (both, keep the better)
    time_limit_s  optional wall-clock safety cap (None, the default: off; no clock is read)
    """
    t0 = None if time_limit_s is None else time.perf_counter()  # no clock unless capped
    if start not in ("lap", "greedy", "best"):
        raise ValueError(f"start must be 'lap', 'greedy' or 'best', got {start!r}")
    srch = _Search(problem, K, L, bf=bf_pass > 0, bf_pass=bf_pass)
    info: dict = {"stopped_by": "iterations", "start": start}
    best = None
    if start in ("greedy", "best"):
        utype, utgt = _units(problem, greedy_assign(problem))
        val, _w = srch.descend(utype, utgt)
        info["greedy_descent"] = val
        best = (val, utype, utgt)
    if start in ("lap", "best"):
        utype, utgt = _units(problem, np.zeros((problem.m, problem.n), np.int64))
        if utype.size and problem.n:
            srch.construct(utype, utgt)
        val, _w = srch.descend(utype, utgt)
        info["lap_descent"] = val
        if best is None or val < best[0]:
            best = (val, utype, utgt)
    bestv, utype, utgt = best
    budget = default_iterations(problem) if iterations is None else int(iterations)
    done = acc = imp = laps = 0
    if utype.size and problem.n and budget > 0:
        st = rng_state(seed)
        rng = np.random.default_rng(seed)
        best_tgt = utgt.copy()
        kw = np.asarray(kinds, np.float64)
        step = 20  # iterations between checks of the optional time cap
        while done < budget:
            if t0 is not None and time.perf_counter() - t0 >= time_limit_s:
                info["stopped_by"] = "time"
                break
            k = min(step, budget - done)
            if lap_period > 0:
                k = min(k, lap_period - done % lap_period)
            _a, _w, b, c = _ils(srch.values, srch.p, srch.q, srch.iq, srch.allowed, srch.limit,
                               srch.cand, srch.ncand, srch.K, srch.Kp, srch.prune, srch.beam,
                               1.0 if bf_pass > 0 else 0.0, srch.bf_pass, utype, utgt, best_tgt,
                               k, 2**62, max_destroy, kw, accept, st)
            done += k
            acc += b
            imp += c
            if lap_period > 0 and done % lap_period == 0 and done < budget:
                bestv = float(srch.state(utype, best_tgt)[0].sum())
                frac = lap_lo + (1.0 - lap_lo) * rng.random()
                t, val = srch.lap_move(utype, utgt, rng, frac, int(rng.integers(3)))
                laps += 1
                if val < bestv * (1 - 1e-12):
                    best_tgt[:] = t
                    imp += 1
                    bestv = val
                if val <= bestv * (1 + accept):
                    utgt[:] = t
                    acc += 1
        utgt = best_tgt
    info.update(iterations=done, lap_moves=laps, accepted=acc, improvements=imp)
    x = _to_x(problem, utype, utgt)
    return WTASolution.from_x(problem, x, policy="vlns", info=info)


register_policy("vlns", vlns)
