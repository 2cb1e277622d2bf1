"""Parameter sweeps report the mission measures (P(mission accomplished), P(loss), P(survived the
sortie), P(a weapon reached its target)) per cell x scenario threat, as the single-run mission table."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import yaml

import iadsim
from iadsim.cli import main
from iadsim.montecarlo import dataset as ds
from iadsim.montecarlo.sweep import plan_sweep, run_sweep

from test_missions import _isr, _load, _scenario

STRIKE = {"name": "strike", "type": "mq_9_reaper", "altitude_m": 3000, "altitude_ref": "msl",
          "route": [{"lat": 10.39, "lon": 20.2}],
          "mission": {"kind": "strike", "weapon": {"type": "Hellfire", "count": 2, "target": "depot"},
                      "release": {"lat": 10.25, "lon": 20.2}}}
ONEWAY = {"name": "shahed", "type": "shahed_136", "count": 2, "spacing_s": 20, "altitude_m": 300,
          "altitude_ref": "agl", "route": [{"lat": 10.05, "lon": 20.35}, {"lat": 10.12, "lon": 20.28}],
          "target": "depot"}
TOR = {"name": "tor", "system": "tor_m2", "site": {"lat": 10.2, "lon": 20.21},
       "doctrine": {"mode": "shoot-look-shoot", "max_engagements": 2}}


def _mixed(small_dir):
    # an ISR orbit over the Tor, a strike releasing two weapons inside its envelope, a one-way attack
    return _load(small_dir, _scenario([_isr(lat=10.22, lon=20.2, tos=600.0), STRIKE, ONEWAY], [TOR],
                                      duration_s=2400))


def test_one_cell_sweep_equals_the_single_run_mission_table(small_dir, tmp_path):
    ld = _mixed(small_dir)
    n, seed = 40, 3
    res = run_sweep(plan_sweep(ld, ["simulation.track_latency_s=2"], replications=n, seed=seed), tmp_path / "sw")
    single = iadsim.simulate(ld, replications=n, seed=seed)
    mt = single.mission_table()
    assert set(mt["mission"]) == {"isr", "strike", "one-way"}
    m = pd.read_parquet(tmp_path / "sw" / ds.MISSIONS_FILE)
    pd.testing.assert_frame_equal(res.missions, m)
    assert list(m["threat"]) == list(mt["threat"])
    for col in mt.columns:     # value for value, every column of the single-run table
        a, b = m[col].reset_index(drop=True), mt[col].reset_index(drop=True)
        if b.dtype == object and col not in ("threat", "mission", "accomplished_means"):
            b = pd.to_numeric(b)
        if a.dtype.kind in "fi" or b.dtype.kind in "fi":
            np.testing.assert_allclose(a.to_numpy(dtype=float), b.to_numpy(dtype=float), rtol=1e-9, atol=1e-9,
                                       err_msg=col)
        else:
            assert a.tolist() == b.tolist(), col
    # the strike's weapons were tried: the measure is not trivially zero or one everywhere
    strike = m[m["mission"] == "strike"].iloc[0]
    assert strike.weapons_released_per_sortie > 0
    assert 0.0 <= strike.p_weapon_reached_target <= strike.p_accomplished <= 1.0
    # summary.parquet carries the same measures on the sortie rows, none on the weapons' rows
    s = pd.read_parquet(tmp_path / "sw" / ds.SUMMARY_FILE)
    for row in m.itertuples():
        rows = s[(s["group"] == row.threat) & (s["role"] != "weapon")]
        assert len(rows) >= 1 and (rows["p_accomplished"] == row.p_accomplished).all()
        assert (rows["p_loss"] == row.p_loss).all() and (rows["mission"] == row.mission).all()
        assert (rows["sorties"] == row.sorties).all()
        assert rows["p_weapon_reached_target"].fillna(-1).eq(
            -1 if pd.isna(row.p_weapon_reached_target) else row.p_weapon_reached_target).all()
    weapons = s[s["role"] == "weapon"]
    assert len(weapons) == 2 and weapons["p_accomplished"].isna().all()
    # P(survived the sortie) + P(loss) <= 1 (the rest is still flying at the end), intervals hold the value
    assert (m["p_survived"] + m["p_loss"] <= 1 + 1e-12).all()
    for what in ("accomplished", "loss", "survived"):
        assert ((m[f"p_{what}_lo"] <= m[f"p_{what}"]) & (m[f"p_{what}"] <= m[f"p_{what}_hi"])).all()


def test_removing_the_fire_unit_does_not_lower_p_accomplished(small_dir, tmp_path):
    # common random numbers (the same seed in both cells): without the only fire unit nothing can
    # be lost, so every mission is at least as likely to be accomplished, and here P(loss) is 0
    ld = _mixed(small_dir)
    res = run_sweep(plan_sweep(ld, ["effectors[tor].enabled=true,false"], replications=40, seed=5),
                    tmp_path / "sw")
    m = res.missions
    on, off = m[m["cell"] == 0].set_index("threat"), m[m["cell"] == 1].set_index("threat")
    assert list(on.index) == list(off.index) and len(on) == 3
    assert (off["p_accomplished"] >= on["p_accomplished"]).all()
    assert (off["p_loss"] == 0).all() and (off["p_loss"] <= on["p_loss"]).all()
    assert (on["p_loss"] > 0).any(), "the fire unit engages something, so the comparison means something"
    assert off.loc["strike", "p_weapon_reached_target"] >= on.loc["strike", "p_weapon_reached_target"]


def test_cli_table_and_query_use_the_mission_words(small_dir, tmp_path, capsys):
    p = small_dir / "m.yaml"
    p.write_text(yaml.safe_dump(_scenario([_isr(lat=10.22, lon=20.2, tos=600.0), ONEWAY], [TOR], duration_s=2400)))
    out = tmp_path / "sw"
    rc = main(["sweep", str(p), "--vary", "effectors[tor].enabled=true,false", "-n", "8", "--seed", "1",
               "--out", str(out), "--quiet"])
    assert rc == 0
    capsys.readouterr()
    assert main(["query", str(out), "SELECT cell, threat, mission, p_accomplished, p_loss FROM missions "
                                    "ORDER BY cell, threat", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 4 and {r["mission"] for r in rows} == {"isr", "one-way"}
    # the console table after a run: mission words, "leak" nowhere
    from iadsim.cli.sweep import _print_cells
    from iadsim.scenario import load_scenario

    plan = plan_sweep(load_scenario(p), ["effectors[tor].enabled=true,false"], replications=8, seed=1)
    _print_cells(plan, pd.read_parquet(out / ds.SUMMARY_FILE))
    text = capsys.readouterr().out
    assert "P(mission accomplished)" in text and "P(loss)" in text and "leak" not in text.lower()


def test_sweep_charts_show_the_mission_measures(small_dir, tmp_path):
    from iadsim.report.plots import sweep_figures

    ld = _mixed(small_dir)
    run_sweep(plan_sweep(ld, ["effectors[tor].enabled=true,false"], replications=8, seed=2), tmp_path / "sw")
    s = pd.read_parquet(tmp_path / "sw" / ds.SUMMARY_FILE)
    titles = [f.layout.title.text for f in sweep_figures(s, ["effectors[tor].enabled"])]
    assert any("P(mission accomplished)" in t for t in titles)
    assert any("P(loss)" in t for t in titles) and any("survived the sortie" in t for t in titles)
    assert any("reached its target" in t for t in titles)
    assert not any("leak" in t.lower() for t in titles)
    # one point per cell and scenario threat (the measures are not repeated per aircraft)
    fig = next(f for f in sweep_figures(s, ["effectors[tor].enabled"]) if "P(mission accomplished)" in
               f.layout.title.text)
    assert sorted(len(tr.x) for tr in fig.data) == [2, 2, 2]


def test_old_sweep_folder_without_mission_measures_still_loads(small_dir, small_scenario, tmp_path, capsys):
    from iadsim.report.plots import sweep_figures

    out = tmp_path / "old"
    run_sweep(plan_sweep(small_scenario, ["effectors[sam-2].vehicles=1,2"], replications=4), out)
    # a folder written before the mission measures: summary.parquet without their columns, no missions.parquet
    s = pd.read_parquet(out / ds.SUMMARY_FILE)
    old = s.drop(columns=["role", "mission", *ds.SUMMARY_MISSION_COLUMNS])
    ds.write_summary(out, old)
    (out / ds.MISSIONS_FILE).unlink()
    assert main(["query", str(out), "SELECT count(*) AS k FROM summary", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"k": len(old)}]
    assert len(sweep_figures(old, ["effectors[sam-2].vehicles"])) >= 1
    assert main(["query", str(out), "SELECT * FROM missions"]) == 2
    err = capsys.readouterr().err
    assert "missions.parquet" in err and "older sweep folders" in err
    # a dataset written before missions (no mission columns): the summary is made as before, with
    # P(kill) and P(leak) and empty mission columns, and the mission table is empty, not an error
    import pyarrow.parquet as pq

    for f in (out / ds.DATASET_DIR).glob("cell=*/part-0.parquet"):
        t = pq.read_table(f)
        pq.write_table(t.drop_columns(sorted(ds._MISSION_INPUTS)).replace_schema_metadata(t.schema.metadata), f)
    manifest = ds.read_manifest(out)
    assert ds.summarize_missions(out, manifest).empty
    again = ds.summarize(out, manifest)
    pd.testing.assert_frame_equal(again[old.columns], old, check_dtype=False)
    assert again["p_accomplished"].isna().all()


def test_query_help_names_run_folders_too():
    import typing

    from iadsim.cli.sweep import query

    help_text = typing.get_type_hints(query, include_extras=True)["folder"].__metadata__[0].help
    assert "run folder" in help_text and "sweep folder" in help_text
    assert "run folder" in (query.__doc__ or "")
