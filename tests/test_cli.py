"""The iadsim command end to end: outputs, exit codes, bad input, nothing written on error."""

from __future__ import annotations

import json
import subprocess
import sys

import pyarrow.parquet as pq
import pytest
import yaml

from conftest import REPO, edited, small_scenario_dict
from iadsim.cli import main


def run_cli(*args: str) -> int:
    return main(list(args))


def test_run_writes_every_output(small_dir, tmp_path, capsys):
    out = tmp_path / "out"
    rc = run_cli("run", str(small_dir / "scenario.yaml"), "-n", "40", "--seed", "3", "--out", str(out))
    assert rc == 0
    for name in ("report.html", "replications.parquet", "summary.json", "scenario.yaml", "catalog.yaml",
                 "routes.geojson", "timeline.csv", "expenditure.parquet"):
        assert (out / name).is_file(), name
    assert {"sam-1.min_visible_altitude.tif", "sam-2.min_visible_altitude.tif"} <= {
        p.name for p in (out / "coverage").iterdir()}
    table = pq.read_table(out / "replications.parquet")
    assert table.num_rows == 40 * 4
    summary = json.loads((out / "summary.json").read_text())
    assert summary["replications"] == 40 and summary["seed"] == 3 and summary["fidelity"] == "fast"
    cat = yaml.safe_load((out / "catalog.yaml").read_text())
    assert set(cat) == {"tor_m2", "pantsir_s1", "shahed_136", "mq_9_reaper"}
    assert all("source" in f and "confidence" in f for e in cat.values() for f in e["figures"].values())
    gj = json.loads((out / "routes.geojson").read_text())
    assert {f["properties"]["kind"] for f in gj["features"]} == {"asset", "fire_unit", "route", "engagement_envelope"}
    assert not list(out.rglob("*.part"))
    shown = capsys.readouterr().out
    assert "P(kill)" in shown and "owa[0]" in shown


