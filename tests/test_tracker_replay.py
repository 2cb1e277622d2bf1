"""One tracker: the measurements the full-fidelity engine fed its tracker, replayed through the
Python class over the same compiled core (:class:`iadsim.tracking.sequential.SequentialTracker`),
give the same tracks to the bit: slots, states, confirmation steps, labels, hits."""

from __future__ import annotations

import numpy as np
import pytest

from iadsim.engine import compile_world, simulate_chunk
from iadsim.tracking import core
from iadsim.tracking.sequential import SequentialTracker

from test_full_fidelity import _full


def _capture(small_dir, **sim):
    ld = _full(small_dir, **sim)
    world = compile_world(ld)
    buf = np.zeros((400_000, core.CAPTURE_COLS))
    r = simulate_chunk(world, 7, 0, 1, record_rep=0, track_capture=buf)
    assert buf[0, 1] == 0.0, "the capture buffer overflowed"
    cfg = world.full.kernel_settings(world)   # the engine's Settings record (iadsim.engine.records)
    return world, r, buf[1:int(buf[0, 0])], cfg


def _tracker(world, cfg):
    M = world.pos.shape[1]
    S = len(world.sensor_labels)
    fa = 64 if cfg.fa_cells > 0.0 else 0   # iadsim.engine.full.FA_MAX
    return SequentialTracker(dt=cfg.dt, q=cfg.qn, gate=cfg.gamma, init_gate=cfg.gamma_init, max_speed=cfg.vmax,
                             confirm_m=int(cfg.conf_m), confirm_n=int(cfg.conf_n),
                             delete_after_steps=int(cfg.del_steps), filter="imm" if cfg.use_imm else "kf",
                             association="jpda" if cfg.use_jpda else "gnn", turn_rate=cfg.omega,
                             switch_probability=cfg.p_switch, capacity=4 * M + 8 + 2 * fa * S,
                             max_measurements=M + fa)


def _replay(trk, rows):
    """Feed the captured scans; compare the tracks after every scan. Returns scans, comparisons."""
    i = 0
    n = rows.shape[0]
    scans = compared = 0
    while i < n:
        kind = rows[i, 0]
        if kind == core.CAP_DROP:
            trk.drop([int(rows[i, 2])])
            i += 1
            continue
        assert kind == core.CAP_SCAN
        t, nz = int(rows[i, 1]), int(rows[i, 3])
        pd, miss_w, pic = rows[i, 4], rows[i, 5], int(rows[i, 6])
        ms = rows[i + 1:i + 1 + nz]
        i += 1 + nz
        looks = []
        while i < n and rows[i, 0] == core.CAP_LOOK:
            looks.append(int(rows[i, 1]))
            i += 1
        got = trk.step(t, ms[:, 1:4], ms[:, 4:13].reshape(-1, 3, 3), labels=ms[:, 13].astype(np.int64),
                       looked=looks, pd=pd, miss_weight=miss_w, clutter_density=ms[:, 14], picture=pic)
        scans += 1
        j = i
        while j < n and rows[j, 0] == core.CAP_TRACK:
            j += 1
        want = rows[i:j]
        i = j
        np.testing.assert_array_equal(got["slot"], want[:, 1].astype(np.int64), err_msg=f"slots at step {t}")
        np.testing.assert_array_equal(got["confirmed"], want[:, 2] == core.TRK_CONFIRMED)
        conf = got["confirmed"]
        np.testing.assert_array_equal(got["confirmed_at"][conf], want[conf, 3].astype(np.int64))
        np.testing.assert_array_equal(got["label"], want[:, 4].astype(np.int64))
        np.testing.assert_array_equal(got["x"], want[:, 5:11])          # bit for bit
        np.testing.assert_array_equal(got["hits"], want[:, 11].astype(np.int64))
        compared += len(want)
    return scans, compared


@pytest.mark.parametrize("options", [
    {},
    {"association": "jpda", "tracker_filter": "imm", "false_alarms": True},
], ids=["gnn-kf", "jpda-imm-false-alarms"])
def test_engine_tracks_replay_through_the_python_tracker(small_dir, options):
    world, r, rows, cfg = _capture(small_dir, **options)
    trk = _tracker(world, cfg)
    scans, compared = _replay(trk, rows)
    # the replay is not empty: scans with measurements, confirmed tracks, firm tracks in the engine
    assert scans > 10 and compared > 10
    assert (rows[:, 0] == core.CAP_MEAS).sum() > 10
    assert (r.firm_step >= 0).any()
    # the track statistics count what the replay saw: tracks created = new slots taken
    assert r.track_stats[0, 1] >= 1


def test_engine_tracks_of_several_pictures_replay_through_the_python_tracker(small_dir):
    # an autonomous fire unit fuses its own radar in a picture of its own; the stand-alone radar feeds
    # the central one: each scan gates and updates the tracks of its picture only
    from test_c2_full import _full as _c2_full
    from test_defstate import _two_unit_scenario

    ld = _c2_full(_two_unit_scenario(small_dir, "autonomous"))
    world = compile_world(ld)
    buf = np.zeros((400_000, core.CAPTURE_COLS))
    r = simulate_chunk(world, 5, 0, 1, record_rep=0, track_capture=buf)
    assert buf[0, 1] == 0.0
    rows = buf[1:int(buf[0, 0])]
    pics = set(rows[rows[:, 0] == core.CAP_SCAN, 6].astype(int))
    assert len(pics) == 2 and 0 in pics, pics   # the central picture and the unit's own
    cfg = world.full.kernel_settings(world)
    trk = _tracker(world, cfg)
    trk.capacity = 2 * trk.capacity   # the engine's table holds the own pictures' tracks too
    trk.reset()
    scans, compared = _replay(trk, rows)
    assert scans > 10 and compared > 10
    tracked = trk.tracks
    assert r.track_stats[0, 1] >= 1
    assert set(tracked["picture"].tolist()) <= pics


def test_capture_is_off_by_default_and_changes_nothing(small_dir):
    ld = _full(small_dir)
    world = compile_world(ld)
    a = simulate_chunk(world, 7, 0, 1, record_rep=0)
    buf = np.zeros((400_000, core.CAPTURE_COLS))
    b = simulate_chunk(world, 7, 0, 1, record_rep=0, track_capture=buf)
    np.testing.assert_array_equal(a.track_stats, b.track_stats)
    np.testing.assert_array_equal(a.kill_step, b.kill_step)
    np.testing.assert_array_equal(a.events, b.events)
    assert buf[0, 0] > 1
