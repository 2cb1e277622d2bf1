"""Tests of iadsim.physics.radar against published values and invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iadsim.physics import (
    DETECTION_MODELS,
    albersheim_snr_db,
    db_to_linear,
    detection_probability,
    detection_probability_reference_form,
    linear_to_db,
    pd_swerling0,
    pd_swerling1,
    snr_reference_form,
    snr_required,
)

# Tolerance for values read off a published figure [dB].
FIGURE_TOL_DB = 0.2


# --------------------------------------------------------------------------- published values


def test_swerling1_required_snr_pd09_pfa1e6():
    # Skolnik 2001, Introduction to Radar Systems 3rd ed., Fig. 2.23 (fluctuation loss
    # added to Fig. 2.7's 13.2 dB) / Meyer & Mayer 1973: Swerling 1, single pulse,
    # Pd = 0.9, Pfa = 1e-6 needs about 21.1 dB.
    snr_db = linear_to_db(snr_required(0.9, 1e-6, model="swerling1"))
    assert snr_db == pytest.approx(21.1, abs=FIGURE_TOL_DB)


def test_swerling0_required_snr_pd09_pfa1e6():
    # Skolnik 2001, Fig. 2.7 (sine wave in noise, single pulse): Pd = 0.9 at
    # Pfa = 1e-6 needs 13.2 dB.
    snr_db = linear_to_db(snr_required(0.9, 1e-6, model="swerling0"))
    assert snr_db == pytest.approx(13.2, abs=FIGURE_TOL_DB)


def test_swerling0_required_snr_pd05_pfa1e6():
    # Skolnik 2001, Fig. 2.7: Pd = 0.5 at Pfa = 1e-6 needs about 11.2 dB.
    snr_db = linear_to_db(snr_required(0.5, 1e-6, model="swerling0"))
    assert snr_db == pytest.approx(11.2, abs=FIGURE_TOL_DB)


def test_albersheim_pd09_pfa1e6_n1():
    # Albersheim 1981, Proc. IEEE 69(7):839; worked value in Richards 2005,
    # Fundamentals of Radar Signal Processing, ch. 6: Pd = 0.9, Pfa = 1e-6, N = 1
    # gives about 13.1 dB.
    assert albersheim_snr_db(0.9, 1e-6, 1) == pytest.approx(13.1, abs=0.05)


def test_albersheim_agrees_with_marcum_for_pd_at_least_half():
    # Albersheim 1981 claims <= 0.2 dB error against Robertson's (exact,
    # non-fluctuating) curves for 0.1 <= Pd <= 0.9, 1e-7 <= Pfa <= 1e-3. For a
    # single pulse (N = 1) that holds here for 0.5 <= Pd <= 0.9 only: at Pd = 0.1
    # the equation is 0.75 dB (Pfa 1e-7) to 4.1 dB (Pfa 1e-3) below the exact
    # Marcum value (checked by Monte Carlo), so low Pd is not asserted.
    pd = np.array([0.5, 0.7, 0.8, 0.9])[:, None]
    pfa = np.array([1e-7, 1e-6, 1e-5, 1e-4, 1e-3])[None, :]
    exact_db = linear_to_db(snr_required(pd, pfa, model="swerling0"))
    assert exact_db.shape == (4, 5)
    np.testing.assert_allclose(albersheim_snr_db(pd, pfa), exact_db, atol=0.2)


def test_albersheim_low_pd_single_pulse_is_optimistic():
    # Documents the deviation above (Albersheim 1981 equation vs Marcum 1960, N = 1).
    exact_db = linear_to_db(snr_required(0.1, 1e-3, model="swerling0"))
    assert exact_db - albersheim_snr_db(0.1, 1e-3) > 3.0


def test_albersheim_integration_gain():
    # Albersheim 1981: more pulses, less SNR per pulse; -5 log10 N term plus the
    # shrinking coefficient, so 10 pulses save more than 5 dB.
    one = albersheim_snr_db(0.9, 1e-6, 1)
    ten = albersheim_snr_db(0.9, 1e-6, 10)
    assert one - ten > 5.0


# --------------------------------------------------------------------------- closed forms


def test_swerling1_closed_form():
    # Swerling 1960 case 1, single pulse: Pd = Pfa ** (1 / (1 + SNR)).
    snr = np.array([0.0, 1.0, 10.0, 100.0])
    np.testing.assert_allclose(pd_swerling1(snr, 1e-6), 1e-6 ** (1 / (1 + snr)))
    assert pd_swerling1(0.0, 1e-3) == pytest.approx(1e-3)


def test_swerling0_at_zero_snr_is_pfa():
    # Marcum 1960: Q1(0, b) = exp(-b^2 / 2) = Pfa.
    assert pd_swerling0(0.0, 1e-6) == pytest.approx(1e-6, rel=1e-9)
    assert pd_swerling0(np.inf, 1e-6) == 1.0


@pytest.mark.parametrize("model", DETECTION_MODELS)
def test_snr_required_inverts_pd(model):
    pd = np.array([0.2, 0.5, 0.9, 0.99])
    pfa = np.array([[1e-4], [1e-6], [1e-8]])
    snr = snr_required(pd, pfa, model)
    assert snr.shape == (3, 4)
    np.testing.assert_allclose(detection_probability(snr, pfa, model), pd * np.ones_like(pfa),
                               rtol=1e-9)


def test_snr_required_pd_equals_pfa_is_zero():
    assert snr_required(1e-6, 1e-6, "swerling0") == 0.0
    assert snr_required(1e-6, 1e-6, "swerling1") == pytest.approx(0.0, abs=1e-12)


def test_dispatch_matches_direct_calls():
    snr = np.linspace(0, 100, 7)
    np.testing.assert_array_equal(detection_probability(snr, 1e-6, "swerling0"),
                                  pd_swerling0(snr, 1e-6))
    np.testing.assert_array_equal(detection_probability(snr, 1e-6), pd_swerling1(snr, 1e-6))


def test_db_roundtrip():
    x = np.array([1e-3, 0.5, 1.0, 2.0, 1e6])
    np.testing.assert_allclose(db_to_linear(linear_to_db(x)), x, rtol=1e-12)
    assert linear_to_db(100.0) == pytest.approx(20.0)
    assert db_to_linear(3.0) == pytest.approx(1.99526, rel=1e-5)
    assert linear_to_db(0.0) == -np.inf


def test_scalar_in_scalar_out():
    assert np.ndim(pd_swerling1(10.0, 1e-6)) == 0
    assert np.ndim(snr_required(0.9, 1e-6, "swerling0")) == 0
    assert isinstance(float(snr_reference_form(1e4, 1.0, 1e4, 1.0, 20.0)), float)


# --------------------------------------------------------------------------- reference form


def test_reference_form_gives_ref_pd_at_ref_range():
    for model in DETECTION_MODELS:
        pd = detection_probability_reference_form(100e3, 2.0, 100e3, 2.0, 0.8, 1e-6, model)
        assert pd == pytest.approx(0.8, rel=1e-9)


def test_reference_form_monotone_in_range_and_rcs():
    ranges = np.linspace(10e3, 300e3, 50)
    pd = detection_probability_reference_form(ranges, 1.0, 100e3, 1.0, 0.9, 1e-6)
    assert np.all(np.diff(pd) < 0)
    rcs = np.logspace(-3, 2, 50)
    pd = detection_probability_reference_form(150e3, rcs, 100e3, 1.0, 0.9, 1e-6, "swerling0")
    assert np.all(np.diff(pd) >= 0)  # non-decreasing; saturates at 1 in double precision
    assert np.all(np.diff(pd[pd < 0.999]) > 0)


def test_doubling_range_costs_12_04_db():
    # Radar equation R^-4 law (Skolnik 2001, eq. 2.1): 40 log10(2) = 12.04 dB.
    near = snr_reference_form(50e3, 1.0, 50e3, 1.0, 100.0)
    far = snr_reference_form(100e3, 1.0, 50e3, 1.0, 100.0)
    assert linear_to_db(near) - linear_to_db(far) == pytest.approx(12.0412, abs=1e-4)


def test_sixteen_times_rcs_doubles_detection_range():
    # R^4 law: detection range scales as sigma^(1/4); 16x RCS -> 2x range at the same Pd.
    pd_small_at_r = detection_probability_reference_form(80e3, 0.1, 80e3, 0.1, 0.5, 1e-6)
    pd_big_at_2r = detection_probability_reference_form(160e3, 1.6, 80e3, 0.1, 0.5, 1e-6)
    assert pd_big_at_2r == pytest.approx(pd_small_at_r, rel=1e-12)


def test_reference_form_broadcasts():
    ranges = np.linspace(20e3, 200e3, 4)[:, None]
    rcs = np.array([0.01, 0.1, 1.0])[None, :]
    pd = detection_probability_reference_form(ranges, rcs, 100e3, 1.0, 0.9, 1e-6, "swerling0")
    assert pd.shape == (4, 3)


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("pfa", [0.0, 1.0, -0.1, 1.5])
def test_invalid_pfa(pfa):
    with pytest.raises(ValueError, match="pfa"):
        pd_swerling0(10.0, pfa)
    with pytest.raises(ValueError, match="pfa"):
        pd_swerling1(10.0, pfa)
    with pytest.raises(ValueError, match="pfa"):
        snr_required(0.9, pfa)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="snr"):
        pd_swerling1(-1.0, 1e-6)
    with pytest.raises(ValueError, match="range_m"):
        snr_reference_form(0.0, 1.0, 1e3, 1.0, 10.0)
    with pytest.raises(ValueError, match="rcs_m2"):
        snr_reference_form(1e3, -1.0, 1e3, 1.0, 10.0)
    with pytest.raises(ValueError, match="pd must be >= pfa"):
        snr_required(1e-7, 1e-6)
    with pytest.raises(ValueError, match="n_pulses"):
        albersheim_snr_db(0.9, 1e-6, 0)
    with pytest.raises(ValueError, match="x"):
        linear_to_db(-1.0)


def test_unknown_model_lists_valid_names():
    with pytest.raises(ValueError, match="swerling0.*swerling1"):
        detection_probability(10.0, 1e-6, model="swerling5")
    with pytest.raises(ValueError, match="swerling0"):
        snr_required(0.9, 1e-6, model="nope")


# --------------------------------------------------------------------------- properties

snr_st = st.floats(min_value=0.0, max_value=1e6, allow_nan=False)
pfa_st = st.floats(min_value=1e-12, max_value=0.5)
model_st = st.sampled_from(DETECTION_MODELS)


@settings(max_examples=200, deadline=None)
@given(snr=snr_st, pfa=pfa_st, model=model_st)
def test_pd_is_a_probability_at_least_pfa(snr, pfa, model):
    pd = detection_probability(snr, pfa, model)
    assert 0.0 <= pd <= 1.0
    assert pd >= pfa * (1 - 1e-9)


@settings(max_examples=200, deadline=None)
@given(a=snr_st, b=snr_st, pfa=pfa_st, model=model_st)
def test_pd_monotone_in_snr(a, b, pfa, model):
    lo, hi = sorted((a, b))
    # 1e-12: round-off of scipy's noncentral chi-square survival function (a few ulp)
    assert detection_probability(lo, pfa, model) <= detection_probability(hi, pfa, model) + 1e-12


@settings(max_examples=100, deadline=None)
@given(pd=st.floats(0.01, 0.999), pfa=st.floats(1e-10, 1e-3), model=model_st)
def test_snr_required_roundtrip(pd, pfa, model):
    snr = snr_required(pd, pfa, model)
    assert snr >= 0
    assert detection_probability(snr, pfa, model) == pytest.approx(pd, rel=1e-8, abs=1e-12)


def test_detection_range_inverts_the_reference_form():
    from iadsim.physics.radar import detection_probability_reference_form, detection_range_m

    # the quoted point itself: "detects 1 m2 at 40 km with Pd 0.9"
    assert detection_range_m(1.0, 0.9, 40e3, 1.0, 0.9, 1e-6) == pytest.approx(40e3)
    # R^4 law: 1/16 of the RCS halves the range for the same Pd (Skolnik 2001, eq. 2.1)
    assert detection_range_m(1 / 16, 0.9, 40e3, 1.0, 0.9, 1e-6) == pytest.approx(20e3)
    for model in ("swerling0", "swerling1"):
        r = detection_range_m(0.1, 0.5, 40e3, 1.0, 0.9, 1e-6, model=model)
        pd = detection_probability_reference_form(r, 0.1, 40e3, 1.0, 0.9, 1e-6, model=model)
        assert pd == pytest.approx(0.5, abs=1e-9)
        # a lower required Pd reaches further
        assert r > detection_range_m(0.1, 0.9, 40e3, 1.0, 0.9, 1e-6, model=model)
