"""The benchmark plumbing: missing data fail the run, results are committed, and the README
table is built from them (the suites themselves run with `benchmarks/run.py`, not here)."""

from __future__ import annotations

import importlib.util
import json
import subprocess

import pytest

from conftest import REPO

BENCH = REPO / "benchmarks"


def _module(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_missing_data_fail_the_benchmark(tmp_path, capsys):
    common = _module("benchcommon")
    with pytest.raises(SystemExit) as exc:
        common.require(tmp_path / "no-such-instances", "the public WTA instances")
    assert exc.value.code == 2
    assert "not found" in capsys.readouterr().err
    assert common.require(tmp_path, "a folder") == tmp_path


def test_results_are_not_ignored_by_git():
    r = subprocess.run(["git", "-C", str(REPO), "check-ignore", "-q",
                        "benchmarks/results/engine.json"], capture_output=True)
    assert r.returncode == 1, "benchmarks/results/ must be committed, not ignored"


def test_readme_table_comes_from_the_committed_results():
    table = _module("readme_table")
    text, missing = table.table()
    assert missing == [], f"no result JSON for {missing}: run benchmarks/run.py --quick"
    for suite in table.SUITES:
        r = json.loads((BENCH / "results" / f"{suite}.json").read_text(encoding="utf-8"))
        assert {"machine", "command", "date"} <= set(r), suite
        assert r["machine"].get("numba") and r["machine"].get("cpu_count"), suite
        assert f"| {suite} |" in text
    # the cold / warm-cache / hot figures are reported apart for the engine and the tracker
    assert "cold" in text and "warm-cache" in text and "hot" in text
    wta = json.loads((BENCH / "results" / "wta.json").read_text(encoding="utf-8"))
    assert set(wta["tuning_instances"]).isdisjoint(wta["reported_instances"])
