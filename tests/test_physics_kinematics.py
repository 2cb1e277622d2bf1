"""Tests of iadsim.physics.kinematics: hand-computed intercepts and geometry invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from iadsim.physics import (
    ground_range_m,
    intercept_time_s,
    predicted_intercept_point_m,
    slant_range_m,
)


def miss_distance(p, v, s, t):
    """|p + v t| - s t [m]: zero at an intercept (collision triangle, Zarchan 2012)."""
    p, v = np.asarray(p, float), np.asarray(v, float)
    t = np.asarray(t, float)
    with np.errstate(under="ignore"):  # hypothesis draws subnormal components
        return np.linalg.norm(p + v * t[..., None], axis=-1) - s * t


def smallest_nonnegative_root(p, v, s):
    """Brute force with numpy.roots on (v.v - s^2) t^2 + 2 p.v t + p.p = 0."""
    p, v = np.asarray(p, float), np.asarray(v, float)
    coeffs = [v @ v - s * s, 2 * p @ v, p @ p]
    roots = np.roots(coeffs) if coeffs[0] != 0 else np.roots(coeffs[1:])
    real = roots[np.abs(roots.imag) <= 1e-9 * np.maximum(1.0, np.abs(roots.real))].real
    real = real[real >= 0]
    return real.min() if real.size else np.nan


# --------------------------------------------------------------------------- hand computed


def test_head_on():
    # Target 10 km out closing at 200 m/s, missile 800 m/s:
    # 10000 - 200 t = 800 t  ->  t = 10000 / 1000 = 10 s.
    t = intercept_time_s([10_000.0, 0.0, 0.0], [-200.0, 0.0, 0.0], 800.0)
    assert t == pytest.approx(10.0, rel=1e-14)
    t, point = predicted_intercept_point_m([10_000.0, 0.0, 0.0], [-200.0, 0.0, 0.0], 800.0)
    np.testing.assert_allclose(point, [8_000.0, 0.0, 0.0])


def test_receding_target_faster_than_missile_has_no_intercept():
    assert np.isnan(intercept_time_s([10_000.0, 0.0, 0.0], [1_000.0, 0.0, 0.0], 800.0))


def test_receding_slower_target():
    # 10000 + 200 t = 800 t -> t = 10000 / 600 s.
    t = intercept_time_s([10_000.0, 0.0, 0.0], [200.0, 0.0, 0.0], 800.0)
    assert t == pytest.approx(10_000.0 / 600.0, rel=1e-14)


def test_crossing_target():
    p = np.array([10_000.0, 0.0, 3_000.0])
    v = np.array([0.0, 250.0, 0.0])
    s = 600.0
    t = intercept_time_s(p, v, s)
    # (v.v - s^2) t^2 + p.p = 0 -> t = |p| / sqrt(s^2 - |v|^2)
    assert t == pytest.approx(np.linalg.norm(p) / np.sqrt(s**2 - 250.0**2), rel=1e-14)
    assert abs(miss_distance(p, v, s, t)) <= 1e-9 * s * t
    assert t == pytest.approx(smallest_nonnegative_root(p, v, s), rel=1e-12)


def test_faster_target_approaching_takes_the_earlier_root():
    # Target at 10 km closing at 1000 m/s, missile 500 m/s. Roots: 10000 - 1000 t = 500 t
    # (t = 6.667 s, before the target passes) and 1000 t - 10000 = 500 t (t = 20 s).
    t = intercept_time_s([10_000.0, 0.0, 0.0], [-1_000.0, 0.0, 0.0], 500.0)
    assert t == pytest.approx(10_000.0 / 1_500.0, rel=1e-14)


def test_faster_target_crossing_out_of_reach():
    assert np.isnan(intercept_time_s([10_000.0, 0.0, 0.0], [0.0, 2_000.0, 0.0], 500.0))


def test_linear_case_equal_speeds():
    # |v| == s: 2 (p.v) t + p.p = 0 -> t = -p.p / (2 p.v).
    p = np.array([10_000.0, 0.0, 0.0])
    v = np.array([-180.0, 240.0, 0.0])  # |v| = 300
    t = intercept_time_s(p, v, 300.0)
    assert t == pytest.approx(1e8 / (2 * 1.8e6), rel=1e-14)
    assert abs(miss_distance(p, v, 300.0, t)) <= 1e-9 * 300.0 * t
    # head-on equal speeds: t = 10000 / 600
    assert intercept_time_s(p, [-300.0, 0, 0], 300.0) == pytest.approx(10_000 / 600, rel=1e-14)
    # equal speeds, not closing: never
    assert np.isnan(intercept_time_s(p, [0.0, 300.0, 0.0], 300.0))
    assert np.isnan(intercept_time_s(p, [300.0, 0.0, 0.0], 300.0))


def test_near_linear_case_is_continuous():
    p = np.array([10_000.0, 2_000.0, 1_000.0])
    v = np.array([-180.0, 240.0, 0.0])  # |v| = 300
    t0 = intercept_time_s(p, v, 300.0)
    for eps in (1e-13, 1e-10, 1e-7):
        for sign in (-1, 1):
            t = intercept_time_s(p, v, 300.0 * (1 + sign * eps))
            assert t == pytest.approx(t0, rel=1e-5)


def test_target_at_origin():
    assert intercept_time_s([0.0, 0.0, 0.0], [100.0, 0.0, 0.0], 800.0) == 0.0
    assert intercept_time_s([0.0, 0.0, 0.0], [1000.0, 0.0, 0.0], 800.0) == 0.0
    t, point = predicted_intercept_point_m([0.0, 0.0, 0.0], [1.0, 2.0, 3.0], 10.0)
    assert t == 0.0
    np.testing.assert_array_equal(point, [0.0, 0.0, 0.0])


def test_stationary_target():
    p = np.array([3_000.0, 4_000.0, 0.0])
    assert intercept_time_s(p, [0.0, 0.0, 0.0], 500.0) == pytest.approx(10.0, rel=1e-14)


def test_two_dimensional():
    t = intercept_time_s([10_000.0, 0.0], [-200.0, 0.0], 800.0)
    assert t == pytest.approx(10.0)


def test_vectorised_matches_brute_force():
    rng = np.random.default_rng(20240601)
    n = 2_000
    p = rng.uniform(-50e3, 50e3, size=(n, 3))
    v = rng.uniform(-700, 700, size=(n, 3))
    s = rng.uniform(200, 1_200, size=n)
    t = intercept_time_s(p, v, s)
    assert t.shape == (n,)
    expected = np.array([smallest_nonnegative_root(p[i], v[i], s[i]) for i in range(n)])
    np.testing.assert_array_equal(np.isnan(t), np.isnan(expected))
    ok = ~np.isnan(t)
    assert ok.sum() > n // 2
    np.testing.assert_allclose(t[ok], expected[ok], rtol=1e-7)
    np.testing.assert_allclose(miss_distance(p[ok], v[ok], s[ok], t[ok]), 0.0,
                               atol=1e-9 * np.max(s[ok] * t[ok]))


def test_broadcasting_missile_speed_and_point_shape():
    p = np.array([10_000.0, 0.0, 0.0])
    v = np.array([-200.0, 0.0, 0.0])
    speeds = np.array([[300.0], [800.0], [1800.0]])  # (3, 1)
    t, point = predicted_intercept_point_m(p, v, speeds)
    assert t.shape == (3, 1)
    assert point.shape == (3, 1, 3)
    np.testing.assert_allclose(t[:, 0], 10_000.0 / (200.0 + speeds[:, 0]))
    t, point = predicted_intercept_point_m(p, [1_000.0, 0.0, 0.0], 800.0)
    assert np.isnan(t) and np.all(np.isnan(point))


def test_ranges():
    p = np.array([[3_000.0, 4_000.0, 12_000.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(slant_range_m(p), [13_000.0, 0.0])
    np.testing.assert_allclose(ground_range_m(p), [5_000.0, 0.0])
    assert slant_range_m([1.0, 2.0, 2.0]) == pytest.approx(3.0)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="missile_speed_m_s"):
        intercept_time_s([1.0, 0.0, 0.0], [0.0, 0.0, 0.0], 0.0)
    with pytest.raises(ValueError, match="rel_pos_m"):
        intercept_time_s([1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], 1.0)
    with pytest.raises(ValueError, match="target_vel_m_s"):
        intercept_time_s([1.0, 0.0, 0.0], [0.0, 0.0], 1.0)
    with pytest.raises(ValueError, match="rel_pos_m"):
        ground_range_m([1.0, 2.0])


# --------------------------------------------------------------------------- properties

vec = hnp.arrays(np.float64, 3, elements=st.floats(-1e5, 1e5))
vel = hnp.arrays(np.float64, 3, elements=st.floats(-2e3, 2e3))


@settings(max_examples=300, deadline=None)
@given(p=vec, v=vel, s=st.floats(10.0, 3e3))
def test_intercept_satisfies_geometry_and_is_earliest(p, v, s):
    p, v = np.round(p, 3), np.round(v, 3)  # mm and mm/s: physical inputs, no subnormals
    assume(np.linalg.norm(p) > 1.0)
    t = intercept_time_s(p, v, s)
    taus = np.linspace(0.0, 1.0, 201)[:-1]
    if np.isnan(t):
        taus = np.concatenate([taus * 1e3, [1e4, 1e5]])
    else:
        assert t > 0
        scale = np.linalg.norm(p) + (np.linalg.norm(v) + s) * t
        assert abs(miss_distance(p, v, s, t)) <= 1e-9 * scale
        taus = taus * t
    # before the intercept (or ever, if there is none) the missile cannot have reached it
    gap = miss_distance(p, v, s, taus)
    scale = np.linalg.norm(p) + (np.linalg.norm(v) + s) * taus
    assert np.all(gap >= -1e-9 * scale)
