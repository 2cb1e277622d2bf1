"""Physics and engine invariants as property tests (hypothesis).

- detection range grows with target RCS and with radar power (the quoted reference range stands
  for power: SNR is proportional to power, so the reference range scales as power^(1/4));
- nothing is seen through terrain: a wall between radar and target hides it, adding terrain
  never reveals anything, and visibility only improves with altitude;
- on randomised small scenarios (seeds, doctrine, fire discipline, speeds, altitudes, salvo
  sizes, magazines, uncertainty sampling): an intercept never precedes its launch, magazines
  never go negative, a threat killed stays killed, and every probability stays in [0, 1].

The radar and terrain tests complement tests/test_physics_radar.py and tests/test_coverage.py
(which check Pd itself, and targets below their own cell's ground).
"""

from __future__ import annotations

import copy
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import small_scenario_dict
from iadsim.catalog import load_catalog
import iadsim.coverage.los as los
from iadsim.coverage.los import visible_at
from iadsim.geo.grid import LocalGrid
from iadsim.geo.terrain import Terrain, synthetic_elevation
from iadsim.physics.radar import DETECTION_MODELS, detection_probability_reference_form, detection_range_m

CATALOG = load_catalog()

# --------------------------------------------------------------------------- radar

rcs_st = st.floats(1e-4, 1e3)
ref_range_st = st.floats(1e3, 5e5)
pfa_st = st.floats(1e-10, 1e-3)
model_st = st.sampled_from(DETECTION_MODELS)


@st.composite
def radar(draw):
    """A radar quoted as "detects ref_rcs at ref_range with ref_pd", and a Pd to ask for."""
    pfa = draw(pfa_st)
    ref_pd = draw(st.floats(0.1, 0.99).filter(lambda p: p > pfa * 10))
    pd = draw(st.floats(0.1, 0.99).filter(lambda p: p > pfa * 10))
    return dict(ref_range_m=draw(ref_range_st), ref_rcs_m2=draw(st.floats(0.01, 100.0)), ref_pd=ref_pd, pfa=pfa,
                pd=pd, model=draw(model_st))


@settings(max_examples=150, deadline=None)
@given(r=radar(), a=rcs_st, b=rcs_st)
def test_detection_range_grows_with_rcs(r, a, b):
    assume(abs(a - b) > 1e-9 * max(a, b))
    lo, hi = sorted((a, b))
    kw = dict(ref_range_m=r["ref_range_m"], ref_rcs_m2=r["ref_rcs_m2"], ref_pd=r["ref_pd"], pfa=r["pfa"],
              model=r["model"])
    r_lo = detection_range_m(lo, r["pd"], **kw)
    r_hi = detection_range_m(hi, r["pd"], **kw)
    assert 0 < r_lo < r_hi
    # the R^4 law of the radar equation (Skolnik 2001, eq. 2.1): range ~ RCS^(1/4)
    assert r_hi / r_lo == pytest.approx((hi / lo) ** 0.25, rel=1e-9)


@settings(max_examples=150, deadline=None)
@given(r=radar(), rcs=rcs_st, gain=st.floats(1.0001, 1e4))
def test_detection_range_grows_with_power(r, rcs, gain):
    """``gain`` x the transmitter power: the reference range grows by gain^(1/4), so does every
    detection range, and Pd at any fixed range never drops."""
    kw = dict(ref_rcs_m2=r["ref_rcs_m2"], ref_pd=r["ref_pd"], pfa=r["pfa"], model=r["model"])
    base = detection_range_m(rcs, r["pd"], ref_range_m=r["ref_range_m"], **kw)
    more = detection_range_m(rcs, r["pd"], ref_range_m=r["ref_range_m"] * gain ** 0.25, **kw)
    assert more > base and more / base == pytest.approx(gain ** 0.25, rel=1e-9)
    ranges = np.geomspace(r["ref_range_m"] / 20, r["ref_range_m"] * 100, 25)
    p0 = detection_probability_reference_form(ranges, rcs, r["ref_range_m"], **kw)
    p1 = detection_probability_reference_form(ranges, rcs, r["ref_range_m"] * gain ** 0.25, **kw)
    assert np.all((p0 >= 0) & (p0 <= 1) & (p1 >= 0) & (p1 <= 1))
    assert np.all(p1 >= p0 - 1e-12)


@settings(max_examples=150, deadline=None)
@given(r=radar(), rcs=rcs_st, ranges=st.lists(st.floats(0.05, 1e3), min_size=2, max_size=20))
def test_pd_falls_with_range_and_stays_a_probability(r, rcs, ranges):
    rng = np.sort(np.array(ranges)) * r["ref_range_m"]  # from 1/20 to 1000 x the quoted range
    p = detection_probability_reference_form(rng, rcs, r["ref_range_m"], r["ref_rcs_m2"], r["ref_pd"], r["pfa"],
                                             model=r["model"])
    assert np.all(np.isfinite(p)) and np.all((p >= r["pfa"] * (1 - 1e-9)) & (p <= 1.0))
    assert np.all(np.diff(p) <= 1e-12)


