"""Flyout model, fitted envelopes and the kill-probability function against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iadsim.physics.flyout import (
    G0, Interceptor, envelope_table, flyout, isa_density, table_lookup, table_lookup_nb,
)
from iadsim.physics.pk import common_cause_split, pk_factor, pk_factor_nb, salvo_kill_probability


def _ic(**kw):
    base = dict(isp_s=250.0, boost_time_s=3.0, boost_fraction=0.6, sustain_time_s=0.0,
                sustain_fraction=0.0, ballistic_m2_kg=0.0, min_speed_m_s=0.0, max_time_s=200.0)
    base.update(kw)
    return Interceptor(**base)


def _burn(ic, g=0.0):
    """Speed and distance at burn-out of a constant-mass-flow burn along a line with gravity
    component g: v = -ve ln(1 - r t) - g t, s = ve ((1 - r t) ln(1 - r t) + r t) / r - g t^2 / 2
    (rocket equation integrated once and twice; Sutton & Biblarz 2010, ch. 4)."""
    ve = ic.isp_s * G0
    tb = ic.boost_time_s
    r = ic.boost_fraction / tb
    x = 1.0 - r * tb
    return -ve * math.log(x) - g * tb, ve * (x * math.log(x) + r * tb) / r - 0.5 * g * tb ** 2


def test_isa_density_matches_standard_atmosphere_table():
    # U.S. Standard Atmosphere 1976, Table I (geometric altitude): 1.2250 (0 m), 0.73643 (5 km),
    # 0.19476 (15 km) kg/m^3; at the tropopause (11,000 m geopotential = 11,019 m geometric)
    # 0.36392 kg/m^3
    rho = isa_density([0.0, 5000.0, 11019.1, 15000.0])
    np.testing.assert_allclose(rho, [1.2250, 0.73643, 0.36392, 0.19476], rtol=1e-3)
    assert np.all(np.diff(rho) < 0)


def test_rocket_equation_without_drag_or_gravity():
    ic = _ic()
    # Tsiolkovsky: dv = Isp g0 ln(m0/m1) = 250 * 9.80665 * ln(1/0.4) = 2246.4 m/s
    assert ic.delta_v_vacuum_m_s == pytest.approx(2246.4, abs=0.1)
    vb, sb = _burn(ic)
    R = np.array([sb + 1000.0, sb + 20000.0])
    r = flyout(ic, R, 0.0, drag=False, gravity=False, dt_s=0.01)
    np.testing.assert_allclose(r.speed_m_s, vb, rtol=1e-6)
    np.testing.assert_allclose(r.tof_s, ic.boost_time_s + (R - sb) / vb, rtol=1e-5)
    # the same along a vertical line: without gravity the direction does not matter
    r2 = flyout(ic, 0.0, R, drag=False, gravity=False, dt_s=0.01)
    np.testing.assert_allclose(r2.tof_s, r.tof_s, rtol=1e-9)


def test_vacuum_vertical_coast_under_gravity():
    ic = _ic(boost_fraction=0.3)
    vb, sb = _burn(ic, G0)
    apex = sb + vb ** 2 / (2 * G0)          # vacuum ballistic apex: h = v^2 / (2 g) after burn-out
    h = np.array([0.5, 0.9, 0.99]) * (apex - sb) + sb
    r = flyout(ic, 0.0, h, drag=False, dt_s=0.01)
    expect_v = np.sqrt(vb ** 2 - 2 * G0 * (h - sb))
    np.testing.assert_allclose(r.speed_m_s, expect_v, rtol=1e-4)
    expect_t = ic.boost_time_s + (vb - expect_v) / G0
    np.testing.assert_allclose(r.tof_s, expect_t, rtol=1e-4)
    assert not flyout(ic, 0.0, apex * 1.01, drag=False, dt_s=0.01).reachable
    # horizontally, gravity does nothing along the line
    rh = flyout(ic, h, 0.0, drag=False, dt_s=0.01)
    assert np.all(rh.speed_m_s > r.speed_m_s)


def test_quadratic_drag_coast_at_sea_level():
    # a near-impulsive burn then a horizontal coast at sea-level density:
    # v = v0 / (1 + t/tau), x = v0 tau ln(1 + t/tau), tau = 1 / (k v0), k = rho0 Cd A / (2 m)
    # (Taylor, Classical Mechanics, 2005, sec. 2.4, horizontal motion with quadratic drag)
    ic = _ic(boost_time_s=1e-4, boost_fraction=0.5, ballistic_m2_kg=1e-4)
    v0 = ic.delta_v_vacuum_m_s
    k = 0.5 * 1.225 * ic.ballistic_m2_kg / 0.5     # mass after burn-out is half the launch mass
    tau = 1.0 / (k * v0)
    t = np.array([2.0, 10.0, 30.0])
    x = v0 * tau * np.log1p(t / tau)
    r = flyout(ic, x, 0.0, dt_s=0.01)
    np.testing.assert_allclose(r.tof_s, t, rtol=2e-3)
    np.testing.assert_allclose(r.speed_m_s, v0 / (1 + t / tau), rtol=2e-3)


def test_drag_and_gravity_shorten_the_reach():
    ic = _ic(boost_fraction=0.5, ballistic_m2_kg=1e-4, min_speed_m_s=300.0, max_time_s=60.0)
    pts = np.array([5e3, 10e3, 15e3])
    free = flyout(ic, pts, 0.0, drag=False, gravity=False)
    low = flyout(ic, pts, 0.0)
    up = flyout(ic, pts * 0.6, pts * 0.8)      # same slant range, climbing
    assert np.all(low.speed_m_s < free.speed_m_s)
    assert np.all(low.tof_s > free.tof_s)
    # climbing: gravity slows, thinner air helps; at these heights gravity dominates at long range
    assert up.speed_m_s[-1] != low.speed_m_s[-1]
    # reachability is monotone in range along a ray
    far = flyout(ic, np.linspace(1e3, 60e3, 60), 0.0)
    assert np.all(np.diff(far.reachable.astype(int)) <= 0)


def test_table_agrees_with_direct_flyout():
    ic = _ic(boost_fraction=0.7, ballistic_m2_kg=6e-5, min_speed_m_s=300.0, max_time_s=32.0)
    tab = envelope_table(ic, 22e3, 16.5e3, site_alt_m=500.0)
    rng = np.random.default_rng(1)
    gr = rng.uniform(500, 20e3, 40)
    h = rng.uniform(0, 15e3, 40)
    exact = flyout(ic, gr, h, site_alt_m=500.0)
    tof, spd = table_lookup(tab.tof_s, tab.speed_m_s, tab.gr_m[1], tab.h_m[1], gr, h)
    ok = exact.reachable & (tof <= ic.max_time_s)
    assert ok.sum() > 10
    np.testing.assert_allclose(tof[ok], exact.tof_s[ok], rtol=0.01)
    np.testing.assert_allclose(spd[ok], exact.speed_m_s[ok], rtol=0.02)
    for g, hh, t in zip(gr[:5], h[:5], tof[:5]):
        assert table_lookup_nb(tab.tof_s, tab.speed_m_s, tab.gr_m[1], tab.h_m[1], g, hh)[0] == pytest.approx(t)


# ---- kill probability

def test_salvo_closed_forms():
    # independent shots (beta = 0): 1 - (1 - 0.7)^2 = 0.91 (Przemieniecki 2000)
    assert salvo_kill_probability(0.7, 2, 0.0) == pytest.approx(0.91)
    # fully common cause (beta = 1): the salvo is as good as one shot
    assert salvo_kill_probability(0.7, 2, 1.0) == pytest.approx(0.7)
    # beta = 0.2 (Fleming 1975): c = 0.2 * 0.3 = 0.06, q_i = 0.24 / 0.94, P(fail) = 0.06 + 0.94 q_i^2
    qi = 0.24 / 0.94
    assert salvo_kill_probability(0.7, 2, 0.2) == pytest.approx(1 - (0.06 + 0.94 * qi ** 2))
    assert salvo_kill_probability(0.7, 2, 0.2) == pytest.approx(0.87872, abs=1e-5)
    c, pi = common_cause_split(0.7, 0.2)
    assert c == pytest.approx(0.06) and 1 - pi == pytest.approx(qi)


@settings(max_examples=200, deadline=None)
@given(pk=st.floats(0, 1), beta=st.floats(0, 1), n=st.integers(1, 6))
def test_salvo_bounds_and_monotonicity(pk, beta, n):
    p = salvo_kill_probability(pk, n, beta)
    assert 0.0 <= p <= 1.0
    assert salvo_kill_probability(pk, 1, beta) == pytest.approx(pk, abs=1e-12)
    assert salvo_kill_probability(pk, n + 1, beta) >= p - 1e-12
    assert salvo_kill_probability(pk, n, min(beta + 0.1, 1.0)) <= p + 1e-12
    assert p >= pk - 1e-12 and p <= 1 - (1 - pk) ** n + 1e-12


def test_pk_factor_reference_and_directions():
    assert pk_factor(900, 50, 0.3, 1.0) == pytest.approx(1.0)
    assert pk_factor(300, 300, 0.3) == 0.0                         # no faster than the target
    assert pk_factor(900, 50, 1.0) == pytest.approx(0.7)           # the edge factor
    assert pk_factor(900, 50, 0.3, -1.0) == pytest.approx(0.7)     # tail chase loses aspect_loss
    assert pk_factor(900, 50, 0.3, 0.0) == pytest.approx(0.85)     # crossing: half of it
    assert pk_factor(900, 50, 0.3, 1.0, target_accel_g=25 / 3) == pytest.approx(0.5)


@settings(max_examples=200, deadline=None)
@given(vm=st.floats(0, 3000), vt=st.floats(0, 1500), rf=st.floats(0, 1.2), ca=st.floats(-1, 1),
       nt=st.floats(0, 10), d=st.floats(0.01, 0.5))
def test_pk_factor_bounds_monotone_and_compiled_twin(vm, vt, rf, ca, nt, d):
    f = pk_factor(vm, vt, rf, ca, nt)
    assert 0.0 <= f <= 1.0
    assert pk_factor(vm, vt, rf + d, ca, nt) <= f + 1e-12
    assert pk_factor(vm, vt + 10 * d, rf, ca, nt) <= f + 1e-12
    assert pk_factor(vm, vt, rf, ca, nt + d) <= f + 1e-12
    assert pk_factor(vm, vt, rf, min(ca + d, 1.0), nt) >= f - 1e-12
    assert pk_factor_nb(vm, vt, rf, ca, nt, 25.0, 2.0, 0.7, 0.3, 3.0) == pytest.approx(f, abs=1e-12)
