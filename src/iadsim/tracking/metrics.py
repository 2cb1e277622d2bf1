"""Multi-target performance metric: the OSPA distance.

The optimal sub-pattern assignment (OSPA) distance of order ``p`` and cut-off ``c`` between
point sets ``X`` (``m`` points) and ``Y`` (``n`` points), ``m <= n`` (Schuhmacher, Vo & Vo 2008,
eq. (3))::

    d_p^(c)(X, Y) = ( (1/n) ( min_pi sum_{i<=m} min(c, |x_i - y_pi(i)|)^p + c^p (n - m) ) )^(1/p)

It is 0 for two empty sets, ``c`` when exactly one is empty, and mixes localisation error and
cardinality error (each missing or false track costs ``c``) in one number [m].

Reference: Schuhmacher, D., Vo, B.-T. & Vo, B.-N. (2008). A consistent metric for
performance evaluation of multi-object filters. *IEEE Trans. Signal Process.* 56(8),
3447-3457. doi:10.1109/TSP.2008.920469
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["ospa"]


def ospa(X: ArrayLike, Y: ArrayLike, c: float, p: float = 1.0) -> float:
    """OSPA distance between two point sets ``[m, d]`` and ``[n, d]`` [m].

    Parameters
    ----------
    X, Y : points (e.g. track and truth positions) [m].
    c : cut-off [m], > 0.
    p : order, >= 1.
    """
    if not c > 0:
        raise ValueError(f"c (OSPA cut-off) must be > 0, got {c!r}")
    if not p >= 1:
        raise ValueError(f"p (OSPA order) must be >= 1, got {p!r}")
    X = np.asarray(X, dtype=float).reshape(len(X), -1) if len(X) else np.empty((0, 1))
    Y = np.asarray(Y, dtype=float).reshape(len(Y), -1) if len(Y) else np.empty((0, 1))
    m, n = len(X), len(Y)
    if m == 0 and n == 0:
        return 0.0
    if m == 0 or n == 0:
        return float(c)
    D = np.minimum(np.linalg.norm(X[:, None, :] - Y[None, :, :], axis=-1), c) ** p
    from scipy.optimize import linear_sum_assignment  # SciPy is imported where needed

    r, k = linear_sum_assignment(D)
    return float(((D[r, k].sum() + c**p * abs(n - m)) / max(m, n)) ** (1.0 / p))
