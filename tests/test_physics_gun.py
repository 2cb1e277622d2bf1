"""Gun physics against closed forms and published identities."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from iadsim.physics.gun import (
    CEP_PER_SIGMA, burst_kill_probability, burst_kill_probability_at_range, dispersion_sigma_m,
    drag_constant_per_m, hit_probability, shell_time_of_flight_s, shell_velocity_m_s,
)


def test_velocity_decay_and_time_of_flight_closed_form():
    # v = v0 exp(-k x) (McCoy 1999 ch. 2): after x = ln 2 / k the speed has halved
    v0, k = 1000.0, 2e-4
    assert shell_velocity_m_s(np.log(2) / k, v0, k) == pytest.approx(500.0)
    # t = (exp(k x) - 1) / (k v0) equals the integral of dx / v (McCoy 1999 ch. 2)
    x = 3000.0
    numeric, _ = quad(lambda s: 1.0 / (v0 * np.exp(-k * s)), 0.0, x)
    assert shell_time_of_flight_s(x, v0, k) == pytest.approx(numeric, rel=1e-10)
    assert shell_time_of_flight_s(x, v0, k) == pytest.approx((np.exp(0.6) - 1) / 0.2)  # 4.1106 s
    # no drag: x / v0
    assert shell_time_of_flight_s(x, v0, 0.0) == pytest.approx(3.0)
    # drag only lengthens the flight
    assert shell_time_of_flight_s(x, v0, k) > 3.0


def test_drag_constant():
    # k = rho Cd S / (2 m) (McCoy 1999 ch. 2): 1.225 * 0.3 * 7.07e-4 / (2 * 0.39)
    area = np.pi * 0.015**2
    assert drag_constant_per_m(1.225, 0.3, area, 0.39) == pytest.approx(1.225 * 0.3 * area / 0.78)


def test_cep_is_half_hit_probability():
    # a disc of radius CEP = 1.1774 sigma around the mean point of impact holds half the rounds
    # (Driels 2014 ch. 8; Przemieniecki 2000 ch. 4)
    assert CEP_PER_SIGMA == pytest.approx(1.1774, abs=1e-4)
    sigma = 3.0
    area = np.pi * (CEP_PER_SIGMA * sigma) ** 2
    assert hit_probability(area, sigma) == pytest.approx(0.5)
    # the offset form (Marcum Q via the noncentral chi-square) agrees at a vanishing offset
    assert hit_probability(area, sigma, 1e-9) == pytest.approx(0.5, abs=1e-9)
    # and a target off the mean point of impact is hit less often
    assert hit_probability(area, sigma, 2.0) < 0.5


def test_offset_hit_probability_against_monte_carlo():
    rng = np.random.default_rng(1)
    xy = rng.normal(0.0, 2.0, size=(400_000, 2))
    r = 1.5
    mc = np.mean(np.hypot(xy[:, 0] - 1.0, xy[:, 1]) <= r)
    assert hit_probability(np.pi * r * r, 2.0, 1.0) == pytest.approx(mc, abs=3e-3)


def test_burst_and_dispersion():
    # 1 - (1 - p)^n (Przemieniecki 2000 ch. 4): p = 0.1, n = 10 -> 0.6513
    assert burst_kill_probability(0.1, 10) == pytest.approx(1 - 0.9**10)
    assert burst_kill_probability(0.1, 10, 0.5) == pytest.approx(1 - 0.95**10)
    assert burst_kill_probability(0.3, 0) == 0.0
    # sigma = R * angular error: 2 mrad at 1500 m -> 3 m; with 1.5 mrad aim error -> 2.5 mrad
    assert dispersion_sigma_m(1500.0, 2.0) == pytest.approx(3.0)
    assert dispersion_sigma_m(1000.0, 2.0, 1.5) == pytest.approx(2.5)


@settings(max_examples=200, deadline=None)
@given(st.floats(100.0, 5000.0), st.floats(100.0, 5000.0), st.floats(0.01, 5.0), st.integers(1, 200),
       st.floats(0.5, 10.0))
def test_burst_kill_falls_with_range(r1, r2, area, n, mrad):
    lo, hi = sorted((r1, r2))
    p_near = burst_kill_probability_at_range(lo, area, n, mrad)
    p_far = burst_kill_probability_at_range(hi, area, n, mrad)
    assert 0.0 <= p_far <= p_near + 1e-12 <= 1.0 + 1e-12
