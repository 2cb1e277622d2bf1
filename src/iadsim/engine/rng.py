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
#: decoy identification per radar look (iadsim.engine.ew); a number far from the others in use
STREAM_DECOY_ID = 41
#: a threat weapon arriving at a site (iadsim.engine.sites): one draw per weapon, keyed by its member index
STREAM_SITE = 47

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
    bulk = seed_sequence_words(seed, [(first + j,) for j in range(count)], 2)
    if bulk is not None:
        return bulk
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


# numpy's SeedSequence (O'Neill's seed_seq hash, numpy.random.bit_generator) and the seeding and
# output of its PCG64 (O'Neill 2014, "PCG: A family of simple fast space-efficient statistically
# good algorithms for random number generation", HMC-CS-2014-0905; XSL-RR 128/64 with numpy's
# multiplier), computed for many spawn keys at once on uint arrays: the same words numpy gives,
# without building one SeedSequence object per replication (tests/test_rng_bulk.py compares them).
_U32 = np.uint32
_INIT_A, _MULT_A = _U32(0x43B0D7E5), _U32(0x931E8875)
_INIT_B, _MULT_B = _U32(0x8B51F9DD), _U32(0x58F38DED)
_MIX_L, _MIX_R = _U32(0xCA01F9DD), _U32(0x4973F715)
_X16 = _U32(16)
_POOL = 4
_MASK32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_PCG_MULT_HI = np.uint64(0x2360ED051FC65DA4)
_PCG_MULT_LO = np.uint64(0x4385DF649FCCF645)


def _words32(value: int) -> list[int]:
    """numpy's split of a non-negative integer into 32-bit words, least significant first."""
    if value == 0:
        return [0]
    out = []
    while value:
        out.append(value & 0xFFFFFFFF)
        value >>= 32
    return out


def seed_sequence_words(seed: int, spawn_keys: list[tuple[int, ...]], n_words64: int) -> np.ndarray | None:
    """``SeedSequence(seed, spawn_key=key).generate_state(n_words64, np.uint64)`` for every key,
    as [len(keys), n_words64] uint64; None where the keys do not share one entropy length (the
    caller then asks numpy key by key)."""
    run = _words32(int(seed))
    if len(run) < _POOL:
        run = run + [0] * (_POOL - len(run))
    spawn = [[w for v in key for w in _words32(int(v))] for key in spawn_keys]
    if not spawn or len({len(s) for s in spawn}) != 1:
        return None
    n = len(spawn)
    ent = np.empty((len(run) + len(spawn[0]), n), dtype=_U32)
    ent[: len(run)] = np.array(run, dtype=_U32)[:, None]
    ent[len(run):] = np.array(spawn, dtype=_U32).T
    with np.errstate(over="ignore"):
        hc = [_INIT_A]

        def hashmix(value):
            value = value ^ hc[0]
            hc[0] = hc[0] * _MULT_A
            value = value * hc[0]
            return value ^ (value >> _X16)

        def mix(x, y):
            r = _MIX_L * x - _MIX_R * y
            return r ^ (r >> _X16)

        zero = np.zeros(n, dtype=_U32)
        pool = [hashmix(ent[i] if i < ent.shape[0] else zero) for i in range(_POOL)]
        for i_src in range(_POOL):
            for i_dst in range(_POOL):
                if i_src != i_dst:
                    pool[i_dst] = mix(pool[i_dst], hashmix(pool[i_src]))
        for i_src in range(_POOL, ent.shape[0]):
            for i_dst in range(_POOL):
                pool[i_dst] = mix(pool[i_dst], hashmix(ent[i_src]))
        hb = _INIT_B
        out = np.empty((n, 2 * n_words64), dtype=_U32)
        for i in range(2 * n_words64):
            v = pool[i % _POOL] ^ hb
            hb = hb * _MULT_B
            v = v * hb
            out[:, i] = v ^ (v >> _X16)
    return out.astype("<u4").view("<u8").astype(np.uint64)


def _mul64(a, b):
    """Full 128-bit products of uint64 arrays: (high, low)."""
    a0, a1 = a & _MASK32, a >> _S32
    b0, b1 = b & _MASK32, b >> _S32
    p00, p01, p10, p11 = a0 * b0, a0 * b1, a1 * b0, a1 * b1
    mid = (p00 >> _S32) + (p01 & _MASK32) + (p10 & _MASK32)
    return p11 + (p01 >> _S32) + (p10 >> _S32) + (mid >> _S32), (p00 & _MASK32) | (mid << _S32)


def _pcg_step(hi, lo, inc_hi, inc_lo):
    """One step of the 128-bit LCG, state * multiplier + increment (mod 2**128)."""
    ph, pl = _mul64(lo, _PCG_MULT_LO)
    ph = ph + lo * _PCG_MULT_HI + hi * _PCG_MULT_LO
    nl = pl + inc_lo
    return ph + inc_hi + (nl < pl).astype(np.uint64), nl


def pcg64_uniforms(seed: int, spawn_keys: list[tuple[int, ...]], n: int) -> np.ndarray | None:
    """[len(keys), n]: the first n ``Generator(PCG64(SeedSequence(seed, spawn_key=key))).random()``
    values of every key (numpy's next_double: the top 53 bits of each 64-bit output); None where
    :func:`seed_sequence_words` gives none."""
    w = seed_sequence_words(seed, spawn_keys, 4)
    if w is None:
        return None
    with np.errstate(over="ignore"):
        # pcg64_set_seed: state (w0 high, w1 low), stream (w2 high, w3 low); srandom: inc = 2 seq + 1,
        # state = 0, step, state += initstate, step
        inc_hi = (w[:, 2] << np.uint64(1)) | (w[:, 3] >> np.uint64(63))
        inc_lo = (w[:, 3] << np.uint64(1)) | np.uint64(1)
        zero = np.zeros(len(spawn_keys), dtype=np.uint64)
        hi, lo = _pcg_step(zero, zero, inc_hi, inc_lo)
        nl = lo + w[:, 1]
        hi, lo = hi + w[:, 0] + (nl < lo).astype(np.uint64), nl
        hi, lo = _pcg_step(hi, lo, inc_hi, inc_lo)
        out = np.empty((len(spawn_keys), n), dtype=np.float64)
        for j in range(n):
            hi, lo = _pcg_step(hi, lo, inc_hi, inc_lo)
            x = hi ^ lo
            rot = hi >> np.uint64(58)
            x = (x >> rot) | (x << ((np.uint64(64) - rot) & np.uint64(63)))
            out[:, j] = (x >> np.uint64(11)).astype(np.float64) * INV53
    return out
