"""Radar range equation and single-look detection probability.

Pure, vectorised functions on SI floats and numpy arrays; every function accepts
scalars or arrays and broadcasts its arguments. SNR values are linear power
ratios ``[1]`` unless the name ends in ``_db``.

References
----------
- Skolnik, M. I. (2001). *Introduction to Radar Systems*, 3rd ed. McGraw-Hill.
  ISBN 0-07-290980-3.
- Richards, M. A. (2005). *Fundamentals of Radar Signal Processing*.
  McGraw-Hill. ISBN 0-07-144474-2.
- Marcum, J. I. (1960). A statistical theory of target detection by pulsed
  radar. IRE Trans. Inf. Theory IT-6(2), 59-267. doi:10.1109/TIT.1960.1057560
- Swerling, P. (1960). Probability of detection for fluctuating targets.
  IRE Trans. Inf. Theory IT-6(2), 269-308. doi:10.1109/TIT.1960.1057561
- Meyer, D. P. & Mayer, H. A. (1973). *Radar Target Detection: Handbook of
  Theory and Practice*. Academic Press.
- Albersheim, W. J. (1981). A closed-form approximation to Robertson's detection
  characteristics. Proc. IEEE 69(7), 839. doi:10.1109/PROC.1981.12082
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "DETECTION_MODELS",
    "db_to_linear",
    "linear_to_db",
    "snr_reference_form",
    "pd_swerling0",
    "pd_swerling1",
    "detection_probability",
    "snr_required",
    "albersheim_snr_db",
    "detection_probability_reference_form",
    "detection_range_m",
]


# --------------------------------------------------------------------------- helpers


def _out(x: np.ndarray):
    """Return a numpy scalar for 0-d results, the array otherwise."""
    x = np.asarray(x)
    return x[()] if x.ndim == 0 else x


def _positive(x: ArrayLike, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if np.any(a <= 0):
        raise ValueError(f"{name} must be > 0, got {x!r}")
    return a


def _non_negative(x: ArrayLike, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if np.any(a < 0):
        raise ValueError(f"{name} must be >= 0, got {x!r}")
    return a


def _open_unit(x: ArrayLike, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if np.any((a <= 0) | (a >= 1)):
        raise ValueError(f"{name} must lie in the open interval (0, 1), got {x!r}")
    return a


# --------------------------------------------------------------------------- dB


def db_to_linear(x_db: ArrayLike):
    """Convert a power ratio from decibels to linear.

    Parameters
    ----------
    x_db : power ratio [dB]

    Returns
    -------
    power ratio [1]; ``10 ** (x_db / 10)``.
    """
    return _out(np.power(10.0, np.asarray(x_db, dtype=float) / 10.0))


def linear_to_db(x: ArrayLike):
    """Convert a linear power ratio to decibels.

    Parameters
    ----------
    x : power ratio [1], >= 0 (0 gives -inf)

    Returns
    -------
    power ratio [dB]; ``10 log10(x)``.

    Raises
    ------
    ValueError if any ``x`` is negative.
    """
    a = _non_negative(x, "x (linear power ratio)")
    with np.errstate(divide="ignore"):
        return _out(10.0 * np.log10(a))


# --------------------------------------------------------------------------- range equation


def snr_reference_form(range_m, rcs_m2, ref_range_m, ref_rcs_m2, ref_snr):
    """Radar range equation in reference-range form.

    ``SNR = ref_snr * (rcs / ref_rcs) * (ref_range / range) ** 4``

    The monostatic radar equation (Skolnik 2001, eq. 2.1; Richards
    2005, eq. 2.17) gives ``SNR = P G^2 lambda^2 sigma / ((4 pi)^3 R^4 k T B F L)``.
    Everything except ``sigma / R^4`` is a property of the radar, so one published
    point ("detects ``ref_rcs_m2`` at ``ref_range_m``") calibrates it. Free-space
    propagation only: no multipath, atmospheric or terrain loss.

    Parameters
    ----------
    range_m : slant range to the target [m], > 0
    rcs_m2 : target radar cross section [m2], > 0
    ref_range_m : reference range [m], > 0
    ref_rcs_m2 : reference radar cross section [m2], > 0
    ref_snr : SNR at the reference range for the reference RCS [1, linear], >= 0

    Returns
    -------
    SNR [1, linear], broadcast over the arguments.
    """
    r = _positive(range_m, "range_m")
    s = _positive(rcs_m2, "rcs_m2")
    r0 = _positive(ref_range_m, "ref_range_m")
    s0 = _positive(ref_rcs_m2, "ref_rcs_m2")
    snr0 = _non_negative(ref_snr, "ref_snr")
    return _out(snr0 * (s / s0) * (r0 / r) ** 4)


# --------------------------------------------------------------------------- Pd models


def pd_swerling0(snr: ArrayLike, pfa: ArrayLike):
    """Single-pulse detection probability of a non-fluctuating target (Swerling 0 / Marcum).

    Square-law (equivalently envelope) detection of a constant-amplitude sinusoid in
    complex Gaussian noise (Marcum 1960; Skolnik 2001, ch. 2, Fig. 2.7;
    Richards 2005, ch. 6):

    ``Pd = Q1(sqrt(2 SNR), sqrt(-2 ln Pfa))``

    with Marcum's Q function ``Q1(a, b)`` = survival function of a noncentral
    chi-square with 2 degrees of freedom and noncentrality ``a**2`` at ``b**2``,
    evaluated with :data:`scipy.stats.ncx2`.

    Parameters
    ----------
    snr : single-pulse signal-to-noise ratio [1, linear], >= 0
    pfa : probability of false alarm [1], in (0, 1)

    Returns
    -------
    probability of detection [1], in [pfa, 1].
    """
    snr_a = _non_negative(snr, "snr")
    pfa_a = _open_unit(pfa, "pfa")
    threshold = -2.0 * np.log(pfa_a)
    finite = np.where(np.isinf(snr_a), 0.0, snr_a)
    from scipy.stats import ncx2  # SciPy is imported where needed: it is slow to import

    with np.errstate(invalid="ignore"):
        pd = ncx2.sf(threshold, 2, 2.0 * finite)
    # SciPy's ncx2.sf gives NaN for a noncentrality above ~1e20, where Pd is 1 to double precision
    pd = np.where(np.isinf(snr_a) | (finite > 1e15), 1.0, pd)
    # Q1(a, b) >= Q1(0, b) = Pfa exactly; clipping removes last-ulp noise of the
    # series near SNR = 0 so that Pd stays monotone in SNR.
    pd = np.where(snr_a == 0, pfa_a, np.clip(pd, pfa_a, 1.0))
    return _out(pd)


def pd_swerling1(snr: ArrayLike, pfa: ArrayLike):
    """Single-pulse detection probability of a Swerling 1 (Rayleigh-fluctuating) target.

    ``Pd = Pfa ** (1 / (1 + SNR))`` with ``SNR`` the mean SNR over the fluctuation
    (Swerling 1960, case 1 with one pulse; Meyer & Mayer 1973; Skolnik 2001,
    ch. 2, target fluctuations; Richards 2005, ch. 6). For a single pulse, Swerling 1 and 2 are
    the same.

    Parameters
    ----------
    snr : mean single-pulse signal-to-noise ratio [1, linear], >= 0
    pfa : probability of false alarm [1], in (0, 1)

    Returns
    -------
    probability of detection [1], in [pfa, 1].
    """
    snr_a = _non_negative(snr, "snr")
    pfa_a = _open_unit(pfa, "pfa")
    return _out(np.power(pfa_a, 1.0 / (1.0 + snr_a)))


_PD_MODELS = {
    "swerling0": pd_swerling0,
    "swerling1": pd_swerling1,
}
DETECTION_MODELS: tuple[str, ...] = tuple(_PD_MODELS)
"""Names accepted by the ``model`` argument of the detection functions."""


def _check_model(model: str) -> str:
    if model not in _PD_MODELS:
        raise ValueError(
            f"unknown detection model {model!r}; valid models are: "
            + ", ".join(repr(m) for m in DETECTION_MODELS)
        )
    return model


def detection_probability(snr: ArrayLike, pfa: ArrayLike, model: str = "swerling1"):
    """Single-look detection probability for a named target model.

    Dispatches to :func:`pd_swerling0` (``"swerling0"``, Marcum 1960) or
    :func:`pd_swerling1` (``"swerling1"``, Swerling 1960).

    Parameters
    ----------
    snr : single-pulse (mean) signal-to-noise ratio [1, linear], >= 0
    pfa : probability of false alarm [1], in (0, 1)
    model : one of :data:`DETECTION_MODELS`

    Returns
    -------
    probability of detection [1].

    Raises
    ------
    ValueError for an unknown model (the message lists the valid names) or invalid
    arguments.
    """
    return _PD_MODELS[_check_model(model)](snr, pfa)


# --------------------------------------------------------------------------- inverse


def _snr_required_swerling0_scalar(pd: float, pfa: float) -> float:
    if pd == pfa:
        return 0.0
    threshold = -2.0 * np.log(pfa)

    def f(snr: float) -> float:
        from scipy.stats import ncx2

        return float(ncx2.sf(threshold, 2, 2.0 * snr)) - pd

    hi = max(1.0, threshold)  # Pd(SNR = threshold) >= 0.5 for the Rician statistic
    while f(hi) < 0.0:
        hi *= 2.0
        if hi > 1e12:  # pd indistinguishable from 1 in double precision
            return np.inf
    from scipy.optimize import brentq

    return brentq(f, 0.0, hi, xtol=1e-13, rtol=4 * np.finfo(float).eps, maxiter=200)


def snr_required(pd: ArrayLike, pfa: ArrayLike, model: str = "swerling1"):
    """Single-pulse SNR needed to reach a detection probability (inverse of the Pd models).

    - ``"swerling1"``: closed form ``SNR = ln(Pfa) / ln(Pd) - 1`` (inverse of
      Swerling 1960 case 1, single pulse; Richards 2005, ch. 6).
    - ``"swerling0"``: root of ``Q1(sqrt(2 SNR), sqrt(-2 ln Pfa)) = Pd`` (Marcum 1960)
      found with :func:`scipy.optimize.brentq`, element by element over the unique
      ``(pd, pfa)`` pairs.

    Parameters
    ----------
    pd : probability of detection [1], in (0, 1) and >= pfa
    pfa : probability of false alarm [1], in (0, 1)
    model : one of :data:`DETECTION_MODELS`

    Returns
    -------
    required single-pulse (mean) SNR [1, linear]; 0 where ``pd == pfa``.
    """
    _check_model(model)
    pd_a = _open_unit(pd, "pd")
    pfa_a = _open_unit(pfa, "pfa")
    if np.any(pd_a < pfa_a):
        raise ValueError(
            f"pd must be >= pfa (at SNR = 0, Pd equals Pfa), got pd={pd!r}, pfa={pfa!r}"
        )
    pd_b, pfa_b = np.broadcast_arrays(pd_a, pfa_a)
    if model == "swerling1":
        return _out(np.log(pfa_b) / np.log(pd_b) - 1.0)
    # swerling0: scalar root finding on the unique pairs
    pairs = np.stack([pd_b.ravel(), pfa_b.ravel()], axis=-1)
    uniq, inverse = np.unique(pairs, axis=0, return_inverse=True)
    roots = np.array(
        [
            np.nan if np.isnan(p).any() else _snr_required_swerling0_scalar(p[0], p[1])
            for p in uniq
        ],
        dtype=float,
    )
    return _out(roots[np.ravel(inverse)].reshape(pd_b.shape))


def albersheim_snr_db(pd: ArrayLike, pfa: ArrayLike, n_pulses: ArrayLike = 1):
    """Albersheim's empirical equation for the required SNR per pulse.

    Albersheim (1981); Richards 2005, ch. 6 ("Albersheim's equation"):

    ``A = ln(0.62 / Pfa)``, ``B = ln(Pd / (1 - Pd))``,

    ``SNR_dB = -5 log10(N) + (6.2 + 4.54 / sqrt(N + 0.44)) log10(A + 0.12 A B + 1.7 B)``

    Non-fluctuating target, linear envelope detector, noncoherent integration of
    ``N`` pulses. Stated accuracy 0.2 dB for ``1e-7 <= Pfa <= 1e-3``,
    ``0.1 <= Pd <= 0.9``, ``1 <= N <= 8096``; outside that range the value is
    returned unchanged but is an extrapolation.

    Parameters
    ----------
    pd : probability of detection [1], in (0, 1)
    pfa : probability of false alarm [1], in (0, 1)
    n_pulses : number of noncoherently integrated pulses [1], >= 1

    Returns
    -------
    required single-pulse SNR [dB].
    """
    pd_a = _open_unit(pd, "pd")
    pfa_a = _open_unit(pfa, "pfa")
    n = np.asarray(n_pulses, dtype=float)
    if np.any(n < 1):
        raise ValueError(f"n_pulses must be >= 1, got {n_pulses!r}")
    a = np.log(0.62 / pfa_a)
    b = np.log(pd_a / (1.0 - pd_a))
    return _out(
        -5.0 * np.log10(n)
        + (6.2 + 4.54 / np.sqrt(n + 0.44)) * np.log10(a + 0.12 * a * b + 1.7 * b)
    )


def detection_probability_reference_form(
    range_m, rcs_m2, ref_range_m, ref_rcs_m2, ref_pd, pfa, model: str = "swerling1"
):
    """Pd of a radar quoted as "detects ``ref_rcs_m2`` at ``ref_range_m`` with ``ref_pd``".

    ``ref_snr = snr_required(ref_pd, pfa, model)``, then
    ``SNR = snr_reference_form(range_m, rcs_m2, ref_range_m, ref_rcs_m2, ref_snr)``
    (Skolnik 2001, eq. 2.1; Richards 2005, eq. 2.17) and
    ``Pd = detection_probability(SNR, pfa, model)``. By construction the result is
    exactly ``ref_pd`` at ``(ref_range_m, ref_rcs_m2)``.

    Parameters
    ----------
    range_m : slant range to the target [m], > 0
    rcs_m2 : target radar cross section [m2], > 0
    ref_range_m : quoted detection range [m], > 0
    ref_rcs_m2 : quoted target RCS [m2], > 0
    ref_pd : quoted detection probability at the reference point [1], in (0, 1), >= pfa
    pfa : probability of false alarm [1], in (0, 1)
    model : one of :data:`DETECTION_MODELS`

    Returns
    -------
    probability of detection [1], broadcast over the arguments.
    """
    _check_model(model)
    ref_snr = snr_required(ref_pd, pfa, model)
    snr = snr_reference_form(range_m, rcs_m2, ref_range_m, ref_rcs_m2, ref_snr)
    return detection_probability(snr, pfa, model)


def detection_range_m(rcs_m2, pd, ref_range_m, ref_rcs_m2, ref_pd, pfa, model: str = "swerling1"):
    """Range [m] at which a target of ``rcs_m2`` [m2] is detected with probability ``pd`` [1],
    for a radar quoted as "detects ``ref_rcs_m2`` at ``ref_range_m`` with ``ref_pd``".

    Inverting the reference-form radar equation (Skolnik 2001, eq. 2.1):
    ``R = ref_range * ((rcs / ref_rcs) * ref_snr / snr_required(pd))**(1/4)`` with
    ``ref_snr = snr_required(ref_pd, pfa, model)``. Beyond this range Pd < ``pd``.
    """
    _check_model(model)
    rcs = _positive(rcs_m2, "rcs_m2")
    ref_r = _positive(ref_range_m, "ref_range_m")
    ref_s = _positive(ref_rcs_m2, "ref_rcs_m2")
    ref_snr = snr_required(ref_pd, pfa, model)
    need = snr_required(pd, pfa, model)
    return _out(ref_r * ((rcs / ref_s) * ref_snr / need) ** 0.25)
