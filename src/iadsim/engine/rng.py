"""Counter-based random numbers for the compiled engine.

Replication *i* takes two 64-bit keys from its own ``numpy.random.SeedSequence`` child
(``SeedSequence(seed, spawn_key=(i,))``, the same child ``SeedSequence(seed).spawn`` gives).
Every draw is a pure function of (keys, stream, counters), hashed with the SplitMix64
finaliser (Steele, Lea & Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014,
doi:10.1145/2660193.2660195). Draws therefore do not depend on the order in which
replications, chunks or workers run: results are bit-identical on every backend.
"""

from __future__ import annotations

import numba
import numpy as np

STREAM_DETECT = 1
STREAM_KILL = 2

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
INV53 = 1.0 / 9007199254740992.0


def replication_keys(seed: int, first: int, count: int) -> np.ndarray:
    """Keys [count, 2] (uint64) of replications first .. first+count-1."""
    out = np.empty((count, 2), dtype=np.uint64)
    for j in range(count):
        out[j] = np.random.SeedSequence(seed, spawn_key=(first + j,)).generate_state(2, np.uint64)
    return out


@numba.njit(cache=True, inline="always")
def mix64(z):
    """The SplitMix64 finaliser: a bijective 64-bit mix."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@numba.njit(cache=True, inline="always")
def unit_float(h):
    """The top 53 bits of the 64-bit ``h`` as a float in [0, 1)."""
    return np.float64(h >> _S11) * INV53


@numba.njit(cache=True)
def uniform(k0, k1, stream, a, b, c):
    """A uniform draw in [0, 1) from keys (k0, k1) and integer counters (stream, a, b, c)."""
    h = mix64(k0 ^ mix64(np.uint64(stream) * GOLDEN + np.uint64(a)))
    h = mix64(h ^ k1 ^ mix64(np.uint64(b) * GOLDEN + np.uint64(c)))
    return unit_float(h)
