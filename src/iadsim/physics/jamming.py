"""Noise jamming of a search radar: jamming-to-signal ratio, signal-to-interference ratio,
burn-through range, and the loss of measurement accuracy it causes.

All functions are vectorised over numpy arrays and work in SI units; powers are linear [W],
gains and ratios linear [1] unless a name says ``_db``.

The radar equation for the target echo and the one-way equation for the jammer's noise received
by the radar give (Adamy, *EW 101: A First Course in Electronic Warfare*, 2001, ch. 9 "jamming";
Schleher, *Electronic Warfare in the Information Age*, 1999; the echo term is Skolnik,
*Introduction to Radar Systems*, 3rd ed. 2001, eq. 2.1)::

    S = Pt Gt Gr lambda^2 sigma / ((4 pi)^3 Rt^4)          echo power at the radar receiver
    J = Pj Gj Gr' lambda^2 / ((4 pi)^2 Rj^2) x b x gamma    jamming power in the receiver's band

    J/S = (Pj Gj / (Pt Gt)) x (4 pi Rt^4 / (sigma Rj^2)) x (Gr' / Gr) x b x gamma / E

with Pt Gt the radar's effective radiated power (ERP) and Pj Gj the jammer's, Rt the range of
the target and Rj the range of the jammer from the radar, Gr'/Gr the radar antenna's receive gain
toward the jammer relative to its main lobe (1 when the jammer is in the main beam, the sidelobe
level otherwise), b = min(1, Br / Bj) the part of a barrage jammer's noise bandwidth Bj that falls
into the radar receiver's bandwidth Br, gamma the polarisation loss of the jammer against the
radar (0.5 for a circularly polarised jammer against a linearly polarised radar) and E >= 1 the
radar's ECCM improvement factor (processing gain against noise jamming: frequency agility,
sidelobe blanking or cancelling, pulse compression beyond the noise bandwidth), which divides J/S.
Self-screening (the jammer on the target, Rj = Rt, main lobe) reduces this to::

    J/S = Pj Gj 4 pi Rt^2 b gamma / (Pt Gt sigma E)

In Adamy's decibel form (ERP in dBm, ranges in km, RCS in m^2) this is
``J/S = 71 + ERP_J - ERP_S + 20 log Rt - 10 log sigma`` for self-protection and
``J/S = 71 + ERP_J - ERP_S + 40 log Rt - 20 log Rj - 10 log sigma`` for stand-off jamming; the
constant 71 dB is 10 log(4 pi) + 60 dB (km^2 to m^2).

The burn-through range is the target range at which the echo again exceeds the jamming by the
ratio ``sj_required`` the radar needs (S/J = 1 when none is given):

    self-screening:  Rbt^2 = Pt Gt sigma E / (4 pi Pj Gj b gamma (S/J)req)
    stand-off:       Rbt^4 = Pt Gt sigma Rj^2 E / (4 pi Pj Gj (Gr'/Gr) b gamma (S/J)req)

(solve J/S = 1 / (S/J)req for Rt in the equation above).

With jamming the radar detects on the signal-to-noise-plus-interference ratio S / (N + C + J)
(noise and jamming are both Gaussian noise in the receiver; the jammer's noise adds to the
thermal noise). If SINR0 = S / (N + C) is the ratio without jamming, ``1 / SINR = 1 / SINR0 +
J / S``.

Leaves out: deception jamming (false targets, range or velocity gate pull-off), home-on-jam
weapons, the jammer's antenna pattern and its power shared among several radars, frequency
agility other than through the ECCM factor, the radar's own jam strobe (angle on the jammer),
and atmospheric or multipath effects on the jammer's path.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from iadsim.physics._checks import _non_negative, _out, _positive

__all__ = [
    "bandwidth_factor",
    "burn_through_range_self_screen_m",
    "burn_through_range_stand_off_m",
    "jamming_to_signal",
    "jamming_to_signal_db_adamy",
    "measurement_sigma_factor",
    "relative_receive_gain",
    "signal_to_interference",
]

FOUR_PI = 4.0 * np.pi


def bandwidth_factor(radar_bandwidth_hz: ArrayLike, jammer_bandwidth_hz: ArrayLike):
    """The part of a noise jammer's power inside the radar receiver's band [1]:
    ``min(1, Br / Bj)`` (Adamy 2001, ch. 9; Schleher 1999): a barrage jammer spreading its
    power over Bj > Br loses Br / Bj; a spot jammer narrower than the receiver loses nothing."""
    br = _positive(radar_bandwidth_hz, "radar_bandwidth_hz")
    bj = _positive(jammer_bandwidth_hz, "jammer_bandwidth_hz")
    return _out(np.minimum(1.0, br / bj))


def relative_receive_gain(off_axis_rad: ArrayLike, beamwidth_rad: ArrayLike, sidelobe_db: ArrayLike):
    """The radar antenna's receive gain toward a jammer relative to its main-lobe peak [1].

    A Gaussian main lobe ``exp(-4 ln 2 theta^2 / theta_3dB^2)`` (Mahafza 2000, sec. 8.2) floored at
    the average sidelobe level ``10^(sidelobe_db / 10)`` (sidelobe_db <= 0 [dB], e.g. -30): the
    jammer is received through the main beam when it lies within about a beamwidth of the target
    the radar looks at, through the sidelobes otherwise.
    """
    th = np.abs(np.asarray(off_axis_rad, dtype=float))
    bw = _positive(beamwidth_rad, "beamwidth_rad")
    sl = np.asarray(sidelobe_db, dtype=float)
    if np.any(sl > 0):
        raise ValueError(f"sidelobe_db must be <= 0 dB, got {sidelobe_db!r}")
    main = np.exp(-4.0 * np.log(2.0) * th * th / (bw * bw))
    return _out(np.maximum(main, 10.0 ** (sl / 10.0)))


def jamming_to_signal(jammer_erp_w: ArrayLike, radar_erp_w: ArrayLike, rcs_m2: ArrayLike,
                      target_range_m: ArrayLike, jammer_range_m: ArrayLike, gain_ratio: ArrayLike = 1.0,
                      band_factor: ArrayLike = 1.0, polarisation_factor: ArrayLike = 1.0,
                      eccm_factor: ArrayLike = 1.0):
    """Jamming-to-signal ratio J/S [1] at a radar receiver (module docstring; Adamy 2001, ch. 9).

    Parameters
    ----------
    jammer_erp_w : jammer effective radiated power toward the radar, Pj Gj [W]
    radar_erp_w : radar effective radiated power, Pt Gt [W]
    rcs_m2 : target radar cross-section [m^2]
    target_range_m, jammer_range_m : ranges of target and jammer from the radar [m]
    gain_ratio : radar receive gain toward the jammer relative to the main lobe, Gr'/Gr [1]
    band_factor : min(1, Br / Bj) [1] (:func:`bandwidth_factor`)
    polarisation_factor : gamma in (0, 1] [1]
    eccm_factor : the radar's ECCM improvement E >= 1 [1]; divides J/S
    """
    pj = _non_negative(jammer_erp_w, "jammer_erp_w")
    pt = _positive(radar_erp_w, "radar_erp_w")
    sig = _positive(rcs_m2, "rcs_m2")
    rt = _positive(target_range_m, "target_range_m")
    rj = _positive(jammer_range_m, "jammer_range_m")
    g = _non_negative(gain_ratio, "gain_ratio")
    b = _non_negative(band_factor, "band_factor")
    pol = _non_negative(polarisation_factor, "polarisation_factor")
    e = _positive(eccm_factor, "eccm_factor")
    return _out((pj / pt) * (FOUR_PI * rt**4 / (sig * rj**2)) * g * b * pol / e)


def jamming_to_signal_db_adamy(jammer_erp_dbm: ArrayLike, radar_erp_dbm: ArrayLike, target_range_km: ArrayLike,
                               jammer_range_km: ArrayLike, rcs_m2: ArrayLike):
    """J/S [dB] in Adamy's engineering form (Adamy, *EW 101*, 2001, ch. 9 "radar jamming"):
    ``71 + ERP_J - ERP_S + 40 log Rt - 20 log Rj - 10 log sigma`` (ERP [dBm], ranges [km],
    sigma [m^2]); with Rj = Rt it is the self-protection form ``71 + ERP_J - ERP_S + 20 log Rt -
    10 log sigma``. Main-lobe jamming, matched bandwidth, no polarisation loss."""
    rt = _positive(target_range_km, "target_range_km")
    rj = _positive(jammer_range_km, "jammer_range_km")
    sig = _positive(rcs_m2, "rcs_m2")
    return _out(71.0 + np.asarray(jammer_erp_dbm, float) - np.asarray(radar_erp_dbm, float)
                + 40.0 * np.log10(rt) - 20.0 * np.log10(rj) - 10.0 * np.log10(sig))


def burn_through_range_self_screen_m(radar_erp_w: ArrayLike, jammer_erp_w: ArrayLike, rcs_m2: ArrayLike,
                                     band_factor: ArrayLike = 1.0, polarisation_factor: ArrayLike = 1.0,
                                     eccm_factor: ArrayLike = 1.0, sj_required: ArrayLike = 1.0):
    """Burn-through range [m] against a self-screening jammer (module docstring):
    ``Rbt^2 = Pt Gt sigma E / (4 pi Pj Gj b gamma (S/J)req)``; inside it S/J >= (S/J)req."""
    pt = _positive(radar_erp_w, "radar_erp_w")
    pj = _positive(jammer_erp_w, "jammer_erp_w")
    sig = _positive(rcs_m2, "rcs_m2")
    b = _positive(band_factor, "band_factor")
    pol = _positive(polarisation_factor, "polarisation_factor")
    e = _positive(eccm_factor, "eccm_factor")
    x = _positive(sj_required, "sj_required")
    return _out(np.sqrt(pt * sig * e / (FOUR_PI * pj * b * pol * x)))


def burn_through_range_stand_off_m(radar_erp_w: ArrayLike, jammer_erp_w: ArrayLike, rcs_m2: ArrayLike,
                                   jammer_range_m: ArrayLike, gain_ratio: ArrayLike = 1.0,
                                   band_factor: ArrayLike = 1.0, polarisation_factor: ArrayLike = 1.0,
                                   eccm_factor: ArrayLike = 1.0, sj_required: ArrayLike = 1.0):
    """Burn-through range [m] of a target screened by a stand-off (or escort) jammer at a fixed
    range ``jammer_range_m`` [m] seen with relative receive gain ``gain_ratio`` (module docstring):
    ``Rbt^4 = Pt Gt sigma Rj^2 E / (4 pi Pj Gj (Gr'/Gr) b gamma (S/J)req)``."""
    pt = _positive(radar_erp_w, "radar_erp_w")
    pj = _positive(jammer_erp_w, "jammer_erp_w")
    sig = _positive(rcs_m2, "rcs_m2")
    rj = _positive(jammer_range_m, "jammer_range_m")
    g = _positive(gain_ratio, "gain_ratio")
    b = _positive(band_factor, "band_factor")
    pol = _positive(polarisation_factor, "polarisation_factor")
    e = _positive(eccm_factor, "eccm_factor")
    x = _positive(sj_required, "sj_required")
    return _out((pt * sig * rj**2 * e / (FOUR_PI * pj * g * b * pol * x)) ** 0.25)


def signal_to_interference(sinr_no_jamming: ArrayLike, js: ArrayLike):
    """Signal-to-noise-plus-clutter-plus-jamming ratio [1]: ``1 / (1 / SINR0 + J/S)``, SINR0 =
    S / (N + C) without jamming (noise jamming adds to the receiver noise; Schleher 1999). Zero where
    SINR0 is zero (the target is not seen); never above SINR0."""
    s0 = _non_negative(sinr_no_jamming, "sinr_no_jamming")
    j = _non_negative(js, "js")
    with np.errstate(divide="ignore"):
        out = np.where(s0 > 0, s0 / (1.0 + s0 * j), 0.0)
    return _out(out)


def measurement_sigma_factor(sinr_clear: ArrayLike, sinr_jammed: ArrayLike):
    """By how much jamming widens a radar's range and angle measurement errors [1].

    The theoretical accuracy of a range or angle measurement is inversely proportional to
    ``sqrt(2 E / N0)``, i.e. to the square root of the signal-to-noise ratio (Skolnik 2001,
    ch. 6, the accuracies delta-T_R and delta-theta; for angle sigma = theta_3dB / (k_m sqrt(2 SNR))).
    A catalog 1-sigma error quoted for the unjammed radar therefore grows by
    ``sqrt(SINR_clear / SINR_jammed)`` >= 1 under jamming."""
    c = _positive(sinr_clear, "sinr_clear")
    j = _positive(sinr_jammed, "sinr_jammed")
    return _out(np.sqrt(np.maximum(c / j, 1.0)))
