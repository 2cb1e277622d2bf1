"""Statistics for Monte Carlo outcomes."""

from __future__ import annotations

import numpy as np


def wilson_interval(successes, n, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion [1].

    Wilson, E. B. (1927), "Probable inference, the law of succession, and statistical
    inference", JASA 22(158):209-212, doi:10.1080/01621459.1927.10502953; method 3 in
    Newcombe (1998), Statistics in Medicine 17:857-872. Well behaved at 0 and n, unlike the
    normal (Wald) interval. Returns (low, high); NaN where n == 0.
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    from scipy import stats

    z = stats.norm.ppf(0.5 + confidence / 2.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1.0 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
        low = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
        high = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    # exact endpoints at the boundaries
    low = np.where((k == 0) & (n > 0), 0.0, low)
    high = np.where((k == n) & (n > 0), 1.0, high)
    return low, high


def mean_interval(x, confidence: float = 0.95, *,
                  support: tuple[float, float] = (-np.inf, np.inf)) -> tuple[float, float, float]:
    """Mean and its normal-approximation confidence interval (Student t) of a sample.

    ``support`` is the range the quantity can take (a count of missiles or a time is never
    negative: ``(0, inf)``; a fraction ``(0, 1)``); the interval is cut at it, so a sample of
    mostly zeros does not report a negative lower bound. The normal approximation is poor near
    such a bound: read the cut interval as "at most ..." there.

    >>> m, lo, hi = mean_interval([0, 0, 0, 0, 0, 0, 0, 3], support=(0, np.inf))
    >>> (round(m, 3), lo, round(hi, 3))
    (0.375, 0.0, 1.262)
    """
    x = np.asarray(x, dtype=float)
    n = x.size
    m = float(x.mean()) if n else float("nan")
    if n < 2:
        return m, m, m
    se = float(x.std(ddof=1)) / np.sqrt(n)
    from scipy import stats

    t = stats.t.ppf(0.5 + confidence / 2.0, n - 1)
    lo, hi = support
    return m, float(np.clip(m - t * se, lo, hi)), float(np.clip(m + t * se, lo, hi))


def poisson_rate_interval(k: int, exposure: float, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood 1936) interval of a Poisson rate: k events in ``exposure`` units of time.

    Garwood, F. (1936), "Fiducial limits for the Poisson distribution", Biometrika 28:437-442;
    lower chi2(a/2, 2k)/2, upper chi2(1-a/2, 2k+2)/2, divided by the exposure."""
    from scipy import stats

    a = 1.0 - confidence
    lo = stats.chi2.ppf(a / 2, 2 * k) / 2.0 if k > 0 else 0.0
    hi = stats.chi2.ppf(1 - a / 2, 2 * k + 2) / 2.0
    return float(lo / exposure), float(hi / exposure)
