"""Threat evaluation: closest point of approach, time to go, values (iadsim.c2.threat)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml

import iadsim
from iadsim.c2.threat import closest_approach, evaluate, urgency
from iadsim.engine import compile_world, simulate_chunk


def test_closest_approach_geometry():
    # head-on: the CPA is the asset itself, reached after distance / speed
    d, t = closest_approach(-10_000.0, 0.0, 200.0, 0.0, 0.0, 0.0)
    assert d == pytest.approx(0.0, abs=1e-9) and t == pytest.approx(50.0)
    # a straight pass 3 km abeam: CPA 3 km, when abeam
    d, t = closest_approach(-8_000.0, 3_000.0, 100.0, 0.0, 0.0, 0.0)
    assert d == pytest.approx(3_000.0) and t == pytest.approx(80.0)
    # at 45 degrees: the CPA is the foot of the perpendicular (|p| sin 45)
    d, t = closest_approach(-10_000.0, 0.0, 100.0, 100.0, 0.0, 0.0)
    assert d == pytest.approx(10_000.0 / math.sqrt(2)) and t == pytest.approx(50.0)
    # moving away: the CPA is now
    d, t = closest_approach(5_000.0, 0.0, 100.0, 0.0, 0.0, 0.0)
    assert d == pytest.approx(5_000.0) and t == 0.0


def test_urgency_follows_time_to_go_and_miss_distance():
    assets = np.array([[0.0, 0.0, 500.0, 2.0]])          # x, y, radius, value
    scale, dt = 2000.0, 1.0
    # inbound straight at the asset: time to the footprint = (10 km - 500 m) / 200 m/s
    u, a, d, t = urgency(-10_000.0, 0.0, 200.0, 0.0, 0.5, assets, scale, dt)
    assert a == 0 and u == pytest.approx(0.5 * 2.0 / (9_500.0 / 200.0))
    # the footprint is entered before the CPA: t_cpa - sqrt(r^2 - d^2) / v
    u2, *_ = urgency(-10_000.0, 300.0, 200.0, 0.0, 0.5, assets, scale, dt)
    assert u2 == pytest.approx(0.5 * 2.0 / ((10_000.0 - math.sqrt(500.0**2 - 300.0**2)) / 200.0))
    # passing the footprint by exactly the scale counts half as much, with the time to go of a
    # turn towards the asset now
    u3, *_ = urgency(-10_000.0, 2_500.0, 200.0, 0.0, 0.5, assets, scale, dt)
    ttg = (math.hypot(10_000.0, 2_500.0) - 500.0) / 200.0
    assert u3 == pytest.approx(0.5 * 0.5 * 2.0 / ttg)
    # moving away is less urgent than coming in at the same distance and speed
    u4, *_ = urgency(10_000.0, 2_500.0, 200.0, 0.0, 0.5, assets, scale, dt)
    assert u4 < u3 < u
    # inside the footprint: the most urgent possible, value / dt
    u5, *_ = urgency(100.0, 0.0, 50.0, 0.0, 0.5, assets, scale, dt)
    assert u5 == pytest.approx(0.5 * 2.0 / dt)
    # the most threatened of two assets counts
    two = np.array([[0.0, 0.0, 500.0, 1.0], [0.0, 20_000.0, 500.0, 1.0]])
    _, a2, d2, _ = urgency(-10_000.0, 20_000.0, 200.0, 0.0, 1.0, two, scale, dt)
    assert a2 == 1 and d2 == pytest.approx(0.0, abs=1e-6)
    # no assets: nothing is threatened
    assert urgency(0.0, 0.0, 1.0, 0.0, 1.0, np.zeros((0, 4)), scale, dt)[1] == -1


def test_evaluate_over_steps_and_bad_scale():
    pos = np.array([[[-10_000.0, 0.0, 100.0], [np.nan, np.nan, np.nan]]])
    vel = np.array([[[200.0, 0.0, 0.0], [np.nan, np.nan, np.nan]]])
    out = evaluate(pos, vel, np.array([1.0, 1.0]), np.array([[0.0, 0.0, 500.0, 1.0]]), 2000.0, 1.0)
    assert out["urgency"][0, 0] == pytest.approx(200.0 / 9_500.0)
    assert out["urgency"][0, 1] == 0.0 and out["asset"][0, 1] == -1
    with pytest.raises(ValueError, match="cpa scale"):
        evaluate(pos, vel, np.ones(2), np.zeros((0, 4)), 0.0, 1.0)


def _two_drones(small_dir, fidelity):
    """Two identical drones 12 km from the base at the same speed: one flies at it, the other
    passes 8 km abeam. One Tor-M2 with one missile next to the base must choose."""
    data = {
        "schema_version": 1, "name": "choice",
        "terrain": {"dem": "dem.tif", "resolution_m": 400, "margin_km": 3},
        "simulation": {"duration_s": 600, "dt_s": 1.0, "fidelity": fidelity, "track_latency_s": 2,
                       "fire_control_looks": 0},
        "assets": [{"name": "base", "lat": 10.2, "lon": 20.2}],
        "effectors": [{"name": "tor", "system": "tor_m2", "missiles": 1,
                       "site": {"lat": 10.2, "lon": 20.21, "height_m": 400},
                       "doctrine": {"max_engagements": 1}}],
        "threats": [
            {"name": "inbound", "type": "shahed_136", "altitude_m": 2500, "altitude_ref": "msl",
             "route": [{"lat": 10.31, "lon": 20.2}, {"lat": 10.2, "lon": 20.2}]},
            {"name": "passing", "type": "shahed_136", "altitude_m": 2500, "altitude_ref": "msl",
             "route": [{"lat": 10.31, "lon": 20.272}, {"lat": 10.09, "lon": 20.272}]},
        ],
    }
    (small_dir / "choice.yaml").write_text(yaml.safe_dump(data))
    return iadsim.load_scenario(small_dir / "choice.yaml")


@pytest.mark.parametrize("fidelity", ["fast", "full"])
def test_the_defence_spends_its_last_missile_on_the_threat_headed_for_the_asset(small_dir, fidelity):
    world = compile_world(_two_drones(small_dir, fidelity))
    inbound, passing = world.threat_labels.index("inbound"), world.threat_labels.index("passing")
    # the threat evaluation ranks the inbound drone first while both fly
    both = np.isfinite(world.pos[:, inbound, 0]) & np.isfinite(world.pos[:, passing, 0])
    assert np.all(world.priority[both, inbound] > world.priority[both, passing])
    tp = world.threat_peak
    assert tp["cpa_m"][inbound] < 600 and tp["cpa_m"][passing] > 7_000
    r = simulate_chunk(world, 1, 0, 64)
    # (at full fidelity the passing drone's track is sometimes confirmed first and engaged before
    # the inbound one has a track: the C2 decides on the tracks it has)
    share = 1.0 if fidelity == "fast" else 0.9
    assert (r.shots[:, inbound] == 1).mean() >= share
    assert (r.shots[:, passing] == 0).mean() >= share
