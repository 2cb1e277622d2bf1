"""Noise jamming (iadsim.physics.jamming): J/S, burn-through range, S/(N+J), accuracy loss.

No published numeric burn-through example could be found through the project's search tool, so
the tests check (1) the linear J/S against the independent decibel form Adamy publishes (EW 101,
2001, ch. 9: J/S = 71 + ERP_J - ERP_S + 40 log Rt - 20 log Rj - 10 log sigma, ERP in dBm, ranges
in km), (2) the closed-form burn-through ranges derived in the module docstring against the J/S
equation they come from (J/S = 1 / (S/J)req exactly at R_bt), and (3) the range scalings (self-
screening J/S ~ R^2, stand-off J/S ~ Rt^4 / Rj^2) and the direction of every effect.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iadsim.physics.jamming import (
    bandwidth_factor, burn_through_range_self_screen_m, burn_through_range_stand_off_m, jamming_to_signal,
    jamming_to_signal_db_adamy, measurement_sigma_factor, relative_receive_gain, signal_to_interference,
)


def dbm(w):
    return 10.0 * math.log10(w * 1000.0)


@pytest.mark.parametrize("pj_gj_w, pt_gt_w, rt_km, rj_km, sigma", [
    (100.0 * 10.0, 100e3 * 10 ** 3.3, 20.0, 20.0, 5.0),     # self-protection: Rj = Rt
    (1000.0 * 100.0, 1e6 * 10 ** 3.8, 40.0, 80.0, 1.0),     # stand-off, jammer twice as far as the target
    (50.0 * 4.0, 20e3 * 10 ** 3.34, 5.0, 60.0, 0.1),
])
def test_js_agrees_with_adamys_decibel_form(pj_gj_w, pt_gt_w, rt_km, rj_km, sigma):
    # Adamy, EW 101 (2001), ch. 9: the constant 71 dB = 10 log(4 pi) + 60 (km^2 -> m^2), rounded;
    # 10 log(4 pi) + 60 = 70.99 dB, so the two forms agree to 0.02 dB
    lin = jamming_to_signal(pj_gj_w, pt_gt_w, sigma, rt_km * 1e3, rj_km * 1e3)
    adamy = jamming_to_signal_db_adamy(dbm(pj_gj_w), dbm(pt_gt_w), rt_km, rj_km, sigma)
    assert 10 * math.log10(lin) == pytest.approx(adamy, abs=0.02)


def test_burn_through_self_screen_is_where_js_meets_the_requirement():
    pt, pj, sig = 20e3 * 10 ** 3.34, 200.0 * 10.0, 3.0
    b, pol, e, sj = bandwidth_factor(5e6, 200e6), 0.5, 10 ** 0.6, 13.0
    r = burn_through_range_self_screen_m(pt, pj, sig, b, pol, e, sj)
    js = jamming_to_signal(pj, pt, sig, r, r, 1.0, b, pol, e)
    assert js == pytest.approx(1.0 / sj, rel=1e-12)
    # inside the burn-through range the echo wins, outside the jamming does
    assert jamming_to_signal(pj, pt, sig, 0.9 * r, 0.9 * r, 1.0, b, pol, e) < 1.0 / sj
    assert jamming_to_signal(pj, pt, sig, 1.1 * r, 1.1 * r, 1.0, b, pol, e) > 1.0 / sj
    # the closed form R^2 = Pt Gt sigma E / (4 pi Pj Gj b gamma (S/J)req), written out
    assert r == pytest.approx(math.sqrt(pt * sig * e / (4 * math.pi * pj * b * pol * sj)), rel=1e-12)


def test_burn_through_stand_off_is_where_js_meets_the_requirement():
    pt, pj, sig, rj, g = 100e3 * 10 ** 3.76, 2000.0 * 100.0, 1.0, 80e3, 1e-3
    r = burn_through_range_stand_off_m(pt, pj, sig, rj, g, 1.0, 0.5, 2.0, 1.0)
    assert jamming_to_signal(pj, pt, sig, r, rj, g, 1.0, 0.5, 2.0) == pytest.approx(1.0, rel=1e-12)
    assert r == pytest.approx((pt * sig * rj ** 2 * 2.0 / (4 * math.pi * pj * g * 0.5)) ** 0.25, rel=1e-12)


def test_range_scaling_self_screen_r2_and_stand_off_r4():
    base = dict(jammer_erp_w=1000.0, radar_erp_w=1e7, rcs_m2=2.0)
    # self-screening: twice the range, four times the J/S (R^2)
    a = jamming_to_signal(**base, target_range_m=10e3, jammer_range_m=10e3)
    b = jamming_to_signal(**base, target_range_m=20e3, jammer_range_m=20e3)
    assert b / a == pytest.approx(4.0, rel=1e-12)
    # stand-off, the jammer fixed: twice the target range, 16 times the J/S (Rt^4)
    c = jamming_to_signal(**base, target_range_m=10e3, jammer_range_m=50e3)
    d = jamming_to_signal(**base, target_range_m=20e3, jammer_range_m=50e3)
    assert d / c == pytest.approx(16.0, rel=1e-12)
    # and the burn-through range: self-screening doubles with 4x radar ERP, stand-off with 16x
    r1 = burn_through_range_self_screen_m(1e7, 1000.0, 2.0)
    assert burn_through_range_self_screen_m(4e7, 1000.0, 2.0) == pytest.approx(2 * r1)
    r2 = burn_through_range_stand_off_m(1e7, 1000.0, 2.0, 50e3)
    assert burn_through_range_stand_off_m(16e7, 1000.0, 2.0, 50e3) == pytest.approx(2 * r2)


def test_directions_of_each_factor():
    kw = dict(jammer_erp_w=500.0, radar_erp_w=1e7, rcs_m2=1.0, target_range_m=30e3, jammer_range_m=60e3)
    js = jamming_to_signal(**kw)
    assert jamming_to_signal(**kw, gain_ratio=1e-3) < js              # sidelobe jamming is weaker
    assert jamming_to_signal(**kw, band_factor=0.1) < js             # a barrage wider than the receiver
    assert jamming_to_signal(**kw, polarisation_factor=0.5) < js     # polarisation loss
    assert jamming_to_signal(**kw, eccm_factor=10.0) == pytest.approx(js / 10.0)
    assert jamming_to_signal(**{**kw, "rcs_m2": 10.0}) < js           # a bigger echo
    assert jamming_to_signal(**{**kw, "jammer_erp_w": 0.0}) == 0.0    # no jammer, no jamming


def test_bandwidth_factor_and_receive_gain():
    assert bandwidth_factor(5e6, 500e6) == pytest.approx(0.01)      # barrage: Br / Bj
    assert bandwidth_factor(5e6, 1e6) == 1.0                        # spot narrower than the receiver
    assert relative_receive_gain(0.0, 0.03, -30.0) == 1.0
    assert relative_receive_gain(0.015, 0.03, -30.0) == pytest.approx(0.5)   # half the 3 dB beamwidth
    assert relative_receive_gain(1.0, 0.03, -30.0) == pytest.approx(1e-3)    # floored at the sidelobes
    with pytest.raises(ValueError):
        relative_receive_gain(0.0, 0.03, 3.0)


def test_signal_to_interference_and_measurement_accuracy():
    assert signal_to_interference(20.0, 0.0) == 20.0
    assert signal_to_interference(0.0, 5.0) == 0.0
    # 1 / SINR = 1 / SINR0 + J/S
    assert 1.0 / signal_to_interference(20.0, 0.5) == pytest.approx(1 / 20.0 + 0.5)
    # accuracy ~ 1 / sqrt(SNR) (Skolnik 2001 ch. 6): four times less SNR, twice the error
    assert measurement_sigma_factor(40.0, 10.0) == pytest.approx(2.0)
    assert measurement_sigma_factor(10.0, 10.0) == 1.0


@settings(max_examples=200, deadline=None)
@given(s0=st.floats(0.0, 1e6), js=st.floats(0.0, 1e6), more=st.floats(0.0, 1e3))
def test_jamming_never_raises_sinr(s0, js, more):
    q = signal_to_interference(s0, js)
    assert 0.0 <= q <= s0
    assert signal_to_interference(s0, js + more) <= q + 1e-12 * max(q, 1.0)


@settings(max_examples=200, deadline=None)
@given(rt=st.floats(100.0, 2e5), rj=st.floats(100.0, 5e5), g=st.floats(1e-5, 1.0))
def test_js_is_nonnegative_and_grows_with_target_range(rt, rj, g):
    a = jamming_to_signal(300.0, 1e7, 1.0, rt, rj, g)
    b = jamming_to_signal(300.0, 1e7, 1.0, rt * 1.5, rj, g)
    assert 0.0 <= a < b and np.isfinite(b)
