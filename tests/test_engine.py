"""Engine: determinism across backends and chunking, invariants, and analytic checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

import iadsim
from iadsim.engine.rng import replication_keys, uniform
from iadsim.physics.engagement import cumulative_pk, expected_shots_shoot_look_shoot


def _run(ld, **kw):
    return iadsim.simulate(ld, **kw)


def test_same_seed_same_numbers_any_chunking_and_backend(small_scenario):
    a = _run(small_scenario, replications=48, seed=11, chunk_size=48)
    b = _run(small_scenario, replications=48, seed=11, chunk_size=7)
    c = _run(small_scenario, replications=48, seed=11, chunk_size=12, workers=2)
    pd.testing.assert_frame_equal(a.replications, b.replications)
    pd.testing.assert_frame_equal(a.replications, c.replications)
    pd.testing.assert_frame_equal(a.expenditure, c.expenditure)
    pd.testing.assert_frame_equal(a.timeline, c.timeline)


def test_replication_i_does_not_depend_on_run_size(small_scenario):
    a = _run(small_scenario, replications=20, seed=5)
    b = _run(small_scenario, replications=40, seed=5)
    pd.testing.assert_frame_equal(a.replications, b.replications[b.replications.replication < 20]
                                  .reset_index(drop=True))


def test_different_seeds_differ(small_scenario):
    a = _run(small_scenario, replications=64, seed=1).replications
    b = _run(small_scenario, replications=64, seed=2).replications
    assert not a.equals(b)


def test_rng_is_uniform_and_keyed():
    keys = replication_keys(123, 0, 2)
    u = np.array([uniform(keys[0, 0], keys[0, 1], 1, i, 0, 0) for i in range(20000)])
    assert 0.0 <= u.min() and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 4 * np.sqrt(1 / 12 / u.size)
    # a different replication key gives a different stream
    v = np.array([uniform(keys[1, 0], keys[1, 1], 1, i, 0, 0) for i in range(100)])
    assert not np.allclose(u[:100], v)
    # keys equal those of SeedSequence(seed).spawn(n)[i]
    child = np.random.SeedSequence(123).spawn(2)[1].generate_state(2, np.uint64)
    assert np.array_equal(keys[1], child)


def test_invariants(small_results):
    r = small_results.raw
    w = small_results.world
    # magazines never go negative: expended <= ready + reloads
    assert np.all(r.expended <= (w.ready + w.reloads)[None, :])
    killed = r.kill_step >= 0
    assert not np.any(killed & (r.leak_step >= 0))
    # a kill happens after a launch at that threat, and after it was detected
    assert np.all(r.shots[killed] > 0)
    assert np.all(r.kill_step[killed] > r.eng_step[killed])
    assert np.all(r.det_step[killed] >= 0)


def test_timeline_is_causal(small_results):
    tl = small_results.timeline
    assert len(tl) > 0
    for threat, ev in tl.groupby("threat"):
        ev = ev.sort_values("time_s", kind="stable")
        launches = ev[ev.event == "launch"].time_s.to_numpy()
        outcomes = ev[ev.event.isin(["kill", "miss"])].time_s.to_numpy()
        assert len(outcomes) <= len(launches)
        # the n-th intercept never precedes the n-th launch
        assert np.all(outcomes > launches[: len(outcomes)])
        kills = ev[ev.event == "kill"]
        if len(kills):
            # a threat killed stays killed: no launch, detection or leak after its kill
            later = ev[(ev.time_s > kills.time_s.iloc[0]) & ev.event.isin(["launch", "leak", "detect"])]
            assert later.empty


def _crossing_scenario(small_dir, doctrine: dict, reps_dt=1.0) -> iadsim.scenario.LoadedScenario:
    """A Shahed flying straight over a Tor-M2 at 300 m above ground: long inside the envelope,
    always in sight, so the kill probability is set by doctrine and Pk alone."""
    data = {
        "schema_version": 1, "name": "crossing",
        "terrain": {"dem": "dem.tif", "resolution_m": 400, "margin_km": 2},
        "simulation": {"duration_s": 1500, "dt_s": reps_dt, "track_latency_s": 2},
        "assets": [{"name": "base", "lat": 10.05, "lon": 20.2}],
        "effectors": [{"name": "tor", "system": "tor_m2", "site": {"lat": 10.2, "lon": 20.2, "height_m": 400},
                       "doctrine": doctrine}],
        "threats": [{"name": "owa", "type": "shahed_136", "altitude_m": 3000, "altitude_ref": "msl",
                     "route": [{"lat": 10.38, "lon": 20.2}, {"lat": 10.02, "lon": 20.2}]}],
    }
    (small_dir / "crossing.yaml").write_text(yaml.safe_dump(data))
    return iadsim.load_scenario(small_dir / "crossing.yaml")


def _neutral_pk(ld, beta: float = 0.0, range_cap_km: float | None = None):
    """Make the Tor's kill probability the catalog's reference Pk everywhere in its envelope (no
    range, aspect or speed effect) with common-cause factor beta, for the analytic checks.
    ``range_cap_km`` replaces the public maximum range (a cap above the flyout's reach leaves the
    flyout's energy and time limits as the range limit)."""
    from iadsim.catalog import Figure

    figs = ld.catalog["tor_m2"].figures
    if range_cap_km is not None:
        figs["engagement_range_max_km"] = Figure(value=range_cap_km, unit="km", source="test",
                                                 confidence="estimate")
    for key, v in (("pk_edge_factor", 1.0), ("pk_aspect_loss", 0.0), ("pk_speed_ratio_full", 1.01),
                   ("pk_common_cause_beta", beta)):
        figs[key] = Figure(value=v, unit="1", source="test: neutral Pk model", confidence="estimate")
    return ld


def test_shoot_look_shoot_matches_analytic(small_dir):
    # With n independent shots of single-shot Pk p fired one at a time until a kill,
    # P(kill) = 1 - (1-p)^n and E[shots] = (1 - (1-p)^n) / p
    # (Washburn & Kress, Combat Modeling, Springer 2009, ch. 2; Przemieniecki 2000).
    ld = _neutral_pk(_crossing_scenario(small_dir, {"mode": "shoot-look-shoot", "max_engagements": 2,
                                                    "kill_assessment_s": 3}))
    res = iadsim.simulate(ld, replications=3000, seed=3)
    p = ld.catalog["tor_m2"].nominal("pk_single_shot")
    df = res.replications
    assert (df.shots > 0).all(), "the geometry must allow at least one shot in every replication"
    n = len(df)
    pk_exp = float(cumulative_pk(p, 2))
    shots_exp = float(expected_shots_shoot_look_shoot(p, 2))
    assert df.killed.mean() == pytest.approx(pk_exp, abs=4 * np.sqrt(pk_exp * (1 - pk_exp) / n))
    sd = np.sqrt(p * (1 - p))  # shots = 1 + Bernoulli(1-p)
    assert df.shots.mean() == pytest.approx(shots_exp, abs=4 * sd / np.sqrt(n))


def test_salvo_spends_more_for_the_same_kill_probability(small_dir):
    # A salvo of 2 fired once has the same P(kill) = 1-(1-p)^2 as shoot-look-shoot with two
    # engagements, but always spends 2 missiles instead of 1 + (1-p) on average.
    ld = _neutral_pk(_crossing_scenario(small_dir, {"mode": "salvo", "salvo_size": 2, "max_engagements": 1}))
    res = iadsim.simulate(ld, replications=3000, seed=4)
    p = ld.catalog["tor_m2"].nominal("pk_single_shot")
    df = res.replications
    assert (df.shots == 2).all()
    pk_exp = 1 - (1 - p) ** 2
    assert df.killed.mean() == pytest.approx(pk_exp, abs=4 * np.sqrt(pk_exp * (1 - pk_exp) / len(df)))


def test_correlated_salvo_matches_the_beta_factor_model(small_dir):
    # A salvo of 2 whose failures share a common cause with beta = 0.4: P(kill) = 1 - (c + (1-c) q_i^2),
    # c = beta q, q_i = (q - c) / (1 - c) (Fleming 1975; NUREG/CR-4780 sec. 3.3.1), below the
    # independent 1 - q^2.
    from iadsim.physics.pk import salvo_kill_probability

    ld = _neutral_pk(_crossing_scenario(small_dir, {"mode": "salvo", "salvo_size": 2, "max_engagements": 1}),
                     beta=0.4)
    res = iadsim.simulate(ld, replications=4000, seed=5)
    p = ld.catalog["tor_m2"].nominal("pk_single_shot")
    df = res.replications
    assert (df.shots == 2).all()
    pk_exp = float(salvo_kill_probability(p, 2, 0.4))
    assert pk_exp < 1 - (1 - p) ** 2 - 0.02
    assert df.killed.mean() == pytest.approx(pk_exp, abs=4 * np.sqrt(pk_exp * (1 - pk_exp) / len(df)))


def test_fire_discipline_hold_never_fires(small_dir):
    ld = _crossing_scenario(small_dir, {"fire": "hold"})
    res = iadsim.simulate(ld, replications=50, seed=1)
    assert res.replications.shots.sum() == 0
    assert res.replications.leaked.all()


def test_fire_tight_ignores_threats_without_target(small_dir):
    ld = _crossing_scenario(small_dir, {"fire": "tight"})  # the crossing drone has no target
    res = iadsim.simulate(ld, replications=50, seed=1)
    assert res.replications.shots.sum() == 0


def test_magazine_limits_shots(small_dir):
    ld = _crossing_scenario(small_dir, {"mode": "shoot-look-shoot", "max_engagements": 10})
    ld.scenario.effectors[0].missiles = 1
    res = iadsim.simulate(ld, replications=200, seed=2)
    assert res.replications.shots.max() == 1


def _with_uncertainty(small_dir, mode: str):
    data = yaml.safe_load((small_dir / "scenario.yaml").read_text())
    data["simulation"]["uncertainty"] = mode
    (small_dir / f"u_{mode}.yaml").write_text(yaml.safe_dump(data))
    return iadsim.load_scenario(small_dir / f"u_{mode}.yaml")


def test_sampled_figures_stay_in_their_ranges_and_do_not_depend_on_chunking(small_dir):
    from iadsim.engine import compile_world
    from iadsim.engine.parameters import sampled

    ld = _with_uncertainty(small_dir, "sample")
    world = compile_world(ld)
    whole = sampled(world, 9, 0, 40)
    part = sampled(world, 9, 25, 15)
    for k, v in whole.draws.items():
        np.testing.assert_array_equal(v[25:], part.draws[k])
        fig = next(u.figure for u in world.figures if (u.system, u.key) == k)
        assert np.all((fig.low <= v) & (v <= fig.high)), k
        if fig.low < fig.high:
            assert np.unique(v).size > 1, f"{k} was not sampled"
    # the pk drawn for the Tor reaches the kernel's array for its fire unit
    np.testing.assert_array_equal(whole.pk[:, 0], whole.draws[("tor_m2", "pk_single_shot")])


def test_sampling_uncertainty_is_deterministic_and_moves_the_numbers(small_dir):
    ld = _with_uncertainty(small_dir, "sample")
    a = iadsim.simulate(ld, replications=48, seed=3, chunk_size=48)
    b = iadsim.simulate(ld, replications=48, seed=3, chunk_size=5, workers=2)
    pd.testing.assert_frame_equal(a.replications, b.replications)
    nominal = iadsim.simulate(_with_uncertainty(small_dir, "nominal"), replications=48, seed=3)
    assert not a.replications.equals(nominal.replications)
    assert a.summary["uncertainty"] == "sample"


def test_sampling_with_fixed_figures_reproduces_nominal(small_dir):
    """Fixing every sampled figure at its nominal value gives exactly the nominal run."""
    from iadsim.engine import compile_world, simulate_chunk
    from iadsim.engine.parameters import sampled

    world = compile_world(_with_uncertainty(small_dir, "sample"))
    p = sampled(world, 1, 0, 16)
    fixed = {k: np.full(16, next(u.figure.value for u in world.figures if (u.system, u.key) == k))
             for k in p.draws}
    p_fixed = sampled(world, 1, 0, 16, fixed=fixed)
    got = simulate_chunk(world, 1, 0, 16, params=p_fixed)
    from iadsim.engine.parameters import nominal

    ref = simulate_chunk(world, 1, 0, 16, params=nominal(world, 16))
    np.testing.assert_array_equal(got.kill_step, ref.kill_step)
    np.testing.assert_array_equal(got.det_step, ref.det_step)
    np.testing.assert_array_equal(got.expended, ref.expended)


def test_policies_agree_where_the_choice_is_forced_and_differ_where_not(small_dir):
    """With one fire unit and one threat every policy must fire the same shots. With two fire
    units and one threat the choice is free: "urgency" gives a track one unit per decision,
    while greedy and vlns (maximum marginal return, and its optimum here) put every free unit
    on it (a second unit still lowers the expected surviving value), so they fire more."""
    doctrine = {"mode": "shoot-look-shoot", "max_engagements": 2}
    ld = _crossing_scenario(small_dir, doctrine)
    runs = {p: iadsim.simulate(ld, replications=20, seed=5, policy=p).replications
            for p in ("urgency", "greedy", "vlns")}
    for p in ("greedy", "vlns"):
        pd.testing.assert_frame_equal(runs["urgency"], runs[p])
    assert runs["urgency"].shots.sum() > 0

    data = yaml.safe_load((small_dir / "crossing.yaml").read_text())
    second = dict(data["effectors"][0], name="tor-2",
                  site={"lat": 10.2, "lon": 20.21, "height_m": 400})
    data["effectors"].append(second)
    (small_dir / "crossing2.yaml").write_text(yaml.safe_dump(data))
    ld2 = iadsim.load_scenario(small_dir / "crossing2.yaml")
    two = {p: iadsim.simulate(ld2, replications=20, seed=5, policy=p).replications
           for p in ("urgency", "greedy", "vlns")}
    pd.testing.assert_frame_equal(two["greedy"], two["vlns"])
    assert not two["urgency"].equals(two["greedy"])
    assert two["greedy"].shots.mean() > two["urgency"].shots.mean()


def test_user_registered_policy_is_used(small_scenario):
    from iadsim.c2.wta import WTASolution, objective, register_policy, unregister_policy

    calls = []

    def hold_fire(problem, *, time_limit_s=None, seed=0):
        calls.append(problem.m)
        x = np.zeros((problem.m, problem.n), dtype=np.int64)
        return WTASolution(x=x, objective=objective(problem, x), lower_bound=None, proven_optimal=False,
                           time_s=0.0, policy="hold_fire")

    register_policy("hold_fire", hold_fire)
    try:
        res = iadsim.simulate(small_scenario, replications=4, seed=1, policy="hold_fire")
    finally:
        unregister_policy("hold_fire")
    assert calls, "the engine must consult the policy"
    assert res.replications.shots.sum() == 0
    assert res.summary["policy"] == "hold_fire"


def test_unknown_policy_is_an_input_error(small_scenario):
    with pytest.raises(iadsim.InputError, match="simulation.policy"):
        iadsim.simulate(small_scenario, replications=2, policy="no-such-policy")


@pytest.mark.parametrize("method", ["sweep", "planes"])
def test_the_run_uses_the_scenario_line_of_sight_method(small_dir, method):
    # terrain.line_of_sight picks the algorithm of the run's rasters (and of `iadsim coverage`
    # when --method is not given), so runs and maps agree whichever is chosen
    from iadsim.coverage.los import min_visible_altitude
    from iadsim.engine import compile_world

    data = yaml.safe_load((small_dir / "scenario.yaml").read_text())
    data["terrain"]["line_of_sight"] = method
    (small_dir / "los.yaml").write_text(yaml.safe_dump(data))
    world = compile_world(iadsim.load_scenario(small_dir / "los.yaml"))
    x, y, z = world.sensor_xyz[0]
    want = min_visible_altitude(world.terrain, x, y, z, k=data["terrain"].get("refraction_k", 4 / 3),
                                max_range_m=world.sensor_range_m[0], method=method)
    np.testing.assert_array_equal(world.mva[0], want)
    assert ("reference-plane" in world.models["line_of_sight"]) == (method == "planes")


@pytest.mark.parametrize("snr_db,pfa", [(10.0, 1e-6), (16.0, 1e-6), (13.0, 1e-4)])
def test_kernel_detection_draw_has_the_swerling1_probability(snr_db, pfa):
    # the compiled kernels' detection draw happens with physics.radar.pd_swerling1's probability
    # (itself tested against published curves in test_physics_radar.py)
    from iadsim.engine.kernel import detects
    from iadsim.physics.radar import db_to_linear, pd_swerling1

    k0, k1 = replication_keys(3, 0, 1)[0]
    snr = float(db_to_linear(snr_db))
    n = 20_000
    hits = sum(detects(k0, k1, t, 2, 5, snr, pfa) for t in range(n))
    p = float(pd_swerling1(snr, pfa))
    assert hits / n == pytest.approx(p, abs=4 * np.sqrt(p * (1 - p) / n))
