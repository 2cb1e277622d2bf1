"""Tests of iadsim.physics.engagement: exact small cases, Monte Carlo, invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from iadsim.physics import (
    cumulative_pk,
    expected_shots_salvo,
    expected_shots_shoot_look_shoot,
    in_envelope,
    kill_probability_salvo,
)

# --------------------------------------------------------------------------- exact small cases


def test_cumulative_pk_exact():
    # Przemieniecki 2000 / Washburn & Kress 2009: 1 - (1 - pk)^n.
    assert cumulative_pk(0.5, 2) == pytest.approx(0.75)
    assert cumulative_pk(0.7, 3) == pytest.approx(1 - 0.3**3)
    assert cumulative_pk(0.3, 0) == 0.0
    assert cumulative_pk(1.0, 0) == 0.0
    assert cumulative_pk(1.0, 4) == 1.0
    assert cumulative_pk(0.0, 4) == 0.0
    # no cancellation for tiny pk: 1 - (1 - 1e-12)^3 = 3e-12
    assert cumulative_pk(1e-12, 3) == pytest.approx(3e-12, rel=1e-9)


def test_sls_expected_shots_exact():
    # pk = 0.5, n = 2: first shot always, second with probability 0.5 -> 1.5.
    assert expected_shots_shoot_look_shoot(0.5, 2) == pytest.approx(1.5)
    # (1 - 0.3^3) / 0.7 = 1 + 0.3 + 0.09 = 1.39
    assert expected_shots_shoot_look_shoot(0.7, 3) == pytest.approx(1.39)
    assert expected_shots_shoot_look_shoot(0.0, 4) == 4.0
    assert expected_shots_shoot_look_shoot(1.0, 4) == 1.0
    assert expected_shots_shoot_look_shoot(0.5, 0) == 0.0
    assert expected_shots_shoot_look_shoot(1e-12, 3) == pytest.approx(3.0, rel=1e-9)


def test_salvo_exact():
    # Two salvos of two at pk = 0.5: second salvo fired with probability 0.25 -> 2.5.
    assert expected_shots_salvo(0.5, 2, 2) == pytest.approx(2 * (1 + 0.25))
    assert kill_probability_salvo(0.5, 2, 2) == pytest.approx(1 - 0.5**4)
    assert expected_shots_salvo(0.0, 3, 2) == 6.0
    assert expected_shots_salvo(1.0, 3, 2) == 3.0
    assert expected_shots_salvo(0.4, 2, 0) == 0.0


def test_salvo_of_one_is_shoot_look_shoot():
    pk = np.linspace(0, 1, 11)
    np.testing.assert_allclose(expected_shots_salvo(pk, 1, 5),
                               expected_shots_shoot_look_shoot(pk, 5))
    np.testing.assert_allclose(kill_probability_salvo(pk, 1, 5), cumulative_pk(pk, 5))


def test_broadcasting():
    pk = np.array([0.3, 0.6, 0.9])[:, None]
    n = np.array([1, 2, 3, 4])[None, :]
    assert cumulative_pk(pk, n).shape == (3, 4)
    assert expected_shots_shoot_look_shoot(pk, n).shape == (3, 4)
    assert expected_shots_salvo(pk, n, 2).shape == (3, 4)
    assert np.ndim(cumulative_pk(0.5, 2)) == 0


# --------------------------------------------------------------------------- Monte Carlo


def _simulate(rng, pk, salvo_size, max_salvos, trials):
    """Brute-force salvo/look doctrine: returns (missiles fired, killed) per trial."""
    hits = rng.random((trials, max_salvos, salvo_size)) < pk
    salvo_kills = hits.any(axis=2)  # (trials, max_salvos)
    # salvo k is fired iff no earlier salvo killed
    fired = np.ones((trials, max_salvos), dtype=bool)
    fired[:, 1:] = ~np.cumsum(salvo_kills, axis=1)[:, :-1].astype(bool)
    missiles = salvo_size * fired.sum(axis=1)
    killed = salvo_kills.any(axis=1)
    return missiles, killed


@pytest.mark.parametrize(
    ("pk", "salvo_size", "max_salvos"),
    [(0.5, 1, 2), (0.7, 1, 4), (0.3, 2, 3), (0.85, 2, 2), (0.1, 3, 5)],
)
def test_against_monte_carlo(pk, salvo_size, max_salvos):
    rng = np.random.default_rng(np.random.SeedSequence(12345))
    trials = 200_000
    missiles, killed = _simulate(rng, pk, salvo_size, max_salvos, trials)
    # 5 standard errors: the false-failure probability is ~6e-7 per comparison
    se_shots = missiles.std(ddof=1) / np.sqrt(trials)
    se_kill = killed.std(ddof=1) / np.sqrt(trials)
    assert expected_shots_salvo(pk, salvo_size, max_salvos) == pytest.approx(
        missiles.mean(), abs=5 * se_shots)
    assert kill_probability_salvo(pk, salvo_size, max_salvos) == pytest.approx(
        killed.mean(), abs=5 * se_kill)
    if salvo_size == 1:
        assert expected_shots_shoot_look_shoot(pk, max_salvos) == pytest.approx(
            missiles.mean(), abs=5 * se_shots)
        assert cumulative_pk(pk, max_salvos) == pytest.approx(killed.mean(), abs=5 * se_kill)


# --------------------------------------------------------------------------- envelope


def test_in_envelope_inclusive_bounds():
    r = np.array([2_999.0, 3_000.0, 20_000.0, 40_000.0, 40_001.0, 20_000.0, 20_000.0, np.nan])
    h = np.array([1_000.0, 1_000.0, 25.0, 1_000.0, 1_000.0, 24.9, 25_000.1, 1_000.0])
    inside = in_envelope(r, h, 3_000.0, 40_000.0, 25.0, 25_000.0)
    np.testing.assert_array_equal(inside, [False, True, True, True, False, False, False, False])
    assert inside.dtype == bool
    assert bool(in_envelope(10e3, 5e3, 3e3, 40e3, 25.0, 25e3)) is True
    # negative altitude: target below the launcher site (launcher on a hill)
    assert bool(in_envelope(10e3, -50.0, 3e3, 40e3, -100.0, 25e3)) is True


def test_in_envelope_broadcasts_over_launchers():
    r = np.linspace(0, 50e3, 6)[:, None]
    rmax = np.array([20e3, 45e3])[None, :]
    assert in_envelope(r, 1e3, 0.0, rmax, 0.0, 10e3).shape == (6, 2)


# --------------------------------------------------------------------------- errors


def test_invalid_arguments():
    with pytest.raises(ValueError, match="pk"):
        cumulative_pk(1.2, 2)
    with pytest.raises(ValueError, match="pk"):
        expected_shots_shoot_look_shoot(-0.1, 2)
    with pytest.raises(ValueError, match="n_shots"):
        cumulative_pk(0.5, -1)
    with pytest.raises(ValueError, match="max_shots"):
        expected_shots_shoot_look_shoot(0.5, 1.5)
    with pytest.raises(ValueError, match="salvo_size"):
        expected_shots_salvo(0.5, 0, 2)
    with pytest.raises(ValueError, match="range_min_m"):
        in_envelope(1.0, 1.0, 10.0, 5.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="altitude_min_m"):
        in_envelope(1.0, 1.0, 0.0, 5.0, 2.0, 1.0)


# --------------------------------------------------------------------------- properties

pk_st = st.floats(0.0, 1.0)
n_st = st.integers(0, 50)


@given(pk=pk_st, n=n_st)
def test_probabilities_and_counts_in_range(pk, n):
    p = cumulative_pk(pk, n)
    assert 0.0 <= p <= 1.0
    e = expected_shots_shoot_look_shoot(pk, n)
    assert min(1, n) - 1e-12 <= e <= n + 1e-12
    # more shots never lowers the kill probability
    assert cumulative_pk(pk, n + 1) >= p


@given(pk=pk_st, m=st.integers(1, 6), s=st.integers(0, 10))
def test_salvo_bounds(pk, m, s):
    p = kill_probability_salvo(pk, m, s)
    assert 0.0 <= p <= 1.0
    e = expected_shots_salvo(pk, m, s)
    assert min(m, m * s) - 1e-9 <= e <= m * s + 1e-9
    # with the same missile budget, looking between shots never fires more missiles
    assert expected_shots_shoot_look_shoot(pk, m * s) <= e + 1e-9