def test_run_is_reproducible_from_the_command_line(small_dir, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_cli("run", str(small_dir / "scenario.yaml"), "-n", "16", "--out", str(a), "-q") == 0
    assert run_cli("run", str(small_dir / "scenario.yaml"), "-n", "16", "--out", str(b), "-q",
                   "--workers", "2") == 0
    assert pq.read_table(a / "replications.parquet").equals(pq.read_table(b / "replications.parquet"))


@pytest.mark.parametrize(
    "path, value, field",
    [
        ("threats.0.speed_m_s", -5.0, "threats[0].speed_m_s"),
        ("threats.0.route.1.speed_m_s", 0.0, "threats[0].route[1].speed_m_s"),
        ("threats.0.route", [], "threats[0]"),
        ("effectors.1.site.lat", 123.0, "effectors[1].site.lat"),
        ("effectors.0.system", "s_9000", "effectors[0].system"),
        ("threats.1.type", "tor_m2", "threats[1].type"),
        ("threats.0.target", "nowhere", "threats[0].target"),
        ("effectors.0.colour", "red", "effectors[0].colour"),
        ("terrain.dem", "missing.tif", "terrain.dem"),
        ("threats.1.route.0.lat", 40.0, "threats[1].route[0]"),
        ("effectors.1.doctrine.salvo_size", 16, "effectors[1].doctrine.salvo_size"),
        ("simulation.association", "mht", "simulation.association"),
        ("simulation.tracker_filter", "ukf", "simulation.tracker_filter"),
        ("simulation.fire_control_looks", -1, "simulation.fire_control_looks"),
        ("simulation.false_alarm_cells", 0, "simulation.false_alarm_cells"),
        ("simulation.imm_turn_rate_deg_s", 0, "simulation.imm_turn_rate_deg_s"),
        ("simulation.cpa_scale_m", 0, "simulation.cpa_scale_m"),
        ("terrain.line_of_sight", "viewshed", "terrain.line_of_sight"),
    ],
)
def test_bad_input_exit_2_names_field_and_writes_nothing(small_dir, tmp_path, capsys, path, value, field):
    bad = small_dir / "bad.yaml"
    bad.write_text(yaml.safe_dump(edited(small_scenario_dict(), path, value)))
    out = tmp_path / "never"
    rc = run_cli("run", str(bad), "-n", "4", "--out", str(out))
    err = capsys.readouterr().err
    assert rc == 2
    assert "bad.yaml" in err and field in err, err
    assert "Traceback" not in err
    assert not out.exists()
    assert run_cli("validate", str(bad)) == 2


def test_too_many_false_alarms_exit_2_and_write_nothing(small_dir, tmp_path, capsys):
    data = small_scenario_dict()
    data["simulation"].update({"fidelity": "full", "false_alarms": True, "false_alarm_cells": 1e9})
    bad = small_dir / "loud.yaml"
    bad.write_text(yaml.safe_dump(data))
    out = tmp_path / "never"
    assert run_cli("run", str(bad), "-n", "4", "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert "loud.yaml" in err and "simulation.false_alarm_cells" in err and "Traceback" not in err
    assert not out.exists()


def test_malformed_yaml_and_not_a_raster(small_dir, tmp_path, capsys):
    bad = small_dir / "broken.yaml"
    bad.write_text("name: [unclosed\n")
    assert run_cli("validate", str(bad)) == 2
    assert "not valid YAML" in capsys.readouterr().err
    (small_dir / "fake.tif").write_text("this is not a raster")
    bad.write_text(yaml.safe_dump(edited(small_scenario_dict(), "terrain.dem", "fake.tif")))
    assert run_cli("run", str(bad), "--out", str(tmp_path / "o")) == 2
    err = capsys.readouterr().err
    assert "terrain.dem" in err and "not a raster" in err
    assert not (tmp_path / "o").exists()


def test_unwritable_output_folder(small_dir, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    rc = run_cli("run", str(small_dir / "scenario.yaml"), "-n", "2", "--out", str(blocker / "out"))
    assert rc == 2
    assert "output folder" in capsys.readouterr().err
    assert blocker.read_text() == "x"


def test_validate_ok_and_schema(small_dir, capsys):
    assert run_cli("validate", str(small_dir / "scenario.yaml")) == 0
    assert "ok" in capsys.readouterr().out
    assert run_cli("schema") == 0
    schema = json.loads(capsys.readouterr().out)
    assert "effectors" in schema["properties"] and "threats" in schema["required"]


def test_catalog_commands(capsys):
    assert run_cli("catalog", "list", "--json") == 0
    names = {s["name"] for s in json.loads(capsys.readouterr().out)}
    assert {"pantsir_s1", "tor_m2", "buk_m2", "mq_9_reaper", "shahed_136", "bgm_109_tomahawk"} <= names
    assert run_cli("catalog", "show", "SA-22 Greyhound", "--json") == 0
    entry = json.loads(capsys.readouterr().out)
    assert entry["name"] == "pantsir_s1"
    assert entry["figures"]["engagement_range_max_km"]["source"].startswith("http")
    assert run_cli("catalog", "show", "pantsir_s1") == 0
    assert "engagement_range_max_km" in capsys.readouterr().out
    assert run_cli("catalog", "show", "nothing") == 2


def test_usage_errors_exit_2():
    assert run_cli("run") == 2
    assert run_cli("no-such-command") == 2


def test_console_script_runs_without_traceback(tmp_path):
    bad = tmp_path / "x.yaml"
    bad.write_text("name: x\n")
    p = subprocess.run([sys.executable, "-m", "iadsim", "validate", str(bad)], capture_output=True, text=True)
    assert p.returncode == 2
    assert "terrain" in p.stderr and "Traceback" not in p.stderr


@pytest.mark.slow
def test_demo_equals_running_the_example(tmp_path):
    a, b = tmp_path / "demo", tmp_path / "example"
    assert run_cli("demo", "-n", "24", "--out", str(a), "-q") == 0
    assert run_cli("run", str(REPO / "examples" / "capital-whatif" / "scenario.yaml"), "-n", "24",
                   "--out", str(b), "-q") == 0
    assert pq.read_table(a / "replications.parquet").equals(pq.read_table(b / "replications.parquet"))
    assert (a / "report.html").stat().st_size > 100_000
