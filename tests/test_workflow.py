"""The analyst's workflow: catalog overrides, units left out, aliases, one-pass validation with
suggestions."""

from __future__ import annotations

import pytest
import yaml

import iadsim
from conftest import small_scenario_dict
from iadsim.cli import main
from iadsim.errors import InputError
from iadsim.scenario.overrides import is_override, parse_set


def _write(small_dir, data) -> str:
    p = small_dir / "s.yaml"
    p.write_text(yaml.safe_dump(data))
    return str(p)


def test_catalog_override_changes_the_figure_for_this_scenario_only(small_dir):
    data = small_scenario_dict()
    data["catalog"] = {"tor_m2": {"pk_single_shot": {"value": 0.3, "low": 0.2, "high": 0.4, "reason": "test"},
                                  "reaction_time_s": 12}}
    ld = iadsim.load_scenario(_write(small_dir, data))
    f = ld.catalog["tor_m2"].figures["pk_single_shot"]
    assert (f.value, f.low, f.high) == (0.3, 0.2, 0.4) and is_override(f) and "test" in f.source
    r = ld.catalog["tor_m2"].figures["reaction_time_s"]
    assert r.value == r.low == r.high == 12 and is_override(r)
    # the shared catalog is untouched
    assert iadsim.load_scenario(small_dir / "scenario.yaml").catalog["tor_m2"].figures["pk_single_shot"].value != 0.3
    # the command line wins over the file
    ld2 = iadsim.load_scenario(_write(small_dir, data), overrides=parse_set(["tor_m2.pk_single_shot=0.1:0.2:0.3"]))
    g = ld2.catalog["tor_m2"].figures["pk_single_shot"]
    assert (g.low, g.value, g.high) == (0.1, 0.2, 0.3) and "command line" in g.source


def test_lower_pk_override_lowers_the_kill_probability(small_dir):
    # direction of effect: the same scenario and seed with every missile's Pk lowered kills less
    base = small_scenario_dict()
    low = small_scenario_dict()
    low["catalog"] = {s: {"pk_single_shot": 0.05} for s in ("tor_m2", "pantsir_s1")}
    a = iadsim.simulate(iadsim.load_scenario(_write(small_dir, base)), replications=64, seed=3)
    b = iadsim.simulate(iadsim.load_scenario(_write(small_dir, low)), replications=64, seed=3)
    assert b.replications.killed.mean() < a.replications.killed.mean()


def test_disabled_unit_is_left_out(small_dir):
    data = small_scenario_dict()
    data["effectors"][1]["enabled"] = False
    ld = iadsim.load_scenario(_write(small_dir, data))
    assert [e.name for e in ld.scenario.effectors] == ["sam-1"]
    res = iadsim.simulate(ld, replications=8, seed=1)
    assert list(res.effector_table()["effector"]) == ["sam-1"]


@pytest.mark.parametrize("section, path, message", [
    ({"pantsir_s2": {"pk_single_shot": 0.5}}, "catalog.pantsir_s2", "did you mean 'pantsir_s1'"),
    ({"pantsir_s1": {"pk_singleshot": 0.5}}, "catalog.pantsir_s1.pk_singleshot", "did you mean 'pk_single_shot'"),
    ({"pantsir_s1": {"pk_single_shot": 1.5}}, "catalog.pantsir_s1.pk_single_shot", "probability"),
    ({"pantsir_s1": {"reaction_time_s": {"value": 3, "low": 4}}}, "catalog.pantsir_s1.reaction_time_s", "low <= value"),
])
def test_bad_overrides_are_refused_with_the_field(small_dir, section, path, message, capsys):
    data = small_scenario_dict()
    data["catalog"] = section
    with pytest.raises(InputError) as exc:
        iadsim.load_scenario(_write(small_dir, data))
    assert any(p.path == path and message in p.message for p in exc.value.problems), exc.value.problems
    assert main(["validate", _write(small_dir, data)]) == 2


def test_bad_set_syntax():
    with pytest.raises(InputError, match="SYSTEM.FIGURE=VALUE"):
        parse_set(["pk=0.5"])
    with pytest.raises(InputError, match="expected a number"):
        parse_set(["tor_m2.pk_single_shot=high"])


def test_nato_designation_alone_is_an_alias(small_dir):
    data = small_scenario_dict()
    data["effectors"][1]["system"] = "SA-22"       # listed as "SA-22 Greyhound"
    ld = iadsim.load_scenario(_write(small_dir, data))
    assert ld.catalog[ld.scenario.effectors[1].system].name == "pantsir_s1"