@pytest.mark.parametrize("snr", [1e20, 1e25, 1e300])
def test_pd_at_very_high_snr_is_one(snr):
    """scipy's ncx2.sf returns NaN at a noncentrality above ~1e20: Swerling 0 Pd must still be 1
    (a target very close to the radar)."""
    from iadsim.physics.radar import detection_probability

    for model in DETECTION_MODELS:
        assert detection_probability(snr, 1e-6, model) == pytest.approx(1.0)


# --------------------------------------------------------------------------- terrain

N = 36
RES = 250.0
K_VALUES = st.sampled_from([0.5, 4.0 / 3.0, 4.0, np.inf])
#: the line-of-sight algorithms (the default first); each must keep the invariants
METHODS = tuple(getattr(los, "METHODS", (None,)))


def min_visible_altitude(t, x, y, z, k, method):
    kw = {} if method is None else {"method": method}
    return los.min_visible_altitude(t, x, y, z, k=k, **kw)


@lru_cache(maxsize=None)
def _base(seed: int) -> np.ndarray:
    return synthetic_elevation((N, N), res_m=RES, seed=seed, base_m=100.0, relief_m=800.0, n_hills=8)


def _terrain(z: np.ndarray) -> Terrain:
    g = LocalGrid(30.0, 10.0, -N / 2 * RES, N / 2 * RES, RES, N, N)
    return Terrain(g, z.astype(np.float32))


def _centre(t: Terrain, row: int, col: int) -> tuple[float, float]:
    return float(t.grid.x_centers()[col]), float(t.grid.y_centers()[row])


@pytest.mark.parametrize("method", METHODS)
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 7), ant_col=st.integers(0, 8), ant_row=st.integers(0, N - 1),
       wall_col=st.integers(12, 20), mast=st.floats(2.0, 3000.0), k=K_VALUES, data=st.data())
def test_a_wall_hides_what_is_behind_it(method, seed, ant_col, ant_row, wall_col, mast, k, data):
    """A wall across the whole grid between radar and targets: nothing behind it below its top is
    visible, whatever the terrain, antenna, refraction or target position. The wall is three cells
    thick: the grid represents terrain by its cell centres, and a ridge one cell wide crossed at
    an angle can fall between the points a line-of-sight algorithm samples
    (test_a_one_cell_ridge_crossed_at_an_angle)."""
    z = _base(seed).copy()
    wall = 20_000.0
    z[:, wall_col - 1: wall_col + 2] = wall
    t = _terrain(z)
    x0, y0 = _centre(t, ant_row, ant_col)
    z0 = float(t.height_at(x0, y0)) + mast
    mva = min_visible_altitude(t, x0, y0, z0, k, method)
    # targets anywhere behind the wall, below its top (less the earth's drop over the grid, < 20 m)
    rows = data.draw(st.lists(st.integers(0, N - 1), min_size=1, max_size=20))
    cols = data.draw(st.lists(st.integers(wall_col + 2, N - 1), min_size=len(rows), max_size=len(rows)))
    fx = data.draw(st.lists(st.floats(-0.5, 0.5), min_size=len(rows), max_size=len(rows)))
    xs = np.array([t.grid.x_centers()[c] for c in cols]) + np.array(fx) * RES * 0.9
    xs = np.maximum(xs, t.grid.x_centers()[wall_col + 1] + RES)  # behind the wall's last centre
    ys = np.array([t.grid.y_centers()[r] for r in rows])
    alts = data.draw(st.lists(st.floats(-100.0, wall - 200.0), min_size=len(rows), max_size=len(rows)))
    assert not visible_at(mva, t, xs, ys, np.array(alts)).any()


@pytest.mark.parametrize("method", METHODS)
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 7), ant=st.tuples(st.integers(0, N - 1), st.integers(0, N - 1)),
       mast=st.floats(2.0, 2000.0), k=K_VALUES,
       bump=st.tuples(st.integers(0, N - 1), st.integers(0, N - 1), st.integers(1, 6), st.floats(1.0, 3000.0)))
def test_more_terrain_never_reveals_anything(method, seed, ant, mast, k, bump):
    """Raising the ground anywhere (the antenna's altitude kept) never lowers the minimum visible
    altitude anywhere: terrain only ever hides."""
    z = _base(seed)
    t0 = _terrain(z)
    x0, y0 = _centre(t0, *ant)
    z0 = float(t0.height_at(x0, y0)) + mast
    r, c, w, h = bump
    z1 = z.copy()
    z1[max(r - w, 0): r + w, max(c - w, 0): c + w] += np.float32(h)
    # the antenna stays above the raised ground (a bump over the site that buries the antenna is
    # not a terrain that "only hides": the ray origin is inside the ground)
    assume(z0 > float(_terrain(z1).height_at(x0, y0)) + 1.0)
    before = min_visible_altitude(t0, x0, y0, z0, k, method)
    after = min_visible_altitude(_terrain(z1), x0, y0, z0, k, method)
    assert np.all(after >= before - 1e-2)


