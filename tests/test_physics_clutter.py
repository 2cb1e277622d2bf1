"""Surface clutter, MTI and multipath functions against published numbers and closed forms."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iadsim.physics.clutter import (
    CLUTTER_CLASSES, canceller_response, clutter_cell_area_m2, clutter_gamma_db,
    clutter_to_noise_reference_form, gaussian_beam_gain, mti_improvement_factor, mti_notch_gain,
    multipath_loss, radar_equation_snr, roughness_factor, sigma0_constant_gamma,
    signal_to_clutter_plus_noise, two_ray_propagation_factor_sq,
)

C = 299_792_458.0


def test_clutter_patch_rcs_matches_richards_worked_example():
    # MathWorks surfclutterrcs documentation example (algorithm: Richards 2005, pp. 57-63):
    # NRCS 1 m2/m2 at 1 km, beamwidths 1 deg x 3 deg, grazing 10 deg, pulse 10 us -> RCS 5.2627e+03 m2
    area = clutter_cell_area_m2(1000.0, np.radians(1.0), np.radians(3.0), np.radians(10.0), C * 10e-6 / 2)
    assert area * 1.0 == pytest.approx(5.2627e3, rel=1e-4)


def test_clutter_to_noise_matches_published_example():
    # same example, then radareqsnr(lambda 0.01 m, 1 km, 5 kW, 10 us, gain 20 dB, 290 K) -> CNR 75.2006 dB
    # (MathWorks surfclutterrcs documentation; radar equation Richards 2005 eq. 2.17)
    cnr = radar_equation_snr(5000.0, 100.0, 0.01, 5.2627e3, 1000.0, 10e-6)
    assert 10 * np.log10(cnr) == pytest.approx(75.2006, abs=1e-3)


def test_pulse_limited_cell_at_low_grazing():
    # closed form (Richards 2005 p. 59): A = R theta_az dR sec(psi) when the beam footprint is longer
    a = clutter_cell_area_m2(20e3, 0.02, 0.05, np.radians(0.5), 30.0)
    assert a == pytest.approx(20e3 * 0.02 * 30.0 / np.cos(np.radians(0.5)))
    assert clutter_cell_area_m2(20e3, 0.02, 0.05, 0.0, 30.0) == 0.0  # shadowed: no cell


def test_gamma_table_and_frequency_scaling():
    # 10 GHz values: flatland -20 dB, farmland -15, wooded hill -10 (Nathanson et al. 1999);
    # rugged mountain 0 (Long 2001) - as tabulated by MathWorks surfacegamma
    assert clutter_gamma_db("flatland", C / 10e9) == pytest.approx(-20.0)
    assert clutter_gamma_db("farmland", C / 10e9) == pytest.approx(-15.0)
    assert clutter_gamma_db("wooded_hills", C / 10e9) == pytest.approx(-10.0)
    assert clutter_gamma_db("mountains", C / 10e9) == pytest.approx(0.0)
    # +5 log10(f / 10 GHz) (Barton 1985): at 1 GHz 5 dB lower
    assert clutter_gamma_db("farmland", C / 1e9) == pytest.approx(-20.0)
    with pytest.raises(ValueError, match="unknown clutter class"):
        clutter_gamma_db("swamp", 0.03)


def test_constant_gamma_sigma0():
    # sigma0 = gamma sin(psi) (Long 2001; Richards 2005 eq. 2.64): -10 dB at 30 deg -> 0.05
    assert sigma0_constant_gamma(-10.0, np.radians(30.0)) == pytest.approx(0.05)
    assert sigma0_constant_gamma(-np.inf, 0.3) == 0.0
    assert sigma0_constant_gamma(-10.0, -0.1) == 0.0


def test_gaussian_beam_half_power():
    # G(theta_3dB / 2) = 0.5 by definition of the half-power beamwidth (Mahafza 2000 sec. 8.2)
    assert gaussian_beam_gain(0.05 / 2, 0.05) == pytest.approx(0.5)
    assert gaussian_beam_gain(0.0, 0.05) == 1.0


def test_reference_form_clutter_equals_radar_equation_ratio():
    # CNR / SNR = sigma_c / sigma_t at the same range (Skolnik 2001 eq. 2.1)
    snr_t = radar_equation_snr(1e5, 1e3, 0.03, 2.0, 15e3, 1e-6)
    snr_c = radar_equation_snr(1e5, 1e3, 0.03, 50.0, 15e3, 1e-6)
    ref = radar_equation_snr(1e5, 1e3, 0.03, 1.0, 30e3, 1e-6)
    assert clutter_to_noise_reference_form(50.0, 15e3, 30e3, 1.0, ref) == pytest.approx(snr_c)
    assert snr_c / snr_t == pytest.approx(25.0)


def test_canceller_and_improvement_factor_closed_forms():
    # two-pulse canceller: |H|^2 = 4 sin^2(pi f / fr) (Skolnik 2001 eq. 3.10); peak 4 at fr / 2
    assert canceller_response(500.0, 1000.0, 2) == pytest.approx(4.0)
    assert canceller_response(0.0, 1000.0, 3) == 0.0
    assert canceller_response(1000.0, 1000.0, 2) == pytest.approx(0.0, abs=1e-20)  # blind speed
    # I = 2 (fr / (2 pi sigma_c))^2 and ^4 (Skolnik 2001 eqs. 3.19, 3.20): fr 1 kHz, sigma_c 10 Hz
    x = 1000.0 / (2 * np.pi * 10.0)
    assert mti_improvement_factor(1000.0, 10.0, 2) == pytest.approx(2 * x**2)  # 27.05 dB
    assert 10 * np.log10(mti_improvement_factor(1000.0, 10.0, 2)) == pytest.approx(27.05, abs=0.01)
    assert mti_improvement_factor(1000.0, 10.0, 3) == pytest.approx(2 * x**4)


def test_notch_gain_is_small_angle_canceller_response():
    # below v_min the gain follows the canceller's low-Doppler slope: halving the speed costs 2^(2(N-1))
    g = mti_notch_gain([2.5, 5.0, 10.0, 20.0], 10.0, n_pulses=3)
    np.testing.assert_allclose(g, [1 / 256, 1 / 16, 1.0, 1.0])
    exact = canceller_response(np.array([1.0, 2.0]), 1000.0, 3)
    assert exact[1] / exact[0] == pytest.approx(16.0, rel=1e-3)
    assert mti_notch_gain(0.0, 10.0) == 0.0
    assert mti_notch_gain(0.0, 0.0) == 1.0  # no MTI: no notch


def test_sinr_combination():
    # SINR = g SNR / (1 + CNR / I): clutter 20 dB over noise, I = 20 dB -> half the SNR
    assert signal_to_clutter_plus_noise(10.0, 100.0, 100.0) == pytest.approx(5.0)
    assert signal_to_clutter_plus_noise(10.0, 0.0) == pytest.approx(10.0)


def test_two_ray_closed_form_and_lobes():
    # rho = 1: F = 2 |sin(2 pi h_r h_t / (lambda d))| (Skolnik 2001 eq. 8.9; Blake 1986 ch. 6)
    hr, ht, d, lam = 10.0, np.array([5.0, 50.0, 123.0]), 20e3, 0.1
    f2 = two_ray_propagation_factor_sq(hr, ht, d, lam, 1.0)
    np.testing.assert_allclose(f2, (2 * np.sin(2 * np.pi * hr * ht / (lam * d))) ** 2, rtol=1e-12)
    # first lobe maximum where 4 pi h_r h_t / (lambda d) = pi: F^2 = 4 (+6 dB one way)
    ht_peak = lam * d / (4 * hr)
    assert two_ray_propagation_factor_sq(hr, ht_peak, d, lam, 1.0) == pytest.approx(4.0)
    # the loss factor is 1 from the first lobe up, and deep near the surface
    assert multipath_loss(hr, ht_peak * 1.01, d, lam, 1.0) == 1.0
    assert multipath_loss(hr, 1.0, d, lam, 1.0) < 1e-3


def test_roughness_factor():
    # rho_s = exp(-2 g^2), g = 2 pi sigma_h sin(psi) / lambda (Ament 1953): g = 0.5 -> exp(-0.5)
    lam = 0.1
    psi = np.arcsin(0.5 * lam / (2 * np.pi * 1.0))
    assert roughness_factor(1.0, psi, lam) == pytest.approx(np.exp(-0.5))
    assert roughness_factor(0.0, 0.1, lam) == 1.0
    assert set(CLUTTER_CLASSES) >= {"flatland", "farmland", "wooded_hills", "woods", "urban", "mountains", "none"}


@settings(max_examples=200, deadline=None)
@given(st.floats(0.0, 200.0), st.floats(0.0, 200.0), st.floats(0.0, 1.0), st.floats(0.01, 3.0))
def test_multipath_loss_bounded_and_monotone_in_height(h1, h2, rho, lam):
    lo, hi = sorted((h1, h2))
    a = multipath_loss(5.0, lo, 10e3, lam, rho)
    b = multipath_loss(5.0, hi, 10e3, lam, rho)
    assert 0.0 <= a <= b + 1e-12 <= 1.0 + 1e-12


@settings(max_examples=200, deadline=None)
@given(st.floats(0.0, 400.0), st.floats(0.0, 400.0), st.floats(0.0, 50.0))
def test_notch_gain_monotone_in_radial_speed(v1, v2, vmin):
    lo, hi = sorted((v1, v2))
    assert 0.0 <= mti_notch_gain(lo, vmin) <= mti_notch_gain(hi, vmin) <= 1.0
