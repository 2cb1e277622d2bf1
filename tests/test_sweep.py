"""Parameter sweeps: paths and values, cells equal single runs, crash-safe resume (a real
kill -9), refusals that change nothing, DuckDB queries."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from conftest import edited, small_scenario_dict
from iadsim.cli import main
from iadsim.errors import InputError
from iadsim.montecarlo import dataset as ds
from iadsim.montecarlo.sweep import (
    MAX_CELLS, cell_seed, expand_values, parse_path, plan_sweep, resolve_path, run_sweep,
)
from iadsim.scenario import scenario_from_dict

ALT = "threats[drone].altitude_m=3000:6000:1500"
VEH = "effectors[sam-2].vehicles=1,2"


def run_cli(*args: str) -> int:
    return main(list(args))


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its content hash (to show that nothing changed)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------- paths and values

def test_parse_path():
    assert parse_path("effectors[pantsir-city].doctrine.salvo_size") == [
        ("field", "effectors"), ("name", "pantsir-city"), ("field", "doctrine"), ("field", "salvo_size")]
    assert parse_path("effectors[0].vehicles") == [("field", "effectors"), ("index", 0), ("field", "vehicles")]
    assert parse_path("threats['7'].count") == [("field", "threats"), ("name", "7"), ("field", "count")]
    assert parse_path("threats[a.b].route[1].lat")[1] == ("name", "a.b")
    for bad in ("", ".x", "effectors..x", "effectors[]", "[0].x", "effectors[0]x", "effectors[0"):
        with pytest.raises(ValueError):
            parse_path(bad)


def test_resolve_path_by_name_and_index(small_scenario):
    dump = small_scenario.scenario.model_dump(mode="json")
    assert resolve_path(dump, "effectors[sam-2].vehicles") == (("effectors", 1, "vehicles"), 1)
    assert resolve_path(dump, "effectors[1].vehicles")[0] == ("effectors", 1, "vehicles")
    assert resolve_path(dump, "threats[drone].altitude_m") == (("threats", 1, "altitude_m"), 4000.0)
    assert resolve_path(dump, "effectors[sam-1].missiles") == (("effectors", 0, "missiles"), None)
    assert resolve_path(dump, "simulation.duration_s")[0] == ("simulation", "duration_s")


def test_values_lists_and_ranges():
    assert expand_values("1,2,3") == ["1", "2", "3"]
    assert expand_values("3000:9000:1500") == [3000, 4500, 6000, 7500, 9000]
    assert expand_values("3000:8000:1500") == [3000, 4500, 6000, 7500]          # 9000 is past the stop
    assert expand_values("0:1:0.1") == [i / 10 for i in range(11)]               # exact decimal grid
    assert expand_values("9000:3000:-3000") == [9000, 6000, 3000]
    assert expand_values("1, 5:7:1 ,null") == ["1", 5, 6, 7, None]
    assert expand_values("tor_m2,pantsir_s1") == ["tor_m2", "pantsir_s1"]
    for bad in ("", "1,,2", "3000:1000:500", "1:2", "1:2:0", "1:x:2", "1:2:3:4"):
        with pytest.raises(ValueError):
            expand_values(bad)


@pytest.mark.parametrize("vary, words", [
    (["effectors[nope].vehicles=1"], ["effectors[nope].vehicles", "no item named 'nope'", "sam-1, sam-2"]),
    (["threats[0].nonexistent=1"], ["threats[0].nonexistent", "no field 'nonexistent'"]),
    (["effectors[sam-2].count=1,2"], ["no field 'count'", "did you mean 'vehicles'"]),
    (["effectors[7].vehicles=1"], ["index 7 is out of range"]),
    (["effectors.vehicles=1"], ["is a list"]),
    (["effectors[0].site=1"], ["group of fields", "lat, lon"]),
    (["threats[drone].altitude_m=3000:1000:500"], ["empty range '3000:1000:500'"]),
    (["threats[drone].altitude_m"], ["expected PATH=VALUES"]),
    (["=1,2"], ["no field path"]),
    (["threats[drone].altitude_m=1:2"], ["malformed range"]),
    (["effectors[sam-2].vehicles=0,x"], ["value 0: Input should be greater than or equal to 1",
                                         "value x: Input should be a valid integer"]),
    (["effectors[sam-2].vehicles=1,+1"], ["given twice"]),
    (["effectors[sam-2].vehicles=1,1.0"], ["value 1.0: Input should be a valid integer"]),  # strict
    ([VEH, "effectors[1].vehicles=3"], ["the same field"]),
    (["simulation.replications=1,2"], ["-n/--replications"]),
    (["threats[drone].altitude_m=1:2000:1", "threats[owa].count=1:100:1"],
     [f"2000 x 100 = 200,000 cells, more than the limit of {MAX_CELLS:,}"]),
])
def test_bad_variations_name_the_problem(small_scenario, vary, words):
    with pytest.raises(InputError) as exc:
        plan_sweep(small_scenario, vary, replications=4)
    text = str(exc.value)
    for w in words:
        assert w in text, (w, text)


def test_bad_combination_is_refused_up_front(small_scenario):
    # salvo of 4 is fine with 2 vehicles (8 ready missiles) but not with missiles=2
    with pytest.raises(InputError) as exc:
        plan_sweep(small_scenario, ["effectors[sam-2].doctrine.salvo_size=2,4", "effectors[sam-2].missiles=2,8"],
                   replications=4)
    assert "salvo of 4 is larger than the 2 ready missiles" in str(exc.value)
    assert "sweep cell 2" in str(exc.value)


def test_cells_seeds_and_types(small_scenario):
    plan = plan_sweep(small_scenario, [VEH, ALT], replications=8, seed=5)
    assert plan.ncells == 6
    assert [c.values for c in plan.cells[:2]] == [
        {"effectors[sam-2].vehicles": 1, "threats[drone].altitude_m": 3000.0},
        {"effectors[sam-2].vehicles": 1, "threats[drone].altitude_m": 4500.0}]
    assert {c.seed for c in plan.cells} == {5}                       # common random numbers
    assert str(plan.column_types["effectors[sam-2].vehicles"]) == "int64"
    assert str(plan.column_types["threats[drone].altitude_m"]) == "double"
    per = plan_sweep(small_scenario, [VEH, ALT], replications=8, seed=5, seed_per_cell=True)
    assert [c.seed for c in per.cells] == [cell_seed(5, i) for i in range(6)]
    assert len({c.seed for c in per.cells}) == 6 and per.sweep_id != plan.sweep_id


# ---------------------------------------------------------------- running

def test_a_cell_is_the_run_of_the_modified_scenario(small_dir, small_scenario, tmp_path):
    import iadsim

    plan = plan_sweep(small_scenario, [VEH, ALT], replications=24, seed=11)
    res = run_sweep(plan, tmp_path / "sw", chunk_size=10)
    assert res.cells_run == 6 and res.cells_resumed == 0
    files = sorted((tmp_path / "sw" / "dataset").glob("cell=*/part-0.parquet"))
    assert [f.parent.name for f in files] == [f"cell={i:05d}" for i in range(6)]
    # cell 4: vehicles=2, altitude 4500
    data = edited(edited(small_scenario_dict(), "effectors.1.vehicles", 2), "threats.1.altitude_m", 4500)
    single = iadsim.simulate(scenario_from_dict(data, base_dir=small_dir), replications=24, seed=11)
    cell = pq.read_table(files[4]).to_pandas()
    assert (cell["effectors[sam-2].vehicles"] == 2).all() and (cell["threats[drone].altitude_m"] == 4500.0).all()
    pd.testing.assert_frame_equal(cell.drop(columns=list(plan.column_types)), single.replications,
                                  check_dtype=False)
    # summary of that cell = the single run's threat table
    s = pd.read_parquet(tmp_path / "sw" / "summary.parquet")
    s4 = s[s["cell"] == 4].reset_index(drop=True)
    tt = single.threat_table()
    assert list(s4["threat"]) == list(tt["threat"])
    for col in ("n", "p_kill", "p_kill_lo", "p_kill_hi", "p_leak", "p_leak_lo", "p_leak_hi", "p_detected",
                "mean_detect_time_s", "mean_shots"):
        pd.testing.assert_series_equal(s4[col], tt[col], check_names=False, check_dtype=False)
    assert len(s) == 6 * 4 and list(s.columns[:4]) == ["cell", "effectors[sam-2].vehicles",
                                                       "threats[drone].altitude_m", "seed"]
    manifest = json.loads((tmp_path / "sw" / "sweep.json").read_text())
    assert manifest["replications"] == 24 and manifest["seed"] == 11 and len(manifest["cells"]) == 6
    assert manifest["scenario"]["sha256"] == plan.scenario_sha256
    assert manifest["variations"][1] == {"path": "threats[drone].altitude_m", "field": "threats[1].altitude_m",
                                         "spec": ALT, "values": [3000.0, 4500.0, 6000.0], "type": "double"}


def test_common_random_numbers_and_seed_per_cell(small_scenario, tmp_path):
    # cells that do not differ in anything that matters give identical rows with a common seed
    vary = ["title=a,b"]
    a = run_sweep(plan_sweep(small_scenario, vary, replications=12), tmp_path / "crn")
    b = run_sweep(plan_sweep(small_scenario, vary, replications=12, seed_per_cell=True), tmp_path / "own")
    ra, rb = a.replications(), b.replications()
    cols = ["detected_at_s", "shots", "killed", "kill_time_s"]
    assert ra[ra.cell == 0][cols].reset_index(drop=True).equals(ra[ra.cell == 1][cols].reset_index(drop=True))
    assert not rb[rb.cell == 0][cols].reset_index(drop=True).equals(rb[rb.cell == 1][cols].reset_index(drop=True))


def test_resume_skips_done_cells_and_cleans_leftovers(small_scenario, tmp_path):
    plan = plan_sweep(small_scenario, [VEH, ALT], replications=8)
    full = run_sweep(plan, tmp_path / "full")
    part = tmp_path / "part"
    run_sweep(plan, part)
    # as if killed: two cells lost, one half-written temporary file, an empty cell folder, no summary
    for i in (1, 4):
        (part / "dataset" / f"cell={i:05d}" / "part-0.parquet").unlink()
    (part / "dataset" / "cell=00001" / ".part-0.parquet.x1y2.tmp").write_bytes(b"PAR1 half")
    (part / "dataset" / "cell=00004").rmdir()
    (part / "summary.parquet").unlink()
    kept = (part / "dataset" / "cell=00000" / "part-0.parquet").stat().st_mtime_ns
    res = run_sweep(plan, part, resume=True)
    assert (res.cells_run, res.cells_resumed) == (2, 4)
    assert (part / "dataset" / "cell=00000" / "part-0.parquet").stat().st_mtime_ns == kept
    assert not list(part.rglob("*.tmp"))
    pd.testing.assert_frame_equal(ds.read_replications(part), ds.read_replications(full.out))
    pd.testing.assert_frame_equal(pd.read_parquet(part / "summary.parquet"),
                                  pd.read_parquet(full.out / "summary.parquet"))
    # resuming a finished sweep runs nothing and changes no cell
    before = snapshot(part / "dataset")
    assert run_sweep(plan, part, resume=True).cells_run == 0
    assert snapshot(part / "dataset") == before


@pytest.mark.slow  # worker processes start by importing iadsim (~8 s each here)
def test_workers_give_the_same_dataset(small_scenario, tmp_path):
    plan = plan_sweep(small_scenario, [VEH], replications=16)
    one = run_sweep(plan, tmp_path / "one", chunk_size=5)
    seen = []
    two = run_sweep(plan, tmp_path / "two", workers=2, chunk_size=7, progress=lambda c, r: seen.append((c, r)))
    pd.testing.assert_frame_equal(one.replications(), two.replications())
    assert seen[-1] == (2, 32) and all(b >= a for a, b in zip(seen, seen[1:]))


# ---------------------------------------------------------------- the command line

SWEEP_ARGS = ["--vary", "threats[drone].altitude_m=2500:6500:500", "--vary", "effectors[sam-2].vehicles=1,2",
              "-n", "40", "--seed", "3"]


def test_kill_9_then_resume_gives_the_rows_of_an_uninterrupted_run(small_dir, tmp_path):
    """A real crash: SIGKILL the command while it writes, then --resume."""
    scenario = str(small_dir / "scenario.yaml")
    out = tmp_path / "crashed"
    cmd = [sys.executable, "-m", "iadsim", "sweep", scenario, *SWEEP_ARGS, "--out", str(out), "-q"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    done: list[Path] = []
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            done = list(out.glob("dataset/cell=*/part-0.parquet"))
            if done:
                break
            time.sleep(0.005)
        assert proc.poll() is None, f"the sweep ended before it could be killed: {proc.communicate()}"
        assert done, "no cell finished in time"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    finished = len(list(out.glob("dataset/cell=*/part-0.parquet")))
    assert 1 <= finished < 18 and not (out / "summary.parquet").exists()

    r = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert not list(out.rglob("*.tmp"))

    # an uninterrupted run of the same command, in this process
    assert run_cli("sweep", scenario, *SWEEP_ARGS, "--out", str(tmp_path / "whole"), "-q") == 0
    a, b = ds.read_replications(out), ds.read_replications(tmp_path / "whole")
    assert len(a) == 18 * 40 * 4 and not a.duplicated(["cell", "replication", "threat"]).any()
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "summary.parquet"),
                                  pd.read_parquet(tmp_path / "whole" / "summary.parquet"))


def test_resume_refuses_another_sweep_and_changes_nothing(small_dir, tmp_path, capsys):
    scenario = small_dir / "scenario.yaml"
    out = tmp_path / "sw"
    base = ["sweep", str(scenario), "--vary", VEH, "-n", "8", "--out", str(out), "-q"]
    assert run_cli(*base) == 0
    before = snapshot(out)
    capsys.readouterr()

    # the same folder without --resume
    assert run_cli(*base) == 2
    assert "already holds a sweep" in capsys.readouterr().err
    # other variations, other -n, other seed
    for args, word in ((["--vary", "effectors[sam-2].vehicles=1,3"], "variations differ"),
                       (["--vary", VEH, "--vary", ALT], "variations differ"),
                       (["--vary", VEH, "-n", "9"], "replications differs"),
                       (["--vary", VEH, "--seed", "99"], "seed differs"),
                       (["--vary", VEH, "--seed-per-cell"], "seed policy differs")):
        rc = run_cli("sweep", str(scenario), *args, "--out", str(out), "--resume", "-q",
                     *([] if "-n" in args else ["-n", "8"]))
        assert rc == 2, args
        assert word in capsys.readouterr().err, args
    # another scenario (same name, different content)
    other = tmp_path / "other"
    other.mkdir()
    (other / "dem.tif").write_bytes((small_dir / "dem.tif").read_bytes())
    (other / "scenario.yaml").write_text(yaml.safe_dump(edited(small_scenario_dict(), "threats.0.count", 2)))
    assert run_cli("sweep", str(other / "scenario.yaml"), "--vary", VEH, "-n", "8", "--out", str(out),
                   "--resume", "-q") == 2
    assert "scenario content differs" in capsys.readouterr().err
    assert snapshot(out) == before


def test_bad_vary_exit_2_writes_nothing(small_dir, tmp_path, capsys):
    out = tmp_path / "sw"
    for v in ("effectors[nope].vehicles=1", "threats[0].nonexistent=1", "threats[drone].altitude_m=3000:1000:500",
              "no-equals-sign"):
        assert run_cli("sweep", str(small_dir / "scenario.yaml"), "--vary", v, "--out", str(out)) == 2
        err = capsys.readouterr().err
        assert "--vary" in err and "Traceback" not in err
    assert run_cli("sweep", str(small_dir / "scenario.yaml"), "--out", str(out)) == 2
    assert "at least one --vary" in capsys.readouterr().err
    assert not out.exists()


def test_query(small_scenario, tmp_path, capsys):
    out = tmp_path / "sw"
    run_sweep(plan_sweep(small_scenario, [VEH, ALT], replications=8), out)
    capsys.readouterr()
    sql = ('SELECT cell, "effectors[sam-2].vehicles" AS v, count(*) AS n, avg(killed::INT) AS pk '
           'FROM replications GROUP BY ALL ORDER BY cell')
    assert run_cli("query", str(out), sql) == 0
    shown = capsys.readouterr().out
    assert "6 row(s)" in shown and "pk" in shown
    assert run_cli("query", str(out), sql, "--csv") == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "cell,v,n,pk" and len(lines) == 7 and lines[1].startswith("0,1,32,")
    assert run_cli("query", str(out), "SELECT cell, threat, p_kill, p_kill_lo FROM summary ORDER BY cell",
                   "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 24 and set(rows[0]) == {"cell", "threat", "p_kill", "p_kill_lo"}
    assert run_cli("query", str(out), "SELECT * FROM cells", "--csv") == 0
    assert capsys.readouterr().out.splitlines()[0] == "cell,effectors[sam-2].vehicles,threats[drone].altitude_m,seed"
    # bad SQL, unknown column, not a sweep folder
    for folder, q, word in ((out, "SELEC 1", "Parser Error"), (out, "SELECT nope FROM replications", "nope"),
                            (tmp_path, "SELECT 1", "not a sweep folder")):
        assert run_cli("query", str(folder), q) == 2
        err = capsys.readouterr().err
        assert word in err and "Traceback" not in err
