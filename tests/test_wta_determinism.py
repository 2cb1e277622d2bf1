"""Determinism by construction: WTA policies read no clock, run on work budgets, draw from their
own seeded stream, and the engine's greedy is the same implementation as the policy's."""

from __future__ import annotations

import time

import numba
import numpy as np
import pandas as pd
import pytest

import iadsim
from iadsim.c2 import WTAProblem, get_policy, random_instance, solve
from iadsim.c2.wta import greedy_assign, greedy_units
from iadsim.c2.wta_vlns import rng_state

BUILTIN = ("greedy", "vlns", "exact")
CLOCKS = ("perf_counter", "perf_counter_ns", "time", "time_ns", "monotonic", "monotonic_ns",
          "process_time", "process_time_ns", "thread_time", "thread_time_ns")


class ClockRead(AssertionError):
    pass


@pytest.fixture()
def no_clock(monkeypatch):
    """Inside ``with no_clock():`` every clock of the time module raises ClockRead."""
    import contextlib

    @contextlib.contextmanager
    def patched():
        def boom(*_a, **_k):
            raise ClockRead("a clock was read on a result path")

        with monkeypatch.context() as mp:
            for name in CLOCKS:
                if hasattr(time, name):
                    mp.setattr(time, name, boom)
            yield

    return patched


def _same(a, b):
    assert np.array_equal(a.x, b.x)
    assert a.objective == b.objective
    assert a.lower_bound == b.lower_bound and a.proven_optimal == b.proven_optimal


def test_the_clock_patch_is_effective(no_clock):
    # the check below would prove nothing if patching did not reach code that reads a clock
    with no_clock(), pytest.raises(ClockRead):
        get_policy("vlns")(random_instance(4, 4, seed=1), time_limit_s=10.0)
    with no_clock(), pytest.raises(ClockRead):
        solve(random_instance(4, 4, seed=1), "greedy")  # solve() times the policy (diagnostic)


@pytest.mark.parametrize("name", BUILTIN)
def test_policies_read_no_clock_and_repeat_exactly(name, no_clock):
    prob = random_instance(14, 18, seed=21, capacity=2)
    fn = get_policy(name)
    fn(prob, seed=4)  # compile outside the patch (numba's compiler times itself)
    with no_clock():
        a = fn(prob, seed=4)
        b = fn(prob, seed=4)
    _same(a, b)
    assert a.info.get("stopped_by", a.info.get("stop")) != "time"


def test_budgets_that_do_not_bind_do_not_change_the_answer(no_clock):
    prob = random_instance(9, 11, seed=8, capacity=2)
    ex = get_policy("exact")
    with no_clock():
        base = ex(prob, seed=1)
        more_nodes = ex(prob, seed=1, node_limit=10**7)
        more_rounds = ex(prob, seed=1, max_rounds=5000)
    assert base.proven_optimal
    _same(base, more_nodes)
    _same(base, more_rounds)
    # a safety cap that does not bind reads the clock but changes nothing
    _same(base, ex(prob, seed=1, time_limit_s=1e6))
    vl = get_policy("vlns")
    with no_clock():
        v = vl(prob, seed=3, iterations=300)
    capped = vl(prob, seed=3, iterations=300, time_limit_s=1e6)
    _same(v, capped)
    assert v.info["stopped_by"] == capped.info["stopped_by"] == "iterations"
    assert v.info["iterations"] == 300


def test_a_binding_node_budget_is_still_deterministic(no_clock):
    prob = random_instance(30, 40, seed=5, capacity=2)
    ex = get_policy("exact")
    with no_clock():
        a = ex(prob, seed=0, node_limit=1, max_rounds=2, vlns_iterations=50)
        b = ex(prob, seed=0, node_limit=1, max_rounds=2, vlns_iterations=50)
    _same(a, b)
    assert a.info["rounds"] <= 2


@numba.njit
def _disturb_numba_global(seed):
    np.random.seed(seed)
    acc = 0.0
    for _ in range(1000):
        acc += np.random.random()
    return acc


def test_vlns_draws_from_its_own_stream_not_numbas_global_generator():
    prob = random_instance(25, 30, seed=2, capacity=2)
    _disturb_numba_global(1)
    a = solve(prob, "vlns", seed=9)
    _disturb_numba_global(12345)
    b = solve(prob, "vlns", seed=9)
    _same(a, b)
    # the seed does reach the search: another seed takes other perturbations
    st1, st2 = rng_state(9), rng_state(10)
    assert st1.dtype == np.uint64 and st1[0] != st2[0]
    c = solve(prob, "vlns", seed=10)
    assert a.info["accepted"] != c.info["accepted"] or not np.array_equal(a.x, c.x)


def test_engine_greedy_is_the_policy_greedy():
    """greedy_units (what the compiled engine runs) and the "greedy" policy agree on every
    unit-capacity problem, including ties, zero kill probabilities and sure kills."""
    rng = np.random.default_rng(17)
    for k in range(200):
        E = int(rng.integers(1, 7))
        n = int(rng.integers(1, 8))
        P = rng.choice([0.0, 0.3, 0.5, 0.7, 0.9, 1.0], size=(E, n)) if k % 2 else \
            rng.uniform(0.0, 1.0, size=(E, n)) * (rng.random((E, n)) > 0.25)
        values = rng.choice([1.0, 2.0, 5.0], size=n) if k % 3 == 0 else rng.uniform(0.5, 9, n)
        assign = np.full(E, -7, np.int64)
        greedy_units(values, P, assign)
        # the policy on the same problem; a sure kill (pk 1) leaves nothing on its target, which
        # the policy's clipping (pk <= 1 - 1e-12) can only use for a gain below 1e-11 * value
        prob = WTAProblem(values=values, pk=P, capacity=np.ones(E, np.int64))
        x = greedy_assign(prob)
        for e in range(E):
            if x[e].sum() == 0:
                assert assign[e] == -1
            elif assign[e] == -1:
                j = int(np.flatnonzero(x[e])[0])
                assert np.any(P[:, j][x[:, j] > 0] == 1.0), (k, e)
            else:
                assert x[e, assign[e]] == 1, (k, e, P, values)
        # and the assignment is the maximum-marginal-return one (first pick: the largest gain)
        g = values[None, :] * P
        if g.max() > 0:
            e0, q0 = np.unravel_index(np.argmax(g), g.shape)
            assert assign[e0] == q0


def test_engine_runs_python_policies_without_a_clock(small_scenario, no_clock):
    """The engine calls vlns and exact from compiled code with no time limit: runs repeat
    exactly, and nothing on the way reads a clock."""
    for policy in ("vlns", "exact"):
        iadsim.simulate(small_scenario, replications=2, seed=3, policy=policy)  # compile first
        with no_clock():
            a = iadsim.simulate(small_scenario, replications=6, seed=3, policy=policy)
            b = iadsim.simulate(small_scenario, replications=6, seed=3, policy=policy)
        pd.testing.assert_frame_equal(a.replications, b.replications)
        assert a.replications.shots.sum() > 0
