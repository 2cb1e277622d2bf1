"""Statistics and result tables."""

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from iadsim.results import mean_interval, wilson_interval


@pytest.mark.parametrize(
    "k, n, lo, hi",
    [
        # Newcombe, R. G. (1998), "Two-sided confidence intervals for the single proportion:
        # comparison of seven methods", Statistics in Medicine 17:857-872, Table II, method 3
        # (Wilson score interval without continuity correction).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
        (29, 29, 0.8830, 1.0000),
    ],
)
def test_wilson_matches_newcombe_1998(k, n, lo, hi):
    got_lo, got_hi = wilson_interval(k, n)
    assert got_lo == pytest.approx(lo, abs=6e-5)
    assert got_hi == pytest.approx(hi, abs=6e-5)


def test_wilson_vectorised_and_bounded():
    k = np.arange(0, 51)
    lo, hi = wilson_interval(k, 50)
    assert np.all((0 <= lo) & (lo <= k / 50) & (k / 50 <= hi) & (hi <= 1))
    assert np.all(np.isnan(wilson_interval(0, 0)[0]))


def test_mean_interval_covers_mean():
    x = np.random.default_rng(1).normal(3.0, 1.0, 400)
    m, lo, hi = mean_interval(x)
    assert lo < m < hi
    # half-width ~ t * s / sqrt(n) = 1.966 * 1 / 20
    assert hi - lo == pytest.approx(2 * 1.966 * x.std(ddof=1) / 20, rel=1e-3)


def test_mean_interval_is_cut_at_the_support():
    """A count with mostly zeros: the Student-t interval would go below zero; the reported one stops
    at zero, and the upper bound is the uncut one."""
    x = np.array([0.0] * 30 + [4.0, 6.0])
    m, lo_free, hi_free = mean_interval(x)
    assert lo_free < 0.0
    m2, lo, hi = mean_interval(x, support=(0.0, np.inf))
    assert (m2, lo, hi) == (m, 0.0, hi_free)
    # a fraction near one is cut at one
    f = np.array([1.0] * 30 + [0.0])
    assert mean_interval(f, support=(0.0, 1.0))[2] == 1.0 < mean_interval(f)[2]


def test_effector_table_intervals_stay_within_zero_and_max(small_results):
    """Shots expended are counts: the table's interval stops at zero (a unit that rarely fires
    used to show a negative lower bound) and brackets the mean."""
    et = small_results.effector_table()
    assert len(et)
    assert (et.lo >= 0.0).all() and (et.lo <= et.mean_missiles).all() and (et.mean_missiles <= et.hi).all()
    assert (et.mean_missiles <= et.max_missiles).all()


def test_replication_table_columns_and_consistency(small_results):
    df = small_results.replications
    need = {"replication", "threat", "detected_at_s", "first_engaged_at_s", "shots", "killed", "kill_time_s",
            "kill_lat", "kill_lon", "leaked"}
    assert need <= set(df.columns)
    assert len(df) == small_results.n * len(small_results.world.threat_labels)
    # a threat is never both killed and leaked; kills come after first engagement
    assert not (df.killed & df.leaked).any()
    k = df[df.killed]
    assert (k.kill_time_s > k.first_engaged_at_s).all()
    assert (k.first_engaged_at_s >= k.detected_at_s).all()
    assert k.kill_lat.notna().all() and df[~df.killed].kill_lat.isna().all()
    # shots per replication equal missiles expended per replication
    shots = df.groupby("replication").shots.sum()
    spent = small_results.expenditure.groupby("replication").missiles.sum()
    pd.testing.assert_series_equal(shots, spent, check_names=False)


def test_summary_and_parquet_roundtrip(small_results, tmp_path):
    p = small_results.write_parquet(tmp_path / "r.parquet")
    back = pq.read_table(p)
    meta = json.loads(back.schema.metadata[b"iadsim"])
    assert meta["seed"] == small_results.seed and meta["replications"] == small_results.n
    pd.testing.assert_frame_equal(back.to_pandas(), small_results.replications, check_dtype=False)
    s = json.loads(small_results.write_summary(tmp_path / "s.json").read_text())
    assert s["fidelity"] == "fast" and s["replications"] == small_results.n
    for t in s["threats"]:
        assert 0 <= t["p_kill_lo"] <= t["p_kill"] <= t["p_kill_hi"] <= 1
    assert not list(tmp_path.glob("*.part"))


def test_threat_ranking_orders_by_peak_urgency(small_results):
    r = small_results.threat_ranking()
    assert sorted(r.urgency_rank) == list(range(1, len(r) + 1))
    top = r.sort_values("urgency_rank").peak_urgency_per_s.to_numpy()
    assert np.all(np.diff(top) <= 0)
    assert {"urgency_rank", "peak_urgency_per_s"} <= set(small_results.summary["threats"][0])
