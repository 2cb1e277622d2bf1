"""The validation suite: cases validate, the runner judges bands, bad case files are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import iadsim
from conftest import REPO, small_scenario_dict
from iadsim.cli import main
from iadsim.errors import InputError
from iadsim.validation import load_case, load_suite, run_case

SUITE = REPO / "validation"


def test_every_case_and_its_scenario_validates():
    cases = load_suite(SUITE)
    assert {c.case.name for c in cases} >= {"shahed-ukraine-layered", "shahed-ukraine-single-layer", "abqaiq-2019"}
    for lc in cases:
        ld = iadsim.load_scenario(lc.scenario_path)
        assert ld.scenario.name == lc.case.name
        assert lc.case.sources and lc.case.leaves_out
        for o in lc.case.observed:
            assert 0.0 <= lc.observed_fraction(o) <= 1.0


def _case_dir(tmp_path: Path, synthetic_dem: Path, **case) -> Path:
    d = tmp_path / case.get("name", "tiny-case")
    d.mkdir()
    (d / "dem.tif").write_bytes(synthetic_dem.read_bytes())
    scn = small_scenario_dict()
    scn["name"] = d.name
    (d / "scenario.yaml").write_text(yaml.safe_dump(scn))
    base = {"schema_version": 1, "name": d.name, "title": "t", "summary": "s", "scenario": "scenario.yaml",
            "measure": "destroyed_fraction", "observed": [{"label": "obs", "launched": 10, "destroyed": 5}],
            "band": {"low": 0.0, "high": 1.0, "why": "any outcome at all is accepted here"},
            "sources": [{"publisher": "p", "date": "2020-01-01", "title": "t"}],
            "leaves_out": ["everything"], "replications": 20, "replications_ci": 10}
    base.update(case)
    (d / "case.yaml").write_text(yaml.safe_dump(base))
    return d


def test_band_judgement_and_negative_control(tmp_path, synthetic_dem):
    wide = load_case(_case_dir(tmp_path, synthetic_dem, name="wide"))
    r = run_case(wide, replications=20, seed=1)
    assert r.status == "pass" and r.reproduced
    # the same run judged against a band that excludes its result: FAIL; as a negative control: pass
    v = r.variants[0].simulated
    imp = ({"low": 0.0, "high": v / 2, "why": "a band below this run's result"} if v > 0.02 else
           {"low": 0.5, "high": 1.0, "why": "a band above this run's result"})
    miss = run_case(load_case(_case_dir(tmp_path, synthetic_dem, name="miss", band=imp)), replications=20, seed=1)
    ctrl = run_case(load_case(_case_dir(tmp_path, synthetic_dem, name="ctrl", band=imp, expect="outside")),
                    replications=20, seed=1)
    assert miss.status == "FAIL" and not miss.passed
    assert ctrl.status == "pass"
    known = run_case(load_case(_case_dir(tmp_path, synthetic_dem, name="known", band=imp,
                                         known_failure="the model lacks X")), replications=20, seed=1)
    assert known.status == "known failure"


def test_variants_set_scenario_fields(tmp_path, synthetic_dem):
    # more drones against the same two fire units: a smaller destroyed fraction (magazines, channels)
    d = _case_dir(tmp_path, synthetic_dem, name="raids", variants=[
        {"label": "3", "set": {"threats[owa].count": 3}}, {"label": "30", "set": {"threats[owa].count": 30}}])
    r = run_case(load_case(d), replications=20, seed=2)
    assert [v.label for v in r.variants] == ["3", "30"]
    assert r.variants[1].simulated < r.variants[0].simulated


def test_runner_fails_loudly_when_a_band_is_missed(tmp_path, synthetic_dem, capsys):
    suite = tmp_path / "suite"
    suite.mkdir()
    _case_dir(suite, synthetic_dem, name="miss", band={"low": 0.0, "high": 0.0, "why": "a band this run misses"},
              observed=[{"label": "obs", "launched": 10, "destroyed": 0}])
    out = tmp_path / "out"
    rc = main(["validation", "run", "--suite", str(suite), "--quick", "-o", str(out), "--quiet"])
    assert rc == 1
    data = json.loads((out / "validation.json").read_text())
    assert data["counts"]["FAIL"] == 1
    html = (out / "validation.html").read_text()
    assert "<svg" in html and "miss" in html


@pytest.mark.parametrize("change, field, message", [
    ({"sources": []}, "sources", "at least 1"),
    ({"band": {"low": -0.1, "high": 0.5, "why": "a band below zero is not a probability"}}, "band.low", "greater than or equal to 0"),
    ({"band": {"low": 0.2, "high": 1.5, "why": "a band above one is not a probability"}}, "band.high", "less than or equal to 1"),
    ({"observed": [{"label": "o", "launched": 5, "destroyed": 9}]}, "observed[0]", "larger than the number launched"),
    ({"band": None}, "band", "Input should be"),
    ({"leaves_out": []}, "leaves_out", "at least 1"),
])
def test_bad_case_files_are_refused(tmp_path, synthetic_dem, change, field, message, capsys):
    suite = tmp_path / "suite"
    suite.mkdir()
    d = _case_dir(suite, synthetic_dem, name="bad", **change)
    if change.get("band", 0) is None:
        data = yaml.safe_load((d / "case.yaml").read_text())
        del data["band"]
        (d / "case.yaml").write_text(yaml.safe_dump(data))
        message = "required field is missing"
    with pytest.raises(InputError) as exc:
        load_case(d)
    p = exc.value.problems[0]
    assert p.file.endswith("case.yaml") and p.path.startswith(field) and message in p.message
    out = tmp_path / "out"
    assert main(["validation", "run", "--suite", str(suite), "-o", str(out)]) == 2
    assert not out.exists()
    assert "case.yaml" in capsys.readouterr().err


def test_unknown_case_name_suggests_one(capsys):
    assert main(["validation", "run", "shahed-ukraine-layerd", "--suite", str(SUITE)]) == 2
    assert "did you mean 'shahed-ukraine-layered'" in capsys.readouterr().err


def test_abqaiq_negative_control_differs_from_the_case_only_by_the_sector():
    case = load_case(SUITE / "abqaiq-2019")
    ctrl = load_case(SUITE / "abqaiq-2019-facing-north")
    assert case.case.known_failure is None and case.case.expect == "inside"
    assert ctrl.case.expect == "outside"
    assert (ctrl.case.band.low, ctrl.case.band.high) == (case.case.band.low, case.case.band.high)
    a = iadsim.load_scenario(case.scenario_path).scenario
    b = iadsim.load_scenario(ctrl.scenario_path).scenario
    # the case faces south (the drones come from the north-north-west), the control faces them
    assert a.effectors[0].sector.azimuth_deg == 180 and b.effectors[0].sector.azimuth_deg == 340
    strip = lambda s: s.model_dump(exclude={"name", "title", "description", "effectors"})  # noqa: E731
    assert strip(a) == strip(b)
    assert ([e.model_dump(exclude={"sector"}) for e in a.effectors]
            == [e.model_dump(exclude={"sector"}) for e in b.effectors])


@pytest.mark.slow
def test_suite_in_ci_form_holds_its_bands(tmp_path):
    # the reduced form of the whole suite: every case not marked as a known failure lands where it must
    out = tmp_path / "val"
    rc = main(["validation", "run", "--suite", str(SUITE), "--quick", "-o", str(out), "--quiet"])
    data = json.loads((out / "validation.json").read_text())
    assert rc == 0, [(c["name"], c["status"]) for c in data["cases"]]
    assert data["counts"]["FAIL"] == 0
