"""Tests of iadsim.physics.horizon against published values and invariants."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from iadsim.physics import (
    EARTH_RADIUS_M,
    K_FOUR_THIRDS,
    curvature_coefficient_to_k,
    curvature_drop_m,
    effective_earth_radius_m,
    k_to_curvature_coefficient,
    radar_horizon_m,
)


def test_constants():
    # Moritz 2000, GRS 80 (J. Geodesy 74:128): mean radius R1 = 6 371 008.77 m.
    assert EARTH_RADIUS_M == pytest.approx(6_371_008.77, abs=10.0)
    assert K_FOUR_THIRDS == pytest.approx(4 / 3)
    assert effective_earth_radius_m() == pytest.approx(8_494_666.67, rel=1e-9)
    assert effective_earth_radius_m(np.inf) == np.inf


def test_horizon_100m_antenna():
    # Skolnik 2001, ch. 8 (4/3 earth): d = 4.12 sqrt(h) km with h in m -> 41.2 km.
    assert radar_horizon_m(100.0, 0.0) == pytest.approx(41_200.0, rel=0.005)


def test_horizon_both_at_100m():
    # Skolnik 2001, ch. 8: d = 4.12 (sqrt(h1) + sqrt(h2)) km -> 82.4 km.
    assert radar_horizon_m(100.0, 100.0) == pytest.approx(82_400.0, rel=0.005)


def test_horizon_rule_coefficient():
    # The 4.12 km/sqrt(m) coefficient itself (Skolnik 2001, ch. 8).
    coeff_km = radar_horizon_m(1.0) / 1000.0
    assert coeff_km == pytest.approx(4.12, abs=0.005)


def test_geometric_horizon_k1():
    # No refraction: d = sqrt(2 R h); e.g. h = 10 km.
    assert radar_horizon_m(10e3, k=1.0) == pytest.approx(math.sqrt(2 * EARTH_RADIUS_M * 10e3))


def test_horizon_broadcasts_and_flat_earth():
    h = np.array([0.0, 10.0, 100.0, 1000.0])
    d = radar_horizon_m(h[:, None], np.array([0.0, 50.0])[None, :])
    assert d.shape == (4, 2)
    assert d[0, 0] == 0.0
    assert np.all(np.diff(d[:, 0]) > 0)
    assert radar_horizon_m(10.0, 10.0, k=np.inf) == np.inf


def test_curvature_drop():
    # d^2 / (2 k R): at 41.2 km from a 100 m antenna the 4/3-earth surface has dropped
    # ~100 m below the antenna's tangent plane (consistent with the horizon).
    d = radar_horizon_m(100.0)
    assert curvature_drop_m(d) == pytest.approx(100.0, rel=1e-12)
    assert curvature_drop_m(10e3, k=1.0) == pytest.approx(1e8 / (2 * EARTH_RADIUS_M))
    assert curvature_drop_m(10e3, k=np.inf) == 0.0
    assert curvature_drop_m(0.0) == 0.0


def test_curvature_drop_matches_gdal_convention():
    # GDAL gdal_viewshed -cc documentation / ViewshedExecutor::calcHeightAdjFactor:
    # correction = cc * d^2 / (2 R); with cc = 0.75 this is the 4/3 earth.
    d = np.array([1e3, 10e3, 50e3])
    gdal_correction = 0.75 * d**2 / (2 * EARTH_RADIUS_M)
    np.testing.assert_allclose(curvature_drop_m(d, k=curvature_coefficient_to_k(0.75)),
                               gdal_correction, rtol=1e-12)


def test_curvature_coefficient_conversions():
    # GDAL gdal_viewshed -cc table: Curvature Coeff 0.75 <-> radio waves, 4/3 earth;
    # 6/7 (0.85714, default) <-> visible light, sphere diameter factor 7/6; 1 <-> no
    # refraction; 0 <-> flat earth (factor inf).
    assert curvature_coefficient_to_k(0.75) == pytest.approx(4 / 3)
    assert k_to_curvature_coefficient(4 / 3) == pytest.approx(0.75)
    assert curvature_coefficient_to_k(0.85714) == pytest.approx(7 / 6, rel=1e-5)
    assert curvature_coefficient_to_k(1.0) == 1.0
    assert curvature_coefficient_to_k(0.0) == np.inf
    assert k_to_curvature_coefficient(np.inf) == 0.0
    cc = np.array([0.5, 0.75, 1.0])
    np.testing.assert_allclose(k_to_curvature_coefficient(curvature_coefficient_to_k(cc)), cc)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="antenna_height_m"):
        radar_horizon_m(-1.0)
    with pytest.raises(ValueError, match="target_height_m"):
        radar_horizon_m(10.0, np.array([1.0, -5.0]))
    with pytest.raises(ValueError, match="k"):
        radar_horizon_m(10.0, k=0.0)
    with pytest.raises(ValueError, match="distance_m"):
        curvature_drop_m(-1.0)
    with pytest.raises(ValueError, match="cc"):
        curvature_coefficient_to_k(-0.1)


@given(h1=st.floats(0, 30e3), h2=st.floats(0, 30e3), k=st.floats(0.5, 10.0))
def test_horizon_properties(h1, h2, k):
    d = radar_horizon_m(h1, h2, k)
    assert d >= 0
    assert d == pytest.approx(radar_horizon_m(h2, h1, k))
    # the earth's surface at the horizon distance of each height drops by that height
    assert curvature_drop_m(radar_horizon_m(h1, 0.0, k), k) == pytest.approx(h1, abs=1e-6)
