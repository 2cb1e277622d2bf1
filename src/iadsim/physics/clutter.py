"""Surface clutter, MTI/Doppler filtering and low-elevation multipath for ground-based radars.

Pure, vectorised functions on SI floats and numpy arrays; every function accepts scalars or
arrays and broadcasts its arguments. Angles are in radians; power ratios are linear ``[1]``
unless the name ends in ``_db``.

References
----------
- Barton, D. K. (1985). Land clutter models for radar design and analysis. Proc. IEEE 73(2),
  198-204. doi:10.1109/PROC.1985.13133 (frequency dependence of gamma).
- Nathanson, F. E., Reilly, J. P. & Cohen, M. N. (1999). *Radar Design Principles*, 2nd ed.
  SciTech. (gamma of flatland, farmland, wooded hills).
- Long, M. W. (2001). *Radar Reflectivity of Land and Sea*, 3rd ed. Artech House. (constant-gamma
  model; gamma of woods, urban, rugged mountains).
- Richards, M. A. (2005). *Fundamentals of Radar Signal Processing*. McGraw-Hill, sec. 2.7
  (pp. 57-63: clutter cell area; eq. 2.64: constant-gamma model).
- Skolnik, M. I. (2001). *Introduction to Radar Systems*, 3rd ed. McGraw-Hill, sec. 3.2-3.5
  (delay-line cancellers, improvement factor) and sec. 8.2 (multipath lobing, roughness).
- Blake, L. V. (1986). *Radar Range-Performance Analysis*. Artech House, ch. 6 (flat-earth
  two-ray pattern propagation factor).
- Ament, W. S. (1953). Toward a theory of reflection by a rough surface. Proc. IRE 41(1),
  142-146. doi:10.1109/JRPROC.1953.274110 (specular scattering factor).
- Mahafza, B. R. (2000). *Radar Systems Analysis and Design Using MATLAB*. Chapman & Hall/CRC,
  sec. 8.2 (Gaussian antenna pattern G(theta) = exp(-2.776 theta^2 / theta_3dB^2)).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "BOLTZMANN_J_K",
    "SPEED_OF_LIGHT_M_S",
    "CLUTTER_CLASSES",
    "clutter_gamma_db",
    "sigma0_constant_gamma",
    "clutter_cell_area_m2",
    "gaussian_beam_gain",
    "radar_equation_snr",
    "clutter_to_noise_reference_form",
    "canceller_response",
    "mti_notch_gain",
    "mti_improvement_factor",
    "signal_to_clutter_plus_noise",
    "roughness_factor",
    "two_ray_propagation_factor_sq",
    "multipath_loss",
]

BOLTZMANN_J_K = 1.380649e-23
SPEED_OF_LIGHT_M_S = 299_792_458.0
_F0_HZ = 10e9

#: Constant-gamma land clutter classes: gamma [dB] at 10 GHz and the RMS surface height
#: deviation [m] used for the multipath roughness factor. ``none`` switches clutter off.
CLUTTER_CLASSES: dict[str, dict] = {
    # gamma: Nathanson, Reilly & Cohen 1999 (as tabulated in MathWorks' surfacegamma)
    "flatland": {"gamma_db": -20.0, "rms_height_m": 1.0,
                 "source": "gamma: Nathanson et al. 1999; rms height: iadsim estimate (grass on level ground)"},
    "farmland": {"gamma_db": -15.0, "rms_height_m": 1.0,
                 "source": "gamma: Nathanson et al. 1999; rms height: iadsim estimate (crops, hedges)"},
    "wooded_hills": {"gamma_db": -10.0, "rms_height_m": 5.0,
                     "source": "gamma: Nathanson et al. 1999; rms height: iadsim estimate (trees on hills)"},
    # gamma: Long 2001 (as tabulated in MathWorks' surfacegamma)
    "woods": {"gamma_db": -15.0, "rms_height_m": 3.0,
              "source": "gamma: Long 2001; rms height: iadsim estimate (tree canopy)"},
    "urban": {"gamma_db": 0.0, "rms_height_m": 10.0,
              "source": "gamma: Long 2001 ('metropolitan'); rms height 10 m: Barton 2013 ('urban', "
                        "as in MathWorks' landroughness)"},
    "mountains": {"gamma_db": 0.0, "rms_height_m": 10.0,
                  "source": "gamma: Long 2001 ('rugged mountain'); rms height: iadsim estimate"},
    "none": {"gamma_db": -np.inf, "rms_height_m": 0.0, "source": "no clutter (model switched off)"},
}


from iadsim.physics._checks import _non_negative, _out, _positive  # noqa: E402


# --------------------------------------------------------------------------- land clutter


def clutter_gamma_db(terrain_class: str, wavelength_m: ArrayLike):
    """Constant-gamma reflectivity parameter of a land clutter class at a radar wavelength.

    ``gamma_dB(f) = gamma_dB(10 GHz) + 5 log10(f / 10 GHz)`` (Barton 1985; the 10 GHz values of
    :data:`CLUTTER_CLASSES` are Nathanson et al. 1999 and Long 2001).

    Parameters
    ----------
    terrain_class : one of :data:`CLUTTER_CLASSES`
    wavelength_m : radar wavelength [m], > 0

    Returns
    -------
    gamma [dB]; ``-inf`` for class ``"none"``.
    """
    if terrain_class not in CLUTTER_CLASSES:
        raise ValueError(f"unknown clutter class {terrain_class!r}; valid: {', '.join(CLUTTER_CLASSES)}")
    lam = _positive(wavelength_m, "wavelength_m")
    f = SPEED_OF_LIGHT_M_S / lam
    return _out(CLUTTER_CLASSES[terrain_class]["gamma_db"] + 5.0 * np.log10(f / _F0_HZ))


def sigma0_constant_gamma(gamma_db: ArrayLike, grazing_rad: ArrayLike):
    """Area reflectivity of land clutter by the constant-gamma model.

    ``sigma0 = gamma * sin(psi)`` (Long 2001; Richards 2005, eq. 2.64). Valid over the plateau
    region of grazing angles; it tends to zero at grazing incidence (discrete clutter and the
    low-angle behaviour measured by Billingsley 2002 are not modelled).

    Parameters
    ----------
    gamma_db : reflectivity parameter [dB]; ``-inf`` gives no clutter
    grazing_rad : grazing angle [rad], in [0, pi/2]; negative (shadowed) gives 0

    Returns
    -------
    sigma0 [m2/m2].
    """
    g = np.power(10.0, np.asarray(gamma_db, dtype=float) / 10.0)
    psi = np.asarray(grazing_rad, dtype=float)
    return _out(g * np.sin(np.clip(psi, 0.0, np.pi / 2)))


def clutter_cell_area_m2(range_m, az_beamwidth_rad, el_beamwidth_rad, grazing_rad, range_resolution_m):
    """Area of the surface clutter cell illuminated at slant range R.

    Pulse-limited: ``A = R theta_az dR / cos(psi)``; beam-limited:
    ``A = R^2 theta_az theta_el / sin(psi)`` (rectangular beam footprint); the cell is the smaller
    of the two (Richards 2005, sec. 2.7, pp. 57-63; Skolnik 2001, sec. 7.2).

    Parameters
    ----------
    range_m : slant range [m], > 0
    az_beamwidth_rad, el_beamwidth_rad : 3 dB beamwidths [rad], > 0
    grazing_rad : grazing angle [rad], in (0, pi/2)
    range_resolution_m : range resolution dR = c tau / 2 [m], > 0

    Returns
    -------
    area [m2]; 0 where the grazing angle is <= 0.
    """
    r = _positive(range_m, "range_m")
    ta = _positive(az_beamwidth_rad, "az_beamwidth_rad")
    te = _positive(el_beamwidth_rad, "el_beamwidth_rad")
    dr = _positive(range_resolution_m, "range_resolution_m")
    psi = np.asarray(grazing_rad, dtype=float)
    ok = psi > 0
    p = np.where(ok, np.clip(psi, 1e-12, np.pi / 2), 1.0)
    with np.errstate(divide="ignore", over="ignore"):
        pulse = r * ta * dr / np.maximum(np.cos(p), 1e-12)
        beam = r * r * ta * te / np.sin(p)
    return _out(np.where(ok, np.minimum(pulse, beam), 0.0))


def gaussian_beam_gain(off_axis_rad, beamwidth_rad):
    """One-way power gain of a Gaussian beam relative to its peak.

    ``G(theta) = exp(-4 ln 2 theta^2 / theta_3dB^2) = exp(-2.776 theta^2 / theta_3dB^2)``
    (Mahafza 2000, sec. 8.2); 0.5 at half the 3 dB beamwidth.

    Parameters
    ----------
    off_axis_rad : angle off the beam axis [rad]
    beamwidth_rad : 3 dB (half-power) beamwidth [rad], > 0

    Returns
    -------
    relative one-way power gain [1], in (0, 1].
    """
    bw = _positive(beamwidth_rad, "beamwidth_rad")
    th = np.asarray(off_axis_rad, dtype=float)
    return _out(np.exp(-4.0 * np.log(2.0) * (th / bw) ** 2))


def radar_equation_snr(peak_power_w, gain, wavelength_m, rcs_m2, range_m, pulse_width_s,
                       noise_temperature_k=290.0, loss=1.0):
    """Single-pulse SNR of the monostatic radar equation with a matched filter.

    ``SNR = P G^2 lambda^2 sigma tau / ((4 pi)^3 R^4 k T L)`` (Richards 2005, eq. 2.17 with
    B = 1/tau; Skolnik 2001, eq. 2.1). With ``rcs_m2`` the RCS of a clutter cell this is the
    clutter-to-noise ratio.

    Parameters
    ----------
    peak_power_w : peak transmit power [W]; gain : antenna power gain [1]; wavelength_m : [m];
    rcs_m2 : target or clutter-cell RCS [m2]; range_m : [m]; pulse_width_s : [s];
    noise_temperature_k : system noise temperature [K]; loss : system loss [1], >= 1

    Returns
    -------
    SNR [1, linear].
    """
    p = _positive(peak_power_w, "peak_power_w")
    g = _positive(gain, "gain")
    lam = _positive(wavelength_m, "wavelength_m")
    s = _non_negative(rcs_m2, "rcs_m2")
    r = _positive(range_m, "range_m")
    tau = _positive(pulse_width_s, "pulse_width_s")
    t = _positive(noise_temperature_k, "noise_temperature_k")
    lo = _positive(loss, "loss")
    return _out(p * g**2 * lam**2 * s * tau / ((4 * np.pi) ** 3 * r**4 * BOLTZMANN_J_K * t * lo))


def clutter_to_noise_reference_form(clutter_rcs_m2, range_m, ref_range_m, ref_rcs_m2, ref_snr,
                                    pattern_two_way=1.0):
    """Clutter-to-noise ratio of a radar calibrated by one quoted detection point.

    The clutter cell is a target of RCS ``sigma0 A`` at the same range, seen through the two-way
    antenna pattern: ``CNR = ref_snr (sigma_c / ref_rcs) (ref_range / R)^4 G^2`` (radar equation,
    Skolnik 2001 eq. 2.1, in reference form; Richards 2005, sec. 2.7).

    Parameters
    ----------
    clutter_rcs_m2 : RCS of the clutter cell [m2], >= 0
    range_m, ref_range_m : [m], > 0; ref_rcs_m2 : [m2], > 0; ref_snr : [1]
    pattern_two_way : two-way antenna gain toward the clutter relative to the target [1]

    Returns
    -------
    CNR [1, linear].
    """
    sc = _non_negative(clutter_rcs_m2, "clutter_rcs_m2")
    r = _positive(range_m, "range_m")
    r0 = _positive(ref_range_m, "ref_range_m")
    s0 = _positive(ref_rcs_m2, "ref_rcs_m2")
    return _out(np.asarray(ref_snr, float) * (sc / s0) * (r0 / r) ** 4 * np.asarray(pattern_two_way, float))


# --------------------------------------------------------------------------- MTI / Doppler


def canceller_response(doppler_hz, prf_hz, n_pulses=2):
    """Power response of an N-pulse binomial delay-line canceller (MTI filter).

    ``|H(f)|^2 = (2 sin(pi f / f_r))^(2 (N - 1))`` (Skolnik 2001, sec. 3.2, eq. 3.10 for the
    two-pulse canceller, its cascade for N pulses). Zero at f = 0 and at the blind speeds
    f = k f_r.

    Parameters
    ----------
    doppler_hz : target Doppler shift [Hz]; prf_hz : pulse repetition frequency [Hz], > 0;
    n_pulses : pulses of the canceller [1], >= 2

    Returns
    -------
    power gain [1], in [0, 4^(N-1)].
    """
    fr = _positive(prf_hz, "prf_hz")
    n = int(n_pulses)
    if n < 2:
        raise ValueError(f"n_pulses must be >= 2, got {n_pulses!r}")
    return _out((2.0 * np.sin(np.pi * np.asarray(doppler_hz, float) / fr)) ** (2 * (n - 1)))


def mti_notch_gain(radial_speed_m_s, min_radial_speed_m_s, n_pulses=3):
    """Relative power gain of the MTI/Doppler filter for a target of radial speed v.

    Near zero Doppler the N-pulse canceller response (:func:`canceller_response`) grows as
    ``(2 pi f_d / f_r)^(2 (N - 1))`` (small-angle form of Skolnik 2001, eq. 3.10); normalised to
    1 at the radar's minimum detectable radial speed ``v_min`` it is
    ``g = min(1, (|v| / v_min)^(2 (N - 1)))``. Targets in the notch (|v| < v_min) lose
    ``20 (N - 1) log10(v_min / |v|)`` dB; a target with no radial speed is not seen at all.
    Blind speeds above v_min are not modelled (staggered PRFs assumed).

    Parameters
    ----------
    radial_speed_m_s : target radial speed [m/s] (sign ignored)
    min_radial_speed_m_s : minimum detectable radial speed [m/s], >= 0 (0: no notch)
    n_pulses : pulses of the equivalent canceller [1], >= 2

    Returns
    -------
    power gain [1], in [0, 1].
    """
    vmin = _non_negative(min_radial_speed_m_s, "min_radial_speed_m_s")
    v = np.abs(np.asarray(radial_speed_m_s, dtype=float))
    n = int(n_pulses)
    if n < 2:
        raise ValueError(f"n_pulses must be >= 2, got {n_pulses!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(vmin > 0, v / np.where(vmin > 0, vmin, 1.0), np.inf)
    return _out(np.minimum(1.0, np.minimum(ratio, 1.0) ** (2 * (n - 1))))


def mti_improvement_factor(prf_hz, clutter_spread_hz, n_pulses=2):
    """MTI improvement factor of an N-pulse canceller against Gaussian clutter.

    ``I = 2 (f_r / (2 pi sigma_c))^2`` for a two-pulse and ``I = 2 (f_r / (2 pi sigma_c))^4``
    for a three-pulse canceller (Skolnik 2001, eqs. 3.19 and 3.20), with sigma_c the standard
    deviation of the clutter spectrum.

    Parameters
    ----------
    prf_hz : pulse repetition frequency [Hz], > 0
    clutter_spread_hz : standard deviation of the clutter Doppler spectrum [Hz], > 0
    n_pulses : 2 or 3

    Returns
    -------
    improvement factor [1, linear].
    """
    fr = _positive(prf_hz, "prf_hz")
    sc = _positive(clutter_spread_hz, "clutter_spread_hz")
    x = fr / (2.0 * np.pi * sc)
    if n_pulses == 2:
        return _out(2.0 * x**2)
    if n_pulses == 3:
        return _out(2.0 * x**4)
    raise ValueError(f"n_pulses must be 2 or 3, got {n_pulses!r}")


def signal_to_clutter_plus_noise(snr, cnr, improvement=1.0, target_gain=1.0):
    """Signal-to-clutter-plus-noise ratio after MTI/Doppler filtering.

    ``SINR = g S / (N + C / I) = g SNR / (1 + CNR / I)`` with ``I`` the improvement factor
    (ratio of signal-to-clutter after and before the filter, averaged over target speeds;
    Skolnik 2001, sec. 3.5) and ``g`` the filter's gain on this target
    (:func:`mti_notch_gain`). Residual clutter is treated as extra noise (Gaussian), which is the
    usual first-order treatment (Richards 2005, sec. 2.7).

    Parameters
    ----------
    snr, cnr : signal- and clutter-to-noise ratios [1], >= 0
    improvement : MTI improvement factor [1], >= 1
    target_gain : filter gain on the target [1], in [0, 1]

    Returns
    -------
    SINR [1, linear].
    """
    s = _non_negative(snr, "snr")
    c = _non_negative(cnr, "cnr")
    i = _positive(improvement, "improvement")
    g = _non_negative(target_gain, "target_gain")
    return _out(g * s / (1.0 + c / i))


# --------------------------------------------------------------------------- multipath


def roughness_factor(rms_height_m, grazing_rad, wavelength_m):
    """Specular scattering factor of a rough surface.

    ``rho_s = exp(-2 (2 pi sigma_h sin(psi) / lambda)^2)`` (Ament 1953; Skolnik 2001, sec. 8.2;
    Beckmann & Spizzichino 1963).

    Parameters
    ----------
    rms_height_m : RMS surface height deviation [m], >= 0
    grazing_rad : grazing angle of the reflected ray [rad]
    wavelength_m : [m], > 0

    Returns
    -------
    rho_s [1], in (0, 1].
    """
    sh = _non_negative(rms_height_m, "rms_height_m")
    lam = _positive(wavelength_m, "wavelength_m")
    g = 2.0 * np.pi * sh * np.sin(np.asarray(grazing_rad, float)) / lam
    return _out(np.exp(-2.0 * g * g))


def two_ray_propagation_factor_sq(h_radar_m, h_target_m, ground_range_m, wavelength_m, rho=1.0):
    """One-way pattern propagation factor F^2 of the flat-earth two-ray model.

    ``F^2 = 1 + rho^2 - 2 rho cos(4 pi h_r h_t / (lambda d))`` for a reflection coefficient
    ``-rho`` (phase pi, horizontal polarisation at low grazing angles; Blake 1986, ch. 6;
    Skolnik 2001, sec. 8.2, eq. 8.9 with rho = 1: F = 2 |sin(2 pi h_r h_t / (lambda d))|).

    Parameters
    ----------
    h_radar_m, h_target_m : antenna and target heights above the reflecting surface [m], >= 0
    ground_range_m : [m], > 0; wavelength_m : [m], > 0
    rho : magnitude of the reflection coefficient [1], in [0, 1]

    Returns
    -------
    F^2 [1], in [(1 - rho)^2, (1 + rho)^2].
    """
    hr = _non_negative(h_radar_m, "h_radar_m")
    ht = _non_negative(h_target_m, "h_target_m")
    d = _positive(ground_range_m, "ground_range_m")
    lam = _positive(wavelength_m, "wavelength_m")
    rho = np.asarray(rho, float)
    phase = 4.0 * np.pi * hr * ht / (lam * d)
    return _out(1.0 + rho * rho - 2.0 * rho * np.cos(phase))


def multipath_loss(h_radar_m, h_target_m, ground_range_m, wavelength_m, rho=1.0):
    """Two-way multipath loss factor F^4 <= 1 in the interference region below the first lobe.

    Below the first lobe maximum (path phase 4 pi h_r h_t / (lambda d) < pi) the two-ray factor
    F^2 (:func:`two_ray_propagation_factor_sq`) grows monotonically with target height from
    ``(1 - rho)^2``; there the two-way factor ``min(F^2, 1)^2`` is applied. Above it the lobes'
    gains and nulls are not credited (factor 1): the quoted detection ranges the radars are
    calibrated on already average over lobing, and the DEM does not resolve the reflecting surface
    well enough to place nulls.

    Returns
    -------
    two-way loss factor [1], in [(1 - rho)^4, 1], non-decreasing in target height.
    """
    hr = _non_negative(h_radar_m, "h_radar_m")
    ht = _non_negative(h_target_m, "h_target_m")
    d = _positive(ground_range_m, "ground_range_m")
    lam = _positive(wavelength_m, "wavelength_m")
    phase = 4.0 * np.pi * hr * ht / (lam * d)
    f2 = two_ray_propagation_factor_sq(hr, ht, d, lam, rho)
    f2 = np.where(phase < np.pi, np.minimum(f2, 1.0), 1.0)
    return _out(f2 * f2)
