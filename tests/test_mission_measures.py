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


@pytest.mark.parametrize("spec, words", [
    ({"missile_cost_usd": -5}, "must be a number > 0"),
    ({"missile_cost": 5}, "has no figure 'missile_cost'"),
])
def test_bad_cost_figures_are_refused(small_dir, spec, words, tmp_path):
    data = _scenario([_isr()], [_tor()])
    data["catalog"] = {"tor_m2": spec}
    p = small_dir / "m.yaml"
    p.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError) as exc:
        iadsim.load_scenario(p)
    assert any(words in pr.message and pr.path.startswith("catalog.tor_m2.") for pr in exc.value.problems)
    out = tmp_path / "out"
    assert main(["run", str(p), "-n", "2", "-o", str(out)]) == 2
    assert not out.exists()