def test_validation_reports_every_problem_in_one_pass_with_suggestions(small_dir):
    data = small_scenario_dict()
    data["effectors"][0]["site"]["lat"] = 95          # schema
    data["effectors"][1]["system"] = "pantsr_s1"      # unknown name
    data["threats"][0]["target"] = "bsae"             # unknown asset
    with pytest.raises(InputError) as exc:
        iadsim.load_scenario(_write(small_dir, data))
    msgs = {p.path: p.message for p in exc.value.problems}
    assert "effectors[0].site.lat" in msgs
    assert "did you mean 'pantsir_s1'" in msgs["effectors[1].system"]
    assert "did you mean 'base'" in msgs["threats[0].target"]
    assert not any(m.startswith("Value error") for m in msgs.values())


@pytest.mark.parametrize("source, stated, kind, graded", [
    ("https://tass.com/defense/123", "high", "state media", "low"),
    ("https://fr.sputniknews.com/defense/x", "medium", "state media", "low"),
    ("https://github.com/someone/repo", "medium", "user-generated", "low"),
    ("https://www.reuters.com/world/x", "high", "general press", "medium"),
    ("https://www.janes.com/defence-news/x", "medium", "specialist press", "medium"),
    ("https://www.almaz-antey.ru/catalogue/x", "high", "manufacturer", "high"),
    ("https://some-unknown-site.example/x", "high", "unclassified", "low"),
    ("iadsim estimate: class-typical value", "estimate", "unsourced", "estimate"),
])
def test_confidence_follows_the_kind_of_source(source, stated, kind, graded):
    from iadsim.catalog import Figure

    f = Figure(value=1.0, unit="1", source=source, confidence=stated)
    assert f.source_kind == kind and f.confidence == graded
    assert f.stated_confidence == (stated if graded != stated else None)


def test_no_state_media_or_repository_figure_is_graded_above_low():
    from iadsim.catalog import load_catalog

    for s in load_catalog().values():
        for key, f in s.figures.items():
            if f.source_kind in ("state media", "user-generated", "unclassified"):
                assert f.confidence in ("low", "estimate"), (s.name, key, f.source)


def test_catalog_show_prints_units_as_units_and_the_kind_of_source(capsys):
    assert main(["catalog", "show", "pantsir_s1"]) == 0
    out = capsys.readouterr().out
    assert "0.7 1" not in out and "kind of source" in out
    assert main(["catalog", "show", "pantsr_s1"]) == 2
    assert "did you mean 'pantsir_s1'" in capsys.readouterr().err


def test_set_on_the_command_line_and_sweeps_over_figures_and_units(small_dir, tmp_path):
    import json

    p = _write(small_dir, small_scenario_dict())
    out = tmp_path / "run"
    assert main(["run", p, "-n", "8", "-o", str(out), "-q", "--set", "tor_m2.pk_single_shot=0.2"]) == 0
    cat = (out / "catalog.yaml").read_text()
    assert "scenario override: set on the command line" in cat
    assert main(["run", p, "-n", "8", "-o", str(tmp_path / "bad"), "--set", "tor_m2.pk_singel_shot=0.2"]) == 2
    assert not (tmp_path / "bad").exists()
    sw = tmp_path / "sweep"
    assert main(["sweep", p, "--vary", "catalog.tor_m2.pk_single_shot=0.05,0.95",
                 "--vary", "effectors[sam-2].enabled=true,false", "-n", "48", "-o", str(sw), "-q"]) == 0
    import pandas as pd

    summ = pd.read_parquet(sw / "summary.parquet")
    meta = json.loads((sw / "sweep.json").read_text())
    assert len(meta["cells"]) == 4
    pk_col = next(c for c in summ.columns if c.startswith("catalog.tor_m2.pk_single_shot"))
    en_col = next(c for c in summ.columns if c.startswith("effectors[sam-2].enabled"))
    kill = summ.groupby([pk_col, en_col])["p_kill"].mean()
    # direction of effect, common random numbers: a higher Pk and a second unit both kill more
    assert kill[(0.95, False)] >= kill[(0.05, False)]
    assert kill[(0.95, True)] >= kill[(0.95, False)]


def test_coverage_warns_when_a_product_is_clipped_and_reach_widens_the_grid(small_dir, tmp_path, capsys):
    import json

    from iadsim.coverage.specs import build_grid

    p = _write(small_dir, small_scenario_dict())   # margin 3 km: every radar's reach runs off the grid
    out = tmp_path / "cov"
    assert main(["coverage", p, "--alt", "500", "--rcs", "1", "-o", str(out)]) == 0
    data = json.loads((out / "coverage.json").read_text())
    assert data["warnings"] and "use --extent reach" in data["warnings"][0]
    assert "clipped:" in capsys.readouterr().out
    ld = iadsim.load_scenario(p)
    a, b = build_grid(ld), build_grid(ld, extent="reach")
    assert b.nx * b.ny > a.nx * a.ny          # the reach grid is larger (up to the DEM's edge)
