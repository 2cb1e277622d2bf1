"""The bulk seeding of iadsim.engine.rng gives numpy's own numbers: SeedSequence's words
(numpy.random.SeedSequence.generate_state) and PCG64's first uniforms (Generator.random), for
many replications at once. The engine's results depend on these being bit-identical."""

import numpy as np
import pytest

from iadsim.engine.parameters import _draw, _triangular_draws
from iadsim.engine.rng import pcg64_uniforms, replication_keys, seed_sequence_words

SEEDS = [0, 1, 24, 20261125, 2**32 - 1, 2**32, 2**40 + 5, 2**63 - 1]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("suffix", [(), (1,), (1, 1)])
def test_seed_sequence_words_and_uniforms_are_numpys(seed, suffix):
    for first in (0, 977, 2**31):
        keys = [(first + j, *suffix) for j in range(40)]
        ref = np.array([np.random.SeedSequence(seed, spawn_key=k).generate_state(2, np.uint64) for k in keys])
        assert seed_sequence_words(seed, keys, 2).tobytes() == ref.tobytes()
        refu = np.array([np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=k))).random(9)
                         for k in keys])
        assert pcg64_uniforms(seed, keys, 9).tobytes() == refu.tobytes()


def test_keys_of_mixed_word_lengths_fall_back_to_numpy():
    # replication 2**32 - 1 has one 32-bit word, 2**32 two: not one array, so numpy key by key
    assert seed_sequence_words(5, [(2**32 - 1,), (2**32,)], 2) is None
    got = replication_keys(5, 2**32 - 1, 2)
    ref = np.array([np.random.SeedSequence(5, spawn_key=(i,)).generate_state(2, np.uint64)
                    for i in (2**32 - 1, 2**32)])
    assert got.tobytes() == ref.tobytes()


def test_triangular_draws_match_numpys_one_by_one():
    class Fig:
        def __init__(self, low, value, high):
            self.low, self.value, self.high, self.calibrated = low, value, high, None

    # a range, a zero-width range (no draw), a mode at either end, a wide and a narrow range
    figs = [Fig(1.0, 2.0, 3.0), Fig(4.0, 4.0, 4.0), Fig(0.1, 0.1, 0.5), Fig(10.0, 30.0, 30.0),
            Fig(-1e3, 2.5e2, 7e3), Fig(0.81, 0.85, 0.86)]
    got = _triangular_draws(11, 300, 64, figs, False)
    ref = np.array([[_draw(rng, f) for f in figs] for rng in
                    (np.random.Generator(np.random.PCG64(np.random.SeedSequence(11, spawn_key=(300 + j, 1))))
                     for j in range(64))])
    assert got.tobytes() == ref.tobytes()
    assert np.all(got[:, 1] == 4.0) and np.all((got[:, 0] >= 1.0) & (got[:, 0] <= 3.0))
