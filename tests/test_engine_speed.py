"""The engine's allocation-free helpers give exactly what the numpy calls they replace give (the
engine's numbers must not move when its speed does)."""

import numpy as np

from iadsim.engine.kernel import stable_order


def test_stable_order_is_numpys_stable_argsort():
    rng = np.random.default_rng(0)
    for _ in range(2000):
        n = int(rng.integers(0, 48))              # above 32 entries: numpy's own result
        a = rng.integers(0, 5, n).astype(float)   # many ties
        a[rng.random(n) < 0.2] = np.nan
        a[rng.random(n) < 0.1] = -0.0
        a[rng.random(n) < 0.1] = 0.0
        buf = np.full(48, -7, np.int64)
        got = stable_order(a, n, buf)[:n]
        assert np.array_equal(got, np.argsort(a[:n], kind="mergesort"))


def test_stable_order_sorts_ascending_with_ties_in_index_order():
    a = np.array([3.0, -1.0, 3.0, 0.5, -1.0])
    assert stable_order(a, 5, np.empty(5, np.int64)).tolist() == [1, 4, 3, 0, 2]
