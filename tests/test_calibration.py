"""Calibration of disputed figures against validation cases (ABC-SMC): it recovers a known Pk from
counts simulated with it, is reproducible from its seed, and refuses bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import small_scenario_dict
from iadsim.cli import main
from iadsim.errors import InputError
from iadsim.validation import load_suite

pytest.importorskip("pyabc")

from iadsim.analysis.calibration import calibrate, triangular_quantile, weighted_quantile, write_calibrated  # noqa: E402

TRUE_PK = 0.4
#: the prior: a wide range around a nominal value away from the truth
PRIOR = {"value": 0.6, "low": 0.05, "high": 0.95, "reason": "a wide prior for the self-consistency test"}


def _scenario(name: str, count: int, pk) -> dict:
    """One Tor-M2 with exactly one missile per drone: the destroyed fraction is a binomial draw with
    probability Pk, so the counts carry the information about Pk that the calibration must find."""
    s = small_scenario_dict()
    s["name"] = name
    s["effectors"] = [{"name": "sam-1", "system": "tor_m2", "site": {"lat": 10.21, "lon": 20.19, "height_m": 0},
                       "missiles": count}]
    s["threats"] = [dict(s["threats"][0], count=count)]
    s["catalog"] = {"tor_m2": {"pk_single_shot": pk}}
    return s


def _case(suite: Path, dem: Path, name: str, count: int, destroyed: int, launched: int, **extra) -> Path:
    d = suite / name
    d.mkdir(parents=True)
    (d / "dem.tif").write_bytes(dem.read_bytes())
    (d / "scenario.yaml").write_text(yaml.safe_dump(_scenario(name, count, PRIOR)))
    case = {"schema_version": 1, "name": name, "title": "t", "summary": "s", "scenario": "scenario.yaml",
            "measure": "destroyed_fraction",
            "observed": [{"label": "obs", "launched": launched, "destroyed": destroyed}],
            "band": {"low": 0.0, "high": 1.0, "why": "any outcome at all is accepted here"},
            "sources": [{"publisher": "p", "date": "2020-01-01", "title": "t"}],
            "leaves_out": ["everything"], "replications": 20, "replications_ci": 10, **extra}
    (d / "case.yaml").write_text(yaml.safe_dump(case))
    return d


@pytest.fixture(scope="module")
def suite(tmp_path_factory, synthetic_dem) -> Path:
    """Two cases whose observed counts were simulated with Pk = 0.4 (raids of 10 and of 6)."""
    import iadsim

    root = tmp_path_factory.mktemp("calib")
    truth = root / "truth"
    truth.mkdir()
    (truth / "dem.tif").write_bytes(synthetic_dem.read_bytes())
    suite = root / "suite"
    for name, count in (("raid-a", 10), ("raid-b", 6)):
        (truth / "scenario.yaml").write_text(yaml.safe_dump(_scenario(name, count, TRUE_PK)))
        res = iadsim.simulate(iadsim.load_scenario(truth / "scenario.yaml"), replications=60, seed=99)
        killed = int(res.replications["killed"].sum())
        _case(suite, synthetic_dem, name, count, killed, 60 * count)
    return suite


FIG = [("tor_m2", "pk_single_shot")]


def test_quantile_helpers():
    x = np.array([3.0, 1.0, 2.0])
    assert weighted_quantile(x, np.ones(3), 0.5) == pytest.approx(2.0)
    assert weighted_quantile(x, np.array([0.0, 1.0, 0.0]), 0.5) == pytest.approx(1.0)
    # symmetric triangle on [0, 1]: the median is 0.5; the 5 % quantile is sqrt(0.05/2)
    assert triangular_quantile(0.0, 0.5, 1.0, 0.5) == pytest.approx(0.5)
    assert triangular_quantile(0.0, 0.5, 1.0, 0.05) == pytest.approx(np.sqrt(0.025))


def test_recovers_a_known_pk_and_is_reproducible(suite, tmp_path):
    cases = load_suite(suite)
    obs = [lc.observed_fraction(lc.case.observed[0]) for lc in cases]
    assert all(abs(o - TRUE_PK) < 0.12 for o in obs)  # the data do carry Pk = 0.4
    r1 = calibrate(cases, FIG, population=40, generations=3, reps=40, seed=5)
    s = r1.summary["tor_m2.pk_single_shot"]
    p = r1.priors["tor_m2.pk_single_shot"]
    assert p["distribution"] == "triangular" and (p["low"], p["mode"], p["high"]) == (0.05, 0.6, 0.95)
    assert abs(s["median"] - TRUE_PK) < 0.08, s
    assert s["q05"] < TRUE_PK < s["q95"]
    assert (s["q95"] - s["q05"]) < 0.5 * (p["q95"] - p["q05"])  # the posterior is much narrower than the prior
    eps = [g["epsilon"] for g in r1.trajectory]
    assert len(eps) == 3 and eps[-1] < eps[0]
    assert r1.constrained_by["tor_m2.pk_single_shot"] == ["raid-a", "raid-b"]
    assert r1.catalog_ready == ["tor_m2.pk_single_shot"]
    # the same seed: the same posterior, particle for particle
    r2 = calibrate(cases, FIG, population=40, generations=3, reps=40, seed=5)
    np.testing.assert_array_equal(r1.samples, r2.samples)
    np.testing.assert_array_equal(r1.weights, r2.weights)
    assert r1.to_dict() == r2.to_dict()
    # into the calibrated catalog, which the loader attaches to the figure
    cal = tmp_path / "calibrated.yaml"
    assert write_calibrated(r1, cal, date="2026-01-01") == ["tor_m2.pk_single_shot"]
    entry = yaml.safe_load(cal.read_text())["systems"]["tor_m2"]["pk_single_shot"]
    assert entry["cases"] == ["raid-a", "raid-b"] and entry["seed"] == 5 and entry["method"].startswith("ABC-SMC")
    assert entry["low"] <= entry["value"] <= entry["high"]
    from iadsim.catalog import load_catalog

    f = load_catalog(calibrated=cal)["tor_m2"].figures["pk_single_shot"]
    assert f.calibrated is not None and f.calibrated.value == entry["value"]
    assert f.calibrated.cases == ["raid-a", "raid-b"]


def test_one_case_is_not_enough_for_the_catalog(suite, tmp_path):
    r = calibrate(load_suite(suite, ["raid-b"]), FIG, population=10, generations=1, reps=5, seed=1)
    assert r.catalog_ready == []
    assert any("only one case" in n for n in r.notes)
    d = r.to_dict()
    assert "not for the catalog" in d["figures"]["tor_m2.pk_single_shot"]["catalog"]
    cal = tmp_path / "calibrated.yaml"
    assert write_calibrated(r, cal) == [] and "systems: {}" in cal.read_text()


def test_command_writes_json_and_plot(suite, tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["validation", "calibrate", "raid-b", "--suite", str(suite), "--figure", "tor_m2.pk_single_shot",
               "--population", "10", "--generations", "1", "--reps", "5", "--seed", "3", "-o", str(out)])
    assert rc == 0
    data = json.loads((out / "calibration.json").read_text())
    assert data["seed"] == 3 and data["cases"] == ["raid-b"] and data["settings"]["population"] == 10
    assert set(data["figures"]["tor_m2.pk_single_shot"]) >= {"prior", "posterior", "constrained_by"}
    assert (out / "calibration.png").read_bytes()[:4] == b"\x89PNG"
    assert "tor_m2.pk_single_shot" in capsys.readouterr().out


@pytest.mark.parametrize("args, field, message", [
    (["--figure", "tor_m2.pk_singel_shot"], "tor_m2.pk_singel_shot", "did you mean 'pk_single_shot'"),
    (["--figure", "tor_m3.pk_single_shot"], "tor_m3.pk_single_shot", "unknown system"),
    (["--figure", "pantsir_s1.pk_single_shot"], "pantsir_s1.pk_single_shot", "no case's scenario uses"),
    (["--figure", "tor_m2.missile_speed_m_s"], "tor_m2.missile_speed_m_s", "not a figure the engine varies"),
    (["--figure", "tor_m2.channels_per_vehicle"], "tor_m2.channels_per_vehicle", "has no range"),
    (["--figure", "pk_single_shot"], "pk_single_shot", "expected SYSTEM.FIGURE"),
    ([], "", "name at least one figure"),
])
def test_bad_figures_are_refused(suite, tmp_path, capsys, args, field, message):
    out = tmp_path / "out"
    rc = main(["validation", "calibrate", "raid-b", "--suite", str(suite), "--population", "5",
               "--generations", "1", "--reps", "2", "-o", str(out), *args])
    assert rc == 2
    assert not out.exists()
    e = capsys.readouterr().err
    assert "--figure" in e and field in e and message in " ".join(e.split())


def test_no_cases_and_negative_controls_are_refused(suite, tmp_path, synthetic_dem):
    with pytest.raises(InputError, match="no validation case"):
        calibrate([], FIG, population=5, generations=1, reps=2)
    neg = tmp_path / "neg"
    _case(neg, synthetic_dem, "control", 6, 3, 6, expect="outside")
    with pytest.raises(InputError) as exc:
        calibrate(load_suite(neg), FIG, population=5, generations=1, reps=2)
    assert "negative control" in str(exc.value)
    out = tmp_path / "out"
    assert main(["validation", "calibrate", "--suite", str(neg), "--figure", "tor_m2.pk_single_shot",
                 "-o", str(out)]) == 2
    assert not out.exists()


def test_sample_calibrated_draws_from_the_calibrated_range(small_scenario, tmp_path, monkeypatch, capsys):
    """``uncertainty: sample-calibrated`` draws a calibrated figure from its calibrated range, the
    others from their catalog ranges; ``catalog show`` prints the prior and the posterior."""
    import iadsim.catalog as catalog_mod
    from iadsim.engine import compile_world
    from iadsim.engine.parameters import sampled

    cal = tmp_path / "calibrated.yaml"
    cal.write_text(yaml.safe_dump({"systems": {"tor_m2": {"pk_single_shot": {
        "value": 0.62, "low": 0.6, "high": 0.65, "cases": ["a", "b"], "method": "abc-smc", "seed": 1}}}}))
    monkeypatch.setattr(catalog_mod, "calibrated_file", lambda: cal)
    from iadsim.scenario.loader import load_scenario

    src = small_scenario.source
    draws = {}
    for mode in ("sample", "sample-calibrated"):
        data = yaml.safe_load(Path(src).read_text())
        data["simulation"]["uncertainty"] = mode
        p = tmp_path / f"{mode}.yaml"
        p.write_text(yaml.safe_dump(data))
        (tmp_path / "dem.tif").write_bytes((Path(src).parent / "dem.tif").read_bytes())
        w = compile_world(load_scenario(p))
        draws[mode] = sampled(w, 7, 0, 200).draws
    pk_s, pk_c = draws["sample"][("tor_m2", "pk_single_shot")], draws["sample-calibrated"][("tor_m2", "pk_single_shot")]
    assert pk_c.min() >= 0.6 and pk_c.max() <= 0.65
    assert pk_s.min() < 0.6 and pk_s.max() > 0.65  # the prior is 0.5 .. 0.9
    # a figure without a calibrated range is drawn as before, from the same stream
    np.testing.assert_array_equal(draws["sample"][("pantsir_s1", "pk_single_shot")],
                                  draws["sample-calibrated"][("pantsir_s1", "pk_single_shot")])
    assert main(["catalog", "show", "tor_m2"]) == 0
    out = capsys.readouterr().out
    assert "calibrated (posterior)" in out and "0.62 (0.6 – 0.65)" in out


def test_bad_calibrated_catalog_names_the_field(tmp_path):
    from iadsim.catalog import load_catalog

    cal = tmp_path / "calibrated.yaml"
    cal.write_text(yaml.safe_dump({"systems": {"tor_m2": {"pk_single_shot": {
        "value": 0.9, "low": 0.6, "high": 0.65, "cases": ["a", "b"], "method": "abc-smc"}}}}))
    with pytest.raises(InputError) as exc:
        load_catalog(calibrated=cal)
    assert exc.value.problems[0].path.startswith("systems.tor_m2.pk_single_shot")
    cal.write_text(yaml.safe_dump({"systems": {"tor_m2": {"pk_single_shot": {
        "value": 0.62, "low": 0.6, "high": 0.65, "cases": ["only-one"], "method": "abc-smc"}}}}))
    with pytest.raises(InputError) as exc:
        load_catalog(calibrated=cal)
    assert exc.value.problems[0].path == "systems.tor_m2.pk_single_shot.cases"
    cal.write_text(yaml.safe_dump({"systems": {"tor_m2": {"pk_singel_shot": {
        "value": 0.62, "low": 0.6, "high": 0.65, "cases": ["a", "b"], "method": "abc-smc"}}}}))
    with pytest.raises(InputError, match="no figure"):
        load_catalog(calibrated=cal)


def test_known_failures_do_not_count_towards_the_catalog(suite, tmp_path, synthetic_dem):
    root = tmp_path / "kf"
    for name in ("raid-a", "raid-b"):
        src = yaml.safe_load((suite / name / "case.yaml").read_text())
        d = _case(root, synthetic_dem, name, 10 if name == "raid-a" else 6, src["observed"][0]["destroyed"],
                  src["observed"][0]["launched"],
                  **({"known_failure": "the model lacks something"} if name == "raid-a" else {}))
        assert d.is_dir()
    r = calibrate(load_suite(root), FIG, population=10, generations=1, reps=5, seed=1)
    assert r.constrained_by["tor_m2.pk_single_shot"] == ["raid-a", "raid-b"]
    assert r.known_failures == ["raid-a"] and r.supporting("tor_m2.pk_single_shot") == ["raid-b"]
    assert r.catalog_ready == []
    assert any("known failures" in n for n in r.notes)


def test_command_writes_the_calibrated_catalog(suite, tmp_path, capsys):
    cal = tmp_path / "calibrated.yaml"
    out = tmp_path / "out"
    rc = main(["validation", "calibrate", "--suite", str(suite), "--figure", "tor_m2.pk_single_shot",
               "--population", "10", "--generations", "1", "--reps", "5", "--seed", "2", "-o", str(out),
               "--write-catalog", "--catalog-file", str(cal)])
    assert rc == 0
    entry = yaml.safe_load(cal.read_text())["systems"]["tor_m2"]["pk_single_shot"]
    data = json.loads((out / "calibration.json").read_text())
    post = data["figures"]["tor_m2.pk_single_shot"]["posterior"]
    assert entry["value"] == pytest.approx(post["median"], abs=1e-6) and entry["seed"] == 2
    assert entry["cases"] == ["raid-a", "raid-b"]
    assert "wrote tor_m2.pk_single_shot" in " ".join(capsys.readouterr().out.split())


def test_without_pyabc_the_command_says_how_to_install_it(suite, tmp_path, monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "pyabc", None)  # as if the optional extra were not installed
    out = tmp_path / "out"
    assert main(["validation", "calibrate", "--suite", str(suite), "--figure", "tor_m2.pk_single_shot",
                 "-o", str(out)]) == 2
    assert not out.exists()
    assert "iadsim[calibrate]" in capsys.readouterr().err