@pytest.mark.parametrize("method", METHODS)
@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 7), ant=st.tuples(st.integers(0, N - 1), st.integers(0, N - 1)),
       mast=st.floats(2.0, 2000.0), k=K_VALUES,
       pts=st.lists(st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.floats(-500.0, 5000.0),
                              st.floats(0.0, 3000.0)), min_size=1, max_size=30))
def test_visibility_only_improves_with_altitude_and_never_below_ground(method, seed, ant, mast, k, pts):
    t = _terrain(_base(seed))
    g = t.grid
    x0, y0 = _centre(t, *ant)
    mva = min_visible_altitude(t, x0, y0, float(t.height_at(x0, y0)) + mast, k, method)
    x = np.array([g.xmin + p[0] * (g.xmax - g.xmin) for p in pts])
    y = np.array([g.ymin + p[1] * (g.ymax - g.ymin) for p in pts])
    h = np.array([p[2] for p in pts])
    dh = np.array([p[3] for p in pts])
    low = visible_at(mva, t, x, y, h)
    high = visible_at(mva, t, x, y, h + dh)
    assert np.all(high | ~low)
    ground = t.height_at(x, y)
    assert not visible_at(mva, t, x, y, ground - 0.5).any()


@pytest.mark.parametrize("method", METHODS)
def test_a_one_cell_ridge_crossed_at_an_angle(method):
    """A ridge one cell wide crossed at an angle hides what is behind it: `rays` is exact on the
    bilinear surface, and the sweep is exact within 64 cells of the antenna (its exact zone, which
    this grid lies in); beyond that zone the sweep can miss such a ridge
    (docs/coverage-accuracy.md; tests/test_coverage_exact.py)."""
    z = _base(0).copy()
    z[:, 16] = 20_000.0
    t = _terrain(z)
    x0, y0 = _centre(t, 23, 0)
    mva = min_visible_altitude(t, x0, y0, float(t.height_at(x0, y0)) + 2.0, 0.5, method)
    x, y = _centre(t, 0, 17)
    assert not visible_at(mva, t, x, y, 15_486.0)


# --------------------------------------------------------------------------- the engine


@st.composite
def scenarios(draw) -> tuple[dict, int]:
    """A randomised variant of the small synthetic scenario, and a seed."""
    d = small_scenario_dict()
    d["simulation"]["duration_s"] = draw(st.sampled_from([600, 900, 1200]))
    d["simulation"]["dt_s"] = draw(st.sampled_from([0.5, 1.0, 2.0]))
    d["simulation"]["track_latency_s"] = draw(st.floats(0.0, 10.0))
    d["simulation"]["uncertainty"] = draw(st.sampled_from(["nominal", "sample"]))
    for e in d["effectors"]:
        salvo = draw(st.integers(1, 3))
        e["doctrine"] = {
            "mode": draw(st.sampled_from(["shoot-look-shoot", "salvo"])), "salvo_size": salvo,
            "max_engagements": draw(st.integers(1, 4)), "kill_assessment_s": draw(st.floats(0.0, 10.0)),
            "min_launch_interval_s": draw(st.floats(0.0, 5.0)),
            "fire": draw(st.sampled_from(["free", "free", "tight", "hold"])),
        }
        e["missiles"] = draw(st.one_of(st.none(), st.integers(salvo, 12)))
        e["reloads"] = draw(st.integers(0, 6))
        e["vehicles"] = draw(st.integers(1, 2))
    for thr in d["threats"]:
        thr["count"] = draw(st.integers(1, 4))
        thr["spacing_s"] = draw(st.floats(0.0, 30.0))
        thr["speed_m_s"] = draw(st.floats(30.0, 300.0))
        thr["altitude_m"] = draw(st.floats(50.0, 6000.0))
        thr["altitude_ref"] = draw(st.sampled_from(["agl", "msl"]))
        # random MSL altitudes may lie below the hills: fly at ground level there, as asked for
        thr["clamp"] = "ground"
        thr["launch_time_s"] = draw(st.floats(0.0, 120.0))
    return d, draw(st.integers(0, 2**32))


@pytest.fixture(scope="module")
def dem_dir(synthetic_dem):
    return synthetic_dem.parent


