"""Argument checks shared by the physics modules (values as arrays, scalars back as scalars)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def _out(x):
    x = np.asarray(x)
    return x[()] if x.ndim == 0 else x


def _positive(x: ArrayLike, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if np.any(~(a > 0)):
        raise ValueError(f"{name} must be > 0, got {x!r}")
    return a


def _non_negative(x: ArrayLike, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if np.any(~(a >= 0)):
        raise ValueError(f"{name} must be >= 0, got {x!r}")
    return a
