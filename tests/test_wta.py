"""Static weapon-target assignment: policies against brute force, the interface, the registry."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iadsim.c2 import (
    POLICIES,
    WTAProblem,
    WTASolution,
    check_assignment,
    get_policy,
    objective,
    random_instance,
    read_instance,
    register_policy,
    solve,
    unregister_policy,
)
from conftest import shared_path
from iadsim.c2.wta_vlns import descend, lap_construct, local_search
from iadsim.errors import InputError

BUILTIN = ("greedy", "vlns", "exact")


# ---------------------------------------------------------------------------------------------
# brute force

def _rows(mu: int, allowed_row: np.ndarray, limit: np.ndarray) -> list[tuple[int, ...]]:
    """All ways to place at most mu units of one type on the allowed targets."""
    n = allowed_row.size
    out = []
    for combo in itertools.product(*(range(min(mu, limit[j]) + 1) if allowed_row[j] else (0,)
                                     for j in range(n))):
        if sum(combo) <= mu:
            out.append(combo)
    return out


def brute_force(problem: WTAProblem) -> tuple[float, np.ndarray]:
    """Optimal value and an optimal assignment by enumeration (tiny problems only)."""
    m, n = problem.m, problem.n
    allowed = problem.mask if problem.mask is not None else np.ones((m, n), bool)
    limit = (problem.max_per_target if problem.max_per_target is not None
             else np.full(n, int(problem.capacity.sum())))
    rows = [np.array(_rows(int(problem.capacity[i]), allowed[i], limit), dtype=np.int64)
            for i in range(m)]
    logq = np.log(np.maximum(1.0 - problem.effective_pk, 1e-300))
    best, best_x = np.inf, None
    # vectorise over the last type's options
    for head in itertools.product(*(range(len(r)) for r in rows[:-1])):
        x_head = np.array([rows[i][h] for i, h in enumerate(head)]).reshape(len(head), n)
        cnt_head = x_head.sum(axis=0)
        last = rows[-1]
        ok = np.all(cnt_head[None, :] + last <= limit[None, :], axis=1)
        if not ok.any():
            continue
        lg = (x_head * logq[:-1]).sum(axis=0)[None, :] + last * logq[-1][None, :]
        vals = np.exp(lg) @ problem.values
        vals[~ok] = np.inf
        k = int(np.argmin(vals))
        if vals[k] < best - 1e-12:
            best = float(vals[k])
            best_x = np.vstack([x_head, last[k][None, :]])
    return best, best_x


def tiny_instances():
    """Small random instances: 2-3 types with 1-3 units, 1-4 targets, some masks/limits."""
    rng = np.random.default_rng(2024)
    out = []
    for k in range(18):
        m = int(rng.integers(2, 4))
        n = int(rng.integers(1, 5))
        cap = rng.integers(0 if k % 7 == 0 else 1, 4 if m == 2 else 3, size=m)
        values = rng.uniform(1, 100, size=n).round(3)
        pk = rng.uniform(0.05, 0.95, size=(m, n)).round(3)
        if k % 5 == 0:
            pk[0, 0] = 0.0          # a useless pair
        if k % 6 == 1:
            pk[-1, -1] = 1.0        # a sure kill
        mask = None
        if k % 3 == 2:
            mask = rng.random((m, n)) > 0.3
        mpt = None
        if k % 4 == 3:
            mpt = rng.integers(0, 3, size=n)
        out.append(WTAProblem(values=values, pk=pk, capacity=cap, mask=mask, max_per_target=mpt,
                              name=f"tiny{k}"))
    return out


TINY = tiny_instances()


# ---------------------------------------------------------------------------------------------
# policies

@pytest.mark.parametrize("prob", TINY, ids=lambda p: p.name)
def test_policies_against_brute_force(prob):
    opt, x_opt = brute_force(prob)
    assert np.isclose(objective(prob, x_opt), opt)
    for name in BUILTIN:
        sol = solve(prob, name, seed=3)
        assert isinstance(sol, WTASolution) and sol.policy == name
        assert check_assignment(prob, sol.x) == []
        assert sol.x.dtype.kind == "i" and sol.x.shape == (prob.m, prob.n)
        assert np.all(sol.x.sum(axis=1) <= prob.capacity)
        assert sol.objective == pytest.approx(objective(prob, sol.x), rel=1e-12, abs=1e-12)
        assert sol.objective >= opt - 1e-9 * max(1.0, opt)
        assert sol.time_s > 0
    ex = solve(prob, "exact")
    assert ex.proven_optimal
    assert ex.objective == pytest.approx(opt, rel=1e-6, abs=1e-9)
    assert ex.lower_bound is not None and ex.lower_bound <= ex.objective + 1e-12
    assert ex.lower_bound >= opt * (1 - 1e-6) - 1e-9
    # the heuristic finds the optimum on these tiny problems
    assert solve(prob, "vlns").objective == pytest.approx(opt, rel=1e-9, abs=1e-9)


def test_greedy_hand_computed_2x2():
    # values 10, 5; type 0: pk 0.5 / 0.2 (2 units); type 1: pk 0.1 / 0.9 (1 unit)
    prob = WTAProblem(values=[10.0, 5.0], pk=[[0.5, 0.2], [0.1, 0.9]], capacity=[2, 1])
    # gains: 10*.5=5 (0->0) first; then s=[5,5]: 0->0 2.5, 0->1 1.0, 1->1 4.5 -> (1,1);
    # then s=[5,0.5]: 0->0 2.5 -> (0,0). Result 2.5 + 0.5 = 3.0
    sol = solve(prob, "greedy")
    assert sol.x.tolist() == [[2, 0], [0, 1]]
    assert sol.objective == pytest.approx(10 * 0.25 + 5 * 0.1)
    assert sol.objective == pytest.approx(3.0)


def test_greedy_can_be_suboptimal_and_vlns_fixes_it():
    # the classic trap: greedy gives the first unit to the big target with the versatile weapon
    prob = WTAProblem(values=[10.0, 9.0], pk=[[0.9, 0.85], [0.8, 0.0]], capacity=[1, 1])
    g = solve(prob, "greedy")
    v = solve(prob, "vlns")
    assert g.objective > v.objective
    assert v.x.tolist() == [[0, 1], [1, 0]]


def test_degenerate_problems():
    empty_targets = WTAProblem(values=np.zeros(0), pk=np.zeros((2, 0)), capacity=[1, 2])
    no_units = WTAProblem(values=[3.0, 4.0], pk=[[0.5, 0.5]], capacity=[0])
    useless = WTAProblem(values=[3.0, 4.0], pk=[[0.0, 0.0]], capacity=[2])
    for prob, expect in ((empty_targets, 0.0), (no_units, 7.0), (useless, 7.0)):
        for name in BUILTIN:
            sol = solve(prob, name)
            assert sol.objective == pytest.approx(expect)
            assert check_assignment(prob, sol.x) == []


def test_mask_and_per_target_limit_are_respected():
    prob = random_instance(6, 5, seed=4, capacity=3)
    mask = np.ones((6, 5), bool)
    mask[:, 0] = False          # nobody may engage target 0
    mask[2] = False             # fire unit 2 cannot engage anything
    limited = WTAProblem(values=prob.values, pk=prob.pk, capacity=prob.capacity, mask=mask,
                         max_per_target=[0, 1, 2, 2, 3])
    for name in BUILTIN:
        sol = solve(limited, name, time_limit_s=20)
        assert check_assignment(limited, sol.x) == []
        assert sol.x[:, 0].sum() == 0 and sol.x[2].sum() == 0
        assert np.all(sol.x.sum(axis=0) <= [0, 1, 2, 2, 3])


def test_vlns_is_deterministic_for_a_seed_and_time_limit_caps_it():
    prob = random_instance(30, 40, seed=5, capacity=2)
    a = solve(prob, "vlns", seed=7)
    b = solve(prob, "vlns", seed=7)
    assert np.array_equal(a.x, b.x) and a.objective == b.objective
    assert a.info["stopped_by"] == "iterations"
    fast = solve(prob, "vlns", seed=7, time_limit_s=0.0)
    assert fast.info["stopped_by"] == "time" and check_assignment(prob, fast.x) == []
    # never worse than the greedy start it could have taken, nor than its own descent
    assert a.objective <= solve(prob, "greedy").objective + 1e-9
    assert a.objective <= fast.objective + 1e-9


def test_exact_beats_or_matches_heuristics_and_reports_bounds():
    prob = random_instance(8, 10, seed=11, capacity=2)
    ex = solve(prob, "exact", time_limit_s=30)
    assert ex.proven_optimal and ex.gap <= 1e-6
    for name in ("greedy", "vlns"):
        assert solve(prob, name).objective >= ex.objective * (1 - 1e-6)
    # with no time at all it still returns a feasible assignment and a valid (weak) bound
    quick = get_policy("exact")(prob, time_limit_s=1e-9)
    assert check_assignment(prob, quick.x) == []
    assert quick.lower_bound is None or quick.lower_bound <= ex.objective * (1 + 1e-9)


def test_local_search_helpers_improve_and_stay_feasible():
    prob = random_instance(12, 15, seed=2, capacity=2)
    x0 = np.zeros((12, 15), np.int64)
    x0[:, 0] = 2                                   # everything on one target
    for fn in (local_search, descend):
        x = fn(prob, x0)
        assert check_assignment(prob, x) == []
        assert objective(prob, x) < objective(prob, x0)
    xl = lap_construct(prob)
    assert check_assignment(prob, xl) == [] and xl.sum() == prob.capacity.sum()


# ---------------------------------------------------------------------------------------------
# interface, instances, registry

def test_problem_validation():
    with pytest.raises(ValueError, match="pk"):
        WTAProblem(values=[1.0, 2.0], pk=[[0.5]], capacity=[1])
    with pytest.raises(ValueError, match="pk must be in"):
        WTAProblem(values=[1.0], pk=[[1.5]], capacity=[1])
    with pytest.raises(ValueError, match="capacity"):
        WTAProblem(values=[1.0], pk=[[0.5]], capacity=[1.5])
    with pytest.raises(ValueError, match="values"):
        WTAProblem(values=[-1.0], pk=[[0.5]], capacity=[1])
    with pytest.raises(ValueError, match="mask"):
        WTAProblem(values=[1.0], pk=[[0.5]], capacity=[1], mask=[[True, False]])
    prob = WTAProblem(values=[1.0, 2.0], pk=[[0.5, 0.1]], capacity=[2], name="p")
    assert prob.m == 1 and prob.n == 2 and "p" in repr(prob)
    with pytest.raises(ValueError):
        prob.values[0] = 3.0                       # arrays are read-only


def test_check_assignment_reports_problems():
    prob = WTAProblem(values=[1.0, 2.0], pk=[[0.5, 0.1], [0.2, 0.2]], capacity=[1, 1],
                      mask=[[True, False], [True, True]], max_per_target=[1, 1])
    assert check_assignment(prob, np.zeros((1, 2))) != []
    assert any("capacity" in e for e in check_assignment(prob, [[2, 0], [0, 0]]))
    assert any("masked" in e for e in check_assignment(prob, [[0, 1], [0, 0]]))
    assert any("max_per_target" in e for e in check_assignment(prob, [[1, 0], [1, 0]]))
    assert any("integer" in e for e in check_assignment(prob, [[0.5, 0], [0, 0]]))


def test_read_published_instance():
    wta_data = shared_path("reference", "wta")          # the public instances
    prob = read_instance(wta_data / "wta_50x100x1.txt")
    assert (prob.m, prob.n, prob.name) == (50, 100, "wta_50x100x1")
    assert np.all(prob.capacity == 1)
    assert prob.values[:3].tolist() == [13.0, 60.0, 71.0]
    assert prob.pk[0, 0] == pytest.approx(0.409311426086)
    zero = np.zeros((prob.m, prob.n), np.int64)
    assert objective(prob, zero) == pytest.approx(prob.values.sum())
    assert read_instance(wta_data / "wta_50x100x3.txt").capacity[0] == 3


def test_read_instance_errors(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("2 1 1\n5\n0 0 0.5\n")          # one pair missing
    with pytest.raises(InputError, match="expected 10 numbers"):
        read_instance(bad)
    bad.write_text("1 1 1\n5\n0 3 0.5\n")
    with pytest.raises(InputError, match="out of range"):
        read_instance(bad)
    bad.write_text("x y z\n")
    with pytest.raises(InputError, match="m n mu"):
        read_instance(bad)
    with pytest.raises(InputError, match="cannot read"):
        read_instance(tmp_path / "missing.txt")
    good = tmp_path / "good.txt"
    good.write_text("2 2 3\n10\n20\n0 0 0.5\n0 1 0.25\n1 0 0.1\n1 1 0.9\n")
    prob = read_instance(good)
    assert prob.pk.tolist() == [[0.5, 0.25], [0.1, 0.9]] and prob.capacity.tolist() == [3, 3]


def test_registry_errors():
    assert set(BUILTIN) <= set(POLICIES)
    with pytest.raises(ValueError, match="unknown WTA policy 'nope'.*exact, greedy, vlns"):
        get_policy("nope")
    with pytest.raises(ValueError, match="already registered"):
        register_policy("greedy", lambda problem, **kw: None)
    with pytest.raises(TypeError):
        register_policy("not-callable", 42)
    with pytest.raises(ValueError):
        register_policy("", lambda problem, **kw: None)
    with pytest.raises(ValueError, match="unknown"):
        unregister_policy("nope")
    with pytest.raises(TypeError):
        POLICIES["x"] = None                       # read-only view


def test_user_registered_policy():
    @register_policy("all_on_first")
    def all_on_first(problem, *, time_limit_s=None, seed=0):
        x = np.zeros((problem.m, problem.n), np.int64)
        x[:, 0] = problem.capacity
        return WTASolution.from_x(problem, x, policy="all_on_first")

    try:
        assert get_policy("all_on_first") is all_on_first and "all_on_first" in POLICIES
        prob = random_instance(3, 2, seed=1)
        sol = solve(prob, "all_on_first")
        assert sol.x[:, 0].tolist() == [1, 1, 1] and sol.time_s > 0
        # a policy is also accepted as a callable, and solve() checks what it returns
        register_policy("all_on_first", all_on_first)           # same function: no error

        def cheat(problem, *, time_limit_s=None, seed=0):
            x = np.full((problem.m, problem.n), 5, np.int64)
            return WTASolution(x=x, objective=0.0, policy="cheat")

        with pytest.raises(ValueError, match="infeasible"):
            solve(prob, cheat)

        def liar(problem, *, time_limit_s=None, seed=0):
            return WTASolution(x=np.zeros((problem.m, problem.n), np.int64), objective=0.0)

        with pytest.raises(ValueError, match="reported objective"):
            solve(prob, liar)
        with pytest.raises(TypeError, match="not WTASolution"):
            solve(prob, lambda problem, **kw: "x")
    finally:
        unregister_policy("all_on_first")
    assert "all_on_first" not in POLICIES


# ---------------------------------------------------------------------------------------------
# properties of the objective

@st.composite
def problems_and_assignments(draw):
    m = draw(st.integers(1, 4))
    n = draw(st.integers(1, 5))
    values = draw(st.lists(st.floats(0, 1000), min_size=n, max_size=n))
    pk = draw(st.lists(st.lists(st.floats(0, 1), min_size=n, max_size=n), min_size=m, max_size=m))
    x = draw(st.lists(st.lists(st.integers(0, 4), min_size=n, max_size=n), min_size=m,
                      max_size=m))
    prob = WTAProblem(values=values, pk=pk, capacity=np.asarray(x).sum(axis=1) + 1)
    i = draw(st.integers(0, m - 1))
    j = draw(st.integers(0, n - 1))
    return prob, np.asarray(x, np.int64), i, j


@settings(max_examples=150, deadline=None)
@given(problems_and_assignments())
def test_objective_bounds_and_monotone(case):
    prob, x, i, j = case
    f = objective(prob, x)
    total = prob.values.sum()
    assert -1e-9 <= f <= total * (1 + 1e-12) + 1e-9
    assert objective(prob, np.zeros_like(x)) == pytest.approx(total)
    y = x.copy()
    y[i, j] += 1                                   # one more unit never hurts
    assert objective(prob, y) <= f * (1 + 1e-12) + 1e-12