def _ready_per_replication(res, seed: int) -> np.ndarray:
    """[R, E] ready missiles of every replication (sampled ones under uncertainty: sample)."""
    try:
        from iadsim.engine import chunk_parameters

        return np.asarray(chunk_parameters(res.world, seed, 0, res.n).ready)
    except ImportError:  # an engine without per-replication parameters
        return np.broadcast_to(np.asarray(res.world.ready), (res.n, len(res.world.effector_labels)))


def _check_timeline(tl: pd.DataFrame) -> None:
    for threat, ev in tl.groupby("threat"):
        ev = ev.sort_values("time_s", kind="stable")
        launches = ev[ev.event == "launch"].time_s.to_numpy()
        outcomes = ev[ev.event.isin(["kill", "miss"])].time_s.to_numpy()
        # every intercept has a launch before it (the n-th intercept after the n-th launch)
        assert len(outcomes) <= len(launches)
        assert np.all(outcomes > launches[: len(outcomes)]), (threat, ev)
        kills = ev[ev.event == "kill"]
        assert len(kills) <= 1, (threat, ev)  # killed once
        if len(kills):
            t_kill = kills.time_s.iloc[0]
            # a threat killed stays killed: nothing happens to it from then on but the arrival of
            # missiles already in flight (misses)
            later = ev[(ev.time_s >= t_kill) & ev.event.isin(["launch", "leak", "detect", "track", "lost"])]
            assert later.empty, (threat, ev)
            assert not (ev.event == "leak").any()
    for unit, ev in tl[tl.event.isin(["launch", "kill", "miss"])].groupby("unit"):
        ev = ev.sort_values("time_s", kind="stable")
        n_out = np.cumsum(ev.event.isin(["kill", "miss"]).to_numpy())
        n_launch = np.cumsum((ev.event == "launch").to_numpy())
        assert np.all(n_out <= n_launch), (unit, ev)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=scenarios())
def test_engine_invariants_on_random_scenarios(dem_dir, case):
    import iadsim
    from iadsim.scenario.loader import scenario_from_dict

    data, seed = case
    ld = scenario_from_dict(copy.deepcopy(data), source="random.yaml", base_dir=dem_dir, catalog=CATALOG)
    res = iadsim.simulate(ld, replications=24, seed=seed)
    r, w = res.raw, res.world
    det, firm, eng, kill, leak = r.det_step, r.firm_step, r.eng_step, r.kill_step, r.leak_step
    killed = kill >= 0

    # a threat killed stays killed: it never also leaks
    assert not np.any(killed & (leak >= 0))
    # an intercept never precedes its launch, a launch never its track, a track never its detection
    assert np.all(kill[killed] > eng[killed]) and np.all(r.shots[killed] > 0)
    engaged = eng >= 0
    assert np.all(firm[engaged] <= eng[engaged]) and np.all(det[engaged] <= firm[engaged])
    assert np.all((r.shots > 0) == engaged)
    assert np.all((r.killer >= 0) == killed)
    # magazines never go negative: missiles fired <= ready + reloads, per replication and unit
    ready = _ready_per_replication(res, seed)
    reloads = np.array([e.reloads for e in ld.scenario.effectors])
    # (a gun-missile unit's expended counts its guns' bursts too, from their own magazine)
    bursts = r.bursts if r.bursts is not None else np.zeros_like(r.expended)
    gun_mag = w.second_weapon.bursts if w.second_weapon is not None else np.zeros(r.expended.shape[1], np.int64)
    assert np.all(bursts >= 0) and np.all(bursts <= gun_mag[None, :])
    missiles = r.expended - bursts
    assert np.all(missiles >= 0) and np.all(missiles <= ready + reloads[None, :])
    assert np.array_equal(r.shots.sum(axis=1), r.expended.sum(axis=1))
    hold = [i for i, e in enumerate(ld.scenario.effectors) if e.doctrine.fire == "hold"]
    assert np.all(r.expended[:, hold] == 0)
    # probabilities stay in [0, 1], intervals around them
    tt = res.threat_table()
    for p, lo, hi in (("p_kill", "p_kill_lo", "p_kill_hi"), ("p_leak", "p_leak_lo", "p_leak_hi")):
        assert tt[p].between(0, 1).all() and (tt[lo] <= tt[p] + 1e-12).all() and (tt[p] <= tt[hi] + 1e-12).all()
        assert tt[lo].between(0, 1).all() and tt[hi].between(0, 1).all()
    assert tt.p_detected.between(0, 1).all() and ((tt.p_kill + tt.p_leak) <= 1 + 1e-12).all()
    at = res.asset_table()
    assert at.p_survive.between(0, 1).all() and (at.lo <= at.p_survive + 1e-12).all()
    assert (at.p_survive <= at.hi + 1e-12).all()
    pk = np.asarray(w.pk)
    assert np.all((pk >= 0) & (pk <= 1))
    # the recorded replication's timeline is causal
    _check_timeline(res.timeline)
