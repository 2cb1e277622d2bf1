"""The analyst's workflow on the command line: query on a run folder, --help as written, export
says what it wrote, routes.geojson for GIS users, schema -o, validate's memory check, the
first-run compile note and the warm-up, and what `make demo` installs."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from conftest import REPO, edited, small_scenario_dict
from iadsim.cli import COMPILE_NOTE, app, main

WIDE = {"COLUMNS": "200", "TERMINAL_WIDTH": "200"}


def _help(*args: str) -> str:
    res = CliRunner().invoke(app, [*args, "--help"], env=WIDE)
    assert res.exit_code == 0, res.output
    return res.output


@pytest.fixture()
def run_dir(small_dir, tmp_path):
    """A finished run folder of the small scenario (tables only: it is fast)."""
    out = tmp_path / "run"
    assert main(["run", str(small_dir / "scenario.yaml"), "-n", "12", "--seed", "5", "-o", str(out),
                 "-q", "--tables-only"]) == 0
    return out


# ---------------------------------------------------------------- --help

def test_run_help_keeps_the_extras_brackets_and_shows_flags_as_flags():
    text = _help("run")
    assert "pip install 'iadsim[ray]'" in text          # rich markup ate "[ray]" before
    assert "<bool>" not in text
    assert re.search(r"--quiet\s+-q\s+no progress bar", text)  # a flag: no value type between
    assert "<path>" in text                              # options with values still show their type


def _commands(group, prefix=()):
    import typer.main

    cmd = typer.main.get_command(group) if not hasattr(group, "commands") else group
    for name, sub in cmd.commands.items():
        if getattr(sub, "commands", None):
            yield from _commands(sub, (*prefix, name))
        else:
            yield (*prefix, name)


def test_no_command_help_shows_bool_and_units_in_brackets_survive():
    names = list(_commands(app))
    assert ("run",) in names and ("catalog", "show") in names and ("query",) in names
    for name in names:
        assert "<bool>" not in _help(*name), name
    cov = _help("coverage")
    assert "target altitudes [m]" in cov and "cross sections [m2]" in cov
    # a help text that escapes its brackets itself is not escaped twice
    assert "\\[" not in _help("sweep")
    assert "--kml" in _help("export") and "--no-kml" in _help("export")


# ---------------------------------------------------------------- query on a run folder

def test_query_reads_a_run_folder(run_dir, capsys):
    capsys.readouterr()
    sql = "SELECT threat, avg(killed::int) AS p_kill, count(*) AS n FROM replications GROUP BY threat ORDER BY threat"
    assert main(["query", str(run_dir), sql, "--csv"]) == 0
    got = pd.read_csv(io.StringIO(capsys.readouterr().out))
    df = pq.read_table(run_dir / "replications.parquet").to_pandas()
    want = df.groupby("threat")["killed"].mean().sort_index()
    assert list(got["threat"]) == list(want.index)
    assert np.allclose(got["p_kill"], want.to_numpy()) and set(got["n"]) == {12}
    # every table of the folder is a view named after it; summary.json's statistics too
    for view, rows in (("expenditure", 12 * 2), ("timeline", None), ("summary", 4), ("effectors", 2)):
        assert main(["query", str(run_dir), f"SELECT count(*) AS n FROM {view}", "--json"]) == 0
        n = json.loads(capsys.readouterr().out)[0]["n"]
        assert n == rows if rows is not None else n >= 1, view
    assert main(["query", str(run_dir), "SELECT p_kill_lo <= p_kill AND p_kill <= p_kill_hi AS ok FROM summary",
                 "--json"]) == 0
    assert all(r["ok"] for r in json.loads(capsys.readouterr().out))


def test_query_names_the_views_when_a_table_is_unknown(run_dir, capsys):
    assert main(["query", str(run_dir), "SELECT * FROM cells"]) == 2
    msg = capsys.readouterr().err
    assert "cells" in msg and "replications" in msg and "expenditure" in msg and "timeline" in msg


def test_query_refuses_a_folder_that_is_not_a_run_or_sweep_folder(tmp_path, capsys):
    plain = tmp_path / "notes"
    plain.mkdir()
    (plain / "a.txt").write_text("mine")
    for folder, words in ((plain, "not an iadsim run folder and not a sweep folder"), (tmp_path / "missing", "does not exist"),
                          (plain / "a.txt", "not a folder")):
        assert main(["query", str(folder), "SELECT 1"]) == 2
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err, err
    assert sorted(p.name for p in plain.iterdir()) == ["a.txt"]   # nothing written


def test_query_refuses_an_unfinished_run(run_dir, capsys):
    (run_dir / "summary.json").unlink()
    assert main(["query", str(run_dir), "SELECT 1"]) == 2
    assert "has not finished" in capsys.readouterr().err


# ---------------------------------------------------------------- export says what it wrote

def test_export_prints_each_file_it_wrote_with_its_size(run_dir, tmp_path, capsys):
    out = tmp_path / "exported"
    capsys.readouterr()
    assert main(["export", str(run_dir), "-r", "2", "-o", str(out)]) == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("wrote ")]
    assert len(lines) == 2
    for ln in lines:
        m = re.fullmatch(r"wrote (.+) \(([0-9.]+) (bytes|kB|MB)\)", ln)
        assert m, ln
        path = Path(m.group(1))
        assert path.is_file() and path.parent == out
        size = float(m.group(2)) * {"bytes": 1, "kB": 1e3, "MB": 1e6}[m.group(3)]
        assert size == pytest.approx(path.stat().st_size, rel=0.01, abs=1)
    assert {p.name for p in out.iterdir() if not p.name.startswith(".")} == {"run.r2.kmz", "run.r2.czml"}


# ---------------------------------------------------------------- run -o into someone else's folder

def test_run_refuses_an_unrelated_non_empty_folder(small_dir, tmp_path, capsys):
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "thesis.docx").write_bytes(b"chapter 1")
    assert main(["run", str(small_dir / "scenario.yaml"), "-n", "4", "-o", str(theirs), "-q"]) == 2
    assert "was not written by iadsim" in capsys.readouterr().err
    assert sorted(p.name for p in theirs.iterdir()) == ["thesis.docx"]
    assert (theirs / "thesis.docx").read_bytes() == b"chapter 1"


# ---------------------------------------------------------------- routes.geojson for GIS users

def _ring_area(ring) -> float:
    r = np.asarray(ring, dtype=float)[:, :2]
    return 0.5 * float(np.sum(r[:-1, 0] * r[1:, 1] - r[1:, 0] * r[:-1, 1]))


def check_geojson(gj: dict, lon0: float, lat0: float) -> None:
    """RFC 7946 (GeoJSON): a FeatureCollection of Features; positions [lon, lat(, alt)] in WGS84;
    linear rings closed with 4 or more positions, exteriors counterclockwise and holes clockwise
    (section 3.1.6); no "crs" member; plain JSON numbers (no NaN, RFC 8259)."""
    json.dumps(gj, allow_nan=False)
    assert gj["type"] == "FeatureCollection" and "crs" not in gj
    for f in gj["features"]:
        assert f["type"] == "Feature" and isinstance(f["properties"], dict)
        g = f["geometry"]
        if g["type"] == "Point":
            positions = [g["coordinates"]]
        elif g["type"] == "LineString":
            positions = g["coordinates"]
            assert len(positions) >= 2
        else:
            assert g["type"] == "Polygon", g["type"]
            positions = [p for ring in g["coordinates"] for p in ring]
            for i, ring in enumerate(g["coordinates"]):
                assert len(ring) >= 4 and ring[0] == ring[-1]
                assert (_ring_area(ring) > 0) == (i == 0), "exterior counterclockwise, holes clockwise"
        for p in positions:
            assert 2 <= len(p) <= 3
            # lon first: the scenario is near (lon0, lat0) and lon0 - lat0 is far larger than its extent
            assert abs(p[0] - lon0) < 1 and abs(p[1] - lat0) < 1, p


@pytest.fixture(scope="module")
def mission_results(tmp_path_factory, synthetic_dem):
    import iadsim

    d = tmp_path_factory.mktemp("isr")
    (d / "dem.tif").write_bytes(synthetic_dem.read_bytes())
    data = edited(small_scenario_dict(), "threats.1.mission",
                  {"kind": "isr", "station": {"lat": 10.2, "lon": 20.2, "radius_km": 3}, "time_on_station_s": 300})
    (d / "scenario.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return iadsim.simulate(iadsim.load_scenario(d / "scenario.yaml"), replications=40, seed=3)


def test_routes_geojson_is_valid_and_carries_outcomes_with_intervals(mission_results):
    from iadsim.export.bundle import run_geojson
    from iadsim.results.stats import wilson_interval

    res = mission_results
    gj = run_geojson(res, envelope_heights_agl_m=[300.0])
    check_geojson(gj, lon0=20.2, lat0=10.2)
    df = res.replications
    routes = {f["properties"]["name"]: f["properties"] for f in gj["features"] if f["properties"]["kind"] == "route"}
    assert set(routes) == {"owa", "drone"}
    for name, p in routes.items():
        g = df[(df["group"] == name) & (df["role"] != "weapon")]
        k = int(g["killed"].sum())
        lo, hi = wilson_interval(k, len(g))
        assert p["p_kill"] == pytest.approx(k / len(g))
        assert (p["p_kill_lo"], p["p_kill_hi"]) == pytest.approx((float(lo), float(hi)), abs=1e-6)
        key = "p_reached_target" if p["target"] else "p_survived"
        assert p[f"{key}_lo"] <= p[key] <= p[f"{key}_hi"]
        assert "Wilson" in p["interval"]
    isr = routes["drone"]
    m = res.mission_table().set_index("threat").loc["drone"]
    assert isr["mission"] == "isr"
    assert isr["p_mission_accomplished"] == pytest.approx(m["p_accomplished"], abs=1e-6)
    assert (isr["p_mission_accomplished_lo"], isr["p_mission_accomplished_hi"]) == pytest.approx(
        (m["p_accomplished_lo"], m["p_accomplished_hi"]), abs=1e-6)
    assert isr["p_loss_lo"] <= isr["p_loss"] <= isr["p_loss_hi"]
    table = res.mission_table().set_index("threat")
    for name, p in routes.items():   # every threat with a job (here also the one-way attack drones)
        assert p["mission"] == table.loc[name, "mission"]
        assert p["p_mission_accomplished_lo"] <= p["p_mission_accomplished"] <= p["p_mission_accomplished_hi"]
    env = [f for f in gj["features"] if f["properties"]["kind"] == "engagement_envelope"]
    assert {f["properties"]["name"] for f in env} == set(res.world.effector_labels)


def test_run_folder_routes_geojson_is_valid(small_dir, tmp_path):
    out = tmp_path / "full"
    assert main(["run", str(small_dir / "scenario.yaml"), "-n", "8", "-o", str(out), "-q"]) == 0
    gj = json.loads((out / "routes.geojson").read_text(encoding="utf-8"))
    check_geojson(gj, lon0=20.2, lat0=10.2)
    kinds = {f["properties"]["kind"] for f in gj["features"]}
    assert {"route", "engagement_envelope", "fire_unit", "asset"} <= kinds


# ---------------------------------------------------------------- schema -o

def test_schema_out_refuses_a_file_it_did_not_write(tmp_path, capsys):
    target = tmp_path / "scenario.schema.json"
    target.write_text("my notes\n")
    assert main(["schema", "-o", str(target)]) == 2
    assert "not a scenario schema iadsim wrote" in capsys.readouterr().err
    assert target.read_text() == "my notes\n"
    assert main(["schema", "-o", str(target), "--force"]) == 0
    written = json.loads(target.read_text())
    assert written["title"] == "iadsim scenario"
    # a schema iadsim wrote is replaced without --force (an update after an upgrade)
    target.write_text(json.dumps({**written, "description": "older"}))
    assert main(["schema", "-o", str(target)]) == 0
    assert json.loads(target.read_text()) == written
    assert [p.name for p in tmp_path.iterdir()] == ["scenario.schema.json"]  # no temporary left
    assert main(["schema", "-o", str(tmp_path)]) == 2                       # a folder
    assert main(["schema", "-o", str(tmp_path / "no" / "s.json")]) == 2      # a missing folder
    assert "a folder" in capsys.readouterr().err


# ---------------------------------------------------------------- validate: the memory check of run

def test_validate_reports_the_memory_problem_run_would(small_dir, monkeypatch, capsys):
    data = edited(small_scenario_dict(), "simulation.replications", 10_000_000)
    big = small_dir / "big.yaml"
    big.write_text(yaml.safe_dump(data), encoding="utf-8")
    monkeypatch.setenv("IADSIM_MEMORY_LIMIT", "8G")
    assert main(["validate", str(big)]) == 2
    said_validate = capsys.readouterr().err
    assert "simulation.replications" in said_validate
    assert main(["run", str(big), "-o", str(small_dir / "out"), "-q"]) == 2
    said_run = capsys.readouterr().err
    assert said_validate == said_run
    assert not (small_dir / "out").exists()
    monkeypatch.delenv("IADSIM_MEMORY_LIMIT")
    assert main(["validate", str(small_dir / "scenario.yaml")]) == 0
    assert "64 replications need about" in capsys.readouterr().out


# ---------------------------------------------------------------- first run: the compile note, warm-up

@pytest.mark.parametrize("warm", [False, True])
def test_run_says_when_it_compiles(small_dir, tmp_path, monkeypatch, capsys, warm):
    import iadsim.engine

    monkeypatch.setattr(iadsim.engine, "compiled_cache_warm", lambda fidelity="fast": warm)
    assert main(["run", str(small_dir / "scenario.yaml"), "-n", "4", "-o", str(tmp_path / "o"),
                 "--tables-only"]) == 0
    cap = capsys.readouterr()
    assert (COMPILE_NOTE in cap.err) is (not warm)
    assert COMPILE_NOTE not in cap.out   # stdout stays for results
    assert "compiling the simulation kernels (once, about a minute per fidelity)" in COMPILE_NOTE


def test_warmup_compiles_both_fidelities_and_writes_nothing_here(tmp_path, monkeypatch, capsys):
    import iadsim.cli

    seen = []
    monkeypatch.setattr(iadsim.cli, "warm_up", seen.append)
    monkeypatch.chdir(tmp_path)
    assert main(["warmup"]) == 0
    assert seen == ["fast", "full"]
    assert "ready" in capsys.readouterr().out
    monkeypatch.undo()
    monkeypatch.chdir(tmp_path)
    iadsim.cli.warm_up("fast")          # the real thing: the bundled scenario, two replications
    assert list(tmp_path.iterdir()) == []


def test_warmup_is_listed_in_help():
    assert "warmup" in _help()


# ---------------------------------------------------------------- the Makefile

@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_demo_installs_only_what_the_demo_needs_and_warms_the_cache_once():
    plan = subprocess.run(["make", "-n", "-B", "-C", str(REPO), "demo"], capture_output=True, text=True,
                          check=True).stdout.splitlines()
    sync = [ln for ln in plan if " sync " in ln]
    assert len(sync) == 1 and "--extra" not in sync[0] and "--frozen" in sync[0], sync
    warm = [i for i, ln in enumerate(plan) if ln.endswith("iadsim warmup")]
    run = [i for i, ln in enumerate(plan) if " demo" in ln and "iadsim demo" in ln]
    assert len(warm) == 1 and len(run) == 1 and plan.index(sync[0]) < warm[0] < run[0]
    # the warm-up is a file target after the install stamp and the sources: make re-runs it only
    # when one of them changes (numba compiles a kernel anew when its file changed)
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^\$\(VENV\)/\.warmed-demo: \$\(VENV\)/\.installed-demo \$\(SOURCES\)\s*$", text, re.M)
    assert re.search(r"^\$\(VENV\)/\.warmed: \$\(VENV\)/\.installed \$\(SOURCES\)\s*$", text, re.M)
    sources = subprocess.run(["make", "-s", "-C", str(REPO), "--eval", "show-sources: ; @echo $(SOURCES)",
                              "show-sources"], capture_output=True, text=True, check=True).stdout.split()
    assert {"src/iadsim/engine/kernel.py", "src/iadsim/engine/full.py", "src/iadsim/cli/__init__.py"} <= set(sources)
    assert re.search(r"^demo: \$\(VENV\)/\.warmed-demo\s*$", text, re.M)
    test_plan = subprocess.run(["make", "-n", "-B", "-C", str(REPO), "test"], capture_output=True, text=True,
                               check=True).stdout
    assert "iadsim warmup" in test_plan and "--extra test" in test_plan
    # the suite runs on every core, each file in one worker (tests/conftest.py groups them)
    pytest_line = next(ln for ln in test_plan.splitlines() if "-m pytest" in ln)
    assert "-n auto" in pytest_line and "--dist loadgroup" in pytest_line
