"""Mission measures: exposure time inside envelopes and coverage, the exchange ratio from catalog
costs, and analytic checks of P(loss) and P(accomplished)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

import iadsim
from iadsim.cli import main
from iadsim.errors import InputError
from iadsim.missions.measures import steps_inside
from iadsim.results.exchange import ratio_interval

from test_missions import _isr, _load, _scenario


def _tor(lat=10.2, lon=20.21, fire="free", **doctrine):
    return {"name": "tor", "system": "tor_m2", "site": {"lat": lat, "lon": lon},
            "doctrine": {"fire": fire, **doctrine}}


# ---------- pure functions

def test_steps_inside_counts_the_window_only():
    mask = np.array([[1, 0], [1, 1], [0, 1], [1, 1]], dtype=bool)    # [T=4, M=2]
    start = np.array([[0, 1], [2, 0]])
    stop = np.array([[4, 3], [2, 4]])
    got = steps_inside(mask, start, stop)
    # rep 0: member 0 steps 0-3 -> 3; member 1 steps 1-2 -> 2; rep 1: empty window -> 0; all -> 3
    assert got.tolist() == [[3, 2], [0, 3]]


def test_ratio_interval_matches_the_ratio_and_covers_it():
    rng = np.random.default_rng(0)
    x = rng.poisson(3.0, 400).astype(float)
    y = rng.poisson(2.0, 400).astype(float) + 1
    r, lo, hi = ratio_interval(x, y)
    assert r == pytest.approx(x.mean() / y.mean())
    assert lo < r < hi
    # the delta-method interval of a ratio of means shrinks like 1/sqrt(n)
    _, lo4, hi4 = ratio_interval(np.tile(x, 4), np.tile(y, 4))
    assert (hi4 - lo4) == pytest.approx((hi - lo) / 2, rel=0.02)
    assert np.isnan(ratio_interval(x, np.zeros_like(y))[0])


# ---------- exposure

def test_exposure_of_an_orbit_over_a_unit_that_holds_fire(small_dir):
    # an ISR orbit (3 km radius, 3 km altitude) centred on the Tor's site: the whole 900 s on station
    # lies inside the Tor's envelope (slant range <= sqrt(3^2 + 3^2) = 4.2 km < 12 km, altitude within
    # its limits) and its radar's coverage; the unit holds fire, so nothing shortens the sortie
    res = iadsim.simulate(_load(small_dir, _scenario([_isr(lat=10.2, lon=20.21)], [_tor(fire="hold")])),
                          replications=4, seed=1)
    row = res.mission_table().iloc[0]
    assert row.p_loss == 0.0
    assert row.mean_exposure_envelope_s >= 900.0 - 2 * res.world.dt
    assert row.mean_exposure_coverage_s >= row.mean_exposure_envelope_s - 60.0
    # never more than the time the drone flies
    df = res.replications
    flown = (res.world.end_step[0] - res.world.first_step[0]) * res.world.dt
    assert (df.exposure_envelope_s <= flown).all()
    ex = res.exposure_table()
    tor = ex[(ex.unit == "tor") & (ex.inside == "fire unit envelope")].iloc[0]
    assert tor.mean_s == pytest.approx(row.mean_exposure_envelope_s) and tor.p_entered == 1.0


def test_exposure_is_zero_outside_every_envelope_and_falls_with_stand_off(small_dir):
    eff = [_tor(fire="hold")]
    far = iadsim.simulate(_load(small_dir, _scenario([_isr(lat=10.38, lon=20.02)], eff)), replications=2, seed=1)
    mid = iadsim.simulate(_load(small_dir, _scenario([_isr(lat=10.28, lon=20.2)], eff)), replications=2, seed=1)
    near = iadsim.simulate(_load(small_dir, _scenario([_isr(lat=10.2, lon=20.21)], eff)), replications=2, seed=1)
    e = [r.mission_table().iloc[0].mean_exposure_envelope_s for r in (near, mid, far)]
    # the far station (~40 km from the Tor) and its route never enter the 12 km envelope
    assert e[2] == 0.0
    assert e[0] > e[1] > e[2]


def test_every_engaged_threat_was_inside_an_envelope(small_results):
    # the kernel launches only at a threat inside the unit's envelope (nominal figures): the
    # exposure measure, computed apart from the kernel, must see it inside at least one step
    df = small_results.replications
    engaged = df[df.shots > 0]
    assert len(engaged) > 0
    assert (engaged.exposure_envelope_s > 0).all()
    # a killed threat's exposure stops at its kill
    killed = df[df.killed]
    assert (killed.exposure_envelope_s <= killed.kill_time_s + 1e-9).all()


def test_killing_the_drone_cuts_its_exposure(small_dir):
    # same geometry, the unit fires: exposure can only fall (a dead drone is not exposed)
    hold = iadsim.simulate(_load(small_dir, _scenario([_isr(lat=10.2, lon=20.21)], [_tor(fire="hold")])),
                           replications=20, seed=3).replications
    free = iadsim.simulate(_load(small_dir, _scenario([_isr(lat=10.2, lon=20.21)], [_tor(fire="free")])),
                           replications=20, seed=3).replications
    assert free.killed.any()
    assert (free.exposure_envelope_s.to_numpy() <= hold.exposure_envelope_s.to_numpy() + 1e-9).all()
    assert free.exposure_envelope_s.mean() < hold.exposure_envelope_s.mean()


# ---------- exchange ratio

def test_exchange_ratio_from_catalog_costs(small_dir):
    data = _scenario([_isr(lat=10.2, lon=20.21)], [_tor(mode="shoot-look-shoot", max_engagements=3)])
    # the Tor's missile has no public price: the ratio names the missing figure
    res = iadsim.simulate(_load(small_dir, data), replications=30, seed=2)
    ex = res.exchange_ratio()
    assert ex["ratio"] is None and "tor_m2.missile_cost_usd" in ex["note"]
    assert any("no cost figure for tor_m2.missile_cost_usd" in s for s in res.answer()["sentences"])
    reaper = [c for c in ex["costs"] if c["system"] == "mq_9_reaper"][0]
    assert reaper["value_usd"] == 20e6 and reaper["source"].startswith("https://")
    # supplied in the scenario (an estimate, marked as one): the ratio follows from kills and shots
    data["catalog"] = {"tor_m2": {"missile_cost_usd": {"value": 500000, "reason": "test figure"}}}
    res = iadsim.simulate(_load(small_dir, data), replications=30, seed=2)
    ex = res.exchange_ratio()
    kills = res.raw.kill_step[:, 0] >= 0
    fired = res.raw.expended[:, 0]
    assert kills.any() and fired.sum() > 0
    assert ex["ratio"] == pytest.approx(kills.sum() * 20e6 / (fired.sum() * 5e5))
    assert ex["reverse"] == pytest.approx(1 / ex["ratio"])
    assert ex["ratio_lo"] <= ex["ratio"] <= ex["ratio_hi"]
    tor = [c for c in ex["costs"] if c["system"] == "tor_m2"][0]
    assert tor["estimate"] and tor["confidence"] == "estimate"
    s = res.summary
    assert s["exchange"]["ratio"] == ex["ratio"] and s["answer"]["options"][0]["exchange"]["ratio"] == ex["ratio"]
    assert any("exchange ratio of" in x for x in s["answer"]["sentences"])
    assert "exchange_ratio" in s["models"] and "exposure" in s["models"]


def test_cost_figure_set_on_the_command_line(small_dir, tmp_path):
    data = _scenario([_isr(lat=10.2, lon=20.21)], [_tor()])
    p = small_dir / "m.yaml"
    p.write_text(yaml.safe_dump(data))
    out = tmp_path / "run"
    assert main(["run", str(p), "-n", "4", "-o", str(out), "--quiet", "--tables-only",
                 "--set", "tor_m2.missile_cost_usd=250000"]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert [c["value_usd"] for c in s["exchange"]["costs"] if c["system"] == "tor_m2"] == [250000.0]
    assert s["missions"][0]["mean_exposure_envelope_s"] > 0
    assert any(r["unit"] == "tor" for r in s["exposure"])


@pytest.mark.parametrize("system, spec, words", [
    ("tor_m2", {"missile_cost_usd": -5}, "must be a number > 0"),
    ("tor_m2", {"missile_cost": 5}, "has no figure 'missile_cost'"),
    ("tor_m2", {"unit_cost_usd": 5}, "is an effector"),
    ("mq_9_reaper", {"missile_cost_usd": 5}, "is a threat"),
])
def test_bad_cost_figures_are_refused(small_dir, system, spec, words, tmp_path):
    data = _scenario([_isr()], [_tor()])
    data["catalog"] = {system: spec}
    p = small_dir / "m.yaml"
    p.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError) as exc:
        iadsim.load_scenario(p)
    assert any(words in pr.message and pr.path.startswith(f"catalog.{system}.") for pr in exc.value.problems), \
        exc.value.problems
    out = tmp_path / "out"
    assert main(["run", str(p), "-n", "2", "-o", str(out)]) == 2
    assert not out.exists()


# ---------- the stand-off preset

def test_standoff_preset_writes_a_monotone_chart(small_dir, tmp_path):
    import pandas as pd

    p = small_dir / "m.yaml"
    p.write_text(yaml.safe_dump(_scenario([_isr()], [_tor(mode="shoot-look-shoot", max_engagements=2)])))
    out = tmp_path / "standoff"
    assert main(["sweep", "--preset", "standoff", str(p), "-n", "30", "--seed", "3", "-o", str(out), "--quiet",
                 "--standoff-km", "0,10,20", "--altitude-m", "3000,6000"]) == 0
    for name in ("standoff.html", "standoff.csv", "standoff.parquet", "standoff.json", "standoff_p_loss.png",
                 "standoff_p_accomplished.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert (out / "standoff_p_loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = (out / "standoff.html").read_text()
    assert "P(loss)" in html and "P(mission accomplished)" in html and "plotly" in html.lower()
    # plotly.js inlined compressed (as in the report), and each chart has its static image
    assert (out / "standoff.html").stat().st_size < 2_000_000
    assert html.count('class="chart-static"') == 2 and "iadsimLzmaDecode" in html
    t = pd.read_parquet(out / "standoff.parquet")
    assert len(t) == 6 and set(t.standoff_km) == {0, 10, 20} and set(t.altitude_m) == {3000, 6000}
    meta = json.loads((out / "standoff.json").read_text())
    assert meta["threat"] == "isr" and meta["replications"] == 30
    # the stations lie at the stated distance from the defended centre (the depot)
    from pyproj import Geod

    d = Geod(ellps="WGS84").inv([20.2] * len(t), [10.2] * len(t), t.station_lon.tolist(), t.station_lat.tolist())[2]
    assert np.allclose(np.asarray(d) / 1000.0, t.standoff_km, atol=0.01)
    # direction: more stand-off cannot raise P(loss) beyond the interval, nor lower P(accomplished)
    for alt, g in t.groupby("altitude_m"):
        g = g.sort_values("standoff_km")
        loss, hi = g.p_loss.to_numpy(), g.p_loss_hi.to_numpy()
        acc, alo = g.p_accomplished.to_numpy(), g.p_accomplished_lo.to_numpy()
        for i in range(len(g)):
            assert (loss[i + 1:] <= hi[i] + 1e-12).all(), (alt, loss)
            assert (acc[i + 1:] >= alo[i] - 1e-12).all(), (alt, acc)
        assert loss[0] > loss[-1] and loss[-1] == 0.0 and acc[-1] == 1.0


@pytest.mark.parametrize("args, words", [
    (["--standoff-km", "-5,10"], "expected values in"),
    (["--standoff-km", "a,b"], "expected numbers"),
    (["--threat", "nope"], "no threat named 'nope'"),
    (["--vary", "threats[isr].altitude_m=1000,2000"], "not with --preset"),
])
def test_bad_standoff_requests_are_refused(small_dir, tmp_path, args, words, capsys):
    p = small_dir / "m.yaml"
    p.write_text(yaml.safe_dump(_scenario([_isr()], [_tor()])))
    out = tmp_path / "standoff"
    assert main(["sweep", "--preset", "standoff", str(p), "-n", "2", "-o", str(out), *args]) == 2
    assert not out.exists()
    assert words in capsys.readouterr().err.replace("\n", " ")


def test_standoff_dry_run_lists_the_cells_and_writes_nothing(small_dir, tmp_path, capsys):
    p = small_dir / "m.yaml"
    p.write_text(yaml.safe_dump(_scenario([_isr()], [_tor()])))
    out = tmp_path / "standoff"
    assert main(["sweep", "--preset", "standoff", str(p), "-o", str(out), "--dry-run", "--standoff-km", "0,10",
                 "--altitude-m", "3000"]) == 0
    assert not out.exists()
    text = capsys.readouterr().out
    assert "2 stand-off cells" in text and "toward the threat's base" in text


def test_standoff_needs_an_isr_threat(small_dir, tmp_path, capsys):
    strike = {"name": "strike", "type": "mq_9_reaper", "altitude_m": 4000, "route": [{"lat": 10.39, "lon": 20.2}],
              "mission": {"kind": "strike", "weapon": {"type": "Hellfire", "count": 1, "target": "depot"}}}
    p = small_dir / "m.yaml"
    p.write_text(yaml.safe_dump(_scenario([strike], [_tor()])))
    out = tmp_path / "standoff"
    assert main(["sweep", "--preset", "standoff", str(p), "-n", "2", "-o", str(out)]) == 2
    assert not out.exists() and "ISR mission" in capsys.readouterr().err.replace("\n", " ")


# ---------- analytic answers

def test_strike_with_one_shot_of_pk_p_is_lost_before_release_with_probability_p(small_dir):
    # One fire unit with one missile (one shot in all), Pk set to p by the scenario's catalog
    # override and the Pk model made neutral (the reference Pk everywhere in the envelope); the
    # strike's release point lies inside the unit's envelope, so the one shot is fired and lands
    # before the release: the sortie is lost before release with probability p exactly, a
    # Bernoulli(p) per replication (binomial test, e.g. Washburn & Kress, Combat Modeling, 2009,
    # ch. 2: one shot of kill probability p kills with probability p)
    from test_engine import _neutral_pk

    p_set = 0.55
    strike = {"name": "strike", "type": "mq_9_reaper", "altitude_m": 3000, "altitude_ref": "msl",
              "route": [{"lat": 10.39, "lon": 20.2}],
              "mission": {"kind": "strike", "weapon": {"type": "Hellfire", "count": 1, "target": "depot"},
                          "release": {"lat": 10.25, "lon": 20.2}}}
    eff = [{"name": "tor", "system": "tor_m2", "site": {"lat": 10.2, "lon": 20.21}, "missiles": 1,
            "reloads": 0, "doctrine": {"mode": "shoot-look-shoot", "max_engagements": 1}}]
    data = _scenario([strike], eff)
    data["catalog"] = {"tor_m2": {"pk_single_shot": {"value": p_set, "reason": "analytic check"}}}
    ld = _neutral_pk(_load(small_dir, data))
    n = 2000
    res = iadsim.simulate(ld, replications=n, seed=11)
    w = res.world
    rel_s = int(w.missions.release_step[0]) * w.dt
    carrier = res.replications[res.replications.role == "carrier"]
    assert (carrier.shots == 1).all(), "exactly one shot in every replication"
    lost_before = (carrier.killed & (carrier.kill_time_s <= rel_s)).to_numpy()
    assert (carrier.killed.to_numpy() == lost_before).all(), "the one intercept lands before the release"
    from scipy.stats import binomtest

    k = int(lost_before.sum())
    ci = binomtest(k, n, p_set).proportion_ci(confidence_level=0.999)
    assert ci.low <= p_set <= ci.high, (k / n, p_set)
    row = res.mission_table().iloc[0]
    assert row.p_loss == pytest.approx(k / n) and row.p_accomplished == pytest.approx(1 - k / n)
    assert res.missiles_per_kill() == pytest.approx(n / k)


def test_isr_outside_every_envelope_is_never_exposed_and_always_accomplishes(small_dir):
    # analytic: no envelope ever reaches the sortie, so nothing can be fired at it
    eff = [_tor(lat=10.02, lon=20.38)]
    res = iadsim.simulate(_load(small_dir, _scenario([_isr(lat=10.38, lon=20.02)], eff)), replications=40, seed=5)
    row = res.mission_table().iloc[0]
    assert row.p_accomplished == 1.0 and row.p_loss == 0.0
    assert row.mean_exposure_envelope_s == 0.0 and res.replications.shots.sum() == 0
    assert row.losses_per_station_hour == 0.0 and row.losses_per_station_hour_lo == 0.0
    # 0 losses in H hours: the exact upper bound is -ln(0.025) / H (Garwood 1936)
    hours = res.replications.time_on_station_s.sum() / 3600.0
    assert row.losses_per_station_hour_hi == pytest.approx(-np.log(0.025) / hours, rel=1e-6)


# ---------- direction of effect (common random numbers)

def test_altitude_above_the_envelope_cannot_raise_p_loss(small_dir):
    # a station over the Tor (engagement ceiling 10 km): flying higher cannot raise P(loss)
    losses = []
    for alt in (3000.0, 6000.0, 12000.0):
        res = iadsim.simulate(_load(small_dir, _scenario([_isr(lat=10.2, lon=20.21, alt=alt)],
                                                         [_tor(mode="shoot-look-shoot", max_engagements=2)])),
                              replications=60, seed=6)
        losses.append(res.mission_table().iloc[0])
    for i in range(len(losses)):
        for j in range(i + 1, len(losses)):
            assert losses[j].p_loss <= losses[i].p_loss_hi, [r.p_loss for r in losses]
    assert losses[-1].p_loss == 0.0 and losses[-1].mean_exposure_envelope_s == 0.0
    assert losses[0].p_loss > 0.0


def test_removing_a_fire_unit_cannot_lower_p_accomplished_nor_raise_exposure(small_dir):
    two = [_tor(), {"name": "pantsir", "system": "pantsir_s1", "site": {"lat": 10.21, "lon": 20.19}}]
    a = iadsim.simulate(_load(small_dir, _scenario([_isr()], two)), replications=60, seed=2)
    b = iadsim.simulate(_load(small_dir, _scenario([_isr()], two[:1])), replications=60, seed=2)
    ma, mb = a.mission_table().iloc[0], b.mission_table().iloc[0]
    assert mb.p_accomplished >= ma.p_accomplished_lo and mb.p_loss <= ma.p_loss_hi
    # per replication, the Tor's envelope is entered for at least as long when the Pantsir is gone
    # (the drone can only live longer), common random numbers
    ea = a.exposure["envelope"][:, 0, 0]
    eb = b.exposure["envelope"][:, 0, 0]
    assert eb.mean() >= ea.mean()


def test_per_replication_envelopes_agree_with_the_nominal_count(small_results):
    # the compiled per-replication count, given every replication the nominal limits, gives the
    # vectorised count exactly
    from iadsim.missions.measures import _envelope_steps_per_rep, envelope_limits, envelope_mask, flying_window

    w, raw = small_results.world, small_results.raw
    start, stop = flying_window(w, raw.kill_step, raw.leak_step)
    R, M = start.shape
    E = len(w.effector_labels)
    lim = envelope_limits(w, None, R)
    steps = np.zeros((R, M, E), np.int64)
    steps_any = np.zeros((R, M), np.int64)
    _envelope_steps_per_rep(w.pip_ok, w.pip_r, w.pip_agl, w.pip_above, lim, start, stop, steps, steps_any)
    for e in range(E):
        assert (steps[:, :, e] == steps_inside(envelope_mask(w, e), start, stop)).all()
    assert steps.sum() > 0
    # a replication whose envelope shrinks to nothing counts no step inside it
    lim[0, :, 1] = -1.0
    steps[:] = 0
    steps_any[:] = 0
    _envelope_steps_per_rep(w.pip_ok, w.pip_r, w.pip_agl, w.pip_above, lim, start, stop, steps, steps_any)
    assert steps[0].sum() == 0 and steps_any[0].sum() == 0


def test_sampled_envelopes_still_contain_every_engagement(small_dir):
    # with the envelope figures drawn per replication, the measure uses the replication's own
    # envelope, so a threat the kernel engaged was inside it
    data = _scenario([_isr(lat=10.25, lon=20.2)], [_tor(mode="shoot-look-shoot", max_engagements=2)])
    data["simulation"]["uncertainty"] = "sample"
    res = iadsim.simulate(_load(small_dir, data), replications=60, seed=9)
    assert any(k[1] == "engagement_range_max_km" for k in res.raw.draws)
    df = res.replications
    engaged = df[df.shots > 0]
    assert len(engaged) > 0 and (engaged.exposure_envelope_s > 0).all()
